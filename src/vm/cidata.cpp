#include "vm/cidata.hpp"

#include <botan/hash.h>
#include <botan/hex.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <regex>

#include "vm/instance_store.hpp"

namespace vm {
namespace {

constexpr std::uint32_t kDataMode = 0644;
constexpr std::uint32_t kSecretMode = 0600;  // user-data holds the host private keys
constexpr std::uint32_t kScriptMode = 0755;

// Where cloud-init's scripts_per_boot module looks; it runs in the final
// stage, after the user and the ssh host keys exist (bootcmd runs before
// users-groups on the first boot, too early to chown for the user).
constexpr const char* kPerBootHookPath = "/var/lib/cloud/scripts/per-boot/00-lima.boot.sh";

std::string quoted(const std::string& value) {
  return "\"" + value + "\"";
}

void check_instance_name(const std::string& name) {
  if (auto problem = instance_name_problem(name)) throw CidataError(*problem);
}

struct GuestUser {
  std::string name;
  std::uint32_t uid = 0;
  std::string home;
  std::string shell;
};

GuestUser guest_user(const LimaConfig& config) {
  static const std::regex kUserName("^[a-z_][a-z0-9_-]{0,31}$");
  const UserSettings& user = config.user;
  if (!user.name || !user.uid || !user.home || !user.shell) {
    throw CidataError("user.name, user.uid, user.home and user.shell must be set for cidata");
  }
  if (!std::regex_match(*user.name, kUserName)) {
    throw CidataError("user.name: not a valid Linux user name: " + quoted(*user.name));
  }
  if (*user.uid < 0 || *user.uid > 0xFFFFFFFFLL) {
    throw CidataError("user.uid: must be from 0 to 4294967295, got " + std::to_string(*user.uid));
  }
  for (const auto& [field, value] :
       {std::pair{"user.home", *user.home}, {"user.shell", *user.shell}}) {
    if (value.empty() || value[0] != '/' ||
        value.find_first_of(std::string("\n\0", 2)) != std::string::npos) {
      throw CidataError(std::string(field) + ": must be an absolute path in the guest, got " +
                        quoted(value));
    }
  }
  return {*user.name, static_cast<std::uint32_t>(*user.uid), *user.home, *user.shell};
}

void check_single_line(const std::string& what, const std::string& value) {
  if (value.empty() || value.find_first_of(std::string("\r\n\0", 3)) != std::string::npos) {
    throw CidataError(what + " must be one non-empty line, got " + quoted(value));
  }
}

// cloud-init's ssh_keys name for a key type ("ed25519" for "ssh-ed25519").
std::string cloud_init_key_type(const std::string& public_key_line) {
  const std::string type = public_key_line.substr(0, public_key_line.find(' '));
  if (type == "ssh-ed25519") return "ed25519";
  if (type.rfind("ecdsa-sha2-nistp", 0) == 0) return "ecdsa";
  if (type == "ssh-rsa") return "rsa";
  throw CidataError("guest host key of unsupported type " + quoted(type) +
                    " (ssh-ed25519, ecdsa-sha2-nistp*, ssh-rsa)");
}

// cloud-init key type -> (private key text, public line), sorted by type.
std::map<std::string, std::pair<std::string, std::string>> host_keys_by_type(
    const std::vector<GuestHostKey>& keys) {
  std::map<std::string, std::pair<std::string, std::string>> by_type;
  for (const GuestHostKey& key : keys) {
    check_single_line("a guest host public key", key.public_key_line);
    const std::string type = cloud_init_key_type(key.public_key_line);
    if (key.private_key_openssh.rfind("-----BEGIN OPENSSH PRIVATE KEY-----", 0) != 0) {
      throw CidataError("the " + type +
                        " guest host private key is not an OpenSSH private key file's text");
    }
    if (!by_type.emplace(type, std::pair{key.private_key_openssh, key.public_key_line}).second) {
      throw CidataError("two guest host keys of type " + type);
    }
  }
  if (!by_type.contains("ed25519")) {
    throw CidataError("an ed25519 guest host key is required (the host pins it)");
  }
  return by_type;
}

void check_variable(const std::string& field, const std::string& name, const std::string& value) {
  static const std::regex kName("^[A-Za-z_][A-Za-z0-9_]*$");
  if (!std::regex_match(name, kName)) {
    throw CidataError(field + "." + name + ": not a valid variable name");
  }
  if (value.find('\0') != std::string::npos) {
    throw CidataError(field + "." + name + ": a NUL byte cannot be in a shell variable");
  }
}

std::string env_file(const std::string& field, const std::map<std::string, std::string>& values,
                     const std::string& prefix) {
  std::string text = "# lima.yaml " + field + ", sourced by the boot and provision scripts.\n";
  for (const auto& [name, value] : values) {
    check_variable(field, name, value);
    text += prefix + name + "=" + shell_single_quote(value) + "\n";
  }
  return text;
}

std::string emitted(const YAML::Emitter& out, const std::string& what) {
  if (!out.good()) throw CidataError("cannot write " + what + ": " + out.GetLastError());
  return std::string(out.c_str()) + "\n";
}

std::string meta_data(const std::string& instance_id, const std::string& hostname) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "instance-id" << YAML::Value << instance_id;
  out << YAML::Key << "local-hostname" << YAML::Value << hostname;
  out << YAML::EndMap;
  return emitted(out, "meta-data");
}

// As Lima's: DHCP on the one virtio NIC, whatever the kernel names it
// (eth0 with net.ifnames=0, ens3 / enp0s2 otherwise).
std::string network_config() {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "version" << YAML::Value << 2;
  out << YAML::Key << "ethernets" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "lima-ethernets" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "match" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << "e*";
  out << YAML::EndMap;
  out << YAML::Key << "dhcp4" << YAML::Value << true;
  out << YAML::EndMap << YAML::EndMap << YAML::EndMap;
  return emitted(out, "network-config");
}

std::string per_boot_hook() {
  return std::string(
             "#!/bin/sh\n"
             "# Written by cloud-init from Lima's cidata user-data; runs at every boot.\n"
             "set -eu\n"
             "LIMA_CIDATA_MNT=") +
         kCidataMountPoint +
         "\n"
         "mkdir -p \"$LIMA_CIDATA_MNT\"\n"
         "if ! mountpoint -q \"$LIMA_CIDATA_MNT\"; then\n"
         "  mount -t iso9660 -o ro LABEL=cidata \"$LIMA_CIDATA_MNT\"\n"
         "fi\n"
         "export LIMA_CIDATA_MNT\n"
         "exec \"$LIMA_CIDATA_MNT/boot.sh\"\n";
}

std::string user_data(const GuestUser& user, const std::vector<std::string>& authorized_keys,
                      const std::map<std::string, std::pair<std::string, std::string>>& host_keys) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "users" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << user.name;
  out << YAML::Key << "uid" << YAML::Value << user.uid;
  out << YAML::Key << "homedir" << YAML::Value << YAML::DoubleQuoted << user.home;
  out << YAML::Key << "shell" << YAML::Value << YAML::DoubleQuoted << user.shell;
  out << YAML::Key << "sudo" << YAML::Value << YAML::DoubleQuoted << "ALL=(ALL) NOPASSWD:ALL";
  out << YAML::Key << "lock_passwd" << YAML::Value << true;
  out << YAML::Key << "ssh_authorized_keys" << YAML::Value << YAML::BeginSeq;
  for (const std::string& key : authorized_keys) out << YAML::DoubleQuoted << key;
  out << YAML::EndSeq;
  out << YAML::EndMap << YAML::EndSeq;

