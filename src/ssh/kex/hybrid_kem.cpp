// The post-quantum hybrid key exchanges: a KEM run beside X25519, so the
// session stays secret unless both are broken (OpenSSH PROTOCOL section
// 1.9 and draft-ietf-sshm-mlkem-hybrid-kex / draft-josefsson-ntruprime-ssh).
//   client -> server  C_INIT  = KEM public key || X25519 public value
//   server -> client  S_REPLY = KEM ciphertext || X25519 public value
//   K = string(HASH(K_kem || K_x25519)), HASH being the method's exchange hash.
// K is a string, not an mpint as for the Diffie-Hellman methods: it enters
// the exchange hash and key derivation exactly so encoded.

#include <botan/hash.h>

#include <exception>
#include <string>

#include "ssh/kex/kex_internal.hpp"
#include "ssh/kex/mlkem768.hpp"
#include "ssh/kex/sntrup761.hpp"
#include "ssh/wire/writer.hpp"

namespace ssh::kex::internal {
namespace {

// What the hybrid needs from a KEM; one constant per KEM below.
struct KemAlgorithm {
  std::string_view method_name;
  std::string_view hash_name;
  std::size_t public_key_size;
  std::size_t ciphertext_size;
  KemKeyPair (*generate)(Botan::RandomNumberGenerator& rng);
  Result<KemEncapsulation> (*encapsulate)(ByteView public_key, Botan::RandomNumberGenerator& rng);
  Result<SecureBytes> (*decapsulate)(ByteView secret_key, ByteView ciphertext);
};

const KemAlgorithm kMlkem768{
    "mlkem768x25519-sha256",
    "SHA-256",
    mlkem768::kPublicKeySize,
    mlkem768::kCiphertextSize,
    [](Botan::RandomNumberGenerator& rng) { return mlkem768::generate_key_pair(rng); },
    [](ByteView public_key, Botan::RandomNumberGenerator& rng) {
      return mlkem768::encapsulate(public_key, rng);
    },
    mlkem768::decapsulate,
};

const KemAlgorithm kSntrup761{
    "sntrup761x25519-sha512",     "SHA-512",
    sntrup761::kPublicKeySize,    sntrup761::kCiphertextSize,
    sntrup761::generate_key_pair, sntrup761::encapsulate,
    sntrup761::decapsulate,
};

class HybridKem final : public KexMethod {
 public:
  explicit HybridKem(const KemAlgorithm& kem) : kem_(kem) {}

  std::string_view hash_name() const override { return kem_.hash_name; }

  Bytes generate(Botan::RandomNumberGenerator& rng) override {
    try {
      auto pair = kem_.generate(rng);
      kem_secret_key_ = std::move(pair.secret_key);
      Bytes client_init = std::move(pair.public_key);
      const Bytes x25519_public = x25519_generate(rng, x25519_private_);
      client_init.insert(client_init.end(), x25519_public.begin(), x25519_public.end());
      return client_init;
    } catch (const std::exception&) {
      // The interface has no error channel here; agree() reports it.
      kem_secret_key_.clear();
      x25519_private_.clear();
      return {};
    }
  }

  Result<SecureBytes> agree(ByteView server_reply) override {
    if (kem_secret_key_.empty()) return failure("no key pair (generate() not called or failed)");
    if (server_reply.size() != kem_.ciphertext_size + kX25519Size) {
      return failure("server's reply must be " + std::to_string(kem_.ciphertext_size) +
                     "-byte ciphertext + 32-byte X25519 value, got " +
                     std::to_string(server_reply.size()) + " bytes");
    }
    auto kem_secret = kem_.decapsulate(kem_secret_key_, server_reply.first(kem_.ciphertext_size));
    if (!kem_secret) return kem_secret.take_error();
    auto x25519_secret =
        x25519_agree(x25519_private_, server_reply.subspan(kem_.ciphertext_size), kem_.method_name);
    if (!x25519_secret) return x25519_secret.take_error();
    return combine(*kem_secret, *x25519_secret);
  }

  Result<ServerReply> respond(ByteView client_init, Botan::RandomNumberGenerator& rng) override {
    if (client_init.size() != kem_.public_key_size + kX25519Size) {
      return failure("client's value must be " + std::to_string(kem_.public_key_size) +
                     "-byte public key + 32-byte X25519 value, got " +
                     std::to_string(client_init.size()) + " bytes");
    }
    try {
      auto encapsulation = kem_.encapsulate(client_init.first(kem_.public_key_size), rng);
      if (!encapsulation) return encapsulation.take_error();
      const Bytes x25519_public = x25519_generate(rng, x25519_private_);
      auto x25519_secret = x25519_agree(x25519_private_, client_init.subspan(kem_.public_key_size),
                                        kem_.method_name);
      if (!x25519_secret) return x25519_secret.take_error();
      auto shared_secret = combine(encapsulation->shared_secret, *x25519_secret);
      if (!shared_secret) return shared_secret.take_error();
      ServerReply reply;
      reply.server_public = std::move(encapsulation->ciphertext);
      reply.server_public.insert(reply.server_public.end(), x25519_public.begin(),
                                 x25519_public.end());
      reply.shared_secret = std::move(*shared_secret);
      return reply;
    } catch (const std::exception& error) {
      return failure(std::string("random number generator failed: ") + error.what());
    }
  }

 private:
  Error failure(const std::string& message) const {
    return kex_failed(std::string(kem_.method_name) + ": " + message);
  }

  Result<SecureBytes> combine(const SecureBytes& kem_secret, const SecureBytes& x25519_secret) {
    auto hash = Botan::HashFunction::create(std::string(kem_.hash_name));
    if (!hash) return failure("hash " + std::string(kem_.hash_name) + " unavailable");
    hash->update(kem_secret.data(), kem_secret.size());
    hash->update(x25519_secret.data(), x25519_secret.size());
    const SecureBytes digest = hash->final();
    SecureBytes encoded;
    wire::SecureWriter writer(encoded);
    writer.string(ByteView(digest));
    return encoded;
  }

  const KemAlgorithm& kem_;
  SecureBytes kem_secret_key_;
  SecureBytes x25519_private_;
};

}  // namespace

std::unique_ptr<KexMethod> make_mlkem768x25519_sha256() {
  return std::make_unique<HybridKem>(kMlkem768);
}

std::unique_ptr<KexMethod> make_sntrup761x25519_sha512() {
  return std::make_unique<HybridKem>(kSntrup761);
}

}  // namespace ssh::kex::internal
