/*
 * signals/plugin.h — the Signals plugin ABI, version 1.3.
 *
 * This one C99 header is the whole contract between the Signals kernel and a
 * plugin shared library. Nothing else crosses the boundary: no C++ types, no
 * exceptions, no allocator. Bytes cross as {pointer, length}. Plugin authors who
 * prefer C++ use the header-only wrapper <signals/plugin.hpp>.
 *
 * Rules that hold for every function in this file:
 *
 *  - Versioning. The kernel loads a plugin when its ABI major equals the
 *    kernel's and its ABI minor is not greater than the kernel's. Structures
 *    only ever grow at the end; each starts with `struct_size`, so either side
 *    can tell which fields the other knows. A change of threading or ownership
 *    rules is a major bump.
 *  - Ownership is in the names. Buffers the host passes in are valid during the
 *    call only. Strings a plugin returns (last_error, descriptor strings) stay
 *    valid until the next call on the same instance (descriptor strings: for the
 *    life of the library). Whoever allocates frees. Variable-sized results are
 *    handed over through a `signals_sink` callback, which copies.
 *  - Errors. Every call returns a signals_status. The text of the last failure
 *    of an instance comes from `last_error(instance)`.
 *  - Threading. create/destroy and start/stop are called on one control thread.
 *    Calls on one instance are serialised by the kernel unless the component
 *    declares SIGNALS_CAP_CONCURRENT. Host callbacks are thread-safe. A plugin
 *    that starts threads joins them in `destroy` (or `stop`).
 */
#ifndef SIGNALS_PLUGIN_H
#define SIGNALS_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Versions                                                                  */
/* ------------------------------------------------------------------------ */

#define SIGNALS_PLUGIN_MAGIC 0x5349474e414c5331ULL /* "SIGNALS1" */
#define SIGNALS_ABI_MAJOR 1
#define SIGNALS_ABI_MINOR 3
#define SIGNALS_SDK_VERSION "0.1.0"

/* The one symbol a plugin library exports. */
#define SIGNALS_PLUGIN_ENTRY_SYMBOL "signals_plugin_entry"

/* ------------------------------------------------------------------------ */
/* Basic types                                                               */
/* ------------------------------------------------------------------------ */

typedef int32_t signals_status;
#define SIGNALS_OK 0
#define SIGNALS_ERROR 1             /* permanent failure; see last_error */
#define SIGNALS_RETRY 2             /* transient failure; the kernel backs off with jitter */
#define SIGNALS_AGAIN 3             /* no data yet; call again */
#define SIGNALS_EOF 4               /* end of a stream */
#define SIGNALS_NOT_SUPPORTED 5     /* the operation is not provided */
#define SIGNALS_INVALID_CONFIG 6    /* create() rejected its options */
#define SIGNALS_NOT_FOUND 7         /* the named object or record does not exist */
#define SIGNALS_EXISTS 8            /* the object or record already exists */
#define SIGNALS_NO_SPACE 9          /* storage is full */
#define SIGNALS_INVALID_ARGUMENT 10 /* the input broke a rule; see last_error */

/* A borrowed byte range. */
typedef struct signals_bytes {
  const uint8_t* data;
  size_t len;
} signals_bytes;

/* Receives a variable-sized result. The callee calls it zero or more times
 * during the call; the bytes are valid only during the sink call, so the
 * receiver copies them. `ctx` is passed back unchanged. */
typedef void (*signals_sink)(void* ctx, const uint8_t* data, size_t len);

/* Log levels for signals_host.log. */
#define SIGNALS_LOG_TRACE 0
#define SIGNALS_LOG_DEBUG 1
#define SIGNALS_LOG_INFO 2
#define SIGNALS_LOG_WARN 3
#define SIGNALS_LOG_ERROR 4

/* ------------------------------------------------------------------------ */
/* Options: declared by plugins, validated by the kernel                      */
/* ------------------------------------------------------------------------ */

#define SIGNALS_OPT_STRING 0
#define SIGNALS_OPT_INT 1      /* decimal int64; min/max apply */
#define SIGNALS_OPT_BOOL 2     /* true/false/yes/no/on/off/1/0 */
#define SIGNALS_OPT_PATH 3     /* a filesystem path; relative paths resolve against the data dir */
#define SIGNALS_OPT_ENUM 4     /* one of enum_values */
#define SIGNALS_OPT_DURATION 5 /* integer with unit: 500ms, 30s, 5m, 2h, 7d; passed to create in ms */
#define SIGNALS_OPT_SIZE 6     /* integer with unit: 512, 64KiB, 16MiB, 1GiB; passed to create in bytes */

