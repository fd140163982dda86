// signals/support/asio_acceptor.hpp — a listening Boost.Asio TCP socket on a
// listen option ("host:port", listen_address.hpp), opened the same way by
// every plugin that serves one (transport-http, metrics-prometheus). Only a
// plugin that includes this header needs Boost (header-only Asio) for it.
// Thread-safe: a pure function; the acceptor it returns is the caller's.
#ifndef SIGNALS_SUPPORT_ASIO_ACCEPTOR_HPP
#define SIGNALS_SUPPORT_ASIO_ACCEPTOR_HPP

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>

#include "listen_address.hpp"

namespace signals {
namespace support {

// Opens, binds (SO_REUSEADDR) and listens on `listen` with `io`. On success
// returns "" and sets *acceptor; on failure returns what is wrong ("listen:
// '8080abc' is not a port", "listen: 'x' is not an IP address", "cannot listen
// on 127.0.0.1:80: Permission denied") and leaves *acceptor as it was.
inline std::string OpenAcceptor(boost::asio::io_context& io, const std::string& listen,
                                std::unique_ptr<boost::asio::ip::tcp::acceptor>* acceptor) {
  namespace net = boost::asio;
  ListenAddress parsed;
  if (std::string error = ParseListenAddress(listen, &parsed); !error.empty()) return error;
  boost::system::error_code ec;
  const auto address = net::ip::make_address(parsed.host, ec);
  if (ec) return "listen: '" + parsed.host + "' is not an IP address";
  auto opened = std::make_unique<net::ip::tcp::acceptor>(io);
  const net::ip::tcp::endpoint endpoint(address, parsed.port);
  opened->open(endpoint.protocol(), ec);
  if (!ec) opened->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) opened->bind(endpoint, ec);
  if (!ec) opened->listen(net::socket_base::max_listen_connections, ec);
  if (ec) return "cannot listen on " + listen + ": " + ec.message();
  *acceptor = std::move(opened);
  return "";
}

}  // namespace support
}  // namespace signals

#endif  // SIGNALS_SUPPORT_ASIO_ACCEPTOR_HPP
