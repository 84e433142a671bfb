#include "support/keys.hpp"

#include <sstream>
#include <stdexcept>

#include "support/files.hpp"
#include "support/process.hpp"

namespace testing_support {

namespace {
constexpr const char* kSshKeygen = "/usr/bin/ssh-keygen";
}  // namespace

void PrintTo(KeyType type, std::ostream* out) {
  *out << key_type_name(type);
}

const std::vector<KeyType>& all_key_types() {
  static const std::vector<KeyType> types = {KeyType::kEd25519, KeyType::kEcdsaP256,
                                             KeyType::kEcdsaP384, KeyType::kEcdsaP521,
                                             KeyType::kRsa};
  return types;
}

std::string key_type_name(KeyType type) {
  switch (type) {
    case KeyType::kEd25519:
      return "ed25519";
    case KeyType::kEcdsaP256:
      return "ecdsa-p256";
    case KeyType::kEcdsaP384:
      return "ecdsa-p384";
    case KeyType::kEcdsaP521:
      return "ecdsa-p521";
    case KeyType::kRsa:
      return "rsa";
  }
  return "unknown";
}

std::string key_blob_type(KeyType type) {
  switch (type) {
    case KeyType::kEd25519:
      return "ssh-ed25519";
    case KeyType::kEcdsaP256:
      return "ecdsa-sha2-nistp256";
    case KeyType::kEcdsaP384:
      return "ecdsa-sha2-nistp384";
    case KeyType::kEcdsaP521:
      return "ecdsa-sha2-nistp521";
    case KeyType::kRsa:
      return "ssh-rsa";
  }
  return "unknown";
}

std::vector<std::string> key_signature_algorithms(KeyType type) {
  if (type == KeyType::kRsa) return {"rsa-sha2-512", "rsa-sha2-256"};
  return {key_blob_type(type)};
}

KeyType key_type_for_algorithm(std::string_view algorithm) {
  for (KeyType type : all_key_types()) {
    for (const auto& name : key_signature_algorithms(type)) {
      if (name == algorithm) return type;
    }
  }
  if (algorithm == "ssh-rsa") return KeyType::kRsa;
  throw std::invalid_argument("no key type for algorithm " + std::string(algorithm));
}

std::string public_key_without_comment(std::string_view line) {
  std::istringstream words{std::string(line)};
  std::string word;
  while (words >> word) {
    bool is_type = word.rfind("ssh-", 0) == 0 || word.rfind("ecdsa-", 0) == 0;
    if (is_type) {
      std::string base64;
      words >> base64;
      return word + " " + base64;
    }
  }
  throw std::runtime_error("no public key in \"" + std::string(line) + "\"");
}

KeyPair generate_openssh_key(const std::filesystem::path& private_key_path, KeyType type,
                             const std::string& comment) {
  if (!std::filesystem::exists(kSshKeygen)) {
    throw std::runtime_error(std::string(kSshKeygen) +
                             " is missing: install openssh-client (scripts/install-deps)");
  }
  Argv argv = {kSshKeygen, "-q", "-N", "", "-C", comment, "-f", private_key_path.string()};
  switch (type) {
    case KeyType::kEd25519:
      argv.insert(argv.end(), {"-t", "ed25519"});
      break;
    case KeyType::kEcdsaP256:
      argv.insert(argv.end(), {"-t", "ecdsa", "-b", "256"});
      break;
    case KeyType::kEcdsaP384:
      argv.insert(argv.end(), {"-t", "ecdsa", "-b", "384"});
      break;
    case KeyType::kEcdsaP521:
      argv.insert(argv.end(), {"-t", "ecdsa", "-b", "521"});
      break;
    case KeyType::kRsa:
      argv.insert(argv.end(), {"-t", "rsa", "-b", "3072"});
      break;
  }
  std::filesystem::remove(private_key_path);
  RunOptions options;
  options.timeout = std::chrono::seconds(60);
  auto result = run_process(argv, options);
  if (!result.exited_with(0)) {
    throw std::runtime_error("`" + shell_quote(argv) + "` failed: " + result.describe());
  }
  KeyPair pair;
  pair.type = type;
  pair.private_key = private_key_path;
  pair.public_key = private_key_path.string() + ".pub";
  pair.public_line = public_key_without_comment(read_file(pair.public_key));
  return pair;
}

}  // namespace testing_support
