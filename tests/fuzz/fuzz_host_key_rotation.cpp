// libFuzzer target: host key rotation (OpenSSH PROTOCOL 2.5) as a client
// sees it from a hostile server: the announcement and the prove reply are
// arbitrary bytes, decoded, planned against a known_hosts view holding the
// fixed key, and verified. The server's side decodes an arbitrary prove
// request and answers it with the fixed key.
#include <cstddef>
#include <cstdint>

#include "fuzz_input.hpp"
#include "ssh/connection/messages.hpp"
#include "ssh/hostkeys/host_key_rotation.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto messages = fuzz::split_messages(data, size);
  if (messages.empty()) return 0;
  const ssh::Bytes session_id(32, 0x5a);
  const auto& key = fuzz::host_key();
  auto rng = fuzz::seeded_rng(3);

  if (messages[0].flag) {
    // Server: a prove request from the client.
    if (auto request = ssh::connection::HostKeysProveRequest::decode(messages[0].bytes)) {
      (void)ssh::hostkeys::prove_host_keys(*request, {key}, session_id, "ssh-ed25519", rng);
    }
    return 0;
  }
  auto announcement = ssh::connection::HostKeysAnnouncement::decode(messages[0].bytes);
  if (!announcement) return 0;
  ssh::hostkeys::KnownHostKeys known;
  known.known = {key.public_key().blob()};
  known.removable = known.known;
  auto plan = ssh::hostkeys::plan_update(*announcement, known, {});
  if (!plan) return 0;
  (void)plan->summary();
  if (messages.size() > 1) {
    (void)ssh::hostkeys::verify_proofs(*plan, messages[1].bytes, session_id, "ssh-ed25519");
  }
  return 0;
}
