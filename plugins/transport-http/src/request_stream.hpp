// RequestStream: the blocking half of one HTTP/1.1 exchange on a worker
// thread, once HttpServer's io thread has read the request header: reading
// the body as the route asks for it (with 100-continue), and writing one
// answer, whole or chunked. It keeps what the server must know afterwards:
// whether the client is gone, whether any byte of the answer left, and
// whether the connection may be kept alive.
//
// Every blocking read or write runs under a deadline: `set_deadline(true)`
// before it, so the server's sweep can cut a step that takes too long
// (read_timeout), and `set_deadline(false)` after it, so that the route's own
// work between steps (a long reachability question, signing and committing a
// batch, a slow producer of a stream) is never mistaken for a stalled client.
// `cut` ends the connection at once. Not thread-safe: one worker uses it for
// one request.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "exchange.hpp"

namespace signals::http {

// How slowly a body may arrive. Each read step is bounded by read_timeout,
// but a client that sends a little just before each step's deadline would
// hold a worker for as long as it likes: once a body has been arriving for
// longer than `grace_ms`, it must average `min_bytes_per_second` since its
// first byte was asked for, or the request ends with 408. Bodies that finish
// within the grace period are never measured.
struct BodyPace {
  uint64_t min_bytes_per_second = 0;  // 0: no floor
  int64_t grace_ms = 0;
};

class RequestStream {
 public:
  using Parser = boost::beast::http::request_parser<boost::beast::http::buffer_body>;

  // REQUIRES: `parser` holds a complete header; everything outlives this.
  RequestStream(boost::asio::ip::tcp::socket& socket, boost::beast::flat_buffer& buffer, Parser& parser,
                uint64_t max_body_bytes, BodyPace pace, bool stopping, std::function<void(bool)> set_deadline,
                std::function<void()> cut);

  // Points x.read_body, x.respond and x.respond_stream at this stream.
  void Bind(Exchange& x);

  // Exchange::read_body: the next body bytes, 0 at the end, -1 on failure
  // (x.error_status / x.error_detail then say why; 0 = the client is gone).
  int64_t ReadBody(Exchange& x, char* out, size_t capacity);
  // Exchange::respond: one whole answer (headers only for HEAD).
  bool Respond(Exchange& x, int status, const std::string& content_type, const std::string& body,
               const std::vector<std::pair<std::string, std::string>>& extra);
  // Exchange::respond_stream: a chunked answer from `read` (bytes, 0 at the
  // end, -1 on failure, which cuts the connection without the last chunk).
  bool RespondStream(Exchange& x, int status, const std::string& content_type,
                     const std::string& content_encoding, const std::function<int64_t(char*, size_t)>& read);

  // A request that failed inside its route: a 500 when nothing was sent yet
  // (returns true), else the connection is cut (returns false).
  bool AnswerFailure(Exchange& x);

  bool client_gone() const { return client_gone_; }
  bool keep_alive() const { return keep_alive_; }
  bool body_done() const { return parser_.is_done(); }

 private:
  boost::asio::ip::tcp::socket& socket_;
  boost::beast::flat_buffer& buffer_;
  Parser& parser_;
  const uint64_t max_body_bytes_;
  const BodyPace pace_;
  std::chrono::steady_clock::time_point body_started_{};  // first ReadBody
  uint64_t body_bytes_ = 0;
  const unsigned version_;
  const bool head_;
  std::function<void(bool)> set_deadline_;
  std::function<void()> cut_;
  bool keep_alive_;
  bool expects_continue_;
  bool client_gone_ = false;
  bool sent_any_ = false;  // a byte of the answer may have gone out
};

}  // namespace signals::http
