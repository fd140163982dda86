// ServiceApi::Open: the byte streams — one stored blob (as stored, or
// decompressed on the fly), and the NDJSON stream over many batches. Memory
// per stream is a few buffers, whatever the sizes involved.
#include <zstd.h>

#include <cstring>

#include <deque>

#include "base/timestamp.hpp"
#include "base/ulid.hpp"
#include "core/kernel.hpp"
#include "core/tenant_registry.hpp"
#include "ingest/callgraph_store.hpp"
#include "retention/retention.hpp"
#include "service/service_api.hpp"
#include "service/service_internal.hpp"

namespace signals {
namespace {

// Reads a stored object as it is.
class StoredSource : public ObjectSource {
 public:
  explicit StoredSource(std::unique_ptr<CasStore::Reader> reader) : reader_(std::move(reader)) {}
  Result<size_t> Read(uint8_t* buffer, size_t capacity) override { return reader_->Read(buffer, capacity); }

 private:
  std::unique_ptr<CasStore::Reader> reader_;
};

// Reads a stored zstd object decompressed.
class DecompressingSource : public ObjectSource {
 public:
  explicit DecompressingSource(std::unique_ptr<CasStore::Reader> reader)
      : reader_(std::move(reader)), dctx_(ZSTD_createDCtx()), in_(ZSTD_DStreamInSize(), '\0') {}
  ~DecompressingSource() override { ZSTD_freeDCtx(dctx_); }

  Result<size_t> Read(uint8_t* buffer, size_t capacity) override {
    while (true) {
      if (in_pos_ == in_len_ && !eof_) {
        auto n = reader_->Read(reinterpret_cast<uint8_t*>(in_.data()), in_.size());
        if (!n.ok()) return n.status();
        in_len_ = *n;
        in_pos_ = 0;
        eof_ = *n == 0;
      }
      ZSTD_inBuffer in{in_.data(), in_len_, in_pos_};
      ZSTD_outBuffer out{buffer, capacity, 0};
      size_t hint = ZSTD_decompressStream(dctx_, &out, &in);
      in_pos_ = in.pos;
      if (ZSTD_isError(hint)) {
        return Status::Internal(std::string("stored object is corrupt: ") + ZSTD_getErrorName(hint));
      }
      if (hint == 0)
        frame_done_ = true;
      else if (in.pos > 0 || out.pos > 0)
        frame_done_ = false;
      if (out.pos > 0) return out.pos;
      if (eof_ && in_pos_ == in_len_) {
        if (!frame_done_) return Status::Internal("stored object ends inside a zstd frame");
        return size_t{0};
      }
    }
  }

 private:
  std::unique_ptr<CasStore::Reader> reader_;
  ZSTD_DCtx* dctx_;
  std::string in_;
  size_t in_len_ = 0;
  size_t in_pos_ = 0;
  bool eof_ = false;
  bool frame_done_ = true;
};

// Streams the facts of many batches as one NDJSON document, ordered by
// ingestedAt, batchId, line; optionally with provenance members on each line.
class FactStreamSource : public ObjectSource {
 public:
  FactStreamSource(Kernel& kernel, std::vector<nlohmann::json> batches, bool include_provenance,
                   size_t max_line_bytes)
      : kernel_(kernel),
        batches_(std::move(batches)),
        include_provenance_(include_provenance),
        max_line_bytes_(max_line_bytes) {}

  Result<size_t> Read(uint8_t* buffer, size_t capacity) override {
    if (!include_provenance_) return ReadRaw(buffer, capacity);
    while (out_.size() - out_pos_ == 0) {
      out_.clear();
      out_pos_ = 0;
      auto open = EnsureBatch();
      if (!open.ok()) return open.status();
      if (!*open) return size_t{0};
      auto n = current_->Read(chunk_, sizeof(chunk_));
      if (!n.ok()) return n.status();
      if (*n == 0) {
        SIGNALS_RETURN_IF_ERROR(FlushLine());
        current_.reset();
        continue;
      }
      SIGNALS_RETURN_IF_ERROR(Consume(std::string_view(reinterpret_cast<char*>(chunk_), *n)));
    }
    size_t n = std::min(capacity, out_.size() - out_pos_);
    std::memcpy(buffer, out_.data() + out_pos_, n);
    out_pos_ += n;
    return n;
  }

 private:
  // Opens the next batch unless one is open; false after the last one.
  Result<bool> EnsureBatch() {
    while (!current_) {
      if (next_ >= batches_.size()) return false;
      // Leaves current_ null for a batch expired since the stream began.
      SIGNALS_RETURN_IF_ERROR(OpenBatch(batches_[next_++]));
    }
    return true;
  }

