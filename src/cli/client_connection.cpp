#include "cli/client_connection.hpp"

#include <botan/mem_ops.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "cli/logging.hpp"
#include "platform/console.hpp"
#include "platform/user.hpp"
#include "ssh/asio/agent_socket.hpp"
#include "ssh/config/known_hosts.hpp"
#include "ssh/config/session_config.hpp"
#include "ssh/config/ssh_config.hpp"
#include "ssh/log.hpp"

namespace cli {
namespace {

using platform::read_secret;
using platform::stdin_is_terminal;

// The passphrase of an encrypted identity: $LIMACTL_SSH_PASSPHRASE, else
// asked on the terminal (as ssh does); none in BatchMode or without one.
ssh::config::IdentityPassphrasePrompt identity_passphrase_prompt(
    const ssh::config::ClientOptions& options) {
  if (!std::getenv(kPassphraseVariable) && options.batch_mode) return {};
  return [](const std::string& file) -> std::optional<ssh::SecureBytes> {
    std::optional<std::string> given;
    if (const char* variable = std::getenv(kPassphraseVariable)) {
      given = variable;
    } else {
      given = read_secret("Enter passphrase for key '" + file + "': ");
    }
    if (!given) return std::nullopt;
    ssh::SecureBytes passphrase(given->begin(), given->end());
    Botan::secure_scrub_memory(given->data(), given->size());
    return passphrase;
  };
}

// The agent's keys for publickey authentication; none (and a debug line)
// when there is no agent or it cannot be reached, as with ssh.
std::vector<ssh::auth::Identity> list_agent_keys(asio::io_context& io,
                                                 const ssh::config::ClientOptions& options,
                                                 const std::optional<std::string>& agent_path) {
  const auto log = ssh::log::get("auth");
  if (!options.pubkey_authentication) return {};
  if (!agent_path) {
    log->debug("no authentication agent to use");
    return {};
  }
  auto client = ssh::net::open_agent_client(io, *agent_path);
  if (!client) {
    log->debug("{}", client.error().message);
    return {};
  }
  auto listed = (*client)->list_identities();
  if (!listed) {
    log->debug("cannot list the agent's keys: {}", listed.error().message);
    return {};
  }
  log->debug("the agent at {} holds {} key(s)", *agent_path, listed->size());
  return ssh::auth::agent_identities(*client, *listed);
}

}  // namespace

ssh::config::ClientOptions resolve_client_options(const ConnectionRequest& request) {
  using namespace ssh::config;
  if (request.destination.empty()) throw std::invalid_argument("no destination given");
  ClientOptions options;
  std::string destination = request.destination;

  // Command-line values come first: first obtained value wins.
  if (request.verbosity > 0 || request.quiet) {
    apply_option(options, "LogLevel",
                 request.quiet            ? "QUIET"
                 : request.verbosity == 1 ? "DEBUG1"
                 : request.verbosity == 2 ? "DEBUG2"
                                          : "DEBUG3");
  }
  if (const auto at = destination.rfind('@'); at != std::string::npos) {
    apply_option(options, "User", destination.substr(0, at));
    destination = destination.substr(at + 1);
  }
  if (!request.login_name.empty()) apply_option(options, "User", request.login_name);
  // -a wins when both are given.
  if (request.no_forward_agent) {
    apply_option(options, "ForwardAgent", "no");
  } else if (request.forward_agent) {
    apply_option(options, "ForwardAgent", "yes");
  }
  if (request.port > 0) apply_option(options, "Port", std::to_string(request.port));
  // Pushed as is: -i takes a path, not an ssh_config value to split.
  for (const auto& file : request.identity_files) options.identity_files.push_back(file);
  for (const auto& argument : request.options) {
    const auto [keyword, value] = parse_option_argument(argument);
    if (apply_option(options, keyword, value) == ApplyResult::NotImplemented) {
      ssh::log::get("config")->debug("option {} is not implemented; ignored", keyword);
    }
  }
  options.host = destination;

  std::vector<ConfigWarning> warnings;
  if (!request.config_file.empty()) {
    if (request.config_file != "none") {
      warnings = apply_config_file(options, request.config_file, destination);
    }
  } else {
    ConfigFileSettings user_settings;
    user_settings.missing_file_is_error = false;
    warnings = apply_config_file(options, std::filesystem::path(home_directory()) / ".ssh/config",
                                 destination, user_settings);
    ConfigFileSettings system_settings;
    system_settings.missing_file_is_error = false;
    const std::filesystem::path system_directory = platform::system_ssh_directory();
    system_settings.include_directory = system_directory.string();
    auto more =
        apply_config_file(options, system_directory / "ssh_config", destination, system_settings);
    warnings.insert(warnings.end(), more.begin(), more.end());
  }
  for (const auto& warning : warnings) ssh::log::get("config")->debug("{}", warning.to_string());
  finalize_options(options);
  return options;
}

PreparedConnection prepare_connection(asio::io_context& io, const ConnectionRequest& request) {
  PreparedConnection prepared;
  prepared.options = resolve_client_options(request);
  const ssh::config::ClientOptions& options = prepared.options;
  configure_logging(options.log_level);

  prepared.session_config = ssh::config::make_session_config(options);
  ssh::config::LoadedIdentities identities =
      ssh::config::load_identities(options, identity_passphrase_prompt(options));
  for (const auto& warning : identities.warnings) std::cerr << "Warning: " << warning << "\n";

  prepared.agent_path = ssh::net::resolve_agent_path(options.identity_agent);
  prepared.session_config.auth.identities = ssh::auth::order_identities(
      std::move(identities.identities), ssh::config::load_configured_public_keys(options),
      list_agent_keys(io, options, prepared.agent_path), options.identities_only);

  prepared.host_key_policy = ssh::config::HostKeyPolicy::from_options(options);
  if (!options.batch_mode && stdin_is_terminal()) {
    prepared.host_key_policy.confirm = [](const std::string& question) {
      auto answer = read_secret(question + " (yes/no)? ");
      return answer && *answer == "yes";
    };
  }
  return prepared;
}

ssh::net::ConnectOptions connect_options(const ssh::config::ClientOptions& options) {
  ssh::net::ConnectOptions connect;
  connect.host = options.hostname;
  connect.port = options.port;
  if (options.connect_timeout) connect.handshake_timeout = *options.connect_timeout;
  return connect;
}

std::string connection_failure_message(const std::optional<ssh::Error>& failure) {
  std::string message = failure ? failure->message : "connection closed";
  if (failure && failure->reason == ssh::DisconnectReason::HostKeyNotVerifiable &&
      message.find("Host key verification failed") == std::string::npos) {
    message = "Host key verification failed: " + message;
  }
  return message;
}

ssh::Status ClientConnectionCallbacks::verify_host_key(const ssh::keys::PublicKey& key,
                                                       std::string_view) {
  const auto decision =
      ssh::config::check_host_key(host_key_policy_, options_.hostname, options_.port, key);
  if (!decision.accepted) {
    return ssh::Error{ssh::DisconnectReason::HostKeyNotVerifiable, decision.reason};
  }
  if (decision.key_changed) {
    std::cerr << "WARNING: " << decision.reason << "\n";
    // A server we could not verify must not rewrite known_hosts (OpenSSH
    // turns UpdateHostKeys off here too).
    if (host_key_policy_.update_host_keys) {
      host_key_policy_.update_host_keys = false;
      ssh::log::get("hostkeys")
          ->warn("UpdateHostKeys is disabled because the host key is not trusted.");
    }
  }
  if (!decision.added_to.empty() && options_.log_level >= ssh::config::LogLevel::Info) {
    std::cerr << "Warning: Permanently added '"
              << ssh::config::known_hosts_name(options_.hostname, options_.port) << "' ("
              << key.type() << ") to the list of known hosts.\n";
  }
  return {};
}

std::optional<std::string> ClientConnectionCallbacks::password_for(std::string_view user) {
  if (const char* given = std::getenv(kPasswordVariable)) return std::string(given);
  if (options_.batch_mode) return std::nullopt;
  return read_secret(std::string(user) + "@" + options_.hostname + "'s password: ");
}

std::optional<std::vector<std::string>> ClientConnectionCallbacks::keyboard_interactive(
    const ssh::auth::UserauthInfoRequest& request) {
  std::vector<std::string> answers;
  const char* given = std::getenv(kPasswordVariable);
  for (const auto& prompt : request.prompts) {
    if (given) {
      answers.emplace_back(given);
      continue;
    }
    if (options_.batch_mode) return std::nullopt;
    auto answer = read_secret(prompt.text);
    if (!answer) return std::nullopt;
    answers.push_back(std::move(*answer));
  }
  return answers;
}

void ClientConnectionCallbacks::banner(std::string_view text) {
  if (options_.log_level >= ssh::config::LogLevel::Info) std::cerr << text;
}

std::optional<ssh::hostkeys::KnownHostKeys>
ClientConnectionCallbacks::known_host_keys_for_update() {
  return ssh::config::known_host_keys_for_update(host_key_policy_, options_.hostname,
                                                 options_.port);
}

void ClientConnectionCallbacks::update_known_host_keys(
    const std::vector<ssh::keys::PublicKey>& added, const std::vector<ssh::Bytes>& removed) {
  // Failures are logged where they happen; the session goes on regardless.
  (void)ssh::config::apply_host_key_update(host_key_policy_, options_.hostname, options_.port,
                                           added, removed);
}

}  // namespace cli
