#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <queue>
#include <vector>

#include "sftp/write_budget.hpp"

namespace sftp {
namespace {

using Clock = WriteBudget::Clock;
using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr std::uint64_t kMiB = 1024 * 1024;
constexpr std::uint64_t kChunk = 261120;

// A put over a path with a fixed round trip and a server that stores at
// most `server_bytes_per_second`: each WRITE waits for the ones before it
// at the server (a queue builds when more is outstanding than the path
// holds), then its reply takes the rest of the round trip back. Returns the
// budget after `total` bytes, and the highest budget seen.
struct Outcome {
  std::uint64_t final_budget = 0;
  std::uint64_t peak_budget = 0;
  double seconds = 0;
};

Outcome simulate(WriteBudget& budget, Clock::duration round_trip, double server_bytes_per_second,
                 std::uint64_t total) {
  const Clock::time_point start{};
  Clock::time_point now = start;
  Clock::time_point server_free = start;
  struct Reply {
    Clock::time_point at;
    Clock::time_point sent;
    std::uint64_t length;
    bool operator>(const Reply& other) const { return at > other.at; }
  };
  std::priority_queue<Reply, std::vector<Reply>, std::greater<>> replies;
  std::uint64_t sent = 0;
  std::uint64_t outstanding = 0;
  Outcome outcome;
  auto send_what_fits = [&] {
    while (sent < total && (outstanding == 0 || outstanding + kChunk <= budget.bytes())) {
      const auto service = std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(static_cast<double>(kChunk) / server_bytes_per_second));
      const Clock::time_point arrives = now + round_trip / 2;
      server_free = std::max(server_free, arrives) + service;
      replies.push({server_free + round_trip / 2, now, kChunk});
      sent += kChunk;
      outstanding += kChunk;
    }
  };
  send_what_fits();
  while (!replies.empty()) {
    const Reply reply = replies.top();
    replies.pop();
    now = reply.at;
    outstanding -= reply.length;
    budget.on_acknowledged(reply.length, reply.sent, now);
    outcome.peak_budget = std::max(outcome.peak_budget, budget.bytes());
    send_what_fits();
  }
  outcome.final_budget = budget.bytes();
  outcome.seconds = std::chrono::duration<double>(now - start).count();
  return outcome;
}

TEST(SftpWriteBudget, StartsAtTheFloorAndTheFloorIsCappedByTheCeiling) {
  EXPECT_EQ(WriteBudget(kMiB, 16 * kMiB).bytes(), kMiB);
  EXPECT_EQ(WriteBudget(8 * kMiB, 2 * kMiB).bytes(), 2 * kMiB);
  WriteBudget budget(kMiB, 16 * kMiB);
  EXPECT_FALSE(budget.min_round_trip().has_value());
  EXPECT_EQ(budget.delivery_rate(), 0.0);
}

TEST(SftpWriteBudget, MeasuresTheRateAndTheLowestRoundTrip) {
  WriteBudget budget(kMiB, 16 * kMiB);
  const Clock::time_point t0{};
  budget.on_acknowledged(kMiB, t0, t0 + milliseconds(30));
  EXPECT_EQ(budget.min_round_trip(), Clock::duration(milliseconds(30)));
  EXPECT_EQ(budget.delivery_rate(), 0.0);  // one reply is no rate yet
  budget.on_acknowledged(kMiB, t0 + milliseconds(5), t0 + milliseconds(25 + 30));
  // 1 MiB acknowledged 25 ms after the first reply: 40 MiB/s.
  EXPECT_NEAR(budget.delivery_rate(), 40.0 * kMiB, 1.0);
  EXPECT_EQ(budget.min_round_trip(), Clock::duration(milliseconds(30)));
  // A round trip of the past (clock oddities) counts as zero, not negative.
  budget.on_acknowledged(kChunk, t0 + milliseconds(60), t0 + milliseconds(59));
  EXPECT_EQ(budget.min_round_trip(), Clock::duration::zero());
}

TEST(SftpWriteBudget, ALongPathGrowsTheBudgetToTheCeiling) {
  // 50 ms round trip, a server that could take 1 GiB/s: the path, not the
  // server, is the limit, so more outstanding means faster.
  WriteBudget budget(kMiB, 64 * kChunk);
  const Outcome outcome = simulate(budget, milliseconds(50), 1024.0 * kMiB, 512 * kMiB);
  // (At the very end fewer bytes are left to send than the path holds.)
  EXPECT_EQ(outcome.peak_budget, 64 * kChunk);
  // At the ceiling (16 MiB per 50 ms) 512 MiB take about 1.6 s; held at the
  // floor (1 MiB per 50 ms) they would take 25 s.
  EXPECT_LT(outcome.seconds, 4.0);
}

TEST(SftpWriteBudget, ASlowServerOnAShortPathKeepsItAtTheFloor) {
  // 200 us round trip, the server stores 300 MiB/s: anything past the
  // floor would only queue in front of it.
  WriteBudget budget(kMiB, 64 * kChunk);
  const Outcome outcome = simulate(budget, microseconds(200), 300.0 * kMiB, 256 * kMiB);
  EXPECT_EQ(outcome.final_budget, kMiB);
  EXPECT_LE(outcome.peak_budget, kMiB + kMiB / 2);
  // And the server is kept busy: within 5% of 256 MiB at 300 MiB/s.
  EXPECT_LT(outcome.seconds, 256.0 / 300.0 * 1.05);
}

TEST(SftpWriteBudget, AMediumPathSettlesNearItsBandwidthDelayProduct) {
  // 20 ms round trip, server 200 MiB/s: 4 MiB in flight fill the path.
  WriteBudget budget(kMiB, 64 * kChunk);
  const Outcome outcome = simulate(budget, milliseconds(20), 200.0 * kMiB, 512 * kMiB);
  EXPECT_GE(outcome.final_budget, 4 * kMiB);
  EXPECT_LE(outcome.final_budget, 8 * kMiB);
  // Close to what the server can do (2.56 s), far from floor-bound (10 s).
  EXPECT_LT(outcome.seconds, 3.2);
}

}  // namespace
}  // namespace sftp
