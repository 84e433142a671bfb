// "session" channels opened by a client of the server (RFC 4254 section 6):
// pty-req, env, exec, shell, subsystem, window-change, signal and
// auth-agent-req@openssh.com, served by a child process run as the user the
// server runs as (platform/child_process.hpp) or by an InProcessCommand,
// with exit-status / exit-signal, EOF and CLOSE when it is done.
//
// Single-threaded like the rest of the server: everything runs on the
// context's io_context thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ssh/asio/server_context.hpp"
#include "ssh/connection/connection.hpp"

namespace ssh::net {

// The handler for a new session channel of this connection, or a refusal
// (ResourceShortage) when policy.max_sessions are open on it already.
connection::OpenDecision open_session_channel(std::shared_ptr<ServerConnectionContext> context);

// Session channels open on the connection of `context` now.
std::size_t open_session_count(const ServerConnectionContext& context);

// sshd's AcceptEnv matching: `name` matches one of the patterns, where '*'
// stands for any run of characters and '?' for any one.
bool environment_name_accepted(const std::vector<std::string>& patterns, std::string_view name);

}  // namespace ssh::net
