// The plugin loader, specified by the fixture matrix in tests/fixtures/plugins:
// one small library per thing the loader must accept or reject, each rejection
// asserted by its exact message (file, versions, what to do). Also in-process
// registration, directory loading, instance creation and option validation.
#include <signals/plugin.h>

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/bootstrap.hpp"
#include "config/kernel_config.hpp"
#include "config/option_schema.hpp"
#include "config/settings.hpp"
#include "plugin/plugin_instance.hpp"
#include "plugin/plugin_registry.hpp"

#ifndef SIGNALS_FIXTURE_PLUGIN_DIR
#error "SIGNALS_FIXTURE_PLUGIN_DIR must name the fixture plugin directory (tests/fixtures/CMakeLists.txt)"
#endif

namespace signals {
namespace {

// Expected sizes below are those of LP64 (Linux on x86-64 and AArch64).
static_assert(sizeof(void*) == 8, "the expected struct sizes assume LP64");

std::string Fixture(const std::string& name) {
  return std::string(SIGNALS_FIXTURE_PLUGIN_DIR) + "/libsignals-fixture-" + name + ".so";
}

std::string Abi(int major, int minor) { return std::to_string(major) + "." + std::to_string(minor); }

const std::string kKernelAbi = Abi(SIGNALS_ABI_MAJOR, SIGNALS_ABI_MINOR);
const std::string kRebuild = "; rebuild the plugin against an unmodified Signals SDK with ABI " + kKernelAbi;

// What the loader says when the plugin from `origin` was built for ABI major SIGNALS_ABI_MAJOR + 1.
std::string IncompatibleMajorMessage(const std::string& origin) {
  return origin + ": plugin ABI " + Abi(SIGNALS_ABI_MAJOR + 1, 0) +
         " (SDK " SIGNALS_SDK_VERSION ") is incompatible with this kernel's ABI " + kKernelAbi +
         "; rebuild the plugin against a Signals SDK with ABI major " + std::to_string(SIGNALS_ABI_MAJOR);
}

// The message of loading one library into an empty registry.
std::string LoadMessage(const std::string& path) {
  PluginRegistry registry;
  return registry.LoadFile(path).message();
}

// --- the fixture matrix: LoadFile ----------------------------------------------

TEST(LoaderFixture, LoadsAMinimalC99Plugin) {
  PluginRegistry registry;
  ASSERT_TRUE(registry.LoadFile(Fixture("noop")).ok());

  const LoadedComponent* noop = registry.Find("source-fixture-noop");
  ASSERT_NE(noop, nullptr);
  EXPECT_EQ(noop->origin, Fixture("noop"));
  EXPECT_EQ(noop->component->kind, static_cast<uint32_t>(SIGNALS_KIND_SOURCE));
  EXPECT_STREQ(noop->plugin->name, "fixture-noop");
  ASSERT_EQ(registry.libraries().size(), 1u);
  EXPECT_EQ(registry.libraries()[0].origin, Fixture("noop"));
}

TEST(LoaderFixture, RejectsLibraryThatDoesNotExportTheEntrySymbol) {
  PluginRegistry registry;
  Status status = registry.LoadFile(Fixture("missing_entry"));
  EXPECT_EQ(status.code(), Code::kConfig);
  EXPECT_EQ(status.message(),
            Fixture("missing_entry") +
                ": not a Signals plugin: it does not export 'signals_plugin_entry'; define it with "
                "SIGNALS_PLUGIN(...) from <signals/plugin.hpp>, or in C as an extern function with "
                "default visibility");
  EXPECT_TRUE(registry.components().empty());
}

TEST(LoaderFixture, ReportsTheDynamicLinkersReasonWhenALibraryCannotLoad) {
  EXPECT_EQ(
      LoadMessage(Fixture("undefined_symbol")),
      Fixture("undefined_symbol") + ": cannot load: undefined symbol: signals_fixture_symbol_nobody_defines");
}

TEST(LoaderFixture, ReportsAMissingFileAsSuch) {
  const std::string path = Fixture("does_not_exist");
  EXPECT_EQ(LoadMessage(path),
            path + ": cannot load: cannot open shared object file: No such file or directory");
}

TEST(LoaderFixture, RejectsDescriptorWithTheWrongMagic) {
  EXPECT_EQ(LoadMessage(Fixture("bad_magic")),
            Fixture("bad_magic") +
                ": not a Signals plugin: the descriptor's magic number is 0x0123456789abcdef, not "
                "0x5349474e414c5331 (\"SIGNALS1\")");
}

TEST(LoaderFixture, RejectsPluginBuiltForAnotherAbiMajor) {
  EXPECT_EQ(LoadMessage(Fixture("abi_major_mismatch")),
            IncompatibleMajorMessage(Fixture("abi_major_mismatch")));
}

TEST(LoaderFixture, RejectsPluginBuiltForANewerAbiMinor) {
  const std::string newer = Abi(SIGNALS_ABI_MAJOR, SIGNALS_ABI_MINOR + 1);
  EXPECT_EQ(LoadMessage(Fixture("abi_newer_minor")),
            Fixture("abi_newer_minor") + ": plugin ABI " + newer +
                " (SDK " SIGNALS_SDK_VERSION ") is newer than this kernel's ABI " + kKernelAbi +
                "; upgrade Signals to a kernel with ABI " + newer +
                " or later, or rebuild the plugin against a Signals SDK with ABI " + kKernelAbi);
}

TEST(LoaderFixture, RejectsDescriptorLargerThanTheAbiDefines) {
  EXPECT_EQ(LoadMessage(Fixture("oversized_descriptor")),
            Fixture("oversized_descriptor") + ": descriptor is 80 bytes, larger than the 72 bytes ABI " +
                kKernelAbi + " defines (was plugin.h modified?)" + kRebuild);
}

TEST(LoaderFixture, RejectsDescriptorSmallerThanTheAbiDefines) {
  EXPECT_EQ(LoadMessage(Fixture("undersized_descriptor")),
            Fixture("undersized_descriptor") + ": descriptor is 32 bytes, smaller than the 72 bytes ABI " +
                kKernelAbi + " defines (was plugin.h modified?)" + kRebuild);
}

TEST(LoaderFixture, RejectsComponentOfAnUnknownKind) {
  EXPECT_EQ(LoadMessage(Fixture("unknown_kind")),
            Fixture("unknown_kind") + ": component 0 'mystery-fixture': kind 42 (unknown) is not " +
                "supported by this kernel's ABI " + kKernelAbi +
                ", which supports cas, index, signer, tlog, metrics, transport and source");
}

// One fixture per required member left NULL: the component's own functions,
// its table, and a function of a source, a cas and a signer table.
TEST(LoaderFixture, RejectsARequiredMemberLeftNullNamingLibraryComponentAndMember) {
  const std::string required = "; plugin.h marks it \"Required: yes\"";
  const struct {
    const char* fixture;
    std::string message;  // after "<path>: "
  } cases[] = {
      {"null_create",
       "component 0 'source-fixture-null-create': required function 'create' of signals_component is NULL"},
      {"null_destroy",
       "component 0 'source-fixture-null-destroy': required function 'destroy' of signals_component is NULL"},
      {"null_last_error",
       "component 0 'source-fixture-null-last-error': required function 'last_error' of signals_component "
       "is NULL"},
      {"null_health",
       "component 0 'source-fixture-null-health': required function 'health' of signals_component is NULL"},
      {"null_api",
       "component 0 'source-fixture-null-api': required member 'api' of signals_component (its "
       "signals_source_api table) is NULL"},
      {"null_source_start",
       "component 0 'source-fixture-null-start': required function 'start' of signals_source_api is NULL"},
      {"null_cas_function",
       "component 0 'cas-fixture-null-list': required function 'list' of signals_cas_api is NULL"},
      {"null_signer_function",
       "component 0 'signer-fixture-null-public-key': required function 'public_key_pem' of "
       "signals_signer_api is NULL"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.fixture);
    PluginRegistry registry;
    Status status = registry.LoadFile(Fixture(c.fixture));
    EXPECT_EQ(status.code(), Code::kConfig);
    EXPECT_EQ(status.message(), Fixture(c.fixture) + ": " + c.message + required);
    EXPECT_TRUE(registry.components().empty());
    EXPECT_TRUE(registry.libraries().empty());
  }
}

TEST(LoaderFixture, RejectsKindTableShorterThanTheAbiDefines) {
  EXPECT_EQ(LoadMessage(Fixture("short_api_table")),
            Fixture("short_api_table") +
                ": component 0 'source-fixture-short-api': its source function table is 16 bytes, but "
                "ABI " +
                kKernelAbi + " defines 24" + kRebuild);
}

TEST(LoaderFixture, RejectsLibraryDeclaringOneNameTwiceAndRegistersNothingOfIt) {
  PluginRegistry registry;
  EXPECT_EQ(registry.LoadFile(Fixture("duplicate_in_library")).message(),
            Fixture("duplicate_in_library") +
                ": component 1 'source-twice': the library declares a component of this name twice");
  EXPECT_EQ(registry.Find("source-twice"), nullptr);
  EXPECT_TRUE(registry.libraries().empty());
}

TEST(LoaderFixture, RejectsSecondLibraryProvidingAnAlreadyLoadedName) {
  PluginRegistry registry;
  ASSERT_TRUE(registry.LoadFile(Fixture("duplicate_name_a")).ok());
  EXPECT_EQ(registry.LoadFile(Fixture("duplicate_name_b")).message(),
            Fixture("duplicate_name_b") + ": component 0 'source-dup': already provided by " +
                Fixture("duplicate_name_a") +
                "; component names must be unique, so remove one of the two libraries");

  ASSERT_NE(registry.Find("source-dup"), nullptr);
  EXPECT_EQ(registry.Find("source-dup")->origin, Fixture("duplicate_name_a"));
  EXPECT_EQ(registry.libraries().size(), 1u);
}

// --- in-process registration (no dlopen) -----------------------------------------

int g_instance;
signals_status CreateOk(const signals_host*, const signals_config*, void** out, char*, size_t) {
  *out = &g_instance;
  return SIGNALS_OK;
}
signals_status CreateFailsSilently(const signals_host*, const signals_config*, void**, char*, size_t) {
  return SIGNALS_ERROR;
}
signals_status CreateOkWithoutInstance(const signals_host*, const signals_config*, void**, char*, size_t) {
  return SIGNALS_OK;
}
void Destroy(void*) {}
const char* LastError(void*) { return ""; }
signals_status Ok(void*) { return SIGNALS_OK; }

const signals_source_api kSourceApi = {sizeof(signals_source_api), &Ok, &Ok};

// Kind tables of components that are registered but never created: every
// function is set, as the loader requires, to one that fails the test if
// called.
template <typename R, typename... A>
void SetNeverCalled(R (*&slot)(A...)) {
  slot = [](A...) -> R {
    ADD_FAILURE() << "a function of an in-process kind table was called";
    return R();
  };
}

template <typename Api>
Api FullTable();

// A kind table with the given functions set, each to one that fails the test if called.
template <typename Api, typename... Functions>
Api NeverCalledTable(Functions Api::*... functions) {
  Api api{};
  api.struct_size = sizeof(api);
  (SetNeverCalled(api.*functions), ...);
  return api;
}

template <>
signals_cas_api FullTable() {
  return NeverCalledTable<signals_cas_api>(
      &signals_cas_api::put_begin, &signals_cas_api::put_write, &signals_cas_api::put_commit,
      &signals_cas_api::put_abort, &signals_cas_api::get_open, &signals_cas_api::get_read,
      &signals_cas_api::get_close, &signals_cas_api::stat, &signals_cas_api::remove, &signals_cas_api::list);
}

template <>
signals_index_api FullTable() {
  return NeverCalledTable<signals_index_api>(&signals_index_api::begin, &signals_index_api::insert,
                                             &signals_index_api::upsert, &signals_index_api::remove,
                                             &signals_index_api::commit, &signals_index_api::rollback,
                                             &signals_index_api::get, &signals_index_api::query);
}

template <>
signals_signer_api FullTable() {
  return NeverCalledTable<signals_signer_api>(&signals_signer_api::algorithm, &signals_signer_api::key_id,
                                              &signals_signer_api::public_key_pem, &signals_signer_api::sign);
}

template <>
signals_tlog_api FullTable() {
  return NeverCalledTable<signals_tlog_api>(&signals_tlog_api::submit, &signals_tlog_api::log_public_key_pem,
                                            &signals_tlog_api::url);
}

template <>
signals_metrics_api FullTable() {
  return NeverCalledTable<signals_metrics_api>(&signals_metrics_api::render,
                                               &signals_metrics_api::content_type,
                                               &signals_metrics_api::start, &signals_metrics_api::stop);
}

template <>
signals_transport_api FullTable() {
  return NeverCalledTable<signals_transport_api>(&signals_transport_api::start, &signals_transport_api::stop);
}

template <>
signals_source_api FullTable() {
  return NeverCalledTable<signals_source_api>(&signals_source_api::start, &signals_source_api::stop);
}

const signals_cas_api kCasApi = FullTable<signals_cas_api>();
const signals_index_api kIndexApi = FullTable<signals_index_api>();
const signals_signer_api kSignerApi = FullTable<signals_signer_api>();

signals_component Component(const char* name, uint32_t kind = SIGNALS_KIND_SOURCE,
                            const void* api = &kSourceApi) {
  return signals_component{sizeof(signals_component),
                           kind,
                           name,
                           "An in-process test component.",
                           nullptr,
                           0,
                           0,
                           &CreateOk,
                           &Destroy,
                           &LastError,
                           &Ok,
                           api};
}

signals_plugin_descriptor Descriptor(const signals_component* components, size_t count) {
  return signals_plugin_descriptor{SIGNALS_PLUGIN_MAGIC,
                                   SIGNALS_ABI_MAJOR,
                                   SIGNALS_ABI_MINOR,
                                   sizeof(signals_plugin_descriptor),
                                   SIGNALS_SDK_VERSION,
                                   "in-process-test",
                                   "1.0.0",
                                   "Defined in the test.",
                                   components,
                                   count};
}

// A plugin of one component, defined in the test. Registries keep pointers
// into it, so it is never copied and outlives them.
struct InProcessPlugin {
  explicit InProcessPlugin(const signals_component& c)
      : component(c), descriptor(Descriptor(&component, 1)) {}
  InProcessPlugin(const InProcessPlugin&) = delete;
  InProcessPlugin& operator=(const InProcessPlugin&) = delete;

