// `limactl keygen`: OpenSSH's ssh-keygen for the things Lima needs — make a
// key pair, print a private key's public key, fingerprint a key, change a
// passphrase. Files are ones ssh-keygen reads, and the other way round.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace cli {

struct KeygenCommandOptions {
  std::string type = "ed25519";               // -t: ed25519, ecdsa or rsa
  int bits = 0;                               // -b; 0 = the type's default
  std::string file;                           // -f; empty = ~/.ssh/id_<type>
  std::optional<std::string> new_passphrase;  // -N
  std::optional<std::string> old_passphrase;  // -P
  std::optional<std::string> comment;         // -C; default user@host
  std::string fingerprint_hash = "sha256";    // -E: sha256 or md5
  bool quiet = false;                         // -q
  bool print_public_key = false;              // -y
  bool print_fingerprint = false;             // -l
  bool change_passphrase = false;             // -p
  bool hash_known_hosts = false;              // -H: hash the known_hosts file -f
  bool visual = false;                        // -v: randomart with -l
};

void setup_keygen_command(CLI::App& app, KeygenCommandOptions& options);
// Returns the process exit status: 0, or 1 on any failure (as ssh-keygen).
int run_keygen_command(KeygenCommandOptions options);

}  // namespace cli
