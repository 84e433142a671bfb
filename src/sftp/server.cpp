#include "sftp/server.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <deque>
#include <type_traits>
#include <utility>

#include "ssh/limits.hpp"
#include "ssh/log.hpp"
#include "ssh/wire/writer.hpp"

namespace sftp {
namespace {

// POSIX allows 40 links in one lookup (Linux's MAXSYMLINKS); so do we.
constexpr int kMaxLinksPerLookup = ssh::limits::kMaxSftpLinksPerLookup;
constexpr std::size_t kCopyChunk = 64 * 1024;

std::shared_ptr<spdlog::logger> logger() {
  static auto instance = ssh::log::get("sftp");
  return instance;
}

const char* default_message(StatusCode code) {
  switch (code) {
    case StatusCode::Ok:
      return "Success";
    case StatusCode::Eof:
      return "End of file";
    case StatusCode::NoSuchFile:
      return "No such file";
    case StatusCode::PermissionDenied:
      return "Permission denied";
    case StatusCode::Failure:
      return "Failure";
    case StatusCode::BadMessage:
      return "Bad message";
    case StatusCode::NoConnection:
      return "No connection";
    case StatusCode::ConnectionLost:
      return "Connection lost";
    case StatusCode::OpUnsupported:
      return "Operation unsupported";
  }
  return "Failure";
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) parts.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

FsError denied(std::string message) {
  return {StatusCode::PermissionDenied, std::move(message)};
}

// "Jan  2  2024": ls -l's form for a date; without a clock (the server has
// none) every date gets its year rather than a time of day.
std::string format_date(std::uint32_t seconds) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::chrono::year_month_day date{std::chrono::sys_days{std::chrono::days{seconds / 86400}}};
  const auto month = static_cast<unsigned>(date.month());
  const auto day = static_cast<unsigned>(date.day());
  const int year = static_cast<int>(date.year());
  char text[32];
  std::snprintf(text, sizeof text, "%s %2u  %4d", kMonths[month - 1], day, year);
  return text;
}

std::string mode_string(std::uint32_t mode) {
  std::string text(10, '-');
  switch (mode & file_type::kMask) {
    case file_type::kDirectory:
      text[0] = 'd';
      break;
    case file_type::kSymlink:
      text[0] = 'l';
      break;
    case file_type::kCharacterDevice:
      text[0] = 'c';
      break;
    case file_type::kBlockDevice:
      text[0] = 'b';
      break;
    case file_type::kFifo:
      text[0] = 'p';
      break;
    case file_type::kSocket:
      text[0] = 's';
      break;
    default:
      break;
  }
  static constexpr char kLetters[] = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) {
    if (mode & (0400u >> i)) text[1 + i] = kLetters[i];
  }
  if (mode & 04000) text[3] = (mode & 0100) ? 's' : 'S';
  if (mode & 02000) text[6] = (mode & 0010) ? 's' : 'S';
  if (mode & 01000) text[9] = (mode & 0001) ? 't' : 'T';
  return text;
}

}  // namespace

struct Server::OpenHandle {
  std::unique_ptr<File> file;
  std::unique_ptr<Directory> directory;
  std::string fs_path;
  bool readable = false;
  bool writable = false;
  bool directory_ended = false;
};

Server::Server(FileSystem& fs, ServerOptions options) : fs_(fs), options_(std::move(options)) {
  if (options_.root.empty()) options_.root = "/";
  // Keep the root without a trailing separator (except "/" itself) so that
  // prefix checks on link targets are exact.
  while (options_.root.size() > 1 && options_.root.back() == '/') options_.root.pop_back();
  for (auto& part : split_path(options_.start_directory)) {
    if (part == ".") continue;
    if (part == "..") {
      if (!start_components_.empty()) start_components_.pop_back();
      continue;
    }
    start_components_.push_back(part);
  }
}

Server::~Server() = default;

void Server::feed(ByteView data) {
  if (failed()) return;
  input_.insert(input_.end(), data.begin(), data.end());
  process();
}

void Server::feed_eof() {
  input_ended_ = true;
  process();
}

bool Server::finished() const {
  // process() decodes every complete packet while there is output room, so
  // with no output pending, what input is left is at most a partial packet
  // that can never complete.
  return !has_output() && (failed() || input_ended_);
}

