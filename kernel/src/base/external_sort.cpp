// ExternalSorter. See external_sort.hpp.
//
// A record is encoded the same way in memory and in run files:
//   u32 key length | u32 value length | u64 position | key bytes | value bytes
// (host byte order: run files are private to one process and deleted after use).
#include "base/external_sort.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

#include <sys/stat.h>
#include <sys/types.h>

namespace signals {
namespace {

constexpr size_t kHeaderBytes = 16;

SortRecord Decode(const char* p) {
  uint32_t key_len, value_len;
  uint64_t position;
  std::memcpy(&key_len, p, 4);
  std::memcpy(&value_len, p + 4, 4);
  std::memcpy(&position, p + 8, 8);
  const char* key = p + kHeaderBytes;
  return SortRecord{std::string_view(key, key_len), std::string_view(key + key_len, value_len), position};
}

void EncodeHeader(char* out, size_t key_len, size_t value_len, uint64_t position) {
  const auto k = static_cast<uint32_t>(key_len);
  const auto v = static_cast<uint32_t>(value_len);
  std::memcpy(out, &k, 4);
  std::memcpy(out + 4, &v, 4);
  std::memcpy(out + 8, &position, 8);
}

bool Less(const SortRecord& a, const SortRecord& b) {
  // char_traits<char>::compare orders bytes as unsigned char.
  int c = a.key.compare(b.key);
  if (c != 0) return c < 0;
  c = a.value.compare(b.value);
  if (c != 0) return c < 0;
  return a.position < b.position;
}

Status IoError(const std::string& what, const std::string& path, int error) {
  std::string message = what + " " + path + ": " + std::strerror(error);
  if (error == ENOSPC || error == EDQUOT) return Status(Code::kNoSpace, message);
  return Status::Internal(message);
}

}  // namespace

struct ExternalSorter::Block {
  explicit Block(size_t size) : data(new char[size]), capacity(size) {}
  std::unique_ptr<char[]> data;
  size_t capacity;
  size_t used = 0;
};

// Sequential writer of one run file.
class ExternalSorter::RunWriter {
 public:
  static Result<std::unique_ptr<RunWriter>> Open(const std::string& path) {
    std::unique_ptr<RunWriter> w(new RunWriter(path));
    w->file_ = std::fopen(path.c_str(), "wb");
    if (w->file_ == nullptr) return IoError("cannot create sort run", path, errno);
    std::setvbuf(w->file_, nullptr, _IOFBF, 1 << 20);
    return w;
  }
  ~RunWriter() {
    if (file_ != nullptr) std::fclose(file_);
  }
  Status Write(const SortRecord& r) {
    char header[kHeaderBytes];
    EncodeHeader(header, r.key.size(), r.value.size(), r.position);
    if (std::fwrite(header, 1, kHeaderBytes, file_) != kHeaderBytes ||
        std::fwrite(r.key.data(), 1, r.key.size(), file_) != r.key.size() ||
        std::fwrite(r.value.data(), 1, r.value.size(), file_) != r.value.size()) {
      return IoError("cannot write sort run", path_, errno);
    }
    return Status::Ok();
  }
  Status Close() {
    FILE* f = file_;
    file_ = nullptr;
    bool failed = std::fflush(f) != 0 || std::ferror(f) != 0;
    int error = errno;
    if (std::fclose(f) != 0 && !failed) {
      failed = true;
      error = errno;
    }
    return failed ? IoError("cannot write sort run", path_, error) : Status::Ok();
  }

