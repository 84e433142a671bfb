// What publickey authentication offers: a public key and something that
// signs with it, whether a private key in memory (read from a file) or a
// key held by ssh-agent. The auth state machine sees only this interface.
#pragma once

#include <botan/rng.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ssh/agent/protocol.hpp"
#include "ssh/common.hpp"
#include "ssh/keys/keys.hpp"

namespace ssh::agent {
class AgentClient;
}

namespace ssh::auth {

class Signer {
 public:
  virtual ~Signer() = default;
  // The signature blob (string algorithm, string signature) over data, with
  // one of the key's signature_algorithms(). May block briefly (an agent
  // round trip; see ssh/agent/client.hpp for why that is acceptable).
  virtual Result<Bytes> sign(std::string_view signature_algorithm, ByteView data,
                             Botan::RandomNumberGenerator& rng) const = 0;
};

enum class IdentityOrigin { File, Agent };

struct Identity {
  // A private key read from a file: signs in memory.
  Identity(std::string source, keys::PrivateKey key);
  // A key some other signer holds (the agent).
  Identity(std::string source, keys::PublicKey public_key, std::shared_ptr<const Signer> signer,
           IdentityOrigin origin);

  // Where the key came from, for logs: the file name, or the agent's
  // comment for agent keys no identity file names.
  std::string source;
  keys::PublicKey public_key;
  std::shared_ptr<const Signer> signer;
  IdentityOrigin origin = IdentityOrigin::File;
  // True when an IdentityFile names this key (also for agent keys that
  // match one): such keys are "explicit" in ssh -v's words.
  bool explicitly_configured = false;
};

// The agent's keys as identities that sign through `agent`. Keys of types
// we do not support (ssh-dss, certificates, security keys) are skipped with
// a debug log line.
std::vector<Identity> agent_identities(const std::shared_ptr<agent::AgentClient>& agent,
                                       const std::vector<agent::AgentIdentity>& listed);

// The order publickey authentication tries keys in, as OpenSSH's
// pubkey_prepare() builds it:
//   1. the agent's keys, in the agent's order; an agent key that is also an
//      identity file (same public key) is marked explicitly_configured and
//      signs through the agent; with identities_only, agent keys that match
//      no identity file are dropped;
//   2. then the identity files the agent does not hold, in file order.
// `configured_keys` are the public keys of the configured identity files
// (from their .pub files), so that an agent key matches a file whose
// private half is not loaded (passphrase-protected and not asked for).
struct ConfiguredKey {
  std::string file;
  keys::PublicKey public_key;
};
std::vector<Identity> order_identities(std::vector<Identity> file_identities,
                                       const std::vector<ConfiguredKey>& configured_keys,
                                       std::vector<Identity> agent_keys, bool identities_only);

}  // namespace ssh::auth
