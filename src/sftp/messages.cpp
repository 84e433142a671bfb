#include "sftp/messages.hpp"

#include <type_traits>

namespace sftp {
namespace {

using ssh::wire::Reader;
using ssh::wire::Writer;

std::string read_text(Reader& reader) {
  return std::string(reader.text());
}

Bytes read_bytes(Reader& reader) {
  return ssh::to_bytes(reader.string());
}

// Extension pairs up to the end of the packet (INIT and VERSION).
std::vector<ExtensionPair> read_extension_pairs(Reader& reader) {
  std::vector<ExtensionPair> pairs;
  while (reader.ok() && reader.remaining() > 0) {
    ExtensionPair pair;
    pair.name = read_text(reader);
    pair.data = read_text(reader);
    if (reader.ok()) pairs.push_back(std::move(pair));
  }
  return pairs;
}

void write_extension_pairs(const std::vector<ExtensionPair>& pairs, Writer& writer) {
  for (const auto& pair : pairs) {
    writer.string(pair.name);
    writer.string(pair.data);
  }
}

void write_body(const Init& p, Writer& w) {
  w.u32(p.version);
  write_extension_pairs(p.extensions, w);
}
void write_body(const Version& p, Writer& w) {
  w.u32(p.version);
  write_extension_pairs(p.extensions, w);
}
void write_body(const Open& p, Writer& w) {
  w.u32(p.id);
  w.string(p.filename);
  w.u32(p.pflags);
  encode_attrs(p.attrs, w);
}
void write_body(const Read& p, Writer& w) {
  w.u32(p.id);
  w.string(p.handle);
  w.u64(p.offset);
  w.u32(p.length);
}
void write_body(const Write& p, Writer& w) {
  w.u32(p.id);
  w.string(p.handle);
  w.u64(p.offset);
  w.string(ByteView(p.data));
}
template <PacketType kType>
void write_body(const PathRequest<kType>& p, Writer& w) {
  w.u32(p.id);
  w.string(p.path);
}
template <PacketType kType>
void write_body(const HandleRequest<kType>& p, Writer& w) {
  w.u32(p.id);
  w.string(p.handle);
}
void write_body(const Setstat& p, Writer& w) {
  w.u32(p.id);
  w.string(p.path);
  encode_attrs(p.attrs, w);
}
void write_body(const Fsetstat& p, Writer& w) {
  w.u32(p.id);
  w.string(p.handle);
  encode_attrs(p.attrs, w);
}
void write_body(const Mkdir& p, Writer& w) {
  w.u32(p.id);
  w.string(p.path);
  encode_attrs(p.attrs, w);
}
void write_body(const Rename& p, Writer& w) {
  w.u32(p.id);
  w.string(p.old_path);
  w.string(p.new_path);
}
void write_body(const Symlink& p, Writer& w) {
  w.u32(p.id);
  w.string(p.target_path);
  w.string(p.link_path);
}
void write_body(const Extended& p, Writer& w) {
  w.u32(p.id);
  w.string(p.name);
  w.raw(p.data);
}
void write_body(const Status& p, Writer& w) {
  w.u32(p.id);
  w.u32(static_cast<std::uint32_t>(p.code));
  w.string(p.message);
  w.string(p.language);
}
void write_body(const Handle& p, Writer& w) {
  w.u32(p.id);
  w.string(p.handle);
}
void write_body(const Data& p, Writer& w) {
  w.u32(p.id);
  w.string(ByteView(p.data));
}
void write_body(const Name& p, Writer& w) {
  w.u32(p.id);
  w.u32(static_cast<std::uint32_t>(p.names.size()));
  for (const auto& entry : p.names) {
    w.string(entry.filename);
    w.string(entry.longname);
    encode_attrs(entry.attrs, w);
  }
}
void write_body(const AttrsReply& p, Writer& w) {
  w.u32(p.id);
  encode_attrs(p.attrs, w);
}
void write_body(const ExtendedReply& p, Writer& w) {
  w.u32(p.id);
  w.raw(p.data);
}

template <class T>
std::optional<Packet> finish(const Reader& reader, T value) {
  if (!reader.finished()) return std::nullopt;
  return Packet(std::move(value));
}

std::optional<Packet> decode_body(PacketType type, Reader& r) {
  switch (type) {
    case PacketType::Init: {
      Init p;
      p.version = r.u32();
      p.extensions = read_extension_pairs(r);
      return finish(r, std::move(p));
    }
    case PacketType::Version: {
      Version p;
      p.version = r.u32();
      p.extensions = read_extension_pairs(r);
      return finish(r, std::move(p));
    }
    case PacketType::Open: {
      Open p;
      p.id = r.u32();
      p.filename = read_text(r);
      p.pflags = r.u32();
      p.attrs = decode_attrs(r);
      return finish(r, std::move(p));
    }
    case PacketType::Read: {
      Read p;
      p.id = r.u32();
      p.handle = read_text(r);
      p.offset = r.u64();
      p.length = r.u32();
      return finish(r, std::move(p));
    }
    case PacketType::Write: {
      Write p;
      p.id = r.u32();
      p.handle = read_text(r);
      p.offset = r.u64();
      p.data = read_bytes(r);
      return finish(r, std::move(p));
    }
    case PacketType::Close:
    case PacketType::Fstat:
    case PacketType::Readdir:
    case PacketType::Handle: {
      const std::uint32_t id = r.u32();
      std::string handle = read_text(r);
      if (type == PacketType::Close) return finish(r, Close{id, std::move(handle)});
      if (type == PacketType::Fstat) return finish(r, Fstat{id, std::move(handle)});
      if (type == PacketType::Readdir) return finish(r, Readdir{id, std::move(handle)});
      return finish(r, Handle{id, std::move(handle)});
    }
    case PacketType::Lstat:
    case PacketType::Stat:
    case PacketType::Opendir:
    case PacketType::Remove:
    case PacketType::Rmdir:
    case PacketType::Realpath:
    case PacketType::Readlink: {
      const std::uint32_t id = r.u32();
      std::string path = read_text(r);
      switch (type) {
        case PacketType::Lstat:
          return finish(r, Lstat{id, std::move(path)});
        case PacketType::Stat:
          return finish(r, Stat{id, std::move(path)});
        case PacketType::Opendir:
          return finish(r, Opendir{id, std::move(path)});
        case PacketType::Remove:
          return finish(r, Remove{id, std::move(path)});
        case PacketType::Rmdir:
          return finish(r, Rmdir{id, std::move(path)});
        case PacketType::Realpath:
          return finish(r, Realpath{id, std::move(path)});
        default:
          return finish(r, Readlink{id, std::move(path)});
      }
    }
    case PacketType::Setstat:
    case PacketType::Mkdir: {
      const std::uint32_t id = r.u32();
      std::string path = read_text(r);
      Attrs attrs = decode_attrs(r);
      if (type == PacketType::Setstat) return finish(r, Setstat{id, std::move(path), attrs});
      return finish(r, Mkdir{id, std::move(path), std::move(attrs)});
    }
    case PacketType::Fsetstat: {
      Fsetstat p;
      p.id = r.u32();
      p.handle = read_text(r);
      p.attrs = decode_attrs(r);
      return finish(r, std::move(p));
    }
    case PacketType::Rename: {
      Rename p;
      p.id = r.u32();
      p.old_path = read_text(r);
      p.new_path = read_text(r);
      return finish(r, std::move(p));
    }
    case PacketType::Symlink: {
      Symlink p;
      p.id = r.u32();
      p.target_path = read_text(r);
      p.link_path = read_text(r);
      return finish(r, std::move(p));
    }
    case PacketType::Extended: {
      Extended p;
      p.id = r.u32();
      p.name = read_text(r);
      p.data = ssh::to_bytes(r.rest());
      return finish(r, std::move(p));
    }
    case PacketType::Status: {
      Status p;
      p.id = r.u32();
      const std::uint32_t code = r.u32();
      p.code = static_cast<StatusCode>(code);
      // Servers before version 3 sent only the code; accept that too.
      if (r.ok() && r.remaining() > 0) {
        p.message = read_text(r);
        p.language = read_text(r);
      }
      return finish(r, std::move(p));
    }
    case PacketType::Data: {
      Data p;
      p.id = r.u32();
      p.data = read_bytes(r);
      return finish(r, std::move(p));
    }
    case PacketType::Name: {
      Name p;
      p.id = r.u32();
      const std::uint32_t count = r.u32();
      // Each entry takes at least two empty strings and a flags word.
      if (!r.ok() || count > r.remaining() / 12) return std::nullopt;
      p.names.reserve(count);
      for (std::uint32_t i = 0; i < count && r.ok(); ++i) {
        NameEntry entry;
        entry.filename = read_text(r);
        entry.longname = read_text(r);
        entry.attrs = decode_attrs(r);
        p.names.push_back(std::move(entry));
      }
      return finish(r, std::move(p));
    }
    case PacketType::Attrs: {
      AttrsReply p;
      p.id = r.u32();
      p.attrs = decode_attrs(r);
      return finish(r, std::move(p));
    }
    case PacketType::ExtendedReply: {
      ExtendedReply p;
      p.id = r.u32();
      p.data = ssh::to_bytes(r.rest());
      return finish(r, std::move(p));
    }
  }
  return std::nullopt;
}

bool is_known_type(std::uint8_t type) {
  return (type >= 1 && type <= 20) || (type >= 101 && type <= 105) || type == 200 || type == 201;
}

}  // namespace

const char* packet_type_name(PacketType type) {
  switch (type) {
    case PacketType::Init:
      return "INIT";
    case PacketType::Version:
      return "VERSION";
    case PacketType::Open:
      return "OPEN";
    case PacketType::Close:
      return "CLOSE";
    case PacketType::Read:
      return "READ";
    case PacketType::Write:
      return "WRITE";
    case PacketType::Lstat:
      return "LSTAT";
    case PacketType::Fstat:
      return "FSTAT";
    case PacketType::Setstat:
      return "SETSTAT";
    case PacketType::Fsetstat:
      return "FSETSTAT";
    case PacketType::Opendir:
      return "OPENDIR";
    case PacketType::Readdir:
      return "READDIR";
    case PacketType::Remove:
      return "REMOVE";
    case PacketType::Mkdir:
      return "MKDIR";
    case PacketType::Rmdir:
      return "RMDIR";
    case PacketType::Realpath:
      return "REALPATH";
    case PacketType::Stat:
      return "STAT";
    case PacketType::Rename:
      return "RENAME";
    case PacketType::Readlink:
      return "READLINK";
    case PacketType::Symlink:
      return "SYMLINK";
    case PacketType::Status:
      return "STATUS";
    case PacketType::Handle:
      return "HANDLE";
    case PacketType::Data:
      return "DATA";
    case PacketType::Name:
      return "NAME";
    case PacketType::Attrs:
      return "ATTRS";
    case PacketType::Extended:
      return "EXTENDED";
    case PacketType::ExtendedReply:
      return "EXTENDED_REPLY";
  }
  return "UNKNOWN";
}

const char* status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::Ok:
      return "OK";
    case StatusCode::Eof:
      return "EOF";
    case StatusCode::NoSuchFile:
      return "NO_SUCH_FILE";
    case StatusCode::PermissionDenied:
      return "PERMISSION_DENIED";
    case StatusCode::Failure:
      return "FAILURE";
    case StatusCode::BadMessage:
      return "BAD_MESSAGE";
    case StatusCode::NoConnection:
      return "NO_CONNECTION";
    case StatusCode::ConnectionLost:
      return "CONNECTION_LOST";
    case StatusCode::OpUnsupported:
      return "OP_UNSUPPORTED";
  }
  return "UNKNOWN";
}

