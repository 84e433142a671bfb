// Key file formats without any external tool (so these also run under wine
// for the Windows build): encrypted openssh-key-v1 files of every cipher,
// PEM and PKCS#8 files ssh-keygen wrote (kept below as test vectors), RFC 4716
// public keys, and the errors for damaged, wrong and unsupported files.
#include <botan/auto_rng.h>
#include <botan/base64.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "ssh/keys/key_files.hpp"
#include "ssh/keys/keys.hpp"
#include "ssh/limits.hpp"
#include "ssh/wire/reader.hpp"
#include "ssh/wire/writer.hpp"
#include "support/temp_dir.hpp"

namespace ssh::keys {
namespace {

namespace fs = std::filesystem;
using testing_support::TempDir;

struct SshKeygenVector {
  const char* label;
  const char* passphrase;
  const char* private_text;
  const char* public_line;
};

// Made by OpenSSH 9.2's ssh-keygen (ed25519 with -Z <cipher> -a 2; ecdsa
// with -m PEM / -m PKCS8); the .pub line is what ssh-keygen wrote beside.
const SshKeygenVector kSshKeygenVectors[] = {
    {"aes128-ctr", "vector pass",
     R"KEY(-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAACmFlczEyOC1jdHIAAAAGYmNyeXB0AAAAGAAAABAt0DdTR0
49C2ZT+MBLbYzeAAAAAgAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIBGPhNPz63+dJu0u
JGZjg4Ig2M+UcXnVqrgEyAoSnorpAAAAoMKItu8uzsLcUt/36pXu71lbvYnDml0A2M6roY
9GLBCzhShvcNCw2EQME0tRGcfgiRtIn+e1q6ruwm9OVQpHlgaKqfem8UdtdAMU6BlYv7Lb
bYlmvOGSfd8cAJ/8rygqsLCuR4E6Nin0l162Eo4D+bTgTL11blcdMNsBKGL8IRpozI/uPV
7UZEO+sI6k4iojXFjmnKs/L6bNnoM3YipJteQ=
-----END OPENSSH PRIVATE KEY-----
)KEY",
     "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBGPhNPz63+dJu0uJGZjg4Ig2M+UcXnVqrgEyAoSnorp "
     "vec-aes128-ctr"},
    {"aes192-ctr", "vector pass",
     R"KEY(-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAACmFlczE5Mi1jdHIAAAAGYmNyeXB0AAAAGAAAABB45WpJif
Gp5wKpmeyPgLkXAAAAAgAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIFD/p26CH+Yq31UF
TVgu8Aj8f/rWDmgE8YlsOrUi6/ztAAAAoNcJfK2MRG1a0w8E+XBOLyVC1UtJKPNwX7su2S
5dn9KEw54sdgCGk8qgpWl9gj6T+YUKi9PgmTO1AemZFAk3HpU+YpgJSwsVBk/bVLfo/hCZ
EeOMExhlfLP1aixVRe5gTAeVDBMbGUxZhxcyXooVd4Mj9Xn+0LTY3bLysRi2vHZlNc5Nuo
02THkQ3nFWV8Z1CiQYs4ESp07Yx32HWKUXXoQ=
-----END OPENSSH PRIVATE KEY-----
)KEY",
     "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFD/p26CH+Yq31UFTVgu8Aj8f/rWDmgE8YlsOrUi6/zt "
     "vec-aes192-ctr"},
    {"aes256-ctr", "vector pass",
     R"KEY(-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABAptWNIiw
cVqUIsvch8aoQTAAAAAgAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIESGknck2mkwd1xh
1m1cyveRtsVnMqCcmqbo5i/D6pTrAAAAoDzrRlpHpAjmD30WwX3FpwmxjjzycBqQFZdi9+
+7cvj1ALnvJb3ELPupox/xEmfNDBRa10bXGqMJdp+k5pdmDWAqLnBrgXFVqFw4riWrpMjn
GuoqV3kCKwhkJM+2LzPTYpZmo9KpRPz2P9iTEsgWrgQakt7Owuxl2wiPIGzkGko6VQ5o8K
xwRVHkawJJMmRp7HVhkCSzDQSi11vQrmKEaVA=
-----END OPENSSH PRIVATE KEY-----
)KEY",
     "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIESGknck2mkwd1xh1m1cyveRtsVnMqCcmqbo5i/D6pTr "
     "vec-aes256-ctr"},
    {"aes128-cbc", "vector pass",
     R"KEY(-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAACmFlczEyOC1jYmMAAAAGYmNyeXB0AAAAGAAAABBoNNNzPv
7EuTeiiJG2ggDtAAAAAgAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIPugZNuKTDIIU/+f
va+xgTwbZUXLll12FUgmDyQtDiN/AAAAoMI3ns6Co3wNTnaLnAjgYR5Sle9lgTFqCZbz2y
/ndbWzve8JZkzwXe+sp3IKEcv07yUX6whDE83j5m05GKT7xWqK8D/zGd7BBvoSXs9SknG6
DuqUnAfoiqD4SjQVDph+GQClXHk0MWBh8aBTTjLI0kEajw9aT540YIr9+AOsUBkFMrL1oa
tX+8QgDGqvofy4J8TKN4LyWrmax3VbLMLekbM=
-----END OPENSSH PRIVATE KEY-----
)KEY",
     "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPugZNuKTDIIU/+fva+xgTwbZUXLll12FUgmDyQtDiN/ "
     "vec-aes128-cbc"},
    {"aes256-cbc", "vector pass",
     R"KEY(-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jYmMAAAAGYmNyeXB0AAAAGAAAABC/kXp/t1
riOUrUCPMn3hsFAAAAAgAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIGvWxTbFsHS1KlTz
SuEW+lndvgr4NCpDbvUc05v3EV2LAAAAoH86Lkz8T4PHNOv1yquBhbQECMUVusOm0vuj6c
MG2oo0Ld+OFLeOXgG/DVnXCc0q8andvg0/rnPTvO9tM1GGz0jK+coR/ms+LDjwrsH65+/2
uJGbi8Bi32N/j6iKCJQyCpdRoNfV4VxHXemG0W22M0lzTzXx+3A6oKw4ArL5pEvaujYvH8
Xa7PuK9dbs9k5LjeA2mds1gNnZczf7iIIv4NY=
-----END OPENSSH PRIVATE KEY-----
)KEY",
     "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGvWxTbFsHS1KlTzSuEW+lndvgr4NCpDbvUc05v3EV2L "
     "vec-aes256-cbc"},
    {"aes128-gcm@openssh.com", "vector pass",
     R"KEY(-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAAFmFlczEyOC1nY21Ab3BlbnNzaC5jb20AAAAGYmNyeXB0AA
AAGAAAABBJpsWdhIdVImCPSbYXx5yMAAAAAgAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAA
IK5axplYacY84Xg25VMma/WEjWTm73efXewlW3UXNctBAAAAoCxDrtZ/EsS3p04X4qEjIv
3aGthznmUmmtKRsL98ss69pBkHw92Ko8ef9DgwUSP57NehDOS3m/Qj+kaHI4Ln8GNd+HJt
juzLJ7FdTTXAx5gmqffoUdqkfGH0OTwqVexEvCi9RNZWW1W0PJXH9XaeUrVoyg8/XgHu4V
an1+0N3Ixw/11Fpemwbgsg2TIKEicWAwtsAwKHwBAU8WeuN35fxgcjabRfJJeDKxvBJGYP
k0Ro
-----END OPENSSH PRIVATE KEY-----
)KEY",
     "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK5axplYacY84Xg25VMma/WEjWTm73efXewlW3UXNctB "
     "vec-aes128-gcm@openssh.com"},
    {"aes256-gcm@openssh.com", "vector pass",
     R"KEY(-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAAFmFlczI1Ni1nY21Ab3BlbnNzaC5jb20AAAAGYmNyeXB0AA
AAGAAAABDuCqJV48xaM8EZRNqq95XIAAAAAgAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAA
ICWfBfjobSkOeWVq9qHY+I9C6jesRQ3GWOfn/1Sr+R4PAAAAoFBxe3LjdZDw9PGa7sbWT9
0e/WgqsnGcxpDF/3Xxjn7fVWtxKT0vXjFPrUIXvI4OOynfY10bOxhIOAAdfW3w2xbujoWe
Ca3pSbOVDcspHgArXrVYWTHiig78aDPzzKH0KhW9/vGFsSngLKttNBcSVGPIXkAdIkWfXJ
k5+/PdjW54ohWACjEMLemmHY2HOdOvI/mp0vcZVw2ijNXDNo/0RTQpuiCefBOhaIxLhkKV
SQfr
-----END OPENSSH PRIVATE KEY-----
)KEY",
     "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICWfBfjobSkOeWVq9qHY+I9C6jesRQ3GWOfn/1Sr+R4P "
     "vec-aes256-gcm@openssh.com"},
    {"chacha20-poly1305@openssh.com", "vector pass",
     R"KEY(-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAAHWNoYWNoYTIwLXBvbHkxMzA1QG9wZW5zc2guY29tAAAABm
JjcnlwdAAAABgAAAAQoe1OxKjDEXKnL9aG7KMnrQAAAAIAAAABAAAAMwAAAAtzc2gtZWQy
NTUxOQAAACBvxOZVrZPecsQSsiwB6tjx0id0S6o9+9wuoqc8xmCscAAAAKh4hix1mRCG9D
IWHxA04QdFIXTR9zrsL92fWI2/x56ourhBLpivD6lqRVsAB0LNYh1pOcFWWGzBm4RmISUJ
de3Sody42zEaVdFDDtf9VrcClu98z2L5vGak768+HRJY9jkF0X7EnRQeFewMXrd/EdjHxB
Lk68sWKZ1E+UTYb7QIkVn8Py2hMZOffapMtBvemSxgc2VG3qjD6jOkydAFda6kwGj6fTOb
jyedfOoJuu546XOmStx+ud4+
-----END OPENSSH PRIVATE KEY-----
)KEY",
     "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG/E5lWtk95yxBKyLAHq2PHSJ3RLqj373C6ipzzGYKxw "
     "vec-chacha20-poly1305@openssh.com"},
    {"PEM AES-128-CBC", "pem pass",
     R"KEY(-----BEGIN EC PRIVATE KEY-----
Proc-Type: 4,ENCRYPTED
DEK-Info: AES-128-CBC,604907456B7FFFBC2CE22124DE024B75

SzGmyPhcC/2YBiBDnVQcS8cJ95qQS5UnN5AdsSLwcVoPLskMAzZUmuA16YtwpJ7k
rD+x9Qvc7XBqONlpqwbN555tJjBP8UR2IWJ8FphT+JcANI8jB6kDuc97a9w+U1K4
H/AYbROrUfSQPSJE0W7cUQPq9NWE78r2U5n7AGQOdqc=
-----END EC PRIVATE KEY-----
)KEY",
     "ecdsa-sha2-nistp256 "
     "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBBDkQ72zIBgfog0EfFT7V9eV0neIwzluMr3uZJcZ+"
     "fNt/sfvERD40eIrjKFHfeHu5DczPO3FPEYNwl3170eVx6w= pem"},
    {"PKCS#8 PBES2", "p8 pass",
     R"KEY(-----BEGIN ENCRYPTED PRIVATE KEY-----
MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAjk7X/AE4L2ewICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEAQIEEJh5JU+97P5SDH9TKPc9DXkEgZDb
PU/rg+MpDu9c4EMhNVaGX5f8NPL0mG/vU9kCm9plij0ZFb5ADsXbcozyGZSXoR7y
Pwmze/tcifr+9O6h+BjHsPpR+qfFHQK82JDuWw/JbioU5nfotiSm0qCfxqGjppKO
IAt5mO4PkwwGPXqglKgorNcQ6mSmLjS5hHvBdb04fHuuLb7DNu6nwv8SYfUWcm4=
-----END ENCRYPTED PRIVATE KEY-----
)KEY",
     "ecdsa-sha2-nistp256 "
     "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBOmryOiCfjrSFHsIcNLbKcKxuaX3GdrR6Xzku2HSC"
     "6c9FAxaZlpha0vtJvbM7mK4nDVC7lsRCj1y+asdXliBiVM= p8"},
    {"PEM unencrypted", "",
     R"KEY(-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIIDyAIWuXkHM8r9JQl+chZpKDlIu/JSM49GSZTsmhocroAoGCCqGSM49
AwEHoUQDQgAEJ6oZhcFu/YIhu6Yleu9ptq1VNAblMzQBOZowefF/f3OqYHiOUWqs
7no9ZxL/g5s8pGQcRHxV9/RvrNzsQVy1oA==
-----END EC PRIVATE KEY-----
)KEY",
     "ecdsa-sha2-nistp256 "
     "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBCeqGYXBbv2CIbumJXrvabatVTQG5TM0ATmaMHnxf"
     "39zqmB4jlFqrO56PWcS/4ObPKRkHER8Vff0b6zc7EFctaA= root@vm"},
};

