#include "routes.hpp"

#include <openssl/evp.h>
#include <signals/support/json_depth.hpp>

#include <map>
#include <memory>

#include "content_decoder.hpp"
#include "http_text.hpp"

namespace signals::http {
namespace {

constexpr const char* kJson = "application/json";
constexpr const char* kProblem = "application/problem+json";
constexpr const char* kNdjson = "application/x-ndjson";

std::string FormatMs(uint64_t unix_ms) {
  std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<unsigned>(unix_ms % 1000));
  return buffer;
}

bool AcceptsZstd(const Exchange& x) {
  std::string accept = Lower(x.Header(beast_http::field::accept_encoding));
  size_t pos = accept.find("zstd");
  if (pos == std::string::npos) return false;
  // "zstd;q=0" declines.
  std::string rest = accept.substr(pos + 4, 8);
  return rest.rfind(";q=0", 0) != 0 || rest.rfind(";q=0.", 0) == 0;
}

// The deepest JSON this transport parses and re-serialises (both recursive in
// nlohmann). The kernel enforces its own, configurable limit
// (kernel.max_json_depth, at most this) on what arrives; this ceiling only
// keeps the transport's own stack use bounded whatever a client sends.
constexpr size_t kJsonDepthCeiling = 1000;

// SHA-256 of a request body as it arrives on the wire (before any
// Content-Encoding is undone), for Content-Digest (RFC 9530 §2: the digest is
// over the content as sent).
class WireDigest {
 public:
  WireDigest() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr);
  }
  void Update(const char* data, size_t size) { EVP_DigestUpdate(ctx_.get(), data, size); }
  std::string FinishHex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_DigestFinal_ex(ctx_.get(), digest, &size);
    static const char* kHex = "0123456789abcdef";
    std::string hex = "sha256:";
    for (unsigned int i = 0; i < size; ++i) {
      hex.push_back(kHex[digest[i] >> 4]);
      hex.push_back(kHex[digest[i] & 15]);
    }
    return hex;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

}  // namespace

bool Routes::RequireUtf8(Exchange& x) {
  for (const auto& segment : x.segments) {
    if (!IsValidUtf8(segment)) {
      Problem(x, 400, "utf-8", "a path segment is not valid UTF-8 once percent-decoded", "path");
      return false;
    }
  }
  for (const auto& [name, value] : x.query) {
    if (!IsValidUtf8(name)) {
      Problem(x, 400, "utf-8", "a query parameter name is not valid UTF-8 once percent-decoded", "query");
      return false;
    }
    if (!IsValidUtf8(value)) {
      Problem(x, 400, "utf-8", "query parameter '" + name + "' is not valid UTF-8 once percent-decoded",
              name);
      return false;
    }
  }
  for (const auto& header : *x.headers) {
    if (!IsValidUtf8(std::string_view(header.value().data(), header.value().size()))) {
      // The value itself is not echoed: it may be a credential.
      std::string name(header.name_string());
      Problem(x, 400, "utf-8", "header " + name + " is not valid UTF-8", name);
      return false;
    }
  }
  return true;
}

nlohmann::json Routes::Credentials(const Exchange& x) const {
  const std::string& authorization = x.authorization;
  if (authorization.size() > 7 && Lower(authorization.substr(0, 7)) == "bearer ") {
    return {{"bearer", authorization.substr(7)}};
  }
  return nullptr;
}

void Routes::Problem(Exchange& x, int status, const std::string& code, const std::string& detail,
                     const std::string& field) {
  x.respond(status, kProblem, ProblemJson(status, code, detail, field), {});
}

void Routes::BodyProblem(Exchange& x) {
  const char* code = x.error_status == 413   ? "too-large"
                     : x.error_status == 408 ? "slow-body"
                                             : "bad-request";
  Problem(x, x.error_status, code, x.error_detail);
}

void Routes::KernelProblem(Exchange& x, const std::string& problem_json) {
  auto problem = nlohmann::json::parse(problem_json, nullptr, false);
  int status = problem.is_object() ? problem.value("status", 500) : 500;
  if (status < 400 || status > 599) status = 500;
  std::vector<std::pair<std::string, std::string>> headers;
  if (status == 401) headers.emplace_back("WWW-Authenticate", "Bearer realm=\"signals\"");
  x.respond(status, kProblem,
            problem.is_object() ? problem.dump() : ProblemJson(500, "internal", problem_json), headers);
}

