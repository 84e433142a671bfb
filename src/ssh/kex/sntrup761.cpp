// Streamlined NTRU Prime sntrup761, written from the NTRU Prime round-3
// specification. Names follow the spec where it has them (Short_random,
// Small_random, Round, Encode/Decode, Hash_prefix, Hide, HashConfirm,
// HashSession).
//
// Constant time: every loop bound and memory index depends only on public
// lengths; secret-dependent choices are made with masks (the swaps in the
// reciprocals, the sorting network of Short_random, the weight check of
// decryption, the ciphertext comparison and the session-key selection).

#include "ssh/kex/sntrup761.hpp"

#include <botan/hash.h>
#include <botan/mem_ops.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "ssh/kex/kex_internal.hpp"

namespace ssh::kex::sntrup761 {
namespace {

constexpr int kP = 761;
constexpr int kQ = 4591;
constexpr int kW = 286;
// Elements of Z/q are kept as representatives in [-kQHalf, kQHalf].
constexpr int kQHalf = (kQ - 1) / 2;
// Rounded coefficients are the multiples of 3 in [-kQHalf, kQHalf]: this many.
constexpr std::uint64_t kRoundedModulus = (kQ + 2) / 3;

// Working arrays are padded with zeros to this length (a multiple of 16, at
// least p + 1) so the element-wise loops have trip counts that compilers
// vectorize at -O2.
constexpr int kPadded = 768;
static_assert(kPadded >= kP + 1 && kPadded % 16 == 0);

constexpr std::size_t kSmallBytes = (kP + 3) / 4;
constexpr std::size_t kRqBytes = 1158;
constexpr std::size_t kRoundedBytes = 1007;
constexpr std::size_t kHashBytes = 32;

static_assert(kRqBytes == kPublicKeySize);
static_assert(kRoundedBytes + kHashBytes == kCiphertextSize);
static_assert(kHashBytes == kSharedSecretSize);

// Secret key layout (round 3): Small_encode(f), Small_encode(1/g), the public
// key, rho, and the cached Hash_prefix(4, public key).
constexpr std::size_t kSecretF = 0;
constexpr std::size_t kSecretGInverse = kSecretF + kSmallBytes;
constexpr std::size_t kSecretPublicKey = kSecretGInverse + kSmallBytes;
constexpr std::size_t kSecretRho = kSecretPublicKey + kPublicKeySize;
constexpr std::size_t kSecretPublicKeyHash = kSecretRho + kSmallBytes;
static_assert(kSecretPublicKeyHash + kHashBytes == kSecretKeySize);

// The prefix bytes that separate the uses of Hash_prefix.
enum HashPrefix : std::uint8_t {
  kSessionRejected = 0,  // HashSession after a failed re-encryption check
  kSessionAccepted = 1,  // HashSession after a successful one
  kConfirm = 2,          // HashConfirm
  kSmallInput = 3,       // the hash of Small_encode(r) (or of rho)
  kPublicKeyCache = 4,   // the hash of the public key cached in the secret key
};

// A fixed-size polynomial whose coefficients are wiped when it goes away.
template <class Coefficient, std::size_t N>
struct WipedArray {
  std::array<Coefficient, N> c{};

  WipedArray() = default;
  WipedArray(const WipedArray&) = delete;
  WipedArray& operator=(const WipedArray&) = delete;
  ~WipedArray() { Botan::secure_scrub_memory(c.data(), sizeof(c)); }