  signals_component component;
  signals_plugin_descriptor descriptor;
};

signals_component WithCreate(signals_component c, decltype(signals_component::create) create) {
  c.create = create;
  return c;
}

// The message of registering `descriptor` into an empty registry.
std::string RegisterMessage(const signals_plugin_descriptor* descriptor) {
  PluginRegistry registry;
  return registry.Register(descriptor, "(in-process)").message();
}

TEST(PluginRegistry, RegistersADescriptorInProcessWithoutDlopen) {
  static const InProcessPlugin plugin(Component("source-in-process"));
  PluginRegistry registry;
  ASSERT_TRUE(registry.Register(&plugin.descriptor, "(in-process)").ok());

  const LoadedComponent* found = registry.Find("source-in-process");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->origin, "(in-process)");
  EXPECT_EQ(found->plugin, &plugin.descriptor);
  EXPECT_EQ(found->component, &plugin.component);
}

TEST(PluginRegistry, RejectsANullDescriptor) {
  EXPECT_EQ(RegisterMessage(nullptr),
            "(in-process): signals_plugin_entry returned NULL instead of a descriptor");
}

TEST(PluginRegistry, AppliesTheAbiChecksInProcessToo) {
  InProcessPlugin plugin(Component("source-in-process"));
  plugin.descriptor.abi_major = SIGNALS_ABI_MAJOR + 1;
  plugin.descriptor.abi_minor = 0;
  EXPECT_EQ(RegisterMessage(&plugin.descriptor), IncompatibleMajorMessage("(in-process)"));
}

TEST(PluginRegistry, RejectsInProcessComponentAlreadyLoadedFromAFile) {
  static const InProcessPlugin plugin(Component("source-fixture-noop"));
  PluginRegistry registry;
  ASSERT_TRUE(registry.LoadFile(Fixture("noop")).ok());
  EXPECT_EQ(registry.Register(&plugin.descriptor, "(in-process)").message(),
            "(in-process): component 0 'source-fixture-noop': already provided by " + Fixture("noop") +
                "; component names must be unique, so remove one of the two libraries");
}

TEST(PluginRegistry, RejectsAComponentWithoutAName) {
  static const InProcessPlugin plugin(Component(nullptr));
  EXPECT_EQ(RegisterMessage(&plugin.descriptor), "(in-process): component 0: the component has no name");
}

// A kind's full table with one function NULL.
struct NullMemberCase {
  uint32_t kind;
  std::string table;   // "signals_cas_api"
  std::string member;  // the NULL one
  std::shared_ptr<const void> api;
};

template <typename Api>
NullMemberCase WithNull(uint32_t kind, const char* table, const char* member, void (*clear)(Api&)) {
  auto api = std::make_shared<Api>(FullTable<Api>());
  clear(*api);
  return NullMemberCase{kind, table, member, api};
}

#define SIGNALS_NULL_MEMBER(Kind, Api, member) \
  WithNull<Api>(Kind, #Api, #member, [](Api& api) { api.member = nullptr; })

// Every function of every kind table: plugin.h marks them all "Required: yes".
std::vector<NullMemberCase> EveryKindFunctionLeftNull() {
  return {
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_CAS, signals_cas_api, put_begin),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_CAS, signals_cas_api, put_write),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_CAS, signals_cas_api, put_commit),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_CAS, signals_cas_api, put_abort),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_CAS, signals_cas_api, get_open),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_CAS, signals_cas_api, get_read),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_CAS, signals_cas_api, get_close),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_CAS, signals_cas_api, stat),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_CAS, signals_cas_api, remove),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_CAS, signals_cas_api, list),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_INDEX, signals_index_api, begin),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_INDEX, signals_index_api, insert),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_INDEX, signals_index_api, upsert),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_INDEX, signals_index_api, remove),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_INDEX, signals_index_api, commit),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_INDEX, signals_index_api, rollback),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_INDEX, signals_index_api, get),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_INDEX, signals_index_api, query),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_SIGNER, signals_signer_api, algorithm),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_SIGNER, signals_signer_api, key_id),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_SIGNER, signals_signer_api, public_key_pem),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_SIGNER, signals_signer_api, sign),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_TLOG, signals_tlog_api, submit),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_TLOG, signals_tlog_api, log_public_key_pem),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_TLOG, signals_tlog_api, url),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_METRICS, signals_metrics_api, render),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_METRICS, signals_metrics_api, content_type),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_METRICS, signals_metrics_api, start),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_METRICS, signals_metrics_api, stop),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_TRANSPORT, signals_transport_api, start),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_TRANSPORT, signals_transport_api, stop),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_SOURCE, signals_source_api, start),
      SIGNALS_NULL_MEMBER(SIGNALS_KIND_SOURCE, signals_source_api, stop),
  };
}

