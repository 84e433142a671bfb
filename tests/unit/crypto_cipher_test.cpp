// Tests of the packet ciphers in ssh/crypto/cipher.hpp.
//
// Known answers come from outside this code base wherever possible:
//  - chacha20-poly1305@openssh.com: the worked example of
//    draft-ietf-sshm-chacha20-poly1305 (Appendix A), plus RFC 8439 vectors
//    for the ChaCha20 (64-bit nonce layout) and Poly1305 primitives;
//  - AES-GCM: McGrew-Viega test cases 3 and 15 (the ciphertext does not
//    depend on the additional data, so it can be checked through the packet
//    interface) and 4 (raw Botan GCM), and multi-packet vectors computed with
//    OpenSSL (Python's cryptography package) that cover the invocation counter
//    wrapping;
//  - AES-CTR: NIST SP 800-38A F.5.1/3/5 through the encrypt-and-MAC sealer;
//  - HMAC-SHA2: RFC 4231 test cases 2 and 7 through the encrypt-and-MAC MAC;
//  - encrypt-then-MAC and encrypt-and-MAC packets computed with OpenSSL.
// Then every cipher x MAC pair is exercised for round trips and tampering.
#include <botan/aead.h>
#include <botan/hash.h>
#include <botan/hex.h>
#include <botan/mac.h>
#include <botan/stream_cipher.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "ssh/crypto/cipher.hpp"
#include "ssh/wire/writer.hpp"

