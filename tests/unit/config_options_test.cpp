#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "ssh/config/client_options.hpp"
#include "ssh/config/session_config.hpp"
#include "ssh/limits.hpp"

namespace ssh::config {
namespace {

using Strings = std::vector<std::string>;

ClientOptions apply_all(const std::vector<std::pair<std::string, std::string>>& lines) {
  ClientOptions options;
  for (const auto& [keyword, value] : lines) apply_option(options, keyword, value);
  return options;
}

std::string error_message_of(ClientOptions& options, std::string_view keyword,
                             std::string_view value) {
  try {
    apply_option(options, keyword, value);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(ConfigOptions, DefaultsAreOpenSshs) {
  const ClientOptions options;
  EXPECT_EQ(options.port, 22);
  EXPECT_TRUE(options.hostname.empty());
  EXPECT_TRUE(options.user.empty());
  EXPECT_TRUE(options.identity_files.empty());
  EXPECT_TRUE(options.ciphers.empty());
  EXPECT_EQ(options.strict_host_key_checking, StrictHostKeyChecking::Ask);
  EXPECT_EQ(options.user_known_hosts_files, (Strings{"~/.ssh/known_hosts", "~/.ssh/known_hosts2"}));
#ifdef _WIN32
  // Windows OpenSSH's place; wine sets %ProgramData% to C:\ProgramData.
  EXPECT_EQ(options.global_known_hosts_files, (Strings{"C:\\ProgramData\\ssh\\ssh_known_hosts",
                                                       "C:\\ProgramData\\ssh\\ssh_known_hosts2"}));
#else
  EXPECT_EQ(options.global_known_hosts_files,
            (Strings{"/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"}));
#endif
  EXPECT_FALSE(options.rekey_limit_bytes);
  EXPECT_FALSE(options.rekey_limit_seconds);
  EXPECT_EQ(options.server_alive_interval.count(), 0);
  EXPECT_EQ(options.server_alive_count_max, 3);
  EXPECT_FALSE(options.connect_timeout);
  EXPECT_FALSE(options.batch_mode);
  EXPECT_TRUE(options.password_authentication);
  EXPECT_TRUE(options.kbd_interactive_authentication);
  EXPECT_TRUE(options.pubkey_authentication);
  EXPECT_FALSE(options.identities_only);
  EXPECT_EQ(options.request_tty, RequestTty::Auto);
  EXPECT_EQ(options.log_level, LogLevel::Info);
  EXPECT_TRUE(options.pinned_host_key_fingerprints.empty());
}

TEST(ConfigOptions, ParseOptionArgumentAcceptsEveryForm) {
  using Pair = std::pair<std::string, std::string>;
  EXPECT_EQ(parse_option_argument("Port=2222"), (Pair{"Port", "2222"}));
  EXPECT_EQ(parse_option_argument("Port 2222"), (Pair{"Port", "2222"}));
  EXPECT_EQ(parse_option_argument("  Port = 2222  "), (Pair{"Port", "2222"}));
  EXPECT_EQ(parse_option_argument("Port\t2222\r"), (Pair{"Port", "2222"}));
  EXPECT_EQ(parse_option_argument("IdentityFile=\"/a b/key\""),
            (Pair{"IdentityFile", "\"/a b/key\""}));
  // Only the first '=' separates: values may contain more.
  EXPECT_EQ(parse_option_argument("SetEnv=A=B"), (Pair{"SetEnv", "A=B"}));
  EXPECT_THROW(parse_option_argument("=value"), std::invalid_argument);
  EXPECT_THROW(parse_option_argument("   "), std::invalid_argument);
}

TEST(ConfigOptions, SplitArgumentsFollowsOpenSshQuoting) {
  EXPECT_EQ(split_arguments("a b\tc"), (Strings{"a", "b", "c"}));
  EXPECT_EQ(split_arguments("\"/a b/c\" 'd e'"), (Strings{"/a b/c", "d e"}));
  EXPECT_EQ(split_arguments("a\\ b"), (Strings{"a b"}));
  EXPECT_EQ(split_arguments("x\"y z\"w"), (Strings{"xy zw"}));
  EXPECT_EQ(split_arguments("yes # a comment"), (Strings{"yes"}));
  EXPECT_EQ(split_arguments("C:\\path"), (Strings{"C:\\path"}));
  EXPECT_EQ(split_arguments("\"\""), (Strings{""}));
  EXPECT_THROW(split_arguments("\"open"), std::invalid_argument);
}

TEST(ConfigOptions, AppliesEveryKeyword) {
  const ClientOptions options = apply_all({
      {"HostName", "10.0.0.1"},
      {"Port", "2222"},
      {"User", "alice"},
      {"IdentityFile", "~/.ssh/lima"},
      {"IdentitiesOnly", "yes"},
      {"IdentityAgent", "none"},
      {"Ciphers", "aes128-gcm@openssh.com,chacha20-poly1305@openssh.com"},
      {"KexAlgorithms", "+diffie-hellman-group14-sha256"},
      {"HostKeyAlgorithms", "-ssh-rsa*"},
      {"MACs", "^hmac-sha2-256-etm@openssh.com"},
      {"StrictHostKeyChecking", "accept-new"},
      {"UserKnownHostsFile", "/tmp/a /tmp/b"},
      {"GlobalKnownHostsFile", "/tmp/global"},
      {"HashKnownHosts", "yes"},
      {"HostKeyAlias", "lima-default"},
      {"PinnedHostKey", "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"},
      {"RekeyLimit", "1G 1h"},
      {"ServerAliveInterval", "30"},
      {"ServerAliveCountMax", "5"},
      {"ConnectTimeout", "10"},
      {"BatchMode", "yes"},
      {"PasswordAuthentication", "no"},
      {"KbdInteractiveAuthentication", "no"},
      {"PubkeyAuthentication", "yes"},
      {"PreferredAuthentications", "publickey,password"},
      {"LogLevel", "DEBUG2"},
      {"RequestTTY", "force"},
      {"Compression", "yes"},
      {"ForwardAgent", "yes"},
  });
  EXPECT_EQ(options.hostname, "10.0.0.1");
  EXPECT_EQ(options.port, 2222);
  EXPECT_EQ(options.user, "alice");
  EXPECT_EQ(options.identity_files, (Strings{"~/.ssh/lima"}));
  EXPECT_TRUE(options.identities_only);
  EXPECT_EQ(options.identity_agent, "none");
  EXPECT_EQ(options.ciphers, "aes128-gcm@openssh.com,chacha20-poly1305@openssh.com");
  EXPECT_EQ(options.kex_algorithms, "+diffie-hellman-group14-sha256");
  EXPECT_EQ(options.host_key_algorithms, "-ssh-rsa*");
  EXPECT_EQ(options.macs, "^hmac-sha2-256-etm@openssh.com");
  EXPECT_EQ(options.strict_host_key_checking, StrictHostKeyChecking::AcceptNew);
  EXPECT_EQ(options.user_known_hosts_files, (Strings{"/tmp/a", "/tmp/b"}));
  EXPECT_EQ(options.global_known_hosts_files, (Strings{"/tmp/global"}));
  EXPECT_TRUE(options.hash_known_hosts);
  EXPECT_EQ(options.host_key_alias, "lima-default");
  EXPECT_EQ(options.pinned_host_key_fingerprints,
            (Strings{"SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"}));
  EXPECT_EQ(options.rekey_limit_bytes, 1ULL << 30);
  EXPECT_EQ(options.rekey_limit_seconds, std::chrono::seconds(3600));
  EXPECT_EQ(options.server_alive_interval, std::chrono::seconds(30));
  EXPECT_EQ(options.server_alive_count_max, 5);
  EXPECT_EQ(options.connect_timeout, std::chrono::seconds(10));
  EXPECT_TRUE(options.batch_mode);
  EXPECT_FALSE(options.password_authentication);
  EXPECT_FALSE(options.kbd_interactive_authentication);
  EXPECT_TRUE(options.pubkey_authentication);
  EXPECT_EQ(options.preferred_authentications, (Strings{"publickey", "password"}));
  EXPECT_EQ(options.log_level, LogLevel::Debug2);
  EXPECT_EQ(options.request_tty, RequestTty::Force);
  EXPECT_TRUE(options.compression);
  EXPECT_TRUE(options.forward_agent);
}

// limits::kMaxIdentityFiles distinct IdentityFiles are kept; one more is
// refused with OpenSSH's message; repeats never count.
TEST(ConfigOptions, IdentityFileLimitAtAndPast) {
  ClientOptions options;
  for (std::size_t i = 0; i < limits::kMaxIdentityFiles; ++i) {
    EXPECT_EQ(apply_option(options, "IdentityFile", "/keys/id" + std::to_string(i)),
              ApplyResult::Applied);
  }
  EXPECT_EQ(apply_option(options, "IdentityFile", "/keys/id0"), ApplyResult::Applied);
  EXPECT_EQ(options.identity_files.size(), limits::kMaxIdentityFiles);
  try {
    apply_option(options, "IdentityFile", "/keys/one-too-many");
    FAIL() << "the identity file past the limit was taken";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("too many identity files specified"),
              std::string::npos)
        << error.what();
  }
  EXPECT_EQ(options.identity_files.size(), limits::kMaxIdentityFiles);
}

TEST(ConfigOptions, KeywordsAndFlagValuesAreCaseInsensitive) {
  ClientOptions options;
  EXPECT_EQ(apply_option(options, "PORT", "2200"), ApplyResult::Applied);
  EXPECT_EQ(apply_option(options, "batchmode", "YES"), ApplyResult::Applied);
  EXPECT_EQ(apply_option(options, "stricthostkeychecking", "No"), ApplyResult::Applied);
  EXPECT_EQ(options.port, 2200);
  EXPECT_TRUE(options.batch_mode);
  EXPECT_EQ(options.strict_host_key_checking, StrictHostKeyChecking::No);
}

TEST(ConfigOptions, FirstObtainedValueWins) {
  ClientOptions options;
  EXPECT_EQ(apply_option(options, "Port", "2222"), ApplyResult::Applied);
  EXPECT_EQ(apply_option(options, "Port", "60022"), ApplyResult::AlreadySet);
  EXPECT_EQ(options.port, 2222);
  EXPECT_EQ(apply_option(options, "User", "first"), ApplyResult::Applied);
  EXPECT_EQ(apply_option(options, "user", "second"), ApplyResult::AlreadySet);
  EXPECT_EQ(options.user, "first");
  // Setting a flag to its default still counts as set.
  EXPECT_EQ(apply_option(options, "BatchMode", "no"), ApplyResult::Applied);
  EXPECT_EQ(apply_option(options, "BatchMode", "yes"), ApplyResult::AlreadySet);
  EXPECT_FALSE(options.batch_mode);
  // An alias shares its keyword's slot.
  EXPECT_EQ(apply_option(options, "KbdInteractiveAuthentication", "no"), ApplyResult::Applied);
  EXPECT_EQ(apply_option(options, "ChallengeResponseAuthentication", "yes"),
            ApplyResult::AlreadySet);
  EXPECT_FALSE(options.kbd_interactive_authentication);
  // Later values are still checked.
  EXPECT_THROW(apply_option(options, "Port", "notaport"), std::invalid_argument);
}

TEST(ConfigOptions, IdentityFilesAndPinsAccumulate) {
  ClientOptions options;
  apply_option(options, "IdentityFile", "/cli/key");
  apply_option(options, "IdentityFile", "/config/key");
  apply_option(options, "IdentityFile", "/cli/key");  // duplicates are dropped
  EXPECT_EQ(options.identity_files, (Strings{"/cli/key", "/config/key"}));

  apply_option(options, "PinnedHostKey",
               "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU,"
               "SHA256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  apply_option(options, "PinnedHostKey", "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb=");
  EXPECT_EQ(options.pinned_host_key_fingerprints,
            (Strings{"SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
                     "SHA256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                     "SHA256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}));
  EXPECT_THROW(apply_option(options, "PinnedHostKey", "MD5:aa:bb"), std::invalid_argument);
  EXPECT_THROW(apply_option(options, "PinnedHostKey", "SHA256:short"), std::invalid_argument);
}

TEST(ConfigOptions, UnknownKeywordErrorNamesIt) {
  ClientOptions options;
  try {
    apply_option(options, "NoSuchOption", "yes");
    FAIL() << "expected an error";
  } catch (const UnknownOptionError& error) {
    EXPECT_EQ(error.keyword(), "NoSuchOption");
    EXPECT_NE(std::string(error.what()).find("NoSuchOption"), std::string::npos);
  }
  EXPECT_FALSE(is_known_keyword("NoSuchOption"));
  EXPECT_TRUE(is_known_keyword("ControlMaster"));
  EXPECT_TRUE(is_known_keyword("hostname"));
}

TEST(ConfigOptions, OpenSshKeywordsWeDoNotImplementAreReported) {
  ClientOptions options;
  for (const char* keyword : {"ControlPersist", "NoHostAuthenticationForLocalhost",
                              "GSSAPIAuthentication", "SendEnv", "ProxyJump", "controlpersist"}) {
    EXPECT_EQ(apply_option(options, keyword, "auto"), ApplyResult::NotImplemented) << keyword;
  }
  EXPECT_TRUE(options.assigned_keywords.empty());
}

TEST(ConfigOptions, BadValuesNameTheKeyword) {
  ClientOptions options;
  EXPECT_EQ(error_message_of(options, "Port", "0"), "Port: bad port number \"0\"");
  EXPECT_EQ(error_message_of(options, "port", "65536"), "Port: bad port number \"65536\"");
  EXPECT_EQ(error_message_of(options, "BatchMode", "maybe"),
            "BatchMode: bad value \"maybe\" (expected yes or no)");
  EXPECT_EQ(error_message_of(options, "User", ""), "User: missing argument");
  EXPECT_EQ(error_message_of(options, "User", "a b"), "User: unexpected extra argument \"b\"");
  EXPECT_EQ(error_message_of(options, "IdentityFile", "\"/unterminated"),
            "IdentityFile: unterminated quote in \"\"/unterminated\"");
  EXPECT_NE(error_message_of(options, "StrictHostKeyChecking", "sometimes").find("accept-new"),
            std::string::npos);
  EXPECT_NE(error_message_of(options, "LogLevel", "LOUD").find("LogLevel"), std::string::npos);
  EXPECT_NE(error_message_of(options, "RequestTTY", "always").find("RequestTTY"),
            std::string::npos);
  EXPECT_NE(error_message_of(options, "Ciphers", "aes128-ctr,,aes256-ctr").find("Ciphers"),
            std::string::npos);
  EXPECT_NE(error_message_of(options, "MACs", "+").find("MACs"), std::string::npos);
  EXPECT_NE(error_message_of(options, "KexAlgorithms", "!curve25519-sha256").find("negated"),
            std::string::npos);
  EXPECT_NE(error_message_of(options, "ServerAliveCountMax", "-1").find("ServerAliveCountMax"),
            std::string::npos);
  EXPECT_NE(error_message_of(options, "PreferredAuthentications", "publickey,").find("Preferred"),
            std::string::npos);
  // Nothing was assigned by the failures.
  EXPECT_TRUE(options.assigned_keywords.empty());
}

TEST(ConfigOptions, FileOnlyKeywordsAreRefusedAsOptions) {
  ClientOptions options;
  EXPECT_THROW(apply_option(options, "Host", "*"), std::invalid_argument);
  EXPECT_THROW(apply_option(options, "Match", "all"), std::invalid_argument);
  EXPECT_THROW(apply_option(options, "Include", "x"), std::invalid_argument);
}

TEST(ConfigOptions, RekeyLimitSyntax) {
  struct Case {
    std::string value;
    std::optional<std::uint64_t> bytes;
    std::optional<std::int64_t> seconds;
  };
  const Case cases[] = {
      {"1G", 1ULL << 30, std::nullopt},
      {"512M 30m", 512ULL << 20, 1800},
      {"64k none", 64ULL << 10, std::nullopt},
      {"default 1h", std::nullopt, 3600},
      {"default default", std::nullopt, std::nullopt},
      {"4096 90", 4096, 90},
      {"0", std::nullopt, std::nullopt},
      {"1g 1w", 1ULL << 30, 7 * 24 * 3600},
      {"2G 1h30m", 2ULL << 30, 5400},
      {"16 2d", 16, 2 * 24 * 3600},
  };
  for (const auto& test : cases) {
    ClientOptions options;
    apply_option(options, "RekeyLimit", test.value);
    EXPECT_EQ(options.rekey_limit_bytes, test.bytes) << test.value;
    if (test.seconds) {
      EXPECT_EQ(options.rekey_limit_seconds, std::chrono::seconds(*test.seconds)) << test.value;
    } else {
      EXPECT_FALSE(options.rekey_limit_seconds) << test.value;
    }
  }
  for (const char* bad :
       {"1X", "G", "-1", "15", "1G 1y", "1G 1h extra", "1G h", "99999999999999999999G"}) {
    ClientOptions options;
    EXPECT_THROW(apply_option(options, "RekeyLimit", bad), std::invalid_argument) << bad;
  }
}

TEST(ConfigOptions, TimeValuesAcceptOpenSshUnits) {
  ClientOptions options;
  apply_option(options, "ServerAliveInterval", "1m30s");
  EXPECT_EQ(options.server_alive_interval, std::chrono::seconds(90));
  apply_option(options, "ConnectTimeout", "none");
  EXPECT_FALSE(options.connect_timeout);
  ClientOptions other;
  apply_option(other, "ConnectTimeout", "2M");
  EXPECT_EQ(other.connect_timeout, std::chrono::seconds(120));
  EXPECT_THROW(apply_option(other, "ServerAliveInterval", "soon"), std::invalid_argument);
}

TEST(ConfigOptions, StrictHostKeyCheckingAcceptsEveryOpenSshSpelling) {
  const std::pair<const char*, StrictHostKeyChecking> cases[] = {
      {"yes", StrictHostKeyChecking::Yes},
      {"true", StrictHostKeyChecking::Yes},
      {"no", StrictHostKeyChecking::No},
      {"false", StrictHostKeyChecking::No},
      {"off", StrictHostKeyChecking::No},
      {"ask", StrictHostKeyChecking::Ask},
      {"accept-new", StrictHostKeyChecking::AcceptNew},
  };
  for (const auto& [value, expected] : cases) {
    ClientOptions options;
    apply_option(options, "StrictHostKeyChecking", value);
    EXPECT_EQ(options.strict_host_key_checking, expected) << value;
  }
  EXPECT_EQ(to_string(StrictHostKeyChecking::AcceptNew), "accept-new");
}

TEST(ConfigOptions, OtherEnumeratedValues) {
  ClientOptions options;
  apply_option(options, "PubkeyAuthentication", "host-bound");
  EXPECT_TRUE(options.pubkey_authentication);
  apply_option(options, "ForwardAgent", "$SSH_AUTH_SOCK");
  EXPECT_TRUE(options.forward_agent);
  EXPECT_EQ(options.forward_agent_socket, "$SSH_AUTH_SOCK");
  apply_option(options, "LogLevel", "debug");
  EXPECT_EQ(options.log_level, LogLevel::Debug1);
  apply_option(options, "RequestTTY", "false");
  EXPECT_EQ(options.request_tty, RequestTty::No);
}

TEST(ConfigOptions, KnownHostsFileNoneEmptiesTheList) {
  ClientOptions options;
  apply_option(options, "UserKnownHostsFile", "none");
  EXPECT_TRUE(options.user_known_hosts_files.empty());
  apply_option(options, "GlobalKnownHostsFile", "/dev/null");
  EXPECT_EQ(options.global_known_hosts_files, (Strings{"/dev/null"}));
}

const Strings kSupportedCiphers = {"chacha20-poly1305@openssh.com",
                                   "aes128-ctr",
                                   "aes192-ctr",
                                   "aes256-ctr",
                                   "aes128-gcm@openssh.com",
                                   "aes256-gcm@openssh.com"};
const Strings kDefaultCiphers = {"chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com",
                                 "aes256-gcm@openssh.com", "aes128-ctr"};

TEST(ConfigOptions, ResolveAlgorithmListWithoutModifier) {
  EXPECT_EQ(resolve_algorithm_list("", kDefaultCiphers, kSupportedCiphers), kDefaultCiphers);
  EXPECT_EQ(resolve_algorithm_list("aes256-ctr,aes128-ctr", kDefaultCiphers, kSupportedCiphers),
            (Strings{"aes256-ctr", "aes128-ctr"}));
  // Wildcards expand to the supported names in their order.
  EXPECT_EQ(resolve_algorithm_list("aes*-ctr", kDefaultCiphers, kSupportedCiphers),
            (Strings{"aes128-ctr", "aes192-ctr", "aes256-ctr"}));
}

TEST(ConfigOptions, ResolveAlgorithmListAppends) {
  EXPECT_EQ(resolve_algorithm_list("+aes256-ctr,aes128-ctr", kDefaultCiphers, kSupportedCiphers),
            (Strings{"chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com",
                     "aes256-gcm@openssh.com", "aes128-ctr", "aes256-ctr"}));
}

TEST(ConfigOptions, ResolveAlgorithmListRemovesWithWildcards) {
  EXPECT_EQ(resolve_algorithm_list("-*-gcm@openssh.com", kDefaultCiphers, kSupportedCiphers),
            (Strings{"chacha20-poly1305@openssh.com", "aes128-ctr"}));
  EXPECT_EQ(resolve_algorithm_list("-aes1?8-ctr,chacha20*", kDefaultCiphers, kSupportedCiphers),
            (Strings{"aes128-gcm@openssh.com", "aes256-gcm@openssh.com"}));
  // Removing what is not there is harmless.
  EXPECT_EQ(resolve_algorithm_list("-3des-cbc", kDefaultCiphers, kSupportedCiphers),
            kDefaultCiphers);
}

TEST(ConfigOptions, ResolveAlgorithmListPrepends) {
  EXPECT_EQ(resolve_algorithm_list("^aes128-gcm@openssh.com,aes256-gcm@openssh.com",
                                   kDefaultCiphers, kSupportedCiphers),
            (Strings{"aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
                     "chacha20-poly1305@openssh.com", "aes128-ctr"}));
  EXPECT_EQ(resolve_algorithm_list("^aes256-ctr", kDefaultCiphers, kSupportedCiphers).front(),
            "aes256-ctr");
}

TEST(ConfigOptions, ResolveAlgorithmListRejectsUnknownNames) {
  try {
    resolve_algorithm_list("aes128-ctr,3des-cbc", kDefaultCiphers, kSupportedCiphers);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("3des-cbc"), std::string::npos);
  }
  EXPECT_THROW(resolve_algorithm_list("+blowfish-cbc", kDefaultCiphers, kSupportedCiphers),
               std::invalid_argument);
  EXPECT_THROW(resolve_algorithm_list("^*-cbc", kDefaultCiphers, kSupportedCiphers),
               std::invalid_argument);
  EXPECT_THROW(resolve_algorithm_list("-*", kDefaultCiphers, kSupportedCiphers),
               std::invalid_argument);
  EXPECT_THROW(resolve_algorithm_list("aes128-ctr,,", kDefaultCiphers, kSupportedCiphers),
               std::invalid_argument);
}

TEST(ConfigOptions, ExpandsTokensAndTilde) {
  TokenValues values;
  values.home_directory = "/home/me";
  values.hostname = "127.0.0.1";
  values.original_host = "lima-default";
  values.port = 60022;
  values.remote_user = "root";
  values.local_user = "me";
  values.local_hostname = "laptop.example.com";
  values.local_uid = "1000";
  EXPECT_EQ(expand_tokens("%d/.lima/%n/%h-%p-%r-%u-%i-%l-%L-100%%", values),
            "/home/me/.lima/lima-default/127.0.0.1-60022-root-me-1000-laptop.example.com-laptop-"
            "100%");
  // %C is OpenSSH's hash of %l%h%p%r (sha1sum of "laptop.example.com127.0.0.160022root").
  EXPECT_EQ(expand_tokens("/s/%C", values), "/s/3f847137365d7c16a5dbe366e08355a980966b5c");
  EXPECT_THROW(expand_tokens("%Z", values), std::invalid_argument);
  EXPECT_THROW(expand_tokens("trailing%", values), std::invalid_argument);

  EXPECT_EQ(expand_tilde("~", "/home/me"), "/home/me");
  EXPECT_EQ(expand_tilde("~/.ssh/id", "/home/me"), "/home/me/.ssh/id");
  EXPECT_EQ(expand_tilde("/abs/~", "/home/me"), "/abs/~");
  EXPECT_THROW(expand_tilde("~no-such-user-xyz/a", "/home/me"), std::invalid_argument);
}

TEST(ConfigOptions, ControlMasterAndControlPath) {
  ClientOptions options;
  EXPECT_EQ(options.control_master, ControlMasterMode::No);
  apply_option(options, "ControlMaster", "autoask");
  EXPECT_EQ(options.control_master, ControlMasterMode::Auto);
  EXPECT_EQ(apply_option(options, "ControlMaster", "yes"), ApplyResult::AlreadySet);
  ClientOptions yes;
  apply_option(yes, "ControlMaster", "ask");
  EXPECT_EQ(yes.control_master, ControlMasterMode::Yes);
  EXPECT_EQ(error_message_of(yes, "ControlPath", "a b"),
            "ControlPath: unexpected extra argument \"b\"");
  ClientOptions bad;
  EXPECT_EQ(error_message_of(bad, "ControlMaster", "sometimes"),
            "ControlMaster: bad value \"sometimes\" (expected yes, no, ask, auto or autoask)");

  options.host = "lima-default";
  apply_option(options, "ControlPath", "~/.lima/%n/ssh-%r@%h:%p.sock");
  finalize_options(options, "me", "/home/me");
  EXPECT_EQ(options.control_path, "/home/me/.lima/lima-default/ssh-me@lima-default:22.sock");

  ClientOptions none;
  apply_option(none, "ControlPath", "none");
  none.host = "h";
  finalize_options(none, "me", "/home/me");
  EXPECT_TRUE(none.control_path.empty());
}

TEST(ConfigOptions, FinalizeFillsDefaultsAndExpandsPaths) {
  ClientOptions options;
  options.host = "lima-default";
  apply_option(options, "Port", "60022");
  apply_option(options, "IdentityFile", "~/.lima/_config/%r-%h-%p");
  apply_option(options, "UserKnownHostsFile", "%d/known_hosts ~/other");
  finalize_options(options, "me", "/home/me");
  EXPECT_EQ(options.hostname, "lima-default");
  EXPECT_EQ(options.user, "me");
  EXPECT_EQ(options.identity_files, (Strings{"/home/me/.lima/_config/me-lima-default-60022"}));
  EXPECT_EQ(options.user_known_hosts_files, (Strings{"/home/me/known_hosts", "/home/me/other"}));
  EXPECT_TRUE(options.control_path.empty());
  // Absolute already (/etc/ssh, or %ProgramData%\ssh on Windows): unchanged.
  EXPECT_EQ(options.global_known_hosts_files, default_global_known_hosts_files());

  ClientOptions with_hostname;
  with_hostname.host = "vm";
  apply_option(with_hostname, "HostName", "%h.internal");
  finalize_options(with_hostname, "me", "/home/me");
  EXPECT_EQ(with_hostname.hostname, "vm.internal");
  EXPECT_EQ(with_hostname.user_known_hosts_files,
            (Strings{"/home/me/.ssh/known_hosts", "/home/me/.ssh/known_hosts2"}));

  ClientOptions bad_hostname;
  bad_hostname.host = "vm";
  apply_option(bad_hostname, "HostName", "%r.internal");
  EXPECT_THROW(finalize_options(bad_hostname, "me", "/home/me"), std::invalid_argument);
}

TEST(ConfigOptions, FinalizeExpandsAgentSocketPathsButNotNames) {
  ClientOptions path;
  path.host = "vm";
  apply_option(path, "IdentityAgent", "~/.lima/%h/agent.sock");
  apply_option(path, "ForwardAgent", "~/fwd.sock");
  finalize_options(path, "me", "/home/me");
  EXPECT_EQ(path.identity_agent, "/home/me/.lima/vm/agent.sock");
  EXPECT_TRUE(path.forward_agent);
  EXPECT_EQ(path.forward_agent_socket, "/home/me/fwd.sock");

  for (const char* name : {"none", "SSH_AUTH_SOCK", "$MY_AGENT"}) {
    ClientOptions named;
    named.host = "vm";
    apply_option(named, "IdentityAgent", name);
    finalize_options(named, "me", "/home/me");
    EXPECT_EQ(named.identity_agent, name);
  }
}

TEST(ConfigOptions, PubkeyAcceptedAlgorithmsRestrictsPublickeySignatures) {
  auto session_for = [](const char* spec) {
    ClientOptions options;
    options.host = "vm";
    if (spec != nullptr) apply_option(options, "PubkeyAcceptedAlgorithms", spec);
    finalize_options(options, "me", "/home/me");
    return make_session_config(options);
  };
  EXPECT_FALSE(session_for(nullptr).auth.signature_algorithms.has_value());
  EXPECT_EQ(session_for("rsa-sha2-256").auth.signature_algorithms, (Strings{"rsa-sha2-256"}));
  // OpenSSH names we lack (ssh-rsa, certificates) are accepted and dropped.
  const auto with_ssh_rsa = session_for("+ssh-rsa").auth.signature_algorithms;
  ASSERT_TRUE(with_ssh_rsa.has_value());
  EXPECT_EQ(std::count(with_ssh_rsa->begin(), with_ssh_rsa->end(), "ssh-rsa"), 0);
  EXPECT_EQ(std::count(with_ssh_rsa->begin(), with_ssh_rsa->end(), "ssh-ed25519"), 1);
  EXPECT_EQ(session_for("ssh-ed25519-cert-v01@openssh.com").auth.signature_algorithms, (Strings{}));
  EXPECT_THROW(session_for("no-such-algorithm"), std::invalid_argument);
}

TEST(ConfigOptions, DefaultIdentityFilesInOpenSshOrder) {
  EXPECT_EQ(
      default_identity_files("/home/me"),
      (Strings{"/home/me/.ssh/id_ed25519", "/home/me/.ssh/id_ecdsa", "/home/me/.ssh/id_rsa"}));
}

TEST(ConfigOptions, ForwardsAccumulateAndClearAllForwardingsDropsThem) {
  auto options = apply_all({{"LocalForward", "8080 db:5432"},
                            {"RemoteForward", "[::1]:0 /run/app.sock"},
                            {"DynamicForward", "1080"},
                            {"LocalForward", "/tmp/a.sock /run/b.sock"},
                            {"ExitOnForwardFailure", "yes"},
                            {"SessionType", "none"},
                            {"ForkAfterAuthentication", "yes"}});
  ASSERT_EQ(options.forwards.size(), 4u);
  EXPECT_EQ(options.forwards[0].to_string(), "-L 8080:db:5432");
  EXPECT_EQ(options.forwards[1].kind, ForwardKind::Remote);
  EXPECT_EQ(options.forwards[1].listen.host, "::1");
  EXPECT_EQ(options.forwards[1].connect.socket_path, "/run/app.sock");
  EXPECT_EQ(options.forwards[2].to_string(), "-D 1080");
  EXPECT_EQ(options.forwards[3].listen.socket_path, "/tmp/a.sock");
  EXPECT_TRUE(options.exit_on_forward_failure);
  EXPECT_TRUE(options.no_session);
  EXPECT_TRUE(options.fork_after_authentication);

  apply_option(options, "ClearAllForwardings", "yes");
  finalize_options(options, "tester", "/home/tester");
  EXPECT_TRUE(options.forwards.empty());
}

TEST(ConfigOptions, BadForwardsAndSessionTypesAreErrors) {
  ClientOptions options;
  EXPECT_NE(error_message_of(options, "LocalForward", "8080").find("two words"), std::string::npos);
  EXPECT_NE(error_message_of(options, "LocalForward", "8080 db:99999").find("not a port"),
            std::string::npos);
  EXPECT_NE(error_message_of(options, "DynamicForward", "1080 x").find("expected"),
            std::string::npos);
  EXPECT_NE(error_message_of(options, "SessionType", "maybe").find("expected none"),
            std::string::npos);
  EXPECT_NE(error_message_of(options, "SessionType", "subsystem").find("not supported"),
            std::string::npos);
}

}  // namespace
}  // namespace ssh::config
