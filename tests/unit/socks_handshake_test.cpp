// The SOCKS4/4a/5 server handshake of dynamic forwarding: every request
// form, byte-at-a-time arrival, early data, and the refusals a hostile or
// unsupported client gets.

#include "ssh/socks/socks_handshake.hpp"

#include <gtest/gtest.h>

#include <string>

#include "ssh/limits.hpp"

namespace ssh::socks {
namespace {

using State = Handshake::State;

Bytes bytes(std::initializer_list<int> values) {
  Bytes out;
  for (int value : values) out.push_back(static_cast<std::uint8_t>(value));
  return out;
}

Bytes operator+(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Bytes text(std::string_view value) {
  return Bytes(value.begin(), value.end());
}

// Feeds `input` one byte at a time; NeedMore until the last byte.
State feed_bytewise(Handshake& handshake, const Bytes& input) {
  State state = State::NeedMore;
  for (std::size_t i = 0; i < input.size(); ++i) {
    state = handshake.feed(ByteView(&input[i], 1));
    if (state != State::NeedMore) {
      EXPECT_EQ(i + 1, input.size()) << "decided before the request was complete";
      break;
    }
  }
  return state;
}

TEST(SocksHandshakeTest, Socks4ConnectToAnIpv4Address) {
  Handshake handshake;
  const Bytes request = bytes({4, 1, 0x1f, 0x90, 192, 0, 2, 7}) + text("user") + bytes({0});
  ASSERT_EQ(feed_bytewise(handshake, request), State::Ready);
  EXPECT_EQ(handshake.version(), 4);
  EXPECT_EQ(handshake.host(), "192.0.2.7");
  EXPECT_EQ(handshake.port(), 8080);
  EXPECT_TRUE(handshake.take_output().empty());
  handshake.reply(true);
  EXPECT_EQ(handshake.take_output(), bytes({0, 0x5a, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(handshake.state(), State::Ready);
}

TEST(SocksHandshakeTest, Socks4aConnectByNameAndEarlyDataIsKept) {
  Handshake handshake;
  const Bytes request = bytes({4, 1, 0, 80, 0, 0, 0, 1}) + bytes({0}) + text("example.test") +
                        bytes({0}) + text("GET /");
  ASSERT_EQ(handshake.feed(request), State::Ready);
  EXPECT_EQ(handshake.host(), "example.test");
  EXPECT_EQ(handshake.port(), 80);
  const auto early = handshake.early_data();
  EXPECT_EQ(std::string(early.begin(), early.end()), "GET /");
  handshake.reply(false);
  EXPECT_EQ(handshake.take_output(), bytes({0, 0x5b, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(handshake.state(), State::Failed);
}

TEST(SocksHandshakeTest, Socks5ConnectToEachAddressType) {
  struct Case {
    Bytes address;
    std::string host;
  };
  const Case cases[] = {
      {bytes({1, 127, 0, 0, 1}), "127.0.0.1"},
      {bytes({4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}),
       "2001:db8:0:0:0:0:0:1"},
      {bytes({3, 9}) + text("localhost"), "localhost"},
  };
  for (const auto& c : cases) {
    Handshake handshake;
    ASSERT_EQ(handshake.feed(bytes({5, 2, 2, 0})), State::NeedMore);
    EXPECT_EQ(handshake.take_output(), bytes({5, 0}));
    const Bytes request = bytes({5, 1, 0}) + c.address + bytes({0x01, 0xbb});
    ASSERT_EQ(feed_bytewise(handshake, request), State::Ready) << c.host;
    EXPECT_EQ(handshake.version(), 5);
    EXPECT_EQ(handshake.host(), c.host);
    EXPECT_EQ(handshake.port(), 443);
    EXPECT_TRUE(handshake.early_data().empty());
    handshake.reply(true);
    EXPECT_EQ(handshake.take_output(), bytes({5, 0, 0, 1, 0, 0, 0, 0, 0, 0}));
  }
}

TEST(SocksHandshakeTest, Socks5GreetingAndRequestInOneRead) {
  Handshake handshake;
  ASSERT_EQ(handshake.feed(bytes({5, 1, 0, 5, 1, 0, 1, 10, 0, 0, 1, 0, 22})), State::Ready);
  EXPECT_EQ(handshake.take_output(), bytes({5, 0}));
  EXPECT_EQ(handshake.host(), "10.0.0.1");
  EXPECT_EQ(handshake.port(), 22);
  handshake.reply(false, Handshake::kConnectionRefused);
  EXPECT_EQ(handshake.take_output(), bytes({5, 5, 0, 1, 0, 0, 0, 0, 0, 0}));
}

TEST(SocksHandshakeTest, UnsupportedRequestsAreRefusedInTheirProtocol) {
  {
    Handshake handshake;  // only username/password offered
    EXPECT_EQ(handshake.feed(bytes({5, 1, 2})), State::Failed);
    EXPECT_EQ(handshake.take_output(), bytes({5, 0xff}));
    EXPECT_NE(handshake.error().find("no authentication"), std::string::npos);
  }
  {
    Handshake handshake;  // SOCKS5 BIND
    EXPECT_EQ(handshake.feed(bytes({5, 1, 0, 5, 2, 0, 1, 1, 2, 3, 4, 0, 1})), State::Failed);
    EXPECT_EQ(handshake.take_output(), bytes({5, 0}) + bytes({5, 7, 0, 1, 0, 0, 0, 0, 0, 0}));
  }
  {
    Handshake handshake;  // SOCKS5 unknown address type
    EXPECT_EQ(handshake.feed(bytes({5, 1, 0, 5, 1, 0, 9})), State::Failed);
    EXPECT_EQ(handshake.take_output(), bytes({5, 0}) + bytes({5, 8, 0, 1, 0, 0, 0, 0, 0, 0}));
  }
  {
    Handshake handshake;  // SOCKS4 BIND
    EXPECT_EQ(handshake.feed(bytes({4, 2, 0, 80, 1, 2, 3, 4, 0})), State::Failed);
    EXPECT_EQ(handshake.take_output(), bytes({0, 0x5b, 0, 0, 0, 0, 0, 0}));
  }
  {
    Handshake handshake;  // neither version
    EXPECT_EQ(handshake.feed(text("GET / HTTP/1.1\r\n")), State::Failed);
    EXPECT_TRUE(handshake.take_output().empty());
    EXPECT_NE(handshake.error().find("not a SOCKS4 or SOCKS5"), std::string::npos);
  }
}

TEST(SocksHandshakeTest, HostileLengthsAreBounded) {
  {
    Handshake handshake;  // SOCKS4 user id with no NUL
    EXPECT_EQ(handshake.feed(bytes({4, 1, 0, 80, 1, 2, 3, 4}) + Bytes(300, 'u')), State::Failed);
    EXPECT_EQ(handshake.take_output(), bytes({0, 0x5b, 0, 0, 0, 0, 0, 0}));
  }
  {
    Handshake handshake;  // SOCKS4a host name with no NUL
    Bytes request = bytes({4, 1, 0, 80, 0, 0, 0, 1, 0}) + Bytes(256, 'h');
    EXPECT_EQ(handshake.feed(request), State::Failed);
  }
  {
    Handshake handshake;  // SOCKS5 empty domain name, and one with a NUL
    EXPECT_EQ(handshake.feed(bytes({5, 1, 0, 5, 1, 0, 3, 0, 0, 80})), State::Failed);
    Handshake with_nul;
    EXPECT_EQ(with_nul.feed(bytes({5, 1, 0, 5, 1, 0, 3, 3, 'a', 0, 'b', 0, 80})), State::Failed);
  }
  {
    Handshake handshake;  // more than the handshake bound before a decision
    Bytes greeting = bytes({5, 255}) + Bytes(255, 1);
    EXPECT_EQ(handshake.feed(greeting), State::Failed);  // no "no authentication" in 255 methods
    Handshake slow;
    EXPECT_EQ(slow.feed(bytes({4, 1, 0, 80, 0, 0, 0, 1})), State::NeedMore);
    EXPECT_EQ(slow.feed(Bytes(200, 'u') + bytes({0}) + Bytes(200, 'h')), State::NeedMore);
    EXPECT_EQ(slow.feed(Bytes(kMaxHandshakeLength, 'h')), State::Failed);
    EXPECT_NE(slow.error().find("longer than"), std::string::npos);
  }
  {
    Handshake handshake;  // feeding after the decision changes nothing
    ASSERT_EQ(handshake.feed(bytes({5, 1, 0, 5, 1, 0, 1, 1, 2, 3, 4, 0, 80})), State::Ready);
    EXPECT_EQ(handshake.feed(text("more")), State::Ready);
    EXPECT_TRUE(handshake.early_data().empty());
  }
}

// A SOCKS4 user id and a SOCKS4a host name may take limits::kMaxSocksNulTerminated
// bytes with their NUL; one byte more fails the request.
TEST(SocksHandshakeTest, NulTerminatedFieldLimitAtAndPast) {
  const std::size_t longest = limits::kMaxSocksNulTerminated - 1;  // without the NUL
  {
    Handshake handshake;
    const Bytes request = bytes({4, 1, 0, 80, 192, 0, 2, 7}) + Bytes(longest, 'u') + bytes({0});
    EXPECT_EQ(handshake.feed(request), State::Ready);
    EXPECT_EQ(handshake.host(), "192.0.2.7");
  }
  {
    Handshake handshake;
    const Bytes request = bytes({4, 1, 0, 80, 192, 0, 2, 7}) + Bytes(longest + 1, 'u') + bytes({0});
    EXPECT_EQ(handshake.feed(request), State::Failed);
    EXPECT_EQ(handshake.take_output(), bytes({0, 0x5b, 0, 0, 0, 0, 0, 0}));
  }
  {
    Handshake handshake;
    const Bytes request = bytes({4, 1, 0, 80, 0, 0, 0, 1, 0}) + Bytes(longest, 'h') + bytes({0});
    ASSERT_EQ(handshake.feed(request), State::Ready);
    EXPECT_EQ(handshake.host(), std::string(longest, 'h'));
  }
  {
    Handshake handshake;
    const Bytes request =
        bytes({4, 1, 0, 80, 0, 0, 0, 1, 0}) + Bytes(longest + 1, 'h') + bytes({0});
    EXPECT_EQ(handshake.feed(request), State::Failed);
  }
}

}  // namespace
}  // namespace ssh::socks