namespace ssh::crypto {
namespace {

Bytes from_hex(std::string_view hex) {
  const auto decoded = Botan::hex_decode(std::string(hex));
  return Bytes(decoded.begin(), decoded.end());
}

SecureBytes secure_from_hex(std::string_view hex) {
  return Botan::hex_decode_locked(std::string(hex));
}

std::string to_hex(ByteView bytes) {
  return Botan::hex_encode(bytes.data(), bytes.size(), false);
}

// count bytes start, start+1, ... (mod 256), as the offline vector generator
// made them.
SecureBytes counting_bytes(std::size_t count, std::uint8_t start) {
  SecureBytes bytes(count);
  for (std::size_t i = 0; i < count; ++i) bytes[i] = static_cast<std::uint8_t>(start + i);
  return bytes;
}

// The packets of the offline-computed vectors: the length field, then body
// byte j = (13 * j + index) mod 256, except body[0] (padding_length) = 4.
Bytes indexed_packet(std::size_t body_size, int index) {
  Bytes packet;
  wire::Writer(packet).u32(static_cast<std::uint32_t>(body_size));
  for (std::size_t j = 0; j < body_size; ++j) {
    packet.push_back(static_cast<std::uint8_t>(13 * j + static_cast<std::size_t>(index)));
  }
  packet[4] = 4;
  return packet;
}

std::uint32_t read_length(ByteView packet) {
  return (std::uint32_t{packet[0]} << 24) | (std::uint32_t{packet[1]} << 16) |
         (std::uint32_t{packet[2]} << 8) | std::uint32_t{packet[3]};
}

// A well-formed packet for this sealer: padding of at least 4 bytes that
// aligns the region the sealer says must be aligned.
Bytes build_packet(const PacketSealer& sealer, ByteView payload, std::uint8_t padding_byte) {
  const std::size_t block = std::max<std::size_t>(sealer.block_size(), 8);
  const std::size_t unpadded = 1 + payload.size() + (sealer.length_outside_alignment() ? 0 : 4);
  std::size_t padding = block - unpadded % block;
  if (padding < 4) padding += block;
  Bytes packet;
  wire::Writer writer(packet);
  writer.u32(static_cast<std::uint32_t>(1 + payload.size() + padding));
  writer.u8(static_cast<std::uint8_t>(padding));
  writer.raw(payload);
  packet.insert(packet.end(), padding, padding_byte);
  return packet;
}

Bytes payload_of_size(std::size_t size, std::uint32_t seed) {
  Bytes payload(size);
  std::uint32_t state = seed * 2654435761u + 1;
  for (auto& byte : payload) {
    state = state * 1664525u + 1013904223u;
    byte = static_cast<std::uint8_t>(state >> 24);
  }
  return payload;
}

struct Sealed {
  Bytes packet;
  Bytes tag;
};

Sealed seal(PacketSealer& sealer, std::uint32_t sequence, Bytes plaintext) {
  Sealed sealed{std::move(plaintext), Bytes(sealer.tag_size())};
  sealer.seal(sequence, sealed.packet, sealed.tag);
  return sealed;
}

// What the transport does: learn the length from the prefix, then open the
// whole packet in the same buffer. Returns whether open() accepted it.
bool receive(PacketOpener& opener, std::uint32_t sequence, Sealed& sealed,
             std::uint32_t* length_seen = nullptr) {
  const std::size_t prefix = opener.length_prefix_size();
  if (sealed.packet.size() < prefix) return false;
  const std::uint32_t length =
      opener.decrypt_length(sequence, MutableByteView(sealed.packet).first(prefix));
  if (length_seen != nullptr) *length_seen = length;
  return opener.open(sequence, sealed.packet, sealed.tag);
}

DirectionKeys keys_for(std::string_view cipher, std::string_view mac, std::uint8_t seed) {
  const auto sizes = key_sizes(cipher, mac);
  EXPECT_TRUE(sizes.has_value()) << cipher << " " << mac;
  DirectionKeys keys;
  if (!sizes) return keys;
  keys.iv = counting_bytes(sizes->iv, seed);
  keys.cipher_key = counting_bytes(sizes->cipher_key, static_cast<std::uint8_t>(seed + 0x40));
  keys.mac_key = counting_bytes(sizes->mac_key, static_cast<std::uint8_t>(seed + 0x80));
  return keys;
}

// ---------------------------------------------------------------------------
// Names and key sizes

TEST(CipherNames, ListsWhatIsImplemented) {
  const std::vector<std::string> expected_ciphers = {"chacha20-poly1305@openssh.com",
                                                     "aes128-gcm@openssh.com",
                                                     "aes256-gcm@openssh.com",
                                                     "aes128-ctr",
                                                     "aes192-ctr",
                                                     "aes256-ctr"};
  for (const auto& name : expected_ciphers) {
    EXPECT_NE(std::find(supported_ciphers().begin(), supported_ciphers().end(), name),
              supported_ciphers().end())
        << name;
  }
  EXPECT_EQ(supported_ciphers().size(), expected_ciphers.size());
  const std::vector<std::string> expected_macs = {"hmac-sha2-256", "hmac-sha2-512",
                                                  "hmac-sha2-256-etm@openssh.com",
                                                  "hmac-sha2-512-etm@openssh.com"};
  for (const auto& name : expected_macs) {
    EXPECT_NE(std::find(supported_macs().begin(), supported_macs().end(), name),
              supported_macs().end())
        << name;
  }
  EXPECT_EQ(supported_macs().size(), expected_macs.size());
}

TEST(CipherNames, AeadCiphers) {
  EXPECT_TRUE(is_aead_cipher("chacha20-poly1305@openssh.com"));
  EXPECT_TRUE(is_aead_cipher("aes128-gcm@openssh.com"));
  EXPECT_TRUE(is_aead_cipher("aes256-gcm@openssh.com"));
  EXPECT_FALSE(is_aead_cipher("aes128-ctr"));
  EXPECT_FALSE(is_aead_cipher("aes256-ctr"));
  EXPECT_FALSE(is_aead_cipher("none"));
  EXPECT_FALSE(is_aead_cipher("3des-cbc"));
}

TEST(CipherNames, KeySizes) {
  auto chacha = key_sizes("chacha20-poly1305@openssh.com", "anything");
  ASSERT_TRUE(chacha);
  EXPECT_EQ(chacha->cipher_key, 64u);
  EXPECT_EQ(chacha->iv, 0u);
  EXPECT_EQ(chacha->mac_key, 0u);
  EXPECT_TRUE(chacha->aead);

  auto gcm128 = key_sizes("aes128-gcm@openssh.com", "");
  ASSERT_TRUE(gcm128);
  EXPECT_EQ(gcm128->cipher_key, 16u);
  EXPECT_EQ(gcm128->iv, 12u);
  EXPECT_EQ(gcm128->mac_key, 0u);
  EXPECT_TRUE(gcm128->aead);
  EXPECT_EQ(key_sizes("aes256-gcm@openssh.com", "hmac-sha2-256")->cipher_key, 32u);

  auto ctr192 = key_sizes("aes192-ctr", "hmac-sha2-512");
  ASSERT_TRUE(ctr192);
  EXPECT_EQ(ctr192->cipher_key, 24u);
  EXPECT_EQ(ctr192->iv, 16u);
  EXPECT_EQ(ctr192->mac_key, 64u);
  EXPECT_FALSE(ctr192->aead);
  EXPECT_EQ(key_sizes("aes128-ctr", "hmac-sha2-256-etm@openssh.com")->mac_key, 32u);
  EXPECT_EQ(key_sizes("aes256-ctr", "hmac-sha2-512-etm@openssh.com")->cipher_key, 32u);

  EXPECT_FALSE(key_sizes("aes128-ctr", "hmac-md5"));
  EXPECT_FALSE(key_sizes("aes128-ctr", ""));
  EXPECT_FALSE(key_sizes("blowfish-cbc", "hmac-sha2-256"));
  EXPECT_FALSE(key_sizes("none", "none"));
}

TEST(CipherNames, FactoriesRefuseUnknownNamesAndWrongKeys) {
  const DirectionKeys ctr_keys = keys_for("aes128-ctr", "hmac-sha2-256", 1);
  EXPECT_EQ(make_sealer("aes128-cbc", "hmac-sha2-256", ctr_keys), nullptr);
  EXPECT_EQ(make_opener("aes128-ctr", "hmac-sha1", ctr_keys), nullptr);
  EXPECT_NE(make_sealer("aes128-ctr", "hmac-sha2-256", ctr_keys), nullptr);
  // aes128 keys are too short for aes256, and the MAC key for SHA-512.
  EXPECT_EQ(make_sealer("aes256-ctr", "hmac-sha2-256", ctr_keys), nullptr);
  EXPECT_EQ(make_opener("aes128-ctr", "hmac-sha2-512", ctr_keys), nullptr);

  DirectionKeys short_iv = ctr_keys;
  short_iv.iv.resize(12);
  EXPECT_EQ(make_sealer("aes128-ctr", "hmac-sha2-256", short_iv), nullptr);

  DirectionKeys chacha_keys = keys_for("chacha20-poly1305@openssh.com", "", 2);
  EXPECT_NE(make_opener("chacha20-poly1305@openssh.com", "", chacha_keys), nullptr);
  chacha_keys.cipher_key.resize(32);
  EXPECT_EQ(make_opener("chacha20-poly1305@openssh.com", "", chacha_keys), nullptr);

  DirectionKeys gcm_keys = keys_for("aes256-gcm@openssh.com", "", 3);
  EXPECT_NE(make_sealer("aes256-gcm@openssh.com", "", gcm_keys), nullptr);
  EXPECT_EQ(make_sealer("aes128-gcm@openssh.com", "", gcm_keys), nullptr);
  gcm_keys.iv.resize(16);
  EXPECT_EQ(make_sealer("aes256-gcm@openssh.com", "", gcm_keys), nullptr);
}

TEST(CipherNames, CpuHasAesDoesNotThrow) {
  // The answer depends on the machine; it must just be callable.
  (void)cpu_has_aes();
  SUCCEED();
}

// ---------------------------------------------------------------------------
// "none"

TEST(PlainCipher, PassesPacketsThroughUnchanged) {
  auto sealer = make_plain_sealer();
  auto opener = make_plain_opener();
  EXPECT_EQ(sealer->block_size(), 8u);
  EXPECT_EQ(opener->block_size(), 8u);
  EXPECT_FALSE(sealer->length_outside_alignment());
  EXPECT_FALSE(opener->length_outside_alignment());
  EXPECT_EQ(sealer->tag_size(), 0u);
  EXPECT_EQ(opener->tag_size(), 0u);
  EXPECT_EQ(opener->length_prefix_size(), 4u);

  const Bytes plaintext = build_packet(*sealer, payload_of_size(21, 1), 0);
  EXPECT_EQ(plaintext.size() % 8, 0u);
  Sealed sealed = seal(*sealer, 0, plaintext);
  EXPECT_EQ(sealed.packet, plaintext);
  std::uint32_t length = 0;
  EXPECT_TRUE(receive(*opener, 0, sealed, &length));
  EXPECT_EQ(length, plaintext.size() - 4);
  EXPECT_EQ(sealed.packet, plaintext);
}

// ---------------------------------------------------------------------------
// chacha20-poly1305@openssh.com

constexpr std::string_view kChaCha = "chacha20-poly1305@openssh.com";

// RFC 8439 A.1 test vector #5: a zero key, 96-bit nonce 00..00 02 and counter
// 0. In the 64-bit-nonce layout OpenSSH uses, the same state is the nonce
// 00 00 00 00 00 00 00 02, i.e. sequence number 2 in big-endian.
TEST(ChaCha20Poly1305Cipher, Rfc8439ChaChaBlockWithSequenceNonce) {
  auto chacha = Botan::StreamCipher::create_or_throw("ChaCha(20)");
  const SecureBytes key(32, 0);
  chacha->set_key(key);
  const Bytes nonce = from_hex("0000000000000002");
  chacha->set_iv(nonce.data(), nonce.size());
  Bytes keystream(64);
  chacha->write_keystream(keystream.data(), keystream.size());
  EXPECT_EQ(to_hex(keystream),
            "c2c64d378cd536374ae204b9ef933fcd1a8b2288b3dfa49672ab765b54ee27c7"
            "8a970e0e955c14f3a88e741b97c286f75f8fc299e8148362fa198a39531bed6d");
}

// RFC 8439 section 2.5.2.
TEST(ChaCha20Poly1305Cipher, Rfc8439Poly1305) {
  auto poly1305 = Botan::MessageAuthenticationCode::create_or_throw("Poly1305");
  poly1305->set_key(
      secure_from_hex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b"));
  poly1305->update(std::string("Cryptographic Forum Research Group"));
  const auto tag = poly1305->final();
  EXPECT_EQ(to_hex(tag), "a8061dc1305136c6c22b8baf0c0127a9");
}

// draft-ietf-sshm-chacha20-poly1305, Appendix A: a packet sealed by the
// construction OpenSSH implements (checked independently against OpenSSL).
struct ChaChaWorkedExample {
  SecureBytes key = secure_from_hex(
      "8bbff6855fc102338c373e73aac0c914f076a905b2444a32eecaffeae22becc5"
      "e9b7a7a5825a8249346ec1c28301cf394543fc7569887d76e168f37562ac0740");
  std::uint32_t sequence = 7;
  Bytes plaintext = from_hex(
      "00000048065e00000000000000384c6f72656d20697073756d20646f6c6f7220"
      "73697420616d65742c20636f6e7365637465747572206164697069736963696e"
      "6720656c69744e43e804dc6c");
  std::string ciphertext =
      "2c3ecce4"
      "a5bc05895bf07a7ba956b6c68829ac7c83b780b7000ecde745afc705bbc378ce"
      "03a280236b87b53bed5839662302b164b6286a48cd1e097138e3cb909b8b2b82"
      "9dd18d2a35ff82d9";
  std::string tag = "95349e855bf02c298ef775f2d1a7e8b8";
};

TEST(ChaCha20Poly1305Cipher, SealsDraftWorkedExample) {
  const ChaChaWorkedExample example;
  ASSERT_EQ(example.plaintext.size(), 4u + 0x48);
  DirectionKeys keys;
  keys.cipher_key = example.key;
  auto sealer = make_sealer(kChaCha, "", keys);
  ASSERT_NE(sealer, nullptr);
  EXPECT_EQ(sealer->block_size(), 8u);
  EXPECT_TRUE(sealer->length_outside_alignment());
  EXPECT_EQ(sealer->tag_size(), 16u);

  Sealed sealed = seal(*sealer, example.sequence, example.plaintext);
  EXPECT_EQ(to_hex(sealed.packet), example.ciphertext);
  EXPECT_EQ(to_hex(sealed.tag), example.tag);
}

TEST(ChaCha20Poly1305Cipher, OpensDraftWorkedExampleLeavingPrefixAlone) {
  const ChaChaWorkedExample example;
  DirectionKeys keys;
  keys.cipher_key = example.key;
  auto opener = make_opener(kChaCha, "", keys);
  ASSERT_NE(opener, nullptr);
  EXPECT_EQ(opener->length_prefix_size(), 4u);

  Bytes packet = from_hex(example.ciphertext);
  const Bytes tag = from_hex(example.tag);
  EXPECT_EQ(opener->decrypt_length(example.sequence, MutableByteView(packet).first(4)), 0x48u);
  // The tag covers the encrypted length, so the prefix must stay as received.
  EXPECT_EQ(to_hex(packet), example.ciphertext);
  ASSERT_TRUE(opener->open(example.sequence, packet, tag));
  EXPECT_EQ(packet, example.plaintext);
}

// The construction written out again, step by step from the specification,
// with Botan's raw primitives: a second opinion for arbitrary sizes and
// sequence numbers.
Sealed reference_chacha_seal(const SecureBytes& key, std::uint32_t sequence, Bytes packet) {
  std::uint8_t nonce[8] = {0,
                           0,
                           0,
                           0,
                           static_cast<std::uint8_t>(sequence >> 24),
                           static_cast<std::uint8_t>(sequence >> 16),
                           static_cast<std::uint8_t>(sequence >> 8),
                           static_cast<std::uint8_t>(sequence)};
  auto length_cipher = Botan::StreamCipher::create_or_throw("ChaCha(20)");
  length_cipher->set_key(key.data() + 32, 32);
  length_cipher->set_iv(nonce, 8);
  length_cipher->cipher1(packet.data(), 4);

  auto main_cipher = Botan::StreamCipher::create_or_throw("ChaCha(20)");
  main_cipher->set_key(key.data(), 32);
  main_cipher->set_iv(nonce, 8);
  std::uint8_t block0[64] = {};
  main_cipher->cipher1(block0, sizeof(block0));  // counter 0; leaves it at 1
  main_cipher->cipher1(packet.data() + 4, packet.size() - 4);

  auto poly1305 = Botan::MessageAuthenticationCode::create_or_throw("Poly1305");
  poly1305->set_key(block0, 32);
  poly1305->update(packet.data(), packet.size());
  const auto tag = poly1305->final();
  return Sealed{std::move(packet), Bytes(tag.begin(), tag.end())};
}

TEST(ChaCha20Poly1305Cipher, MatchesReferenceComputation) {
  const DirectionKeys keys = keys_for(kChaCha, "", 9);
  auto sealer = make_sealer(kChaCha, "", keys);
  ASSERT_NE(sealer, nullptr);
  std::uint32_t sequence = 0xfffffff0u;  // crosses the 32-bit wrap
  for (std::size_t payload_size : {0u, 1u, 27u, 59u, 60u, 123u, 1000u, 4096u, 35000u}) {
    const Bytes plaintext = build_packet(*sealer, payload_of_size(payload_size, sequence), 0x5a);
    const Sealed expected = reference_chacha_seal(keys.cipher_key, sequence, plaintext);
    const Sealed actual = seal(*sealer, sequence, plaintext);
    EXPECT_EQ(actual.packet, expected.packet) << payload_size;
    EXPECT_EQ(actual.tag, expected.tag) << payload_size;
    sequence += 3;
  }
}

// ---------------------------------------------------------------------------
// AES-GCM

// McGrew-Viega test case 4 with Botan's GCM directly: the primitive the
// packet code relies on handles additional data as specified.
TEST(AesGcmCipher, BotanGcmMatchesMcGrewViegaTestCase4) {
  auto gcm = Botan::AEAD_Mode::create_or_throw("AES-128/GCM", Botan::ENCRYPTION);
  gcm->set_key(secure_from_hex("feffe9928665731c6d6a8f9467308308"));
  gcm->set_associated_data_vec(from_hex("feedfacedeadbeeffeedfacedeadbeefabaddad2"));
  gcm->start(from_hex("cafebabefacedbaddecaf888"));
  SecureBytes buffer = secure_from_hex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
      "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
  gcm->finish(buffer);
  EXPECT_EQ(to_hex(buffer),
            "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
            "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
            "5bc94fbc3221a5db94fae95ae7121a47");
}

// McGrew-Viega test cases 3 (AES-128) and 15 (AES-256): 64 bytes under IV
// cafebabefacedbaddecaf888. The GCM ciphertext does not depend on the
// additional data, so the packet body must encrypt to the published
// ciphertext; the tag (over the 4-byte length as AAD) is OpenSSL's.
TEST(AesGcmCipher, McGrewViegaVectorsThroughPacketInterface) {
  struct Case {
    std::string_view cipher;
    std::string_view key;
    std::string_view ciphertext;
    std::string_view tag;
  };
  const Case cases[] = {
      {"aes128-gcm@openssh.com", "feffe9928665731c6d6a8f9467308308",
       "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
       "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
       "e6114f6468325271e9b03b510a6dff85"},
      {"aes256-gcm@openssh.com", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
       "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
       "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
       "4c94d832c068679ac9246e9aa8d1987a"},
  };
  const Bytes body = from_hex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
      "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255");
  for (const Case& test : cases) {
    DirectionKeys keys;
    keys.cipher_key = secure_from_hex(test.key);
    keys.iv = secure_from_hex("cafebabefacedbaddecaf888");
    auto sealer = make_sealer(test.cipher, "hmac-sha2-256", keys);  // MAC is ignored
    auto opener = make_opener(test.cipher, "", keys);
    ASSERT_NE(sealer, nullptr);
    ASSERT_NE(opener, nullptr);
    EXPECT_EQ(sealer->block_size(), 16u);
    EXPECT_TRUE(sealer->length_outside_alignment());
    EXPECT_EQ(sealer->tag_size(), 16u);

    Bytes plaintext = from_hex("00000040");
    plaintext.insert(plaintext.end(), body.begin(), body.end());
    Sealed sealed = seal(*sealer, 0, plaintext);
    EXPECT_EQ(to_hex(ByteView(sealed.packet).first(4)), "00000040") << "length is in clear";
    EXPECT_EQ(to_hex(ByteView(sealed.packet).subspan(4)), test.ciphertext) << test.cipher;
    EXPECT_EQ(to_hex(sealed.tag), test.tag) << test.cipher;

    std::uint32_t length = 0;
    ASSERT_TRUE(receive(*opener, 0, sealed, &length));
    EXPECT_EQ(length, 0x40u);
    EXPECT_EQ(sealed.packet, plaintext);
  }
}

// Four packets from an IV whose invocation counter is two steps from
// wrapping; OpenSSH (through OpenSSL) increments only the low 64 bits, so the
// fixed field a0a1a2a3 survives the wrap. Computed with OpenSSL's AES-GCM.
TEST(AesGcmCipher, InvocationCounterAdvancesAndWrapsLikeOpenSsh) {
  struct Expected {
    std::size_t body_size;
    std::string_view ciphertext;  // for the large packet: SHA-256(ciphertext || tag)
    std::string_view tag;
  };
  struct Case {
    std::string_view cipher;
    std::size_t key_size;
    std::vector<Expected> packets;
  };
  const Case cases[] = {
      {"aes128-gcm@openssh.com",
       16,
       {{32, "e5970c8a1eeeca3ec48b17b5221ecc415f19ccf197eccfc3cd75908f2359a7b2",
         "590785070b9366a3c504e35f1d976410"},
        {16, "d43d696f6b84699dd9fe379bd7f6ade1", "47c8c406f8591ac8b104202151ac5fe3"},
        {80,
         "8e52d2b471cc643239b1aeb2ef61c365be57390e1573835845ff78c99a150afa1b579b0e7716246d98670069"
         "281cd1f79bb7d78836c222c9aaf1efe845cafa44921b3bf05ebc1352a835c59fbcb5049b",
         "a2f3ef36848cd0e361098f8e18b0dc38"},
        {1040, "0cf39647c55b529d990937b8fd37fbf3d72c4d9bd04ac8e611f05109a543e935", ""}}},
      {"aes256-gcm@openssh.com",
       32,
       {{32, "e01d16346939dc49b5647cdea7d0c00b803d78b73c495a906bac9e27293eff1b",
         "bdf1df3f8445cac16e6bec2e985cfed9"},
        {16, "a0b1d967c96d3c71732890ccb6b76dbe", "3e77be79afe4340e1c0b0f10c759b420"},
        {80,
         "18b6401f1527e5e1d34c3fa2cf71dd1e404ff1bcff5eb538597291555521c2c96d7dc161857d53118aece5ff"
         "6cc12be90b5b35f66dba7b2017d0efe7eeff205ff492a7316b79462ad186092477655f40",
         "2aaa030b55e0fa3bff75c88ab46708b9"},
        {1040, "4a542ce8c7d15d23b956895d051627dbdb82b51a5d34a1e139675a555814a68d", ""}}},
  };
  for (const Case& test : cases) {
    DirectionKeys keys;
    keys.cipher_key = counting_bytes(test.key_size, 0);
    keys.iv = secure_from_hex("a0a1a2a3fffffffffffffffe");
    auto sealer = make_sealer(test.cipher, "", keys);
    auto opener = make_opener(test.cipher, "", keys);
    ASSERT_NE(sealer, nullptr);
    ASSERT_NE(opener, nullptr);
    int index = 0;
    for (const Expected& expected : test.packets) {
      const Bytes plaintext = indexed_packet(expected.body_size, index);
      // GCM ignores the sequence number: any value must give the same result.
      Sealed sealed = seal(*sealer, 1000 + index, plaintext);
      const ByteView ciphertext = ByteView(sealed.packet).subspan(4);
      if (expected.tag.empty()) {
        auto sha256 = Botan::HashFunction::create_or_throw("SHA-256");
        sha256->update(ciphertext.data(), ciphertext.size());
        sha256->update(sealed.tag.data(), sealed.tag.size());
        EXPECT_EQ(to_hex(sha256->final()), expected.ciphertext) << test.cipher << " " << index;
      } else {
        EXPECT_EQ(to_hex(ciphertext), expected.ciphertext) << test.cipher << " " << index;
        EXPECT_EQ(to_hex(sealed.tag), expected.tag) << test.cipher << " " << index;
      }
      ASSERT_TRUE(receive(*opener, 77, sealed)) << test.cipher << " " << index;
      EXPECT_EQ(sealed.packet, plaintext);
      ++index;
    }
  }
}

// With GCM the packet order, not the sequence number, is authenticated.
TEST(AesGcmCipher, ReorderedOrReplayedPacketFails) {
  const DirectionKeys keys = keys_for("aes128-gcm@openssh.com", "", 4);
  auto sealer = make_sealer("aes128-gcm@openssh.com", "", keys);
  auto opener = make_opener("aes128-gcm@openssh.com", "", keys);
  auto replay_opener = make_opener("aes128-gcm@openssh.com", "", keys);
  const Sealed first = seal(*sealer, 0, build_packet(*sealer, payload_of_size(40, 1), 0));
  const Sealed second = seal(*sealer, 1, build_packet(*sealer, payload_of_size(40, 2), 0));

  Sealed skipped = second;
  EXPECT_FALSE(receive(*opener, 1, skipped)) << "second packet accepted first";

  Sealed copy = first;
  ASSERT_TRUE(receive(*replay_opener, 0, copy));
  copy = first;
  EXPECT_FALSE(receive(*replay_opener, 1, copy)) << "replayed packet accepted";
}

// ---------------------------------------------------------------------------
// AES-CTR and HMAC-SHA2

// NIST SP 800-38A F.5.1, F.5.3 and F.5.5 (CTR-AESxxx.Encrypt): the four
// plaintext blocks sent as two encrypt-and-MAC packets, so the expected
// ciphertext also shows the keystream running on from one packet to the
// next.
TEST(AesCtrCipher, NistSp800_38aVectorsAcrossTwoPackets) {
  struct Case {
    std::string_view cipher;
    std::string_view key;
    std::string_view ciphertext;
  };
  const Case cases[] = {
      {"aes128-ctr", "2b7e151628aed2a6abf7158809cf4f3c",
       "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
       "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee"},
      {"aes192-ctr", "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
       "1abc932417521ca24f2b0459fe7e6e0b090339ec0aa6faefd5ccc2c6f4ce8e94"
       "1e36b26bd1ebc670d1bd1d665620abf74f78a7f6d29809585a97daec58c6b050"},
      {"aes256-ctr", "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
       "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"
       "2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6"},
  };
  const Bytes plaintext = from_hex(
      "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
      "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
  for (const Case& test : cases) {
    DirectionKeys keys;
    keys.cipher_key = secure_from_hex(test.key);
    keys.iv = secure_from_hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
    keys.mac_key = counting_bytes(32, 0);
    auto sealer = make_sealer(test.cipher, "hmac-sha2-256", keys);
    ASSERT_NE(sealer, nullptr);
    Sealed first = seal(*sealer, 0, Bytes(plaintext.begin(), plaintext.begin() + 32));
    Sealed second = seal(*sealer, 1, Bytes(plaintext.begin() + 32, plaintext.end()));
    EXPECT_EQ(to_hex(first.packet) + to_hex(second.packet), test.ciphertext) << test.cipher;
  }
}

// RFC 4231 test cases 2 and 7. The encrypt-and-MAC MAC is over uint32
// sequence || plaintext packet, so the first four data bytes are sent as the
// sequence number and the rest as the packet. The sealer takes only
// digest-sized MAC keys (RFC 6668), but HMAC zero-pads a short key and hashes
// one longer than the hash block, so "Jefe" zero-padded and the hash of test
// case 7's 131-byte key are the very same HMAC keys.
TEST(AesCtrCipher, Rfc4231HmacVectorsThroughEncryptAndMac) {
  struct Case {
    std::string key;
    std::string data;
    std::string_view sha256;
    std::string_view sha512;
  };
  const Case cases[] = {
      {"Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
       "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
       "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
      {std::string(131, '\xaa'),
       "This is a test using a larger than block-size key and a larger than block-size data. "
       "The key needs to be hashed before being used by the HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
       "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
       "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58"},
  };
  struct Mac {
    std::string_view name;
    std::string_view hash;
    std::size_t digest_size;
  };
  const Mac macs[] = {{"hmac-sha2-256", "SHA-256", 32}, {"hmac-sha2-512", "SHA-512", 64}};
  for (const Case& test : cases) {
    const ByteView data = as_bytes(test.data);
    const std::uint32_t sequence = read_length(data);
    const Bytes packet(data.begin() + 4, data.end());
    for (const Mac& mac : macs) {
      DirectionKeys keys;
      keys.cipher_key = counting_bytes(16, 0);
      keys.iv = counting_bytes(16, 0x10);
      if (test.key.size() <= mac.digest_size) {
        keys.mac_key = SecureBytes(mac.digest_size, 0);
        std::copy(test.key.begin(), test.key.end(), keys.mac_key.begin());
      } else {
        auto hash = Botan::HashFunction::create_or_throw(std::string(mac.hash));
        hash->update(test.key);
        keys.mac_key = hash->final();
      }
      auto sealer = make_sealer("aes128-ctr", mac.name, keys);
      auto opener = make_opener("aes128-ctr", mac.name, keys);
      ASSERT_NE(sealer, nullptr);
      ASSERT_NE(opener, nullptr);
      Sealed sealed = seal(*sealer, sequence, packet);
      EXPECT_EQ(to_hex(sealed.tag), mac.name == "hmac-sha2-256" ? test.sha256 : test.sha512)
          << mac.name;
      ASSERT_TRUE(receive(*opener, sequence, sealed)) << mac.name;
      EXPECT_EQ(sealed.packet, packet);
    }
  }
}

// Three packets each for encrypt-then-MAC and encrypt-and-MAC, the sequence
// number wrapping from 0xfffffffe to 0; computed with OpenSSL (AES-CTR) and
// Python's hmac module.
TEST(AesCtrCipher, KnownAnswerPacketsForBothMacOrders) {
  struct Expected {
    std::string_view packet;
    std::string_view tag;
  };
  struct Case {
    std::string_view cipher;
    std::string_view mac;
    std::size_t key_size;
    std::size_t mac_key_size;
    std::vector<Expected> packets;
  };
  const Case cases[] = {
      {"aes128-ctr",
       "hmac-sha2-256-etm@openssh.com",
       16,
       32,
       {{"0000002062aaddcf00137f13ff245c88afbf1b6e625c3df7b38f22869ce821e402e59979",
         "2787638b87dafeeaaa356fef25b307b7125419d2040a50dbbdbb6a29c9a973ac"},
        {"00000030d67f897e4919a4c192f708c9d238e2b5a1068da239ad476b6e2b5078221ab00ecaaf19e0f874bc9e"
         "8d94fa22c2b4d659",
         "9177b578dd7a56b647c2ecbf8870c626b2970eecb06208f317bffd8f847dd5d3"},
        {"00000050ed3b3dd953976903c2faa1efdee4804636d9b6cc5dce35f1a1f824be16acb6ac448b111cd5683636"
         "4ce2a3a3a388f99f410a6be79990d1035eaea86eb82e11673292e0075aefa4b40d6fd6e1048f7bbd",
         "39f35308d0716ae31d4b94399105f628669dffbc14a58a6fea0df48d8d11f035"}}},
      {"aes256-ctr",
       "hmac-sha2-512-etm@openssh.com",
       32,
       64,
       {{"00000020960dd7aa17d7ce90321c64dbdc9bd5d71a8291b7f53b2aea56e2077e260e001d",
         "42bd438636d240b5bba3970f5e77d42ac00ec44c620096410434a5ca5804279d3fa350b8ddc9159f80add252"
         "10afd643fd9e4f21c8191b21b7b687d3a6d102a6"},
        {"000000309d623a73215abac411f3a38008fe454b98b628d5d3e2f80e2a5d8f949119df3017aac011ac9e151e"
         "f39b3ce95adc62f3",
         "0e9206dc5ccca2e44f993b454928e25f8b081d6b3f14d10ec2eb8e09ef91928674a914ecccae0e03071fb44a"
         "bc2073ac6a8c80a94864375f87e9cceba1eb9494"},
        {"000000500cd0fc458c4bc355198ec21a525dce7227570df24a74a86908f8914d161a0fbe5ab9fc0611499d82"
         "8be93935213c56776918d019b233745ad2b8f818ee2493ccb7282da6bff6bb3b770edf8ca349f0ff",
         "51d26d3f24e08632e99eaa0f4fc2d52f1460e83f1d6890fa2c4d513f5621c0a6a454fa8f77ce63622ae9afbe"
         "72905aa4838a888e33f7a83134f93b8146cf876a"}}},
      {"aes128-ctr",
       "hmac-sha2-256",
       16,
       32,
       {{"66a7c7f4305f2b6fa310905c5b632f222e2861c36743d65aa0bc6d9056d94db5",
         "8c06c39ebe436bbe797663ee997b64beb9ff435adc6ebdc05607a55b9dcf44bc"},
        {"d271927a7855f0b5cec3c40526e4d6e1ed72d19eed61b3bf527f1c34762664fa067b25bc8c38e8aa516036ee"
         "f6e8a20d",
         "bcb62b14d0c6843f4a5a54602afe10a400b08a90761dc9f57b44ba6bcfd57d81"},
        {"e93421bc61db25779ece75232a38bc127aade2f08902f9259dac50f242906a58885f2540a1247a029016776f"
         "97d485cb0d3ebf1b4d5c9d5722fa9ca26cd2cd537ec6945b6e236840d15b82ad70d34769",
         "f598b63f6482b0af686596301a01b801f5a413b54bc9f1aa790fdfb2382288e5"}}},
      {"aes192-ctr",
       "hmac-sha2-512",
       24,
       64,
       {{"2b82484e50ff73b78798785998902a7c47a19d4019491dc6837e96ef1384fb5b",
         "7972d32ed7cdd7bb7a1a1a4b9c5a9cb9da4370e4f6a9de6ea425972412cfa99023b81174da0eb01f32e4ba00"
         "8024e21703a295a428097e0142bc9a19430e0400"},
        {"df7a7bea46c407ce8eef12ea9bf6ce5d27e4082f669596ff73ad48dcee974f8c46952550f2810716bcfbb58e"
         "0e4621ee",
         "2772ba486e11c246b8748ee5c0c6e45f7568359de79da3f64b48d61bc23994c252c2ca72887855c6ed5828be"
         "24f9b682dae2fadafd0b02e55bba73f21b0c7e47"},
        {"fcb81f23ac9f2f6fc356ef11e9e494444d60d7b6ddc3487aaaaa01206b514120a3f9f72028b3a2841c9cabb0"
         "5f33af928ca33cc460219f9d209916992b30ab7849c78fd14d3f75f8643108369e771aa7",
         "d92fc78cfdd5816d42e03b5f4cece82aba7c77fbace83430471d9c5351893b55f9adf96e1db15d065b9e88ac"
         "660bb7630471663f61aac5c207e606f484ffa41d"}}},
  };
  for (const Case& test : cases) {
    DirectionKeys keys;
    keys.cipher_key = counting_bytes(test.key_size, 0);
    keys.iv = secure_from_hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
    keys.mac_key = counting_bytes(test.mac_key_size, 0x20);
    auto sealer = make_sealer(test.cipher, test.mac, keys);
    auto opener = make_opener(test.cipher, test.mac, keys);
    ASSERT_NE(sealer, nullptr);
    ASSERT_NE(opener, nullptr);
    std::uint32_t sequence = 0xfffffffeu;
    int index = 0;
    for (const Expected& expected : test.packets) {
      const std::size_t packet_size = expected.packet.size() / 2;
      const Bytes plaintext = indexed_packet(packet_size - 4, index);
      Sealed sealed = seal(*sealer, sequence, plaintext);
      EXPECT_EQ(to_hex(sealed.packet), expected.packet) << test.mac << " " << index;
      EXPECT_EQ(to_hex(sealed.tag), expected.tag) << test.mac << " " << index;
      std::uint32_t length = 0;
      ASSERT_TRUE(receive(*opener, sequence, sealed, &length)) << test.mac << " " << index;
      EXPECT_EQ(length, packet_size - 4);
      EXPECT_EQ(sealed.packet, plaintext);
      ++sequence;
      ++index;
    }
  }
}

TEST(AesCtrCipher, EncryptAndMacDecryptsFirstBlockInPlace) {
  const DirectionKeys keys = keys_for("aes256-ctr", "hmac-sha2-256", 5);
  auto sealer = make_sealer("aes256-ctr", "hmac-sha2-256", keys);
  auto opener = make_opener("aes256-ctr", "hmac-sha2-256", keys);
  EXPECT_EQ(opener->length_prefix_size(), 16u);
  EXPECT_FALSE(opener->length_outside_alignment());
  const Bytes plaintext = build_packet(*sealer, payload_of_size(100, 5), 0);
  Sealed sealed = seal(*sealer, 3, plaintext);
  EXPECT_EQ(opener->decrypt_length(3, MutableByteView(sealed.packet).first(16)),
            plaintext.size() - 4);
  EXPECT_TRUE(std::equal(plaintext.begin(), plaintext.begin() + 16, sealed.packet.begin()));
}

// ---------------------------------------------------------------------------
// Every cipher x MAC pair

struct Suite {
  std::string cipher;
  std::string mac;
};

std::vector<Suite> all_suites() {
  std::vector<Suite> suites;
  for (const auto& cipher : supported_ciphers()) {
    if (is_aead_cipher(cipher)) {
      suites.push_back({cipher, ""});
      continue;
    }
    for (const auto& mac : supported_macs()) suites.push_back({cipher, mac});
  }
  return suites;
}

std::string suite_name(const testing::TestParamInfo<Suite>& info) {
  std::string name = info.param.cipher;
  if (!info.param.mac.empty()) name += "_" + info.param.mac;
  std::replace_if(
      name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); },
      '_');
  return name;
}

class CipherSuite : public testing::TestWithParam<Suite> {
 protected:
  // Both ends of one direction, with a few good packets already exchanged so
  // that the packet under test is not the first one (IV counters and CTR
  // keystreams have moved on, sequence numbers are about to wrap).
  struct Channel {
    std::unique_ptr<PacketSealer> sealer;
    std::unique_ptr<PacketOpener> opener;
    std::uint32_t sequence = 0xfffffffdu;
  };

