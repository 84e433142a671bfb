#include "platform/windows_paths.hpp"

#include <fmt/format.h>

#include <optional>
#include <vector>

#include "ssh/log.hpp"

namespace platform {
namespace {

bool is_separator(char c) {
  return c == '\\' || c == '/';
}
bool is_ascii_letter(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
char to_upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}
char to_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// The input as it may appear in a message or a log line: control bytes
// (NUL among them) as \xNN, everything else (UTF-8 too) as given.
std::string printable(std::string_view text) {
  std::string shown;
  shown.reserve(text.size() + 2);
  shown += '"';
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      shown += fmt::format("\\x{:02x}", byte);
    } else {
      shown += c;
    }
  }
  shown += '"';
  return shown;
}

PathError error(std::string_view input, std::string_view problem) {
  return {fmt::format("{} {}", printable(input), problem)};
}

// The length in bytes of the UTF-8 sequence that starts with lead (1 for
// ASCII and for bytes that start no sequence).
std::size_t utf8_sequence_length(unsigned char lead) {
  if (lead >= 0xf0 && lead <= 0xf7) return 4;
  if (lead >= 0xe0) return lead <= 0xef ? 3 : 1;
  if (lead >= 0xc0) return 2;
  return 1;
}

std::optional<PathError> control_character_problem(std::string_view input) {
  for (std::size_t i = 0; i < input.size(); ++i) {
    const auto byte = static_cast<unsigned char>(input[i]);
    if (byte == 0) return error(input, fmt::format("contains a NUL byte at offset {}", i));
    if (byte < 0x20 || byte == 0x7f) {
      return error(input,
                   fmt::format("contains the control character \\x{:02x} at offset {}", byte, i));
    }
  }
  return std::nullopt;
}

constexpr std::string_view kForbiddenInWindowsNames = "<>:\"|?*";

std::optional<PathError> forbidden_character_problem(std::string_view input, std::string_view name,
                                                     std::string_view forbidden) {
  const auto at = name.find_first_of(forbidden);
  if (at == std::string_view::npos) return std::nullopt;
  return error(input, fmt::format("has '{}' in the name \"{}\", which Windows file names cannot "
                                  "contain",
                                  name[at], name));
}

bool has_dot_dot_component(std::string_view path) {
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = start;
    while (end < path.size() && !is_separator(path[end])) ++end;
    if (path.substr(start, end - start) == "..") return true;
    start = end + 1;
  }
  return false;
}

// An absolute Windows path taken apart: the drive or UNC root, then the
// components with "." and ".." resolved.
struct ParsedPath {
  char drive = 0;  // upper case; 0 for UNC
  std::string server;
  std::string share;
  std::vector<std::string> components;
};

// Appends the components of rest (split at separators) to parsed, resolving
// "." and "..". root_name says what ".." must not climb above.
std::optional<PathError> add_components(std::string_view input, std::string_view rest,
                                        std::string_view separators, std::string_view forbidden,
                                        std::string_view root_name, ParsedPath& parsed) {
  std::size_t start = 0;
  while (start < rest.size()) {
    std::size_t end = rest.find_first_of(separators, start);
    if (end == std::string_view::npos) end = rest.size();
    const std::string_view name = rest.substr(start, end - start);
    start = end + 1;
    if (name.empty() || name == ".") continue;
    if (name == "..") {
      if (parsed.components.empty()) {
        return error(input, fmt::format("climbs above {} with \"..\"", root_name));
      }
      parsed.components.pop_back();
      continue;
    }
    if (auto problem = forbidden_character_problem(input, name, forbidden)) return problem;
    parsed.components.emplace_back(name);
  }
  return std::nullopt;
}

constexpr std::string_view kRequired =
    "an absolute Windows path such as C:\\dir or \\\\server\\share\\dir is required";