void Routes::CallJson(Exchange& x, nlohmann::json request, int success_status) {
  request["credentials"] = Credentials(x);
  try {
    std::string result = host_.Call(request.dump());
    x.respond(success_status, kJson, result, {});
  } catch (const sdk::Error& e) {
    KernelProblem(x, e.what());
  }
}

void Routes::PublicJson(Exchange& x, const nlohmann::json& request) {
  try {
    x.respond(200, kJson, host_.Call(request.dump()), {});
  } catch (const sdk::Error& e) {
    KernelProblem(x, e.what());
  }
}

void Routes::Stream(Exchange& x, nlohmann::json request) {
  request["credentials"] = Credentials(x);
  try {
    sdk::ObjectStream stream = host_.OpenObject(request.dump());
    auto meta = nlohmann::json::parse(stream.metadata(), nullptr, false);
    std::string type =
        meta.is_object() ? meta.value("contentType", "application/octet-stream") : "application/octet-stream";
    std::string encoding = meta.is_object() ? meta.value("contentEncoding", "identity") : "identity";
    x.respond_stream(
        200, type, encoding == "identity" ? "" : encoding, [&](char* buffer, size_t capacity) -> int64_t {
          try {
            return static_cast<int64_t>(stream.Read(reinterpret_cast<uint8_t*>(buffer), capacity));
          } catch (const sdk::Error&) {
            return -1;
          }
        });
  } catch (const sdk::Error& e) {
    KernelProblem(x, e.what());
  }
}

namespace {

// One row per operation of the API: the method, the path template (also the
// metrics label of the route) and the handler. "{name}" matches one decoded
// path segment, handed to the handler in order. The first template that
// matches a path decides; its rows give the methods allowed (405 otherwise),
// so a literal segment ("ndjson", "by-purl") is listed before a parameter in
// the same place. GET rows answer HEAD too. /openapi.json describes exactly
// these rows (tests/request_checks_test.cpp compares both ways).
using Params = Routes::Params;

// True when `segments` fit `path`; the parameter segments go to `params`.
bool Matches(std::string_view path, const std::vector<std::string>& segments, Params* params);

}  // namespace

struct Routes::Route {
  beast_http::verb verb;
  const char* path;
  void (Routes::*handle)(Exchange& x, const Params& params);
};

const std::vector<Routes::Route>& Routes::RouteTable() {
  using V = beast_http::verb;
  static const std::vector<Route> kRoutes = {
      {V::get, "/healthz", &Routes::GetHealth},
      {V::get, "/readyz", &Routes::GetReady},
      {V::get, "/openapi.json", &Routes::GetOpenApi},
      {V::get, "/metrics", &Routes::GetMetrics},
      {V::get, "/signals/keys", &Routes::GetKeys},
      {V::post, "/signals/runtime-facts", &Routes::PostRuntimeFacts},
      {V::get, "/signals/runtime-facts/ndjson", &Routes::GetFactStream},
      {V::get, "/signals/runtime-facts/{batchId}", &Routes::GetBatchBlob},
      {V::get, "/signals/runtime-facts/{batchId}/provenance", &Routes::GetBatchProvenance},
      {V::get, "/signals/runtime-facts/{batchId}/attestation", &Routes::GetBatchAttestation},
      {V::post, "/signals/callgraphs", &Routes::PostCallgraph},
      {V::get, "/signals/callgraphs/by-purl/{purl}", &Routes::GetCallgraphsByPurl},
      {V::get, "/signals/callgraphs/{graphId}", &Routes::GetCallgraphBlob},
      {V::get, "/signals/callgraphs/{graphId}/manifest", &Routes::GetManifest},
      {V::post, "/signals/reachability/query", &Routes::PostReachabilityQuery},
      {V::post, "/signals/reachability/drift", &Routes::PostReachabilityDrift},
      {V::post, "/signals/reachability/vex", &Routes::PostReachabilityVex},
  };
  return kRoutes;
}

namespace {

bool Matches(std::string_view path, const std::vector<std::string>& segments, Params* params) {
  params->clear();
  size_t start = 1;  // after the leading '/'
  for (const std::string& segment : segments) {
    if (start > path.size()) return false;
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
      params->push_back(segment);
    } else if (part != segment) {
      return false;
    }
    start = end + 1;
  }
  return start > path.size();
}

}  // namespace

std::vector<std::pair<std::string, std::string>> Routes::Table() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Route& r : RouteTable()) out.emplace_back(std::string(beast_http::to_string(r.verb)), r.path);
  return out;
}

