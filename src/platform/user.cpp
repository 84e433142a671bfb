#include "platform/user.hpp"

#ifdef _WIN32
#include <windows.h>

#include "platform/text.hpp"
#else
#include <pwd.h>
#include <unistd.h>
#endif

#include <array>
#include <cstdlib>

namespace platform {

#ifdef _WIN32

namespace {

std::optional<std::string> environment(const wchar_t* name) {
  std::array<wchar_t, 32768> buffer{};
  const DWORD size = ::GetEnvironmentVariableW(name, buffer.data(), buffer.size());
  if (size == 0 || size >= buffer.size()) return std::nullopt;
  return wide_to_utf8(std::wstring_view(buffer.data(), size));
}

}  // namespace

std::string current_user_name() {
  std::array<wchar_t, 257> buffer{};
  DWORD size = buffer.size();
  if (::GetUserNameW(buffer.data(), &size) && size > 1) {
    return wide_to_utf8(std::wstring_view(buffer.data(), size - 1));  // size counts the NUL
  }
  if (auto name = environment(L"USERNAME")) return *name;
  return "user";
}

std::string home_directory() {
  if (auto profile = environment(L"USERPROFILE")) return *profile;
  auto drive = environment(L"HOMEDRIVE");
  auto path = environment(L"HOMEPATH");
  if (drive && path) return *drive + *path;
  return "C:\\";
}

std::optional<std::string> home_directory_of(const std::string& user) {
  if (user == current_user_name()) return home_directory();
  return std::nullopt;
}

std::string current_user_id() {
  return "0";
}

std::string local_hostname() {
  std::array<wchar_t, 256> buffer{};
  DWORD size = buffer.size();
  if (!::GetComputerNameExW(ComputerNameDnsHostname, buffer.data(), &size)) return {};
  return wide_to_utf8(std::wstring_view(buffer.data(), size));
}

std::string system_ssh_directory() {
  const auto program_data = environment(L"ProgramData");
  return (program_data ? *program_data : std::string("C:\\ProgramData")) + "\\ssh";
}

#else  // POSIX

std::string current_user_name() {
  std::array<char, 16384> buffer{};
  passwd entry{};
  passwd* found = nullptr;
  if (getpwuid_r(getuid(), &entry, buffer.data(), buffer.size(), &found) == 0 && found) {
    return found->pw_name;
  }
  for (const char* variable : {"USER", "LOGNAME"}) {
    if (const char* value = std::getenv(variable); value && *value) return value;
  }
  return std::to_string(getuid());
}

std::string home_directory() {
  if (const char* home = std::getenv("HOME"); home && *home) return home;
  std::array<char, 16384> buffer{};
  passwd entry{};
  passwd* found = nullptr;
  if (getpwuid_r(getuid(), &entry, buffer.data(), buffer.size(), &found) == 0 && found &&
      found->pw_dir) {
    return found->pw_dir;
  }
  return "/";
}

std::optional<std::string> home_directory_of(const std::string& user) {
  std::array<char, 16384> buffer{};
  passwd entry{};
  passwd* found = nullptr;
  if (getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found) {
    return std::nullopt;
  }
  return std::string(found->pw_dir);
}

std::string current_user_id() {
  return std::to_string(getuid());
}

std::string local_hostname() {
  std::array<char, 256> buffer{};
  if (gethostname(buffer.data(), buffer.size() - 1) != 0) return {};
  return buffer.data();
}

std::string system_ssh_directory() {
  return "/etc/ssh";
}

#endif

}  // namespace platform
