// Specification of option validation details not covered through the fixture
// plugins: secrets stay out of error messages.
#include "config/option_schema.hpp"

#include <gtest/gtest.h>

namespace signals {
namespace {

const signals_option kSecretOptions[] = {
    {sizeof(signals_option), "pin", SIGNALS_OPT_INT, SIGNALS_OPTF_SECRET, nullptr, "A secret number.",
     nullptr, 0, 0},
    {sizeof(signals_option), "level", SIGNALS_OPT_INT, 0, nullptr, "A plain number.", nullptr, 0, 0},
};

TEST(OptionSchema, InvalidSecretValueIsNotRepeatedInTheProblem) {
  std::vector<std::string> problems;
  ValidateOptions(OptionTable{kSecretOptions, 2}, {{"pin", "hunter2-secret"}}, "[vault]", "/data", &problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].find("hunter2-secret"), std::string::npos) << problems[0];
  EXPECT_NE(problems[0].find("redacted"), std::string::npos) << problems[0];
  EXPECT_NE(problems[0].find("'pin'"), std::string::npos) << problems[0];
}

TEST(OptionSchema, InvalidPlainValueIsQuotedInTheProblem) {
  std::vector<std::string> problems;
  ValidateOptions(OptionTable{kSecretOptions, 2}, {{"level", "high"}}, "[vault]", "/data", &problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("'high'"), std::string::npos) << problems[0];
}

}  // namespace
}  // namespace signals
