// The cidata files checked by the programs that consume them: /bin/sh
// sources lima.env and param.env and parses every script, and xorriso (a
// test tool only: scripts/install-deps) reads the ISO back. Linux only
// (CMakeLists.txt leaves it out of the Windows build).
#include <botan/auto_rng.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "ssh/keys/keys.hpp"
#include "support/files.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/xorriso.hpp"
#include "vm/cidata.hpp"

namespace vm {
namespace {

namespace fs = std::filesystem;
using testing_support::run_process;
using testing_support::run_xorriso;
using testing_support::TempDir;

// Values a user (or an attacker writing lima.yaml) may put in env.
const std::map<std::string, std::string> kHostileValues = {
    {"SINGLE", "it's"},
    {"ONLY_QUOTES", "'''"},
    {"DOUBLE", "say \"hi\""},
    {"DOLLAR", "$HOME ${PATH} $(touch /tmp/cidata-pwned) `id`"},
    {"NEWLINES", "line one\nline two\n"},
    {"BACKSLASH", "a\\b\\'c\\n"},
    {"EMPTY", ""},
    {"SPACES", "  lead and trail  "},
    {"UTF8", "r\xC3\xA9sum\xC3\xA9"},
    {"GLOB", "* ? [a-z]"},
    {"SEMICOLON", "x; exit 3"},
};

CidataInput input_with_env() {
  CidataInput input;
  input.instance_name = "readback";
  input.config.user.name = "lima";
  input.config.user.uid = 1000;
  input.config.user.home = "/home/lima.linux";
  input.config.user.shell = "/bin/bash";
  input.config.mount_type = "reverse-sshfs";
  Mount mount;
  mount.location = "/tmp/host dir";
  mount.mount_point = "/tmp/it's here";
  mount.writable = true;
  input.config.mounts = {mount};
  input.config.provision = {{"system", "#!/bin/sh\necho system\n"},
                            {"user", "#!/bin/sh\necho user\n"},
                            {"boot", "echo boot\n"}};
  input.config.env = kHostileValues;
  input.config.param = kHostileValues;
  input.authorized_keys = {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXAMPLE user@host"};
  Botan::AutoSeeded_RNG rng;
  auto key = ssh::keys::PrivateKey::generate("ssh-ed25519", 0, rng);
  EXPECT_TRUE(key.ok());
  input.host_keys = {{key->to_openssh("root@lima-readback", rng),
                      key->public_key().to_openssh_line("root@lima-readback")}};
  input.timestamp_unix_seconds = 1795977005;
  return input;
}

std::map<std::string, iso9660::IsoFile> by_path(const std::vector<iso9660::IsoFile>& files) {
  std::map<std::string, iso9660::IsoFile> map;
  for (const auto& file : files) map[file.path] = file;
  return map;
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

class CidataShell : public testing::Test {
 protected:
  const CidataInput input_ = input_with_env();
  std::map<std::string, iso9660::IsoFile> files_ = by_path(cidata_files(input_));
  TempDir directory_{"cidata-shell"};
};

// What `sh` prints for `. FILE; printf %s "$NAME"`.
std::string sourced_value(const fs::path& file, const std::string& name) {
  const auto result = run_process(
      {"/bin/sh", "-c", ". \"$1\"; printf %s \"$(printf x)$" + name + "\"", "sh", file.string()});
  EXPECT_TRUE(result.exited_with(0)) << name << "\n" << result.describe();
  EXPECT_EQ(result.err, "") << name;
  // The leading x shows the value starts where expected (none of it ate it).
  EXPECT_EQ(result.out.substr(0, 1), "x") << name;
  return result.out.empty() ? "" : result.out.substr(1);
}

TEST_F(CidataShell, EnvValuesRoundTripThroughSh) {
  const fs::path env = directory_.path() / "lima.env";
  write_text(env, files_["lima.env"].contents);
  for (const auto& [name, value] : kHostileValues) {
    EXPECT_EQ(sourced_value(env, name), value) << name;
  }
  EXPECT_FALSE(fs::exists("/tmp/cidata-pwned"));
}

TEST_F(CidataShell, ParamValuesRoundTripAsParamVariables) {
  const fs::path param = directory_.path() / "param.env";
  write_text(param, files_["param.env"].contents);
  for (const auto& [name, value] : kHostileValues) {
    EXPECT_EQ(sourced_value(param, "PARAM_" + name), value) << name;
  }
}

TEST_F(CidataShell, EveryScriptParses) {
  std::vector<std::pair<std::string, std::string>> scripts;
  for (const auto& [path, file] : files_) {
    if (file.mode == 0755) scripts.emplace_back(path, file.contents);
  }
  const YAML::Node user_data = YAML::Load(files_["user-data"].contents);
  scripts.emplace_back("per-boot hook", user_data["write_files"][0]["content"].as<std::string>());
  EXPECT_EQ(scripts.size(), 1u + 3u + 3u + 1u);  // boot.sh, boot/, provision/, the hook
  for (const auto& [name, text] : scripts) {
    const fs::path script = directory_.path() / "script.sh";
    write_text(script, text);
    const auto result = run_process({"/bin/sh", "-n", script.string()});
    EXPECT_TRUE(result.exited_with(0)) << name << "\n" << result.describe() << "\n" << text;
  }
}

class CidataIso : public testing::Test {
 protected:
  void SetUp() override {
    image_ = directory_.path() / "cidata.iso";
    write_cidata_iso(input_, image_);
  }

  const CidataInput input_ = input_with_env();
  TempDir directory_{"cidata-iso"};
  fs::path image_;
};

TEST_F(CidataIso, VolumeIdIsCidata) {
  const std::string info = run_xorriso({"-indev", image_.string(), "-pvd_info"});
  EXPECT_NE(info.find("Volume Id    : cidata\n"), std::string::npos) << info;
}

TEST_F(CidataIso, HoldsTheFilesByteForByteWithTheirModes) {
  const fs::path out = directory_.path() / "extracted";
  run_xorriso({"-indev", image_.string(), "-osirrox", "on", "-extract", "/", out.string()});
  const std::vector<iso9660::IsoFile> expected = cidata_files(input_);
  std::size_t found = 0;
  for (const auto& entry : fs::recursive_directory_iterator(out)) {
    if (entry.is_regular_file()) ++found;
  }
  EXPECT_EQ(found, expected.size());
  for (const iso9660::IsoFile& file : expected) {
    EXPECT_EQ(testing_support::read_file(out / file.path), file.contents) << file.path;
  }

  // xorriso's ls -l of every node: "-rwxr-xr-x    1 0        0  ... '/boot.sh'".
  const std::string listing =
      run_xorriso({"-indev", image_.string(), "-find", "/", "-exec", "lsdl", "--"});
  std::map<std::string, std::string> modes;
  std::istringstream lines(listing);
  for (std::string line; std::getline(lines, line);) {
    const auto quote = line.find('\'');
    if (quote == std::string::npos || line.back() != '\'') continue;
    modes[line.substr(quote + 2, line.size() - quote - 3)] = line.substr(0, 10);
  }
  for (const iso9660::IsoFile& file : expected) {
    const bool script = file.path == "boot.sh" || file.path.find('/') != std::string::npos;
    const char* mode = script                     ? "-rwxr-xr-x"
                       : file.path == "user-data" ? "-rw-------"
                                                  : "-rw-r--r--";
    EXPECT_EQ(modes[file.path], mode) << file.path << "\n" << listing;
  }
  EXPECT_EQ(modes["boot"], "drwxr-xr-x") << listing;
  EXPECT_EQ(modes["provision"], "drwxr-xr-x") << listing;
}

TEST_F(CidataIso, SameInputSameImage) {
  const fs::path again = directory_.path() / "again.iso";
  write_cidata_iso(CidataInput(input_), again);
  EXPECT_EQ(testing_support::sha256_file(again), testing_support::sha256_file(image_));
}

// boot.sh run for real, as root in a private mount namespace (unshare) with
// /run, /etc/profile.d, /etc/fuse.conf and /dev/console replaced by
// scratch files, and stand-ins for the commands that would touch the
// machine (systemctl, sudo, id, chown). It checks what the guest sees: the
// steps in order, env and param in the provision scripts, a failing step
// logged without stopping the rest, and the ready files.
class CidataBootRun : public testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"mnt", "bin", "out", "profile.d"}) {
      fs::create_directories(root() / name);
    }
    write_text(root() / "fuse.conf", "# mount_max = 1000\n");
    write_text(root() / "console", "");
    write_stub("systemctl", "exit 0\n");
    write_stub("id", "if [ \"$1\" = -g ]; then echo 4242; else exec /usr/bin/id \"$@\"; fi\n");
    write_stub("chown", "echo \"chown $*\" >>" + quoted(root() / "calls") + "\n");
    // sudo -iu USER /bin/sh -c SCRIPT ARG...: runs the rest as this user.
    write_stub("sudo",
               "echo \"sudo $1 $2\" >>" + quoted(root() / "calls") + "\nshift 2\nexec \"$@\"\n");
  }