#undef SIGNALS_NULL_MEMBER

TEST(PluginRegistry, AcceptsEveryKindWithEveryFunctionSet) {
  const signals_tlog_api tlog = FullTable<signals_tlog_api>();
  const signals_metrics_api metrics = FullTable<signals_metrics_api>();
  const signals_transport_api transport = FullTable<signals_transport_api>();
  const signals_source_api source = FullTable<signals_source_api>();
  const signals_component components[] = {Component("cas-full", SIGNALS_KIND_CAS, &kCasApi),
                                          Component("index-full", SIGNALS_KIND_INDEX, &kIndexApi),
                                          Component("signer-full", SIGNALS_KIND_SIGNER, &kSignerApi),
                                          Component("tlog-full", SIGNALS_KIND_TLOG, &tlog),
                                          Component("metrics-full", SIGNALS_KIND_METRICS, &metrics),
                                          Component("transport-full", SIGNALS_KIND_TRANSPORT, &transport),
                                          Component("source-full", SIGNALS_KIND_SOURCE, &source)};
  const signals_plugin_descriptor descriptor = Descriptor(components, 7);
  PluginRegistry registry;
  Status status = registry.Register(&descriptor, "(in-process)");
  EXPECT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(registry.components().size(), 7u);
}

TEST(PluginRegistry, RefusesEveryKindFunctionLeftNull) {
  for (const NullMemberCase& c : EveryKindFunctionLeftNull()) {
    SCOPED_TRACE(c.table + "." + c.member);
    const InProcessPlugin plugin(Component("x-null", c.kind, c.api.get()));
    PluginRegistry registry;
    EXPECT_EQ(registry.Register(&plugin.descriptor, "(in-process)").message(),
              "(in-process): component 0 'x-null': required function '" + c.member + "' of " + c.table +
                  " is NULL; plugin.h marks it \"Required: yes\"");
    EXPECT_TRUE(registry.components().empty());
  }
}

