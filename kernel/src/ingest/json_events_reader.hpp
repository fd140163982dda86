// JsonEventsReader: the JSON form of a runtime-fact batch,
// {"callgraphId": "...", "events": [ {...}, ... ]}, read as it streams.
//
// Bytes arrive in chunks of any size. Each event is handed on, as its RFC 8785
// canonical JSON (the NDJSON line the batch stores), as soon as its closing
// brace arrives; the reader holds one event at a time, so memory is bounded by
// max_event_bytes (kernel.max_line_bytes), never by the body. Members may come
// in any order and whitespace may appear anywhere JSON allows it.
//
// What it checks (Status::Invalid, each naming where):
//   "json"            syntax (field "body" at the top level, "events[i]" or the
//                     member's name for a value), content after the document,
//                     a body that ends early; the message names the line
//   "unique-field"    a member name given twice, at the top level or at any
//                     level inside an event (field "events[3].metadata.k")
//   "max-depth"       nesting deeper than kernel.max_json_depth, counted from
//                     the document (root object 1, events array 2, an event
//                     object 3), refused before the value is parsed
//   "max-line-bytes"  an event (or another member's value) longer than
//                     max_event_bytes
//   "type"            callgraphId not a string
//   "required"        events missing or not an array
// Members other than callgraphId and events are checked as JSON (within the
// same limits) and otherwise ignored. The events themselves are validated as
// runtime facts by whoever receives them.
//
// Not thread-safe: one reader per request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "base/status.hpp"

namespace signals {

class JsonEventsReader {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // The document's callgraphId, when it has one (called once).
    virtual Status CallgraphId(const std::string& id) = 0;
    // Event number `index` (0-based) as one canonical JSON line without '\n'.
    virtual Status Event(uint64_t index, std::string_view canonical_line) = 0;
  };

  JsonEventsReader(size_t max_event_bytes, size_t max_depth, Handler& handler);

  // Reads the next bytes. The first failure (the reader's or the handler's)
  // is final: every later call returns it.
  Status Write(std::string_view chunk);
  // Checks that the document is complete and had an events array.
  Status Finish();

  uint64_t events() const { return events_; }

 private:
  enum class State {
    kStart,        // before the root '{'
    kFirstMember,  // after '{': a name or '}'
    kNextName,     // after ',': a name
    kName,         // inside a member name
    kColon,        // after a name
    kValue,        // after ':'
    kEventsFirst,  // after "events": [ : an event or ']'
    kEventsNext,   // after an event: ',' or ']'
    kEventStart,   // after ',' in events: an event
    kCapture,      // inside a value
    kAfterMember,  // after a value: ',' or '}'
    kDone,         // after the root '}'
  };
  enum class Capture { kEvent, kCallgraphId, kOther };

  Status Step(const char* data, size_t size);
  Status BeginCapture(char first, Capture what);
  // Scans bytes of the value being captured from data[*i]; sets *complete
  // when it ended (a scalar ends before its delimiter, which is not consumed).
  Status CaptureSome(const char* data, size_t size, size_t* i, bool* complete);
  Status FinishCapture();
  Status FinishName();
  Status SyntaxError(const std::string& what) const;
  Status Fail(Status status);
  // Field and message prefix of the value being captured: "events[3]", "callgraphId".
  std::string CaptureWhere() const;

  const size_t max_event_bytes_;
  const size_t max_depth_;
  Handler& handler_;
  State state_ = State::kStart;
  Status failure_;
  uint64_t line_ = 1;
  uint64_t bytes_seen_ = 0;
  size_t bom_bytes_ = 0;  // bytes of a leading UTF-8 byte order mark seen
  static constexpr size_t kMaxTopLevelMembers = 64;
  uint64_t events_ = 0;
  bool saw_events_ = false;
  std::set<std::string, std::less<>> members_;  // top-level names seen
  std::string member_;                          // the current top-level member

  // The member name or value being read.
  std::string buffer_;
  Capture capture_ = Capture::kOther;
  size_t depth_ = 0;       // inside the captured value
  size_t base_depth_ = 0;  // levels above it (root object, events array)
  bool in_string_ = false;
  bool escaped_ = false;
  bool scalar_ = false;
};

}  // namespace signals
