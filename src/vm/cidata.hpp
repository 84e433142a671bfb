// The cloud-init NoCloud data an instance boots with (Lima's cidata.iso):
// who the guest user is, which keys may log in as it, which host keys the
// guest's sshd serves (generated on the host, so the host can pin them), and
// the boot scripts that run at every boot and report progress through
// /run/lima-ssh-ready, /run/lima-fuse-ready and /run/lima-boot-done.
//
// Pure: keys and the timestamp are inputs, nothing here reads the clock, the
// environment or a random source, so the same input gives the same bytes.
//
// The files:
//   meta-data       instance-id (the instance name plus a digest of the other
//                   files, so cloud-init redoes its per-instance work when
//                   they change), local-hostname lima-NAME
//   network-config  version 2, DHCP on every interface whose name matches e*
//   user-data       #cloud-config: the user, our host keys, and a per-boot
//                   hook (write_files into cloud-init's scripts/per-boot) that
//                   mounts this volume at /mnt/lima-cidata and runs boot.sh
//   lima.env        lima.yaml env as shell-quoted KEY='value' lines
//   param.env       lima.yaml param as PARAM_KEY='value' lines (when any)
//   boot.sh         runs boot-mode provision scripts, then boot/*, then the
//                   system and user provision scripts in lima.yaml's order,
//                   then writes /run/lima-boot-done
//   boot/*.sh       guest environment, ssh readiness, reverse-sshfs set-up
//   provision/NNN-MODE  each provision script, as written in lima.yaml
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "vm/iso9660.hpp"
#include "vm/lima_config.hpp"

namespace vm {

// An input cidata cannot be made from; what() names the value and why.
class CidataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A host key for the guest's sshd, generated on the host.
struct GuestHostKey {
  std::string private_key_openssh;  // "-----BEGIN OPENSSH PRIVATE KEY-----" file text, unencrypted
  std::string public_key_line;      // "ssh-ed25519 AAAA... [comment]"
};

struct CidataInput {
  // Lima's instance name rules: letters and digits, runs of them joined by
  // single '.', '_' or '-'.
  std::string instance_name;
  // After apply_builtin_defaults(): user name, uid, home and shell set, every
  // provision mode set, mountType set, mounts with their mountPoint.
  LimaConfig config;
  // Public key lines that may log in as the user (authorized_keys).
  std::vector<std::string> authorized_keys;
  // At least one; one per type (ed25519, ecdsa, rsa), an ed25519 one among
  // them. The guest serves exactly these.
  std::vector<GuestHostKey> host_keys;
  // Every time recorded in the ISO.
  std::int64_t timestamp_unix_seconds = 0;
};

// Where the per-boot hook mounts the cidata volume in the guest.
inline constexpr const char* kCidataMountPoint = "/mnt/lima-cidata";
inline constexpr const char* kCidataVolumeId = "cidata";

// The files of the volume, in a fixed order. Throws CidataError.
std::vector<iso9660::IsoFile> cidata_files(const CidataInput& input);

// cidata_files() packed into an ISO9660 image with volume id "cidata" at
// `path`. Throws CidataError, iso9660::IsoError or std::runtime_error (the
// file cannot be written).
void write_cidata_iso(const CidataInput& input, const std::filesystem::path& path);

// `value` in single quotes for POSIX sh, each ' written as '\''.
std::string shell_single_quote(const std::string& value);

}  // namespace vm
