#include "vm/lima_config_validate.hpp"

#include <algorithm>
#include <array>
#include <asio/ip/address.hpp>
#include <regex>
#include <string_view>

#include "platform/windows_paths.hpp"

namespace vm {
namespace {

constexpr std::array<std::string_view, 6> kArches = {"x86_64",  "aarch64", "armv7l",
                                                     "ppc64le", "riscv64", "s390x"};
constexpr int kMaxPort = 65535;
constexpr std::int64_t kMaxUid = 0xFFFFFFFFLL;

std::string quoted(const std::string& text) {
  return "\"" + text + "\"";
}

std::string index_path(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

bool is_lima_arch(const std::string& arch) {
  return std::find(kArches.begin(), kArches.end(), arch) != kArches.end();
}

bool is_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// A host path: POSIX absolute, or a Windows drive or UNC path.
bool is_absolute_host_path(const std::string& path) {
  if (!path.empty() && path[0] == '/') return true;
  const auto kind = platform::classify_windows_path(path);
  return kind == platform::WindowsPathKind::DriveAbsolute || kind == platform::WindowsPathKind::Unc;
}

bool is_ip_address(const std::string& text) {
  asio::error_code error;
  asio::ip::make_address(text, error);
  return !error;
}

class Checker {
 public:
  Checker(const std::string& file, const std::map<std::string, int>& lines,
          ValidationResult& result)
      : file_(file), lines_(lines), result_(result) {}

  void error(const std::string& path, const std::string& message) {
    result_.errors.push_back({file_, line_of(path), path, message});
  }

  // A host location: absolute, or "~" / "~/...".
  void host_location(const std::string& path, const std::string& location) {
    if (location.empty()) {
      error(path, "required");
    } else if (location[0] == '~') {
      if (location != "~" && location[1] != '/' && location[1] != '\\') {
        error(path, "cannot expand " + quoted(location) + ": only ~ and ~/... name a home");
      }
    } else if (!is_absolute_host_path(location)) {
      error(path, "must be an absolute path or start with ~/, got " + quoted(location));
    }
  }

  void guest_path(const std::string& path, const std::optional<std::string>& value) {
    if (value && (value->empty() || (*value)[0] != '/')) {
      error(path, "must be an absolute path in the guest, got " + quoted(*value));
    }
  }

  void image_file(const std::string& path, const ImageFile& file) {
    if (file.location.empty()) {
      error(path + ".location", "required");
    } else if (const auto scheme_end = file.location.find("://"); scheme_end != std::string::npos) {
      const std::string scheme = file.location.substr(0, scheme_end);
      if (scheme != "http" && scheme != "https" && scheme != "file") {
        error(path + ".location",
              "unsupported URL scheme " + quoted(scheme) + " (http, https, file or a local path)");
      }
    } else {
      host_location(path + ".location", file.location);
    }
    if (file.arch && !is_lima_arch(*file.arch)) {
      error(path + ".arch", "unknown architecture " + quoted(*file.arch) + " " + arch_list());
    }
    if (file.digest && !valid_digest(*file.digest)) {
      error(path + ".digest", "expected sha256:<64 hex digits> or sha512:<128 hex digits>, got " +
                                  quoted(*file.digest));
    }
  }

  void port(const std::string& path, int value) {
    if (value < 1 || value > kMaxPort) {
      error(path, "must be a port from 1 to 65535, got " + std::to_string(value));
    }
  }

  void port_forward(const std::string& path, const PortForward& rule) {
    if (rule.guest_ip_must_be_zero.value_or(false) && rule.guest_ip &&
        *rule.guest_ip != "0.0.0.0") {
      error(path + ".guestIPMustBeZero",
            "can only be true when guestIP is 0.0.0.0, not " + quoted(*rule.guest_ip));
    }
    if (rule.guest_ip && !is_ip_address(*rule.guest_ip)) {
      error(path + ".guestIP", "not an IP address: " + quoted(*rule.guest_ip));
    }
    if (rule.host_ip && !is_ip_address(*rule.host_ip)) {
      error(path + ".hostIP", "not an IP address: " + quoted(*rule.host_ip));
    }
    if (rule.guest_port && rule.guest_socket) {
      error(path + ".guestSocket", "guestPort and guestSocket cannot both be set");
    }
    if (rule.host_port && rule.host_socket) {
      error(path + ".hostSocket", "hostPort and hostSocket cannot both be set");
    }
    if (rule.guest_port && rule.guest_port_range &&
        (*rule.guest_port != (*rule.guest_port_range)[0] ||
         *rule.guest_port != (*rule.guest_port_range)[1])) {
      error(path + ".guestPort", "must equal both ends of guestPortRange");
    }
    if (rule.host_port && rule.host_port_range &&
        (*rule.host_port != (*rule.host_port_range)[0] ||
         *rule.host_port != (*rule.host_port_range)[1])) {
      error(path + ".hostPort", "must equal both ends of hostPortRange");
    }
    const bool guest_socket = rule.guest_socket.has_value();
    const bool host_socket = rule.host_socket.has_value();
    if (rule.guest_port_range) {
      const PortRange& range = *rule.guest_port_range;
      port(path + ".guestPortRange[0]", range[0]);
      port(path + ".guestPortRange[1]", range[1]);
      if (range[0] > range[1]) {
        error(path + ".guestPortRange", "the first port is above the last");
      }
    } else if (rule.guest_port) {
      port(path + ".guestPort", *rule.guest_port);
    }
    if (rule.host_port_range && !host_socket) {
      const PortRange& range = *rule.host_port_range;
      port(path + ".hostPortRange[0]", range[0]);
      port(path + ".hostPortRange[1]", range[1]);
      if (range[0] > range[1]) {
        error(path + ".hostPortRange", "the first port is above the last");
      }
    } else if (rule.host_port && !host_socket) {
      port(path + ".hostPort", *rule.host_port);
    }
    const auto span = [](const std::optional<PortRange>& range) {
      return range ? (*range)[1] - (*range)[0] : 0;
    };
    // Reversed ranges were reported above; their lengths say nothing more.
    if (!guest_socket && !host_socket && span(rule.guest_port_range) >= 0 &&
        span(rule.host_port_range) >= 0 && rule.guest_port_range && rule.host_port_range &&
        span(rule.guest_port_range) != span(rule.host_port_range)) {
      error(path + ".hostPortRange", "must be as long as guestPortRange");
    }
    if (guest_socket) {
      guest_path(path + ".guestSocket", rule.guest_socket);
      if (!host_socket && span(rule.host_port_range) > 0) {
        error(path + ".guestSocket", "can only be forwarded to hostSocket or a single hostPort");
      }
    }
    if (host_socket && !guest_socket && span(rule.guest_port_range) > 0) {
      error(path + ".hostSocket", "can only be forwarded from guestSocket or a single guestPort");
    }
    if (rule.proto && *rule.proto != "tcp" && *rule.proto != "udp" && *rule.proto != "any") {
      error(path + ".proto", "must be tcp, udp or any, got " + quoted(*rule.proto));
    }
    if (rule.reverse.value_or(false) && (!guest_socket || !host_socket)) {
      error(path + ".reverse", "reverse forwarding needs both guestSocket and hostSocket");
    }
  }

  void variable_names(const std::string& path, const std::map<std::string, std::string>& values) {
    static const std::regex kName("^[A-Za-z_][A-Za-z0-9_]*$");
    for (const auto& [name, value] : values) {
      if (!std::regex_match(name, kName)) error(path + "." + name, "not a valid variable name");
    }
  }

  static std::string arch_list() {
    std::string list = "(";
    for (std::string_view arch : kArches) {
      if (list.size() > 1) list += ", ";
      list += arch;
    }
    return list + ")";
  }

 private:
  int line_of(std::string path) const {
    while (!path.empty()) {
      if (const auto found = lines_.find(path); found != lines_.end()) return found->second;
      const auto cut = path.find_last_of(".[");
      if (cut == std::string::npos) break;
      path.erase(cut);
    }
    return 0;
  }

  const std::string& file_;
  const std::map<std::string, int>& lines_;
  ValidationResult& result_;
};

}  // namespace

bool valid_digest(const std::string& digest) {
  const auto colon = digest.find(':');
  if (colon == std::string::npos) return false;
  const std::string algorithm = digest.substr(0, colon);
  const std::string_view hex = std::string_view(digest).substr(colon + 1);
  const std::size_t length = algorithm == "sha256" ? 64 : algorithm == "sha512" ? 128 : 0;
  return length != 0 && hex.size() == length && is_hex(hex);
}

ValidationResult validate_lima_config(const LimaConfig& config, const std::string& file_name,
                                      const std::map<std::string, int>& lines) {
  ValidationResult result;
  Checker check(file_name, lines, result);

  if (config.vm_type && *config.vm_type != "qemu") {
    check.error("vmType",
                "unknown or unsupported vmType " + quoted(*config.vm_type) + " (supported: qemu)");
  }
  if (config.os && *config.os != "Linux") {
    check.error("os", "unsupported os " + quoted(*config.os) + " (supported: Linux)");
  }
  if (config.arch && !is_lima_arch(*config.arch)) {
    check.error("arch",
                "unknown architecture " + quoted(*config.arch) + " " + Checker::arch_list());
  }

  if (config.images.empty()) check.error("images", "at least one image is required");
  for (std::size_t i = 0; i < config.images.size(); ++i) {
    const Image& image = config.images[i];
    const std::string path = index_path("images", i);
    check.image_file(path, image.file);
    if (image.kernel) {
      check.image_file(path + ".kernel", image.kernel->file);
      if (image.kernel->file.arch && image.file.arch &&
          *image.kernel->file.arch != *image.file.arch) {
        check.error(path + ".kernel.arch",
                    "differs from the image's arch " + quoted(*image.file.arch));
      }
    }
    if (image.initrd) {
      check.image_file(path + ".initrd", *image.initrd);
      if (!image.kernel) check.error(path + ".initrd", "needs a kernel in the same image");
    }
  }

  if (config.cpus && *config.cpus <= 0) {
    check.error("cpus", "must be greater than 0, got " + std::to_string(*config.cpus));
  }
  if (config.memory && *config.memory == 0) check.error("memory", "must be greater than 0");
  if (config.disk && *config.disk == 0) check.error("disk", "must be greater than 0");

  for (std::size_t i = 0; i < config.mounts.size(); ++i) {
    const Mount& mount = config.mounts[i];
    const std::string path = index_path("mounts", i);
    check.host_location(path + ".location", mount.location);
    check.guest_path(path + ".mountPoint", mount.mount_point);
    if (!mount.mount_point &&
        platform::classify_windows_path(mount.location) == platform::WindowsPathKind::Unc) {
      check.error(path + ".mountPoint", "required for a UNC location (it has no guest form)");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (mount.mount_point && config.mounts[j].mount_point == mount.mount_point) {
        check.error(path + ".mountPoint", quoted(*mount.mount_point) +
                                              " is already the mount point of " +
                                              index_path("mounts", j));
        break;
      }
    }
  }
  if (config.mount_type && *config.mount_type != "reverse-sshfs") {
    check.error("mountType", "unknown or unsupported mountType " + quoted(*config.mount_type) +
                                 " (supported: reverse-sshfs)");
  }

  if (config.ssh.local_port && (*config.ssh.local_port < 0 || *config.ssh.local_port > kMaxPort)) {
    check.error("ssh.localPort", "must be 0 (a free port) or a port from 1 to 65535, got " +
                                     std::to_string(*config.ssh.local_port));
  }

  static const std::regex kUserName("^[a-z_][a-z0-9_-]{0,31}$");
  if (config.user.name && !std::regex_match(*config.user.name, kUserName)) {
    check.error("user.name", "not a valid Linux user name: " + quoted(*config.user.name));
  } else if (config.user.name == "root") {
    check.error("user.name",
                "cannot be root: the guest user is a normal user with sudo (leave user.name "
                "out to use \"lima\")");
  }
  if (config.user.uid && (*config.user.uid < 0 || *config.user.uid > kMaxUid)) {
    check.error("user.uid",
                "must be from 0 to 4294967295, got " + std::to_string(*config.user.uid));
  }
  check.guest_path("user.home", config.user.home);
  check.guest_path("user.shell", config.user.shell);

  for (std::size_t i = 0; i < config.provision.size(); ++i) {
    const Provision& provision = config.provision[i];
    const std::string path = index_path("provision", i);
    if (provision.mode && *provision.mode != "system" && *provision.mode != "user" &&
        *provision.mode != "boot") {
      check.error(path + ".mode",
                  "unknown mode " + quoted(*provision.mode) + " (system, user or boot)");
    }
    if (provision.script.empty()) check.error(path + ".script", "required");
  }
  for (std::size_t i = 0; i < config.probes.size(); ++i) {
    const Probe& probe = config.probes[i];
    const std::string path = index_path("probes", i);
    if (probe.mode && *probe.mode != "readiness") {
      check.error(path + ".mode", "unknown mode " + quoted(*probe.mode) + " (readiness)");
    }
    if (probe.script.empty()) {
      check.error(path + ".script", "required");
    } else if (probe.script.rfind("#!", 0) != 0) {
      check.error(path + ".script", "must start with a #! line");
    }
  }
  for (std::size_t i = 0; i < config.port_forwards.size(); ++i) {
    check.port_forward(index_path("portForwards", i), config.port_forwards[i]);
  }
  check.variable_names("env", config.env);
  check.variable_names("param", config.param);
  return result;
}

}  // namespace vm
