// CallgraphCanonicalizer. See callgraph_canonicalizer.hpp.
//
// Sort keys. Every record becomes (key, value, position) in one ExternalSorter,
// so that one ordered pass emits the whole canonical file:
//   node        0x00 F(id) 0x00            value = canonical line
//   reference   0x00 F(id) 0x01            value = 'f' | 't' (edge from/to) | 'e' (entrypoint)
//   edge        0x01 F(from) F(to) F(kind) value = canonical line
//   entrypoint  0x02 F(id)                 value = canonical line
// where F(s) is s with each 0x00 byte written as 0x00 0xFF, then 0x00 0x01.
// F keeps byte order and is prefix-free, so comparing keys compares the
// tuples field by field, and references to an id sort right after its node.
#include "callgraph_canonicalizer.hpp"

#include <cstring>
#include <filesystem>

#include "canonical_json.hpp"
#include "digest.hpp"
#include "sha256.hpp"

namespace signals {
namespace {

constexpr char kNodeSection = 0x00;
constexpr char kEdgeSection = 0x01;
constexpr char kEntrypointSection = 0x02;
constexpr char kNodeRecord = 0x00;
constexpr char kReferenceRecord = 0x01;
constexpr char kFromReference = 'f';
constexpr char kToReference = 't';
constexpr char kEntrypointReference = 'e';
constexpr size_t kOutputChunk = 256 << 10;

void AppendField(std::string& key, std::string_view field) {
  for (char c : field) {
    if (c == '\0') {
      key += '\0';
      key += '\xFF';
    } else {
      key += c;
    }
  }
  key += '\0';
  key += '\x01';
}

// The id of a node-section key: F(id) sits between the section byte and the
// record byte; undo its 0x00 escapes.
std::string NodeIdOf(std::string_view key) {
  std::string_view escaped = key.substr(1, key.size() - 4);
  std::string id;
  for (size_t i = 0; i < escaped.size(); ++i) {
    id += escaped[i];
    if (escaped[i] == '\0') ++i;  // skip the 0xFF after an escaped 0x00
  }
  return id;
}

std::string_view StringMember(const nlohmann::json& record, const char* name) {
  auto it = record.find(name);
  if (it == record.end() || !it->is_string()) return {};
  return it->get_ref<const std::string&>();
}

bool IsBlank(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

}  // namespace

Result<CallgraphInputFormat> ParseCallgraphInputFormat(std::string_view text, std::string_view field) {
  if (text == "auto" || text.empty()) return CallgraphInputFormat::kAuto;
  if (text == "json") return CallgraphInputFormat::kJson;
  if (text == "ndjson") return CallgraphInputFormat::kNdjson;
  return Status::Invalid("format", std::string(field),
                         "format '" + std::string(text) + "' is not one of auto, json, ndjson");
}

// Turns validated records into sort records.
class CallgraphCanonicalizer::RecordKeys : public CallgraphRecordSink {
 public:
  explicit RecordKeys(ExternalSorter& sorter) : sorter_(sorter) {}

  Status Add(nlohmann::json record, const CallgraphRecordOrigin& origin) override {
    dialect_ = origin.dialect;
    auto line = TryCanonicalJson(record);
    if (!line.ok()) return CallgraphRecordError(origin, "", "canonical-json", line.status().message());
    key_.clear();
    switch (origin.kind) {
      case CallgraphRecordKind::kNode:
        key_ += kNodeSection;
        AppendField(key_, StringMember(record, "id"));
        key_ += kNodeRecord;
        return sorter_.Add(key_, *line, origin.position);
      case CallgraphRecordKind::kEdge:
        SIGNALS_RETURN_IF_ERROR(AddReference(StringMember(record, "from"), kFromReference, origin.position));
        SIGNALS_RETURN_IF_ERROR(AddReference(StringMember(record, "to"), kToReference, origin.position));
        key_.clear();
        key_ += kEdgeSection;
        AppendField(key_, StringMember(record, "from"));
        AppendField(key_, StringMember(record, "to"));
        AppendField(key_, StringMember(record, "kind"));
        return sorter_.Add(key_, *line, 0);
      case CallgraphRecordKind::kEntrypoint:
        SIGNALS_RETURN_IF_ERROR(AddReference(StringMember(record, "id"), kEntrypointReference, origin.position));
        key_.clear();
        key_ += kEntrypointSection;
        AppendField(key_, StringMember(record, "id"));
        return sorter_.Add(key_, *line, 0);
    }
    return Status::Internal("unknown callgraph record kind");
  }

