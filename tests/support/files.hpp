// Small file, hashing and text helpers shared by the tests.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace Botan {
class HashFunction;
}

namespace testing_support {

// The whole file; throws std::runtime_error if it cannot be read.
std::string read_file(const std::filesystem::path& path);
// The file from byte `offset` on ("" if it is shorter); "" if it is missing.
std::string read_file_from(const std::filesystem::path& path, std::uintmax_t offset);
// Replaces the file's contents and sets its permission bits.
void write_file(const std::filesystem::path& path, std::string_view content,
                std::filesystem::perms perms = std::filesystem::perms(0644));

// Writes `size` pseudo-random bytes (deterministic for a seed, fast: no
// /dev/urandom) and returns their lowercase hex SHA-256.
std::string make_random_file(const std::filesystem::path& path, std::uintmax_t size,
                             std::uint64_t seed);

// Incremental SHA-256 (Botan) with a lowercase hex result.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  void update(std::string_view data);
  std::uint64_t size() const { return size_; }
  std::string hex();  // finishes; the object is reset for reuse

 private:
  std::unique_ptr<Botan::HashFunction> hash_;
  std::uint64_t size_ = 0;
};

// `size` pseudo-random bytes, the same for the same seed (test payloads).
std::string payload_of(std::size_t size, std::uint64_t seed);

std::string sha256_hex(std::string_view data);
std::string sha256_file(const std::filesystem::path& path);

std::string trim(std::string_view text);
// Lines without their "\n" or "\r\n"; a final empty line is not reported.
std::vector<std::string> split_lines(std::string_view text);
std::size_t count_nonempty_lines(std::string_view text);
bool contains_ignoring_case(std::string_view haystack, std::string_view needle);
std::size_t count_occurrences(std::string_view haystack, std::string_view needle);

}  // namespace testing_support
