// Everything `limactl ssh` needs to know about a connection, filled the way
// OpenSSH's ssh(1) fills its options: command-line -o options first, then
// the user's ssh_config, then the system one, and for most keywords the
// FIRST value obtained wins (see ssh_config(5)). Fields start at OpenSSH's
// defaults; a few are only known once everything has been read (hostname,
// user, ~ and %-token expansion) and are filled by finalize_options().
//
// Option parsing reports bad input with exceptions (std::invalid_argument):
// it runs once at startup, never on the data path.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ssh/config/forward_spec.hpp"

namespace ssh::config {

enum class StrictHostKeyChecking {
  // OpenSSH's default: ask the user whether to trust an unknown host key. The
  // question needs a terminal; without one (and in BatchMode) Ask behaves
  // exactly like Yes. Changed keys are always refused.
  Ask,
  // Unknown and changed host keys are refused.
  Yes,
  // Unknown keys are added to the user's known_hosts; changed keys refused.
  AcceptNew,
  // Unknown keys are added, changed keys accepted with a warning.
  No,
};

enum class RequestTty { Auto, Yes, No, Force };

// ControlMaster: be a connection-sharing master (yes; ask too, without the
// question), use one if it answers else connect directly (no), or use one
// and become it when none answers (auto; autoask too).
enum class ControlMasterMode { No, Yes, Auto };

// ssh_config LogLevel values; DEBUG is DEBUG1.
enum class LogLevel { Quiet, Fatal, Error, Info, Verbose, Debug1, Debug2, Debug3 };

// ssh_known_hosts and ssh_known_hosts2 in platform::system_ssh_directory().
std::vector<std::string> default_global_known_hosts_files();

struct ClientOptions {
  // The name given on the command line; Host patterns match against it.
  std::string host;
  // HostName; empty until finalize_options() sets it to `host` (with %h
  // expanded to `host` when HostName contains it).
  std::string hostname;
  std::uint16_t port = 22;
  // Remote user; empty until finalize_options() sets it to current_user_name().
  std::string user;
  // IdentityFile lines, in the order given (they accumulate rather than
  // first-wins). Empty means default_identity_files(), each tried if present.
  std::vector<std::string> identity_files;
  bool identities_only = false;
  // IdentityAgent: nullopt means $SSH_AUTH_SOCK; "none" disables the agent;
  // otherwise a socket path or "$VARIABLE" / "SSH_AUTH_SOCK".
  std::optional<std::string> identity_agent;

  // Algorithm lists exactly as written ("aes128-gcm@openssh.com,...",
  // "+ssh-rsa", "-*-cbc", "^chacha20-poly1305@openssh.com"); empty means the
  // stack default. The modifiers need the stack's default list, so whoever
  // knows it calls resolve_algorithm_list(spec, defaults, supported).
  std::string ciphers;
  std::string kex_algorithms;
  std::string host_key_algorithms;
  // PubkeyAcceptedAlgorithms: signature algorithms publickey auth may use.
  std::string pubkey_accepted_algorithms;
  std::string macs;

  StrictHostKeyChecking strict_host_key_checking = StrictHostKeyChecking::Ask;
  // "none" as the value empties a list (OpenSSH 8.4+). ~ and %-tokens are
  // expanded by finalize_options().
  std::vector<std::string> user_known_hosts_files = {"~/.ssh/known_hosts", "~/.ssh/known_hosts2"};
  std::vector<std::string> global_known_hosts_files = default_global_known_hosts_files();
  // HashKnownHosts: write hashed names when adding to known_hosts.
  bool hash_known_hosts = false;
  // UpdateHostKeys: learn the host keys a server announces after
  // authentication (and forget those it stopped offering) in the first
  // UserKnownHostsFile, once the server proved it holds them. OpenSSH turns
  // this on by default in some cases; we only do when asked. "ask" counts
  // as no (there is no prompt for it).
  bool update_host_keys = false;
  // HostKeyAlias: the name looked up in / written to known_hosts instead of
  // "[hostname]:port".
  std::optional<std::string> host_key_alias;
  // PinnedHostKey (our extension, not OpenSSH): "SHA256:<base64>"
  // fingerprints. When any is given only a host key with one of these
  // fingerprints is accepted and known_hosts files are neither read nor
  // written. Accumulates like IdentityFile; one line may hold several,
  // separated by spaces or commas.
  std::vector<std::string> pinned_host_key_fingerprints;

  // RekeyLimit <size> [<time>]: nullopt bytes means the cipher's default
  // ("default" or 0), nullopt seconds means no time limit ("none").
  std::optional<std::uint64_t> rekey_limit_bytes;
  std::optional<std::chrono::seconds> rekey_limit_seconds;
  // ServerAliveInterval: 0 disables keepalives.
  std::chrono::seconds server_alive_interval{0};
  int server_alive_count_max = 3;
  // ConnectTimeout: nullopt means the system's TCP timeout.
  std::optional<std::chrono::seconds> connect_timeout;

  bool batch_mode = false;
  bool password_authentication = true;
  bool kbd_interactive_authentication = true;
  bool pubkey_authentication = true;
  // PreferredAuthentications; empty means OpenSSH's order
  // (publickey,keyboard-interactive,password for the methods we have).
  std::vector<std::string> preferred_authentications;

  LogLevel log_level = LogLevel::Info;
  RequestTty request_tty = RequestTty::Auto;
  // Parsed so that configs using it work; not acted upon by the stack.
  bool compression = false;
  // ForwardAgent / -A: relay auth-agent@openssh.com channels to the agent.
  bool forward_agent = false;
  // ForwardAgent given a socket path or $VARIABLE instead of yes/no.
  std::string forward_agent_socket;

