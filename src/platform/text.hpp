// UTF-8 <-> UTF-16 for the Windows API's wide-character functions. Our
// strings are UTF-8 everywhere else.
#pragma once

#ifdef _WIN32

#include <string>
#include <string_view>

namespace platform {

std::wstring utf8_to_wide(std::string_view text);
std::string wide_to_utf8(std::wstring_view text);

}  // namespace platform

#endif
