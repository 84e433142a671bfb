// libFuzzer target: known_hosts text, lookups against it, and hashing it
// (ssh-keygen -H) with a fixed-seed RNG so every run is reproducible.
#include <botan/chacha_rng.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "ssh/config/known_hosts.hpp"
#include "ssh/keys/keys.hpp"

namespace {

const ssh::keys::PublicKey& fallback_key() {
  static const ssh::keys::PublicKey key =
      ssh::keys::PublicKey::from_openssh_line(
          "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl")
          .value();
  return key;
}

void look_up(const ssh::config::KnownHosts& known_hosts) {
  // Look up with a key the text itself holds when there is one, so matches
  // and mismatches are reached, not only NotFound.
  const ssh::keys::PublicKey* key = &fallback_key();
  std::optional<ssh::keys::PublicKey> first_key;
  if (!known_hosts.entries().empty()) {
    if (auto parsed = ssh::keys::PublicKey::from_blob(known_hosts.entries().front().key_blob)) {
      first_key = std::move(*parsed);
      key = &*first_key;
    }
  }
  (void)known_hosts.lookup("example.com", 22, *key);
  (void)known_hosts.lookup("192.0.2.7", 2222, *key);
  for (const auto& entry : known_hosts.entries()) {
    (void)known_hosts.lookup_name(entry.hosts, *key);
  }
  for (const auto& problem : known_hosts.problems()) (void)problem.to_string();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ssh::config::KnownHosts known_hosts;
  known_hosts.load_text(text, "fuzz_known_hosts");
  look_up(known_hosts);

  const std::uint8_t seed[32] = {};
  Botan::ChaCha_RNG rng(Botan::secure_vector<std::uint8_t>(std::begin(seed), std::end(seed)));
  if (auto hashed = ssh::config::hash_known_hosts_text(text, "fuzz_known_hosts", rng)) {
    ssh::config::KnownHosts rehashed;
    rehashed.load_text(hashed->text, "fuzz_known_hosts.hashed");
    look_up(rehashed);
  }
  return 0;
}