#define SIGNALS_OPTF_REQUIRED 0x1u /* no default; the config must set it */
#define SIGNALS_OPTF_SECRET 0x2u   /* the value is never logged or printed */

typedef struct signals_option {
  uint32_t struct_size;      /* sizeof(signals_option) */
  const char* name;          /* [a-z][a-z0-9_]*, unique within the component */
  uint32_t type;             /* SIGNALS_OPT_* */
  uint32_t flags;            /* SIGNALS_OPTF_* */
  const char* default_value; /* textual default, or NULL for none */
  const char* description;   /* one sentence for --help */
  const char* enum_values;   /* SIGNALS_OPT_ENUM: "a|b|c"; else NULL */
  /* SIGNALS_OPT_INT/DURATION/SIZE bounds, inclusive, in the normalised unit
   * (milliseconds, bytes). They apply only when min_value < max_value: both 0
   * means unbounded; for one bound, put INT64_MIN or INT64_MAX on the open side. */
  int64_t min_value;
  int64_t max_value;
} signals_option;

/* One validated option value, normalised by the kernel: defaults filled in,
 * booleans as "true"/"false", durations in milliseconds, sizes in bytes, paths
 * absolute. */
typedef struct signals_option_value {
  const char* name;
  const char* value;
} signals_option_value;

typedef struct signals_config {
  uint32_t struct_size;      /* sizeof(signals_config) */
  const char* instance_name; /* the config section, e.g. "cas" or "source.spool-a" */
  const char* data_dir;      /* absolute path of the deployment's data directory */
  const signals_option_value* values;
  size_t value_count;
  /* --- Added in ABI 1.3 (check struct_size before reading) --- */
  /* A source instance's own directory for state that must survive restarts
   * (file offsets, checkpoints): <data_dir>/state/<instance_name>, created by
   * the kernel (mode 0750) before create. NULL for other kinds. Nothing else
   * writes there; the plugin makes its writes durable itself. */
  const char* state_dir;
} signals_config;

/* ------------------------------------------------------------------------ */
/* The host table: how a plugin reaches the kernel                            */
/* ------------------------------------------------------------------------ */

/* An ingest started through the service API. Opaque to plugins. */
typedef struct signals_ingest signals_ingest;
/* A stored object opened for reading through the service API (ABI 1.1). */
typedef struct signals_object signals_object;

