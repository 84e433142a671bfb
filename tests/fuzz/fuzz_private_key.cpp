// libFuzzer target: private key file text in every format
// PrivateKey::from_file_text reads (openssh-key-v1, PKCS#1/SEC 1 PEM with
// or without DEK-Info, PKCS#8 and PBES2). bcrypt-pbkdf rounds are capped in
// the parser (kMaxKdfRounds), so slow inputs are bounded; scripts/fuzz gives
// libFuzzer a generous -timeout for them.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "ssh/keys/keys.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const ssh::keys::PassphraseSource passphrase = [] {
    constexpr std::string_view kPassphrase = "fuzz-passphrase";
    return std::optional<ssh::SecureBytes>(std::in_place, kPassphrase.begin(), kPassphrase.end());
  };

  (void)ssh::keys::PrivateKey::is_encrypted(text);
  if (auto public_half = ssh::keys::PrivateKey::public_key_from_file_text(text)) {
    (void)public_half->key.fingerprint_sha256();
  }
  if (auto key = ssh::keys::PrivateKey::from_file_text(text, passphrase)) {
    (void)key->public_key().fingerprint_sha256();
    (void)key->public_key().to_openssh_line(key->comment());
  }
  return 0;
}
