// signals/support/json_text.hpp — the little JSON a plugin needs without a
// JSON library: writing a request and reading the members of an answer.
//
// JsonWriter builds JSON text (RFC 8259) in one pass: strings are escaped
// (quotes, backslash, control characters; bytes that are not UTF-8 are
// replaced by U+FFFD so the output is always valid JSON), numbers are written
// as integers or in shortest round-trip form. It does not sort members or
// reject duplicates: the kernel hashes and signs only its own canonical form,
// never a plugin's text.
//
// JsonObject reads one JSON object and keeps its top-level members: a string
// member as its unescaped text, any other value (number, true/false/null,
// nested object or array) as its JSON text. It is meant for the kernel's
// answers (a provenance record's batchId, a problem's status, rule and line),
// not as a general parser: it checks structure, not every grammar rule of
// numbers inside nested values.
//
//   signals::support::JsonWriter w;
//   w.BeginObject().Key("kind").String("runtime-facts").Key("tenant").String(tenant).EndObject();
//   host.BeginIngest(w.text());
//   ...
//   auto answer = signals::support::JsonObject::Parse(result);
//   std::string batch = answer ? answer->String("batchId") : "";
//
// Thread-safety: a writer or object is used by one thread at a time.
#ifndef SIGNALS_SUPPORT_JSON_TEXT_HPP
#define SIGNALS_SUPPORT_JSON_TEXT_HPP

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace signals {
namespace support {

// Appends `text` to `out` as a JSON string literal, quotes included.
inline void AppendJsonString(std::string& out, std::string_view text) {
  static const char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20) {
      switch (c) {
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        default:
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
      }
      ++i;
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else {
      // A well-formed UTF-8 sequence is copied; anything else becomes U+FFFD.
      size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
      bool valid = len != 0 && c <= 0xf4 && i + len <= text.size();
      for (size_t k = 1; valid && k < len; ++k) {
        valid = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
      }
      if (valid && len == 3) {
        const auto c1 = static_cast<unsigned char>(text[i + 1]);
        valid = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);  // overlong, surrogate
      }
      if (valid && len == 4) {
        const auto c1 = static_cast<unsigned char>(text[i + 1]);
        valid = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);  // overlong, > U+10FFFF
      }
      if (valid) {
        out.append(text.data() + i, len);
        i += len;
      } else {
        out += "\xef\xbf\xbd";
        ++i;
      }
    }
  }
  out.push_back('"');
}

class JsonWriter {
 public:
  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }

  // A member name; the next call writes its value.
  JsonWriter& Key(std::string_view name) {
    Separate();
    AppendJsonString(out_, name);
    out_.push_back(':');
    after_key_ = true;
    return *this;
  }
  JsonWriter& String(std::string_view text) {
    Separate();
    AppendJsonString(out_, text);
    return *this;
  }
  JsonWriter& Int(int64_t value) { return Raw(std::to_string(value)); }
  JsonWriter& Uint(uint64_t value) { return Raw(std::to_string(value)); }
  // A finite double in shortest round-trip form; NaN and infinities, which
  // JSON cannot hold, are written as null.
  JsonWriter& Double(double value) {
    if (!std::isfinite(value)) return Raw("null");
    char buffer[32];
    for (int precision = 1; precision <= 17; ++precision) {
      std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
      if (std::strtod(buffer, nullptr) == value) break;
    }
    return Raw(buffer);
  }
  JsonWriter& Bool(bool value) { return Raw(value ? "true" : "false"); }
  JsonWriter& Null() { return Raw("null"); }
  // Text that already is one JSON value (e.g. an answer passed on).
  JsonWriter& Raw(std::string_view json) {
    Separate();
    out_.append(json);
    return *this;
  }

  const std::string& text() const { return out_; }

 private:
  void Separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_.empty()) {
      if (!first_.back()) out_.push_back(',');
      first_.back() = false;
    }
  }
  JsonWriter& Open(char bracket) {
    Separate();
    out_.push_back(bracket);
    first_.push_back(true);
    return *this;
  }
  JsonWriter& Close(char bracket) {
    out_.push_back(bracket);
    if (!first_.empty()) first_.pop_back();
    return *this;
  }

  std::string out_;
  std::vector<bool> first_;  // per open container: no member written yet
  bool after_key_ = false;
};

class JsonObject {
 public:
  // The object's top-level members, or nullopt when `text` is not one JSON
  // object (or nests deeper than `max_depth`).
  static std::optional<JsonObject> Parse(std::string_view text, size_t max_depth = 64) {
    JsonObject object;
    Cursor cursor{text, 0, max_depth};
    cursor.SkipSpace();
    if (!cursor.Eat('{')) return std::nullopt;
    cursor.SkipSpace();
    if (!cursor.Eat('}')) {
      while (true) {
        cursor.SkipSpace();
        std::string key;
        if (!cursor.ReadString(&key)) return std::nullopt;
        cursor.SkipSpace();
        if (!cursor.Eat(':')) return std::nullopt;
        cursor.SkipSpace();
        Member member;
        if (cursor.Peek() == '"') {
          member.is_string = true;
          if (!cursor.ReadString(&member.text)) return std::nullopt;
        } else {
          const size_t start = cursor.pos;
          if (!cursor.SkipValue(1)) return std::nullopt;
          member.text.assign(text.substr(start, cursor.pos - start));
        }
        object.members_[key] = std::move(member);
        cursor.SkipSpace();
        if (cursor.Eat('}')) break;
        if (!cursor.Eat(',')) return std::nullopt;
      }
    }
    cursor.SkipSpace();
    if (cursor.pos != text.size()) return std::nullopt;
    return object;
  }

