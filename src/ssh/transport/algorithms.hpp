// Algorithm policy and negotiation (RFC 4253 section 7.1).
//
// The policy lists what we offer, in order of preference; negotiate() is a
// pure function of the two KEXINIT messages: for each category it takes the
// first of the client's names that the server also lists.
#pragma once

#include <string>
#include <vector>

#include "ssh/common.hpp"
#include "ssh/transport/messages.hpp"

namespace ssh::transport {

// Pseudo-algorithms signalling extensions in the kex_algorithms list.
inline constexpr std::string_view kExtInfoClient = "ext-info-c";
inline constexpr std::string_view kExtInfoServer = "ext-info-s";
inline constexpr std::string_view kStrictKexClient = "kex-strict-c-v00@openssh.com";
inline constexpr std::string_view kStrictKexServer = "kex-strict-s-v00@openssh.com";

struct AlgorithmPolicy {
  std::vector<std::string> kex;
  std::vector<std::string> host_key;
  std::vector<std::string> ciphers;
  std::vector<std::string> macs;
  std::vector<std::string> compression{"none"};

  // Our defaults: the post-quantum hybrids first, then curve25519; AES-GCM first when the CPU has
  // AES instructions, ChaCha20-Poly1305 otherwise; EtM MACs before the others.
  static AlgorithmPolicy defaults();
  static std::vector<std::string> default_kex();
  static std::vector<std::string> default_host_key();
  static std::vector<std::string> default_ciphers();
  static std::vector<std::string> default_macs();
  // A client asked to compress (ssh -C, Compression yes) prefers the
  // delayed method, as OpenSSH does; a server takes either on request and
  // compresses nothing unless asked.
  static std::vector<std::string> client_compression();
  static std::vector<std::string> server_compression();
};

// Builds our KEXINIT from a policy. initial adds the extension signals
// (ext-info and strict KEX), which are sent in the first KEXINIT only.
KexInitMessage make_kex_init(const AlgorithmPolicy& policy, Role role, bool initial,
                             std::array<std::uint8_t, 16> cookie);

struct NegotiatedAlgorithms {
  std::string kex;
  std::string host_key;
  std::string cipher_client_to_server;
  std::string cipher_server_to_client;
  std::string mac_client_to_server;  // empty for AEAD ciphers
  std::string mac_server_to_client;
  std::string compression_client_to_server;
  std::string compression_server_to_client;
  // Both sides offered strict KEX (the Terrapin countermeasure).
  bool strict_kex = false;
  // The peer asked for SSH_MSG_EXT_INFO (server role: client sent ext-info-c).
  bool peer_wants_ext_info = false;
  // The peer's guessed first KEX packet is wrong and must be ignored.
  bool ignore_guessed_packet = false;
};

// Errors carry DisconnectReason::KeyExchangeFailed and name the category
// with both sides' lists, so a log shows why nothing matched.
Result<NegotiatedAlgorithms> negotiate(const KexInitMessage& client, const KexInitMessage& server,
                                       Role our_role);

std::string join_names(const std::vector<std::string>& names);

}  // namespace ssh::transport
