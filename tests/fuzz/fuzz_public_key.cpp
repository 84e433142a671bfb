// libFuzzer target: public keys as .pub text (OpenSSH line or RFC 4716
// block), as one authorized_keys-style line, and as a raw wire blob.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ssh/keys/keys.hpp"

namespace {

// A key that parsed must survive its own encodings unchanged.
void check_round_trip(const ssh::keys::PublicKey& key) {
  auto again = ssh::keys::PublicKey::from_blob(key.blob());
  if (!again || !(*again == key)) std::abort();
  auto from_line = ssh::keys::PublicKey::from_openssh_line(key.to_openssh_line("comment"));
  if (!from_line || !(*from_line == key)) std::abort();
  (void)key.fingerprint_sha256();
  (void)key.fingerprint_md5();
  (void)key.to_rfc4716("comment");
  (void)key.bits();
  (void)key.signature_algorithms();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto parsed = ssh::keys::parse_public_key_text(text)) check_round_trip(parsed->key);
  if (auto key = ssh::keys::PublicKey::from_openssh_line(text)) check_round_trip(*key);
  if (auto key = ssh::keys::PublicKey::from_blob(ssh::ByteView(data, size))) {
    check_round_trip(*key);
  }
  return 0;
}
