// The SDK's header-only helpers, as a plugin author uses them: option values
// and the named option builder, the JSON writer and reader, and the fake host
// (its config builder and the kernel behaviours it imitates).
#include <signals/plugin.hpp>
#include <signals/support/json_text.hpp>
#include <signals/support/option_values.hpp>
#include <signals/testing/fake_host.hpp>

#include <filesystem>
#include <limits>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace signals {
namespace {

namespace sdk = signals::sdk;
using support::ParseDurationMs;
using support::ParseSizeBytes;

// --- option values ---------------------------------------------------------------

TEST(OptionValues, DurationsAreMillisecondsAndABareNumberIsSeconds) {
  EXPECT_EQ(ParseDurationMs("500ms").value, 500);
  EXPECT_EQ(ParseDurationMs("2").value, 2000);
  EXPECT_EQ(ParseDurationMs("30S").value, 30000);
  EXPECT_EQ(ParseDurationMs("5m").value, 300000);
  EXPECT_EQ(ParseDurationMs("7d").value, 7LL * 86400000);
  EXPECT_FALSE(ParseDurationMs("5 minutes").ok);
  EXPECT_FALSE(ParseDurationMs("-1s").ok);
  EXPECT_FALSE(ParseDurationMs("").ok);
  EXPECT_FALSE(ParseDurationMs("9223372036854775807d").ok) << "overflow";
  EXPECT_FALSE(ParseDurationMs("99999999999999999999").ok) << "overflow of the digits";
}

TEST(OptionValues, SizesAreBytesInPowersOfTwoOrTen) {
  EXPECT_EQ(ParseSizeBytes("512").value, 512);
  EXPECT_EQ(ParseSizeBytes("64KiB").value, 65536);
  EXPECT_EQ(ParseSizeBytes("16m").value, 16 << 20);
  EXPECT_EQ(ParseSizeBytes("10MB").value, 10000000);
  EXPECT_FALSE(ParseSizeBytes("1TiB").ok);
  EXPECT_FALSE(ParseSizeBytes("KiB").ok);
}

TEST(OptionValues, NormalisingAppliesTypeBoundsAndTheDataDirectory) {
  const signals_option duration = sdk::Option::Duration("d").Range("10ms", "1h");
  EXPECT_EQ(support::NormaliseOptionValue(duration, "2s", "/d").value, "2000");
  auto outside = support::NormaliseOptionValue(duration, "2h", "/d");
  EXPECT_FALSE(outside.ok);
  EXPECT_EQ(outside.rule, "bounds");
  EXPECT_EQ(outside.message, "value '2h' is outside [10, 3600000]");
  const signals_option path = sdk::Option::Path("p");
  EXPECT_EQ(support::NormaliseOptionValue(path, "spool/../in", "/srv/x").value, "/srv/x/in");
  const signals_option mode = sdk::Option::Enum("m", "beginning|end");
  EXPECT_EQ(support::NormaliseOptionValue(mode, "END", "/").value, "end");
  EXPECT_EQ(support::NormaliseOptionValue(mode, "middle", "/").message,
            "'middle' is not one of beginning|end");
  const signals_option flag = sdk::Option::Bool("b");
  EXPECT_EQ(support::NormaliseOptionValue(flag, "Yes", "/").value, "true");
  const signals_option count = sdk::Option::Int("n").Min(1);
  EXPECT_EQ(support::NormaliseOptionValue(count, "-3", "/").rule, "bounds");
  EXPECT_EQ(support::NormaliseOptionValue(count, "3x", "/").message, "'3x' is not an integer");
}

// --- the option builder ---------------------------------------------------------

constexpr signals_option kOptions[] = {
    sdk::Option::Path("file").Required().Describe("The file."),
    sdk::Option::Duration("max_batch_delay").Default("500ms").Range("10ms", "1h").Describe("Delay."),
    sdk::Option::Size("max_batch_bytes").Default("1MiB").Range("1KiB", "64MiB").Describe("Bytes."),
    sdk::Option::Int("max_batch_facts").Default("1000").Range(1, 100000).Describe("Facts."),
    sdk::Option::Enum("start_at", "beginning|end").Default("beginning").Describe("Where."),
    sdk::Option::String("token").Secret().Describe("A secret."),
    sdk::Option::Bool("follow").Default("yes").Describe("Follow."),
};

TEST(OptionBuilder, BuildsTheSameRowsAsThePositionalForm) {
  static_assert(kOptions[1].min_value == 10 && kOptions[1].max_value == 3600000);
  static_assert(kOptions[2].min_value == 1024 && kOptions[2].max_value == 64 << 20);
  const signals_option positional =
      sdk::Option("max_batch_facts", SIGNALS_OPT_INT, "1000", "Facts.", 0, nullptr, 1, 100000);
  const signals_option& named = kOptions[3];
  EXPECT_EQ(named.struct_size, sizeof(signals_option));
  EXPECT_STREQ(named.name, positional.name);
  EXPECT_EQ(named.type, positional.type);
  EXPECT_STREQ(named.default_value, positional.default_value);
  EXPECT_STREQ(named.description, positional.description);
  EXPECT_EQ(named.min_value, positional.min_value);
  EXPECT_EQ(named.max_value, positional.max_value);
  EXPECT_EQ(kOptions[0].flags, SIGNALS_OPTF_REQUIRED);
  EXPECT_EQ(kOptions[0].default_value, nullptr);
  EXPECT_EQ(kOptions[5].flags, SIGNALS_OPTF_SECRET);
  EXPECT_STREQ(kOptions[4].enum_values, "beginning|end");
}

TEST(OptionBuilder, ABadDefaultOrRangeIsRefusedWhenItIsBuilt) {
  EXPECT_THROW(sdk::Option::Duration("d").Default("5 minutes"), std::logic_error);
  EXPECT_THROW(sdk::Option::Size("s").Range("1GiB", "1KiB"), std::logic_error);
  EXPECT_THROW(sdk::Option::Bool("b").Default("maybe"), std::logic_error);
}

// --- Config ---------------------------------------------------------------------

TEST(FakeHostConfig, AppliesDefaultsAndTheKernelsNormalisation) {
  const std::string dir = "/srv/signals-test";
  testing::TestConfig config = testing::MakeConfig(sdk::MakeOptionList(kOptions), SIGNALS_KIND_TRANSPORT,
                                                   {{"file", "facts.ndjson"}, {"max_batch_delay", "2"}}, dir);
  sdk::Config c = config.sdk();
  EXPECT_EQ(c.Get("file"), dir + "/facts.ndjson");
  EXPECT_EQ(c.GetDuration("max_batch_delay"), std::chrono::seconds(2));
  EXPECT_EQ(c.GetSize("max_batch_bytes"), 1u << 20);
  EXPECT_EQ(c.GetInt("max_batch_facts"), 1000);
  EXPECT_TRUE(c.GetBool("follow"));
  EXPECT_FALSE(c.Has("token"));
  EXPECT_EQ(c.instance_name(), "transport.test");
  EXPECT_EQ(c.state_dir(), "") << "only sources get a state directory";
}

TEST(FakeHostConfig, ListsEveryProblemAndRedactsSecrets) {
  try {
    testing::MakeConfig(sdk::MakeOptionList(kOptions), SIGNALS_KIND_TRANSPORT,
                        {{"max_batch_delay", "2h"}, {"flie", "x"}, {"max_batch_facts", "0"}}, "/srv");
    ADD_FAILURE() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "required option 'file' is not set\n"
                 "option 'max_batch_delay': value '2h' is outside [10, 3600000]\n"
                 "option 'max_batch_facts': value '0' is outside [1, 100000]\n"
                 "unknown option 'flie'");
  }
  static constexpr signals_option kSecret[] = {sdk::Option::Int("pin").Secret().Describe("A pin.")};
  try {
    testing::MakeConfig(sdk::MakeOptionList(kSecret), SIGNALS_KIND_TRANSPORT, {{"pin", "s3cr3t"}}, "/srv");
    ADD_FAILURE() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find("s3cr3t"), std::string::npos) << e.what();
  }
}

