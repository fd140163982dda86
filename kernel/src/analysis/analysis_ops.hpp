// The service API's reachability operations, registered into a kernel's op
// table (service/service_api.hpp) by the programs that serve them — signalsd,
// and the unit tests' TestKernel:
//   reachability.query  {callgraphId, targets[], unconfirmedAsNotAffected?} → QueryReachability
//   reachability.vex    {callgraphId, vulnerability, symbols[], ...}      → BuildVex's document
//   reachability.drift  {baseGraphId, headGraphId, sinks?}                → QueryDrift
// Each authorises its graphs like a callgraph read (404 outside the caller's
// tenants, 410 when retention deleted them). A kernel without them answers
// these ops as unknown.
#pragma once

namespace signals {

class ServiceApi;

// Adds the three operations above to `service`. REQUIRES: before the kernel
// serves (ServiceApi::RegisterOp).
void RegisterAnalysisOps(ServiceApi& service);

}  // namespace signals
