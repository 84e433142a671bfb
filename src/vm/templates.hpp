// The lima.yaml templates built into limactl, named as `template:NAME` on
// the command line (Lima's syntax):
//
//   default       Lima's default: an Ubuntu LTS cloud image, downloaded from
//                 cloud-images.ubuntu.com (needs internet).
//   debian-local  A Debian 12 guest built on this machine from Debian's
//                 packages by scripts/build-guest-image (no internet beyond
//                 the apt mirror); boots its kernel and initrd directly.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vm {

inline constexpr std::string_view kTemplatePrefix = "template:";
inline constexpr std::string_view kDefaultTemplateName = "default";

// Where scripts/build-guest-image leaves the local guest image and where
// template:debian-local looks for it: $XDG_CACHE_HOME/limactl/guest-image
// (default ~/.cache/...); %LOCALAPPDATA%\limactl\guest-image on Windows.
std::filesystem::path local_guest_image_directory();

// limactl's cache: $XDG_CACHE_HOME/limactl (default ~/.cache/limactl),
// %LOCALAPPDATA%\limactl on Windows. Downloads are kept under it in Lima's
// layout (download/by-url-sha256/...), the local guest image in guest-image/.
std::filesystem::path limactl_cache_directory();

std::vector<std::string> template_names();

// The template's lima.yaml text, or nullopt for an unknown name.
// `guest_image_directory` fills in debian-local's image paths.
std::optional<std::string> template_text(std::string_view name,
                                         const std::filesystem::path& guest_image_directory);

}  // namespace vm
