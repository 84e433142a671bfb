// Reading ssh_config(5) files into ClientOptions.
//
// Supported: options before the first Host/Match apply to every host; `Host`
// pattern lists ('*', '?', negation with '!'); `Match` with the criteria
// all, host, originalhost, user and localuser (negatable with '!'); other
// Match criteria (exec, canonical, final, localnetwork, tagged...) produce a
// warning and the block is treated as not matching, so nothing from it is
// applied; `Include` with globs (relative paths are relative to ~/.ssh for
// user files, /etc/ssh for system files); comments, quoting and `Key=Value`.
//
// Unlike OpenSSH, unknown keywords do not fail the whole file: configs
// written for OpenSSH (Lima's among them) contain options this stack does
// not implement, so they are skipped with a warning. Lines inside blocks that
// do not apply to the host are not checked at all. Bad values and syntax
// errors in applicable lines are errors naming the file and line.
#pragma once

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ssh/config/client_options.hpp"

namespace ssh::config {

struct ConfigWarning {
  std::string file;
  std::size_t line = 0;
  std::string message;

  // "<file> line <n>: <message>"
  std::string to_string() const;
};

class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, std::size_t line, const std::string& message);
  const std::string& file() const { return file_; }
  std::size_t line() const { return line_; }

 private:
  std::string file_;
  std::size_t line_;
};

struct ConfigFileSettings {
  // Where relative Include paths point; empty means <home>/.ssh (right for
  // the user's file; pass "/etc/ssh" for the system file).
  std::filesystem::path include_directory;
  // For '~' in Include paths; empty means home_directory().
  std::string home;
  // For `Match localuser` (and `Match user` before User is set); empty means
  // current_user_name().
  std::string local_user;
  // ssh(1) silently skips a missing ~/.ssh/config but fails for a missing -F file.
  bool missing_file_is_error = true;
};

// Applies the lines of `path` that apply to `host` (the name given on the
// command line), in file order, to `options` with first-value-wins. Returns
// warnings for skipped options; throws ConfigError for unreadable files
// (unless missing_file_is_error is false and the file does not exist),
// syntax errors, bad values and Include nesting deeper than 16 levels.
std::vector<ConfigWarning> apply_config_file(ClientOptions& options,
                                             const std::filesystem::path& path,
                                             std::string_view host,
                                             const ConfigFileSettings& settings = {});

// The same for text already in memory; `file_name` is used in messages.
std::vector<ConfigWarning> apply_config_text(ClientOptions& options, std::string_view text,
                                             std::string_view file_name, std::string_view host,
                                             const ConfigFileSettings& settings = {});

// Whether a Host line's patterns select `host`: some pattern matches and no
// negated ('!') pattern does. Case-insensitive, like hostnames.
bool host_patterns_match(const std::vector<std::string>& patterns, std::string_view host);

}  // namespace ssh::config
