// CallgraphCanonicalizer. See callgraph_canonicalizer.hpp.
//
// Sort keys of the external sort. Every record becomes (key, value, position)
// in one ExternalSorter, so that one ordered pass emits the whole file:
//   node        0x00 F(id) 0x00            value = canonical line
//   reference   0x00 F(id) 0x01            value = 'e' (entrypoint) | 'f' | 't' (edge from/to)
//   edge        0x01 F(from) F(to) F(kind) value = canonical line
//   entrypoint  0x02 F(id)                 value = canonical line
// where F(s) is s with each 0x00 byte written as 0x00 0xFF, then 0x00 0x01.
// F keeps byte order and is prefix-free, so comparing keys compares the
// tuples field by field, and references to an id sort right after its node.
// The in-memory table (callgraph_table.hpp) gives the same order.
#include "canon/callgraph_canonicalizer.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/sha256.hpp"
#include "canon/callgraph_line_batches.hpp"
#include "canon/callgraph_table.hpp"
#include "model/digest.hpp"

namespace signals {
namespace {

constexpr char kNodeSection = 0x00;
constexpr char kEdgeSection = 0x01;
constexpr char kEntrypointSection = 0x02;
constexpr char kNodeRecord = 0x00;
constexpr char kReferenceRecord = 0x01;
constexpr size_t kOutputChunk = 256 << 10;
// The external sort's share of the budget once the table has moved into it:
// while the table is handed over both exist, so together they stay within
// 1.25 × kernel.callgraph_sort_memory.
constexpr size_t kSorterShare = 4;

// The reference tags, in NodeReference order.
constexpr char kReferenceTags[] = {'e', 'f', 't'};

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

bool IsBlank(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

// Adds an entrypoint's (id, kind) to the summary unless it is there already.
void NoteEntrypoint(CallgraphSummary* summary, std::string_view id, std::string_view kind) {
  // Lines of one id are adjacent but ordered by their whole text, so an
  // (id, kind) pair may recur after another kind of the same id.
  for (auto it = summary->entrypoints.rbegin(); it != summary->entrypoints.rend() && it->id == id; ++it) {
    if (it->kind == kind) return;
  }
  summary->entrypoints.push_back(CallgraphEntrypoint{std::string(id), std::string(kind)});
}

}  // namespace

// Buffers canonical lines into chunks for the sink, hashing what it passes on.
class CallgraphCanonicalizer::Output {
 public:
  explicit Output(const CallgraphCanonicalizer::Sink& sink) : sink_(sink) {
    out_.reserve(kOutputChunk + 4096);
  }

  Status Line(std::string_view line) {
    out_.append(line);
    out_ += '\n';
    return out_.size() >= kOutputChunk ? Flush() : Status::Ok();
  }

  Status Flush() {
    if (out_.empty()) return Status::Ok();
    hasher_.Update(out_);
    bytes_ += out_.size();
    Status s = sink_(out_);
    out_.clear();
    return s;
  }

  // After the last Flush.
  std::string Digest() { return DigestFromRaw(hasher_.Finish()); }
  uint64_t bytes() const { return bytes_; }

 private:
  const CallgraphCanonicalizer::Sink& sink_;
  Sha256Hasher hasher_;
  std::string out_;
  uint64_t bytes_ = 0;
};

Result<CallgraphInputFormat> ParseCallgraphInputFormat(std::string_view text, std::string_view field) {
  if (text == "auto" || text.empty()) return CallgraphInputFormat::kAuto;
  if (text == "json") return CallgraphInputFormat::kJson;
  if (text == "ndjson") return CallgraphInputFormat::kNdjson;
  return Status::Invalid("format", std::string(field),
                         "format '" + std::string(text) + "' is not one of auto, json, ndjson");
}

// Where validated records go: the in-memory table while it fits in the
// budget, else the external sort (and the table, when it outgrows the budget,
// moves there).
class CallgraphCanonicalizer::RecordKeys : public CallgraphRecordSink, public CallgraphTable::Visitor {
 public:
  RecordKeys(ExternalSorter& sorter, size_t table_budget)
      : sorter_(sorter), table_budget_(table_budget), table_(std::make_unique<CallgraphTable>()) {}