void Server::take_output(std::size_t max, Bytes& out) {
  const std::size_t count = std::min(max, pending_output());
  out.insert(out.end(), output_.begin() + static_cast<std::ptrdiff_t>(output_start_),
             output_.begin() + static_cast<std::ptrdiff_t>(output_start_ + count));
  output_start_ += count;
  if (output_start_ == output_.size()) {
    output_.clear();
    output_start_ = 0;
  } else if (output_start_ > 256 * 1024 && output_start_ > output_.size() / 2) {
    output_.erase(output_.begin(), output_.begin() + static_cast<std::ptrdiff_t>(output_start_));
    output_start_ = 0;
  }
  process();
}

Bytes Server::take_output(std::size_t max) {
  Bytes out;
  take_output(max, out);
  return out;
}

void Server::fail(std::string reason) {
  logger()->warn("sftp: closing the session: {}", reason);
  failure_ = std::move(reason);
  input_.clear();
  input_start_ = 0;
}

void Server::process() {
  while (!failed() && pending_output() < options_.output_high_water) {
    const std::size_t available = input_.size() - input_start_;
    if (available < 4) break;
    const std::uint8_t* p = input_.data() + input_start_;
    const std::uint32_t length = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                                 (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
    if (length == 0 || length > kMaxPacketLength) {
      fail("packet length " + std::to_string(length) + " out of range");
      break;
    }
    if (available - 4 < length) break;
    const ByteView packet(p + 4, length);
    input_start_ += 4 + length;
    handle_packet(packet);
  }
  if (input_start_ == input_.size()) {
    input_.clear();
    input_start_ = 0;
  } else if (input_start_ > 256 * 1024 && input_start_ > input_.size() / 2) {
    input_.erase(input_.begin(), input_.begin() + static_cast<std::ptrdiff_t>(input_start_));
    input_start_ = 0;
  }
}

void Server::send(const Packet& packet) {
  encode(packet, output_);
}

void Server::send_status(std::uint32_t id, StatusCode code, std::string message) {
  if (message.empty()) message = default_message(code);
  if (code != StatusCode::Ok && code != StatusCode::Eof) {
    logger()->debug("sftp: request {} -> {} ({})", id, status_code_name(code), message);
  }
  send(Status{id, code, std::move(message), "en"});
}

void Server::send_error(std::uint32_t id, const FsError& error) {
  send_status(id, error.code, error.message);
}

template <class T>
void Server::send_fs_status(std::uint32_t id, const FsResult<T>& result) {
  if (result.ok()) {
    send_status(id, StatusCode::Ok);
  } else {
    send_error(id, result.error());
  }
}

bool Server::refuse_if_read_only(std::uint32_t id, const char* what) {
  if (!options_.read_only) return false;
  logger()->debug("sftp: {} refused: read-only", what);
  send_status(id, StatusCode::PermissionDenied, "read-only server");
  return true;
}

void Server::handle_packet(ByteView packet) {
  auto decoded = decode(packet);
  if (!decoded.ok()) {
    const auto id = peek_request_id(packet);
    if (!initialized_ || !id) {
      fail(decoded.error().message);
      return;
    }
    const std::uint8_t type = packet[0];
    const bool known = (type >= 3 && type <= 20) || type == 200;
    logger()->debug("{} (request {})", decoded.error().message, *id);
    send_status(*id, known ? StatusCode::BadMessage : StatusCode::OpUnsupported,
                known ? "malformed request" : "unsupported request type");
    return;
  }
  Packet& request = decoded.value();
  if (!initialized_) {
    if (auto* init = std::get_if<Init>(&request)) {
      on_init(*init);
    } else {
      fail(std::string("request before INIT: ") + packet_type_name(packet_type(request)));
    }
    return;
  }
  std::visit(
      [this](auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, Init>) {
          fail("second INIT");
        } else if constexpr (std::is_same_v<T, Open>) {
          on_open(r);
        } else if constexpr (std::is_same_v<T, Close>) {
          on_close(r);
        } else if constexpr (std::is_same_v<T, Read>) {
          on_read(r);
        } else if constexpr (std::is_same_v<T, Write>) {
          on_write(r);
        } else if constexpr (std::is_same_v<T, Lstat>) {
          on_stat(r.id, r.path, false);
        } else if constexpr (std::is_same_v<T, Stat>) {
          on_stat(r.id, r.path, true);
        } else if constexpr (std::is_same_v<T, Fstat>) {
          on_fstat(r);
        } else if constexpr (std::is_same_v<T, Setstat>) {
          on_setstat(r.id, r.path, r.attrs, true);
        } else if constexpr (std::is_same_v<T, Fsetstat>) {
          on_fsetstat(r);
        } else if constexpr (std::is_same_v<T, Opendir>) {
          on_opendir(r);
        } else if constexpr (std::is_same_v<T, Readdir>) {
          on_readdir(r);
        } else if constexpr (std::is_same_v<T, Remove>) {
          on_remove(r);
        } else if constexpr (std::is_same_v<T, Mkdir>) {
          on_mkdir(r);
        } else if constexpr (std::is_same_v<T, Rmdir>) {
          on_rmdir(r);
        } else if constexpr (std::is_same_v<T, Realpath>) {
          on_realpath(r.id, r.path);
        } else if constexpr (std::is_same_v<T, Rename>) {
          on_rename(r.id, r.old_path, r.new_path, false);
        } else if constexpr (std::is_same_v<T, Readlink>) {
          on_readlink(r);
        } else if constexpr (std::is_same_v<T, Symlink>) {
          on_symlink(r);
        } else if constexpr (std::is_same_v<T, Extended>) {
          on_extended(r);
        } else {
          // Replies (VERSION, STATUS, ...) are not requests.
          if constexpr (std::is_same_v<T, Version>) {
            fail("VERSION sent to the server");
          } else {
            send_status(r.id, StatusCode::BadMessage, "not a request");
          }
        }
      },
      request);
}

