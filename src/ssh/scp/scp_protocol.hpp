// The legacy scp protocol (rcp's, which OpenSSH's `scp -O` speaks), remote
// side: what `scp -t PATH` (sink: the client uploads) and `scp -f PATH...`
// (source: the client downloads) do on the server, without a scp binary.
//
// Sans-I/O: the client's bytes come in through on_input(), the bytes for it
// go out through produce(), and every file operation goes through a
// FileSystem (scp_filesystem.hpp). Records on the wire:
//   C<mode> <size> <name>\n  a file follows (<size> bytes, then an ack)
//   D<mode> 0 <name>\n       enter a directory (with -r)
//   E\n                      leave it
//   T<mtime> 0 <atime> 0\n   times for the next C or D (with -p)
// each acknowledged by \0 (fine), \1 message\n (that one failed) or
// \2 message\n (fatal). The client is hostile: names are single path
// components, sizes fit int64, lines are bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ssh/common.hpp"
#include "ssh/limits.hpp"
#include "ssh/scp/scp_filesystem.hpp"

namespace ssh::scp {

// The longest record or message line accepted from the client, '\n' included.
inline constexpr std::size_t kMaxLineLength = limits::kMaxScpLineLength;

enum class Direction {
  Sink,    // -t: the client sends files to us
  Source,  // -f: we send files to the client
};

// One path argument as the shell would have handed it to scp.
struct PathArgument {
  std::string text;  // quotes removed, '~' expanded
  // Set when the word had unquoted '*', '?' or '[' (a shell would expand
  // it): the pattern, with the quoted parts' special characters escaped by
  // '\\'.
  std::optional<std::string> wildcard_pattern;
};

struct CommandLine {
  Direction direction = Direction::Sink;
  bool recursive = false;                   // -r
  bool preserve = false;                    // -p: modes and times
  bool target_should_be_directory = false;  // -d
  bool verbose = false;                     // -v: records echoed on stderr
  std::vector<PathArgument> paths;
};

// Parses a session's exec command the way a POSIX shell and scp would:
// "scp [-r] [-p] [-d] [-v] [-q] -t|-f [--] PATH...", words split on blanks,
// '...' and "..." quoting and backslashes honoured, an unquoted leading
// "~" or "~/" replaced by home_directory. Anything a shell would do more
// with (variables, command substitution, redirections, pipes, ~user,
// braces, comments) or any other option: nullopt, "not ours, run it".
std::optional<CommandLine> parse_command_line(std::string_view command_line,
                                              std::string_view home_directory);

// One scp run. Finished when exit_status() is set: 0, or 1 after any error.
class Session {
 public:
  virtual ~Session() = default;
  // The client's bytes.
  virtual void on_input(ByteView data) = 0;
  // The client will send nothing more.
  virtual void on_input_eof() = 0;
  // Appends at most `max` bytes for the client to `out` (file contents are
  // read from the FileSystem only as far as `max` allows) and any -v
  // diagnostics to `err`.
  virtual void produce(std::size_t max, Bytes& out, Bytes& err) = 0;
  virtual bool has_output() const = 0;
  // Set once the run is over and produce() has handed out everything.
  virtual std::optional<std::uint32_t> exit_status() const = 0;
};

// The file system must outlive the session.
std::unique_ptr<Session> start_session(const CommandLine& command, FileSystem& files);

}  // namespace ssh::scp