  out << YAML::Key << "ssh_pwauth" << YAML::Value << false;
  // Only our keys: cloud-init deletes the image's host keys and, given
  // ssh_keys, generates none of its own.
  out << YAML::Key << "ssh_deletekeys" << YAML::Value << true;
  out << YAML::Key << "ssh_keys" << YAML::Value << YAML::BeginMap;
  for (const auto& [type, key] : host_keys) {
    out << YAML::Key << type + "_private" << YAML::Value << YAML::Literal << key.first;
    out << YAML::Key << type + "_public" << YAML::Value << YAML::DoubleQuoted << key.second;
  }
  out << YAML::EndMap;
  // sudo complains on every call when the hostname does not resolve.
  out << YAML::Key << "manage_etc_hosts" << YAML::Value << "localhost";

  out << YAML::Key << "write_files" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "path" << YAML::Value << kPerBootHookPath;
  out << YAML::Key << "owner" << YAML::Value << "root:root";
  out << YAML::Key << "permissions" << YAML::Value << YAML::SingleQuoted << "0755";
  out << YAML::Key << "content" << YAML::Value << YAML::Literal << per_boot_hook();
  out << YAML::EndMap << YAML::EndSeq;
  out << YAML::EndMap;
  return "#cloud-config\n" + emitted(out, "user-data");
}

