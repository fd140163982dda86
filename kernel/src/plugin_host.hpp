// The host table (signals_host) the kernel hands to every plugin instance:
// logging, clock, metrics and the service API (streaming ingest, queries).
// Every callback is thread-safe and catches every exception: nothing C++
// crosses back into a plugin.
#pragma once

#include <signals/plugin.h>

namespace signals {

class Kernel;

// Fills `host` with callbacks bound to `kernel`.
void InitHostTable(Kernel* kernel, signals_host* host);

}  // namespace signals