void Server::on_init(const Init& request) {
  initialized_ = true;
  logger()->debug("sftp: INIT, client version {}", request.version);
  Version reply;
  reply.version = kProtocolVersion;
  reply.extensions = {
      {ext::kPosixRename, "1"},   {ext::kStatvfs, "2"},         {ext::kFstatvfs, "2"},
      {ext::kHardlink, "1"},      {ext::kFsync, "1"},           {ext::kLsetstat, "1"},
      {ext::kLimits, "1"},        {ext::kExpandPath, "1"},      {ext::kCopyData, "1"},
      {ext::kHomeDirectory, "1"}, {ext::kUsersGroupsById, "1"},
  };
  send(reply);
}

// Path resolution ------------------------------------------------------------

FsResult<std::vector<std::string>> Server::resolve(std::string_view path, bool follow_last) {
  if (path.find('\0') != std::string_view::npos) {
    return FsError{StatusCode::NoSuchFile, "path contains a NUL byte"};
  }
  struct Part {
    std::string name;
    bool from_link;
  };
  // As in POSIX, a trailing slash ("link/") names what the link points to.
  if (!path.empty() && path.back() == '/') follow_last = true;
  std::deque<Part> pending;
  if (path.empty() || path.front() != '/') {
    for (const auto& part : start_components_) pending.push_back({part, false});
  }
  for (auto& part : split_path(path)) pending.push_back({std::move(part), false});

  const bool confined = options_.root != "/";
  std::vector<std::string> resolved;
  int links_followed = 0;
  while (!pending.empty()) {
    Part part = std::move(pending.front());
    pending.pop_front();
    if (part.name == ".") continue;
    if (part.name == "..") {
      if (!resolved.empty()) {
        resolved.pop_back();
      } else if (part.from_link && confined) {
        // The client's own ".." stops at the root (as in a chroot); a link
        // that climbs above it points outside.
        return denied("symbolic link leads outside the served root");
      }
      continue;
    }
    resolved.push_back(std::move(part.name));
    const bool last = std::all_of(pending.begin(), pending.end(),
                                  [](const Part& rest) { return rest.name == "."; });
    if (last && !follow_last) break;
    auto info = fs_.lstat(fs_path(resolved));
    if (!info.ok()) {
      if (last && info.error().code == StatusCode::NoSuchFile) break;  // to be created
      return info.error();
    }
    if (!info->attrs.is_symlink()) {
      if (!last && !info->attrs.is_directory()) {
        return FsError{StatusCode::NoSuchFile, "not a directory"};
      }
      continue;
    }
    if (++links_followed > kMaxLinksPerLookup) {
      return FsError{StatusCode::Failure, "too many levels of symbolic links"};
    }
    auto target = fs_.readlink(fs_path(resolved));
    if (!target.ok()) return target.error();
    resolved.pop_back();
    std::string_view rest = *target;
    if (rest.empty()) return FsError{StatusCode::NoSuchFile, "empty symbolic link"};
    if (rest.front() == '/') {
      if (confined) {
        const std::string& root = options_.root;
        const bool inside = rest.substr(0, root.size()) == root &&
                            (rest.size() == root.size() || rest[root.size()] == '/');
        if (!inside) return denied("symbolic link leads outside the served root");
        rest.remove_prefix(root.size());
      }
      resolved.clear();
    }
    auto target_parts = split_path(rest);
    for (auto it = target_parts.rbegin(); it != target_parts.rend(); ++it) {
      pending.push_front({std::move(*it), true});
    }
  }
  return resolved;
}