  // The error for a reference whose node does not exist.
  Status UnknownNode(const SortRecord& reference) const {
    const char tag = reference.value.empty() ? kFromReference : reference.value.front();
    CallgraphRecordOrigin origin{dialect_, CallgraphRecordKind::kEdge, reference.position};
    const char* member = tag == kToReference ? "to" : "from";
    const char* rule = "edge-endpoint";
    if (tag == kEntrypointReference) {
      origin.kind = CallgraphRecordKind::kEntrypoint;
      member = "id";
      rule = "entrypoint-node";
    }
    return CallgraphRecordError(origin, member, rule, "unknown node '" + NodeIdOf(reference.key) + "'");
  }

  CallgraphDialect dialect() const { return dialect_; }
  void set_dialect(CallgraphDialect dialect) { dialect_ = dialect; }

 private:
  Status AddReference(std::string_view id, char tag, uint64_t position) {
    ref_key_.clear();
    ref_key_ += kNodeSection;
    AppendField(ref_key_, id);
    ref_key_ += kReferenceRecord;
    return sorter_.Add(ref_key_, std::string_view(&tag, 1), position);
  }

  ExternalSorter& sorter_;
  CallgraphDialect dialect_ = CallgraphDialect::kCanonical;
  std::string key_;
  std::string ref_key_;
};

CallgraphCanonicalizer::CallgraphCanonicalizer(CallgraphCanonicalizerOptions options)
    : options_(std::move(options)),
      mode_(options_.format == CallgraphInputFormat::kJson     ? Mode::kDocument
            : options_.format == CallgraphInputFormat::kNdjson ? Mode::kLines
                                                               : Mode::kDetecting),
      line_reader_(options_.max_line_bytes),
      sorter_(options_.sort_memory_bytes,
              options_.temp_dir.empty() ? (std::filesystem::temp_directory_path() / "signals").string()
                                        : options_.temp_dir) {
  keys_ = std::make_unique<RecordKeys>(sorter_);
}

CallgraphCanonicalizer::~CallgraphCanonicalizer() = default;

Status CallgraphCanonicalizer::Fail(Status status) {
  if (failure_.ok()) failure_ = std::move(status);
  pending_.clear();
  pending_.shrink_to_fit();
  return failure_;
}

Status CallgraphCanonicalizer::DocumentTooLarge() const {
  return Status(Code::kTooLarge,
                "a callgraph JSON document may have at most " + std::to_string(options_.max_document_bytes) +
                    " bytes (kernel.callgraph_max_document_bytes); send canonical NDJSON instead",
                "body", "max-document-bytes");
}

Status CallgraphCanonicalizer::Write(std::string_view chunk) {
  if (!failure_.ok()) return failure_;
  if (finished_) return Status::Internal("write after finish");
  input_bytes_ += chunk.size();
  switch (mode_) {
    case Mode::kLines: return FeedLines(chunk);
    case Mode::kDocument:
      if (pending_.size() + chunk.size() > options_.max_document_bytes) return Fail(DocumentTooLarge());
      pending_.append(chunk);
      return Status::Ok();
    case Mode::kDetecting:
      pending_.append(chunk);
      return Decide(false);
  }
  return Status::Ok();
}

Status CallgraphCanonicalizer::Decide(bool at_end) {
  // The first non-blank line decides (see the header).
  size_t start = 0;
  std::string_view text(pending_);
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos && !at_end) {
      if (text.size() - start <= options_.max_line_bytes) return Status::Ok();  // wait for more
      mode_ = Mode::kDocument;
      break;
    }
    std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!IsBlank(line)) {
      mode_ = line_reader_.LooksLikeRecordLine(line) ? Mode::kLines : Mode::kDocument;
      break;
    }
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  if (mode_ == Mode::kDetecting) {
    if (!at_end) return Status::Ok();
    mode_ = Mode::kDocument;  // blank input; Finish reports it
  }
  if (mode_ == Mode::kLines) {
    std::string buffered = std::move(pending_);
    pending_.clear();
    return FeedLines(buffered);
  }
  if (pending_.size() > options_.max_document_bytes) return Fail(DocumentTooLarge());
  return Status::Ok();
}