PacketType packet_type(const Packet& packet) {
  return std::visit(
      [](const auto& p) -> PacketType {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, Init>)
          return PacketType::Init;
        else if constexpr (std::is_same_v<T, Version>)
          return PacketType::Version;
        else if constexpr (std::is_same_v<T, Open>)
          return PacketType::Open;
        else if constexpr (std::is_same_v<T, Read>)
          return PacketType::Read;
        else if constexpr (std::is_same_v<T, Write>)
          return PacketType::Write;
        else if constexpr (std::is_same_v<T, Setstat>)
          return PacketType::Setstat;
        else if constexpr (std::is_same_v<T, Fsetstat>)
          return PacketType::Fsetstat;
        else if constexpr (std::is_same_v<T, Mkdir>)
          return PacketType::Mkdir;
        else if constexpr (std::is_same_v<T, Rename>)
          return PacketType::Rename;
        else if constexpr (std::is_same_v<T, Symlink>)
          return PacketType::Symlink;
        else if constexpr (std::is_same_v<T, Extended>)
          return PacketType::Extended;
        else if constexpr (std::is_same_v<T, Status>)
          return PacketType::Status;
        else if constexpr (std::is_same_v<T, Handle>)
          return PacketType::Handle;
        else if constexpr (std::is_same_v<T, Data>)
          return PacketType::Data;
        else if constexpr (std::is_same_v<T, Name>)
          return PacketType::Name;
        else if constexpr (std::is_same_v<T, AttrsReply>)
          return PacketType::Attrs;
        else if constexpr (std::is_same_v<T, ExtendedReply>)
          return PacketType::ExtendedReply;
        else
          return T::type;  // the path and handle requests
      },
      packet);
}