  Status Add(const CallgraphRecord& record, const CallgraphRecordOrigin& origin) override {
    dialect_ = origin.dialect;
    if (table_ != nullptr) {
      table_->Add(record, origin.position);
      return table_->memory_bytes() <= table_budget_ ? Status::Ok() : MoveTableToSorter();
    }
    switch (record.kind) {
      case CallgraphRecordKind::kNode:
        return Node(record.id, record.line, origin.position);
      case CallgraphRecordKind::kEdge:
        SIGNALS_RETURN_IF_ERROR(Reference(record.from, NodeReference::kEdgeFrom, origin.position));
        SIGNALS_RETURN_IF_ERROR(Reference(record.to, NodeReference::kEdgeTo, origin.position));
        if (!record.bare_edge) {
          return Edge(record.from, record.to, record.has_kind ? record.kind_member : std::string_view(),
                      record.line);
        }
        bare_line_.clear();
        AppendBareEdgeLine(record.from, record.to, record.has_kind ? &record.kind_member : nullptr,
                           bare_line_);
        return Edge(record.from, record.to, record.has_kind ? record.kind_member : std::string_view(),
                    bare_line_);
      case CallgraphRecordKind::kEntrypoint:
        SIGNALS_RETURN_IF_ERROR(Reference(record.id, NodeReference::kEntrypoint, origin.position));
        return Entrypoint(record.id, record.line);
    }
    return Status::Internal("unknown callgraph record kind");
  }

  Status Node(std::string_view id, std::string_view line, uint64_t position) override {
    key_.clear();
    key_ += kNodeSection;
    AppendField(key_, id);
    key_ += kNodeRecord;
    return sorter_.Add(key_, line, position);
  }

  Status Reference(std::string_view id, NodeReference reference, uint64_t position) override {
    key_.clear();
    key_ += kNodeSection;
    AppendField(key_, id);
    key_ += kReferenceRecord;
    return sorter_.Add(key_, std::string_view(&kReferenceTags[static_cast<int>(reference)], 1), position);
  }

  Status Edge(std::string_view from, std::string_view to, std::string_view kind,
              std::string_view line) override {
    key_.clear();
    key_ += kEdgeSection;
    AppendField(key_, from);
    AppendField(key_, to);
    AppendField(key_, kind);
    return sorter_.Add(key_, line, 0);
  }

  Status Entrypoint(std::string_view id, std::string_view line) override {
    key_.clear();
    key_ += kEntrypointSection;
    AppendField(key_, id);
    return sorter_.Add(key_, line, 0);
  }

  // The error for a sorted reference record whose node does not exist.
  Status UnknownNode(const SortRecord& reference) const {
    const char tag = reference.value.empty() ? 'f' : reference.value.front();
    const auto at = std::find(std::begin(kReferenceTags), std::end(kReferenceTags), tag);
    const auto kind =
        static_cast<NodeReference>(at == std::end(kReferenceTags) ? 1 : at - std::begin(kReferenceTags));
    return UnknownNodeError(dialect_, kind, reference.position, NodeIdOf(reference.key));
  }

  // The graph while it is held in memory; null once it moved to the sorter.
  CallgraphTable* table() { return table_.get(); }
  CallgraphDialect dialect() const { return dialect_; }
  void set_dialect(CallgraphDialect dialect) { dialect_ = dialect; }

 private:
  Status MoveTableToSorter() {
    Status moved = table_->Replay(*this);
    table_.reset();
    return moved;
  }

