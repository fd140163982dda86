// tlog-rekor: a Rekor v1 REST client. Submits DSSE envelopes as dsse 0.0.1
// entries and returns the whole entry the log answers with; the kernel checks
// it against the log's public key (public_key_file) before it counts as
// logged. A 409 for an envelope the log already holds yields that existing
// entry, so a retried submission never creates a second one.
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <signals/plugin.hpp>

#include <fstream>
#include <memory>
#include <sstream>

#include "rekor_entry.hpp"
#include "rekor_http.hpp"

namespace {

using signals::sdk::Error;

constexpr const char* kEntriesPath = "/api/v1/log/entries";

// The SubjectPublicKeyInfo PEM of the log's key, re-encoded, or an error
// naming the file and what is wrong with it.
std::string ReadLogPublicKey(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(SIGNALS_INVALID_CONFIG, "public_key_file: cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string pem = text.str();
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
                                                &BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  if (!key) {
    throw Error(SIGNALS_INVALID_CONFIG,
                "public_key_file: " + path + " holds no PEM public key (-----BEGIN PUBLIC KEY-----)");
  }
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), &BIO_free);
  if (PEM_write_bio_PUBKEY(out.get(), key.get()) != 1) {
    throw Error(SIGNALS_INVALID_CONFIG, "public_key_file: cannot re-encode the key in " + path);
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string NormaliseUrl(std::string url) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    throw Error(SIGNALS_INVALID_CONFIG, "url: '" + url + "' is not an http:// or https:// URL");
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

class RekorLog : public signals::sdk::TlogComponent {
 public:
  static constexpr const char* kName = "tlog-rekor";
  static constexpr const char* kDescription =
      "Rekor v1 transparency log client: submits DSSE envelopes as dsse 0.0.1 entries (libcurl).";
  // Every call uses its own curl handle; nothing is shared after create.
  static constexpr uint64_t kCapabilities = SIGNALS_CAP_CONCURRENT;

  static signals::sdk::OptionList Options() {
    using signals::sdk::Option;
    static const signals_option options[] = {
        Option("url", SIGNALS_OPT_STRING, "https://rekor.sigstore.dev",
               "Base URL of the Rekor v1 REST API (http:// or https://)."),
        Option("timeout", SIGNALS_OPT_DURATION, "5s",
               "Deadline of one request to the log, connect included. A submission is one request (two "
               "after a 409: the existing entry is fetched); ingest waits no longer before it queues it.",
               0, nullptr, 100, 300000),
        Option("public_key_file", SIGNALS_OPT_PATH, nullptr,
               "The log's public key (PEM SubjectPublicKeyInfo), to check every entry it returns "
               "(GET /api/v1/log/publicKey of the log).",
               SIGNALS_OPTF_REQUIRED),
        Option("retry_max_interval", SIGNALS_OPT_DURATION, "5m",
               "Upper bound of the backoff between retries of a queued submission (the kernel's "
               "retry loop doubles the interval from 1s, with jitter, up to this).",
               0, nullptr, 100, 86400000),
    };
    return signals::sdk::MakeOptionList(options);
  }

  RekorLog(const signals::sdk::Host&, const signals::sdk::Config& config)
      : url_(NormaliseUrl(config.Get("url"))),
        http_(url_, config.GetInt("timeout")),
        log_public_key_pem_(ReadLogPublicKey(config.Get("public_key_file"))) {}

  std::string Submit(const std::string& envelope_json, const std::string& public_key_pem) override {
    const std::string proposed = signals::rekor::ProposedDsseEntry(envelope_json, public_key_pem);
    signals::rekor::HttpResponse posted = http_.PostJson(kEntriesPath, proposed);
    if (posted.status == 201 || posted.status == 200) return Flatten(posted, "POST");
    if (posted.status == 409) return Existing(posted);
    throw Failure(posted, "POST " + std::string(kEntriesPath));
  }

  std::string LogPublicKeyPem() const override { return log_public_key_pem_; }
  const std::string& Url() const override { return url_; }

 private:
  // A 409 means the log holds an equivalent entry: fetch it where the log
  // says, on this log only. Failing to fetch it is never a refusal of ours.
  std::string Existing(const signals::rekor::HttpResponse& conflict) {
    auto uuid = signals::rekor::ConflictingUuid(conflict.location, conflict.body);
    if (!uuid) {
      throw Error(SIGNALS_RETRY, "the log answered 409 but named no existing entry (no Location, no uuid)");
    }
    const bool same_log = conflict.location.rfind("/", 0) == 0 || conflict.location.rfind(url_ + "/", 0) == 0;
    std::string where = same_log ? conflict.location : std::string(kEntriesPath) + "/" + *uuid;
    signals::rekor::HttpResponse fetched = http_.Get(where);
    if (fetched.status == 200) return Flatten(fetched, "GET");
    Error failure = Failure(fetched, "GET " + where + " (the existing entry of a 409)");
    throw Error(SIGNALS_RETRY, failure.what());
  }

  static std::string Flatten(const signals::rekor::HttpResponse& response, const std::string& what) {
    try {
      return signals::rekor::FlattenLogEntry(response.body);
    } catch (const std::exception& e) {
      // A log that answers garbage is broken, not refusing: try again later.
      throw Error(SIGNALS_RETRY, what + " answered " + std::to_string(response.status) + ": " + e.what());
    }
  }

  Error Failure(const signals::rekor::HttpResponse& response, const std::string& what) const {
    if (response.status == 0) {
      return Error(SIGNALS_RETRY, what + ": " + url_ + " unreachable: " + response.transport_error);
    }
    const std::string reason = signals::rekor::RefusalReason(response.status, response.body);
    if (response.status >= 400 && response.status < 500 && response.status != 408 && response.status != 429) {
      return Error(SIGNALS_INVALID_ARGUMENT, reason);
    }
    return Error(SIGNALS_RETRY, what + ": " + reason);
  }

  std::string url_;
  signals::rekor::RekorHttp http_;
  std::string log_public_key_pem_;
};

}  // namespace

SIGNALS_PLUGIN("tlog-rekor", "1.0.0", "Rekor v1 transparency log client", RekorLog)