std::string Server::fs_path(const std::vector<std::string>& components) const {
  std::string path = options_.root == "/" ? std::string() : options_.root;
  for (const auto& part : components) {
    path += '/';
    path += part;
  }
  return path.empty() ? "/" : path;
}

std::string Server::client_path(const std::vector<std::string>& components) const {
  std::string path;
  for (const auto& part : components) {
    path += '/';
    path += part;
  }
  return path.empty() ? "/" : path;
}

FsResult<std::string> Server::resolve_to_fs(std::string_view path, bool follow_last) {
  auto components = resolve(path, follow_last);
  if (!components.ok()) return components.error();
  return fs_path(*components);
}

std::uint32_t Server::creation_permissions(const Attrs& attrs, std::uint32_t fallback) const {
  const std::uint32_t requested = attrs.permissions ? (*attrs.permissions & 07777) : fallback;
  return requested & ~options_.umask;
}

// Handles -------------------------------------------------------------------

Server::OpenHandle* Server::find_handle(const std::string& handle) {
  auto it = handles_.find(handle);
  return it == handles_.end() ? nullptr : it->second.get();
}

std::string Server::add_handle(std::unique_ptr<OpenHandle> entry) {
  std::string name = std::to_string(next_handle_++);
  handles_.emplace(name, std::move(entry));
  return name;
}

// Requests ------------------------------------------------------------------

void Server::on_open(const Open& request) {
  using namespace open_flags;
  const std::uint32_t flags = request.pflags;
  const bool changes = (flags & (kWrite | kAppend | kCreate | kTruncate)) != 0;
  logger()->debug("sftp: OPEN {} flags {:#x}", request.filename, flags);
  if (changes && refuse_if_read_only(request.id, "OPEN for writing")) return;
  if (handles_.size() >= options_.max_open_handles) {
    send_status(request.id, StatusCode::Failure, "too many open handles");
    return;
  }
  OpenMode mode;
  mode.read = (flags & kRead) != 0 || (flags & kWrite) == 0;
  mode.write = (flags & (kWrite | kAppend)) != 0;
  mode.append = (flags & kAppend) != 0;
  mode.create = (flags & kCreate) != 0;
  mode.truncate = (flags & kTruncate) != 0;
  mode.exclusive = (flags & kCreate) != 0 && (flags & kExclusive) != 0;
  mode.create_permissions = creation_permissions(request.attrs, 0666);
  // O_CREAT|O_EXCL never follows a link in the last component.
  auto path = resolve_to_fs(request.filename, !mode.exclusive);
  if (!path.ok()) return send_error(request.id, path.error());
  auto file = fs_.open(*path, mode);
  if (!file.ok()) return send_error(request.id, file.error());
  auto entry = std::make_unique<OpenHandle>();
  entry->file = std::move(*file);
  entry->fs_path = *path;
  entry->readable = mode.read;
  entry->writable = mode.write;
  send(Handle{request.id, add_handle(std::move(entry))});
}

void Server::on_close(const Close& request) {
  if (handles_.erase(request.handle) == 0) {
    send_status(request.id, StatusCode::Failure, "invalid handle");
    return;
  }
  send_status(request.id, StatusCode::Ok);
}