 private:
  explicit RunWriter(std::string path) : path_(std::move(path)) {}
  std::string path_;
  FILE* file_ = nullptr;
};

// Sequential reader of one run file; holds its current record.
class ExternalSorter::RunReader {
 public:
  static Result<std::unique_ptr<RunReader>> Open(const std::string& path, size_t buffer_bytes) {
    std::unique_ptr<RunReader> r(new RunReader(path));
    r->file_ = std::fopen(path.c_str(), "rb");
    if (r->file_ == nullptr) return IoError("cannot open sort run", path, errno);
    std::setvbuf(r->file_, nullptr, _IOFBF, buffer_bytes);
    return r;
  }
  ~RunReader() {
    if (file_ != nullptr) std::fclose(file_);
  }
  // Reads the next record into current(); false at the end of the file.
  Result<bool> Advance() {
    char header[kHeaderBytes];
    size_t n = std::fread(header, 1, kHeaderBytes, file_);
    if (n == 0 && std::feof(file_)) return false;
    if (n != kHeaderBytes) return Truncated();
    SortRecord h = Decode(header);  // views point into `header`; only lengths are used
    const size_t key_len = h.key.size();
    const size_t value_len = h.value.size();
    buffer_.resize(key_len + value_len);
    if (std::fread(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) return Truncated();
    current_ = SortRecord{std::string_view(buffer_.data(), key_len),
                          std::string_view(buffer_.data() + key_len, value_len), h.position};
    return true;
  }
  const SortRecord& current() const { return current_; }

 private:
  explicit RunReader(std::string path) : path_(std::move(path)) {}
  Status Truncated() const {
    if (std::ferror(file_)) return IoError("cannot read sort run", path_, errno);
    return Status::Internal("sort run " + path_ + " is truncated");
  }
  std::string path_;
  FILE* file_ = nullptr;
  std::string buffer_;
  SortRecord current_;
};

ExternalSorter::ExternalSorter(size_t memory_budget, std::string temp_parent)
    : budget_(memory_budget),
      block_size_(std::clamp<size_t>(memory_budget / 8, 256, 8 << 20)),
      temp_parent_(std::move(temp_parent)) {}

Status ExternalSorter::Add(std::string_view key, std::string_view value, uint64_t position) {
  if (!failure_.ok()) return failure_;
  if (finished_) return Status::Internal("ExternalSorter::Add after Finish");
  const size_t need = kHeaderBytes + key.size() + value.size();
  auto fits = [&] { return !blocks_.empty() && blocks_.back()->capacity - blocks_.back()->used >= need; };
  auto footprint = [&] {
    size_t pointers = records_.size() == records_.capacity() ? std::max<size_t>(16, 2 * records_.capacity())
                                                             : records_.capacity();
    return block_bytes_ + (fits() ? 0 : std::max(block_size_, need)) + pointers * sizeof(Entry);
  };
  if (!records_.empty() && footprint() > budget_) {
    Status s = Spill();
    if (!s.ok()) return failure_ = s;
  }
  if (!fits()) {
    blocks_.push_back(std::make_unique<Block>(std::max(block_size_, need)));
    block_bytes_ += blocks_.back()->capacity;
  }
  Block& block = *blocks_.back();
  char* p = block.data.get() + block.used;
  EncodeHeader(p, key.size(), value.size(), position);
  std::memcpy(p + kHeaderBytes, key.data(), key.size());
  std::memcpy(p + kHeaderBytes + key.size(), value.data(), value.size());
  block.used += need;
  uint64_t prefix = 0;
  for (size_t i = 0; i < 8; ++i) {
    prefix = (prefix << 8) | (i < key.size() ? static_cast<unsigned char>(key[i]) : 0u);
  }
  records_.push_back(Entry{prefix, p});
  ++record_count_;
  return Status::Ok();
}

void ExternalSorter::SortInMemory() {
  // Equal prefixes decide nothing (a key may end inside them, padded with 0).
  std::sort(records_.begin(), records_.end(), [](const Entry& a, const Entry& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    return Less(Decode(a.record), Decode(b.record));
  });
}

void ExternalSorter::ReleaseMemory() {
  records_.clear();
  records_.shrink_to_fit();
  blocks_.clear();
  block_bytes_ = 0;
}

Status ExternalSorter::EnsureRunDir() {
  if (!run_dir_.empty()) return Status::Ok();
  // Missing directories are made 0750 (before umask), as everything in the
  // data directory: std::filesystem would ask for 0777. The runs themselves go
  // into a mkdtemp directory, which is 0700.
  std::error_code ec;
  std::vector<std::filesystem::path> missing;
  for (std::filesystem::path p = temp_parent_; !p.empty() && !std::filesystem::exists(p, ec);
       p = p.parent_path()) {
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0750) != 0 && errno != EEXIST) {
      return IoError("cannot create temp directory", it->string(), errno);
    }
  }
  std::string pattern = temp_parent_ + "/sort-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr)
    return IoError("cannot create temp directory in", temp_parent_, errno);
  run_dir_ = pattern;
  return Status::Ok();
}

std::string ExternalSorter::NewRunPath() { return run_dir_ + "/run-" + std::to_string(run_sequence_++); }

Status ExternalSorter::Spill() {
  SIGNALS_RETURN_IF_ERROR(EnsureRunDir());
  SortInMemory();
  const std::string path = NewRunPath();
  auto writer = RunWriter::Open(path);
  if (!writer.ok()) return writer.status();
  for (const Entry& e : records_) SIGNALS_RETURN_IF_ERROR((*writer)->Write(Decode(e.record)));
  SIGNALS_RETURN_IF_ERROR((*writer)->Close());
  runs_.push_back(path);
  ++spilled_runs_;
  // Keep one block for the next run; the pointer array keeps its capacity.
  records_.clear();
  if (blocks_.size() > 1 || (!blocks_.empty() && blocks_.front()->capacity != block_size_)) {
    blocks_.clear();
    block_bytes_ = 0;
  }
  if (!blocks_.empty()) blocks_.front()->used = 0;
  return Status::Ok();
}