TEST(PluginRegistry, RejectsAMalformedOptionTable) {
  static const signals_option options[] = {
      {sizeof(signals_option), "ok", SIGNALS_OPT_STRING, 0, "", "Fine.", nullptr, 0, 0},
      {sizeof(signals_option) - 8, "short", SIGNALS_OPT_STRING, 0, "", "Short.", nullptr, 0, 0}};
  static const InProcessPlugin plugin([] {
    signals_component c = Component("source-options");
    c.options = options;
    c.option_count = 2;
    return c;
  }());
  EXPECT_EQ(RegisterMessage(&plugin.descriptor),
            "(in-process): component 0 'source-options': option 1: option struct is " +
                std::to_string(sizeof(signals_option) - 8) + " bytes, but ABI " + kKernelAbi + " defines " +
                std::to_string(sizeof(signals_option)) + kRebuild);
}

// --- LoadDirectory ---------------------------------------------------------------

class LoaderDirectory : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("signals-loader-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Link(const std::string& fixture, const std::string& as) {
    std::filesystem::create_symlink(Fixture(fixture), dir_ / as);
    return (dir_ / as).string();
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }

  std::filesystem::path dir_;
};

TEST_F(LoaderDirectory, LoadsOnlyLibsignalsSharedObjectsReportsFailuresAndKeepsTheGoodOnes) {
  const std::string bad_magic = Link("bad_magic", "libsignals-bad-magic.so");
  const std::string noop = Link("noop", "libsignals-noop.so");
  const std::string garbage = Write("libsignals-garbage.so", "not a library\n");
  Link("declares_options", "libother-options.so");      // wrong prefix
  Link("declares_options", "libsignals-options.so.1");  // wrong extension
  Link("declares_options", "signals-options.so");       // no lib prefix
  Write("README.txt", "plugins go here\n");

  PluginRegistry registry;
  std::vector<std::string> problems = registry.LoadDirectory(dir_.string());

  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0], bad_magic +
                             ": not a Signals plugin: the descriptor's magic number is "
                             "0x0123456789abcdef, not 0x5349474e414c5331 (\"SIGNALS1\")");
  EXPECT_EQ(problems[1], garbage + ": cannot load: file too short");
  ASSERT_NE(registry.Find("source-fixture-noop"), nullptr);
  EXPECT_EQ(registry.Find("source-fixture-noop")->origin, noop);
  EXPECT_EQ(registry.Find("source-fixture-options"), nullptr);
  EXPECT_EQ(registry.libraries().size(), 1u);
}