  // The stored lines as they are: decompressed straight into the caller's
  // buffer, which is filled across batch boundaries (fewer, fuller chunks).
  Result<size_t> ReadRaw(uint8_t* buffer, size_t capacity) {
    size_t filled = 0;
    while (filled < capacity) {
      if (newline_owed_) {
        buffer[filled++] = '\n';
        newline_owed_ = false;
        continue;
      }
      auto open = EnsureBatch();
      if (!open.ok()) return open.status();
      if (!*open) break;
      auto n = current_->Read(buffer + filled, capacity - filled);
      if (!n.ok()) return n.status();
      if (*n == 0) {
        // Keep the stream NDJSON even if a stored blob lacks its final newline.
        newline_owed_ = last_byte_ != '\n' && last_byte_ != 0;
        last_byte_ = 0;
        current_.reset();
        continue;
      }
      filled += *n;
      last_byte_ = static_cast<char>(buffer[filled - 1]);
    }
    return filled;
  }

  // Opens the batch's blob; leaves current_ empty when retention expired the
  // batch after the stream listed it (the stream skips it, as it would have).
  Status OpenBatch(const nlohmann::json& row) {
    auto reader = kernel_.cas().Open(row.value("blobKey", ""));
    if (!reader.ok()) {
      Status missing =
          GoneIfExpiredSince(kernel_.index(), kRuntimeFactsKind, row.value("batchId", ""), reader.status());
      return missing.code() == Code::kGone ? Status::Ok() : missing;
    }
    current_ = std::make_unique<DecompressingSource>(std::move(*reader));
    provenance_hash_ = row.value("provenanceHash", "");
    callgraph_id_ = row.value("callgraphId", "");
    batch_id_ = row.value("batchId", "");
    return Status::Ok();
  }

  Status Consume(std::string_view bytes) {
    size_t start = 0;
    while (start < bytes.size()) {
      size_t nl = bytes.find('\n', start);
      if (nl == std::string_view::npos) {
        line_.append(bytes.substr(start));
        if (line_.size() > max_line_bytes_) return Status::Internal("stored line longer than max_line_bytes");
        break;
      }
      line_.append(bytes.substr(start, nl - start));
      SIGNALS_RETURN_IF_ERROR(FlushLine());
      start = nl + 1;
    }
    return Status::Ok();
  }

  Status FlushLine() {
    bool blank = line_.find_first_not_of(" \t\r") == std::string::npos;
    if (!blank) {
      auto fact = nlohmann::json::parse(line_, nullptr, false);
      if (!fact.is_object())
        return Status::Internal("stored fact of batch " + batch_id_ + " is not a JSON object");
      fact["provenance_hash"] = provenance_hash_;
      fact["callgraph_id"] = callgraph_id_;
      fact["batch_id"] = batch_id_;
      out_ += fact.dump();
      out_.push_back('\n');
    }
    line_.clear();
    return Status::Ok();
  }

