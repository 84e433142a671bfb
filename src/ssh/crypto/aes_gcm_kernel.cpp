#include "ssh/crypto/aes_gcm_kernel.hpp"

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define SSH_AES_GCM_X86 1
#endif

#ifdef SSH_AES_GCM_X86
#include <botan/cpuid.h>
#include <botan/mem_ops.h>
#include <immintrin.h>

#include <cstring>
#endif

namespace ssh::crypto::detail {

#ifdef SSH_AES_GCM_X86
namespace {

// Only these functions use the instructions, and only after the CPU check in
// make_aes_gcm_kernel(), so the rest of the binary stays baseline x86-64.
#define SSH_GCM_TARGET __attribute__((target("aes,pclmul,ssse3,sse4.1")))
// The 8-block loops must be unrolled so the blocks stay in registers and the
// AES rounds of different blocks overlap; GCC does not do it by itself.
#define SSH_GCM_UNROLL _Pragma("GCC unroll 8")

constexpr std::size_t kBlock = 16;
constexpr std::size_t kParallelBlocks = 8;
constexpr std::size_t kMaxRounds = 14;

struct GcmKeys {
  __m128i round_keys[kMaxRounds + 1];
  // hash_key_powers[i] is H^(i+1), byte-reversed as the multiply wants it.
  __m128i hash_key_powers[kParallelBlocks];
  unsigned rounds = 0;
};

SSH_GCM_TARGET inline __m128i byte_reverse(__m128i value) {
  return _mm_shuffle_epi8(value,
                          _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
}

SSH_GCM_TARGET inline __m128i load(const std::uint8_t* bytes) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes));
}

SSH_GCM_TARGET inline void store(std::uint8_t* bytes, __m128i value) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(bytes), value);
}

// --- AES key schedule (Intel's AES-NI white paper, section 5) ---

SSH_GCM_TARGET inline __m128i xor_shifted_words(__m128i key) {
  __m128i shifted = _mm_slli_si128(key, 4);
  key = _mm_xor_si128(key, shifted);
  shifted = _mm_slli_si128(shifted, 4);
  key = _mm_xor_si128(key, shifted);
  shifted = _mm_slli_si128(shifted, 4);
  return _mm_xor_si128(key, shifted);
}

template <int Rcon>
SSH_GCM_TARGET inline __m128i next_key_128(__m128i key) {
  const __m128i assist = _mm_shuffle_epi32(_mm_aeskeygenassist_si128(key, Rcon), 0xff);
  return _mm_xor_si128(xor_shifted_words(key), assist);
}

SSH_GCM_TARGET void expand_key_128(const std::uint8_t* key, __m128i* round_keys) {
  round_keys[0] = load(key);
  round_keys[1] = next_key_128<0x01>(round_keys[0]);
  round_keys[2] = next_key_128<0x02>(round_keys[1]);
  round_keys[3] = next_key_128<0x04>(round_keys[2]);
  round_keys[4] = next_key_128<0x08>(round_keys[3]);
  round_keys[5] = next_key_128<0x10>(round_keys[4]);
  round_keys[6] = next_key_128<0x20>(round_keys[5]);
  round_keys[7] = next_key_128<0x40>(round_keys[6]);
  round_keys[8] = next_key_128<0x80>(round_keys[7]);
  round_keys[9] = next_key_128<0x1b>(round_keys[8]);
  round_keys[10] = next_key_128<0x36>(round_keys[9]);
}

// AES-256 alternates a RotWord+SubWord+Rcon step (from the odd key) with a
// SubWord-only step (from the even key).
template <int Rcon>
SSH_GCM_TARGET inline __m128i next_even_key_256(__m128i even, __m128i odd) {
  const __m128i assist = _mm_shuffle_epi32(_mm_aeskeygenassist_si128(odd, Rcon), 0xff);
  return _mm_xor_si128(xor_shifted_words(even), assist);
}

SSH_GCM_TARGET inline __m128i next_odd_key_256(__m128i odd, __m128i even) {
  const __m128i assist = _mm_shuffle_epi32(_mm_aeskeygenassist_si128(even, 0x00), 0xaa);
  return _mm_xor_si128(xor_shifted_words(odd), assist);
}

