#include "ssh/config/client_options.hpp"

#include <botan/hash.h>
#include <botan/hex.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>

#include "platform/user.hpp"
#include "ssh/config/pattern.hpp"
#include "ssh/limits.hpp"

namespace ssh::config {

std::vector<std::string> default_global_known_hosts_files() {
  const std::filesystem::path directory = platform::system_ssh_directory();
  return {(directory / "ssh_known_hosts").string(), (directory / "ssh_known_hosts2").string()};
}

namespace {

// OpenSSH refuses more than this many IdentityFile entries (SSH_MAX_IDENTITY_FILES).
constexpr std::size_t kMaxIdentityFiles = limits::kMaxIdentityFiles;

// Keywords of ssh_config(5) (OpenSSH 9.x plus Debian's GSSAPI patch and a
// few deprecated ones still found in the wild) that this stack does not
// implement. They are accepted and ignored so that existing configs, and the
// -o options Lima passes to ssh, keep working.
constexpr std::array kNotImplementedKeywords = {
    "addkeystoagent",
    "addressfamily",
    "bindaddress",
    "bindinterface",
    "canonicaldomains",
    "canonicalizefallbacklocal",
    "canonicalizehostname",
    "canonicalizemaxdots",
    "canonicalizepermittedcnames",
    "casignaturealgorithms",
    "certificatefile",
    "channeltimeout",
    "checkhostip",
    "cipher",
    "compressionlevel",
    "controlpersist",
    "enableescapecommandline",
    "enablesshkeysign",
    "escapechar",
    "fingerprinthash",
    "forwardx11",
    "forwardx11timeout",
    "forwardx11trusted",
    "gatewayports",
    "gssapiauthentication",
    "gssapiclientidentity",
    "gssapidelegatecredentials",
    "gssapikexalgorithms",
    "gssapikeyexchange",
    "gssapirenewalforcesrekey",
    "gssapiserveridentity",
    "gssapitrustdns",
    "hostbasedacceptedalgorithms",
    "hostbasedauthentication",
    "hostbasedkeytypes",
    "ignoreunknown",
    "ipqos",
    "knownhostscommand",
    "localcommand",
    "nohostauthenticationforlocalhost",
    "numberofpasswordprompts",
    "obscurekeystroketiming",
    "permitlocalcommand",
    "permitremoteopen",
    "pkcs11provider",
    "protocol",
    "proxycommand",
    "proxyjump",
    "proxyusefdpass",
    "remotecommand",
    "requiredrsasize",
    "revokedhostkeys",
    "rhostsrsaauthentication",
    "rsaauthentication",
    "securitykeyprovider",
    "sendenv",
    "setenv",
    "stdinnull",
    "streamlocalbindmask",
    "streamlocalbindunlink",
    "tag",
    "tcpkeepalive",
    "tunnel",
    "tunneldevice",
    "usekeychain",
    "useprivilegedport",
    "useroaming",
    "verifyhostkeydns",
    "visualhostkey",
    "xauthlocation",
};

bool is_not_implemented_keyword(std::string_view lowercase_keyword) {
  return std::find(kNotImplementedKeywords.begin(), kNotImplementedKeywords.end(),
                   lowercase_keyword) != kNotImplementedKeywords.end();
}

// What an option handler sees: the canonical keyword (for messages and
// first-wins tracking) and the split arguments (never empty).
struct OptionInput {
  ClientOptions& options;
  std::string_view name;
  const std::vector<std::string>& arguments;
};

[[noreturn]] void fail(const OptionInput& input, const std::string& problem) {
  throw std::invalid_argument(std::string(input.name) + ": " + problem);
}

const std::string& single_argument(const OptionInput& input) {
  if (input.arguments.size() > 1) {
    fail(input, "unexpected extra argument \"" + input.arguments[1] + "\"");
  }
  return input.arguments.front();
}

// Runs `assign` unless the keyword already has a value (first value wins).
template <class Assign>
ApplyResult assign_once(const OptionInput& input, Assign&& assign) {
  std::string key = to_lower_ascii(input.name);
  if (input.options.assigned_keywords.contains(key)) return ApplyResult::AlreadySet;
  assign();
  input.options.assigned_keywords.insert(std::move(key));
  return ApplyResult::Applied;
}

bool parse_flag(const OptionInput& input) {
  const std::string value = to_lower_ascii(single_argument(input));
  if (value == "yes" || value == "true") return true;
  if (value == "no" || value == "false") return false;
  fail(input, "bad value \"" + single_argument(input) + "\" (expected yes or no)");
}

template <class T>
std::optional<T> parse_decimal(std::string_view text) {
  T value{};
  const auto* end = text.data() + text.size();
  auto [next, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || next != end) return std::nullopt;
  return value;
}

// OpenSSH's convtime(): "90", "1h30m", "2d"; units s, m, h, d, w (any case).
std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t total = 0;
  std::size_t position = 0;
  while (position < text.size()) {
    std::size_t digits_end = position;
    while (digits_end < text.size() && text[digits_end] >= '0' && text[digits_end] <= '9') {
      ++digits_end;
    }
    auto number = parse_decimal<std::uint64_t>(text.substr(position, digits_end - position));
    if (!number) return std::nullopt;
    std::uint64_t multiplier = 1;
    if (digits_end < text.size()) {
      switch (text[digits_end]) {
        case 's':
        case 'S':
          multiplier = 1;
          break;
        case 'm':
        case 'M':
          multiplier = 60;
          break;
        case 'h':
        case 'H':
          multiplier = 60 * 60;
          break;
        case 'd':
        case 'D':
          multiplier = 24 * 60 * 60;
          break;
        case 'w':
        case 'W':
          multiplier = 7 * 24 * 60 * 60;
          break;
        default:
          return std::nullopt;
      }
      ++digits_end;
    }
    constexpr std::uint64_t kMax = std::numeric_limits<int>::max();
    if (*number > kMax / multiplier || total + *number * multiplier > kMax) return std::nullopt;
    total += *number * multiplier;
    position = digits_end;
  }
  return std::chrono::seconds(total);
}

std::chrono::seconds parse_duration_or_fail(const OptionInput& input, const std::string& text) {
  auto duration = parse_duration(text);
  if (!duration) {
    fail(input, "bad time value \"" + text + "\" (expected seconds, or a number with s/m/h/d/w)");
  }
  return *duration;
}

// "1G", "512M", "4096": a byte count with an optional K, M or G suffix.
std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t multiplier = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 'k':
      case 'K':
        multiplier = 1ULL << 10;
        break;
      case 'm':
      case 'M':
        multiplier = 1ULL << 20;
        break;
      case 'g':
      case 'G':
        multiplier = 1ULL << 30;
        break;
      default:
        break;
    }
    if (multiplier != 1) text.remove_suffix(1);
  }
  auto number = parse_decimal<std::uint64_t>(text);
  if (!number || *number > std::numeric_limits<std::uint64_t>::max() / multiplier) {
    return std::nullopt;
  }
  return *number * multiplier;
}