PathResult<ParsedPath> parse_absolute_windows_path(std::string_view input) {
  if (input.empty()) return PathError{fmt::format("empty path: {}", kRequired)};
  if (auto problem = control_character_problem(input)) return *problem;

  ParsedPath parsed;
  std::string_view rest;
  std::string root_name;
  switch (classify_windows_path(input)) {
    case WindowsPathKind::DriveAbsolute:
      parsed.drive = to_upper(input[0]);
      rest = input.substr(2);
      root_name = fmt::format("the root of drive {}:", parsed.drive);
      break;
    case WindowsPathKind::Unc: {
      const std::string_view after = input.substr(2);
      const auto server_end = after.find_first_of("\\/");
      const std::string_view server = after.substr(0, server_end);
      std::string_view share;
      if (server_end != std::string_view::npos) {
        const std::string_view tail = after.substr(server_end + 1);
        const auto share_end = tail.find_first_of("\\/");
        share = tail.substr(0, share_end);
        rest = share_end == std::string_view::npos ? std::string_view{} : tail.substr(share_end);
      }
      const auto is_name = [](std::string_view name) {
        return !name.empty() && name != "." && name != "..";
      };
      if (!is_name(server) || !is_name(share)) {
        return error(input,
                     "is a UNC path without a server or share name: \\\\server\\share is "
                     "the least a UNC path needs");
      }
      for (const auto name : {server, share}) {
        if (auto problem = forbidden_character_problem(input, name, kForbiddenInWindowsNames)) {
          return *problem;
        }
      }
      parsed.server = server;
      parsed.share = share;
      root_name = fmt::format("the share \\\\{}\\{}", server, share);
      break;
    }
    case WindowsPathKind::DriveRelative:
      if (input.size() == 2) {
        return error(input, fmt::format("is a drive without a path (it means the current "
                                        "directory of drive {0}:); write {0}:\\ for the root of "
                                        "the drive",
                                        to_upper(input[0])));
      }
      return error(input, fmt::format("is drive-relative (relative to the current directory of "
                                      "drive {0}:), not absolute; write {0}:\\{1} if that is "
                                      "meant",
                                      to_upper(input[0]), input.substr(2)));
    case WindowsPathKind::Device:
      return error(input,
                   "is a device path (\\\\?\\, \\\\.\\ or \\??\\ prefix), which is not "
                   "supported (\\\\?\\ skips Win32 normalisation, \\\\.\\ names devices); "
                   "write the path as C:\\dir or \\\\server\\share\\dir");
    case WindowsPathKind::Rooted:
      return error(input,
                   "is rooted at the current drive, not absolute; add the drive letter, "
                   "e.g. C:\\dir");
    case WindowsPathKind::Relative: {
      const std::size_t letter_length = utf8_sequence_length(static_cast<unsigned char>(input[0]));
      if (input.size() > letter_length && input[letter_length] == ':') {
        return error(input, fmt::format("has \"{}\" where a drive letter (A-Z) belongs",
                                        input.substr(0, letter_length)));
      }
      if (has_dot_dot_component(input)) {
        return error(input,
                     fmt::format("is a relative path (with \"..\" components): {}", kRequired));
      }
      return error(input, fmt::format("is a relative path: {}", kRequired));
    }
  }
  if (auto problem =
          add_components(input, rest, "\\/", kForbiddenInWindowsNames, root_name, parsed)) {
    return *problem;
  }
  return parsed;
}

std::string render(const ParsedPath& parsed, char separator) {
  std::string out;
  if (parsed.drive != 0) {
    out = {parsed.drive, ':'};
    if (parsed.components.empty()) out += separator;
  } else {
    out.append(2, separator).append(parsed.server).append(1, separator).append(parsed.share);
  }
  for (const auto& name : parsed.components) out.append(1, separator).append(name);
  return out;
}

PathResult<std::string> logged(std::string_view form, std::string_view input,
                               PathResult<std::string> result) {
  const auto logger = ssh::log::get("platform");
  if (result.ok()) {
    logger->debug("path {} -> {} {}", printable(input), form, printable(result.value()));
  } else {
    logger->debug("path {} has no {} form: {}", printable(input), form, result.error().message);
  }
  return result;
}

PathResult<std::string> windows_form(std::string_view input, char separator) {
  auto parsed = parse_absolute_windows_path(input);
  if (!parsed) return parsed.error();
  return render(parsed.value(), separator);
}

PathResult<std::string> guest_form(std::string_view input) {
  auto parsed = parse_absolute_windows_path(input);
  if (!parsed) return parsed.error();
  if (parsed->drive == 0) {
    return error(input,
                 "is a UNC path, which has no default guest mount point (Linux reads a "
                 "leading // as /, so Cygwin's //server/share form would mount at "
                 "/server/share); set the mount point explicitly");
  }
  std::string out{'/', to_lower(parsed->drive)};
  for (const auto& name : parsed->components) out.append(1, '/').append(name);
  return out;
}

constexpr std::string_view kGuestExpected =
    "expected a guest mount path /<drive letter>/..., such as /c/Users/jan";