SSH_GCM_TARGET void expand_key_256(const std::uint8_t* key, __m128i* round_keys) {
  round_keys[0] = load(key);
  round_keys[1] = load(key + 16);
  round_keys[2] = next_even_key_256<0x01>(round_keys[0], round_keys[1]);
  round_keys[3] = next_odd_key_256(round_keys[1], round_keys[2]);
  round_keys[4] = next_even_key_256<0x02>(round_keys[2], round_keys[3]);
  round_keys[5] = next_odd_key_256(round_keys[3], round_keys[4]);
  round_keys[6] = next_even_key_256<0x04>(round_keys[4], round_keys[5]);
  round_keys[7] = next_odd_key_256(round_keys[5], round_keys[6]);
  round_keys[8] = next_even_key_256<0x08>(round_keys[6], round_keys[7]);
  round_keys[9] = next_odd_key_256(round_keys[7], round_keys[8]);
  round_keys[10] = next_even_key_256<0x10>(round_keys[8], round_keys[9]);
  round_keys[11] = next_odd_key_256(round_keys[9], round_keys[10]);
  round_keys[12] = next_even_key_256<0x20>(round_keys[10], round_keys[11]);
  round_keys[13] = next_odd_key_256(round_keys[11], round_keys[12]);
  round_keys[14] = next_even_key_256<0x40>(round_keys[12], round_keys[13]);
}

SSH_GCM_TARGET inline __m128i encrypt_block(const GcmKeys& keys, __m128i block) {
  block = _mm_xor_si128(block, keys.round_keys[0]);
  for (unsigned round = 1; round < keys.rounds; ++round) {
    block = _mm_aesenc_si128(block, keys.round_keys[round]);
  }
  return _mm_aesenclast_si128(block, keys.round_keys[keys.rounds]);
}

// Eight independent blocks per round key hide the AES instruction latency.
SSH_GCM_TARGET inline void encrypt_blocks(const GcmKeys& keys, __m128i* blocks) {
  SSH_GCM_UNROLL
  for (std::size_t i = 0; i < kParallelBlocks; ++i) {
    blocks[i] = _mm_xor_si128(blocks[i], keys.round_keys[0]);
  }
  for (unsigned round = 1; round < keys.rounds; ++round) {
    const __m128i round_key = keys.round_keys[round];
    SSH_GCM_UNROLL
    for (std::size_t i = 0; i < kParallelBlocks; ++i) {
      blocks[i] = _mm_aesenc_si128(blocks[i], round_key);
    }
  }
  const __m128i last_key = keys.round_keys[keys.rounds];
  SSH_GCM_UNROLL
  for (std::size_t i = 0; i < kParallelBlocks; ++i) {
    blocks[i] = _mm_aesenclast_si128(blocks[i], last_key);
  }
}

// --- GHASH (Intel's carry-less multiplication white paper, algorithm 5) ---
// Values are byte-reversed blocks; products are summed unreduced so eight
// blocks cost one reduction.

struct Product {
  __m128i low = _mm_setzero_si128();
  __m128i middle = _mm_setzero_si128();
  __m128i high = _mm_setzero_si128();
};

SSH_GCM_TARGET inline void multiply_add(Product& sum, __m128i a, __m128i b) {
  sum.low = _mm_xor_si128(sum.low, _mm_clmulepi64_si128(a, b, 0x00));
  sum.high = _mm_xor_si128(sum.high, _mm_clmulepi64_si128(a, b, 0x11));
  sum.middle = _mm_xor_si128(sum.middle, _mm_xor_si128(_mm_clmulepi64_si128(a, b, 0x10),
                                                       _mm_clmulepi64_si128(a, b, 0x01)));
}

// Shifts the 256-bit product left by one (the bit-reflected representation)
// and reduces it modulo x^128 + x^7 + x^2 + x + 1.
SSH_GCM_TARGET inline __m128i reduce(const Product& product) {
  __m128i low = _mm_xor_si128(product.low, _mm_slli_si128(product.middle, 8));
  __m128i high = _mm_xor_si128(product.high, _mm_srli_si128(product.middle, 8));

  __m128i low_carry = _mm_srli_epi32(low, 31);
  __m128i high_carry = _mm_srli_epi32(high, 31);
  low = _mm_slli_epi32(low, 1);
  high = _mm_slli_epi32(high, 1);
  const __m128i cross_carry = _mm_srli_si128(low_carry, 12);
  high_carry = _mm_slli_si128(high_carry, 4);
  low_carry = _mm_slli_si128(low_carry, 4);
  low = _mm_or_si128(low, low_carry);
  high = _mm_or_si128(_mm_or_si128(high, high_carry), cross_carry);

  __m128i fold = _mm_xor_si128(_mm_xor_si128(_mm_slli_epi32(low, 31), _mm_slli_epi32(low, 30)),
                               _mm_slli_epi32(low, 25));
  const __m128i fold_high = _mm_srli_si128(fold, 4);
  fold = _mm_slli_si128(fold, 12);
  low = _mm_xor_si128(low, fold);
  __m128i second = _mm_xor_si128(_mm_xor_si128(_mm_srli_epi32(low, 1), _mm_srli_epi32(low, 2)),
                                 _mm_srli_epi32(low, 7));
  second = _mm_xor_si128(second, fold_high);
  low = _mm_xor_si128(low, second);
  return _mm_xor_si128(high, low);
}