typedef struct signals_host {
  uint32_t struct_size; /* sizeof(signals_host) as the kernel knows it */
  uint32_t abi_major;
  uint32_t abi_minor;
  void* ctx; /* pass back as the first argument of every call below */

  /* Logging. `component` names the instance; `message` must not hold secrets. */
  void (*log)(void* ctx, int32_t level, const char* component, const char* message);

  /* Wall clock, milliseconds since the Unix epoch, UTC. */
  int64_t (*now_unix_ms)(void* ctx);

  /* Metrics. `labels` is "key=value,key=value" (values must not contain ',' or
   * '='), or "" for none. Metrics are created on first use. */
  void (*counter_add)(void* ctx, const char* name, const char* labels, double delta);
  void (*gauge_set)(void* ctx, const char* name, const char* labels, double value);
  void (*histogram_observe)(void* ctx, const char* name, const char* labels, double value);

  /* Service API, for transports and sources.
   *
   * Who is calling: the kernel gives every instance its own host table. Calls
   * from a source instance act as the principal "signals-service"; calls from
   * a transport instance are authenticated from the request's
   * "credentials": {"bearer": "<token>"} and checked against the access policy
   * (missing or unknown credentials: HTTP status 401 in the problem; a known
   * principal without the permission: 403).
   *
   * ingest_begin starts an ingest described by `request_json`, a JSON object:
   *   {"kind": "runtime-facts", "tenant": "...", "callgraphId": "...",
   *    "source": "...", "receivedAt": "RFC 3339"?,
   *    "provenanceHash": "sha256:..."?, "credentials": {...}?,
   *    "idempotencyKey": "..."?, "format": "ndjson" | "json"?}
   * ("json" = a {"callgraphId", "events": [...]} document, ABI 1.1).
   * Bytes are then streamed with ingest_write, in chunks of any size.
   * ingest_finish validates the end of input, stores, signs and commits; it
   * passes the JSON result (the provenance record) to `sink` and returns
   * SIGNALS_OK; or passes the result of an earlier identical request (same
   * Idempotency-Key and body) and returns SIGNALS_EXISTS; or passes an RFC 9457
   * problem JSON object to `sink` and returns a failure status:
   *   SIGNALS_NOT_FOUND         the request names a tenant or callgraph the
   *                             kernel does not know (ABI >= 1.3): a problem of
   *                             configuration, not of the bytes; fix it and
   *                             send the same bytes again;
   *   SIGNALS_INVALID_ARGUMENT  the bytes broke a rule (a bad line, bad JSON,
   *                             a limit); sending them again fails again;
   *   SIGNALS_RETRY             the kernel or a plugin it needs is unavailable;
   *   SIGNALS_NO_SPACE          storage is full;
   *   SIGNALS_ERROR             anything else.
   * ingest_begin and ingest_write answer with the same statuses.
   * A problem has the stable members "type" (a URN, urn:signals:problem:<rule>),
   * "title", "status" (the HTTP status that fits), "code" and "detail", and
   * when they apply "rule" (the rule broken, e.g. "required", "tenant-exists",
   * "callgraph-exists"), "field" (the member it concerns) and "line" (ABI 1.3:
   * the 1-based line of the input, a number). ingest_abort discards
   * everything; nothing is stored. After finish or abort, the handle is gone.
   * A failing ingest_write (problem to `sink`) means the caller must still
   * call ingest_abort. */
  signals_status (*ingest_begin)(void* ctx, const char* request_json, signals_ingest** out_ingest,
                                 signals_sink problem_sink, void* sink_ctx);
  signals_status (*ingest_write)(void* ctx, signals_ingest* ingest, signals_bytes chunk,
                                 signals_sink problem_sink, void* sink_ctx);
  signals_status (*ingest_finish)(void* ctx, signals_ingest* ingest, signals_sink result_sink,
                                  void* sink_ctx);
  void (*ingest_abort)(void* ctx, signals_ingest* ingest);

  /* Runs a read-only query, JSON in, JSON out, e.g.
   *   {"query": "batch.provenance", "batchId": "..."}.
   * Result JSON (or problem JSON with a non-OK status) goes to `sink`. */
  signals_status (*query)(void* ctx, const char* request_json, signals_sink sink, void* sink_ctx);

  /* --- Added in ABI 1.1: the service API for transports. ---------------
   *
   * Every request JSON below may carry "credentials": {"bearer": "<token>"};
   * the kernel authenticates it and applies the access policy, so a transport
   * is protocol code only. Requests without credentials are anonymous (and
   * denied by the default policy); in-process callers such as source plugins
   * act as "signals-service" when they set "trusted": true.
   *
   * call runs one operation, JSON in and JSON out:
   *   {"op": "<name>", ...arguments}
   * Operations: "runtime-facts.provenance" {batchId}, "runtime-facts.attestation"
   * {batchId, format?}, "keys.list", "health", "ready", "metrics"
   * (Prometheus text as a JSON string member "text"), and further ones listed
   * in kernel/README.md ("Service operations"), and (ABI 1.3) "ingest.check"
   * {kind?: "runtime-facts", tenant, callgraphId?}: OK when an ingest with that
   * tenant and callgraph would be accepted, else the problem and status that
   * ingest_begin would give (SIGNALS_NOT_FOUND for an unknown tenant or
   * callgraph), so a source can check its configuration in start. On success the result JSON goes to `sink`
   * with SIGNALS_OK; on failure an RFC 9457 problem JSON (with "status", the
   * HTTP status to answer) and a non-OK status. */
  signals_status (*call)(void* ctx, const char* request_json, signals_sink sink, void* sink_ctx);

  /* object_open opens a stream of bytes, e.g.
   *   {"op": "runtime-facts.blob", "batchId": "...", "encoding": "identity"|"zstd"}
   *   {"op": "runtime-facts.stream", "tenant": "...", "callgraphId"?, "since"?,
   *    "includeProvenance": bool}
   * It passes a metadata JSON object {"contentType", "contentEncoding",
   * "size"?} to `meta_sink` and returns SIGNALS_OK with *out_object set, or a
   * problem JSON to `meta_sink` and a non-OK status. object_read fills up to
   * `capacity` bytes; SIGNALS_EOF with *out_len = 0 at the end. A failing read
   * (problem JSON to nothing: see last text via object_close) ends the
   * stream. object_close frees the object; always call it once. */
  signals_status (*object_open)(void* ctx, const char* request_json, signals_object** out_object,
                                signals_sink meta_sink, void* sink_ctx);
  signals_status (*object_read)(void* ctx, signals_object* object, uint8_t* buffer, size_t capacity,
                                size_t* out_len);
  void (*object_close)(void* ctx, signals_object* object);
} signals_host;

