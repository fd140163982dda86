// CallgraphTable. See callgraph_table.hpp.
#include "canon/callgraph_table.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>
#include <thread>
#include <utility>

#include "base/canonical_json.hpp"

namespace signals {
namespace {

constexpr uint64_t kNoReference = UINT64_MAX;
constexpr int kReferenceShift = 56;  // a first reference is (NodeReference << 56) | position
constexpr uint64_t kPositionMask = (uint64_t{1} << kReferenceShift) - 1;
// Edge::line of a bare edge (no line stored); other values index edge_lines_.
constexpr uint32_t kBareEdge = UINT32_MAX;
constexpr uint32_t kBareEdgeWithKind = UINT32_MAX - 1;
// Records looked up together, and the most bytes of ids they may queue.
constexpr size_t kBatchRecords = 64;
constexpr size_t kBatchBytes = size_t{1} << 20;
constexpr size_t kPrefetchDistance = 8;
constexpr size_t kEdgesWorthAThread = 64 << 10;

bool IsBare(uint32_t line) { return line == kBareEdge || line == kBareEdgeWithKind; }

uint64_t HashOf(std::string_view s) { return std::hash<std::string_view>{}(s); }

// The first 8 bytes, big-endian, zero-padded: comparing two of these orders
// the strings as far as their first 8 bytes go.
uint64_t Prefix(std::string_view s) {
  uint64_t p = 0;
  for (size_t i = 0; i < 8; ++i) p = (p << 8) | (i < s.size() ? static_cast<uint8_t>(s[i]) : 0);
  return p;
}

// Stable LSD radix sort of `v` by key(element), a number <= max_key, 11 bits
// a pass (2048 counters stay in L1).
template <typename T, typename Key>
void RadixSort(std::vector<T>& v, std::vector<T>& scratch, uint32_t max_key, Key key) {
  constexpr int kBits = 11;
  constexpr uint32_t kMask = (1u << kBits) - 1;
  std::vector<size_t> count(kMask + 2);
  for (int shift = 0; shift < 32 && (uint64_t{max_key} >> shift) != 0; shift += kBits) {
    scratch.resize(v.size());
    std::fill(count.begin(), count.end(), 0);
    for (const T& e : v) ++count[((key(e) >> shift) & kMask) + 1];
    for (uint32_t b = 0; b <= kMask; ++b) count[b + 1] += count[b];
    for (const T& e : v) scratch[count[(key(e) >> shift) & kMask]++] = e;
    v.swap(scratch);
  }
}

}  // namespace

// The JSON text of each string, in one buffer: text(i) is the i-th.
class CallgraphTable::QuotedStrings {
 public:
  template <typename TextOf>
  QuotedStrings(size_t count, TextOf text_of) {
    offsets_.reserve(count + 1);
    offsets_.push_back(0);
    for (size_t i = 0; i < count; ++i) {
      AppendJcsString(text_of(i), bytes_);
      offsets_.push_back(bytes_.size());
    }
  }
  std::string_view text(size_t i) const {
    return std::string_view(bytes_).substr(offsets_[i], offsets_[i + 1] - offsets_[i]);
  }
  void Prefetch(size_t i) const { __builtin_prefetch(bytes_.data() + offsets_[i]); }

