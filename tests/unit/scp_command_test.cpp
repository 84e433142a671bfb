// make_scp_command (src/ssh/asio/scp_command.hpp) on the real disk of the
// platform the tests run on (Linux, and Windows under wine): which command
// lines it serves, an upload and a download through InProcessCommand with
// relative paths, and names that would leave the target on Windows.
#include "ssh/asio/scp_command.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using ssh::Bytes;

const std::string kOk(1, '\0');

std::string drain(ssh::net::InProcessCommand& command) {
  std::string out;
  while (command.has_output()) {
    Bytes chunk;
    Bytes err;
    command.produce(7, chunk, err);  // small, to cross record and data boundaries
    EXPECT_LE(chunk.size(), 7u);
    out.append(ssh::as_text(chunk));
  }
  return out;
}

std::string send(ssh::net::InProcessCommand& command, std::string_view input) {
  command.on_input(ssh::as_bytes(input));
  return drain(command);
}

std::string contents(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

TEST(ScpCommand, OnlyScpCommandLinesAreServed) {
  testing_support::TempDir dir("limactl-scp-unit");
  EXPECT_TRUE(ssh::net::make_scp_command("scp -t .", dir.path().string()));
  EXPECT_TRUE(ssh::net::make_scp_command("scp -r -p -f 'a b'", dir.path().string()));
  EXPECT_FALSE(ssh::net::make_scp_command("scp -t $HOME", dir.path().string()));
  EXPECT_FALSE(ssh::net::make_scp_command("echo scp -t .", dir.path().string()));
  EXPECT_FALSE(ssh::net::make_scp_command("sftp-server", dir.path().string()));
}

TEST(ScpCommand, UploadAndDownloadRelativeToTheWorkingDirectory) {
  testing_support::TempDir dir("limactl-scp-unit");
  {
    auto upload = ssh::net::make_scp_command("scp -r -t ~", dir.path().string());
    ASSERT_TRUE(upload);
    EXPECT_EQ(drain(*upload), kOk);
    EXPECT_EQ(send(*upload, "D0755 0 tree\n"), kOk);
    EXPECT_EQ(send(*upload, "C0644 11 hello.txt\nhello world" + kOk), kOk + kOk);
    EXPECT_EQ(send(*upload, "C0600 0 empty\n" + kOk), kOk + kOk);
    EXPECT_EQ(send(*upload, "E\n"), kOk);
    upload->on_input_eof();
    EXPECT_EQ(drain(*upload), "");
    EXPECT_EQ(upload->exit_status(), 0u);
  }
  EXPECT_EQ(contents(dir.path() / "tree" / "hello.txt"), "hello world");
  EXPECT_TRUE(fs::is_regular_file(dir.path() / "tree" / "empty"));
#ifndef _WIN32
  EXPECT_EQ(fs::status(dir.path() / "tree" / "empty").permissions() & fs::perms::all,
            fs::perms(0600));
#endif

  auto download = ssh::net::make_scp_command("scp -f tree/hello.txt missing", dir.path().string());
  ASSERT_TRUE(download);
  EXPECT_EQ(drain(*download), "");
  EXPECT_EQ(send(*download, kOk), "C0644 11 hello.txt\n");
  EXPECT_EQ(send(*download, kOk), "hello world" + kOk);
  const std::string missing = send(*download, kOk);
  EXPECT_TRUE(missing.starts_with("\1scp: missing: ")) << missing;
  EXPECT_EQ(download->exit_status(), 1u);
}

TEST(ScpCommand, UploadOverwritesAndTruncates) {
  testing_support::TempDir dir("limactl-scp-unit");
  {
    std::ofstream existing(dir.path() / "f", std::ios::binary);
    existing << "a longer old content";
  }
  auto upload = ssh::net::make_scp_command("scp -t f", dir.path().string());
  ASSERT_TRUE(upload);
  EXPECT_EQ(drain(*upload), kOk);
  EXPECT_EQ(send(*upload, "C0644 3 g\nnew" + kOk), kOk + kOk);
  upload->on_input_eof();
  EXPECT_EQ(upload->exit_status(), 0u);
  EXPECT_EQ(contents(dir.path() / "f"), "new");
}

TEST(ScpCommand, NamesWithThePlatformsSeparatorsAreRefused) {
  testing_support::TempDir dir("limactl-scp-unit");
  std::vector<std::string> hostile{"../x", "a/b"};
#ifdef _WIN32
  hostile.insert(hostile.end(), {"..\\x", "a\\b", "c:x"});
#endif
  for (const std::string& name : hostile) {
    auto upload = ssh::net::make_scp_command("scp -t .", dir.path().string());
    ASSERT_TRUE(upload);
    EXPECT_EQ(drain(*upload), kOk);
    EXPECT_EQ(send(*upload, "C0644 1 " + name + "\n"),
              "\2scp: error: unexpected filename: " + name + "\n");
    EXPECT_EQ(upload->exit_status(), 1u);
  }
  EXPECT_TRUE(fs::is_empty(dir.path()));
  EXPECT_FALSE(fs::exists(dir.path().parent_path() / "x"));
}

}  // namespace
