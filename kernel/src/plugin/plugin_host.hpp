// The host table (signals_host) the kernel hands to every plugin instance:
// logging, clock, metrics and the service API (streaming ingest, queries).
// Every callback is thread-safe and catches every exception: nothing C++
// crosses back into a plugin.
#pragma once

#include <signals/plugin.h>

#include <string>

namespace signals {

class Kernel;

// Who a host table belongs to. Calls through a trusted binding (the kernel's
// own storage plugins, sources) act as signals-service; the others
// (transports) must present credentials.
struct HostBinding {
  Kernel* kernel;
  bool trusted;
  std::string section;
};

// Fills `host` with callbacks bound to `binding`, which must outlive it.
void InitHostTable(HostBinding* binding, signals_host* host);

}  // namespace signals