// Shared by boot.sh and the boot/ scripts: one line per step on the console,
// which QEMU writes to serial.log.
constexpr const char* kLogFunction =
    "log() {\n"
    "  if [ -w /dev/console ]; then\n"
    "    printf 'LIMA| %s\\n' \"$*\" >>/dev/console\n"
    "  else\n"
    "    printf 'LIMA| %s\\n' \"$*\" >&2\n"
    "  fi\n"
    "}\n";

std::string script_header(const std::string& purpose) {
  return "#!/bin/sh\n# " + purpose + "\nset -eu\n" + kLogFunction;
}

std::string guest_env_script() {
  return script_header("Makes lima.yaml env the environment of login shells.") +
         "target=/etc/profile.d/00-lima-env.sh\n"
         "log \"writing lima.yaml env to $target\"\n"
         "{\n"
         "  echo '# From the cidata lima.env; rewritten at every boot.'\n"
         "  echo 'set -a'\n"
         "  cat \"$LIMA_CIDATA_MNT/lima.env\"\n"
         "  echo 'set +a'\n"
         "} >\"$target.tmp\"\n"
         "chmod 0644 \"$target.tmp\"\n"
         "mv \"$target.tmp\" \"$target\"\n";
}

std::string ssh_ready_script() {
  return script_header("Writes /run/lima-ssh-ready once sshd runs.") +
         "if command -v systemctl >/dev/null 2>&1; then\n"
         "  waited=0\n"
         "  until systemctl is-active --quiet ssh || systemctl is-active --quiet sshd; do\n"
         "    if [ \"$waited\" -ge 120 ]; then\n"
         "      log \"sshd is not active after ${waited} s\"\n"
         "      exit 1\n"
         "    fi\n"
         "    sleep 1\n"
         "    waited=$((waited + 1))\n"
         "  done\n"
         "fi\n"
         "touch /run/lima-ssh-ready\n"
         "log 'sshd is up: /run/lima-ssh-ready'\n";
}

std::string reverse_sshfs_script(const std::vector<std::string>& mount_points) {
  std::string script =
      script_header(
          "Prepares the guest for reverse-sshfs mounts, then writes /run/lima-fuse-ready.") +
      "if ! command -v sshfs >/dev/null 2>&1; then\n"
      "  log 'sshfs is not installed: reverse-sshfs mounts will fail'\n"
      "fi\n"
      "# sshfs -o allow_other needs it; the host agent mounts as the user.\n"
      "if ! grep -q '^user_allow_other' /etc/fuse.conf 2>/dev/null; then\n"
      "  echo user_allow_other >>/etc/fuse.conf\n"
      "fi\n"
      "gid=$(id -g \"$LIMA_CIDATA_USER\")\n";
  if (!mount_points.empty()) {
    script += "for mount_point in";
    for (const std::string& mount_point : mount_points) {
      script += " " + shell_single_quote(mount_point);
    }
    script +=
        "; do\n"
        "  log \"mount point $mount_point for $LIMA_CIDATA_USER\"\n"
        "  mkdir -p \"$mount_point\"\n"
        "  chown \"$LIMA_CIDATA_UID:$gid\" \"$mount_point\"\n"
        "done\n";
  }
  script +=
      "touch /run/lima-fuse-ready\n"
      "log 'reverse-sshfs prepared: /run/lima-fuse-ready'\n";
  return script;
}

struct ProvisionFile {
  std::string name;  // "provision/001-system"
  std::string mode;
};