  bool Has(const std::string& name) const { return members_.count(name) != 0; }
  // The unescaped text of a string member; `fallback` when absent or not a string.
  std::string String(const std::string& name, const std::string& fallback = "") const {
    auto it = members_.find(name);
    return it != members_.end() && it->second.is_string ? it->second.text : fallback;
  }
  // An integer member; `fallback` when absent or not an integer.
  int64_t Int(const std::string& name, int64_t fallback = 0) const {
    auto it = members_.find(name);
    if (it == members_.end() || it->second.is_string || it->second.text.empty()) return fallback;
    const std::string& t = it->second.text;
    size_t used = 0;
    try {
      const long long v = std::stoll(t, &used);
      return used == t.size() ? static_cast<int64_t>(v) : fallback;
    } catch (...) {
      return fallback;
    }
  }
  // The JSON text of any member (a string member re-encoded); "" when absent.
  std::string Json(const std::string& name) const {
    auto it = members_.find(name);
    if (it == members_.end()) return "";
    if (!it->second.is_string) return it->second.text;
    std::string out;
    AppendJsonString(out, it->second.text);
    return out;
  }

 private:
  struct Member {
    bool is_string = false;
    std::string text;
  };

  struct Cursor {
    std::string_view text;
    size_t pos;
    size_t max_depth;

    char Peek() const { return pos < text.size() ? text[pos] : '\0'; }
    bool Eat(char c) {
      if (Peek() != c || pos >= text.size()) return false;
      ++pos;
      return true;
    }
    void SkipSpace() {
      while (pos < text.size() &&
             (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' || text[pos] == '\r')) {
        ++pos;
      }
    }
    static int HexDigit(char c) {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    }
    bool ReadHex4(uint32_t* out) {
      if (pos + 4 > text.size()) return false;
      uint32_t v = 0;
      for (int i = 0; i < 4; ++i) {
        const int d = HexDigit(text[pos + i]);
        if (d < 0) return false;
        v = v * 16 + static_cast<uint32_t>(d);
      }
      pos += 4;
      *out = v;
      return true;
    }
    static void AppendUtf8(std::string* out, uint32_t cp) {
      if (cp < 0x80) {
        out->push_back(static_cast<char>(cp));
      } else if (cp < 0x800) {
        out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
        out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
      } else if (cp < 0x10000) {
        out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
        out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
      } else {
        out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
        out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
        out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
      }
    }
    // A string literal; `out` may be null to skip it.
    bool ReadString(std::string* out) {
      if (!Eat('"')) return false;
      while (pos < text.size()) {
        const char c = text[pos++];
        if (c == '"') return true;
        if (static_cast<unsigned char>(c) < 0x20) return false;
        if (c != '\\') {
          if (out) out->push_back(c);
          continue;
        }
        if (pos >= text.size()) return false;
        const char e = text[pos++];
        char plain = 0;
        switch (e) {
          case '"':
          case '\\':
          case '/':
            plain = e;
            break;
          case 'b':
            plain = '\b';
            break;
          case 'f':
            plain = '\f';
            break;
          case 'n':
            plain = '\n';
            break;
          case 'r':
            plain = '\r';
            break;
          case 't':
            plain = '\t';
            break;
          case 'u': {
            uint32_t cp = 0;
            if (!ReadHex4(&cp)) return false;
            if (cp >= 0xd800 && cp < 0xdc00) {
              uint32_t low = 0;
              if (!Eat('\\') || !Eat('u') || !ReadHex4(&low) || low < 0xdc00 || low >= 0xe000) return false;
              cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            } else if (cp >= 0xdc00 && cp < 0xe000) {
              return false;
            }
            if (out) AppendUtf8(out, cp);
            continue;
          }
          default:
            return false;
        }
        if (out) out->push_back(plain);
      }
      return false;
    }
    // Any value, nested up to max_depth.
    bool SkipValue(size_t depth) {
      if (depth > max_depth) return false;
      const char c = Peek();
      if (c == '"') return ReadString(nullptr);
      if (c == '{' || c == '[') {
        const char close = c == '{' ? '}' : ']';
        ++pos;
        SkipSpace();
        if (Eat(close)) return true;
        while (true) {
          SkipSpace();
          if (c == '{') {
            if (!ReadString(nullptr)) return false;
            SkipSpace();
            if (!Eat(':')) return false;
            SkipSpace();
          }
          if (!SkipValue(depth + 1)) return false;
          SkipSpace();
          if (Eat(close)) return true;
          if (!Eat(',')) return false;
        }
      }
      const size_t start = pos;
      while (pos < text.size() && (std::isalnum(static_cast<unsigned char>(text[pos])) || text[pos] == '-' ||
                                   text[pos] == '+' || text[pos] == '.')) {
        ++pos;
      }
      const std::string_view word = text.substr(start, pos - start);
      if (word.empty()) return false;
      if (word == "true" || word == "false" || word == "null") return true;
      return word.front() == '-' || (word.front() >= '0' && word.front() <= '9');
    }
  };

  std::map<std::string, Member> members_;
};

}  // namespace support
}  // namespace signals

#endif  // SIGNALS_SUPPORT_JSON_TEXT_HPP
