// Host key rotation (OpenSSH PROTOCOL 2.5, "hostkeys-00@openssh.com" and
// "hostkeys-prove-00@openssh.com"): the pure decisions of both sides, with
// no I/O, so that the sessions only move messages and the caller owns
// known_hosts.
//
// Server: after user authentication it announces all its host keys; when
// the client asks it to prove some of them it signs, with each key,
//   string("hostkeys-prove-00@openssh.com") || string(session id) || string(key blob).
// Client: compares the announced keys with what known_hosts holds for the
// host, asks for proofs of the new ones, verifies every proof and only then
// records the new keys and forgets the known keys the server stopped
// offering. Anything odd (too many keys, duplicates, a wrong number of
// proofs, one bad signature) abandons the whole update.
#pragma once

#include <botan/rng.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "ssh/common.hpp"
#include "ssh/connection/messages.hpp"
#include "ssh/keys/keys.hpp"

namespace ssh::hostkeys {

// The bytes a proof signs for one key.
Bytes proof_signed_data(ByteView session_id, ByteView key_blob);

// The signature algorithm a server proves `key` with. OpenSSH's client
// verifies an RSA proof with the algorithm the key exchange negotiated when
// that was an RSA one, so the server signs with that; after a non-RSA key
// exchange it uses rsa-sha2-512. Other keys have one algorithm.
std::string proof_signature_algorithm(const keys::PublicKey& key,
                                      std::string_view kex_host_key_algorithm);

// --- Server -------------------------------------------------------------------

connection::HostKeysAnnouncement make_announcement(const std::vector<keys::PrivateKey>& host_keys);

// The reply to a prove request: one signature per requested key, in order.
// An error (the reply is then REQUEST_FAILURE) when a requested key is not
// one of ours, is asked twice, or more keys are asked than we could have.
Result<connection::HostKeysProveReply> prove_host_keys(
    const connection::HostKeysProveRequest& request, const std::vector<keys::PrivateKey>& host_keys,
    ByteView session_id, std::string_view kex_host_key_algorithm,
    Botan::RandomNumberGenerator& rng);

// --- Client -------------------------------------------------------------------

// What the client's known_hosts files say about the host, as key blobs
// (entries of key types we cannot parse still count as known).
struct KnownHostKeys {
  // Every key recorded for the host on an unmarked line, in any file.
  std::vector<Bytes> known;
  // The subset the update may delete: keys on lines of the user's known_hosts
  // file that name exactly this host (one plain name, or a hash of it).
  std::vector<Bytes> removable;
  // Keys marked @revoked for the host: never added.
  std::vector<Bytes> revoked;
  // Removable keys that lines for other hosts also hold. Like OpenSSH, an
  // update that would remove one of these is skipped whole: a key shared
  // with another name is not this server's to retire.
  std::vector<Bytes> also_for_other_hosts;
};

struct HostKeyUpdatePlan {
  // Announced keys we can use, each once, in announcement order.
  std::vector<keys::PublicKey> offered;
  // Offered but not known: the server must prove these before they are added.
  std::vector<keys::PublicKey> to_prove;
  // Removable known keys (of types we can parse) the server no longer
  // announces.
  std::vector<Bytes> to_remove;
  // Announced keys skipped: unparseable, of a type HostKeyAlgorithms does not
  // allow, or revoked.
  std::size_t skipped = 0;

  bool changes_nothing() const { return to_prove.empty() && to_remove.empty(); }
  // "server offers N host keys, M new, R to remove, S skipped".
  std::string summary() const;
};

// Errors mean "ignore the announcement": more than limits::
// kMaxHostKeysAnnounced keys, the same key twice, no usable key at all
// (removing every known key would leave the host unverifiable), or a key to
// remove that other hosts' lines hold too.
// `accepted_algorithms` is the client's host key algorithm list (empty: any
// we support); an RSA key is usable when rsa-sha2-256 or rsa-sha2-512 is in it.
Result<HostKeyUpdatePlan> plan_update(const connection::HostKeysAnnouncement& announcement,
                                      const KnownHostKeys& known_keys,
                                      const std::vector<std::string>& accepted_algorithms);

// Checks the prove reply for plan.to_prove: exactly one valid signature per
// key, in order. RSA proofs must use the algorithm the key exchange
// negotiated when it was an RSA one, else rsa-sha2-256 or rsa-sha2-512
// (never SHA-1). The error says why the update is abandoned.
Status verify_proofs(const HostKeyUpdatePlan& plan, ByteView reply_data, ByteView session_id,
                     std::string_view kex_host_key_algorithm);

}  // namespace ssh::hostkeys
