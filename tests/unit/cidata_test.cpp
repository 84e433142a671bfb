// The cidata files read back as cloud-init reads them: the YAML documents
// parsed with yaml-cpp and every field checked, the scripts checked for the
// steps and the order they run in, and the refusals of bad input. The shell
// and ISO read-back checks are in cidata_readback_test.cpp (Linux only).
#include "vm/cidata.hpp"

#include <botan/auto_rng.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <vector>

#include "ssh/keys/keys.hpp"

namespace vm {
namespace {

GuestHostKey generated_host_key(const std::string& type) {
  Botan::AutoSeeded_RNG rng;
  auto key = ssh::keys::PrivateKey::generate(type, 0, rng);
  EXPECT_TRUE(key.ok());
  return {key->to_openssh("root@lima-test", rng), key->public_key().to_openssh_line("root@lima")};
}

const GuestHostKey& ed25519_host_key() {
  static const GuestHostKey key = generated_host_key("ssh-ed25519");
  return key;
}

const GuestHostKey& ecdsa_host_key() {
  static const GuestHostKey key = generated_host_key("ecdsa-sha2-nistp256");
  return key;
}

CidataInput sample_input() {
  CidataInput input;
  input.instance_name = "dev.box_1";
  LimaConfig& config = input.config;
  config.user.name = "alice";
  config.user.uid = 1501;
  config.user.home = "/home/alice.linux";
  config.user.shell = "/bin/bash";
  config.mount_type = "reverse-sshfs";
  Mount home;
  home.location = "/home/alice";
  home.mount_point = "/home/alice";
  home.writable = false;
  Mount work;
  work.location = "/srv/work dir";
  work.mount_point = "/mnt/work dir";
  work.writable = true;
  config.mounts = {home, work};
  config.provision = {
      {"system", "#!/bin/bash\necho first-system\n"},
      {"user", "#!/bin/sh\necho second-user\n"},
      {"boot", "#!/bin/sh\necho third-boot\n"},
      {"system", "echo fourth-system-without-shebang\n"},
  };
  config.env = {{"HTTP_PROXY", "http://proxy:3128"}, {"GREETING", "it's $HOME"}};
  config.param = {{"VERSION", "1.2"}};
  input.authorized_keys = {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXAMPLEKEYBLOBFORTESTS alice@host",
                           "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ second@host"};
  input.host_keys = {ed25519_host_key(), ecdsa_host_key()};
  input.timestamp_unix_seconds = 1795977005;
  return input;
}

std::map<std::string, iso9660::IsoFile> by_path(const std::vector<iso9660::IsoFile>& files) {
  std::map<std::string, iso9660::IsoFile> map;
  for (const auto& file : files) map[file.path] = file;
  return map;
}

std::vector<std::string> paths_of(const std::vector<iso9660::IsoFile>& files) {
  std::vector<std::string> paths;
  for (const auto& file : files) paths.push_back(file.path);
  return paths;
}

class CidataFiles : public testing::Test {
 protected:
  const CidataInput input_ = sample_input();
  const std::vector<iso9660::IsoFile> list_ = cidata_files(input_);
  std::map<std::string, iso9660::IsoFile> files_ = by_path(list_);
};

TEST_F(CidataFiles, HoldsEveryFileWithItsMode) {
  EXPECT_EQ(paths_of(list_),
            (std::vector<std::string>{"meta-data", "network-config", "user-data", "lima.env",
                                      "param.env", "boot.sh", "boot/05-guest-env.sh",
                                      "boot/10-ssh-ready.sh", "boot/20-reverse-sshfs.sh",
                                      "provision/000-system", "provision/001-user",
                                      "provision/002-boot", "provision/003-system"}));
  for (const auto& file : list_) {
    const bool script = file.path == "boot.sh" || file.path.rfind("boot/", 0) == 0 ||
                        file.path.rfind("provision/", 0) == 0;
    // user-data holds the host private keys: only root reads it in the guest.
    const std::uint32_t expected = script ? 0755 : file.path == "user-data" ? 0600 : 0644;
    EXPECT_EQ(file.mode, expected) << file.path;
  }
}

TEST_F(CidataFiles, MetaDataNamesTheInstanceAndHost) {
  const YAML::Node meta = YAML::Load(files_["meta-data"].contents);
  ASSERT_TRUE(meta.IsMap());
  EXPECT_EQ(meta.size(), 2u);
  const std::string instance_id = meta["instance-id"].as<std::string>();
  EXPECT_EQ(instance_id.rfind("iid-dev.box_1-", 0), 0u) << instance_id;
  EXPECT_EQ(instance_id.size(), std::string("iid-dev.box_1-").size() + 16) << instance_id;
  // Lima's hostname: '.' and '_' of the instance name become '-'.
  EXPECT_EQ(meta["local-hostname"].as<std::string>(), "lima-dev-box-1");
}

TEST_F(CidataFiles, InstanceIdChangesWithTheConfigOnly) {
  const auto instance_id = [](const CidataInput& input) {
    return YAML::Load(by_path(cidata_files(input))["meta-data"].contents)["instance-id"]
        .as<std::string>();
  };
  const std::string original = instance_id(input_);
  CidataInput later = input_;
  later.timestamp_unix_seconds += 3600;
  EXPECT_EQ(instance_id(later), original);
  CidataInput more_keys = input_;
  more_keys.authorized_keys.push_back("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIANOTHER third@host");
  EXPECT_NE(instance_id(more_keys), original);
  CidataInput other_script = input_;
  other_script.config.provision[0].script += "echo more\n";
  EXPECT_NE(instance_id(other_script), original);
}

TEST_F(CidataFiles, NetworkConfigIsDhcpOnEveryEthernetNamedE) {
  const YAML::Node network = YAML::Load(files_["network-config"].contents);
  EXPECT_EQ(network["version"].as<int>(), 2);
  ASSERT_TRUE(network["ethernets"].IsMap());
  ASSERT_EQ(network["ethernets"].size(), 1u);
  const YAML::Node ethernet = network["ethernets"].begin()->second;
  EXPECT_EQ(ethernet["match"]["name"].as<std::string>(), "e*");
  EXPECT_TRUE(ethernet["dhcp4"].as<bool>());
}

TEST_F(CidataFiles, UserDataCreatesTheUserWithItsKeys) {
  const std::string& text = files_["user-data"].contents;
  EXPECT_EQ(text.rfind("#cloud-config\n", 0), 0u);
  const YAML::Node data = YAML::Load(text);
  ASSERT_TRUE(data["users"].IsSequence());
  ASSERT_EQ(data["users"].size(), 1u);
  const YAML::Node user = data["users"][0];
  EXPECT_EQ(user["name"].as<std::string>(), "alice");
  EXPECT_EQ(user["uid"].as<std::uint32_t>(), 1501u);
  EXPECT_EQ(user["homedir"].as<std::string>(), "/home/alice.linux");
  EXPECT_EQ(user["shell"].as<std::string>(), "/bin/bash");
  EXPECT_EQ(user["sudo"].as<std::string>(), "ALL=(ALL) NOPASSWD:ALL");
  EXPECT_TRUE(user["lock_passwd"].as<bool>());
  EXPECT_EQ(user["ssh_authorized_keys"].as<std::vector<std::string>>(), input_.authorized_keys);
  EXPECT_FALSE(data["ssh_pwauth"].as<bool>());
  EXPECT_TRUE(data["ssh_deletekeys"].as<bool>());
}

TEST_F(CidataFiles, UserDataGivesOurHostKeys) {
  const YAML::Node keys = YAML::Load(files_["user-data"].contents)["ssh_keys"];
  ASSERT_TRUE(keys.IsMap());
  EXPECT_EQ(keys.size(), 4u);
  EXPECT_EQ(keys["ed25519_private"].as<std::string>(), ed25519_host_key().private_key_openssh);
  EXPECT_EQ(keys["ed25519_public"].as<std::string>(), ed25519_host_key().public_key_line);
  EXPECT_EQ(keys["ecdsa_private"].as<std::string>(), ecdsa_host_key().private_key_openssh);
  EXPECT_EQ(keys["ecdsa_public"].as<std::string>(), ecdsa_host_key().public_key_line);
  // What cloud-init writes must still be a key our own reader accepts.
  auto parsed = ssh::keys::PrivateKey::from_openssh(keys["ed25519_private"].as<std::string>());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->public_key().to_openssh_line("root@lima"), ed25519_host_key().public_key_line);
}

TEST_F(CidataFiles, UserDataInstallsThePerBootHookThatRunsBootSh) {
  const YAML::Node data = YAML::Load(files_["user-data"].contents);
  ASSERT_TRUE(data["write_files"].IsSequence());
  ASSERT_EQ(data["write_files"].size(), 1u);
  const YAML::Node hook = data["write_files"][0];
  EXPECT_EQ(hook["path"].as<std::string>(), "/var/lib/cloud/scripts/per-boot/00-lima.boot.sh");
  EXPECT_EQ(hook["permissions"].as<std::string>(), "0755");
  EXPECT_EQ(hook["owner"].as<std::string>(), "root:root");
  const std::string content = hook["content"].as<std::string>();
  EXPECT_EQ(content.rfind("#!/bin/sh\n", 0), 0u) << content;
  EXPECT_NE(content.find("set -eu\n"), std::string::npos) << content;
  EXPECT_NE(content.find("LIMA_CIDATA_MNT=/mnt/lima-cidata\n"), std::string::npos) << content;
  EXPECT_NE(content.find("mount -t iso9660 -o ro LABEL=cidata \"$LIMA_CIDATA_MNT\""),
            std::string::npos)
      << content;
  EXPECT_NE(content.find("exec \"$LIMA_CIDATA_MNT/boot.sh\"\n"), std::string::npos) << content;
}

TEST_F(CidataFiles, EnvFilesHoldEveryVariable) {
  EXPECT_EQ(files_["lima.env"].contents,
            "# lima.yaml env, sourced by the boot and provision scripts.\n"
            "GREETING='it'\\''s $HOME'\n"
            "HTTP_PROXY='http://proxy:3128'\n");
  EXPECT_EQ(files_["param.env"].contents,
            "# lima.yaml param, sourced by the boot and provision scripts.\n"
            "PARAM_VERSION='1.2'\n");
}

TEST_F(CidataFiles, NoParamEnvWithoutParam) {
  CidataInput input = input_;
  input.config.param.clear();
  const auto files = by_path(cidata_files(input));
  EXPECT_FALSE(files.contains("param.env"));
  EXPECT_EQ(files.at("boot.sh").contents.find("param.env"), std::string::npos);
}

TEST_F(CidataFiles, ProvisionFilesAreTheScriptsAsWritten) {
  EXPECT_EQ(files_["provision/000-system"].contents, "#!/bin/bash\necho first-system\n");
  EXPECT_EQ(files_["provision/001-user"].contents, "#!/bin/sh\necho second-user\n");
  EXPECT_EQ(files_["provision/002-boot"].contents, "#!/bin/sh\necho third-boot\n");
  EXPECT_EQ(files_["provision/003-system"].contents,
            "#!/bin/sh\necho fourth-system-without-shebang\n");
}

// Where `needle` is in `haystack`; fails the test when absent.
std::size_t position_of(const std::string& haystack, const std::string& needle) {
  const std::size_t position = haystack.find(needle);
  EXPECT_NE(position, std::string::npos) << "no " << needle << " in\n" << haystack;
  return position;
}

TEST_F(CidataFiles, BootShRunsEveryStepInOrder) {
  const std::string& boot = files_["boot.sh"].contents;
  EXPECT_EQ(boot.rfind("#!/bin/sh\n", 0), 0u);
  EXPECT_NE(boot.find("\nset -eu\n"), std::string::npos);
  EXPECT_NE(boot.find("LIMA_CIDATA_USER='alice'\n"), std::string::npos);
  EXPECT_NE(boot.find("LIMA_CIDATA_UID=1501\n"), std::string::npos);
  EXPECT_NE(boot.find("LIMA_CIDATA_HOME='/home/alice.linux'\n"), std::string::npos);
  const std::vector<std::string> steps = {
      "step 'provision/002-boot (boot provision, as root)' as_root",
      "step 'boot/05-guest-env.sh' \"$LIMA_CIDATA_MNT/boot/05-guest-env.sh\"",
      "step 'boot/10-ssh-ready.sh' \"$LIMA_CIDATA_MNT/boot/10-ssh-ready.sh\"",
      "step 'boot/20-reverse-sshfs.sh' \"$LIMA_CIDATA_MNT/boot/20-reverse-sshfs.sh\"",
      "step 'provision/000-system (system provision, as root)' as_root",
      "step 'provision/001-user (user provision, as alice)' as_user",
      "step 'provision/003-system (system provision, as root)' as_root",
      "cp \"$LIMA_CIDATA_MNT/meta-data\" /run/lima-boot-done\n",
  };
  std::size_t previous = 0;
  for (const std::string& step : steps) {
    const std::size_t position = position_of(boot, step);
    EXPECT_GT(position, previous) << step << " out of order in\n" << boot;
    previous = position;
  }
  EXPECT_NE(boot.find("sudo -iu \"$LIMA_CIDATA_USER\""), std::string::npos) << boot;
  EXPECT_NE(boot.find(". \"$LIMA_CIDATA_MNT/param.env\""), std::string::npos) << boot;
  EXPECT_NE(boot.find("exit \"$status\"\n"), std::string::npos) << boot;
}

TEST_F(CidataFiles, BootScriptsWriteTheReadyFiles) {
  for (const char* name :
       {"boot/05-guest-env.sh", "boot/10-ssh-ready.sh", "boot/20-reverse-sshfs.sh"}) {
    const std::string& script = files_[name].contents;
    EXPECT_EQ(script.rfind("#!/bin/sh\n", 0), 0u) << name;
    EXPECT_NE(script.find("\nset -eu\n"), std::string::npos) << name;
    EXPECT_NE(script.find("log "), std::string::npos) << name;
  }
  const std::string& ssh = files_["boot/10-ssh-ready.sh"].contents;
  EXPECT_GT(position_of(ssh, "touch /run/lima-ssh-ready"),
            position_of(ssh, "systemctl is-active --quiet ssh"));
  const std::string& fuse = files_["boot/20-reverse-sshfs.sh"].contents;
  const std::size_t allow_other = position_of(fuse, "echo user_allow_other >>/etc/fuse.conf");
  const std::size_t mount_points =
      position_of(fuse, "for mount_point in '/home/alice' '/mnt/work dir'; do");
  const std::size_t chown = position_of(fuse, "chown \"$LIMA_CIDATA_UID:$gid\" \"$mount_point\"");
  const std::size_t ready = position_of(fuse, "touch /run/lima-fuse-ready");
  EXPECT_LT(allow_other, mount_points);
  EXPECT_LT(mount_points, chown);
  EXPECT_LT(chown, ready);
  EXPECT_NE(files_["boot/05-guest-env.sh"].contents.find("/etc/profile.d/00-lima-env.sh"),
            std::string::npos);
}

TEST_F(CidataFiles, SameInputSameBytes) {
  const auto again = cidata_files(sample_input());
  ASSERT_EQ(again.size(), list_.size());
  for (std::size_t i = 0; i < list_.size(); ++i) {
    EXPECT_EQ(again[i].path, list_[i].path);
    EXPECT_EQ(again[i].contents, list_[i].contents) << list_[i].path;
    EXPECT_EQ(again[i].mode, list_[i].mode) << list_[i].path;
  }
}

// The message of the CidataError cidata_files(input) throws; empty (and a
// test failure) when it throws none.
std::string refusal(const CidataInput& input) {
  try {
    cidata_files(input);
  } catch (const CidataError& error) {
    return error.what();
  }
  ADD_FAILURE() << "accepted";
  return {};
}

TEST(CidataRefuses, BadInstanceNames) {
  for (const char* name : {"", "-lead", "a..b", "x y", "a/b", "trail-"}) {
    CidataInput input = sample_input();
    input.instance_name = name;
    EXPECT_NE(refusal(input).find("instance name"), std::string::npos) << name;
  }
}

TEST(CidataRefuses, BadUsers) {
  CidataInput input = sample_input();
  input.config.user.name = "Bad User";
  EXPECT_NE(refusal(input).find("user.name: not a valid Linux user name: \"Bad User\""),
            std::string::npos);
  input = sample_input();
  input.config.user.uid = -1;
  EXPECT_NE(refusal(input).find("user.uid"), std::string::npos);
  input = sample_input();
  input.config.user.home = "relative";
  EXPECT_NE(refusal(input).find("user.home: must be an absolute path"), std::string::npos);
  input = sample_input();
  input.config.user.shell.reset();
  EXPECT_NE(refusal(input).find("must be set"), std::string::npos);
}

TEST(CidataRefuses, UnknownProvisionMode) {
  CidataInput input = sample_input();
  input.config.provision[1].mode = "dependency";
  EXPECT_EQ(refusal(input),
            "provision[1].mode: unknown mode \"dependency\" (system, user or boot)");
}

TEST(CidataRefuses, BadVariables) {
  CidataInput input = sample_input();
  input.config.env["1BAD"] = "x";
  EXPECT_EQ(refusal(input), "env.1BAD: not a valid variable name");
  input = sample_input();
  input.config.param["P"] = std::string("a\0b", 3);
  EXPECT_EQ(refusal(input), "param.P: a NUL byte cannot be in a shell variable");
}

TEST(CidataRefuses, BadKeys) {
  CidataInput input = sample_input();
  input.host_keys = {ecdsa_host_key()};
  EXPECT_NE(refusal(input).find("an ed25519 guest host key is required"), std::string::npos);
  input = sample_input();
  input.host_keys.push_back(ed25519_host_key());
  EXPECT_EQ(refusal(input), "two guest host keys of type ed25519");
  input = sample_input();
  input.host_keys[0].private_key_openssh = "not a key";
  EXPECT_NE(refusal(input).find("not an OpenSSH private key"), std::string::npos);
  input = sample_input();
  input.host_keys[0].public_key_line = "ssh-dss AAAA";
  EXPECT_NE(refusal(input).find("unsupported type \"ssh-dss\""), std::string::npos);
  input = sample_input();
  input.authorized_keys.push_back("ssh-ed25519 AAAA\nssh-ed25519 BBBB");
  EXPECT_NE(refusal(input).find("an authorized key must be one non-empty line"), std::string::npos);
}

TEST(CidataRefuses, MountsItCannotPrepare) {
  CidataInput input = sample_input();
  input.config.mount_type = "9p";
  EXPECT_EQ(refusal(input), "mountType: \"9p\" is not supported (reverse-sshfs)");
  input = sample_input();
  input.config.mounts[1].mount_point.reset();
  EXPECT_NE(refusal(input).find("mounts[1].mountPoint: must be an absolute path"),
            std::string::npos);
}

}  // namespace
}  // namespace vm
