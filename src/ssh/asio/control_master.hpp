// The master side of connection sharing (docs/connection-sharing.md): a
// program holding an authenticated client connection listens on a local
// socket and serves other processes through it: CHECK, EXIT, FORWARD and
// CANCEL (through its ClientForwarding) and sessions, each a real session
// channel relayed over the control connection both ways with flow control.
// `limactl ssh -M -S PATH` runs one; the VM manager's host agent owns one
// in-process.
//
// Listening (ssh/asio/control_endpoint.hpp, the platform seam): a socket
// created 0600 in a directory the user owns on POSIX, a named pipe only the
// user may open on Windows. A dead master's socket file is logged, removed
// and replaced; a live master there is an error.
//
// Single-threaded: everything runs on the io_context's thread. The owner
// routes nothing to it (session channels are ours, opened by us), calls
// shutdown() before the Connection goes away, and kicks the driver after
// calling into it.
#pragma once

#include <asio.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ssh/asio/client_forwarding.hpp"
#include "ssh/common.hpp"
#include "ssh/connection/connection.hpp"

namespace ssh::net {

class ControlMaster {
 public:
  // `kick` is the driver's kick(). CHECK reports this process's id.
  ControlMaster(asio::io_context& io, connection::Connection& connection,
                ClientForwarding& forwarding, std::function<void()> kick);
  ~ControlMaster();
  ControlMaster(const ControlMaster&) = delete;
  ControlMaster& operator=(const ControlMaster&) = delete;

  // Listens on `path` and serves clients until shutdown().
  Status listen(const std::string& path);

  // A client asked the master to end (EXIT): called after the reply was
  // written. The owner ends the connection.
  void set_exit_handler(std::function<void()> on_exit) { on_exit_ = std::move(on_exit); }

  // Sessions relayed right now.
  std::size_t session_count() const;

  // Stops listening (removing a socket file) and drops every client,
  // closing their channels. The caller kicks.
  void shutdown();

  const std::string& path() const { return path_; }

  // One control connection; defined in the .cpp.
  struct Client;

 private:
  struct Listener;
  void accept_next();
  void forget_finished_clients();

  asio::io_context& io_;
  connection::Connection& connection_;
  ClientForwarding& forwarding_;
  std::function<void()> kick_;
  std::function<void()> on_exit_;
  std::string path_;
  std::unique_ptr<Listener> listener_;
  std::vector<std::shared_ptr<Client>> clients_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ssh::net