void Routes::Dispatch(Exchange& x) {
  if (!RequireUtf8(x)) {
    x.route = "invalid";
    return;
  }
  Params params;
  const char* matched = nullptr;
  std::string allowed;
  for (const Route& r : RouteTable()) {
    if (matched != nullptr ? std::string_view(r.path) != matched : !Matches(r.path, x.segments, &params))
      continue;
    if (r.handle == &Routes::GetMetrics && !limits_.serve_metrics)
      continue;  // as if there were no such route
    matched = r.path;
    x.route = r.path;
    if (x.method == r.verb || (r.verb == beast_http::verb::get && x.method == beast_http::verb::head)) {
      return (this->*r.handle)(x, params);
    }
    allowed += (allowed.empty() ? "" : ", ") + std::string(beast_http::to_string(r.verb));
  }
  if (matched != nullptr) {
    x.respond(405, kProblem,
              ProblemJson(405, "method-not-allowed",
                          std::string(beast_http::to_string(x.method)) + " is not allowed on " + matched),
              {{"Allow", allowed}});
    return;
  }
  x.route = "unmatched";
  Problem(x, 404, "not-found", "no route for " + x.target.substr(0, x.target.find('?')));
}

void Routes::GetHealth(Exchange& x, const Params&) { PublicJson(x, {{"op", "health"}}); }

void Routes::GetReady(Exchange& x, const Params&) { PublicJson(x, {{"op", "ready"}}); }

void Routes::GetOpenApi(Exchange& x, const Params&) { x.respond(200, kJson, OpenApiDocument(), {}); }

void Routes::GetMetrics(Exchange& x, const Params&) {
  try {
    // Rendered by the [metrics] plugin; 404 problem when none is configured.
    auto result = nlohmann::json::parse(host_.Call(R"({"op":"metrics"})"));
    x.respond(200, result.value("contentType", "text/plain; charset=utf-8"), result.value("text", ""), {});
  } catch (const sdk::Error& e) {
    KernelProblem(x, e.what());
  }
}

void Routes::GetKeys(Exchange& x, const Params&) { PublicJson(x, {{"op", "keys.list"}}); }

void Routes::GetBatchProvenance(Exchange& x, const Params& p) {
  CallJson(x, {{"op", "runtime-facts.provenance"}, {"batchId", p[0]}});
}

void Routes::GetBatchAttestation(Exchange& x, const Params& p) {
  nlohmann::json request = {{"op", "runtime-facts.attestation"}, {"batchId", p[0]}};
  if (x.HasQuery("format")) request["format"] = x.Query("format");
  CallJson(x, request);
}

void Routes::GetCallgraphsByPurl(Exchange& x, const Params& p) {
  nlohmann::json request = {{"op", "callgraphs.by-purl"}, {"purl", p[0]}};
  if (x.HasQuery("tenant")) request["tenant"] = x.Query("tenant");
  CallJson(x, request);
}

void Routes::GetCallgraphBlob(Exchange& x, const Params& p) {
  Stream(x,
         {{"op", "callgraphs.blob"}, {"graphId", p[0]}, {"encoding", AcceptsZstd(x) ? "zstd" : "identity"}});
}

void Routes::GetManifest(Exchange& x, const Params& p) {
  nlohmann::json request = {{"op", "callgraphs.manifest"}, {"graphId", p[0]}};
  if (x.HasQuery("format")) request["format"] = x.Query("format");
  CallJson(x, request);
}

void Routes::PostReachabilityQuery(Exchange& x, const Params&) { PostJsonCall(x, "reachability.query"); }

void Routes::PostReachabilityDrift(Exchange& x, const Params&) { PostJsonCall(x, "reachability.drift"); }

void Routes::PostReachabilityVex(Exchange& x, const Params&) { PostJsonCall(x, "reachability.vex"); }

void Routes::GetBatchBlob(Exchange& x, const Params& p) {
  nlohmann::json request = {{"op", "runtime-facts.blob"}, {"batchId", p[0]}};
  request["encoding"] = AcceptsZstd(x) ? "zstd" : "identity";
  Stream(x, request);
}

void Routes::GetFactStream(Exchange& x, const Params&) {
  nlohmann::json request = {{"op", "runtime-facts.stream"}, {"tenant", x.Query("tenant")}};
  if (x.HasQuery("callgraph_id")) request["callgraphId"] = x.Query("callgraph_id");
  if (x.HasQuery("since")) request["since"] = x.Query("since");
  std::string include = Lower(x.Query("include_provenance"));
  if (!include.empty() && include != "true" && include != "false" && include != "1" && include != "0") {
    return Problem(x, 400, "bool", "include_provenance must be true or false", "include_provenance");
  }
  request["includeProvenance"] = include == "true" || include == "1";
  Stream(x, request);
}

