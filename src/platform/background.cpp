#include "platform/background.hpp"

#include <cerrno>
#include <cstring>
#include <string>

#ifndef _WIN32
#include <fcntl.h>
#include <unistd.h>
#endif

namespace platform {

ssh::Status continue_in_background() {
#ifdef _WIN32
  return ssh::Error{ssh::DisconnectReason::ByApplication,
                    "going to the background (-f) is not supported on Windows"};
#else
  const pid_t pid = ::fork();
  if (pid < 0) {
    return ssh::Error{ssh::DisconnectReason::ByApplication,
                      std::string("fork: ") + std::strerror(errno)};
  }
  if (pid > 0) ::_exit(0);
  ::setsid();
  const int null_device = ::open("/dev/null", O_RDWR);
  if (null_device >= 0) {
    ::dup2(null_device, 0);
    if (null_device > 2) ::close(null_device);
  }
  return {};
#endif
}

}  // namespace platform
