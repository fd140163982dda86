#include "rekor_http.hpp"

#include <curl/curl.h>

#include <cctype>
#include <memory>
#include <mutex>

namespace signals::rekor {
namespace {

// curl_global_init is not safe to race with other curl calls; once per process.
void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Capture {
  HttpResponse* response;
  bool overflow = false;
};

size_t OnBody(char* data, size_t size, size_t count, void* ctx) {
  auto* capture = static_cast<Capture*>(ctx);
  size_t n = size * count;
  if (capture->response->body.size() + n > RekorHttp::kMaxResponseBytes) {
    capture->overflow = true;
    return 0;  // aborts the transfer
  }
  capture->response->body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* ctx) {
  auto* capture = static_cast<Capture*>(ctx);
  std::string line(data, size * count);
  static const std::string kLocation = "location:";
  if (line.size() > kLocation.size()) {
    bool match = true;
    for (size_t i = 0; i < kLocation.size() && match; ++i) {
      match = static_cast<char>(std::tolower(static_cast<unsigned char>(line[i]))) == kLocation[i];
    }
    if (match) {
      std::string value = line.substr(kLocation.size());
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
        value.pop_back();
      }
      capture->response->location = value;
    }
  }
  return size * count;
}

bool IsAbsoluteUrl(const std::string& s) { return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0; }

}  // namespace

RekorHttp::RekorHttp(std::string base_url, int64_t timeout_ms)
    : base_url_(std::move(base_url)), timeout_ms_(timeout_ms) {
  InitCurlOnce();
}

HttpResponse RekorHttp::PostJson(const std::string& path, const std::string& body) const {
  return Perform(base_url_ + path, &body);
}

HttpResponse RekorHttp::Get(const std::string& path_or_url) const {
  return Perform(IsAbsoluteUrl(path_or_url) ? path_or_url : base_url_ + path_or_url, nullptr);
}

HttpResponse RekorHttp::Perform(const std::string& url, const std::string* post_body) const {
  HttpResponse response;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) {
    response.transport_error = "curl_easy_init failed";
    return response;
  }
  Capture capture{&response};
  char error[CURL_ERROR_SIZE] = {0};
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM-based DNS timeouts
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms_));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout_ms_));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &capture);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &capture);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "signals-tlog-rekor/1.0");
  struct curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json");
  if (post_body != nullptr) {
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, post_body->data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(post_body->size()));
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(h);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    response.status = 0;
    response.transport_error =
        capture.overflow ? "the response is larger than " + std::to_string(kMaxResponseBytes) + " bytes"
                         : std::string(error[0] != '\0' ? error : curl_easy_strerror(rc));
    return response;
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace signals::rekor
