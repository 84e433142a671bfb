// Private keys in the PEM formats OpenSSL writes and ssh-keygen -m PEM /
// -m PKCS8 produce: PKCS#1 "RSA PRIVATE KEY", SEC 1 "EC PRIVATE KEY" (both
// possibly encrypted with RFC 1421 Proc-Type/DEK-Info headers) and PKCS#8
// "PRIVATE KEY" / "ENCRYPTED PRIVATE KEY" (PBES2, through Botan).
#include <botan/asn1_obj.h>
#include <botan/asn1_oid.h>
#include <botan/base64.h>
#include <botan/ber_dec.h>
#include <botan/bigint.h>
#include <botan/cipher_mode.h>
#include <botan/data_src.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/hash.h>
#include <botan/hex.h>
#include <botan/mem_ops.h>
#include <botan/pkcs8.h>
#include <botan/rsa.h>
#include <botan/system_rng.h>

#include <exception>

#include "ssh/keys/keys_internal.hpp"

namespace ssh::keys::internal {
namespace {

constexpr std::string_view kBeginPrefix = "-----BEGIN ";
constexpr std::string_view kDashes = "-----";
constexpr std::string_view kRsaLabel = "RSA PRIVATE KEY";
constexpr std::string_view kEcLabel = "EC PRIVATE KEY";
constexpr std::string_view kPkcs8Label = "PRIVATE KEY";
constexpr std::string_view kEncryptedPkcs8Label = "ENCRYPTED PRIVATE KEY";
// OpenSSL's PEM_read_bio_PrivateKey derives key and IV salt from the first
// 8 bytes of the DEK-Info IV.
constexpr std::size_t kPemSaltSize = 8;

std::string_view trim(std::string_view text) {
  const std::size_t start = text.find_first_not_of(" \t\r");
  if (start == std::string_view::npos) return {};
  const std::size_t end = text.find_last_not_of(" \t\r");
  return text.substr(start, end - start + 1);
}

const std::string* header_value(const PemBlock& block, std::string_view name) {
  for (const auto& [header, value] : block.headers) {
    if (header == name) return &value;
  }
  return nullptr;
}

// OpenSSL's EVP_BytesToKey with MD5 and one iteration: D_1 = MD5(pass ||
// salt), D_i = MD5(D_{i-1} || pass || salt), concatenated to key_size.
SecureBytes bytes_to_key(ByteView passphrase, ByteView salt, std::size_t key_size) {
  auto md5 = Botan::HashFunction::create_or_throw("MD5");
  SecureBytes key;
  SecureBytes previous;
  while (key.size() < key_size) {
    md5->update(previous);
    md5->update(passphrase.data(), passphrase.size());
    md5->update(salt.data(), salt.size());
    previous = md5->final();
    key.insert(key.end(), previous.begin(), previous.end());
  }
  key.resize(key_size);
  return key;
}

// Decrypts a legacy encrypted PEM body ("DEK-Info: AES-128-CBC,<hex iv>").
Result<SecureBytes> decrypt_legacy_pem(const PemBlock& block, const PassphraseSource& passphrase) {
  const std::string* dek_info = header_value(block, "DEK-Info");
  if (dek_info == nullptr) return key_error("encrypted PEM private key has no DEK-Info header");
  const std::size_t comma = dek_info->find(',');
  const std::string algorithm = dek_info->substr(0, comma);
  std::size_t key_size = 0;
  if (algorithm == "AES-128-CBC") key_size = 16;
  if (algorithm == "AES-192-CBC") key_size = 24;
  if (algorithm == "AES-256-CBC") key_size = 32;
  if (key_size == 0) {
    return key_error("unsupported cipher \"" + algorithm + "\" in encrypted PEM private key");
  }
  std::vector<std::uint8_t> iv;
  try {
    if (comma != std::string::npos) iv = Botan::hex_decode(dek_info->substr(comma + 1));
  } catch (const std::exception&) {
  }
  if (iv.size() != 16) return key_error("corrupted PEM private key (bad DEK-Info IV)");
  std::optional<SecureBytes> secret = passphrase ? passphrase() : std::nullopt;
  if (!secret) return key_error(std::string(kPassphraseRequired));
  const SecureBytes key = bytes_to_key(*secret, ByteView(iv).first(kPemSaltSize), key_size);
  SecureBytes plain = block.body;
  try {
    auto mode = Botan::Cipher_Mode::create_or_throw(
        "AES-" + std::to_string(key_size * 8) + "/CBC/PKCS7", Botan::DECRYPTION);
    mode->set_key(key);
    mode->start(iv);
    mode->finish(plain);  // a wrong key almost always breaks the padding
  } catch (const std::exception&) {
    return key_error(std::string(kIncorrectPassphrase));
  }
  return plain;
}

Result<PrivateKey> rsa_from_pkcs1(const SecureBytes& der) {
  auto key = std::make_shared<Botan::RSA_PrivateKey>(Botan::AlgorithmIdentifier(), der);
  // Cheap consistency checks only (no primality tests), as for openssh-key-v1.
  const Botan::BigInt one(1);
  const Botan::BigInt& p = key->get_p();
  const Botan::BigInt& q = key->get_q();
  if (p <= one || q <= one || p * q != key->get_n() ||
      (key->get_e() * key->get_d()) % (p - 1) != one ||
      (key->get_e() * key->get_d()) % (q - 1) != one) {
    return key_error("ssh-rsa private key is inconsistent");
  }
  return PrivateKeyAccess::from_botan(std::move(key), {});
}

// SEC 1 ECPrivateKey: SEQUENCE { version 1, OCTET STRING d, [0] curve OID,
// [1] public key }.
Result<PrivateKey> ecdsa_from_sec1(const SecureBytes& der) {
  std::size_t version = 0;
  SecureBytes scalar_bytes;
  Botan::OID curve_oid;
  Botan::BER_Decoder(der)
      .start_cons(Botan::SEQUENCE)
      .decode(version)
      .decode(scalar_bytes, Botan::OCTET_STRING)
      .decode_optional(curve_oid, Botan::ASN1_Tag(0),
                       Botan::ASN1_Tag(Botan::CONSTRUCTED | Botan::CONTEXT_SPECIFIC))
      .discard_remaining();
  if (version != 1) return key_error("corrupted EC private key (version)");
  if (curve_oid.empty()) return key_error("EC private key does not name its curve");
  const Botan::EC_Group group(curve_oid);
  const Botan::BigInt scalar(scalar_bytes.data(), scalar_bytes.size());
  if (scalar.is_zero() || scalar >= group.get_order()) {
    return key_error("EC private key is out of range");
  }
  return PrivateKeyAccess::from_botan(
      std::make_shared<Botan::ECDSA_PrivateKey>(Botan::system_rng(), group, scalar), {});
}

}  // namespace

std::string first_pem_label(std::string_view text) {
  const std::size_t begin = text.find(kBeginPrefix);
  if (begin == std::string_view::npos) return {};
  const std::size_t label_start = begin + kBeginPrefix.size();
  const std::size_t label_end = text.find(kDashes, label_start);
  const std::size_t line_end = text.find('\n', label_start);
  if (label_end == std::string_view::npos || label_end > line_end) return {};
  return std::string(text.substr(label_start, label_end - label_start));
}

Result<PemBlock> parse_pem(std::string_view text) {
  PemBlock block;
  block.label = first_pem_label(text);
  if (block.label.empty()) return key_error("not a PEM private key (no \"-----BEGIN\" line)");
  const std::string begin_line = std::string(kBeginPrefix) + block.label + std::string(kDashes);
  const std::string end_line = "-----END " + block.label + std::string(kDashes);
  std::size_t pos = text.find(begin_line) + begin_line.size();
  const std::size_t end = text.find(end_line, pos);
  if (end == std::string_view::npos) {
    return key_error("truncated private key (no \"" + end_line + "\" line)");
  }
  std::string body;
  bool in_headers = true;
  while (pos < end) {
    std::size_t line_end = text.find('\n', pos);
    if (line_end == std::string_view::npos || line_end > end) line_end = end;
    const std::string_view line = trim(text.substr(pos, line_end - pos));
    pos = line_end + 1;
    if (line.empty()) {
      if (!block.headers.empty()) in_headers = false;
      continue;
    }
    const std::size_t colon = line.find(':');
    if (in_headers && colon != std::string_view::npos) {
      block.headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                 std::string(trim(line.substr(colon + 1))));
      continue;
    }
    in_headers = false;
    body += line;
  }
  try {
    block.body = Botan::base64_decode(body, /*ignore_ws=*/true);
  } catch (const std::exception&) {
    return key_error("corrupted private key (invalid base64)");
  }
  if (block.body.empty()) return key_error("truncated private key (empty)");
  return block;
}