 private:
  std::string bytes_;
  std::vector<size_t> offsets_;
};

namespace {}  // namespace

Status UnknownNodeError(CallgraphDialect dialect, NodeReference reference, uint64_t position,
                        std::string_view id) {
  CallgraphRecordOrigin origin{dialect, CallgraphRecordKind::kEdge, position};
  const char* member = reference == NodeReference::kEdgeTo ? "to" : "from";
  const char* rule = "edge-endpoint";
  if (reference == NodeReference::kEntrypoint) {
    origin.kind = CallgraphRecordKind::kEntrypoint;
    member = "id";
    rule = "entrypoint-node";
  }
  return CallgraphRecordError(origin, member, rule, "unknown node '" + std::string(id) + "'");
}

Status NodeGivenTwiceError(CallgraphDialect dialect, std::string_view id, uint64_t a, uint64_t b) {
  const CallgraphRecordOrigin later{dialect, CallgraphRecordKind::kNode, std::max(a, b)};
  CallgraphRecordOrigin earlier = later;
  earlier.position = std::min(a, b);
  return CallgraphRecordError(
      later, "id", "node-unique",
      "node '" + std::string(id) + "' is given twice with different content (also at " +
          (dialect == CallgraphDialect::kCanonical ? "line " + std::to_string(earlier.position)
                                                   : CallgraphFieldName(earlier, "")) +
          ")");
}

// Bytes in 1 MiB blocks, never moved, so views into them stay valid.
// Allocations are 8-byte aligned.
class CallgraphTable::Arena {
 public:
  char* Allocate(size_t size) {
    size = (size + 7) & ~size_t{7};
    if (size > kBlockBytes / 4) {  // a long string gets a block of its own
      blocks_.emplace_back(new char[size]);
      allocated_ += size;
      return blocks_.back().get();
    }
    if (current_ == nullptr || used_ + size > kBlockBytes) {
      blocks_.emplace_back(new char[kBlockBytes]);
      allocated_ += kBlockBytes;
      current_ = blocks_.back().get();
      used_ = 0;
    }
    char* at = current_ + used_;
    used_ += size;
    return at;
  }

  std::string_view Copy(std::string_view s) {
    char* at = Allocate(s.size());
    if (!s.empty()) std::memcpy(at, s.data(), s.size());
    return {at, s.size()};
  }

  size_t bytes() const { return allocated_ + blocks_.capacity() * sizeof(blocks_[0]); }

 private:
  static constexpr size_t kBlockBytes = size_t{1} << 20;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* current_ = nullptr;
  size_t used_ = 0;
  size_t allocated_ = 0;
};

namespace {

// An interned string in the arena: this header, then its bytes. The first
// reference lives here because an edge's lookup has just read this line.
struct StoredString {
  uint64_t first_reference;
  uint32_t size;
  uint32_t number;
  std::string_view text() const { return {reinterpret_cast<const char*>(this + 1), size}; }
};

}  // namespace

// Interned strings: each distinct string once, numbered in order of arrival.
// Open addressing, linear probing, at most half full; a slot holds the high
// half of the string's hash beside its address, so a lookup touches two
// cache lines: the slot and the stored string.
class CallgraphTable::Strings {
 public:
  explicit Strings(Arena& arena) : arena_(arena), slots_(1024) {}

  // Room for `more` new strings without growing (so batch lookups may
  // prefetch slots).
  void Reserve(size_t more) {
    while ((stored_.size() + more) * 2 > slots_.size()) Grow();
  }
  void PrefetchSlot(uint64_t hash) const { __builtin_prefetch(&slots_[hash & (slots_.size() - 1)]); }
  void PrefetchString(uint64_t hash) const {
    const Slot& slot = slots_[hash & (slots_.size() - 1)];
    if (slot.stored != nullptr) __builtin_prefetch(slot.stored);
  }

  // REQUIRES: Reserve(1) since the last new string; hash == HashOf(s).
  StoredString* Intern(std::string_view s, uint64_t hash) {
    const auto tag = static_cast<uint32_t>(hash >> 32);
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.stored == nullptr) {
        char* at = arena_.Allocate(sizeof(StoredString) + s.size());
        auto* stored = new (at) StoredString{kNoReference, static_cast<uint32_t>(s.size()),
                                             static_cast<uint32_t>(stored_.size())};
        if (!s.empty()) std::memcpy(at + sizeof(StoredString), s.data(), s.size());
        slot = Slot{stored, tag};
        stored_.push_back(stored);
        return stored;
      }
      if (slot.tag == tag && slot.stored->text() == s) return slot.stored;
    }
  }

  StoredString* Intern(std::string_view s) {
    Reserve(1);
    return Intern(s, HashOf(s));
  }

  StoredString* at(uint32_t number) const { return stored_[number]; }
  std::string_view text(uint32_t number) const { return stored_[number]->text(); }
  uint32_t size() const { return static_cast<uint32_t>(stored_.size()); }

  // The numbers in the byte order of their strings.
  std::vector<uint32_t> SortedOrder() const {
    std::vector<std::pair<uint64_t, uint32_t>> keyed(stored_.size());
    for (uint32_t i = 0; i < stored_.size(); ++i) keyed[i] = {Prefix(text(i)), i};
    std::sort(keyed.begin(), keyed.end(), [this](const auto& a, const auto& b) {
      if (a.first != b.first) return a.first < b.first;
      return text(a.second) < text(b.second);
    });
    std::vector<uint32_t> order(keyed.size());
    for (size_t i = 0; i < keyed.size(); ++i) order[i] = keyed[i].second;
    return order;
  }

  size_t memory_bytes() const {
    return slots_.capacity() * sizeof(Slot) + stored_.capacity() * sizeof(void*);
  }

 private:
  struct Slot {
    StoredString* stored = nullptr;
    uint32_t tag = 0;
  };

  void Grow() {
    std::vector<Slot> slots(slots_.size() * 2);
    const size_t mask = slots.size() - 1;
    for (const Slot& slot : slots_) {
      if (slot.stored == nullptr) continue;
      size_t i = HashOf(slot.stored->text()) & mask;
      while (slots[i].stored != nullptr) i = (i + 1) & mask;
      slots[i] = slot;
    }
    slots_ = std::move(slots);
  }

  Arena& arena_;
  std::vector<Slot> slots_;
  std::vector<StoredString*> stored_;  // by number
};