SecureBytes secret(std::string_view text) {
  return SecureBytes(text.begin(), text.end());
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

const char* const kKeyTypes[] = {"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                                 "ecdsa-sha2-nistp521", "ssh-rsa"};

constexpr std::string_view kBeginLine = "-----BEGIN OPENSSH PRIVATE KEY-----";
constexpr std::string_view kEndLine = "-----END OPENSSH PRIVATE KEY-----";

SecureBytes unarmor(const std::string& text) {
  const std::size_t begin = text.find(kBeginLine) + kBeginLine.size();
  return Botan::base64_decode(text.substr(begin, text.find(kEndLine) - begin));
}

std::string armor(ByteView binary) {
  const std::string encoded = Botan::base64_encode(binary.data(), binary.size());
  std::string text(kBeginLine);
  text += '\n';
  for (std::size_t pos = 0; pos < encoded.size(); pos += 70) text += encoded.substr(pos, 70) + '\n';
  return text + std::string(kEndLine) + "\n";
}

// The file with its cipher and KDF names replaced (the rest kept).
std::string with_names(const std::string& text, std::string_view cipher, std::string_view kdf) {
  const SecureBytes binary = unarmor(text);
  wire::Reader reader(binary);
  const ByteView magic = reader.raw(15);
  reader.string();
  reader.string();
  const ByteView rest = reader.rest();
  Bytes rebuilt;
  wire::Writer writer(rebuilt);
  writer.raw(magic);
  writer.string(cipher);
  writer.string(kdf);
  writer.raw(rest);
  return armor(rebuilt);
}

// The file with the bcrypt KDF's rounds replaced (salt and the rest kept).
std::string with_kdf_rounds(const std::string& text, std::uint32_t rounds) {
  const SecureBytes binary = unarmor(text);
  wire::Reader reader(binary);
  const ByteView magic = reader.raw(15);
  const std::string_view cipher = reader.text();
  const std::string_view kdf = reader.text();
  wire::Reader options(reader.string());
  const ByteView salt = options.string();
  const ByteView rest = reader.rest();
  Bytes kdf_options;
  wire::Writer options_writer(kdf_options);
  options_writer.string(salt);
  options_writer.u32(rounds);
  Bytes rebuilt;
  wire::Writer writer(rebuilt);
  writer.raw(magic);
  writer.string(cipher);
  writer.string(kdf);
  writer.string(kdf_options);
  writer.raw(rest);
  return armor(rebuilt);
}

class KeyFormatsSshKeygenVectors : public testing::TestWithParam<SshKeygenVector> {};

TEST_P(KeyFormatsSshKeygenVectors, DecryptToTheKeyOfThePubFile) {
  const SshKeygenVector& vector = GetParam();
  auto expected = PublicKey::from_openssh_line(vector.public_line);
  ASSERT_TRUE(expected.ok()) << expected.error().message;
  const bool encrypted = std::string_view(vector.passphrase).size() > 0;
  EXPECT_EQ(PrivateKey::is_encrypted(vector.private_text), encrypted);

  auto key = PrivateKey::from_file_text(vector.private_text, secret(vector.passphrase));
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->public_key(), *expected);
  // openssh-key-v1 keeps the comment inside the encrypted section.
  if (std::string_view(vector.private_text).find(kBeginLine) != std::string_view::npos) {
    EXPECT_EQ(key->comment(), std::string("vec-") + vector.label);
  }
  // The key works: a signature verifies with the .pub key.
  Botan::AutoSeeded_RNG rng;
  const std::string algorithm = expected->signature_algorithms().front();
  auto signature = key->sign(algorithm, as_bytes("data"), rng);
  ASSERT_TRUE(signature.ok());
  EXPECT_TRUE(expected->verify(algorithm, as_bytes("data"), *signature).ok());

  if (!encrypted) return;
  auto wrong = PrivateKey::from_file_text(vector.private_text, secret("not the passphrase"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().message, kIncorrectPassphrase);
  EXPECT_TRUE(is_incorrect_passphrase(wrong.error()));
  auto none = PrivateKey::from_file_text(vector.private_text);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().message, kPassphraseRequired);
}

std::string vector_name(const testing::TestParamInfo<SshKeygenVector>& info) {
  std::string name;
  for (const char* c = info.param.label; *c != '\0'; ++c) {
    name += std::isalnum(static_cast<unsigned char>(*c)) ? *c : '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(KeyFormats, KeyFormatsSshKeygenVectors,
                         testing::ValuesIn(kSshKeygenVectors), vector_name);

class KeyFormatsEncrypted : public testing::TestWithParam<const char*> {
 protected:
  Botan::AutoSeeded_RNG rng_;
};

TEST_P(KeyFormatsEncrypted, RoundTripWithPassphraseAsSshKeygenWrites) {
  auto key = PrivateKey::generate(GetParam(), 2048, rng_);
  ASSERT_TRUE(key.ok()) << key.error().message;
  const std::string text = key->to_openssh("me@here", rng_, secret("s3cret"), 4);
  ASSERT_FALSE(text.empty());
  EXPECT_TRUE(PrivateKey::is_encrypted(text));
  const SecureBytes binary = unarmor(text);
  wire::Reader reader(binary);
  reader.raw(15);
  EXPECT_EQ(reader.text(), "aes256-ctr");
  EXPECT_EQ(reader.text(), "bcrypt");
  wire::Reader options(reader.string());
  EXPECT_EQ(options.string().size(), 16U);  // salt
  EXPECT_EQ(options.u32(), 4U);             // rounds
  EXPECT_TRUE(options.finished());

  auto read = PrivateKey::from_file_text(text, secret("s3cret"));
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->public_key(), key->public_key());
  EXPECT_EQ(read->comment(), "me@here");
  // The public half (not the comment) is readable without the passphrase.
  auto public_only = PrivateKey::public_key_from_file_text(text);
  ASSERT_TRUE(public_only.ok()) << public_only.error().message;
  EXPECT_EQ(public_only->key, key->public_key());

  auto wrong = PrivateKey::from_file_text(text, secret("s3cre7"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().message, kIncorrectPassphrase);

  // An empty passphrase writes an unencrypted file, as ssh-keygen -N ''.
  const std::string plain = key->to_openssh("c", rng_, SecureBytes{});
  EXPECT_FALSE(PrivateKey::is_encrypted(plain));
  EXPECT_TRUE(PrivateKey::from_file_text(plain).ok());
}

INSTANTIATE_TEST_SUITE_P(KeyFormats, KeyFormatsEncrypted, testing::ValuesIn(kKeyTypes),
                         [](const testing::TestParamInfo<const char*>& param_info) {
                           std::string name = param_info.param;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

TEST(KeyFormatsErrors, UnsupportedCipherAndKdfAreNamed) {
  Botan::AutoSeeded_RNG rng;
  auto key = PrivateKey::generate("ssh-ed25519", 0, rng);
  ASSERT_TRUE(key.ok());
  const std::string text = key->to_openssh("", rng, secret("pw"), 2);

  auto cipher = PrivateKey::from_file_text(with_names(text, "3des-cbc", "bcrypt"), secret("pw"));
  ASSERT_FALSE(cipher.ok());
  EXPECT_EQ(cipher.error().message, "unsupported cipher \"3des-cbc\" in private key");

  auto kdf = PrivateKey::from_file_text(with_names(text, "aes256-ctr", "scrypt"), secret("pw"));
  ASSERT_FALSE(kdf.ok());
  EXPECT_EQ(kdf.error().message, "unsupported KDF \"scrypt\" in private key");

  auto mixed = PrivateKey::from_file_text(with_names(text, "none", "bcrypt"), secret("pw"));
  ASSERT_FALSE(mixed.ok());
  EXPECT_TRUE(contains(mixed.error().message, "corrupted")) << mixed.error().message;
}

// A file may ask for limits::kMaxKdfRounds bcrypt-pbkdf rounds; one more is
// refused before any KDF work. (Decrypting at the limit takes minutes, so
// the file at the limit is read as far as the passphrase only.)
TEST(KeyFormatsErrors, KdfRoundsLimitAtAndPast) {
  Botan::AutoSeeded_RNG rng;
  auto key = PrivateKey::generate("ssh-ed25519", 0, rng);
  ASSERT_TRUE(key.ok()) << key.error().message;
  const std::string text = key->to_openssh("c", rng, secret("s3cret"), 2);

  const std::string at_limit = with_kdf_rounds(text, limits::kMaxKdfRounds);
  auto public_half = PrivateKey::public_key_from_file_text(at_limit);
  ASSERT_TRUE(public_half.ok()) << public_half.error().message;
  EXPECT_EQ(public_half->key, key->public_key());
  auto without_passphrase = PrivateKey::from_file_text(at_limit);
  ASSERT_FALSE(without_passphrase.ok());
  EXPECT_EQ(without_passphrase.error().message, kPassphraseRequired);

  const std::string past = with_kdf_rounds(text, limits::kMaxKdfRounds + 1);
  auto past_public_half = PrivateKey::public_key_from_file_text(past);
  ASSERT_FALSE(past_public_half.ok());
  EXPECT_TRUE(contains(past_public_half.error().message, "KDF rounds"))
      << past_public_half.error().message;
  auto past_key = PrivateKey::from_file_text(past, secret("s3cret"));
  ASSERT_FALSE(past_key.ok());
  EXPECT_TRUE(contains(past_key.error().message, "KDF rounds")) << past_key.error().message;
}

TEST(KeyFormatsErrors, TruncatedEncryptedFilesAreErrorsNeverCrashes) {
  Botan::AutoSeeded_RNG rng;
  auto key = PrivateKey::generate("ecdsa-sha2-nistp256", 0, rng);
  ASSERT_TRUE(key.ok());
  const SecureBytes binary = unarmor(key->to_openssh("c", rng, secret("pw"), 1));
  for (std::size_t length = 0; length < binary.size(); length += 3) {
    auto read = PrivateKey::from_file_text(armor(ByteView(binary).first(length)), secret("pw"));
    ASSERT_FALSE(read.ok()) << length;
    EXPECT_TRUE(contains(read.error().message, "truncated") ||
                contains(read.error().message, "corrupted") ||
                contains(read.error().message, "magic"))
        << length << ": " << read.error().message;
  }
  auto cut = PrivateKey::from_file_text(armor(ByteView(binary).first(binary.size() - 1)));
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().message, "truncated OpenSSH private key");
}

TEST(KeyFormatsErrors, CorruptedCiphertextReadsAsAWrongPassphraseOrDamage) {
  Botan::AutoSeeded_RNG rng;
  auto key = PrivateKey::generate("ssh-ed25519", 0, rng);
  ASSERT_TRUE(key.ok());
  SecureBytes binary = unarmor(key->to_openssh("comment", rng, secret("pw"), 1));
  // Flip a bit in the first check-int, at the start of the encrypted section.
  wire::Reader reader(binary);
  reader.raw(15);
  for (int field = 0; field < 3; ++field) reader.string();  // cipher, KDF, KDF options
  reader.u32();
  reader.string();  // public key
  reader.u32();     // section length
  binary[binary.size() - reader.remaining()] ^= 0x01;
  auto read = PrivateKey::from_file_text(armor(binary), secret("pw"));
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().message, kIncorrectPassphrase);
}

TEST(KeyFormatsErrors, WrongKindsOfFile) {
  Botan::AutoSeeded_RNG rng;
  auto key = PrivateKey::generate("ssh-ed25519", 0, rng);
  ASSERT_TRUE(key.ok());
  auto public_line = PrivateKey::from_file_text(key->public_key().to_openssh_line("x"));
  ASSERT_FALSE(public_line.ok());
  EXPECT_EQ(public_line.error().message, "not a private key (no \"-----BEGIN\" line)");

  auto dsa = PrivateKey::from_file_text(
      "-----BEGIN DSA PRIVATE KEY-----\nMAA=\n-----END DSA PRIVATE KEY-----\n");
  ASSERT_FALSE(dsa.ok());
  EXPECT_EQ(dsa.error().message, "unsupported private key format \"DSA PRIVATE KEY\"");

  auto garbage_rsa = PrivateKey::from_file_text(
      "-----BEGIN RSA PRIVATE KEY-----\nMAA=\n-----END RSA PRIVATE KEY-----\n");
  ASSERT_FALSE(garbage_rsa.ok());
  EXPECT_TRUE(contains(garbage_rsa.error().message, "corrupted")) << garbage_rsa.error().message;

  auto unterminated = PrivateKey::from_file_text("-----BEGIN EC PRIVATE KEY-----\nMAA=\n");
  ASSERT_FALSE(unterminated.ok());
  EXPECT_TRUE(contains(unterminated.error().message, "truncated"));

  auto not_public = parse_public_key_text(key->to_openssh("", rng));
  EXPECT_FALSE(not_public.ok());
}

TEST(KeyFormatsFiles, ErrorsNameTheFile) {
  TempDir dir;
  Botan::AutoSeeded_RNG rng;
  auto key = PrivateKey::generate("ssh-ed25519", 0, rng);
  ASSERT_TRUE(key.ok());
  const fs::path path = dir.path() / "id_test";
  std::ofstream(path, std::ios::binary) << key->to_openssh("file key", rng, secret("pw"), 1);

  auto good = load_private_key_file(path, [] { return std::optional<SecureBytes>(secret("pw")); });
  ASSERT_TRUE(good.ok()) << good.error().message;
  EXPECT_EQ(good->comment(), "file key");

  int asked = 0;
  auto wrong = load_private_key_file(path, [&asked] {
    ++asked;
    return std::optional<SecureBytes>(secret("nope"));
  });
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().message, path.string() + ": incorrect passphrase");
  EXPECT_EQ(asked, 1);

  auto unasked = load_private_key_file(path, [] { return std::optional<SecureBytes>(); });
  ASSERT_FALSE(unasked.ok());
  EXPECT_EQ(unasked.error().message, path.string() + ": passphrase required");

  auto missing = load_private_key_file(dir.path() / "missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(contains(missing.error().message, (dir.path() / "missing").string()));

  // The public half of the encrypted file, without asking.
  auto public_half = load_public_key_file(path);
  ASSERT_TRUE(public_half.ok()) << public_half.error().message;
  EXPECT_EQ(public_half->key, key->public_key());

  const fs::path broken = dir.path() / "broken.pub";
  std::ofstream(broken, std::ios::binary) << "ssh-ed25519 AAAA!!!!\n";
  auto bad_public = load_public_key_file(broken);
  ASSERT_FALSE(bad_public.ok());
  EXPECT_EQ(bad_public.error().message, broken.string() + ": public key line has invalid base64");
}

TEST(KeyFormatsRfc4716, WritesAndReadsWithCommentAndContinuationLines) {
  Botan::AutoSeeded_RNG rng;
  auto key = PrivateKey::generate("ssh-rsa", 2048, rng);
  ASSERT_TRUE(key.ok());
  // Long enough for two continuation lines, with spaces where lines split.
  std::string long_comment;
  for (int i = 0; i < 40; ++i) long_comment += "w" + std::to_string(i % 10) + " ";
  long_comment.pop_back();
  const std::string text = key->public_key().to_rfc4716(long_comment);
  EXPECT_EQ(text.rfind("---- BEGIN SSH2 PUBLIC KEY ----\nComment: \"", 0), 0U) << text;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    EXPECT_LE(end - start, 72U) << text.substr(start, end - start);
    start = end + 1;
  }
  auto read = parse_public_key_text(text);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->key, key->public_key());
  EXPECT_EQ(read->comment, long_comment);

  // Other headers (with continuation lines) are skipped; the comment may be unquoted.
  const std::string body = text.substr(text.find('\n', text.rfind("\\\n") + 2) + 1);
  const std::string other =
      "---- BEGIN SSH2 PUBLIC KEY ----\r\nx-Tag: one \\\r\ntwo: three\r\nComment: plain\r\n" + body;
  auto read_other = parse_public_key_text(other);
  ASSERT_TRUE(read_other.ok()) << read_other.error().message;
  EXPECT_EQ(read_other->key, key->public_key());
  EXPECT_EQ(read_other->comment, "plain");

  auto cut = parse_public_key_text(text.substr(0, text.size() - 10));
  ASSERT_FALSE(cut.ok());
  EXPECT_TRUE(contains(cut.error().message, "truncated"));
}

