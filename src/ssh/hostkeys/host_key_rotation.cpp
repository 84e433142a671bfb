#include "ssh/hostkeys/host_key_rotation.hpp"

#include <algorithm>

#include "ssh/limits.hpp"
#include "ssh/log.hpp"
#include "ssh/wire/reader.hpp"
#include "ssh/wire/writer.hpp"

namespace ssh::hostkeys {
namespace {

constexpr std::string_view kRsaKeyType = "ssh-rsa";
constexpr std::string_view kRsaSha256 = "rsa-sha2-256";
constexpr std::string_view kRsaSha512 = "rsa-sha2-512";

std::shared_ptr<spdlog::logger> logger() {
  static const auto instance = log::get("hostkeys");
  return instance;
}

bool is_rsa_sha2(std::string_view algorithm) {
  return algorithm == kRsaSha256 || algorithm == kRsaSha512;
}

bool contains(const std::vector<Bytes>& blobs, ByteView blob) {
  return std::any_of(blobs.begin(), blobs.end(), [&](const Bytes& known) {
    return std::equal(known.begin(), known.end(), blob.begin(), blob.end());
  });
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool accepted_by_algorithms(const keys::PublicKey& key,
                            const std::vector<std::string>& accepted_algorithms) {
  if (accepted_algorithms.empty()) return true;
  if (key.type() == kRsaKeyType) {
    return contains(accepted_algorithms, kRsaSha256) || contains(accepted_algorithms, kRsaSha512);
  }
  return contains(accepted_algorithms, key.type());
}

// The algorithm named inside a signature blob, or empty when malformed.
std::string_view signature_blob_algorithm(ByteView signature_blob) {
  wire::Reader reader(signature_blob);
  const std::string_view algorithm = reader.text();
  return reader.ok() ? algorithm : std::string_view{};
}

}  // namespace

Bytes proof_signed_data(ByteView session_id, ByteView key_blob) {
  Bytes data;
  wire::Writer out(data);
  out.string(connection::HostKeysProveRequest::kType);
  out.string(session_id);
  out.string(key_blob);
  return data;
}

std::string proof_signature_algorithm(const keys::PublicKey& key,
                                      std::string_view kex_host_key_algorithm) {
  if (key.type() == kRsaKeyType) {
    return std::string(is_rsa_sha2(kex_host_key_algorithm) ? kex_host_key_algorithm : kRsaSha512);
  }
  return key.type();
}

// --- Server -------------------------------------------------------------------

connection::HostKeysAnnouncement make_announcement(const std::vector<keys::PrivateKey>& host_keys) {
  connection::HostKeysAnnouncement announcement;
  for (const auto& key : host_keys) {
    if (!contains(announcement.host_keys, key.public_key().blob())) {
      announcement.host_keys.push_back(key.public_key().blob());
    }
  }
  return announcement;
}

Result<connection::HostKeysProveReply> prove_host_keys(
    const connection::HostKeysProveRequest& request, const std::vector<keys::PrivateKey>& host_keys,
    ByteView session_id, std::string_view kex_host_key_algorithm,
    Botan::RandomNumberGenerator& rng) {
  if (request.host_keys.empty() || request.host_keys.size() > limits::kMaxHostKeysAnnounced) {
    return Error{DisconnectReason::ByApplication,
                 "prove request for " + std::to_string(request.host_keys.size()) + " host keys"};
  }
  connection::HostKeysProveReply reply;
  for (std::size_t i = 0; i < request.host_keys.size(); ++i) {
    const Bytes& blob = request.host_keys[i];
    const auto earlier_end = request.host_keys.begin() + static_cast<std::ptrdiff_t>(i);
    if (std::find(request.host_keys.begin(), earlier_end, blob) != earlier_end) {
      return Error{DisconnectReason::ByApplication, "prove request names a host key twice"};
    }
    const auto key = std::find_if(host_keys.begin(), host_keys.end(), [&](const auto& candidate) {
      return candidate.public_key().blob() == blob;
    });
    if (key == host_keys.end()) {
      return Error{DisconnectReason::ByApplication, "prove request for a key that is not ours"};
    }
    const auto algorithm = proof_signature_algorithm(key->public_key(), kex_host_key_algorithm);
    auto signature = key->sign(algorithm, proof_signed_data(session_id, blob), rng);
    if (!signature) return signature.take_error();
    reply.signatures.push_back(std::move(*signature));
  }
  return reply;
}

// --- Client -------------------------------------------------------------------

std::string HostKeyUpdatePlan::summary() const {
  return "server offers " + std::to_string(offered.size()) + " host keys, " +
         std::to_string(to_prove.size()) + " new, " + std::to_string(to_remove.size()) +
         " to remove, " + std::to_string(skipped) + " skipped";
}

Result<HostKeyUpdatePlan> plan_update(const connection::HostKeysAnnouncement& announcement,
                                      const KnownHostKeys& known_keys,
                                      const std::vector<std::string>& accepted_algorithms) {
  const auto ignored = [](std::string why) {
    return Error{DisconnectReason::ByApplication, "host key update ignored: " + std::move(why)};
  };
  if (announcement.host_keys.size() > limits::kMaxHostKeysAnnounced) {
    return ignored("the server announced " + std::to_string(announcement.host_keys.size()) +
                   " host keys (at most " + std::to_string(limits::kMaxHostKeysAnnounced) + ")");
  }
  for (std::size_t i = 0; i < announcement.host_keys.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (announcement.host_keys[i] == announcement.host_keys[j]) {
        return ignored("the server announced the same host key twice");
      }
    }
  }