  ExternalSorter& sorter_;
  const size_t table_budget_;
  std::unique_ptr<CallgraphTable> table_;
  CallgraphDialect dialect_ = CallgraphDialect::kCanonical;
  std::string key_;
  std::string bare_line_;
};

CallgraphCanonicalizer::CallgraphCanonicalizer(CallgraphCanonicalizerOptions options)
    : options_(std::move(options)),
      mode_(options_.format == CallgraphInputFormat::kJson     ? Mode::kDocument
            : options_.format == CallgraphInputFormat::kNdjson ? Mode::kLines
                                                               : Mode::kDetecting),
      line_reader_(options_.max_line_bytes, options_.limits),
      sorter_(options_.sort_memory_bytes / kSorterShare,
              options_.temp_dir.empty() ? (std::filesystem::temp_directory_path() / "signals").string()
                                        : options_.temp_dir) {
  keys_ = std::make_unique<RecordKeys>(sorter_, options_.sort_memory_bytes);
  lines_ = std::make_unique<CallgraphLineBatches>(options_.max_line_bytes, *keys_, options_.limits);
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
    case Mode::kLines:
      return FeedLines(chunk);
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
    std::string_view line =
        text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
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
  Status s = lines_->Line(line, line_number_);
  return s.ok() ? s : Fail(s);
}

Status CallgraphCanonicalizer::FeedLines(std::string_view chunk) {
  size_t start = 0;
  while (start < chunk.size()) {
    const void* nl = std::memchr(chunk.data() + start, '\n', chunk.size() - start);
    const size_t end =
        nl == nullptr ? chunk.size() : static_cast<size_t>(static_cast<const char*>(nl) - chunk.data());
    if (partial_line_.size() + (end - start) > options_.max_line_bytes) {
      // Lines before this one may still be waiting in a batch; the first
      // error in the input is theirs, if they have one.
      Status earlier = lines_->Finish();
      if (!earlier.ok()) return Fail(earlier);
      return Fail(Status::Invalid("max-line-bytes", "",
                                  "line " + std::to_string(line_number_ + 1) + ": longer than " +
                                      std::to_string(options_.max_line_bytes) +
                                      " bytes (kernel.max_line_bytes)"));
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
    Status read = lines_->Finish();
    if (!read.ok()) return Fail(read);
    summary.dialect = CallgraphDialect::kCanonical;
  } else {
    if (IsBlank(pending_)) return Fail(Status::Invalid("non-empty", "body", "the callgraph is empty"));
    const size_t size = pending_.size();
    pending_.append(simdjson::SIMDJSON_PADDING, '\0');
    CallgraphDocumentReader reader(options_.limits);
    auto dialect = reader.Read(pending_, size, *keys_);
    pending_.clear();
    pending_.shrink_to_fit();  // the document is no longer needed while sorting
    if (!dialect.ok()) return Fail(dialect.status());
    keys_->set_dialect(*dialect);
    summary.dialect = *dialect;
  }
  Status emitted = Emit(sink, &summary);
  if (!emitted.ok()) return Fail(emitted);
  summary.spilled_runs = sorter_.spilled_runs();
  return summary;
}

Status CallgraphCanonicalizer::Emit(const Sink& sink, CallgraphSummary* summary) {
  Output output(sink);
  if (CallgraphTable* table = keys_->table()) {
    auto counts = table->Emit(
        keys_->dialect(), [&](std::string_view line) { return output.Line(line); },
        [&](std::string_view id, std::string_view kind) { NoteEntrypoint(summary, id, kind); });
    if (!counts.ok()) return counts.status();
    summary->node_count = counts->nodes;
    summary->edge_count = counts->edges;
    summary->entrypoint_count = counts->entrypoints;
  } else {
    SIGNALS_RETURN_IF_ERROR(sorter_.Finish());
    SIGNALS_RETURN_IF_ERROR(EmitSorted(output, summary));
  }
  if (summary->node_count == 0) return Status::Invalid("non-empty", "nodes", "the callgraph has no nodes");
  SIGNALS_RETURN_IF_ERROR(output.Flush());
  summary->digest = output.Digest();
  summary->canonical_bytes = output.bytes();
  return Status::Ok();
}

Status CallgraphCanonicalizer::EmitSorted(Output& output, CallgraphSummary* summary) {
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
        return NodeGivenTwiceError(keys_->dialect(), NodeIdOf(r.key), last_node_position, r.position);
      }
      node_group.assign(group);
      last_line.assign(r.value);
      last_node_position = r.position;
      have_node = true;
      ++summary->node_count;
      SIGNALS_RETURN_IF_ERROR(output.Line(r.value));
      continue;
    }
    if (r.value == last_line) continue;  // an exact duplicate edge or entrypoint
    last_line.assign(r.value);
    SIGNALS_RETURN_IF_ERROR(output.Line(r.value));
    if (section == kEdgeSection) {
      ++summary->edge_count;
    } else {
      ++summary->entrypoint_count;
      auto line = nlohmann::json::parse(r.value);
      auto member = [&](const char* name) {
        auto it = line.find(name);
        return it != line.end() && it->is_string() ? it->get<std::string>() : std::string();
      };
      NoteEntrypoint(summary, member("id"), member("kind"));
    }
  }
  return Status::Ok();
}

Result<CallgraphSummary> CanonicalizeCallgraph(std::string_view input,
                                               const CallgraphCanonicalizerOptions& options,
                                               const CallgraphCanonicalizer::Sink& sink) {
  CallgraphCanonicalizer canonicalizer(options);
  SIGNALS_RETURN_IF_ERROR(canonicalizer.Write(input));
  return canonicalizer.Finish(sink);
}

}  // namespace signals
