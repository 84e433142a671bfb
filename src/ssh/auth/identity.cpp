#include "ssh/auth/identity.hpp"

#include <algorithm>

#include "ssh/agent/client.hpp"
#include "ssh/log.hpp"
#include "ssh/wire/reader.hpp"

namespace ssh::auth {
namespace {

class PrivateKeySigner : public Signer {
 public:
  explicit PrivateKeySigner(keys::PrivateKey key) : key_(std::move(key)) {}
  Result<Bytes> sign(std::string_view signature_algorithm, ByteView data,
                     Botan::RandomNumberGenerator& rng) const override {
    return key_.sign(signature_algorithm, data, rng);
  }

 private:
  keys::PrivateKey key_;
};

class AgentSigner : public Signer {
 public:
  AgentSigner(std::shared_ptr<agent::AgentClient> agent, Bytes key_blob)
      : agent_(std::move(agent)), key_blob_(std::move(key_blob)) {}

  Result<Bytes> sign(std::string_view signature_algorithm, ByteView data,
                     Botan::RandomNumberGenerator&) const override {
    auto signature = agent_->sign(key_blob_, data, agent::sign_flags_for(signature_algorithm));
    if (!signature) return signature;
    // An agent that ignores the RSA flags answers with an ssh-rsa (SHA-1)
    // signature; sending it under the name rsa-sha2-* would only fail later.
    wire::Reader reader(*signature);
    const std::string_view algorithm = reader.text();
    if (!reader.ok() || algorithm != signature_algorithm) {
      return Error{DisconnectReason::ByApplication,
                   "agent: asked for a " + std::string(signature_algorithm) + " signature, got " +
                       std::string(algorithm)};
    }
    return signature;
  }

 private:
  std::shared_ptr<agent::AgentClient> agent_;
  Bytes key_blob_;
};

}  // namespace

Identity::Identity(std::string source_name, keys::PrivateKey key)
    : source(std::move(source_name)),
      public_key(key.public_key()),
      signer(std::make_shared<PrivateKeySigner>(std::move(key))),
      origin(IdentityOrigin::File) {}

Identity::Identity(std::string source_name, keys::PublicKey key,
                   std::shared_ptr<const Signer> key_signer, IdentityOrigin key_origin)
    : source(std::move(source_name)),
      public_key(std::move(key)),
      signer(std::move(key_signer)),
      origin(key_origin) {}

std::vector<Identity> agent_identities(const std::shared_ptr<agent::AgentClient>& agent,
                                       const std::vector<agent::AgentIdentity>& listed) {
  std::vector<Identity> identities;
  for (const auto& entry : listed) {
    auto key = keys::PublicKey::from_blob(entry.key_blob);
    if (!key) {
      log::get("auth")->debug("skipping agent key \"{}\": {}", entry.comment, key.error().message);
      continue;
    }
    identities.emplace_back(entry.comment, std::move(*key),
                            std::make_shared<AgentSigner>(agent, entry.key_blob),
                            IdentityOrigin::Agent);
  }
  return identities;
}

std::vector<Identity> order_identities(std::vector<Identity> file_identities,
                                       const std::vector<ConfiguredKey>& configured_keys,
                                       std::vector<Identity> agent_keys, bool identities_only) {
  std::vector<Identity> ordered;
  // The identity file holding this key, or nullptr.
  auto configured_file = [&](const keys::PublicKey& key) -> const std::string* {
    for (const auto& file : file_identities) {
      if (file.public_key == key) return &file.source;
    }
    for (const auto& configured : configured_keys) {
      if (configured.public_key == key) return &configured.file;
    }
    return nullptr;
  };
  for (auto& agent_key : agent_keys) {
    const std::string* file = configured_file(agent_key.public_key);
    const bool configured = file != nullptr;
    if (!configured && identities_only) continue;
    if (configured) agent_key.source = *file;
    // The same key twice in the agent is offered once.
    if (std::any_of(ordered.begin(), ordered.end(), [&](const Identity& seen) {
          return seen.public_key == agent_key.public_key;
        })) {
      continue;
    }
    agent_key.explicitly_configured = configured;
    ordered.push_back(std::move(agent_key));
  }
  for (auto& file : file_identities) {
    const bool held_by_agent =
        std::any_of(ordered.begin(), ordered.end(),
                    [&](const Identity& seen) { return seen.public_key == file.public_key; });
    if (held_by_agent) continue;
    file.explicitly_configured = true;
    ordered.push_back(std::move(file));
  }
  return ordered;
}

}  // namespace ssh::auth