// A record whose ids are in staging_, waiting for the batch lookup.
struct CallgraphTable::Pending {
  CallgraphRecordKind kind;
  uint32_t a_offset, a_size;  // id, or an edge's from
  uint32_t b_offset, b_size;  // an edge's to
  uint32_t kind_number;       // edges
  uint32_t line_index;        // edges
  uint64_t position;
  std::string_view line;       // nodes, entrypoints
  std::string_view kind_text;  // entrypoints
};

struct CallgraphTable::Node {
  uint32_t id;
  uint32_t rank;  // set by Emit
  std::string_view line;
  uint64_t position;
};

struct CallgraphTable::Edge {
  uint32_t from;  // id numbers until Emit ranks them
  uint32_t to;
  uint32_t kind;  // kinds_ number ("" when the edge has none), then its rank
  uint32_t line;  // kBareEdge, kBareEdgeWithKind or an index into edge_lines_
};

bool CallgraphTable::SameTuple(const Edge& a, const Edge& b) {
  return a.from == b.from && a.to == b.to && a.kind == b.kind;
}

struct CallgraphTable::EntrypointRecord {
  uint32_t id;
  std::string_view kind;
  std::string_view line;
};

CallgraphTable::CallgraphTable()
    : arena_(std::make_unique<Arena>()),
      ids_(std::make_unique<Strings>(*arena_)),
      kinds_(std::make_unique<Strings>(*arena_)) {
  pending_.reserve(kBatchRecords);
}

CallgraphTable::~CallgraphTable() = default;

void CallgraphTable::Add(const CallgraphRecord& record, uint64_t position) {
  Pending p{};
  p.kind = record.kind;
  p.position = position;
  auto stage = [this](std::string_view s, uint32_t* offset, uint32_t* size) {
    *offset = static_cast<uint32_t>(staging_.size());
    *size = static_cast<uint32_t>(s.size());
    staging_.append(s);
  };
  switch (record.kind) {
    case CallgraphRecordKind::kNode:
      stage(record.id, &p.a_offset, &p.a_size);
      p.line = arena_->Copy(record.line);
      break;
    case CallgraphRecordKind::kEdge:
      stage(record.from, &p.a_offset, &p.a_size);
      stage(record.to, &p.b_offset, &p.b_size);
      p.kind_number = kinds_->Intern(record.has_kind ? record.kind_member : std::string_view())->number;
      p.line_index = record.has_kind ? kBareEdgeWithKind : kBareEdge;
      if (!record.bare_edge) {
        p.line_index = static_cast<uint32_t>(edge_lines_.size());
        edge_lines_.push_back(arena_->Copy(record.line));
      }
      break;
    case CallgraphRecordKind::kEntrypoint:
      stage(record.id, &p.a_offset, &p.a_size);
      p.line = arena_->Copy(record.line);
      if (record.has_kind) p.kind_text = arena_->Copy(record.kind_member);
      break;
  }
  pending_.push_back(p);
  if (pending_.size() == kBatchRecords || staging_.size() >= kBatchBytes) Flush();
}