/* ------------------------------------------------------------------------ */
/* Components                                                                */
/* ------------------------------------------------------------------------ */

#define SIGNALS_KIND_CAS 1
#define SIGNALS_KIND_INDEX 2
#define SIGNALS_KIND_SIGNER 3
#define SIGNALS_KIND_TLOG 4
#define SIGNALS_KIND_METRICS 5
#define SIGNALS_KIND_TRANSPORT 6
#define SIGNALS_KIND_SOURCE 7

#define SIGNALS_CAP_CONCURRENT 0x1u /* calls on one instance may run concurrently */

/* --- cas: a content-addressed object store ------------------------------- */
/* Keys are relative paths of validated segments ("runtime-facts/t/ID.ndjson.zst").
 * Objects are immutable once committed. */
typedef struct signals_cas_writer signals_cas_writer;
typedef struct signals_cas_reader signals_cas_reader;

typedef struct signals_cas_api {
  uint32_t struct_size;
  /* Starts writing `key`. Nothing is visible under `key` until put_commit.
   * Returns SIGNALS_EXISTS when the key is already committed. */
  signals_status (*put_begin)(void* instance, const char* key, signals_cas_writer** out_writer);
  /* Appends bytes. SIGNALS_NO_SPACE when the store is full. */
  signals_status (*put_write)(void* instance, signals_cas_writer* writer, signals_bytes chunk);
  /* Makes the object visible atomically and durably, then frees the writer,
   * whatever the status. On failure nothing is visible. */
  signals_status (*put_commit)(void* instance, signals_cas_writer* writer);
  /* Discards a write in progress and frees the writer. */
  void (*put_abort)(void* instance, signals_cas_writer* writer);
  /* Opens a committed object. SIGNALS_NOT_FOUND when absent. */
  signals_status (*get_open)(void* instance, const char* key, signals_cas_reader** out_reader,
                             uint64_t* out_size);
  /* Reads up to `capacity` bytes; *out_len = 0 with SIGNALS_EOF at the end. */
  signals_status (*get_read)(void* instance, signals_cas_reader* reader, uint8_t* buffer, size_t capacity,
                             size_t* out_len);
  void (*get_close)(void* instance, signals_cas_reader* reader);
  /* Size of a committed object; SIGNALS_NOT_FOUND when absent. */
  signals_status (*stat)(void* instance, const char* key, uint64_t* out_size);
  /* Removes a committed object durably. SIGNALS_NOT_FOUND when absent. */
  signals_status (*remove)(void* instance, const char* key);
  /* Lists committed keys under `prefix` ("" for all), sorted, one key per sink
   * call (the bytes of the key, no terminator). */
  signals_status (*list)(void* instance, const char* prefix, signals_sink sink, void* sink_ctx);
} signals_cas_api;

/* --- index: the queryable record store ----------------------------------- */
/* Records are JSON objects in named collections ("batches", "keys",
 * "tenants", ...), each under a unique string key. A query selects records of
 * one collection whose top-level members equal given values, optionally
 * bounded and ordered by one member. The index is rebuildable from the CAS. */
typedef struct signals_index_txn signals_index_txn;