SSH_GCM_TARGET inline __m128i multiply(__m128i a, __m128i b) {
  Product product;
  multiply_add(product, a, b);
  return reduce(product);
}

// state = (state ^ b0)*H^8 ^ b1*H^7 ^ ... ^ b7*H for byte-reversed blocks.
SSH_GCM_TARGET inline __m128i hash_blocks(const GcmKeys& keys, __m128i state,
                                          const __m128i* blocks) {
  Product sum;
  multiply_add(sum, _mm_xor_si128(state, blocks[0]), keys.hash_key_powers[kParallelBlocks - 1]);
  SSH_GCM_UNROLL
  for (std::size_t i = 1; i < kParallelBlocks; ++i) {
    multiply_add(sum, blocks[i], keys.hash_key_powers[kParallelBlocks - 1 - i]);
  }
  return reduce(sum);
}

SSH_GCM_TARGET inline __m128i hash_block(const GcmKeys& keys, __m128i state, __m128i block) {
  return multiply(_mm_xor_si128(state, byte_reverse(block)), keys.hash_key_powers[0]);
}

// Hashes data zero-padded to whole blocks.
SSH_GCM_TARGET __m128i hash_padded(const GcmKeys& keys, __m128i state, ByteView data) {
  std::size_t offset = 0;
  for (; offset + kBlock <= data.size(); offset += kBlock) {
    state = hash_block(keys, state, load(data.data() + offset));
  }
  if (offset < data.size()) {
    alignas(16) std::uint8_t last[kBlock] = {};
    std::memcpy(last, data.data() + offset, data.size() - offset);
    state = hash_block(keys, state, load(last));
  }
  return state;
}

SSH_GCM_TARGET inline __m128i counter_block(__m128i nonce_block, std::uint32_t counter) {
  return _mm_insert_epi32(nonce_block, static_cast<int>(__builtin_bswap32(counter)), 3);
}

SSH_GCM_TARGET void init_keys(GcmKeys& keys, ByteView key) {
  if (key.size() == 16) {
    keys.rounds = 10;
    expand_key_128(key.data(), keys.round_keys);
  } else {
    keys.rounds = 14;
    expand_key_256(key.data(), keys.round_keys);
  }
  const __m128i hash_key = byte_reverse(encrypt_block(keys, _mm_setzero_si128()));
  keys.hash_key_powers[0] = hash_key;
  for (std::size_t i = 1; i < kParallelBlocks; ++i) {
    keys.hash_key_powers[i] = multiply(keys.hash_key_powers[i - 1], hash_key);
  }
}

