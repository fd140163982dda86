#include "http_server.hpp"

#include <signals/plugin.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <signals/support/asio_acceptor.hpp>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <sstream>
#include <vector>

#include "http_text.hpp"
#include "request_stream.hpp"

namespace signals::http {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
namespace beast = boost::beast;
using error_code = boost::system::error_code;

constexpr int64_t kSweepMs = 100;             // granularity of every deadline
constexpr int64_t kLingerMs = 2000;           // at most this long draining a closing connection
constexpr uint64_t kLingerBytes = 64u << 20;  // ... and at most this much
constexpr int64_t kCountsLogMs = 10'000;
constexpr uint64_t kFileHeadroom = 1024;  // descriptors for everything but client sockets

enum CountKind { kEvicted = 0, kRefused = 1, kNoWorker = 2, kHeaderTimeout = 3 };

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

uint64_t WallMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// IPv4 clients on a dual-stack socket arrive as ::ffff:a.b.c.d; count them
// as the IPv4 address they are.
net::ip::address Normalize(const net::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6());
  return a;
}

// A complete problem+json response that closes the connection, for answers
// the io thread gives itself (no worker, no route).
std::string ClosingProblem(int status, const std::string& code, const std::string& detail, bool retry_after) {
  beast::http::response<beast::http::string_body> res{static_cast<beast::http::status>(status), 11};
  res.set(beast::http::field::server, "signals");
  res.set(beast::http::field::content_type, "application/problem+json");
  res.set(beast::http::field::connection, "close");
  if (retry_after) res.set(beast::http::field::retry_after, "1");
  res.body() = ProblemJson(status, code, detail);
  res.prepare_payload();
  std::ostringstream out;
  out << res;
  return out.str();
}

// The request target for a log line: bounded, and control or non-ASCII bytes
// escaped so that a hostile target cannot forge log lines or break UTF-8.
std::string LoggableTarget(const std::string& target) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : target.substr(0, 512)) {
    if (ch < 0x20 || ch >= 0x7f) {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    } else {
      out += static_cast<char>(ch);
    }
  }
  return out;
}

}  // namespace

struct HttpServer::Connection {
  enum class Phase {
    kWaiting,  // for the first byte of a request (async_wait)
    kReading,  // the request header (async_read_header)
    kBusy,     // a worker owns the socket
    kClosing,  // the io thread writes a final answer or drains before close
  };
  explicit Connection(tcp::socket s) : socket(std::move(s)) {}

  tcp::socket socket;
  net::ip::address peer;
  bool counted = false;  // counts against per_address_[peer]
  bool closed = false;
  bool spoke = false;  // completed a request header at least once
  bool in_fresh = false;
  Phase phase = Phase::kWaiting;
  // Deadline of the io thread's current step (every phase but kBusy).
  int64_t deadline_ms = 0;
  // Deadline of the worker's current blocking step; 0: none. The io thread's
  // sweep cuts the socket when it passes.
  std::atomic<int64_t> busy_deadline_ms{0};
  std::list<ConnectionPtr>::iterator open_it;
  std::list<ConnectionPtr>::iterator fresh_it;
  beast::flat_buffer buffer;
  std::optional<beast::http::request_parser<beast::http::buffer_body>> parser;
  uint64_t received_at_ms = 0;  // wall clock: the current request's first byte
  std::chrono::steady_clock::time_point started;
  uint64_t lingered = 0;
  std::string pending;  // an answer the io thread is writing

  void Cut() {
    // shutdown() unblocks a read or write in progress on another thread; the
    // descriptor stays valid, as only the io thread closes it.
    ::shutdown(socket.native_handle(), SHUT_RDWR);
  }
};

