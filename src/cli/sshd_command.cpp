#include "cli/sshd_command.hpp"

#include <spdlog/spdlog.h>

#include <asio.hpp>
#include <csignal>
#include <functional>
#include <iostream>
#include <map>
#include <stdexcept>

#include "cli/logging.hpp"
#include "platform/files.hpp"
#include "platform/user.hpp"
#include "sftp/sftp_subsystem.hpp"
#include "ssh/asio/authorized_keys_files.hpp"
#include "ssh/asio/scp_command.hpp"
#include "ssh/asio/server.hpp"
#include "ssh/config/client_options.hpp"
#include "ssh/config/pattern.hpp"
#include "ssh/keys/key_files.hpp"
#include "ssh/log.hpp"

namespace cli {
namespace {

// The server's own choice of algorithms: only those ssh-audit finds
// nothing to warn about (no NIST curves, no 2048-bit group, no
// encrypt-and-MAC). Clients as old as OpenSSH 6.5 still get in.
ssh::transport::AlgorithmPolicy hardened_policy() {
  ssh::transport::AlgorithmPolicy policy;
  policy.kex = {"mlkem768x25519-sha256",
                "sntrup761x25519-sha512",
                "sntrup761x25519-sha512@openssh.com",
                "curve25519-sha256",
                "curve25519-sha256@libssh.org",
                "diffie-hellman-group16-sha512",
                "diffie-hellman-group18-sha512"};
  policy.host_key = {"ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"};
  policy.ciphers = {"chacha20-poly1305@openssh.com",
                    "aes256-gcm@openssh.com",
                    "aes128-gcm@openssh.com",
                    "aes256-ctr",
                    "aes192-ctr",
                    "aes128-ctr"};
  policy.macs = {"hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com"};
  policy.compression = ssh::transport::AlgorithmPolicy::server_compression();
  return policy;
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == ',') {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

bool parse_yes_no(const std::string& key, const std::string& value) {
  if (ssh::config::equals_ignoring_case(value, "yes")) return true;
  if (ssh::config::equals_ignoring_case(value, "no")) return false;
  throw std::invalid_argument(key + ": expected yes or no, not \"" + value + "\"");
}

long parse_number(const std::string& key, const std::string& value, long min, long max) {
  std::size_t used = 0;
  long number = 0;
  try {
    number = std::stol(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value.size() || value.empty() || number < min || number > max) {
    throw std::invalid_argument(key + ": expected a number from " + std::to_string(min) + " to " +
                                std::to_string(max) + ", not \"" + value + "\"");
  }
  return number;
}

// sshd's time format: 30, 30s, 5m, 1h, 1h30m.
std::chrono::seconds parse_duration(const std::string& key, const std::string& value) {
  long total = 0;
  long current = -1;
  for (char c : value) {
    if (c >= '0' && c <= '9') {
      current = (current < 0 ? 0 : current) * 10 + (c - '0');
      if (current > 100000000) break;
      continue;
    }
    const long unit = c == 's' || c == 'S'   ? 1
                      : c == 'm' || c == 'M' ? 60
                      : c == 'h' || c == 'H' ? 3600
                      : c == 'd' || c == 'D' ? 86400
                      : c == 'w' || c == 'W' ? 604800
                                             : 0;
    if (unit == 0 || current < 0) {
      throw std::invalid_argument(key + ": \"" + value + "\" is no time (30, 30s, 5m, 1h)");
    }
    total += current * unit;
    current = -1;
  }
  if (current >= 0) total += current;
  if (value.empty() || total < 0) {
    throw std::invalid_argument(key + ": \"" + value + "\" is no time (30, 30s, 5m, 1h)");
  }
  return std::chrono::seconds(total);
}

struct ServerSetup {
  ssh::net::ServerOptions server;
  std::vector<std::string> listen_addresses;
  std::vector<std::string> authorized_keys_files{".ssh/authorized_keys"};
};

// Applies one -o Key=value (or "Key value"), as sshd_config names them.
void apply_option(const std::string& text, ServerSetup& setup) {
  auto separator = text.find_first_of("= \t");
  if (separator == std::string::npos) {
    throw std::invalid_argument("-o " + text + ": expected Key=value");
  }
  std::string key = text.substr(0, separator);
  std::string value = text.substr(separator + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '=')) value.erase(0, 1);
  std::string lower;
  for (char c : key) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto& session = setup.server.session;
  auto& policy = setup.server.policy;
  auto algorithms = [&](std::vector<std::string>& list, const std::vector<std::string>& supported) {
    list = ssh::config::resolve_algorithm_list(value, list, supported);
  };
  using Defaults = ssh::transport::AlgorithmPolicy;
  if (lower == "listenaddress") {
    setup.listen_addresses.push_back(value);
  } else if (lower == "authorizedkeysfile") {
    setup.authorized_keys_files = split_words(value);
  } else if (lower == "logingracetime") {
    session.login_grace_time = parse_duration(key, value);
  } else if (lower == "maxauthtries") {
    session.auth.max_attempts = static_cast<std::size_t>(parse_number(key, value, 1, 100));
  } else if (lower == "maxstartups") {
    // Only the first number of sshd's start:rate:full form.
    setup.server.max_unauthenticated =
        static_cast<std::size_t>(parse_number(key, value.substr(0, value.find(':')), 1, 100000));
  } else if (lower == "maxsessions") {
    policy.max_sessions = static_cast<std::size_t>(parse_number(key, value, 0, 1000));
  } else if (lower == "maxconnections") {
    setup.server.max_connections = static_cast<std::size_t>(parse_number(key, value, 1, 100000));
  } else if (lower == "unusedconnectiontimeout" || lower == "idletimeout") {
    const auto duration = parse_duration(key, value);
    session.idle_timeout = duration.count() > 0 ? std::optional(duration) : std::nullopt;
  } else if (lower == "acceptenv") {
    policy.accept_env = split_words(value);
  } else if (lower == "allowtcpforwarding") {
    policy.allow_tcp_forwarding = parse_yes_no(key, value);
  } else if (lower == "allowstreamlocalforwarding") {
    policy.allow_streamlocal_forwarding = parse_yes_no(key, value);
  } else if (lower == "allowagentforwarding") {
    policy.allow_agent_forwarding = parse_yes_no(key, value);
  } else if (lower == "gatewayports") {
    policy.gateway_ports = parse_yes_no(key, value);
  } else if (lower == "banner") {
    if (value != "none") {
      auto banner = ssh::keys::read_key_file_text(value);
      if (!banner) throw std::invalid_argument("Banner: " + banner.error().message);
      session.auth.banner = *banner;
    }
  } else if (lower == "compression") {
    // OpenSSH's sshd_config: yes and delayed allow it (a client still has
    // to ask), no refuses it.
    const bool allowed = value == "delayed" || parse_yes_no(key, value);
    session.transport.policy.compression =
        allowed ? Defaults::server_compression() : std::vector<std::string>{"none"};
  } else if (lower == "kexalgorithms") {
    algorithms(session.transport.policy.kex, Defaults::default_kex());
  } else if (lower == "ciphers") {
    algorithms(session.transport.policy.ciphers, Defaults::default_ciphers());
  } else if (lower == "macs") {
    algorithms(session.transport.policy.macs, Defaults::default_macs());
  } else if (lower == "hostkeyalgorithms") {
    algorithms(session.transport.policy.host_key, Defaults::default_host_key());
  } else if (lower == "pubkeyacceptedalgorithms" || lower == "pubkeyacceptedkeytypes") {
    algorithms(session.auth.signature_algorithms, ssh::keys::supported_signature_algorithms());
  } else if (lower == "port") {
    throw std::invalid_argument("Port: use -p PORT");
  } else {
    throw std::invalid_argument("unsupported option \"" + key + "\"");
  }
}

}  // namespace

void setup_sshd_command(CLI::App& app, SshdCommandOptions& options) {
  auto* command =
      app.add_subcommand("sshd", "Run the built-in SSH server in the foreground (logs to stderr)");
  // -h is the host key, as for sshd; help stays on --help.
  command->set_help_flag("--help", "Print this help message and exit");
  command->add_option("-p", options.port, "Port to listen on (0 picks a free one)")
      ->check(CLI::Range(0, 65535));
  command
      ->add_option("-h", options.host_keys,
                   "Host key file (repeatable; ed25519, ecdsa or rsa, no passphrase)")
      ->required();
  command->add_option("-o", options.options,
                      "sshd_config option as Key=value: ListenAddress, AuthorizedKeysFile, "
                      "LoginGraceTime, MaxAuthTries, MaxStartups, MaxSessions, "
                      "UnusedConnectionTimeout, AcceptEnv, AllowTcpForwarding, "
                      "AllowStreamLocalForwarding, AllowAgentForwarding, GatewayPorts, Banner, "
                      "KexAlgorithms, Ciphers, MACs, HostKeyAlgorithms, PubkeyAcceptedAlgorithms");
  command->add_flag("-d", options.debug, "Debug logging");
  command->add_flag("-v", options.verbosity, "More logging (repeat for more)");
  command->add_flag("-q", options.quiet, "Log errors only");
}

int run_sshd_command(const SshdCommandOptions& options) {
  configure_logging_verbosity(options.debug ? std::max(options.verbosity, 1) : options.verbosity,
                              options.quiet);
  // Informational lines (logins, refusals) matter for a server even
  // without -v: they are the record of who connected.
  if (!options.debug && options.verbosity == 0 && !options.quiet) {
    // configure_logging() maps INFO to warnings (the client's quiet
    // default, as OpenSSH's ssh): the server needs its info lines itself.
    spdlog::set_level(spdlog::level::info);
    spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& logger) {
      logger->set_level(spdlog::level::info);
    });
  }
  auto log = ssh::log::get("sshd");
  ServerSetup setup;
  setup.server.session.transport.policy = hardened_policy();
  try {
    for (const auto& option : options.options) apply_option(option, setup);
  } catch (const std::exception& e) {
    std::cerr << "limactl sshd: " << e.what() << "\n";
    return 1;
  }
  for (const auto& path : options.host_keys) {
    if (auto problem = platform::private_key_permission_problem(path)) {
      std::cerr << "limactl sshd: " << *problem << "\n";
      return 1;
    }
    auto key = ssh::keys::load_private_key_file(path);
    if (!key) {
      std::cerr << "limactl sshd: host key " << path << ": " << key.error().message << "\n";
      return 1;
    }
    log->debug("host key {} {} from {}", key->public_key().type(),
               key->public_key().fingerprint_sha256(), path);
    setup.server.session.transport.host_keys.push_back(std::move(*key));
  }

