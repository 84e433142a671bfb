// `limactl validate` as users run it: the built binary on good and bad
// files, with $LIMA_HOME pointing at a temp dir so the user's own
// _config/default.yaml cannot change the result. Linux only (it runs
// processes through tests/support/process.*).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "support/build_paths.hpp"
#include "support/files.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "vm/lima_config_load.hpp"

namespace {

using testing_support::ProcessResult;
using testing_support::TempDir;

class LimactlValidate : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_.path() / name;
    testing_support::write_file(path, text);
    return path.string();
  }

  ProcessResult validate(const testing_support::Argv& arguments) {
    testing_support::Argv argv = {LIMACTL_BINARY, "validate"};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    testing_support::RunOptions options;
    options.environment = {{"LIMA_HOME", (dir_.path() / "lima-home").string()}};
    options.timeout = std::chrono::seconds(30);
    return testing_support::run_process(argv, options);
  }

  TempDir dir_{"limactl-validate"};
};

TEST_F(LimactlValidate, GoodFileIsOkAndUnknownFieldsOnlyWarn) {
  const std::string file = write("good.yaml",
                                 "images:\n"
                                 "- location: https://example.org/debian.qcow2\n"
                                 "cpus: 2\n"
                                 "futureField: true\n");
  const ProcessResult result = validate({file});
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_EQ(result.out, file + ": OK\n");
  EXPECT_EQ(result.err,
            "limactl validate: warning: " + file + ":4: futureField: unknown field (ignored)\n");
}

TEST_F(LimactlValidate, BadFileFailsWithEveryErrorAndItsLine) {
  const std::string file = write("bad.yaml",
                                 "images:\n"
                                 "- location: relative.qcow2\n"
                                 "cpus: 0\n"
                                 "mountType: 9p\n");
  const ProcessResult result = validate({file});
  ASSERT_TRUE(result.exited_with(1)) << result.describe();
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err,
            "limactl validate: " + file +
                ":2: images[0].location: must be an absolute path or start with ~/, got "
                "\"relative.qcow2\"\n"
                "limactl validate: " +
                file + ":3: cpus: must be greater than 0, got 0\n" + "limactl validate: " + file +
                ":4: mountType: unknown or unsupported mountType \"9p\" (supported: "
                "reverse-sshfs)\n");
}

TEST_F(LimactlValidate, TypeErrorsAndMalformedYamlFail) {
  const std::string typed = write("typed.yaml",
                                  "images:\n- location: /d.qcow2\nmounts:\n- location: /tmp\n"
                                  "  writable: maybe\n");
  const std::string malformed = write("malformed.yaml", "cpus: [2\n");
  const ProcessResult result = validate({typed, malformed});
  ASSERT_TRUE(result.exited_with(1)) << result.describe();
  EXPECT_EQ(result.out, "");
  EXPECT_NE(result.err.find("limactl validate: " + typed +
                            ":5: mounts[0].writable: expected a boolean, got \"maybe\"\n"),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("limactl validate: " + malformed + ":"), std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("malformed YAML"), std::string::npos) << result.err;
}

TEST_F(LimactlValidate, OneBadFileFailsTheRunButTheOthersAreStillChecked) {
  const std::string good = write("good.yaml", "images:\n- location: /images/d.qcow2\n");
  const std::string bad = write("bad.yaml", "cpus: 1\n");
  const ProcessResult result = validate({bad, good});
  ASSERT_TRUE(result.exited_with(1)) << result.describe();
  EXPECT_EQ(result.out, good + ": OK\n");
  EXPECT_EQ(result.err, "limactl validate: " + bad + ": images: at least one image is required\n");
}

TEST_F(LimactlValidate, FillPrintsTheConfigWithDefaultsAndLimaHomeLayers) {
  std::filesystem::create_directories(dir_.path() / "lima-home" / "_config");
  write("lima-home/_config/override.yaml", "cpus: 3\n");
  const std::string file = write("good.yaml", "images:\n- location: /images/d.qcow2\n");
  const ProcessResult result = validate({"--fill", file});
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  const std::string ok_line = file + ": OK\n";
  ASSERT_EQ(result.out.rfind(ok_line, 0), 0U) << result.out;
  const auto filled = vm::load_lima_config(result.out.substr(ok_line.size()), "filled");
  ASSERT_TRUE(filled.ok()) << result.out;
  EXPECT_EQ(filled.config.cpus, 3);
  EXPECT_EQ(filled.config.memory, 4ULL << 30);
  EXPECT_EQ(filled.config.vm_type, "qemu");
  EXPECT_EQ(filled.config.mount_type, "reverse-sshfs");
  ASSERT_EQ(filled.config.images.size(), 1U);
  EXPECT_TRUE(filled.config.images[0].file.arch.has_value());
}

TEST_F(LimactlValidate, MissingFileIsAnError) {
  const std::string missing = (dir_.path() / "nope.yaml").string();
  const ProcessResult result = validate({missing});
  ASSERT_TRUE(result.exited_with(1)) << result.describe();
  EXPECT_EQ(result.err, "limactl validate: " + missing + ": cannot read the file\n");
}

}  // namespace
