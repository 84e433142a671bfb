#include "ssh/asio/agent_socket.hpp"

#include <cstdlib>

#ifdef _WIN32
#include <windows.h>
#endif

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
  const std::wstring wide_path(path.begin(), path.end());
  HANDLE pipe = INVALID_HANDLE_VALUE;
  for (int attempt = 0; attempt < 2; ++attempt) {
    pipe = CreateFileW(wide_path.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                       FILE_FLAG_OVERLAPPED, nullptr);
    if (pipe != INVALID_HANDLE_VALUE || GetLastError() != ERROR_PIPE_BUSY) break;
    // Every instance is busy: wait (briefly) for one to free up.
    if (!WaitNamedPipeW(wide_path.c_str(), 2000)) break;
  }
  if (pipe == INVALID_HANDLE_VALUE) {
    return agent_error("cannot connect to the agent at " + path + ": " +
                       std::system_category().message(static_cast<int>(GetLastError())));
  }
  return AgentStream(io, pipe);
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
  if (error == asio::error::eof) return std::size_t{0};
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