void Server::on_read(const Read& request) {
  OpenHandle* entry = find_handle(request.handle);
  if (entry == nullptr || !entry->file) {
    send_status(request.id, StatusCode::Failure, "invalid handle");
    return;
  }
  if (!entry->readable) {
    send_status(request.id, StatusCode::PermissionDenied, "handle not open for reading");
    return;
  }
  const std::size_t length = std::min<std::size_t>(request.length, kMaxReadLength);
  // The DATA reply is built in place: header, then the file's bytes read
  // straight into the output buffer.
  const std::size_t start = output_.size();
  ssh::wire::Writer writer(output_);
  writer.u32(0);
  writer.u8(static_cast<std::uint8_t>(PacketType::Data));
  writer.u32(request.id);
  writer.u32(0);
  const std::size_t data_start = output_.size();
  output_.resize(data_start + length);
  auto count =
      entry->file->read(request.offset, ssh::MutableByteView(output_.data() + data_start, length));
  if (!count.ok() || *count == 0) {
    output_.resize(start);
    logger()->trace("sftp: READ {} @{} -> {}", request.handle, request.offset,
                    count.ok() ? "EOF" : count.error().message);
    if (!count.ok()) return send_error(request.id, count.error());
    return send_status(request.id, StatusCode::Eof);
  }
  output_.resize(data_start + *count);
  auto put_u32 = [this](std::size_t at, std::uint32_t value) {
    output_[at] = static_cast<std::uint8_t>(value >> 24);
    output_[at + 1] = static_cast<std::uint8_t>(value >> 16);
    output_[at + 2] = static_cast<std::uint8_t>(value >> 8);
    output_[at + 3] = static_cast<std::uint8_t>(value);
  };
  put_u32(start, static_cast<std::uint32_t>(output_.size() - start - 4));
  put_u32(data_start - 4, static_cast<std::uint32_t>(*count));
  logger()->trace("sftp: READ {} @{} -> {} bytes", request.handle, request.offset, *count);
}

void Server::on_write(const Write& request) {
  OpenHandle* entry = find_handle(request.handle);
  if (entry == nullptr || !entry->file) {
    send_status(request.id, StatusCode::Failure, "invalid handle");
    return;
  }
  if (refuse_if_read_only(request.id, "WRITE")) return;
  if (!entry->writable) {
    send_status(request.id, StatusCode::PermissionDenied, "handle not open for writing");
    return;
  }
  logger()->trace("sftp: WRITE {} @{} {} bytes", request.handle, request.offset,
                  request.data.size());
  send_fs_status(request.id, entry->file->write(request.offset, request.data));
}

void Server::on_stat(std::uint32_t id, const std::string& path, bool follow) {
  logger()->debug("sftp: {} {}", follow ? "STAT" : "LSTAT", path);
  auto resolved = resolve_to_fs(path, follow);
  if (!resolved.ok()) return send_error(id, resolved.error());
  auto info = fs_.lstat(*resolved);
  if (!info.ok()) return send_error(id, info.error());
  send(AttrsReply{id, info->attrs});
}

void Server::on_fstat(const Fstat& request) {
  OpenHandle* entry = find_handle(request.handle);
  if (entry == nullptr) {
    send_status(request.id, StatusCode::Failure, "invalid handle");
    return;
  }
  auto info = entry->file ? entry->file->stat() : fs_.lstat(entry->fs_path);
  if (!info.ok()) return send_error(request.id, info.error());
  send(AttrsReply{request.id, info->attrs});
}

void Server::on_setstat(std::uint32_t id, const std::string& path, const Attrs& attrs,
                        bool follow) {
  logger()->debug("sftp: {} {}", follow ? "SETSTAT" : "LSETSTAT", path);
  if (refuse_if_read_only(id, "SETSTAT")) return;
  auto resolved = resolve_to_fs(path, follow);
  if (!resolved.ok()) return send_error(id, resolved.error());
  Attrs change = attrs;
  if (change.permissions) *change.permissions &= 07777;
  send_fs_status(id, fs_.set_attributes(*resolved, change, follow));
}

void Server::on_fsetstat(const Fsetstat& request) {
  OpenHandle* entry = find_handle(request.handle);
  if (entry == nullptr) {
    send_status(request.id, StatusCode::Failure, "invalid handle");
    return;
  }
  if (refuse_if_read_only(request.id, "FSETSTAT")) return;
  Attrs change = request.attrs;
  if (change.permissions) *change.permissions &= 07777;
  if (entry->file) {
    send_fs_status(request.id, entry->file->set_attributes(change));
  } else {
    send_fs_status(request.id, fs_.set_attributes(entry->fs_path, change, true));
  }
}