PathResult<std::string> windows_from_guest_form(std::string_view input) {
  if (input.empty()) return PathError{fmt::format("empty path: {}", kGuestExpected)};
  if (auto problem = control_character_problem(input)) return *problem;
  if (input[0] != '/') return error(input, fmt::format("is a relative path: {}", kGuestExpected));
  if (input.size() > 1 && input[1] == '/') {
    return error(input,
                 "starts with //, a UNC path in Cygwin's convention; UNC paths have no "
                 "guest mount form");
  }
  const std::string_view after_slash = input.substr(1);
  const std::string_view first = after_slash.substr(0, after_slash.find('/'));
  if (first.size() != 1 || !is_ascii_letter(first[0])) {
    if (!first.empty() &&
        first.size() == utf8_sequence_length(static_cast<unsigned char>(first[0]))) {
      return error(input, fmt::format("has \"{}\" where a drive letter (a-z) belongs", first));
    }
    return error(input, fmt::format("does not start with a drive letter: {}", kGuestExpected));
  }
  ParsedPath parsed;
  parsed.drive = to_upper(first[0]);
  // '\' is an ordinary character in a guest (POSIX) name, but a separator
  // on Windows: a name with one has no Windows form.
  const std::string forbidden = std::string(kForbiddenInWindowsNames) + '\\';
  if (auto problem = add_components(input, after_slash.substr(1), "/", forbidden,
                                    fmt::format("the drive root /{}", first), parsed)) {
    return *problem;
  }
  return render(parsed, '\\');
}

}  // namespace

WindowsPathKind classify_windows_path(std::string_view path) {
  if (path.size() >= 2 && is_ascii_letter(path[0]) && path[1] == ':') {
    return path.size() >= 3 && is_separator(path[2]) ? WindowsPathKind::DriveAbsolute
                                                     : WindowsPathKind::DriveRelative;
  }
  if (path.size() >= 4 && path[0] == '\\' && path[1] == '?' && path[2] == '?' && path[3] == '\\') {
    return WindowsPathKind::Device;  // \??\: the NT object namespace
  }
  if (path.size() >= 2 && is_separator(path[0]) && is_separator(path[1])) {
    if (path.size() >= 3 && (path[2] == '?' || path[2] == '.') &&
        (path.size() == 3 || is_separator(path[3]))) {
      return WindowsPathKind::Device;
    }
    return WindowsPathKind::Unc;
  }
  if (!path.empty() && is_separator(path[0])) return WindowsPathKind::Rooted;
  return WindowsPathKind::Relative;
}

std::string_view windows_path_kind_name(WindowsPathKind kind) {
  switch (kind) {
    case WindowsPathKind::DriveAbsolute:
      return "drive-absolute";
    case WindowsPathKind::DriveRelative:
      return "drive-relative";
    case WindowsPathKind::Unc:
      return "UNC";
    case WindowsPathKind::Device:
      return "device";
    case WindowsPathKind::Rooted:
      return "rooted at the current drive";
    case WindowsPathKind::Relative:
      return "relative";
  }
  return "unknown";
}

bool is_absolute_windows_path(std::string_view path) {
  const auto kind = classify_windows_path(path);
  return kind == WindowsPathKind::DriveAbsolute || kind == WindowsPathKind::Unc ||
         kind == WindowsPathKind::Device;
}

PathResult<std::string> to_native_windows_path(std::string_view path) {
  return logged("native", path, windows_form(path, '\\'));
}

PathResult<std::string> to_forward_slash_path(std::string_view path) {
  return logged("forward-slash", path, windows_form(path, '/'));
}

PathResult<std::string> to_guest_mount_path(std::string_view windows_path) {
  return logged("guest mount", windows_path, guest_form(windows_path));
}

PathResult<std::string> from_guest_mount_path(std::string_view guest_path) {
  return logged("Windows", guest_path, windows_from_guest_form(guest_path));
}

PathResult<CopyOperand> split_copy_operand(std::string_view operand, HostPathStyle host) {
  const auto logger = ssh::log::get("platform");
  const auto refuse = [&](PathError problem) -> PathResult<CopyOperand> {
    logger->debug("copy operand refused: {}", problem.message);
    return problem;
  };
  const auto host_path = [&]() -> PathResult<CopyOperand> {
    logger->debug("copy operand {} is a host path", printable(operand));
    return CopyOperand{"", std::string(operand)};
  };
  if (operand.empty()) return refuse({"empty copy operand: expected a host path or INSTANCE:PATH"});
  if (const auto nul = operand.find('\0'); nul != std::string_view::npos) {
    return refuse(error(operand, fmt::format("contains a NUL byte at offset {}", nul)));
  }
  // Lima asks filepath.IsAbs, which says no to C:foo: a drive-relative path
  // would otherwise hide an instance named with one letter.
  if (host == HostPathStyle::Windows && is_absolute_windows_path(operand)) return host_path();
  const auto colon = operand.find(':');
  const auto separator = operand.find_first_of(host == HostPathStyle::Windows ? "\\/" : "/");
  if (colon == std::string_view::npos || separator < colon) return host_path();
  if (colon == 0) {
    return refuse(error(operand,
                        "has no instance name before ':' (expected INSTANCE:PATH, or "
                        "./PATH for a host path with a colon)"));
  }
  CopyOperand split{std::string(operand.substr(0, colon)), std::string(operand.substr(colon + 1))};
  logger->debug("copy operand {} -> instance {} path {}", printable(operand),
                printable(split.instance), printable(split.path));
  return split;
}

}  // namespace platform