TEST_F(LoaderDirectory, ReportsADirectoryThatCannotBeRead) {
  const std::string missing = (dir_ / "nope").string();
  PluginRegistry registry;
  std::vector<std::string> problems = registry.LoadDirectory(missing);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0], missing + ": cannot read plugin directory: No such file or directory");
}

// --- PluginInstance::Create --------------------------------------------------------

class LoaderCreate : public ::testing::Test {
 protected:
  LoaderCreate() {
    // The fixtures never call back, so an empty host table will do.
    std::memset(&host_, 0, sizeof(host_));
    host_.struct_size = sizeof(host_);
    host_.abi_major = SIGNALS_ABI_MAJOR;
    host_.abi_minor = SIGNALS_ABI_MINOR;
    // A source instance gets a state directory under the data directory.
    std::string pattern = (std::filesystem::temp_directory_path() / "signals-loader-create-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) data_dir_ = pattern;
  }
  ~LoaderCreate() override {
    if (!data_dir_.empty()) std::filesystem::remove_all(data_dir_);
  }

  Result<std::unique_ptr<PluginInstance>> Create(const LoadedComponent* component) {
    InstanceConfig config;
    config.section = "source.fixture";
    config.component = component;
    return PluginInstance::Create(config, data_dir_, &host_);
  }
  const LoadedComponent* Load(const std::string& fixture, const std::string& component) {
    Status s = registry_.LoadFile(Fixture(fixture));
    if (!s.ok()) throw std::runtime_error(s.message());
    return registry_.Find(component);
  }

  PluginRegistry registry_;
  signals_host host_;
  std::string data_dir_;
};

TEST_F(LoaderCreate, CreatesAnInstanceOfAValidPlugin) {
  auto created = Create(Load("noop", "source-fixture-noop"));
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_EQ((*created)->section(), "source.fixture");
  EXPECT_TRUE((*created)->Health().ok());
}

TEST_F(LoaderCreate, ReportsTheMessageCreateWroteWhenItFails) {
  auto created = Create(Load("create_fails", "source-fixture-create-fails"));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), Code::kConfig);
  EXPECT_EQ(created.status().message(),
            "[source.fixture] source-fixture-create-fails: fixture: option 'x' is wrong");
}

