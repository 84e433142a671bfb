#include "ssh/keys/key_files.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "ssh/keys/keys_internal.hpp"

namespace ssh::keys {
namespace {

// Key files are small; anything bigger is not one (and not read whole).
constexpr std::uintmax_t kMaxKeyFileSize = 1 << 20;

Error in_file(const std::filesystem::path& path, Error error) {
  error.message = path.string() + ": " + error.message;
  return error;
}

}  // namespace

Result<std::string> read_key_file_text(const std::filesystem::path& path) {
  std::error_code error;
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  if (error) return internal::key_error(path.string() + ": " + error.message());
  if (size > kMaxKeyFileSize)
    return internal::key_error(path.string() + ": too large for a key file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return internal::key_error(path.string() + ": cannot open: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return internal::key_error(path.string() + ": read error");
  return text.str();
}

Result<PrivateKey> load_private_key_file(const std::filesystem::path& path,
                                         const PassphraseSource& passphrase) {
  auto text = read_key_file_text(path);
  if (!text) return text.take_error();
  auto key = PrivateKey::from_file_text(*text, passphrase);
  // The text holds an unencrypted key's secrets.
  Botan::secure_scrub_memory(text->data(), text->size());
  if (!key) return in_file(path, key.take_error());
  return key;
}

Result<PublicKeyWithComment> load_public_key_file(const std::filesystem::path& path) {
  auto text = read_key_file_text(path);
  if (!text) return text.take_error();
  Result<PublicKeyWithComment> key = internal::first_pem_label(*text).empty()
                                         ? parse_public_key_text(*text)
                                         : PrivateKey::public_key_from_file_text(*text);
  Botan::secure_scrub_memory(text->data(), text->size());
  if (!key) return in_file(path, key.take_error());
  return key;
}

}  // namespace ssh::keys
