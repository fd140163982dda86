// http_client_test: a C++ client (Boost.Beast, synchronous) against a real
// signalsd with transport-http on an ephemeral loopback port.
//
//  1. a batch posted in many small chunks (Transfer-Encoding: chunked) reads
//     back byte-identical;
//  2. keep-alive: several requests, one connection;
//  3. a slow client (its header one byte at a time) does not keep another
//     client from being served;
//  4. a client that disconnects mid-upload (Content-Length and chunked)
//     leaves nothing stored;
//  and signalsd exits 0 on SIGTERM afterwards.
//
// The test prepares a data dir with signalsctl (tenant, callgraph, token),
// starts signalsd itself (fork/exec) and kills it on every exit path.
// usage: http_client_test SIGNALSCTL SIGNALSD [TESTDATA_DIR]
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace fs = std::filesystem;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

std::string g_signalsctl, g_signalsd;
fs::path g_tmp, g_data;
pid_t g_server = -1;
std::string g_port;

[[noreturn]] void Fail(const std::string& message) { throw std::runtime_error(message); }

void Step(const std::string& text) { std::cout << "--- " << text << std::endl; }

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a command (no shell features beyond redirection), returns stdout.
std::string Run(const std::string& command, const std::string& stdin_text = "") {
  fs::path in = g_tmp / "stdin.txt";
  {
    std::ofstream f(in, std::ios::binary);
    f << stdin_text;
  }
  std::string full =
      command + " <" + ShellQuote(in.string()) + " 2>>" + ShellQuote((g_tmp / "signalsctl.err").string());
  FILE* p = popen(full.c_str(), "r");
  if (p == nullptr) Fail("cannot run " + command);
  std::string out;
  std::array<char, 4096> buffer{};
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), p)) > 0) out.append(buffer.data(), n);
  int rc = pclose(p);
  if (rc != 0) Fail("command failed (" + std::to_string(rc) + "): " + command);
  return out;
}

