#include "ssh/asio/child_reaper.hpp"

#include <utility>
#include <vector>

namespace ssh::net {

asio::execution_context::id ChildReaper::id;

ChildReaper& ChildReaper::of(asio::io_context& io) {
  return asio::use_service<ChildReaper>(io);
}

ChildReaper::ChildReaper(asio::io_context& io)
    : asio::execution_context::service(io), io_(io), signals_(io) {
  if (const int signal = platform::child_exit_signal(); signal != 0) {
    signals_.add(signal);
    // Asio installs its handler without SA_RESTART: every child's end
    // would interrupt blocking calls elsewhere in the program with EINTR.
    platform::restart_calls_interrupted_by(signal);
  }
}

void ChildReaper::shutdown() {
  std::error_code ignored;
  signals_.cancel(ignored);
  children_.clear();
}

void ChildReaper::watch(int pid, std::function<void(const platform::ChildExit&)> on_exit) {
  children_[pid] = std::move(on_exit);
  // It may have ended before the signal wait was armed.
  if (!reap_posted_) {
    reap_posted_ = true;
    asio::post(io_, [this] {
      reap_posted_ = false;
      reap_ended();
    });
  }
  wait_for_signal();
}

void ChildReaper::wait_for_signal() {
  if (waiting_ || children_.empty()) return;
  waiting_ = true;
  signals_.async_wait([this](std::error_code ec, int) {
    waiting_ = false;
    if (ec == asio::error::operation_aborted) {
      // Cancelled when the last child ended; one watched since then needs
      // the wait again.
      wait_for_signal();
      return;
    }
    reap_ended();
  });
}

void ChildReaper::reap_ended() {
  std::vector<std::pair<std::function<void(const platform::ChildExit&)>, platform::ChildExit>>
      ended;
  for (auto it = children_.begin(); it != children_.end();) {
    if (auto exit = platform::reap_if_exited(it->first)) {
      ended.emplace_back(std::move(it->second), *exit);
      it = children_.erase(it);
    } else {
      ++it;
    }
  }
  if (children_.empty()) {
    // Nothing left to wait for: let run() return. A SIGCHLD that arrives
    // meanwhile stays queued in the signal_set for the next wait.
    std::error_code ignored;
    if (waiting_) signals_.cancel(ignored);
  } else {
    wait_for_signal();
  }
  // Callbacks last: they may watch() new children.
  for (auto& [callback, exit] : ended) {
    if (callback) callback(exit);
  }
}

}  // namespace ssh::net
