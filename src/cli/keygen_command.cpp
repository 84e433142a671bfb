#include "cli/keygen_command.hpp"

#include <botan/auto_rng.h>
#include <botan/hash.h>
#include <botan/mem_ops.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "platform/console.hpp"
#include "platform/files.hpp"
#include "platform/user.hpp"
#include "ssh/config/known_hosts.hpp"
#include "ssh/keys/key_files.hpp"
#include "ssh/keys/keys.hpp"

namespace cli {
namespace {

namespace fs = std::filesystem;
using ssh::SecureBytes;
using ssh::keys::PrivateKey;
using ssh::keys::PublicKey;

constexpr int kExitFailure = 1;
constexpr unsigned kPrivateKeyMode = 0600;
constexpr unsigned kPublicKeyMode = 0644;
constexpr int kDefaultEcdsaBits = 256;
constexpr int kDefaultRsaBits = 3072;
constexpr int kMinRsaBits = 1024;
constexpr int kMaxRsaBits = 16384;

// "limactl keygen: <message>" on stderr, and the failure status.
int fail(const std::string& message) {
  std::cerr << "limactl keygen: " << message << "\n";
  return kExitFailure;
}

SecureBytes secure(std::string text) {
  SecureBytes bytes(text.begin(), text.end());
  Botan::secure_scrub_memory(text.data(), text.size());
  return bytes;
}

// The SSH key type and RSA size for -t/-b; an error message otherwise.
struct KeySpec {
  std::string key_type;
  std::size_t rsa_bits = 0;
  std::string file_suffix;  // id_<suffix>
  std::string error;
};

KeySpec key_spec(const KeygenCommandOptions& options) {
  KeySpec spec;
  std::string type = options.type;
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (type == "ed25519" || type == "ssh-ed25519") {
    spec.key_type = "ssh-ed25519";
    spec.file_suffix = "ed25519";
  } else if (type == "ecdsa" || type.rfind("ecdsa-sha2-nistp", 0) == 0) {
    int bits = options.bits != 0 ? options.bits : kDefaultEcdsaBits;
    if (type != "ecdsa" && options.bits == 0) bits = std::atoi(type.c_str() + 16);
    if (bits != 256 && bits != 384 && bits != 521) {
      spec.error = "invalid ECDSA key length: valid lengths are 256, 384 or 521 bits";
      return spec;
    }
    spec.key_type = "ecdsa-sha2-nistp" + std::to_string(bits);
    spec.file_suffix = "ecdsa";
  } else if (type == "rsa" || type == "ssh-rsa") {
    const int bits = options.bits != 0 ? options.bits : kDefaultRsaBits;
    if (bits < kMinRsaBits) {
      spec.error = "invalid RSA key length: minimum is " + std::to_string(kMinRsaBits) + " bits";
      return spec;
    }
    if (bits > kMaxRsaBits) {
      spec.error = "invalid RSA key length: maximum is " + std::to_string(kMaxRsaBits) + " bits";
      return spec;
    }
    spec.key_type = "ssh-rsa";
    spec.rsa_bits = static_cast<std::size_t>(bits);
    spec.file_suffix = "rsa";
  } else {
    spec.error = "unknown key type \"" + options.type + "\" (ed25519, ecdsa or rsa)";
  }
  return spec;
}

fs::path default_key_file(const std::string& suffix) {
  return fs::path(platform::home_directory()) / ".ssh" / ("id_" + suffix);
}

// A y/n answer from stdin (as ssh-keygen reads it); false when not a tty.
bool confirm(const std::string& question) {
  if (!platform::stdin_is_terminal()) return false;
  std::cout << question << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return !answer.empty() && (answer[0] == 'y' || answer[0] == 'Y');
}

// A new passphrase: -N, else asked twice on the terminal, else empty (no
// terminal: nobody to ask, as for ssh-keygen run from a script with -N '').
std::optional<SecureBytes> new_passphrase(const KeygenCommandOptions& options,
                                          const std::string& first_prompt) {
  if (options.new_passphrase) return secure(*options.new_passphrase);
  if (!platform::stdin_is_terminal()) return SecureBytes{};
  auto first = platform::read_secret(first_prompt);
  if (!first) return SecureBytes{};
  SecureBytes passphrase = secure(std::move(*first));
  auto again = platform::read_secret("Enter same passphrase again: ");
  if (!again) return std::nullopt;
  if (secure(std::move(*again)) != passphrase) {
    std::cerr << "Passphrases do not match.\n";
    return std::nullopt;
  }
  return passphrase;
}

// Gives -P when set, else asks on the terminal (once).
ssh::keys::PassphraseSource old_passphrase(const KeygenCommandOptions& options,
                                           const fs::path& file) {
  return [&options, file]() -> std::optional<SecureBytes> {
    if (options.old_passphrase) return secure(*options.old_passphrase);
    auto typed = platform::read_secret("Enter passphrase for \"" + file.string() + "\": ");
    if (!typed) return std::nullopt;
    return secure(std::move(*typed));
  };
}

// OpenSSH's "drunken bishop" fingerprint picture (sshkey.c,
// fingerprint_randomart): the digest's bit pairs move a bishop on a 17x9
// board, the visit counts pick the characters.
std::string randomart(const PublicKey& key, bool md5) {
  constexpr int kWidth = 17;
  constexpr int kHeight = 9;
  constexpr std::string_view kSymbols = " .o+=*BOX@%&#/^SE";
  constexpr int kLast = static_cast<int>(kSymbols.size()) - 1;
  const auto digest =
      Botan::HashFunction::create_or_throw(md5 ? "MD5" : "SHA-256")->process(key.blob());
  std::array<std::array<int, kHeight>, kWidth> field{};
  int x = kWidth / 2;
  int y = kHeight / 2;
  for (std::uint8_t input : digest) {
    for (int step = 0; step < 4; ++step) {
      x = std::clamp(x + ((input & 0x1) != 0 ? 1 : -1), 0, kWidth - 1);
      y = std::clamp(y + ((input & 0x2) != 0 ? 1 : -1), 0, kHeight - 1);
      if (field[x][y] < kLast - 2) ++field[x][y];
      input = static_cast<std::uint8_t>(input >> 2);
    }
  }
  field[kWidth / 2][kHeight / 2] = kLast - 1;
  field[x][y] = kLast;

  auto border = [](std::string label) {
    if (label.size() > kWidth - 2) label = label.substr(0, kWidth - 2);
    const std::size_t before = (kWidth - label.size()) / 2;
    return "+" + std::string(before, '-') + label +
           std::string(kWidth - before - label.size(), '-') + "+\n";
  };
  std::string title = "[" + key.short_type_name() + " " + std::to_string(key.bits()) + "]";
  if (title.size() > kWidth - 2) title = "[" + key.short_type_name() + "]";
  std::string art = border(title);
  for (int row = 0; row < kHeight; ++row) {
    art += '|';
    for (int column = 0; column < kWidth; ++column) {
      art += kSymbols[static_cast<std::size_t>(std::min(field[column][row], kLast))];
    }
    art += "|\n";
  }
  art += border(md5 ? "[MD5]" : "[SHA256]");
  art.pop_back();
  return art;
}

std::string fingerprint(const PublicKey& key, bool md5) {
  return md5 ? key.fingerprint_md5() : key.fingerprint_sha256();
}

// Writes the private key file (0600) and its .pub (0644).
int write_key_pair(const fs::path& file, const PrivateKey& key, const std::string& comment,
                   const SecureBytes& passphrase, Botan::RandomNumberGenerator& rng) {
  const std::string text = key.to_openssh(comment, rng, passphrase);
  if (text.empty()) return fail("cannot encode the private key");
  if (auto error = platform::write_file_with_mode(file, text, kPrivateKeyMode)) {
    return fail("cannot " + error->action + " " + file.string() + ": " +
                std::strerror(error->error_number));
  }
  const fs::path public_file = file.string() + ".pub";
  const std::string public_line = key.public_key().to_openssh_line(comment) + "\n";
  if (auto error = platform::write_file_with_mode(public_file, public_line, kPublicKeyMode)) {
    return fail("cannot " + error->action + " " + public_file.string() + ": " +
                std::strerror(error->error_number));
  }
  return 0;
}

int generate(const KeygenCommandOptions& options) {
  const KeySpec spec = key_spec(options);
  if (!spec.error.empty()) return fail(spec.error);
  const bool default_file = options.file.empty();
  const fs::path file = default_file ? default_key_file(spec.file_suffix) : fs::path(options.file);
  if (!options.quiet) {
    std::cout << "Generating public/private " << options.type << " key pair.\n";
  }
  if (default_file) {
    // ~/.ssh, made private as ssh-keygen makes it.
    const int error = platform::make_private_directory(file.parent_path());
    if (error != 0 && error != EEXIST) {
      return fail("cannot create " + file.parent_path().string() + ": " + std::strerror(error));
    }
  }
  std::error_code exists_error;
  if (fs::exists(file, exists_error)) {
    if (!platform::stdin_is_terminal()) {
      return fail(file.string() + " already exists; not overwriting it without a terminal to ask");
    }
    std::cout << file.string() << " already exists.\n";
    if (!confirm("Overwrite (y/n)? ")) return kExitFailure;
  }
  const auto passphrase = new_passphrase(options, "Enter passphrase (empty for no passphrase): ");
  if (!passphrase) return kExitFailure;

  Botan::AutoSeeded_RNG rng;
  auto key = PrivateKey::generate(spec.key_type, spec.rsa_bits, rng);
  if (!key) return fail(key.error().message);
  const std::string comment =
      options.comment ? *options.comment
                      : platform::current_user_name() + "@" + platform::local_hostname();
  if (const int status = write_key_pair(file, *key, comment, *passphrase, rng); status != 0) {
    return status;
  }
  if (!options.quiet) {
    const PublicKey& public_key = key->public_key();
    const bool md5 = options.fingerprint_hash == "md5";
    std::cout << "Your identification has been saved in " << file.string() << "\n"
              << "Your public key has been saved in " << file.string() << ".pub\n"
              << "The key fingerprint is:\n"
              << fingerprint(public_key, md5) << " " << comment << "\n"
              << "The key's randomart image is:\n"
              << randomart(public_key, md5) << "\n";
  }
  return 0;
}

fs::path existing_key_file(const KeygenCommandOptions& options) {
  if (!options.file.empty()) return options.file;
  const KeySpec spec = key_spec(options);
  return default_key_file(spec.file_suffix.empty() ? "ed25519" : spec.file_suffix);
}

int print_public_key(const KeygenCommandOptions& options) {
  const fs::path file = existing_key_file(options);
  auto key = ssh::keys::load_private_key_file(file, old_passphrase(options, file));
  if (!key) return fail("cannot load " + key.error().message);
  std::cout << key->public_key().to_openssh_line(key->comment()) << "\n";
  return 0;
}

int print_fingerprint(const KeygenCommandOptions& options, bool visual) {
  const bool md5 = options.fingerprint_hash == "md5";
  if (!md5 && options.fingerprint_hash != "sha256") {
    return fail("invalid hash algorithm \"" + options.fingerprint_hash + "\" (sha256 or md5)");
  }
  const fs::path file = existing_key_file(options);
  // As ssh-keygen: a private key's .pub, when there, gives the comment, and
  // the key itself when the private file cannot be read without its
  // passphrase (encrypted PEM and PKCS#8).
  auto key = ssh::keys::load_public_key_file(file);
  const fs::path public_file = file.string() + ".pub";
  std::error_code error;
  if (fs::exists(public_file, error)) {
    auto with_pub = ssh::keys::load_public_key_file(public_file);
    if (with_pub && (!key || with_pub->key == key->key)) key = std::move(with_pub);
  }
  if (!key) return fail(key.error().message + " (not a key file)");
  const std::string comment = key->comment.empty() ? "no comment" : key->comment;
  std::cout << key->key.bits() << " " << fingerprint(key->key, md5) << " " << comment << " ("
            << key->key.short_type_name() << ")\n";
  if (visual) std::cout << randomart(key->key, md5) << "\n";
  return 0;
}

int change_passphrase(const KeygenCommandOptions& options) {
  const fs::path file = existing_key_file(options);
  auto key = ssh::keys::load_private_key_file(file, old_passphrase(options, file));
  if (!key) return fail("cannot load " + key.error().message);
  const auto passphrase =
      new_passphrase(options, "Enter new passphrase (empty for no passphrase): ");
  if (!passphrase) return kExitFailure;
  Botan::AutoSeeded_RNG rng;
  const std::string text = key->to_openssh(key->comment(), rng, *passphrase);
  if (text.empty()) return fail("cannot encode the private key");
  if (auto error = platform::write_file_with_mode(file, text, kPrivateKeyMode)) {
    return fail("cannot " + error->action + " " + file.string() + ": " +
                std::strerror(error->error_number));
  }
  if (!options.quiet) std::cout << "Your identification has been saved with the new passphrase.\n";
  return 0;
}

// -H: as ssh-keygen -H, default ~/.ssh/known_hosts.
int hash_known_hosts(const KeygenCommandOptions& options) {
  const std::filesystem::path file =
      options.file.empty()
          ? std::filesystem::path(platform::home_directory()) / ".ssh" / "known_hosts"
          : std::filesystem::path(options.file);
  Botan::AutoSeeded_RNG rng;
  const auto hashed = ssh::config::hash_known_hosts_file(file, rng);
  if (!hashed) return fail(hashed.error().message);
  for (const auto& skipped : hashed->left_alone) std::cerr << skipped.to_string() << "\n";
  if (!options.quiet) {
    std::cout
        << file.string() << " updated (" << hashed->hashed_names << " host name"
        << (hashed->hashed_names == 1 ? "" : "s") << " hashed).\n"
        << "Original contents retained as " << file.string() << ".old\n"
        << "WARNING: " << file.string()
        << ".old contains unhashed entries\nDelete this file to ensure privacy of host names.\n";
  }
  return 0;
}

}  // namespace

void setup_keygen_command(CLI::App& app, KeygenCommandOptions& options) {
  auto* command = app.add_subcommand(
      "keygen",
      "Make, inspect and re-encrypt SSH keys (OpenSSH's ssh-keygen: -t/-b/-f/-N/-C/-q to make a "
      "key pair, -y, -l, -p, -H). New keys are openssh-key-v1 files, encrypted with bcrypt-pbkdf "
      "and "
      "aes256-ctr when a passphrase is given; existing keys may also be PEM or PKCS#8.");
  command->add_option("-t", options.type, "Key type: ed25519 (default), ecdsa or rsa");
  command->add_option("-b", options.bits,
                      "Bits: ecdsa 256 (default), 384 or 521; rsa 1024 to 16384 (default 3072)");
  command->add_option("-f", options.file, "Key file (default ~/.ssh/id_<type>)");
  // Set through functions so that -N '' gives an empty passphrase rather than
  // CLI11's empty std::optional.
  command->add_option_function<std::string>(
      "-N", [&options](const std::string& value) { options.new_passphrase = value; },
      "New passphrase ('' for none; default: asked twice on a terminal, none "
      "without one)");
  command->add_option_function<std::string>(
      "-P", [&options](const std::string& value) { options.old_passphrase = value; },
      "Current passphrase for -y, -l and -p (default: asked on a terminal)");
  command->add_option_function<std::string>(
      "-C", [&options](const std::string& value) { options.comment = value; },
      "Comment (default user@host)");
  command->add_option("-E", options.fingerprint_hash, "Fingerprint hash for -l: sha256 or md5")
      ->check(CLI::IsMember({"sha256", "md5"}));
  command->add_flag("-q", options.quiet, "Quiet: print nothing when making a key");
  command->add_flag("-y", options.print_public_key,
                    "Print the public key of the private key file -f");
  command->add_flag("-l", options.print_fingerprint,
                    "Print the fingerprint of the key file -f (public or private): "
                    "<bits> <fingerprint> <comment> (<TYPE>)");
  command->add_flag("-p", options.change_passphrase,
                    "Change the passphrase of the private key file -f (-P old, -N new)");
  command->add_flag("-H", options.hash_known_hosts,
                    "Hash the host names in the known_hosts file -f (default "
                    "~/.ssh/known_hosts); the original is kept as <file>.old");
  command->add_flag("-v", options.visual,
                    "With -l: also print the fingerprint's randomart picture");
}

int run_keygen_command(KeygenCommandOptions options) {
  const int modes =
      static_cast<int>(options.print_public_key) + static_cast<int>(options.print_fingerprint) +
      static_cast<int>(options.change_passphrase) + static_cast<int>(options.hash_known_hosts);
  if (modes > 1) return fail("-y, -l, -p and -H cannot be combined");
  try {
    if (options.print_public_key) return print_public_key(options);
    if (options.print_fingerprint) return print_fingerprint(options, options.visual);
    if (options.change_passphrase) return change_passphrase(options);
    if (options.hash_known_hosts) return hash_known_hosts(options);
    return generate(options);
  } catch (const std::exception& error) {
    return fail(error.what());
  }
}

}  // namespace cli
