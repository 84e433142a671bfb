// `limactl scp`'s operands (src/cli/scp_command.hpp) as OpenSSH's scp reads
// them, and the progress meter's line (src/cli/progress_meter.hpp).
#include <gtest/gtest.h>

#include "cli/progress_meter.hpp"
#include "cli/scp_command.hpp"

namespace {

using cli::parse_scp_operand;

TEST(ScpOperands, RemoteForms) {
  auto plain = parse_scp_operand("host:dir/file");
  EXPECT_TRUE(plain.remote);
  EXPECT_EQ(plain.user, "");
  EXPECT_EQ(plain.host, "host");
  EXPECT_EQ(plain.path, "dir/file");

  auto with_user = parse_scp_operand("me@example.org:/abs/path");
  EXPECT_TRUE(with_user.remote);
  EXPECT_EQ(with_user.user, "me");
  EXPECT_EQ(with_user.host, "example.org");
  EXPECT_EQ(with_user.path, "/abs/path");

  auto home = parse_scp_operand("host:");
  EXPECT_TRUE(home.remote);
  EXPECT_EQ(home.path, "");

  auto v6 = parse_scp_operand("[::1]:x:y");
  EXPECT_TRUE(v6.remote);
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.path, "x:y");

  auto v6_user = parse_scp_operand("root@[fe80::1%eth0]:/tmp");
  EXPECT_TRUE(v6_user.remote);
  EXPECT_EQ(v6_user.user, "root");
  EXPECT_EQ(v6_user.host, "fe80::1%eth0");
  EXPECT_EQ(v6_user.path, "/tmp");

  // The last '@' before the colon separates the user.
  auto at_in_user = parse_scp_operand("a@b@host:p");
  EXPECT_EQ(at_in_user.user, "a@b");
  EXPECT_EQ(at_in_user.host, "host");
}

TEST(ScpOperands, LocalForms) {
  for (const char* text : {"file", "./a:b", "/abs/x:y", "dir/sub:x", ":leading", "", "[::1"}) {
    auto operand = parse_scp_operand(text);
    EXPECT_FALSE(operand.remote) << text;
    EXPECT_EQ(operand.path, text);
  }
}

TEST(ProgressMeter, LineShowsNamePercentBytesRateAndEta) {
  const std::string line =
      cli::ProgressMeter::render("big.bin", 512ull * 1024 * 1024, 1024ull * 1024 * 1024,
                                 100.0 * 1024 * 1024, std::chrono::seconds(5), false, 79);
  EXPECT_EQ(line.size(), 79u);
  EXPECT_TRUE(line.starts_with("big.bin ")) << line;
  EXPECT_NE(line.find(" 50% "), std::string::npos) << line;
  EXPECT_NE(line.find("512MB"), std::string::npos) << line;
  EXPECT_NE(line.find("100MB/s"), std::string::npos) << line;
  EXPECT_NE(line.find("00:05 ETA"), std::string::npos) << line;

  const std::string done =
      cli::ProgressMeter::render("f", 10, 10, 1.0, std::chrono::seconds(75), true, 60);
  EXPECT_NE(done.find("100%"), std::string::npos) << done;
  EXPECT_NE(done.find("01:15"), std::string::npos) << done;
  EXPECT_EQ(done.find("ETA"), std::string::npos) << done;

  // A long name is cut so the numbers still fit.
  const std::string cut = cli::ProgressMeter::render(std::string(200, 'n'), 0, 0, 0.0,
                                                     std::chrono::seconds(0), false, 50);
  EXPECT_EQ(cut.size(), 50u);
  EXPECT_NE(cut.find("100%"), std::string::npos) << cut;  // an empty file is complete
}

}  // namespace
