// Pipelined copy jobs between an SFTP server (through a Client) and a local
// sftp::FileSystem (LocalFileSystem in the product, an in-memory tree in
// tests): get and put of files and, recursively, of directories.
//
// Sans I/O like the client: the job makes requests and reacts to their
// replies; whoever runs the client's byte stream drives it. Within a file,
// up to max_requests_in_flight READs or WRITEs are outstanding at once, and
// local reads and writes happen while the network has requests in flight.
// Several files are copied at the same time (small files are latency-bound).
//
// Each file is written under a temporary name in its destination directory
// (".NAME.limactl-partial") and renamed over NAME only once every byte
// arrived (and, with preserve, its mode and times are set), so an
// interrupted copy never leaves a truncated file under the final name.
//
// Resume: when a temporary file from an earlier run exists, its contents are
// taken as done if they are a prefix of the source: its size is at most the
// source's, and its first and last kResumeCheckBytes (64 KiB; all of it when
// smaller) are equal to the source's bytes at the same offsets. Otherwise it
// is copied again from the start. The bytes in between are trusted, as
// OpenSSH's `sftp -a` trusts the whole prefix by its size alone.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sftp/client.hpp"
#include "sftp/file_system.hpp"

namespace sftp {

inline constexpr std::size_t kResumeCheckBytes = 64 * 1024;
inline constexpr const char* kPartialSuffix = ".limactl-partial";

// ".NAME.limactl-partial" next to path (the name used while copying).
std::string partial_path(const std::string& path);

// Bytes count as done once the destination has them: for a put, when the
// server acknowledged the WRITE (it wrote them); for a get, when they were
// written to the local partial file. Not when read from the source: those
// run ahead by up to max_requests_in_flight chunks (16 MiB with OpenSSH's
// limits), so a meter would sit at 100% while they are still on the way.
struct TransferProgress {
  // The file whose bytes just moved (its source path).
  std::string current_file;
  std::uint64_t file_bytes_done = 0;
  std::uint64_t file_bytes_total = 0;
  // Set in the one report made when current_file is complete (renamed into
  // place); the chunk reports before it may already show every byte.
  bool file_finished = false;
  // Over the whole job; the total grows as directories are listed.
  std::uint64_t bytes_done = 0;
  std::uint64_t bytes_total = 0;
  std::uint64_t files_done = 0;
};

struct TransferOptions {
  // Copy directories and everything in them (otherwise a directory source
  // is an error for that path).
  bool recursive = false;
  // Give the copies the sources' permission bits and access/modification
  // times (scp -p).
  bool preserve = false;
  // Continue from a partial temporary file left by an interrupted run.
  bool resume = false;
  // READs or WRITEs outstanding at once over the whole job.
  std::size_t max_requests_in_flight = 64;
  // Files copied at the same time.
  std::size_t max_parallel_files = 4;
  // With a clock, a put keeps only about the path's bandwidth-delay product
  // of WRITE bytes outstanding, never less than write_budget_floor (see
  // sftp/write_budget.hpp); without one, max_requests_in_flight alone
  // bounds it.
  std::function<std::chrono::steady_clock::time_point()> clock;
  std::uint64_t write_budget_floor = 1024 * 1024;
  // Called after every chunk that completes and after every file.
  std::function<void(const TransferProgress&)> on_progress;
};

// One path that failed: the source path and why (with the server's message
// when the server refused).
struct TransferError {
  std::string path;
  std::string message;
};

class TransferJob {
 public:
  TransferJob(Client& client, FileSystem& local, TransferOptions options = {});
  // Pending callbacks in the client only hold a weak reference: the job may
  // go away before the client (and the client before the job).
  ~TransferJob();
  TransferJob(const TransferJob&) = delete;
  TransferJob& operator=(const TransferJob&) = delete;

  // Adds a copy. Destinations are exact: the copy of remote_path is named
  // local_path (and a directory's entries go inside it); the caller decides
  // scp's "into an existing directory" meaning. Paths are absolute (local
  // ones as FileSystem paths; remote ones as the server sees them, which
  // may be relative to its start directory).
  void add_get(const std::string& remote_path, const std::string& local_path);
  void add_put(const std::string& local_path, const std::string& remote_path);

  // Starts (once the client is ready). More copies may be added later.
  void start();
  // Called once when the job is finished (every copy done or failed).
  void on_finished(std::function<void()> callback);

  bool finished() const;
  // True when finished and every copy succeeded.
  bool succeeded() const;
  const std::vector<TransferError>& errors() const;
  TransferProgress progress() const;

 private:
  struct State;
  void add_more();
  std::shared_ptr<State> state_;
};

}  // namespace sftp