  Coefficient& operator[](std::size_t i) { return c[i]; }
  const Coefficient& operator[](std::size_t i) const { return c[i]; }
};

// Coefficients in {-1, 0, 1}: elements of R3, and the small elements of R.
using Small = WipedArray<std::int8_t, kP>;
// Coefficients in [-kQHalf, kQHalf]: elements of Rq.
using ModQ = WipedArray<std::int16_t, kP>;

// ----- constant-time helpers

// All ones when x is nonzero, else zero.
std::int32_t nonzero_mask(std::int32_t x) {
  const auto u = static_cast<std::uint32_t>(x);
  return -static_cast<std::int32_t>((u | (0u - u)) >> 31);
}

// All ones when x is negative, else zero (>> of a negative value is
// arithmetic in C++20).
std::int32_t negative_mask(std::int32_t x) {
  return x >> 31;
}

// x mod 3 as -1, 0 or 1, for |x| <= 3000: Barrett reduction with
// 21846 ~ 2^16/3 gives round(x/3) exactly in that range.
std::int8_t freeze3(std::int32_t x) {
  const std::int32_t quotient = (x * 21846 + 32768) >> 16;
  return static_cast<std::int8_t>(x - 3 * quotient);
}

// x mod 3 as -1, 0 or 1, for |x| <= 2 (the reciprocal's inner loop): only
// 16-bit products, which vectorize better.
std::int16_t freeze3_small(std::int16_t x) {
  return static_cast<std::int16_t>(x - 3 * ((x * 11 + 16) >> 5));
}

// x mod q in [-kQHalf, kQHalf], for |x| < 2^24: a truncating Barrett step
// (57 ~ 2^18/q) brings x within about 8q of zero, a rounding one
// (29235 ~ 2^27/q) then gives round(x/q) exactly.
std::int16_t freeze_q(std::int32_t x) {
  x -= kQ * ((x * 57) >> 18);
  x -= kQ * ((x * 29235 + (1 << 26)) >> 27);
  return static_cast<std::int16_t>(x);
}

// Montgomery multiplication in 16-bit lanes for the Rq reciprocal's inner
// loop: a * b_montgomery / 2^16 mod q, in (-q, q) when
// |a * b_montgomery| < q 2^15. Only 16x16-bit products (low and high
// halves), which vectorize well, unlike the 32-bit ones of freeze_q.
constexpr std::int32_t kMontgomeryR = (1 << 16) % kQ;  // 2^16 mod q
constexpr std::int16_t kQInverse = 15631;              // q^-1 mod 2^16
static_assert((kQ * kQInverse) % (1 << 16) == 1);

std::int16_t montgomery_multiply(std::int16_t a, std::int16_t b_montgomery) {
  const std::int32_t product = std::int32_t{a} * b_montgomery;
  const auto reducer = static_cast<std::int16_t>(static_cast<std::int16_t>(product) * kQInverse);
  // product - reducer q is divisible by 2^16: the difference of the high halves.
  return static_cast<std::int16_t>((product >> 16) - ((std::int32_t{reducer} * kQ) >> 16));
}

// x mod q in [-kQHalf, kQHalf] for |x| < q + kQHalf, by masked subtraction.
std::int16_t freeze_q_near(std::int16_t x) {
  const std::int16_t above = static_cast<std::int16_t>((kQHalf - x) >> 15);  // x > kQHalf
  x = static_cast<std::int16_t>(x - (above & kQ));
  const std::int16_t below = static_cast<std::int16_t>((x + kQHalf) >> 15);  // x < -kQHalf
  return static_cast<std::int16_t>(x + (below & kQ));
}

// 1/a in Z/q as a^(q-2); the exponent is public, a is not branched on.
std::int16_t fq_reciprocal(std::int16_t a) {
  std::int32_t result = 1;
  std::int32_t power = a;
  for (int exponent = kQ - 2; exponent > 0; exponent >>= 1) {
    if (exponent & 1) result = freeze_q(result * power);
    power = freeze_q(power * power);
  }
  return static_cast<std::int16_t>(result);
}

// ----- ring arithmetic in Z[x]/(x^p - x - 1)

using Product = WipedArray<std::int32_t, 2 * kPadded>;

// Folds a product of degree <= 2p-2 back into degree < p with x^p = x + 1.
// The top coefficient lands at most in position p-1, so one pass suffices.
void fold_product(Product& product) {
  for (int i = 2 * kP - 2; i >= kP; --i) {
    product[i - kP] += product[i];
    product[i - kP + 1] += product[i];
  }
}

// product = a * b as plain polynomials, b small; a and b are zero beyond p.
// Each term fits 16 bits (|a_j| <= kQHalf, |b_i| <= 1), so the products are
// 16-bit ones, accumulated in 32 bits.
void multiply_padded(Product& product, const WipedArray<std::int16_t, kPadded>& a,
                     const WipedArray<std::int16_t, kPadded>& b) {
  for (int i = 0; i < kP; ++i) {
    const std::int16_t bi = b[i];
    for (int j = 0; j < kPadded; ++j) product[i + j] += static_cast<std::int16_t>(bi * a[j]);
  }
}

// out = a * b in Rq, b small. out may be a.
void rq_multiply_small(ModQ& out, const ModQ& a, const Small& b) {
  WipedArray<std::int16_t, kPadded> a_padded;
  WipedArray<std::int16_t, kPadded> b_padded;
  for (int i = 0; i < kP; ++i) a_padded[i] = a[i];
  for (int i = 0; i < kP; ++i) b_padded[i] = b[i];
  Product product;
  multiply_padded(product, a_padded, b_padded);
  // |coefficient| <= 3 * p * kQHalf < 2^23 after folding: within freeze_q.
  fold_product(product);
  for (int i = 0; i < kP; ++i) out[i] = freeze_q(product[i]);
}

// out = a * b in R3. out may be a or b.
void r3_multiply(Small& out, const Small& a, const Small& b) {
  WipedArray<std::int16_t, kPadded> a_padded;
  WipedArray<std::int16_t, kPadded> b_padded;
  for (int i = 0; i < kP; ++i) a_padded[i] = a[i];
  for (int i = 0; i < kP; ++i) b_padded[i] = b[i];
  Product product;
  multiply_padded(product, a_padded, b_padded);
  fold_product(product);  // |coefficient| <= 3p: within freeze3
  for (int i = 0; i < kP; ++i) out[i] = freeze3(product[i]);
}

// The reciprocals run the constant-time extended-gcd iteration of the NTRU
// Prime specification: 2p-1 division steps on (f, g) = (x^p - x - 1, input),
// both stored coefficient-reversed so each step eliminates the leading
// coefficient of g against f, swapping them (by mask) when delta says so.
// v and r track the Bezout coefficient of the input; at the end delta is 0
// exactly when the input is invertible, and v (reversed, scaled by 1/f[0])
// is its reciprocal. The two reciprocals differ only in how g and r are
// reduced; the steps below are shared.
using DivstepPolynomial = WipedArray<std::int16_t, kPadded>;

// v *= x, within the p + 1 positions the iteration uses.
inline void multiply_by_x(DivstepPolynomial& v) {
  std::copy_backward(v.c.begin(), v.c.begin() + kP, v.c.begin() + kP + 1);
  v[0] = 0;
}

// g /= x, once its constant coefficient has been made zero.
inline void divide_by_x(DivstepPolynomial& g) {
  std::copy(g.c.begin() + 1, g.c.begin() + kP + 1, g.c.begin());
  g[kP] = 0;
}

// When delta > 0 and g[0] != 0: swap f with g and v with r and negate
// delta; then delta += 1. By masks, without a branch on the secret.
inline void divstep_swap(std::int32_t& delta, DivstepPolynomial& f, DivstepPolynomial& g,
                         DivstepPolynomial& v, DivstepPolynomial& r) {
  const std::int32_t swap = negative_mask(-delta) & nonzero_mask(g[0]);
  delta ^= swap & (delta ^ -delta);
  delta += 1;
  const auto swap16 = static_cast<std::int16_t>(swap);
  for (int i = 0; i < kPadded; ++i) {
    const std::int16_t fg = static_cast<std::int16_t>(swap16 & (f[i] ^ g[i]));
    f[i] ^= fg;
    g[i] ^= fg;
    const std::int16_t vr = static_cast<std::int16_t>(swap16 & (v[i] ^ r[i]));
    v[i] ^= vr;
    r[i] ^= vr;
  }
}

// out = 1/in in R3. Returns 0 on success, -1 when in is not invertible.
std::int32_t r3_reciprocal(Small& out, const Small& in) {
  DivstepPolynomial f, g, v, r;
  r[0] = 1;
  f[0] = 1;
  f[kP - 1] = -1;
  f[kP] = -1;
  for (int i = 0; i < kP; ++i) g[kP - 1 - i] = in[i];
  std::int32_t delta = 1;

  for (int step = 0; step < 2 * kP - 1; ++step) {
    multiply_by_x(v);

    const std::int32_t sign = -g[0] * f[0];
    divstep_swap(delta, f, g, v, r);

    const auto sign16 = static_cast<std::int16_t>(sign);
    for (int i = 0; i < kPadded; ++i) {
      g[i] = freeze3_small(static_cast<std::int16_t>(g[i] + sign16 * f[i]));
    }
    for (int i = 0; i < kPadded; ++i) {
      r[i] = freeze3_small(static_cast<std::int16_t>(r[i] + sign16 * v[i]));
    }

    divide_by_x(g);
  }

  // f[0] is +-1, its own reciprocal.
  const std::int16_t scale = f[0];
  for (int i = 0; i < kP; ++i) out[i] = static_cast<std::int8_t>(scale * v[kP - 1 - i]);
  return nonzero_mask(delta);
}

// out = 1/(3 in) in Rq. Always succeeds for the short f of key generation
// (x^p - x - 1 is irreducible mod q), so the success mask is not returned.
void rq_reciprocal_of_3x(ModQ& out, const Small& in) {
  DivstepPolynomial f, g, v, r;
  r[0] = fq_reciprocal(3);
  f[0] = 1;
  f[kP - 1] = -1;
  f[kP] = -1;
  for (int i = 0; i < kP; ++i) g[kP - 1 - i] = in[i];
  std::int32_t delta = 1;

  for (int step = 0; step < 2 * kP - 1; ++step) {
    multiply_by_x(v);

    divstep_swap(delta, f, g, v, r);

    // g = f0 g - g0 f and r = f0 r - g0 v. Each Montgomery product is in
    // (-kQHalf - 81, kQHalf + 81) (|product| <= kQHalf^2), so their
    // difference is within one q of the centered range.
    const auto f0 = static_cast<std::int16_t>(freeze_q(f[0] * kMontgomeryR));
    const auto g0 = static_cast<std::int16_t>(freeze_q(g[0] * kMontgomeryR));
    for (int i = 0; i < kPadded; ++i) {
      g[i] = freeze_q_near(
          static_cast<std::int16_t>(montgomery_multiply(g[i], f0) - montgomery_multiply(f[i], g0)));
    }
    for (int i = 0; i < kPadded; ++i) {
      r[i] = freeze_q_near(
          static_cast<std::int16_t>(montgomery_multiply(r[i], f0) - montgomery_multiply(v[i], g0)));
    }

    divide_by_x(g);
  }

  const std::int32_t scale = fq_reciprocal(f[0]);
  for (int i = 0; i < kP; ++i) out[i] = freeze_q(scale * v[kP - 1 - i]);
}

// Round: each coefficient to the nearest multiple of 3.
void round_to_multiples_of_3(ModQ& a) {
  for (int i = 0; i < kP; ++i) a[i] = static_cast<std::int16_t>(a[i] - freeze3(a[i]));
}

// Decryption's weight check: r stays when it has weight w, else it becomes
// (1, ..., 1, 0, ..., 0) with w ones; chosen by mask.
void force_weight(Small& r) {
  std::int32_t weight = 0;
  for (int i = 0; i < kP; ++i) weight += r[i] & 1;
  const auto keep = static_cast<std::int8_t>(~nonzero_mask(weight - kW));
  for (int i = 0; i < kW; ++i) r[i] = static_cast<std::int8_t>(((r[i] ^ 1) & keep) ^ 1);
  for (int i = kW; i < kP; ++i) r[i] = static_cast<std::int8_t>(r[i] & keep);
}

// ----- randomness, in the reference implementation's order and amounts:
// Small_random and Short_random each make one request of 4p bytes, and key
// generation then draws rho (Small_bytes) in one more.

// p random 32-bit values, drawn as one request of 4p bytes (little-endian
// words), as the reference implementation whose KAT is published does.
Botan::secure_vector<std::uint32_t> random_words(Botan::RandomNumberGenerator& rng) {
  SecureBytes bytes(4 * kP);
  rng.randomize(bytes.data(), bytes.size());
  Botan::secure_vector<std::uint32_t> words(kP);
  for (int i = 0; i < kP; ++i) {
    const std::uint8_t* word = bytes.data() + 4 * i;
    words[i] = std::uint32_t{word[0]} | (std::uint32_t{word[1]} << 8) |
               (std::uint32_t{word[2]} << 16) | (std::uint32_t{word[3]} << 24);
  }
  return words;
}

// Small_random: each coefficient from 30 random bits, (bits * 3) >> 30 - 1.
void small_random(Small& out, Botan::RandomNumberGenerator& rng) {
  const auto words = random_words(rng);
  for (int i = 0; i < kP; ++i) {
    const std::uint32_t bits = words[i] & 0x3fffffffu;
    out[i] = static_cast<std::int8_t>(static_cast<std::int32_t>((bits * 3) >> 30) - 1);
  }
}

// Sorts ascending with a fixed bitonic network: the comparisons made do not
// depend on the values.
template <std::size_t N>
void sort_constant_time(std::array<std::uint32_t, N>& keys) {
  static_assert((N & (N - 1)) == 0, "the bitonic network needs a power of two");
  const auto compare_exchange = [](std::uint32_t& low, std::uint32_t& high) {
    // The subtraction borrows into bit 63 exactly when low > high.
    const std::uint64_t difference = std::uint64_t{high} - std::uint64_t{low};
    const std::uint32_t swap = 0u - static_cast<std::uint32_t>(difference >> 63);
    const std::uint32_t flip = swap & (low ^ high);
    low ^= flip;
    high ^= flip;
  };
  for (std::size_t block = 2; block <= N; block <<= 1) {
    for (std::size_t distance = block >> 1; distance > 0; distance >>= 1) {
      for (std::size_t i = 0; i < N; ++i) {
        const std::size_t partner = i ^ distance;
        if (partner <= i) continue;
        if ((i & block) == 0) {
          compare_exchange(keys[i], keys[partner]);
        } else {
          compare_exchange(keys[partner], keys[i]);
        }
      }
    }
  }
}

// Short_random: w coefficients +-1 and p-w zeros in a random order. Each
// coefficient is a random key whose low two bits carry its value (0 or 2 for
// -1/+1, 1 for zero); sorting the keys shuffles them. The network's padding
// keys are all ones and sort to the end.
void short_random(Small& out, Botan::RandomNumberGenerator& rng) {
  constexpr std::size_t kSortSize = 1024;
  static_assert(kSortSize >= kP);
  std::array<std::uint32_t, kSortSize> keys{};
  const auto words = random_words(rng);
  for (int i = 0; i < kP; ++i) {
    const std::uint32_t bits = words[i];
    keys[i] = i < kW ? (bits & ~1u) : ((bits & ~3u) | 1u);
  }
  for (std::size_t i = kP; i < kSortSize; ++i) keys[i] = 0xffffffffu;
  sort_constant_time(keys);
  for (int i = 0; i < kP; ++i) out[i] = static_cast<std::int8_t>(static_cast<int>(keys[i] & 3) - 1);
  Botan::secure_scrub_memory(keys.data(), sizeof(keys));
}

// ----- encodings

using Limbs = Botan::secure_vector<std::uint64_t>;
using Moduli = std::vector<std::uint64_t>;

// The spec's Encode: values[i] in [0, moduli[i]) to bytes, pairing
// neighbours and emitting low bytes while a pair's range is >= 2^14. Loop
// counts depend only on the (public) moduli. Returns the bytes written.
std::size_t encode(Limbs values, Moduli moduli, std::uint8_t* out) {
  std::size_t written = 0;
  while (moduli.size() > 1) {
    Limbs paired_values;
    Moduli paired_moduli;
    for (std::size_t i = 0; i + 1 < moduli.size(); i += 2) {
      std::uint64_t range = moduli[i] * moduli[i + 1];
      std::uint64_t value = values[i] + moduli[i] * values[i + 1];
      while (range >= 16384) {
        out[written++] = static_cast<std::uint8_t>(value);
        value >>= 8;
        range = (range + 255) >> 8;
      }
      paired_values.push_back(value);
      paired_moduli.push_back(range);
    }
    if (moduli.size() % 2 == 1) {
      paired_values.push_back(values.back());
      paired_moduli.push_back(moduli.back());
    }
    values = std::move(paired_values);
    moduli = std::move(paired_moduli);
  }
  if (moduli.size() == 1) {
    std::uint64_t value = values[0];
    for (std::uint64_t range = moduli[0]; range > 1; range = (range + 255) >> 8) {
      out[written++] = static_cast<std::uint8_t>(value);
      value >>= 8;
    }
  }
  return written;
}

// The spec's Decode, inverse of encode; every byte string decodes to values
// in range (each value is reduced mod its modulus). The input is public.
Limbs decode(ByteView bytes, const Moduli& moduli) {
  if (moduli.empty()) return {};
  if (moduli.size() == 1) {
    std::uint64_t value = 0;
    for (std::size_t i = bytes.size(); i-- > 0;) value = (value * 256 + bytes[i]) % moduli[0];
    return Limbs{value};
  }
  std::size_t used = 0;
  Limbs low_parts;
  Limbs low_scales;
  Moduli paired_moduli;
  for (std::size_t i = 0; i + 1 < moduli.size(); i += 2) {
    std::uint64_t range = moduli[i] * moduli[i + 1];
    std::uint64_t low = 0;
    std::uint64_t scale = 1;
    while (range >= 16384) {
      const std::uint64_t byte = used < bytes.size() ? bytes[used] : 0;
      ++used;
      low += byte * scale;
      scale <<= 8;
      range = (range + 255) >> 8;
    }
    low_parts.push_back(low);
    low_scales.push_back(scale);
    paired_moduli.push_back(range);
  }
  if (moduli.size() % 2 == 1) paired_moduli.push_back(moduli.back());
  const Limbs high_parts = decode(bytes.subspan(std::min(used, bytes.size())), paired_moduli);

  Limbs values;
  values.reserve(moduli.size());
  for (std::size_t i = 0; i + 1 < moduli.size(); i += 2) {
    const std::uint64_t pair = low_parts[i / 2] + low_scales[i / 2] * high_parts[i / 2];
    values.push_back(pair % moduli[i]);
    values.push_back((pair / moduli[i]) % moduli[i + 1]);
  }
  if (moduli.size() % 2 == 1) values.push_back(high_parts.back());
  return values;
}

Bytes rq_encode(const ModQ& a) {
  Limbs values(kP);
  for (int i = 0; i < kP; ++i) values[i] = static_cast<std::uint64_t>(a[i] + kQHalf);
  Bytes out(kRqBytes);
  encode(std::move(values), Moduli(kP, kQ), out.data());
  return out;
}

void rq_decode(ModQ& out, ByteView bytes) {
  const Limbs values = decode(bytes, Moduli(kP, kQ));
  for (int i = 0; i < kP; ++i)
    out[i] = static_cast<std::int16_t>(static_cast<int>(values[i]) - kQHalf);
}

// a must already be rounded; (a + kQHalf) / 3 computed as an exact
// multiplication (10923 * 3 = 2^15 + 1) rather than a division.
void rounded_encode(const ModQ& a, std::uint8_t* out) {
  Limbs values(kP);
  for (int i = 0; i < kP; ++i) {
    values[i] = static_cast<std::uint64_t>(((a[i] + kQHalf) * 10923) >> 15);
  }
  encode(std::move(values), Moduli(kP, kRoundedModulus), out);
}

void rounded_decode(ModQ& out, ByteView bytes) {
  const Limbs values = decode(bytes, Moduli(kP, kRoundedModulus));
  for (int i = 0; i < kP; ++i)
    out[i] = static_cast<std::int16_t>(static_cast<int>(values[i]) * 3 - kQHalf);
}

// Four coefficients a byte, each as coefficient + 1 in two bits, low first.
void small_encode(const Small& a, std::uint8_t* out) {
  for (int i = 0; i < kP / 4; ++i) {
    int byte = 0;
    for (int j = 0; j < 4; ++j) byte |= (a[4 * i + j] + 1) << (2 * j);
    out[i] = static_cast<std::uint8_t>(byte);
  }
  out[kP / 4] = static_cast<std::uint8_t>(a[kP - 1] + 1);
}

void small_decode(Small& out, const std::uint8_t* bytes) {
  for (int i = 0; i < kP / 4; ++i) {
    for (int j = 0; j < 4; ++j) {
      out[4 * i + j] = static_cast<std::int8_t>(((bytes[i] >> (2 * j)) & 3) - 1);
    }
  }
  out[kP - 1] = static_cast<std::int8_t>((bytes[kP / 4] & 3) - 1);
}

// ----- hashing

class PrefixHash {
 public:
  PrefixHash() : sha512_(Botan::HashFunction::create_or_throw("SHA-512")) {}

