// The ssh-agent protocol, client side (draft-miller-ssh-agent, OpenSSH's
// PROTOCOL.agent): message encoding and decoding only. Every message on the
// agent connection is a uint32 length followed by that many bytes, the
// first of which is the message number.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ssh/common.hpp"
#include "ssh/limits.hpp"

namespace ssh::agent {

enum class MessageNumber : std::uint8_t {
  Failure = 5,
  Success = 6,
  RequestIdentities = 11,
  IdentitiesAnswer = 12,
  SignRequest = 13,
  SignResponse = 14,
  ExtensionFailure = 28,
};

// SSH_AGENTC_SIGN_REQUEST flags for RSA keys: which hash to sign with.
inline constexpr std::uint32_t kSignFlagRsaSha2_256 = 0x02;
inline constexpr std::uint32_t kSignFlagRsaSha2_512 = 0x04;

// Largest agent message we accept, as OpenSSH's AGENT_MAX_LEN.
inline constexpr std::size_t kMaxMessageLength = limits::kMaxAgentMessageLength;
// Most identities we take from one answer (OpenSSH's MAX_AGENT_IDENTITIES).
inline constexpr std::uint32_t kMaxIdentities = limits::kMaxAgentIdentities;

struct AgentIdentity {
  Bytes key_blob;
  std::string comment;
};

// The flags asking for `signature_algorithm` ("rsa-sha2-256" -> 2); 0 for
// every algorithm that needs none.
std::uint32_t sign_flags_for(std::string_view signature_algorithm);

// Complete framed requests (length prefix included), ready to write.
Bytes encode_request_identities();
Bytes encode_sign_request(ByteView key_blob, ByteView data, std::uint32_t flags);

// The length of the message at the start of `buffered` once its 4-byte
// prefix is there (nullopt before), or an error when the peer announces an
// empty or oversized message.
Result<std::optional<std::size_t>> message_length(ByteView buffered);

// Decoders take one message body (without the length prefix). An
// SSH_AGENT_FAILURE reply becomes an error saying the agent refused.
Result<std::vector<AgentIdentity>> decode_identities_answer(ByteView message);
// The signature blob (string algorithm, string signature).
Result<Bytes> decode_sign_response(ByteView message);

// Body-level encoders for tests and for an agent implementation.
Bytes encode_identities_answer(const std::vector<AgentIdentity>& identities);
Bytes encode_sign_response(ByteView signature_blob);
// Wraps a message body in its length prefix.
Bytes frame(ByteView message);

}  // namespace ssh::agent