TEST(KeyFormatsPublicKey, OpenSshLineCommentBitsAndNames) {
  Botan::AutoSeeded_RNG rng;
  struct Expectation {
    const char* type;
    std::size_t bits;
    const char* name;
  };
  for (const Expectation& e :
       {Expectation{"ssh-ed25519", 256, "ED25519"},
        Expectation{"ecdsa-sha2-nistp256", 256, "ECDSA"},
        Expectation{"ecdsa-sha2-nistp384", 384, "ECDSA"},
        Expectation{"ecdsa-sha2-nistp521", 521, "ECDSA"}, Expectation{"ssh-rsa", 2048, "RSA"}}) {
    auto key = PrivateKey::generate(e.type, 2048, rng);
    ASSERT_TRUE(key.ok());
    EXPECT_EQ(key->public_key().bits(), e.bits) << e.type;
    EXPECT_EQ(key->public_key().short_type_name(), e.name);
    auto read = parse_public_key_text("# a comment line\n\n" +
                                      key->public_key().to_openssh_line("two words") + "\n");
    ASSERT_TRUE(read.ok()) << read.error().message;
    EXPECT_EQ(read->key, key->public_key());
    EXPECT_EQ(read->comment, "two words");
  }
  EXPECT_FALSE(parse_public_key_text("\n# nothing\n").ok());
}

}  // namespace
}  // namespace ssh::keys