std::string boot_script(const std::string& instance_name, const GuestUser& user, bool has_param,
                        const std::vector<std::string>& boot_scripts,
                        const std::vector<ProvisionFile>& provision) {
  std::string script =
      "#!/bin/sh\n"
      "# Lima's boot script for instance " +
      instance_name +
      ".\n"
      "# Run as root at every boot by cloud-init's per-boot hook, with this\n"
      "# volume mounted at $LIMA_CIDATA_MNT. A failing step is logged and the\n"
      "# others still run, as in Lima; the exit status tells.\n"
      "set -eu\n" +
      kLogFunction + "LIMA_CIDATA_MNT=${LIMA_CIDATA_MNT:-" + kCidataMountPoint + "}\n" +
      "LIMA_CIDATA_USER=" + shell_single_quote(user.name) + "\n" +
      "LIMA_CIDATA_UID=" + std::to_string(user.uid) + "\n" +
      "LIMA_CIDATA_HOME=" + shell_single_quote(user.home) + "\n" +
      "export LIMA_CIDATA_MNT LIMA_CIDATA_USER LIMA_CIDATA_UID LIMA_CIDATA_HOME\n"
      "status=0\n"
      "\n"
      "# step DESCRIPTION COMMAND...\n"
      "step() {\n"
      "  description=$1\n"
      "  shift\n"
      "  log \"$description\"\n"
      "  if \"$@\"; then\n"
      "    :\n"
      "  else\n"
      "    code=$?\n"
      "    log \"$description: failed with exit status $code\"\n"
      "    status=1\n"
      "  fi\n"
      "}\n"
      "\n"
      "# Provision scripts see lima.yaml env, and param as PARAM_*.\n"
      "as_root() {\n"
      "  (\n"
      "    set -a\n"
      "    . \"$LIMA_CIDATA_MNT/lima.env\"\n";
  if (has_param) script += "    . \"$LIMA_CIDATA_MNT/param.env\"\n";
  script +=
      "    set +a\n"
      "    exec \"$1\"\n"
      "  )\n"
      "}\n"
      "as_user() {\n"
      "  sudo -iu \"$LIMA_CIDATA_USER\" /bin/sh -c 'set -a; for f in \"$@\"; do . \"$f\"; done; "
      "set +a; exec \"$0\"' \"$1\" \"$LIMA_CIDATA_MNT/lima.env\"";
  if (has_param) script += " \"$LIMA_CIDATA_MNT/param.env\"";
  script +=
      "\n"
      "}\n"
      "\n"
      "log \"boot script of instance " +
      instance_name +
      " started\"\n"
      "# The user cloud-init created from our user-data, for the host's boot log.\n"
      "log \"user $LIMA_CIDATA_USER: $(id \"$LIMA_CIDATA_USER\" 2>&1 || true)\"\n";
  auto run_provision = [&](const ProvisionFile& file) {
    const std::string how = file.mode == "user" ? "as_user" : "as_root";
    const std::string who = file.mode == "user" ? "as " + user.name : "as root";
    script += "step '" + file.name + " (" + file.mode + " provision, " + who + ")' " + how +
              " \"$LIMA_CIDATA_MNT/" + file.name + "\"\n";
  };
  // Lima runs boot-mode scripts first (from bootcmd), before its own steps.
  for (const ProvisionFile& file : provision) {
    if (file.mode == "boot") run_provision(file);
  }
  for (const std::string& name : boot_scripts) {
    script += "step '" + name + "' \"$LIMA_CIDATA_MNT/" + name + "\"\n";
  }
  for (const ProvisionFile& file : provision) {
    if (file.mode != "boot") run_provision(file);
  }
  script +=
      "cp \"$LIMA_CIDATA_MNT/meta-data\" /run/lima-boot-done\n"
      "log \"boot script done (status $status): /run/lima-boot-done\"\n"
      "exit \"$status\"\n";
  return script;
}

std::string with_interpreter(const std::string& script) {
  // Lima's scripts usually start with #!/bin/bash; one without a #! line is
  // run by sh rather than failing with ENOEXEC.
  return script.rfind("#!", 0) == 0 ? script : "#!/bin/sh\n" + script;
}

std::string three_digits(std::size_t index) {
  std::string digits = std::to_string(index);
  return std::string(digits.size() < 3 ? 3 - digits.size() : 0, '0') + digits;
}

std::string digest_of(const std::vector<iso9660::IsoFile>& files) {
  auto sha256 = Botan::HashFunction::create_or_throw("SHA-256");
  for (const iso9660::IsoFile& file : files) {
    for (const std::string* part : {&file.path, &file.contents}) {
      const std::uint64_t size = part->size();
      for (int shift = 56; shift >= 0; shift -= 8)
        sha256->update(static_cast<std::uint8_t>(size >> shift));
      sha256->update(*part);
    }
    sha256->update(static_cast<std::uint8_t>(file.mode));
  }
  const auto digest = sha256->final();
  return Botan::hex_encode(digest.data(), 8, false);
}

}  // namespace

