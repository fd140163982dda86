// UTF-16 form of UTF-8 text, the reference for orders that RFC 8785 defines
// by UTF-16 code units (member names): comparing two std::u16string values
// compares their code units as unsigned numbers. Decodes with its own code,
// not the kernel's, so tests can hold the kernel's shortcuts against it.
// Only for valid UTF-8 (tests build their inputs from known characters).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace signals::testing {

inline std::u16string Utf16Of(std::string_view utf8) {
  std::u16string out;
  for (size_t i = 0; i < utf8.size();) {
    const auto lead = static_cast<uint8_t>(utf8[i]);
    const size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    if (i + length > utf8.size()) throw std::invalid_argument("truncated UTF-8 in a test input");
    uint32_t cp = length == 1 ? lead : lead & (0x7F >> length);
    for (size_t k = 1; k < length; ++k) cp = (cp << 6) | (static_cast<uint8_t>(utf8[i + k]) & 0x3F);
    if (cp >= 0x10000) {
      out += static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10));
      out += static_cast<char16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF));
    } else {
      out += static_cast<char16_t>(cp);
    }
    i += length;
  }
  return out;
}

}  // namespace signals::testing
