// User authentication messages (RFC 4252, RFC 4256) as structs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ssh/common.hpp"
#include "ssh/wire/writer.hpp"

namespace ssh::auth {

inline constexpr std::string_view kUserauthService = "ssh-userauth";
inline constexpr std::string_view kConnectionService = "ssh-connection";

// USERAUTH_REQUEST; method_data is the method-specific tail.
struct UserauthRequest {
  std::string user;
  std::string service;
  std::string method;
  Bytes method_data;
  void encode(wire::Writer& out) const;
  static std::optional<UserauthRequest> decode(ByteView payload);
};

// The publickey tail (RFC 4252 section 7).
struct PublickeyRequestData {
  bool has_signature = false;
  std::string algorithm;
  Bytes public_key;
  Bytes signature;
  Bytes encode() const;
  static std::optional<PublickeyRequestData> decode(ByteView data);
};

// The data a publickey signature covers.
Bytes publickey_signed_data(ByteView session_id, std::string_view user, std::string_view service,
                            std::string_view algorithm, ByteView public_key);

struct UserauthFailure {
  std::vector<std::string> methods;
  bool partial_success = false;
  void encode(wire::Writer& out) const;
  static std::optional<UserauthFailure> decode(ByteView payload);
};

struct UserauthBanner {
  std::string message;
  std::string language;
  void encode(wire::Writer& out) const;
  static std::optional<UserauthBanner> decode(ByteView payload);
};

struct UserauthPkOk {
  std::string algorithm;
  Bytes public_key;
  void encode(wire::Writer& out) const;
  static std::optional<UserauthPkOk> decode(ByteView payload);
};

struct Prompt {
  std::string text;
  bool echo = false;
};

struct UserauthInfoRequest {
  std::string name;
  std::string instruction;
  std::string language;
  std::vector<Prompt> prompts;
  void encode(wire::Writer& out) const;
  static std::optional<UserauthInfoRequest> decode(ByteView payload);
};

struct UserauthInfoResponse {
  std::vector<std::string> responses;
  void encode(wire::Writer& out) const;
  static std::optional<UserauthInfoResponse> decode(ByteView payload);
};

}  // namespace ssh::auth
