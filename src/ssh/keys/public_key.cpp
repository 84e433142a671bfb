// Public key blobs (RFC 4253 section 6.6, RFC 5656 section 3.1, RFC 8709
// section 4), signature verification and fingerprints.

#include <botan/base64.h>
#include <botan/bigint.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/ed25519.h>
#include <botan/hash.h>
#include <botan/hex.h>
#include <botan/pubkey.h>
#include <botan/rsa.h>

#include <algorithm>
#include <cctype>
#include <exception>

#include "ssh/keys/keys.hpp"
#include "ssh/keys/keys_internal.hpp"
#include "ssh/wire/reader.hpp"
#include "ssh/wire/writer.hpp"

namespace ssh::keys {

namespace internal {

namespace {

constexpr EcdsaCurve kEcdsaCurves[] = {
    {"ecdsa-sha2-nistp256", "nistp256", "secp256r1", "SHA-256"},
    {"ecdsa-sha2-nistp384", "nistp384", "secp384r1", "SHA-384"},
    {"ecdsa-sha2-nistp521", "nistp521", "secp521r1", "SHA-512"},
};

// SEC1 marker of an uncompressed point; RFC 5656 section 3.1 requires them.
constexpr std::uint8_t kUncompressedPointTag = 0x04;

}  // namespace

const EcdsaCurve* find_ecdsa_curve(std::string_view key_type) {
  for (const EcdsaCurve& curve : kEcdsaCurves) {
    if (curve.key_type == key_type) return &curve;
  }
  return nullptr;
}

std::string botan_padding_for(std::string_view signature_algorithm) {
  if (signature_algorithm == kEd25519) return "Pure";
  if (const EcdsaCurve* curve = find_ecdsa_curve(signature_algorithm)) {
    return "EMSA1(" + std::string(curve->hash) + ")";
  }
  // RFC 8332 section 3: RSASSA-PKCS1-v1_5.
  if (signature_algorithm == kRsaSha256) return "EMSA3(SHA-256)";
  if (signature_algorithm == kRsaSha512) return "EMSA3(SHA-512)";
  return {};
}

Bytes encode_public_blob(std::string_view key_type, const Botan::Public_Key& key) {
  Bytes blob;
  wire::Writer writer(blob);
  writer.string(key_type);
  if (key_type == kEd25519) {
    writer.string(dynamic_cast<const Botan::Ed25519_PublicKey&>(key).get_public_key());
  } else if (const EcdsaCurve* curve = find_ecdsa_curve(key_type)) {
    const auto& ec_key = dynamic_cast<const Botan::EC_PublicKey&>(key);
    writer.string(curve->curve_name);
    writer.string(ec_key.public_point().encode(Botan::PointGFp::UNCOMPRESSED));
  } else {
    const auto& rsa_key = dynamic_cast<const Botan::RSA_PublicKey&>(key);
    writer.mpint_unsigned(Botan::BigInt::encode(rsa_key.get_e()));
    writer.mpint_unsigned(Botan::BigInt::encode(rsa_key.get_n()));
  }
  return blob;
}

}  // namespace internal

using internal::key_error;

Result<PublicKey> PublicKey::from_blob(ByteView blob) {
  try {
    wire::Reader reader(blob);
    PublicKey key;
    key.type_ = std::string(reader.text());
    if (!reader.ok()) return key_error("malformed public key blob");

    if (key.type_ == internal::kEd25519) {
      const ByteView point = reader.string();
      if (!reader.finished() || point.size() != internal::kEd25519PublicKeySize) {
        return key_error("malformed ssh-ed25519 public key");
      }
      key.key_ = std::make_shared<Botan::Ed25519_PublicKey>(point.data(), point.size());
    } else if (const internal::EcdsaCurve* curve = internal::find_ecdsa_curve(key.type_)) {
      const std::string_view curve_name = reader.text();
      const ByteView point_bytes = reader.string();
      if (!reader.finished()) return key_error("malformed " + key.type_ + " public key");
      if (curve_name != curve->curve_name) {
        return key_error(key.type_ + " public key names curve " + std::string(curve_name));
      }
      const Botan::EC_Group group{std::string(curve->botan_group)};
      if (point_bytes.size() != 1 + 2 * group.get_p_bytes() ||
          point_bytes[0] != internal::kUncompressedPointTag) {
        return key_error(key.type_ + " public key is not an uncompressed point");
      }
      const Botan::PointGFp point = group.OS2ECP(point_bytes.data(), point_bytes.size());
      if (!group.verify_public_element(point)) {
        return key_error(key.type_ + " public key is not a valid point on the curve");
      }
      key.key_ = std::make_shared<Botan::ECDSA_PublicKey>(group, point);
    } else if (key.type_ == internal::kRsa) {
      const ByteView exponent_bytes = reader.mpint();
      const ByteView modulus_bytes = reader.mpint();
      if (!reader.finished()) return key_error("malformed ssh-rsa public key");
      const Botan::BigInt exponent(exponent_bytes.data(), exponent_bytes.size());
      const Botan::BigInt modulus(modulus_bytes.data(), modulus_bytes.size());
      const std::size_t bits = modulus.bits();
      if (bits < internal::kMinRsaBits) {
        return key_error("RSA key of " + std::to_string(bits) + " bits is too small (minimum " +
                         std::to_string(internal::kMinRsaBits) + ")");
      }
      if (bits > internal::kMaxRsaBits) {
        return key_error("RSA key of " + std::to_string(bits) + " bits is too large");
      }
      if (modulus.is_even() || exponent < 3 || exponent.is_even()) {
        return key_error("invalid RSA public key");
      }
      key.key_ = std::make_shared<Botan::RSA_PublicKey>(modulus, exponent);
    } else {
      return key_error("unsupported public key type \"" + key.type_ + "\"");
    }
    key.blob_ = to_bytes(blob);
    return key;
  } catch (const std::exception&) {
    return key_error("invalid public key");
  }
}

Result<PublicKey> PublicKey::from_openssh_line(std::string_view line) {
  // Fields are separated by spaces or tabs; the comment is everything after
  // the second field and is ignored here.
  constexpr std::string_view kBlank = " \t\r\n";
  auto next_field = [&line, kBlank]() {
    const std::size_t start = line.find_first_not_of(kBlank);
    if (start == std::string_view::npos) return std::string_view{};
    line.remove_prefix(start);
    const std::size_t end = std::min(line.find_first_of(kBlank), line.size());
    const std::string_view field = line.substr(0, end);
    line.remove_prefix(end);
    return field;
  };
  const std::string_view type = next_field();
  const std::string_view encoded_blob = next_field();
  if (type.empty() || encoded_blob.empty()) return key_error("malformed public key line");
  Bytes blob;
  try {
    const auto decoded = Botan::base64_decode(std::string(encoded_blob), /*ignore_ws=*/false);
    blob.assign(decoded.begin(), decoded.end());
  } catch (const std::exception&) {
    return key_error("public key line has invalid base64");
  }
  auto key = from_blob(blob);
  if (!key) return key;
  if (key->type() != type) {
    return key_error("public key line says \"" + std::string(type) + "\" but holds a " +
                     key->type() + " key");
  }
  return key;
}

std::vector<std::string> PublicKey::signature_algorithms() const {
  if (type_ == internal::kRsa) {
    // Never SHA-1 "ssh-rsa" signatures: SHA-1 is broken for signatures.
    return {std::string(internal::kRsaSha512), std::string(internal::kRsaSha256)};
  }
  if (type_ == internal::kEd25519 || internal::find_ecdsa_curve(type_) != nullptr) return {type_};
  return {};
}

Status PublicKey::verify(std::string_view expected_algorithm, ByteView data,
                         ByteView signature_blob) const {
  if (!key_) return key_error("no public key");
  const auto algorithms = signature_algorithms();
  if (std::find(algorithms.begin(), algorithms.end(), expected_algorithm) == algorithms.end()) {
    return key_error("signature algorithm \"" + std::string(expected_algorithm) +
                     "\" cannot be used with a " + type_ + " key");
  }
  try {
    wire::Reader reader(signature_blob);
    const std::string_view algorithm = reader.text();
    const ByteView signature = reader.string();
    if (!reader.finished()) return key_error("malformed signature blob");
    if (algorithm != expected_algorithm) {
      return key_error("signature is of type \"" + std::string(algorithm) + "\", expected \"" +
                       std::string(expected_algorithm) + "\"");
    }

    // Botan wants the raw signature in its IEEE 1363 layout.
    Bytes botan_signature;
    if (type_ == internal::kEd25519) {
      if (signature.size() != internal::kEd25519SignatureSize) {
        return key_error("ssh-ed25519 signature has the wrong size");
      }
      botan_signature = to_bytes(signature);
    } else if (internal::find_ecdsa_curve(type_) != nullptr) {
      // RFC 5656 section 3.1.2: mpint r, mpint s; Botan wants r || s, each
      // left-padded to the size of the group order.
      wire::Reader inner(signature);
      const ByteView r_bytes = inner.mpint();
      const ByteView s_bytes = inner.mpint();
      if (!inner.finished()) return key_error("malformed ECDSA signature");
      const Botan::BigInt r(r_bytes.data(), r_bytes.size());
      const Botan::BigInt s(s_bytes.data(), s_bytes.size());
      const std::size_t width =
          dynamic_cast<const Botan::EC_PublicKey&>(*key_).domain().get_order_bytes();
      if (r.bytes() > width || s.bytes() > width) return key_error("ECDSA signature out of range");
      const auto r_fixed = Botan::BigInt::encode_1363(r, width);
      const auto s_fixed = Botan::BigInt::encode_1363(s, width);
      botan_signature.assign(r_fixed.begin(), r_fixed.end());
      botan_signature.insert(botan_signature.end(), s_fixed.begin(), s_fixed.end());
    } else {
      const std::size_t modulus_size =
          dynamic_cast<const Botan::RSA_PublicKey&>(*key_).get_n().bytes();
      if (signature.size() > modulus_size) return key_error("RSA signature is too long");
      // Some signers drop leading zero bytes; OpenSSH accepts that, so pad
      // them back rather than fail an otherwise valid signature.
      botan_signature.assign(modulus_size - signature.size(), 0);
      botan_signature.insert(botan_signature.end(), signature.begin(), signature.end());
    }

    Botan::PK_Verifier verifier(*key_, internal::botan_padding_for(algorithm), Botan::IEEE_1363);
    if (!verifier.verify_message(data.data(), data.size(), botan_signature.data(),
                                 botan_signature.size())) {
      return key_error("signature verification failed");
    }
    return {};
  } catch (const std::exception&) {
    return key_error("signature verification failed");
  }
}

std::string PublicKey::fingerprint_sha256() const {
  try {
    const auto digest = Botan::HashFunction::create_or_throw("SHA-256")->process(blob_);
    std::string encoded = Botan::base64_encode(digest);
    // ssh-keygen prints the base64 without its '=' padding.
    encoded.erase(encoded.find_last_not_of('=') + 1);
    return "SHA256:" + encoded;
  } catch (const std::exception&) {
    return {};
  }
}

std::string PublicKey::fingerprint_md5() const {
  try {
    const auto digest = Botan::HashFunction::create_or_throw("MD5")->process(blob_);
    const std::string hex = Botan::hex_encode(digest, /*uppercase=*/false);
    std::string fingerprint = "MD5:";
    for (std::size_t i = 0; i < hex.size(); i += 2) {
      if (i != 0) fingerprint += ':';
      fingerprint.append(hex, i, 2);
    }
    return fingerprint;
  } catch (const std::exception&) {
    return {};
  }
}

std::string PublicKey::to_openssh_line(std::string_view comment) const {
  std::string line = type_ + " " + Botan::base64_encode(blob_);
  if (!comment.empty()) {
    line += ' ';
    line += comment;
  }
  return line;
}

namespace {

constexpr std::string_view kRfc4716Begin = "---- BEGIN SSH2 PUBLIC KEY ----";
constexpr std::string_view kRfc4716End = "---- END SSH2 PUBLIC KEY ----";
// RFC 4716 section 3: lines are at most 72 bytes; ssh-keygen -e wraps the
// body at 70.
constexpr std::size_t kRfc4716MaxLine = 72;
constexpr std::size_t kRfc4716BodyLine = 70;
// RFC 4716 section 3.3: header values are at most 1024 bytes.
constexpr std::size_t kRfc4716MaxHeaderValue = 1024;

std::string_view trim_line(std::string_view line) {
  const std::size_t start = line.find_first_not_of(" \t\r");
  if (start == std::string_view::npos) return {};
  return line.substr(start, line.find_last_not_of(" \t\r") - start + 1);
}

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

Result<PublicKeyWithComment> parse_rfc4716(std::string_view text) {
  std::size_t pos = text.find(kRfc4716Begin) + kRfc4716Begin.size();
  const std::size_t end = text.find(kRfc4716End, pos);
  if (end == std::string_view::npos) {
    return key_error("truncated RFC 4716 public key (no \"" + std::string(kRfc4716End) +
                     "\" line)");
  }
  PublicKeyWithComment result;
  std::string body;
  std::string header;  // a header being continued with trailing backslashes
  bool continuing = false;
  while (pos < end) {
    std::size_t line_end = text.find('\n', pos);
    if (line_end == std::string_view::npos || line_end > end) line_end = end;
    std::string_view line = text.substr(pos, line_end - pos);
    pos = line_end + 1;
    // A continued header goes on with the next line as it is: trimming it
    // would lose a space the writer split at.
    if (!continuing) line = trim_line(line);
    while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() && !continuing) continue;
    if (continuing || (body.empty() && line.find(':') != std::string_view::npos)) {
      continuing = !line.empty() && line.back() == '\\';
      if (continuing) line.remove_suffix(1);
      header += line;
      if (header.size() > kRfc4716MaxHeaderValue + kRfc4716MaxLine) {
        return key_error("RFC 4716 public key has an overlong header");
      }
      if (continuing) continue;
      const std::size_t colon = header.find(':');
      const std::string_view name = trim_line(std::string_view(header).substr(0, colon));
      std::string_view value = trim_line(std::string_view(header).substr(colon + 1));
      if (iequals(name, "Comment")) {
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
          value = value.substr(1, value.size() - 2);
        }
        result.comment = std::string(value);
      }
      header.clear();
      continue;
    }
    body += line;
  }
  if (continuing) return key_error("truncated RFC 4716 public key (unfinished header)");
  Bytes blob;
  try {
    const auto decoded = Botan::base64_decode(body, /*ignore_ws=*/true);
    blob.assign(decoded.begin(), decoded.end());
  } catch (const std::exception&) {
    return key_error("RFC 4716 public key has invalid base64");
  }
  auto key = PublicKey::from_blob(blob);
  if (!key) return key.take_error();
  result.key = std::move(*key);
  return result;
}

}  // namespace

