#include "request_stream.hpp"

#include <boost/beast/core/string.hpp>

#include "http_text.hpp"

namespace signals::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using error_code = boost::system::error_code;

// Large chunks: a long stream (the fact stream, a 1 GB graph) then costs few
// system calls and chunk headers per byte.
constexpr size_t kChunkBytes = 256 * 1024;

// The deadline of one blocking step: armed while the guard lives.
class StepDeadline {
 public:
  explicit StepDeadline(const std::function<void(bool)>& set) : set_(set) { set_(true); }
  ~StepDeadline() { set_(false); }
  StepDeadline(const StepDeadline&) = delete;
  StepDeadline& operator=(const StepDeadline&) = delete;

 private:
  const std::function<void(bool)>& set_;
};

bool ClientGone(const error_code& ec) {
  return ec == net::error::eof || ec == beast::http::error::partial_message ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe || ec == net::error::shut_down ||
         ec == beast::http::error::end_of_stream;
}

}  // namespace

RequestStream::RequestStream(net::ip::tcp::socket& socket, beast::flat_buffer& buffer, Parser& parser,
                             uint64_t max_body_bytes, BodyPace pace, bool stopping,
                             std::function<void(bool)> set_deadline, std::function<void()> cut)
    : socket_(socket),
      buffer_(buffer),
      parser_(parser),
      max_body_bytes_(max_body_bytes),
      pace_(pace),
      version_(parser.get().version()),
      head_(parser.get().method() == beast::http::verb::head),
      set_deadline_(std::move(set_deadline)),
      cut_(std::move(cut)),
      keep_alive_(parser.get().keep_alive() && !stopping),
      expects_continue_(beast::iequals(parser.get()[beast::http::field::expect], "100-continue")) {}

void RequestStream::Bind(Exchange& x) {
  x.read_body = [this, &x](char* out, size_t capacity) { return ReadBody(x, out, capacity); };
  x.respond = [this, &x](int status, const std::string& content_type, const std::string& body,
                         const std::vector<std::pair<std::string, std::string>>& extra) {
    return Respond(x, status, content_type, body, extra);
  };
  x.respond_stream = [this, &x](int status, const std::string& content_type,
                                const std::string& content_encoding,
                                const std::function<int64_t(char*, size_t)>& read) {
    return RespondStream(x, status, content_type, content_encoding, read);
  };
}

int64_t RequestStream::ReadBody(Exchange& x, char* out, size_t capacity) {
  error_code ec;
  if (expects_continue_) {
    // The client waits for this before it sends the body (curl does for
    // large uploads); only sent when a route actually reads the body.
    expects_continue_ = false;
    beast::http::response<beast::http::empty_body> go_on{beast::http::status::continue_, version_};
    const StepDeadline step(set_deadline_);
    beast::http::write(socket_, go_on, ec);
    if (ec) {
      client_gone_ = true;
      keep_alive_ = false;
      return -1;
    }
  }
  if (parser_.is_done()) return 0;
  if (body_bytes_ == 0 && body_started_ == std::chrono::steady_clock::time_point{}) {
    body_started_ = std::chrono::steady_clock::now();
  }
  parser_.get().body().data = out;
  parser_.get().body().size = capacity;
  const StepDeadline step(set_deadline_);
  beast::http::read(socket_, buffer_, parser_, ec);
  if (ec == beast::http::error::need_buffer) ec = {};
  if (ec) {
    if (ec == beast::http::error::body_limit) {
      x.error_status = 413;
      x.error_detail = "the body is larger than max_body_bytes (" + std::to_string(max_body_bytes_) + ")";
    } else if (ClientGone(ec)) {
      x.error_status = 0;  // the client is gone or timed out: no answer
      client_gone_ = true;
    } else {
      x.error_status = 400;
      x.error_detail = "malformed body: " + ec.message();
    }
    keep_alive_ = false;
    return -1;
  }
  const auto n = static_cast<int64_t>(capacity - parser_.get().body().size);
  body_bytes_ += static_cast<uint64_t>(n);
  if (pace_.min_bytes_per_second > 0 && !parser_.is_done()) {
    const int64_t elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now() - body_started_)
                                   .count();
    if (elapsed_ms > pace_.grace_ms &&
        static_cast<double>(body_bytes_) <
            static_cast<double>(pace_.min_bytes_per_second) * elapsed_ms / 1000.0) {
      x.error_status = 408;
      x.error_detail =
          "the body arrives slower than min_body_rate (" + std::to_string(pace_.min_bytes_per_second) +
          " bytes/s): " + std::to_string(body_bytes_) + " bytes in " + std::to_string(elapsed_ms) + " ms";
      keep_alive_ = false;
      return -1;
    }
  }
  return n;
}