// Checks an algorithm spec's shape; the names are checked when resolved
// because only the transport knows which ones it supports.
void check_algorithm_spec(const OptionInput& input, std::string_view spec) {
  std::string_view names = spec;
  if (!names.empty() && (names.front() == '+' || names.front() == '-' || names.front() == '^')) {
    names.remove_prefix(1);
  }
  if (names.empty() || names.front() == ',' || names.back() == ',' ||
      names.find(",,") != std::string_view::npos) {
    fail(input, "bad algorithm list \"" + std::string(spec) + "\"");
  }
  if (names.find('!') != std::string_view::npos) {
    fail(input, "negated names are not allowed in \"" + std::string(spec) + "\"");
  }
}

ApplyResult set_algorithms(const OptionInput& input, std::string ClientOptions::*field) {
  const std::string& spec = single_argument(input);
  check_algorithm_spec(input, spec);
  return assign_once(input, [&] { input.options.*field = spec; });
}

ApplyResult set_file_list(const OptionInput& input,
                          std::vector<std::string> ClientOptions::*field) {
  std::vector<std::string> files = input.arguments;
  // "none" disables the files altogether (OpenSSH 8.4+).
  if (files.size() == 1 && files.front() == "none") files.clear();
  return assign_once(input, [&] { input.options.*field = std::move(files); });
}

ApplyResult set_flag(const OptionInput& input, bool ClientOptions::*field) {
  const bool value = parse_flag(input);
  return assign_once(input, [&] { input.options.*field = value; });
}

ApplyResult set_string(const OptionInput& input, std::string ClientOptions::*field) {
  const std::string& value = single_argument(input);
  return assign_once(input, [&] { input.options.*field = value; });
}

ApplyResult set_optional_string(const OptionInput& input,
                                std::optional<std::string> ClientOptions::*field) {
  const std::string& value = single_argument(input);
  return assign_once(input, [&] { input.options.*field = value; });
}

