// HttpServer on its own (no kernel, no routes): a handler that throws ends
// its request with a 500 (or a cut connection), never the process; idle
// connections hold no worker; pipelined requests; Stop with idle sockets,
// and Stop with connections in every phase (repeatedly) always finishes.
#include "http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace signals::http {
namespace {

using Clock = std::chrono::steady_clock;

struct LogLine {
  int level;
  std::string text;
};

// A server on 127.0.0.1:0 whose routes are `handler`.
class TestServer {
 public:
  explicit TestServer(HttpServer::Handler handler, ServerLimits limits = {}) {
    server_ = std::make_unique<HttpServer>(
        limits, std::move(handler), [](const Exchange&, double) {},
        [this](int level, const std::string& text) {
          std::lock_guard<std::mutex> lock(mutex_);
          logs_.push_back({level, text});
        });
    std::string error = server_->Start("127.0.0.1:0");
    EXPECT_EQ(error, "");
  }
  ~TestServer() { server_->Stop(); }
  uint16_t port() const { return server_->port(); }
  HttpServer& server() { return *server_; }
  std::vector<LogLine> logs() {
    std::lock_guard<std::mutex> lock(mutex_);
    return logs_;
  }

 private:
  std::mutex mutex_;
  std::vector<LogLine> logs_;
  std::unique_ptr<HttpServer> server_;
};

int Connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

void SendAll(int fd, const std::string& text) {
  size_t sent = 0;
  while (sent < text.size()) {
    ssize_t n = ::send(fd, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    ASSERT_GT(n, 0);
    sent += static_cast<size_t>(n);
  }
}

// Everything until the server closes (or 5 s pass).
std::string ReadToClose(int fd) {
  std::string out;
  char buffer[4096];
  while (true) {
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

// Reads until `count` occurrences of `marker` arrived (or 5 s pass).
std::string ReadUntil(int fd, const std::string& marker, int count = 1) {
  std::string out;
  char buffer[4096];
  auto occurrences = [&] {
    int found = 0;
    for (size_t pos = out.find(marker); pos != std::string::npos; pos = out.find(marker, pos + 1)) ++found;
    return found;
  };
  while (occurrences() < count) {
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

bool ClosedWithin(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, ms) <= 0) return false;
  char c;
  return ::recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

const char kGet[] = "GET /x HTTP/1.1\r\nHost: t\r\n\r\n";

void AnswerOk(Exchange& x) { x.respond(200, "text/plain", "ok", {}); }

TEST(HttpServer, HandlerThrowingStdExceptionAnswers500AndTheServerLives) {
  TestServer server([](Exchange& x) {
    if (x.target == "/boom") throw std::runtime_error("kaboom");
    AnswerOk(x);
  });
  int fd = Connect(server.port());
  ASSERT_GE(fd, 0);
  SendAll(fd, "GET /boom HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer sgt_secret_token_value\r\n\r\n");
  std::string response = ReadToClose(fd);  // the connection closes after the 500
  ::close(fd);
  ASSERT_EQ(response.rfind("HTTP/1.1 500", 0), 0u) << response;
  EXPECT_NE(response.find("application/problem+json"), std::string::npos) << response;
  auto problem = nlohmann::json::parse(response.substr(response.find("\r\n\r\n") + 4));
  EXPECT_EQ(problem.value("code", ""), "internal");
  EXPECT_EQ(problem.value("status", 0), 500);

  // Still serving.
  fd = Connect(server.port());
  SendAll(fd, kGet);
  EXPECT_EQ(ReadUntil(fd, "ok").rfind("HTTP/1.1 200", 0), 0u);
  ::close(fd);

  bool logged = false;
  for (const auto& line : server.logs()) {
    EXPECT_EQ(line.text.find("sgt_secret_token_value"), std::string::npos) << line.text;
    if (line.text.find("kaboom") != std::string::npos && line.text.find("/boom") != std::string::npos)
      logged = true;
  }
  EXPECT_TRUE(logged);
}

TEST(HttpServer, HandlerThrowingANonStdExceptionAnswers500) {
  TestServer server([](Exchange&) { throw 42; });
  int fd = Connect(server.port());
  SendAll(fd, kGet);
  std::string response = ReadToClose(fd);
  ::close(fd);
  EXPECT_EQ(response.rfind("HTTP/1.1 500", 0), 0u) << response;
  fd = Connect(server.port());
  SendAll(fd, kGet);
  EXPECT_EQ(ReadToClose(fd).rfind("HTTP/1.1 500", 0), 0u);
  ::close(fd);
}

TEST(HttpServer, HandlerThrowingMidStreamCutsTheConnection) {
  TestServer server([](Exchange& x) {
    if (x.target == "/x") {
      AnswerOk(x);
      return;
    }
    int calls = 0;
    x.respond_stream(200, "text/plain", "", [&](char* out, size_t) -> int64_t {
      if (++calls > 1) throw std::runtime_error("stream source failed");
      out[0] = 'a';
      return 1;
    });
  });
  int fd = Connect(server.port());
  SendAll(fd, "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n");
  std::string response = ReadToClose(fd);
  ::close(fd);
  EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
  // No last chunk: the client can tell the answer is incomplete.
  EXPECT_EQ(response.find("\r\n0\r\n\r\n"), std::string::npos) << response;
  fd = Connect(server.port());
  SendAll(fd, kGet);
  EXPECT_EQ(ReadUntil(fd, "ok").rfind("HTTP/1.1 200", 0), 0u);
  ::close(fd);
}

// A server with one worker whose handler holds "/block" until Release(),
// answering "ok" to everything else.
struct OneWorkerServer {
  OneWorkerServer() : server([this](Exchange& x) { Handle(x); }, Limits()) {}
  ~OneWorkerServer() { Release(); }
  static ServerLimits Limits() {
    ServerLimits limits;
    limits.max_connections = 1;
    return limits;
  }
  void Handle(Exchange& x) {
    if (x.target == "/block") {
      ++entered;
      std::unique_lock<std::mutex> lock(mutex);
      cv.wait(lock, [&] { return released; });
    }
    AnswerOk(x);
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      released = true;
    }
    cv.notify_all();
  }

  std::mutex mutex;
  std::condition_variable cv;
  bool released = false;
  std::atomic<int> entered{0};
  TestServer server;  // last: stopped first, while the members it uses live
};

TEST(HttpServer, ReadTimeoutBoundsEachSocketStepNotTheRoutesOwnWork) {
  // read_timeout is for a client that stalls a read or write, not for the
  // work a route does between them (a reachability question, committing a
  // batch): a route that reads its body and then works longer than
  // read_timeout still gets its answer out.
  ServerLimits limits;
  limits.read_timeout_ms = 200;
  TestServer server(
      [](Exchange& x) {
        char buffer[64];
        while (x.read_body(buffer, sizeof(buffer)) > 0) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(800));
        AnswerOk(x);
      },
      limits);
  int fd = Connect(server.port());
  SendAll(fd, "POST /work HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
  std::string answer = ReadUntil(fd, "ok");
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u)
      << "the connection was cut while the route worked: " << answer;
  ::close(fd);
}

// Reads the body as a route does and answers 408 (or whatever read_body said).
void ReadBodyThenAnswer(Exchange& x) {
  char buffer[4096];
  int64_t n = 0;
  while ((n = x.read_body(buffer, sizeof(buffer))) > 0) {
  }
  if (n < 0) {
    if (x.error_status != 0) x.respond(x.error_status, "text/plain", x.error_detail, {});
    return;
  }
  AnswerOk(x);
}

TEST(HttpServer, ABodyTrickledJustUnderEachStepsDeadlineIsCutByTheRateFloor) {
  // Each piece arrives well within read_timeout, so no step ever times out;
  // only the average rate since the body began shows the client is holding a
  // worker hostage.
  ServerLimits limits;
  limits.read_timeout_ms = 400;
  limits.min_body_rate = 64 * 1024;
  TestServer server(&ReadBodyThenAnswer, limits);
  int fd = Connect(server.port());
  SendAll(fd, "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n");
  const auto start = Clock::now();
  std::string answer;
  for (int i = 0; i < 100 && answer.empty(); ++i) {
    if (::send(fd, std::string(5000, 'x').data(), 5000, MSG_NOSIGNAL) <= 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) answer = ReadToClose(fd);
  }
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  EXPECT_EQ(answer.rfind("HTTP/1.1 408", 0), 0u) << answer;
  EXPECT_NE(answer.find("slower than min_body_rate (65536 bytes/s)"), std::string::npos) << answer;
  EXPECT_LT(waited, 3000) << "the slow body held the worker for " << waited << " ms";
  ::close(fd);

  // A body that arrives fast enough, even over more than read_timeout, is served.
  int fast = Connect(server.port());
  SendAll(fast, "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 800000\r\n\r\n");
  for (int i = 0; i < 8; ++i) {
    SendAll(fast, std::string(100000, 'y'));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::string ok = ReadUntil(fast, "ok");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200", 0), 0u) << ok;
  ::close(fast);
}

TEST(HttpServer, ABodyThatEndsWithinTheGracePeriodIsNeverMeasured) {
  ServerLimits limits;
  limits.read_timeout_ms = 2000;
  limits.min_body_rate = 1 << 30;  // no real client could average this
  TestServer server(&ReadBodyThenAnswer, limits);
  int fd = Connect(server.port());
  SendAll(fd, "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhello");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  SendAll(fd, "world");
  std::string ok = ReadUntil(fd, "ok");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200", 0), 0u) << ok;
  ::close(fd);
}

TEST(HttpServer, HealthChecksAreServedWhenEveryWorkerIsBusy) {
  // One worker, busy until released: another request gets 503, but /healthz
  // and /readyz (GET, HEAD, with a query) are still answered.
  OneWorkerServer one;
  TestServer& server = one.server;
  std::atomic<int>& entered = one.entered;
  int blocker = Connect(server.port());
  SendAll(blocker, "GET /block HTTP/1.1\r\nHost: t\r\n\r\n");
  for (int i = 0; i < 300 && entered == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(entered, 1);
  int other = Connect(server.port());
  SendAll(other, kGet);
  EXPECT_EQ(ReadToClose(other).rfind("HTTP/1.1 503", 0), 0u) << "the only worker is busy";
  ::close(other);
  for (const char* request :
       {"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", "GET /readyz?x=1 HTTP/1.1\r\nHost: t\r\n\r\n",
        "HEAD /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"}) {
    int health = Connect(server.port());
    SendAll(health, request);
    std::string answer = ReadUntil(health, "\r\n\r\n");
    EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << request << " -> " << answer;
    ::close(health);
  }
  one.Release();
  EXPECT_EQ(ReadUntil(blocker, "ok").rfind("HTTP/1.1 200", 0), 0u);
  ::close(blocker);
}

TEST(HttpServer, IdleConnectionsHoldNoWorker) {
  // One worker; it is busy until released. Idle sockets do not count, a
  // second request while the worker is busy gets 503.
  OneWorkerServer one;
  TestServer& server = one.server;
  std::atomic<int>& entered = one.entered;
  std::vector<int> idle;
  for (int i = 0; i < 50; ++i) idle.push_back(Connect(server.port()));
  int fd = Connect(server.port());
  SendAll(fd, kGet);
  EXPECT_EQ(ReadUntil(fd, "ok").rfind("HTTP/1.1 200", 0), 0u) << "50 idle sockets took the only worker";

  // The one worker frees itself just after its answer left: a request sent
  // at once may still find it busy (503, connection closed). Then ask again.
  int blocker = -1;
  for (int attempt = 0; attempt < 50 && entered == 0; ++attempt) {
    if (blocker >= 0) ::close(blocker);
    blocker = Connect(server.port());
    SendAll(blocker, "GET /block HTTP/1.1\r\nHost: t\r\n\r\n");
    for (int i = 0; i < 20 && entered == 0 && !ClosedWithin(blocker, 10); ++i) {
    }
  }
  ASSERT_EQ(entered, 1);
  int second = Connect(server.port());
  SendAll(second, kGet);
  std::string refused = ReadToClose(second);
  EXPECT_EQ(refused.rfind("HTTP/1.1 503", 0), 0u) << refused;
  EXPECT_NE(refused.find("too-many-connections"), std::string::npos) << refused;
  ::close(second);
  one.Release();
  EXPECT_EQ(ReadUntil(blocker, "ok").rfind("HTTP/1.1 200", 0), 0u);
  // The keep-alive connection the first request used is served again. The
  // worker frees itself just after its answer left, so a request sent at
  // once may still find it busy (503, and that connection closes): then ask
  // again on a new connection, as a client would.
  SendAll(fd, kGet);
  std::string again = ReadUntil(fd, "ok");
  for (int i = 0; i < 100 && again.rfind("HTTP/1.1 503", 0) == 0; ++i) {
    ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    fd = Connect(server.port());
    SendAll(fd, kGet);
    again = ReadUntil(fd, "ok");
  }
  EXPECT_EQ(again.rfind("HTTP/1.1 200", 0), 0u) << again;
  ::close(fd);
  ::close(blocker);
  for (int s : idle) ::close(s);
}

TEST(HttpServer, PipelinedRequestsAreAllAnswered) {
  TestServer server([](Exchange& x) { x.respond(200, "text/plain", "ok" + x.target, {}); });
  int fd = Connect(server.port());
  SendAll(fd,
          "GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\n\r\nGET /3 HTTP/1.1\r\nHost: "
          "t\r\n\r\n");
  std::string responses = ReadUntil(fd, "ok/3");
  EXPECT_NE(responses.find("ok/1"), std::string::npos) << responses;
  EXPECT_NE(responses.find("ok/2"), std::string::npos) << responses;
  EXPECT_NE(responses.find("ok/3"), std::string::npos) << responses;
  ::close(fd);
}

TEST(HttpServer, HeaderTimeoutClosesSilentAndKeepAliveUsesIdleTimeout) {
  ServerLimits limits;
  limits.header_timeout_ms = 300;
  limits.idle_timeout_ms = 5000;
  TestServer server(AnswerOk, limits);
  int silent = Connect(server.port());
  auto start = Clock::now();
  EXPECT_TRUE(ClosedWithin(silent, 2000));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  EXPECT_GE(ms, 250);
  ::close(silent);

  int keep = Connect(server.port());
  SendAll(keep, kGet);
  EXPECT_EQ(ReadUntil(keep, "ok").rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_FALSE(ClosedWithin(keep, 800)) << "header_timeout applied between keep-alive requests";
  SendAll(keep, kGet);
  EXPECT_EQ(ReadUntil(keep, "ok").rfind("HTTP/1.1 200", 0), 0u);
  ::close(keep);
}

TEST(HttpServer, StopClosesIdleConnectionsAtOnce) {
  ServerLimits limits;
  limits.shutdown_grace_ms = 10'000;
  auto server = std::make_unique<TestServer>(AnswerOk, limits);
  std::vector<int> idle;
  for (int i = 0; i < 20; ++i) idle.push_back(Connect(server->port()));
  int keep = Connect(server->port());
  SendAll(keep, kGet);
  ReadUntil(keep, "ok");
  auto start = Clock::now();
  server->server().Stop();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  EXPECT_LT(ms, 2000);
  for (int s : idle) {
    EXPECT_TRUE(ClosedWithin(s, 1000));
    ::close(s);
  }
  EXPECT_TRUE(ClosedWithin(keep, 1000));
  ::close(keep);
}

// Stop must finish within shutdown_grace (plus a little) whatever the
// connections are doing: silent, idle between keep-alive requests, halfway
// through a header, lingering after a 400, refused with 503 at
// max_connections_per_address, in a handler, blocked reading a body that
// never comes, and closing by the hundreds while Stop runs. Stop once hung
// when the sweep timer had already expired as Stop cancelled it: its
// handler re-armed it, and the io thread never ran out of work.
TEST(HttpServer, StopAlwaysFinishesWithConnectionsInEveryPhase) {
  constexpr int kRounds = 40;
  constexpr int64_t kGraceMs = 200;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    ServerLimits limits;
    limits.shutdown_grace_ms = kGraceMs;
    limits.max_connections = 8;
    limits.max_connections_per_address = 400;
    std::atomic<int> in_handler{0};
    auto server = std::make_unique<TestServer>(
        [&](Exchange& x) {
          ++in_handler;
          if (x.target == "/sleep")
            std::this_thread::sleep_for(std::chrono::milliseconds(20 + round % 7 * 10));
          if (x.target == "/body") {
            char buffer[4096];
            while (x.read_body(buffer, sizeof(buffer)) > 0) {
            }
          }
          AnswerOk(x);
        },
        limits);
    const uint16_t port = server->port();
    std::vector<int> fds;
    auto open = [&] {
      int fd = Connect(port);
      if (fd >= 0) fds.push_back(fd);
      return fd;
    };
    for (int i = 0; i < 100; ++i) open();  // silent
    for (int i = 0; i < 5; ++i) {          // idle between keep-alive requests
      int fd = open();
      SendAll(fd, kGet);
      ReadUntil(fd, "ok");
    }
    for (int i = 0; i < 20; ++i) SendAll(open(), "GET /x HTTP/1.1\r\nHost");  // inside a header
    for (int i = 0; i < 5; ++i) SendAll(open(), "NOT HTTP AT ALL\r\n\r\n");   // 400, then lingering
    // Every other round without requests in flight: Stop then goes on at
    // once while the io thread is still busy with the closing batch below.
    const bool busy = round % 2 == 0;
    for (int i = 0; busy && i < 3; ++i) SendAll(open(), "GET /sleep HTTP/1.1\r\nHost: t\r\n\r\n");
    for (int i = 0; busy && i < 3; ++i)  // a body that never comes: cut at shutdown_grace
      SendAll(open(), "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\nabc");
    // Over max_connections_per_address: these are answered 503 and linger.
    while (fds.size() < 420) open();
    std::vector<int> closing;  // closed by the client as Stop begins
    for (int i = 0; i < 1000 + round * 20; ++i) {
      int fd = Connect(port);
      if (fd >= 0) closing.push_back(fd);
    }
    for (int i = 0; busy && i < 100 && in_handler < 6; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(round % 5 * 23));

    std::atomic<bool> stopped{false};
    std::thread watchdog([&] {
      for (int i = 0; i < 1500 && !stopped; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (!stopped) {
        std::fprintf(stderr, "HttpServer::Stop hung for 15 s (round %d)\n", round);
        std::abort();
      }
    });
    std::thread closer([&] {
      for (int fd : closing) ::close(fd);
    });
    auto start = Clock::now();
    server->server().Stop();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    stopped = true;
    closer.join();
    watchdog.join();
    EXPECT_LT(ms, kGraceMs + 1500);
    server.reset();
    for (int fd : fds) ::close(fd);
  }
}

}  // namespace
}  // namespace signals::http
