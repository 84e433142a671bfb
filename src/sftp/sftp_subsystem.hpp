// The SFTP server as the SSH server's "subsystem sftp": the session channel
// feeds it the client's bytes and takes its replies as the window allows.
#pragma once

#include <memory>
#include <string>

#include "ssh/asio/server_context.hpp"

namespace sftp {

// Serves the local file system as the user the server runs as (root "/",
// unconfined, as OpenSSH's sftp subsystem), starting in home_directory (a
// native path).
std::unique_ptr<ssh::net::InProcessCommand> make_sftp_subsystem(const std::string& home_directory);

}  // namespace sftp
