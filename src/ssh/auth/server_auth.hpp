// Server side of user authentication (RFC 4252, RFC 4256, RFC 8332): a
// sans-I/O state machine that accepts the ssh-userauth service, answers
// "none" with the methods on offer, checks publickey signatures against
// keys the program authorizes, and asks the program about passwords and
// keyboard-interactive answers. Which keys are authorized (authorized_keys
// files, a database) is the callbacks' business, so no file is read here.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ssh/auth/messages.hpp"
#include "ssh/common.hpp"
#include "ssh/config/authorized_keys.hpp"
#include "ssh/keys/keys.hpp"
#include "ssh/limits.hpp"

namespace ssh::auth {

struct ServerAuthConfig {
  // Methods offered, in the order listed to the client.
  std::vector<std::string> methods{"publickey"};
  // Failed attempts ("none" and key queries do not count) before the
  // connection is closed, as sshd's MaxAuthTries.
  std::size_t max_attempts = limits::kMaxAuthAttempts;
  // Publickey signature algorithms accepted (PubkeyAcceptedAlgorithms).
  std::vector<std::string> signature_algorithms = keys::supported_signature_algorithms();
  // Sent once, before the first reply, when set.
  std::optional<std::string> banner;
  // Who the client is ("192.0.2.7:50022"), for every log line.
  std::string peer;
};

// A key the program lets the user log in with, and the restrictions that
// come with it (an authorized_keys line's options).
struct KeyAuthorization {
  config::AuthorizedKeyOptions options;
  // Where it was found ("~/.ssh/authorized_keys:3"), for the log.
  std::string source;
};

class ServerAuthCallbacks {
 public:
  virtual ~ServerAuthCallbacks() = default;
  // May `user` log in with `key`? nullopt refuses. Called for a query and
  // again with the signature, so it must give the same answer twice.
  virtual std::optional<KeyAuthorization> authorize_key(std::string_view user,
                                                        const keys::PublicKey& key) = 0;
  // Password check; only asked when "password" is among the methods.
  virtual bool check_password(std::string_view /*user*/, std::string_view /*password*/) {
    return false;
  }
  // keyboard-interactive: the prompts for `user` (nullopt refuses at once),
  // then the check of the answers.
  virtual std::optional<UserauthInfoRequest> keyboard_interactive_prompts(
      std::string_view /*user*/) {
    return std::nullopt;
  }
  virtual bool check_keyboard_interactive(std::string_view /*user*/,
                                          const std::vector<std::string>& /*answers*/) {
    return false;
  }
};

// Who got in, and how.
struct AuthenticatedUser {
  std::string user;
  std::string method;
  std::optional<keys::PublicKey> key;
  config::AuthorizedKeyOptions options;
};

class ServerAuth {
 public:
  using SendPayload = std::function<Status(ByteView)>;

  ServerAuth(ServerAuthConfig config, ServerAuthCallbacks& callbacks, SendPayload send);

  // The first key exchange finished: the session id is known.
  void start(ByteView session_id);
  // SERVICE_REQUEST and message numbers 50-79. Errors end the connection
  // (too many failures: NoMoreAuthMethodsAvailable).
  Status handle(ByteView payload);

  bool succeeded() const { return state_ == State::Done; }
  const AuthenticatedUser& authenticated() const { return authenticated_; }
  std::size_t failed_attempts() const { return failures_; }

 private:
  enum class State { WaitServiceRequest, WaitRequest, WaitInfoResponse, Done };

  Status handle_service_request(ByteView payload);
  Status handle_request(ByteView payload);
  Status handle_publickey(const UserauthRequest& request);
  Status handle_password(const UserauthRequest& request);
  Status handle_keyboard_interactive(const UserauthRequest& request);
  Status handle_info_response(ByteView payload);
  Status succeed(const UserauthRequest& request, std::optional<keys::PublicKey> key,
                 config::AuthorizedKeyOptions options);
  // Counts a failure (unless `counts` is false) and sends USERAUTH_FAILURE.
  Status refuse(bool counts);
  template <class Message>
  Status send(const Message& message);

  ServerAuthConfig config_;
  ServerAuthCallbacks& callbacks_;
  SendPayload send_;
  Bytes session_id_;
  State state_ = State::WaitServiceRequest;
  std::optional<std::string> user_;
  std::size_t failures_ = 0;
  std::size_t requests_ = 0;
  bool banner_sent_ = false;
  AuthenticatedUser authenticated_;
};

}  // namespace ssh::auth