  const std::string home = platform::home_directory();
  ssh::net::AuthorizedKeysFiles authorized;
  authorized.user = platform::current_user_name();
  for (const auto& file : setup.authorized_keys_files) {
    std::string expanded;
    for (std::size_t i = 0; i < file.size(); ++i) {
      if (file[i] == '%' && i + 1 < file.size()) {
        const char token = file[++i];
        if (token == 'h')
          expanded += home;
        else if (token == 'u')
          expanded += authorized.user;
        else if (token == '%')
          expanded += '%';
        else {
          std::cerr << "limactl sshd: AuthorizedKeysFile: unknown token %" << token << "\n";
          return 1;
        }
      } else {
        expanded += file[i];
      }
    }
    expanded = ssh::config::expand_tilde(expanded, home);
    std::filesystem::path path(expanded);
    // sshd reads relative names from the user's home directory.
    if (path.is_relative()) path = std::filesystem::path(home) / path;
    log->debug("authorized keys file: {}", path.string());
    authorized.files.push_back(path);
  }
  setup.server.authorize_key = [authorized](const ssh::config::ClientOrigin& origin,
                                            std::string_view user,
                                            const ssh::keys::PublicKey& key) {
    return ssh::net::authorize_from_files(authorized, origin, user, key,
                                          std::chrono::system_clock::now());
  };

