/*
 * signals/plugin.h — the Signals plugin ABI, version 1.3.
 *
 * This one C99 header is the whole contract between the Signals kernel and a
 * plugin shared library. Nothing else crosses the boundary: no C++ types, no
 * exceptions, no allocator. Bytes cross as {pointer, length}. Plugin authors who
 * prefer C++ use the header-only wrapper <signals/plugin.hpp>, which fills every
 * table below and catches every exception.
 *
 * HOW TO READ THE MEMBER COMMENTS
 *
 * Every member of every function table says three things:
 *
 *   Required: yes  The member must be set. The loader refuses a library whose
 *                  component leaves it NULL, naming the library, the component
 *                  and the member ("component 0 'source-x': required function
 *                  'start' of signals_source_api is NULL"); `signalsctl plugins
 *                  describe <file.so>` runs the same check. In the host table,
 *                  which the kernel fills, "Required: yes" means the kernel
 *                  always sets the member: call it without testing for NULL.
 *   Required: no   NULL means "absent"; the kernel behaves as the comment says.
 *                  No function of ABI 1.3 is optional (the data members that
 *                  may be NULL say so). A later minor may relax "yes" to "no";
 *                  "no" never becomes "yes" within a major, because plugins
 *                  that leave the member NULL exist.
 *   Thread:        which thread the kernel calls it on (see Threading below).
 *   Owns:          who owns what crosses the call, and for how long.
 *
 * RULES THAT HOLD FOR EVERY FUNCTION IN THIS FILE
 *
 *  - Versioning. The kernel loads a plugin when its ABI major equals the
 *    kernel's and its ABI minor is not greater than the kernel's. Additions
 *    are marked with the minor that brought them ("ABI 1.1"). A plugin may
 *    rely on every member of the minor it declares in its descriptor; one that
 *    declares an older minor than the header it is built with (to load into
 *    older kernels) checks a table's struct_size before it reads a member
 *    added after that minor. A change of layout other than an append, or of
 *    threading or ownership rules, is a major bump.
 *
 *  - Which structures grow. Structures that start with `struct_size` grow only
 *    at the end, in a new minor, so either side can tell from struct_size which
 *    members the other knows: signals_config, signals_host, the seven kind
 *    tables (signals_cas_api ... signals_metrics_api) and the descriptor after
 *    its first five fields. A member that ends beyond a table's struct_size is
 *    absent (neither NULL nor set); the loader refuses a kind table smaller
 *    than the table of the minor that introduced the kind.
 *    signals_component and signals_option also carry struct_size, but they are
 *    array elements that the kernel indexes with its own sizeof, so the loader
 *    requires struct_size to equal it exactly: within major 1 they do not grow.
 *    Never grow, never change: signals_bytes and signals_option_value (no size
 *    field; passed by value or in arrays), the signatures of signals_sink and
 *    signals_plugin_entry_fn, and the five leading descriptor fields (magic,
 *    abi_major, abi_minor, struct_size, sdk_version), which are how a kernel of
 *    any version recognises a plugin. The values of the statuses, kinds,
 *    option types, flags, capabilities and log levels below are fixed too.
 *
 *  - Ownership is in the names. Pointers the kernel passes in (strings, byte
 *    ranges, configs, buffers) are valid during the call only: copy what you
 *    keep. Whoever allocates frees. Variable-sized results are handed over
 *    through a `signals_sink` callback, which copies. Strings a plugin returns
 *    live as long as the member says: descriptor, component and option strings
 *    for the life of the library (make them static); signer, tlog and metrics
 *    strings (algorithm, key_id, url, content_type) for the life of the
 *    instance; the text of last_error as stated once, on
 *    signals_component.last_error.
 *
 *  - Errors. Every call returns a signals_status. After a failure, the kernel
 *    reads the text with `last_error(instance)`, on the thread that made the
 *    failing call (see signals_component.last_error for how long it lives).
 *    `create` writes its text into a buffer instead. The service API of the
 *    host answers failures with an RFC 9457 problem JSON through its sink.
 *    Never let an exception or a longjmp escape a call.
 *
 *  - Threading. "The control thread" is the thread that opens and closes the
 *    kernel (signalsd's main thread): create, destroy, and the start/stop of
 *    sources, transports and metrics are called on it, one at a time. Every
 *    other plugin function may be called on any kernel thread (ingest threads,
 *    a transport's request threads, background loops). The kernel serialises
 *    those calls per instance (one call at a time; a writer, reader or
 *    transaction may still move between threads from one call to the next)
 *    unless the component declares SIGNALS_CAP_CONCURRENT, in which case calls
 *    overlap and the plugin does its own locking. The start and stop of
 *    sources and transports are not serialised with the instance's health.
 *    Host callbacks are thread-safe: call them from any thread, including the
 *    plugin's own. A plugin that starts threads joins them in stop or, at the
 *    latest, in destroy.
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

/* A borrowed byte range. Fixed: never grows. `data` may be NULL when `len` is
 * 0. Whoever passes it owns the bytes; the receiver reads them during the call
 * only. */
typedef struct signals_bytes {
  const uint8_t* data;
  size_t len;
} signals_bytes;

/* Receives a variable-sized result. The callee calls it zero or more times
 * during the call, on the thread of the call, and never after the call has
 * returned; the bytes are valid only during the sink call, so the receiver
 * copies them. `ctx` is passed back unchanged. */
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

/* One option a component declares. An element of the component's option
 * array: struct_size must equal sizeof(signals_option) (see "Which structures
 * grow"). All strings belong to the plugin and live as long as the library. */
