#include "support/ssh_server.hpp"

#include <charconv>
#include <stdexcept>
#include <thread>

#include "support/files.hpp"

namespace testing_support {

namespace {
using Clock = std::chrono::steady_clock;
constexpr int kStartAttempts = 5;
}  // namespace

SshServer::SshServer(std::string name, const std::string& temp_prefix,
                     const std::filesystem::path& temp_parent)
    : dir_(temp_prefix, temp_parent.empty() ? std::filesystem::temp_directory_path() : temp_parent),
      name_(std::move(name)) {
  std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755),
                               std::filesystem::perm_options::replace);
  known_hosts_file_ = dir_.path() / "known_hosts";
  log_file_ = dir_.path() / "server.log";
}

SshServer::~SshServer() {
  stop();
}

std::string SshServer::known_hosts_name() const {
  return "[" + host() + "]:" + std::to_string(port_);
}

std::string SshServer::known_hosts_line(const std::string& public_line) const {
  return known_hosts_name() + " " + public_line;
}

std::string SshServer::log() const {
  return read_file_from(log_file_, 0);
}

std::uintmax_t SshServer::log_size() const {
  std::error_code error;
  auto size = std::filesystem::file_size(log_file_, error);
  return error ? 0 : size;
}

std::string SshServer::log_since(std::uintmax_t offset) const {
  return read_file_from(log_file_, offset);
}

bool SshServer::running() {
  return process_ && process_->running();
}

void SshServer::stop() {
  if (process_) process_->stop();
}

void SshServer::write_known_hosts() {
  std::string content;
  for (const auto& key : host_public_keys_) content += known_hosts_line(key) + "\n";
  write_file(known_hosts_file_, content);
}

void SshServer::fail_start(const std::string& what) {
  std::string status = process_ ? process_->status_text() : "not started";
  std::string message = name_ + " test server: " + what + " (server " + status + ")\n" + "--- " +
                        log_file_.string() + " ---\n" + log();
  if (process_) process_->stop();
  throw std::runtime_error(message);
}

void SshServer::start_on_free_port(const std::function<Argv(std::uint16_t port)>& make_argv,
                                   const SpawnOptions& spawn_options,
                                   std::chrono::milliseconds timeout) {
  for (int attempt = 1;; ++attempt) {
    port_ = free_loopback_port();
    Argv argv = make_argv(port_);
    auto log_offset = log_size();
    process_ = std::make_unique<BackgroundProcess>(argv, spawn_options);
    auto deadline = Clock::now() + timeout;
    bool listening = false;
    while (Clock::now() < deadline) {
      if (process_listens_on(process_->pid(), port_)) {
        listening = true;
        break;
      }
      if (!process_->running()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (listening) {
      if (!port_accepts(port_)) {
        fail_start("listens on 127.0.0.1:" + std::to_string(port_) +
                   " but does not accept connections");
      }
      return;
    }
    bool port_taken = log_since(log_offset).find("in use") != std::string::npos;
    if (!process_->running() && port_taken && attempt < kStartAttempts) {
      process_->stop();
      continue;  // somebody took the port between our check and the server's bind
    }
    fail_start(process_->running()
                   ? "did not listen on 127.0.0.1:" + std::to_string(port_) + " within " +
                         std::to_string(timeout.count()) + " ms; command: " + shell_quote(argv)
                   : "exited before listening on 127.0.0.1:" + std::to_string(port_) +
                         "; command: " + shell_quote(argv));
  }
}

void SshServer::start_reporting_port(const Argv& argv, const SpawnOptions& spawn_options,
                                     const std::filesystem::path& port_file,
                                     std::chrono::milliseconds timeout) {
  process_ = std::make_unique<BackgroundProcess>(argv, spawn_options);
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    std::string text = trim(read_file_from(port_file, 0));
    unsigned value = 0;
    if (!text.empty()) {
      auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (error != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
        fail_start("wrote \"" + text + "\" to " + port_file.string() + ", not a port number");
      }
      port_ = static_cast<std::uint16_t>(value);
      if (!process_listens_on(process_->pid(), port_) || !port_accepts(port_)) {
        fail_start("reported port " + text + " but does not listen on it");
      }
      return;
    }
    if (!process_->running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  fail_start(process_->running()
                 ? "reported no port within " + std::to_string(timeout.count()) +
                       " ms; command: " + shell_quote(argv)
                 : "exited before reporting its port; command: " + shell_quote(argv));
}

}  // namespace testing_support
