// Exchange: one HTTP request and the means to answer it, as the routes see
// them. The connection owns the socket; a route reads the body as a stream
// and answers exactly once (JSON, problem or a byte stream). Blocking calls;
// one exchange per connection thread at a time.
#pragma once

#include <boost/beast/http.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace signals::http {

namespace beast_http = boost::beast::http;

struct Exchange {
  beast_http::verb method;
  std::string target;                             // as received
  std::vector<std::string> segments;              // decoded path segments
  std::multimap<std::string, std::string> query;  // decoded
  const beast_http::fields* headers = nullptr;    // grows by a chunked body's trailer fields
  // The Authorization header as the request's header block had it, before
  // any body was read: credentials never come from a trailer.
  std::string authorization;
  uint64_t received_at_ms = 0;  // when the request's first byte arrived

  // Reads the next body chunk into `buffer`; returns bytes read, 0 at the
  // end, or -1 on failure (then `error_status`/`error_detail` say why).
  std::function<int64_t(char* buffer, size_t capacity)> read_body;
  int error_status = 0;
  std::string error_detail;

  // Answers. Each returns false when the client went away.
  std::function<bool(int status, const std::string& content_type, const std::string& body,
                     const std::vector<std::pair<std::string, std::string>>& extra_headers)>
      respond;
  // Streams `read` (returning bytes, 0 at end, -1 on failure) as the body.
  std::function<bool(int status, const std::string& content_type, const std::string& content_encoding,
                     const std::function<int64_t(char*, size_t)>& read)>
      respond_stream;

  std::string route = "unmatched";  // the route template, for metrics and logs
  int status = 0;                   // what was answered

  std::string Header(beast_http::field f) const {
    auto it = headers->find(f);
    return it == headers->end() ? std::string() : std::string(it->value());
  }
  std::string Header(const char* name) const {
    auto it = headers->find(name);
    return it == headers->end() ? std::string() : std::string(it->value());
  }
  std::string Query(const std::string& name) const {
    auto it = query.find(name);
    return it == query.end() ? std::string() : it->second;
  }
  bool HasQuery(const std::string& name) const { return query.count(name) != 0; }
};

}  // namespace signals::http
