#include "vm/lima_config_defaults.hpp"

#include <algorithm>
#include <cstdlib>
#include <regex>
#include <system_error>

#include "platform/user.hpp"
#include "platform/windows_paths.hpp"
#include "ssh/log.hpp"
#include "vm/instance_store.hpp"

namespace vm {
namespace {

template <typename T>
std::optional<T> highest(const std::optional<T>& defaults, const std::optional<T>& instance,
                         const std::optional<T>& overrides) {
  if (overrides) return overrides;
  if (instance) return instance;
  return defaults;
}

template <typename T>
std::vector<T> concatenate(const std::vector<T>& first, const std::vector<T>& second,
                           const std::vector<T>& third) {
  std::vector<T> all = first;
  all.insert(all.end(), second.begin(), second.end());
  all.insert(all.end(), third.begin(), third.end());
  return all;
}

std::map<std::string, std::string> merge_maps(const std::map<std::string, std::string>& defaults,
                                              const std::map<std::string, std::string>& instance,
                                              const std::map<std::string, std::string>& overrides) {
  std::map<std::string, std::string> merged = defaults;
  for (const auto& [key, value] : instance) merged[key] = value;
  for (const auto& [key, value] : overrides) merged[key] = value;
  return merged;
}

void merge_mount_into(Mount& earlier, const Mount& later) {
  if (later.mount_point) earlier.mount_point = later.mount_point;
  if (later.writable) earlier.writable = later.writable;
  if (later.sshfs.cache) earlier.sshfs.cache = later.sshfs.cache;
  if (later.sshfs.follow_symlinks) earlier.sshfs.follow_symlinks = later.sshfs.follow_symlinks;
}

std::vector<Mount> merge_mounts(const std::vector<Mount>& defaults,
                                const std::vector<Mount>& instance,
                                const std::vector<Mount>& overrides) {
  std::vector<Mount> merged;
  for (const Mount& mount : concatenate(defaults, instance, overrides)) {
    auto same = std::find_if(merged.begin(), merged.end(), [&](const Mount& earlier) {
      return earlier.location == mount.location;
    });
    if (same != merged.end()) {
      merge_mount_into(*same, mount);
    } else {
      merged.push_back(mount);
    }
  }
  return merged;
}

// Lima's rule for guest user names (pkg/osutil/user.go).
bool valid_guest_user_name(const std::string& name) {
  static const std::regex kUserName("^[a-z_][a-z0-9_-]{0,31}$");
  return std::regex_match(name, kUserName);
}

std::optional<std::int64_t> guest_uid(const std::string& host_uid) {
  if (host_uid.empty() || host_uid.size() > 10) return std::nullopt;
  for (char c : host_uid) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  const std::int64_t uid = std::stoll(host_uid);
  // uid 0 is root in the guest too; Lima's guest user is never root.
  if (uid == 0 || uid > 0xFFFFFFFFLL) return std::nullopt;
  return uid;
}

// Where a host directory appears in the guest when the user names no mount
// point: the same path, or /c/Users/jan for C:\Users\jan (Lima's
// WindowsSubsystemPath). nullopt when there is none (a UNC path).
std::optional<std::string> default_mount_point(const std::string& location) {
  if (platform::classify_windows_path(location) == platform::WindowsPathKind::DriveAbsolute ||
      platform::classify_windows_path(location) == platform::WindowsPathKind::Unc) {
    auto guest = platform::to_guest_mount_path(location);
    if (!guest) return std::nullopt;
    return *guest;
  }
  return location;
}

void fill_port_forward(PortForward& rule) {
  if (!rule.guest_ip_must_be_zero) rule.guest_ip_must_be_zero = false;
  if (!rule.guest_ip) rule.guest_ip = *rule.guest_ip_must_be_zero ? "0.0.0.0" : "127.0.0.1";
  if (!rule.host_ip) rule.host_ip = "127.0.0.1";
  if (!rule.proto) rule.proto = "tcp";
  if (!rule.guest_port_range) {
    rule.guest_port_range =
        rule.guest_port ? PortRange{*rule.guest_port, *rule.guest_port} : PortRange{1, 65535};
  }
  if (!rule.host_port_range) {
    rule.host_port_range =
        rule.host_port ? PortRange{*rule.host_port, *rule.host_port} : *rule.guest_port_range;
  }
  if (!rule.reverse) rule.reverse = false;
  if (!rule.ignore) rule.ignore = false;
}

}  // namespace

std::string host_arch() {
#if defined(__x86_64__) || defined(_M_X64)
  return "x86_64";
#elif defined(__aarch64__) || defined(_M_ARM64)
  return "aarch64";
#elif defined(__arm__)
  return "armv7l";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
  return "ppc64le";
#elif defined(__s390x__)
  return "s390x";
#else
#error "unknown host architecture: add its Lima name to host_arch()"
#endif
}

HostFacts current_host_facts() {
  return {platform::current_user_name(), platform::current_user_id(), platform::home_directory(),
          host_arch()};
}

std::filesystem::path lima_home_directory() {
  const char* variable = std::getenv("LIMA_HOME");
  return resolve_lima_home(
      variable != nullptr ? std::optional<std::string>(variable) : std::nullopt,
      platform::home_directory());
}

std::optional<std::string> expand_home(const std::string& location, const std::string& home) {
  if (location.empty() || location[0] != '~') return location;
  if (location == "~") return home;
  if (location[1] != '/' && location[1] != '\\') return std::nullopt;  // ~user
  const bool home_ends_with_separator =
      !home.empty() && (home.back() == '/' || home.back() == '\\');
  return home + (home_ends_with_separator ? "" : "/") + location.substr(2);
}

LimaConfig merge_lima_configs(const LimaConfig& defaults, const LimaConfig& instance,
                              const LimaConfig& overrides) {
  LimaConfig merged;
  merged.vm_type = highest(defaults.vm_type, instance.vm_type, overrides.vm_type);
  merged.os = highest(defaults.os, instance.os, overrides.os);
  merged.arch = highest(defaults.arch, instance.arch, overrides.arch);
  merged.images = concatenate(overrides.images, instance.images, defaults.images);
  merged.cpus = highest(defaults.cpus, instance.cpus, overrides.cpus);
  merged.memory = highest(defaults.memory, instance.memory, overrides.memory);
  merged.disk = highest(defaults.disk, instance.disk, overrides.disk);
  merged.mounts = merge_mounts(defaults.mounts, instance.mounts, overrides.mounts);
  merged.mount_type = highest(defaults.mount_type, instance.mount_type, overrides.mount_type);
  merged.ssh.local_port =
      highest(defaults.ssh.local_port, instance.ssh.local_port, overrides.ssh.local_port);
  merged.ssh.load_dot_ssh_pub_keys =
      highest(defaults.ssh.load_dot_ssh_pub_keys, instance.ssh.load_dot_ssh_pub_keys,
              overrides.ssh.load_dot_ssh_pub_keys);
  merged.ssh.forward_agent =
      highest(defaults.ssh.forward_agent, instance.ssh.forward_agent, overrides.ssh.forward_agent);
  merged.user.name = highest(defaults.user.name, instance.user.name, overrides.user.name);
  merged.user.uid = highest(defaults.user.uid, instance.user.uid, overrides.user.uid);
  merged.user.home = highest(defaults.user.home, instance.user.home, overrides.user.home);
  merged.user.shell = highest(defaults.user.shell, instance.user.shell, overrides.user.shell);
  merged.provision = concatenate(overrides.provision, instance.provision, defaults.provision);
  merged.probes = concatenate(overrides.probes, instance.probes, defaults.probes);
  merged.port_forwards =
      concatenate(overrides.port_forwards, instance.port_forwards, defaults.port_forwards);
  merged.env = merge_maps(defaults.env, instance.env, overrides.env);
  merged.param = merge_maps(defaults.param, instance.param, overrides.param);
  merged.message = highest(defaults.message, instance.message, overrides.message);
  return merged;
}

LimaConfig apply_builtin_defaults(LimaConfig config, const HostFacts& host) {
  if (!config.vm_type) config.vm_type = "qemu";
  if (!config.os) config.os = "Linux";
  if (!config.arch) config.arch = host.arch;
  for (Image& image : config.images) {
    if (!image.file.arch) image.file.arch = config.arch;
    if (image.kernel && !image.kernel->file.arch) image.kernel->file.arch = image.file.arch;
    if (image.initrd && !image.initrd->arch) image.initrd->arch = image.file.arch;
  }
  if (!config.cpus) config.cpus = kDefaultCpus;
  if (!config.memory) config.memory = kDefaultMemoryBytes;
  if (!config.disk) config.disk = kDefaultDiskBytes;
  if (!config.mount_type) config.mount_type = "reverse-sshfs";
  for (Mount& mount : config.mounts) {
    // "~user" stays as written: validation reports it.
    if (auto expanded = expand_home(mount.location, host.home)) mount.location = *expanded;
    if (!mount.mount_point) mount.mount_point = default_mount_point(mount.location);
    if (!mount.writable) mount.writable = false;
    if (!mount.sshfs.cache) mount.sshfs.cache = true;
    if (!mount.sshfs.follow_symlinks) mount.sshfs.follow_symlinks = false;
  }
  if (!config.ssh.local_port) config.ssh.local_port = 0;
  if (!config.ssh.load_dot_ssh_pub_keys) config.ssh.load_dot_ssh_pub_keys = false;
  if (!config.ssh.forward_agent) config.ssh.forward_agent = false;
  if (!config.user.name) {
    // "root" is the guest's own root: cloud-init would change that account
    // instead of making Lima's normal user with sudo.
    if (valid_guest_user_name(host.user_name) && host.user_name != "root") {
      config.user.name = host.user_name;
    } else {
      ssh::log::get("vm")->debug(
          "host user name \"{}\" is no Linux user name; the guest user is {}", host.user_name,
          kFallbackUserName);
      config.user.name = std::string(kFallbackUserName);
    }
  }
  if (!config.user.uid) config.user.uid = guest_uid(host.user_id).value_or(kFallbackUid);
  if (!config.user.home) config.user.home = "/home/" + *config.user.name + ".linux";
  if (!config.user.shell) config.user.shell = "/bin/bash";
  for (Provision& provision : config.provision) {
    if (!provision.mode) provision.mode = "system";
  }
  for (Probe& probe : config.probes) {
    if (!probe.mode) probe.mode = "readiness";
  }
  for (PortForward& rule : config.port_forwards) fill_port_forward(rule);
  return config;
}

ConfigLoadResult load_lima_config_with_defaults(const std::filesystem::path& instance_file,
                                                const std::filesystem::path& lima_home,
                                                const HostFacts& host) {
  ConfigLoadResult result = load_lima_config_file(instance_file);
  LimaConfig layers[2];
  const std::filesystem::path layer_files[2] = {lima_home / "_config" / "default.yaml",
                                                lima_home / "_config" / "override.yaml"};
  bool other_layers = false;
  for (int i = 0; i < 2; ++i) {
    std::error_code error;
    if (!std::filesystem::exists(layer_files[i], error)) {
      ssh::log::get("vm")->debug("lima.yaml layer {}: not there", layer_files[i].string());
      continue;
    }
    ssh::log::get("vm")->debug("lima.yaml layer {}: read", layer_files[i].string());
    other_layers = true;
    ConfigLoadResult layer = load_lima_config_file(layer_files[i]);
    result.errors.insert(result.errors.end(), layer.errors.begin(), layer.errors.end());
    result.warnings.insert(result.warnings.end(), layer.warnings.begin(), layer.warnings.end());
    layers[i] = std::move(layer.config);
  }
  if (other_layers) result.lines.clear();
  result.config =
      apply_builtin_defaults(merge_lima_configs(layers[0], result.config, layers[1]), host);
  return result;
}

}  // namespace vm
