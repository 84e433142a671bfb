// libFuzzer target: the post-quantum KEMs and their hybrids with hostile
// peer values. ML-KEM's encapsulation-key checks and both KEMs'
// decapsulation (implicit rejection) get arbitrary bytes of the right and
// wrong sizes; the hybrids' server side (respond) and client side (agree)
// get arbitrary peer values. Key pairs are made once from a fixed seed:
// sntrup761's key generation is too slow to repeat per input.
#include <cstddef>
#include <cstdint>

#include "fuzz_input.hpp"
#include "ssh/kex/kex.hpp"
#include "ssh/kex/mlkem768.hpp"
#include "ssh/kex/sntrup761.hpp"

namespace {

using ssh::ByteView;

const ssh::kex::mlkem768::KeyPair& mlkem_key_pair() {
  static const auto pair = [] {
    auto rng = fuzz::seeded_rng(1);
    return ssh::kex::mlkem768::generate_key_pair(rng);
  }();
  return pair;
}

const ssh::kex::sntrup761::KeyPair& sntrup_key_pair() {
  static const auto pair = [] {
    auto rng = fuzz::seeded_rng(2);
    return ssh::kex::sntrup761::generate_key_pair(rng);
  }();
  return pair;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t selector = data[0];
  const ByteView input(data + 1, size - 1);
  auto rng = fuzz::seeded_rng(selector);
  switch (selector % 6) {
    case 0: {
      // A decapsulation must never fail on a well-sized ciphertext: a bad
      // one yields the implicit-rejection key.
      auto key = ssh::kex::mlkem768::decapsulate(mlkem_key_pair().secret_key, input);
      if (input.size() == ssh::kex::mlkem768::kCiphertextSize && !key) __builtin_trap();
      break;
    }
    case 1: {
      auto encapsulation = ssh::kex::mlkem768::encapsulate(input, rng);
      if (encapsulation) {
        // The key passed the checks: the secret key that goes with it is
        // unknown, but the ciphertext must be well sized.
        if (encapsulation->ciphertext.size() != ssh::kex::mlkem768::kCiphertextSize) {
          __builtin_trap();
        }
      }
      break;
    }
    case 2: {
      auto key = ssh::kex::sntrup761::decapsulate(sntrup_key_pair().secret_key, input);
      if (input.size() == ssh::kex::sntrup761::kCiphertextSize && !key) __builtin_trap();
      break;
    }
    case 3: {
      (void)ssh::kex::sntrup761::encapsulate(input, rng);
      break;
    }
    case 4: {
      // The server's side of each hybrid with an arbitrary client value.
      const char* name =
          (selector & 0x80) != 0 ? "sntrup761x25519-sha512" : "mlkem768x25519-sha256";
      auto server = ssh::kex::make_kex(name);
      (void)server->respond(input, rng);
      break;
    }
    case 5: {
      // The ML-KEM hybrid's client side with an arbitrary server reply
      // (sntrup761's client key generation is too slow to do per input).
      auto client = ssh::kex::make_kex("mlkem768x25519-sha256");
      (void)client->generate(rng);
      (void)client->agree(input);
      break;
    }
  }
  return 0;
}