void Routes::PostJsonCall(Exchange& x, const std::string& op) {
  if (MediaType(x.Header(beast_http::field::content_type)) != "application/json") {
    return Problem(x, 415, "media-type", "the body must be application/json", "Content-Type");
  }
  // Questions are small documents; their answers may be large, their inputs not.
  constexpr size_t kMaxQuestionBytes = 16u << 20;
  std::string body;
  std::vector<char> buffer(64 * 1024);
  while (true) {
    int64_t n = x.read_body(buffer.data(), buffer.size());
    if (n < 0) {
      if (x.error_status == 0) return;
      return BodyProblem(x);
    }
    if (n == 0) break;
    if (body.size() + static_cast<size_t>(n) > kMaxQuestionBytes) {
      return Problem(x, 413, "too-large", "a reachability request is limited to 16 MiB");
    }
    body.append(buffer.data(), static_cast<size_t>(n));
  }
  if (!support::JsonDepthScanner(kJsonDepthCeiling).Scan(body)) {
    return Problem(x, 400, "max-depth",
                   "the body nests objects and arrays deeper than " + std::to_string(kJsonDepthCeiling),
                   "body");
  }
  auto request = nlohmann::json::parse(body, nullptr, false);
  if (!request.is_object()) return Problem(x, 400, "json", "the body is not a JSON object", "body");
  request["op"] = op;
  CallJson(x, request);
}

void Routes::PostCallgraph(Exchange& x, const Params&) {
  std::string media = MediaType(x.Header(beast_http::field::content_type));
  std::string format;
  if (media == "application/json") {
    format = "json";
  } else if (media == "application/x-ndjson" || media == "application/ndjson" ||
             media == "application/jsonl") {
    format = "ndjson";
  } else {
    return Problem(
        x, 415, "media-type",
        "callgraphs are application/json (stella.callgraph.v1, richgraph-v1) or application/x-ndjson "
        "(canonical), not '" +
            media + "'",
        "Content-Type");
  }
  auto arg = [&](const char* camel, const char* snake) {
    return x.HasQuery(camel) ? x.Query(camel) : x.Query(snake);
  };
  nlohmann::json request = {{"kind", "callgraph"},
                            {"tenant", x.Query("tenant")},
                            {"componentPurl", arg("componentPurl", "component_purl")},
                            {"language", x.Query("language")},
                            {"format", format}};
  if (x.HasQuery("source")) request["source"] = x.Query("source");
  Upload(x, request, "/signals/callgraphs/", "graphId", 201, 200);
}

void Routes::PostRuntimeFacts(Exchange& x, const Params&) {
  std::string media = MediaType(x.Header(beast_http::field::content_type));
  std::string format;
  if (media == "application/x-ndjson" || media == "application/ndjson" || media == "application/jsonl") {
    format = "ndjson";
  } else if (media == "application/json") {
    format = "json";
  } else {
    return Problem(x, 415, "media-type",
                   "runtime facts are application/x-ndjson or application/json, not '" + media + "'",
                   "Content-Type");
  }
  nlohmann::json request = {{"kind", "runtime-facts"},
                            {"tenant", x.Query("tenant")},
                            {"source", x.HasQuery("source") ? x.Query("source") : "http"},
                            {"format", format},
                            {"receivedAt", FormatMs(x.received_at_ms)},
                            {"credentials", Credentials(x)}};
  std::string callgraph_id = x.HasQuery("callgraph_id") ? x.Query("callgraph_id") : x.Query("callgraphId");
  if (!callgraph_id.empty()) request["callgraphId"] = callgraph_id;
  std::string digest_header = x.Header("Content-Digest");
  std::string provenance_header = x.Header("X-Provenance-Hash");
  // Content-Digest covers the bytes as sent; Upload checks it. An NDJSON
  // body without a Content-Encoding is stored as sent, so its digest is also
  // the batch's provenance hash, which the kernel checks and records. (A JSON
  // form body is not what is stored: its events become canonical lines.)
  if (!digest_header.empty() && format == "ndjson" &&
      IsIdentityEncoding(x.Header(beast_http::field::content_encoding))) {
    auto digest = ParseContentDigest(digest_header);
    if (!digest)
      return Problem(x, 400, "content-digest", "Content-Digest needs a sha-256=:<base64>: member",
                     "Content-Digest");
    request["provenanceHash"] = *digest;
  }
  if (!provenance_header.empty()) {
    if (request.contains("provenanceHash") && request["provenanceHash"] != provenance_header) {
      return Problem(x, 400, "provenance-hash", "Content-Digest and X-Provenance-Hash disagree",
                     "X-Provenance-Hash");
    }
    request["provenanceHash"] = provenance_header;
  }
  std::string idempotency_key = x.Header("Idempotency-Key");
  if (!idempotency_key.empty()) request["idempotencyKey"] = idempotency_key;

  Upload(x, request, "/signals/runtime-facts/", "batchId", 201, 201);
}

