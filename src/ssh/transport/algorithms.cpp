#include "ssh/transport/algorithms.hpp"

#include <algorithm>

#include "ssh/crypto/cipher.hpp"

namespace ssh::transport {
namespace {

bool contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool is_pseudo_algorithm(std::string_view name) {
  return name == kExtInfoClient || name == kExtInfoServer || name == kStrictKexClient ||
         name == kStrictKexServer;
}

std::optional<std::string> first_match(const std::vector<std::string>& client,
                                       const std::vector<std::string>& server) {
  for (const auto& name : client) {
    if (is_pseudo_algorithm(name)) continue;
    if (contains(server, name)) return name;
  }
  return std::nullopt;
}

Error no_match(std::string_view category, const std::vector<std::string>& client,
               const std::vector<std::string>& server) {
  return {DisconnectReason::KeyExchangeFailed, "no matching " + std::string(category) +
                                                   " found: client offers [" + join_names(client) +
                                                   "], server offers [" + join_names(server) + "]"};
}

}  // namespace

std::string join_names(const std::vector<std::string>& names) {
  std::string joined;
  for (const auto& name : names) {
    if (!joined.empty()) joined += ',';
    joined += name;
  }
  return joined;
}

std::vector<std::string> AlgorithmPolicy::default_kex() {
  // The post-quantum hybrids first, as OpenSSH 10 orders them: traffic
  // recorded today stays secret against a future quantum computer.
  return {"mlkem768x25519-sha256",
          "sntrup761x25519-sha512",
          "sntrup761x25519-sha512@openssh.com",
          "curve25519-sha256",
          "curve25519-sha256@libssh.org",
          "ecdh-sha2-nistp256",
          "ecdh-sha2-nistp384",
          "ecdh-sha2-nistp521",
          "diffie-hellman-group16-sha512",
          "diffie-hellman-group18-sha512",
          "diffie-hellman-group14-sha256"};
}

std::vector<std::string> AlgorithmPolicy::default_host_key() {
  return {"ssh-ed25519",         "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
          "ecdsa-sha2-nistp521", "rsa-sha2-512",        "rsa-sha2-256"};
}

std::vector<std::string> AlgorithmPolicy::default_ciphers() {
  std::vector<std::string> gcm = {"aes128-gcm@openssh.com", "aes256-gcm@openssh.com"};
  std::vector<std::string> ciphers;
  if (crypto::cpu_has_aes()) {
    ciphers = gcm;
    ciphers.push_back("chacha20-poly1305@openssh.com");
  } else {
    ciphers.push_back("chacha20-poly1305@openssh.com");
    ciphers.insert(ciphers.end(), gcm.begin(), gcm.end());
  }
  for (const char* ctr : {"aes128-ctr", "aes192-ctr", "aes256-ctr"}) ciphers.push_back(ctr);
  return ciphers;
}

std::vector<std::string> AlgorithmPolicy::default_macs() {
  return {"hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha2-256",
          "hmac-sha2-512"};
}

std::vector<std::string> AlgorithmPolicy::client_compression() {
  return {"zlib@openssh.com", "zlib", "none"};
}

std::vector<std::string> AlgorithmPolicy::server_compression() {
  return {"none", "zlib@openssh.com", "zlib"};
}

AlgorithmPolicy AlgorithmPolicy::defaults() {
  AlgorithmPolicy policy;
  policy.kex = default_kex();
  policy.host_key = default_host_key();
  policy.ciphers = default_ciphers();
  policy.macs = default_macs();
  return policy;
}

KexInitMessage make_kex_init(const AlgorithmPolicy& policy, Role role, bool initial,
                             std::array<std::uint8_t, 16> cookie) {
  KexInitMessage message;
  message.cookie = cookie;
  message.kex_algorithms = policy.kex;
  if (initial) {
    if (role == Role::Client) {
      message.kex_algorithms.emplace_back(kExtInfoClient);
      message.kex_algorithms.emplace_back(kStrictKexClient);
    } else {
      message.kex_algorithms.emplace_back(kStrictKexServer);
    }
  }
  message.server_host_key_algorithms = policy.host_key;
  message.ciphers_client_to_server = policy.ciphers;
  message.ciphers_server_to_client = policy.ciphers;
  message.macs_client_to_server = policy.macs;
  message.macs_server_to_client = policy.macs;
  message.compression_client_to_server = policy.compression;
  message.compression_server_to_client = policy.compression;
  return message;
}

Result<NegotiatedAlgorithms> negotiate(const KexInitMessage& client, const KexInitMessage& server,
                                       Role our_role) {
  NegotiatedAlgorithms result;
  auto kex = first_match(client.kex_algorithms, server.kex_algorithms);
  if (!kex) return no_match("key exchange method", client.kex_algorithms, server.kex_algorithms);
  result.kex = *kex;

  auto host_key = first_match(client.server_host_key_algorithms, server.server_host_key_algorithms);
  if (!host_key) {
    return no_match("host key type", client.server_host_key_algorithms,
                    server.server_host_key_algorithms);
  }
  result.host_key = *host_key;

  auto pick = [](const std::vector<std::string>& c, const std::vector<std::string>& s,
                 std::string_view what, std::string& out) -> Status {
    auto match = first_match(c, s);
    if (!match) return no_match(what, c, s);
    out = *match;
    return {};
  };
  if (auto s = pick(client.ciphers_client_to_server, server.ciphers_client_to_server,
                    "cipher (client to server)", result.cipher_client_to_server);
      !s) {
    return s.take_error();
  }
  if (auto s = pick(client.ciphers_server_to_client, server.ciphers_server_to_client,
                    "cipher (server to client)", result.cipher_server_to_client);
      !s) {
    return s.take_error();
  }
  // AEAD ciphers carry their own authentication; the MAC lists are ignored.
  if (!crypto::is_aead_cipher(result.cipher_client_to_server)) {
    if (auto s = pick(client.macs_client_to_server, server.macs_client_to_server,
                      "MAC (client to server)", result.mac_client_to_server);
        !s) {
      return s.take_error();
    }
  }
  if (!crypto::is_aead_cipher(result.cipher_server_to_client)) {
    if (auto s = pick(client.macs_server_to_client, server.macs_server_to_client,
                      "MAC (server to client)", result.mac_server_to_client);
        !s) {
      return s.take_error();
    }
  }
  if (auto s = pick(client.compression_client_to_server, server.compression_client_to_server,
                    "compression (client to server)", result.compression_client_to_server);
      !s) {
    return s.take_error();
  }
  if (auto s = pick(client.compression_server_to_client, server.compression_server_to_client,
                    "compression (server to client)", result.compression_server_to_client);
      !s) {
    return s.take_error();
  }

  result.strict_kex = contains(client.kex_algorithms, kStrictKexClient) &&
                      contains(server.kex_algorithms, kStrictKexServer);
  const KexInitMessage& peer = our_role == Role::Client ? server : client;
  result.peer_wants_ext_info =
      contains(peer.kex_algorithms, our_role == Role::Client ? kExtInfoServer : kExtInfoClient);

  // RFC 4253 section 7: a guessed packet is wrong unless both the KEX method
  // and the host key algorithm are the first choices of both sides.
  if (peer.first_kex_packet_follows) {
    auto first_real = [](const std::vector<std::string>& names) -> std::string {
      for (const auto& name : names) {
        if (!is_pseudo_algorithm(name)) return name;
      }
      return {};
    };
    const bool guess_right =
        first_real(client.kex_algorithms) == first_real(server.kex_algorithms) &&
        !client.server_host_key_algorithms.empty() && !server.server_host_key_algorithms.empty() &&
        client.server_host_key_algorithms.front() == server.server_host_key_algorithms.front();
    result.ignore_guessed_packet = !guess_right;
  }
  return result;
}

}  // namespace ssh::transport