void Server::on_opendir(const Opendir& request) {
  logger()->debug("sftp: OPENDIR {}", request.path);
  if (handles_.size() >= options_.max_open_handles) {
    send_status(request.id, StatusCode::Failure, "too many open handles");
    return;
  }
  auto path = resolve_to_fs(request.path, true);
  if (!path.ok()) return send_error(request.id, path.error());
  auto directory = fs_.open_directory(*path);
  if (!directory.ok()) return send_error(request.id, directory.error());
  auto entry = std::make_unique<OpenHandle>();
  entry->directory = std::move(*directory);
  entry->fs_path = *path;
  entry->readable = true;
  send(Handle{request.id, add_handle(std::move(entry))});
}

std::string Server::long_name(const std::string& name, const FileInfo& info) {
  const Attrs& a = info.attrs;
  const std::uint32_t mode = a.permissions.value_or(0);
  std::string user = "?";
  std::string group = "?";
  if (a.owner) {
    user = fs_.user_name(a.owner->uid).value_or(std::to_string(a.owner->uid));
    group = fs_.group_name(a.owner->gid).value_or(std::to_string(a.owner->gid));
  }
  char prefix[128];
  std::snprintf(prefix, sizeof prefix, "%s %3llu %-8.32s %-8.32s %8llu ", mode_string(mode).c_str(),
                static_cast<unsigned long long>(info.link_count), user.c_str(), group.c_str(),
                static_cast<unsigned long long>(a.size.value_or(0)));
  return prefix + format_date(a.times ? a.times->mtime : 0) + " " + name;
}

void Server::on_readdir(const Readdir& request) {
  OpenHandle* entry = find_handle(request.handle);
  if (entry == nullptr || !entry->directory) {
    send_status(request.id, StatusCode::Failure, "invalid handle");
    return;
  }
  Name reply;
  reply.id = request.id;
  while (!entry->directory_ended && reply.names.size() < options_.readdir_batch) {
    auto next = entry->directory->next();
    if (!next.ok()) {
      if (!reply.names.empty()) break;  // send what we have; the error comes next time
      return send_error(request.id, next.error());
    }
    if (!*next) {
      entry->directory_ended = true;
      break;
    }
    const std::string& name = **next;
    NameEntry listed;
    listed.filename = name;
    const std::string child = entry->fs_path == "/" ? "/" + name : entry->fs_path + "/" + name;
    auto info = fs_.lstat(child);
    if (info.ok()) {
      listed.longname = long_name(name, *info);
      listed.attrs = info->attrs;
    } else {
      listed.longname = name;
    }
    reply.names.push_back(std::move(listed));
  }
  if (reply.names.empty()) return send_status(request.id, StatusCode::Eof);
  send(reply);
}

void Server::on_remove(const Remove& request) {
  logger()->debug("sftp: REMOVE {}", request.path);
  if (refuse_if_read_only(request.id, "REMOVE")) return;
  auto path = resolve_to_fs(request.path, false);
  if (!path.ok()) return send_error(request.id, path.error());
  send_fs_status(request.id, fs_.remove_file(*path));
}

void Server::on_mkdir(const Mkdir& request) {
  logger()->debug("sftp: MKDIR {}", request.path);
  if (refuse_if_read_only(request.id, "MKDIR")) return;
  auto path = resolve_to_fs(request.path, false);
  if (!path.ok()) return send_error(request.id, path.error());
  send_fs_status(request.id, fs_.make_directory(*path, creation_permissions(request.attrs, 0777)));
}

void Server::on_rmdir(const Rmdir& request) {
  logger()->debug("sftp: RMDIR {}", request.path);
  if (refuse_if_read_only(request.id, "RMDIR")) return;
  auto path = resolve_to_fs(request.path, false);
  if (!path.ok()) return send_error(request.id, path.error());
  if (*path == options_.root) {
    return send_status(request.id, StatusCode::PermissionDenied, "the served root stays");
  }
  send_fs_status(request.id, fs_.remove_directory(*path));
}

void Server::send_name(std::uint32_t id, const std::string& name) {
  Name reply;
  reply.id = id;
  reply.names.push_back(NameEntry{name, name, {}});
  send(reply);
}

void Server::on_realpath(std::uint32_t id, const std::string& path) {
  auto components = resolve(path, true);
  logger()->debug("sftp: REALPATH {} -> {}", path,
                  components.ok() ? client_path(*components) : components.error().message);
  if (!components.ok()) return send_error(id, components.error());
  send_name(id, client_path(*components));
}