// A k-way merge of run files: a min-heap of readers by their current record.
class ExternalSorter::Merge {
 public:
  Status Open(const std::vector<std::string>& paths, size_t buffer_bytes) {
    for (const auto& path : paths) {
      auto reader = RunReader::Open(path, buffer_bytes);
      if (!reader.ok()) return reader.status();
      auto has = (*reader)->Advance();
      if (!has.ok()) return has.status();
      if (*has) heap_.push_back(reader->get());
      readers_.push_back(std::move(*reader));
    }
    std::make_heap(heap_.begin(), heap_.end(), &After);
    return Status::Ok();
  }

  // As ExternalSorter::Next.
  Result<bool> Next(SortRecord* out) {
    // The reader handed out last time is advanced only now, so that the views
    // given to the caller stayed valid until this call.
    if (last_ != nullptr) {
      auto has = last_->Advance();
      if (!has.ok()) return has.status();
      if (*has) {
        heap_.push_back(last_);
        std::push_heap(heap_.begin(), heap_.end(), &After);
      }
      last_ = nullptr;
    }
    if (heap_.empty()) return false;
    std::pop_heap(heap_.begin(), heap_.end(), &After);
    last_ = heap_.back();
    heap_.pop_back();
    *out = last_->current();
    return true;
  }

 private:
  static bool After(const RunReader* a, const RunReader* b) { return Less(b->current(), a->current()); }

  std::vector<std::unique_ptr<RunReader>> readers_;
  std::vector<RunReader*> heap_;
  RunReader* last_ = nullptr;
};

size_t ExternalSorter::MergeBufferBytes() const {
  return std::clamp<size_t>(budget_ / (2 * kMaxFanIn), 64 << 10, 1 << 20);
}

Status ExternalSorter::MergeRuns(std::vector<std::string> inputs, const std::string& output) {
  {
    Merge merge;
    SIGNALS_RETURN_IF_ERROR(merge.Open(inputs, MergeBufferBytes()));
    auto writer = RunWriter::Open(output);
    if (!writer.ok()) return writer.status();
    SortRecord r;
    while (true) {
      auto more = merge.Next(&r);
      if (!more.ok()) return more.status();
      if (!*more) break;
      SIGNALS_RETURN_IF_ERROR((*writer)->Write(r));
    }
    SIGNALS_RETURN_IF_ERROR((*writer)->Close());
  }
  for (const auto& path : inputs) std::filesystem::remove(path);
  return Status::Ok();
}

Status ExternalSorter::OpenMerge() {
  while (runs_.size() > kMaxFanIn) {
    std::vector<std::string> group(runs_.begin(), runs_.begin() + kMaxFanIn);
    runs_.erase(runs_.begin(), runs_.begin() + kMaxFanIn);
    const std::string merged = NewRunPath();
    SIGNALS_RETURN_IF_ERROR(MergeRuns(std::move(group), merged));
    runs_.push_back(merged);
  }
  merge_ = std::make_unique<Merge>();
  return merge_->Open(runs_, MergeBufferBytes());
}

Status ExternalSorter::Finish() {
  if (!failure_.ok()) return failure_;
  if (finished_) return Status::Internal("ExternalSorter::Finish called twice");
  finished_ = true;
  if (runs_.empty()) {
    SortInMemory();
    return Status::Ok();
  }
  if (!records_.empty()) {
    Status s = Spill();
    if (!s.ok()) return failure_ = s;
  }
  ReleaseMemory();
  Status s = OpenMerge();
  if (!s.ok()) return failure_ = s;
  return Status::Ok();
}

Result<bool> ExternalSorter::Next(SortRecord* out) {
  if (!failure_.ok()) return failure_;
  if (!finished_) return Status::Internal("ExternalSorter::Next before Finish");
  if (runs_.empty()) {
    if (next_in_memory_ >= records_.size()) return false;
    *out = Decode(records_[next_in_memory_++].record);
    return true;
  }
  auto more = merge_->Next(out);
  if (!more.ok()) return failure_ = more.status();
  return more;
}

ExternalSorter::~ExternalSorter() {
  merge_.reset();  // closes the run files before they are removed
  if (!run_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(run_dir_, ec);
  }
}

}  // namespace signals