void encode_attrs(const Attrs& attrs, Writer& w) {
  std::uint32_t flags = 0;
  if (attrs.size) flags |= Attrs::kSizeFlag;
  if (attrs.owner) flags |= Attrs::kUidGidFlag;
  if (attrs.permissions) flags |= Attrs::kPermissionsFlag;
  if (attrs.times) flags |= Attrs::kAcModTimeFlag;
  if (!attrs.extended.empty()) flags |= Attrs::kExtendedFlag;
  w.u32(flags);
  if (attrs.size) w.u64(*attrs.size);
  if (attrs.owner) {
    w.u32(attrs.owner->uid);
    w.u32(attrs.owner->gid);
  }
  if (attrs.permissions) w.u32(*attrs.permissions);
  if (attrs.times) {
    w.u32(attrs.times->atime);
    w.u32(attrs.times->mtime);
  }
  if (!attrs.extended.empty()) {
    w.u32(static_cast<std::uint32_t>(attrs.extended.size()));
    for (const auto& [type, data] : attrs.extended) {
      w.string(type);
      w.string(data);
    }
  }
}

Attrs decode_attrs(Reader& r) {
  Attrs attrs;
  const std::uint32_t flags = r.u32();
  constexpr std::uint32_t kKnown = Attrs::kSizeFlag | Attrs::kUidGidFlag | Attrs::kPermissionsFlag |
                                   Attrs::kAcModTimeFlag | Attrs::kExtendedFlag;
  // Unknown flags would mean fields we cannot skip: the rest is unreadable.
  if ((flags & ~kKnown) != 0) r.fail();
  if (flags & Attrs::kSizeFlag) attrs.size = r.u64();
  if (flags & Attrs::kUidGidFlag) {
    Attrs::Owner owner;
    owner.uid = r.u32();
    owner.gid = r.u32();
    attrs.owner = owner;
  }
  if (flags & Attrs::kPermissionsFlag) attrs.permissions = r.u32();
  if (flags & Attrs::kAcModTimeFlag) {
    Attrs::Times times;
    times.atime = r.u32();
    times.mtime = r.u32();
    attrs.times = times;
  }
  if (flags & Attrs::kExtendedFlag) {
    const std::uint32_t count = r.u32();
    // Each pair takes at least two length words.
    if (count > r.remaining() / 8) r.fail();
    if (r.ok()) attrs.extended.reserve(count);
    for (std::uint32_t i = 0; i < count && r.ok(); ++i) {
      std::string type = read_text(r);
      std::string data = read_text(r);
      attrs.extended.emplace_back(std::move(type), std::move(data));
    }
  }
  if (!r.ok()) return {};
  return attrs;
}

