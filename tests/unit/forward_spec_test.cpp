// -L/-R/-D specifications as ssh reads them: every documented form, IPv6 in
// brackets, socket paths, and clear errors for the rest.

#include "ssh/config/forward_spec.hpp"

#include <gtest/gtest.h>

namespace ssh::config {
namespace {

ForwardSpec parsed(ForwardKind kind, std::string_view text) {
  auto spec = parse_forward(kind, text);
  EXPECT_TRUE(spec.ok()) << text << ": " << (spec.ok() ? "" : spec.error().message);
  return spec.ok() ? *spec : ForwardSpec{};
}

std::string error_of(ForwardKind kind, std::string_view text) {
  auto spec = parse_forward(kind, text);
  EXPECT_FALSE(spec.ok()) << text << " parsed as " << (spec.ok() ? spec->to_string() : "");
  return spec.ok() ? std::string() : spec.error().message;
}

TEST(ForwardSpecTest, LocalTcpForms) {
  auto spec = parsed(ForwardKind::Local, "8080:db.internal:5432");
  EXPECT_FALSE(spec.listen.host.has_value());
  EXPECT_EQ(spec.listen.port, 8080);
  EXPECT_EQ(spec.connect.host, "db.internal");
  EXPECT_EQ(spec.connect.port, 5432);
  EXPECT_EQ(spec.to_string(), "-L 8080:db.internal:5432");

  spec = parsed(ForwardKind::Local, "127.0.0.2:8080:10:22");
  EXPECT_EQ(spec.listen.host, "127.0.0.2");
  EXPECT_EQ(spec.connect.host, "10");
  EXPECT_EQ(spec.connect.port, 22);

  spec = parsed(ForwardKind::Local, "8080:10:22");  // a numeric host is still a host
  EXPECT_FALSE(spec.listen.host.has_value());
  EXPECT_EQ(spec.connect.host, "10");

  spec = parsed(ForwardKind::Local, "*:0:localhost:80");
  EXPECT_EQ(spec.listen.host, "");
  EXPECT_EQ(spec.listen.port, 0);
  EXPECT_EQ(spec.to_string(), "-L *:0:localhost:80");

  spec = parsed(ForwardKind::Local, ":8080:localhost:80");
  EXPECT_EQ(spec.listen.host, "");

  spec = parsed(ForwardKind::Local, "[::1]:8080:[2001:db8::1]:80");
  EXPECT_EQ(spec.listen.host, "::1");
  EXPECT_EQ(spec.connect.host, "2001:db8::1");
  EXPECT_EQ(spec.to_string(), "-L [::1]:8080:[2001:db8::1]:80");
}

TEST(ForwardSpecTest, UnixSocketOnEitherSide) {
  auto spec = parsed(ForwardKind::Local, "/tmp/local.sock:/run/remote.sock");
  EXPECT_EQ(spec.listen.socket_path, "/tmp/local.sock");
  EXPECT_EQ(spec.connect.socket_path, "/run/remote.sock");

  spec = parsed(ForwardKind::Local, "8080:/run/docker.sock");
  EXPECT_EQ(spec.listen.port, 8080);
  EXPECT_EQ(spec.connect.socket_path, "/run/docker.sock");

  spec = parsed(ForwardKind::Local, "localhost:8080:/run/docker.sock");
  EXPECT_EQ(spec.listen.host, "localhost");
  EXPECT_EQ(spec.connect.socket_path, "/run/docker.sock");

  spec = parsed(ForwardKind::Local, "./app.sock:db:5432");
  EXPECT_EQ(spec.listen.socket_path, "./app.sock");
  EXPECT_EQ(spec.connect.host, "db");

  spec = parsed(ForwardKind::Remote, "/run/user/agent.sock:/tmp/host.sock");
  EXPECT_EQ(spec.listen.socket_path, "/run/user/agent.sock");
  EXPECT_EQ(spec.connect.socket_path, "/tmp/host.sock");

  spec = parsed(ForwardKind::Remote, "0:localhost:22");
  EXPECT_EQ(spec.listen.port, 0);  // the server picks
  EXPECT_EQ(spec.kind, ForwardKind::Remote);
}

TEST(ForwardSpecTest, DynamicForms) {
  auto spec = parsed(ForwardKind::Dynamic, "1080");
  EXPECT_FALSE(spec.listen.host.has_value());
  EXPECT_EQ(spec.listen.port, 1080);
  EXPECT_EQ(spec.to_string(), "-D 1080");
  spec = parsed(ForwardKind::Dynamic, "[::1]:1080");
  EXPECT_EQ(spec.listen.host, "::1");
  spec = parsed(ForwardKind::Dynamic, "*:1080");
  EXPECT_EQ(spec.listen.host, "");
}

TEST(ForwardSpecTest, ConfigFormJoinsItsTwoWords) {
  auto spec = parse_forward_config(ForwardKind::Local, "8080", "db:5432");
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->connect.host, "db");
  EXPECT_FALSE(parse_forward_config(ForwardKind::Local, "8080", "").ok());
  EXPECT_TRUE(parse_forward_config(ForwardKind::Dynamic, "1080", "").ok());
  EXPECT_FALSE(parse_forward_config(ForwardKind::Dynamic, "1080", "x:1").ok());
}

TEST(ForwardSpecTest, BadSpecificationsSayWhatIsWrong) {
  EXPECT_NE(error_of(ForwardKind::Local, "8080").find("nothing to connect to"), std::string::npos);
  EXPECT_NE(error_of(ForwardKind::Remote, "8080").find("remote dynamic forwarding"),
            std::string::npos);
  EXPECT_NE(error_of(ForwardKind::Local, "70000:db:1").find("not a port"), std::string::npos);
  EXPECT_NE(error_of(ForwardKind::Local, "x:y:db:1").find("not a port"), std::string::npos);
  EXPECT_NE(error_of(ForwardKind::Local, "8080:db:0").find("port 0"), std::string::npos);
  EXPECT_NE(error_of(ForwardKind::Local, "8080::22").find("no host"), std::string::npos);
  EXPECT_NE(error_of(ForwardKind::Local, "[::1:8080:db:1").find("without ']'"), std::string::npos);
  EXPECT_NE(error_of(ForwardKind::Local, "[::1]x:8080:db:1").find("not followed by ':'"),
            std::string::npos);
  EXPECT_NE(error_of(ForwardKind::Local, "8080:db:22:").find("ends with ':'"), std::string::npos);
  EXPECT_NE(error_of(ForwardKind::Local, "1:2:3:4:5").find("want"), std::string::npos);
  EXPECT_NE(error_of(ForwardKind::Dynamic, "a:b:c").find("want"), std::string::npos);
  EXPECT_NE(error_of(ForwardKind::Dynamic, "/tmp/socks.sock").find("not supported"),
            std::string::npos);
  EXPECT_NE(error_of(ForwardKind::Local, "").find("not a port"), std::string::npos);
}

}  // namespace
}  // namespace ssh::config
