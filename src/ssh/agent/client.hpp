// A blocking ssh-agent client over an abstract byte stream: the transport
// (Unix socket, Windows named pipe) is supplied by the driver layer
// (ssh/asio/agent_socket.hpp), so this file does no I/O of its own.
//
// Blocking is acceptable here: the agent is a local process that answers
// in milliseconds, and OpenSSH's ssh waits for it in the same way. An agent
// that asks its user to confirm each use (ssh-add -c) holds the caller until
// the user answers, as with ssh.
#pragma once

#include <memory>
#include <vector>

#include "ssh/agent/protocol.hpp"
#include "ssh/common.hpp"

namespace ssh::agent {

class AgentTransport {
 public:
  virtual ~AgentTransport() = default;
  virtual Status write_all(ByteView data) = 0;
  // Reads at least one byte, or returns 0 when the agent closed the stream.
  virtual Result<std::size_t> read_some(MutableByteView into) = 0;
};

class AgentClient {
 public:
  explicit AgentClient(std::unique_ptr<AgentTransport> transport);

  Result<std::vector<AgentIdentity>> list_identities();
  // The signature blob for data, made by the agent's key with this blob;
  // flags as sign_flags_for().
  Result<Bytes> sign(ByteView key_blob, ByteView data, std::uint32_t flags);

 private:
  // Writes a framed request and reads one framed reply body.
  Result<Bytes> round_trip(const Bytes& request);

  std::unique_ptr<AgentTransport> transport_;
  // After a failed exchange the stream is out of step; refuse further use.
  bool broken_ = false;
};

}  // namespace ssh::agent
