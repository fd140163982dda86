// RekorHttp: the few HTTP exchanges a Rekor v1 client needs (POST a proposed
// entry, GET an entry), over libcurl with a hard deadline per request. One
// curl easy handle per request, no redirects, http/https only, responses
// capped in size: a misbehaving log can make a call fail, never hang or
// exhaust memory. Thread-safety: every method may be called concurrently.
#pragma once

#include <cstdint>
#include <string>

namespace signals::rekor {

struct HttpResponse {
  long status = 0;              // 0 when no response arrived
  std::string body;             // at most kMaxResponseBytes
  std::string location;         // the Location header, if any
  std::string transport_error;  // what curl reported when status == 0
};

class RekorHttp {
 public:
  static constexpr size_t kMaxResponseBytes = 4 << 20;

  // REQUIRES: base_url is an http(s) URL without a trailing slash.
  RekorHttp(std::string base_url, int64_t timeout_ms);

  // POST {base}{path} with a JSON body.
  HttpResponse PostJson(const std::string& path, const std::string& body) const;
  // GET {base}{path}, or GET of an absolute http(s) URL (a Location header).
  HttpResponse Get(const std::string& path_or_url) const;

  const std::string& base_url() const { return base_url_; }

 private:
  HttpResponse Perform(const std::string& url, const std::string* post_body) const;
  std::string base_url_;
  int64_t timeout_ms_;
};

}  // namespace signals::rekor
