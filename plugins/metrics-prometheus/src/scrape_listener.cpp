#include "scrape_listener.hpp"

#include <sys/socket.h>
#include <sys/time.h>
#include <signals/support/asio_acceptor.hpp>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace signals::prometheus {
namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

constexpr int kDeadlineSeconds = 5;
constexpr uint32_t kMaxHeaderBytes = 8192;

void SetDeadlines(tcp::socket& socket) {
  timeval tv{kDeadlineSeconds, 0};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

}  // namespace

std::string ScrapeListener::Start(const std::string& listen) {
  if (std::string error = support::OpenAcceptor(io_, listen, &acceptor_); !error.empty()) return error;
  port_ = acceptor_->local_endpoint().port();
  stopping_ = false;
  running_ = true;
  thread_ = std::thread([this] { AcceptLoop(); });
  return "";
}

void ScrapeListener::Stop() {
  if (!acceptor_) return;
  stopping_ = true;
  // shutdown() wakes a blocked accept(); close() alone does not.
  ::shutdown(acceptor_->native_handle(), SHUT_RDWR);
  boost::system::error_code ec;
  acceptor_->close(ec);
  if (thread_.joinable()) thread_.join();
  acceptor_.reset();
  running_ = false;
}

void ScrapeListener::AcceptLoop() {
  while (!stopping_) {
    boost::system::error_code ec;
    tcp::socket socket(io_);
    acceptor_->accept(socket, ec);
    if (ec) {
      if (stopping_) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // e.g. EMFILE: back off
      continue;
    }
    Serve(socket);
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
  }
  running_ = false;
}

void ScrapeListener::Serve(tcp::socket& socket) {
  SetDeadlines(socket);
  boost::beast::flat_buffer buffer;
  http::request_parser<http::empty_body> parser;
  parser.header_limit(kMaxHeaderBytes);
  boost::system::error_code ec;
  http::read(socket, buffer, parser, ec);
  if (ec) return;  // timed out, too large or not HTTP: nothing sensible to answer
  const auto& request = parser.get();
  const std::string target(request.target());
  const std::string path = target.substr(0, target.find('?'));

  ScrapeAnswer answer;
  http::response<http::string_body> response;
  if (path != "/metrics") {
    answer = {404, "text/plain; charset=utf-8", "only /metrics is served here\n"};
  } else if (request.method() != http::verb::get && request.method() != http::verb::head) {
    answer = {405, "text/plain; charset=utf-8", "use GET\n"};
    response.set(http::field::allow, "GET, HEAD");
  } else {
    answer = scrape_();
  }
  response.version(request.version());
  response.result(static_cast<unsigned>(answer.status));
  response.set(http::field::content_type, answer.content_type);
  response.set(http::field::connection, "close");
  response.body() = std::move(answer.body);
  response.prepare_payload();
  if (request.method() == http::verb::head) {
    http::response_serializer<http::string_body> serializer(response);
    http::write_header(socket, serializer, ec);
    return;
  }
  http::write(socket, response, ec);
}

}  // namespace signals::prometheus