TEST_F(LoaderCreate, CatchesAnExceptionThrownAcrossTheCAbi) {
  auto created = Create(Load("create_throws", "source-fixture-create-throws"));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), Code::kConfig);
  EXPECT_EQ(created.status().message(),
            "[source.fixture] source-fixture-create-throws: create threw an exception across the C "
            "ABI (fixture: thrown across the C ABI); the plugin must catch it and return a status, "
            "as plugin.hpp does");
}

TEST_F(LoaderCreate, WrapperTurnsAThrowingConstructorIntoAnError) {
  auto created = Create(Load("wrapper_throws", "source-fixture-wrapper-throws"));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), Code::kInternal);
  EXPECT_EQ(created.status().message(), "[source.fixture] source-fixture-wrapper-throws: boom");
}

TEST_F(LoaderCreate, NamesTheStatusWhenCreateFailsWithoutAMessage) {
  static const InProcessPlugin plugin(WithCreate(Component("source-silent"), &CreateFailsSilently));
  ASSERT_TRUE(registry_.Register(&plugin.descriptor, "(in-process)").ok());
  auto created = Create(registry_.Find("source-silent"));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), Code::kInternal);
  EXPECT_EQ(created.status().message(),
            "[source.fixture] source-silent: create failed with status 1 and no message");
}

TEST_F(LoaderCreate, RejectsCreateThatSucceedsWithoutAnInstance) {
  static const InProcessPlugin plugin(WithCreate(Component("source-hollow"), &CreateOkWithoutInstance));
  ASSERT_TRUE(registry_.Register(&plugin.descriptor, "(in-process)").ok());
  auto created = Create(registry_.Find("source-hollow"));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), Code::kInternal);
  EXPECT_EQ(created.status().message(),
            "[source.fixture] source-hollow: create returned OK without an instance");
}

// --- config validation against a declared option table ------------------------------

// A registry with declares_options (source-fixture-options) and in-process
// cas, index and signer components that are registered but never created, so
// that ResolveConfig sees a complete config.
class ConfigValidation : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(registry_.LoadFile(Fixture("declares_options")).ok());
    static const signals_component core[] = {
        Component("cas-never-created", SIGNALS_KIND_CAS, &kCasApi),
        Component("index-never-created", SIGNALS_KIND_INDEX, &kIndexApi),
        Component("signer-never-created", SIGNALS_KIND_SIGNER, &kSignerApi)};
    static const signals_plugin_descriptor descriptor = Descriptor(core, 3);
    ASSERT_TRUE(registry_.Register(&descriptor, "(in-process)").ok());

    Set("kernel", "data_dir", "/srv/signals");
    Set("cas", "plugin", "cas-never-created");
    Set("index", "plugin", "index-never-created");
    Set("signing", "plugin", "signer-never-created");
    Set("source.opts", "plugin", "source-fixture-options");
  }

  void Set(const std::string& section, const std::string& key, const std::string& value) {
    settings_.Set(section, key, value, "file test.conf");
  }
  // The [source.opts] options ResolveConfig hands to the plugin.
  std::map<std::string, std::string> Resolve() {
    auto config = ResolveConfig(settings_, registry_);
    if (!config.ok()) {
      ADD_FAILURE() << config.status().message();
      return {};
    }
    const InstanceConfig* instance = config->Instance("source.opts");
    if (instance == nullptr) {
      ADD_FAILURE() << "no [source.opts] instance";
      return {};
    }
    return instance->options;
  }
  std::string Problems() {
    auto config = ResolveConfig(settings_, registry_);
    return config.ok() ? "(no problems)" : config.status().message();
  }
  // One option through ValidateOptions alone: the normalised value or the problem.
  std::string Validate(const std::string& key, const std::string& value) {
    const LoadedComponent* c = registry_.Find("source-fixture-options");
    std::vector<std::string> problems;
    auto out = ValidateOptions(OptionTable{c->component->options, c->component->option_count},
                               {{"label", "x"}, {key, value}}, "[source.opts]", "/srv/signals", &problems);
    return problems.empty() ? out[key] : problems.front();
  }

  PluginRegistry registry_;
  Settings settings_;
};

