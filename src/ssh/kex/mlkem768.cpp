// ML-KEM-768 from FIPS 203. Algorithm numbers in comments refer to that document.
//
// Coefficients are kept fully reduced in [0, q) as uint16; products are reduced with a
// Barrett reduction, and every step that touches secret data (sampling, compression, the
// re-encryption compare, the choice between K and K-bar) works with arithmetic and masks
// rather than branches or table lookups indexed by secrets.

#include "ssh/kex/mlkem768.hpp"

#include <botan/mem_ops.h>
#include <botan/sha3.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>

#include "ssh/kex/kex_internal.hpp"

namespace ssh::kex::mlkem768 {
namespace {

constexpr std::size_t kN = 256;
constexpr std::uint32_t kQ = 3329;
constexpr std::size_t kK = 3;
constexpr std::size_t kEta1 = 2;
constexpr std::size_t kEta2 = 2;
constexpr unsigned kDu = 10;
constexpr unsigned kDv = 4;

constexpr std::size_t kEncodedPolySize = 384;  // ByteEncode_12 of one polynomial
constexpr std::size_t kEncodedVectorSize = kK * kEncodedPolySize;
constexpr std::size_t kCiphertextUSize = kK * kN * kDu / 8;
constexpr std::size_t kCiphertextVSize = kN * kDv / 8;
static_assert(kPublicKeySize == kEncodedVectorSize + 32);
static_assert(kSecretKeySize == 2 * kEncodedVectorSize + 3 * 32);
static_assert(kCiphertextSize == kCiphertextUSize + kCiphertextVSize);

Error kex_failed(const std::string& message) {
  return internal::kex_failed("ML-KEM-768: " + message);
}

// Keeps the optimiser from turning mask arithmetic back into a branch on secret data.
template <class T>
T value_barrier(T value) {
#if defined(__GNUC__) || defined(__clang__)
  asm("" : "+r"(value));
#endif
  return value;
}

// Clears its value when it goes out of scope; for intermediate secrets that are not bytes.
template <class T>
struct Wiped {
  T value{};
  Wiped() = default;
  Wiped(const Wiped&) = delete;
  Wiped& operator=(const Wiped&) = delete;
  ~Wiped() { Botan::secure_scrub_memory(&value, sizeof(value)); }
};

// ---------------------------------------------------------------------------------------------
// Keccak sponges (FIPS 202) on Botan's permutation: SHA3-256 (H), SHA3-512 (G), SHAKE-128 (XOF),
// SHAKE-256 (PRF and J). Written here rather than through HashFunction so that the XOF can be
// squeezed block by block and nothing is allocated per call.

class KeccakSponge {
 public:
  static constexpr std::uint8_t kSha3Padding = 0x06;
  static constexpr std::uint8_t kShakePadding = 0x1F;

  KeccakSponge(std::size_t rate_bytes, std::uint8_t domain_padding)
      : rate_(rate_bytes), padding_(domain_padding) {}
  KeccakSponge(const KeccakSponge&) = delete;
  KeccakSponge& operator=(const KeccakSponge&) = delete;
  ~KeccakSponge() { Botan::secure_scrub_memory(state_.data(), sizeof(state_)); }

  static KeccakSponge shake128() { return {168, kShakePadding}; }
  static KeccakSponge shake256() { return {136, kShakePadding}; }
  static KeccakSponge sha3_256() { return {136, kSha3Padding}; }
  static KeccakSponge sha3_512() { return {72, kSha3Padding}; }

  KeccakSponge& absorb(ByteView input) {
    for (std::uint8_t byte : input) {
      xor_byte(position_++, byte);
      if (position_ == rate_) {
        Botan::SHA_3::permute(state_.data());
        position_ = 0;
      }
    }
    return *this;
  }
  KeccakSponge& absorb(std::uint8_t byte) { return absorb(ByteView(&byte, 1)); }