void Routes::Upload(Exchange& x, nlohmann::json request, const std::string& location_prefix,
                    const char* id_member, int created_status, int existing_status) {
  auto decoder = ContentDecoder::For(x.Header(beast_http::field::content_encoding), limits_.max_zstd_window);
  if (!decoder) {
    return Problem(x, 415, "content-encoding", "Content-Encoding must be identity, zstd or gzip",
                   "Content-Encoding");
  }
  std::optional<std::string> content_digest;
  std::optional<WireDigest> wire_digest;
  if (std::string header = x.Header("Content-Digest"); !header.empty()) {
    content_digest = ParseContentDigest(header);
    if (!content_digest) {
      return Problem(x, 400, "content-digest", "Content-Digest needs a sha-256=:<base64>: member",
                     "Content-Digest");
    }
    wire_digest.emplace();
  }
  request["credentials"] = Credentials(x);
  request["receivedAt"] = FormatMs(x.received_at_ms);
  sdk::Ingest* ingest_ptr = nullptr;
  std::optional<sdk::Ingest> ingest;
  try {
    ingest.emplace(host_.BeginIngest(request.dump()));
    ingest_ptr = &*ingest;
  } catch (const sdk::Error& e) {
    return KernelProblem(x, e.what());
  }
  uint64_t decoded_bytes = 0;
  std::string rejection;  // a problem JSON from the kernel
  int local_status = 0;
  std::string local_code, local_detail;
  auto sink = [&](std::string_view bytes) {
    decoded_bytes += bytes.size();
    if (decoded_bytes > limits_.max_body_bytes) {
      local_status = 413;
      local_code = "too-large";
      local_detail =
          "the decoded body is larger than max_body_bytes (" + std::to_string(limits_.max_body_bytes) + ")";
      return false;
    }
    try {
      ingest_ptr->Write(bytes.data(), bytes.size());
    } catch (const sdk::Error& e) {
      rejection = e.what();
      return false;
    }
    return true;
  };
  std::vector<char> buffer(64 * 1024);
  while (true) {
    int64_t n = x.read_body(buffer.data(), buffer.size());
    if (n < 0) {
      // The client went away or broke HTTP: nothing is stored (the ingest
      // aborts when it goes out of scope).
      if (x.error_status == 0) return;
      return BodyProblem(x);
    }
    if (wire_digest && n > 0) wire_digest->Update(buffer.data(), static_cast<size_t>(n));
    std::string error =
        n == 0 ? decoder->Finish(sink) : decoder->Write(std::string_view(buffer.data(), n), sink);
    if (!rejection.empty()) return KernelProblem(x, rejection);
    if (local_status != 0) return Problem(x, local_status, local_code, local_detail);
    if (!error.empty()) return Problem(x, 400, "content-encoding", error, "Content-Encoding");
    if (n == 0) break;
  }
  if (wire_digest) {
    // Checked before Finish: a body that does not match what the client
    // says it sent is not stored (the ingest aborts when it goes out of scope).
    std::string actual = wire_digest->FinishHex();
    if (actual != *content_digest) {
      return Problem(x, 422, "content-digest",
                     "Content-Digest says " + *content_digest + " but the body as sent hashes to " + actual,
                     "Content-Digest");
    }
  }
  try {
    bool created = true;
    std::string record = ingest->Finish(&created);
    auto doc = nlohmann::json::parse(record, nullptr, false);
    std::string id = doc.is_object() ? doc.value(id_member, "") : "";
    // An existing identical object answers existing_status (a replayed
    // Idempotency-Key answers what the first request answered).
    x.respond(created ? created_status : existing_status, kJson, record,
              {{"Location", location_prefix + id}});
  } catch (const sdk::Error& e) {
    KernelProblem(x, e.what());
  }
}

}  // namespace signals::http