HttpServer::HttpServer(ServerLimits limits, Handler handler, Observer observer, Logger logger)
    : limits_(limits),
      handler_(std::move(handler)),
      observer_(std::move(observer)),
      logger_(std::move(logger)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Log(int level, const std::string& message) const {
  if (!logger_) return;
  try {
    logger_(level, message);
  } catch (...) {
    // Logging must never take a thread down.
  }
}

std::string HttpServer::Start(const std::string& listen) {
  if (std::string error = support::OpenAcceptor(io_, listen, &acceptor_); !error.empty()) return error;
  port_ = acceptor_->local_endpoint().port();
  RaiseFileLimit();
  stopping_ = false;
  io_done_ = false;
  pool_stop_ = false;
  discard_.resize(64 * 1024);
  io_.restart();
  sweep_timer_ = std::make_unique<net::steady_timer>(io_);
  accept_timer_ = std::make_unique<net::steady_timer>(io_);
  counts_logged_ms_ = NowMs();
  Accept();
  ArmSweep();
  io_thread_ = std::thread([this] { RunIo(); });
  return "";
}

void HttpServer::RaiseFileLimit() {
  // Every open connection is a descriptor; with a soft limit of 1024 (a
  // common default) the cap would never be reached and accept() would fail
  // with EMFILE first.
  const uint64_t needed = uint64_t{limits_.max_open_connections} + kFileHeadroom;
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < needed) {
    rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max == RLIM_INFINITY ? needed : std::min<rlim_t>(needed, rl.rlim_max);
    if (raised.rlim_cur > rl.rlim_cur && ::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      Log(SIGNALS_LOG_INFO, "raised the open-file soft limit (RLIMIT_NOFILE) from " +
                                std::to_string(rl.rlim_cur) + " to " + std::to_string(raised.rlim_cur) +
                                " for max_open_connections=" + std::to_string(limits_.max_open_connections));
      rl = raised;
    }
  }
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < needed) {
    Log(SIGNALS_LOG_WARN, "the open-file limit (RLIMIT_NOFILE " + std::to_string(rl.rlim_cur) + ", hard " +
                              std::to_string(rl.rlim_max) + ") is below max_open_connections=" +
                              std::to_string(limits_.max_open_connections) + " + " +
                              std::to_string(kFileHeadroom) +
                              "; when descriptors run out, idle connections are evicted for new ones");
  }
}

void HttpServer::RunIo() {
  // Handlers catch what they expect; this catches the rest, so that the
  // io thread outlives any one connection's failure.
  while (true) {
    try {
      io_.run();
      return;
    } catch (const std::exception& e) {
      Log(SIGNALS_LOG_ERROR, std::string("http io thread: unexpected exception: ") + e.what());
    } catch (...) {
      Log(SIGNALS_LOG_ERROR, "http io thread: unexpected exception that is not a std::exception");
    }
  }
}

// ---------------------------------------------------------------------------
// The io thread: accept, wait for requests, read headers, enforce limits.

void HttpServer::Accept() {
  acceptor_->async_accept([this](error_code ec, tcp::socket socket) {
    if (stopping_ || !acceptor_->is_open()) return;
    if (ec) {
      if (ec == net::error::operation_aborted) return;
      // Out of descriptors (EMFILE/ENFILE) or memory: the client stays in the
      // backlog. Free a descriptor by evicting the oldest connection that
      // never spoke, or else back off a little.
      if ((ec == net::error::no_descriptors || ec.value() == ENFILE) && !fresh_.empty()) {
        Count(kEvicted);
        Close(fresh_.front());
        Accept();
        return;
      }
      accept_timer_->expires_after(std::chrono::milliseconds(50));
      accept_timer_->async_wait([this](error_code timer_ec) {
        if (!timer_ec && !stopping_) Accept();
      });
      return;
    }
    try {
      OnAccepted(std::move(socket));
    } catch (const std::exception& e) {
      Log(SIGNALS_LOG_ERROR, std::string("http accept: ") + e.what());
    } catch (...) {
      Log(SIGNALS_LOG_ERROR, "http accept: unexpected exception");
    }
    Accept();
  });
}

void HttpServer::OnAccepted(tcp::socket socket) {
  error_code ec;
  auto remote = socket.remote_endpoint(ec);
  if (ec) return;  // already gone; the socket closes with this scope
  const auto address = Normalize(remote.address());
  // The per-address cap first: a refused newcomer must not cost another
  // client its place.
  auto counted = per_address_.find(address);
  if (counted != per_address_.end() && counted->second >= limits_.max_connections_per_address) {
    Refuse(std::move(socket), "this client address is at max_connections_per_address", true);
    return;
  }
  if (open_.size() >= limits_.max_open_connections) {
    if (fresh_.empty()) {
      Refuse(std::move(socket), "the server is at max_open_connections", false);
      return;
    }
    // The newcomer gets the place of the oldest connection that never sent a
    // complete header: an idle flood then costs its own sockets, not the
    // service.
    Count(kEvicted);
    Close(fresh_.front());
  }
  auto c = std::make_shared<Connection>(std::move(socket));
  c->peer = address;
  c->socket.set_option(tcp::no_delay(true), ec);
  open_.push_back(c);
  c->open_it = std::prev(open_.end());
  fresh_.push_back(c);
  c->fresh_it = std::prev(fresh_.end());
  c->in_fresh = true;
  ++per_address_[address];
  c->counted = true;
  // A new connection's whole header is due header_timeout after accept.
  c->deadline_ms = NowMs() + limits_.header_timeout_ms;
  WaitForRequest(c);
}

