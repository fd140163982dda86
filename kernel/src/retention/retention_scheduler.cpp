// RetentionScheduler. See retention_scheduler.hpp.
#include "retention/retention_scheduler.hpp"

#include "base/logging.hpp"
#include "retention/retention_gc.hpp"

namespace signals {

RetentionScheduler::RetentionScheduler(Kernel& kernel)
    : kernel_(kernel), interval_ms_(kernel.config().GetInt("retention", "gc_interval")) {}

RetentionScheduler::~RetentionScheduler() { Stop(); }

bool RetentionScheduler::Start() {
  if (interval_ms_ <= 0) {
    spdlog::info("gc: scheduled retention GC is disabled (retention.gc_interval = 0)");
    return false;
  }
  loop_.Start([this] {
    GcOptions options;
    options.now_ms = kernel_.NowMs();
    options.stop = &loop_.stopping();
    // Errors are logged and counted by Run; the next interval tries again.
    (void)RetentionGc(kernel_).Run(options);
    return interval_ms_;
  });
  return true;
}

void RetentionScheduler::Stop() { loop_.Stop(); }

}  // namespace signals
