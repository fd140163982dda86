// fnv.hpp — 64-bit FNV-1a, the one hash source-procfs needs: dpkg's path
// index and telling a changed graph document. Not cryptographic; nothing an
// attacker controls is trusted on it. Thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace signals::procfs {

inline uint64_t Fnv1a64(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace signals::procfs
