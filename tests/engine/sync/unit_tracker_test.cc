#include "engine/sync/unit_tracker.h"

#include <gtest/gtest.h>

#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "tests/support/run.h"

namespace ferry::engine {
namespace {

// Items "run" by being recorded; the test completes them explicitly.
struct Harness {
  std::vector<std::uint64_t> started;
  UnitTracker tracker{[this](std::uint64_t t) { started.push_back(t); }};
};

TEST(UnitTrackerTest, MarkerWaitsForSealAndTheRestOfItsUnit) {
  Harness h;
  h.tracker.Submit(1, {"backups/a/", 1});  // the marker arrives first in key order
  h.tracker.Submit(2, {"backups/a/", 0});
  h.tracker.Submit(3, {"backups/a/", 0});
  EXPECT_EQ(h.started, (std::vector<std::uint64_t>{2, 3}));
  h.tracker.Done(2, true);
  h.tracker.Done(3, true);
  EXPECT_EQ(h.started.size(), 2u) << "not sealed yet: more phase-0 items may come";
  h.tracker.Seal("backups/a/");
  EXPECT_EQ(h.started, (std::vector<std::uint64_t>{2, 3, 1}));
  h.tracker.Done(1, true);
  EXPECT_EQ(h.tracker.held_back(), 0u);
}

TEST(UnitTrackerTest, FailureHoldsLaterPhasesBack) {
  Harness h;
  h.tracker.Submit(1, {"kopia/ns/", 0});
  h.tracker.Submit(2, {"kopia/ns/", 1});
  h.tracker.Submit(3, {"kopia/ns/", 2});
  h.tracker.Seal("kopia/ns/");
  h.tracker.Done(1, false);
  EXPECT_EQ(h.started, (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(h.tracker.held_back(), 2u);
}

TEST(UnitTrackerTest, PhasesRunInOrderAndUnitsIndependently) {
  Harness h;
  h.tracker.Submit(1, {"u1/", 2});
  h.tracker.Submit(2, {"u1/", 1});
  h.tracker.Submit(3, {"u1/", 0});
  h.tracker.Submit(4, {"", 0});
  h.tracker.Submit(5, {"u2/", 1});
  h.tracker.Seal("u1/");
  h.tracker.Seal("u2/");  // u2 has nothing in phase 0: its phase 1 starts now
  EXPECT_EQ(h.started, (std::vector<std::uint64_t>{3, 4, 5}));
  h.tracker.Done(3, true);
  EXPECT_EQ(h.started.back(), 2u);
  h.tracker.Done(2, true);
  EXPECT_EQ(h.started.back(), 1u);
}

TEST(UnitTrackerTest, DrainWaitsForEverything) {
  boost::asio::io_context io;
  Harness h;
  h.tracker.Submit(1, {"u/", 0});
  h.tracker.Submit(2, {"u/", 1});
  bool drained = false;
  boost::asio::co_spawn(
      io, [&]() -> io::Task<void> {
        co_await h.tracker.Drain();
        drained = true;
      },
      boost::asio::detached);
  io.run_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(drained);
  h.tracker.Done(1, true);  // Drain sealed the unit: the marker starts
  EXPECT_EQ(h.started.back(), 2u);
  io.run_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(drained);
  h.tracker.Done(2, true);
  io.restart();
  io.run_for(std::chrono::milliseconds(200));
  EXPECT_TRUE(drained);
}

}  // namespace
}  // namespace ferry::engine