void Server::on_rename(std::uint32_t id, const std::string& old_path, const std::string& new_path,
                       bool replace) {
  logger()->debug("sftp: {} {} -> {}", replace ? "POSIX-RENAME" : "RENAME", old_path, new_path);
  if (refuse_if_read_only(id, "RENAME")) return;
  auto from = resolve_to_fs(old_path, false);
  if (!from.ok()) return send_error(id, from.error());
  auto to = resolve_to_fs(new_path, false);
  if (!to.ok()) return send_error(id, to.error());
  if (*from == options_.root || *to == options_.root) {
    return send_status(id, StatusCode::PermissionDenied, "the served root stays");
  }
  if (!replace) {
    // The draft's RENAME must not replace an existing file.
    auto existing = fs_.lstat(*to);
    if (existing.ok()) return send_status(id, StatusCode::Failure, "target exists");
  }
  send_fs_status(id, fs_.rename(*from, *to));
}

void Server::on_readlink(const Readlink& request) {
  logger()->debug("sftp: READLINK {}", request.path);
  auto path = resolve_to_fs(request.path, false);
  if (!path.ok()) return send_error(request.id, path.error());
  auto target = fs_.readlink(*path);
  if (!target.ok()) return send_error(request.id, target.error());
  send_name(request.id, *target);
}

void Server::on_symlink(const Symlink& request) {
  logger()->debug("sftp: SYMLINK {} -> {}", request.link_path, request.target_path);
  if (refuse_if_read_only(request.id, "SYMLINK")) return;
  if (request.target_path.empty() || request.target_path.find('\0') != std::string::npos) {
    return send_status(request.id, StatusCode::Failure, "invalid link target");
  }
  auto path = resolve_to_fs(request.link_path, false);
  if (!path.ok()) return send_error(request.id, path.error());
  // The target is stored as given; following it later is confined like
  // any other link.
  send_fs_status(request.id, fs_.symlink(request.target_path, *path));
}

void Server::on_hardlink(std::uint32_t id, const std::string& old_path,
                         const std::string& new_path) {
  logger()->debug("sftp: HARDLINK {} -> {}", new_path, old_path);
  if (refuse_if_read_only(id, "HARDLINK")) return;
  auto from = resolve_to_fs(old_path, false);
  if (!from.ok()) return send_error(id, from.error());
  auto to = resolve_to_fs(new_path, false);
  if (!to.ok()) return send_error(id, to.error());
  send_fs_status(id, fs_.hardlink(*from, *to));
}

void Server::on_statvfs(std::uint32_t id, const std::string& path) {
  auto stats = fs_.statvfs(path);
  if (!stats.ok()) return send_error(id, stats.error());
  ext::StatvfsReply reply = *stats;
  if (options_.read_only) reply.flags |= ext::StatvfsReply::kReadOnly;
  send(ExtendedReply{id, ext::encode(reply)});
}

void Server::on_copy_data(std::uint32_t id, const ext::CopyData& request) {
  if (refuse_if_read_only(id, "copy-data")) return;
  OpenHandle* source = find_handle(request.read_handle);
  OpenHandle* destination = find_handle(request.write_handle);
  if (source == nullptr || destination == nullptr || !source->file || !destination->file) {
    return send_status(id, StatusCode::Failure, "invalid handle");
  }
  if (!source->readable || !destination->writable) {
    return send_status(id, StatusCode::PermissionDenied, "handle opened for the wrong access");
  }
  const bool until_end = request.read_length == 0;
  if (source == destination) {
    // Overlapping ranges of one file would read what this copy wrote.
    const std::uint64_t read_end =
        until_end ? UINT64_MAX : request.read_offset + request.read_length;
    const std::uint64_t write_end =
        until_end ? UINT64_MAX : request.write_offset + request.read_length;
    if (request.read_offset < write_end && request.write_offset < read_end) {
      return send_status(id, StatusCode::Failure, "overlapping copy within one file");
    }
  }
  std::uint64_t remaining = request.read_length;
  std::uint64_t read_offset = request.read_offset;
  std::uint64_t write_offset = request.write_offset;
  Bytes buffer(kCopyChunk);
  while (until_end || remaining > 0) {
    const std::size_t want =
        until_end ? buffer.size()
                  : static_cast<std::size_t>(std::min<std::uint64_t>(remaining, buffer.size()));
    auto count = source->file->read(read_offset, ssh::MutableByteView(buffer.data(), want));
    if (!count.ok()) return send_error(id, count.error());
    if (*count == 0) break;
    auto written = destination->file->write(write_offset, ByteView(buffer.data(), *count));
    if (!written.ok()) return send_error(id, written.error());
    read_offset += *count;
    write_offset += *count;
    if (!until_end) remaining -= *count;
  }
  send_status(id, StatusCode::Ok);
}

