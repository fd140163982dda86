// The plugin ABI cannot change by accident. Pinned here for the ABI version
// plugin.h declares: the offset and size of every member of every struct and
// the size of every struct (on LP64), the type of every member (on any data
// model, so that a changed parameter list fails too), and the value of every
// constant. Nothing reads the header's text: a comment may change freely, a
// layout change may not.
#include <signals/plugin.h>

#include <gtest/gtest.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace signals {
namespace {

// The version whose layout the tables below describe.
constexpr uint32_t kPinnedAbiMajor = 1;
constexpr uint32_t kPinnedAbiMinor = 3;

std::string PinnedAbi() { return std::to_string(kPinnedAbiMajor) + "." + std::to_string(kPinnedAbiMinor); }

// What to do when a pin fails, said once for every test below.
std::string HowToChangeTheAbi() {
  return "Plugins built against ABI " + PinnedAbi() +
         " exist and rely on this.\n"
         "  - Members appended at the end of a struct that starts with struct_size (signals_config, "
         "signals_host, a kind table, the descriptor after its first five fields), a new kind table or a new "
         "constant: bump SIGNALS_ABI_MINOR.\n"
         "  - Anything else (a member moved, removed, resized or retyped; a constant's value changed; "
         "signals_bytes, signals_option_value, signals_option or signals_component changed): bump "
         "SIGNALS_ABI_MAJOR and set SIGNALS_ABI_MINOR to 0.\n"
         "Then update the pinned tables and kPinnedAbiMajor/kPinnedAbiMinor in "
         "tests/unit/abi_stability_test.cpp to the new version.";
}

// The failure message of a pin test: what differs, the lines that say how, and what to do.
std::string Differs(const std::string& headline, const std::string& changed) {
  return headline + " " + PinnedAbi() + ":\n" + changed + HowToChangeTheAbi();
}

struct PinnedMember {
  const char* name;  // "struct.member"
  size_t offset;     // pinned, LP64
  size_t size;       // pinned, LP64
  size_t actual_offset;
  size_t actual_size;
  bool same_type;  // the member's type is the pinned one
};

PinnedMember Pin(const char* name, size_t offset, size_t size, size_t actual_offset, size_t actual_size,
                 bool same_type) {
  return PinnedMember{name, offset, size, actual_offset, actual_size, same_type};
}

// A member that plugin.h no longer has, or renamed, fails to compile here: the
// rules above apply all the same. The type is last, as it may hold commas.
#define SIGNALS_PIN(Struct, member, offset, size, ...)                                     \
  Pin(#Struct "." #member, offset, size, offsetof(Struct, member), sizeof(Struct::member), \
      std::is_same<decltype(Struct::member), __VA_ARGS__>::value)

// Every member of every struct in plugin.h, in declaration order.
const std::vector<PinnedMember>& PinnedMembers() {
  static const auto* members = new std::vector<PinnedMember>{
      // signals_bytes
      SIGNALS_PIN(signals_bytes, data, 0, 8, const uint8_t*),
      SIGNALS_PIN(signals_bytes, len, 8, 8, size_t),
      // signals_option
      SIGNALS_PIN(signals_option, struct_size, 0, 4, uint32_t),
      SIGNALS_PIN(signals_option, name, 8, 8, const char*),
      SIGNALS_PIN(signals_option, type, 16, 4, uint32_t),
      SIGNALS_PIN(signals_option, flags, 20, 4, uint32_t),
      SIGNALS_PIN(signals_option, default_value, 24, 8, const char*),
      SIGNALS_PIN(signals_option, description, 32, 8, const char*),
      SIGNALS_PIN(signals_option, enum_values, 40, 8, const char*),
      SIGNALS_PIN(signals_option, min_value, 48, 8, int64_t),
      SIGNALS_PIN(signals_option, max_value, 56, 8, int64_t),
      // signals_option_value
      SIGNALS_PIN(signals_option_value, name, 0, 8, const char*),
      SIGNALS_PIN(signals_option_value, value, 8, 8, const char*),
      // signals_config
      SIGNALS_PIN(signals_config, struct_size, 0, 4, uint32_t),
      SIGNALS_PIN(signals_config, instance_name, 8, 8, const char*),
      SIGNALS_PIN(signals_config, data_dir, 16, 8, const char*),
      SIGNALS_PIN(signals_config, values, 24, 8, const signals_option_value*),
      SIGNALS_PIN(signals_config, value_count, 32, 8, size_t),
      SIGNALS_PIN(signals_config, state_dir, 40, 8, const char*),
      // signals_host
      SIGNALS_PIN(signals_host, struct_size, 0, 4, uint32_t),
      SIGNALS_PIN(signals_host, abi_major, 4, 4, uint32_t),
      SIGNALS_PIN(signals_host, abi_minor, 8, 4, uint32_t),
      SIGNALS_PIN(signals_host, ctx, 16, 8, void*),
      SIGNALS_PIN(signals_host, log, 24, 8,
                  void (*)(void* ctx, int32_t level, const char* component, const char* message)),
      SIGNALS_PIN(signals_host, now_unix_ms, 32, 8, int64_t(*)(void* ctx)),
      SIGNALS_PIN(signals_host, counter_add, 40, 8,
                  void (*)(void* ctx, const char* name, const char* labels, double delta)),
      SIGNALS_PIN(signals_host, gauge_set, 48, 8,
                  void (*)(void* ctx, const char* name, const char* labels, double value)),
      SIGNALS_PIN(signals_host, histogram_observe, 56, 8,
                  void (*)(void* ctx, const char* name, const char* labels, double value)),
      SIGNALS_PIN(signals_host, ingest_begin, 64, 8,
                  signals_status(*)(void* ctx, const char* request_json, signals_ingest** out_ingest,
                                    signals_sink problem_sink, void* sink_ctx)),
      SIGNALS_PIN(signals_host, ingest_write, 72, 8,
                  signals_status(*)(void* ctx, signals_ingest* ingest, signals_bytes chunk,
                                    signals_sink problem_sink, void* sink_ctx)),
      SIGNALS_PIN(
          signals_host, ingest_finish, 80, 8,
          signals_status(*)(void* ctx, signals_ingest* ingest, signals_sink result_sink, void* sink_ctx)),
      SIGNALS_PIN(signals_host, ingest_abort, 88, 8, void (*)(void* ctx, signals_ingest* ingest)),
      SIGNALS_PIN(signals_host, query, 96, 8,
                  signals_status(*)(void* ctx, const char* request_json, signals_sink sink, void* sink_ctx)),
      SIGNALS_PIN(signals_host, call, 104, 8,
                  signals_status(*)(void* ctx, const char* request_json, signals_sink sink, void* sink_ctx)),
      SIGNALS_PIN(signals_host, object_open, 112, 8,
                  signals_status(*)(void* ctx, const char* request_json, signals_object** out_object,
                                    signals_sink meta_sink, void* sink_ctx)),
      SIGNALS_PIN(signals_host, object_read, 120, 8,
                  signals_status(*)(void* ctx, signals_object* object, uint8_t* buffer, size_t capacity,
                                    size_t* out_len)),
      SIGNALS_PIN(signals_host, object_close, 128, 8, void (*)(void* ctx, signals_object* object)),
      // signals_cas_api
      SIGNALS_PIN(signals_cas_api, struct_size, 0, 4, uint32_t),
      SIGNALS_PIN(signals_cas_api, put_begin, 8, 8,
                  signals_status(*)(void* instance, const char* key, signals_cas_writer** out_writer)),
      SIGNALS_PIN(signals_cas_api, put_write, 16, 8,
                  signals_status(*)(void* instance, signals_cas_writer* writer, signals_bytes chunk)),
      SIGNALS_PIN(signals_cas_api, put_commit, 24, 8,
                  signals_status(*)(void* instance, signals_cas_writer* writer)),
      SIGNALS_PIN(signals_cas_api, put_abort, 32, 8, void (*)(void* instance, signals_cas_writer* writer)),
      SIGNALS_PIN(signals_cas_api, get_open, 40, 8,
                  signals_status(*)(void* instance, const char* key, signals_cas_reader** out_reader,
                                    uint64_t* out_size)),
      SIGNALS_PIN(signals_cas_api, get_read, 48, 8,
                  signals_status(*)(void* instance, signals_cas_reader* reader, uint8_t* buffer,
                                    size_t capacity, size_t* out_len)),
      SIGNALS_PIN(signals_cas_api, get_close, 56, 8, void (*)(void* instance, signals_cas_reader* reader)),
      SIGNALS_PIN(signals_cas_api, stat, 64, 8,
                  signals_status(*)(void* instance, const char* key, uint64_t* out_size)),
      SIGNALS_PIN(signals_cas_api, remove, 72, 8, signals_status(*)(void* instance, const char* key)),
      SIGNALS_PIN(signals_cas_api, list, 80, 8,
                  signals_status(*)(void* instance, const char* prefix, signals_sink sink, void* sink_ctx)),
      // signals_index_api
      SIGNALS_PIN(signals_index_api, struct_size, 0, 4, uint32_t),
      SIGNALS_PIN(signals_index_api, begin, 8, 8,
                  signals_status(*)(void* instance, signals_index_txn** out_txn)),
      SIGNALS_PIN(signals_index_api, insert, 16, 8,
                  signals_status(*)(void* instance, signals_index_txn* txn, const char* collection,
                                    const char* key, signals_bytes record_json)),
      SIGNALS_PIN(signals_index_api, upsert, 24, 8,
                  signals_status(*)(void* instance, signals_index_txn* txn, const char* collection,
                                    const char* key, signals_bytes record_json)),
      SIGNALS_PIN(
          signals_index_api, remove, 32, 8,
          signals_status(*)(void* instance, signals_index_txn* txn, const char* collection, const char* key)),
      SIGNALS_PIN(signals_index_api, commit, 40, 8,
                  signals_status(*)(void* instance, signals_index_txn* txn)),
      SIGNALS_PIN(signals_index_api, rollback, 48, 8, void (*)(void* instance, signals_index_txn* txn)),
      SIGNALS_PIN(signals_index_api, get, 56, 8,
                  signals_status(*)(void* instance, const char* collection, const char* key,
                                    signals_sink sink, void* sink_ctx)),
      SIGNALS_PIN(signals_index_api, query, 64, 8,
                  signals_status(*)(void* instance, const char* collection, const char* query_json,
                                    signals_sink sink, void* sink_ctx)),
      // signals_signer_api
      SIGNALS_PIN(signals_signer_api, struct_size, 0, 4, uint32_t),
      SIGNALS_PIN(signals_signer_api, algorithm, 8, 8, const char* (*)(void* instance)),
      SIGNALS_PIN(signals_signer_api, key_id, 16, 8, const char* (*)(void* instance)),
      SIGNALS_PIN(signals_signer_api, public_key_pem, 24, 8,
                  signals_status(*)(void* instance, signals_sink sink, void* sink_ctx)),
      SIGNALS_PIN(
          signals_signer_api, sign, 32, 8,
          signals_status(*)(void* instance, signals_bytes message, signals_sink sink, void* sink_ctx)),
      // signals_source_api
      SIGNALS_PIN(signals_source_api, struct_size, 0, 4, uint32_t),
      SIGNALS_PIN(signals_source_api, start, 8, 8, signals_status(*)(void* instance)),
      SIGNALS_PIN(signals_source_api, stop, 16, 8, signals_status(*)(void* instance)),
      // signals_transport_api
      SIGNALS_PIN(signals_transport_api, struct_size, 0, 4, uint32_t),
      SIGNALS_PIN(signals_transport_api, start, 8, 8, signals_status(*)(void* instance)),
      SIGNALS_PIN(signals_transport_api, stop, 16, 8, signals_status(*)(void* instance)),
      // signals_tlog_api
      SIGNALS_PIN(signals_tlog_api, struct_size, 0, 4, uint32_t),
      SIGNALS_PIN(signals_tlog_api, submit, 8, 8,
                  signals_status(*)(void* instance, signals_bytes envelope_json, signals_bytes public_key_pem,
                                    signals_sink sink, void* sink_ctx)),
      SIGNALS_PIN(signals_tlog_api, log_public_key_pem, 16, 8,
                  signals_status(*)(void* instance, signals_sink sink, void* sink_ctx)),
      SIGNALS_PIN(signals_tlog_api, url, 24, 8, const char* (*)(void* instance)),
      // signals_metrics_api
      SIGNALS_PIN(signals_metrics_api, struct_size, 0, 4, uint32_t),
      SIGNALS_PIN(
          signals_metrics_api, render, 8, 8,
          signals_status(*)(void* instance, signals_bytes snapshot_json, signals_sink sink, void* sink_ctx)),
      SIGNALS_PIN(signals_metrics_api, content_type, 16, 8, const char* (*)(void* instance)),
      SIGNALS_PIN(signals_metrics_api, start, 24, 8, signals_status(*)(void* instance)),
      SIGNALS_PIN(signals_metrics_api, stop, 32, 8, signals_status(*)(void* instance)),
      // signals_component
      SIGNALS_PIN(signals_component, struct_size, 0, 4, uint32_t),
      SIGNALS_PIN(signals_component, kind, 4, 4, uint32_t),
      SIGNALS_PIN(signals_component, name, 8, 8, const char*),
      SIGNALS_PIN(signals_component, description, 16, 8, const char*),
      SIGNALS_PIN(signals_component, options, 24, 8, const signals_option*),
      SIGNALS_PIN(signals_component, option_count, 32, 8, size_t),
      SIGNALS_PIN(signals_component, capabilities, 40, 8, uint64_t),
      SIGNALS_PIN(signals_component, create, 48, 8,
                  signals_status(*)(const signals_host* host, const signals_config* config,
                                    void** out_instance, char* error, size_t error_capacity)),
      SIGNALS_PIN(signals_component, destroy, 56, 8, void (*)(void* instance)),
      SIGNALS_PIN(signals_component, last_error, 64, 8, const char* (*)(void* instance)),
      SIGNALS_PIN(signals_component, health, 72, 8, signals_status(*)(void* instance)),
      SIGNALS_PIN(signals_component, api, 80, 8, const void*),
      // signals_plugin_descriptor
      SIGNALS_PIN(signals_plugin_descriptor, magic, 0, 8, uint64_t),
      SIGNALS_PIN(signals_plugin_descriptor, abi_major, 8, 4, uint32_t),
      SIGNALS_PIN(signals_plugin_descriptor, abi_minor, 12, 4, uint32_t),
      SIGNALS_PIN(signals_plugin_descriptor, struct_size, 16, 4, uint32_t),
      SIGNALS_PIN(signals_plugin_descriptor, sdk_version, 24, 8, const char*),
      SIGNALS_PIN(signals_plugin_descriptor, name, 32, 8, const char*),
      SIGNALS_PIN(signals_plugin_descriptor, version, 40, 8, const char*),
      SIGNALS_PIN(signals_plugin_descriptor, description, 48, 8, const char*),
      SIGNALS_PIN(signals_plugin_descriptor, components, 56, 8, const signals_component*),
      SIGNALS_PIN(signals_plugin_descriptor, component_count, 64, 8, size_t),
  };
  return *members;
}

#undef SIGNALS_PIN

struct PinnedSize {
  const char* name;
  size_t size;  // pinned, LP64
  size_t actual;
};

#define SIGNALS_PIN_SIZE(Struct, size) (PinnedSize{#Struct, size, sizeof(Struct)})

const std::vector<PinnedSize>& PinnedSizes() {
  static const auto* sizes = new std::vector<PinnedSize>{
      SIGNALS_PIN_SIZE(signals_bytes, 16),        SIGNALS_PIN_SIZE(signals_option, 64),
      SIGNALS_PIN_SIZE(signals_option_value, 16), SIGNALS_PIN_SIZE(signals_config, 48),
      SIGNALS_PIN_SIZE(signals_host, 136),        SIGNALS_PIN_SIZE(signals_cas_api, 88),
      SIGNALS_PIN_SIZE(signals_index_api, 72),    SIGNALS_PIN_SIZE(signals_signer_api, 40),
      SIGNALS_PIN_SIZE(signals_source_api, 24),   SIGNALS_PIN_SIZE(signals_transport_api, 24),
      SIGNALS_PIN_SIZE(signals_tlog_api, 32),     SIGNALS_PIN_SIZE(signals_metrics_api, 40),
      SIGNALS_PIN_SIZE(signals_component, 88),    SIGNALS_PIN_SIZE(signals_plugin_descriptor, 72),
  };
  return *sizes;
}

#undef SIGNALS_PIN_SIZE

struct PinnedConstant {
  const char* name;
  uint64_t value;  // pinned
  uint64_t actual;
};

#define SIGNALS_PIN_CONSTANT(name, value) (PinnedConstant{#name, value, static_cast<uint64_t>(name)})

// Every #define of plugin.h but SIGNALS_SDK_VERSION, which names the SDK
// release, not the ABI, and the entry symbol, a string (pinned below).
const std::vector<PinnedConstant>& PinnedConstants() {
  static const auto* constants = new std::vector<PinnedConstant>{
      SIGNALS_PIN_CONSTANT(SIGNALS_PLUGIN_MAGIC, 0x5349474e414c5331ULL),
      SIGNALS_PIN_CONSTANT(SIGNALS_ABI_MAJOR, kPinnedAbiMajor),
      SIGNALS_PIN_CONSTANT(SIGNALS_ABI_MINOR, kPinnedAbiMinor),
      SIGNALS_PIN_CONSTANT(SIGNALS_OK, 0),
      SIGNALS_PIN_CONSTANT(SIGNALS_ERROR, 1),
      SIGNALS_PIN_CONSTANT(SIGNALS_RETRY, 2),
      SIGNALS_PIN_CONSTANT(SIGNALS_AGAIN, 3),
      SIGNALS_PIN_CONSTANT(SIGNALS_EOF, 4),
      SIGNALS_PIN_CONSTANT(SIGNALS_NOT_SUPPORTED, 5),
      SIGNALS_PIN_CONSTANT(SIGNALS_INVALID_CONFIG, 6),
      SIGNALS_PIN_CONSTANT(SIGNALS_NOT_FOUND, 7),
      SIGNALS_PIN_CONSTANT(SIGNALS_EXISTS, 8),
      SIGNALS_PIN_CONSTANT(SIGNALS_NO_SPACE, 9),
      SIGNALS_PIN_CONSTANT(SIGNALS_INVALID_ARGUMENT, 10),
      SIGNALS_PIN_CONSTANT(SIGNALS_LOG_TRACE, 0),
      SIGNALS_PIN_CONSTANT(SIGNALS_LOG_DEBUG, 1),
      SIGNALS_PIN_CONSTANT(SIGNALS_LOG_INFO, 2),
      SIGNALS_PIN_CONSTANT(SIGNALS_LOG_WARN, 3),
      SIGNALS_PIN_CONSTANT(SIGNALS_LOG_ERROR, 4),
      SIGNALS_PIN_CONSTANT(SIGNALS_OPT_STRING, 0),
      SIGNALS_PIN_CONSTANT(SIGNALS_OPT_INT, 1),
      SIGNALS_PIN_CONSTANT(SIGNALS_OPT_BOOL, 2),
      SIGNALS_PIN_CONSTANT(SIGNALS_OPT_PATH, 3),
      SIGNALS_PIN_CONSTANT(SIGNALS_OPT_ENUM, 4),
      SIGNALS_PIN_CONSTANT(SIGNALS_OPT_DURATION, 5),
      SIGNALS_PIN_CONSTANT(SIGNALS_OPT_SIZE, 6),
      SIGNALS_PIN_CONSTANT(SIGNALS_OPTF_REQUIRED, 0x1),
      SIGNALS_PIN_CONSTANT(SIGNALS_OPTF_SECRET, 0x2),
      SIGNALS_PIN_CONSTANT(SIGNALS_KIND_CAS, 1),
      SIGNALS_PIN_CONSTANT(SIGNALS_KIND_INDEX, 2),
      SIGNALS_PIN_CONSTANT(SIGNALS_KIND_SIGNER, 3),
      SIGNALS_PIN_CONSTANT(SIGNALS_KIND_TLOG, 4),
      SIGNALS_PIN_CONSTANT(SIGNALS_KIND_METRICS, 5),
      SIGNALS_PIN_CONSTANT(SIGNALS_KIND_TRANSPORT, 6),
      SIGNALS_PIN_CONSTANT(SIGNALS_KIND_SOURCE, 7),
      SIGNALS_PIN_CONSTANT(SIGNALS_CAP_CONCURRENT, 0x1),
  };
  return *constants;
}

#undef SIGNALS_PIN_CONSTANT

bool IsLp64() { return sizeof(void*) == 8 && sizeof(long) == 8 && sizeof(size_t) == 8 && CHAR_BIT == 8; }

// The first five descriptor fields are how a kernel of any version recognises
// a plugin and its version; they must never move, on any data model.
static_assert(offsetof(signals_plugin_descriptor, magic) == 0);
static_assert(offsetof(signals_plugin_descriptor, abi_major) == 8);
static_assert(offsetof(signals_plugin_descriptor, abi_minor) == 12);
static_assert(offsetof(signals_plugin_descriptor, struct_size) == 16);
static_assert(offsetof(signals_plugin_descriptor, sdk_version) == (sizeof(void*) == 8 ? 24 : 20));

TEST(AbiStability, EveryConstantKeepsItsValue) {
  std::string changed;
  for (const PinnedConstant& c : PinnedConstants()) {
    if (c.actual != c.value) {
      changed += "  " + std::string(c.name) + " is " + std::to_string(c.actual) + ", pinned " +
                 std::to_string(c.value) + "\n";
    }
  }
  EXPECT_TRUE(changed.empty()) << Differs("plugin.h's constants differ from those pinned for ABI", changed);
  EXPECT_STREQ(SIGNALS_PLUGIN_ENTRY_SYMBOL, "signals_plugin_entry") << HowToChangeTheAbi();
}

TEST(AbiStability, EveryMemberKeepsItsType) {
  std::string changed;
  for (const PinnedMember& m : PinnedMembers()) {
    if (!m.same_type) changed += "  " + std::string(m.name) + "\n";
  }
  EXPECT_TRUE(changed.empty()) << Differs("these members of plugin.h changed type since ABI", changed);
}

TEST(AbiStability, EveryMemberKeepsItsOffsetAndSize) {
  if (!IsLp64()) {
    GTEST_SKIP() << "the pinned offsets and sizes are those of LP64 (Linux on x86-64 and AArch64); this "
                    "build's data model differs (sizeof(void*) = "
                 << sizeof(void*) << ", sizeof(long) = " << sizeof(long)
                 << "), so they are not checked here. Types and constants still are.";
  }
  std::string changed;
  for (const PinnedMember& m : PinnedMembers()) {
    if (m.actual_offset != m.offset || m.actual_size != m.size) {
      changed += "  " + std::string(m.name) + ": offset " + std::to_string(m.actual_offset) + ", size " +
                 std::to_string(m.actual_size) + "; pinned offset " + std::to_string(m.offset) + ", size " +
                 std::to_string(m.size) + "\n";
    }
  }
  for (const PinnedSize& s : PinnedSizes()) {
    if (s.actual != s.size) {
      changed += "  sizeof(" + std::string(s.name) + ") is " + std::to_string(s.actual) + "; pinned " +
                 std::to_string(s.size) + "\n";
    }
  }
  EXPECT_TRUE(changed.empty()) << Differs("the layout of plugin.h differs from the one pinned for ABI",
                                          changed);
}

TEST(AbiStability, DeclaresThePinnedVersion) {
  EXPECT_TRUE(SIGNALS_ABI_MAJOR == kPinnedAbiMajor && SIGNALS_ABI_MINOR == kPinnedAbiMinor)
      << "plugin.h declares ABI " << SIGNALS_ABI_MAJOR << "." << SIGNALS_ABI_MINOR
      << ", but tests/unit/abi_stability_test.cpp pins the layout of ABI " << PinnedAbi()
      << ". Update the pinned tables to the new version's layout and set kPinnedAbiMajor/kPinnedAbiMinor.";
}

}  // namespace
}  // namespace signals