std::vector<std::string> split_commas(std::string_view text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    parts.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

ApplyResult apply_port(const OptionInput& input) {
  const std::string& text = single_argument(input);
  auto port = parse_decimal<unsigned>(text);
  if (!port || *port == 0 || *port > 65535) fail(input, "bad port number \"" + text + "\"");
  return assign_once(input, [&] { input.options.port = static_cast<std::uint16_t>(*port); });
}

ApplyResult apply_identity_file(const OptionInput& input) {
  const std::string& file = single_argument(input);
  auto& files = input.options.identity_files;
  // Every source adds its identities; duplicates are dropped as OpenSSH does.
  if (std::find(files.begin(), files.end(), file) != files.end()) return ApplyResult::Applied;
  if (files.size() >= kMaxIdentityFiles) fail(input, "too many identity files specified");
  files.push_back(file);
  input.options.assigned_keywords.insert("identityfile");
  return ApplyResult::Applied;
}

// LocalForward and RemoteForward take the listening side and the target
// as two words; DynamicForward one.
ApplyResult add_forward(const OptionInput& input, ForwardKind kind) {
  const auto& arguments = input.arguments;
  const std::size_t wanted = kind == ForwardKind::Dynamic ? 1 : 2;
  if (arguments.size() != wanted) {
    fail(input, wanted == 1 ? "expected [bind_address:]port"
                            : "expected the listening side and the target, two words");
  }
  auto spec = parse_forward_config(kind, arguments[0], wanted == 2 ? arguments[1] : "");
  if (!spec) fail(input, spec.error().message);
  input.options.forwards.push_back(std::move(*spec));
  return ApplyResult::Applied;
}

ApplyResult apply_session_type(const OptionInput& input) {
  const std::string value = to_lower_ascii(single_argument(input));
  if (value != "none" && value != "default" && value != "subsystem") {
    fail(input,
         "bad value \"" + single_argument(input) + "\" (expected none, subsystem or default)");
  }
  if (value == "subsystem") fail(input, "SessionType subsystem is not supported");
  return assign_once(input, [&] { input.options.no_session = value == "none"; });
}

ApplyResult apply_control_master(const OptionInput& input) {
  const std::string value = to_lower_ascii(single_argument(input));
  ControlMasterMode mode;
  if (value == "yes" || value == "true" || value == "ask") {
    mode = ControlMasterMode::Yes;
  } else if (value == "no" || value == "false") {
    mode = ControlMasterMode::No;
  } else if (value == "auto" || value == "autoask") {
    mode = ControlMasterMode::Auto;
  } else {
    fail(input,
         "bad value \"" + single_argument(input) + "\" (expected yes, no, ask, auto or autoask)");
  }
  return assign_once(input, [&] { input.options.control_master = mode; });
}

ApplyResult apply_control_path(const OptionInput& input) {
  const std::string& value = single_argument(input);
  return assign_once(input, [&] {
    input.options.control_path = equals_ignoring_case(value, "none") ? std::string() : value;
  });
}

ApplyResult apply_pinned_host_key(const OptionInput& input) {
  auto& pins = input.options.pinned_host_key_fingerprints;
  for (const std::string& argument : input.arguments) {
    for (std::string fingerprint : split_commas(argument)) {
      if (fingerprint.empty()) continue;
      if (fingerprint.size() < 7 || !equals_ignoring_case(fingerprint.substr(0, 7), "SHA256:")) {
        fail(input, "bad fingerprint \"" + fingerprint + "\" (expected SHA256:<base64>)");
      }
      // ssh-keygen prints the hash unpadded; accept a padded copy too.
      fingerprint = "SHA256:" + fingerprint.substr(7);
      while (fingerprint.back() == '=') fingerprint.pop_back();
      const std::string_view hash = std::string_view(fingerprint).substr(7);
      const bool base64 =
          hash.size() == 43 && std::all_of(hash.begin(), hash.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
          });
      if (!base64) {
        fail(input,
             "bad fingerprint \"" + argument + "\" (expected SHA256:<43 base64 characters>)");
      }
      if (std::find(pins.begin(), pins.end(), fingerprint) == pins.end()) {
        pins.push_back(fingerprint);
      }
    }
  }
  input.options.assigned_keywords.insert("pinnedhostkey");
  return ApplyResult::Applied;
}

