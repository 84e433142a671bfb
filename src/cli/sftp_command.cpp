#include "cli/sftp_command.hpp"

#include <botan/auto_rng.h>

#include <asio.hpp>
#include <csignal>
#include <deque>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "cli/client_connection.hpp"
#include "cli/sftp_shell.hpp"
#include "cli/stdin_reader.hpp"
#include "platform/console.hpp"
#include "sftp/client.hpp"
#include "sftp/local_file_system.hpp"
#include "ssh/asio/channel_protocol_runner.hpp"
#include "ssh/asio/client_driver.hpp"
#include "ssh/client_session.hpp"
#include "ssh/log.hpp"

namespace cli {
namespace {

constexpr int kExitFailure = 1;

std::deque<std::string> read_lines(std::istream& in) {
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::string host_of(const std::string& destination) {
  const auto at = destination.rfind('@');
  return at == std::string::npos ? destination : destination.substr(at + 1);
}

// One sftp session: the shell fed line by line from the batch file or stdin.
class SftpRun : public ClientConnectionCallbacks {
 public:
  SftpRun(asio::io_context& io, const ssh::config::ClientOptions& options,
          ssh::config::HostKeyPolicy host_key_policy, const SftpCommandOptions& cli,
          std::optional<std::deque<std::string>> batch)
      : ClientConnectionCallbacks(options, std::move(host_key_policy)),
        io_(io),
        cli_(cli),
        batch_mode_(batch.has_value()),
        interactive_(!batch && platform::stdin_is_terminal()) {
    if (batch) {
      lines_ = std::move(*batch);
      input_ended_ = true;
    }
  }

  void attach(ssh::ClientSession& session, ssh::net::ClientDriver& driver) {
    session_ = &session;
    driver_ = &driver;
  }

  bool done() const { return done_; }
  int exit_code() const { return exit_code_; }

  void on_authenticated() override {
    client_ = std::make_unique<sftp::Client>();
    ssh::net::ChannelProtocolRunner::Callbacks callbacks;
    callbacks.kick = [this] { driver_->kick(); };
    callbacks.remote_stderr = [](ssh::ByteView data) {
      std::cerr << ssh::as_text(data) << std::flush;
    };
    callbacks.finished = [this](const ssh::net::ChannelProtocolResult& result) {
      on_runner_finished(result);
    };
    runner_ = std::make_shared<ssh::net::ChannelProtocolRunner>(
        *session_, *client_, ssh::net::RemoteCommand::subsystem("sftp"), callbacks);
    SftpShellOptions shell_options;
    shell_options.quiet = batch_mode_ || cli_.quiet;
    if (platform::stdin_is_terminal()) {
      if (auto size = platform::terminal_size()) shell_options.columns = size->columns;
    }
    shell_ =
        std::make_unique<SftpShell>(*client_, local_files_, std::cout, std::cerr, shell_options);
    shell_->start([this](SftpShell::Outcome outcome) {
      if (outcome != SftpShell::Outcome::Ok) {
        finish(kExitFailure);
        return;
      }
      if (!batch_mode_ && !cli_.quiet) {
        std::cerr << "Connected to " << host_of(cli_.destination) << ".\n" << std::flush;
      }
      ready_ = true;
      if (!input_ended_) start_reading_stdin();
      next_line();
    });
    (void)runner_->start();
  }

 private:
  void start_reading_stdin() {
    stdin_reader_ = std::make_unique<StdinReader>(io_, [this](ssh::Bytes& chunk) {
      if (chunk.empty()) {
        input_ended_ = true;
      } else {
        partial_line_.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
        std::size_t newline;
        while ((newline = partial_line_.find('\n')) != std::string::npos) {
          lines_.push_back(partial_line_.substr(0, newline));
          partial_line_.erase(0, newline + 1);
        }
      }
      stdin_reader_->release(std::move(chunk));
      if (input_ended_ && !partial_line_.empty()) {
        lines_.push_back(std::move(partial_line_));
        partial_line_.clear();
      }
      next_line();
    });
    stdin_reader_->start();
  }

  // Runs the next command when the shell is idle and a line is there.
  void next_line() {
    if (!ready_ || busy_ || finishing_) return;
    if (lines_.empty()) {
      if (input_ended_) {
        if (interactive_) std::cout << "\n" << std::flush;
        finish(0);
      } else if (interactive_ && !prompted_) {
        std::cout << "sftp> " << std::flush;
        prompted_ = true;
      }
      return;
    }
    std::string line = std::move(lines_.front());
    lines_.pop_front();
    prompted_ = false;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::size_t start = line.find_first_not_of(" \t");
    std::string command = start == std::string::npos ? "" : line.substr(start);
    bool ignore_error = false;
    bool echo = !interactive_;
    // As OpenSSH's sftp: '-' lets the batch go on when the command fails,
    // '@' keeps it from being echoed.
    while (!command.empty() && (command.front() == '-' || command.front() == '@')) {
      if (command.front() == '-') {
        ignore_error = true;
      } else {
        echo = false;
      }
      command.erase(0, 1);
    }
    if (echo) std::cout << "sftp> " << line << "\n" << std::flush;
    busy_ = true;
    shell_->execute(command, [this, ignore_error](SftpShell::Outcome outcome) {
      busy_ = false;
      if (outcome == SftpShell::Outcome::Quit) {
        finish(0);
      } else if (outcome == SftpShell::Outcome::Failed && batch_mode_ && !ignore_error) {
        finish(kExitFailure);
      } else {
        // Not from inside the reply that ended this command.
        asio::post(io_, [this] { next_line(); });
      }
    });
    if (runner_) runner_->pump();
  }

  void finish(int exit_code) {
    if (finishing_) return;
    finishing_ = true;
    exit_code_ = exit_code;
    client_->finish();
    if (runner_) runner_->pump();
  }

  void on_runner_finished(const ssh::net::ChannelProtocolResult& result) {
    if (!finishing_) {
      std::cerr << "Connection closed"
                << (result.status.ok() ? "" : ": " + result.status.error().message) << "\n";
      exit_code_ = kExitFailure;
    }
    done_ = true;
    session_->disconnect("disconnected by user");
    driver_->kick();
  }

  asio::io_context& io_;
  const SftpCommandOptions& cli_;
  const bool batch_mode_;
  const bool interactive_;
  std::deque<std::string> lines_;
  std::string partial_line_;
  bool input_ended_ = false;
  bool ready_ = false;
  bool busy_ = false;
  bool prompted_ = false;
  bool finishing_ = false;
  bool done_ = false;
  int exit_code_ = kExitFailure;
  ssh::ClientSession* session_ = nullptr;
  ssh::net::ClientDriver* driver_ = nullptr;
  sftp::LocalFileSystem local_files_;
  std::unique_ptr<sftp::Client> client_;
  std::unique_ptr<SftpShell> shell_;
  std::shared_ptr<ssh::net::ChannelProtocolRunner> runner_;
  std::unique_ptr<StdinReader> stdin_reader_;
};

}  // namespace

void setup_sftp_command(CLI::App& app, SftpCommandOptions& options) {
  auto* command = app.add_subcommand(
      "sftp",
      "Interactive or batch file transfer over SFTP (OpenSSH's sftp, in process): get, put, ls, "
      "cd, lcd, pwd, lpwd, mkdir, rm, rmdir, rename, ln -s, chmod, df");
  command->add_option("-b", options.batch_file,
                      "Batch file of commands ('-' for stdin); the first failing command ends "
                      "the run with exit status 1 unless it starts with '-'");
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
  command->add_flag("-C", options.compression,
                    "Compress the data (Compression yes: zlib@openssh.com, for slow links)");
  command->add_flag("-q", options.quiet, "Quiet mode: no progress or informational messages");
  command->add_flag("-v", options.verbosity, "Verbose mode (repeat for more)");
  command->add_option("destination", options.destination, "[user@]host")->required();
  command->footer("Type 'help' at the prompt for the commands.");
}

int run_sftp_command(const SftpCommandOptions& cli) {
  std::optional<std::deque<std::string>> batch;
  if (!cli.batch_file.empty()) {
    if (cli.batch_file == "-") {
      batch = read_lines(std::cin);
    } else {
      std::ifstream file(cli.batch_file);
      if (!file) {
        std::cerr << "limactl sftp: cannot read batch file " << cli.batch_file << "\n";
        return kExitFailure;
      }
      batch = read_lines(file);
    }
  }

  ConnectionRequest request;
  request.destination = cli.destination;
  request.port = cli.port;
  request.identity_files = cli.identity_files;
  request.options = cli.options;
  if (cli.compression) request.options.push_back("Compression=yes");
  if (batch) request.options.push_back("BatchMode=yes");
  request.config_file = cli.config_file;
  request.verbosity = cli.verbosity;
  request.quiet = cli.quiet;
  request.no_forward_agent = true;

  asio::io_context io;
  PreparedConnection prepared;
  try {
    prepared = prepare_connection(io, request);
  } catch (const std::exception& error) {
    std::cerr << "limactl sftp: " << error.what() << "\n";
    return kExitFailure;
  }

  auto run = std::make_shared<SftpRun>(io, prepared.options, std::move(prepared.host_key_policy),
                                       cli, std::move(batch));
  Botan::AutoSeeded_RNG rng;
  ssh::ClientSession session(std::move(prepared.session_config), *run, rng);
  ssh::net::ClientDriver driver(io, session);
  run->attach(session, driver);

  std::optional<ssh::Error> failure;
  driver.set_closed_handler([&](const std::optional<ssh::Error>& error) {
    failure = error;
    io.stop();
  });
  asio::signal_set signals(io, SIGINT, SIGTERM);
  std::optional<int> killed_by;
  signals.async_wait([&](std::error_code error, int signal) {
    if (error) return;
    killed_by = signal;
    io.stop();
  });
  driver.connect(connect_options(prepared.options));
  io.run();

  if (killed_by) return kExitFailure;
  if (!run->done()) {
    std::cerr << connection_failure_message(failure) << "\n";
    return kExitFailure;
  }
  return run->exit_code();
}

}  // namespace cli