std::string Ctl(const std::string& args, const std::string& stdin_text = "") {
  return Run(ShellQuote(g_signalsctl) + " --data-dir " + ShellQuote(g_data.string()) + " " + args,
             stdin_text);
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

void StartServer() {
  fs::path port_file = g_data / "port";
  fs::remove(port_file);
  std::string log = (g_tmp / "signalsd.log").string();
  g_server = fork();
  if (g_server < 0) Fail("fork failed");
  if (g_server == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    std::string port = "--transport.http.port_file=" + port_file.string();
    execl(g_signalsd.c_str(), g_signalsd.c_str(), "--data-dir", g_data.c_str(),
          "--transport.http.plugin=transport-http", "--transport.http.listen=127.0.0.1:0", port.c_str(),
          "--transport.http.read_timeout=10s", static_cast<char*>(nullptr));
    _exit(127);
  }
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (true) {
    std::ifstream f(port_file);
    std::string text;
    if (f && std::getline(f, text) && !text.empty()) {
      g_port = Trim(text);
      return;
    }
    int status = 0;
    if (waitpid(g_server, &status, WNOHANG) == g_server) {
      g_server = -1;
      Fail("signalsd exited at start; see " + log);
    }
    if (Clock::now() > deadline) Fail("signalsd wrote no port file within 10 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// SIGTERM, then the exit status (or -1 when it had to be killed).
int StopServer() {
  if (g_server <= 0) return 0;
  kill(g_server, SIGTERM);
  int status = 0;
  auto deadline = Clock::now() + std::chrono::seconds(20);
  while (waitpid(g_server, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      kill(g_server, SIGKILL);
      waitpid(g_server, &status, 0);
      g_server = -1;
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  g_server = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A connection with a receive/send timeout, so that nothing hangs forever.
struct Connection {
  net::io_context io;
  tcp::socket socket{io};
  beast::flat_buffer buffer;

  Connection() {
    tcp::resolver resolver(io);
    net::connect(socket, resolver.resolve("127.0.0.1", g_port));
    timeval tv{15, 0};
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  }

  http::response<http::string_body> Send(http::request<http::string_body> req) {
    req.set(http::field::host, "127.0.0.1:" + g_port);
    req.prepare_payload();
    http::write(socket, req);
    return Read();
  }

  http::response<http::string_body> Read() {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    http::read(socket, buffer, parser);
    return parser.release();
  }
};

http::request<http::string_body> Get(const std::string& target, const std::string& token) {
  http::request<http::string_body> req{http::verb::get, target, 11};
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  return req;
}

// Regular files under the CAS (objects and temporary files alike).
std::vector<std::string> StoredFiles() {
  std::vector<std::string> out;
  if (!fs::exists(g_data / "cas")) return out;
  for (const auto& e : fs::recursive_directory_iterator(g_data / "cas")) {
    if (e.is_regular_file()) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string FactLines(size_t count, const std::string& tag) {
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    out += "{\"symbolId\":\"com.example.Svc::" + tag + "_" + std::to_string(i) +
           "(java.lang.String)\",\"hitCount\":" + std::to_string(i % 97 + 1) +
           ",\"metadata\":{\"node\":\"caf\xc3\xa9-" + std::to_string(i % 13) + "\"}}\n";
  }
  return out;
}

void Expect(bool condition, const std::string& what) {
  if (!condition) Fail(what);
}

void Run(const std::string& token, const std::string& reader, const std::string& graph_id) {
  const std::string post_target = "/signals/runtime-facts?tenant=acme&callgraph_id=" + graph_id;

  Step("chunked upload in many small chunks reads back byte-identical");
  const std::string facts = FactLines(3000, "chunked");
  std::string batch_id;
  {
    Connection c;
    http::request<http::empty_body> req{http::verb::post, post_target, 11};
    req.set(http::field::host, "127.0.0.1:" + g_port);
    req.set(http::field::authorization, "Bearer " + token);
    req.set(http::field::content_type, "application/x-ndjson");
    req.chunked(true);
    http::request_serializer<http::empty_body> sr{req};
    http::write_header(c.socket, sr);
    size_t chunks = 0;
    for (size_t pos = 0; pos < facts.size(); ++chunks) {
      // 1 to 97 bytes: chunk borders fall anywhere, inside lines and UTF-8.
      size_t n = std::min(facts.size() - pos, 1 + (chunks * 31) % 97);
      net::write(c.socket, http::make_chunk(net::buffer(facts.data() + pos, n)));
      pos += n;
    }
    net::write(c.socket, http::make_chunk_last());
    auto res = c.Read();
    Expect(res.result_int() == 201,
           "chunked upload: HTTP " + std::to_string(res.result_int()) + ": " + res.body());
    auto record = nlohmann::json::parse(res.body());
    batch_id = record.value("batchId", "");
    Expect(record.value("factCount", 0) == 3000, "chunked upload: factCount " + res.body());
    Expect(std::string(res[http::field::location]) == "/signals/runtime-facts/" + batch_id,
           "chunked upload: Location");
    std::cout << "    " << chunks << " chunks, batch " << batch_id << std::endl;

    Step("keep-alive: the read-back and more requests on the same connection");
    Expect(res.keep_alive(), "the server closes the connection after a 201");
    auto back = c.Send(Get("/signals/runtime-facts/" + batch_id, reader));
    Expect(back.result_int() == 200, "read-back: HTTP " + std::to_string(back.result_int()));
    Expect(back.body() == facts, "the batch read back differs from the chunks sent (" +
                                     std::to_string(back.body().size()) + " vs " +
                                     std::to_string(facts.size()) + " bytes)");
    Expect(back.keep_alive(), "the server closes after a streamed 200");
    auto prov = c.Send(Get("/signals/runtime-facts/" + batch_id + "/provenance", reader));
    Expect(prov.result_int() == 200, "provenance on the same connection");
    auto health = c.Send(Get("/healthz", ""));
    Expect(health.result_int() == 200, "healthz on the same connection");
    auto missing = c.Send(Get("/signals/runtime-facts/01ARZ3NDEKTSV4RRFFQ69G5FAV", reader));
    Expect(missing.result_int() == 404, "404 on the same connection");
    Expect(missing.keep_alive(), "the server closes after a 404");
    // A second upload (Content-Length this time) on the same connection.
    http::request<http::string_body> post{http::verb::post, post_target, 11};
    post.set(http::field::authorization, "Bearer " + token);
    post.set(http::field::content_type, "application/x-ndjson");
    post.body() = FactLines(10, "keepalive");
    auto second = c.Send(post);
    Expect(second.result_int() == 201, "second upload on the same connection: " + second.body());
    auto again = c.Send(Get("/signals/runtime-facts/" + batch_id, reader));
    Expect(again.body() == facts, "the third read on one connection differs");
  }

  Step("a slow client (header byte by byte) does not block another client");
  {
    std::atomic<bool> slow_done{false};
    std::string slow_error;
    int slow_status = 0;
    std::thread slow([&] {
      try {
        Connection c;
        std::string request =
            "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + std::string(20, 'x') + "\r\n\r\n";
        for (char ch : request) {
          net::write(c.socket, net::buffer(&ch, 1));
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        slow_status = c.Read().result_int();
      } catch (const std::exception& e) {
        slow_error = e.what();
      }
      slow_done = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the slow header is under way
    for (int i = 0; i < 5; ++i) {
      auto start = Clock::now();
      Connection c;
      auto res = c.Send(Get("/signals/runtime-facts/" + batch_id + "/provenance", reader));
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      Expect(res.result_int() == 200, "the fast client got HTTP " + std::to_string(res.result_int()));
      Expect(ms < 1500, "the fast client waited " + std::to_string(ms) + " ms behind the slow one");
    }
    Expect(!slow_done, "the slow client finished before the fast ones ran: the test proves nothing");
    slow.join();
    Expect(slow_error.empty(), "the slow client failed: " + slow_error);
    Expect(slow_status == 200, "the slow client got HTTP " + std::to_string(slow_status));
  }

  Step("a client that disconnects mid-upload leaves nothing stored");
  const auto before = StoredFiles();
  std::string stream_before;
  {
    Connection c;
    stream_before = c.Send(Get("/signals/runtime-facts/ndjson?tenant=acme", reader)).body();
  }
  const std::string big = FactLines(20000, "gone");
  for (bool chunked : {false, true}) {
    Connection c;
    std::string head = "POST " + post_target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                       token + "\r\nContent-Type: application/x-ndjson\r\n";
    head += chunked ? std::string("Transfer-Encoding: chunked\r\n\r\n")
                    : "Content-Length: " + std::to_string(big.size()) + "\r\n\r\n";
    net::write(c.socket, net::buffer(head));
    size_t sent = 0;
    while (sent < big.size() / 2) {
      size_t n = std::min<size_t>(8192, big.size() / 2 - sent);
      if (chunked) {
        net::write(c.socket, http::make_chunk(net::buffer(big.data() + sent, n)));
      } else {
        net::write(c.socket, net::buffer(big.data() + sent, n));
      }
      sent += n;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the server take it in
    // Gone without a word: RST, not even a FIN.
    linger lg{1, 0};
    setsockopt(c.socket.native_handle(), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    c.socket.close();
  }
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (StoredFiles() != before && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto after = StoredFiles();
  if (after != before) {
    std::string diff;
    for (const auto& f : after) {
      if (std::find(before.begin(), before.end(), f) == before.end()) diff += "\n  + " + f;
    }
    Fail("the aborted uploads left files in the CAS:" + diff);
  }
  {
    Connection c;
    auto stream_after = c.Send(Get("/signals/runtime-facts/ndjson?tenant=acme", reader));
    Expect(stream_after.body() == stream_before, "the aborted uploads added facts to the acme stream");
    auto health = c.Send(Get("/readyz", ""));
    Expect(health.result_int() == 200, "readyz after the aborted uploads: " + health.body());
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: http_client_test SIGNALSCTL SIGNALSD [TESTDATA_DIR]\n";
    return 2;
  }
  g_signalsctl = argv[1];
  g_signalsd = argv[2];
  const char* keep_env = std::getenv("SIGNALS_KEEP_TMP");
  const bool keep = keep_env != nullptr && std::string(keep_env) == "1";
  // SIGNALS_* variables of the caller must not change the configuration.
  for (char** env = environ; *env != nullptr;) {
    std::string entry = *env;
    if (entry.rfind("SIGNALS_", 0) == 0) {
      unsetenv(entry.substr(0, entry.find('=')).c_str());
    } else {
      ++env;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  char tmpl[] = "/tmp/signals-http_client_test-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::cerr << "cannot create a temp dir\n";
    return 1;
  }
  g_tmp = tmpl;
  g_data = g_tmp / "data";
  int rc = 0;
  try {
    Step("setup: tenant, callgraph and tokens with signalsctl");
    Ctl("tenant add acme");
    const std::string graph =
        R"({"schema":"stella.callgraph.v1","nodes":[{"id":"main","name":"Svc.main","kind":"method"},)"
        R"({"id":"handle","name":"Svc.handle","kind":"method"}],"edges":[{"sourceId":"main","targetId":"handle","kind":"static"}],)"
        R"("entrypoints":[{"nodeId":"main","kind":"main"}]})";
    auto manifest = nlohmann::json::parse(Ctl(
        "ingest callgraph - --tenant acme --purl pkg:maven/com.example/svc@1.0.0 --language java", graph));
    const std::string graph_id = manifest.value("graphId", "");
    const std::string token = Trim(Ctl("token create --principal runtime-agent --tenant acme"));
    const std::string reader = Trim(Ctl("token create --principal audit-service --tenant acme"));
    StartServer();
    std::cout << "    signalsd on 127.0.0.1:" << g_port << std::endl;
    Run(token, reader, graph_id);
    Step("SIGTERM: signalsd exits 0");
    int exit_code = StopServer();
    if (exit_code != 0) Fail("signalsd exited " + std::to_string(exit_code) + " on SIGTERM");
    std::cout << "http_client_test: PASS" << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "http_client_test: FAILED: " << e.what() << std::endl;
    rc = 1;
  }
  StopServer();
  if (rc != 0) {
    std::ifstream log(g_tmp / "signalsd.log");
    std::cerr << "signalsd log:\n" << log.rdbuf() << std::endl;
  }
  std::error_code ec;
  if (!keep) fs::remove_all(g_tmp, ec);
  return rc;
}
