// The instance's disks: the base image as installed (qcow2 or raw, read
// only once the VM uses it) and the writable qcow2 overlay QEMU boots
// (Lima's basedisk and diffdisk). The overlay is made by qemu-img, which
// ships with QEMU; this file only decides its arguments.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace vm {

enum class DiskFormat { Raw, Qcow2 };
std::string_view disk_format_name(DiskFormat format);  // "raw", "qcow2"

struct DiskImageInfo {
  DiskFormat format = DiskFormat::Raw;
  std::uint64_t virtual_size = 0;  // what the guest sees, in bytes
};

class DiskImageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// From the file's first bytes (at least 32 for a qcow2 header) and its size:
// qcow2 by its magic "QFI\xfb" (virtual size from the header), anything else
// raw (the file's size). A qcow2 header that is cut short is a DiskImageError.
DiskImageInfo disk_image_info(std::span<const std::uint8_t> header, std::uint64_t file_size);

// Reads the start of `file` and calls the above. Throws DiskImageError.
DiskImageInfo read_disk_image_info(const std::filesystem::path& file);

// The size the overlay gets: lima.yaml's disk, but never smaller than the
// base (qemu-img cannot shrink what the base already holds).
std::uint64_t overlay_size(std::uint64_t requested, const DiskImageInfo& base);

// qemu-img create -f qcow2 -F FORMAT -b BASE OVERLAY SIZE. The backing file
// is named by its absolute path, so the overlay works from any directory.
std::vector<std::string> qemu_img_overlay_arguments(const std::string& qemu_img,
                                                    const std::filesystem::path& base,
                                                    const DiskImageInfo& base_info,
                                                    const std::filesystem::path& overlay,
                                                    std::uint64_t size);

}  // namespace vm
