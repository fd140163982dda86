#include "http_server.hpp"

#include <sys/socket.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <chrono>
#include <vector>

#include "http_text.hpp"

namespace signals::http {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
namespace beast = boost::beast;

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

}  // namespace

struct HttpServer::Connection {
  explicit Connection(tcp::socket s) : socket(std::move(s)) {}
  tcp::socket socket;
  std::thread thread;
  std::atomic<int64_t> deadline_ms{0};  // 0: no deadline
  std::atomic<bool> idle{true};         // waiting for the next request
  std::atomic<bool> done{false};

  void Cut() {
    // shutdown() unblocks a read or write in progress on another thread.
    ::shutdown(socket.native_handle(), SHUT_RDWR);
  }
};

HttpServer::HttpServer(ServerLimits limits, Handler handler, Observer observer)
    : limits_(limits), handler_(std::move(handler)), observer_(std::move(observer)) {}

HttpServer::~HttpServer() { Stop(); }

std::string HttpServer::Start(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return "listen must be host:port, got '" + listen + "'";
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::string port_text = listen.substr(colon + 1);
  boost::system::error_code ec;
  auto address = net::ip::make_address(host, ec);
  if (ec) return "listen: '" + host + "' is not an IP address";
  int port = -1;
  try {
    port = std::stoi(port_text);
  } catch (...) {
  }
  if (port < 0 || port > 65535) return "listen: '" + port_text + "' is not a port";
  acceptor_ = std::make_unique<tcp::acceptor>(io_);
  tcp::endpoint endpoint(address, static_cast<uint16_t>(port));
  acceptor_->open(endpoint.protocol(), ec);
  if (!ec) acceptor_->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_->bind(endpoint, ec);
  if (!ec) acceptor_->listen(net::socket_base::max_listen_connections, ec);
  if (ec) return "cannot listen on " + listen + ": " + ec.message();
  port_ = acceptor_->local_endpoint().port();
  stopping_ = false;
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  watchdog_thread_ = std::thread([this] { Watchdog(); });
  return "";
}

void HttpServer::AcceptLoop() {
  while (!stopping_) {
    boost::system::error_code ec;
    tcp::socket socket(io_);
    acceptor_->accept(socket, ec);
    if (ec) {
      if (stopping_) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // e.g. EMFILE: back off
      continue;
    }
    ReapFinished();
    auto connection = std::make_shared<Connection>(std::move(socket));
    std::unique_lock<std::mutex> lock(mutex_);
    if (connections_.size() >= limits_.max_connections) {
      lock.unlock();
      // Over the limit: a short 503 and close, without a thread.
      std::string body = ProblemJson(503, "too-many-connections", "the server is at max_connections");
      std::string response = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"
                             "Connection: close\r\nRetry-After: 1\r\nContent-Length: " +
                             std::to_string(body.size()) + "\r\n\r\n" + body;
      connection->socket.non_blocking(true, ec);
      net::write(connection->socket, net::buffer(response), ec);
      connection->socket.close(ec);
      continue;
    }
    connections_.push_back(connection);
    connection->thread = std::thread([this, connection] { Serve(connection); });
  }
}

void HttpServer::ReapFinished() {
  std::list<std::shared_ptr<Connection>> finished;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      if ((*it)->done) {
        finished.push_back(*it);
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& c : finished) {
    if (c->thread.joinable()) c->thread.join();
  }
}

void HttpServer::Watchdog() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    changed_.wait_for(lock, std::chrono::milliseconds(200));
    int64_t now = NowMs();
    for (auto& c : connections_) {
      int64_t deadline = c->deadline_ms.load();
      if (deadline != 0 && now > deadline) {
        c->deadline_ms = 0;
        c->Cut();
      }
    }
  }
}

void HttpServer::DrainBeforeClose(Connection& connection) {
  // Closing a socket with unread input makes the kernel send a RST, which
  // can destroy the answer before the client has read it. So: stop sending
  // (FIN after the answer), then read and discard what the client still
  // sends, for a bounded time and amount.
  boost::system::error_code ec;
  connection.socket.shutdown(tcp::socket::shutdown_send, ec);
  if (ec) return;
  connection.deadline_ms = NowMs() + std::min<int64_t>(limits_.read_timeout_ms, 2000);
  std::vector<char> discard(16 * 1024);
  uint64_t total = 0;
  while (total < (64u << 20) && !stopping_) {
    size_t n = connection.socket.read_some(net::buffer(discard), ec);
    if (ec) break;
    total += n;
  }
  connection.deadline_ms = 0;
}