  // Hash_prefix(prefix, parts...): the first 32 bytes of
  // SHA-512(prefix || parts...).
  void operator()(std::uint8_t prefix, std::initializer_list<ByteView> parts, std::uint8_t* out) {
    sha512_->update(prefix);
    for (ByteView part : parts) sha512_->update(part.data(), part.size());
    const SecureBytes digest = sha512_->final();
    std::copy_n(digest.begin(), kHashBytes, out);
  }

 private:
  std::unique_ptr<Botan::HashFunction> sha512_;
};

// Hide: the ciphertext for input r under public key h (pk_hash is its cached
// Hash_prefix(4, pk)): Rounded(h r) encoded, then
// HashConfirm = Hash_prefix(2, Hash_prefix(3, Small_encode(r)) || pk_hash).
void hide(PrefixHash& hash, const Small& r, const ModQ& h, ByteView pk_hash,
          std::uint8_t* ciphertext) {
  ModQ product;
  rq_multiply_small(product, h, r);
  round_to_multiples_of_3(product);
  rounded_encode(product, ciphertext);

  SecureBytes r_encoded(kSmallBytes);
  small_encode(r, r_encoded.data());
  SecureBytes r_hash(kHashBytes);
  hash(kSmallInput, {r_encoded}, r_hash.data());
  hash(kConfirm, {r_hash, pk_hash}, ciphertext + kRoundedBytes);
}

}  // namespace

KeyPair generate_key_pair(Botan::RandomNumberGenerator& rng) {
  PrefixHash hash;
  Small g;
  Small g_inverse;
  do {
    small_random(g, rng);
  } while (r3_reciprocal(g_inverse, g) != 0);  // branches only on a discarded g

  Small f;
  short_random(f, rng);
  ModQ h;
  rq_reciprocal_of_3x(h, f);
  rq_multiply_small(h, h, g);  // h = g / (3 f)

  KeyPair pair;
  pair.public_key = rq_encode(h);
  pair.secret_key.resize(kSecretKeySize);
  std::uint8_t* secret = pair.secret_key.data();
  small_encode(f, secret + kSecretF);
  small_encode(g_inverse, secret + kSecretGInverse);
  std::copy(pair.public_key.begin(), pair.public_key.end(), secret + kSecretPublicKey);
  rng.randomize(secret + kSecretRho, kSmallBytes);
  hash(kPublicKeyCache, {pair.public_key}, secret + kSecretPublicKeyHash);
  return pair;
}

Result<Encapsulation> encapsulate(ByteView public_key, Botan::RandomNumberGenerator& rng) {
  if (public_key.size() != kPublicKeySize) {
    return internal::kex_failed("sntrup761: public key must be " + std::to_string(kPublicKeySize) +
                                " bytes, got " + std::to_string(public_key.size()));
  }
  try {
    PrefixHash hash;
    std::array<std::uint8_t, kHashBytes> pk_hash{};
    hash(kPublicKeyCache, {public_key}, pk_hash.data());

    Small r;
    short_random(r, rng);
    ModQ h;
    rq_decode(h, public_key);

    Encapsulation result;
    result.ciphertext.resize(kCiphertextSize);
    hide(hash, r, h, pk_hash, result.ciphertext.data());

    SecureBytes r_encoded(kSmallBytes);
    small_encode(r, r_encoded.data());
    SecureBytes r_hash(kHashBytes);
    hash(kSmallInput, {r_encoded}, r_hash.data());
    result.shared_secret.resize(kSharedSecretSize);
    hash(kSessionAccepted, {r_hash, result.ciphertext}, result.shared_secret.data());
    return result;
  } catch (const std::exception& e) {
    return internal::kex_failed(std::string("sntrup761: encapsulation failed: ") + e.what());
  }
}

Result<SecureBytes> decapsulate(ByteView secret_key, ByteView ciphertext) {
  if (secret_key.size() != kSecretKeySize) {
    return internal::kex_failed("sntrup761: secret key must be " + std::to_string(kSecretKeySize) +
                                " bytes, got " + std::to_string(secret_key.size()));
  }
  if (ciphertext.size() != kCiphertextSize) {
    return internal::kex_failed("sntrup761: ciphertext must be " + std::to_string(kCiphertextSize) +
                                " bytes, got " + std::to_string(ciphertext.size()));
  }
  try {
    PrefixHash hash;
    const ByteView public_key = secret_key.subspan(kSecretPublicKey, kPublicKeySize);
    const ByteView rho = secret_key.subspan(kSecretRho, kSmallBytes);
    const ByteView pk_hash = secret_key.subspan(kSecretPublicKeyHash, kHashBytes);

    // Decrypt: e = 3 f c in R3, r = e / g, forced to weight w.
    Small f;
    small_decode(f, secret_key.data() + kSecretF);
    ModQ c;
    rounded_decode(c, ciphertext.first(kRoundedBytes));
    ModQ cf;
    rq_multiply_small(cf, c, f);
    for (int i = 0; i < kP; ++i) cf[i] = freeze_q(3 * cf[i]);
    Small r;
    for (int i = 0; i < kP; ++i) r[i] = freeze3(cf[i]);
    Small g_inverse;
    small_decode(g_inverse, secret_key.data() + kSecretGInverse);
    r3_multiply(r, r, g_inverse);
    force_weight(r);

    // Re-encrypt and compare without an early exit: 0 when equal, -1 when not.
    ModQ h;
    rq_decode(h, public_key);
    SecureBytes expected(kCiphertextSize);
    hide(hash, r, h, pk_hash, expected.data());
    std::uint32_t difference = 0;
    for (std::size_t i = 0; i < kCiphertextSize; ++i) difference |= ciphertext[i] ^ expected[i];
    const std::int32_t mismatch = ~((static_cast<std::int32_t>(difference) - 1) >> 8);

    // Implicit rejection: on mismatch the session key comes from rho and the
    // prefix byte 1 + mismatch is 0, else from r with prefix 1.
    SecureBytes input(kSmallBytes);
    small_encode(r, input.data());
    const auto select_rho = static_cast<std::uint8_t>(mismatch);
    for (std::size_t i = 0; i < kSmallBytes; ++i) {
      input[i] ^= static_cast<std::uint8_t>(select_rho & (input[i] ^ rho[i]));
    }
    SecureBytes input_hash(kHashBytes);
    hash(kSmallInput, {input}, input_hash.data());
    SecureBytes shared_secret(kSharedSecretSize);
    hash(static_cast<std::uint8_t>(kSessionAccepted + mismatch), {input_hash, ciphertext},
         shared_secret.data());
    return shared_secret;
  } catch (const std::exception& e) {
    return internal::kex_failed(std::string("sntrup761: decapsulation failed: ") + e.what());
  }
}

}  // namespace ssh::kex::sntrup761
