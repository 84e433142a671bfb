// The command interpreter of `limactl sftp`: one line at a time, OpenSSH
// sftp's commands and output (get, put, ls [-l] [-a], cd, lcd, pwd, lpwd,
// mkdir, rm, rmdir, rename, ln [-s], chmod, df, help, exit/quit/bye),
// over an sftp::Client (remote) and an sftp::FileSystem (local).
//
// Like the client it is asynchronous: execute() issues requests and calls
// back once the command is over; whoever runs the client's byte stream
// drives it. Remote paths are relative to the remote working directory
// (the server's start directory, resolved with REALPATH); local ones to the
// process's current directory (lcd changes it). Remote wildcards are
// expanded through READDIR (sftp/remote_glob.hpp).
//
// Output is OpenSSH's where a batch compares it: ls's columns (80 wide
// unless stdin is a terminal) and "ls -l" with the server's long names,
// pwd, lpwd, df. Errors go to the error stream.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "sftp/client.hpp"
#include "sftp/file_system.hpp"
#include "sftp/transfer.hpp"

namespace cli {

struct SftpShellOptions {
  // Batch mode (-b): no "Fetching ..." / "Uploading ..." / "Removing ..."
  // lines, as OpenSSH's sftp is quiet under -b.
  bool quiet = false;
  // ls's line width.
  std::size_t columns = 80;
};

class SftpShell {
 public:
  enum class Outcome { Ok, Failed, Quit };
  using Done = std::function<void(Outcome)>;

  SftpShell(sftp::Client& client, sftp::FileSystem& local, std::ostream& out, std::ostream& err,
            SftpShellOptions options = {});
  ~SftpShell();
  SftpShell(const SftpShell&) = delete;
  SftpShell& operator=(const SftpShell&) = delete;

  // Resolves the remote working directory; Failed when the server cannot.
  void start(Done done);
  // Runs one command line (already without a leading '-' or '@').
  void execute(const std::string& line, Done done);

  const std::string& remote_directory() const { return remote_directory_; }

  // The words of a command line: blanks separate them, quotes (' and ")
  // group, a backslash takes the next character as it is.
  static std::vector<std::string> split_words(const std::string& line);
  // "/a/b" + "c" -> "/a/b/c"; an absolute path stays as it is.
  static std::string make_absolute(const std::string& path, const std::string& directory);
  static std::string help_text();

 private:
  struct Command;
  void fail(const std::string& message, const Done& done);
  void get(Command& command, Done done);
  void put(Command& command, Done done);
  void ls(Command& command, Done done);
  void cd(Command& command, Done done);
  void lcd(Command& command, Done done);
  void mkdir(Command& command, Done done);
  void rmdir(Command& command, Done done);
  void rm(Command& command, Done done);
  void rename(Command& command, Done done);
  void ln(Command& command, Done done);
  void chmod(Command& command, Done done);
  void df(Command& command, Done done);
  void announce_remote_directories(std::vector<std::string> paths, std::size_t index,
                                   std::function<void()> then);
  void run_transfer(std::unique_ptr<sftp::TransferJob> job, Done done);
  void print_columns(const std::vector<std::string>& names, std::size_t width_basis);
  // Expands a remote pattern (or takes a plain path as it is) to absolute
  // paths; no match is an error naming the pattern.
  void remote_paths(const std::string& pattern, bool must_exist,
                    std::function<void(std::vector<std::string>)> then, Done done);

  sftp::Client& client_;
  sftp::FileSystem& local_;
  std::ostream& out_;
  std::ostream& err_;
  SftpShellOptions options_;
  std::string remote_directory_;
  std::unique_ptr<sftp::TransferJob> job_;
  // Callbacks check it: the shell may go away before the client.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace cli