void HttpServer::Refuse(tcp::socket socket, const std::string& why, bool linger) {
  Count(kRefused);
  std::string response = ClosingProblem(503, "too-many-connections", why, true);
  if (linger && open_.size() < limits_.max_open_connections) {
    // Answer, then drain briefly: closing with unread input (a request the
    // client sent at once) would reset the connection and lose the 503. It
    // never spoke, so it is the first to go if sockets run short.
    auto c = std::make_shared<Connection>(std::move(socket));
    open_.push_back(c);
    c->open_it = std::prev(open_.end());
    fresh_.push_back(c);
    c->fresh_it = std::prev(fresh_.end());
    c->in_fresh = true;
    Answer(c, std::move(response));
    return;
  }
  // No room to keep it even briefly: one non-blocking attempt, then close.
  [[maybe_unused]] auto sent =
      ::send(socket.native_handle(), response.data(), response.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  error_code ec;
  socket.close(ec);
}

void HttpServer::WaitForRequest(const ConnectionPtr& c) {
  c->phase = Connection::Phase::kWaiting;
  if (c->buffer.size() > 0) {
    // Pipelined: the next request's first bytes are already here.
    c->received_at_ms = WallMs();
    c->started = std::chrono::steady_clock::now();
    ReadHeader(c);
    return;
  }
  c->socket.async_wait(tcp::socket::wait_read, [this, c](error_code ec) {
    if (c->closed) return;
    if (ec || stopping_) {
      Close(c);
      return;
    }
    c->received_at_ms = WallMs();
    c->started = std::chrono::steady_clock::now();
    // On a keep-alive connection the header clock starts with the first
    // byte; a new connection's has been running since accept.
    if (c->spoke) c->deadline_ms = NowMs() + limits_.header_timeout_ms;
    ReadHeader(c);
  });
}

void HttpServer::ReadHeader(const ConnectionPtr& c) {
  c->phase = Connection::Phase::kReading;
  c->parser.emplace();
  c->parser->header_limit(limits_.max_header_bytes);
  c->parser->body_limit(limits_.max_body_bytes);
  beast::http::async_read_header(c->socket, c->buffer, *c->parser,
                                 [this, c](error_code ec, size_t) { OnHeader(c, ec); });
}

void HttpServer::OnHeader(const ConnectionPtr& c, error_code ec) {
  if (c->closed) return;
  if (ec) {
    const bool http_error =
        &ec.category() == &beast::http::make_error_code(beast::http::error::bad_method).category();
    if (!http_error || ec == beast::http::error::end_of_stream || stopping_) {
      Close(c);  // the client went away (or the socket failed)
      return;
    }
    // A Content-Length over max_body_bytes is refused with the header.
    const bool too_large = ec == beast::http::error::body_limit;
    const int status = ec == beast::http::error::header_limit ? 431 : too_large ? 413 : 400;
    if (too_large) {
      Answer(c, ClosingProblem(
                    413, "too-large",
                    "the body is larger than max_body_bytes (" + std::to_string(limits_.max_body_bytes) + ")",
                    false));
    } else {
      Answer(c, ClosingProblem(status, status == 431 ? "header-too-large" : "bad-request",
                               "malformed HTTP request: " + ec.message(), false));
    }
    return;
  }
  c->spoke = true;
  if (c->in_fresh) {
    fresh_.erase(c->fresh_it);
    c->in_fresh = false;
  }
  if (stopping_) {
    Close(c);
    return;
  }
  if (!Dispatch(c)) {
    Count(kNoWorker);
    Answer(c, ClosingProblem(503, "too-many-connections", "the server is at max_connections", true));
  }
}

void HttpServer::Answer(const ConnectionPtr& c, std::string response) {
  c->phase = Connection::Phase::kClosing;
  c->deadline_ms = NowMs() + limits_.read_timeout_ms;
  c->pending = std::move(response);
  net::async_write(c->socket, net::buffer(c->pending), [this, c](error_code ec, size_t) {
    if (c->closed) return;
    if (ec) {
      Close(c);
      return;
    }
    Linger(c);
  });
}

void HttpServer::Linger(const ConnectionPtr& c) {
  // Closing a socket with unread input makes the kernel send a RST, which
  // can destroy the answer before the client has read it. So: stop sending
  // (FIN after the answer), then read and discard what the client still
  // sends, for a bounded time and amount.
  c->phase = Connection::Phase::kClosing;
  error_code ec;
  c->socket.shutdown(tcp::socket::shutdown_send, ec);
  if (ec || stopping_) {
    Close(c);
    return;
  }
  c->deadline_ms = NowMs() + std::min<int64_t>(limits_.read_timeout_ms, kLingerMs);
  c->lingered = 0;
  LingerRead(c);
}

void HttpServer::LingerRead(const ConnectionPtr& c) {
  // discard_ is shared: every read into it runs on this one thread, and
  // what lands there is thrown away.
  c->socket.async_read_some(net::buffer(discard_), [this, c](error_code ec, size_t n) {
    if (c->closed) return;
    c->lingered += n;
    if (ec || c->lingered >= kLingerBytes || stopping_) {
      Close(c);
      return;
    }
    LingerRead(c);
  });
}

void HttpServer::Release(const ConnectionPtr& c, After after) {
  if (c->closed) return;
  c->busy_deadline_ms = 0;
  c->parser.reset();
  if (after == After::kClose || (stopping_ && after == After::kKeepAlive)) {
    Close(c);
    return;
  }
  if (after == After::kLinger) {
    Linger(c);
    return;
  }
  if (c->buffer.size() == 0) {
    // An idle keep-alive connection keeps no buffer.
    c->buffer.shrink_to_fit();
    c->deadline_ms = NowMs() + limits_.idle_timeout_ms;
  } else {
    c->deadline_ms = NowMs() + limits_.header_timeout_ms;
  }
  WaitForRequest(c);
}

void HttpServer::Close(const ConnectionPtr& c) {
  if (c->closed) return;
  c->closed = true;
  open_.erase(c->open_it);
  if (c->in_fresh) {
    fresh_.erase(c->fresh_it);
    c->in_fresh = false;
  }
  if (c->counted) {
    auto it = per_address_.find(c->peer);
    if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
    c->counted = false;
  }
  // Pending operations complete with operation_aborted and see `closed`.
  error_code ec;
  c->socket.close(ec);
  // The parser and buffers stay: aborted operations still refer to them, and
  // they go with the last handler that holds the connection.
}

void HttpServer::ArmSweep() {
  sweep_timer_->expires_after(std::chrono::milliseconds(kSweepMs));
  sweep_timer_->async_wait([this](error_code ec) {
    // cancel() cannot recall a wait that has already completed: its handler
    // is queued and runs with success even after Stop's last step cancelled
    // the timer. Re-arming then would keep the io thread (and Stop) forever.
    if (!ec && !io_done_) Sweep();
  });
}

void HttpServer::Sweep() {
  ArmSweep();  // first, so that nothing below can end the sweeping
  const int64_t now = NowMs();
  for (auto it = open_.begin(); it != open_.end();) {
    ConnectionPtr c = *it++;  // Close(c) removes c's node only
    if (c->phase == Connection::Phase::kBusy) {
      int64_t deadline = c->busy_deadline_ms.load();
      // compare_exchange: a worker that has just moved on to its next step
      // (and a new deadline) is not cut for the previous one.
      if (deadline != 0 && now > deadline && c->busy_deadline_ms.compare_exchange_strong(deadline, 0))
        c->Cut();
    } else if (now > c->deadline_ms) {
      if (c->phase == Connection::Phase::kReading || (c->phase == Connection::Phase::kWaiting && !c->spoke)) {
        Count(kHeaderTimeout);
      }
      Close(c);
    }
  }
  if (now - counts_logged_ms_ >= kCountsLogMs) {
    if (counts_[kEvicted] + counts_[kRefused] + counts_[kNoWorker] + counts_[kHeaderTimeout] > 0) {
      const bool limits_hit = counts_[kEvicted] + counts_[kRefused] + counts_[kNoWorker] > 0;
      Log(limits_hit ? SIGNALS_LOG_WARN : SIGNALS_LOG_DEBUG,
          "connections in the last " + std::to_string((now - counts_logged_ms_) / 1000) +
              " s: " + std::to_string(counts_[kEvicted]) + " idle evicted (max_open_connections), " +
              std::to_string(counts_[kRefused]) +
              " refused with 503 (max_open_connections, max_connections_per_address), " +
              std::to_string(counts_[kNoWorker]) + " answered 503 (max_connections), " +
              std::to_string(counts_[kHeaderTimeout]) + " closed at header_timeout; " +
              std::to_string(open_.size()) + " open now");
    }
    std::fill(std::begin(counts_), std::end(counts_), 0);
    counts_logged_ms_ = now;
  }
}

void HttpServer::Count(int what) { ++counts_[what]; }

void HttpServer::CloseAllWaiting() {
  for (auto it = open_.begin(); it != open_.end();) {
    ConnectionPtr c = *it++;
    if (c->phase != Connection::Phase::kBusy) Close(c);
  }
}

void HttpServer::CutAllBusy() {
  for (auto& c : open_) {
    if (c->phase == Connection::Phase::kBusy) c->Cut();
  }
}

// ---------------------------------------------------------------------------
// Workers: one request each, blocking I/O under the sweep's deadlines.

bool HttpServer::Dispatch(const ConnectionPtr& c) {
  // Health checks never starve: when every worker is busy with real
  // requests, GET /healthz and /readyz still get one of a few extra workers,
  // so an orchestrator does not restart a server that is merely busy.
  const uint32_t limit = limits_.max_connections + (IsHealthCheck(*c->parser) ? kHealthCheckWorkers : 0);
  std::lock_guard<std::mutex> lock(pool_mutex_);
  if (pool_stop_ || busy_ >= limit) return false;
  // Workers are started when needed and then kept: at most max_connections
  // plus the health-check reserve.
  if (idle_workers_ <= jobs_.size()) {
    try {
      workers_.emplace_back([this] { WorkerLoop(); });
    } catch (const std::system_error& e) {
      Log(SIGNALS_LOG_WARN, std::string("http: cannot start a worker thread: ") + e.what());
      if (workers_.empty()) return false;  // nobody would ever take the job
    }
  }
  c->phase = Connection::Phase::kBusy;
  ++busy_;
  jobs_.push_back(c);
  pool_wake_.notify_one();
  return true;
}

void HttpServer::WorkerLoop() {
  std::unique_lock<std::mutex> lock(pool_mutex_);
  while (true) {
    while (jobs_.empty() && !pool_stop_) {
      ++idle_workers_;
      pool_wake_.wait(lock);
      --idle_workers_;
    }
    if (jobs_.empty()) return;
    ConnectionPtr c = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    After after = After::kClose;
    try {
      after = ServeRequest(*c);
    } catch (const std::exception& e) {
      Log(SIGNALS_LOG_ERROR, std::string("http worker: unexpected exception: ") + e.what());
    } catch (...) {
      Log(SIGNALS_LOG_ERROR, "http worker: unexpected exception that is not a std::exception");
    }
    c->busy_deadline_ms = 0;
    try {
      net::post(io_, [this, c, after] { Release(c, after); });
    } catch (...) {
      // Out of memory: the connection stays with this server until Stop.
    }
    c.reset();
    lock.lock();
    --busy_;
    pool_idle_.notify_all();
  }
}

bool HttpServer::IsHealthCheck(const RequestStream::Parser& parser) {
  const auto& header = parser.get();
  if (header.method() != beast::http::verb::get && header.method() != beast::http::verb::head) return false;
  const std::string_view target(header.target().data(), header.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  return path == "/healthz" || path == "/readyz";
}

HttpServer::After HttpServer::ServeRequest(Connection& connection) {
  auto& parser = *connection.parser;
  Exchange x;
  x.method = parser.get().method();
  x.target = std::string(parser.get().target());
  x.headers = &parser.get().base();
  x.authorization = std::string(parser.get()[beast::http::field::authorization]);
  x.received_at_ms = connection.received_at_ms;
  RequestStream stream(
      connection.socket, connection.buffer, parser, limits_.max_body_bytes,
      BodyPace{limits_.min_body_rate, limits_.read_timeout_ms}, stopping_,
      [this, &connection](bool armed) {
        connection.busy_deadline_ms = armed ? NowMs() + limits_.read_timeout_ms : 0;
      },
      [&connection] { connection.Cut(); });
  stream.Bind(x);

  // Last resort: whatever a route throws ends this request, not the process.
  std::string failure;
  try {
    Route(x);
  } catch (const std::exception& e) {
    failure = e.what();
    if (failure.empty()) failure = "std::exception";
  } catch (...) {
    failure = "an exception that is not a std::exception";
  }
  if (!failure.empty()) {
    const bool answered = stream.AnswerFailure(x);
    // Method and target only: headers (Authorization) never reach the log.
    Log(SIGNALS_LOG_ERROR, "request " + std::string(beast::http::to_string(x.method)) + " " +
                               LoggableTarget(x.target) + " (route " + x.route + ") failed: " +
                               failure.substr(0, 1024) + (answered ? "; answered 500" : "; connection cut"));
  }
  connection.busy_deadline_ms = 0;
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - connection.started).count();
  if (observer_) {
    try {
      observer_(x, seconds);
    } catch (...) {
      // Metrics and logs are best effort.
    }
  }
  if (stream.client_gone()) return After::kClose;
  // Answered before the whole body arrived (413, 415, 401, ...): the client
  // is likely still sending.
  if (!stream.body_done()) return After::kLinger;
  if (!stream.keep_alive()) {
    error_code ec;
    connection.socket.shutdown(tcp::socket::shutdown_both, ec);
    return After::kClose;
  }
  return After::kKeepAlive;
}

void HttpServer::Route(Exchange& x) {
  auto segments = x.target.empty() || x.target.front() != '/'
                      ? std::nullopt
                      : SplitPath(x.target.substr(0, x.target.find('?')));
  size_t q = x.target.find('?');
  auto query =
      ParseQuery(q == std::string::npos ? std::string_view() : std::string_view(x.target).substr(q + 1));
  if (!segments || !query) {
    x.route = "invalid";
    x.respond(400, "application/problem+json",
              ProblemJson(400, "path",
                          "the request target has a malformed escape, a NUL byte or a dot segment", "path"),
              {});
    return;
  }
  x.segments = std::move(*segments);
  x.query = std::move(*query);
  handler_(x);
}

void HttpServer::Stop() {
  if (!acceptor_) return;
  stopping_ = true;
  // Stop accepting; connections that wait for a request close now.
  net::post(io_, [this] {
    error_code ec;
    acceptor_->close(ec);
    accept_timer_->cancel();
    CloseAllWaiting();
  });
  // Requests in flight get shutdown_grace, then their sockets are cut.
  const int64_t grace_end = NowMs() + limits_.shutdown_grace_ms;
  {
    std::unique_lock<std::mutex> lock(pool_mutex_);
    bool cut = false;
    while (busy_ > 0) {
      if (!cut && NowMs() >= grace_end) {
        cut = true;
        net::post(io_, [this] { CutAllBusy(); });
      }
      pool_idle_.wait_for(lock, std::chrono::milliseconds(50));
    }
    pool_stop_ = true;
  }
  pool_wake_.notify_all();
  for (auto& w : workers_) {
    if (w.joinable()) w.join();
  }
  workers_.clear();
  // Last: close what is left; the io thread then runs out of work.
  net::post(io_, [this] {
    io_done_ = true;  // nothing may arm a timer or start an operation now
    sweep_timer_->cancel();
    accept_timer_->cancel();
    error_code ec;
    acceptor_->close(ec);
    for (auto it = open_.begin(); it != open_.end();) {
      ConnectionPtr c = *it++;
      Close(c);
    }
  });
  if (io_thread_.joinable()) io_thread_.join();
  open_.clear();
  fresh_.clear();
  per_address_.clear();
  sweep_timer_.reset();
  accept_timer_.reset();
  acceptor_.reset();
}

}  // namespace signals::http
