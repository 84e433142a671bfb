#include "support/files.hpp"

#include <botan/hash.h>
#include <botan/hex.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace testing_support {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string() + ": " + std::strerror(errno));
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

std::string read_file_from(const std::filesystem::path& path, std::uintmax_t offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  auto size = static_cast<std::uintmax_t>(in.tellg());
  if (offset >= size) return {};
  in.seekg(static_cast<std::streamoff>(offset));
  std::string content(size - offset, '\0');
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  content.resize(static_cast<std::size_t>(in.gcount()));
  return content;
}

void write_file(const std::filesystem::path& path, std::string_view content,
                std::filesystem::perms perms) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(errno));
    }
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) throw std::runtime_error("short write to " + path.string());
  }
  std::filesystem::permissions(path, perms, std::filesystem::perm_options::replace);
}

std::string make_random_file(const std::filesystem::path& path, std::uintmax_t size,
                             std::uint64_t seed) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(errno));
  Sha256 hash;
  std::vector<std::uint64_t> block(1 << 17);  // 1 MiB
  std::uint64_t state = seed ^ 0x9e3779b97f4a7c15ULL;
  std::uintmax_t left = size;
  while (left > 0) {
    for (auto& word : block) {  // splitmix64
      std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      word = z ^ (z >> 31);
    }
    std::size_t bytes = static_cast<std::size_t>(
        std::min<std::uintmax_t>(left, block.size() * sizeof(std::uint64_t)));
    std::string_view data(reinterpret_cast<const char*>(block.data()), bytes);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    hash.update(data);
    left -= bytes;
  }
  out.close();
  if (!out) throw std::runtime_error("short write to " + path.string());
  return hash.hex();
}

Sha256::Sha256() : hash_(Botan::HashFunction::create_or_throw("SHA-256")) {}
Sha256::~Sha256() = default;

void Sha256::update(std::string_view data) {
  hash_->update(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
  size_ += data.size();
}

std::string Sha256::hex() {
  auto digest = hash_->final();
  size_ = 0;
  return Botan::hex_encode(digest.data(), digest.size(), false);
}

std::string payload_of(std::size_t size, std::uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::string bytes(size, '\0');
  for (auto& byte : bytes) byte = static_cast<char>(generator());
  return bytes;
}

std::string sha256_hex(std::string_view data) {
  Sha256 hash;
  hash.update(data);
  return hash.hex();
}

std::string sha256_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string() + ": " + std::strerror(errno));
  Sha256 hash;
  std::string buffer(1 << 20, '\0');
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    hash.update(std::string_view(buffer.data(), static_cast<std::size_t>(in.gcount())));
  }
  return hash.hex();
}

std::string trim(std::string_view text) {
  auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return std::string(text);
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

std::size_t count_nonempty_lines(std::string_view text) {
  auto lines = split_lines(text);
  return static_cast<std::size_t>(std::count_if(
      lines.begin(), lines.end(), [](const std::string& line) { return !trim(line).empty(); }));
}

bool contains_ignoring_case(std::string_view haystack, std::string_view needle) {
  auto found = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                           [](char a, char b) {
                             return std::tolower(static_cast<unsigned char>(a)) ==
                                    std::tolower(static_cast<unsigned char>(b));
                           });
  return found != haystack.end() || needle.empty();
}

std::size_t count_occurrences(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return 0;
  std::size_t count = 0;
  for (auto at = haystack.find(needle); at != std::string_view::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

}  // namespace testing_support
