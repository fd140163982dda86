// transport-http: the Signals REST API (README.md#rest-api-transport-http) over HTTP/1.1.
//
// Protocol code only: requests are mapped onto the kernel's service API
// (signals_host.call / object_open / ingest_*), which authenticates the bearer
// token, applies the access policy and answers. Bodies stream both ways.
#include <signals/plugin.hpp>
#include <signals/support/listen_address.hpp>

#include <memory>

#include "http_server.hpp"
#include "routes.hpp"

namespace signals::http {
namespace {

class HttpTransport : public sdk::TransportComponent {
 public:
  // Not SIGNALS_CAP_CONCURRENT: Start, Stop and health come from the kernel
  // one at a time; requests are served on the server's own threads.
  static constexpr uint64_t kCapabilities = 0;
  static constexpr const char* kName = "transport-http";
  static constexpr const char* kDescription =
      "The REST API over HTTP/1.1 (Boost.Beast), streaming both ways.";

  static sdk::OptionList Options() {
    static const signals_option kOptions[] = {
        sdk::Option("listen", SIGNALS_OPT_STRING, "127.0.0.1:8080",
                    "Address and port to listen on (host:port; port 0 picks one)."),
        sdk::Option("max_body_bytes", SIGNALS_OPT_SIZE, "1GiB", "Largest request body, after decompression.",
                    0, nullptr, 1, 1LL << 40),
        sdk::Option("max_header_bytes", SIGNALS_OPT_SIZE, "16KiB", "Largest request header block.", 0,
                    nullptr, 1024, 1 << 20),
        sdk::Option("max_connections", SIGNALS_OPT_INT, "128",
                    "Most requests served at once (one worker thread each); idle connections hold no thread. "
                    "Over it: 503.",
                    0, nullptr, 1, 10000),
        sdk::Option("max_open_connections", SIGNALS_OPT_INT, "10000",
                    "Most open client sockets; when full, the oldest one that never sent a complete request "
                    "header is "
                    "closed for the newcomer (else 503). RLIMIT_NOFILE is raised towards it at start.",
                    0, nullptr, 1, 1000000),
        sdk::Option("max_connections_per_address", SIGNALS_OPT_INT, "1000",
                    "Most open sockets from one client IP address; more get 503.", 0, nullptr, 1, 1000000),
        sdk::Option("header_timeout", SIGNALS_OPT_DURATION, "10s",
                    "A request's whole header must arrive within this: from accept on a new connection, from "
                    "its first "
                    "byte on a keep-alive one.",
                    0, nullptr, 100, 3600000),
        sdk::Option("read_timeout", SIGNALS_OPT_DURATION, "30s",
                    "Longest wait for any read or write step of a request.", 0, nullptr, 100, 3600000),
        sdk::Option::Size("min_body_rate")
            .Default("64KiB")
            .Range("0", "1GiB")
            .Describe("A body still arriving after read_timeout must average at least this many bytes per "
                      "second since it began, else 408; 0 = no floor."),
        sdk::Option("idle_timeout", SIGNALS_OPT_DURATION, "60s",
                    "How long a keep-alive connection may wait for the first byte of its next request.", 0,
                    nullptr, 100, 3600000),
        sdk::Option("shutdown_grace", SIGNALS_OPT_DURATION, "30s",
                    "How long requests in flight may finish on shutdown.", 0, nullptr, 0, 3600000),
        sdk::Option("port_file", SIGNALS_OPT_PATH, nullptr,
                    "Write the bound port to this file once listening (for port 0)."),
        sdk::Option("max_zstd_window", SIGNALS_OPT_SIZE, "8MiB",
                    "Largest window a zstd request body may declare (the decoder allocates it); larger "
                    "frames get 400.",
                    0, nullptr, 1024, 1LL << 31),
        sdk::Option("serve_metrics", SIGNALS_OPT_BOOL, "true",
                    "Serve GET /metrics (no token needed) on this listener; false leaves it to "
                    "metrics-prometheus's own listener."),
    };
    return sdk::MakeOptionList(kOptions);
  }

  HttpTransport(const sdk::Host& host, const sdk::Config& config)
      : host_(host), listen_(config.Get("listen")), port_file_(config.GetOr("port_file", "")) {
    limits_.max_body_bytes = static_cast<uint64_t>(config.GetInt("max_body_bytes"));
    limits_.max_header_bytes = static_cast<uint32_t>(config.GetInt("max_header_bytes"));
    limits_.max_connections = static_cast<uint32_t>(config.GetInt("max_connections"));
    limits_.read_timeout_ms = config.GetInt("read_timeout");
    limits_.min_body_rate = config.GetSize("min_body_rate");
    limits_.idle_timeout_ms = config.GetInt("idle_timeout");
    limits_.header_timeout_ms = config.GetInt("header_timeout");
    limits_.max_open_connections = static_cast<uint32_t>(config.GetInt("max_open_connections"));
    limits_.max_connections_per_address = static_cast<uint32_t>(config.GetInt("max_connections_per_address"));
    limits_.shutdown_grace_ms = config.GetInt("shutdown_grace");
    RouteLimits route_limits{limits_.max_body_bytes};
    route_limits.max_zstd_window = static_cast<uint64_t>(config.GetInt("max_zstd_window"));
    route_limits.serve_metrics = config.GetBool("serve_metrics");
    routes_ = std::make_unique<Routes>(host_, route_limits);
  }

  void Start() override {
    server_ = std::make_unique<HttpServer>(
        limits_, [this](Exchange& x) { routes_->Dispatch(x); },
        [this](const Exchange& x, double seconds) { Observe(x, seconds); },
        [this](int level, const std::string& message) { host_.Log(level, message); });
    std::string error = server_->Start(listen_);
    if (error.empty()) error = support::WritePortFile(port_file_, server_->port());
    if (!error.empty()) throw sdk::Error(SIGNALS_ERROR, error);
    host_.Info("listening on " + support::BoundAddress(listen_, server_->port()));
  }

  void Stop() override {
    if (server_) server_->Stop();
    server_.reset();
  }

  void CheckHealth() override {
    if (!server_) throw sdk::Error(SIGNALS_ERROR, "not listening");
  }

 private:
  // Request metrics (shared contract): the route is the template the request
  // matched ("unmatched" or "invalid" otherwise), never the raw path, so the
  // number of series stays bounded whatever clients send.
  void Observe(const Exchange& x, double seconds) {
    const std::string route_method =
        "route=" + x.route + ",method=" + std::string(boost::beast::http::to_string(x.method));
    const std::string with_code = route_method + ",code=" + std::to_string(x.status);
    host_.CounterAdd("signals_http_requests_total", with_code.c_str(), 1);
    host_.raw()->histogram_observe(host_.raw()->ctx, "signals_http_request_duration_seconds",
                                   route_method.c_str(), seconds);
    // The target may carry a tenant but never a token: tokens travel in the
    // Authorization header, which is not logged.
    host_.Log(SIGNALS_LOG_DEBUG, std::string(boost::beast::http::to_string(x.method)) + " " +
                                     x.target.substr(0, 512) + " " + std::to_string(x.status));
  }

  sdk::Host host_;
  std::string listen_;
  std::string port_file_;
  ServerLimits limits_;
  std::unique_ptr<Routes> routes_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace
}  // namespace signals::http

SIGNALS_PLUGIN("transport-http", "0.1.0", "HTTP/1.1 REST API for Signals", signals::http::HttpTransport)
