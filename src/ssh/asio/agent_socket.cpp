#include "ssh/asio/agent_socket.hpp"

#include <cstdlib>

#include "platform/named_pipe.hpp"

namespace ssh::net {
namespace {

Error agent_error(std::string message) {
  return Error{DisconnectReason::ByApplication, std::move(message)};
}

std::optional<std::string> environment_value(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

}  // namespace

std::optional<std::string> resolve_agent_path(const std::optional<std::string>& identity_agent) {
  std::optional<std::string> path;
  if (!identity_agent || *identity_agent == "SSH_AUTH_SOCK") {
    path = environment_value("SSH_AUTH_SOCK");
#ifdef _WIN32
    if (!path) path = kDefaultAgentPipe;
#endif
  } else if (*identity_agent == "none") {
    return std::nullopt;
  } else if (identity_agent->size() > 1 && identity_agent->front() == '$') {
    path = environment_value(identity_agent->substr(1));
  } else {
    path = *identity_agent;
  }
  return path;
}

Result<AgentStream> connect_agent(asio::io_context& io, const std::string& path) {
#ifdef _WIN32
  const auto pipe = platform::open_named_pipe_client(path);
  if (pipe.handle == nullptr) {
    return agent_error("cannot connect to the agent at " + path + ": " + pipe.error);
  }
  return AgentStream(io, pipe.handle);
#else
  AgentStream socket(io);
  std::error_code error;
  socket.connect(asio::local::stream_protocol::endpoint(path), error);
  if (error) return agent_error("cannot connect to the agent at " + path + ": " + error.message());
  return socket;
#endif
}

Status AgentStreamTransport::write_all(ByteView data) {
  std::error_code error;
  asio::write(stream_, asio::buffer(data.data(), data.size()), error);
  if (error) return agent_error("agent: write failed: " + error.message());
  return {};
}

Result<std::size_t> AgentStreamTransport::read_some(MutableByteView into) {
  std::error_code error;
  const std::size_t count = stream_.read_some(asio::buffer(into.data(), into.size()), error);
  // A pipe whose server end closed reports a broken pipe rather than EOF.
  if (error == asio::error::eof || error == asio::error::broken_pipe) return std::size_t{0};
  if (error) return agent_error("agent: read failed: " + error.message());
  return count;
}

Result<std::shared_ptr<agent::AgentClient>> open_agent_client(asio::io_context& io,
                                                              const std::string& path) {
  auto stream = connect_agent(io, path);
  if (!stream) return stream.take_error();
  return std::make_shared<agent::AgentClient>(
      std::make_unique<AgentStreamTransport>(std::move(*stream)));
}

}  // namespace ssh::net