  // OpenSSH's scp -O runs "scp -t/-f" on the server: served in-process, so
  // a host without an scp binary (or without OpenSSH) still takes copies.
  setup.server.in_process_command = ssh::net::make_scp_command;
  // "subsystem sftp" (OpenSSH's scp and sftp, sshfs): the in-process SFTP
  // server, unconfined as the user, as sshd's internal-sftp.
  setup.server.subsystem =
      [](std::string_view name,
         const std::string& working_directory) -> std::unique_ptr<ssh::net::InProcessCommand> {
    if (name == "sftp") return sftp::make_sftp_subsystem(working_directory);
    return nullptr;
  };

  if (setup.listen_addresses.empty()) setup.listen_addresses = {"0.0.0.0", "::"};

#ifndef _WIN32
  // Writes to a child that exited must fail with EPIPE, not kill the server.
  std::signal(SIGPIPE, SIG_IGN);
#endif
  asio::io_context io;
  ssh::net::Server server(io, std::move(setup.server));
  for (const auto& address : setup.listen_addresses) {
    std::string host = address;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    auto endpoint = server.listen(host, static_cast<std::uint16_t>(options.port));
    if (!endpoint) {
      std::cerr << "limactl sshd: " << endpoint.error().message << "\n";
      return 1;
    }
    const auto bound = endpoint->address();
    std::cout << "listening on "
              << (bound.is_v6() ? "[" + bound.to_string() + "]" : bound.to_string()) << ":"
              << endpoint->port() << std::endl;
  }

  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::steady_timer drain(io);
  const auto give_up_at = std::make_shared<std::chrono::steady_clock::time_point>();
  std::function<void()> wait_for_clients = [&] {
    // Other work (child reapers, forward listeners) may keep io busy: stop
    // once every client got its DISCONNECT, or after a few seconds.
    if (server.connection_count() == 0 || std::chrono::steady_clock::now() > *give_up_at) {
      io.stop();
      return;
    }
    drain.expires_after(std::chrono::milliseconds(20));
    drain.async_wait([&](std::error_code ec) {
      if (!ec) wait_for_clients();
    });
  };
  signals.async_wait([&](std::error_code ec, int signal_number) {
    if (ec) return;
    log->info("received signal {}: shutting down", signal_number);
    server.stop();
    *give_up_at = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    wait_for_clients();
  });
  io.run();
  log->info("stopped");
  return 0;
}

}  // namespace cli
