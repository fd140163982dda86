// metrics-prometheus: renders the kernel's metrics registry in the Prometheus
// text exposition format (served at /metrics on the API listener by the
// kernel's "metrics" operation), and optionally serves it on a listener of its
// own (`listen`), with a fresh snapshot per scrape from the host's call API.
#include <signals/plugin.hpp>
#include <signals/support/listen_address.hpp>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "prometheus_text.hpp"
#include "scrape_listener.hpp"

namespace signals::prometheus {
namespace {

class PrometheusMetrics : public sdk::MetricsComponent {
 public:
  static constexpr const char* kName = "metrics-prometheus";
  static constexpr const char* kDescription =
      "Prometheus text exposition of the metrics registry, optionally on a listener of its own.";
  // Render is a pure function and the listener has its own thread: calls need
  // no serialisation, and health() must not wait behind a scrape in progress.
  static constexpr uint64_t kCapabilities = SIGNALS_CAP_CONCURRENT;

  static sdk::OptionList Options() {
    static const signals_option kOptions[] = {
        sdk::Option(
            "listen", SIGNALS_OPT_STRING, "",
            "Own listener for GET /metrics (host:port; port 0 picks one); empty = only the API's /metrics."),
        sdk::Option("port_file", SIGNALS_OPT_PATH, nullptr,
                    "Write the bound port of `listen` to this file once listening (for port 0)."),
        sdk::Option("drop_labels", SIGNALS_OPT_STRING, "",
                    "Comma-separated label names left out of every series, merging what becomes identical "
                    "(e.g. tenant: no per-tenant figures on /metrics)."),
    };
    return sdk::MakeOptionList(kOptions);
  }

  PrometheusMetrics(const sdk::Host& host, const sdk::Config& config)
      : host_(host),
        listen_(config.GetOr("listen", "")),
        port_file_(config.GetOr("port_file", "")),
        dropped_labels_(SplitList(config.GetOr("drop_labels", ""))) {}

  std::string Render(const std::string& snapshot_json) override {
    auto snapshot = nlohmann::json::parse(snapshot_json, nullptr, false);
    if (snapshot.is_discarded()) throw sdk::Error(SIGNALS_INVALID_ARGUMENT, "metrics snapshot is not JSON");
    try {
      return RenderText(WithoutLabels(snapshot, dropped_labels_));
    } catch (const std::invalid_argument& e) {
      throw sdk::Error(SIGNALS_INVALID_ARGUMENT, e.what());
    }
  }

  const std::string& ContentType() const override { return content_type_; }

  void Start() override {
    if (listen_.empty() || listener_) return;
    listener_ = std::make_unique<ScrapeListener>([this] { return Scrape(); });
    std::string error = listener_->Start(listen_);
    if (error.empty()) error = support::WritePortFile(port_file_, listener_->port());
    if (!error.empty()) {
      listener_.reset();  // Stop() of the listener runs in its destructor
      throw sdk::Error(SIGNALS_ERROR, error);
    }
    host_.Info("serving /metrics on " + support::BoundAddress(listen_, listener_->port()));
  }

  void Stop() override {
    if (listener_) listener_->Stop();
    listener_.reset();
  }

  void CheckHealth() override {
    if (listener_ && !listener_->running()) throw sdk::Error(SIGNALS_ERROR, "the /metrics listener stopped");
  }

 private:
  static std::vector<std::string> SplitList(const std::string& text) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= text.size()) {
      size_t end = text.find(',', start);
      if (end == std::string::npos) end = text.size();
      std::string item = text.substr(start, end - start);
      item.erase(0, item.find_first_not_of(" \t"));
      item.erase(item.find_last_not_of(" \t") + 1);
      if (!item.empty()) out.push_back(item);
      start = end + 1;
    }
    return out;
  }

  ScrapeAnswer Scrape() {
    try {
      return {200, content_type_, Render(host_.Call(R"({"op":"metrics.snapshot"})"))};
    } catch (const std::exception& e) {
      host_.Warn(std::string("scrape failed: ") + e.what());
      return {503, "text/plain; charset=utf-8", "metrics are unavailable; see the signalsd log\n"};
    }
  }

  sdk::Host host_;
  std::string listen_;
  std::string port_file_;
  std::vector<std::string> dropped_labels_;
  const std::string content_type_ = kTextContentType;
  std::unique_ptr<ScrapeListener> listener_;
};

}  // namespace
}  // namespace signals::prometheus

SIGNALS_PLUGIN("metrics-prometheus", "0.1.0", "Prometheus exposition of the Signals metrics",
               signals::prometheus::PrometheusMetrics)