  void SetUp() override {
    keys_ = keys_for(GetParam().cipher, GetParam().mac, 0x33);
    channel_ = fresh_channel();
    ASSERT_NE(channel_.sealer, nullptr);
    ASSERT_NE(channel_.opener, nullptr);
  }

  Channel fresh_channel() const {
    return {make_sealer(GetParam().cipher, GetParam().mac, keys_),
            make_opener(GetParam().cipher, GetParam().mac, keys_)};
  }

  // Channels warmed up alike are in the same state, so one can open what
  // another sealed: tamper tests need one per attempt, as a failed open()
  // leaves an opener unusable.
  Channel warmed_up_channel() const {
    Channel channel = fresh_channel();
    for (std::uint32_t i = 0; i < 3; ++i) {
      Sealed sealed = seal(*channel.sealer, channel.sequence,
                           build_packet(*channel.sealer, payload_of_size(50, i), 0));
      EXPECT_TRUE(receive(*channel.opener, channel.sequence, sealed)) << "warm-up " << i;
      ++channel.sequence;
    }
    return channel;
  }

  bool is_gcm() const { return GetParam().cipher.find("gcm") != std::string::npos; }

  Bytes plaintext_for(const Channel& channel) const {
    return build_packet(*channel.sealer, payload_of_size(200, channel.sequence), 0x77);
  }

