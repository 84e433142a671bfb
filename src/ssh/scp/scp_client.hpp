// The legacy scp protocol (scp_protocol.hpp), client side: what OpenSSH's
// `scp -O` does locally while the remote runs `scp -t` (we upload: we are
// the source) or `scp -f` (we download: we are the sink).
//
// Both roles are ssh::ChannelProtocol objects: the carrier (an SSH session
// channel running the remote command, or a test loop) feeds the remote's
// output in and sends what produce() hands out. Local files go through a
// scp::FileSystem, so the roles do no I/O of their own.
//
// The remote is hostile: a received name must be one path component, at the
// top level it must be what was asked for (OpenSSH's "filename does not
// match request"), sizes fit int64, lines are bounded. A downloaded file is
// written under a temporary name next to its final one and renamed into
// place only once complete, so an interrupted copy never leaves a truncated
// file under the real name. An upload is written by the remote scp in place
// (as with OpenSSH's scp -O).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ssh/channel_protocol.hpp"
#include "ssh/common.hpp"
#include "ssh/scp/scp_filesystem.hpp"

namespace ssh::scp {

// What the user is shown while a copy runs. The defaults ignore everything.
class ClientObserver {
 public:
  virtual ~ClientObserver() = default;
  // A failure the user is told about: "scp: PATH: No such file or
  // directory" (from either side). The copy goes on with the next file
  // unless the outcome says otherwise.
  virtual void on_error(std::string_view /*message*/) {}
  // A file's data starts to flow: its name and size.
  virtual void on_file_started(std::string_view /*name*/, std::uint64_t /*size*/) {}
  // Bytes of the current file sent or received so far.
  virtual void on_file_progress(std::uint64_t /*bytes_done*/) {}
  // The current file is done (ok: complete, and acknowledged by the sink).
  virtual void on_file_finished(bool /*ok*/) {}
};

struct UploadRequest {
  // Local files (and, with recursive, directories) to send, as the user
  // gave them.
  std::vector<std::string> local_paths;
  bool recursive = false;  // -r
  bool preserve = false;   // -p: modes and times
};

struct DownloadRequest {
  // The remote paths as the user asked for them: what the remote scp -f is
  // given, and what top-level names it sends back must match.
  std::vector<std::string> remote_paths;
  // Local file or directory the files land in.
  std::string local_target;
  bool recursive = false;
  bool preserve = false;
  // More than one source: the target must be a directory.
  bool target_should_be_directory = false;
  // Makes the temporary names of this run unique ("." NAME "." SUFFIX
  // ".part" next to the final name); the caller supplies randomness.
  std::string temporary_suffix;
};

// The remote command for an upload: "scp -t [-r] [-p] [-d] -- 'TARGET'".
// An empty target means the remote's home directory (".").
std::string remote_sink_command(std::string_view remote_target, bool recursive, bool preserve,
                                bool target_should_be_directory);
// The remote command for a download: "scp -f [-r] [-p] -- PATH...", each
// path quoted for the remote shell except its wildcards (so the remote
// shell still expands them, as with OpenSSH's scp) and a leading "~".
std::string remote_source_command(const std::vector<std::string>& remote_paths, bool recursive,
                                  bool preserve);
// `path` as one word for a POSIX shell. A leading "~" or "~/" stays
// unquoted (the remote shell expands it to the home directory); so do
// '*', '?', '[' and ']' when keep_wildcards is set.
std::string quote_for_remote_shell(std::string_view path, bool keep_wildcards);

// fnmatch(3) without flags: '*', '?', bracket expressions ("[a-z]",
// "[!x]"), and '\\' quoting the next character.
bool filename_matches(std::string_view pattern, std::string_view name);

// The file system and the observer must outlive the returned protocol.
// Its outcome is success, or the first error once the run is over; the
// observer heard every error.
std::unique_ptr<ChannelProtocol> start_upload(UploadRequest request, FileSystem& local,
                                              ClientObserver& observer);
std::unique_ptr<ChannelProtocol> start_download(DownloadRequest request, FileSystem& local,
                                                ClientObserver& observer);

}  // namespace ssh::scp
