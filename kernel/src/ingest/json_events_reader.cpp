// The streaming JSON form of runtime facts. See json_events_reader.hpp.
#include "ingest/json_events_reader.hpp"

#include <cstring>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "base/canonical_json.hpp"
#include "base/json_limits.hpp"

namespace signals {
namespace {

using json = nlohmann::json;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Builds the value of one captured piece of text as nlohmann's own parser
// does (so that an event's canonical line is what parsing the whole document
// used to give), but refuses a member name given twice, which nlohmann
// silently resolves to the last one.
class StrictDomBuilder {
 public:
  StrictDomBuilder(json* root, std::string where) : root_(root), where_(std::move(where)) {}

  bool null() { return Put(nullptr); }
  bool boolean(bool v) { return Put(v); }
  bool number_integer(json::number_integer_t v) { return Put(v); }
  bool number_unsigned(json::number_unsigned_t v) { return Put(v); }
  bool number_float(json::number_float_t v, const json::string_t&) { return Put(v); }
  bool string(json::string_t& v) { return Put(std::move(v)); }
  bool binary(json::binary_t&) {
    return Fail(Status::Invalid("json", where_, where_ + ": binary values are not JSON"));
  }
  bool start_object(std::size_t) { return Open(json::object()); }
  bool start_array(std::size_t) { return Open(json::array()); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }
  bool key(json::string_t& name) {
    json& object = *open_.back();
    if (object.contains(name)) {
      const std::string path = Path();
      return Fail(Status::Invalid(
          "unique-field", path + "." + name,
          where_ + ": member '" + name + "' is given twice" + (path == where_ ? "" : " in " + path)));
    }
    slot_ = &object[name];
    names_.back() = name;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 5: ..." → the part after ": "
    const size_t colon = what.find(": ");
    if (colon != std::string::npos) what = what.substr(colon + 2);
    const bool utf8 = what.find("UTF-8") != std::string::npos;
    return Fail(
        Status::Invalid(utf8 ? "utf-8" : "json", where_,
                        where_ + ": not valid JSON at byte " + std::to_string(position) + " (" + what + ")"));
  }

  const Status& status() const { return status_; }

 private:
  template <typename V>
  json* Insert(V&& value) {
    if (open_.empty()) {
      *root_ = json(std::forward<V>(value));
      return root_;
    }
    json& top = *open_.back();
    if (top.is_array()) {
      top.push_back(json(std::forward<V>(value)));
      return &top.back();
    }
    *slot_ = json(std::forward<V>(value));
    return slot_;
  }
  template <typename V>
  bool Put(V&& value) {
    Insert(std::forward<V>(value));
    return true;
  }
  bool Open(json empty) {
    open_.push_back(Insert(std::move(empty)));
    names_.emplace_back();
    return true;
  }
  bool Close() {
    open_.pop_back();
    names_.pop_back();
    return true;
  }
  // Where the innermost open container is: "events[3].metadata", "events[3].tags[2]".
  std::string Path() const {
    std::string out = where_;
    for (size_t level = 0; level + 1 < open_.size(); ++level) {
      if (open_[level]->is_array()) {
        out += "[" + std::to_string(open_[level]->size() - 1) + "]";
      } else {
        out += "." + names_[level];
      }
    }
    return out;
  }
  bool Fail(Status status) {
    if (status_.ok()) status_ = std::move(status);
    return false;
  }

