// Routes: the API of README.md#rest-api-transport-http mapped onto the kernel's service API. Routes
// hold no policy: every request carries the caller's bearer token to the
// kernel, which authenticates, authorises and answers (or says which HTTP
// status a refusal deserves).
// Thread-safety: Dispatch may run on many connection threads at once.
#pragma once

#include <signals/plugin.hpp>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "exchange.hpp"

namespace signals::http {

struct RouteLimits {
  uint64_t max_body_bytes;
  // Largest zstd window a request body may declare (ZSTD_d_windowLogMax):
  // the decoder allocates the window, whatever the body's size.
  uint64_t max_zstd_window = 8u << 20;
  // Serve GET /metrics on this listener (metrics-prometheus can serve it on
  // a listener of its own instead).
  bool serve_metrics = true;
};

class Routes {
 public:
  Routes(const sdk::Host& host, RouteLimits limits) : host_(host), limits_(limits) {}
  // Answers `exchange` (exactly once), through the route table.
  void Dispatch(Exchange& exchange);

  // The route table as (method, path template) pairs, in table order.
  static std::vector<std::pair<std::string, std::string>> Table();

  using Params = std::vector<std::string>;

 private:
  struct Route;
  static const std::vector<Route>& RouteTable();

  // The handlers of the route table (routes.cpp); `params` are the path
  // segments that matched the template's {parameters}, in order.
  void GetHealth(Exchange& x, const Params& params);
  void GetReady(Exchange& x, const Params& params);
  void GetOpenApi(Exchange& x, const Params& params);
  void GetMetrics(Exchange& x, const Params& params);
  void GetKeys(Exchange& x, const Params& params);
  void PostRuntimeFacts(Exchange& x, const Params& params);
  void GetFactStream(Exchange& x, const Params& params);
  void GetBatchBlob(Exchange& x, const Params& params);
  void GetBatchProvenance(Exchange& x, const Params& params);
  void GetBatchAttestation(Exchange& x, const Params& params);
  void PostCallgraph(Exchange& x, const Params& params);
  void GetCallgraphsByPurl(Exchange& x, const Params& params);
  void GetCallgraphBlob(Exchange& x, const Params& params);
  void GetManifest(Exchange& x, const Params& params);
  void PostReachabilityQuery(Exchange& x, const Params& params);
  void PostReachabilityDrift(Exchange& x, const Params& params);
  void PostReachabilityVex(Exchange& x, const Params& params);

  // Reads a JSON body and runs kernel operation `op` with it as arguments.
  void PostJsonCall(Exchange& x, const std::string& op);
  // Streams the (decoded) body into a kernel ingest described by `request`
  // and answers the result with a Location of location_prefix + result[id_member].
  void Upload(Exchange& x, nlohmann::json request, const std::string& location_prefix, const char* id_member,
              int created_status, int existing_status);
  void CallJson(Exchange& x, nlohmann::json request, int success_status = 200);
  // For the public endpoints (health, readiness, public keys): credentials,
  // even unknown ones, are not passed on, so they never turn into a 401.
  void PublicJson(Exchange& x, const nlohmann::json& request);
  void Stream(Exchange& x, nlohmann::json request);
  void Problem(Exchange& x, int status, const std::string& code, const std::string& detail,
               const std::string& field = "");
  // Answers a problem JSON produced by the kernel (its "status" member).
  void KernelProblem(Exchange& x, const std::string& problem_json);
  // The answer to a body read_body could not deliver (x.error_status: 413
  // too large, 408 too slow, else 400).
  void BodyProblem(Exchange& x);
  nlohmann::json Credentials(const Exchange& x) const;
  // Answers 400 and returns false when a part of the request that may reach
  // the kernel (path segment, query parameter, header value) is not UTF-8.
  bool RequireUtf8(Exchange& x);

  const sdk::Host& host_;
  RouteLimits limits_;
};

// The OpenAPI 3 document served at /openapi.json.
const std::string& OpenApiDocument();

}  // namespace signals::http
