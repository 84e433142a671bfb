// authorized_keys files as sshd reads them (sshd(8) "AUTHORIZED_KEYS FILE
// FORMAT", OpenSSH's auth-options.c): one key per line, optionally preceded
// by comma-separated options, some with double-quoted values.
//
// Parsing only; the server enforces the result. The queries below take the
// client's address and the current time as parameters (sans-I/O: no clock,
// no resolver here).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ssh/common.hpp"
#include "ssh/keys/keys.hpp"

namespace ssh::config {

// permitopen="host:port" / permitlisten="[host:]port". A port of nullopt is
// "*" (any port); permitlisten without a host has an empty host.
struct ForwardPermission {
  std::string host;
  std::optional<std::uint16_t> port;
};

// expiry-time="YYYYMMDD[HHMM[SS]]" as written. sshd reads it as local time
// unless it ends in 'Z' (UTC); the caller supplies the local offset.
struct ExpiryTime {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  bool utc = false;
  // Seconds since the Unix epoch; local_offset is local time minus UTC
  // (e.g. +3600 s for CET), ignored when the value was given in UTC.
  std::int64_t to_unix_seconds(std::chrono::seconds local_offset) const;
};

struct AuthorizedKeyOptions {
  // The no-* restrictions. `restrict` clears them all; a later `pty`,
  // `port-forwarding`, ... turns one back on.
  bool pty = true;
  bool port_forwarding = true;
  bool agent_forwarding = true;
  bool x11_forwarding = true;
  bool user_rc = true;
  bool restrict_given = false;
  std::optional<std::string> command;
  // from="pattern-list": host name / address patterns, '!' negates, CIDR
  // (a.b.c.d/n, v6/n) for addresses.
  std::optional<std::string> from;
  std::vector<ForwardPermission> permit_open;
  std::vector<ForwardPermission> permit_listen;
  // environment="NAME=value", in file order.
  std::vector<std::pair<std::string, std::string>> environment;
  // The earliest expiry-time given.
  std::optional<ExpiryTime> expiry_time;
  bool cert_authority = false;
  // principals="name,name" (for cert-authority lines).
  std::optional<std::string> principals;
  // tunnel="n": the tun device forced for this key.
  std::optional<std::uint32_t> tunnel;
  bool no_touch_required = false;
  bool verify_required = false;
};

struct AuthorizedKey {
  AuthorizedKeyOptions options;
  keys::PublicKey key;
  std::string comment;
  std::size_t line = 0;  // 1-based line number in the file
};

// A line that could not be used. sshd skips such lines (and logs them);
// to_string() gives "FILE:LINE: message".
struct AuthorizedKeysError {
  std::string file;
  std::size_t line = 0;
  std::string message;
  std::string to_string() const;
};

struct AuthorizedKeysFile {
  std::vector<AuthorizedKey> keys;
  std::vector<AuthorizedKeysError> errors;
};

// Parses the options field (without the key): "restrict,command=\"ls\"".
// Unknown options and malformed values are errors ("bad options: ...").
Result<AuthorizedKeyOptions> parse_authorized_key_options(std::string_view options);

// Parses one non-blank, non-comment line.
Result<AuthorizedKey> parse_authorized_key_line(std::string_view line);

// Parses a whole file's text; `file_name` is only used in error messages.
// Blank lines and '#' comments are skipped; bad lines become errors and the
// rest of the file is still read, as sshd does.
AuthorizedKeysFile parse_authorized_keys(std::string_view text, std::string_view file_name);

// --- Queries for the server ---

// The client as the server sees it. `hostname` may be empty when the
// server does not resolve names (UseDNS no, the default).
struct ClientOrigin {
  std::string address;  // "192.0.2.7", "2001:db8::1"
  std::string hostname;
};

// from= check as sshd's match_host_and_ip(): a negated match refuses, a
// positive one on the name or the address allows, and no from= allows all.
bool allowed_from(const AuthorizedKeyOptions& options, const ClientOrigin& origin);

// False once the expiry time has passed.
bool valid_at(const AuthorizedKeyOptions& options, std::chrono::system_clock::time_point now,
              std::chrono::seconds local_offset = std::chrono::seconds(0));

// Why the key must not be accepted for this client now, or nullopt if it
// may be (from= and expiry-time together). Does not look at cert-authority:
// such a line authorizes certificates, never the key itself, and the caller
// knows which it is checking.
std::optional<std::string> refusal_reason(
    const AuthorizedKeyOptions& options, const ClientOrigin& origin,
    std::chrono::system_clock::time_point now,
    std::chrono::seconds local_offset = std::chrono::seconds(0));

// May the client open a direct-tcpip channel to host:port? Needs
// port-forwarding, and a matching permitopen when any was given.
bool may_open_forward(const AuthorizedKeyOptions& options, std::string_view host,
                      std::uint16_t port);
// May the client ask for a remote listener (tcpip-forward) on host:port?
bool may_listen(const AuthorizedKeyOptions& options, std::string_view host, std::uint16_t port);

}  // namespace ssh::config