ApplyResult apply_strict_host_key_checking(const OptionInput& input) {
  const std::string value = to_lower_ascii(single_argument(input));
  StrictHostKeyChecking mode;
  if (value == "yes" || value == "true") {
    mode = StrictHostKeyChecking::Yes;
  } else if (value == "no" || value == "false" || value == "off") {
    mode = StrictHostKeyChecking::No;
  } else if (value == "accept-new") {
    mode = StrictHostKeyChecking::AcceptNew;
  } else if (value == "ask") {
    mode = StrictHostKeyChecking::Ask;
  } else {
    fail(input,
         "bad value \"" + single_argument(input) + "\" (expected yes, accept-new, no, off or ask)");
  }
  return assign_once(input, [&] { input.options.strict_host_key_checking = mode; });
}

ApplyResult apply_update_host_keys(const OptionInput& input) {
  const std::string value = to_lower_ascii(single_argument(input));
  bool update = false;
  if (value == "yes" || value == "true") {
    update = true;
  } else if (value != "no" && value != "false" && value != "ask") {
    fail(input, "bad value \"" + single_argument(input) + "\" (expected yes, no or ask)");
  }
  return assign_once(input, [&] { input.options.update_host_keys = update; });
}

ApplyResult apply_rekey_limit(const OptionInput& input) {
  if (input.arguments.size() > 2) {
    fail(input, "unexpected extra argument \"" + input.arguments[2] + "\"");
  }
  std::optional<std::uint64_t> bytes;
  const std::string& size_text = input.arguments[0];
  if (!equals_ignoring_case(size_text, "default")) {
    bytes = parse_size(size_text);
    if (!bytes) fail(input, "bad size \"" + size_text + "\" (expected a number with K, M or G)");
    // Tiny limits would rekey after every packet; OpenSSH refuses them too.
    if (*bytes != 0 && *bytes < 16) fail(input, "size \"" + size_text + "\" is too small");
    if (*bytes == 0) bytes.reset();
  }
  std::optional<std::chrono::seconds> seconds;
  if (input.arguments.size() == 2) {
    const std::string& time_text = input.arguments[1];
    if (!equals_ignoring_case(time_text, "none") && !equals_ignoring_case(time_text, "default")) {
      seconds = parse_duration_or_fail(input, time_text);
      if (seconds->count() == 0) seconds.reset();
    }
  }
  return assign_once(input, [&] {
    input.options.rekey_limit_bytes = bytes;
    input.options.rekey_limit_seconds = seconds;
  });
}

ApplyResult apply_server_alive_interval(const OptionInput& input) {
  const auto interval = parse_duration_or_fail(input, single_argument(input));
  return assign_once(input, [&] { input.options.server_alive_interval = interval; });
}

ApplyResult apply_server_alive_count_max(const OptionInput& input) {
  const std::string& text = single_argument(input);
  auto count = parse_decimal<int>(text);
  if (!count || *count < 0) fail(input, "bad number \"" + text + "\"");
  return assign_once(input, [&] { input.options.server_alive_count_max = *count; });
}

ApplyResult apply_connect_timeout(const OptionInput& input) {
  const std::string& text = single_argument(input);
  std::optional<std::chrono::seconds> timeout;
  if (!equals_ignoring_case(text, "none")) {
    timeout = parse_duration_or_fail(input, text);
    if (timeout->count() == 0) timeout.reset();
  }
  return assign_once(input, [&] { input.options.connect_timeout = timeout; });
}

ApplyResult apply_pubkey_authentication(const OptionInput& input) {
  const std::string value = to_lower_ascii(single_argument(input));
  // "unbound" and "host-bound" (OpenSSH 8.9+) enable it; the binding is an
  // OpenSSH agent extension we do not use.
  const bool enable = value == "unbound" || value == "host-bound" || parse_flag(input);
  return assign_once(input, [&] { input.options.pubkey_authentication = enable; });
}

ApplyResult apply_preferred_authentications(const OptionInput& input) {
  const std::string& text = single_argument(input);
  std::vector<std::string> methods = split_commas(text);
  if (std::any_of(methods.begin(), methods.end(), [](const auto& m) { return m.empty(); })) {
    fail(input, "bad method list \"" + text + "\"");
  }
  return assign_once(input, [&] { input.options.preferred_authentications = std::move(methods); });
}

