// signalsd: the Signals daemon. Loads the plugins, validates the whole
// configuration, creates every instance, starts transports and sources, and
// runs retention GC on its schedule and, once, the removal of the temp files
// a crash left in the CAS, until SIGTERM or SIGINT; then it stops those, the
// services in reverse order, and exits 0.
#include <atomic>
#include <csignal>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "analysis/analysis_ops.hpp"
#include "base/logging.hpp"
#include "config/bootstrap.hpp"
#include "core/kernel.hpp"
#include "model/cas_object.hpp"
#include "plugin/plugin_instance.hpp"
#include "retention/retention_scheduler.hpp"
#include "service/problem.hpp"

extern char** environ;

namespace {

constexpr const char* kUsage =
    R"(usage: signalsd [--config FILE] [--data-dir DIR] [--section.key=value ...] [--check-config] [--help]

Runs Signals with the given configuration (the embedded default when no --config:
cas-fs + index-sqlite + signer-ed25519 under ./var/signals). Every option can be set in
the file ([section] key = value), the environment (SIGNALS_<SECTION>__<KEY>) or on
the command line (--section.key=value); command line beats environment beats file.

  --check-config   validate the configuration and every plugin's options, then exit
                   (0 valid, 2 with every problem listed)
  --help           this text and every loaded plugin's options
)";

int Problem(const signals::Status& status) {
  std::cerr << "signalsd: " << status.message() << "\n";
  return signals::ExitCodeOf(status);
}

// Removes the temp files of CAS writes that a killed process left
// (README.md#fsck), so that crashes do not pile them up. Only a CAS plugin
// that can list them (cas-fs: list_leftovers) is asked, through a second
// instance with that option on, so that the serving instance keeps them
// invisible. A temp file whose writer lives is locked (this process's own as
// well as a signalsctl writer's), and the plugin neither lists nor removes it
// (remove takes the lock first): so this runs beside the service, on its own
// thread, and a large store does not delay readiness by a walk of the CAS.
// `stopping` ends it between two removals. Failures are logged, never fatal:
// fsck reports what remains.
void RemoveInterruptedWrites(signals::Kernel& kernel, const std::atomic<bool>& stopping) {
  const signals::InstanceConfig* cas = kernel.config().Instance("cas");
  if (cas == nullptr) return;
  signals::InstanceConfig lister = *cas;
  if (!signals::ExposeCasLeftovers(lister)) return;
  auto instance = signals::PluginInstance::Create(lister, kernel.config().data_dir, kernel.host());
  if (!instance.ok()) {
    spdlog::warn("temp files of interrupted writes not removed: {}", instance.status().message());
    return;
  }
  signals::CasStore store(std::move(*instance));
  std::vector<std::string> leftovers;
  signals::Status listed = store.List("", [&](const std::string& key) {
    if (signals::ClassifyCasKey(key).kind == signals::CasObjectKind::kLeftover) leftovers.push_back(key);
  });
  if (!listed.ok()) {
    spdlog::warn("temp files of interrupted writes not removed: {}", listed.message());
    return;
  }
  size_t removed = 0;
  for (const auto& key : leftovers) {
    if (stopping) break;
    signals::Status s = store.Remove(key);
    if (s.ok()) {
      ++removed;
    } else if (s.code() != signals::Code::kNotFound) {
      spdlog::warn("temp file {} of an interrupted write not removed: {}", key, s.message());
    }
  }
  if (removed > 0) spdlog::info("temp files of interrupted writes removed from the CAS: {}", removed);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    auto command_line = signals::ParseCommandLine(argc, argv);
    if (!command_line.ok()) return Problem(command_line.status());
    bool help = false, check = false;
    for (const auto& arg : command_line->rest) {
      if (arg == "--help" || arg == "-h")
        help = true;
      else if (arg == "--check-config")
        check = true;
      else
        return Problem(signals::Status::Config("unknown argument '" + arg + "'\n" + kUsage));
    }
    auto boot = signals::LoadBootstrap(*command_line, environ);
    if (!boot.ok()) return Problem(boot.status());
    if (help) {
      std::cout << kUsage << "\n" << signals::DescribeConfiguration(*boot->registry);
      return 0;
    }
    auto config = signals::ResolveConfig(boot->settings, *boot->registry);
    for (const auto& p : boot->plugin_problems) std::cerr << "signalsd: plugin not loaded: " << p << "\n";
    if (!config.ok()) {
      std::cerr << "signalsd: configuration " << boot->settings.file << " is invalid:\n"
                << config.status().message() << "\n";
      return 2;
    }
    if (check) {
      if (!boot->plugin_problems.empty()) return 2;
      std::cout << "configuration " << boot->settings.file << " is valid (" << config->instances.size()
                << " plugin instances, data dir " << config->data_dir << ")\n";
      return 0;
    }
    signals::ConfigureLogging(config->Get("kernel", "log_level"), config->Get("kernel", "log_format"));

    // Block the stop signals before any thread starts, so that only sigwait
    // below receives them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    auto kernel = signals::Kernel::Open(std::move(*config), signals::DataDirAccess::kDaemon);
    if (!kernel.ok()) return Problem(kernel.status());
    // The reachability.* ops of the service API, before any transport serves it.
    signals::RegisterAnalysisOps((*kernel)->service());
    auto signer = (*kernel)->signer();
    if (!signer.ok()) return Problem(signer.status());
    signals::Status started = (*kernel)->StartServices();
    if (!started.ok()) return Problem(started);
    (*kernel)->StartTlogRetry();
    spdlog::info("signalsd ready: data dir {}, signing key {} ({})", (*kernel)->config().data_dir,
                 (*signer)->key_id(), (*signer)->algorithm());
    signals::RetentionScheduler retention(**kernel);
    retention.Start();
    std::atomic<bool> stopping{false};
    std::thread cleanup([&kernel, &stopping] { RemoveInterruptedWrites(**kernel, stopping); });

    int received = 0;
    sigwait(&stop_signals, &received);
    spdlog::info("signalsd stopping on signal {}", received);
    stopping = true;
    cleanup.join();
    retention.Stop();
    (*kernel)->StopServices();
    kernel->reset();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "signalsd: internal error: " << e.what() << "\n";
    return 1;
  }
}