  json* root_;
  std::string where_;
  std::vector<json*> open_;         // the containers being filled, outermost first
  std::vector<std::string> names_;  // per open object: the member being read
  json* slot_ = nullptr;            // where an object's next value goes
  Status status_;
};

// Parses `text` (one captured value, depth already checked) into *out.
Status ParseStrict(const std::string& text, const std::string& where, json* out) {
  StrictDomBuilder builder(out, where);
  bool ok = false;
  try {
    ok = json::sax_parse(text, &builder, json::input_format_t::json, /*strict=*/true);
  } catch (const std::exception& e) {
    return Status::Invalid("json", where, where + ": not valid JSON (" + e.what() + ")");
  }
  if (!ok) {
    if (!builder.status().ok()) return builder.status();
    return Status::Invalid("json", where, where + ": not valid JSON");
  }
  return Status::Ok();
}

}  // namespace

JsonEventsReader::JsonEventsReader(size_t max_event_bytes, size_t max_depth, Handler& handler)
    : max_event_bytes_(max_event_bytes), max_depth_(max_depth), handler_(handler) {}

Status JsonEventsReader::Fail(Status status) {
  if (failure_.ok()) failure_ = std::move(status);
  buffer_.clear();
  buffer_.shrink_to_fit();
  return failure_;
}

Status JsonEventsReader::SyntaxError(const std::string& what) const {
  return Status::Invalid("json", "body", "line " + std::to_string(line_) + ": not valid JSON (" + what + ")");
}

std::string JsonEventsReader::CaptureWhere() const {
  if (capture_ == Capture::kEvent) return "events[" + std::to_string(events_) + "]";
  return member_;
}

Status JsonEventsReader::Write(std::string_view chunk) {
  if (!failure_.ok()) return failure_;
  Status s = Step(chunk.data(), chunk.size());
  if (!s.ok()) return Fail(std::move(s));
  return Status::Ok();
}

Status JsonEventsReader::Finish() {
  if (!failure_.ok()) return failure_;
  if (state_ == State::kCapture && scalar_ && depth_ == 0) {
    // A scalar runs to its delimiter; the end of the body is none (the
    // document is unfinished anyway), but say so plainly.
    return Fail(Status::Invalid("json", "body", "the body ends before the JSON document is complete"));
  }
  if (state_ == State::kStart) {
    return Fail(Status::Invalid("json", "body", "the body is not a JSON object"));
  }
  if (state_ != State::kDone) {
    return Fail(Status::Invalid(
        "json", "body",
        "line " + std::to_string(line_) + ": the body ends before the JSON document is complete"));
  }
  if (!saw_events_)
    return Fail(Status::Invalid("required", "events", "events must be an array of runtime facts"));
  return Status::Ok();
}

Status JsonEventsReader::BeginCapture(char first, Capture what) {
  if (first == ',' || first == ':' || first == ']' || first == '}') {
    return SyntaxError(std::string("expected a value, got '") + first + "'");
  }
  capture_ = what;
  base_depth_ = what == Capture::kEvent ? 2 : 1;
  buffer_.clear();
  depth_ = 0;
  in_string_ = false;
  escaped_ = false;
  scalar_ = false;
  state_ = State::kCapture;
  return Status::Ok();
}

Status JsonEventsReader::CaptureSome(const char* data, size_t size, size_t* at, bool* complete) {
  size_t i = *at;
  const size_t start = i;
  *complete = false;
  Status status;
  while (i < size) {
    const char c = data[i];
    if (in_string_) {
      ++i;
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        in_string_ = false;
        if (depth_ == 0) {
          *complete = true;
          break;
        }
      } else {
        // The common case: plain text up to the next quote or backslash.
        while (i < size && data[i] != '"' && data[i] != '\\') ++i;
      }
      continue;
    }
    if (scalar_) {
      if (IsSpace(c) || c == ',' || c == ']' || c == '}') {
        *complete = true;
        break;
      }
      ++i;
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        in_string_ = true;
        break;
      case '[':
      case '{':
        // Refused here, before any parser sees the value.
        if (base_depth_ + ++depth_ > max_depth_) {
          const std::string where = CaptureWhere();
          status = Status::Invalid(
              "max-depth", where,
              where + " (line " + std::to_string(line_) + "): " + JsonDepthMessage(max_depth_));
        }
        break;
      case ']':
      case '}':
        if (depth_ > 0 && --depth_ == 0) *complete = true;
        break;
      case '\n':
        ++line_;
        break;
      default:
        if (depth_ == 0 && !IsSpace(c)) scalar_ = true;  // the value's first byte
        break;
    }
    if (!status.ok() || *complete) break;
  }
  if (!status.ok()) return status;
  if (buffer_.size() + (i - start) > max_event_bytes_) {
    const std::string where = CaptureWhere();
    return Status::Invalid(
        "max-line-bytes", where,
        where + ": longer than " + std::to_string(max_event_bytes_) + " bytes (kernel.max_line_bytes)");
  }
  buffer_.append(data + start, i - start);
  *at = i;
  return Status::Ok();
}

Status JsonEventsReader::FinishCapture() {
  const std::string where = CaptureWhere();
  json value;
  SIGNALS_RETURN_IF_ERROR(ParseStrict(buffer_, where, &value));
  switch (capture_) {
    case Capture::kEvent: {
      auto line = TryCanonicalJson(value);
      if (!line.ok()) return line.status().WithField(where).WithContext(where);
      SIGNALS_RETURN_IF_ERROR(handler_.Event(events_, *line));
      ++events_;
      state_ = State::kEventsNext;
      break;
    }
    case Capture::kCallgraphId:
      if (!value.is_string()) return Status::Invalid("type", "callgraphId", "callgraphId must be a string");
      SIGNALS_RETURN_IF_ERROR(handler_.CallgraphId(value.get_ref<const std::string&>()));
      state_ = State::kAfterMember;
      break;
    case Capture::kOther:
      state_ = State::kAfterMember;  // checked, and otherwise ignored
      break;
  }
  // Large events leave a large buffer; keep memory at the usual event's size.
  if (buffer_.capacity() > (64u << 10)) {
    buffer_.clear();
    buffer_.shrink_to_fit();
  }
  return Status::Ok();
}

