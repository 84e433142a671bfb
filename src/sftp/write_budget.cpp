#include "sftp/write_budget.hpp"

#include <algorithm>

namespace sftp {

WriteBudget::WriteBudget(std::uint64_t floor, std::uint64_t ceiling)
    : floor_(std::min(floor, ceiling)), ceiling_(ceiling), budget_(floor_) {}

void WriteBudget::on_acknowledged(std::uint64_t length, Clock::time_point sent,
                                  Clock::time_point now) {
  const Clock::duration round_trip = std::max(now - sent, Clock::duration::zero());
  if (!min_round_trip_ || round_trip < *min_round_trip_) min_round_trip_ = round_trip;

  acknowledged_ += length;
  samples_.emplace_back(now, acknowledged_);
  if (samples_.size() > kRateSamples) samples_.pop_front();
  if (samples_.size() < 2) return;
  const auto& [first_time, first_bytes] = samples_.front();
  const double span = std::chrono::duration<double>(now - first_time).count();
  if (span <= 0) return;
  // The first sample's own bytes were delivered before the span began.
  rate_ = static_cast<double>(acknowledged_ - first_bytes) / span;

  const double min_seconds = std::chrono::duration<double>(*min_round_trip_).count();
  const double target = kGain * rate_ * min_seconds;
  if (target <= static_cast<double>(floor_)) {
    budget_ = floor_;
  } else if (target >= static_cast<double>(ceiling_)) {
    budget_ = ceiling_;
  } else {
    budget_ = static_cast<std::uint64_t>(target);
  }
}

}  // namespace sftp
