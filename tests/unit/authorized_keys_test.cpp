#include "ssh/config/authorized_keys.hpp"

#include <botan/auto_rng.h>
#include <gtest/gtest.h>

#include <string>

#include "ssh/limits.hpp"

namespace ssh::config {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

class AuthorizedKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Botan::AutoSeeded_RNG rng;
    auto key = keys::PrivateKey::generate("ssh-ed25519", 0, rng);
    ASSERT_TRUE(key.ok());
    public_key_ = key->public_key();
    key_line_ = public_key_.to_openssh_line("user@host");
  }

  AuthorizedKey parse_ok(const std::string& line) {
    auto parsed = parse_authorized_key_line(line);
    EXPECT_TRUE(parsed.ok()) << line << ": " << (parsed.ok() ? "" : parsed.error().message);
    if (!parsed.ok()) return AuthorizedKey{{}, public_key_, "", 0};
    EXPECT_EQ(parsed->key, public_key_);
    return std::move(*parsed);
  }

  std::string parse_error(const std::string& line) {
    auto parsed = parse_authorized_key_line(line);
    EXPECT_FALSE(parsed.ok()) << line;
    return parsed.ok() ? std::string() : parsed.error().message;
  }

  keys::PublicKey public_key_;
  std::string key_line_;
};

system_clock::time_point at_unix(std::int64_t value) {
  return system_clock::time_point(seconds(value));
}

TEST_F(AuthorizedKeysTest, LineLengthLimitAtAndPast) {
  const std::string base = public_key_.to_openssh_line("");
  const std::string at_limit =
      base + " " + std::string(limits::kMaxAuthorizedKeysLineLength - base.size() - 1, 'c');
  ASSERT_EQ(at_limit.size(), limits::kMaxAuthorizedKeysLineLength);
  parse_ok(at_limit);
  EXPECT_EQ(parse_error(at_limit + "c"), "line too long");
}

TEST_F(AuthorizedKeysTest, KeyWithoutOptionsAllowsEverything) {
  const auto entry = parse_ok(key_line_);
  EXPECT_EQ(entry.comment, "user@host");
  EXPECT_TRUE(entry.options.pty);
  EXPECT_TRUE(entry.options.port_forwarding);
  EXPECT_TRUE(entry.options.agent_forwarding);
  EXPECT_FALSE(entry.options.command.has_value());
  EXPECT_TRUE(allowed_from(entry.options, {"203.0.113.9", ""}));
  EXPECT_TRUE(may_open_forward(entry.options, "example.org", 443));
  EXPECT_FALSE(refusal_reason(entry.options, {"203.0.113.9", ""}, at_unix(2000000000)));
}

TEST_F(AuthorizedKeysTest, RestrictThenPtyTurnsOnlyPtyBackOn) {
  const auto entry = parse_ok("restrict,pty " + key_line_);
  EXPECT_TRUE(entry.options.restrict_given);
  EXPECT_TRUE(entry.options.pty);
  EXPECT_FALSE(entry.options.port_forwarding);
  EXPECT_FALSE(entry.options.agent_forwarding);
  EXPECT_FALSE(entry.options.x11_forwarding);
  EXPECT_FALSE(entry.options.user_rc);
  EXPECT_FALSE(may_open_forward(entry.options, "localhost", 80));
}

TEST_F(AuthorizedKeysTest, NoFlagsAreCaseInsensitive) {
  const auto entry = parse_ok(
      "No-Pty,no-port-forwarding,NO-AGENT-FORWARDING,no-X11-forwarding,no-user-rc " + key_line_);
  EXPECT_FALSE(entry.options.pty);
  EXPECT_FALSE(entry.options.port_forwarding);
  EXPECT_FALSE(entry.options.agent_forwarding);
  EXPECT_FALSE(entry.options.x11_forwarding);
  EXPECT_FALSE(entry.options.user_rc);
  EXPECT_FALSE(entry.options.restrict_given);
}

TEST_F(AuthorizedKeysTest, QuotedCommandKeepsSpacesCommasAndEscapedQuotes) {
  const auto entry = parse_ok(R"(command="echo \"a, b\" && ls -l \\tmp",no-pty )" + key_line_);
  ASSERT_TRUE(entry.options.command.has_value());
  // \" becomes a quote; other backslashes stay as written (as sshd does).
  EXPECT_EQ(*entry.options.command, R"(echo "a, b" && ls -l \\tmp)");
  EXPECT_FALSE(entry.options.pty);
}

