// Windows host paths in the form each consumer wants, without cygpath:
// pure string functions (no file system, no environment, no OS calls), so
// they behave the same on every host and are tested on Linux and under wine.
//
// Forms, for the example C:\Users\jan and \\server\share\dir:
//   native         C:\Users\jan         \\server\share\dir    Win32 file APIs, users
//   forward-slash  C:/Users/jan         //server/share/dir    ssh/sftp consumers (Lima's
//                                                             PathForSSH for native OpenSSH)
//   guest mount    /c/Users/jan         (refused, see below)  default mount point in the guest
//                                                             (Lima's WindowsSubsystemPath)
//
// Accepted input: an absolute Windows path, a drive letter (any case, upper
// in native and forward-slash output, lower in guest output), a colon and a
// separator (C:\x, c:/x), or a UNC path (\\server\share..., //server/share...).
// Normalisation, the same for every form: '\' and '/' are both separators;
// runs of separators become one; "." components are dropped; ".." removes
// the component before it, as Win32 resolves paths (lexically, without
// following links), and is an error where it would climb above the drive or
// the share; trailing separators are dropped except on a drive root
// (C:\ -> C:\, C:/, /c).
//
// Refused with an error naming the problem (never an exception): empty
// input, embedded NUL or control characters, relative paths (with or without
// ".."), drive-relative C:foo and a lone C:, paths rooted at the current
// drive (\x), device paths (\\?\..., \\.\..., \??\...: \\?\ skips Win32
// normalisation, so a lexical mapping could misstate it, and \\.\ names
// devices, not files), drive "letters" outside A-Z (1:\x, or a non-ASCII
// character), UNC paths without server or share, and names with characters
// Windows forbids (<>:"|?*).
//
// UNC paths have no guest mount form: Lima (through cygpath) would make
// //server/share/dir of them, but Linux treats a leading "//" as "/", so the
// guest would silently mount at /server/share/dir, a path that says nothing
// of its origin and may collide with a guest directory. The mount itself
// works (the host serves the share over SFTP); the user names its mount
// point, and the error says so.
//
// Every mapping is logged at debug on the "ssh.platform" logger (input ->
// output, or the refusal), so a --debug trace shows what limactl made of a
// path.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace platform {

struct PathError {
  std::string message;  // names the input and the problem, e.g. "\"C:foo\" is drive-relative..."
};

template <class T>
class [[nodiscard]] PathResult {
 public:
  PathResult(T value) : state_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
  PathResult(PathError error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }
  const PathError& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, PathError> state_;
};

// What a string is as a Windows path, by Win32's rules (as Go's
// filepath.IsAbs on Windows). Total: any string has a kind; whether it is
// well formed is for the mapping functions to say.
enum class WindowsPathKind {
  DriveAbsolute,  // C:\x, C:/x, C:\ (any letter A-Z, any case)
  DriveRelative,  // C:foo, C: (relative to drive C's current directory)
  Unc,            // \\server\share\x, //server/share/x (also malformed: \\server)
  Device,         // \\?\C:\x, \\.\pipe\x, //?/..., \??\...
  Rooted,         // \x or /x: rooted at the current drive, so not absolute
  Relative,       // x\y, ..\y, "" (and 1:\x: '1' is no drive letter)
};

WindowsPathKind classify_windows_path(std::string_view path);
std::string_view windows_path_kind_name(WindowsPathKind kind);
// DriveAbsolute or Unc (or Device): what Lima's copy treats as a local path.
bool is_absolute_windows_path(std::string_view path);

// C:/Users/jan or c:\Users\\jan\ -> C:\Users\jan; //server/share/dir -> \\server\share\dir.
PathResult<std::string> to_native_windows_path(std::string_view path);
// C:\Users\jan -> C:/Users/jan; \\server\share\dir -> //server/share/dir.
PathResult<std::string> to_forward_slash_path(std::string_view path);
// C:\Users\jan -> /c/Users/jan; C:\ -> /c. UNC paths are refused (see above).
PathResult<std::string> to_guest_mount_path(std::string_view windows_path);
// /c/Users/jan -> C:\Users\jan; /c and /c/ -> C:\ (the drive root, as cygpath
// maps them). Anything else (relative, /cd/x, //server/share, a name with a
// character Windows forbids, such as '\' or ':') is refused: it names no
// Windows path.
PathResult<std::string> from_guest_mount_path(std::string_view guest_path);

// Which path rules the host uses when it splits copy operands.
enum class HostPathStyle { Posix, Windows };
#ifdef _WIN32
inline constexpr HostPathStyle kHostPathStyle = HostPathStyle::Windows;
#else
inline constexpr HostPathStyle kHostPathStyle = HostPathStyle::Posix;
#endif

// One operand of `limactl copy`: a host path (instance empty), or a path in
// the named instance.
struct CopyOperand {
  std::string instance;
  std::string path;
  bool is_host() const { return instance.empty(); }
  bool operator==(const CopyOperand&) const = default;
};

// Splits "instance:path" from a host path, as Lima's parseCopyPaths does
// (with scp's rule added: a colon after a separator is part of a host path,
// so ./a:b stays local):
//  - on a Windows host, an absolute Windows path (C:\x, C:/x, UNC, device) is
//    a host path; C:foo is NOT absolute, so it is instance "C", path "foo";
//  - otherwise a colon before any separator ('/', and '\' on Windows) splits
//    instance from path; "name:" is the instance's home directory (path "");
//  - anything else (foo, ./a:b, /tmp/x) is a host path, kept as given.
// Errors: empty operand, NUL, ":path" without an instance name.
PathResult<CopyOperand> split_copy_operand(std::string_view operand,
                                           HostPathStyle host = kHostPathStyle);

}  // namespace platform