void Server::on_users_groups_by_id(std::uint32_t id, const ext::UsersGroupsById& request) {
  ext::UsersGroupsByIdReply reply;
  reply.user_names.reserve(request.uids.size());
  for (auto uid : request.uids) reply.user_names.push_back(fs_.user_name(uid).value_or(""));
  reply.group_names.reserve(request.gids.size());
  for (auto gid : request.gids) reply.group_names.push_back(fs_.group_name(gid).value_or(""));
  send(ExtendedReply{id, ext::encode(reply)});
}

void Server::on_extended(const Extended& request) {
  const std::string& name = request.name;
  const ByteView body(request.data);
  const std::uint32_t id = request.id;
  logger()->debug("sftp: EXTENDED {}", name);
  auto malformed = [&] { send_status(id, StatusCode::BadMessage, "malformed " + name); };

  if (name == ext::kPosixRename || name == ext::kHardlink) {
    auto paths = ext::decode_two_paths(body);
    if (!paths) return malformed();
    if (name == ext::kHardlink) return on_hardlink(id, paths->old_path, paths->new_path);
    return on_rename(id, paths->old_path, paths->new_path, true);
  }
  if (name == ext::kStatvfs) {
    auto path = ext::decode_one_string(body);
    if (!path) return malformed();
    auto resolved = resolve_to_fs(path->value, true);
    if (!resolved.ok()) return send_error(id, resolved.error());
    return on_statvfs(id, *resolved);
  }
  if (name == ext::kFstatvfs || name == ext::kFsync) {
    auto handle = ext::decode_one_handle(body);
    if (!handle) return malformed();
    OpenHandle* entry = find_handle(handle->handle);
    if (entry == nullptr) return send_status(id, StatusCode::Failure, "invalid handle");
    if (name == ext::kFstatvfs) return on_statvfs(id, entry->fs_path);
    if (!entry->file) return send_status(id, StatusCode::Failure, "invalid handle");
    return send_fs_status(id, entry->file->sync());
  }
  if (name == ext::kLsetstat) {
    auto request_body = ext::decode_lsetstat(body);
    if (!request_body) return malformed();
    return on_setstat(id, request_body->path, request_body->attrs, false);
  }
  if (name == ext::kLimits) {
    if (!body.empty()) return malformed();
    ext::LimitsReply limits;
    limits.max_packet_length = kMaxPacketLength;
    limits.max_read_length = kMaxReadLength;
    limits.max_write_length = kMaxReadLength;
    limits.max_open_handles = options_.max_open_handles;
    return send(ExtendedReply{id, ext::encode(limits)});
  }
  if (name == ext::kExpandPath) {
    auto path = ext::decode_one_string(body);
    if (!path) return malformed();
    std::string expanded = path->value;
    // "~" and "~/x" start at the start directory (the user's home); other
    // users' homes ("~name") are not served.
    if (!expanded.empty() && expanded.front() == '~') {
      if (expanded.size() > 1 && expanded[1] != '/') {
        return send_status(id, StatusCode::Failure, "only the served user's ~ is known");
      }
      expanded = client_path(start_components_) + expanded.substr(1);
    }
    return on_realpath(id, expanded);
  }
  if (name == ext::kCopyData) {
    auto copy = ext::decode_copy_data(body);
    if (!copy) return malformed();
    return on_copy_data(id, *copy);
  }
  if (name == ext::kHomeDirectory) {
    auto user = ext::decode_one_string(body);
    if (!user) return malformed();
    if (!user->value.empty() && !options_.user_name.empty() && user->value != options_.user_name) {
      return send_status(id, StatusCode::NoSuchFile, "unknown user");
    }
    return send_name(id, client_path(start_components_));
  }
  if (name == ext::kUsersGroupsById) {
    auto ids = ext::decode_users_groups_by_id(body);
    if (!ids) return malformed();
    return on_users_groups_by_id(id, *ids);
  }
  send_status(id, StatusCode::OpUnsupported, "unsupported extension " + name);
}

}  // namespace sftp
