// Who and where the local user is: name, home directory, host name.
// POSIX: the password database (then $USER/$LOGNAME) and $HOME.
// Windows: GetUserNameW (then %USERNAME%) and %USERPROFILE%, as Windows
// OpenSSH does; $HOME is ignored there (wine passes the Linux one through,
// and it is no Windows path).
#pragma once

#include <optional>
#include <string>

namespace platform {

std::string current_user_name();
std::string home_directory();
// The home directory of the named user, for ~user paths; nullopt if there
// is no such user. Windows knows only the current user's.
std::optional<std::string> home_directory_of(const std::string& user);
// The numeric user id as text, for the %i token ("0" on Windows, which has
// none, as in Windows OpenSSH).
std::string current_user_id();
// This machine's host name; empty if unknown.
std::string local_hostname();
// Where system-wide SSH files live (ssh_config, ssh_known_hosts): /etc/ssh;
// on Windows %ProgramData%\ssh (C:\ProgramData\ssh if unset), as Windows
// OpenSSH keeps them.
std::string system_ssh_directory();

}  // namespace platform
