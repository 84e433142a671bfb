// The SFTP version 3 packets (draft-ietf-secsh-filexfer-02) and the OpenSSH
// extensions' payloads (OpenSSH's PROTOCOL, section 4), as structs that are
// encoded and decoded through the one SSH wire codec (ssh/wire).
//
// On the wire every packet is uint32 length, byte type, then the body; the
// length counts the type and body. encode() writes the whole packet (length
// included); decode() takes what follows the length. Peer input is hostile:
// decode() refuses trailing bytes, and every count is checked against the
// bytes left before anything is allocated for it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "ssh/common.hpp"
#include "ssh/limits.hpp"
#include "ssh/wire/reader.hpp"
#include "ssh/wire/writer.hpp"

namespace sftp {

using ssh::Bytes;
using ssh::ByteView;

inline constexpr std::uint32_t kProtocolVersion = 3;
// The largest packet (type and body) either side accepts, as OpenSSH's
// sftp-server; a READ asks for at most kMaxReadLength bytes so that its DATA
// reply fits with room to spare.
inline constexpr std::size_t kMaxPacketLength = ssh::limits::kMaxSftpPacketLength;
inline constexpr std::size_t kMaxReadLength = ssh::limits::kMaxSftpReadLength;

enum class PacketType : std::uint8_t {
  Init = 1,
  Version = 2,
  Open = 3,
  Close = 4,
  Read = 5,
  Write = 6,
  Lstat = 7,
  Fstat = 8,
  Setstat = 9,
  Fsetstat = 10,
  Opendir = 11,
  Readdir = 12,
  Remove = 13,
  Mkdir = 14,
  Rmdir = 15,
  Realpath = 16,
  Stat = 17,
  Rename = 18,
  Readlink = 19,
  Symlink = 20,
  Status = 101,
  Handle = 102,
  Data = 103,
  Name = 104,
  Attrs = 105,
  Extended = 200,
  ExtendedReply = 201,
};

const char* packet_type_name(PacketType type);

enum class StatusCode : std::uint32_t {
  Ok = 0,
  Eof = 1,
  NoSuchFile = 2,
  PermissionDenied = 3,
  Failure = 4,
  BadMessage = 5,
  NoConnection = 6,
  ConnectionLost = 7,
  OpUnsupported = 8,
};

const char* status_code_name(StatusCode code);

// SSH_FXP_OPEN pflags.
namespace open_flags {
inline constexpr std::uint32_t kRead = 0x01;
inline constexpr std::uint32_t kWrite = 0x02;
inline constexpr std::uint32_t kAppend = 0x04;
inline constexpr std::uint32_t kCreate = 0x08;
inline constexpr std::uint32_t kTruncate = 0x10;
inline constexpr std::uint32_t kExclusive = 0x20;
}  // namespace open_flags

// The POSIX file type bits carried in ATTRS permissions.
namespace file_type {
inline constexpr std::uint32_t kMask = 0170000;
inline constexpr std::uint32_t kSocket = 0140000;
inline constexpr std::uint32_t kSymlink = 0120000;
inline constexpr std::uint32_t kRegular = 0100000;
inline constexpr std::uint32_t kBlockDevice = 0060000;
inline constexpr std::uint32_t kDirectory = 0040000;
inline constexpr std::uint32_t kCharacterDevice = 0020000;
inline constexpr std::uint32_t kFifo = 0010000;
}  // namespace file_type

// ATTRS: every field is present only when its flag is set.
struct Attrs {
  static constexpr std::uint32_t kSizeFlag = 0x00000001;
  static constexpr std::uint32_t kUidGidFlag = 0x00000002;
  static constexpr std::uint32_t kPermissionsFlag = 0x00000004;
  static constexpr std::uint32_t kAcModTimeFlag = 0x00000008;
  static constexpr std::uint32_t kExtendedFlag = 0x80000000;

  struct Owner {
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    bool operator==(const Owner&) const = default;
  };
  struct Times {
    std::uint32_t atime = 0;
    std::uint32_t mtime = 0;
    bool operator==(const Times&) const = default;
  };

  std::optional<std::uint64_t> size;
  std::optional<Owner> owner;
  std::optional<std::uint32_t> permissions;
  std::optional<Times> times;
  std::vector<std::pair<std::string, std::string>> extended;

