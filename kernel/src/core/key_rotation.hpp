// Key rotation in the key registry (index collection "keys"): rotation is a new
// key plus a configuration change (signing.key_id, and signing.plugin /
// signing.algorithm when the algorithm changes). The registry keeps every key
// that ever signed, so objects signed by a retired key keep verifying; only
// the status changes from "active" to "retired".
// Thread-safety: as the kernel's index.
#pragma once

#include <string>

#include "base/status.hpp"
#include "core/kernel.hpp"

namespace signals {

// Marks every registered key other than `active_key_id` whose status is
// "active" as "retired" (with retiredAt = now) and returns their ids.
// REQUIRES: `active_key_id` is registered (kNotFound otherwise).
Result<std::vector<std::string>> RetireOtherKeys(Kernel& kernel, const std::string& active_key_id);

}  // namespace signals
