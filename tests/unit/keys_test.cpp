#include "ssh/keys/keys.hpp"

#include <botan/auto_rng.h>
#include <botan/base64.h>
#include <botan/bigint.h>
#include <botan/hash.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ssh/limits.hpp"
#include "ssh/wire/reader.hpp"
#include "ssh/wire/writer.hpp"
#include "support/temp_dir.hpp"

namespace ssh::keys {
namespace {

namespace fs = std::filesystem;
using testing_support::TempDir;

// ---------------------------------------------------------------------------
// Helpers: running ssh-keygen, files, fields.

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

CommandResult run(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  std::size_t count;
  while ((count = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, count);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// ssh-keygen refuses private key files others can read.
void write_private_file(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
}

void write_text(const fs::path& path, std::string_view text) {
  std::ofstream(path, std::ios::binary) << text;
}

// The whitespace-separated field at index, or "" when there are fewer.
std::string field(const std::string& line, std::size_t index) {
  std::istringstream in(line);
  std::string word;
  for (std::size_t i = 0; i <= index; ++i) {
    if (!(in >> word)) return {};
  }
  return word;
}

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

constexpr std::string_view kBeginLine = "-----BEGIN OPENSSH PRIVATE KEY-----";
constexpr std::string_view kEndLine = "-----END OPENSSH PRIVATE KEY-----";

SecureBytes unarmor(const std::string& file_text) {
  const std::size_t begin = file_text.find(kBeginLine) + kBeginLine.size();
  const std::size_t end = file_text.find(kEndLine);
  return Botan::base64_decode(file_text.substr(begin, end - begin));
}

std::string armor(ByteView binary, std::string_view begin_line = kBeginLine,
                  std::string_view end_line = kEndLine) {
  const std::string encoded = Botan::base64_encode(binary.data(), binary.size());
  std::string text(begin_line);
  text += '\n';
  for (std::size_t pos = 0; pos < encoded.size(); pos += 70) text += encoded.substr(pos, 70) + '\n';
  text += end_line;
  text += '\n';
  return text;
}

// Where the two check-ints sit in an openssh-key-v1 binary.
std::size_t check_int_offset(ByteView binary) {
  wire::Reader reader(binary);
  reader.raw(15);   // magic
  reader.string();  // cipher
  reader.string();  // kdf
  reader.string();  // kdf options
  reader.u32();     // key count
  reader.string();  // public key
  reader.u32();     // private section length
  return binary.size() - reader.remaining();
}

// SSHSIG (OpenSSH PROTOCOL.sshsig) wraps an ordinary SSH signature blob over
// a small structure; ssh-keygen -Y speaks it, so it lets us check signature
// blobs against OpenSSH without a login.
constexpr std::string_view kSshsigMagic = "SSHSIG";
constexpr std::string_view kSshsigNamespace = "limactl-test";

Bytes sshsig_signed_data(ByteView message) {
  const auto digest =
      Botan::HashFunction::create_or_throw("SHA-512")->process(message.data(), message.size());
  Bytes data;
  wire::Writer writer(data);
  writer.raw(as_bytes(kSshsigMagic));
  writer.string(kSshsigNamespace);
  writer.string("");  // reserved
  writer.string("sha512");
  writer.string(digest);
  return data;
}

std::string sshsig_armor(const PublicKey& key, ByteView signature_blob) {
  Bytes sig;
  wire::Writer writer(sig);
  writer.raw(as_bytes(kSshsigMagic));
  writer.u32(1);
  writer.string(key.blob());
  writer.string(kSshsigNamespace);
  writer.string("");
  writer.string("sha512");
  writer.string(signature_blob);
  return armor(sig, "-----BEGIN SSH SIGNATURE-----", "-----END SSH SIGNATURE-----");
}

// The signature blob inside an armored SSHSIG file.
Bytes sshsig_signature_blob(const std::string& armored) {
  const std::string begin = "-----BEGIN SSH SIGNATURE-----";
  const std::size_t start = armored.find(begin) + begin.size();
  const std::size_t end = armored.find("-----END SSH SIGNATURE-----");
  const auto binary = Botan::base64_decode(armored.substr(start, end - start));
  wire::Reader reader(binary);
  reader.raw(6);
  reader.u32();
  reader.string();
  reader.string();
  reader.string();
  reader.string();
  const ByteView blob = reader.string();
  return reader.finished() ? to_bytes(blob) : Bytes{};
}

// ---------------------------------------------------------------------------
// Key kinds under test.

struct KeyKind {
  const char* label;
  const char* keygen_type;
  int keygen_bits;
  const char* key_type;
  std::size_t rsa_bits;
};

const KeyKind kKeyKinds[] = {
    {"ed25519", "ed25519", 0, "ssh-ed25519", 0},
    {"ecdsa256", "ecdsa", 256, "ecdsa-sha2-nistp256", 0},
    {"ecdsa384", "ecdsa", 384, "ecdsa-sha2-nistp384", 0},
    {"ecdsa521", "ecdsa", 521, "ecdsa-sha2-nistp521", 0},
    {"rsa2048", "rsa", 2048, "ssh-rsa", 2048},
};

std::string kind_name(const testing::TestParamInfo<KeyKind>& param_info) {
  return param_info.param.label;
}

// Runs ssh-keygen to make a key in dir; returns the private key path.
fs::path keygen(const TempDir& dir, const KeyKind& kind, const std::string& comment,
                const std::string& passphrase = "") {
  const fs::path path = dir.path() / (std::string("id_") + kind.label);
  std::string command = "ssh-keygen -q -t " + std::string(kind.keygen_type);
  if (kind.keygen_bits != 0) command += " -b " + std::to_string(kind.keygen_bits);
  command += " -N '" + passphrase + "' -C '" + comment + "' -f " + path.string();
  const CommandResult result = run(command);
  EXPECT_EQ(result.exit_code, 0) << command << "\n" << result.output;
  return path;
}

class KeysInterop : public testing::TestWithParam<KeyKind> {
 protected:
  TempDir dir_;
  Botan::AutoSeeded_RNG rng_;
};

TEST_P(KeysInterop, ReadsSshKeygenPrivateKey) {
  const fs::path path = keygen(dir_, GetParam(), "alice@example");
  auto key = PrivateKey::from_openssh(read_text(path));
  ASSERT_TRUE(key.ok()) << key.error().message;

  const std::string pub_line = first_line(read_text(path.string() + ".pub"));
  auto expected = PublicKey::from_openssh_line(pub_line);
  ASSERT_TRUE(expected.ok()) << expected.error().message;
  EXPECT_EQ(key->public_key(), *expected);
  EXPECT_EQ(key->public_key().type(), GetParam().key_type);
  EXPECT_EQ(key->comment(), "alice@example");
  EXPECT_EQ(key->public_key().to_openssh_line(key->comment()), pub_line);
}

TEST_P(KeysInterop, FingerprintsMatchSshKeygen) {
  const fs::path path = keygen(dir_, GetParam(), "fp");
  auto key = PublicKey::from_openssh_line(read_text(path.string() + ".pub"));
  ASSERT_TRUE(key.ok()) << key.error().message;

  const CommandResult sha256 = run("ssh-keygen -l -f " + path.string() + ".pub");
  ASSERT_EQ(sha256.exit_code, 0) << sha256.output;
  EXPECT_EQ(key->fingerprint_sha256(), field(sha256.output, 1));

  const CommandResult md5 = run("ssh-keygen -l -E md5 -f " + path.string() + ".pub");
  ASSERT_EQ(md5.exit_code, 0) << md5.output;
  EXPECT_EQ(key->fingerprint_md5(), field(md5.output, 1));
}

TEST_P(KeysInterop, RewritesSshKeygenFileByteForByte) {
  // Everything but the random check-ints must come out as ssh-keygen wrote it:
  // field order, RSA's iqmp, the padding and the 70-column wrapping.
  const fs::path path = keygen(dir_, GetParam(), "same@bytes");
  const std::string original_text = read_text(path);
  auto key = PrivateKey::from_openssh(original_text);
  ASSERT_TRUE(key.ok()) << key.error().message;
  const std::string rewritten_text = key->to_openssh(key->comment(), rng_);

  SecureBytes original = unarmor(original_text);
  SecureBytes rewritten = unarmor(rewritten_text);
  ASSERT_EQ(original.size(), rewritten.size());
  const std::size_t offset = check_int_offset(original);
  std::copy_n(original.begin() + offset, 8, rewritten.begin() + offset);
  EXPECT_EQ(original, rewritten);
  EXPECT_EQ(armor(rewritten), original_text);
}

TEST_P(KeysInterop, SshKeygenReadsOurPrivateKey) {
  auto key = PrivateKey::generate(GetParam().key_type, GetParam().rsa_bits, rng_);
  ASSERT_TRUE(key.ok()) << key.error().message;
  const std::string text = key->to_openssh("bob@example", rng_);
  ASSERT_FALSE(text.empty());
  const fs::path path = dir_.path() / "ours";
  write_private_file(path, text);

  const CommandResult derived = run("ssh-keygen -y -f " + path.string());
  ASSERT_EQ(derived.exit_code, 0) << derived.output;
  const std::string expected_line = key->public_key().to_openssh_line();
  EXPECT_EQ(field(derived.output, 0) + " " + field(derived.output, 1), expected_line);

  const CommandResult listed = run("ssh-keygen -l -f " + path.string());
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_EQ(field(listed.output, 1), key->public_key().fingerprint_sha256());
  EXPECT_NE(listed.output.find("bob@example"), std::string::npos) << listed.output;

  // And our own reader round-trips it.
  auto reread = PrivateKey::from_openssh(text);
  ASSERT_TRUE(reread.ok()) << reread.error().message;
  EXPECT_EQ(reread->public_key(), key->public_key());
  EXPECT_EQ(reread->comment(), "bob@example");
}

TEST_P(KeysInterop, WeVerifySshKeygenSignatures) {
  const fs::path path = keygen(dir_, GetParam(), "signer");
  auto key = PublicKey::from_openssh_line(read_text(path.string() + ".pub"));
  ASSERT_TRUE(key.ok()) << key.error().message;
  const fs::path message_path = dir_.path() / "message";
  const std::string message = "a message signed by ssh-keygen";
  write_text(message_path, message);
  const CommandResult signing = run("ssh-keygen -Y sign -f " + path.string() + " -n " +
                                    std::string(kSshsigNamespace) + " " + message_path.string());
  ASSERT_EQ(signing.exit_code, 0) << signing.output;

  const Bytes blob = sshsig_signature_blob(read_text(message_path.string() + ".sig"));
  ASSERT_FALSE(blob.empty());
  wire::Reader reader(blob);
  const std::string algorithm(reader.text());
  // ssh-keygen signs RSA with rsa-sha2-512; the others use the key type.
  EXPECT_EQ(algorithm, key->signature_algorithms().front());
  const Bytes signed_data = sshsig_signed_data(as_bytes(message));
  const Status verified = key->verify(algorithm, signed_data, blob);
  EXPECT_TRUE(verified.ok()) << verified.error().message;
  EXPECT_FALSE(key->verify(algorithm, sshsig_signed_data(as_bytes("another")), blob).ok());
}

TEST_P(KeysInterop, SshKeygenVerifiesOurSignatures) {
  auto key = PrivateKey::generate(GetParam().key_type, GetParam().rsa_bits, rng_);
  ASSERT_TRUE(key.ok()) << key.error().message;
  const std::string message = "a message signed by limactl";
  const fs::path message_path = dir_.path() / "message";
  write_text(message_path, message);
  const Bytes signed_data = sshsig_signed_data(as_bytes(message));

  for (const std::string& algorithm : key->public_key().signature_algorithms()) {
    SCOPED_TRACE(algorithm);
    // Several signatures, so ECDSA r/s with and without a leading zero byte
    // are both likely to be exercised.
    for (int round = 0; round < 4; ++round) {
      auto blob = key->sign(algorithm, signed_data, rng_);
      ASSERT_TRUE(blob.ok()) << blob.error().message;
      const fs::path sig_path = dir_.path() / "message.sig";
      write_text(sig_path, sshsig_armor(key->public_key(), *blob));
      const CommandResult check =
          run("ssh-keygen -Y check-novalidate -n " + std::string(kSshsigNamespace) + " -s " +
              sig_path.string() + " < " + message_path.string());
      EXPECT_EQ(check.exit_code, 0) << check.output;
    }
  }

  // The check is not vacuous: ssh-keygen refuses a signature over other data.
  auto other = key->sign(key->public_key().signature_algorithms().front(),
                         sshsig_signed_data(as_bytes("something else")), rng_);
  ASSERT_TRUE(other.ok());
  const fs::path sig_path = dir_.path() / "other.sig";
  write_text(sig_path, sshsig_armor(key->public_key(), *other));
  const CommandResult check =
      run("ssh-keygen -Y check-novalidate -n " + std::string(kSshsigNamespace) + " -s " +
          sig_path.string() + " < " + message_path.string());
  EXPECT_NE(check.exit_code, 0) << check.output;
}

INSTANTIATE_TEST_SUITE_P(KeysSshKeygen, KeysInterop, testing::ValuesIn(kKeyKinds), kind_name);

// ---------------------------------------------------------------------------
// Signatures.

class KeysSignatures : public testing::TestWithParam<KeyKind> {
 protected:
  Botan::AutoSeeded_RNG rng_;
};

TEST_P(KeysSignatures, RoundTripAndTamperingForEveryAlgorithm) {
  auto key = PrivateKey::generate(GetParam().key_type, GetParam().rsa_bits, rng_);
  ASSERT_TRUE(key.ok()) << key.error().message;
  const PublicKey& public_key = key->public_key();
  const Bytes data = to_bytes(as_bytes("exchange hash or userauth request"));
  const auto algorithms = public_key.signature_algorithms();
  ASSERT_FALSE(algorithms.empty());

  for (const std::string& algorithm : algorithms) {
    SCOPED_TRACE(algorithm);
    EXPECT_EQ(key_type_for_signature_algorithm(algorithm), public_key.type());
    auto blob = key->sign(algorithm, data, rng_);
    ASSERT_TRUE(blob.ok()) << blob.error().message;
    wire::Reader reader(*blob);
    EXPECT_EQ(reader.text(), algorithm);
    reader.string();
    EXPECT_TRUE(reader.finished());

    EXPECT_TRUE(public_key.verify(algorithm, data, *blob).ok());

    Bytes tampered_data = data;
    tampered_data[0] ^= 1;
    EXPECT_FALSE(public_key.verify(algorithm, tampered_data, *blob).ok());

    Bytes tampered_signature = *blob;
    tampered_signature[tampered_signature.size() - 2] ^= 0x10;
    EXPECT_FALSE(public_key.verify(algorithm, data, tampered_signature).ok());

    Bytes truncated = *blob;
    truncated.pop_back();
    EXPECT_FALSE(public_key.verify(algorithm, data, truncated).ok());

    Bytes trailing = *blob;
    trailing.push_back(0);
    EXPECT_FALSE(public_key.verify(algorithm, data, trailing).ok());

    EXPECT_FALSE(public_key.verify(algorithm, data, {}).ok());
  }
}

TEST_P(KeysSignatures, WrongAlgorithmNamesAreRefused) {
  auto key = PrivateKey::generate(GetParam().key_type, GetParam().rsa_bits, rng_);
  ASSERT_TRUE(key.ok()) << key.error().message;
  const Bytes data = to_bytes(as_bytes("data"));
  const std::string own = key->public_key().signature_algorithms().front();
  auto blob = key->sign(own, data, rng_);
  ASSERT_TRUE(blob.ok());

  for (const std::string& other : supported_signature_algorithms()) {
    if (key_type_for_signature_algorithm(other) == key->public_key().type()) continue;
    SCOPED_TRACE(other);
    EXPECT_FALSE(key->sign(other, data, rng_).ok());
    EXPECT_FALSE(key->public_key().verify(other, data, *blob).ok());
  }
  EXPECT_FALSE(key->sign("ssh-rsa", data, rng_).ok());
  EXPECT_FALSE(key->sign("no-such-algorithm", data, rng_).ok());

  // A valid signature whose blob names a different algorithm than expected.
  Bytes renamed;
  wire::Writer writer(renamed);
  wire::Reader reader(*blob);
  reader.text();
  writer.string("ssh-dss");
  writer.string(reader.string());
  EXPECT_FALSE(key->public_key().verify(own, data, renamed).ok());
}

INSTANTIATE_TEST_SUITE_P(KeysAllKinds, KeysSignatures, testing::ValuesIn(kKeyKinds), kind_name);

TEST(KeysEcdsa, SignatureIsTwoMinimalMpints) {
  Botan::AutoSeeded_RNG rng;
  auto key = PrivateKey::generate("ecdsa-sha2-nistp256", 0, rng);
  ASSERT_TRUE(key.ok());
  int with_leading_zero = 0;
  for (int round = 0; round < 64; ++round) {
    // Botan's ECDSA nonces are deterministic (RFC 6979): vary the message so
    // the 64 signatures differ.
    const std::string message = "message " + std::to_string(round);
    auto blob = key->sign("ecdsa-sha2-nistp256", as_bytes(message), rng);
    ASSERT_TRUE(blob.ok());
    wire::Reader outer(*blob);
    EXPECT_EQ(outer.text(), "ecdsa-sha2-nistp256");
    wire::Reader inner(outer.string());
    ASSERT_TRUE(outer.finished());
    // Reader::mpint refuses negative and non-minimal encodings.
    for (const ByteView number : {inner.mpint(), inner.mpint()}) {
      ASSERT_FALSE(number.empty());
      EXPECT_LE(number.size(), 33U);
      if (number.size() == 33) {
        EXPECT_EQ(number[0], 0);
        ++with_leading_zero;
      }
    }
    EXPECT_TRUE(inner.finished());
  }
  // About half of all r and s have the top bit set.
  EXPECT_GT(with_leading_zero, 0);
}

TEST(KeysRsa, SignatureBlobsUseRfc8332NamesAndModulusLength) {
  Botan::AutoSeeded_RNG rng;
  auto key = PrivateKey::generate("ssh-rsa", 2048, rng);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->public_key().signature_algorithms(),
            (std::vector<std::string>{"rsa-sha2-512", "rsa-sha2-256"}));
  for (const char* algorithm : {"rsa-sha2-256", "rsa-sha2-512"}) {
    auto blob = key->sign(algorithm, as_bytes("x"), rng);
    ASSERT_TRUE(blob.ok());
    wire::Reader reader(*blob);
    EXPECT_EQ(reader.text(), algorithm);
    EXPECT_EQ(reader.string().size(), 256U);
    EXPECT_TRUE(reader.finished());
  }
}

TEST(KeysRsa, Sha1SignaturesAreRefused) {
  Botan::AutoSeeded_RNG rng;
  auto key = PrivateKey::generate("ssh-rsa", 2048, rng);
  ASSERT_TRUE(key.ok());
  EXPECT_FALSE(key->sign("ssh-rsa", as_bytes("x"), rng).ok());
  EXPECT_EQ(key_type_for_signature_algorithm("ssh-rsa"), "");
  auto blob = key->sign("rsa-sha2-256", as_bytes("x"), rng);
  ASSERT_TRUE(blob.ok());
  Bytes as_ssh_rsa;
  wire::Writer writer(as_ssh_rsa);
  wire::Reader reader(*blob);
  reader.text();
  writer.string("ssh-rsa");
  writer.string(reader.string());
  EXPECT_FALSE(key->public_key().verify("ssh-rsa", as_bytes("x"), as_ssh_rsa).ok());
  EXPECT_FALSE(key->public_key().verify("rsa-sha2-256", as_bytes("x"), as_ssh_rsa).ok());
}

TEST(KeysRsa, ModuliBelow1024BitsAreRefused) {
  Botan::AutoSeeded_RNG rng;
  EXPECT_FALSE(PrivateKey::generate("ssh-rsa", 768, rng).ok());

  auto blob_with_modulus_bits = [](std::size_t bits) {
    Botan::BigInt modulus = Botan::BigInt::power_of_2(bits - 1) + 1;  // odd, right size
    Bytes blob;
    wire::Writer writer(blob);
    writer.string("ssh-rsa");
    writer.mpint_unsigned(Botan::BigInt::encode(Botan::BigInt(65537)));
    writer.mpint_unsigned(Botan::BigInt::encode(modulus));
    return blob;
  };
  auto small = PublicKey::from_blob(blob_with_modulus_bits(1023));
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.error().message.find("too small"), std::string::npos) << small.error().message;
  EXPECT_TRUE(PublicKey::from_blob(blob_with_modulus_bits(1024)).ok());
}

// Moduli from limits::kMinRsaBits to limits::kMaxRsaBits are taken, in a
// peer's public key as in a key we generate; one bit outside either end is
// refused.
TEST(KeysRsa, ModulusBitsLimitAtAndPast) {
  auto blob_with_modulus_bits = [](std::size_t bits) {
    Botan::BigInt modulus = Botan::BigInt::power_of_2(bits - 1) + 1;  // odd, right size
    Bytes blob;
    wire::Writer writer(blob);
    writer.string("ssh-rsa");
    writer.mpint_unsigned(Botan::BigInt::encode(Botan::BigInt(65537)));
    writer.mpint_unsigned(Botan::BigInt::encode(modulus));
    return blob;
  };
  auto largest = PublicKey::from_blob(blob_with_modulus_bits(limits::kMaxRsaBits));
  ASSERT_TRUE(largest.ok()) << largest.error().message;
  EXPECT_EQ(largest->bits(), limits::kMaxRsaBits);
  auto too_large = PublicKey::from_blob(blob_with_modulus_bits(limits::kMaxRsaBits + 1));
  ASSERT_FALSE(too_large.ok());
  EXPECT_NE(too_large.error().message.find("too large"), std::string::npos)
      << too_large.error().message;
  auto smallest = PublicKey::from_blob(blob_with_modulus_bits(limits::kMinRsaBits));
  ASSERT_TRUE(smallest.ok()) << smallest.error().message;
  EXPECT_EQ(smallest->bits(), limits::kMinRsaBits);
  EXPECT_FALSE(PublicKey::from_blob(blob_with_modulus_bits(limits::kMinRsaBits - 1)).ok());

  // Generating: the smallest size works (the largest takes minutes, so only
  // its neighbour outside is tried: the bound is checked before any work).
  Botan::AutoSeeded_RNG rng;
  auto generated = PrivateKey::generate("ssh-rsa", limits::kMinRsaBits, rng);
  ASSERT_TRUE(generated.ok()) << generated.error().message;
  EXPECT_EQ(generated->public_key().bits(), limits::kMinRsaBits);
  EXPECT_FALSE(PrivateKey::generate("ssh-rsa", limits::kMinRsaBits - 1, rng).ok());
  EXPECT_FALSE(PrivateKey::generate("ssh-rsa", limits::kMaxRsaBits + 1, rng).ok());
}

TEST(KeysRsa, SshKeygen1024BitKeyIsAccepted) {
  TempDir dir;
  const KeyKind kind{"rsa1024", "rsa", 1024, "ssh-rsa", 0};
  const fs::path path = keygen(dir, kind, "small");
  auto key = PrivateKey::from_openssh(read_text(path));
  ASSERT_TRUE(key.ok()) << key.error().message;
}

// ---------------------------------------------------------------------------
// Public key parsing.

TEST(KeysPublicKey, SupportedAlgorithmsMapToKeyTypes) {
  EXPECT_EQ(supported_signature_algorithms().size(), 6U);
  EXPECT_EQ(key_type_for_signature_algorithm("rsa-sha2-256"), "ssh-rsa");
  EXPECT_EQ(key_type_for_signature_algorithm("rsa-sha2-512"), "ssh-rsa");
  EXPECT_EQ(key_type_for_signature_algorithm("ssh-ed25519"), "ssh-ed25519");
  EXPECT_EQ(key_type_for_signature_algorithm("ecdsa-sha2-nistp384"), "ecdsa-sha2-nistp384");
  EXPECT_EQ(key_type_for_signature_algorithm("ssh-dss"), "");
}

TEST(KeysPublicKey, MalformedLinesAndBlobsAreErrors) {
  Botan::AutoSeeded_RNG rng;
  auto key = PrivateKey::generate("ssh-ed25519", 0, rng);
  ASSERT_TRUE(key.ok());
  const std::string line = key->public_key().to_openssh_line("me@host");
  auto parsed = PublicKey::from_openssh_line(line + "\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(*parsed, key->public_key());

  EXPECT_FALSE(PublicKey::from_openssh_line("").ok());
  EXPECT_FALSE(PublicKey::from_openssh_line("ssh-ed25519").ok());
  EXPECT_FALSE(PublicKey::from_openssh_line("ssh-ed25519 !!!notbase64").ok());
  EXPECT_FALSE(PublicKey::from_openssh_line("ssh-rsa " + field(line, 1)).ok());  // type mismatch

  const Bytes& blob = key->public_key().blob();
  for (std::size_t length = 0; length < blob.size(); ++length) {
    EXPECT_FALSE(PublicKey::from_blob(ByteView(blob).first(length)).ok()) << length;
  }
  Bytes trailing = blob;
  trailing.push_back(0);
  EXPECT_FALSE(PublicKey::from_blob(trailing).ok());

  Bytes dss;
  wire::Writer writer(dss);
  writer.string("ssh-dss");
  EXPECT_FALSE(PublicKey::from_blob(dss).ok());
}

TEST(KeysPublicKey, EcdsaBlobMustNameItsCurveAndHoldAPointOnIt) {
  Botan::AutoSeeded_RNG rng;
  auto key = PrivateKey::generate("ecdsa-sha2-nistp256", 0, rng);
  ASSERT_TRUE(key.ok());
  wire::Reader reader(key->public_key().blob());
  reader.text();
  reader.text();
  const Bytes point = to_bytes(reader.string());

  auto blob_of = [](std::string_view type, std::string_view curve, ByteView q) {
    Bytes blob;
    wire::Writer writer(blob);
    writer.string(type);
    writer.string(curve);
    writer.string(q);
    return blob;
  };
  EXPECT_TRUE(PublicKey::from_blob(blob_of("ecdsa-sha2-nistp256", "nistp256", point)).ok());
  EXPECT_FALSE(PublicKey::from_blob(blob_of("ecdsa-sha2-nistp256", "nistp384", point)).ok());
  EXPECT_FALSE(PublicKey::from_blob(blob_of("ecdsa-sha2-nistp384", "nistp384", point)).ok());
  Bytes off_curve = point;
  off_curve.back() ^= 1;
  EXPECT_FALSE(PublicKey::from_blob(blob_of("ecdsa-sha2-nistp256", "nistp256", off_curve)).ok());
}

// ---------------------------------------------------------------------------
// Damaged and unsupported private key files.

class KeysPrivateKeyFile : public testing::TestWithParam<KeyKind> {
 protected:
  Botan::AutoSeeded_RNG rng_;
};

TEST_P(KeysPrivateKeyFile, TruncatedFilesAreErrors) {
  auto key = PrivateKey::generate(GetParam().key_type, GetParam().rsa_bits, rng_);
  ASSERT_TRUE(key.ok());
  const std::string text = key->to_openssh("comment", rng_);
  // Cut anywhere before the END line is complete.
  const std::size_t complete = text.find(kEndLine) + kEndLine.size();
  for (std::size_t length = 0; length < complete; length += 7) {
    EXPECT_FALSE(PrivateKey::from_openssh(text.substr(0, length)).ok()) << length;
  }
  // A well-armored file whose binary contents are cut short.
  const SecureBytes binary = unarmor(text);
  for (std::size_t length = 0; length < binary.size(); ++length) {
    EXPECT_FALSE(PrivateKey::from_openssh(armor(ByteView(binary).first(length))).ok()) << length;
  }
}

TEST_P(KeysPrivateKeyFile, CorruptedBytesNeverYieldADifferentKey) {
  auto key = PrivateKey::generate(GetParam().key_type, GetParam().rsa_bits, rng_);
  ASSERT_TRUE(key.ok());
  const SecureBytes binary = unarmor(key->to_openssh("comment", rng_));
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < binary.size(); ++i) {
    SecureBytes corrupted = binary;
    corrupted[i] ^= 0x01;
    auto parsed = PrivateKey::from_openssh(armor(corrupted));
    if (parsed.ok()) {
      // Only the comment is free of consistency checks.
      ++accepted;
      EXPECT_EQ(parsed->public_key(), key->public_key()) << i;
      EXPECT_NE(parsed->comment(), "comment") << i;
    }
  }
  EXPECT_LE(accepted, std::string("comment").size());
}

TEST_P(KeysPrivateKeyFile, MismatchedCheckIntsAreAnError) {
  auto key = PrivateKey::generate(GetParam().key_type, GetParam().rsa_bits, rng_);
  ASSERT_TRUE(key.ok());
  SecureBytes binary = unarmor(key->to_openssh("", rng_));
  binary[check_int_offset(binary) + 7] ^= 0xff;
  auto parsed = PrivateKey::from_openssh(armor(binary));
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("corrupted"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(KeysAllKinds, KeysPrivateKeyFile, testing::ValuesIn(kKeyKinds), kind_name);

TEST(KeysPrivateKeyFormat, EncryptedKeysNeedTheirPassphrase) {
  TempDir dir;
  const fs::path path = keygen(dir, kKeyKinds[0], "locked", "correct horse");
  const std::string text = read_text(path);
  EXPECT_TRUE(PrivateKey::is_encrypted(text));
  auto key = PrivateKey::from_openssh(text);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().message, kPassphraseRequired);
  const std::string passphrase = "correct horse";
  auto unlocked =
      PrivateKey::from_file_text(text, SecureBytes(passphrase.begin(), passphrase.end()));
  ASSERT_TRUE(unlocked.ok()) << unlocked.error().message;
  EXPECT_EQ(unlocked->comment(), "locked");
}

TEST(KeysPrivateKeyFormat, OtherFormatsAndGarbageAreErrors) {
  EXPECT_FALSE(PrivateKey::from_openssh("").ok());
  EXPECT_FALSE(PrivateKey::from_openssh("hello").ok());
  EXPECT_FALSE(PrivateKey::from_openssh(
                   "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n")
                   .ok());
  EXPECT_FALSE(
      PrivateKey::from_openssh(std::string(kBeginLine) + "\n%%%%\n" + std::string(kEndLine) + "\n")
          .ok());
  EXPECT_FALSE(PrivateKey::from_openssh(armor(as_bytes("openssh-key-v2"))).ok());
}

TEST(KeysPrivateKeyFormat, BadPaddingAndKeyCountsAreErrors) {
  Botan::AutoSeeded_RNG rng;
  auto key = PrivateKey::generate("ssh-ed25519", 0, rng);
  ASSERT_TRUE(key.ok());
  // Rebuild the file with chosen padding / key count around the real parts.
  const SecureBytes binary = unarmor(key->to_openssh("c", rng));
  wire::Reader reader(binary);
  reader.raw(15);
  reader.string();
  reader.string();
  reader.string();
  reader.u32();
  const Bytes public_blob = to_bytes(reader.string());
  const ByteView section = reader.string();
  ASSERT_TRUE(reader.finished());
  // With comment "c" the section needs 4 bytes of padding: 1, 2, 3, 4.
  ASSERT_EQ(section.back(), 4);

  auto build = [&](std::uint32_t key_count, ByteView private_section) {
    Bytes file;
    wire::Writer writer(file);
    writer.raw(as_bytes(std::string_view("openssh-key-v1\0", 15)));
    writer.string("none");
    writer.string("none");
    writer.string("");
    writer.u32(key_count);
    writer.string(public_blob);
    writer.string(private_section);
    return armor(file);
  };
  EXPECT_TRUE(PrivateKey::from_openssh(build(1, section)).ok());
  EXPECT_FALSE(PrivateKey::from_openssh(build(0, section)).ok());
  EXPECT_FALSE(PrivateKey::from_openssh(build(2, section)).ok());

  // A full extra block of (correctly numbered) padding, and padding with the
  // wrong values.
  Bytes extra_block = to_bytes(section);
  for (std::uint8_t i = 5; i <= 12; ++i) extra_block.push_back(i);
  EXPECT_FALSE(PrivateKey::from_openssh(build(1, extra_block)).ok());
  Bytes wrong_padding = to_bytes(section);
  wrong_padding.back() ^= 0x40;
  EXPECT_FALSE(PrivateKey::from_openssh(build(1, wrong_padding)).ok());
  // Not a multiple of the block size.
  Bytes unaligned = to_bytes(section);
  unaligned.pop_back();
  EXPECT_FALSE(PrivateKey::from_openssh(build(1, unaligned)).ok());
}

}  // namespace
}  // namespace ssh::keys