  // Ends absorbing (pad10*1 with the domain bits); squeezing starts at the first output byte.
  void finish() {
    xor_byte(position_, padding_);
    xor_byte(rate_ - 1, 0x80);
    Botan::SHA_3::permute(state_.data());
    position_ = 0;
  }

  void squeeze(std::span<std::uint8_t> output) {
    for (std::uint8_t& byte : output) {
      if (position_ == rate_) {
        Botan::SHA_3::permute(state_.data());
        position_ = 0;
      }
      byte = static_cast<std::uint8_t>(state_[position_ / 8] >> (8 * (position_ % 8)));
      ++position_;
    }
  }

 private:
  void xor_byte(std::size_t index, std::uint8_t byte) {
    state_[index / 8] ^= std::uint64_t{byte} << (8 * (index % 8));
  }

  std::array<std::uint64_t, 25> state_{};
  std::size_t rate_;
  std::uint8_t padding_;
  std::size_t position_ = 0;
};

using Seed = std::array<std::uint8_t, 32>;

// H (SHA3-256) of a public value.
Seed hash_h(ByteView input) {
  Seed out;
  auto sponge = KeccakSponge::sha3_256();
  sponge.absorb(input).finish();
  sponge.squeeze(out);
  return out;
}

// G (SHA3-512) of first || second, split into its two 32-byte halves.
void hash_g(ByteView first, ByteView second, Seed& out_first, Seed& out_second) {
  auto sponge = KeccakSponge::sha3_512();
  sponge.absorb(first).absorb(second).finish();
  sponge.squeeze(out_first);
  sponge.squeeze(out_second);
}

// ---------------------------------------------------------------------------------------------
// Arithmetic modulo q.

// x mod q for x < 2q, without a branch.
std::uint16_t reduce_once(std::uint32_t x) {
  const std::uint32_t difference = x - kQ;
  const std::uint32_t wrapped_mask = 0u - (difference >> 31);
  return static_cast<std::uint16_t>(difference + (wrapped_mask & kQ));
}

// x mod q for any 32-bit x. With m = floor(2^32 / q) the quotient estimate is short by at most
// one, because x * (2^32 - m q) / (q 2^32) < 1.
constexpr std::uint64_t kBarrettMultiplier = (std::uint64_t{1} << 32) / kQ;
std::uint16_t barrett_reduce(std::uint32_t x) {
  const auto quotient = static_cast<std::uint32_t>((x * kBarrettMultiplier) >> 32);
  return reduce_once(x - quotient * kQ);
}

std::uint16_t mul_mod(std::uint32_t a, std::uint32_t b) {
  return barrett_reduce(a * b);
}
std::uint16_t add_mod(std::uint32_t a, std::uint32_t b) {
  return reduce_once(a + b);
}
std::uint16_t sub_mod(std::uint32_t a, std::uint32_t b) {
  return reduce_once(a + kQ - b);
}

constexpr std::uint32_t pow_mod(std::uint32_t base, std::uint32_t exponent) {
  std::uint32_t result = 1;
  for (std::uint32_t i = 0; i < exponent; ++i) result = result * base % kQ;
  return result;
}

constexpr std::uint32_t bit_reverse7(std::uint32_t value) {
  std::uint32_t reversed = 0;
  for (int bit = 0; bit < 7; ++bit) reversed |= ((value >> bit) & 1u) << (6 - bit);
  return reversed;
}

// zeta = 17 is a primitive 256th root of unity mod q. The NTT uses zeta^BitRev7(i) (section 4.3),
// the base-case products zeta^(2 BitRev7(i) + 1) (section 4.3.1).
constexpr std::uint32_t kZeta = 17;
constexpr auto kNttZetas = [] {
  std::array<std::uint16_t, 128> table{};
  for (std::uint32_t i = 0; i < 128; ++i)
    table[i] = static_cast<std::uint16_t>(pow_mod(kZeta, bit_reverse7(i)));
  return table;
}();
constexpr auto kBaseCaseGammas = [] {
  std::array<std::uint16_t, 128> table{};
  for (std::uint32_t i = 0; i < 128; ++i)
    table[i] = static_cast<std::uint16_t>(pow_mod(kZeta, 2 * bit_reverse7(i) + 1));
  return table;
}();
constexpr std::uint32_t kInverse128 = 3303;  // 128^-1 mod q, the scale of NTT^-1
static_assert(128 * kInverse128 % kQ == 1);

// ---------------------------------------------------------------------------------------------
// Polynomials in R_q (or T_q, their NTT representation) and vectors of them.

using Poly = std::array<std::uint16_t, kN>;
using PolyVector = std::array<Poly, kK>;
using PolyMatrix = std::array<PolyVector, kK>;

// Algorithm 9.
void ntt(Poly& f) {
  std::size_t zeta_index = 1;
  for (std::size_t len = 128; len >= 2; len /= 2) {
    for (std::size_t start = 0; start < kN; start += 2 * len) {
      const std::uint32_t zeta = kNttZetas[zeta_index++];
      for (std::size_t j = start; j < start + len; ++j) {
        const std::uint16_t t = mul_mod(zeta, f[j + len]);
        f[j + len] = sub_mod(f[j], t);
        f[j] = add_mod(f[j], t);
      }
    }
  }
}

// Algorithm 10.
void inverse_ntt(Poly& f) {
  std::size_t zeta_index = 127;
  for (std::size_t len = 2; len <= 128; len *= 2) {
    for (std::size_t start = 0; start < kN; start += 2 * len) {
      const std::uint32_t zeta = kNttZetas[zeta_index--];
      for (std::size_t j = start; j < start + len; ++j) {
        const std::uint16_t t = f[j];
        f[j] = add_mod(t, f[j + len]);
        f[j + len] = mul_mod(zeta, sub_mod(f[j + len], t));
      }
    }
  }
  for (auto& coefficient : f) coefficient = mul_mod(coefficient, kInverse128);
}

// sum over j of a[j] x b[j] in T_q (algorithms 11 and 12, MultiplyNTTs summed over a vector).
// The sums stay below 3 * 2 * q^2 < 2^27 before the one reduction per coefficient.
void multiply_ntt_sum(const std::array<const Poly*, kK>& a, const PolyVector& b, Poly& out) {
  std::array<std::uint32_t, kN> sum{};
  for (std::size_t j = 0; j < kK; ++j) {
    const Poly& f = *a[j];
    const Poly& g = b[j];
    for (std::size_t i = 0; i < kN / 2; ++i) {
      const std::uint32_t f0 = f[2 * i], f1 = f[2 * i + 1], g0 = g[2 * i], g1 = g[2 * i + 1];
      sum[2 * i] += f0 * g0 + std::uint32_t{mul_mod(f1, g1)} * kBaseCaseGammas[i];
      sum[2 * i + 1] += f0 * g1 + f1 * g0;
    }
  }
  for (std::size_t i = 0; i < kN; ++i) out[i] = barrett_reduce(sum[i]);
  Botan::secure_scrub_memory(sum.data(), sizeof(sum));
}

void add_to(Poly& accumulator, const Poly& addend) {
  for (std::size_t i = 0; i < kN; ++i) accumulator[i] = add_mod(accumulator[i], addend[i]);
}

// Compress_d (section 4.2.1): round(2^d x / q) mod 2^d. As q is odd the rounding is
// floor((2^d x + (q - 1) / 2) / q); the division is a Barrett estimate plus a masked correction,
// never a hardware divide (whose timing could depend on x).
std::uint16_t compress(std::uint16_t x, unsigned d) {
  const std::uint32_t numerator = (std::uint32_t{x} << d) + (kQ - 1) / 2;
  std::uint32_t quotient = static_cast<std::uint32_t>((numerator * kBarrettMultiplier) >> 32);
  const std::uint32_t remainder = numerator - quotient * kQ;  // < 2q
  quotient += ((kQ - 1 - remainder) >> 31) & 1u;              // remainder >= q: one more
  return static_cast<std::uint16_t>(quotient & ((1u << d) - 1));
}

// Decompress_d: round(q y / 2^d).
std::uint16_t decompress(std::uint32_t y, unsigned d) {
  return static_cast<std::uint16_t>((y * kQ + (1u << (d - 1))) >> d);
}

// ByteEncode_d (algorithm 5) for coefficients already below 2^d; appends 32 d bytes.
void byte_encode(const Poly& f, unsigned d, std::uint8_t* out) {
  std::uint64_t bits = 0;
  unsigned bit_count = 0;
  for (std::uint16_t coefficient : f) {
    bits |= std::uint64_t{coefficient} << bit_count;
    bit_count += d;
    while (bit_count >= 8) {
      *out++ = static_cast<std::uint8_t>(bits);
      bits >>= 8;
      bit_count -= 8;
    }
  }
  Botan::secure_scrub_memory(&bits, sizeof(bits));
}

// ByteDecode_d (algorithm 6) without the reduction mod q that d = 12 needs: raw d-bit values.
void byte_decode(const std::uint8_t* in, unsigned d, Poly& f) {
  std::uint64_t bits = 0;
  unsigned bit_count = 0;
  const std::uint32_t mask = (1u << d) - 1;
  for (auto& coefficient : f) {
    while (bit_count < d) {
      bits |= std::uint64_t{*in++} << bit_count;
      bit_count += 8;
    }
    coefficient = static_cast<std::uint16_t>(bits & mask);
    bits >>= d;
    bit_count -= d;
  }
  Botan::secure_scrub_memory(&bits, sizeof(bits));
}

// ByteDecode_12 including its reduction mod q (values are < 2^12 < 2q).
void byte_decode_12(const std::uint8_t* in, Poly& f) {
  byte_decode(in, 12, f);
  for (auto& coefficient : f) coefficient = reduce_once(coefficient);
}

// The modulus check of section 7.2: ByteEncode_12(ByteDecode_12(ek)) == ek holds exactly when
// every 12-bit value is already below q. The key is public, so branching here is fine.
bool all_coefficients_reduced(ByteView encoded_vector) {
  Poly f;
  for (std::size_t i = 0; i < kK; ++i) {
    byte_decode(encoded_vector.data() + i * kEncodedPolySize, 12, f);
    if (std::any_of(f.begin(), f.end(), [](std::uint16_t c) { return c >= kQ; })) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Sampling.

// SampleNTT (algorithm 7) from XOF(rho || j || i). Works on the public seed only.
void sample_ntt(const Seed& rho, std::uint8_t j, std::uint8_t i, Poly& out) {
  auto xof = KeccakSponge::shake128();
  xof.absorb(rho).absorb(j).absorb(i).finish();
  std::array<std::uint8_t, 168> block;  // one SHAKE-128 block: 56 candidate pairs
  std::size_t count = 0;
  while (count < kN) {
    xof.squeeze(block);
    for (std::size_t at = 0; at + 3 <= block.size() && count < kN; at += 3) {
      const std::uint16_t d1 =
          static_cast<std::uint16_t>(block[at] | ((block[at + 1] & 0x0F) << 8));
      const std::uint16_t d2 =
          static_cast<std::uint16_t>((block[at + 1] >> 4) | (block[at + 2] << 4));
      if (d1 < kQ) out[count++] = d1;
      if (d2 < kQ && count < kN) out[count++] = d2;
    }
  }
}

// Â with entries Â[i][j] = SampleNTT(rho || j || i) (algorithm 13 step 6, algorithm 14 step 6).
void expand_matrix(const Seed& rho, PolyMatrix& a_hat) {
  for (std::size_t i = 0; i < kK; ++i)
    for (std::size_t j = 0; j < kK; ++j)
      sample_ntt(rho, static_cast<std::uint8_t>(j), static_cast<std::uint8_t>(i), a_hat[i][j]);
}

// SamplePolyCBD_eta(PRF_eta(s, b)) (algorithm 8, PRF of section 4.1) for eta = 2, the only
// eta ML-KEM-768 uses. Each coefficient is a difference of two 2-bit popcounts, taken with
// bit arithmetic.
static_assert(kEta1 == 2 && kEta2 == 2);
void sample_cbd2(const Seed& seed, std::uint8_t nonce, Poly& out) {
  Wiped<std::array<std::uint8_t, 64 * 2>> random;
  auto prf = KeccakSponge::shake256();
  prf.absorb(seed).absorb(nonce).finish();
  prf.squeeze(random.value);
  for (std::size_t byte = 0; byte < random.value.size(); ++byte) {
    const std::uint32_t b = random.value[byte];
    const std::uint32_t pair_sums = (b & 0x55) + ((b >> 1) & 0x55);  // four 2-bit sums
    for (std::size_t half = 0; half < 2; ++half) {
      const std::uint32_t x = (pair_sums >> (4 * half)) & 0x3;
      const std::uint32_t y = (pair_sums >> (4 * half + 2)) & 0x3;
      out[2 * byte + half] = reduce_once(x + kQ - y);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// K-PKE (section 5).

struct PkeKeys {
  Bytes encryption_key;        // ByteEncode_12(t̂) || rho
  SecureBytes decryption_key;  // ByteEncode_12(ŝ)
};

// Algorithm 13.
PkeKeys pke_generate(ByteView d) {
  Wiped<Seed> rho, sigma;
  const std::uint8_t k = kK;
  hash_g(d, ByteView(&k, 1), rho.value, sigma.value);

  PolyMatrix a_hat;
  expand_matrix(rho.value, a_hat);

  Wiped<PolyVector> s_hat, e_hat;
  std::uint8_t nonce = 0;
  for (auto& s : s_hat.value) sample_cbd2(sigma.value, nonce++, s);
  for (auto& e : e_hat.value) sample_cbd2(sigma.value, nonce++, e);
  for (auto& s : s_hat.value) ntt(s);
  for (auto& e : e_hat.value) ntt(e);

  PkeKeys keys;
  keys.encryption_key.resize(kPublicKeySize);
  for (std::size_t i = 0; i < kK; ++i) {
    Poly t_hat;
    multiply_ntt_sum({&a_hat[i][0], &a_hat[i][1], &a_hat[i][2]}, s_hat.value, t_hat);
    add_to(t_hat, e_hat.value[i]);
    byte_encode(t_hat, 12, keys.encryption_key.data() + i * kEncodedPolySize);
  }
  std::copy(rho.value.begin(), rho.value.end(), keys.encryption_key.begin() + kEncodedVectorSize);

  keys.decryption_key.resize(kEncodedVectorSize);
  for (std::size_t i = 0; i < kK; ++i)
    byte_encode(s_hat.value[i], 12, keys.decryption_key.data() + i * kEncodedPolySize);
  return keys;
}

// Algorithm 14, writing kCiphertextSize bytes. The key has passed the modulus check.
void pke_encrypt(ByteView encryption_key, const Seed& message, const Seed& randomness,
                 std::uint8_t* ciphertext) {
  PolyVector t_hat;
  for (std::size_t i = 0; i < kK; ++i)
    byte_decode_12(encryption_key.data() + i * kEncodedPolySize, t_hat[i]);
  Seed rho;
  std::copy_n(encryption_key.begin() + kEncodedVectorSize, rho.size(), rho.begin());
  PolyMatrix a_hat;
  expand_matrix(rho, a_hat);

  Wiped<PolyVector> y_hat, e1;
  Wiped<Poly> e2, poly;
  std::uint8_t nonce = 0;
  for (auto& y : y_hat.value) sample_cbd2(randomness, nonce++, y);
  for (auto& e : e1.value) sample_cbd2(randomness, nonce++, e);
  sample_cbd2(randomness, nonce++, e2.value);
  for (auto& y : y_hat.value) ntt(y);

  // u = NTT^-1(Â^T ∘ ŷ) + e1, compressed to du bits.
  for (std::size_t i = 0; i < kK; ++i) {
    multiply_ntt_sum({&a_hat[0][i], &a_hat[1][i], &a_hat[2][i]}, y_hat.value, poly.value);
    inverse_ntt(poly.value);
    add_to(poly.value, e1.value[i]);
    for (auto& c : poly.value) c = compress(c, kDu);
    byte_encode(poly.value, kDu, ciphertext + i * (kN * kDu / 8));
  }

  // v = NTT^-1(t̂^T ∘ ŷ) + e2 + Decompress_1(m), compressed to dv bits.
  multiply_ntt_sum({&t_hat[0], &t_hat[1], &t_hat[2]}, y_hat.value, poly.value);
  inverse_ntt(poly.value);
  add_to(poly.value, e2.value);
  for (std::size_t i = 0; i < kN; ++i) {
    const std::uint32_t bit = (message[i / 8] >> (i % 8)) & 1u;
    poly.value[i] = add_mod(poly.value[i], decompress(bit, 1));
  }
  for (auto& c : poly.value) c = compress(c, kDv);
  byte_encode(poly.value, kDv, ciphertext + kCiphertextUSize);
}

// Algorithm 15.
void pke_decrypt(ByteView decryption_key, ByteView ciphertext, Seed& message) {
  Wiped<PolyVector> u_hat, s_hat;
  Wiped<Poly> w, v;
  for (std::size_t i = 0; i < kK; ++i) {
    byte_decode(ciphertext.data() + i * (kN * kDu / 8), kDu, u_hat.value[i]);
    for (auto& c : u_hat.value[i]) c = decompress(c, kDu);
    ntt(u_hat.value[i]);
    byte_decode_12(decryption_key.data() + i * kEncodedPolySize, s_hat.value[i]);
  }
  byte_decode(ciphertext.data() + kCiphertextUSize, kDv, v.value);
  multiply_ntt_sum({&s_hat.value[0], &s_hat.value[1], &s_hat.value[2]}, u_hat.value, w.value);
  inverse_ntt(w.value);
  for (std::size_t i = 0; i < kN; ++i)
    w.value[i] = sub_mod(decompress(v.value[i], kDv), w.value[i]);
  message.fill(0);
  for (std::size_t i = 0; i < kN; ++i)
    message[i / 8] |= static_cast<std::uint8_t>(compress(w.value[i], 1) << (i % 8));
}

}  // namespace

KeyPair generate_key_pair(ByteView d, ByteView z) {
  if (d.size() != kSeedSize || z.size() != kSeedSize)
    throw std::invalid_argument("ML-KEM-768 key generation takes two 32-byte seeds");
  PkeKeys pke = pke_generate(d);

  // dk = dk_PKE || ek || H(ek) || z (algorithm 16).
  KeyPair pair;
  pair.public_key = std::move(pke.encryption_key);
  const Seed ek_hash = hash_h(pair.public_key);
  pair.secret_key.reserve(kSecretKeySize);
  pair.secret_key.assign(pke.decryption_key.begin(), pke.decryption_key.end());
  pair.secret_key.insert(pair.secret_key.end(), pair.public_key.begin(), pair.public_key.end());
  pair.secret_key.insert(pair.secret_key.end(), ek_hash.begin(), ek_hash.end());
  pair.secret_key.insert(pair.secret_key.end(), z.begin(), z.end());
  return pair;
}

KeyPair generate_key_pair(Botan::RandomNumberGenerator& rng) {
  const SecureBytes d = rng.random_vec(kSeedSize);
  const SecureBytes z = rng.random_vec(kSeedSize);
  return generate_key_pair(d, z);
}

Result<Encapsulation> encapsulate(ByteView public_key, ByteView m) {
  if (public_key.size() != kPublicKeySize)
    return kex_failed("encapsulation key must be " + std::to_string(kPublicKeySize) +
                      " bytes, got " + std::to_string(public_key.size()));
  if (!all_coefficients_reduced(public_key.first(kEncodedVectorSize)))
    return kex_failed("encapsulation key has a coefficient not reduced mod q");
  if (m.size() != kSeedSize) return kex_failed("encapsulation randomness must be 32 bytes");

  // (K, r) = G(m || H(ek)) (algorithm 17).
  const Seed ek_hash = hash_h(public_key);
  Wiped<Seed> message, randomness;
  std::copy_n(m.begin(), kSeedSize, message.value.begin());
  Encapsulation result;
  result.shared_secret.resize(kSharedSecretSize);
  Wiped<Seed> key;
  hash_g(message.value, ek_hash, key.value, randomness.value);
  std::copy(key.value.begin(), key.value.end(), result.shared_secret.begin());
  result.ciphertext.resize(kCiphertextSize);
  pke_encrypt(public_key, message.value, randomness.value, result.ciphertext.data());
  return result;
}

Result<Encapsulation> encapsulate(ByteView public_key, Botan::RandomNumberGenerator& rng) {
  SecureBytes m;
  try {
    m = rng.random_vec(kSeedSize);
  } catch (const std::exception& e) {
    return kex_failed(std::string("random generator failed: ") + e.what());
  }
  return encapsulate(public_key, m);
}

Result<SecureBytes> decapsulate(ByteView secret_key, ByteView ciphertext) {
  if (ciphertext.size() != kCiphertextSize)
    return kex_failed("ciphertext must be " + std::to_string(kCiphertextSize) + " bytes, got " +
                      std::to_string(ciphertext.size()));
  if (secret_key.size() != kSecretKeySize)
    return kex_failed("decapsulation key must be " + std::to_string(kSecretKeySize) + " bytes");

  const ByteView pke_secret = secret_key.first(kEncodedVectorSize);
  const ByteView encryption_key = secret_key.subspan(kEncodedVectorSize, kPublicKeySize);
  const ByteView ek_hash = secret_key.subspan(kEncodedVectorSize + kPublicKeySize, 32);
  const ByteView z = secret_key.subspan(kEncodedVectorSize + kPublicKeySize + 32, 32);

  // The hash check of section 7.3; it concerns public parts of the key only.
  const Seed computed_hash = hash_h(encryption_key);
  if (!std::equal(computed_hash.begin(), computed_hash.end(), ek_hash.begin()))
    return kex_failed("decapsulation key fails its hash check");

  // Algorithm 18.
  Wiped<Seed> message, key, randomness;
  pke_decrypt(pke_secret, ciphertext, message.value);
  hash_g(message.value, ek_hash, key.value, randomness.value);

  Wiped<Seed> rejection_key;  // K-bar = J(z || c)
  {
    auto j = KeccakSponge::shake256();
    j.absorb(z).absorb(ciphertext).finish();
    j.squeeze(rejection_key.value);
  }

  Wiped<std::array<std::uint8_t, kCiphertextSize>> reencrypted;
  pke_encrypt(encryption_key, message.value, randomness.value, reencrypted.value.data());
  std::uint32_t difference = 0;
  for (std::size_t i = 0; i < kCiphertextSize; ++i)
    difference |= static_cast<std::uint32_t>(reencrypted.value[i] ^ ciphertext[i]);
  // difference is 0..255: 0xFF when the ciphertexts match, 0 otherwise.
  const auto keep_key = value_barrier(static_cast<std::uint8_t>(((difference - 1) >> 8) & 0xFF));

  SecureBytes shared_secret(kSharedSecretSize);
  for (std::size_t i = 0; i < kSharedSecretSize; ++i)
    shared_secret[i] =
        static_cast<std::uint8_t>((key.value[i] & keep_key) | (rejection_key.value[i] & ~keep_key));
  return shared_secret;
}

}  // namespace ssh::kex::mlkem768
