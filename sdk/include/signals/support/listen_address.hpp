// signals/support/listen_address.hpp — the "host:port" form of every listen
// option in Signals ("127.0.0.1:8080", "[::1]:9464", port 0 = any free port),
// parsed one way for every plugin that serves a socket (asio_acceptor.hpp
// opens a socket on it), and the port file such a plugin writes once it
// listens (for port 0). Needs only the C library. Thread-safe.
#ifndef SIGNALS_SUPPORT_LISTEN_ADDRESS_HPP
#define SIGNALS_SUPPORT_LISTEN_ADDRESS_HPP

#include <cstdint>
#include <string>

#include "posix_file.hpp"

namespace signals {
namespace support {

struct ListenAddress {
  std::string host;   // an IP address as written, without IPv6 brackets
  uint16_t port = 0;  // 0: the kernel picks a free port
};

// Splits `listen` at its last ':' into host and port. The host may be an IPv6
// address in brackets; the port is 1 to 5 decimal digits, at most 65535, and
// nothing else ("8080abc" and "" are refused). On success returns "" and
// fills *out; on failure returns what is wrong, naming the text (whether the
// host is an IP address is checked when the socket is opened).
inline std::string ParseListenAddress(const std::string& listen, ListenAddress* out) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return "listen must be host:port, got '" + listen + "'";
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port_text = listen.substr(colon + 1);
  uint32_t port = 0;
  const bool digits = !port_text.empty() && port_text.size() <= 5 &&
                      port_text.find_first_not_of("0123456789") == std::string::npos;
  if (digits) {
    for (char c : port_text) port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (!digits || port > 65535) return "listen: '" + port_text + "' is not a port";
  out->host = host;
  out->port = static_cast<uint16_t>(port);
  return "";
}

// "host:port" of a listener bound for `listen` on `port` (which differs from
// the option's when that asked for port 0), for log lines: "127.0.0.1:43125".
inline std::string BoundAddress(const std::string& listen, uint16_t port) {
  return listen.substr(0, listen.rfind(':')) + ":" + std::to_string(port);
}

// Writes `port` and a newline to `path` atomically (a reader sees no file or
// the whole number, never a partial one), replacing an older file, mode 0644
// less the umask. An empty `path` (no port_file configured) writes nothing.
// Returns "" or what failed ("cannot write port_file PATH: …").
inline std::string WritePortFile(const std::string& path, uint16_t port) {
  if (path.empty()) return "";
  const std::string text = std::to_string(port) + "\n";
  AtomicWriteOptions options;
  options.mode = 0644;
  options.exact_mode = false;
  options.replace = true;
  FileStatus written = WriteFileAtomically(path, text.data(), text.size(), options);
  return written.ok() ? "" : "cannot write port_file " + path + ": " + written.message();
}

}  // namespace support
}  // namespace signals

#endif  // SIGNALS_SUPPORT_LISTEN_ADDRESS_HPP