typedef struct signals_option {
  uint32_t struct_size;      /* sizeof(signals_option); the loader refuses another value */
  const char* name;          /* [a-z][a-z0-9_]*, unique within the component; the loader refuses NULL or "" */
  uint32_t type;             /* SIGNALS_OPT_* */
  uint32_t flags;            /* SIGNALS_OPTF_* */
  const char* default_value; /* textual default, or NULL for none */
  const char* description;   /* one sentence for --help; NULL prints as "" */
  const char* enum_values;   /* SIGNALS_OPT_ENUM: "a|b|c"; else NULL */
  /* SIGNALS_OPT_INT/DURATION/SIZE bounds, inclusive, in the normalised unit
   * (milliseconds, bytes). They apply only when min_value < max_value: both 0
   * means unbounded; for one bound, put INT64_MIN or INT64_MAX on the open side. */
  int64_t min_value;
  int64_t max_value;
} signals_option;

/* One validated option value, normalised by the kernel: defaults filled in,
 * booleans as "true"/"false", durations in milliseconds, sizes in bytes, paths
 * absolute. Fixed: never grows. Owned by the kernel; valid during create only. */
typedef struct signals_option_value {
  const char* name;
  const char* value;
} signals_option_value;

/* What create receives. Grows at the end (struct_size). Owned by the kernel and
 * valid during create only, with every string and value it points to: copy
 * what the instance keeps. */