  const fs::path& root() const { return directory_.path(); }

  static std::string quoted(const fs::path& path) { return shell_single_quote(path.string()); }

  void write_stub(const std::string& name, const std::string& body) {
    write_text(root() / "bin" / name, "#!/bin/sh\n" + body);
    fs::permissions(root() / "bin" / name, fs::perms(0755));
  }

  // A provision script that appends a line naming itself and what it sees.
  std::string provision_script(const std::string& name) const {
    return "#!/bin/sh\necho \"" + name +
           " user=$(id -un) greeting=$GREETING version=$PARAM_VERSION\" >>" +
           quoted(root() / "provision.log") + "\n";
  }

  testing_support::ProcessResult run_boot(const CidataInput& input) {
    for (const iso9660::IsoFile& file : cidata_files(input)) {
      const fs::path path = root() / "mnt" / file.path;
      fs::create_directories(path.parent_path());
      write_text(path, file.contents);
      fs::permissions(path, fs::perms(file.mode));
    }
    const std::string sandbox =
        "set -e\n"
        "mount -t tmpfs tmpfs /run\n"
        "mount --bind \"$ROOT/profile.d\" /etc/profile.d\n"
        "mount --bind \"$ROOT/fuse.conf\" /etc/fuse.conf\n"
        "mount --bind \"$ROOT/console\" /dev/console\n"
        "set +e\n"
        "\"$LIMA_CIDATA_MNT/boot.sh\"\n"
        "status=$?\n"
        "cp /run/lima-ssh-ready /run/lima-fuse-ready /run/lima-boot-done \"$ROOT/out/\"\n"
        "exit $status\n";
    testing_support::RunOptions options;
    const char* path = std::getenv("PATH");
    options.environment = {
        {"ROOT", root().string()},
        {"LIMA_CIDATA_MNT", (root() / "mnt").string()},
        {"PATH", (root() / "bin").string() + ":" + (path ? path : "/usr/bin:/bin")}};
    options.timeout = std::chrono::seconds(30);
    try {
      return run_process({"unshare", "-rm", "/bin/sh", "-c", sandbox}, options);
    } catch (const std::exception& error) {
      ADD_FAILURE() << "cannot run unshare (util-linux): " << error.what();
      return {};
    }
  }

