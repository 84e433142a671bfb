// Polls a condition every 50 ms until it holds or the timeout passes: how
// tests wait for what another process does.
#pragma once

#include <chrono>
#include <thread>

namespace testing_support {

template <class Predicate>
bool eventually(Predicate done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

}  // namespace testing_support