typedef struct signals_index_api {
  uint32_t struct_size;
  /* Starts a write transaction. At most one is open per instance: a second
   * begin waits for the first to end (up to the plugin's own timeout, then
   * SIGNALS_RETRY). commit/rollback may come from another thread than begin. */
  signals_status (*begin)(void* instance, signals_index_txn** out_txn);
  /* Inserts a record; SIGNALS_EXISTS when the key is taken. */
  signals_status (*insert)(void* instance, signals_index_txn* txn, const char* collection, const char* key,
                           signals_bytes record_json);
  /* Inserts or replaces a record. */
  signals_status (*upsert)(void* instance, signals_index_txn* txn, const char* collection, const char* key,
                           signals_bytes record_json);
  /* Removes a record; SIGNALS_NOT_FOUND when absent. */
  signals_status (*remove)(void* instance, signals_index_txn* txn, const char* collection, const char* key);
  /* Makes the transaction durable. This is the pipeline's commit point: when
   * it returns SIGNALS_OK the records survive a crash. Frees the txn. */
  signals_status (*commit)(void* instance, signals_index_txn* txn);
  /* Discards the transaction and frees it. */
  void (*rollback)(void* instance, signals_index_txn* txn);
  /* Reads one committed record into `sink`; SIGNALS_NOT_FOUND when absent. */
  signals_status (*get)(void* instance, const char* collection, const char* key, signals_sink sink,
                        void* sink_ctx);
  /* Runs a query over committed records. `query_json`:
   *   {"where": {"member": "value", ...},      equality on top-level members
   *    "orderBy": "member", "descending": bool, (default: by key ascending)
   *    "after": value,                           records whose orderBy member is > value
   *                                              (< value when descending); string, number or bool
   *    "limit": n}
   * Each matching record is passed to `sink` as one JSON object per call. */
  signals_status (*query)(void* instance, const char* collection, const char* query_json, signals_sink sink,
                          void* sink_ctx);
} signals_index_api;

/* --- signer: holds one private key and signs with it ---------------------- */
typedef struct signals_signer_api {
  uint32_t struct_size;
  /* "Ed25519" or "ECDSA-P256-SHA256". Valid for the life of the instance. */
  const char* (*algorithm)(void* instance);
  /* The key id the instance signs as. Valid for the life of the instance. */
  const char* (*key_id)(void* instance);
  /* The public key as SubjectPublicKeyInfo PEM, to `sink`. */
  signals_status (*public_key_pem)(void* instance, signals_sink sink, void* sink_ctx);
  /* Signs `message` (Ed25519: raw 64 bytes; ECDSA: DER over SHA-256), to `sink`. */
  signals_status (*sign)(void* instance, signals_bytes message, signals_sink sink, void* sink_ctx);
} signals_signer_api;

/* --- source: feeds data into the kernel through the host's service API ---- */
typedef struct signals_source_api {
  uint32_t struct_size;
  /* Starts producing (typically a thread of the plugin's own). */
  signals_status (*start)(void* instance);
  /* Stops producing and joins the plugin's threads. Must return promptly. */
  signals_status (*stop)(void* instance);
} signals_source_api;

/* --- transport: serves the service API over a protocol (ABI 1.1) -------- */
typedef struct signals_transport_api {
  uint32_t struct_size;
  /* Starts listening and serving on the plugin's own threads. A failure to
   * bind is reported here, with the address in last_error. */
  signals_status (*start)(void* instance);
  /* Stops accepting, lets requests in flight finish (bounded by the plugin's
   * own grace period), and joins the plugin's threads. */
  signals_status (*stop)(void* instance);
} signals_transport_api;

/* --- tlog: a transparency-log client (ABI 1.2) ---------------------------- */
/* The kernel checks every entry a tlog returns (leaf hash, inclusion proof,
 * signed checkpoint, signed entry timestamp) against `log_public_key_pem`
 * before it records the entry as logged, and again offline. */
