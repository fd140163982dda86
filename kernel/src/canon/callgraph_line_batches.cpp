// CallgraphLineBatches. See callgraph_line_batches.hpp.
#include "canon/callgraph_line_batches.hpp"

#include <cstring>
#include <vector>

namespace signals {

struct CallgraphLineBatches::Batch {
  enum class State { kWaiting, kReading, kRead };

  // A record as read: its strings are ranges of `bytes`.
  struct Item {
    CallgraphRecordKind kind;
    bool has_kind;
    bool bare_edge;
    uint64_t position;
    uint32_t id, id_size, from, from_size, to, to_size, kind_member, kind_size, line, line_size;
  };

  uint64_t first_line = 0;
  std::string text;  // lines, each ended by '\n'
  State state = State::kWaiting;
  std::string bytes;
  std::vector<Item> items;
  Status error;  // the batch's first bad line; items hold the records before it
};

// Stores each record a reader passes on into the batch.
class CallgraphLineBatches::BatchRecords : public CallgraphRecordSink {
 public:
  explicit BatchRecords(Batch& batch) : batch_(batch) {}

  Status Add(const CallgraphRecord& record, const CallgraphRecordOrigin& origin) override {
    Batch::Item item{};
    item.kind = record.kind;
    item.has_kind = record.has_kind;
    item.bare_edge = record.bare_edge;
    item.position = origin.position;
    Keep(record.id, &item.id, &item.id_size);
    Keep(record.from, &item.from, &item.from_size);
    Keep(record.to, &item.to, &item.to_size);
    Keep(record.kind_member, &item.kind_member, &item.kind_size);
    Keep(record.line, &item.line, &item.line_size);
    batch_.items.push_back(item);
    return Status::Ok();
  }

 private:
  void Keep(std::string_view s, uint32_t* offset, uint32_t* size) {
    *offset = static_cast<uint32_t>(batch_.bytes.size());
    *size = static_cast<uint32_t>(s.size());
    batch_.bytes.append(s);
  }

  Batch& batch_;
};

CallgraphLineBatches::CallgraphLineBatches(size_t max_line_bytes, CallgraphRecordSink& sink,
                                           const CallgraphReadLimits& limits)
    : max_line_bytes_(max_line_bytes), limits_(limits), sink_(sink), reader_(max_line_bytes, limits) {}

CallgraphLineBatches::~CallgraphLineBatches() { Stop(); }

void CallgraphLineBatches::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (worker_.joinable()) worker_.join();
}

Status CallgraphLineBatches::Line(std::string_view line, uint64_t line_number) {
  if (!failure_.ok()) return failure_;
  if (filling_ == nullptr) {
    filling_ = std::make_unique<Batch>();
    filling_->first_line = line_number;
    filling_->text.reserve(kBatchBytes + line.size() + 1);
  }
  filling_->text.append(line);
  filling_->text += '\n';
  if (filling_->text.size() < kBatchBytes) return Status::Ok();
  return Submit();
}

Status CallgraphLineBatches::Submit() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    in_flight_.push_back(std::move(filling_));
  }
  changed_.notify_all();
  if (!worker_.joinable()) worker_ = std::thread([this] { Work(); });
  Status s = Drain(kMaxBatchesInFlight - 1);
  if (!s.ok()) failure_ = s;
  return s;
}

void CallgraphLineBatches::Read(Batch& batch, CallgraphLineReader& reader) {
  BatchRecords records(batch);
  batch.bytes.reserve(batch.text.size() + batch.text.size() / 2);
  std::string_view text(batch.text);
  uint64_t number = batch.first_line;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    Status s = reader.Read(text.substr(0, nl), number++, records);
    if (!s.ok()) {
      batch.error = std::move(s);
      return;
    }
    text.remove_prefix(nl + 1);
  }
}

void CallgraphLineBatches::Work() {
  CallgraphLineReader reader(max_line_bytes_, limits_);
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    Batch* next = nullptr;
    changed_.wait(lock, [&] {
      if (stopping_) return true;
      for (auto& b : in_flight_) {
        if (b->state == Batch::State::kWaiting) {
          next = b.get();
          return true;
        }
      }
      return false;
    });
    if (next == nullptr) return;  // stopping
    next->state = Batch::State::kReading;
    lock.unlock();
    Read(*next, reader);
    lock.lock();
    next->state = Batch::State::kRead;
    changed_.notify_all();
  }
}

// Until at most `max_in_flight` batches remain: hands on the oldest batch
// once it is read, and meanwhile reads a waiting batch on this thread.
Status CallgraphLineBatches::Drain(size_t max_in_flight) {
  std::unique_lock<std::mutex> lock(mutex_);
  while (in_flight_.size() > max_in_flight) {
    Batch& oldest = *in_flight_.front();
    if (oldest.state == Batch::State::kRead) {
      std::unique_ptr<Batch> batch = std::move(in_flight_.front());
      in_flight_.pop_front();
      lock.unlock();
      SIGNALS_RETURN_IF_ERROR(Hand(*batch));
      lock.lock();
      continue;
    }
    Batch* waiting = nullptr;
    for (auto& b : in_flight_) {
      if (b->state == Batch::State::kWaiting) {
        waiting = b.get();
        break;
      }
    }
    if (waiting == nullptr) {
      changed_.wait(lock);
      continue;
    }
    waiting->state = Batch::State::kReading;
    lock.unlock();
    Read(*waiting, reader_);
    lock.lock();
    waiting->state = Batch::State::kRead;
  }
  return Status::Ok();
}

Status CallgraphLineBatches::Hand(const Batch& batch) {
  const std::string_view bytes(batch.bytes);
  auto view = [&](uint32_t offset, uint32_t size) { return bytes.substr(offset, size); };
  CallgraphRecord record;
  CallgraphRecordOrigin origin{CallgraphDialect::kCanonical, CallgraphRecordKind::kNode, 0};
  for (const Batch::Item& item : batch.items) {
    record.kind = item.kind;
    record.has_kind = item.has_kind;
    record.bare_edge = item.bare_edge;
    record.id = view(item.id, item.id_size);
    record.from = view(item.from, item.from_size);
    record.to = view(item.to, item.to_size);
    record.kind_member = view(item.kind_member, item.kind_size);
    record.line = view(item.line, item.line_size);
    origin.kind = item.kind;
    origin.position = item.position;
    SIGNALS_RETURN_IF_ERROR(sink_.Add(record, origin));
  }
  return batch.error;
}

Status CallgraphLineBatches::Finish() {
  if (!failure_.ok()) return failure_;
  Status s = Status::Ok();
  if (filling_ != nullptr) {
    if (worker_.joinable()) {
      s = Submit();
    } else {  // a small input: read it here
      Read(*filling_, reader_);
      s = Hand(*filling_);
      filling_.reset();
    }
  }
  if (s.ok()) s = Drain(0);
  Stop();
  if (!s.ok()) failure_ = s;
  return s;
}

}  // namespace signals
