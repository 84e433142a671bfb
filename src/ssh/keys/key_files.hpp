// Key files on disk: reading them with errors that name the file.
#pragma once

#include <filesystem>

#include "ssh/keys/keys.hpp"

namespace ssh::keys {

// Reads and parses a private key file (any format PrivateKey::from_file_text
// reads). Errors read "<path>: <what is wrong>".
Result<PrivateKey> load_private_key_file(const std::filesystem::path& path,
                                         const PassphraseSource& passphrase = {});

// The public key of a file that may hold a public key (a .pub line or an RFC
// 4716 block) or a private key (its public half, read without a passphrase
// where the format allows). Errors name the file.
Result<PublicKeyWithComment> load_public_key_file(const std::filesystem::path& path);

// The whole file as text, or an error naming it ("<path>: No such file...").
Result<std::string> read_key_file_text(const std::filesystem::path& path);

}  // namespace ssh::keys
