#include "core/model/hlc.h"

#include <gtest/gtest.h>

namespace jsync {
namespace {

TEST(Hlc, StrictlyIncreasesWhenTheClockStandsStillOrGoesBack) {
  uint64_t wall = 1000;
  HybridClock clock([&] { return wall; });
  Hlc a = clock.Now();
  Hlc b = clock.Now();
  wall = 500;  // the wall clock jumps back
  Hlc c = clock.Now();
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(HlcMillis(a), 1000u);
  EXPECT_EQ(HlcLogical(b), 1u);
}

TEST(Hlc, FollowsTheWallClockWhenItMovesOn) {
  uint64_t wall = 1000;
  HybridClock clock([&] { return wall; });
  clock.Now();
  wall = 2000;
  Hlc h = clock.Now();
  EXPECT_EQ(HlcMillis(h), 2000u);
  EXPECT_EQ(HlcLogical(h), 0u);
}

TEST(Hlc, OrdersAfterObservedRemoteTimestamps) {
  // A device whose clock is an hour behind still orders its next op after what it merged.
  HybridClock slow([] { return uint64_t{1000}; });
  Hlc remote = MakeHlc(3'600'000, 5);
  slow.Observe(remote);
  EXPECT_GT(slow.Now(), remote);
}

TEST(Hlc, LogicalOverflowBorrowsTheNextMillisecond) {
  HybridClock clock([] { return uint64_t{7}; }, MakeHlc(7, 0xffff));
  Hlc h = clock.Now();
  EXPECT_EQ(HlcMillis(h), 8u);
  EXPECT_EQ(HlcLogical(h), 0u);
}

}  // namespace
}  // namespace jsync