typedef struct signals_config {
  uint32_t struct_size;               /* sizeof(signals_config) as the kernel knows it */
  const char* instance_name;          /* the config section, e.g. "cas" or "source.spool-a" */
  const char* data_dir;               /* absolute path of the deployment's data directory */
  const signals_option_value* values; /* every declared option that has a value, defaults included */
  size_t value_count;
  /* --- Added in ABI 1.3 --- */
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

/* The host table. The kernel fills one per instance and passes it to create;
 * it stays valid, unchanged, until destroy has returned. Grows at the end
 * (struct_size). Every function is thread-safe (Thread: any), never throws,
 * and takes `ctx` as its first argument. Every function member is
 * "Required: yes": the kernel always sets it.
 *
 * THE SERVICE API (ingest_*, query, call, object_*)
 *
 * Requests are JSON objects, passed as NUL-terminated text that the kernel
 * reads during the call only. Who is calling: a source instance (and the
 * kernel's own storage plugins) act as the trusted principal "signals-service",
 * which may do everything; the request's "credentials" member is ignored for
 * them. A transport instance acts for its client: the kernel authenticates
 * the request's "credentials": {"bearer": "<token>"} and checks the access
 * policy for the operation and tenant. Without credentials the caller is
 * anonymous, which may only use "health", "ready", "metrics",
 * "metrics.snapshot" and "keys.list" (any other operation: 401 in the
 * problem; a known principal without the permission: 403, or 404 where
 * telling "exists but forbidden" from "absent" would leak a tenant's data).
 *
 * Answers go to the call's sink: on success the result JSON (or, for
 * object_open, the metadata JSON) and SIGNALS_OK (or SIGNALS_EXISTS where
 * stated); on failure an RFC 9457 problem JSON and a failure status:
 *   SIGNALS_NOT_FOUND         the request names something the kernel does not
 *                             know: a batch or callgraph, or (ABI >= 1.3) the
 *                             tenant or callgraph of an ingest — a problem of
 *                             configuration, not of the bytes; fix it and send
 *                             the same bytes again;
 *   SIGNALS_INVALID_ARGUMENT  the request or the bytes broke a rule (a bad line,
 *                             bad JSON, a limit: 400, 401, 403, 410, 413, 415
 *                             or 422 in the problem; 409 from ingest_finish);
 *                             sending the same again fails again;
 *   SIGNALS_RETRY             the kernel or a plugin it needs is unavailable
 *                             (503), or the first request with the same
 *                             idempotencyKey is still in progress (409, rule
 *                             "idempotency-in-progress"); send it again later;
 *   SIGNALS_NO_SPACE          storage is full (507);
 *   SIGNALS_ERROR             anything else (500).
 * A problem has the stable members "type" (a URN, urn:signals:problem:<rule>,
 * or :<code> when no rule applies), "title", "status" (the HTTP status that
 * fits, a number), "code" and "detail", and when they apply "rule" (the rule
 * broken, e.g. "required", "type", "tenant-exists", "callgraph-exists",
 * "idempotency-key"), "field" (the member it concerns) and "line" (ABI 1.3:
 * the 1-based line of the input, a number). Result and problem JSON are
 * passed to the sink whole, in one call.
 *
 * INGEST KINDS (ingest_begin's request)
 *
 * "runtime-facts" (the default when "kind" is absent): one batch of runtime
 * facts. Request members:
 *   "kind": "runtime-facts"
 *   "tenant": "<tenant>"           required; must exist (else SIGNALS_NOT_FOUND,
 *                                  rule "tenant-exists")
 *   "callgraphId": "<graphId>"     the ULID of a stored callgraph of the tenant
 *                                  or of "global" (else SIGNALS_NOT_FOUND, rule
 *                                  "callgraph-exists"); required for NDJSON; the
 *                                  JSON form may name it in the body instead,
 *                                  and when both name it they must agree (rule
 *                                  "callgraph-id")
 *   "source": "..."?               who produced the facts, recorded in the
 *                                  provenance record; 1 to 256 characters, no
 *                                  control characters; default "unspecified"
 *   "receivedAt": "RFC 3339"?      when the data arrived; default: now
 *   "provenanceHash": "sha256:<64 hex>"?  the digest the producer computed over
 *                                  the NDJSON it sends (JSON form: over the
 *                                  canonical NDJSON of its events, which is
 *                                  what is stored); a digest that differs
 *                                  rejects the batch (422, rule
 *                                  "provenance-hash")
 *   "format": "ndjson" | "json"?   default "ndjson"; anything else is 415.
 *                                  "ndjson": one fact a line (kernel/README.md,
 *                                  "Runtime facts"), stored exactly as received.
 *                                  "json" (ABI 1.1): one document
 *                                  {"callgraphId"?, "events": [fact, ...]},
 *                                  read as it streams; the stored blob is the
 *                                  canonical NDJSON of its events
 *   "idempotencyKey": "..."?       see IDEMPOTENCY below
 *   "credentials": {"bearer": ...}?  transports only (above)
 * Any other member is ignored ("principal" is always the caller's). Limits:
 * kernel.max_line_bytes per line or event, kernel.max_json_depth,
 * kernel.max_fact_types distinct factType values per batch; an empty batch is
 * refused (rule "non-empty"). Result: the batch's provenance record
 * (README.md, "The provenance record": batchId, tenantId, callgraphId,
 * provenanceHash, factCount, ...) with SIGNALS_OK.
 *
 * "callgraph": one callgraph. Request members:
 *   "kind": "callgraph"
 *   "tenant": "<tenant>"           required; must exist (SIGNALS_NOT_FOUND)
 *   "componentPurl": "pkg:..."     required; a valid purl, stored canonical
 *   "language": "..."              required; one of dotnet java javascript
 *                                  typescript python go rust ruby php c cpp
 *                                  binary
 *   "source": "..."?               the scanner that produced it; as above
 *   "format": "auto" | "json" | "ndjson"?  default "auto": a stella.callgraph.v1
 *                                  or richgraph-v1 JSON document (at most
 *                                  kernel.callgraph_max_document_bytes), or
 *                                  canonical NDJSON for graphs of any size
 *   "credentials": {"bearer": ...}?  transports only
 * "idempotencyKey" does not apply: a graph is stored once per (tenant, purl,
 * canonical digest) anyway. Result: the signed manifest (kernel/README.md,
 * "Callgraph manifest") with SIGNALS_OK when the graph is new, or the manifest
 * of the identical graph stored before with SIGNALS_EXISTS.
 *
 * An ingest stores nothing until ingest_finish has returned SIGNALS_OK: an
 * ingest that is aborted, that fails, or that is unfinished when the process
 * dies leaves no batch and no graph behind.
 *
 * IDEMPOTENCY ("idempotencyKey", runtime-facts only)
 *
 * A key is 1 to 256 characters (else 400, rule "idempotency-key", at
 * ingest_begin). It is scoped to (principal, tenant): the same key from
 * another principal or for another tenant is another key. The kernel
 * remembers it, with a hash of the body and the answer, for
 * `[auth] idempotency_ttl` (default 24h) after the first request succeeded;
 * after that the key is new again. A request that fails releases its key.
 * Within that time:
 *   - same key, same body: nothing new is stored; ingest_finish passes the
 *     first request's answer (its provenance record) and returns
 *     SIGNALS_EXISTS;
 *   - same key, another body: a 409 problem (rule "idempotency-key"),
 *     SIGNALS_INVALID_ARGUMENT; sending it again fails again;
 *   - same key while the first request is still in progress: a 409 problem
 *     (rule "idempotency-in-progress"), SIGNALS_RETRY. Send it again later:
 *     once the first request has finished, the retry gets its answer. A
 *     request that was in progress when its process died is taken over at
 *     once (the kernel records which process holds a key, by pid and start
 *     time), and otherwise ten minutes after it began (or idempotency_ttl,
 *     when shorter); the batch is then ingested anew.
 * The body is compared only at ingest_finish; a duplicate is read but never
 * validated or stored. "ingest.check" never claims a key.
 *
 * An ingest handle is used by one thread at a time; it may move between
 * threads from one call to the next.
 */
typedef struct signals_host {
  /* sizeof(signals_host) as the kernel knows it (at least the size of the
   * minor the plugin declared). */
  uint32_t struct_size;
  uint32_t abi_major; /* the kernel's SIGNALS_ABI_MAJOR */
  uint32_t abi_minor; /* the kernel's SIGNALS_ABI_MINOR */
  void* ctx;          /* the kernel's; pass it back as the first argument of every call below */

  /* Writes one log line at `level` (a SIGNALS_LOG_*), prefixed with
   * `component`, which names the instance (its section, e.g. "source.spool-a").
   * `message` must not hold secrets.
   * Required: yes. Thread: any.
   * Owns: `component` and `message` are the caller's, read during the call
   * only. */
  void (*log)(void* ctx, int32_t level, const char* component, const char* message);

  /* Wall clock, milliseconds since the Unix epoch, UTC: the clock the kernel
   * stamps records with.
   * Required: yes. Thread: any. */
  int64_t (*now_unix_ms)(void* ctx);

  /* Metrics. Each adds to or sets one series of the kernel's metrics registry,
   * which creates the family on first use and keeps the type of that first use.
   * `name` follows Prometheus's rules ([a-zA-Z_:][a-zA-Z0-9_:]*, counters end in
   * "_total"); `labels` is "key=value,key=value" (values must not contain ','
   * or '='), or "" for none. An update that breaks a rule is dropped and counted
   * in signals_metrics_dropped_total{reason}; nothing fails.
   * Required: yes. Thread: any.
   * Owns: `name` and `labels` are the caller's, read during the call only. */
  void (*counter_add)(void* ctx, const char* name, const char* labels, double delta);
  void (*gauge_set)(void* ctx, const char* name, const char* labels, double value);
  void (*histogram_observe)(void* ctx, const char* name, const char* labels, double value);

  /* Starts an ingest described by `request_json` (see INGEST KINDS above).
   * On SIGNALS_OK, *out_ingest is a handle for ingest_write, ingest_finish and
   * ingest_abort; on failure nothing is started, *out_ingest is not set, and
   * the problem JSON goes to `problem_sink`.
   * Required: yes. Thread: any.
   * Owns: `request_json` is the caller's, read during the call only. The
   * handle is the kernel's; it is gone after ingest_finish or ingest_abort. */
  signals_status (*ingest_begin)(void* ctx, const char* request_json, signals_ingest** out_ingest,
                                 signals_sink problem_sink, void* sink_ctx);
  /* Streams the next bytes of the body, in chunks of any size; the kernel
   * validates them as they arrive. A failure (problem JSON to `problem_sink`,
   * statuses as ingest_begin's) is final: the caller must still call
   * ingest_abort.
   * Required: yes. Thread: any, one thread at a time per handle.
   * Owns: `chunk` is the caller's, read during the call only. */
  signals_status (*ingest_write)(void* ctx, signals_ingest* ingest, signals_bytes chunk,
                                 signals_sink problem_sink, void* sink_ctx);
  /* Validates the end of the input, stores, signs, logs and commits. Passes the
   * result JSON to `result_sink` and returns SIGNALS_OK, or SIGNALS_EXISTS with
   * the earlier answer (an identical callgraph; a runtime-facts replay of the
   * same idempotencyKey and body); or passes a problem JSON and returns a
   * failure status (nothing is stored). The handle is gone afterwards, whatever
   * the status: do not call ingest_abort after it.
   * Required: yes. Thread: any, one thread at a time per handle. */
  signals_status (*ingest_finish)(void* ctx, signals_ingest* ingest, signals_sink result_sink,
                                  void* sink_ctx);
  /* Discards an ingest that has not been finished; nothing is stored. The
   * handle is gone afterwards.
   * Required: yes. Thread: any, one thread at a time per handle. */
  void (*ingest_abort)(void* ctx, signals_ingest* ingest);

  /* ABI 1.0's name for `call`: the same function, which also accepts the
   * operation's name as "query" instead of "op", e.g.
   *   {"query": "runtime-facts.provenance", "batchId": "..."}.
   * New code uses `call`.
   * Required: yes. Thread: any. Owns: as for call. */
  signals_status (*query)(void* ctx, const char* request_json, signals_sink sink, void* sink_ctx);

  /* --- Added in ABI 1.1: the service API for transports. --------------- */

  /* Runs one operation, JSON in and JSON out: {"op": "<name>", ...members}.
   * The result JSON goes to `sink` with SIGNALS_OK; a failure passes a problem
   * JSON and returns a failure status (see THE SERVICE API above). Unknown op:
   * 400, rule "op"; a missing member: rule "required"; a member of the wrong
   * JSON type: rule "type".
   * Required: yes. Thread: any.
   * Owns: `request_json` is the caller's, read during the call only.
   *
   * THE OPERATIONS (the single list; kernel/README.md points here)
   *
   * Anyone, even without credentials:
   *   "health" {}                 -> {"status": "ok"} while the process runs.
   *   "ready" {}                  -> {"status": "ready", "instances":
   *                                  {"<section>": "ok", ...}}; when an
   *                                  instance's health fails, SIGNALS_RETRY and
   *                                  a 503 problem naming it.
   *   "metrics" {}                -> {"text": "...", "contentType": "..."}: the
   *                                  registry rendered by the [metrics] plugin;
   *                                  SIGNALS_NOT_FOUND when none is configured.
   *   "metrics.snapshot" {}       -> the registry as JSON (the format under
   *                                  signals_metrics_api).
   *   "keys.list" {}              -> {"keys": [{"keyId", "algorithm",
   *                                  "publicKeyPem", "status", ...}, ...]}: the
   *                                  key registry's records.
   * With read access to the tenant of what they name:
   *   "runtime-facts.provenance" {"batchId"}
   *                               -> the batch's provenance record, with its
   *                                  current "rekorUuid" and "skipReason".
   *   "runtime-facts.attestation" {"batchId", "format"?: "dsse" | "sigstore-bundle"}
   *                               -> the batch's DSSE envelope (default), or a
   *                                  Sigstore bundle v0.3 with its log entry.
   *   "callgraphs.manifest" {"graphId", "format"?: "json" | "dsse" | "sigstore-bundle"}
   *                               -> the signed manifest (default), its DSSE
   *                                  envelope, or a Sigstore bundle.
   *   "callgraphs.by-purl" {"purl", "tenant"?}
   *                               -> {"purl", "callgraphs": [meta record, ...]}
   *                                  newest first, of the tenant asked for, or
   *                                  of every tenant the caller reads and
   *                                  "global".
   *   A batch or graph of a tenant the caller may not read is SIGNALS_NOT_FOUND,
   *   as if absent; one deleted by retention is a 410 problem (code "gone",
   *   naming what remains), SIGNALS_INVALID_ARGUMENT.
   * With write access to the tenant:
   *   "ingest.check" (ABI 1.3) {"kind"?: "runtime-facts", "tenant", "callgraphId"?}
   *                               -> {"kind": "runtime-facts", "tenant",
   *                                  "callgraphId", "accepted": true} when an
   *                                  ingest with that tenant and callgraph would
   *                                  start; else the problem and status
   *                                  ingest_begin would give (SIGNALS_NOT_FOUND
   *                                  for an unknown tenant or callgraph), so a
   *                                  source can check its configuration in
   *                                  start. Without "callgraphId" only the
   *                                  tenant is checked (for a source that
   *                                  stores its own callgraph first). Nothing
   *                                  is stored, no key claimed.
   * When the program registered them (signalsd does; RegisterAnalysisOps in
   * kernel/src/analysis/analysis_ops.cpp), with read access to the graphs'
   * tenants (and runtime evidence counted only from tenants the caller reads):
   *   "reachability.query" {"callgraphId", "targets": ["<node or symbol id>", ...],
   *                         "unconfirmedAsNotAffected"?: bool}
   *                               -> {"callgraphId", "graphDigest",
   *                                  "componentPurl", "observationWindow",
   *                                  "results": [{"target", "node", "symbol",
   *                                  "distance", "path", "reachable", "state",
   *                                  "runtimeHits", "batchIds", "vex"}, ...]}.
   *   "reachability.vex" {"callgraphId", "vulnerability", "symbols": [...],
   *                       "unconfirmedAsNotAffected"?: bool}
   *                               -> an OpenVEX document.
   *   "reachability.drift" {"baseGraphId", "headGraphId", "sinks": [sink, ...]}
   *                               a sink is "id", "re:<regex>", or {"sink" |
   *                               "id" | "pattern", "category"?}
   *                               -> {"baseGraphId", "headGraphId", ...,
   *                                  "counts", "newlyReachable",
   *                                  "newlyUnreachable", "resultDigest"};
   *                                  graphs of different components: 422, rule
   *                                  "same-component".
   *   The members of these answers are described in README.md, "Reachability,
   *   drift and VEX". A kernel without them answers them as unknown ops. */
  signals_status (*call)(void* ctx, const char* request_json, signals_sink sink, void* sink_ctx);

  /* Opens a stream of stored bytes. Passes a metadata JSON object to
   * `meta_sink` and returns SIGNALS_OK with *out_object set; or passes a
   * problem JSON and returns a failure status (*out_object not set).
   * Required: yes. Thread: any.
   * Owns: `request_json` is the caller's, read during the call only. The
   * object is the kernel's until object_close.
   *
   * THE STREAMS
   *   "runtime-facts.blob" {"batchId", "encoding"?: "identity" | "zstd"}
   *       a batch's facts as stored NDJSON: decompressed ("identity", the
   *       default) or the stored zstd frame as is. Metadata:
   *       {"contentType": "application/x-ndjson", "contentEncoding", "size"?}
   *       ("size": the bytes the stream will deliver, when known).
   *   "callgraphs.blob" {"graphId", "encoding"?: "identity" | "zstd"}
   *       a callgraph's canonical NDJSON; metadata as above.
   *   "runtime-facts.stream" {"tenant", "callgraphId"?, "since"?: "RFC 3339",
   *                           "includeProvenance"?: bool}
   *       the facts of every batch of the tenant (of one callgraph; ingested at
   *       or after `since`), one NDJSON stream ordered by ingestedAt, batchId
   *       and line; batches deleted by retention are skipped. With
   *       includeProvenance each line gets "provenance_hash", "callgraph_id" and
   *       "batch_id" members. Metadata: {"contentType": "application/x-ndjson",
   *       "contentEncoding": "identity", "batches": n}.
   * Access as for the call operations of the same names; an unknown stream
   * op: 400, rule "op". */
  signals_status (*object_open)(void* ctx, const char* request_json, signals_object** out_object,
                                signals_sink meta_sink, void* sink_ctx);
  /* Fills up to `capacity` bytes of `buffer` and sets *out_len; SIGNALS_EOF
   * with *out_len = 0 at the end. A failure status ends the stream (the kernel
   * logs why; there is no problem JSON): close it.
   * Required: yes. Thread: any, one thread at a time per object.
   * Owns: `buffer` is the caller's. */
  signals_status (*object_read)(void* ctx, signals_object* object, uint8_t* buffer, size_t capacity,
                                size_t* out_len);
  /* Frees the object. Call it exactly once per opened object, also after a
   * failure or before the end.
   * Required: yes. Thread: any, one thread at a time per object. */
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

/* In the kind tables below every function is "Required: yes": the kernel calls
 * each of them. Unless a member says otherwise, it is called on any thread,
 * serialised per instance unless SIGNALS_CAP_CONCURRENT ("Thread: any"), and
 * the strings and byte ranges it receives are the kernel's, valid during the
 * call only. `instance` is what create returned. */

/* --- cas: a content-addressed object store ------------------------------- */
/* Keys are relative paths of validated segments ("runtime-facts/t/ID.ndjson.zst").
 * Objects are immutable once committed. Writers and readers are the plugin's
 * handles: one is used by one thread at a time, but the kernel may write on one
 * thread and commit on another. */
typedef struct signals_cas_writer signals_cas_writer;
typedef struct signals_cas_reader signals_cas_reader;

typedef struct signals_cas_api {
  uint32_t struct_size; /* sizeof(signals_cas_api) */
  /* Starts writing `key`. Nothing is visible under `key` until put_commit.
   * Returns SIGNALS_EXISTS when the key is already committed.
   * Required: yes. Thread: any.
   * Owns: `key` is the kernel's, during the call only. *out_writer is the
   * plugin's, freed by put_commit or put_abort, which the kernel always calls
   * exactly once. */
  signals_status (*put_begin)(void* instance, const char* key, signals_cas_writer** out_writer);
  /* Appends bytes. SIGNALS_NO_SPACE when the store is full.
   * Required: yes. Thread: any.
   * Owns: `chunk` is the kernel's, during the call only. */
  signals_status (*put_write)(void* instance, signals_cas_writer* writer, signals_bytes chunk);
  /* Makes the object visible atomically and durably, then frees the writer,
   * whatever the status. On failure nothing is visible. When two writers
   * commit the same key, the first wins and the other gets SIGNALS_EXISTS.
   * Required: yes. Thread: any. */
  signals_status (*put_commit)(void* instance, signals_cas_writer* writer);
  /* Discards a write in progress and frees the writer.
   * Required: yes. Thread: any. */
  void (*put_abort)(void* instance, signals_cas_writer* writer);
  /* Opens a committed object and sets its size. SIGNALS_NOT_FOUND when absent.
   * Required: yes. Thread: any.
   * Owns: `key` is the kernel's, during the call only. *out_reader is the
   * plugin's, freed by get_close, which the kernel always calls exactly once. */
  signals_status (*get_open)(void* instance, const char* key, signals_cas_reader** out_reader,
                             uint64_t* out_size);
  /* Reads up to `capacity` bytes into `buffer`; *out_len = 0 with SIGNALS_EOF at
   * the end.
   * Required: yes. Thread: any.
   * Owns: `buffer` is the kernel's. */
  signals_status (*get_read)(void* instance, signals_cas_reader* reader, uint8_t* buffer, size_t capacity,
                             size_t* out_len);
  /* Frees a reader.
   * Required: yes. Thread: any. */
  void (*get_close)(void* instance, signals_cas_reader* reader);
  /* Size of a committed object; SIGNALS_NOT_FOUND when absent.
   * Required: yes. Thread: any. */
  signals_status (*stat)(void* instance, const char* key, uint64_t* out_size);
  /* Removes a committed object durably (retention, cleanup after a failed
   * ingest). SIGNALS_NOT_FOUND when absent.
   * Required: yes. Thread: any. */
  signals_status (*remove)(void* instance, const char* key);
  /* Lists committed keys under `prefix` ("" for all), sorted, one key per sink
   * call (the bytes of the key, no terminator).
   * Required: yes. Thread: any.
   * Owns: the bytes passed to `sink` are the plugin's, during the sink call. */
  signals_status (*list)(void* instance, const char* prefix, signals_sink sink, void* sink_ctx);
} signals_cas_api;

/* --- index: the queryable record store ----------------------------------- */
/* Records are JSON objects in named collections ("batches", "keys",
 * "tenants", ...), each under a unique string key. A query selects records of
 * one collection whose top-level members equal given values, optionally
 * bounded and ordered by one member. The index is rebuildable from the CAS.
 * An index declares SIGNALS_CAP_CONCURRENT in practice: a begin that waits for
 * another transaction to end would, on a serialised instance, hold the lock
 * that the other transaction's commit needs. */
typedef struct signals_index_txn signals_index_txn;

typedef struct signals_index_api {
  uint32_t struct_size; /* sizeof(signals_index_api) */
  /* Starts a write transaction. At most one is open per instance: a second
   * begin waits for the first to end (up to the plugin's own timeout, then
   * SIGNALS_RETRY). commit/rollback may come from another thread than begin.
   * Required: yes. Thread: any.
   * Owns: *out_txn is the plugin's, freed by commit or rollback, which the
   * kernel always calls exactly once. */
  signals_status (*begin)(void* instance, signals_index_txn** out_txn);
  /* Inserts a record; SIGNALS_EXISTS when the key is taken.
   * Required: yes. Thread: any.
   * Owns: `collection`, `key` and `record_json` are the kernel's, during the
   * call only. */
  signals_status (*insert)(void* instance, signals_index_txn* txn, const char* collection, const char* key,
                           signals_bytes record_json);
  /* Inserts or replaces a record.
   * Required: yes. Thread: any. Owns: as insert. */
  signals_status (*upsert)(void* instance, signals_index_txn* txn, const char* collection, const char* key,
                           signals_bytes record_json);
  /* Removes a record; SIGNALS_NOT_FOUND when absent.
   * Required: yes. Thread: any. */
  signals_status (*remove)(void* instance, signals_index_txn* txn, const char* collection, const char* key);
  /* Makes the transaction durable. This is the pipeline's commit point: when
   * it returns SIGNALS_OK the records survive a crash. Frees the txn, whatever
   * the status.
   * Required: yes. Thread: any. */
  signals_status (*commit)(void* instance, signals_index_txn* txn);
  /* Discards the transaction and frees it.
   * Required: yes. Thread: any. */
  void (*rollback)(void* instance, signals_index_txn* txn);
  /* Reads one committed record into `sink`; SIGNALS_NOT_FOUND when absent.
   * Required: yes. Thread: any.
   * Owns: the bytes passed to `sink` are the plugin's, during the sink call. */
  signals_status (*get)(void* instance, const char* collection, const char* key, signals_sink sink,
                        void* sink_ctx);
  /* Runs a query over committed records. `query_json`:
   *   {"where": {"member": "value", ...},      equality on top-level members
   *    "orderBy": "member", "descending": bool, (default: by key ascending)
   *    "after": value,                           records whose orderBy member is > value
   *                                              (< value when descending); string, number or bool
   *    "limit": n}
   * Each matching record is passed to `sink` as one JSON object per call.
   * Required: yes. Thread: any.
   * Owns: as get. */
  signals_status (*query)(void* instance, const char* collection, const char* query_json, signals_sink sink,
                          void* sink_ctx);
} signals_index_api;

/* --- signer: holds one private key and signs with it ---------------------- */
typedef struct signals_signer_api {
  uint32_t struct_size; /* sizeof(signals_signer_api) */
  /* "Ed25519" or "ECDSA-P256-SHA256".
   * Required: yes. Thread: any.
   * Owns: the string is the plugin's, valid for the life of the instance. */
  const char* (*algorithm)(void* instance);
  /* The key id the instance signs as ([A-Za-z0-9._-]{1,128}).
   * Required: yes. Thread: any.
   * Owns: the string is the plugin's, valid for the life of the instance. */
  const char* (*key_id)(void* instance);
  /* The public key as SubjectPublicKeyInfo PEM, to `sink`.
   * Required: yes. Thread: any. */
  signals_status (*public_key_pem)(void* instance, signals_sink sink, void* sink_ctx);
  /* Signs `message` (Ed25519: raw 64 bytes; ECDSA: DER over SHA-256), to `sink`.
   * Required: yes. Thread: any.
   * Owns: `message` is the kernel's, during the call only. */
  signals_status (*sign)(void* instance, signals_bytes message, signals_sink sink, void* sink_ctx);
} signals_signer_api;

/* --- source: feeds data into the kernel through the host's service API ---- */
/* THE SOURCE LIFECYCLE
 *
 *  1. create, on the control thread, after the kernel is open: read the
 *     options, check what can be checked locally, start nothing.
 *  2. start, once, on the control thread, before the kernel reports ready
 *     (signalsd logs "signalsd ready" after every start has returned). Start
 *     the plugin's own threads and return; a source produces on those
 *     threads, through the host's ingest_* and call. ("ingest.check" tells a
 *     source in start whether its tenant and callgraph exist.) A failing start
 *     stops signalsd with the plugin's last_error; stop is then not called on
 *     that instance, destroy is.
 *  3. stop, on SIGTERM or SIGINT, on the control thread, in reverse start order
 *     (transports, which started after the sources, stop before them). The
 *     kernel keeps serving the host's service API until every stop has
 *     returned, so a source MAY finish the ingest in flight during stop, but
 *     must not begin new ones. The kernel sets no deadline of its own, but the
 *     service manager does (systemd's TimeoutStopSec, then SIGKILL): return
 *     within a few seconds.
 *  4. destroy, on the control thread, after stop.
 *
 * Delivery. A batch that is not finished when the process dies is not stored:
 * an unfinished ingest stores nothing. A source that keeps a checkpoint in
 * config->state_dir (ABI 1.3, a directory per source instance) and sends each
 * batch with an "idempotencyKey" derived from the checkpoint (e.g. file name
 * and offset) gets exactly-once delivery across crashes: after a restart it
 * sends the batch after its last checkpoint again, with the same key; if the
 * kernel had committed it, the answer is the first one with SIGNALS_EXISTS,
 * else it is stored now. Advance the checkpoint after ingest_finish has
 * returned SIGNALS_OK or SIGNALS_EXISTS. Resend within `[auth]
 * idempotency_ttl` (default 24h); SIGNALS_RETRY covers a first request
 * still in progress (IDEMPOTENCY, above signals_host). */
typedef struct signals_source_api {
  uint32_t struct_size; /* sizeof(signals_source_api) */
  /* Starts producing on the plugin's own threads and returns.
   * Required: yes. Thread: the control thread, once per instance. */
  signals_status (*start)(void* instance);
  /* Stops producing: lets the ingest in flight finish or aborts it, begins no
   * new one, and joins the plugin's threads. Returns within a few seconds.
   * Required: yes. Thread: the control thread, once, after a successful start. */
  signals_status (*stop)(void* instance);
} signals_source_api;

/* --- transport: serves the service API over a protocol (ABI 1.1) -------- */
/* Created and started on the control thread after every source, stopped in
 * reverse order before them; stop is not called when start failed. */
typedef struct signals_transport_api {
  uint32_t struct_size; /* sizeof(signals_transport_api) */
  /* Starts listening and serving on the plugin's own threads. A failure to
   * bind is reported here, with the address in last_error.
   * Required: yes. Thread: the control thread, once per instance. */
  signals_status (*start)(void* instance);
  /* Stops accepting, lets requests in flight finish (bounded by the plugin's
   * own grace period), and joins the plugin's threads.
   * Required: yes. Thread: the control thread, once, after a successful start. */
  signals_status (*stop)(void* instance);
} signals_transport_api;

/* --- tlog: a transparency-log client (ABI 1.2) ---------------------------- */
/* The kernel checks every entry a tlog returns (leaf hash, inclusion proof,
 * signed checkpoint, signed entry timestamp) against `log_public_key_pem`
 * before it records the entry as logged, and again offline. */
typedef struct signals_tlog_api {
  uint32_t struct_size; /* sizeof(signals_tlog_api) */
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
   * SIGNALS_INVALID_ARGUMENT: the log refused the entry (4xx); last_error says why.
   * Required: yes. Thread: any (at ingest and on the kernel's retry thread).
   * Owns: `envelope_json` and `public_key_pem` are the kernel's, during the
   * call only. */
  signals_status (*submit)(void* instance, signals_bytes envelope_json, signals_bytes public_key_pem,
                           signals_sink sink, void* sink_ctx);
  /* The log's public key (SubjectPublicKeyInfo PEM), to `sink`.
   * Required: yes. Thread: any. */
  signals_status (*log_public_key_pem)(void* instance, signals_sink sink, void* sink_ctx);
  /* The log's base URL, for the record.
   * Required: yes. Thread: any.
   * Owns: the string is the plugin's, valid for the life of the instance. */
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
  uint32_t struct_size; /* sizeof(signals_metrics_api) */
  /* Renders `snapshot_json` in the component's exposition format, to `sink`.
   * Required: yes. Thread: any (the "metrics" op runs on a transport's threads).
   * Owns: `snapshot_json` is the kernel's, during the call only. */
  signals_status (*render)(void* instance, signals_bytes snapshot_json, signals_sink sink, void* sink_ctx);
  /* The media type of what render produces; a NULL return is read as
   * "text/plain".
   * Required: yes. Thread: any.
   * Owns: the string is the plugin's, valid for the life of the instance. */
  const char* (*content_type)(void* instance);
  /* Starts the component's own listener, if it has one configured (else OK).
   * Called after the sources and transports have started.
   * Required: yes. Thread: the control thread, once per instance. */
  signals_status (*start)(void* instance);
  /* Stops the listener and joins its threads; called first at shutdown.
   * Required: yes. Thread: the control thread, once, after a successful start. */
  signals_status (*stop)(void* instance);
} signals_metrics_api;

/* A component: one named, configurable thing a library provides. An element
 * of the descriptor's component array (see "Which structures grow"). Every
 * string belongs to the plugin and lives as long as the library. */
typedef struct signals_component {
  uint32_t struct_size; /* sizeof(signals_component); the loader refuses another value */
  uint32_t kind;        /* SIGNALS_KIND_*; the loader refuses a kind it has no table for */
  /* "<kind>-<name>", e.g. "cas-fs"; unique across all loaded plugins. The
   * loader refuses NULL, "" and a name another loaded library provides. */
  const char* name;
  const char* description; /* one sentence; NULL prints as "" */
  /* The options the component declares; NULL only when option_count is 0 (the
   * loader refuses NULL with a count). */
  const signals_option* options;
  size_t option_count;
  uint64_t capabilities; /* SIGNALS_CAP_*; bits this kernel does not know are ignored */

  /* Creates an instance from validated options. On SIGNALS_OK, *out_instance
   * must be set to a non-NULL pointer (the kernel refuses OK without one). On
   * failure returns SIGNALS_INVALID_CONFIG or SIGNALS_ERROR and writes a
   * NUL-terminated message of at most `error_capacity` bytes into `error`;
   * nothing needs to be destroyed.
   * Required: yes. Thread: the control thread.
   * Owns: `host` is the kernel's and outlives the instance. `config` and all it
   * points to are the kernel's, valid during the call only: copy what the
   * instance keeps. `error` is the kernel's buffer. The instance is the
   * plugin's, freed by destroy. */
  signals_status (*create)(const signals_host* host, const signals_config* config, void** out_instance,
                           char* error, size_t error_capacity);
  /* Destroys an instance and joins every thread it started. Called once per
   * instance that create returned, after its last other call (after stop, for
   * a started source, transport or metrics instance).
   * Required: yes. Thread: the control thread. */
  void (*destroy)(void* instance);
  /* The text of the last failed call that the calling thread made on this
   * instance, or "" when there is none; never NULL. The kernel calls it right
   * after a call returned a failure status, on the same thread. This is the
   * one lifetime rule for it: the string stays valid until the calling thread
   * makes its next call on the same instance. Keeping the text per thread (as
   * <signals/plugin.hpp> does) keeps two threads that fail at once on a
   * SIGNALS_CAP_CONCURRENT instance from reading each other's text.
   * Required: yes. Thread: the thread of the failing call, right after it,
   * under the same serialisation.
   * Owns: the string is the plugin's. */
  const char* (*last_error)(void* instance);
  /* SIGNALS_OK when the instance can serve; else a failure status and
   * last_error. Called for every readiness check ("ready") and metrics
   * snapshot (signals_plugin_up), so keep it cheap.
   * Required: yes. Thread: any. */
  signals_status (*health)(void* instance);

  /* The kind's function table (signals_cas_api, ...), starting with struct_size.
   * Required: yes; the loader refuses NULL, a table smaller than the kind's
   * table, and a table with a required function NULL.
   * Owns: the plugin's, static, for the life of the library. */
  const void* api;
} signals_component;

/* What signals_plugin_entry returns. The first five fields never change, in
 * any version; the fields after them grow at the end. All of it belongs to the
 * plugin, static, for the life of the library. */
typedef struct signals_plugin_descriptor {
  uint64_t magic;       /* SIGNALS_PLUGIN_MAGIC */
  uint32_t abi_major;   /* SIGNALS_ABI_MAJOR the plugin was built against */
  uint32_t abi_minor;   /* SIGNALS_ABI_MINOR the plugin was built against */
  uint32_t struct_size; /* sizeof(signals_plugin_descriptor) */
  const char* sdk_version;
  /* --- fields below may be appended to, never reordered --- */
  const char* name;    /* the library's name, e.g. "signer-ed25519"; the loader refuses NULL or "" */
  const char* version; /* the plugin's own version; NULL prints as "?" */
  const char* description;
  const signals_component* components; /* NULL only when component_count is 0 */
  size_t component_count;
} signals_plugin_descriptor;

/* The entry point. Must be callable any number of times, from any thread, and
 * return the same static descriptor; it must not allocate, start anything or
 * throw. */
typedef const signals_plugin_descriptor* (*signals_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* SIGNALS_PLUGIN_H */
