// signals-bench-http: posts runtime-fact batches to a running signalsd over
// keep-alive connections and reports throughput and per-batch latency.
//
//   signals-bench-http --port P --token-file F --tenant T --callgraph-id ID
//                      --facts FILE --facts-per-batch 100 --batches 20000
//                      --connections 32 [--warmup 200]
//
// Batches are consecutive slices of FILE (wrapping around), so each one is a
// distinct body. Every connection is one thread with a blocking Beast client:
// it sends a batch, waits for the answer, records the latency and takes the
// next batch number from a shared counter. Only 201 counts as success; any
// other answer or a broken connection is an error and is reported. Output is
// one JSON object on stdout:
//   {"batches","errors","seconds","batchesPerSecond","p50Ms","p90Ms","p99Ms","maxMs",...}
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string host = "127.0.0.1";
  std::string port;
  std::string token;
  std::string tenant;
  std::string callgraph_id;
  std::string facts_file;
  size_t facts_per_batch = 100;
  size_t batches = 1000;
  size_t warmup = 0;
  size_t connections = 32;
};

[[noreturn]] void Usage(const std::string& why) {
  std::cerr << "signals-bench-http: " << why
            << "\nusage: signals-bench-http --port P --token-file F --tenant T --callgraph-id ID --facts FILE"
               " [--facts-per-batch N] [--batches N] [--warmup N] [--connections N] [--host H]\n";
  std::exit(2);
}

Options Parse(int argc, char** argv) {
  Options o;
  std::string token_file;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) Usage("missing value after " + a);
    std::string v = argv[++i];
    auto number = [&](size_t* out) {
      char* end = nullptr;
      unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0') Usage(a + " needs a number, not '" + v + "'");
      *out = static_cast<size_t>(n);
    };
    if (a == "--host")
      o.host = v;
    else if (a == "--port")
      o.port = v;
    else if (a == "--token-file")
      token_file = v;
    else if (a == "--tenant")
      o.tenant = v;
    else if (a == "--callgraph-id")
      o.callgraph_id = v;
    else if (a == "--facts")
      o.facts_file = v;
    else if (a == "--facts-per-batch")
      number(&o.facts_per_batch);
    else if (a == "--batches")
      number(&o.batches);
    else if (a == "--warmup")
      number(&o.warmup);
    else if (a == "--connections")
      number(&o.connections);
    else
      Usage("unknown option " + a);
  }
  if (o.port.empty() || token_file.empty() || o.tenant.empty() || o.callgraph_id.empty() ||
      o.facts_file.empty()) {
    Usage("--port, --token-file, --tenant, --callgraph-id and --facts are required");
  }
  if (o.facts_per_batch == 0 || o.connections == 0) Usage("--facts-per-batch and --connections must be >= 1");
  std::ifstream in(token_file);
  std::getline(in, o.token);  // read from a file: a token never appears in a process list
  if (o.token.empty()) Usage("no token in " + token_file);
  return o;
}

// Splits the facts file into bodies of `per_batch` lines each.
std::vector<std::string> LoadBodies(const std::string& path, size_t per_batch, size_t most) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Usage("cannot read " + path);
  std::vector<std::string> bodies;
  std::string body, line;
  size_t lines = 0;
  while (bodies.size() < most && std::getline(in, line)) {
    body += line;
    body += '\n';
    if (++lines == per_batch) {
      bodies.push_back(std::move(body));
      body.clear();
      lines = 0;
    }
  }
  if (bodies.empty()) Usage(path + " has fewer lines than one batch");
  return bodies;
}

struct Outcome {
  std::vector<double> latencies_ms;
  size_t errors = 0;
  std::map<std::string, size_t> error_kinds;
};

class Client {
 public:
  Client(const Options& o, const std::vector<std::string>& bodies) : o_(o), bodies_(bodies) {}