  DirectionKeys keys_;
  Channel channel_;
};

TEST_P(CipherSuite, SealerAndOpenerAgreeOnShape) {
  const bool aead = is_aead_cipher(GetParam().cipher);
  const bool etm = GetParam().mac.find("-etm@") != std::string::npos;
  const PacketSealer& sealer = *channel_.sealer;
  const PacketOpener& opener = *channel_.opener;
  EXPECT_EQ(sealer.block_size(), opener.block_size());
  EXPECT_EQ(sealer.tag_size(), opener.tag_size());
  EXPECT_EQ(sealer.length_outside_alignment(), opener.length_outside_alignment());
  EXPECT_EQ(opener.length_outside_alignment(), aead || etm);
  EXPECT_EQ(opener.block_size(), GetParam().cipher.rfind("aes", 0) == 0 ? 16u : 8u);
  EXPECT_EQ(opener.length_prefix_size(), (aead || etm) ? 4u : 16u);
  const bool sha512 = GetParam().mac.find("512") != std::string::npos;
  EXPECT_EQ(opener.tag_size(), aead ? 16u : sha512 ? 64u : 32u);
}

TEST_P(CipherSuite, RoundTripsManyPacketsOfManySizes) {
  std::vector<std::size_t> sizes;
  for (std::size_t size = 0; size < 300; size += 7) sizes.push_back(size);
  for (std::size_t size : {1000u, 4095u, 4096u, 16384u, 32768u, 35000u}) sizes.push_back(size);
  PacketSealer& sealer = *channel_.sealer;
  PacketOpener& opener = *channel_.opener;
  std::uint32_t& sequence = channel_.sequence;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const Bytes plaintext = build_packet(sealer, payload_of_size(sizes[i], i), 0x11);
    Sealed sealed = seal(sealer, sequence, plaintext);
    EXPECT_NE(sealed.packet, plaintext) << "packet " << i << " not encrypted";
    const bool length_in_clear =
        opener.length_outside_alignment() && GetParam().cipher.find("chacha") == std::string::npos;
    EXPECT_EQ(std::equal(plaintext.begin(), plaintext.begin() + 4, sealed.packet.begin()),
              length_in_clear)
        << "packet " << i;
    std::uint32_t length = 0;
    ASSERT_TRUE(receive(opener, sequence, sealed, &length)) << "packet " << i;
    EXPECT_EQ(length, plaintext.size() - 4) << "packet " << i;
    EXPECT_EQ(sealed.packet, plaintext) << "packet " << i;
    ++sequence;
  }
}

TEST_P(CipherSuite, DecryptLengthReturnsLengthAndOpenSucceeds) {
  PacketOpener& opener = *channel_.opener;
  const std::uint32_t sequence = channel_.sequence;
  Sealed sealed = seal(*channel_.sealer, sequence, plaintext_for(channel_));
  const Bytes before = sealed.packet;
  const std::size_t prefix = opener.length_prefix_size();
  EXPECT_EQ(opener.decrypt_length(sequence, MutableByteView(sealed.packet).first(prefix)),
            sealed.packet.size() - 4);
  if (opener.length_outside_alignment()) {
    // AEAD and EtM: the length must stay as received (it is authenticated).
    EXPECT_EQ(sealed.packet, before);
  } else {
    // Encrypt-and-MAC: the first block is decrypted in place.
    const std::uint32_t length = sealed.packet.size() - 4;
    EXPECT_EQ(sealed.packet[0], static_cast<std::uint8_t>(length >> 24));
    EXPECT_EQ(sealed.packet[3], static_cast<std::uint8_t>(length));
    EXPECT_NE(sealed.packet, before);
  }
  EXPECT_TRUE(opener.open(sequence, sealed.packet, sealed.tag));
}

TEST_P(CipherSuite, FlippedCiphertextBitFails) {
  const std::size_t size = plaintext_for(channel_).size();
  for (std::size_t position : {std::size_t{4}, std::size_t{5}, size / 2, size - 1}) {
    for (std::uint8_t bit : {0x01, 0x80}) {
      Channel channel = warmed_up_channel();
      Sealed tampered = seal(*channel.sealer, channel.sequence, plaintext_for(channel));
      tampered.packet[position] ^= bit;
      EXPECT_FALSE(receive(*channel.opener, channel.sequence, tampered))
          << "byte " << position << " bit " << int{bit};
    }
  }
}

TEST_P(CipherSuite, FlippedLengthBitFails) {
  for (std::size_t position : {std::size_t{0}, std::size_t{3}}) {
    Channel channel = warmed_up_channel();
    Sealed tampered = seal(*channel.sealer, channel.sequence, plaintext_for(channel));
    tampered.packet[position] ^= 0x08;
    std::uint32_t length = 0;
    EXPECT_FALSE(receive(*channel.opener, channel.sequence, tampered, &length))
        << "byte " << position;
    EXPECT_NE(length, tampered.packet.size() - 4) << "byte " << position;
  }
}

TEST_P(CipherSuite, FlippedTagBitFails) {
  const std::size_t tag_size = channel_.sealer->tag_size();
  for (std::size_t position : {std::size_t{0}, tag_size / 2, tag_size - 1}) {
    Channel channel = warmed_up_channel();
    Sealed tampered = seal(*channel.sealer, channel.sequence, plaintext_for(channel));
    tampered.tag[position] ^= 0x40;
    EXPECT_FALSE(receive(*channel.opener, channel.sequence, tampered)) << "tag byte " << position;
  }
}

TEST_P(CipherSuite, TruncatedOrMissingTagFails) {
  for (std::size_t cut : {std::size_t{1}, channel_.sealer->tag_size()}) {
    Channel channel = warmed_up_channel();
    Sealed sealed = seal(*channel.sealer, channel.sequence, plaintext_for(channel));
    sealed.tag.resize(sealed.tag.size() - cut);
    EXPECT_FALSE(receive(*channel.opener, channel.sequence, sealed)) << "cut " << cut;
  }
}

TEST_P(CipherSuite, WrongSequenceOrReorderedPacketFails) {
  if (is_gcm()) {
    // GCM ignores the sequence number: order is bound by its IV counter, so
    // a packet opened in another packet's place must fail.
    Channel channel = warmed_up_channel();
    Sealed first = seal(*channel.sealer, channel.sequence, plaintext_for(channel));
    Sealed second = seal(*channel.sealer, channel.sequence + 1, plaintext_for(channel));
    EXPECT_FALSE(receive(*channel.opener, channel.sequence, second));
    return;
  }
  for (std::uint32_t offset : {1u, 0x80000000u}) {
    Channel channel = warmed_up_channel();
    Sealed sealed = seal(*channel.sealer, channel.sequence, plaintext_for(channel));
    EXPECT_FALSE(receive(*channel.opener, channel.sequence + offset, sealed)) << offset;
  }
}

TEST_P(CipherSuite, OtherKeysFail) {
  const DirectionKeys other_keys = keys_for(GetParam().cipher, GetParam().mac, 0x34);
  auto other_opener = make_opener(GetParam().cipher, GetParam().mac, other_keys);
  ASSERT_NE(other_opener, nullptr);
  Sealed sealed = seal(*channel_.sealer, channel_.sequence, plaintext_for(channel_));
  EXPECT_FALSE(receive(*other_opener, channel_.sequence, sealed));
}

INSTANTIATE_TEST_SUITE_P(AllCiphers, CipherSuite, testing::ValuesIn(all_suites()), suite_name);

}  // namespace
}  // namespace ssh::crypto