std::string shell_single_quote(const std::string& value) {
  std::string quoted_value = "'";
  for (char c : value) {
    if (c == '\'') {
      quoted_value += "'\\''";
    } else {
      quoted_value += c;
    }
  }
  return quoted_value + "'";
}

std::vector<iso9660::IsoFile> cidata_files(const CidataInput& input) {
  check_instance_name(input.instance_name);
  const LimaConfig& config = input.config;
  const GuestUser user = guest_user(config);
  for (const std::string& key : input.authorized_keys) {
    check_single_line("an authorized key", key);
  }
  const auto host_keys = host_keys_by_type(input.host_keys);

  const std::string mount_type = config.mount_type.value_or("reverse-sshfs");
  if (mount_type != "reverse-sshfs") {
    throw CidataError("mountType: " + quoted(mount_type) + " is not supported (reverse-sshfs)");
  }
  std::vector<std::string> mount_points;
  for (std::size_t i = 0; i < config.mounts.size(); ++i) {
    const Mount& mount = config.mounts[i];
    const std::string field = "mounts[" + std::to_string(i) + "].mountPoint";
    if (!mount.mount_point || mount.mount_point->empty() || (*mount.mount_point)[0] != '/') {
      throw CidataError(field + ": must be an absolute path in the guest, got " +
                        quoted(mount.mount_point.value_or("")));
    }
    check_single_line(field, *mount.mount_point);
    mount_points.push_back(*mount.mount_point);
  }

  std::vector<iso9660::IsoFile> files;
  files.push_back({"network-config", network_config(), kDataMode});
  files.push_back({"user-data", user_data(user, input.authorized_keys, host_keys), kSecretMode});
  files.push_back({"lima.env", env_file("env", config.env, ""), kDataMode});
  const bool has_param = !config.param.empty();
  if (has_param)
    files.push_back({"param.env", env_file("param", config.param, "PARAM_"), kDataMode});

  std::vector<ProvisionFile> provision;
  std::vector<iso9660::IsoFile> provision_files;
  for (std::size_t i = 0; i < config.provision.size(); ++i) {
    const Provision& entry = config.provision[i];
    const std::string mode = entry.mode.value_or("system");
    if (mode != "system" && mode != "user" && mode != "boot") {
      throw CidataError("provision[" + std::to_string(i) + "].mode: unknown mode " + quoted(mode) +
                        " (system, user or boot)");
    }
    const std::string name = "provision/" + three_digits(i) + "-" + mode;
    provision.push_back({name, mode});
    provision_files.push_back({name, with_interpreter(entry.script), kScriptMode});
  }

  std::vector<iso9660::IsoFile> boot_files = {
      {"boot/05-guest-env.sh", guest_env_script(), kScriptMode},
      {"boot/10-ssh-ready.sh", ssh_ready_script(), kScriptMode},
      {"boot/20-reverse-sshfs.sh", reverse_sshfs_script(mount_points), kScriptMode},
  };
  std::vector<std::string> boot_names;
  for (const iso9660::IsoFile& file : boot_files) boot_names.push_back(file.path);

  files.push_back({"boot.sh",
                   boot_script(input.instance_name, user, has_param, boot_names, provision),
                   kScriptMode});
  files.insert(files.end(), boot_files.begin(), boot_files.end());
  files.insert(files.end(), provision_files.begin(), provision_files.end());

  std::string hostname = "lima-" + input.instance_name;
  for (char& c : hostname) {
    if (c == '.' || c == '_') c = '-';
  }
  const std::string instance_id = "iid-" + input.instance_name + "-" + digest_of(files);
  files.insert(files.begin(), {"meta-data", meta_data(instance_id, hostname), kDataMode});
  return files;
}

void write_cidata_iso(const CidataInput& input, const std::filesystem::path& path) {
  iso9660::IsoSpec spec;
  spec.volume_id = kCidataVolumeId;
  spec.files = cidata_files(input);
  spec.timestamp_unix_seconds = input.timestamp_unix_seconds;
  spec.directory_mode = 0755;
  iso9660::write_iso(spec, path);
}

}  // namespace vm