  // LocalForward / RemoteForward / DynamicForward lines and -L / -R / -D,
  // in the order given (they accumulate rather than first-wins).
  std::vector<ForwardSpec> forwards;
  // ExitOnForwardFailure: a forward that cannot be set up ends ssh.
  bool exit_on_forward_failure = false;
  // ClearAllForwardings: no forwards at all, whatever else says.
  bool clear_all_forwardings = false;
  // SessionType none (-N): no command, no shell; only forwarding.
  bool no_session = false;
  // ForkAfterAuthentication (-f): go to the background once authenticated
  // (and, with ExitOnForwardFailure, once the forwards are set up).
  bool fork_after_authentication = false;

  // ControlMaster / -M and ControlPath / -S ("none" leaves it empty: no
  // sharing). ~ and %-tokens are expanded by finalize_options().
  ControlMasterMode control_master = ControlMasterMode::No;
  std::string control_path;

  // Canonical (lowercase) keywords that already received a value: later
  // values for them are ignored (first obtained value wins).
  std::set<std::string, std::less<>> assigned_keywords;
};

// Thrown by apply_option for a keyword that is not an ssh_config keyword at
// all; config files turn it into a warning, the command line into an error.
class UnknownOptionError : public std::invalid_argument {
 public:
  UnknownOptionError(std::string keyword, const std::string& message)
      : std::invalid_argument(message), keyword_(std::move(keyword)) {}
  const std::string& keyword() const { return keyword_; }

 private:
  std::string keyword_;
};

enum class ApplyResult {
  Applied,
  // The keyword already had a value from an earlier source; ignored.
  AlreadySet,
  // A real OpenSSH keyword (ControlMaster, ProxyJump, ...) this stack does not
  // implement: the value is ignored, the caller should warn.
  NotImplemented,
};

// Applies one option. The keyword is case-insensitive; the value is the rest
// of the line, split into arguments like ssh_config does (whitespace,
// "double" or 'single' quotes, backslash escapes, a '#' token ends it).
// Throws UnknownOptionError for unknown keywords and std::invalid_argument
// (message naming the keyword) for bad values and for Host / Match / Include,
// which only make sense in files.
ApplyResult apply_option(ClientOptions& options, std::string_view keyword, std::string_view value);

// Splits "Key=Value", "Key Value" or "Key = Value" (a -o argument or a config
// line) into keyword and the raw rest. Throws std::invalid_argument when there
// is no keyword.
std::pair<std::string, std::string> parse_option_argument(std::string_view argument);

// Splits a value into arguments as OpenSSH's argv_split() does. Throws
// std::invalid_argument on an unterminated quote.
std::vector<std::string> split_arguments(std::string_view text);

// Whether `keyword` is one apply_option understands or knowingly ignores.
bool is_known_keyword(std::string_view keyword);

// Resolves an algorithm list spec against the stack's defaults:
//   ""            -> defaults
//   "a,b"         -> exactly a, b
//   "+a,b"        -> defaults, then a and b (names already present keep their place)
//   "-pattern,.." -> defaults without the names matching any pattern
//   "^a,b"        -> a and b, then the rest of the defaults
// Names may use '*' and '?' wildcards, which expand to the matching supported
// names (in the order of `supported`). Throws std::invalid_argument naming a
// name or pattern that matches nothing in `supported`, and when the result is
// empty. '-' patterns that match nothing are fine: removing is always safe.
std::vector<std::string> resolve_algorithm_list(std::string_view spec,
                                                const std::vector<std::string>& defaults,
                                                const std::vector<std::string>& supported);

// The local account: user name from the password database (as OpenSSH does),
// falling back to $USER then $LOGNAME when the uid has no entry (containers).
std::string current_user_name();
// $HOME when set (as Lima and most tools use it, and so tests can redirect
// it), otherwise the password database's home directory.
std::string home_directory();

// ~/.ssh/id_ed25519, ~/.ssh/id_ecdsa, ~/.ssh/id_rsa, expanded, in the order
// tried. The caller skips files that do not exist, as OpenSSH does silently.
std::vector<std::string> default_identity_files(std::string_view home);

// Values for %-tokens in paths (IdentityFile, UserKnownHostsFile, ...).
struct TokenValues {
  std::string home_directory;  // %d
  std::string hostname;        // %h (after HostName)
  std::string original_host;   // %n
  std::uint16_t port = 22;     // %p
  std::string remote_user;     // %r
  std::string local_user;      // %u
  std::string local_hostname;  // %l (and %L, up to the first dot)
  std::string local_uid;       // %i
};

// Expands %C (SHA-1 of %l%h%p%r in hex, as OpenSSH's ControlPath uses it)
// %d %h %i %l %L %n %p %r %u and %%. Throws std::invalid_argument for
// another token or a lone trailing '%'.
std::string expand_tokens(std::string_view text, const TokenValues& values);
// "~" and "~/..." become the home directory, "~user/..." that user's.
// Throws std::invalid_argument for an unknown user.
std::string expand_tilde(std::string_view path, std::string_view home);

// Completes the options after all sources were applied, like ssh(1) does:
// hostname defaults to host (and %h in it expands to host), user to the
// local user; ~ and %-tokens are expanded in identity_files, both known
// hosts lists and control_path. `local_user`/`home` default to current_user_name() and
// home_directory().
void finalize_options(ClientOptions& options);
void finalize_options(ClientOptions& options, const std::string& local_user,
                      const std::string& home);

std::string_view to_string(StrictHostKeyChecking mode);

}  // namespace ssh::config
