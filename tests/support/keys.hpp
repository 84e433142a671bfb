// SSH key pairs for tests, made with OpenSSH's ssh-keygen.
#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace testing_support {

enum class KeyType { kEd25519, kEcdsaP256, kEcdsaP384, kEcdsaP521, kRsa };

// For gtest parameter names and messages.
void PrintTo(KeyType type, std::ostream* out);

// Every key type, in a fixed order.
const std::vector<KeyType>& all_key_types();
// "ed25519", "ecdsa-p256", ...: for file names and test names.
std::string key_type_name(KeyType type);
// The key's type as written in public keys: "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa".
std::string key_blob_type(KeyType type);
// The signature algorithms a key of this type serves, preferred first:
// {"ssh-ed25519"}, {"ecdsa-sha2-nistp256"}, {"rsa-sha2-512", "rsa-sha2-256"}.
std::vector<std::string> key_signature_algorithms(KeyType type);
// The key type behind a host key / signature algorithm name ("rsa-sha2-256" -> kRsa).
KeyType key_type_for_algorithm(std::string_view algorithm);

struct KeyPair {
  KeyType type = KeyType::kEd25519;
  std::filesystem::path private_key;  // OpenSSH format, no passphrase
  std::filesystem::path public_key;   // private_key + ".pub"
  std::string public_line;            // "<blob type> <base64>", no comment
};

// Runs `ssh-keygen -q -N '' -t TYPE [-b BITS] -f private_key_path` (RSA keys
// have 3072 bits, OpenSSH's default). Throws with ssh-keygen's output if it
// fails, or with an install hint if ssh-keygen is missing.
KeyPair generate_openssh_key(const std::filesystem::path& private_key_path, KeyType type,
                             const std::string& comment = "limactl-test");

// "<blob type> <base64>" from a public key line (drops options before the
// type and the comment after the key).
std::string public_key_without_comment(std::string_view line);

}  // namespace testing_support