  CidataInput input() const {
    CidataInput input = input_with_env();
    input.config.env = {{"GREETING", "it's $HOME"}};
    input.config.param = {{"VERSION", "1.2"}};
    input.config.mounts[0].mount_point = (root() / "guest mounts" / "it's here").string();
    input.config.provision = {{"system", provision_script("first-system")},
                              {"user", provision_script("second-user")},
                              {"boot", provision_script("third-boot")},
                              {"system", "#!/bin/sh\nexit 7\n"},
                              {"system", provision_script("fifth-system")}};
    return input;
  }

  TempDir directory_{"cidata-boot"};
};

TEST_F(CidataBootRun, RunsEveryStepInOrderAndWritesTheReadyFiles) {
  const CidataInput boot_input = input();
  const auto result = run_boot(boot_input);
  // The failing provision script makes the status 1, after all the rest ran.
  EXPECT_TRUE(result.exited_with(1)) << result.describe();

  EXPECT_EQ(testing_support::read_file(root() / "provision.log"),
            "third-boot user=root greeting=it's $HOME version=1.2\n"
            "first-system user=root greeting=it's $HOME version=1.2\n"
            "second-user user=root greeting=it's $HOME version=1.2\n"
            "fifth-system user=root greeting=it's $HOME version=1.2\n");
  const fs::path mount_point = root() / "guest mounts" / "it's here";
  EXPECT_TRUE(fs::is_directory(mount_point));
  EXPECT_EQ(testing_support::read_file(root() / "calls"),
            "chown 1000:4242 " + mount_point.string() + "\nsudo -iu lima\n");

  EXPECT_TRUE(fs::exists(root() / "out" / "lima-ssh-ready"));
  EXPECT_TRUE(fs::exists(root() / "out" / "lima-fuse-ready"));
  EXPECT_EQ(testing_support::read_file(root() / "out" / "lima-boot-done"),
            by_path(cidata_files(boot_input))["meta-data"].contents);
  EXPECT_EQ(testing_support::read_file(root() / "fuse.conf"),
            "# mount_max = 1000\nuser_allow_other\n");
  const auto profile = root() / "profile.d" / "00-lima-env.sh";
  const auto env = run_process(
      {"/bin/sh", "-c", ". \"$1\"; sh -c 'printf %s \"$GREETING\"'", "sh", profile.string()});
  EXPECT_EQ(env.out, "it's $HOME") << env.describe();

  const std::string console = testing_support::read_file(root() / "console");
  const std::vector<std::string> lines = {
      "LIMA| boot script of instance readback started\n",
      "LIMA| provision/002-boot (boot provision, as root)\n",
      "LIMA| boot/05-guest-env.sh\n",
      "LIMA| sshd is up: /run/lima-ssh-ready\n",
      "LIMA| mount point " + mount_point.string() + " for lima\n",
      "LIMA| reverse-sshfs prepared: /run/lima-fuse-ready\n",
      "LIMA| provision/000-system (system provision, as root)\n",
      "LIMA| provision/001-user (user provision, as lima)\n",
      "LIMA| provision/003-system (system provision, as root): failed with exit status 7\n",
      "LIMA| provision/004-system (system provision, as root)\n",
      "LIMA| boot script done (status 1): /run/lima-boot-done\n",
  };
  std::size_t previous = 0;
  for (const std::string& line : lines) {
    const std::size_t position = console.find(line);
    ASSERT_NE(position, std::string::npos) << line << "not in\n" << console;
    EXPECT_GE(position, previous) << line << "out of order in\n" << console;
    previous = position;
  }
}

}  // namespace
}  // namespace vm
