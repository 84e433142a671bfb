// The lima.yaml model: plain types for the fields limactl understands, in
// Lima's names and shapes (pkg/limayaml/limayaml.go). No YAML here: loading
// and writing live in lima_config_load.*, layering and built-in defaults in
// lima_config_defaults.*, checks in lima_config_validate.*.
//
// Every field a user may leave out is std::optional (or an empty container)
// so the layers default.yaml < lima.yaml < override.yaml can tell "not set"
// from "set to the default value"; after apply_builtin_defaults() every
// optional scalar is set.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vm {

// A file the guest boots from (kernel, initrd): Lima's limayaml.File.
struct ImageFile {
  std::string location;
  std::optional<std::string> arch;
  std::optional<std::string> digest;  // "sha256:<hex>" or "sha512:<hex>"

  bool operator==(const ImageFile&) const = default;
};

struct ImageKernel {
  ImageFile file;
  std::optional<std::string> cmdline;

  bool operator==(const ImageKernel&) const = default;
};

struct Image {
  ImageFile file;  // location, arch, digest of the disk image itself
  std::optional<ImageKernel> kernel;
  std::optional<ImageFile> initrd;

  bool operator==(const Image&) const = default;
};

struct MountSshfs {
  std::optional<bool> cache;
  std::optional<bool> follow_symlinks;  // followSymlinks

  bool operator==(const MountSshfs&) const = default;
};

struct Mount {
  std::string location;                    // host directory; "~" and "~/..." name the host home
  std::optional<std::string> mount_point;  // mountPoint, in the guest
  std::optional<bool> writable;
  MountSshfs sshfs;

  bool operator==(const Mount&) const = default;
};

struct SshSettings {
  std::optional<int> local_port;              // localPort; 0 = a free port chosen at start
  std::optional<bool> load_dot_ssh_pub_keys;  // loadDotSSHPubKeys
  std::optional<bool> forward_agent;          // forwardAgent

  bool operator==(const SshSettings&) const = default;
};

struct UserSettings {
  std::optional<std::string> name;
  std::optional<std::int64_t> uid;  // checked to fit a uint32 by validation
  std::optional<std::string> home;
  std::optional<std::string> shell;

  bool operator==(const UserSettings&) const = default;
};

struct Provision {
  std::optional<std::string> mode;  // system (default), user or boot
  std::string script;

  bool operator==(const Provision&) const = default;
};

struct Probe {
  std::optional<std::string> mode;  // readiness (the only one Lima has)
  std::string script;
  std::optional<std::string> hint;

  bool operator==(const Probe&) const = default;
};

using PortRange = std::array<int, 2>;

// Lima's limayaml.PortForward, every field.
struct PortForward {
  std::optional<bool> guest_ip_must_be_zero;  // guestIPMustBeZero
  std::optional<std::string> guest_ip;        // guestIP
  std::optional<int> guest_port;              // guestPort
  std::optional<PortRange> guest_port_range;  // guestPortRange
  std::optional<std::string> guest_socket;    // guestSocket
  std::optional<std::string> host_ip;         // hostIP
  std::optional<int> host_port;               // hostPort
  std::optional<PortRange> host_port_range;   // hostPortRange
  std::optional<std::string> host_socket;     // hostSocket
  std::optional<std::string> proto;           // tcp, udp or any
  std::optional<bool> reverse;
  std::optional<bool> ignore;

  bool operator==(const PortForward&) const = default;
};

struct LimaConfig {
  std::optional<std::string> vm_type;  // vmType: qemu
  std::optional<std::string> os;       // Linux
  std::optional<std::string> arch;     // x86_64, aarch64, ...
  std::vector<Image> images;
  std::optional<int> cpus;
  // Lima's size strings ("4GiB", "512MiB", "100G") parsed to bytes; the
  // writer prints them back in the largest exact binary unit.
  std::optional<std::uint64_t> memory;
  std::optional<std::uint64_t> disk;
  std::vector<Mount> mounts;
  std::optional<std::string> mount_type;  // mountType: reverse-sshfs
  SshSettings ssh;
  UserSettings user;
  std::vector<Provision> provision;
  std::vector<Probe> probes;
  std::vector<PortForward> port_forwards;  // portForwards
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> param;
  std::optional<std::string> message;

  bool operator==(const LimaConfig&) const = default;
};

}  // namespace vm