// One pass of CTR encryption or decryption and GHASH over the ciphertext;
// returns the tag.
template <bool Encrypting>
SSH_GCM_TARGET __m128i gcm_pass(const GcmKeys& keys, const std::uint8_t* nonce, ByteView aad,
                                MutableByteView body) {
  alignas(16) std::uint8_t nonce_bytes[kBlock] = {};
  std::memcpy(nonce_bytes, nonce, kGcmNonceSize);
  const __m128i nonce_block = load(nonce_bytes);

  __m128i state = hash_padded(keys, _mm_setzero_si128(), aad);
  std::uint32_t counter = 2;  // counter 1 encrypts the tag
  std::uint8_t* data = body.data();
  const std::size_t size = body.size();
  std::size_t offset = 0;
  for (; offset + kParallelBlocks * kBlock <= size; offset += kParallelBlocks * kBlock) {
    __m128i keystream[kParallelBlocks];
    SSH_GCM_UNROLL
    for (std::size_t i = 0; i < kParallelBlocks; ++i) {
      keystream[i] = counter_block(nonce_block, counter + static_cast<std::uint32_t>(i));
    }
    counter += kParallelBlocks;
    __m128i ciphertext[kParallelBlocks];
    if constexpr (!Encrypting) {
      SSH_GCM_UNROLL
      for (std::size_t i = 0; i < kParallelBlocks; ++i) {
        ciphertext[i] = byte_reverse(load(data + offset + i * kBlock));
      }
    }
    encrypt_blocks(keys, keystream);
    SSH_GCM_UNROLL
    for (std::size_t i = 0; i < kParallelBlocks; ++i) {
      const __m128i out = _mm_xor_si128(load(data + offset + i * kBlock), keystream[i]);
      store(data + offset + i * kBlock, out);
      if constexpr (Encrypting) ciphertext[i] = byte_reverse(out);
    }
    state = hash_blocks(keys, state, ciphertext);
  }
  for (; offset + kBlock <= size; offset += kBlock) {
    const __m128i input = load(data + offset);
    const __m128i out =
        _mm_xor_si128(input, encrypt_block(keys, counter_block(nonce_block, counter++)));
    store(data + offset, out);
    state = hash_block(keys, state, Encrypting ? out : input);
  }
  if (offset < size) {
    // A short last block: GHASH sees the ciphertext zero-padded.
    const std::size_t rest = size - offset;
    alignas(16) std::uint8_t last[kBlock] = {};
    std::memcpy(last, data + offset, rest);
    const __m128i input = load(last);
    const __m128i keystream = encrypt_block(keys, counter_block(nonce_block, counter));
    store(last, _mm_xor_si128(input, keystream));
    std::memcpy(data + offset, last, rest);
    if constexpr (Encrypting) {
      std::memset(last + rest, 0, kBlock - rest);
      state = hash_block(keys, state, load(last));
    } else {
      state = hash_block(keys, state, input);
    }
    Botan::secure_scrub_memory(last, sizeof(last));
  }
  const __m128i lengths =
      _mm_set_epi64x(static_cast<long long>(aad.size() * 8), static_cast<long long>(size * 8));
  state = multiply(_mm_xor_si128(state, lengths), keys.hash_key_powers[0]);
  return _mm_xor_si128(byte_reverse(state), encrypt_block(keys, counter_block(nonce_block, 1)));
}

class AesNiGcm final : public AesGcmKernel {
 public:
  explicit AesNiGcm(ByteView key) { init_keys(keys_, key); }
  ~AesNiGcm() override { Botan::secure_scrub_memory(&keys_, sizeof(keys_)); }
  AesNiGcm(const AesNiGcm&) = delete;
  AesNiGcm& operator=(const AesNiGcm&) = delete;

  void seal(const std::uint8_t* nonce, ByteView aad, MutableByteView body,
            std::uint8_t* tag) override {
    seal_impl(nonce, aad, body, tag);
  }

  bool open(const std::uint8_t* nonce, ByteView aad, MutableByteView body,
            const std::uint8_t* tag) override {
    return open_impl(nonce, aad, body, tag);
  }

 private:
  SSH_GCM_TARGET void seal_impl(const std::uint8_t* nonce, ByteView aad, MutableByteView body,
                                std::uint8_t* tag) {
    store(tag, gcm_pass<true>(keys_, nonce, aad, body));
  }

  SSH_GCM_TARGET bool open_impl(const std::uint8_t* nonce, ByteView aad, MutableByteView body,
                                const std::uint8_t* tag) {
    const __m128i difference = _mm_xor_si128(gcm_pass<false>(keys_, nonce, aad, body), load(tag));
    return _mm_testz_si128(difference, difference) != 0;
  }

  GcmKeys keys_;
};

}  // namespace

std::unique_ptr<AesGcmKernel> make_aes_gcm_kernel(ByteView key) {
  if (key.size() != 16 && key.size() != 32) return nullptr;
  if (!Botan::CPUID::has_aes_ni() || !Botan::CPUID::has_clmul() || !Botan::CPUID::has_ssse3() ||
      !Botan::CPUID::has_sse41()) {
    return nullptr;
  }
  return std::make_unique<AesNiGcm>(key);
}

#else

std::unique_ptr<AesGcmKernel> make_aes_gcm_kernel(ByteView) {
  return nullptr;
}

#endif

}  // namespace ssh::crypto::detail