typedef struct signals_tlog_api {
  uint32_t struct_size;
  /* Submits one DSSE envelope (its JSON bytes), signed by the key whose
   * SubjectPublicKeyInfo PEM is `public_key_pem`. On success the whole entry
   * the log returned, as one JSON object, to `sink`:
   *   {"uuid": "<entry uuid>", "body": "<base64>", "integratedTime": n,
   *    "logID": "<hex>", "logIndex": n,
   *    "verification": {"inclusionProof": {"checkpoint": "...", "hashes": ["<hex>", ...],
   *                     "logIndex": n, "rootHash": "<hex>", "treeSize": n},
   *                     "signedEntryTimestamp": "<base64>"}}
   * An envelope the log already holds yields that existing entry (SIGNALS_OK),
   * so a retried submission never creates a second entry.
   * SIGNALS_RETRY: the log is unreachable, too slow, or answered 5xx/429.
   * SIGNALS_INVALID_ARGUMENT: the log refused the entry (4xx); last_error says why. */
  signals_status (*submit)(void* instance, signals_bytes envelope_json, signals_bytes public_key_pem,
                           signals_sink sink, void* sink_ctx);
  /* The log's public key (SubjectPublicKeyInfo PEM), to `sink`. */
  signals_status (*log_public_key_pem)(void* instance, signals_sink sink, void* sink_ctx);
  /* The log's base URL, for the record. Valid for the life of the instance. */
  const char* (*url)(void* instance);
} signals_tlog_api;

/* --- metrics: exposes the kernel's metrics registry (ABI 1.2) ------------- */
/* A snapshot of the registry is one JSON object:
 *   {"families": [{"name": "...", "type": "counter"|"gauge"|"histogram", "help": "...",
 *                  "series": [{"labels": {"k": "v", ...},
 *                              "value": x}                          counter, gauge
 *                              | {"labels": {...}, "buckets": [[le, cumulative count], ...],
 *                                 "sum": x, "count": n}]}]}      histogram (le may be "+Inf")
 * Families and series come sorted by name and labels. A plugin that serves on
 * a listener of its own gets a fresh snapshot with the host's `call`
 * ({"op": "metrics.snapshot"}). */
typedef struct signals_metrics_api {
  uint32_t struct_size;
  /* Renders `snapshot_json` in the component's exposition format, to `sink`. */
  signals_status (*render)(void* instance, signals_bytes snapshot_json, signals_sink sink, void* sink_ctx);
  /* The media type of what render produces. Valid for the life of the instance. */
  const char* (*content_type)(void* instance);
  /* Starts the component's own listener, if it has one configured (else OK). */
  signals_status (*start)(void* instance);
  /* Stops it and joins its threads. */
  signals_status (*stop)(void* instance);
} signals_metrics_api;

/* A component: one named, configurable thing a library provides. */
typedef struct signals_component {
  uint32_t struct_size; /* sizeof(signals_component) */
  uint32_t kind;        /* SIGNALS_KIND_* */
  const char* name;     /* "<kind>-<name>", e.g. "cas-fs"; unique across all loaded plugins */
  const char* description;
  const signals_option* options;
  size_t option_count;
  uint64_t capabilities; /* SIGNALS_CAP_* */

  /* Creates an instance from validated options. On failure returns
   * SIGNALS_INVALID_CONFIG or SIGNALS_ERROR and writes a NUL-terminated message
   * of at most `error_capacity` bytes into `error`. `host` outlives the instance. */
  signals_status (*create)(const signals_host* host, const signals_config* config, void** out_instance,
                           char* error, size_t error_capacity);
  /* Destroys an instance; joins its threads. */
  void (*destroy)(void* instance);
  /* The text of the last failed call on this instance made by the calling
   * thread, or "". Valid until that thread's next call on the instance. */
  const char* (*last_error)(void* instance);
  /* SIGNALS_OK when the instance can serve; else a status and last_error. */
  signals_status (*health)(void* instance);

  /* The kind's function table (signals_cas_api, ...), starting with struct_size. */
  const void* api;
} signals_component;

/* What signals_plugin_entry returns. The first five fields never change. */
typedef struct signals_plugin_descriptor {
  uint64_t magic;       /* SIGNALS_PLUGIN_MAGIC */
  uint32_t abi_major;   /* SIGNALS_ABI_MAJOR the plugin was built against */
  uint32_t abi_minor;   /* SIGNALS_ABI_MINOR the plugin was built against */
  uint32_t struct_size; /* sizeof(signals_plugin_descriptor) */
  const char* sdk_version;
  /* --- fields below may be appended to, never reordered --- */
  const char* name;    /* the library's name, e.g. "signer-ed25519" */
  const char* version; /* the plugin's own version */
  const char* description;
  const signals_component* components;
  size_t component_count;
} signals_plugin_descriptor;

/* The entry point. Must be callable any number of times and return the same
 * static descriptor; it must not allocate or start anything. */
typedef const signals_plugin_descriptor* (*signals_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* SIGNALS_PLUGIN_H */