Result<PublicKeyWithComment> parse_public_key_text(std::string_view text) {
  if (text.find(kRfc4716Begin) != std::string_view::npos) return parse_rfc4716(text);
  while (!text.empty()) {
    const std::size_t line_end = std::min(text.find('\n'), text.size());
    const std::string_view line = trim_line(text.substr(0, line_end));
    text.remove_prefix(std::min(line_end + 1, text.size()));
    if (line.empty() || line.front() == '#') continue;
    auto key = PublicKey::from_openssh_line(line);
    if (!key) return key.take_error();
    // The comment is what follows the type and the base64 blob.
    std::string_view rest = line;
    for (int field = 0; field < 2; ++field) {
      rest = trim_line(rest);
      rest.remove_prefix(std::min(rest.find_first_of(" \t"), rest.size()));
    }
    return PublicKeyWithComment{std::move(*key), std::string(trim_line(rest))};
  }
  return key_error("no public key found");
}

std::string PublicKey::to_rfc4716(std::string_view comment) const {
  std::string text(kRfc4716Begin);
  text += '\n';
  if (!comment.empty()) {
    // Lines longer than 72 bytes continue on the next after a backslash.
    std::string header = "Comment: \"" + std::string(comment) + "\"";
    while (header.size() > kRfc4716MaxLine) {
      text.append(header, 0, kRfc4716MaxLine - 1);
      text += "\\\n";
      header.erase(0, kRfc4716MaxLine - 1);
    }
    text += header;
    text += '\n';
  }
  const std::string encoded = Botan::base64_encode(blob_);
  for (std::size_t pos = 0; pos < encoded.size(); pos += kRfc4716BodyLine) {
    text.append(encoded, pos, kRfc4716BodyLine);
    text += '\n';
  }
  text += kRfc4716End;
  text += '\n';
  return text;
}