TEST_F(AuthorizedKeysTest, FromPatternsWithNegationAndCidr) {
  const auto entry =
      parse_ok(R"(from="*.example.org,!bad.example.org,10.1.0.0/16,2001:db8::/32" )" + key_line_);
  const auto& options = entry.options;
  EXPECT_TRUE(allowed_from(options, {"192.0.2.1", "good.example.org"}));
  EXPECT_FALSE(allowed_from(options, {"192.0.2.1", "bad.example.org"}));
  EXPECT_TRUE(allowed_from(options, {"10.1.200.3", ""}));
  EXPECT_FALSE(allowed_from(options, {"10.2.0.1", ""}));
  EXPECT_TRUE(allowed_from(options, {"2001:db8:1::5", ""}));
  EXPECT_FALSE(allowed_from(options, {"2001:db9::5", ""}));
  EXPECT_FALSE(allowed_from(options, {"192.0.2.1", "other.net"}));
  auto reason = refusal_reason(options, {"10.2.0.1", ""}, at_unix(0));
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("10.2.0.1"), std::string::npos) << *reason;
}

TEST_F(AuthorizedKeysTest, NegatedAddressWinsOverWildcard) {
  const auto entry = parse_ok(R"(from="!192.0.2.66,192.0.2.*" )" + key_line_);
  EXPECT_TRUE(allowed_from(entry.options, {"192.0.2.1", ""}));
  EXPECT_FALSE(allowed_from(entry.options, {"192.0.2.66", ""}));
}

TEST_F(AuthorizedKeysTest, PermitOpenAndListen) {
  const auto entry = parse_ok(
      R"(permitopen="db.internal:5432",permitopen="[2001:db8::1]:*",permitlisten="8080",permitlisten="0.0.0.0:9000" )" +
      key_line_);
  ASSERT_EQ(entry.options.permit_open.size(), 2u);
  EXPECT_TRUE(may_open_forward(entry.options, "db.internal", 5432));
  EXPECT_FALSE(may_open_forward(entry.options, "db.internal", 5433));
  EXPECT_FALSE(may_open_forward(entry.options, "other", 5432));
  EXPECT_TRUE(may_open_forward(entry.options, "2001:db8::1", 22));
  EXPECT_TRUE(may_listen(entry.options, "localhost", 8080));
  EXPECT_FALSE(may_listen(entry.options, "0.0.0.0", 8080));
  EXPECT_TRUE(may_listen(entry.options, "0.0.0.0", 9000));
  EXPECT_FALSE(may_listen(entry.options, "localhost", 9001));

  const auto denied = parse_ok(R"(no-port-forwarding,permitopen="db.internal:5432" )" + key_line_);
  EXPECT_FALSE(may_open_forward(denied.options, "db.internal", 5432));
}

TEST_F(AuthorizedKeysTest, EnvironmentFirstValueWins) {
  const auto entry = parse_ok(
      R"(environment="LANG=C.UTF-8",environment="PATH=/a:/b",environment="LANG=x" )" + key_line_);
  ASSERT_EQ(entry.options.environment.size(), 2u);
  EXPECT_EQ(entry.options.environment[0], (std::pair<std::string, std::string>{"LANG", "C.UTF-8"}));
  EXPECT_EQ(entry.options.environment[1], (std::pair<std::string, std::string>{"PATH", "/a:/b"}));
}

TEST_F(AuthorizedKeysTest, ExpiryTimeFormatsAndEarliestWins) {
  const auto day = parse_ok(R"(expiry-time="20300101Z" )" + key_line_);
  // 2030-01-01T00:00:00Z
  EXPECT_EQ(day.options.expiry_time->to_unix_seconds(seconds(0)), 1893456000);
  EXPECT_TRUE(valid_at(day.options, at_unix(1893455999)));
  EXPECT_FALSE(valid_at(day.options, at_unix(1893456000)));
  EXPECT_EQ(refusal_reason(day.options, {"127.0.0.1", ""}, at_unix(1893456001)),
            std::optional<std::string>("key has expired"));

  const auto local =
      parse_ok(R"(expiry-time="203001011230",expiry-time="20291231235959" )" + key_line_);
  const auto& expiry = *local.options.expiry_time;
  EXPECT_EQ(expiry.year, 2029);
  EXPECT_EQ(expiry.second, 59);
  EXPECT_FALSE(expiry.utc);
  // Local time one hour ahead of UTC expires one hour earlier in UTC.
  EXPECT_EQ(expiry.to_unix_seconds(seconds(3600)), 1893455999 - 3600);
}