void CallgraphTable::Flush() {
  if (pending_.empty()) return;
  const std::string_view staged(staging_);
  auto a_of = [&](const Pending& p) { return staged.substr(p.a_offset, p.a_size); };
  auto b_of = [&](const Pending& p) { return staged.substr(p.b_offset, p.b_size); };
  ids_->Reserve(2 * pending_.size());
  uint64_t hashes[2 * kBatchRecords];
  size_t h = 0;
  for (const Pending& p : pending_) {
    hashes[h] = HashOf(a_of(p));
    ids_->PrefetchSlot(hashes[h++]);
    if (p.kind == CallgraphRecordKind::kEdge) {
      hashes[h] = HashOf(b_of(p));
      ids_->PrefetchSlot(hashes[h++]);
    }
  }
  for (size_t i = 0; i < h; ++i) ids_->PrefetchString(hashes[i]);
  h = 0;
  auto refer = [](StoredString* id, NodeReference reference, uint64_t position) {
    const uint64_t code = (static_cast<uint64_t>(reference) << kReferenceShift) | (position & kPositionMask);
    id->first_reference = std::min(id->first_reference, code);
  };
  for (const Pending& p : pending_) {
    StoredString* a = ids_->Intern(a_of(p), hashes[h++]);
    switch (p.kind) {
      case CallgraphRecordKind::kNode:
        nodes_.push_back(Node{a->number, 0, p.line, p.position});
        break;
      case CallgraphRecordKind::kEdge: {
        StoredString* b = ids_->Intern(b_of(p), hashes[h++]);
        refer(a, NodeReference::kEdgeFrom, p.position);
        refer(b, NodeReference::kEdgeTo, p.position);
        edges_.push_back(Edge{a->number, b->number, p.kind_number, p.line_index});
        break;
      }
      case CallgraphRecordKind::kEntrypoint:
        refer(a, NodeReference::kEntrypoint, p.position);
        entrypoints_.push_back(EntrypointRecord{a->number, p.kind_text, p.line});
        break;
    }
  }
  pending_.clear();
  staging_.clear();
}

size_t CallgraphTable::memory_bytes() const {
  return arena_->bytes() + ids_->memory_bytes() + kinds_->memory_bytes() + staging_.capacity() +
         pending_.capacity() * sizeof(Pending) + nodes_.capacity() * sizeof(Node) +
         edges_.capacity() * sizeof(Edge) + edge_lines_.capacity() * sizeof(std::string_view) +
         entrypoints_.capacity() * sizeof(EntrypointRecord);
}

Status CallgraphTable::Replay(Visitor& visitor) {
  Flush();
  for (const Node& node : nodes_)
    SIGNALS_RETURN_IF_ERROR(visitor.Node(ids_->text(node.id), node.line, node.position));
  for (uint32_t id = 0; id < ids_->size(); ++id) {
    const uint64_t code = ids_->at(id)->first_reference;
    if (code == kNoReference) continue;
    SIGNALS_RETURN_IF_ERROR(visitor.Reference(
        ids_->text(id), static_cast<NodeReference>(code >> kReferenceShift), code & kPositionMask));
  }
  std::string line;
  for (const Edge& edge : edges_) {
    const std::string_view from = ids_->text(edge.from);
    const std::string_view to = ids_->text(edge.to);
    const std::string_view kind = kinds_->text(edge.kind);
    std::string_view text;
    if (IsBare(edge.line)) {
      line.clear();
      AppendBareEdgeLine(from, to, edge.line == kBareEdgeWithKind ? &kind : nullptr, line);
      text = line;
    } else {
      text = edge_lines_[edge.line];
    }
    SIGNALS_RETURN_IF_ERROR(visitor.Edge(from, to, kind, text));
  }
  for (const EntrypointRecord& e : entrypoints_)
    SIGNALS_RETURN_IF_ERROR(visitor.Entrypoint(ids_->text(e.id), e.line));
  return Status::Ok();
}