std::size_t PublicKey::bits() const {
  if (type_ == internal::kEd25519) return 256;
  if (internal::find_ecdsa_curve(type_) != nullptr) {
    return dynamic_cast<const Botan::EC_PublicKey&>(*key_).domain().get_p_bits();
  }
  if (type_ == internal::kRsa)
    return dynamic_cast<const Botan::RSA_PublicKey&>(*key_).get_n().bits();
  return 0;
}

std::string PublicKey::short_type_name() const {
  if (type_ == internal::kEd25519) return "ED25519";
  if (internal::find_ecdsa_curve(type_) != nullptr) return "ECDSA";
  if (type_ == internal::kRsa) return "RSA";
  return "UNKNOWN";
}

const std::vector<std::string>& supported_signature_algorithms() {
  static const std::vector<std::string> algorithms = {
      "ssh-ed25519",         "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
      "ecdsa-sha2-nistp521", "rsa-sha2-512",        "rsa-sha2-256",
  };
  return algorithms;
}

std::string key_type_for_signature_algorithm(std::string_view algorithm) {
  if (algorithm == internal::kRsaSha256 || algorithm == internal::kRsaSha512) {
    return std::string(internal::kRsa);
  }
  if (algorithm == internal::kEd25519 || internal::find_ecdsa_curve(algorithm) != nullptr) {
    return std::string(algorithm);
  }
  // Includes SHA-1 "ssh-rsa", which we refuse.
  return {};
}

}  // namespace ssh::keys