TEST_F(AuthorizedKeysTest, CertAuthorityPrincipalsTunnelAndSecurityKeyFlags) {
  const auto entry = parse_ok(
      R"(cert-authority,principals="alice,bob",tunnel="3",no-touch-required,verify-required )" +
      key_line_);
  EXPECT_TRUE(entry.options.cert_authority);
  EXPECT_EQ(entry.options.principals, std::optional<std::string>("alice,bob"));
  EXPECT_EQ(entry.options.tunnel, std::optional<std::uint32_t>(3));
  EXPECT_TRUE(entry.options.no_touch_required);
  EXPECT_TRUE(entry.options.verify_required);
}

TEST_F(AuthorizedKeysTest, BadOptionsAreRefusedLikeSshd) {
  EXPECT_NE(parse_error("no-such-option " + key_line_).find("bad options"), std::string::npos);
  EXPECT_NE(parse_error(R"(command="unterminated )" + key_line_).find("bad options"),
            std::string::npos);
  EXPECT_NE(parse_error("command=ls " + key_line_).find("quotes"), std::string::npos);
  EXPECT_NE(parse_error(R"(command="a",command="b" )" + key_line_).find("multiple"),
            std::string::npos);
  EXPECT_NE(parse_error(R"(environment="1BAD NAME=x" )" + key_line_).find("environment"),
            std::string::npos);
  EXPECT_NE(parse_error(R"(environment="NOEQUALS" )" + key_line_).find("environment"),
            std::string::npos);
  EXPECT_NE(parse_error(R"(permitopen="nohostport" )" + key_line_).find("permitopen"),
            std::string::npos);
  EXPECT_NE(parse_error(R"(permitopen="host:70000" )" + key_line_).find("permitopen"),
            std::string::npos);
  EXPECT_NE(parse_error(R"(permitopen="2001:db8::1:22" )" + key_line_).find("permitopen"),
            std::string::npos);
  EXPECT_NE(parse_error(R"(expiry-time="2030" )" + key_line_).find("expiry-time"),
            std::string::npos);
  EXPECT_NE(parse_error(R"(expiry-time="20301332" )" + key_line_).find("expiry-time"),
            std::string::npos);
  EXPECT_NE(parse_error(R"(from="10.0.0.0/33" )" + key_line_).find("mask"), std::string::npos);
  EXPECT_NE(parse_error(R"(no-pty,,pty )" + key_line_).find("bad options"), std::string::npos);
  EXPECT_NE(parse_error(R"(command="x"junk )" + key_line_).find("junk"), std::string::npos);
  EXPECT_NE(parse_error("no-pty").find("missing key"), std::string::npos);
  EXPECT_NE(parse_error("no-pty ssh-ed25519 !!!notbase64").find("invalid key"), std::string::npos);
  EXPECT_NE(parse_error("ssh-dss AAAAB3NzaC1kc3M=").find("invalid key"), std::string::npos);
}

TEST_F(AuthorizedKeysTest, FileSkipsCommentsAndReportsBadLinesWithFileAndLine) {
  const std::string text =
      "# a comment\n"
      "\n"
      "   \t\n" +
      key_line_ + "\n" + "no-such-option " + key_line_ + "\n" + "  restrict " + key_line_ + "\r\n" +
      "garbage\n";
  const auto file = parse_authorized_keys(text, "/home/u/.ssh/authorized_keys");
  ASSERT_EQ(file.keys.size(), 2u);
  EXPECT_EQ(file.keys[0].line, 4u);
  EXPECT_EQ(file.keys[1].line, 6u);
  EXPECT_TRUE(file.keys[1].options.restrict_given);
  ASSERT_EQ(file.errors.size(), 2u);
  EXPECT_EQ(file.errors[0].line, 5u);
  EXPECT_EQ(file.errors[1].line, 7u);
  const std::string message = file.errors[0].to_string();
  EXPECT_EQ(message.rfind("/home/u/.ssh/authorized_keys:5: bad options", 0), 0u) << message;
}

}  // namespace
}  // namespace ssh::config
