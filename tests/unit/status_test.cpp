#include "base/status.hpp"

#include <gtest/gtest.h>

namespace signals {
namespace {

TEST(Status, InvalidNamesRuleAndField) {
  Status s = Status::Invalid("hitCount>=1", "hitCount", "must be at least 1").WithContext("line 3");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_EQ(s.ToString(), "line 3: must be at least 1 (field 'hitCount', rule 'hitCount>=1')");
}

TEST(Result, HoldsValueOrStatus) {
  Result<int> good(7);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  Result<int> bad(Status::NotFound("no such batch"));
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace signals
