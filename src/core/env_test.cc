#include "core/env.h"

#include <gtest/gtest.h>

namespace firmwarden {
namespace {

TEST(Env, FixedClockAndIdsAreDeterministic) {
  Env e = Env::Fixed(1700000000);
  EXPECT_EQ(FormatUtc(e.now()), "2023-11-14T22:13:20Z");
  EXPECT_EQ(e.new_id(), "00000000-0000-4000-8000-000000000001");
  EXPECT_EQ(e.new_id(), "00000000-0000-4000-8000-000000000002");
}

TEST(Env, RealIdsAreVersion4Uuids) {
  Env e = Env::Real();
  std::string a = e.new_id(), b = e.new_id();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '4');
  EXPECT_TRUE(a[19] == '8' || a[19] == '9' || a[19] == 'a' || a[19] == 'b');
}

}  // namespace
}  // namespace firmwarden