TEST(FakeHostConfig, ASourceGetsItsStateDirectory) {
  const auto dir = std::filesystem::temp_directory_path() / "signals-fake-host-state";
  std::filesystem::remove_all(dir);
  testing::TestConfig config = testing::MakeConfig(sdk::MakeOptionList(kOptions), SIGNALS_KIND_SOURCE,
                                                   {{"file", "f"}}, dir.string(), "source.tail-a");
  EXPECT_EQ(config.sdk().state_dir(), (dir / "state" / "source.tail-a").string());
  EXPECT_TRUE(std::filesystem::is_directory(config.state_dir()));
  std::filesystem::remove_all(dir);
}

// --- the fake host's service API ---------------------------------------------

class FakeHostIngest : public ::testing::Test {
 protected:
  std::pair<signals_status, std::string> Ingest(const std::string& request, const std::string& body) {
    try {
      sdk::Ingest ingest = fake_.host().BeginIngest(request);
      ingest.Write(body.data(), body.size());
      bool created = false;
      std::string answer = ingest.Finish(&created);
      return {created ? SIGNALS_OK : SIGNALS_EXISTS, answer};
    } catch (const sdk::Error& e) {
      return {e.status(), e.what()};
    }
  }
  testing::FakeHost fake_;
};

const char kRequest[] = R"({"kind":"runtime-facts","tenant":"acme","callgraphId":"G1","idempotencyKey":"k"})";
const char kFacts[] = "{\"symbolId\":\"a\"}\n{\"symbolId\":\"b\"}\n";

