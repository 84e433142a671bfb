// lima.yaml (src/vm/lima_config*): loading with its diagnostics, the writer's
// round trips, Lima's layering and built-in defaults, and every validation
// error. Pure: no tools, no network, so it also runs under wine.
#include "vm/lima_config.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "support/files.hpp"
#include "support/temp_dir.hpp"
#include "vm/lima_config_defaults.hpp"
#include "vm/lima_config_load.hpp"
#include "vm/lima_config_validate.hpp"

namespace vm {
namespace {

const std::string kSha256 = "sha256:" + std::string(64, 'a');
const std::string kSha512 = "sha512:" + std::string(128, '0');

std::vector<std::string> texts(const std::vector<ConfigDiagnostic>& diagnostics) {
  std::vector<std::string> lines;
  for (const auto& diagnostic : diagnostics) lines.push_back(diagnostic.to_string());
  return lines;
}

// A configuration that sets every field limactl knows, valid as it is.
LimaConfig full_config() {
  LimaConfig config;
  config.vm_type = "qemu";
  config.os = "Linux";
  config.arch = "x86_64";
  Image image;
  image.file = {"https://cloud.debian.org/images/debian-12-genericcloud-amd64.qcow2", "x86_64",
                kSha512};
  image.kernel = ImageKernel{{"/var/cache/lima/vmlinuz", "x86_64", kSha256}, "console=ttyS0"};
  image.initrd = ImageFile{"/var/cache/lima/initrd.img", "x86_64", std::nullopt};
  config.images = {image, Image{{"~/images/local.qcow2", std::nullopt, std::nullopt}, {}, {}}};
  config.cpus = 2;
  config.memory = 2ULL << 30;
  config.disk = 1536ULL << 20;
  config.mounts = {Mount{"~", std::nullopt, false, {true, false}},
                   Mount{"/tmp/lima", "/mnt/lima", true, {false, true}}};
  config.mount_type = "reverse-sshfs";
  config.ssh = {60022, false, true};
  config.user = {"jan", 1000, "/home/jan.linux", "/bin/bash"};
  config.provision = {Provision{"system", "#!/bin/sh\napt-get install -y sshfs\n"},
                      Provision{"user", "#!/bin/sh\necho hello\n"},
                      Provision{std::nullopt, "#!/bin/sh\ntrue\n"}};
  config.probes = {Probe{"readiness", "#!/bin/sh\ncommand -v sshfs\n", "install sshfs"}};
  PortForward every_field;
  every_field.guest_ip_must_be_zero = true;
  every_field.guest_ip = "0.0.0.0";
  every_field.guest_port_range = PortRange{8000, 8010};
  every_field.host_ip = "127.0.0.1";
  every_field.host_port_range = PortRange{18000, 18010};
  every_field.proto = "tcp";
  every_field.reverse = false;
  every_field.ignore = false;
  PortForward single;
  single.guest_port = 8080;
  single.host_port = 18080;
  PortForward sockets;
  sockets.guest_socket = "/run/user/1000/docker.sock";
  sockets.host_socket = "/tmp/docker.sock";
  sockets.reverse = true;
  config.port_forwards = {every_field, single, sockets};
  config.env = {{"HTTP_PROXY", "http://proxy:3128"},
                {"QUOTED", "true"},
                {"NUMBER", "0123"},
                {"EMPTY", ""},
                {"TILDE", "~"},
                {"NULL_WORD", "null"}};
  config.param = {{"VERSION", "1.2"}};
  config.message = "Ready.\nRun `limactl shell default`.\n";
  return config;
}

ConfigLoadResult load(const std::string& text) {
  return load_lima_config(text, "lima.yaml");
}

// --- sizes ---

TEST(LimaConfigSize, ParsesLimaSizeStringsInBinaryUnits) {
  EXPECT_EQ(parse_size("4GiB"), 4ULL << 30);
  EXPECT_EQ(parse_size("4 GiB"), 4ULL << 30);
  EXPECT_EQ(parse_size("4G"), 4ULL << 30);
  EXPECT_EQ(parse_size("4gb"), 4ULL << 30);
  EXPECT_EQ(parse_size("512MiB"), 512ULL << 20);
  EXPECT_EQ(parse_size("100GiB"), 100ULL << 30);
  EXPECT_EQ(parse_size("1.5GiB"), 3ULL << 29);
  EXPECT_EQ(parse_size("2TiB"), 2ULL << 40);
  EXPECT_EQ(parse_size("1048576"), 1048576U);
  EXPECT_EQ(parse_size("0"), 0U);
}

TEST(LimaConfigSize, RefusesTextThatIsNoSize) {
  for (const char* text : {"", "lots", "-4GiB", "4 G iB", "4XiB", "GiB", "1.GiB", "4GiBs",
                           "1.2.3GiB", "99999999999999PiB"}) {
    EXPECT_EQ(parse_size(text), std::nullopt) << text;
  }
}

TEST(LimaConfigSize, FormatsInTheLargestExactUnit) {
  EXPECT_EQ(format_size(4ULL << 30), "4GiB");
  EXPECT_EQ(format_size(1536ULL << 20), "1536MiB");
  EXPECT_EQ(format_size(100ULL << 30), "100GiB");
  EXPECT_EQ(format_size(1024), "1KiB");
  EXPECT_EQ(format_size(123), "123");
  EXPECT_EQ(format_size(0), "0");
}

// --- loading and writing ---

TEST(LimaConfigLoad, ReadsLimaStyleYaml) {
  const auto loaded = load(R"(vmType: qemu
arch: aarch64
images:
- location: "https://example.org/debian-arm64.qcow2"
  arch: aarch64
  digest: )" + kSha256 + R"(
  kernel:
    location: /boot/vmlinuz
    cmdline: console=ttyAMA0
cpus: 8
memory: 8GiB
disk: "50G"
mounts:
- location: "~"
- location: /tmp/lima
  writable: true
  sshfs:
    cache: false
    followSymlinks: true
ssh:
  localPort: 60022
  loadDotSSHPubKeys: false
user:
  name: jan
  uid: 501
provision:
- mode: boot
  script: |
    #!/bin/sh
    echo booted
portForwards:
- guestPortRange: [3000, 3005]
  hostPortRange: [13000, 13005]
env:
  FOO: bar
message: hello
)");
  ASSERT_TRUE(loaded.ok()) << ::testing::PrintToString(texts(loaded.errors));
  EXPECT_TRUE(loaded.warnings.empty()) << ::testing::PrintToString(texts(loaded.warnings));
  const LimaConfig& config = loaded.config;
  EXPECT_EQ(config.vm_type, "qemu");
  EXPECT_EQ(config.os, std::nullopt);
  EXPECT_EQ(config.arch, "aarch64");
  ASSERT_EQ(config.images.size(), 1U);
  EXPECT_EQ(config.images[0].file.location, "https://example.org/debian-arm64.qcow2");
  EXPECT_EQ(config.images[0].file.digest, kSha256);
  ASSERT_TRUE(config.images[0].kernel);
  EXPECT_EQ(config.images[0].kernel->file.location, "/boot/vmlinuz");
  EXPECT_EQ(config.images[0].kernel->cmdline, "console=ttyAMA0");
  EXPECT_EQ(config.images[0].initrd, std::nullopt);
  EXPECT_EQ(config.cpus, 8);
  EXPECT_EQ(config.memory, 8ULL << 30);
  EXPECT_EQ(config.disk, 50ULL << 30);
  ASSERT_EQ(config.mounts.size(), 2U);
  EXPECT_EQ(config.mounts[0].location, "~");
  EXPECT_EQ(config.mounts[0].writable, std::nullopt);
  EXPECT_EQ(config.mounts[1].writable, true);
  EXPECT_EQ(config.mounts[1].sshfs.cache, false);
  EXPECT_EQ(config.mounts[1].sshfs.follow_symlinks, true);
  EXPECT_EQ(config.ssh.local_port, 60022);
  EXPECT_EQ(config.ssh.load_dot_ssh_pub_keys, false);
  EXPECT_EQ(config.ssh.forward_agent, std::nullopt);
  EXPECT_EQ(config.user.name, "jan");
  EXPECT_EQ(config.user.uid, 501);
  ASSERT_EQ(config.provision.size(), 1U);
  EXPECT_EQ(config.provision[0].mode, "boot");
  EXPECT_EQ(config.provision[0].script, "#!/bin/sh\necho booted\n");
  ASSERT_EQ(config.port_forwards.size(), 1U);
  EXPECT_EQ(config.port_forwards[0].guest_port_range, (PortRange{3000, 3005}));
  EXPECT_EQ(config.port_forwards[0].host_port_range, (PortRange{13000, 13005}));
  EXPECT_EQ(config.env.at("FOO"), "bar");
  EXPECT_EQ(config.message, "hello");
  EXPECT_EQ(loaded.lines.at("cpus"), 10);
  EXPECT_EQ(loaded.lines.at("mounts[1].sshfs.followSymlinks"), 19);
}

TEST(LimaConfigLoad, WrittenConfigReadsBackEqual) {
  const LimaConfig config = full_config();
  const std::string yaml = write_lima_config(config);
  const auto loaded = load(yaml);
  ASSERT_TRUE(loaded.ok()) << ::testing::PrintToString(texts(loaded.errors)) << "\n" << yaml;
  EXPECT_TRUE(loaded.warnings.empty()) << ::testing::PrintToString(texts(loaded.warnings));
  EXPECT_EQ(loaded.config, config) << yaml;
  // Written once more, the text is the same: the writer is deterministic.
  EXPECT_EQ(write_lima_config(loaded.config), yaml);
  // Sizes are written as Lima writes them, scripts as literal blocks.
  EXPECT_NE(yaml.find("memory: 2GiB"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("disk: 1536MiB"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("script: |"), std::string::npos) << yaml;
  // The message, last, is a literal block: its newline ends the text, once.
  EXPECT_TRUE(yaml.ends_with("`limactl shell default`.\n")) << yaml;
}

TEST(LimaConfigLoad, EmptyConfigWritesAnEmptyMappingAndReadsBack) {
  const std::string yaml = write_lima_config(LimaConfig{});
  const auto loaded = load(yaml);
  ASSERT_TRUE(loaded.ok()) << ::testing::PrintToString(texts(loaded.errors)) << yaml;
  EXPECT_EQ(loaded.config, LimaConfig{});
}

TEST(LimaConfigLoad, AwkwardStringsSurviveARoundTrip) {
  LimaConfig config;
  config.message = "no final newline\nsecond line";
  config.env = {{"LEADING", "  spaces"},
                {"COLON", "a: b"},
                {"HASH", "# not a comment"},
                {"CRLF", "one\r\ntwo\r\n"},
                {"TWO_NEWLINES", "x\n\n"}};
  config.provision = {Provision{"system", " indented first line\n"}};
  const std::string yaml = write_lima_config(config);
  const auto loaded = load(yaml);
  ASSERT_TRUE(loaded.ok()) << ::testing::PrintToString(texts(loaded.errors)) << yaml;
  EXPECT_EQ(loaded.config, config) << yaml;
}

// Found by fuzz_lima_yaml: a quoted "\e" loads as ESC, which the writer put
// raw into a literal block that the loader then refused. Every character
// escapes can bring in must be written escaped; non-ASCII text stays as it is.
TEST(LimaConfigLoad, EscapedControlCharactersAreWrittenEscapedAndReadBack) {
  const std::string del(1, '\x7f');
  const std::string nul(1, '\0');
  LimaConfig config;
  config.message = "\x1b[1mbold\x1b[0m";
  config.env = {{"DEL", "a" + del + "b"},
                {"NUL", "a" + nul + "b"},
                {"CR", "x86_\r\r"},
                {"C1",
                 "a\xc2\x85"
                 "b\xc2\x9f"},
                {"NBSP",
                 "a\xc2\xa0"
                 "b"},
                {"BOM",
                 "\xef\xbb\xbf"
                 "bom"},
                {"KEY\x1b" + del, "escaped key"}};
  config.provision = {Provision{"user",
                                "#!/bin/sh\x1b"
                                "echo hello\n"},
                      Provision{"system", "#!/bin/sh\necho " + del + "\n"}};
  const std::string yaml = write_lima_config(config);
  const auto loaded = load(yaml);
  ASSERT_TRUE(loaded.ok()) << ::testing::PrintToString(texts(loaded.errors)) << yaml;
  EXPECT_EQ(loaded.config, config) << yaml;

  LimaConfig plain;
  plain.message =
      "Gr\xc3\xbc\xc3\x9f"
      "e\n";
  plain.provision = {Provision{"user", "#!/bin/sh\necho caf\xc3\xa9\n"}};
  const std::string plain_yaml = write_lima_config(plain);
  EXPECT_NE(plain_yaml.find("caf\xc3\xa9"), std::string::npos) << plain_yaml;
  EXPECT_NE(plain_yaml.find("script: |"), std::string::npos) << plain_yaml;
  EXPECT_EQ(load(plain_yaml).config, plain) << plain_yaml;

  // U+FFFE and U+FFFF cannot be written back (yaml-cpp writes U+FFFD), so
  // they are refused, in a value or in a key.
  const auto refused = load("os: Linux\nmessage: \"a\\uFFFEb\"\nenv:\n  \"K\\uFFFF\": v\n");
  EXPECT_EQ(
      texts(refused.errors),
      (std::vector<std::string>{"lima.yaml:2: message: the noncharacter U+FFFE is not allowed",
                                "lima.yaml:4: env.K\xef\xbf\xbf: the noncharacter U+FFFF is not "
                                "allowed"}));
}

TEST(LimaConfigLoad, FilledDefaultsReadBackEqual) {
  const HostFacts host{"jan", "1000", "/home/jan", "x86_64"};
  const LimaConfig filled = apply_builtin_defaults(full_config(), host);
  const auto loaded = load(write_lima_config(filled));
  ASSERT_TRUE(loaded.ok()) << ::testing::PrintToString(texts(loaded.errors));
  EXPECT_EQ(loaded.config, filled);
}

TEST(LimaConfigLoad, UnknownFieldsAreWarningsWithPathAndLine) {
  const auto loaded = load(R"(cpus: 2
vmOpts: {}
images:
- location: /images/debian.qcow2
  size: 3
mounts:
- location: /tmp
  sshfs:
    sftpDriver: builtin
ssh:
  forwardX11: true
)");
  EXPECT_TRUE(loaded.ok()) << ::testing::PrintToString(texts(loaded.errors));
  EXPECT_EQ(texts(loaded.warnings),
            (std::vector<std::string>{"lima.yaml:2: vmOpts: unknown field (ignored)",
                                      "lima.yaml:5: images[0].size: unknown field (ignored)",
                                      "lima.yaml:9: mounts[0].sshfs.sftpDriver: unknown field "
                                      "(ignored)",
                                      "lima.yaml:11: ssh.forwardX11: unknown field (ignored)"}));
  // The known fields around them are read all the same.
  EXPECT_EQ(loaded.config.cpus, 2);
  ASSERT_EQ(loaded.config.images.size(), 1U);
  EXPECT_EQ(loaded.config.images[0].file.location, "/images/debian.qcow2");
}

TEST(LimaConfigLoad, TypeErrorsNameFieldPathAndLine) {
  const auto loaded = load(R"(cpus: four
memory: lots
images: /images/debian.qcow2
mounts:
- location: /tmp
- location: /srv
  writable: maybe
ssh:
  localPort: [22]
user:
  uid: 99999999999
portForwards:
- guestPortRange: [80]
- guestPort: http
env: [A]
message:
  text: hello
)");
  EXPECT_EQ(texts(loaded.errors),
            (std::vector<std::string>{
                "lima.yaml:1: cpus: expected an integer, got \"four\"",
                "lima.yaml:2: memory: expected a size such as \"4GiB\", got \"lots\"",
                "lima.yaml:3: images: expected a list, got \"/images/debian.qcow2\"",
                "lima.yaml:7: mounts[1].writable: expected a boolean, got \"maybe\"",
                "lima.yaml:9: ssh.localPort: expected an integer, got a list",
                "lima.yaml:13: portForwards[0].guestPortRange: expected a list of two ports "
                "[first, last], got a list",
                "lima.yaml:14: portForwards[1].guestPort: expected an integer, got \"http\"",
                "lima.yaml:15: env: expected a mapping, got a list",
                "lima.yaml:17: message: expected a string, got a mapping",
            }));
  // uid is read as 64 bits and range-checked by validation.
  EXPECT_EQ(loaded.config.user.uid, 99999999999LL);
  EXPECT_EQ(loaded.config.cpus, std::nullopt);
  ASSERT_EQ(loaded.config.mounts.size(), 2U);
  EXPECT_EQ(loaded.config.mounts[1].location, "/srv");
  EXPECT_EQ(loaded.config.mounts[1].writable, std::nullopt);
}

TEST(LimaConfigLoad, MalformedYamlIsOneErrorWithItsLine) {
  const auto loaded = load("cpus: 2\nmounts:\n- location: /tmp\n  writable: [true\nmemory: 4GiB\n");
  ASSERT_EQ(loaded.errors.size(), 1U) << ::testing::PrintToString(texts(loaded.errors));
  EXPECT_EQ(loaded.errors[0].file, "lima.yaml");
  EXPECT_GE(loaded.errors[0].line, 4);
  EXPECT_EQ(loaded.errors[0].path, "");
  EXPECT_EQ(loaded.errors[0].message.rfind("malformed YAML: ", 0), 0U) << loaded.errors[0].message;
}

// fuzz_lima_yaml found this: invalid UTF-8 inside a quoted value loaded,
// and the writer turned it into U+FFFD, so the written file read back
// different. Like Lima's parser, the loader now refuses text that is not
// UTF-8 or holds control characters, naming the line; escapes stay fine.
TEST(LimaConfigLoad, InvalidUtf8AndControlCharactersAreErrorsWithTheirLine) {
  struct Case {
    std::string text;
    int line;
    std::string problem;
  };
  const std::vector<Case> cases = {
      {"vmType: qemu\nimages:\n- location: \"/img\xdb\xdb\"\n", 3, "invalid UTF-8"},
      {"vmType: qemu\nos: \"\xc0\xaf\"\n", 2, "invalid UTF-8"},      // overlong "/"
      {"vmType: qemu\nos: \"\xed\xa0\x80\"\n", 2, "invalid UTF-8"},  // a surrogate
      {"vmType: qemu\nos: \"\xe2\x82\"\n", 2, "invalid UTF-8"},      // cut short
      {"vmType: qemu\nos: \"a" + std::string(1, '\0') + "b\"\n", 2, "U+0000"},
      {"vmType: qemu\nos: \"\x1b[31m\"\n", 2, "U+001B"},
  };
  for (const auto& [text, line, problem] : cases) {
    const auto loaded = load(text);
    ASSERT_EQ(loaded.errors.size(), 1U) << ::testing::PrintToString(texts(loaded.errors));
    EXPECT_EQ(loaded.errors[0].line, line) << problem;
    EXPECT_NE(loaded.errors[0].message.find(problem), std::string::npos)
        << loaded.errors[0].message;
    EXPECT_EQ(loaded.config, LimaConfig{});
  }
  // Non-ASCII text and escaped control characters are YAML and load.
  const std::string non_ascii =
      "Gr\xc3\xbc\xc3\x9f"
      "e \xf0\x9f\x90\xa7";
  const auto fine = load("os: \"" + non_ascii + "\"\nmessage: \"bell\\a\\0\"\n");
  ASSERT_TRUE(fine.ok()) << ::testing::PrintToString(texts(fine.errors));
  EXPECT_EQ(fine.config.os, non_ascii);
  EXPECT_EQ(fine.config.message, std::string("bell\a") + std::string(1, '\0'));
  const auto again = load(write_lima_config(fine.config));
  ASSERT_TRUE(again.ok()) << ::testing::PrintToString(texts(again.errors));
  EXPECT_EQ(again.config, fine.config);
}

TEST(LimaConfigLoad, TopLevelMustBeAMapping) {
  const auto loaded = load("- cpus: 2\n");
  EXPECT_EQ(texts(loaded.errors),
            (std::vector<std::string>{
                "lima.yaml:1: expected a mapping of lima.yaml fields, got a list"}));
}

TEST(LimaConfigLoad, EmptyFileAndNullFieldsSetNothing) {
  EXPECT_TRUE(load("").ok());
  EXPECT_EQ(load("").config, LimaConfig{});
  const auto loaded = load("cpus:\nmessage: ~\nssh:\n");
  EXPECT_TRUE(loaded.ok()) << ::testing::PrintToString(texts(loaded.errors));
  EXPECT_EQ(loaded.config, LimaConfig{});
}

TEST(LimaConfigLoad, MissingFileIsOneErrorNamingIt) {
  testing_support::TempDir dir;
  const auto missing = dir.path() / "nope.yaml";
  const auto loaded = load_lima_config_file(missing);
  EXPECT_EQ(texts(loaded.errors),
            (std::vector<std::string>{missing.string() + ": cannot read the file"}));
}

// --- layering and built-in defaults ---

TEST(LimaConfigDefaults, ScalarsFromTheHighestLayerThatSetsThem) {
  LimaConfig defaults;
  defaults.cpus = 1;
  defaults.memory = 1ULL << 30;
  defaults.disk = 5ULL << 30;
  defaults.ssh.forward_agent = true;
  defaults.user.shell = "/bin/zsh";
  defaults.message = "from default";
  LimaConfig instance;
  instance.cpus = 2;
  instance.memory = 2ULL << 30;
  instance.user.name = "jan";
  LimaConfig overrides;
  overrides.cpus = 3;
  overrides.user.shell = "/bin/sh";
  const LimaConfig merged = merge_lima_configs(defaults, instance, overrides);
  EXPECT_EQ(merged.cpus, 3);
  EXPECT_EQ(merged.memory, 2ULL << 30);
  EXPECT_EQ(merged.disk, 5ULL << 30);
  EXPECT_EQ(merged.ssh.forward_agent, true);
  EXPECT_EQ(merged.user.name, "jan");
  EXPECT_EQ(merged.user.shell, "/bin/sh");
  EXPECT_EQ(merged.message, "from default");
  EXPECT_EQ(merged.vm_type, std::nullopt);
}

TEST(LimaConfigDefaults, ListsConcatenateHighestLayerFirst) {
  auto with_lists = [](const std::string& layer, int port) {
    LimaConfig config;
    config.images = {Image{{"/images/" + layer + ".qcow2", {}, {}}, {}, {}}};
    config.provision = {Provision{"system", "#!/bin/sh\necho " + layer + "\n"}};
    config.probes = {Probe{{}, "#!/bin/sh\necho " + layer + "\n", {}}};
    PortForward rule;
    rule.guest_port = port;
    config.port_forwards = {rule};
    return config;
  };
  const LimaConfig merged = merge_lima_configs(with_lists("default", 1), with_lists("instance", 2),
                                               with_lists("override", 3));
  ASSERT_EQ(merged.images.size(), 3U);
  EXPECT_EQ(merged.images[0].file.location, "/images/override.qcow2");
  EXPECT_EQ(merged.images[1].file.location, "/images/instance.qcow2");
  EXPECT_EQ(merged.images[2].file.location, "/images/default.qcow2");
  ASSERT_EQ(merged.provision.size(), 3U);
  EXPECT_EQ(merged.provision[0].script, "#!/bin/sh\necho override\n");
  EXPECT_EQ(merged.provision[2].script, "#!/bin/sh\necho default\n");
  ASSERT_EQ(merged.probes.size(), 3U);
  EXPECT_EQ(merged.probes[1].script, "#!/bin/sh\necho instance\n");
  ASSERT_EQ(merged.port_forwards.size(), 3U);
  EXPECT_EQ(merged.port_forwards[0].guest_port, 3);
  EXPECT_EQ(merged.port_forwards[1].guest_port, 2);
  EXPECT_EQ(merged.port_forwards[2].guest_port, 1);
}

TEST(LimaConfigDefaults, MountsWithTheSameLocationMergeInPlace) {
  LimaConfig defaults;
  defaults.mounts = {Mount{"~", std::nullopt, false, {}}, Mount{"/srv", "/srv", {}, {}}};
  LimaConfig instance;
  instance.mounts = {Mount{"/tmp/lima", std::nullopt, true, {}},
                     Mount{"~", std::nullopt, true, {false, std::nullopt}}};
  LimaConfig overrides;
  overrides.mounts = {Mount{"~", "/host-home", std::nullopt, {std::nullopt, true}}};
  const LimaConfig merged = merge_lima_configs(defaults, instance, overrides);
  ASSERT_EQ(merged.mounts.size(), 3U);
  EXPECT_EQ(merged.mounts[0], (Mount{"~", "/host-home", true, {false, true}}));
  EXPECT_EQ(merged.mounts[1], (Mount{"/srv", "/srv", {}, {}}));
  EXPECT_EQ(merged.mounts[2], (Mount{"/tmp/lima", std::nullopt, true, {}}));
}

TEST(LimaConfigDefaults, EnvAndParamMergeKeyByKey) {
  LimaConfig defaults;
  defaults.env = {{"A", "default"}, {"B", "default"}, {"C", "default"}};
  defaults.param = {{"P", "default"}};
  LimaConfig instance;
  instance.env = {{"B", "instance"}, {"C", "instance"}};
  LimaConfig overrides;
  overrides.env = {{"C", "override"}, {"D", "override"}};
  overrides.param = {{"Q", "override"}};
  const LimaConfig merged = merge_lima_configs(defaults, instance, overrides);
  EXPECT_EQ(merged.env,
            (std::map<std::string, std::string>{
                {"A", "default"}, {"B", "instance"}, {"C", "override"}, {"D", "override"}}));
  EXPECT_EQ(merged.param,
            (std::map<std::string, std::string>{{"P", "default"}, {"Q", "override"}}));
}

TEST(LimaConfigDefaults, BuiltInDefaultsFillWhatNoLayerSet) {
  LimaConfig config;
  config.images = {Image{{"/images/debian.qcow2", {}, {}},
                         ImageKernel{{"/boot/vmlinuz", {}, {}}, {}},
                         ImageFile{"/boot/initrd", {}, {}}}};
  config.mounts = {Mount{"~", {}, {}, {}}, Mount{"~/src", {}, true, {}},
                   Mount{"C:\\Users\\jan\\work", {}, {}, {}}};
  config.provision = {Provision{{}, "#!/bin/sh\ntrue\n"}};
  config.probes = {Probe{{}, "#!/bin/sh\ntrue\n", {}}};
  PortForward single;
  single.guest_port = 8080;
  PortForward everything;
  everything.guest_ip_must_be_zero = true;
  PortForward to_host_port;
  to_host_port.guest_port = 80;
  to_host_port.host_port = 8000;
  config.port_forwards = {single, everything, to_host_port};

  const LimaConfig filled = apply_builtin_defaults(config, {"jan", "1001", "/home/jan", "aarch64"});
  EXPECT_EQ(filled.vm_type, "qemu");
  EXPECT_EQ(filled.os, "Linux");
  EXPECT_EQ(filled.arch, "aarch64");
  EXPECT_EQ(filled.images[0].file.arch, "aarch64");
  EXPECT_EQ(filled.images[0].kernel->file.arch, "aarch64");
  EXPECT_EQ(filled.images[0].initrd->arch, "aarch64");
  EXPECT_EQ(filled.cpus, 4);
  EXPECT_EQ(filled.memory, 4ULL << 30);
  EXPECT_EQ(filled.disk, 100ULL << 30);
  EXPECT_EQ(filled.mount_type, "reverse-sshfs");
  EXPECT_EQ(filled.mounts[0], (Mount{"/home/jan", "/home/jan", false, {true, false}}));
  EXPECT_EQ(filled.mounts[1], (Mount{"/home/jan/src", "/home/jan/src", true, {true, false}}));
  EXPECT_EQ(filled.mounts[2],
            (Mount{"C:\\Users\\jan\\work", "/c/Users/jan/work", false, {true, false}}));
  EXPECT_EQ(filled.ssh, (SshSettings{0, false, false}));
  EXPECT_EQ(filled.user, (UserSettings{"jan", 1001, "/home/jan.linux", "/bin/bash"}));
  EXPECT_EQ(filled.provision[0].mode, "system");
  EXPECT_EQ(filled.probes[0].mode, "readiness");

  const PortForward& first = filled.port_forwards[0];
  EXPECT_EQ(first.guest_ip, "127.0.0.1");
  EXPECT_EQ(first.host_ip, "127.0.0.1");
  EXPECT_EQ(first.proto, "tcp");
  EXPECT_EQ(first.guest_port_range, (PortRange{8080, 8080}));
  EXPECT_EQ(first.host_port_range, (PortRange{8080, 8080}));
  EXPECT_EQ(first.guest_ip_must_be_zero, false);
  EXPECT_EQ(first.reverse, false);
  EXPECT_EQ(first.ignore, false);
  EXPECT_EQ(filled.port_forwards[1].guest_ip, "0.0.0.0");
  EXPECT_EQ(filled.port_forwards[1].guest_port_range, (PortRange{1, 65535}));
  EXPECT_EQ(filled.port_forwards[1].host_port_range, (PortRange{1, 65535}));
  EXPECT_EQ(filled.port_forwards[2].host_port_range, (PortRange{8000, 8000}));

  EXPECT_TRUE(validate_lima_config(filled).ok())
      << ::testing::PrintToString(texts(validate_lima_config(filled).errors));
  // Applying the defaults twice changes nothing.
  EXPECT_EQ(apply_builtin_defaults(filled, {"other", "5", "/elsewhere", "x86_64"}), filled);
}

TEST(LimaConfigDefaults, HostUsersThatDoNotSuitTheGuestFallBackAsInLima) {
  const LimaConfig windows_user =
      apply_builtin_defaults({}, {"Jan Jansen", "0", "C:\\Users\\Jan", "x86_64"});
  EXPECT_EQ(windows_user.user.name, "lima");
  EXPECT_EQ(windows_user.user.uid, 1000);
  EXPECT_EQ(windows_user.user.home, "/home/lima.linux");
  // uid 0 is root's in the guest too, which Lima's guest user never is.
  const LimaConfig root = apply_builtin_defaults({}, {"jan", "0", "/root", "x86_64"});
  EXPECT_EQ(root.user.uid, 1000);
  // Nor is its name root's: limactl run as root gets Lima's "lima".
  const LimaConfig host_root = apply_builtin_defaults({}, {"root", "0", "/root", "x86_64"});
  EXPECT_EQ(host_root.user.name, "lima");
  EXPECT_EQ(host_root.user.uid, 1000);
  EXPECT_EQ(host_root.user.home, "/home/lima.linux");
}

TEST(LimaConfigDefaults, ExpandsOnlyTheHostUsersHome) {
  EXPECT_EQ(expand_home("~", "/home/jan"), "/home/jan");
  EXPECT_EQ(expand_home("~/src", "/home/jan"), "/home/jan/src");
  EXPECT_EQ(expand_home("~/src", "/home/jan/"), "/home/jan/src");
  EXPECT_EQ(expand_home("~\\src", "C:\\Users\\jan"), "C:\\Users\\jan/src");
  EXPECT_EQ(expand_home("/srv/~", "/home/jan"), "/srv/~");
  EXPECT_EQ(expand_home("~bob/src", "/home/jan"), std::nullopt);
}

TEST(LimaConfigDefaults, LoadsDefaultAndOverrideFilesFromLimaHome) {
  testing_support::TempDir lima_home;
  std::filesystem::create_directories(lima_home.path() / "_config");
  testing_support::write_file(
      lima_home.path() / "_config" / "default.yaml",
      "cpus: 1\nmemory: 1GiB\nmounts:\n- location: /srv\nenv:\n  A: default\n");
  testing_support::write_file(lima_home.path() / "_config" / "override.yaml",
                              "cpus: 6\nmounts:\n- location: /srv\n  writable: true\nbogus: 1\n");
  const auto instance_file = lima_home.path() / "lima.yaml";
  testing_support::write_file(instance_file,
                              "cpus: 2\nmemory: 2GiB\nimages:\n- location: /images/d.qcow2\n");
  const auto loaded = load_lima_config_with_defaults(instance_file, lima_home.path(),
                                                     {"jan", "1000", "/home/jan", "x86_64"});
  ASSERT_TRUE(loaded.ok()) << ::testing::PrintToString(texts(loaded.errors));
  ASSERT_EQ(loaded.warnings.size(), 1U);
  EXPECT_EQ(loaded.warnings[0].file, (lima_home.path() / "_config" / "override.yaml").string());
  EXPECT_EQ(loaded.warnings[0].path, "bogus");
  EXPECT_EQ(loaded.config.cpus, 6);
  EXPECT_EQ(loaded.config.memory, 2ULL << 30);
  EXPECT_EQ(loaded.config.disk, 100ULL << 30);
  ASSERT_EQ(loaded.config.mounts.size(), 1U);
  EXPECT_EQ(loaded.config.mounts[0].writable, true);
  EXPECT_EQ(loaded.config.env.at("A"), "default");
  // Lines of a merged config would point into the wrong file.
  EXPECT_TRUE(loaded.lines.empty());
  EXPECT_TRUE(validate_lima_config(loaded.config).ok());
}

TEST(LimaConfigDefaults, WithoutLayerFilesTheInstanceKeepsItsLines) {
  testing_support::TempDir lima_home;
  const auto instance_file = lima_home.path() / "lima.yaml";
  testing_support::write_file(instance_file, "images:\n- location: /images/d.qcow2\ncpus: 0\n");
  const auto loaded = load_lima_config_with_defaults(instance_file, lima_home.path(),
                                                     {"jan", "1000", "/home/jan", "x86_64"});
  ASSERT_TRUE(loaded.ok());
  const auto checked = validate_lima_config(loaded.config, "lima.yaml", loaded.lines);
  EXPECT_EQ(texts(checked.errors),
            (std::vector<std::string>{"lima.yaml:3: cpus: must be greater than 0, got 0"}));
}

// --- validation ---

TEST(LimaConfigValidate, FullConfigIsValidBeforeAndAfterDefaults) {
  const auto before = validate_lima_config(full_config());
  EXPECT_TRUE(before.ok()) << ::testing::PrintToString(texts(before.errors));
  const auto after = validate_lima_config(
      apply_builtin_defaults(full_config(), {"jan", "1000", "/home/jan", "x86_64"}));
  EXPECT_TRUE(after.ok()) << ::testing::PrintToString(texts(after.errors));
}

struct ValidationCase {
  std::string name;
  std::function<void(LimaConfig&)> change;
  std::string path;
  std::string message;
};

PortForward& single_port_rule(LimaConfig& config) {
  return config.port_forwards[1];
}

const std::vector<ValidationCase>& validation_cases() {
  static const std::vector<ValidationCase> cases = {
      {"vmType", [](LimaConfig& c) { c.vm_type = "vz"; }, "vmType",
       "unknown or unsupported vmType \"vz\" (supported: qemu)"},
      {"os", [](LimaConfig& c) { c.os = "Darwin"; }, "os",
       "unsupported os \"Darwin\" (supported: Linux)"},
      {"arch", [](LimaConfig& c) { c.arch = "mips"; }, "arch",
       "unknown architecture \"mips\" (x86_64, aarch64, armv7l, ppc64le, riscv64, s390x)"},
      {"no images", [](LimaConfig& c) { c.images.clear(); }, "images",
       "at least one image is required"},
      {"image without location", [](LimaConfig& c) { c.images[1].file.location.clear(); },
       "images[1].location", "required"},
      {"relative image", [](LimaConfig& c) { c.images[1].file.location = "disk.qcow2"; },
       "images[1].location", "must be an absolute path or start with ~/, got \"disk.qcow2\""},
      {"image URL scheme", [](LimaConfig& c) { c.images[1].file.location = "ftp://host/d.img"; },
       "images[1].location", "unsupported URL scheme \"ftp\" (http, https, file or a local path)"},
      {"other user's home", [](LimaConfig& c) { c.images[1].file.location = "~bob/d.img"; },
       "images[1].location", "cannot expand \"~bob/d.img\": only ~ and ~/... name a home"},
      {"image arch", [](LimaConfig& c) { c.images[1].file.arch = "i386"; }, "images[1].arch",
       "unknown architecture \"i386\" (x86_64, aarch64, armv7l, ppc64le, riscv64, s390x)"},
      {"short digest", [](LimaConfig& c) { c.images[0].file.digest = "sha256:abc"; },
       "images[0].digest",
       "expected sha256:<64 hex digits> or sha512:<128 hex digits>, got \"sha256:abc\""},
      {"sha512 length for sha256",
       [](LimaConfig& c) { c.images[0].file.digest = "sha256:" + std::string(128, 'a'); },
       "images[0].digest", "expected sha256:<64 hex digits>"},
      {"unknown digest algorithm",
       [](LimaConfig& c) { c.images[0].file.digest = "sha1:" + std::string(40, 'a'); },
       "images[0].digest", "expected sha256:<64 hex digits>"},
      {"uppercase digest",
       [](LimaConfig& c) { c.images[0].file.digest = "sha256:" + std::string(64, 'A'); },
       "images[0].digest", "expected sha256:<64 hex digits>"},
      {"kernel without location", [](LimaConfig& c) { c.images[0].kernel->file.location.clear(); },
       "images[0].kernel.location", "required"},
      {"kernel digest", [](LimaConfig& c) { c.images[0].kernel->file.digest = "md5:00"; },
       "images[0].kernel.digest", "expected sha256:<64 hex digits>"},
      {"kernel arch", [](LimaConfig& c) { c.images[0].kernel->file.arch = "aarch64"; },
       "images[0].kernel.arch", "differs from the image's arch \"x86_64\""},
      {"initrd without kernel", [](LimaConfig& c) { c.images[0].kernel.reset(); },
       "images[0].initrd", "needs a kernel in the same image"},
      {"initrd location", [](LimaConfig& c) { c.images[0].initrd->location = "initrd.img"; },
       "images[0].initrd.location", "must be an absolute path"},
      {"zero cpus", [](LimaConfig& c) { c.cpus = 0; }, "cpus", "must be greater than 0, got 0"},
      {"negative cpus", [](LimaConfig& c) { c.cpus = -2; }, "cpus",
       "must be greater than 0, got -2"},
      {"zero memory", [](LimaConfig& c) { c.memory = 0; }, "memory", "must be greater than 0"},
      {"zero disk", [](LimaConfig& c) { c.disk = 0; }, "disk", "must be greater than 0"},
      {"relative mount", [](LimaConfig& c) { c.mounts[1].location = "src"; }, "mounts[1].location",
       "must be an absolute path or start with ~/, got \"src\""},
      {"mount without location", [](LimaConfig& c) { c.mounts[1].location.clear(); },
       "mounts[1].location", "required"},
      {"relative mountPoint", [](LimaConfig& c) { c.mounts[1].mount_point = "mnt/lima"; },
       "mounts[1].mountPoint", "must be an absolute path in the guest, got \"mnt/lima\""},
      {"UNC mount without mountPoint",
       [](LimaConfig& c) {
         c.mounts[1] = Mount{"\\\\server\\share", {}, {}, {}};
       },
       "mounts[1].mountPoint", "required for a UNC location (it has no guest form)"},
      {"duplicate mountPoint", [](LimaConfig& c) { c.mounts[0].mount_point = "/mnt/lima"; },
       "mounts[1].mountPoint", "\"/mnt/lima\" is already the mount point of mounts[0]"},
      {"mountType", [](LimaConfig& c) { c.mount_type = "9p"; }, "mountType",
       "unknown or unsupported mountType \"9p\" (supported: reverse-sshfs)"},
      {"localPort too big", [](LimaConfig& c) { c.ssh.local_port = 70000; }, "ssh.localPort",
       "must be 0 (a free port) or a port from 1 to 65535, got 70000"},
      {"negative localPort", [](LimaConfig& c) { c.ssh.local_port = -1; }, "ssh.localPort",
       "must be 0 (a free port) or a port from 1 to 65535, got -1"},
      {"user name", [](LimaConfig& c) { c.user.name = "Jan"; }, "user.name",
       "not a valid Linux user name: \"Jan\""},
      {"root user", [](LimaConfig& c) { c.user.name = "root"; }, "user.name",
       "cannot be root: the guest user is a normal user with sudo (leave user.name out to use "
       "\"lima\")"},
      {"negative uid", [](LimaConfig& c) { c.user.uid = -1; }, "user.uid",
       "must be from 0 to 4294967295, got -1"},
      {"uid beyond 32 bits", [](LimaConfig& c) { c.user.uid = 4294967296LL; }, "user.uid",
       "must be from 0 to 4294967295, got 4294967296"},
      {"relative home", [](LimaConfig& c) { c.user.home = "home/jan"; }, "user.home",
       "must be an absolute path in the guest, got \"home/jan\""},
      {"relative shell", [](LimaConfig& c) { c.user.shell = "bash"; }, "user.shell",
       "must be an absolute path in the guest, got \"bash\""},
      {"provision mode", [](LimaConfig& c) { c.provision[1].mode = "dependency"; },
       "provision[1].mode", "unknown mode \"dependency\" (system, user or boot)"},
      {"provision script", [](LimaConfig& c) { c.provision[0].script.clear(); },
       "provision[0].script", "required"},
      {"probe mode", [](LimaConfig& c) { c.probes[0].mode = "liveness"; }, "probes[0].mode",
       "unknown mode \"liveness\" (readiness)"},
      {"probe script", [](LimaConfig& c) { c.probes[0].script.clear(); }, "probes[0].script",
       "required"},
      {"probe without #!", [](LimaConfig& c) { c.probes[0].script = "true\n"; }, "probes[0].script",
       "must start with a #! line"},
      {"guestIPMustBeZero", [](LimaConfig& c) { c.port_forwards[0].guest_ip = "127.0.0.1"; },
       "portForwards[0].guestIPMustBeZero",
       "can only be true when guestIP is 0.0.0.0, not \"127.0.0.1\""},
      {"guestIP", [](LimaConfig& c) { single_port_rule(c).guest_ip = "localhost"; },
       "portForwards[1].guestIP", "not an IP address: \"localhost\""},
      {"hostIP", [](LimaConfig& c) { single_port_rule(c).host_ip = "127.0.0.256"; },
       "portForwards[1].hostIP", "not an IP address: \"127.0.0.256\""},
      {"guestPort with guestSocket", [](LimaConfig& c) { c.port_forwards[2].guest_port = 2375; },
       "portForwards[2].guestSocket", "guestPort and guestSocket cannot both be set"},
      {"hostPort with hostSocket", [](LimaConfig& c) { c.port_forwards[2].host_port = 2375; },
       "portForwards[2].hostSocket", "hostPort and hostSocket cannot both be set"},
      {"guestPort outside its range",
       [](LimaConfig& c) {
         single_port_rule(c).guest_port_range = PortRange{8080, 8081};
       },
       "portForwards[1].guestPort", "must equal both ends of guestPortRange"},
      {"hostPort outside its range",
       [](LimaConfig& c) {
         single_port_rule(c).host_port_range = PortRange{18081, 18081};
       },
       "portForwards[1].hostPort", "must equal both ends of hostPortRange"},
      {"guest port 0", [](LimaConfig& c) { single_port_rule(c).guest_port = 0; },
       "portForwards[1].guestPort", "must be a port from 1 to 65535, got 0"},
      {"guest range start 0",
       [](LimaConfig& c) {
         c.port_forwards[0].guest_port_range = PortRange{0, 10};
       },
       "portForwards[0].guestPortRange[0]", "must be a port from 1 to 65535, got 0"},
      {"host range end too big",
       [](LimaConfig& c) {
         c.port_forwards[0].host_port_range = PortRange{65530, 65540};
       },
       "portForwards[0].hostPortRange[1]", "must be a port from 1 to 65535, got 65540"},
      {"host port too big", [](LimaConfig& c) { single_port_rule(c).host_port = 65536; },
       "portForwards[1].hostPort", "must be a port from 1 to 65535, got 65536"},
      {"guest range reversed",
       [](LimaConfig& c) {
         c.port_forwards[0].guest_port_range = PortRange{8010, 8000};
       },
       "portForwards[0].guestPortRange", "the first port is above the last"},
      {"ranges of different lengths",
       [](LimaConfig& c) {
         c.port_forwards[0].host_port_range = PortRange{18000, 18020};
       },
       "portForwards[0].hostPortRange", "must be as long as guestPortRange"},
      {"relative guestSocket",
       [](LimaConfig& c) { c.port_forwards[2].guest_socket = "docker.sock"; },
       "portForwards[2].guestSocket", "must be an absolute path in the guest, got \"docker.sock\""},
      {"guestSocket to a host port range",
       [](LimaConfig& c) {
         PortForward rule;
         rule.guest_socket = "/run/docker.sock";
         rule.host_port_range = PortRange{2000, 2001};
         c.port_forwards.push_back(rule);
       },
       "portForwards[3].guestSocket", "can only be forwarded to hostSocket or a single hostPort"},
      {"hostSocket from a guest port range",
       [](LimaConfig& c) {
         PortForward rule;
         rule.guest_port_range = PortRange{2000, 2001};
         rule.host_socket = "/tmp/two.sock";
         c.port_forwards.push_back(rule);
       },
       "portForwards[3].hostSocket",
       "can only be forwarded from guestSocket or a single guestPort"},
      {"proto", [](LimaConfig& c) { single_port_rule(c).proto = "sctp"; }, "portForwards[1].proto",
       "must be tcp, udp or any, got \"sctp\""},
      {"reverse without sockets", [](LimaConfig& c) { single_port_rule(c).reverse = true; },
       "portForwards[1].reverse", "reverse forwarding needs both guestSocket and hostSocket"},
      {"env name", [](LimaConfig& c) { c.env["BAD-NAME"] = "x"; }, "env.BAD-NAME",
       "not a valid variable name"},
      {"param name", [](LimaConfig& c) { c.param["1ST"] = "x"; }, "param.1ST",
       "not a valid variable name"},
  };
  return cases;
}

TEST(LimaConfigValidate, EachProblemIsOneErrorWithItsFieldPath) {
  for (const ValidationCase& c : validation_cases()) {
    LimaConfig config = full_config();
    c.change(config);
    const ValidationResult result = validate_lima_config(config);
    ASSERT_EQ(result.errors.size(), 1U)
        << c.name << ": " << ::testing::PrintToString(texts(result.errors));
    EXPECT_EQ(result.errors[0].path, c.path) << c.name;
    EXPECT_NE(result.errors[0].message.find(c.message), std::string::npos)
        << c.name << ": " << result.errors[0].message;
  }
}

TEST(LimaConfigValidate, AcceptsEveryValidDigestAndLocationForm) {
  EXPECT_TRUE(valid_digest(kSha256));
  EXPECT_TRUE(valid_digest(kSha512));
  EXPECT_TRUE(
      valid_digest("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
  EXPECT_FALSE(valid_digest("sha256"));
  EXPECT_FALSE(valid_digest(std::string(64, 'a')));
  for (const char* location :
       {"/images/d.qcow2", "~/d.qcow2", "file:///images/d.qcow2", "http://127.0.0.1:8080/d.qcow2",
        "https://example.org/d.qcow2", "C:\\images\\d.qcow2", "C:/images/d.qcow2"}) {
    LimaConfig config = full_config();
    config.images[1].file.location = location;
    const auto result = validate_lima_config(config);
    EXPECT_TRUE(result.ok()) << location << ": " << ::testing::PrintToString(texts(result.errors));
  }
}

TEST(LimaConfigValidate, ReportsEveryErrorAtOnceWithLines) {
  const auto loaded = load(R"(vmType: vz
images:
- location: relative.qcow2
  digest: sha256:1234
cpus: -1
mounts:
- location: /tmp
  mountPoint: tmp
provision:
- mode: ansible
  script: "#!/bin/sh"
)");
  ASSERT_TRUE(loaded.ok()) << ::testing::PrintToString(texts(loaded.errors));
  const auto result = validate_lima_config(loaded.config, "lima.yaml", loaded.lines);
  EXPECT_EQ(texts(result.errors),
            (std::vector<std::string>{
                "lima.yaml:1: vmType: unknown or unsupported vmType \"vz\" (supported: qemu)",
                "lima.yaml:3: images[0].location: must be an absolute path or start with ~/, got "
                "\"relative.qcow2\"",
                "lima.yaml:4: images[0].digest: expected sha256:<64 hex digits> or "
                "sha512:<128 hex digits>, got \"sha256:1234\"",
                "lima.yaml:5: cpus: must be greater than 0, got -1",
                "lima.yaml:8: mounts[0].mountPoint: must be an absolute path in the guest, got "
                "\"tmp\"",
                "lima.yaml:10: provision[0].mode: unknown mode \"ansible\" (system, user or boot)",
            }));
}

}  // namespace
}  // namespace vm