void encode(const Packet& packet, Bytes& out) {
  const std::size_t start = out.size();
  Writer w(out);
  w.u32(0);  // the length, patched below
  w.u8(static_cast<std::uint8_t>(packet_type(packet)));
  std::visit([&w](const auto& p) { write_body(p, w); }, packet);
  const auto length = static_cast<std::uint32_t>(out.size() - start - 4);
  out[start] = static_cast<std::uint8_t>(length >> 24);
  out[start + 1] = static_cast<std::uint8_t>(length >> 16);
  out[start + 2] = static_cast<std::uint8_t>(length >> 8);
  out[start + 3] = static_cast<std::uint8_t>(length);
}

Bytes encode(const Packet& packet) {
  Bytes out;
  encode(packet, out);
  return out;
}

ssh::Result<Packet> decode(ByteView packet) {
  if (packet.empty()) return ssh::protocol_error("sftp: empty packet");
  if (packet.size() > kMaxPacketLength) return ssh::protocol_error("sftp: packet too long");
  const std::uint8_t type = packet[0];
  if (!is_known_type(type)) {
    return ssh::protocol_error("sftp: unknown packet type " + std::to_string(type));
  }
  Reader reader(packet.subspan(1));
  auto decoded = decode_body(static_cast<PacketType>(type), reader);
  if (!decoded) {
    return ssh::protocol_error(std::string("sftp: malformed ") +
                               packet_type_name(static_cast<PacketType>(type)) + " packet");
  }
  return std::move(*decoded);
}

