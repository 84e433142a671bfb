#include "ssh/common.hpp"

namespace ssh {

std::string_view disconnect_reason_name(DisconnectReason reason) {
  switch (reason) {
    case DisconnectReason::HostNotAllowedToConnect:
      return "host not allowed to connect";
    case DisconnectReason::ProtocolError:
      return "protocol error";
    case DisconnectReason::KeyExchangeFailed:
      return "key exchange failed";
    case DisconnectReason::Reserved:
      return "reserved";
    case DisconnectReason::MacError:
      return "MAC error";
    case DisconnectReason::CompressionError:
      return "compression error";
    case DisconnectReason::ServiceNotAvailable:
      return "service not available";
    case DisconnectReason::ProtocolVersionNotSupported:
      return "protocol version not supported";
    case DisconnectReason::HostKeyNotVerifiable:
      return "host key not verifiable";
    case DisconnectReason::ConnectionLost:
      return "connection lost";
    case DisconnectReason::ByApplication:
      return "by application";
    case DisconnectReason::TooManyConnections:
      return "too many connections";
    case DisconnectReason::AuthCancelledByUser:
      return "auth cancelled by user";
    case DisconnectReason::NoMoreAuthMethodsAvailable:
      return "no more auth methods available";
    case DisconnectReason::IllegalUserName:
      return "illegal user name";
  }
  return "unknown reason";
}

}  // namespace ssh