  bool is_directory() const {
    return permissions && (*permissions & file_type::kMask) == file_type::kDirectory;
  }
  bool is_symlink() const {
    return permissions && (*permissions & file_type::kMask) == file_type::kSymlink;
  }
  bool is_regular() const {
    return permissions && (*permissions & file_type::kMask) == file_type::kRegular;
  }
  bool operator==(const Attrs&) const = default;
};

struct ExtensionPair {
  std::string name;
  std::string data;
  bool operator==(const ExtensionPair&) const = default;
};

// Requests -----------------------------------------------------------------

struct Init {
  std::uint32_t version = kProtocolVersion;
  std::vector<ExtensionPair> extensions;
};
struct Version {
  std::uint32_t version = kProtocolVersion;
  std::vector<ExtensionPair> extensions;
};
struct Open {
  std::uint32_t id = 0;
  std::string filename;
  std::uint32_t pflags = 0;
  Attrs attrs;
};
struct Read {
  std::uint32_t id = 0;
  std::string handle;
  std::uint64_t offset = 0;
  std::uint32_t length = 0;
};
struct Write {
  std::uint32_t id = 0;
  std::string handle;
  std::uint64_t offset = 0;
  Bytes data;
};
// The requests whose body is just a path (LSTAT, OPENDIR, ...).
template <PacketType kType>
struct PathRequest {
  static constexpr PacketType type = kType;
  std::uint32_t id = 0;
  std::string path;
};
// The requests whose body is just a handle (CLOSE, FSTAT, READDIR).
template <PacketType kType>
struct HandleRequest {
  static constexpr PacketType type = kType;
  std::uint32_t id = 0;
  std::string handle;
};
using Close = HandleRequest<PacketType::Close>;
using Fstat = HandleRequest<PacketType::Fstat>;
using Readdir = HandleRequest<PacketType::Readdir>;
using Lstat = PathRequest<PacketType::Lstat>;
using Stat = PathRequest<PacketType::Stat>;
using Opendir = PathRequest<PacketType::Opendir>;
using Remove = PathRequest<PacketType::Remove>;
using Rmdir = PathRequest<PacketType::Rmdir>;
using Realpath = PathRequest<PacketType::Realpath>;
using Readlink = PathRequest<PacketType::Readlink>;
struct Setstat {
  std::uint32_t id = 0;
  std::string path;
  Attrs attrs;
};
struct Fsetstat {
  std::uint32_t id = 0;
  std::string handle;
  Attrs attrs;
};
struct Mkdir {
  std::uint32_t id = 0;
  std::string path;
  Attrs attrs;
};
struct Rename {
  std::uint32_t id = 0;
  std::string old_path;
  std::string new_path;
};
// OpenSSH (and every client that talks to it, sshfs included) sends the
// target first and the link's path second, the reverse of the draft's
// order; we follow OpenSSH, as that is what clients send.
struct Symlink {
  std::uint32_t id = 0;
  std::string target_path;
  std::string link_path;
};
// An extended request: its name and the name-specific rest of the body
// (decoded with the extension structs below).
struct Extended {
  std::uint32_t id = 0;
  std::string name;
  Bytes data;
};

// Replies ------------------------------------------------------------------

struct Status {
  std::uint32_t id = 0;
  StatusCode code = StatusCode::Ok;
  std::string message;
  std::string language;
};
struct Handle {
  std::uint32_t id = 0;
  std::string handle;
};
struct Data {
  std::uint32_t id = 0;
  Bytes data;
};
struct NameEntry {
  std::string filename;
  std::string longname;
  Attrs attrs;
};
struct Name {
  std::uint32_t id = 0;
  std::vector<NameEntry> names;
};
struct AttrsReply {
  std::uint32_t id = 0;
  Attrs attrs;
};
struct ExtendedReply {
  std::uint32_t id = 0;
  Bytes data;
};

using Packet =
    std::variant<Init, Version, Open, Close, Read, Write, Lstat, Fstat, Setstat, Fsetstat, Opendir,
                 Readdir, Remove, Mkdir, Rmdir, Realpath, Stat, Rename, Readlink, Symlink, Extended,
                 Status, Handle, Data, Name, AttrsReply, ExtendedReply>;

PacketType packet_type(const Packet& packet);

// Appends the whole packet (uint32 length first) to out.
void encode(const Packet& packet, Bytes& out);
Bytes encode(const Packet& packet);
void encode_attrs(const Attrs& attrs, ssh::wire::Writer& writer);
// Reads ATTRS; on malformed input the reader fails (and the value is empty).
Attrs decode_attrs(ssh::wire::Reader& reader);

// Decodes a packet's type and body (what follows the length). Fails on
// truncation, trailing bytes, unknown types or counts the bytes cannot hold.
ssh::Result<Packet> decode(ByteView packet);
// The request id of a packet that failed to decode, when its type is known
// to carry one and the id's bytes are present: the server still answers it.
std::optional<std::uint32_t> peek_request_id(ByteView packet);

// The OpenSSH extensions' bodies (after the extension name) -----------------

namespace ext {

inline constexpr const char* kPosixRename = "posix-rename@openssh.com";
inline constexpr const char* kStatvfs = "statvfs@openssh.com";
inline constexpr const char* kFstatvfs = "fstatvfs@openssh.com";
inline constexpr const char* kHardlink = "hardlink@openssh.com";
inline constexpr const char* kFsync = "fsync@openssh.com";
inline constexpr const char* kLsetstat = "lsetstat@openssh.com";
inline constexpr const char* kLimits = "limits@openssh.com";
inline constexpr const char* kExpandPath = "expand-path@openssh.com";
inline constexpr const char* kCopyData = "copy-data";
inline constexpr const char* kHomeDirectory = "home-directory";
inline constexpr const char* kUsersGroupsById = "users-groups-by-id@openssh.com";

// posix-rename, hardlink: two paths.
struct TwoPaths {
  std::string old_path;
  std::string new_path;
};
// statvfs, expand-path, home-directory (a user name): one string.
struct OneString {
  std::string value;
};
// fstatvfs, fsync: a handle.
struct OneHandle {
  std::string handle;
};
struct Lsetstat {
  std::string path;
  Attrs attrs;
};
struct CopyData {
  std::string read_handle;
  std::uint64_t read_offset = 0;
  std::uint64_t read_length = 0;  // 0: to the end of the file
  std::string write_handle;
  std::uint64_t write_offset = 0;
};
struct UsersGroupsById {
  std::vector<std::uint32_t> uids;
  std::vector<std::uint32_t> gids;
};

// Replies (the body of SSH_FXP_EXTENDED_REPLY after the id).
struct StatvfsReply {
  static constexpr std::uint64_t kReadOnly = 0x1;
  static constexpr std::uint64_t kNoSuid = 0x2;
  std::uint64_t block_size = 0;
  std::uint64_t fragment_size = 0;
  std::uint64_t blocks = 0;
  std::uint64_t free_blocks = 0;
  std::uint64_t available_blocks = 0;
  std::uint64_t files = 0;
  std::uint64_t free_files = 0;
  std::uint64_t available_files = 0;
  std::uint64_t filesystem_id = 0;
  std::uint64_t flags = 0;
  std::uint64_t max_name_length = 0;
  bool operator==(const StatvfsReply&) const = default;
};
struct LimitsReply {
  std::uint64_t max_packet_length = 0;
  std::uint64_t max_read_length = 0;
  std::uint64_t max_write_length = 0;
  std::uint64_t max_open_handles = 0;
  bool operator==(const LimitsReply&) const = default;
};
struct UsersGroupsByIdReply {
  std::vector<std::string> user_names;
  std::vector<std::string> group_names;
};

Bytes encode(const TwoPaths& body);
Bytes encode(const OneString& body);
Bytes encode(const OneHandle& body);
Bytes encode(const Lsetstat& body);
Bytes encode(const CopyData& body);
Bytes encode(const UsersGroupsById& body);
Bytes encode(const StatvfsReply& body);
Bytes encode(const LimitsReply& body);
Bytes encode(const UsersGroupsByIdReply& body);

std::optional<TwoPaths> decode_two_paths(ByteView body);
std::optional<OneString> decode_one_string(ByteView body);
std::optional<OneHandle> decode_one_handle(ByteView body);
std::optional<Lsetstat> decode_lsetstat(ByteView body);
std::optional<CopyData> decode_copy_data(ByteView body);
std::optional<UsersGroupsById> decode_users_groups_by_id(ByteView body);
std::optional<StatvfsReply> decode_statvfs_reply(ByteView body);
std::optional<LimitsReply> decode_limits_reply(ByteView body);
std::optional<UsersGroupsByIdReply> decode_users_groups_by_id_reply(ByteView body);

}  // namespace ext

}  // namespace sftp
