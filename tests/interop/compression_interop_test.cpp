// Compression with OpenSSH 9.2 both ways: `limactl ssh -C` against sshd, and
// OpenSSH's `ssh -C` against `limactl sshd`, each carrying 256 MiB of
// compressible and of incompressible data in both directions (stdin into
// sha256sum, a file out through cat), with the SHA-256 compared. The logs
// show the delayed method was the one negotiated.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/build_paths.hpp"
#include "support/files.hpp"
#include "support/limactl_sshd_fixture.hpp"
#include "support/process.hpp"
#include "support/ssh_client.hpp"
#include "support/sshd_fixture.hpp"
#include "support/temp_dir.hpp"

namespace testing_support {
namespace {

constexpr std::uintmax_t kVolume = 256ull * 1024 * 1024;
constexpr std::chrono::seconds kVolumeTimeout{600};

// Log-like text (numbered lines): what compression is for. Returns its
// SHA-256.
std::string make_compressible_file(const std::filesystem::path& path, std::uintmax_t size) {
  std::ofstream out(path, std::ios::binary);
  Sha256 hash;
  std::string block;
  std::uintmax_t written = 0;
  for (std::uint64_t line = 0; written < size; ++line) {
    block += "2026-11-30T04:00:00Z host limactl[4242]: line " + std::to_string(line) +
             " of a long and very repetitive log, level=debug component=transport\n";
    if (block.size() >= 1 << 20 || written + block.size() >= size) {
      if (written + block.size() > size) block.resize(size - written);
      out.write(block.data(), static_cast<std::streamsize>(block.size()));
      hash.update(block);
      written += block.size();
      block.clear();
    }
  }
  return hash.hex();
}

struct Volume {
  std::string name;
  std::filesystem::path file;
  std::string sha256;
};

class CompressionInterop : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    files_ = new TempDir("limactl-compression");
    compressible_ = new Volume{"compressible", files_->path() / "compressible", ""};
    compressible_->sha256 = make_compressible_file(compressible_->file, kVolume);
    incompressible_ = new Volume{"incompressible", files_->path() / "incompressible", ""};
    incompressible_->sha256 = make_random_file(incompressible_->file, kVolume, 2026);
  }
  static void TearDownTestSuite() {
    delete compressible_;
    delete incompressible_;
    delete files_;
  }

  // The volume through `argv_for(command)`: into sha256sum on stdin, and out
  // of cat on stdout.
  template <class ArgvFor>
  void carry_both_ways(const Volume& volume, ArgvFor argv_for) {
    RunOptions upload;
    upload.stdin_file = volume.file;
    upload.timeout = kVolumeTimeout;
    const auto hashed = run_process(argv_for("sha256sum"), upload);
    EXPECT_TRUE(hashed.exited_with(0)) << volume.name << ": " << hashed.describe();
    EXPECT_EQ(hashed.out, volume.sha256 + "  -\n") << volume.name << " upload";

    Sha256 received;
    RunOptions download;
    download.timeout = kVolumeTimeout;
    download.stdout_sink = [&](std::string_view chunk) { received.update(chunk); };
    const auto catted = run_process(argv_for("cat " + volume.file.string()), download);
    EXPECT_TRUE(catted.exited_with(0)) << volume.name << ": " << catted.describe();
    EXPECT_EQ(received.size(), kVolume) << volume.name << " download";
    EXPECT_EQ(received.hex(), volume.sha256) << volume.name << " download";
  }

  static TempDir* files_;
  static Volume* compressible_;
  static Volume* incompressible_;
};

TempDir* CompressionInterop::files_ = nullptr;
Volume* CompressionInterop::compressible_ = nullptr;
Volume* CompressionInterop::incompressible_ = nullptr;

TEST_F(CompressionInterop, LimactlSshDashCAgainstOpenSshSshd) {
  OpenSshServerOptions options;
  options.log_level = "DEBUG1";
  OpenSshServer server(options);
  const auto log_start = server.log().size();
  for (const Volume* volume : {compressible_, incompressible_}) {
    carry_both_ways(*volume, [&](const std::string& command) {
      SshCall call;
      call.client = Argv{LIMACTL_BINARY, "ssh"};
      call.options = {"-C"};
      return ssh_argv(server, command, call);
    });
  }
  const std::string log = server.log_since(log_start);
  EXPECT_NE(log.find("compression: zlib@openssh.com"), std::string::npos) << log.substr(0, 4000);
  EXPECT_EQ(log.find("compression: none"), std::string::npos) << log.substr(0, 4000);

  // The client's debug log names the method and shows it starting only
  // after authentication.
  SshCall verbose;
  verbose.client = Argv{LIMACTL_BINARY, "ssh"};
  verbose.options = {"-C", "-vvv"};
  const auto result = run_process(ssh_argv(server, "echo ok", verbose));
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_NE(result.err.find("compression zlib@openssh.com on after authentication"),
            std::string::npos)
      << result.err;
}

TEST_F(CompressionInterop, OpenSshDashCAgainstLimactlSshd) {
  LimactlSshServerOptions options;
  options.debug = true;
  LimactlSshServer server(options);
  for (const Volume* volume : {compressible_, incompressible_}) {
    carry_both_ways(
        *volume, [&](const std::string& command) { return server.ssh_command(command, {"-C"}); });
  }
  const auto verbose = run_process(server.ssh_command("echo ok", {"-C", "-v"}));
  ASSERT_TRUE(verbose.exited_with(0)) << verbose.describe();
  EXPECT_NE(verbose.err.find("compression: zlib@openssh.com"), std::string::npos) << verbose.err;
  EXPECT_NE(server.log().find("compression zlib@openssh.com on after authentication"),
            std::string::npos)
      << server.log().substr(0, 4000);
}

TEST_F(CompressionInterop, NothingIsCompressedUnlessTheClientAsks) {
  LimactlSshServerOptions options;
  options.debug = true;
  LimactlSshServer server(options);
  const auto plain = run_process(server.ssh_command("echo ok", {"-v"}));
  ASSERT_TRUE(plain.exited_with(0)) << plain.describe();
  EXPECT_NE(plain.err.find("compression: none"), std::string::npos) << plain.err;

  LimactlSshServerOptions refusing;
  refusing.options = {"Compression=no"};
  LimactlSshServer strict(refusing);
  const auto asked = run_process(strict.ssh_command("echo ok", {"-C", "-v"}));
  ASSERT_TRUE(asked.exited_with(0)) << asked.describe();
  EXPECT_NE(asked.err.find("compression: none"), std::string::npos) << asked.err;
}

}  // namespace
}  // namespace testing_support