void HttpServer::Serve(std::shared_ptr<Connection> connection) {
  beast::flat_buffer buffer;
  auto& socket = connection->socket;
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);

  while (!stopping_) {
    // Wait for the next request; an idle connection is closed on shutdown.
    connection->idle = true;
    connection->deadline_ms = NowMs() + limits_.idle_timeout_ms;
    beast::http::request_parser<beast::http::buffer_body> parser;
    parser.header_limit(limits_.max_header_bytes);
    parser.body_limit(limits_.max_body_bytes);
    // Wait for the first byte before the request's clock starts.
    if (buffer.size() == 0) {
      socket.wait(tcp::socket::wait_read, ec);
      if (ec || stopping_) break;
    }
    connection->idle = false;
    const auto started = std::chrono::steady_clock::now();
    const uint64_t received_at = WallMs();
    connection->deadline_ms = NowMs() + limits_.read_timeout_ms;
    beast::http::read_header(socket, buffer, parser, ec);
    if (ec) {
      if (ec == beast::http::error::end_of_stream || ec == net::error::eof) break;
      // A Content-Length over max_body_bytes is refused with the header.
      const bool too_large = ec == beast::http::error::body_limit;
      int status = ec == beast::http::error::header_limit ? 431 : too_large ? 413 : 400;
      std::string body =
          too_large ? ProblemJson(413, "too-large",
                                  "the body is larger than max_body_bytes (" + std::to_string(limits_.max_body_bytes) + ")")
                    : ProblemJson(status, status == 431 ? "header-too-large" : "bad-request",
                                  "malformed HTTP request: " + ec.message());
      beast::http::response<beast::http::string_body> res{static_cast<beast::http::status>(status), 11};
      res.set(beast::http::field::content_type, "application/problem+json");
      res.set(beast::http::field::connection, "close");
      res.body() = body;
      res.prepare_payload();
      connection->deadline_ms = NowMs() + limits_.read_timeout_ms;
      beast::http::write(socket, res, ec);
      if (!ec) DrainBeforeClose(*connection);
      break;
    }
    auto& header = parser.get();
    Exchange x;
    x.method = header.method();
    x.target = std::string(header.target());
    x.headers = &header.base();
    x.received_at_ms = received_at;
    bool keep_alive = header.keep_alive() && !stopping_;
    const unsigned version = header.version();
    const bool head = x.method == beast::http::verb::head;
    bool client_gone = false;
    bool body_consumed = parser.is_done();

    auto write_deadline = [&] { connection->deadline_ms = NowMs() + limits_.read_timeout_ms; };
    bool expects_continue = beast::iequals(header[beast::http::field::expect], "100-continue");
    x.read_body = [&](char* out, size_t capacity) -> int64_t {
      if (expects_continue) {
        // The client waits for this before it sends the body (curl does for
        // large uploads); only sent when a route actually reads the body.
        expects_continue = false;
        beast::http::response<beast::http::empty_body> go_on{beast::http::status::continue_, version};
        write_deadline();
        beast::http::write(socket, go_on, ec);
        if (ec) {
          client_gone = true;
          keep_alive = false;
          return -1;
        }
      }
      if (parser.is_done()) {
        body_consumed = true;
        return 0;
      }
      parser.get().body().data = out;
      parser.get().body().size = capacity;
      connection->deadline_ms = NowMs() + limits_.read_timeout_ms;
      beast::http::read(socket, buffer, parser, ec);
      if (ec == beast::http::error::need_buffer) ec = {};
      if (ec) {
        if (ec == beast::http::error::body_limit) {
          x.error_status = 413;
          x.error_detail = "the body is larger than max_body_bytes (" + std::to_string(limits_.max_body_bytes) + ")";
        } else if (ec == net::error::eof || ec == beast::http::error::partial_message ||
                   ec == net::error::connection_reset || ec == net::error::broken_pipe ||
                   ec == net::error::shut_down || ec == beast::http::error::end_of_stream) {
          x.error_status = 0;  // the client is gone or timed out: no answer
          client_gone = true;
        } else {
          x.error_status = 400;
          x.error_detail = "malformed body: " + ec.message();
        }
        keep_alive = false;
        return -1;
      }
      size_t n = capacity - parser.get().body().size;
      if (parser.is_done()) body_consumed = n == 0 ? true : body_consumed;
      return static_cast<int64_t>(n);
    };
    x.respond = [&](int status, const std::string& content_type, const std::string& body,
                    const std::vector<std::pair<std::string, std::string>>& extra) {
      x.status = status;
      if (client_gone) return false;
      beast::http::response<beast::http::string_body> res{static_cast<beast::http::status>(status), version};
      res.set(beast::http::field::server, "signals");
      res.set(beast::http::field::content_type, content_type);
      for (const auto& [name, value] : extra) res.set(name, value);
      // An unread body would be parsed as the next request: close instead.
      if (!parser.is_done()) keep_alive = false;
      res.keep_alive(keep_alive);
      res.body() = head ? std::string() : body;
      res.prepare_payload();
      if (head) res.content_length(body.size());
      write_deadline();
      if (head) {
        beast::http::response_serializer<beast::http::string_body> sr{res};
        beast::http::write_header(socket, sr, ec);
      } else {
        beast::http::write(socket, res, ec);
      }
      if (ec) client_gone = true;
      return !ec;
    };
    x.respond_stream = [&](int status, const std::string& content_type, const std::string& content_encoding,
                           const std::function<int64_t(char*, size_t)>& read) {
      x.status = status;
      if (client_gone) return false;
      beast::http::response<beast::http::buffer_body> res{static_cast<beast::http::status>(status), version};
      res.set(beast::http::field::server, "signals");
      res.set(beast::http::field::content_type, content_type);
      if (!content_encoding.empty()) res.set(beast::http::field::content_encoding, content_encoding);
      if (!parser.is_done()) keep_alive = false;
      res.keep_alive(keep_alive);
      res.chunked(true);
      res.body().data = nullptr;
      res.body().more = true;
      beast::http::response_serializer<beast::http::buffer_body> sr{res};
      write_deadline();
      beast::http::write_header(socket, sr, ec);
      if (ec) {
        client_gone = true;
        return false;
      }
      if (head) {
        keep_alive = false;
        return true;
      }
      // Large chunks: a long stream (the fact stream, a 1 GB graph) then
      // costs few system calls and chunk headers per byte.
      std::vector<char> chunk(256 * 1024);
      while (true) {
        int64_t n = read(chunk.data(), chunk.size());
        if (n < 0) {
          // The stream failed after the header went out: the only honest
          // signal left is to end the connection without the final chunk.
          keep_alive = false;
          connection->Cut();
          return false;
        }
        if (n == 0) {
          res.body().data = nullptr;
          res.body().size = 0;
          res.body().more = false;
        } else {
          res.body().data = chunk.data();
          res.body().size = static_cast<size_t>(n);
          res.body().more = true;
        }
        write_deadline();
        beast::http::write(socket, sr, ec);
        if (ec == beast::http::error::need_buffer) ec = {};
        if (ec) {
          client_gone = true;
          return false;
        }
        if (n == 0) break;
      }
      return true;
    };

    auto segments = x.target.empty() || x.target.front() != '/' ? std::nullopt
                                                                 : SplitPath(x.target.substr(0, x.target.find('?')));
    size_t q = x.target.find('?');
    auto query = ParseQuery(q == std::string::npos ? std::string_view() : std::string_view(x.target).substr(q + 1));
    if (!segments || !query) {
      x.route = "invalid";
      x.respond(400, "application/problem+json",
                ProblemJson(400, "path", "the request target has a malformed escape, a NUL byte or a dot segment", "path"),
                {});
    } else {
      x.segments = std::move(*segments);
      x.query = std::move(*query);
      handler_(x);
    }
    connection->deadline_ms = 0;
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (observer_) observer_(x, seconds);
    (void)body_consumed;
    if (client_gone || !keep_alive || !parser.is_done()) {
      // Answered before the whole body arrived (413, 415, 401, ...): the
      // client is likely still sending.
      if (!client_gone && !parser.is_done()) DrainBeforeClose(*connection);
      break;
    }
  }
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
  connection->deadline_ms = 0;
  connection->done = true;
}

void HttpServer::Stop() {
  if (!acceptor_) return;
  stopping_ = true;
  boost::system::error_code ec;
  // Unblock accept(): shutdown + close of the listening socket.
  ::shutdown(acceptor_->native_handle(), SHUT_RDWR);
  acceptor_->close(ec);
  if (accept_thread_.joinable()) accept_thread_.join();
  // Idle connections are closed now; busy ones get the grace period.
  const int64_t grace_end = NowMs() + limits_.shutdown_grace_ms;
  while (true) {
    bool busy = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto& c : connections_) {
        if (c->done) continue;
        if (c->idle || NowMs() > grace_end) c->Cut();
        else busy = true;
      }
    }
    if (!busy) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  changed_.notify_all();
  if (watchdog_thread_.joinable()) watchdog_thread_.join();
  std::list<std::shared_ptr<Connection>> all;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    all.swap(connections_);
  }
  for (auto& c : all) {
    if (c->thread.joinable()) c->thread.join();
  }
  acceptor_.reset();
}

}  // namespace signals::http
