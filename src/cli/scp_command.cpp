#include "cli/scp_command.hpp"

#include <botan/auto_rng.h>
#include <botan/hex.h>

#include <algorithm>
#include <asio.hpp>
#include <cctype>
#include <chrono>
#include <csignal>
#include <deque>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>

#include "cli/client_connection.hpp"
#include "cli/progress_meter.hpp"
#include "platform/console.hpp"
#include "platform/scp_local_files.hpp"
#include "sftp/client.hpp"
#include "sftp/local_file_system.hpp"
#include "sftp/remote_glob.hpp"
#include "sftp/transfer.hpp"
#include "ssh/asio/channel_protocol_runner.hpp"
#include "ssh/asio/client_driver.hpp"
#include "ssh/client_session.hpp"
#include "ssh/log.hpp"
#include "ssh/scp/scp_client.hpp"

namespace cli {
namespace {

namespace fs = std::filesystem;

constexpr int kExitFailure = 1;

enum class Direction { Upload, Download };

// What the operands ask for: one direction, one remote host.
struct CopyPlan {
  Direction direction = Direction::Upload;
  std::string user;
  std::string host;
  // Local paths (upload) or remote paths (download).
  std::vector<std::string> sources;
  // The remote path (upload) or the local one (download).
  std::string target;
};

CopyPlan plan_copy(const std::vector<std::string>& operands) {
  if (operands.size() < 2) throw std::invalid_argument("need a source and a target");
  std::vector<ScpOperand> parsed;
  for (const std::string& operand : operands) parsed.push_back(parse_scp_operand(operand));
  const ScpOperand& target = parsed.back();
  CopyPlan plan;
  bool any_remote_source = false;
  bool any_local_source = false;
  for (std::size_t i = 0; i + 1 < parsed.size(); ++i) {
    (parsed[i].remote ? any_remote_source : any_local_source) = true;
  }
  if (target.remote && any_remote_source) {
    throw std::invalid_argument("copies between two remote hosts are not supported");
  }
  if (!target.remote && !any_remote_source) {
    throw std::invalid_argument("no remote path given (local copies are not supported; use cp)");
  }
  if (!target.remote && any_local_source) {
    throw std::invalid_argument("local sources cannot be copied to a local target");
  }
  const ScpOperand& remote = target.remote ? target : parsed.front();
  plan.direction = target.remote ? Direction::Upload : Direction::Download;
  plan.user = remote.user;
  plan.host = remote.host;
  if (plan.host.empty()) throw std::invalid_argument("empty host name in " + operands.back());
  for (std::size_t i = 0; i + 1 < parsed.size(); ++i) {
    if (parsed[i].remote && (parsed[i].host != plan.host || parsed[i].user != plan.user)) {
      throw std::invalid_argument("all remote sources must be on the same host");
    }
    plan.sources.push_back(parsed[i].path);
  }
  plan.target = target.path;
  return plan;
}

std::string base_name(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const std::size_t slash = path.find_last_of('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string join_remote(const std::string& directory, const std::string& name) {
  if (directory.empty() || directory == ".") return name;
  return directory.back() == '/' ? directory + name : directory + "/" + name;
}

// An SFTP server starts in the home directory, so "~" and "~/" mean the
// same as a relative path (OpenSSH's scp in SFTP mode does the same).
std::string sftp_remote_path(const std::string& path) {
  if (path.empty() || path == "~" || path == "~/") return ".";
  if (path.starts_with("~/")) return path.substr(2);
  return path;
}

// A local path as sftp::LocalFileSystem names it (absolute, POSIX form).
std::string sftp_local_path(const std::string& path) {
  auto served = sftp::LocalFileSystem::served_path(fs::absolute(fs::path(path)));
  if (!served.ok()) throw std::invalid_argument(path + ": " + served.error().message);
  return *served;
}

std::string random_suffix() {
  Botan::AutoSeeded_RNG rng;
  return Botan::hex_encode(rng.random_vec(4), false);
}

// One copy over one connection: the legacy scp client or an SFTP transfer
// job, run over a session channel once authenticated.
class ScpRun : public ClientConnectionCallbacks, public ssh::scp::ClientObserver {
 public:
  ScpRun(const ssh::config::ClientOptions& options, ssh::config::HostKeyPolicy host_key_policy,
         const ScpCommandOptions& cli, CopyPlan plan, bool show_progress)
      : ClientConnectionCallbacks(options, std::move(host_key_policy)),
        cli_(cli),
        plan_(std::move(plan)),
        meter_(show_progress) {}

  void attach(ssh::ClientSession& session, ssh::net::ClientDriver& driver) {
    session_ = &session;
    driver_ = &driver;
  }

  bool done() const { return done_; }
  int exit_code() const { return exit_code_; }

  // --- ClientSessionCallbacks ---
  void on_authenticated() override {
    try {
      if (cli_.legacy_protocol) {
        start_legacy();
      } else {
        start_sftp();
      }
    } catch (const std::exception& error) {
      on_error(std::string("scp: ") + error.what());
      end(kExitFailure);
    }
  }

  // --- scp::ClientObserver ---
  void on_error(std::string_view message) override {
    meter_.break_line();
    std::cerr << message << "\n" << std::flush;
    ++errors_shown_;
  }
  void on_file_started(std::string_view name, std::uint64_t size) override {
    meter_.start_file(name, size);
  }
  void on_file_progress(std::uint64_t bytes_done) override { meter_.update(bytes_done); }
  void on_file_finished(bool ok) override { meter_.finish_file(ok); }

 private:
  std::shared_ptr<ssh::net::ChannelProtocolRunner> make_runner(ssh::ChannelProtocol& protocol,
                                                               ssh::net::RemoteCommand command) {
    ssh::net::ChannelProtocolRunner::Callbacks callbacks;
    callbacks.kick = [this] { driver_->kick(); };
    callbacks.remote_stderr = [this](ssh::ByteView data) {
      meter_.break_line();
      std::cerr << ssh::as_text(data) << std::flush;
    };
    callbacks.finished = [this](const ssh::net::ChannelProtocolResult& result) {
      on_runner_finished(result);
    };
    return std::make_shared<ssh::net::ChannelProtocolRunner>(*session_, protocol,
                                                             std::move(command), callbacks);
  }

  void start_legacy() {
    local_scp_files_ = platform::make_local_scp_file_system("");
    std::string command;
    if (plan_.direction == Direction::Upload) {
      ssh::scp::UploadRequest request{plan_.sources, cli_.recursive, cli_.preserve};
      command = ssh::scp::remote_sink_command(plan_.target, cli_.recursive, cli_.preserve,
                                              plan_.sources.size() > 1);
      protocol_ = ssh::scp::start_upload(std::move(request), *local_scp_files_, *this);
    } else {
      ssh::scp::DownloadRequest request;
      request.remote_paths = plan_.sources;
      request.local_target = plan_.target;
      request.recursive = cli_.recursive;
      request.preserve = cli_.preserve;
      request.target_should_be_directory = plan_.sources.size() > 1;
      request.temporary_suffix = "limactl-" + random_suffix();
      command = ssh::scp::remote_source_command(plan_.sources, cli_.recursive, cli_.preserve);
      protocol_ = ssh::scp::start_download(std::move(request), *local_scp_files_, *this);
    }
    ssh::log::get("scp")->debug("running \"{}\"", command);
    runner_ = make_runner(*protocol_, ssh::net::RemoteCommand::exec(command));
    (void)runner_->start();
  }

  void start_sftp() {
    sftp_client_ = std::make_unique<sftp::Client>();
    runner_ = make_runner(*sftp_client_, ssh::net::RemoteCommand::subsystem("sftp"));
    sftp::TransferOptions options;
    options.recursive = cli_.recursive;
    options.preserve = cli_.preserve;
    options.resume = cli_.resume;
    options.clock = [] { return std::chrono::steady_clock::now(); };
    options.on_progress = [this](const sftp::TransferProgress& progress) {
      show_progress(progress);
    };
    job_ = std::make_unique<sftp::TransferJob>(*sftp_client_, local_sftp_files_, options);
    job_->on_finished([this] { on_job_finished(); });
    if (plan_.direction == Direction::Upload) {
      std::vector<std::string> sources;
      for (const std::string& source : plan_.sources) sources.push_back(sftp_local_path(source));
      const std::string target = sftp_remote_path(plan_.target);
      // Whether the files go into the target or become it.
      sftp_client_->stat(target, [this, sources, target](sftp::ClientResult<sftp::Attrs> attrs) {
        const bool is_directory =
            attrs.ok() && attrs->permissions && (*attrs->permissions & 0170000) == 0040000;
        if (!is_directory && sources.size() > 1) {
          on_error("scp: " + target + ": Not a directory");
          sftp_client_->finish();
          return;
        }
        for (const std::string& source : sources) {
          job_->add_put(source, is_directory ? join_remote(target, base_name(source)) : target);
        }
        job_->start();
      });
    } else {
      expand_sources(0, {});
    }
    (void)runner_->start();
  }

  // As OpenSSH's scp in SFTP mode: remote wildcards are expanded through
  // READDIR (the server has no shell), one source after the other, keeping
  // the order the user gave.
  void expand_sources(std::size_t index, std::vector<std::string> expanded) {
    if (index == plan_.sources.size()) {
      start_downloads(expanded);
      return;
    }
    const std::string source = sftp_remote_path(plan_.sources[index]);
    if (!sftp::has_glob_magic(source)) {
      expanded.push_back(source);
      expand_sources(index + 1, std::move(expanded));
      return;
    }
    sftp::expand_remote_glob(
        *sftp_client_, source,
        [this, index, source, expanded = std::move(expanded)](
            sftp::ClientResult<std::vector<std::string>> matches) mutable {
          if (!matches) {
            // The session is gone; the runner reports why.
            source_failed_ = true;
            return;
          }
          if (matches->empty()) {
            on_error("scp: " + plan_.sources[index] + ": No such file or directory");
            source_failed_ = true;
          }
          expanded.insert(expanded.end(), matches->begin(), matches->end());
          expand_sources(index + 1, std::move(expanded));
        });
  }

  void start_downloads(const std::vector<std::string>& remotes) {
    const bool is_directory = fs::is_directory(plan_.target);
    if (remotes.size() > 1 && !is_directory) {
      on_error("scp: Multiple files match pattern, but destination \"" + plan_.target +
               "\" is not a directory");
      source_failed_ = true;
      sftp_client_->finish();
      return;
    }
    for (const std::string& remote : remotes) {
      const std::string local =
          is_directory ? (fs::path(plan_.target) / base_name(remote)).string() : plan_.target;
      job_->add_get(remote, sftp_local_path(local));
    }
    job_->start();
  }

  // The SFTP job reports per file, several files moving at once; the meter
  // shows one file at a time, from its first report to the one that says
  // it is in place (file_finished), then the files that moved meanwhile, in
  // the order they started. Ending a line on the report that counts the
  // last byte, as before, drew 100% before the file was closed and renamed,
  // then a second line for it jumping from 0% to 100%, and dropped the
  // files that ended while another one was shown.
  struct MeterFile {
    std::string path;
    ProgressMeter::Clock::time_point started;
    std::uint64_t done = 0;
    std::uint64_t total = 0;
    std::optional<ProgressMeter::Clock::time_point> finished;
  };

  void show_progress(const sftp::TransferProgress& progress) {
    // Nothing to draw: no bookkeeping either (a -r copy reports every file).
    if (!meter_.enabled()) return;
    const auto now = ProgressMeter::Clock::now();
    auto file = std::find_if(meter_files_.begin(), meter_files_.end(),
                             [&](const MeterFile& f) { return f.path == progress.current_file; });
    if (file == meter_files_.end()) {
      meter_files_.push_back({progress.current_file, now});
      file = std::prev(meter_files_.end());
    }
    file->done = progress.file_bytes_done;
    file->total = progress.file_bytes_total;
    if (progress.file_finished) file->finished = now;
    if (file != meter_files_.begin()) return;  // waits for the file on the meter
    if (!meter_shows_front_) {
      meter_.start_file(base_name(file->path), file->total, file->started);
      meter_shows_front_ = true;
    }
    meter_.update(file->done);
    if (!file->finished) return;
    meter_.finish_file(true);
    meter_files_.pop_front();
    meter_shows_front_ = false;
    // The files that moved meanwhile: the finished ones get their line now,
    // the first one still moving takes the meter.
    while (!meter_files_.empty()) {
      MeterFile& next = meter_files_.front();
      meter_.start_file(base_name(next.path), next.total, next.started);
      meter_.update(next.done);
      if (!next.finished) {
        meter_shows_front_ = true;
        break;
      }
      meter_.finish_file(true, next.finished);
      meter_files_.pop_front();
    }
  }

  void on_job_finished() {
    for (const sftp::TransferError& error : job_->errors()) {
      on_error("scp: " + error.path + ": " + error.message);
    }
    sftp_client_->finish();
    if (runner_) runner_->pump();
  }

  void on_runner_finished(const ssh::net::ChannelProtocolResult& result) {
    meter_.break_line();
    bool ok = result.status.ok();
    if (!ok && errors_shown_ == 0) on_error("scp: " + result.status.error().message);
    if (cli_.legacy_protocol) {
      // The remote scp counts failures it told us about in its exit status.
      if (result.exit_status && *result.exit_status != 0) ok = false;
    } else if (!job_ || !job_->succeeded() || source_failed_) {
      ok = false;
      if (errors_shown_ == 0) on_error("scp: the transfer did not complete");
    }
    end(ok ? 0 : kExitFailure);
  }

  void end(int exit_code) {
    exit_code_ = exit_code;
    done_ = true;
    session_->disconnect("disconnected by user");
    driver_->kick();
  }

  const ScpCommandOptions& cli_;
  CopyPlan plan_;
  ProgressMeter meter_;
  ssh::ClientSession* session_ = nullptr;
  ssh::net::ClientDriver* driver_ = nullptr;
  std::unique_ptr<ssh::scp::FileSystem> local_scp_files_;
  std::unique_ptr<ssh::ChannelProtocol> protocol_;
  sftp::LocalFileSystem local_sftp_files_;
  std::unique_ptr<sftp::Client> sftp_client_;
  std::unique_ptr<sftp::TransferJob> job_;
  std::shared_ptr<ssh::net::ChannelProtocolRunner> runner_;
  // Files reported by the SFTP job and not drawn to their end yet, the one
  // on the meter first.
  std::deque<MeterFile> meter_files_;
  bool meter_shows_front_ = false;
  // A remote pattern matched nothing (or could not be expanded).
  bool source_failed_ = false;
  unsigned errors_shown_ = 0;
  bool done_ = false;
  int exit_code_ = kExitFailure;
};

}  // namespace

ScpOperand parse_scp_operand(std::string_view text) {
  ScpOperand local;
  local.path = std::string(text);
  if (text.empty() || text.front() == ':') return local;
#ifdef _WIN32
  // "C:\dir" and "C:/dir" are local drive paths, not host "C".
  if (text.size() >= 2 && text[1] == ':' && std::isalpha(static_cast<unsigned char>(text[0])) &&
      (text.size() == 2 || text[2] == '\\' || text[2] == '/')) {
    return local;
  }
#endif
  // OpenSSH's colon(): a ':' before any '/' ends the host part; inside
  // brackets (an IPv6 address, "[v6]:" or "user@[v6]:") it does not count.
  bool bracketed = text.front() == '[';
  std::size_t colon = std::string_view::npos;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '@' && i + 1 < text.size() && text[i + 1] == '[') bracketed = true;
    if (c == ']' && i + 1 < text.size() && text[i + 1] == ':' && bracketed) {
      colon = i + 1;
      break;
    }
    if (c == ':' && !bracketed) {
      colon = i;
      break;
    }
    if (c == '/') return local;
  }
  if (colon == std::string_view::npos) return local;
  ScpOperand remote;
  remote.remote = true;
  remote.path = std::string(text.substr(colon + 1));
  std::string_view host = text.substr(0, colon);
  if (const std::size_t at = host.rfind('@'); at != std::string_view::npos) {
    remote.user = std::string(host.substr(0, at));
    host = host.substr(at + 1);
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  remote.host = std::string(host);
  return remote;
}

void setup_scp_command(CLI::App& app, ScpCommandOptions& options) {
  auto* command = app.add_subcommand(
      "scp",
      "Copy files to or from a remote host (OpenSSH's scp, in process): over SFTP by default, "
      "with the legacy scp protocol under -O");
  command->add_option("-P", options.port, "Port to connect to on the remote host");
  command
      ->add_option("-i", options.identity_files,
                   "Identity (private key) file; an encrypted one's passphrase is asked on the "
                   "terminal or taken from $LIMACTL_SSH_PASSPHRASE")
      ->allow_extra_args(false);
  command->add_option("-F", options.config_file,
                      "ssh configuration file (default ~/.ssh/config; 'none' for none)");
  command->add_option("-o", options.options, "Option in ssh_config format (Key=Value)")
      ->allow_extra_args(false);
  command->add_flag("-r", options.recursive, "Copy directories and everything in them");
  command->add_flag("-p", options.preserve, "Keep modification times, access times and modes");
  command->add_flag("-C", options.compression,
                    "Compress the data (Compression yes: zlib@openssh.com, for slow links)");
  command->add_flag("-q", options.quiet,
                    "Quiet mode: no progress meter, no warnings or diagnostics from ssh");
  command->add_flag("-v", options.verbosity, "Verbose mode (repeat for more)");
  command->add_flag(
      "-O", options.legacy_protocol,
      "Use the legacy scp protocol (the remote runs scp -t / scp -f) instead of SFTP");
  command->add_flag("--resume", options.resume,
                    "SFTP mode: continue from the partial file an interrupted copy left (like "
                    "sftp's reget/reput -a; its first and last 64 KiB are checked against the "
                    "source)");
  command
      ->add_option("operands", options.operands,
                   "SRC... DST: local paths, or [user@]host:path ([user@][ipv6]:path); a path "
                   "with a '/' before its first ':' is local")
      ->required()
      ->expected(2, -1);
  command->footer(
      "Each downloaded file, and each uploaded file in SFTP mode, is written under a temporary "
      "name next to its destination and renamed into place once complete, so an interrupted "
      "copy leaves no truncated file under the final name. With -O, uploads are written in "
      "place by the remote scp, as with OpenSSH's scp -O. Remote-to-remote copies are not "
      "supported. The progress meter is shown when stderr is a terminal (not with -q).");
}

int run_scp_command(const ScpCommandOptions& cli) {
  CopyPlan plan;
  try {
    plan = plan_copy(cli.operands);
    if (cli.resume && cli.legacy_protocol) {
      throw std::invalid_argument("--resume needs SFTP mode (not -O)");
    }
    if (plan.direction == Direction::Download && plan.sources.size() > 1 &&
        !fs::is_directory(plan.target)) {
      throw std::invalid_argument(plan.target + ": Not a directory");
    }
  } catch (const std::exception& error) {
    std::cerr << "limactl scp: " << error.what() << "\n";
    return kExitFailure;
  }

  ConnectionRequest request;
  request.destination = plan.user.empty() ? plan.host : plan.user + "@" + plan.host;
  request.port = cli.port;
  request.identity_files = cli.identity_files;
  request.options = cli.options;
  if (cli.compression) request.options.push_back("Compression=yes");
  request.config_file = cli.config_file;
  request.verbosity = cli.verbosity;
  request.quiet = cli.quiet;
  // As OpenSSH's scp: a copy never forwards the agent.
  request.no_forward_agent = true;

  asio::io_context io;
  PreparedConnection prepared;
  try {
    prepared = prepare_connection(io, request);
  } catch (const std::exception& error) {
    std::cerr << "limactl scp: " << error.what() << "\n";
    return kExitFailure;
  }

  const bool show_progress = !cli.quiet && platform::stderr_is_terminal();
  auto run = std::make_shared<ScpRun>(prepared.options, std::move(prepared.host_key_policy), cli,
                                      std::move(plan), show_progress);
  Botan::AutoSeeded_RNG rng;
  ssh::ClientSession session(std::move(prepared.session_config), *run, rng);
  ssh::net::ClientDriver driver(io, session);
  run->attach(session, driver);

  std::optional<ssh::Error> failure;
  driver.set_closed_handler([&](const std::optional<ssh::Error>& error) {
    failure = error;
    io.stop();
  });
  // A signal ends the copy like a lost connection: with -O, the download's
  // temporary file goes away with the scp protocol object (run, below);
  // SFTP mode keeps its partial file for --resume. The final name is never
  // written before a file is complete.
  asio::signal_set signals(io, SIGINT, SIGTERM);
#ifdef SIGHUP
  signals.add(SIGHUP);
#endif
  std::optional<int> killed_by;
  signals.async_wait([&](std::error_code error, int signal) {
    if (error) return;
    killed_by = signal;
    io.stop();
  });
  driver.connect(connect_options(prepared.options));
  io.run();

  if (killed_by) {
    ssh::log::get("scp")->info("Killed by signal {}.", *killed_by);
    return kExitFailure;
  }
  if (!run->done()) {
    std::cerr << connection_failure_message(failure) << "\n";
    return kExitFailure;
  }
  return run->exit_code();
}

}  // namespace cli