ApplyResult apply_log_level(const OptionInput& input) {
  static constexpr std::pair<std::string_view, LogLevel> kLevels[] = {
      {"quiet", LogLevel::Quiet},   {"fatal", LogLevel::Fatal},     {"error", LogLevel::Error},
      {"info", LogLevel::Info},     {"verbose", LogLevel::Verbose}, {"debug", LogLevel::Debug1},
      {"debug1", LogLevel::Debug1}, {"debug2", LogLevel::Debug2},   {"debug3", LogLevel::Debug3},
  };
  const std::string value = to_lower_ascii(single_argument(input));
  // A named pair, not a structured binding: clang before 16 (the fuzz
  // build) cannot capture a binding in a lambda.
  for (const auto& entry : kLevels) {
    const LogLevel level = entry.second;
    if (value == entry.first) {
      return assign_once(input, [&] { input.options.log_level = level; });
    }
  }
  fail(input, "bad value \"" + single_argument(input) +
                  "\" (expected QUIET, FATAL, ERROR, INFO, VERBOSE, DEBUG, DEBUG1, DEBUG2 or "
                  "DEBUG3)");
}

ApplyResult apply_request_tty(const OptionInput& input) {
  const std::string value = to_lower_ascii(single_argument(input));
  RequestTty mode;
  if (value == "auto") {
    mode = RequestTty::Auto;
  } else if (value == "yes" || value == "true") {
    mode = RequestTty::Yes;
  } else if (value == "no" || value == "false") {
    mode = RequestTty::No;
  } else if (value == "force") {
    mode = RequestTty::Force;
  } else {
    fail(input, "bad value \"" + single_argument(input) + "\" (expected auto, yes, no or force)");
  }
  return assign_once(input, [&] { input.options.request_tty = mode; });
}

ApplyResult apply_forward_agent(const OptionInput& input) {
  const std::string& value = single_argument(input);
  const std::string lowered = to_lower_ascii(value);
  if (lowered == "yes" || lowered == "true" || lowered == "no" || lowered == "false") {
    return set_flag(input, &ClientOptions::forward_agent);
  }
  // Otherwise a socket path or an environment variable naming one.
  return assign_once(input, [&] {
    input.options.forward_agent = true;
    input.options.forward_agent_socket = value;
  });
}

struct OptionHandler {
  std::string_view name;  // as ssh_config(5) spells it
  std::function<ApplyResult(const OptionInput&)> apply;
};

const std::vector<OptionHandler>& option_handlers() {
  using O = ClientOptions;
  static const std::vector<OptionHandler> handlers = {
      {"HostName", [](const auto& in) { return set_string(in, &O::hostname); }},
      {"Port", apply_port},
      {"User", [](const auto& in) { return set_string(in, &O::user); }},
      {"IdentityFile", apply_identity_file},
      {"IdentitiesOnly", [](const auto& in) { return set_flag(in, &O::identities_only); }},
      {"IdentityAgent", [](const auto& in) { return set_optional_string(in, &O::identity_agent); }},
      {"Ciphers", [](const auto& in) { return set_algorithms(in, &O::ciphers); }},
      {"KexAlgorithms", [](const auto& in) { return set_algorithms(in, &O::kex_algorithms); }},
      {"PubkeyAcceptedAlgorithms",
       [](const auto& in) { return set_algorithms(in, &O::pubkey_accepted_algorithms); }},
      // The name before OpenSSH 8.5.
      {"PubkeyAcceptedKeyTypes",
       [](const auto& in) { return set_algorithms(in, &O::pubkey_accepted_algorithms); }},
      {"HostKeyAlgorithms",
       [](const auto& in) { return set_algorithms(in, &O::host_key_algorithms); }},
      {"MACs", [](const auto& in) { return set_algorithms(in, &O::macs); }},
      {"StrictHostKeyChecking", apply_strict_host_key_checking},
      {"UserKnownHostsFile",
       [](const auto& in) { return set_file_list(in, &O::user_known_hosts_files); }},
      {"GlobalKnownHostsFile",
       [](const auto& in) { return set_file_list(in, &O::global_known_hosts_files); }},
      {"HashKnownHosts", [](const auto& in) { return set_flag(in, &O::hash_known_hosts); }},
      {"HostKeyAlias", [](const auto& in) { return set_optional_string(in, &O::host_key_alias); }},
      {"UpdateHostKeys", apply_update_host_keys},
      {"PinnedHostKey", apply_pinned_host_key},
      {"RekeyLimit", apply_rekey_limit},
      {"ServerAliveInterval", apply_server_alive_interval},
      {"ServerAliveCountMax", apply_server_alive_count_max},
      {"ConnectTimeout", apply_connect_timeout},
      {"BatchMode", [](const auto& in) { return set_flag(in, &O::batch_mode); }},
      {"PasswordAuthentication",
       [](const auto& in) { return set_flag(in, &O::password_authentication); }},
      {"KbdInteractiveAuthentication",
       [](const auto& in) { return set_flag(in, &O::kbd_interactive_authentication); }},
      {"PubkeyAuthentication", apply_pubkey_authentication},
      {"PreferredAuthentications", apply_preferred_authentications},
      {"LogLevel", apply_log_level},
      {"RequestTTY", apply_request_tty},
      {"Compression", [](const auto& in) { return set_flag(in, &O::compression); }},
      {"ForwardAgent", apply_forward_agent},
      {"LocalForward", [](const auto& in) { return add_forward(in, ForwardKind::Local); }},
      {"RemoteForward", [](const auto& in) { return add_forward(in, ForwardKind::Remote); }},
      {"DynamicForward", [](const auto& in) { return add_forward(in, ForwardKind::Dynamic); }},
      {"ExitOnForwardFailure",
       [](const auto& in) { return set_flag(in, &O::exit_on_forward_failure); }},
      {"ClearAllForwardings",
       [](const auto& in) { return set_flag(in, &O::clear_all_forwardings); }},
      {"SessionType", apply_session_type},
      {"ForkAfterAuthentication",
       [](const auto& in) { return set_flag(in, &O::fork_after_authentication); }},
      {"ControlMaster", apply_control_master},
      {"ControlPath", apply_control_path},
  };
  return handlers;
}

