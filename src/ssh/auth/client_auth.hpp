// Client side of user authentication (RFC 4252, RFC 4256, RFC 8308/8332):
// a sans-I/O state machine that asks for the ssh-userauth service, probes
// with "none", then tries publickey identities, keyboard-interactive and
// password in the configured order until the server accepts one.
#pragma once

#include <botan/rng.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ssh/auth/identity.hpp"
#include "ssh/auth/messages.hpp"
#include "ssh/common.hpp"
#include "ssh/keys/keys.hpp"

namespace ssh::auth {

struct ClientAuthConfig {
  std::string user;
  // Tried in this order (see order_identities()).
  std::vector<Identity> identities;
  // Methods in the order we try them (OpenSSH's PreferredAuthentications).
  std::vector<std::string> methods{"publickey", "keyboard-interactive", "password"};
  // Signature algorithms publickey auth may use (PubkeyAcceptedAlgorithms);
  // nullopt means every one the key supports.
  std::optional<std::vector<std::string>> signature_algorithms;
  std::size_t max_password_attempts = 3;
};

class ClientAuthCallbacks {
 public:
  virtual ~ClientAuthCallbacks() = default;
  // Password for the user; nullopt gives the method up.
  virtual std::optional<std::string> password_for(std::string_view user) = 0;
  // Answers to keyboard-interactive prompts; nullopt gives the method up.
  virtual std::optional<std::vector<std::string>> keyboard_interactive(
      const UserauthInfoRequest& request) = 0;
  virtual void banner(std::string_view text) = 0;
};

class ClientAuth {
 public:
  using SendPayload = std::function<Status(ByteView)>;

  ClientAuth(ClientAuthConfig config, ClientAuthCallbacks& callbacks, SendPayload send,
             Botan::RandomNumberGenerator& rng);

  // Called once keys are in place: asks for the ssh-userauth service.
  Status start(ByteView session_id);
  // Message numbers 6 (SERVICE_ACCEPT), 7 (EXT_INFO) and 50-79.
  Status handle(ByteView payload);

  bool succeeded() const { return state_ == State::Done; }
  const std::string& method_used() const { return method_used_; }
  // Extension values the server sent in EXT_INFO (server-sig-algs...).
  const std::vector<std::string>& server_signature_algorithms() const { return server_sig_algs_; }

 private:
  enum class State { Idle, WaitServiceAccept, WaitReply, Done };

  Status try_next_method();
  Status send_request(std::string_view method, ByteView method_data);
  std::optional<std::string> next_publickey_attempt(Bytes& method_data);
  std::string choose_signature_algorithm(const keys::PublicKey& key) const;
  Error permission_denied() const;

  ClientAuthConfig config_;
  ClientAuthCallbacks& callbacks_;
  SendPayload send_;
  Botan::RandomNumberGenerator& rng_;
  Bytes session_id_;
  State state_ = State::Idle;
  std::string current_method_;
  std::string method_used_;
  std::vector<std::string> server_methods_;
  std::vector<std::string> server_sig_algs_;
  bool server_sig_algs_known_ = false;
  std::size_t next_identity_ = 0;
  std::size_t password_attempts_ = 0;
  bool keyboard_interactive_tried_ = false;
  std::size_t requests_sent_ = 0;
};

}  // namespace ssh::auth