bool pem_is_encrypted(const PemBlock& block) {
  if (block.label == kEncryptedPkcs8Label) return true;
  const std::string* proc_type = header_value(block, "Proc-Type");
  return proc_type != nullptr && proc_type->find("ENCRYPTED") != std::string::npos;
}

Result<PrivateKey> read_pem_private_key(const PemBlock& block, const PassphraseSource& passphrase) {
  const bool legacy = block.label == kRsaLabel || block.label == kEcLabel;
  const bool pkcs8 = block.label == kPkcs8Label || block.label == kEncryptedPkcs8Label;
  if (!legacy && !pkcs8) {
    return key_error("unsupported private key format \"" + block.label + "\"");
  }
  if (legacy) {
    SecureBytes der = block.body;
    if (pem_is_encrypted(block)) {
      auto plain = decrypt_legacy_pem(block, passphrase);
      if (!plain) return plain.take_error();
      der = std::move(*plain);
    }
    try {
      return block.label == kRsaLabel ? rsa_from_pkcs1(der) : ecdsa_from_sec1(der);
    } catch (const std::exception&) {
      // Decryption with a wrong key passes the padding check now and then.
      if (pem_is_encrypted(block)) return key_error(std::string(kIncorrectPassphrase));
      return key_error("corrupted " + block.label + " (bad DER)");
    }
  }

  Botan::DataSource_Memory source(block.body);
  if (block.label == kPkcs8Label) {
    std::unique_ptr<Botan::Private_Key> key;
    try {
      key = Botan::PKCS8::load_key(source);
    } catch (const std::exception&) {
      return key_error("corrupted PKCS#8 private key");
    }
    return PrivateKeyAccess::from_botan(std::move(key), {});
  }
  std::optional<SecureBytes> secret = passphrase ? passphrase() : std::nullopt;
  if (!secret) return key_error(std::string(kPassphraseRequired));
  // Botan takes the passphrase as a std::string; scrub it after use.
  std::string secret_text(secret->begin(), secret->end());
  std::unique_ptr<Botan::Private_Key> key;
  Error failure;
  bool failed = false;
  try {
    key = Botan::PKCS8::load_key(source, secret_text);
  } catch (const std::exception& e) {
    failed = true;
    // A wrong key shows as bad padding or garbage DER; an unknown scheme
    // Botan names.
    const std::string what = e.what();
    failure = key_error(what.find("not known") != std::string::npos ||
                                what.find("nsupported") != std::string::npos
                            ? "unsupported PKCS#8 encryption: " + what
                            : std::string(kIncorrectPassphrase));
  }
  Botan::secure_scrub_memory(secret_text.data(), secret_text.size());
  if (failed) return failure;
  return PrivateKeyAccess::from_botan(std::move(key), {});
}

}  // namespace ssh::keys::internal