bool RequestStream::Respond(Exchange& x, int status, const std::string& content_type, const std::string& body,
                            const std::vector<std::pair<std::string, std::string>>& extra) {
  x.status = status;
  if (client_gone_) return false;
  beast::http::response<beast::http::string_body> res{static_cast<beast::http::status>(status), version_};
  res.set(beast::http::field::server, "signals");
  res.set(beast::http::field::content_type, content_type);
  for (const auto& [name, value] : extra) res.set(name, value);
  // An unread body would be parsed as the next request: close instead.
  if (!parser_.is_done()) keep_alive_ = false;
  res.keep_alive(keep_alive_);
  res.body() = head_ ? std::string() : body;
  res.prepare_payload();
  if (head_) res.content_length(body.size());
  const StepDeadline step(set_deadline_);
  sent_any_ = true;
  error_code ec;
  if (head_) {
    beast::http::response_serializer<beast::http::string_body> sr{res};
    beast::http::write_header(socket_, sr, ec);
  } else {
    beast::http::write(socket_, res, ec);
  }
  if (ec) client_gone_ = true;
  return !ec;
}

bool RequestStream::RespondStream(Exchange& x, int status, const std::string& content_type,
                                  const std::string& content_encoding,
                                  const std::function<int64_t(char*, size_t)>& read) {
  x.status = status;
  if (client_gone_) return false;
  beast::http::response<beast::http::buffer_body> res{static_cast<beast::http::status>(status), version_};
  res.set(beast::http::field::server, "signals");
  res.set(beast::http::field::content_type, content_type);
  if (!content_encoding.empty()) res.set(beast::http::field::content_encoding, content_encoding);
  if (!parser_.is_done()) keep_alive_ = false;
  res.keep_alive(keep_alive_);
  res.chunked(true);
  res.body().data = nullptr;
  res.body().more = true;
  beast::http::response_serializer<beast::http::buffer_body> sr{res};
  const StepDeadline step(set_deadline_);
  sent_any_ = true;
  error_code ec;
  beast::http::write_header(socket_, sr, ec);
  if (ec) {
    client_gone_ = true;
    return false;
  }
  if (head_) {
    keep_alive_ = false;
    return true;
  }
  std::vector<char> chunk(kChunkBytes);
  while (true) {
    int64_t n = read(chunk.data(), chunk.size());
    if (n < 0) {
      // The stream failed after the header went out: the only honest signal
      // left is to end the connection without the final chunk.
      keep_alive_ = false;
      client_gone_ = true;
      cut_();
      return false;
    }
    res.body().data = n == 0 ? nullptr : chunk.data();
    res.body().size = static_cast<size_t>(n);
    res.body().more = n != 0;
    const StepDeadline step(set_deadline_);
    beast::http::write(socket_, sr, ec);
    if (ec == beast::http::error::need_buffer) ec = {};
    if (ec) {
      client_gone_ = true;
      return false;
    }
    if (n == 0) return true;
  }
}

bool RequestStream::AnswerFailure(Exchange& x) {
  keep_alive_ = false;
  if (!sent_any_ && !client_gone_) {
    try {
      Respond(x, 500, "application/problem+json",
              ProblemJson(500, "internal", "the server failed to handle this request; see its log"), {});
      return true;
    } catch (...) {
      client_gone_ = true;
      return false;
    }
  }
  // A partial answer must not look complete: end the connection.
  client_gone_ = true;
  cut_();
  return false;
}

}  // namespace signals::http
