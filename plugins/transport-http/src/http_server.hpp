// HttpServer: HTTP/1.1 on a TCP listener.
//
// Connections waiting for a request (new ones, and keep-alive ones between
// requests) hold no thread: one Asio thread (the "io thread") accepts, waits
// for readability and reads request headers asynchronously. Only a request
// whose header is complete is handed to a worker thread (at most
// max_connections at once); the worker reads the body and answers with
// blocking Beast calls under deadlines, then hands the connection back.
// So a silent or slow client costs a socket and a few hundred bytes, never a
// worker, and only until its header deadline.
//
// Limits against connection floods: header_timeout (a request's header must
// be complete within it), max_open_connections (when full, the oldest
// connection that never completed a header is evicted for the newcomer),
// max_connections_per_address (further ones get 503). Health checks
// (/healthz, /readyz) have two workers of their own beyond max_connections.
//
// Stop(): stop accepting, close connections that wait for a request, let
// requests in flight finish within shutdown_grace, then cut the rest; joins
// every thread. It returns within shutdown_grace plus a moment unless a
// handler itself (not its socket I/O) runs on past the grace.
// Thread-safety: Start/Stop on the control thread; the rest is internal.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "exchange.hpp"

namespace signals::http {

struct ServerLimits {
  uint64_t max_body_bytes = 1ull << 30;
  uint32_t max_header_bytes = 16 * 1024;
  uint32_t max_connections = 128;  // requests served at once (worker threads)
  uint32_t max_open_connections = 10'000;
  uint32_t max_connections_per_address = 1'000;
  int64_t read_timeout_ms = 30'000;  // per read or write step
  // A body still arriving after read_timeout_ms must average at least this
  // (bytes/s) since its first byte was asked for; 0 = no floor.
  uint64_t min_body_rate = 64 * 1024;
  int64_t idle_timeout_ms = 60'000;    // between requests on a keep-alive connection
  int64_t header_timeout_ms = 10'000;  // a request's whole header
  int64_t shutdown_grace_ms = 30'000;
};

class HttpServer {
 public:
  using Handler = std::function<void(Exchange&)>;
  // Called after each answered request with (exchange, duration seconds).
  using Observer = std::function<void(const Exchange&, double)>;
  // (SIGNALS_LOG_* level, message).
  using Logger = std::function<void(int, const std::string&)>;

  HttpServer(ServerLimits limits, Handler handler, Observer observer, Logger logger = {});
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
  using ConnectionPtr = std::shared_ptr<Connection>;
  // What a worker wants done with its connection after a request.
  enum class After { kKeepAlive, kLinger, kClose };

  // io thread
  void RunIo();
  void Accept();
  void OnAccepted(boost::asio::ip::tcp::socket socket);
  void Refuse(boost::asio::ip::tcp::socket socket, const std::string& why, bool linger);
  void WaitForRequest(const ConnectionPtr& c);
  void ReadHeader(const ConnectionPtr& c);
  void OnHeader(const ConnectionPtr& c, boost::system::error_code ec);
  void Answer(const ConnectionPtr& c, std::string response);
  void Linger(const ConnectionPtr& c);
  void LingerRead(const ConnectionPtr& c);
  void Release(const ConnectionPtr& c, After after);
  void Close(const ConnectionPtr& c);
  void Sweep();
  void ArmSweep();
  void CloseAllWaiting();
  void CutAllBusy();
  void Count(int what);

  // workers
  bool Dispatch(const ConnectionPtr& c);
  void WorkerLoop();
  // Serves the request whose header `c` holds, on a worker thread, and says
  // what becomes of the connection.
  // GET or HEAD of /healthz or /readyz: may use the health-check reserve.
  static bool IsHealthCheck(
      const boost::beast::http::request_parser<boost::beast::http::buffer_body>& parser);
  static constexpr uint32_t kHealthCheckWorkers = 2;
  After ServeRequest(Connection& c);
  // Parses the target into x.segments and x.query (400 when malformed) and
  // runs the handler.
  void Route(Exchange& x);

  void RaiseFileLimit();
  void Log(int level, const std::string& message) const;

  ServerLimits limits_;
  Handler handler_;
  Observer observer_;
  Logger logger_;
  boost::asio::io_context io_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::unique_ptr<boost::asio::steady_timer> sweep_timer_;
  std::unique_ptr<boost::asio::steady_timer> accept_timer_;  // backoff after a failed accept
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  // Owned by the io thread: set by Stop's last step, after which the sweep
  // timer is never re-armed (so the io thread runs out of work and ends).
  bool io_done_ = false;
  std::thread io_thread_;

  // Owned by the io thread. open_: every open socket, in accept order.
  // fresh_: the open ones that never completed a request header, oldest
  // first (the eviction candidates). per_address_: open sockets per client.
  std::list<ConnectionPtr> open_;
  std::list<ConnectionPtr> fresh_;
  std::map<boost::asio::ip::address, uint32_t> per_address_;
  std::vector<char> discard_;
  // Flood counters, logged at most every 10 s (see Count).
  uint64_t counts_[4] = {0, 0, 0, 0};
  int64_t counts_logged_ms_ = 0;

  // The worker pool.
  std::mutex pool_mutex_;
  std::condition_variable pool_wake_;
  std::condition_variable pool_idle_;  // busy_ went down (for Stop)
  std::deque<ConnectionPtr> jobs_;
  uint32_t busy_ = 0;          // requests admitted and not yet released
  uint32_t idle_workers_ = 0;  // workers waiting for a job
  bool pool_stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace signals::http
