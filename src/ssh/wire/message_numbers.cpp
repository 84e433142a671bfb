#include "ssh/wire/message_numbers.hpp"

namespace ssh::wire {

std::string_view message_name(std::uint8_t n) {
  switch (n) {
    case 1:
      return "DISCONNECT";
    case 2:
      return "IGNORE";
    case 3:
      return "UNIMPLEMENTED";
    case 4:
      return "DEBUG";
    case 5:
      return "SERVICE_REQUEST";
    case 6:
      return "SERVICE_ACCEPT";
    case 7:
      return "EXT_INFO";
    case 20:
      return "KEXINIT";
    case 21:
      return "NEWKEYS";
    case 30:
      return "KEX_ECDH_INIT";
    case 31:
      return "KEX_ECDH_REPLY";
    case 50:
      return "USERAUTH_REQUEST";
    case 51:
      return "USERAUTH_FAILURE";
    case 52:
      return "USERAUTH_SUCCESS";
    case 53:
      return "USERAUTH_BANNER";
    case 60:
      return "USERAUTH_60";
    case 61:
      return "USERAUTH_INFO_RESPONSE";
    case 80:
      return "GLOBAL_REQUEST";
    case 81:
      return "REQUEST_SUCCESS";
    case 82:
      return "REQUEST_FAILURE";
    case 90:
      return "CHANNEL_OPEN";
    case 91:
      return "CHANNEL_OPEN_CONFIRMATION";
    case 92:
      return "CHANNEL_OPEN_FAILURE";
    case 93:
      return "CHANNEL_WINDOW_ADJUST";
    case 94:
      return "CHANNEL_DATA";
    case 95:
      return "CHANNEL_EXTENDED_DATA";
    case 96:
      return "CHANNEL_EOF";
    case 97:
      return "CHANNEL_CLOSE";
    case 98:
      return "CHANNEL_REQUEST";
    case 99:
      return "CHANNEL_SUCCESS";
    case 100:
      return "CHANNEL_FAILURE";
    default:
      return "unknown message";
  }
}

}  // namespace ssh::wire