  Kernel& kernel_;
  std::vector<nlohmann::json> batches_;
  bool include_provenance_;
  size_t max_line_bytes_;
  size_t next_ = 0;
  std::unique_ptr<DecompressingSource> current_;
  uint8_t chunk_[64 * 1024];
  std::string line_;
  std::string out_;
  size_t out_pos_ = 0;
  char last_byte_ = 0;         // raw mode: the last byte of the current batch so far
  bool newline_owed_ = false;  // raw mode: a batch ended without '\n'
  std::string provenance_hash_, callgraph_id_, batch_id_;
};

// A stored .ndjson.zst object as the client asked for it: the frame as is
// (request.encoding "zstd") or decompressed on the fly (`plain_size` bytes).
Result<std::unique_ptr<ObjectSource>> ServeStoredNdjson(const nlohmann::json& request,
                                                        std::unique_ptr<CasStore::Reader> reader,
                                                        uint64_t plain_size, nlohmann::json* metadata) {
  auto encoding = service_internal::StringArg(request, "encoding", false);
  if (!encoding.ok()) return encoding.status();
  (*metadata)["contentType"] = "application/x-ndjson";
  if (*encoding == "zstd") {
    (*metadata)["contentEncoding"] = "zstd";
    (*metadata)["size"] = reader->size();
    return std::unique_ptr<ObjectSource>(new StoredSource(std::move(reader)));
  }
  (*metadata)["contentEncoding"] = "identity";
  if (plain_size > 0) (*metadata)["size"] = plain_size;
  return std::unique_ptr<ObjectSource>(new DecompressingSource(std::move(reader)));
}

}  // namespace

Result<std::unique_ptr<ObjectSource>> ServiceApi::Open(const nlohmann::json& request,
                                                       const Principal& principal, nlohmann::json* metadata) {
  using namespace service_internal;
  auto op = StringArg(request, "op", true);
  if (!op.ok()) return op.status();

  if (*op == "runtime-facts.blob") {
    auto row = LoadBatchRow(kernel_, request, principal, Resource::kRuntimeFacts);
    if (!row.ok()) return row.status();
    SIGNALS_RETURN_IF_ERROR(GoneIfExpired(kRuntimeFactsKind, *row));
    auto reader = kernel_.cas().Open(row->value("blobKey", ""));
    if (!reader.ok()) {
      return GoneIfExpiredSince(kernel_.index(), kRuntimeFactsKind, row->value("batchId", ""),
                                reader.status());
    }
    return ServeStoredNdjson(request, std::move(*reader), row->value("sizeBytes", uint64_t{0}), metadata);
  }

  if (*op == "callgraphs.blob") {
    auto record = LoadCallgraphRecord(kernel_, request, principal, Resource::kCallgraphs);
    if (!record.ok()) return record.status();
    auto reader = CallgraphStore(kernel_).OpenBlob(record->value("graphId", ""));
    if (!reader.ok()) return reader.status();
    return ServeStoredNdjson(request, std::move(*reader), record->value("sizeBytes", uint64_t{0}), metadata);
  }

  if (*op == "runtime-facts.stream") {
    SIGNALS_RETURN_IF_ERROR(RequireAuthenticated(principal));
    auto tenant = StringArg(request, "tenant", true);
    if (!tenant.ok()) return tenant.status();
    SIGNALS_RETURN_IF_ERROR(ValidateTenantName(*tenant, "tenant"));
    SIGNALS_RETURN_IF_ERROR(
        Authorize(kernel_.policy(), principal, *tenant, Resource::kRuntimeFacts, Action::kRead));
    SIGNALS_RETURN_IF_ERROR(kernel_.tenants().Check(*tenant, "tenant"));
    auto callgraph_id = StringArg(request, "callgraphId", false);
    if (!callgraph_id.ok()) return callgraph_id.status();
    auto since = StringArg(request, "since", false);
    if (!since.ok()) return since.status();
    nlohmann::json query = {{"where", {{"tenantId", *tenant}}}, {"orderBy", "ingestedAt"}};
    if (!callgraph_id->empty()) {
      SIGNALS_RETURN_IF_ERROR(ValidateUlid(*callgraph_id, "callgraph_id"));
      query["where"]["callgraphId"] = *callgraph_id;
    }
    if (!since->empty()) {
      auto t = ParseRfc3339(*since);
      if (!t.ok()) return t.status().WithField("since");
      // ingestedAt values are fixed-width UTC strings, so string order is time
      // order; "after" is strict, so start one millisecond earlier.
      query["after"] = FormatRfc3339Millis(*t - 1);
    }
    bool include_provenance = request.value("includeProvenance", false);
    std::vector<nlohmann::json> batches;
    Status s = kernel_.index().Query("batches", query.dump(), [&](const std::string& record) {
      auto row = nlohmann::json::parse(record, nullptr, false);
      if (!row.is_object()) return;
      // Batches expired by retention have no facts any more: the stream
      // skips them (their rows and attestations stay).
      if (IsExpired(row)) return;
      // Only what streaming needs, so that memory stays small per batch.
      batches.push_back({{"blobKey", row.value("blobKey", "")},
                         {"provenanceHash", row.value("provenanceHash", "")},
                         {"callgraphId", row.value("callgraphId", "")},
                         {"batchId", row.value("batchId", "")}});
    });
    SIGNALS_RETURN_IF_ERROR(s);
    (*metadata)["contentType"] = "application/x-ndjson";
    (*metadata)["contentEncoding"] = "identity";
    (*metadata)["batches"] = batches.size();
    return std::unique_ptr<ObjectSource>(
        new FactStreamSource(kernel_, std::move(batches), include_provenance,
                             static_cast<size_t>(kernel_.config().GetInt("kernel", "max_line_bytes"))));
  }
  return Status::Invalid("op", "op", "unknown stream operation '" + *op + "'");
}

}  // namespace signals