  // Posts batches numbered by `next` until `end`; latencies go to `out`.
  void Run(std::atomic<size_t>& next, size_t end, Outcome& out) {
    const std::string target =
        "/signals/runtime-facts?tenant=" + o_.tenant + "&callgraph_id=" + o_.callgraph_id;
    while (true) {
      size_t n = next.fetch_add(1);
      if (n >= end) break;
      http::request<http::string_body> req{http::verb::post, target, 11};
      req.set(http::field::host, o_.host);
      req.set(http::field::authorization, "Bearer " + o_.token);
      req.set(http::field::content_type, "application/x-ndjson");
      req.keep_alive(true);
      req.body() = bodies_[n % bodies_.size()];
      req.prepare_payload();
      auto t0 = Clock::now();
      std::string error;
      try {
        if (!stream_) Connect();
        http::write(*stream_, req);
        http::response<http::string_body> res;
        http::read(*stream_, buffer_, res);
        if (res.result_int() != 201) {
          error = "HTTP " + std::to_string(res.result_int()) + ": " + res.body().substr(0, 200);
        }
        if (!res.keep_alive()) stream_.reset();
      } catch (const std::exception& e) {
        error = std::string("connection: ") + e.what();
        stream_.reset();
      }
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      if (error.empty()) {
        out.latencies_ms.push_back(ms);
      } else {
        ++out.errors;
        ++out.error_kinds[error];
      }
    }
  }

 private:
  void Connect() {
    tcp::resolver resolver(ioc_);
    stream_ = std::make_unique<beast::tcp_stream>(ioc_);
    stream_->connect(resolver.resolve(o_.host, o_.port));
    stream_->socket().set_option(tcp::no_delay(true));
    buffer_.clear();
  }

  const Options& o_;
  const std::vector<std::string>& bodies_;
  net::io_context ioc_;
  std::unique_ptr<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
};

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  const auto bodies = LoadBodies(o.facts_file, o.facts_per_batch, o.warmup + o.batches);
  size_t body_bytes = 0;
  for (const auto& b : bodies) body_bytes += b.size();

  auto phase = [&](size_t count, std::vector<Outcome>& outcomes) {
    std::vector<std::unique_ptr<Client>> clients;
    for (size_t i = 0; i < o.connections; ++i) clients.push_back(std::make_unique<Client>(o, bodies));
    outcomes.assign(o.connections, Outcome{});
    std::atomic<size_t> next{0};
    std::vector<std::thread> threads;
    auto t0 = Clock::now();
    for (size_t i = 0; i < o.connections; ++i) {
      threads.emplace_back([&, i] { clients[i]->Run(next, count, outcomes[i]); });
    }
    for (auto& t : threads) t.join();
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };

  std::vector<Outcome> outcomes;
  if (o.warmup > 0) phase(o.warmup, outcomes);  // connections, caches, first table writes
  const double seconds = phase(o.batches, outcomes);

  std::vector<double> all;
  size_t errors = 0;
  std::map<std::string, size_t> kinds;
  for (const auto& out : outcomes) {
    all.insert(all.end(), out.latencies_ms.begin(), out.latencies_ms.end());
    errors += out.errors;
    for (const auto& [k, n] : out.error_kinds) kinds[k] += n;
  }
  std::sort(all.begin(), all.end());
  nlohmann::json kinds_json = nlohmann::json::object();
  for (const auto& [k, n] : kinds) kinds_json[k] = n;
  const nlohmann::json result = {
      {"batches", all.size()},
      {"errors", errors},
      {"connections", o.connections},
      {"factsPerBatch", o.facts_per_batch},
      {"meanBodyBytes", body_bytes / bodies.size()},
      {"seconds", seconds},
      {"batchesPerSecond", seconds > 0 ? static_cast<double>(all.size()) / seconds : 0.0},
      {"p50Ms", Percentile(all, 0.50)},
      {"p90Ms", Percentile(all, 0.90)},
      {"p99Ms", Percentile(all, 0.99)},
      {"maxMs", all.empty() ? 0.0 : all.back()},
      {"errorKinds", kinds_json},
  };
  std::cout << result.dump() << "\n";
  return errors == 0 ? 0 : 1;
}