const OptionHandler* find_handler(std::string_view lowercase_keyword) {
  // Deprecated alias kept by OpenSSH for KbdInteractiveAuthentication.
  if (lowercase_keyword == "challengeresponseauthentication") {
    lowercase_keyword = "kbdinteractiveauthentication";
  }
  for (const auto& handler : option_handlers()) {
    if (to_lower_ascii(handler.name) == lowercase_keyword) return &handler;
  }
  return nullptr;
}

bool is_file_only_keyword(std::string_view lowercase_keyword) {
  return lowercase_keyword == "host" || lowercase_keyword == "match" ||
         lowercase_keyword == "include";
}

// HostName may only use %h (the name given) and %%, as in OpenSSH.
std::string expand_hostname(std::string_view hostname, std::string_view host) {
  std::string result;
  for (std::size_t i = 0; i < hostname.size(); ++i) {
    if (hostname[i] != '%') {
      result += hostname[i];
    } else if (i + 1 < hostname.size() && hostname[i + 1] == 'h') {
      result += host;
      ++i;
    } else if (i + 1 < hostname.size() && hostname[i + 1] == '%') {
      result += '%';
      ++i;
    } else {
      throw std::invalid_argument("HostName: only %h and %% may be used in \"" +
                                  std::string(hostname) + "\"");
    }
  }
  return result;
}

std::string local_hostname() {
  return platform::local_hostname();
}

}  // namespace

std::vector<std::string> split_arguments(std::string_view text) {
  std::vector<std::string> arguments;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n') {
      ++i;
      continue;
    }
    if (text[i] == '#') break;  // a comment runs to the end of the line
    std::string argument;
    char quote = 0;
    for (; i < text.size(); ++i) {
      const char c = text[i];
      if (c == '\\' && i + 1 < text.size()) {
        const char next = text[i + 1];
        if (next == '\'' || next == '"' || next == '\\' || (quote == 0 && next == ' ')) {
          argument += next;
          ++i;
        } else {
          argument += c;  // unrecognised escapes stay as written (Windows-ish paths)
        }
      } else if (quote == 0 && (c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
        break;
      } else if (quote == 0 && (c == '"' || c == '\'')) {
        quote = c;
      } else if (quote != 0 && c == quote) {
        quote = 0;
      } else {
        argument += c;
      }
    }
    if (quote != 0) {
      throw std::invalid_argument("unterminated quote in \"" + std::string(text) + "\"");
    }
    arguments.push_back(std::move(argument));
  }
  return arguments;
}

