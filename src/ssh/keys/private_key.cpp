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

Result<PrivateSection> read_private_section(ByteView section, const PublicKey& public_key) {
  if (section.empty() || section.size() % kUnencryptedBlockSize != 0) {
    return key_error("OpenSSH private key section has a bad length");
  }
  wire::Reader reader(section);
  const std::uint32_t check_int = reader.u32();
  const std::uint32_t check_int_copy = reader.u32();
  const std::string_view type = reader.text();
  if (!reader.ok()) return key_error("truncated OpenSSH private key");
  // For encrypted files a mismatch means a wrong passphrase; here it can
  // only mean damage.
  if (check_int != check_int_copy) return key_error("OpenSSH private key is corrupted");
  if (type != public_key.type()) {
    return key_error("private key type \"" + std::string(type) + "\" does not match public key");
  }
  auto key = read_private_fields(reader, public_key);
  if (!key) return key.take_error();
  PrivateSection result{std::move(*key), std::string(reader.text())};
  const ByteView padding = reader.rest();
  if (!reader.ok()) return key_error("truncated OpenSSH private key");
  // The padding is 1, 2, 3, ... (PROTOCOL.key section 3).
  if (padding.size() >= kUnencryptedBlockSize)
    return key_error("OpenSSH private key has bad padding");
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

Result<PrivateKey> PrivateKey::from_openssh(std::string_view file_text) {
  try {
    auto decoded = decode_armor(file_text);
    if (!decoded) return decoded.take_error();
    wire::Reader reader(*decoded);
    const ByteView magic = reader.raw(kMagic.size());
    const std::string_view cipher = reader.text();
    const std::string_view kdf = reader.text();
    reader.string();  // KDF options: empty without a KDF, unused either way.
    const std::uint32_t key_count = reader.u32();
    if (!reader.ok() || as_text(magic) != kMagic) {
      return key_error("not an openssh-key-v1 private key");
    }
    if (cipher != kNoCipher || kdf != kNoKdf) {
      return key_error("encrypted private keys are not supported yet");
    }
    if (key_count != 1) return key_error("OpenSSH private key files must hold exactly one key");
    const ByteView public_blob = reader.string();
    const ByteView private_section = reader.string();
    if (!reader.finished()) return key_error("malformed OpenSSH private key");

    auto public_key = PublicKey::from_blob(public_blob);
    if (!public_key) return public_key.take_error();
    auto section = read_private_section(private_section, *public_key);
    if (!section) return section.take_error();
    PrivateKey result;
    result.public_ = std::move(*public_key);
    result.comment_ = std::move(section->comment);
    result.key_ = std::move(section->key);
    return result;
  } catch (const std::exception&) {
    return key_error("invalid OpenSSH private key");
  }
}

std::string PrivateKey::to_openssh(std::string_view comment,
                                   Botan::RandomNumberGenerator& rng) const {
  // The interface has no error channel; an empty string means failure.
  if (!key_) return {};
  try {
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
    for (std::uint8_t pad = 1; section.size() % kUnencryptedBlockSize != 0; ++pad) writer.u8(pad);

    SecureBytes file;
    wire::SecureWriter file_writer(file);
    file_writer.raw(as_bytes(kMagic));
    file_writer.string(kNoCipher);
    file_writer.string(kNoKdf);
    file_writer.string(std::string_view{});  // no KDF options
    file_writer.u32(1);                      // one key
    file_writer.string(public_.blob());
    file_writer.string(section);

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