TEST_F(FakeHostIngest, StoresAndReplaysByIdempotencyKey) {
  auto [first, answer] = Ingest(kRequest, kFacts);
  ASSERT_EQ(first, SIGNALS_OK) << answer;
  auto record = support::JsonObject::Parse(answer);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->String("batchId").size(), 26u);
  EXPECT_EQ(record->Int("factCount"), 2);
  auto [again, replay] = Ingest(kRequest, kFacts);
  EXPECT_EQ(again, SIGNALS_EXISTS);
  EXPECT_EQ(replay, answer);
  auto [other, conflict] = Ingest(kRequest, "{\"symbolId\":\"c\"}\n");
  EXPECT_EQ(other, SIGNALS_INVALID_ARGUMENT);
  EXPECT_EQ(sdk::Error(other, conflict).problem().http_status, 409);
  EXPECT_EQ(fake_.StoredFacts(), (std::vector<std::string>{"{\"symbolId\":\"a\"}", "{\"symbolId\":\"b\"}"}));
}

TEST_F(FakeHostIngest, RefusesUnknownReferencesOnceAnyAreDeclared) {
  fake_.AddCallgraph("global", "G1");
  auto [status, problem] = Ingest(kRequest, kFacts);
  EXPECT_EQ(status, SIGNALS_NOT_FOUND);
  EXPECT_EQ(sdk::Error(status, problem).problem().rule, "tenant-exists");
  fake_.AddTenant("acme");
  EXPECT_EQ(Ingest(kRequest, kFacts).first, SIGNALS_OK) << "a global callgraph serves every tenant";
  EXPECT_THROW(fake_.host().Call(R"({"op":"ingest.check","tenant":"acme","callgraphId":"G2"})"), sdk::Error);
  EXPECT_NO_THROW(fake_.host().Call(R"({"op":"ingest.check","tenant":"acme","callgraphId":"G1"})"));
}

TEST_F(FakeHostIngest, NamesTheFirstBadLine) {
  auto [status, problem] = Ingest(kRequest, std::string(kFacts) + "\n{\"name\":\"x\"}\n");
  EXPECT_EQ(status, SIGNALS_INVALID_ARGUMENT);
  EXPECT_EQ(sdk::Error(status, problem).problem().line, 4);
  EXPECT_TRUE(fake_.StoredFacts().empty());
}

TEST_F(FakeHostIngest, ScriptsOutagesAndLostAnswers) {
  fake_.FailNextIngests(1, SIGNALS_NO_SPACE, 507);
  EXPECT_EQ(Ingest(kRequest, kFacts).first, SIGNALS_NO_SPACE);
  EXPECT_TRUE(fake_.StoredFacts().empty());
  fake_.LoseNextAnswers(1);
  EXPECT_EQ(Ingest(kRequest, kFacts).first, SIGNALS_RETRY);
  EXPECT_EQ(fake_.StoredFacts().size(), 2u) << "stored, though the answer was lost";
  EXPECT_EQ(Ingest(kRequest, kFacts).first, SIGNALS_EXISTS) << "the retry finds the stored batch";
  EXPECT_EQ(fake_.StoredFacts().size(), 2u);
}