Status CallgraphCanonicalizer::ConsumeLine(std::string_view line) {
  ++line_number_;
  Status s = line_reader_.Read(line, line_number_, *keys_);
  return s.ok() ? s : Fail(s);
}

Status CallgraphCanonicalizer::FeedLines(std::string_view chunk) {
  size_t start = 0;
  while (start < chunk.size()) {
    const void* nl = std::memchr(chunk.data() + start, '\n', chunk.size() - start);
    const size_t end = nl == nullptr ? chunk.size() : static_cast<size_t>(static_cast<const char*>(nl) - chunk.data());
    if (partial_line_.size() + (end - start) > options_.max_line_bytes) {
      return Fail(Status::Invalid("max-line-bytes", "",
                                  "line " + std::to_string(line_number_ + 1) + ": longer than " +
                                      std::to_string(options_.max_line_bytes) + " bytes (kernel.max_line_bytes)"));
    }
    if (nl == nullptr) {
      partial_line_.append(chunk.data() + start, end - start);
      break;
    }
    if (partial_line_.empty()) {
      SIGNALS_RETURN_IF_ERROR(ConsumeLine(chunk.substr(start, end - start)));
    } else {
      partial_line_.append(chunk.data() + start, end - start);
      SIGNALS_RETURN_IF_ERROR(ConsumeLine(partial_line_));
      partial_line_.clear();
    }
    start = end + 1;
  }
  return Status::Ok();
}

Result<CallgraphSummary> CallgraphCanonicalizer::Finish(const Sink& sink) {
  if (!failure_.ok()) return failure_;
  if (finished_) return Status::Internal("finish called twice");
  finished_ = true;
  if (mode_ == Mode::kDetecting) SIGNALS_RETURN_IF_ERROR(Decide(true));
  if (!failure_.ok()) return failure_;
  CallgraphSummary summary;
  if (mode_ == Mode::kLines) {
    keys_->set_dialect(CallgraphDialect::kCanonical);
    if (!partial_line_.empty()) {
      SIGNALS_RETURN_IF_ERROR(ConsumeLine(partial_line_));
      partial_line_.clear();
    }
    summary.dialect = CallgraphDialect::kCanonical;
  } else {
    if (IsBlank(pending_)) return Fail(Status::Invalid("non-empty", "body", "the callgraph is empty"));
    const size_t size = pending_.size();
    pending_.append(simdjson::SIMDJSON_PADDING, '\0');
    CallgraphDocumentReader reader;
    auto dialect = reader.Read(pending_, size, *keys_);
    pending_.clear();
    pending_.shrink_to_fit();  // the document is no longer needed while sorting
    if (!dialect.ok()) return Fail(dialect.status());
    keys_->set_dialect(*dialect);
    summary.dialect = *dialect;
  }
  Status sorted = sorter_.Finish();
  if (!sorted.ok()) return Fail(sorted);
  Status emitted = Emit(sink, &summary);
  if (!emitted.ok()) return Fail(emitted);
  summary.spilled_runs = sorter_.spilled_runs();
  return summary;
}

