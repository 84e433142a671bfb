// What every client command (`limactl ssh`, `limactl scp`) does to get an
// authenticated connection, in one place: command-line options merged with
// ssh_config, identities (files with passphrase prompts, configured public
// keys, the agent's keys), known_hosts verification with its prompts and
// warnings, password and keyboard-interactive answers, and the message for
// a connection that failed.
#pragma once

#include <asio.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ssh/asio/client_driver.hpp"
#include "ssh/client_session.hpp"
#include "ssh/config/client_options.hpp"
#include "ssh/config/host_key_check.hpp"

namespace cli {

// Environment variable a non-interactive caller (tests, scripts) may use
// to supply the password instead of a terminal prompt.
inline constexpr const char* kPasswordVariable = "LIMACTL_SSH_PASSWORD";
// The same for the passphrase of encrypted identity files (-i).
inline constexpr const char* kPassphraseVariable = "LIMACTL_SSH_PASSPHRASE";

// The connection-related part of a client command line.
struct ConnectionRequest {
  std::string destination;  // [user@]host
  int port = 0;             // 0 = not given
  std::string login_name;   // -l
  std::vector<std::string> identity_files;
  std::vector<std::string> options;  // -o Key=Value
  std::string config_file;           // -F; "none" for none
  int verbosity = 0;                 // -v count
  bool quiet = false;                // -q
  bool forward_agent = false;        // -A
  bool no_forward_agent = false;     // -a
};

// Command-line values first (first obtained value wins), then the -F file
// or ~/.ssh/config and the system ssh_config. Throws on invalid options.
ssh::config::ClientOptions resolve_client_options(const ConnectionRequest& request);

// Everything a ClientSession needs before it connects.
struct PreparedConnection {
  ssh::config::ClientOptions options;
  ssh::ClientSessionConfig session_config;
  // The agent to use ($SSH_AUTH_SOCK or IdentityAgent), if any.
  std::optional<std::string> agent_path;
  ssh::config::HostKeyPolicy host_key_policy;
};

// Resolves the options, configures logging, loads the identities (asking
// for passphrases), lists the agent's keys and orders them as ssh does.
// Warnings go to stderr. Throws std::exception with a message for the user.
PreparedConnection prepare_connection(asio::io_context& io, const ConnectionRequest& request);

// Where the driver connects.
ssh::net::ConnectOptions connect_options(const ssh::config::ClientOptions& options);

// The line shown when the connection ended before the work was done.
std::string connection_failure_message(const std::optional<ssh::Error>& failure);

// The ClientSessionCallbacks that are the same for every client command:
// host key verification, passwords, keyboard-interactive, banners.
// Subclasses decide what happens once authenticated.
class ClientConnectionCallbacks : public ssh::ClientSessionCallbacks {
 public:
  ClientConnectionCallbacks(const ssh::config::ClientOptions& options,
                            ssh::config::HostKeyPolicy host_key_policy)
      : options_(options), host_key_policy_(std::move(host_key_policy)) {}

  ssh::Status verify_host_key(const ssh::keys::PublicKey& key,
                              std::string_view signature_algorithm) override;
  std::optional<std::string> password_for(std::string_view user) override;
  std::optional<std::vector<std::string>> keyboard_interactive(
      const ssh::auth::UserauthInfoRequest& request) override;
  void banner(std::string_view text) override;
  std::optional<ssh::hostkeys::KnownHostKeys> known_host_keys_for_update() override;
  void update_known_host_keys(const std::vector<ssh::keys::PublicKey>& added,
                              const std::vector<ssh::Bytes>& removed) override;

 protected:
  const ssh::config::ClientOptions& options_;
  ssh::config::HostKeyPolicy host_key_policy_;
};

}  // namespace cli