Status CallgraphTable::EmitNodes(CallgraphDialect dialect, const std::vector<uint32_t>& order,
                                 const std::vector<uint32_t>& rank, const LineSink& sink, Counts* counts) {
  for (Node& node : nodes_) node.rank = rank[node.id];
  {
    std::vector<Node> scratch;
    RadixSort(nodes_, scratch, static_cast<uint32_t>(order.size()), [](const Node& n) { return n.rank; });
  }
  // Every id is a node or is referred to: an id without a node record is
  // an unknown node, reported where it was first referred to.
  size_t j = 0;
  for (uint32_t r = 0; r < order.size(); ++r) {
    if (j + kPrefetchDistance < nodes_.size()) __builtin_prefetch(nodes_[j + kPrefetchDistance].line.data());
    if (j == nodes_.size() || nodes_[j].rank != r) {
      const StoredString* id = ids_->at(order[r]);
      return UnknownNodeError(dialect, static_cast<NodeReference>(id->first_reference >> kReferenceShift),
                              id->first_reference & kPositionMask, id->text());
    }
    size_t end = j + 1;
    while (end < nodes_.size() && nodes_[end].rank == r) ++end;
    if (end - j > 1) {
      std::sort(nodes_.begin() + static_cast<std::ptrdiff_t>(j),
                nodes_.begin() + static_cast<std::ptrdiff_t>(end), [](const Node& a, const Node& b) {
                  return a.line != b.line ? a.line < b.line : a.position < b.position;
                });
      for (size_t k = j + 1; k < end; ++k) {
        if (nodes_[k].line != nodes_[j].line) {
          return NodeGivenTwiceError(dialect, ids_->text(order[r]), nodes_[j].position, nodes_[k].position);
        }
      }
    }
    SIGNALS_RETURN_IF_ERROR(sink(nodes_[j].line));
    ++counts->nodes;
    j = end;
  }
  nodes_ = {};
  return Status::Ok();
}

// The sorted edges' texts: the JSON text of every id and kind by rank, and
// the lines of edges that are not bare.
class CallgraphTable::EdgeText {
 public:
  EdgeText(const Strings& ids, const std::vector<uint32_t>& order, const Strings& kinds,
           const std::vector<uint32_t>& kind_order, const std::vector<std::string_view>& edge_lines)
      : ids_(order.size(), [&](size_t r) { return ids.text(order[r]); }),
        kinds_(kind_order.size(), [&](size_t r) { return kinds.text(kind_order[r]); }),
        edge_lines_(edge_lines) {}

  // The line of a ranked edge; a bare edge's is written into `scratch`.
  std::string_view Line(const Edge& e, std::string& scratch) const {
    if (!IsBare(e.line)) return edge_lines_[e.line];
    scratch.clear();
    const std::string_view kind = kinds_.text(e.kind);
    AppendBareEdgeLineFromJson(ids_.text(e.from), ids_.text(e.to),
                               e.line == kBareEdgeWithKind ? &kind : nullptr, scratch);
    return scratch;
  }

  // Of two edges with the same (from, to, kind): <0, 0, >0 as their lines compare.
  int CompareLines(const Edge& a, const Edge& b) const {
    if (a.line == b.line && IsBare(a.line)) return 0;
    return Line(a, a_line_).compare(Line(b, b_line_));
  }

  void Prefetch(const Edge& e) const { ids_.Prefetch(e.to); }

 private:
  const QuotedStrings ids_;
  const QuotedStrings kinds_;
  const std::vector<std::string_view>& edge_lines_;
  mutable std::string a_line_, b_line_;
};

