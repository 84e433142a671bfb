#include "vm/disk_image.hpp"

#include <algorithm>
#include <array>
#include <fstream>

namespace vm {
namespace {

constexpr std::array<std::uint8_t, 4> kQcow2Magic{'Q', 'F', 'I', 0xfb};
constexpr std::size_t kQcow2SizeOffset = 24;
constexpr std::size_t kQcow2HeaderBytes = 32;

std::uint64_t big_endian_u64(std::span<const std::uint8_t> bytes) {
  std::uint64_t value = 0;
  for (std::uint8_t byte : bytes.first(8)) value = (value << 8) | byte;
  return value;
}

}  // namespace

std::string_view disk_format_name(DiskFormat format) {
  return format == DiskFormat::Qcow2 ? "qcow2" : "raw";
}

DiskImageInfo disk_image_info(std::span<const std::uint8_t> header, std::uint64_t file_size) {
  const bool qcow2 = header.size() >= kQcow2Magic.size() &&
                     std::equal(kQcow2Magic.begin(), kQcow2Magic.end(), header.begin());
  if (!qcow2) return {DiskFormat::Raw, file_size};
  if (header.size() < kQcow2HeaderBytes) {
    throw DiskImageError("the qcow2 header is cut short (" + std::to_string(header.size()) +
                         " bytes)");
  }
  return {DiskFormat::Qcow2, big_endian_u64(header.subspan(kQcow2SizeOffset))};
}

DiskImageInfo read_disk_image_info(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::error_code size_error;
  const std::uint64_t size = std::filesystem::file_size(file, size_error);
  if (!in || size_error) throw DiskImageError("cannot read the disk image " + file.string());
  std::array<std::uint8_t, kQcow2HeaderBytes> header{};
  in.read(reinterpret_cast<char*>(header.data()), header.size());
  const auto got = static_cast<std::size_t>(in.gcount());
  try {
    return disk_image_info(std::span(header).first(got), size);
  } catch (const DiskImageError& error) {
    throw DiskImageError(file.string() + ": " + error.what());
  }
}

std::uint64_t overlay_size(std::uint64_t requested, const DiskImageInfo& base) {
  return std::max(requested, base.virtual_size);
}

std::vector<std::string> qemu_img_overlay_arguments(const std::string& qemu_img,
                                                    const std::filesystem::path& base,
                                                    const DiskImageInfo& base_info,
                                                    const std::filesystem::path& overlay,
                                                    std::uint64_t size) {
  return {qemu_img,
          "create",
          "-q",
          "-f",
          "qcow2",
          "-F",
          std::string(disk_format_name(base_info.format)),
          "-b",
          std::filesystem::absolute(base).string(),
          overlay.string(),
          std::to_string(size)};
}

}  // namespace vm