  HostKeyUpdatePlan plan;
  for (const auto& blob : announcement.host_keys) {
    auto key = keys::PublicKey::from_blob(blob);
    if (!key) {
      logger()->debug("skipping an announced host key: {}", key.error().message);
      ++plan.skipped;
      continue;
    }
    if (!accepted_by_algorithms(*key, accepted_algorithms)) {
      logger()->debug("skipping announced {} key {}: not in HostKeyAlgorithms", key->type(),
                      key->fingerprint_sha256());
      ++plan.skipped;
      continue;
    }
    if (contains(known_keys.revoked, blob)) {
      logger()->debug("skipping announced {} key {}: it is revoked", key->type(),
                      key->fingerprint_sha256());
      ++plan.skipped;
      continue;
    }
    if (!contains(known_keys.known, blob)) plan.to_prove.push_back(*key);
    plan.offered.push_back(std::move(*key));
  }
  if (plan.offered.empty()) return ignored("the server announced no host key we can use");

  // Compared with every announced blob, not only the usable ones: a key we
  // skipped (a type we cannot use) is still one the server holds.
  for (const auto& blob : known_keys.removable) {
    if (contains(announcement.host_keys, blob) || contains(plan.to_remove, blob)) continue;
    if (!keys::PublicKey::from_blob(blob)) continue;  // only keys we understand, like OpenSSH
    plan.to_remove.push_back(blob);
  }
  for (const auto& blob : plan.to_remove) {
    if (contains(known_keys.also_for_other_hosts, blob)) {
      return ignored("a host key to remove is also recorded for other hosts");
    }
  }
  return plan;
}

Status verify_proofs(const HostKeyUpdatePlan& plan, ByteView reply_data, ByteView session_id,
                     std::string_view kex_host_key_algorithm) {
  const auto abandoned = [](std::string why) {
    return Error{DisconnectReason::ByApplication, "host key update abandoned: " + std::move(why)};
  };
  const auto reply = connection::HostKeysProveReply::decode(reply_data);
  if (!reply) return abandoned("malformed prove reply");
  if (reply->signatures.size() != plan.to_prove.size()) {
    return abandoned("the server sent " + std::to_string(reply->signatures.size()) +
                     " proofs for " + std::to_string(plan.to_prove.size()) + " keys");
  }
  for (std::size_t i = 0; i < plan.to_prove.size(); ++i) {
    const auto& key = plan.to_prove[i];
    const ByteView signature = reply->signatures[i];
    std::string algorithm = key.type();
    if (key.type() == kRsaKeyType) {
      algorithm = is_rsa_sha2(kex_host_key_algorithm)
                      ? std::string(kex_host_key_algorithm)
                      : std::string(signature_blob_algorithm(signature));
    }
    auto verified = key.verify(algorithm, proof_signed_data(session_id, key.blob()), signature);
    if (!verified) {
      return abandoned("bad proof for " + key.type() + " key " + key.fingerprint_sha256() + ": " +
                       verified.error().message);
    }
  }
  return {};
}

}  // namespace ssh::hostkeys