std::unique_ptr<CallgraphTable::EdgeText> CallgraphTable::SortEdges(const std::vector<uint32_t>& order,
                                                                    const std::vector<uint32_t>& rank) {
  const std::vector<uint32_t> kind_order = kinds_->SortedOrder();
  std::vector<uint32_t> kind_rank(kind_order.size());
  for (uint32_t r = 0; r < kind_order.size(); ++r) kind_rank[kind_order[r]] = r;
  for (Edge& e : edges_) {
    e.from = rank[e.from];
    e.to = rank[e.to];
    e.kind = kind_rank[e.kind];
  }
  {
    std::vector<Edge> scratch;
    const auto max_rank = static_cast<uint32_t>(order.size());
    RadixSort(edges_, scratch, static_cast<uint32_t>(kind_order.size() - 1),
              [](const Edge& e) { return e.kind; });
    RadixSort(edges_, scratch, max_rank, [](const Edge& e) { return e.to; });
    RadixSort(edges_, scratch, max_rank, [](const Edge& e) { return e.from; });
  }
  auto text = std::make_unique<EdgeText>(*ids_, order, *kinds_, kind_order, edge_lines_);
  // Edges that tie on (from, to, kind) go by their lines.
  for (size_t i = 0; i + 1 < edges_.size();) {
    size_t end = i + 1;
    while (end < edges_.size() && SameTuple(edges_[i], edges_[end])) ++end;
    if (end - i > 1) {
      std::sort(edges_.begin() + static_cast<std::ptrdiff_t>(i),
                edges_.begin() + static_cast<std::ptrdiff_t>(end),
                [&](const Edge& a, const Edge& b) { return text->CompareLines(a, b) < 0; });
    }
    i = end;
  }
  return text;
}

Status CallgraphTable::WriteEdges(const EdgeText& text, const LineSink& sink, Counts* counts) {
  std::string line;
  for (size_t i = 0; i < edges_.size(); ++i) {
    if (i + kPrefetchDistance < edges_.size()) text.Prefetch(edges_[i + kPrefetchDistance]);
    if (i > 0 && SameTuple(edges_[i - 1], edges_[i]) && text.CompareLines(edges_[i - 1], edges_[i]) == 0)
      continue;
    SIGNALS_RETURN_IF_ERROR(sink(text.Line(edges_[i], line)));
    ++counts->edges;
  }
  edges_ = {};
  return Status::Ok();
}

Result<CallgraphTable::Counts> CallgraphTable::Emit(
    CallgraphDialect dialect, const LineSink& sink,
    const std::function<void(std::string_view id, std::string_view kind)>& entrypoint) {
  Flush();
  Counts counts;
  const std::vector<uint32_t> order = ids_->SortedOrder();  // rank → id number
  std::vector<uint32_t> rank(order.size());
  for (uint32_t r = 0; r < order.size(); ++r) rank[order[r]] = r;
  // Edges sort on a second thread while the nodes are written: the node
  // lines go to compression at its pace, so this thread mostly waits then.
  std::unique_ptr<EdgeText> edge_text;
  std::exception_ptr sort_failure;
  auto sort_edges = [&] {
    try {
      edge_text = SortEdges(order, rank);
    } catch (...) {
      sort_failure = std::current_exception();
    }
  };
  std::thread sorter;
  if (edges_.size() >= kEdgesWorthAThread) {
    sorter = std::thread(sort_edges);
  } else if (!edges_.empty()) {
    sort_edges();
  }
  Status nodes = EmitNodes(dialect, order, rank, sink, &counts);
  if (sorter.joinable()) sorter.join();
  SIGNALS_RETURN_IF_ERROR(nodes);
  if (sort_failure) {
    try {
      std::rethrow_exception(sort_failure);
    } catch (const std::exception& e) {  // ids were checked as they came in; or out of memory
      return Status::Internal(std::string("sorting callgraph edges: ") + e.what());
    }
  }
  if (edge_text != nullptr) SIGNALS_RETURN_IF_ERROR(WriteEdges(*edge_text, sink, &counts));

  // Entrypoints, by (id, line).
  for (EntrypointRecord& e : entrypoints_) e.id = rank[e.id];
  std::sort(entrypoints_.begin(), entrypoints_.end(),
            [](const EntrypointRecord& a, const EntrypointRecord& b) {
              return a.id != b.id ? a.id < b.id : a.line < b.line;
            });
  for (size_t i = 0; i < entrypoints_.size(); ++i) {
    const EntrypointRecord& e = entrypoints_[i];
    if (i > 0 && entrypoints_[i - 1].id == e.id && entrypoints_[i - 1].line == e.line) continue;
    SIGNALS_RETURN_IF_ERROR(sink(e.line));
    ++counts.entrypoints;
    entrypoint(ids_->text(order[e.id]), e.kind);
  }
  return counts;
}

}  // namespace signals