std::optional<std::uint32_t> peek_request_id(ByteView packet) {
  if (packet.size() < 5) return std::nullopt;
  const std::uint8_t type = packet[0];
  if (type == static_cast<std::uint8_t>(PacketType::Init) ||
      type == static_cast<std::uint8_t>(PacketType::Version)) {
    return std::nullopt;
  }
  Reader reader(packet.subspan(1));
  return reader.u32();
}

namespace ext {
namespace {

template <class Fill>
Bytes build(Fill fill) {
  Bytes out;
  Writer w(out);
  fill(w);
  return out;
}

std::vector<std::uint32_t> read_packed_ids(Reader& r) {
  const ByteView packed = r.string();
  std::vector<std::uint32_t> ids;
  if (!r.ok() || packed.size() % 4 != 0) {
    r.fail();
    return ids;
  }
  Reader inner(packed);
  ids.reserve(packed.size() / 4);
  while (inner.remaining() > 0) ids.push_back(inner.u32());
  return ids;
}

std::vector<std::string> read_packed_names(Reader& r) {
  const ByteView packed = r.string();
  std::vector<std::string> names;
  Reader inner(packed);
  while (inner.ok() && inner.remaining() > 0) names.emplace_back(inner.text());
  if (!inner.ok()) r.fail();
  return names;
}

template <class T>
std::optional<T> done(const Reader& r, T value) {
  if (!r.finished()) return std::nullopt;
  return value;
}

}  // namespace

Bytes encode(const TwoPaths& body) {
  return build([&](Writer& w) {
    w.string(body.old_path);
    w.string(body.new_path);
  });
}
Bytes encode(const OneString& body) {
  return build([&](Writer& w) { w.string(body.value); });
}
Bytes encode(const OneHandle& body) {
  return build([&](Writer& w) { w.string(body.handle); });
}
Bytes encode(const Lsetstat& body) {
  return build([&](Writer& w) {
    w.string(body.path);
    encode_attrs(body.attrs, w);
  });
}
Bytes encode(const CopyData& body) {
  return build([&](Writer& w) {
    w.string(body.read_handle);
    w.u64(body.read_offset);
    w.u64(body.read_length);
    w.string(body.write_handle);
    w.u64(body.write_offset);
  });
}
Bytes encode(const UsersGroupsById& body) {
  return build([&](Writer& w) {
    Bytes uids;
    Writer uid_writer(uids);
    for (auto uid : body.uids) uid_writer.u32(uid);
    Bytes gids;
    Writer gid_writer(gids);
    for (auto gid : body.gids) gid_writer.u32(gid);
    w.string(ByteView(uids));
    w.string(ByteView(gids));
  });
}
Bytes encode(const StatvfsReply& b) {
  return build([&](Writer& w) {
    for (std::uint64_t value :
         {b.block_size, b.fragment_size, b.blocks, b.free_blocks, b.available_blocks, b.files,
          b.free_files, b.available_files, b.filesystem_id, b.flags, b.max_name_length}) {
      w.u64(value);
    }
  });
}
Bytes encode(const LimitsReply& b) {
  return build([&](Writer& w) {
    w.u64(b.max_packet_length);
    w.u64(b.max_read_length);
    w.u64(b.max_write_length);
    w.u64(b.max_open_handles);
  });
}
Bytes encode(const UsersGroupsByIdReply& body) {
  return build([&](Writer& w) {
    Bytes users;
    Writer user_writer(users);
    for (const auto& name : body.user_names) user_writer.string(name);
    Bytes groups;
    Writer group_writer(groups);
    for (const auto& name : body.group_names) group_writer.string(name);
    w.string(ByteView(users));
    w.string(ByteView(groups));
  });
}

std::optional<TwoPaths> decode_two_paths(ByteView body) {
  Reader r(body);
  TwoPaths value;
  value.old_path = read_text(r);
  value.new_path = read_text(r);
  return done(r, std::move(value));
}
std::optional<OneString> decode_one_string(ByteView body) {
  Reader r(body);
  OneString value{read_text(r)};
  return done(r, std::move(value));
}
std::optional<OneHandle> decode_one_handle(ByteView body) {
  Reader r(body);
  OneHandle value{read_text(r)};
  return done(r, std::move(value));
}
std::optional<Lsetstat> decode_lsetstat(ByteView body) {
  Reader r(body);
  Lsetstat value;
  value.path = read_text(r);
  value.attrs = decode_attrs(r);
  return done(r, std::move(value));
}
std::optional<CopyData> decode_copy_data(ByteView body) {
  Reader r(body);
  CopyData value;
  value.read_handle = read_text(r);
  value.read_offset = r.u64();
  value.read_length = r.u64();
  value.write_handle = read_text(r);
  value.write_offset = r.u64();
  return done(r, std::move(value));
}
std::optional<UsersGroupsById> decode_users_groups_by_id(ByteView body) {
  Reader r(body);
  UsersGroupsById value;
  value.uids = read_packed_ids(r);
  value.gids = read_packed_ids(r);
  return done(r, std::move(value));
}
std::optional<StatvfsReply> decode_statvfs_reply(ByteView body) {
  Reader r(body);
  StatvfsReply b;
  for (std::uint64_t* field :
       {&b.block_size, &b.fragment_size, &b.blocks, &b.free_blocks, &b.available_blocks, &b.files,
        &b.free_files, &b.available_files, &b.filesystem_id, &b.flags, &b.max_name_length}) {
    *field = r.u64();
  }
  return done(r, b);
}
std::optional<LimitsReply> decode_limits_reply(ByteView body) {
  Reader r(body);
  LimitsReply b;
  b.max_packet_length = r.u64();
  b.max_read_length = r.u64();
  b.max_write_length = r.u64();
  b.max_open_handles = r.u64();
  return done(r, b);
}
std::optional<UsersGroupsByIdReply> decode_users_groups_by_id_reply(ByteView body) {
  Reader r(body);
  UsersGroupsByIdReply value;
  value.user_names = read_packed_names(r);
  value.group_names = read_packed_names(r);
  return done(r, std::move(value));
}

}  // namespace ext
}  // namespace sftp
