// libFuzzer target: KEXINIT decoding and negotiation. The input's first two
// messages (fuzz_input.hpp) are decoded as the client's and the server's
// KEXINIT payloads; when both decode, negotiate() runs in both roles, and
// each one is also negotiated against our own default KEXINIT. A result
// must name algorithms that both sides listed (else abort).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "ssh/transport/algorithms.hpp"
#include "ssh/transport/messages.hpp"

namespace {

using ssh::transport::KexInitMessage;

bool listed(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

void check(const KexInitMessage& client, const KexInitMessage& server) {
  for (ssh::Role role : {ssh::Role::Client, ssh::Role::Server}) {
    auto result = ssh::transport::negotiate(client, server, role);
    if (!result) continue;
    const auto& chosen = *result;
    if (!listed(client.kex_algorithms, chosen.kex) || !listed(server.kex_algorithms, chosen.kex) ||
        !listed(client.server_host_key_algorithms, chosen.host_key) ||
        !listed(server.server_host_key_algorithms, chosen.host_key) ||
        !listed(client.ciphers_client_to_server, chosen.cipher_client_to_server) ||
        !listed(server.ciphers_client_to_server, chosen.cipher_client_to_server) ||
        !listed(client.ciphers_server_to_client, chosen.cipher_server_to_client) ||
        !listed(server.ciphers_server_to_client, chosen.cipher_server_to_client)) {
      __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto messages = fuzz::split_messages(data, size);
  if (messages.empty()) return 0;
  const auto ours_as_client = ssh::transport::make_kex_init(
      ssh::transport::AlgorithmPolicy::defaults(), ssh::Role::Client, true, {});
  const auto ours_as_server = ssh::transport::make_kex_init(
      ssh::transport::AlgorithmPolicy::defaults(), ssh::Role::Server, true, {});
  auto first = KexInitMessage::decode(messages[0].bytes);
  if (first) {
    check(*first, ours_as_server);
    check(ours_as_client, *first);
  }
  if (messages.size() < 2) return 0;
  auto second = KexInitMessage::decode(messages[1].bytes);
  if (first && second) check(*first, *second);
  return 0;
}
