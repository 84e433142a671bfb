#include "ssh/agent/client.hpp"

namespace ssh::agent {

AgentClient::AgentClient(std::unique_ptr<AgentTransport> transport)
    : transport_(std::move(transport)) {}

Result<Bytes> AgentClient::round_trip(const Bytes& request) {
  if (broken_) return Error{DisconnectReason::ByApplication, "agent: connection unusable"};
  broken_ = true;
  if (auto status = transport_->write_all(request); !status) return status.take_error();
  auto read_exactly = [this](MutableByteView into) -> Status {
    std::size_t done = 0;
    while (done < into.size()) {
      auto count = transport_->read_some(into.subspan(done));
      if (!count) return count.take_error();
      if (*count == 0) {
        return Error{DisconnectReason::ByApplication, "agent: connection closed by the agent"};
      }
      done += *count;
    }
    return {};
  };
  std::uint8_t prefix[4];
  if (auto status = read_exactly(prefix); !status) return status.take_error();
  auto length = message_length(prefix);
  if (!length) return length.take_error();
  Bytes body(**length);
  if (auto status = read_exactly(body); !status) return status.take_error();
  broken_ = false;
  return body;
}

Result<std::vector<AgentIdentity>> AgentClient::list_identities() {
  auto reply = round_trip(encode_request_identities());
  if (!reply) return reply.take_error();
  return decode_identities_answer(*reply);
}

Result<Bytes> AgentClient::sign(ByteView key_blob, ByteView data, std::uint32_t flags) {
  auto reply = round_trip(encode_sign_request(key_blob, data, flags));
  if (!reply) return reply.take_error();
  return decode_sign_response(*reply);
}

}  // namespace ssh::agent