std::pair<std::string, std::string> parse_option_argument(std::string_view argument) {
  auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  std::size_t start = 0;
  while (start < argument.size() && is_space(argument[start])) ++start;
  std::size_t end = start;
  while (end < argument.size() && !is_space(argument[end]) && argument[end] != '=') ++end;
  if (end == start) {
    throw std::invalid_argument("missing option keyword in \"" + std::string(argument) + "\"");
  }
  std::string keyword(argument.substr(start, end - start));
  // Then optional whitespace, at most one '=', optional whitespace.
  std::size_t value_start = end;
  while (value_start < argument.size() && is_space(argument[value_start])) ++value_start;
  if (value_start < argument.size() && argument[value_start] == '=') ++value_start;
  while (value_start < argument.size() && is_space(argument[value_start])) ++value_start;
  std::size_t value_end = argument.size();
  while (value_end > value_start &&
         (is_space(argument[value_end - 1]) || argument[value_end - 1] == '\r' ||
          argument[value_end - 1] == '\n')) {
    --value_end;
  }
  return {std::move(keyword), std::string(argument.substr(value_start, value_end - value_start))};
}

bool is_known_keyword(std::string_view keyword) {
  const std::string lowered = to_lower_ascii(keyword);
  return find_handler(lowered) != nullptr || is_not_implemented_keyword(lowered) ||
         is_file_only_keyword(lowered);
}

ApplyResult apply_option(ClientOptions& options, std::string_view keyword, std::string_view value) {
  const std::string lowered = to_lower_ascii(keyword);
  if (is_file_only_keyword(lowered)) {
    throw std::invalid_argument(std::string(keyword) +
                                " is only allowed in configuration files, not as an option");
  }
  const OptionHandler* handler = find_handler(lowered);
  if (handler == nullptr) {
    if (is_not_implemented_keyword(lowered)) return ApplyResult::NotImplemented;
    throw UnknownOptionError(std::string(keyword),
                             "unknown option \"" + std::string(keyword) + "\"");
  }
  std::vector<std::string> arguments;
  try {
    arguments = split_arguments(value);
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument(std::string(handler->name) + ": " + error.what());
  }
  OptionInput input{options, handler->name, arguments};
  if (arguments.empty() || (arguments.size() == 1 && arguments.front().empty())) {
    fail(input, "missing argument");
  }
  return handler->apply(input);
}

std::vector<std::string> resolve_algorithm_list(std::string_view spec,
                                                const std::vector<std::string>& defaults,
                                                const std::vector<std::string>& supported) {
  if (spec.empty()) return defaults;

  auto contains = [](const std::vector<std::string>& list, std::string_view name) {
    return std::find(list.begin(), list.end(), name) != list.end();
  };
  auto check_shape = [&](std::string_view names) {
    if (names.empty() || names.front() == ',' || names.back() == ',' ||
        names.find(",,") != std::string_view::npos) {
      throw std::invalid_argument("bad algorithm list \"" + std::string(spec) + "\"");
    }
  };
  const char modifier = spec.front();

  if (modifier == '-') {
    const std::string_view patterns = spec.substr(1);
    check_shape(patterns);
    std::vector<std::string> result;
    for (const auto& name : defaults) {
      if (match_pattern_list(name, patterns, false) != PatternListMatch::Match) {
        result.push_back(name);
      }
    }
    if (result.empty()) {
      throw std::invalid_argument("algorithm list \"" + std::string(spec) +
                                  "\" removes every algorithm");
    }
    return result;
  }

  const std::string_view names = (modifier == '+' || modifier == '^') ? spec.substr(1) : spec;
  check_shape(names);
  // Each pattern expands to the supported names it matches, in the order of
  // `supported`; a name that matches nothing is a configuration error.
  std::vector<std::string> requested;
  for (const std::string& pattern : split_commas(names)) {
    if (pattern.front() == '!') {
      throw std::invalid_argument("negated algorithm \"" + pattern + "\" is not allowed here");
    }
    bool matched = false;
    for (const auto& candidate : supported) {
      if (wildcard_match(pattern, candidate)) {
        matched = true;
        if (!contains(requested, candidate)) requested.push_back(candidate);
      }
    }
    if (!matched) throw std::invalid_argument("unsupported algorithm \"" + pattern + "\"");
  }

  std::vector<std::string> result;
  auto append_missing = [&](const std::vector<std::string>& list) {
    for (const auto& name : list) {
      if (!contains(result, name)) result.push_back(name);
    }
  };
  if (modifier == '+') {
    append_missing(defaults);
    append_missing(requested);
  } else if (modifier == '^') {
    append_missing(requested);
    append_missing(defaults);
  } else {
    result = std::move(requested);
  }
  return result;
}

std::string current_user_name() {
  return platform::current_user_name();
}

std::string home_directory() {
  return platform::home_directory();
}