// --- loading plugins from where they were built ------------------------------------

TEST_F(ConfigValidation, APluginValueThatIsALibraryPathUsesThatLibrarysComponentOfTheSectionsKind) {
  ASSERT_TRUE(registry_.LoadFile(Fixture("noop")).ok());
  Set("source.opts", "label", "x");
  Set("source.built", "plugin", Fixture("noop"));
  auto config = ResolveConfig(settings_, registry_);
  ASSERT_TRUE(config.ok()) << config.status().message();
  const InstanceConfig* instance = config->Instance("source.built");
  ASSERT_NE(instance, nullptr);
  EXPECT_STREQ(instance->component->component->name, "source-fixture-noop");
}

TEST_F(ConfigValidation, ALibraryPathWithoutAComponentOfTheSectionsKindIsNamedWithWhatItHas) {
  ASSERT_TRUE(registry_.LoadFile(Fixture("noop")).ok());
  Set("cas", "plugin", Fixture("noop"));
  EXPECT_NE(Problems().find("[cas] plugin: " + Fixture("noop") +
                            " has no cas component (it has: source-fixture-noop) (file test.conf)"),
            std::string::npos)
      << Problems();
  Set("cas", "plugin", "/nowhere/libsignals-cas-gone.so");
  EXPECT_NE(
      Problems().find("[cas] plugin: no plugin library was loaded from /nowhere/libsignals-cas-gone.so"),
      std::string::npos)
      << Problems();
}

TEST(LoadPlugins, AddsPluginPathDirectoriesAndLibrariesNamedByPathToThePluginDir) {
  const std::string empty_dir = ::testing::TempDir() + "/signals-empty-plugin-dir";
  std::filesystem::create_directories(empty_dir);
  Settings settings;
  settings.Set("source.built", "plugin", Fixture("noop"), "test");
  {
    // A library named by path is loaded, wherever it is.
    KernelPaths paths{"/srv/signals", empty_dir, {}};
    PluginRegistry registry;
    EXPECT_TRUE(LoadPlugins(settings, paths, registry).empty());
    EXPECT_NE(registry.Find("source-fixture-noop"), nullptr);
  }
  {
    // plugin_path adds directories: the fixture directory holds the noop
    // plugin (and broken ones, reported one by one, the rest still loaded).
    Settings by_name;
    KernelPaths paths{"/srv/signals", empty_dir, {SIGNALS_FIXTURE_PLUGIN_DIR}};
    PluginRegistry registry;
    std::vector<std::string> problems = LoadPlugins(by_name, paths, registry);
    EXPECT_FALSE(problems.empty());
    EXPECT_NE(registry.Find("source-fixture-noop"), nullptr);
  }
}

TEST(KernelPaths, PluginPathIsColonSeparatedAndRelativeToTheDataDir) {
  Settings settings;
  settings.Set("kernel", "data_dir", "/srv/signals", "test");
  settings.Set("kernel", "plugin_path", "/opt/a:extra::/opt/b/../c", "test");
  auto paths = ResolveKernelPaths(settings);
  ASSERT_TRUE(paths.ok());
  EXPECT_EQ(paths->plugin_path, (std::vector<std::string>{"/opt/a", "/srv/signals/extra", "/opt/c"}));
  EXPECT_EQ(PluginLibraryPath("source-tail", "/srv/signals"), "");
  EXPECT_EQ(PluginLibraryPath("lib/libsignals-source-tail.so", "/srv/signals"),
            "/srv/signals/lib/libsignals-source-tail.so");
  EXPECT_EQ(PluginLibraryPath("/opt/x/../y/libsignals-a.so", "/srv/signals"), "/opt/y/libsignals-a.so");
}

TEST_F(ConfigValidation, FillsEveryDefaultNormalised) {
  Set("source.opts", "label", "edge");
  EXPECT_EQ(Resolve(), (std::map<std::string, std::string>{{"label", "edge"},
                                                           {"workers", "4"},
                                                           {"verbose", "false"},
                                                           {"spool_dir", "/srv/signals/spool"},
                                                           {"mode", "safe"},
                                                           {"flush_interval", "30000"},
                                                           {"max_batch", "1048576"}}));
}

TEST_F(ConfigValidation, NormalisesGivenValuesOfEveryType) {
  Set("source.opts", "label", "edge");
  Set("source.opts", "workers", "8");
  Set("source.opts", "verbose", "Yes");
  Set("source.opts", "spool_dir", "queue/../in");
  Set("source.opts", "mode", "PARANOID");
  Set("source.opts", "flush_interval", "2m");
  Set("source.opts", "max_batch", "16MiB");
  Set("source.opts", "api_token", "s3cret");
  EXPECT_EQ(Resolve(), (std::map<std::string, std::string>{{"label", "edge"},
                                                           {"workers", "8"},
                                                           {"verbose", "true"},
                                                           {"spool_dir", "/srv/signals/in"},
                                                           {"mode", "paranoid"},
                                                           {"flush_interval", "120000"},
                                                           {"max_batch", "16777216"},
                                                           {"api_token", "s3cret"}}));
}

