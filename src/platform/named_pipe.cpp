#include "platform/named_pipe.hpp"

#ifdef _WIN32

#include <windows.h>
// windows.h first: these need its types.
#include <aclapi.h>
#include <sddl.h>

#include <memory>
#include <system_error>
#include <vector>

namespace platform {
namespace {

std::wstring widen(const std::string& text) {
  if (text.empty()) return {};
  const int length =
      MultiByteToWideChar(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), nullptr, 0);
  std::wstring wide(static_cast<std::size_t>(length), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), wide.data(), length);
  return wide;
}

std::string message_of(DWORD code) {
  return std::system_category().message(static_cast<int>(code));
}

NamedPipeOpen failure(DWORD code) {
  return {nullptr, code, message_of(code)};
}

// The user this process runs as, as a string SID ("S-1-5-21-...").
std::wstring current_user_sid() {
  HANDLE token = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) return {};
  DWORD size = 0;
  GetTokenInformation(token, TokenUser, nullptr, 0, &size);
  std::vector<unsigned char> buffer(size);
  std::wstring result;
  if (size > 0 && GetTokenInformation(token, TokenUser, buffer.data(), size, &size)) {
    LPWSTR text = nullptr;
    if (ConvertSidToStringSidW(reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid, &text)) {
      result = text;
      LocalFree(text);
    }
  }
  CloseHandle(token);
  return result;
}

}  // namespace

NamedPipeOpen open_named_pipe_client(const std::string& path) {
  const std::wstring wide_path = widen(path);
  HANDLE pipe = INVALID_HANDLE_VALUE;
  for (int attempt = 0; attempt < 2; ++attempt) {
    pipe = CreateFileW(wide_path.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                       FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION,
                       nullptr);
    if (pipe != INVALID_HANDLE_VALUE || GetLastError() != ERROR_PIPE_BUSY) break;
    // Every instance is busy: wait (briefly) for one to free up.
    if (!WaitNamedPipeW(wide_path.c_str(), 2000)) break;
  }
  if (pipe == INVALID_HANDLE_VALUE) return failure(GetLastError());
  return {pipe, 0, {}};
}

NamedPipeOpen create_named_pipe_instance(const std::string& path, bool first_instance) {
  const std::wstring user = current_user_sid();
  if (user.empty()) return failure(GetLastError());
  // Owned by the user, open to the user and SYSTEM only, nothing inherited.
  const std::wstring sddl = L"O:" + user + L"D:P(A;;GA;;;" + user + L")(A;;GA;;;SY)";
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), SDDL_REVISION_1,
                                                            &descriptor, nullptr)) {
    return failure(GetLastError());
  }
  SECURITY_ATTRIBUTES attributes{sizeof attributes, descriptor, FALSE};
  DWORD open_mode = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED;
  if (first_instance) open_mode |= FILE_FLAG_FIRST_PIPE_INSTANCE;
  HANDLE pipe =
      CreateNamedPipeW(widen(path).c_str(), open_mode,
                       PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
                       PIPE_UNLIMITED_INSTANCES, 64 * 1024, 64 * 1024, 0, &attributes);
  const DWORD error = GetLastError();
  LocalFree(descriptor);
  if (pipe == INVALID_HANDLE_VALUE) return failure(error);
  return {pipe, 0, {}};
}

bool named_pipe_exists(const std::string& path) {
  // Waits 1 ms for a free instance: no pipe at all is ERROR_FILE_NOT_FOUND.
  if (WaitNamedPipeW(widen(path).c_str(), 1)) return true;
  return GetLastError() != ERROR_FILE_NOT_FOUND;
}

std::string named_pipe_owner_problem(void* handle) {
  PSID owner = nullptr;
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  const DWORD status =
      GetSecurityInfo(static_cast<HANDLE>(handle), SE_KERNEL_OBJECT, OWNER_SECURITY_INFORMATION,
                      &owner, nullptr, nullptr, nullptr, &descriptor);
  if (status != ERROR_SUCCESS) return "cannot read the pipe's owner: " + message_of(status);
  std::wstring owner_text;
  LPWSTR text = nullptr;
  if (owner != nullptr && ConvertSidToStringSidW(owner, &text)) {
    owner_text = text;
    LocalFree(text);
  }
  LocalFree(descriptor);
  const std::wstring user = current_user_sid();
  if (owner_text.empty() || owner_text != user) {
    return "the pipe belongs to another user (" +
           std::string(owner_text.begin(), owner_text.end()) + ")";
  }
  return {};
}

}  // namespace platform

#endif
