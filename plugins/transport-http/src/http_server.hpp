// HttpServer: HTTP/1.1 on a TCP listener, one thread per connection (bounded
// by max_connections), blocking Beast reads and writes with deadlines enforced
// by a watchdog thread, so a slow or silent client only ever holds its own
// connection, and only until its deadline.
//
// Stop(): stop accepting, close idle keep-alive connections, let requests in
// flight finish within shutdown_grace, then cut the rest; joins every thread.
// Thread-safety: Start/Stop on the control thread; the rest is internal.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "exchange.hpp"

namespace signals::http {

struct ServerLimits {
  uint64_t max_body_bytes = 1ull << 30;
  uint32_t max_header_bytes = 16 * 1024;
  uint32_t max_connections = 128;
  int64_t read_timeout_ms = 30'000;   // per read or write step
  int64_t idle_timeout_ms = 60'000;   // between requests on a keep-alive connection
  int64_t shutdown_grace_ms = 30'000;
};

class HttpServer {
 public:
  using Handler = std::function<void(Exchange&)>;
  // Called after each answered request with (exchange, duration seconds).
  using Observer = std::function<void(const Exchange&, double)>;

  HttpServer(ServerLimits limits, Handler handler, Observer observer);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds "host:port" ("[::1]:8080", "127.0.0.1:0"). Returns "" or the error.
  std::string Start(const std::string& listen);
  void Stop();
  // The bound port (useful with port 0).
  uint16_t port() const { return port_; }

 private:
  struct Connection;
  void AcceptLoop();
  void Serve(std::shared_ptr<Connection> connection);
  // Half-closes and discards what the client still sends (bounded), so that
  // an answer sent before the body was read reaches the client.
  void DrainBeforeClose(Connection& connection);
  void Watchdog();
  void ReapFinished();

  ServerLimits limits_;
  Handler handler_;
  Observer observer_;
  boost::asio::io_context io_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::thread watchdog_thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::list<std::shared_ptr<Connection>> connections_;
};

}  // namespace signals::http
