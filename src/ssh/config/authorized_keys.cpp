#include "ssh/config/authorized_keys.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

#include "ssh/config/pattern.hpp"
#include "ssh/limits.hpp"

namespace ssh::config {
namespace {

constexpr std::string_view kBlank = " \t";

// A bound on one line (sshd reads lines of up to 8 KiB plus RSA keys; a
// 16 KiB RSA key in base64 is ~3 KiB, so this is generous).
constexpr std::size_t kMaxLineLength = limits::kMaxAuthorizedKeysLineLength;

Error bad_options(std::string message) {
  return Error{DisconnectReason::ByApplication, "bad options: " + std::move(message)};
}

bool is_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

template <class T>
std::optional<T> parse_number(std::string_view text) {
  if (!is_digits(text)) return std::nullopt;
  T value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Reads a double-quoted value starting at text[pos] == '"'. Inside it, \"
// stands for a quote; any other backslash is kept as is (auth-options.c's
// opt_dequote). Advances pos past the closing quote.
std::optional<std::string> read_quoted(std::string_view text, std::size_t& pos) {
  if (pos >= text.size() || text[pos] != '"') return std::nullopt;
  std::string value;
  for (++pos; pos < text.size(); ++pos) {
    const char c = text[pos];
    if (c == '"') {
      ++pos;
      return value;
    }
    if (c == '\\' && pos + 1 < text.size() && text[pos + 1] == '"') {
      value += '"';
      ++pos;
      continue;
    }
    value += c;
  }
  return std::nullopt;  // no closing quote
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  auto port = parse_number<std::uint32_t>(text);
  if (!port || *port == 0 || *port > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(*port);
}

// "host:port", "[v6]:port", "*:*"; for listen, also a bare "port".
std::optional<ForwardPermission> parse_forward_permission(std::string_view value, bool listen) {
  ForwardPermission permission;
  std::string_view port_text;
  if (!value.empty() && value.front() == '[') {
    const auto close = value.find(']');
    if (close == std::string_view::npos || close + 1 >= value.size() || value[close + 1] != ':') {
      return std::nullopt;
    }
    permission.host = std::string(value.substr(1, close - 1));
    port_text = value.substr(close + 2);
  } else {
    const auto colon = value.rfind(':');
    if (colon == std::string_view::npos) {
      if (!listen) return std::nullopt;
      port_text = value;
    } else {
      permission.host = std::string(value.substr(0, colon));
      port_text = value.substr(colon + 1);
    }
    // An unbracketed IPv6 address has more colons; sshd wants brackets.
    if (permission.host.find(':') != std::string::npos) return std::nullopt;
  }
  if (!listen && permission.host.empty()) return std::nullopt;
  if (port_text == "*") return permission;
  permission.port = parse_port(port_text);
  if (!permission.port) return std::nullopt;
  return permission;
}

std::optional<ExpiryTime> parse_expiry_time(std::string_view value) {
  ExpiryTime expiry;
  if (!value.empty() && (value.back() == 'Z' || value.back() == 'z')) {
    expiry.utc = true;
    value.remove_suffix(1);
  }
  if (!is_digits(value) || (value.size() != 8 && value.size() != 12 && value.size() != 14)) {
    return std::nullopt;
  }
  auto field = [&](std::size_t at, std::size_t length) {
    return *parse_number<int>(value.substr(at, length));
  };
  expiry.year = field(0, 4);
  expiry.month = field(4, 2);
  expiry.day = field(6, 2);
  if (value.size() >= 12) {
    expiry.hour = field(8, 2);
    expiry.minute = field(10, 2);
  }
  if (value.size() == 14) expiry.second = field(12, 2);
  static constexpr std::array<int, 12> kDays = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (expiry.year < 1970 || expiry.month < 1 || expiry.month > 12 || expiry.day < 1 ||
      expiry.day > kDays[static_cast<std::size_t>(expiry.month - 1)] || expiry.hour > 23 ||
      expiry.minute > 59 || expiry.second > 60) {
    return std::nullopt;
  }
  return expiry;
}

// Days from 1970-01-01 to the civil date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(int year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * static_cast<unsigned>(month + (month > 2 ? -3 : 9)) + 2) / 5 +
                               static_cast<unsigned>(day) - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

bool valid_environment_name(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Parses a textual IPv4 or IPv6 address into 4 or 16 bytes.
std::optional<std::vector<std::uint8_t>> parse_ipv4(std::string_view text) {
  std::vector<std::uint8_t> bytes;
  std::size_t start = 0;
  for (int part = 0; part < 4; ++part) {
    const auto dot = text.find('.', start);
    const auto end = part == 3 ? text.size() : dot;
    if (end == std::string_view::npos || (part == 3 && dot != std::string_view::npos)) {
      return std::nullopt;
    }
    const auto number = parse_number<unsigned>(text.substr(start, end - start));
    if (!number || *number > 255 || end - start > 3) return std::nullopt;
    bytes.push_back(static_cast<std::uint8_t>(*number));
    start = end + 1;
  }
  return bytes;
}

std::optional<std::vector<std::uint8_t>> parse_ipv6(std::string_view text) {
  // Groups before and after "::".
  std::vector<std::uint16_t> head, tail;
  const auto gap = text.find("::");
  if (gap != std::string_view::npos && text.find("::", gap + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  std::vector<std::uint8_t> embedded_v4;
  auto parse_groups = [&](std::string_view part, std::vector<std::uint16_t>& groups,
                          bool may_end_in_v4) {
    if (part.empty()) return true;
    std::size_t start = 0;
    while (start <= part.size()) {
      auto colon = part.find(':', start);
      if (colon == std::string_view::npos) colon = part.size();
      const auto group = part.substr(start, colon - start);
      if (may_end_in_v4 && colon == part.size() && group.find('.') != std::string_view::npos) {
        auto v4 = parse_ipv4(group);
        if (!v4) return false;
        embedded_v4 = *v4;
        return true;
      }
      if (group.empty() || group.size() > 4) return false;
      unsigned value = 0;
      for (char c : group) {
        const int digit = (c >= '0' && c <= '9')   ? c - '0'
                          : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                          : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                                   : -1;
        if (digit < 0) return false;
        value = value * 16 + static_cast<unsigned>(digit);
      }
      groups.push_back(static_cast<std::uint16_t>(value));
      start = colon + 1;
    }
    return true;
  };
  if (gap == std::string_view::npos) {
    if (!parse_groups(text, head, true)) return std::nullopt;
  } else {
    if (!parse_groups(text.substr(0, gap), head, false) ||
        !parse_groups(text.substr(gap + 2), tail, true)) {
      return std::nullopt;
    }
  }
  const std::size_t groups = head.size() + tail.size() + (embedded_v4.empty() ? 0 : 2);
  if (groups > 8 || (gap == std::string_view::npos && groups != 8) ||
      (gap != std::string_view::npos && groups == 8)) {
    return std::nullopt;
  }
  std::vector<std::uint8_t> bytes;
  auto put = [&](std::uint16_t group) {
    bytes.push_back(static_cast<std::uint8_t>(group >> 8));
    bytes.push_back(static_cast<std::uint8_t>(group));
  };
  for (auto group : head) put(group);
  for (std::size_t i = groups; i < 8; ++i) put(0);
  for (auto group : tail) put(group);
  bytes.insert(bytes.end(), embedded_v4.begin(), embedded_v4.end());
  return bytes;
}

std::optional<std::vector<std::uint8_t>> parse_address(std::string_view text) {
  if (text.find(':') != std::string_view::npos) return parse_ipv6(text);
  return parse_ipv4(text);
}

// 1 match, 0 no match, -1 malformed CIDR pattern.
int cidr_match(std::string_view address, std::string_view pattern) {
  const auto slash = pattern.find('/');
  const auto network = parse_address(pattern.substr(0, slash));
  const auto bits = parse_number<unsigned>(pattern.substr(slash + 1));
  if (!network || !bits || *bits > network->size() * 8) return -1;
  const auto client = parse_address(address);
  if (!client || client->size() != network->size()) return 0;
  for (unsigned bit = 0; bit < *bits; ++bit) {
    const unsigned mask = 0x80u >> (bit % 8);
    if (((*client)[bit / 8] & mask) != ((*network)[bit / 8] & mask)) return 0;
  }
  return 1;
}

// sshd's addr_match_list(): CIDR patterns compare bits, others are
// wildcards over the address text.
PatternListMatch match_address_list(std::string_view address, std::string_view patterns) {
  PatternListMatch result = PatternListMatch::NoMatch;
  std::size_t start = 0;
  while (start <= patterns.size()) {
    auto end = patterns.find(',', start);
    if (end == std::string_view::npos) end = patterns.size();
    std::string_view pattern = patterns.substr(start, end - start);
    start = end + 1;
    const bool negated = !pattern.empty() && pattern.front() == '!';
    if (negated) pattern.remove_prefix(1);
    if (pattern.empty()) continue;
    bool matched = false;
    if (pattern.find('/') != std::string_view::npos) {
      matched = cidr_match(address, pattern) == 1;
    } else {
      matched = wildcard_match(pattern, address);
    }
    if (!matched) continue;
    if (negated) return PatternListMatch::NegatedMatch;
    result = PatternListMatch::Match;
  }
  return result;
}

Status check_from_patterns(std::string_view patterns) {
  std::size_t start = 0;
  while (start <= patterns.size()) {
    auto end = patterns.find(',', start);
    if (end == std::string_view::npos) end = patterns.size();
    std::string_view pattern = patterns.substr(start, end - start);
    start = end + 1;
    if (!pattern.empty() && pattern.front() == '!') pattern.remove_prefix(1);
    if (pattern.find('/') != std::string_view::npos && cidr_match("", pattern) < 0) {
      return bad_options("invalid address mask \"" + std::string(pattern) + "\" in from=");
    }
  }
  return {};
}

struct OptionsParser {
  std::string_view text;
  std::size_t pos = 0;
  AuthorizedKeyOptions options;

  // Option name up to '=', ',' or the end, lowercased (sshd compares names
  // case-insensitively).
  std::string read_name() {
    const auto start = pos;
    while (pos < text.size() && text[pos] != '=' && text[pos] != ',') ++pos;
    return to_lower_ascii(text.substr(start, pos - start));
  }

  Result<std::string> read_value(const std::string& name) {
    if (pos >= text.size() || text[pos] != '=') return bad_options(name + " needs a value");
    ++pos;
    auto value = read_quoted(text, pos);
    if (!value) return bad_options("missing or unterminated quotes in " + name + "=");
    return std::move(*value);
  }

  Status flag(const std::string& name) {
    if (name == "restrict") {
      options.restrict_given = true;
      options.pty = options.port_forwarding = options.agent_forwarding = options.x11_forwarding =
          options.user_rc = false;
      return {};
    }
    static constexpr std::array<std::pair<std::string_view, bool AuthorizedKeyOptions::*>, 5>
        kFlags = {{{"pty", &AuthorizedKeyOptions::pty},
                   {"port-forwarding", &AuthorizedKeyOptions::port_forwarding},
                   {"agent-forwarding", &AuthorizedKeyOptions::agent_forwarding},
                   {"x11-forwarding", &AuthorizedKeyOptions::x11_forwarding},
                   {"user-rc", &AuthorizedKeyOptions::user_rc}}};
    for (const auto& [flag_name, member] : kFlags) {
      if (name == flag_name) {
        options.*member = true;
        return {};
      }
      if (name.size() == flag_name.size() + 3 && name.starts_with("no-") &&
          name.substr(3) == flag_name) {
        options.*member = false;
        return {};
      }
    }
    if (name == "cert-authority") {
      options.cert_authority = true;
    } else if (name == "no-touch-required") {
      options.no_touch_required = true;
    } else if (name == "verify-required") {
      options.verify_required = true;
    } else {
      return bad_options("unknown option \"" + name + "\"");
    }
    return {};
  }

  Status valued(const std::string& name, std::string value) {
    auto once = [&](std::optional<std::string>& field) -> Status {
      if (field) return bad_options("multiple \"" + name + "\" clauses");
      field = std::move(value);
      return {};
    };
    if (name == "command") return once(options.command);
    if (name == "principals") return once(options.principals);
    if (name == "from") {
      if (auto status = check_from_patterns(value); !status) return status;
      return once(options.from);
    }
    if (name == "environment") {
      const auto equals = value.find('=');
      if (equals == std::string::npos || !valid_environment_name(value.substr(0, equals))) {
        return bad_options("invalid environment string \"" + value + "\"");
      }
      // The first value for a name wins, as in sshd.
      const std::string env_name = value.substr(0, equals);
      for (const auto& [existing, ignored] : options.environment) {
        if (existing == env_name) return {};
      }
      options.environment.emplace_back(env_name, value.substr(equals + 1));
      return {};
    }
    if (name == "permitopen" || name == "permitlisten") {
      const bool listen = name == "permitlisten";
      auto permission = parse_forward_permission(value, listen);
      if (!permission) return bad_options("invalid " + name + " \"" + value + "\"");
      (listen ? options.permit_listen : options.permit_open).push_back(std::move(*permission));
      return {};
    }
    if (name == "expiry-time") {
      auto expiry = parse_expiry_time(value);
      if (!expiry) return bad_options("invalid expiry-time \"" + value + "\"");
      // Several expiry times: the earliest applies (comparing as UTC is
      // exact when all are given the same way, which is what matters).
      if (!options.expiry_time ||
          expiry->to_unix_seconds({}) < options.expiry_time->to_unix_seconds({})) {
        options.expiry_time = *expiry;
      }
      return {};
    }
    if (name == "tunnel") {
      auto device = parse_number<std::uint32_t>(value);
      if (!device) return bad_options("invalid tunnel device \"" + value + "\"");
      options.tunnel = *device;
      return {};
    }
    return bad_options("unknown option \"" + name + "\"");
  }

  Status parse() {
    if (text.empty()) return bad_options("empty options");
    while (true) {
      const std::string name = read_name();
      if (name.empty()) return bad_options("empty option name");
      const bool has_value = pos < text.size() && text[pos] == '=';
      if (has_value) {
        auto value = read_value(name);
        if (!value) return value.take_error();
        if (auto status = valued(name, std::move(*value)); !status) return status;
      } else if (auto status = flag(name); !status) {
        return status;
      }
      if (pos == text.size()) return {};
      if (text[pos] != ',') return bad_options("junk after option " + name);
      ++pos;
    }
  }
};

// The options field runs to the first blank outside quotes.
std::size_t options_field_end(std::string_view line) {
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '\\' && quoted && i + 1 < line.size() && line[i + 1] == '"') {
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (!quoted && (c == ' ' || c == '\t')) {
      return i;
    }
  }
  return line.size();
}

std::string_view trim(std::string_view text) {
  const auto start = text.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return {};
  const auto end = text.find_last_not_of(" \t\r\n");
  return text.substr(start, end - start + 1);
}

// "type base64 comment" -> the comment (may be empty).
std::string comment_after_key(std::string_view key_text) {
  for (int field = 0; field < 2; ++field) {
    const auto start = key_text.find_first_not_of(kBlank);
    if (start == std::string_view::npos) return {};
    key_text.remove_prefix(start);
    const auto end = key_text.find_first_of(kBlank);
    if (end == std::string_view::npos) return {};
    key_text.remove_prefix(end);
  }
  return std::string(trim(key_text));
}

}  // namespace

std::int64_t ExpiryTime::to_unix_seconds(std::chrono::seconds local_offset) const {
  const std::int64_t seconds =
      days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  return utc ? seconds : seconds - local_offset.count();
}

std::string AuthorizedKeysError::to_string() const {
  return file + ":" + std::to_string(line) + ": " + message;
}

Result<AuthorizedKeyOptions> parse_authorized_key_options(std::string_view options) {
  OptionsParser parser{options};
  if (auto status = parser.parse(); !status) return status.take_error();
  return std::move(parser.options);
}

Result<AuthorizedKey> parse_authorized_key_line(std::string_view line) {
  line = trim(line);
  if (line.size() > kMaxLineLength) {
    return Error{DisconnectReason::ByApplication, "line too long"};
  }
  // Like sshd: first try the line as a bare key; failing that, the first
  // field is options and the key follows.
  if (auto key = keys::PublicKey::from_openssh_line(line)) {
    return AuthorizedKey{{}, std::move(*key), comment_after_key(line), 0};
  }
  const auto end = options_field_end(line);
  const std::string_view options_text = line.substr(0, end);
  const std::string_view key_text = trim(line.substr(end));
  auto options = parse_authorized_key_options(options_text);
  if (!options) {
    // "ssh-dss AAAA..." is an unsupported key rather than bad options: the
    // rest of such a line is no key of its own.
    if (options_text.find_first_of("=,\"") == std::string_view::npos && !key_text.empty() &&
        !keys::PublicKey::from_openssh_line(key_text)) {
      auto key_error = keys::PublicKey::from_openssh_line(line);
      return Error{DisconnectReason::ByApplication, "invalid key: " + key_error.error().message};
    }
    return options.take_error();
  }
  if (key_text.empty()) return Error{DisconnectReason::ByApplication, "missing key after options"};
  auto key = keys::PublicKey::from_openssh_line(key_text);
  if (!key) return Error{DisconnectReason::ByApplication, "invalid key: " + key.error().message};
  return AuthorizedKey{std::move(*options), std::move(*key), comment_after_key(key_text), 0};
}

AuthorizedKeysFile parse_authorized_keys(std::string_view text, std::string_view file_name) {
  AuthorizedKeysFile file;
  std::size_t line_number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = trim(text.substr(start, end - start));
    start = end + 1;
    ++line_number;
    if (line.empty() || line.front() == '#') continue;
    auto key = parse_authorized_key_line(line);
    if (!key) {
      file.errors.push_back({std::string(file_name), line_number, key.error().message});
      continue;
    }
    key->line = line_number;
    file.keys.push_back(std::move(*key));
  }
  return file;
}

bool allowed_from(const AuthorizedKeyOptions& options, const ClientOrigin& origin) {
  if (!options.from) return true;
  const auto by_address = match_address_list(origin.address, *options.from);
  const auto by_name = origin.hostname.empty()
                           ? PatternListMatch::NoMatch
                           : match_pattern_list(origin.hostname, *options.from, true);
  if (by_address == PatternListMatch::NegatedMatch || by_name == PatternListMatch::NegatedMatch) {
    return false;
  }
  return by_address == PatternListMatch::Match || by_name == PatternListMatch::Match;
}

bool valid_at(const AuthorizedKeyOptions& options, std::chrono::system_clock::time_point now,
              std::chrono::seconds local_offset) {
  if (!options.expiry_time) return true;
  const auto now_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  return now_seconds < options.expiry_time->to_unix_seconds(local_offset);
}

std::optional<std::string> refusal_reason(const AuthorizedKeyOptions& options,
                                          const ClientOrigin& origin,
                                          std::chrono::system_clock::time_point now,
                                          std::chrono::seconds local_offset) {
  if (!allowed_from(options, origin)) {
    return "key not allowed from " + origin.address +
           (origin.hostname.empty() ? "" : " (" + origin.hostname + ")");
  }
  if (!valid_at(options, now, local_offset)) return std::string("key has expired");
  return std::nullopt;
}

namespace {

bool permission_matches(const std::vector<ForwardPermission>& permissions, std::string_view host,
                        std::uint16_t port, bool listen) {
  if (permissions.empty()) return true;
  for (const auto& permission : permissions) {
    if (permission.port && *permission.port != port) continue;
    if (permission.host == "*") return true;
    if (listen && permission.host.empty()) {
      // "permitlisten=port": the default listen address only.
      if (host.empty() || host == "localhost") return true;
      continue;
    }
    if (equals_ignoring_case(permission.host, host)) return true;
  }
  return false;
}

}  // namespace

bool may_open_forward(const AuthorizedKeyOptions& options, std::string_view host,
                      std::uint16_t port) {
  return options.port_forwarding && permission_matches(options.permit_open, host, port, false);
}

bool may_listen(const AuthorizedKeyOptions& options, std::string_view host, std::uint16_t port) {
  return options.port_forwarding && permission_matches(options.permit_listen, host, port, true);
}

}  // namespace ssh::config