Status JsonEventsReader::FinishName() {
  // The raw text between the quotes; most names have no escapes.
  std::string name;
  if (buffer_.find('\\') == std::string::npos) {
    name = buffer_;
  } else {
    json decoded = json::parse("\"" + buffer_ + "\"", nullptr, false);
    if (!decoded.is_string()) return SyntaxError("a member name is not a valid JSON string");
    name = decoded.get<std::string>();
  }
  try {
    std::string ignored;
    AppendJcsString(name, ignored);  // validates UTF-8
  } catch (const std::invalid_argument&) {
    return Status::Invalid("utf-8", "body",
                           "line " + std::to_string(line_) + ": a member name is not valid UTF-8");
  }
  // The document has two members that matter; names are remembered to
  // refuse duplicates, so their number is bounded, not only their length.
  if (members_.size() >= kMaxTopLevelMembers) {
    return Status::Invalid("max-members", "body",
                           "line " + std::to_string(line_) + ": the document has more than " +
                               std::to_string(kMaxTopLevelMembers) + " top-level members");
  }
  if (!members_.insert(name).second) {
    return Status::Invalid("unique-field", name, "member '" + name + "' is given twice");
  }
  member_ = std::move(name);
  buffer_.clear();
  state_ = State::kColon;
  return Status::Ok();
}

Status JsonEventsReader::Step(const char* data, size_t size) {
  static constexpr char kBom[] = "\xEF\xBB\xBF";
  size_t i = 0;
  while (i < size) {
    const char c = data[i];
    // Between tokens every state skips whitespace alike (a name and a
    // captured value read their own bytes, whitespace included).
    if (state_ != State::kName && state_ != State::kCapture && IsSpace(c)) {
      if (c == '\n') ++line_;
      ++i;
      continue;
    }
    switch (state_) {
      case State::kStart:
        // nlohmann, which read this form before, accepts a UTF-8 byte order
        // mark: the three bytes, first in the body, or none of them.
        if (bom_bytes_ < 3 && bytes_seen_ + i == bom_bytes_ && c == kBom[bom_bytes_]) {
          ++bom_bytes_;
          ++i;
          break;
        }
        if (c != '{' || (bom_bytes_ != 0 && bom_bytes_ != 3)) {
          return Status::Invalid("json", "body", "the body is not a JSON object");
        }
        ++i;
        state_ = State::kFirstMember;
        break;
      case State::kFirstMember:
      case State::kNextName:
        if (c == '}' && state_ == State::kFirstMember) {
          ++i;
          state_ = State::kDone;
          break;
        }
        if (c != '"') return SyntaxError("expected a member name");
        ++i;
        buffer_.clear();
        escaped_ = false;
        state_ = State::kName;
        break;
      case State::kName: {
        size_t start = i;
        bool closed = false;
        while (i < size) {
          const char b = data[i++];
          if (escaped_) {
            escaped_ = false;
          } else if (b == '\\') {
            escaped_ = true;
          } else if (b == '"') {
            closed = true;
            break;
          }
        }
        const size_t taken = i - start - (closed ? 1 : 0);
        if (buffer_.size() + taken > max_event_bytes_) {
          return Status::Invalid("max-line-bytes", "body",
                                 "line " + std::to_string(line_) + ": a member name is longer than " +
                                     std::to_string(max_event_bytes_) + " bytes (kernel.max_line_bytes)");
        }
        buffer_.append(data + start, taken);
        if (closed) SIGNALS_RETURN_IF_ERROR(FinishName());
        break;
      }
      case State::kColon:
        if (c != ':') return SyntaxError("expected ':' after member name '" + member_ + "'");
        ++i;
        state_ = State::kValue;
        break;
      case State::kValue:
        if (member_ == "events") {
          if (c != '[')
            return Status::Invalid("required", "events", "events must be an array of runtime facts");
          if (max_depth_ < 2) {
            return Status::Invalid(
                "max-depth", "events",
                "events (line " + std::to_string(line_) + "): " + JsonDepthMessage(max_depth_));
          }
          saw_events_ = true;
          ++i;
          state_ = State::kEventsFirst;
          break;
        }
        SIGNALS_RETURN_IF_ERROR(
            BeginCapture(c, member_ == "callgraphId" ? Capture::kCallgraphId : Capture::kOther));
        break;
      case State::kEventsFirst:
      case State::kEventStart:
        if (c == ']' && state_ == State::kEventsFirst) {
          ++i;
          state_ = State::kAfterMember;
          break;
        }
        SIGNALS_RETURN_IF_ERROR(BeginCapture(c, Capture::kEvent));
        break;
      case State::kCapture: {
        bool complete = false;
        SIGNALS_RETURN_IF_ERROR(CaptureSome(data, size, &i, &complete));
        if (complete) SIGNALS_RETURN_IF_ERROR(FinishCapture());
        break;
      }
      case State::kEventsNext:
        ++i;
        if (c == ',') {
          state_ = State::kEventStart;
        } else if (c == ']') {
          state_ = State::kAfterMember;
        } else {
          return SyntaxError("expected ',' or ']' after events[" + std::to_string(events_ - 1) + "]");
        }
        break;
      case State::kAfterMember:
        ++i;
        if (c == ',') {
          state_ = State::kNextName;
        } else if (c == '}') {
          state_ = State::kDone;
        } else {
          return SyntaxError("expected ',' or '}' after member '" + member_ + "'");
        }
        break;
      case State::kDone:
        return SyntaxError("content after the end of the document");
    }
  }
  bytes_seen_ += size;
  return Status::Ok();
}

}  // namespace signals
