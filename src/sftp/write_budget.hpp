// How many bytes of WRITE requests a put keeps outstanding.
//
// More than the path needs does not make a put faster: the extra only
// queues. OpenSSH's sshd buffers whatever the channel window lets in
// before it reaches sftp-server, and on this project's benchmark machine a
// put that kept the whole window (2 MiB) outstanding took 1.7x as long as
// one that kept about 1 MiB, all of the difference being sshd's own buffer
// copies. Too little, on a long path, leaves the link idle between replies.
//
// So the budget follows the path's bandwidth-delay product, the way BBR
// sizes its congestion window: gain x delivery rate x lowest round trip
// seen, where the rate is what the replies acknowledged over the last few
// of them. While round trips stay near the lowest one (nothing queues) the
// budget grows by up to the gain each round; once they stretch (a queue
// builds in front of the slowest stage) it stops growing. It never goes
// below `floor` (on a fast local path a little queueing keeps the server
// busy) nor above `ceiling`.
//
// Sans I/O: the caller passes the times.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

namespace sftp {

class WriteBudget {
 public:
  using Clock = std::chrono::steady_clock;

  // Acknowledgements a rate is measured over.
  static constexpr std::size_t kRateSamples = 32;
  static constexpr double kGain = 1.5;

  WriteBudget(std::uint64_t floor, std::uint64_t ceiling);

  std::uint64_t bytes() const { return budget_; }
  // The lowest round trip seen so far, if any.
  std::optional<Clock::duration> min_round_trip() const { return min_round_trip_; }
  // Bytes per second over the last acknowledgements (0 until two arrived).
  double delivery_rate() const { return rate_; }

  // A WRITE of `length` bytes sent at `sent` was acknowledged at `now`.
  void on_acknowledged(std::uint64_t length, Clock::time_point sent, Clock::time_point now);

 private:
  std::uint64_t floor_;
  std::uint64_t ceiling_;
  std::uint64_t budget_;
  std::optional<Clock::duration> min_round_trip_;
  std::uint64_t acknowledged_ = 0;
  // (time, bytes acknowledged by then) of the last acknowledgements.
  std::deque<std::pair<Clock::time_point, std::uint64_t>> samples_;
  double rate_ = 0;
};

}  // namespace sftp