TEST_F(ConfigValidation, NormalisesEveryBooleanSpelling) {
  for (const char* yes : {"true", "TRUE", "yes", "on", "1"})
    EXPECT_EQ(Validate("verbose", yes), "true") << yes;
  for (const char* no : {"false", "False", "no", "off", "0"})
    EXPECT_EQ(Validate("verbose", no), "false") << no;
  EXPECT_EQ(Validate("verbose", "maybe"),
            "[source.opts]: option 'verbose': 'maybe' is not a boolean (true/false, yes/no, on/off, 1/0)");
}

TEST_F(ConfigValidation, NormalisesDurationsToMillisecondsAndSizesToBytes) {
  EXPECT_EQ(Validate("flush_interval", "500ms"), "500");
  EXPECT_EQ(Validate("flush_interval", "30"), "30000");
  EXPECT_EQ(Validate("flush_interval", "1h"), "3600000");
  EXPECT_EQ(Validate("max_batch", "2048"), "2048");
  EXPECT_EQ(Validate("max_batch", "64KiB"), "65536");
  EXPECT_EQ(Validate("max_batch", "10MB"), "10000000");
  EXPECT_EQ(
      Validate("flush_interval", "5w"),
      "[source.opts]: option 'flush_interval': '5w' has an unknown duration unit (use ms, s, m, h or d)");
}

TEST_F(ConfigValidation, ResolvesRelativePathsAgainstTheDataDirAndKeepsAbsoluteOnes) {
  EXPECT_EQ(Validate("spool_dir", "spool/in"), "/srv/signals/spool/in");
  EXPECT_EQ(Validate("spool_dir", "/var/spool/x/../y"), "/var/spool/y");
}

TEST_F(ConfigValidation, RejectsAnUnknownKeyWithADidYouMean) {
  Set("source.opts", "label", "edge");
  Set("source.opts", "wrokers", "8");
  EXPECT_EQ(Problems(),
            "[source.opts] (source-fixture-options): unknown option 'wrokers'; did you mean "
            "'workers'? (file test.conf)");
}

TEST_F(ConfigValidation, ListsTheValidKeysWhenNothingIsClose) {
  Set("source.opts", "label", "edge");
  Set("source.opts", "colour", "blue");
  EXPECT_EQ(Problems(),
            "[source.opts] (source-fixture-options): unknown option 'colour'; valid options: label, "
            "workers, verbose, spool_dir, mode, flush_interval, max_batch, api_token (file test.conf)");
}

TEST_F(ConfigValidation, RejectsAnIntegerThatIsNotOne) {
  Set("source.opts", "label", "edge");
  Set("source.opts", "workers", "many");
  EXPECT_EQ(Problems(),
            "[source.opts] (source-fixture-options): option 'workers': 'many' is not an integer "
            "(file test.conf)");
}

TEST_F(ConfigValidation, RejectsValuesOutsideTheDeclaredBounds) {
  EXPECT_EQ(Validate("workers", "17"), "[source.opts]: option 'workers': value '17' is outside [1, 16]");
  EXPECT_EQ(Validate("workers", "0"), "[source.opts]: option 'workers': value '0' is outside [1, 16]");
  EXPECT_EQ(Validate("flush_interval", "2h"),
            "[source.opts]: option 'flush_interval': value '2h' is outside [100, 3600000]");
  EXPECT_EQ(Validate("max_batch", "1GiB"),
            "[source.opts]: option 'max_batch': value '1GiB' is outside [1024, 67108864]");
}

TEST_F(ConfigValidation, RejectsAValueNotAmongTheEnumValues) {
  Set("source.opts", "label", "edge");
  Set("source.opts", "mode", "reckless");
  EXPECT_EQ(Problems(),
            "[source.opts] (source-fixture-options): option 'mode': 'reckless' is not one of "
            "fast|safe|paranoid (file test.conf)");
}

TEST_F(ConfigValidation, RejectsAMissingRequiredOption) {
  EXPECT_EQ(Problems(),
            "[source.opts] (source-fixture-options): required option 'label' is not set (file test.conf)");
}

TEST_F(ConfigValidation, ReportsEveryProblemAtOnce) {
  Set("source.opts", "workers", "99");
  Set("source.opts", "mode", "reckless");
  EXPECT_EQ(Problems(),
            "[source.opts] (source-fixture-options): option 'mode': 'reckless' is not one of "
            "fast|safe|paranoid (file test.conf)\n"
            "[source.opts] (source-fixture-options): option 'workers': value '99' is outside [1, 16] "
            "(file test.conf)\n"
            "[source.opts] (source-fixture-options): required option 'label' is not set (file test.conf)");
}

}  // namespace
}  // namespace signals
