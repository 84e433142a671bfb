// ssh -f: going on in the background once the work that needs the terminal
// (authentication, setting up forwards) is done.
#pragma once

#include "ssh/common.hpp"

namespace platform {

// The program goes on in a child that has left the terminal's session,
// with stdin from the null device; the parent exits with status 0 at once
// (this returns only in the child). Call it with no other threads running;
// an Asio io_context must then be told (notify_fork). Not available on
// Windows: an error saying so.
ssh::Status continue_in_background();

}  // namespace platform
