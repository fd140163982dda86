// ScrapeListener: the metrics plugin's own HTTP listener, for deployments
// that scrape on a port apart from the API. It answers GET (and HEAD)
// /metrics with what `scrape` returns, 404 for other paths and 405 for other
// methods, one request per connection. Scrapes are rare and small, so one
// thread serves them in turn; every read and write has a deadline, so a slow
// client delays the next scrape by at most that much.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace signals::prometheus {

struct ScrapeAnswer {
  int status = 200;
  std::string content_type;
  std::string body;
};

class ScrapeListener {
 public:
  using Scrape = std::function<ScrapeAnswer()>;
  explicit ScrapeListener(Scrape scrape) : scrape_(std::move(scrape)) {}
  ~ScrapeListener() { Stop(); }
  ScrapeListener(const ScrapeListener&) = delete;
  ScrapeListener& operator=(const ScrapeListener&) = delete;

  // Binds `listen` ("host:port", IPv6 hosts in brackets, port 0 picks one)
  // and starts serving. Returns "" or what went wrong.
  std::string Start(const std::string& listen);
  // Stops accepting and joins the thread (a scrape in progress finishes).
  void Stop();
  bool running() const { return running_; }
  uint16_t port() const { return port_; }

 private:
  void AcceptLoop();
  void Serve(boost::asio::ip::tcp::socket& socket);

  Scrape scrape_;
  boost::asio::io_context io_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> running_{false};
  uint16_t port_ = 0;
};

}  // namespace signals::prometheus
