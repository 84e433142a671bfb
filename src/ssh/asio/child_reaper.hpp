// Reaps the server's session children: one per io_context (an Asio
// service), woken by SIGCHLD through an asio::signal_set, calling waitpid()
// only for the pids it was given, so children that other code waits for
// are left alone.
//
// Single-threaded: watch() and the callbacks run on the io_context's
// thread. The signal wait is armed only while a child is watched, so an
// idle reaper does not keep io_context::run() from returning.
#pragma once

#include <asio.hpp>
#include <functional>
#include <map>

#include "platform/child_process.hpp"

namespace ssh::net {

class ChildReaper : public asio::execution_context::service {
 public:
  static asio::execution_context::id id;

  // The reaper of `io` (created on first use).
  static ChildReaper& of(asio::io_context& io);

  explicit ChildReaper(asio::io_context& io);

  // Reaps `pid` once it ends and then calls on_exit (never from inside
  // watch(), always from the io_context). Whoever goes away before that
  // leaves the callback to a weak_ptr; the child is reaped anyway.
  void watch(int pid, std::function<void(const platform::ChildExit&)> on_exit);

  std::size_t watched() const { return children_.size(); }

 private:
  void shutdown() override;
  void wait_for_signal();
  void reap_ended();

  asio::io_context& io_;
  asio::signal_set signals_;
  std::map<int, std::function<void(const platform::ChildExit&)>> children_;
  bool waiting_ = false;
  bool reap_posted_ = false;
};

}  // namespace ssh::net
