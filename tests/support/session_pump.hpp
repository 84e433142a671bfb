// Moves bytes between two sans-I/O SSH sessions (ClientSession, ServerSession
// or anything with has_output/take_output/prepare_receive/commit_received)
// in memory, as a socket pair would, at a fixed time the test chooses.
#pragma once

#include <algorithm>

#include "ssh/common.hpp"
#include "ssh/transport/transport.hpp"

namespace testing_support {

// Hands everything `from` has to send to `to` in one delivery; what `to`
// makes of it (an error, a disconnect) is left for the test to look at.
void move_session_output(auto& from, auto& to, ssh::transport::TimePoint now) {
  if (!from.has_output()) return;
  ssh::Bytes bytes;
  from.take_output(bytes);
  auto space = to.prepare_receive(bytes.size());
  std::copy(bytes.begin(), bytes.end(), space.begin());
  (void)to.commit_received(bytes.size(), now);
}

// Moves output both ways until neither side has any, for at most max_rounds
// rounds (two sides that keep answering each other do not hang a test).
void pump_sessions(auto& client, auto& server, ssh::transport::TimePoint now,
                   int max_rounds = 200) {
  for (int round = 0; round < max_rounds; ++round) {
    if (!client.has_output() && !server.has_output()) return;
    move_session_output(client, server, now);
    move_session_output(server, client, now);
  }
}

}  // namespace testing_support
