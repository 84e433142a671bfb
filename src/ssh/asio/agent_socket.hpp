// Connections to the local ssh-agent: a Unix-domain socket ($SSH_AUTH_SOCK)
// on POSIX, a named pipe (\\.\pipe\openssh-ssh-agent, Windows OpenSSH's
// agent) on Windows. Both are Asio stream objects, so the blocking client
// (ssh/agent/client.hpp) and the forwarding relay (agent_forwarding.hpp)
// use the same code on either system.
#pragma once

#include <asio.hpp>
#include <memory>
#include <optional>
#include <string>

#include "ssh/agent/client.hpp"
#include "ssh/common.hpp"

namespace ssh::net {

#ifdef _WIN32
using AgentStream = asio::windows::stream_handle;
inline constexpr const char* kDefaultAgentPipe = R"(\\.\pipe\openssh-ssh-agent)";
#else
using AgentStream = asio::local::stream_protocol::socket;
#endif

// Where the agent is, from IdentityAgent's value: nullopt (not set) means
// $SSH_AUTH_SOCK; "none" means no agent; "SSH_AUTH_SOCK" or "$NAME" name an
// environment variable holding the path; anything else is the path itself.
// Returns nullopt when there is no agent to use. On Windows an unset
// SSH_AUTH_SOCK means the OpenSSH agent's pipe, as Windows OpenSSH does.
std::optional<std::string> resolve_agent_path(const std::optional<std::string>& identity_agent);

// Connects to the agent at path (blocking: it is local).
Result<AgentStream> connect_agent(asio::io_context& io, const std::string& path);

// The blocking byte stream the agent client talks through.
class AgentStreamTransport : public agent::AgentTransport {
 public:
  explicit AgentStreamTransport(AgentStream stream) : stream_(std::move(stream)) {}
  Status write_all(ByteView data) override;
  Result<std::size_t> read_some(MutableByteView into) override;

 private:
  AgentStream stream_;
};

// resolve + connect + wrap: an AgentClient, or an error naming the path.
Result<std::shared_ptr<agent::AgentClient>> open_agent_client(asio::io_context& io,
                                                              const std::string& path);

}  // namespace ssh::net
