#include "vm/templates.hpp"

#include <cstdlib>

#include "platform/user.hpp"

namespace vm {
namespace {

constexpr std::string_view kDefaultTemplate =
    R"(# Lima's default: Ubuntu 24.04 LTS from cloud-images.ubuntu.com.
# Needs internet at `limactl start`; without it, use template:debian-local.
vmType: qemu
images:
- location: "https://cloud-images.ubuntu.com/releases/24.04/release/ubuntu-24.04-server-cloudimg-amd64.img"
  arch: "x86_64"
- location: "https://cloud-images.ubuntu.com/releases/24.04/release/ubuntu-24.04-server-cloudimg-arm64.img"
  arch: "aarch64"
mounts:
- location: "~"
- location: "/tmp/lima"
  writable: true
mountType: reverse-sshfs
)";

constexpr std::string_view kDebianLocalTemplate =
    R"(# A Debian 12 guest built on this machine by scripts/build-guest-image
# (mmdebstrap from Debian's packages; nothing else is downloaded).
# Run that script first: it prints the directory this template reads.
vmType: qemu
arch: x86_64
images:
- location: "@GUEST_IMAGE_DIR@/disk.qcow2"
  arch: "x86_64"
  kernel:
    location: "@GUEST_IMAGE_DIR@/vmlinuz"
    cmdline: "root=/dev/vda rw console=ttyS0 net.ifnames=0"
  initrd:
    location: "@GUEST_IMAGE_DIR@/initrd.img"
cpus: 2
memory: 1GiB
disk: 4GiB
mounts:
- location: "~"
- location: "/tmp/lima"
  writable: true
mountType: reverse-sshfs
)";

std::string replace_all(std::string text, std::string_view from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

}  // namespace

std::filesystem::path limactl_cache_directory() {
#ifdef _WIN32
  if (const char* local = std::getenv("LOCALAPPDATA"); local != nullptr && *local != '\0') {
    return std::filesystem::path(local) / "limactl";
  }
#endif
  if (const char* cache = std::getenv("XDG_CACHE_HOME"); cache != nullptr && *cache != '\0') {
    return std::filesystem::path(cache) / "limactl";
  }
  return std::filesystem::path(platform::home_directory()) / ".cache" / "limactl";
}

std::filesystem::path local_guest_image_directory() {
  return limactl_cache_directory() / "guest-image";
}

std::vector<std::string> template_names() {
  return {"debian-local", "default"};
}

std::optional<std::string> template_text(std::string_view name,
                                         const std::filesystem::path& guest_image_directory) {
  if (name == "default") return std::string(kDefaultTemplate);
  if (name == "debian-local") {
    // Forward slashes: YAML and QEMU take them on Windows too.
    return replace_all(std::string(kDebianLocalTemplate), "@GUEST_IMAGE_DIR@",
                       guest_image_directory.generic_string());
  }
  return std::nullopt;
}

}  // namespace vm
