// Private keys: generation, signing, and OpenSSH's unencrypted
// openssh-key-v1 file format (PROTOCOL.key in the OpenSSH sources).

#include <botan/base64.h>
#include <botan/bigint.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/ed25519.h>
#include <botan/numthry.h>
#include <botan/pubkey.h>
#include <botan/rsa.h>
#include <botan/system_rng.h>

#include <algorithm>
#include <cstdint>
#include <exception>

#include "ssh/keys/keys.hpp"
#include "ssh/keys/keys_internal.hpp"
#include "ssh/limits.hpp"
#include "ssh/wire/reader.hpp"
#include "ssh/wire/writer.hpp"

namespace ssh::keys {
namespace {

using internal::key_error;

constexpr std::string_view kBeginLine = "-----BEGIN OPENSSH PRIVATE KEY-----";
constexpr std::string_view kEndLine = "-----END OPENSSH PRIVATE KEY-----";
// "openssh-key-v1" with its terminating NUL, which is part of the magic.
constexpr std::string_view kMagic{"openssh-key-v1\0", 15};
constexpr std::string_view kNoCipher = "none";
constexpr std::string_view kNoKdf = "none";
constexpr std::string_view kBcryptKdf = "bcrypt";
// What ssh-keygen encrypts new keys with, and its salt size.
constexpr std::string_view kDefaultCipher = "aes256-ctr";
constexpr std::size_t kSaltSize = 16;
// A hostile file must not make us spin for hours; ssh-keygen -a users pick
// hundreds at most (each round costs a few milliseconds).
constexpr std::uint32_t kMaxKdfRounds = limits::kMaxKdfRounds;
// The private section is padded to the cipher's block size; with no cipher
// OpenSSH uses 8.
constexpr std::size_t kUnencryptedBlockSize = 8;
// ssh-keygen wraps the base64 body at 70 columns.
constexpr std::size_t kBase64LineLength = 70;
constexpr std::size_t kEd25519SeedSize = 32;

bool same_bytes(ByteView a, ByteView b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

// The binary contents between the BEGIN and END lines.
Result<SecureBytes> decode_armor(std::string_view file_text) {
  const std::size_t begin = file_text.find(kBeginLine);
  if (begin == std::string_view::npos) {
    return key_error("not an OpenSSH private key (no \"" + std::string(kBeginLine) + "\" line)");
  }
  const std::size_t body_start = begin + kBeginLine.size();
  const std::size_t end = file_text.find(kEndLine, body_start);
  if (end == std::string_view::npos) {
    return key_error("truncated OpenSSH private key (no \"" + std::string(kEndLine) + "\" line)");
  }
  try {
    return Botan::base64_decode(file_text.data() + body_start, end - body_start,
                                /*ignore_ws=*/true);
  } catch (const std::exception&) {
    return key_error("OpenSSH private key has invalid base64");
  }
}

// What the private section holds besides the check-ints and padding.
struct PrivateSection {
  std::shared_ptr<const Botan::Private_Key> key;
  std::string comment;
};

// Reads the key-type-specific private fields of a key whose public half is
// public_key, refusing any field that disagrees with that public half.
Result<std::shared_ptr<const Botan::Private_Key>> read_private_fields(wire::Reader& reader,
                                                                      const PublicKey& public_key) {
  std::shared_ptr<const Botan::Private_Key> key;
  const std::string& type = public_key.type();
  if (type == internal::kEd25519) {
    const ByteView public_point = reader.string();
    // OpenSSH stores the 32-byte seed followed by the public key.
    const ByteView seed_and_public = reader.string();
    if (!reader.ok() || public_point.size() != internal::kEd25519PublicKeySize ||
        seed_and_public.size() != kEd25519SeedSize + internal::kEd25519PublicKeySize ||
        !same_bytes(seed_and_public.subspan(kEd25519SeedSize), public_point)) {
      return key_error("malformed ssh-ed25519 private key");
    }
    const SecureBytes seed(seed_and_public.begin(), seed_and_public.begin() + kEd25519SeedSize);
    key = std::make_shared<Botan::Ed25519_PrivateKey>(seed);
  } else if (const internal::EcdsaCurve* curve = internal::find_ecdsa_curve(type)) {
    const std::string_view curve_name = reader.text();
    const ByteView public_point = reader.string();
    const ByteView scalar_bytes = reader.mpint();
    if (!reader.ok() || curve_name != curve->curve_name) {
      return key_error("malformed " + type + " private key");
    }
    const Botan::EC_Group group{std::string(curve->botan_group)};
    const Botan::BigInt scalar(scalar_bytes.data(), scalar_bytes.size());
    if (scalar.is_zero() || scalar >= group.get_order()) {
      return key_error(type + " private key is out of range");
    }
    // A non-zero scalar is used as given; the RNG only blinds the public
    // point computation.
    auto ecdsa = std::make_shared<Botan::ECDSA_PrivateKey>(Botan::system_rng(), group, scalar);
    if (!same_bytes(ecdsa->public_point().encode(Botan::PointGFp::UNCOMPRESSED), public_point)) {
      return key_error(type + " private key does not match its public point");
    }
    key = std::move(ecdsa);
  } else if (type == internal::kRsa) {
    const ByteView n_bytes = reader.mpint();
    const ByteView e_bytes = reader.mpint();
    const ByteView d_bytes = reader.mpint();
    const ByteView iqmp_bytes = reader.mpint();
    const ByteView p_bytes = reader.mpint();
    const ByteView q_bytes = reader.mpint();
    if (!reader.ok()) return key_error("malformed ssh-rsa private key");
    const Botan::BigInt n(n_bytes.data(), n_bytes.size());
    const Botan::BigInt e(e_bytes.data(), e_bytes.size());
    const Botan::BigInt d(d_bytes.data(), d_bytes.size());
    const Botan::BigInt iqmp(iqmp_bytes.data(), iqmp_bytes.size());
    const Botan::BigInt p(p_bytes.data(), p_bytes.size());
    const Botan::BigInt q(q_bytes.data(), q_bytes.size());
    // Cheap consistency checks, so a damaged file is refused here rather
    // than producing signatures nobody accepts.
    const Botan::BigInt one(1);
    if (p <= one || q <= one || p * q != n || (e * d) % (p - 1) != one ||
        (e * d) % (q - 1) != one || (iqmp * q) % p != one) {
      return key_error("ssh-rsa private key is inconsistent");
    }
    key = std::make_shared<Botan::RSA_PrivateKey>(p, q, e, d, n);
  } else {
    return key_error("unsupported private key type \"" + type + "\"");
  }
  // The private fields repeat (or determine) the public key; it must be the
  // one in the file's public section.
  if (internal::encode_public_blob(type, *key) != public_key.blob()) {
    return key_error("private key does not match its public key");
  }
  return key;
}

Result<PrivateSection> read_private_section(ByteView section, const PublicKey& public_key,
                                            std::size_t block_size, bool encrypted) {
  if (section.empty() || section.size() % block_size != 0) {
    return key_error("corrupted OpenSSH private key (section length)");
  }
  wire::Reader reader(section);
  const std::uint32_t check_int = reader.u32();
  const std::uint32_t check_int_copy = reader.u32();
  // Decrypting with a wrong key gives random check-ints; without
  // encryption a mismatch can only mean damage. Checked before anything
  // else is read, which would otherwise fail on the garbage.
  if (reader.ok() && check_int != check_int_copy) {
    return key_error(encrypted ? std::string(kIncorrectPassphrase)
                               : "corrupted OpenSSH private key (check-int mismatch)");
  }
  const std::string_view type = reader.text();
  if (!reader.ok()) return key_error("truncated OpenSSH private key");
  if (type != public_key.type()) {
    return key_error("private key type \"" + std::string(type) + "\" does not match public key");
  }
  auto key = read_private_fields(reader, public_key);
  if (!key) return key.take_error();
  PrivateSection result{std::move(*key), std::string(reader.text())};
  const ByteView padding = reader.rest();
  if (!reader.ok()) return key_error("truncated OpenSSH private key");
  // The padding is 1, 2, 3, ... (PROTOCOL.key section 3).
  if (padding.size() >= block_size) return key_error("OpenSSH private key has bad padding");
  for (std::size_t i = 0; i < padding.size(); ++i) {
    if (padding[i] != i + 1) return key_error("OpenSSH private key has bad padding");
  }
  return result;
}

std::uint32_t random_u32(Botan::RandomNumberGenerator& rng) {
  std::uint8_t bytes[4];
  rng.randomize(bytes, sizeof bytes);
  wire::Reader reader(bytes);
  return reader.u32();
}

}  // namespace

Result<PrivateKey> PrivateKey::generate(std::string_view type, std::size_t rsa_bits,
                                        Botan::RandomNumberGenerator& rng) {
  try {
    std::shared_ptr<const Botan::Private_Key> key;
    if (type == internal::kEd25519) {
      key = std::make_shared<Botan::Ed25519_PrivateKey>(rng);
    } else if (const internal::EcdsaCurve* curve = internal::find_ecdsa_curve(type)) {
      key = std::make_shared<Botan::ECDSA_PrivateKey>(
          rng, Botan::EC_Group(std::string(curve->botan_group)));
    } else if (type == internal::kRsa) {
      if (rsa_bits < internal::kMinRsaBits || rsa_bits > internal::kMaxRsaBits) {
        return key_error("RSA keys must have " + std::to_string(internal::kMinRsaBits) + " to " +
                         std::to_string(internal::kMaxRsaBits) + " bits");
      }
      key = std::make_shared<Botan::RSA_PrivateKey>(rng, rsa_bits);
    } else {
      return key_error("cannot generate keys of type \"" + std::string(type) + "\"");
    }
    auto public_key = PublicKey::from_blob(internal::encode_public_blob(type, *key));
    if (!public_key) return public_key.take_error();
    PrivateKey result;
    result.public_ = std::move(*public_key);
    result.key_ = std::move(key);
    return result;
  } catch (const std::exception&) {
    return key_error("key generation failed");
  }
}

namespace {

// An openssh-key-v1 file split into its fields; the views point into binary.
struct OpensshFile {
  SecureBytes binary;
  const internal::KeyFileCipher* cipher = nullptr;  // null: "none"
  ByteView salt;
  std::uint32_t rounds = 0;
  ByteView public_blob;
  ByteView private_section;
  ByteView tag;
};

Result<std::unique_ptr<OpensshFile>> parse_openssh_file(std::string_view file_text) {
  auto decoded = decode_armor(file_text);
  if (!decoded) return decoded.take_error();
  auto file = std::make_unique<OpensshFile>();
  file->binary = std::move(*decoded);
  wire::Reader reader(file->binary);
  const ByteView magic = reader.raw(kMagic.size());
  const std::string_view cipher = reader.text();
  const std::string_view kdf = reader.text();
  const ByteView kdf_options = reader.string();
  const std::uint32_t key_count = reader.u32();
  if (!reader.ok()) return key_error("truncated OpenSSH private key");
  if (as_text(magic) != kMagic) return key_error("not an openssh-key-v1 private key (bad magic)");
  if (cipher != kNoCipher) {
    file->cipher = internal::find_key_file_cipher(cipher);
    if (file->cipher == nullptr) {
      return key_error("unsupported cipher \"" + std::string(cipher) + "\" in private key");
    }
  }
  if (kdf == kNoKdf) {
    if (file->cipher != nullptr || !kdf_options.empty()) {
      return key_error("corrupted OpenSSH private key (cipher without a KDF)");
    }
  } else if (kdf == kBcryptKdf) {
    if (file->cipher == nullptr) {
      return key_error("corrupted OpenSSH private key (KDF without a cipher)");
    }
    wire::Reader options(kdf_options);
    file->salt = options.string();
    file->rounds = options.u32();
    if (!options.finished() || file->salt.empty() || file->rounds == 0) {
      return key_error("corrupted OpenSSH private key (bad bcrypt KDF options)");
    }
    if (file->rounds > kMaxKdfRounds) {
      return key_error("private key asks for " + std::to_string(file->rounds) +
                       " KDF rounds (more than " + std::to_string(kMaxKdfRounds) + ")");
    }
  } else {
    return key_error("unsupported KDF \"" + std::string(kdf) + "\" in private key");
  }
  if (key_count != 1) return key_error("OpenSSH private key files must hold exactly one key");
  file->public_blob = reader.string();
  file->private_section = reader.string();
  const std::size_t tag_size = file->cipher != nullptr ? file->cipher->tag_size : 0;
  file->tag = reader.raw(tag_size);
  if (!reader.ok()) return key_error("truncated OpenSSH private key");
  if (!reader.finished()) return key_error("corrupted OpenSSH private key (trailing data)");
  return file;
}

// With no passphrase source, or one that gives none.
Error passphrase_required() {
  return key_error(std::string(kPassphraseRequired));
}

Result<PrivateKey> read_openssh(std::string_view file_text, const PassphraseSource& passphrase) {
  auto parsed = parse_openssh_file(file_text);
  if (!parsed) return parsed.take_error();
  const OpensshFile& file = **parsed;
  auto public_key = PublicKey::from_blob(file.public_blob);
  if (!public_key) return public_key.take_error();

  SecureBytes section(file.private_section.begin(), file.private_section.end());
  std::size_t block_size = kUnencryptedBlockSize;
  if (file.cipher != nullptr) {
    const internal::KeyFileCipher& cipher = *file.cipher;
    block_size = cipher.block_size;
    if (section.empty() || section.size() % block_size != 0) {
      return key_error("corrupted OpenSSH private key (section length)");
    }
    std::optional<SecureBytes> secret = passphrase ? passphrase() : std::nullopt;
    if (!secret) return passphrase_required();
    const SecureBytes key_and_iv =
        internal::bcrypt_pbkdf(*secret, file.salt, file.rounds, cipher.key_size + cipher.iv_size);
    SecureBytes tag(file.tag.begin(), file.tag.end());
    // An AEAD tag mismatch is what a wrong passphrase looks like there.
    if (!internal::crypt_private_section(cipher, key_and_iv, /*encrypt=*/false, section, tag)) {
      return key_error(std::string(kIncorrectPassphrase));
    }
  }
  auto private_section = read_private_section(section, *public_key, block_size,
                                              /*encrypted=*/file.cipher != nullptr);
  if (!private_section) return private_section.take_error();
  auto key = PrivateKeyAccess::from_botan(std::move(private_section->key),
                                          std::move(private_section->comment));
  if (!key) return key.take_error();
  if (key->public_key() != *public_key)
    return key_error("private key does not match its public key");
  return key;
}

}  // namespace

Result<PrivateKey> PrivateKeyAccess::from_botan(std::shared_ptr<const Botan::Private_Key> key,
                                                std::string comment) {
  try {
    std::string type;
    if (dynamic_cast<const Botan::Ed25519_PrivateKey*>(key.get()) != nullptr) {
      type = internal::kEd25519;
    } else if (const auto* ecdsa = dynamic_cast<const Botan::ECDSA_PrivateKey*>(key.get())) {
      for (const char* name :
           {"ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"}) {
        const internal::EcdsaCurve* curve = internal::find_ecdsa_curve(name);
        if (Botan::EC_Group(std::string(curve->botan_group)) == ecdsa->domain()) type = name;
      }
      if (type.empty()) return key_error("unsupported ECDSA curve (not nistp256/384/521)");
    } else if (dynamic_cast<const Botan::RSA_PrivateKey*>(key.get()) != nullptr) {
      type = internal::kRsa;
    } else {
      return key_error("unsupported private key algorithm " + key->algo_name());
    }
    auto public_key = PublicKey::from_blob(internal::encode_public_blob(type, *key));
    if (!public_key) return public_key.take_error();
    PrivateKey result;
    result.public_ = std::move(*public_key);
    result.comment_ = std::move(comment);
    result.key_ = std::move(key);
    return result;
  } catch (const std::exception&) {
    return key_error("invalid private key");
  }
}

bool is_incorrect_passphrase(const Error& error) {
  const std::string_view message = error.message;
  return message.size() >= kIncorrectPassphrase.size() &&
         message.substr(message.size() - kIncorrectPassphrase.size()) == kIncorrectPassphrase;
}

Result<PrivateKey> PrivateKey::from_file_text(std::string_view file_text,
                                              const PassphraseSource& passphrase) {
  try {
    const std::string label = internal::first_pem_label(file_text);
    if (label.empty()) return key_error("not a private key (no \"-----BEGIN\" line)");
    if (label == "OPENSSH PRIVATE KEY") return read_openssh(file_text, passphrase);
    auto block = internal::parse_pem(file_text);
    if (!block) return block.take_error();
    return internal::read_pem_private_key(*block, passphrase);
  } catch (const std::exception&) {
    return key_error("invalid private key");
  }
}

Result<PrivateKey> PrivateKey::from_file_text(std::string_view file_text,
                                              const SecureBytes& passphrase) {
  return from_file_text(file_text,
                        [&passphrase]() { return std::optional<SecureBytes>(passphrase); });
}

Result<PrivateKey> PrivateKey::from_openssh(std::string_view file_text) {
  return from_file_text(file_text, PassphraseSource{});
}

bool PrivateKey::is_encrypted(std::string_view file_text) {
  try {
    const std::string label = internal::first_pem_label(file_text);
    if (label == "OPENSSH PRIVATE KEY") {
      auto parsed = parse_openssh_file(file_text);
      return parsed && (*parsed)->cipher != nullptr;
    }
    auto block = internal::parse_pem(file_text);
    return block && internal::pem_is_encrypted(*block);
  } catch (const std::exception&) {
    return false;
  }
}

Result<PublicKeyWithComment> PrivateKey::public_key_from_file_text(std::string_view file_text) {
  try {
    if (internal::first_pem_label(file_text) == "OPENSSH PRIVATE KEY") {
      auto parsed = parse_openssh_file(file_text);
      if (!parsed) return parsed.take_error();
      auto public_key = PublicKey::from_blob((*parsed)->public_blob);
      if (!public_key) return public_key.take_error();
      std::string comment;
      if ((*parsed)->cipher == nullptr) {
        auto key = read_openssh(file_text, {});
        if (!key) return key.take_error();
        comment = key->comment();
      }
      return PublicKeyWithComment{std::move(*public_key), std::move(comment)};
    }
    auto key = from_file_text(file_text, PassphraseSource{});
    if (!key) return key.take_error();
    return PublicKeyWithComment{key->public_key(), key->comment()};
  } catch (const std::exception&) {
    return key_error("invalid private key");
  }
}

std::string PrivateKey::to_openssh(std::string_view comment, Botan::RandomNumberGenerator& rng,
                                   const SecureBytes& passphrase, std::uint32_t kdf_rounds) const {
  // The interface has no error channel; an empty string means failure.
  if (!key_) return {};
  try {
    const bool encrypt = !passphrase.empty();
    const internal::KeyFileCipher& cipher = *internal::find_key_file_cipher(kDefaultCipher);
    const std::size_t block_size = encrypt ? cipher.block_size : kUnencryptedBlockSize;
    const std::string& type = public_.type();
    SecureBytes section;
    wire::SecureWriter writer(section);
    // The check-ints let a reader detect a wrong passphrase; random so they
    // give no known plaintext once keys are encrypted.
    const std::uint32_t check_int = random_u32(rng);
    writer.u32(check_int);
    writer.u32(check_int);
    writer.string(type);
    if (type == internal::kEd25519) {
      const auto& ed25519 = dynamic_cast<const Botan::Ed25519_PrivateKey&>(*key_);
      writer.string(ed25519.get_public_key());
      // Botan keeps the seed followed by the public key, as OpenSSH stores it.
      writer.string(ed25519.get_private_key());
    } else if (const internal::EcdsaCurve* curve = internal::find_ecdsa_curve(type)) {
      const auto& ecdsa = dynamic_cast<const Botan::ECDSA_PrivateKey&>(*key_);
      writer.string(curve->curve_name);
      writer.string(ecdsa.public_point().encode(Botan::PointGFp::UNCOMPRESSED));
      writer.mpint_unsigned(Botan::BigInt::encode_locked(ecdsa.private_value()));
    } else {
      const auto& rsa = dynamic_cast<const Botan::RSA_PrivateKey&>(*key_);
      writer.mpint_unsigned(Botan::BigInt::encode(rsa.get_n()));
      writer.mpint_unsigned(Botan::BigInt::encode(rsa.get_e()));
      writer.mpint_unsigned(Botan::BigInt::encode_locked(rsa.get_d()));
      writer.mpint_unsigned(
          Botan::BigInt::encode_locked(Botan::inverse_mod(rsa.get_q(), rsa.get_p())));
      writer.mpint_unsigned(Botan::BigInt::encode_locked(rsa.get_p()));
      writer.mpint_unsigned(Botan::BigInt::encode_locked(rsa.get_q()));
    }
    writer.string(comment);
    for (std::uint8_t pad = 1; section.size() % block_size != 0; ++pad) writer.u8(pad);

    Bytes kdf_options;
    Bytes tag(encrypt ? cipher.tag_size : 0);
    if (encrypt) {
      Bytes salt(kSaltSize);
      rng.randomize(salt.data(), salt.size());
      wire::Writer options_writer(kdf_options);
      options_writer.string(salt);
      options_writer.u32(kdf_rounds);
      const SecureBytes key_and_iv =
          internal::bcrypt_pbkdf(passphrase, salt, kdf_rounds, cipher.key_size + cipher.iv_size);
      if (!internal::crypt_private_section(cipher, key_and_iv, /*encrypt=*/true, section, tag)) {
        return {};
      }
    }

    SecureBytes file;
    wire::SecureWriter file_writer(file);
    file_writer.raw(as_bytes(kMagic));
    file_writer.string(encrypt ? cipher.name : kNoCipher);
    file_writer.string(encrypt ? kBcryptKdf : kNoKdf);
    file_writer.string(kdf_options);
    file_writer.u32(1);  // one key
    file_writer.string(public_.blob());
    file_writer.string(section);
    file_writer.raw(tag);

    const std::string encoded = Botan::base64_encode(file);
    std::string text(kBeginLine);
    text += '\n';
    for (std::size_t pos = 0; pos < encoded.size(); pos += kBase64LineLength) {
      text.append(encoded, pos, kBase64LineLength);
      text += '\n';
    }
    text += kEndLine;
    text += '\n';
    return text;
  } catch (const std::exception&) {
    return {};
  }
}

Result<Bytes> PrivateKey::sign(std::string_view signature_algorithm, ByteView data,
                               Botan::RandomNumberGenerator& rng) const {
  if (!key_) return key_error("no private key");
  const auto algorithms = public_.signature_algorithms();
  if (std::find(algorithms.begin(), algorithms.end(), signature_algorithm) == algorithms.end()) {
    return key_error("signature algorithm \"" + std::string(signature_algorithm) +
                     "\" cannot be used with a " + public_.type() + " key");
  }
  try {
    Botan::PK_Signer signer(*key_, rng, internal::botan_padding_for(signature_algorithm),
                            Botan::IEEE_1363);
    const Bytes raw_signature = signer.sign_message(data.data(), data.size(), rng);
    Bytes blob;
    wire::Writer writer(blob);
    writer.string(signature_algorithm);
    if (internal::find_ecdsa_curve(signature_algorithm) != nullptr) {
      // Botan gives r || s at fixed width; RFC 5656 section 3.1.2 wants
      // mpint r, mpint s (minimal, with a zero byte before a set top bit).
      const ByteView fixed_width(raw_signature);
      const std::size_t half = fixed_width.size() / 2;
      Bytes inner;
      wire::Writer inner_writer(inner);
      inner_writer.mpint_unsigned(fixed_width.first(half));
      inner_writer.mpint_unsigned(fixed_width.subspan(half));
      writer.string(inner);
    } else {
      writer.string(raw_signature);
    }
    return blob;
  } catch (const std::exception&) {
    return key_error("signing failed");
  }
}

}  // namespace ssh::keys