std::vector<std::string> default_identity_files(std::string_view home) {
  std::vector<std::string> files;
  for (const char* name : {"id_ed25519", "id_ecdsa", "id_rsa"}) {
    files.push_back(std::string(home) + "/.ssh/" + name);
  }
  return files;
}

std::string expand_tokens(std::string_view text, const TokenValues& values) {
  std::string result;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      result += text[i];
      continue;
    }
    if (i + 1 == text.size()) {
      throw std::invalid_argument("lone '%' at the end of \"" + std::string(text) + "\"");
    }
    const char token = text[++i];
    switch (token) {
      case '%':
        result += '%';
        break;
      case 'C': {
        const auto sha1 = Botan::HashFunction::create_or_throw("SHA-1");
        sha1->update(values.local_hostname + values.hostname + std::to_string(values.port) +
                     values.remote_user);
        result += Botan::hex_encode(sha1->final(), false);
        break;
      }
      case 'd':
        result += values.home_directory;
        break;
      case 'h':
        result += values.hostname;
        break;
      case 'i':
        result += values.local_uid;
        break;
      case 'l':
        result += values.local_hostname;
        break;
      case 'L':
        result += values.local_hostname.substr(0, values.local_hostname.find('.'));
        break;
      case 'n':
        result += values.original_host;
        break;
      case 'p':
        result += std::to_string(values.port);
        break;
      case 'r':
        result += values.remote_user;
        break;
      case 'u':
        result += values.local_user;
        break;
      default:
        throw std::invalid_argument("unsupported token %" + std::string(1, token) + " in \"" +
                                    std::string(text) + "\"");
    }
  }
  return result;
}

std::string expand_tilde(std::string_view path, std::string_view home) {
  if (path.empty() || path.front() != '~') return std::string(path);
  const std::size_t slash = path.find('/');
  const std::string_view user =
      path.substr(1, slash == std::string_view::npos ? path.npos : slash - 1);
  const std::string_view rest = slash == std::string_view::npos ? "" : path.substr(slash);
  if (user.empty()) return std::string(home) + std::string(rest);

  const std::string user_name(user);
  const auto user_home = platform::home_directory_of(user_name);
  if (!user_home) {
    throw std::invalid_argument("unknown user \"" + user_name + "\" in path \"" +
                                std::string(path) + "\"");
  }
  return *user_home + std::string(rest);
}

void finalize_options(ClientOptions& options) {
  finalize_options(options, current_user_name(), home_directory());
}

void finalize_options(ClientOptions& options, const std::string& local_user,
                      const std::string& home) {
  options.hostname =
      options.hostname.empty() ? options.host : expand_hostname(options.hostname, options.host);
  if (options.user.empty()) options.user = local_user;
  if (options.clear_all_forwardings) options.forwards.clear();

  TokenValues values;
  values.home_directory = home;
  values.hostname = options.hostname;
  values.original_host = options.host;
  values.port = options.port;
  values.remote_user = options.user;
  values.local_user = local_user;
  values.local_hostname = local_hostname();
  values.local_uid = platform::current_user_id();
  auto expand_all = [&](std::vector<std::string>& paths) {
    for (auto& path : paths) path = expand_tokens(expand_tilde(path, home), values);
  };
  expand_all(options.identity_files);
  expand_all(options.user_known_hosts_files);
  expand_all(options.global_known_hosts_files);
  // Agent socket paths take ~ and %-tokens too; "none", "SSH_AUTH_SOCK" and
  // "$VARIABLE" are resolved when the agent is looked up.
  auto expand_agent_path = [&](std::string& value) {
    if (value.empty() || value == "none" || value == "SSH_AUTH_SOCK" || value.front() == '$') {
      return;
    }
    value = expand_tokens(expand_tilde(value, home), values);
  };
  if (options.identity_agent) expand_agent_path(*options.identity_agent);
  if (!options.control_path.empty()) {
    options.control_path = expand_tokens(expand_tilde(options.control_path, home), values);
  }
  expand_agent_path(options.forward_agent_socket);
}

std::string_view to_string(StrictHostKeyChecking mode) {
  switch (mode) {
    case StrictHostKeyChecking::Ask:
      return "ask";
    case StrictHostKeyChecking::Yes:
      return "yes";
    case StrictHostKeyChecking::AcceptNew:
      return "accept-new";
    case StrictHostKeyChecking::No:
      return "no";
  }
  return "ask";
}

}  // namespace ssh::config