Status CallgraphCanonicalizer::Emit(const Sink& sink, CallgraphSummary* summary) {
  Sha256Hasher hasher;
  std::string out;
  out.reserve(kOutputChunk + 4096);
  auto flush = [&]() -> Status {
    if (out.empty()) return Status::Ok();
    hasher.Update(out);
    summary->canonical_bytes += out.size();
    Status s = sink(out);
    out.clear();
    return s;
  };
  auto emit = [&](std::string_view line) -> Status {
    out.append(line);
    out += '\n';
    return out.size() >= kOutputChunk ? flush() : Status::Ok();
  };

  std::string node_group;  // key of the last node without its record byte
  std::string last_line;   // the last line emitted (or node seen), for duplicates
  uint64_t last_node_position = 0;
  bool have_node = false;
  char last_section = -1;
  SortRecord r;
  while (true) {
    auto more = sorter_.Next(&r);
    if (!more.ok()) return more.status();
    if (!*more) break;
    const char section = r.key.front();
    if (section != last_section) {
      last_line.clear();
      last_section = section;
    }
    if (section == kNodeSection) {
      std::string_view group = r.key.substr(0, r.key.size() - 1);
      if (r.key.back() == kReferenceRecord) {
        if (!have_node || group != node_group) return keys_->UnknownNode(r);
        continue;
      }
      if (have_node && group == node_group) {
        if (r.value == last_line) continue;  // the same node twice
        CallgraphRecordOrigin later{keys_->dialect(), CallgraphRecordKind::kNode,
                                    std::max(r.position, last_node_position)};
        CallgraphRecordOrigin earlier = later;
        earlier.position = std::min(r.position, last_node_position);
        return CallgraphRecordError(later, "id", "node-unique",
                                    "node '" + NodeIdOf(r.key) + "' is given twice with different content (also at " +
                                        (later.dialect == CallgraphDialect::kCanonical
                                             ? "line " + std::to_string(earlier.position)
                                             : CallgraphFieldName(earlier, "")) +
                                        ")");
      }
      node_group.assign(group);
      last_line.assign(r.value);
      last_node_position = r.position;
      have_node = true;
      ++summary->node_count;
      SIGNALS_RETURN_IF_ERROR(emit(r.value));
      continue;
    }
    if (r.value == last_line) continue;  // an exact duplicate edge or entrypoint
    last_line.assign(r.value);
    SIGNALS_RETURN_IF_ERROR(emit(r.value));
    if (section == kEdgeSection) {
      ++summary->edge_count;
    } else {
      ++summary->entrypoint_count;
      auto line = nlohmann::json::parse(r.value);
      CallgraphEntrypoint entry{std::string(StringMember(line, "id")), std::string(StringMember(line, "kind"))};
      // Lines of one id are adjacent but ordered by their whole text, so an
      // (id, kind) pair may recur after another kind of the same id.
      bool seen = false;
      for (auto it = summary->entrypoints.rbegin(); it != summary->entrypoints.rend() && it->id == entry.id; ++it) {
        seen = seen || *it == entry;
      }
      if (!seen) summary->entrypoints.push_back(std::move(entry));
    }
  }
  if (summary->node_count == 0) return Status::Invalid("non-empty", "nodes", "the callgraph has no nodes");
  SIGNALS_RETURN_IF_ERROR(flush());
  summary->digest = DigestFromRaw(hasher.Finish());
  return Status::Ok();
}

Result<CallgraphSummary> CanonicalizeCallgraph(std::string_view input, const CallgraphCanonicalizerOptions& options,
                                               const CallgraphCanonicalizer::Sink& sink) {
  CallgraphCanonicalizer canonicalizer(options);
  SIGNALS_RETURN_IF_ERROR(canonicalizer.Write(input));
  return canonicalizer.Finish(sink);
}

}  // namespace signals