TEST_F(FakeHostIngest, StoresCallgraphsThatFactsMayThenName) {
  fake_.AddTenant("acme");
  const std::string request =
      R"({"kind":"callgraph","tenant":"acme","componentPurl":"pkg:generic/m","language":"binary"})";
  const std::string graph = R"({"nodes":[{"id":"module:/bin/x","kind":"module"}],"edges":[]})";
  auto [status, manifest] = Ingest(request, graph);
  ASSERT_EQ(status, SIGNALS_OK) << manifest;
  const std::string graph_id = support::JsonObject::Parse(manifest)->String("graphId");
  auto [again, same] = Ingest(request, graph);
  EXPECT_EQ(again, SIGNALS_EXISTS);
  EXPECT_EQ(same, manifest);
  EXPECT_EQ(Ingest(R"({"kind":"callgraph","tenant":"acme","language":"binary"})", graph).first,
            SIGNALS_INVALID_ARGUMENT)
      << "componentPurl is required";
  EXPECT_EQ(Ingest(request, "[]").first, SIGNALS_INVALID_ARGUMENT);
  const std::string facts = R"({"kind":"runtime-facts","tenant":"acme","callgraphId":")" + graph_id + "\"}";
  EXPECT_EQ(Ingest(facts, kFacts).first, SIGNALS_OK) << "the stored graph is known";
  EXPECT_EQ(fake_.StoredFacts().size(), 2u) << "callgraphs are not facts";
}

TEST_F(FakeHostIngest, RecordsLogsMetricsAndScriptedCalls) {
  sdk::Host host = fake_.host("source.x");
  host.Warn("careful");
  host.CounterAdd("x_total", "k=v", 2);
  host.CounterAdd("x_total", "k=v", 3);
  host.GaugeSet("g", "", 7);
  host.HistogramObserve("h_seconds", "", 0.5);
  EXPECT_TRUE(fake_.Logged("careful", SIGNALS_LOG_WARN));
  EXPECT_FALSE(fake_.Logged("careful", SIGNALS_LOG_ERROR));
  EXPECT_EQ(fake_.Counter("x_total", "k=v"), 5);
  EXPECT_EQ(fake_.Gauge("g"), 7);
  EXPECT_EQ(fake_.Observations("h_seconds"), std::vector<double>{0.5});
  fake_.OnCall("keys.list", [](const std::string&) {
    return testing::FakeHost::Answer{SIGNALS_OK, "{\"keys\":[]}"};
  });
  EXPECT_EQ(host.Call(R"({"op":"keys.list"})"), "{\"keys\":[]}");
  EXPECT_THROW(host.Call(R"({"op":"no.such"})"), sdk::Error);
  fake_.SetNowMs(42);
  EXPECT_EQ(host.NowUnixMs(), 42);
}

// --- JSON text -----------------------------------------------------------------------

TEST(JsonText, TheWriterProducesJsonThatAParserReadsBack) {
  support::JsonWriter w;
  w.BeginObject()
      .Key("s")
      .String("quote\" back\\ nl\n ctl\x01 utf8 \xc3\xa9 bad \xff\xc0\x80 end")
      .Key("n")
      .Int(-5)
      .Key("d")
      .Double(0.1)
      .Key("inf")
      .Double(std::numeric_limits<double>::infinity())
      .Key("a")
      .BeginArray()
      .Bool(true)
      .Null()
      .BeginObject()
      .EndObject()
      .EndArray()
      .EndObject();
  auto parsed = nlohmann::json::parse(w.text());
  EXPECT_EQ(parsed["s"],
            "quote\" back\\ nl\n ctl\x01 utf8 \xc3\xa9 bad \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd end");
  EXPECT_EQ(parsed["n"], -5);
  EXPECT_EQ(parsed["d"], 0.1);
  EXPECT_TRUE(parsed["inf"].is_null());
  EXPECT_EQ(parsed["a"].dump(), "[true,null,{}]");
}

TEST(JsonText, TheReaderKeepsTopLevelMembersAndRefusesWhatIsNotOneObject) {
  auto o = support::JsonObject::Parse(
      R"( {"status": 404, "detail": "caf\u00e9 \ud83d\ude00", "nested": {"a": [1, {"b": null}]}, "neg": -2} )");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->Int("status"), 404);
  EXPECT_EQ(o->String("detail"), "caf\xc3\xa9 \xf0\x9f\x98\x80");
  EXPECT_EQ(o->Json("nested"), R"({"a": [1, {"b": null}]})");
  EXPECT_EQ(o->Int("neg"), -2);
  EXPECT_EQ(o->Int("detail", 7), 7);
  for (const char* bad : {"", "[]", "{", R"({"a":1,})", R"({"a":1} x)", R"({"a":"\ud800"})", R"({"a":tru})",
                          "{\"a\":\"\x01\"}"}) {
    EXPECT_FALSE(support::JsonObject::Parse(bad)) << bad;
  }
  EXPECT_FALSE(support::JsonObject::Parse(R"({"a":)" + std::string(100, '[') + std::string(100, ']') + "}"))
      << "deeper than the limit";
}

}  // namespace
}  // namespace signals
