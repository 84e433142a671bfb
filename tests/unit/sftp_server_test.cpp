// The SFTP server against an in-memory file system: every request and
// extension, hostile packets, confinement escapes, read-only mode, umask and
// pipelining. The memory file system follows links like a kernel, so a path
// the server failed to confine would really reach the "outside" files.
#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "sftp/messages.hpp"
#include "sftp/server.hpp"
#include "ssh/limits.hpp"
#include "ssh/wire/writer.hpp"
#include "support/memory_file_system.hpp"

namespace {

using namespace sftp;
using testing_support::MemoryFileSystem;

constexpr const char* kRoot = "/srv/root";
constexpr const char* kSecret = "root:x:0:0:secret\n";

std::string text(const Bytes& bytes) {
  return std::string(bytes.begin(), bytes.end());
}
Bytes bytes(std::string_view value) {
  return Bytes(value.begin(), value.end());
}

// A client in the test: encodes requests, feeds them, decodes the replies.
class Client {
 public:
  explicit Client(ServerOptions options = default_options()) { start(std::move(options)); }

  static ServerOptions default_options() {
    ServerOptions options;
    options.root = kRoot;
    return options;
  }

  void start(ServerOptions options) {
    // Outside the root: what no client may read, change or link to.
    fs.add_file("/etc/passwd", kSecret);
    fs.add_directory(kRoot);
    server = std::make_unique<Server>(fs, std::move(options));
    server->feed(encode(Init{3, {}}));
    auto replies = take_replies();
    ASSERT_EQ(replies.size(), 1u);
    version = std::get<Version>(replies[0]);
  }

  std::vector<Packet> take_replies() {
    Bytes out = server->take_output();
    std::vector<Packet> packets;
    std::size_t at = 0;
    while (at + 4 <= out.size()) {
      const std::size_t length = (std::size_t{out[at]} << 24) | (std::size_t{out[at + 1]} << 16) |
                                 (std::size_t{out[at + 2]} << 8) | std::size_t{out[at + 3]};
      EXPECT_LE(at + 4 + length, out.size());
      auto packet = decode(ByteView(out).subspan(at + 4, length));
      EXPECT_TRUE(packet.ok()) << (packet.ok() ? "" : packet.error().message);
      if (packet.ok()) packets.push_back(std::move(packet.value()));
      at += 4 + length;
    }
    EXPECT_EQ(at, out.size());
    return packets;
  }

  Packet call(const Packet& request) {
    server->feed(encode(request));
    auto replies = take_replies();
    EXPECT_EQ(replies.size(), 1u);
    return replies.empty() ? Packet(Status{0, StatusCode::Failure, "no reply", ""}) : replies[0];
  }
  std::uint32_t id() { return next_id_++; }

  Status status_of(const Packet& request) {
    Packet reply = call(request);
    EXPECT_TRUE(std::holds_alternative<Status>(reply))
        << "reply type " << packet_type_name(packet_type(reply));
    return std::holds_alternative<Status>(reply) ? std::get<Status>(reply) : Status{};
  }
  StatusCode code_of(const Packet& request) { return status_of(request).code; }

  std::string open(const std::string& path, std::uint32_t flags, Attrs attrs = {}) {
    Packet reply = call(Open{id(), path, flags, attrs});
    if (auto* status = std::get_if<Status>(&reply)) {
      ADD_FAILURE() << "OPEN " << path << ": " << status->message;
      return {};
    }
    return std::get<Handle>(reply).handle;
  }
  StatusCode open_code(const std::string& path, std::uint32_t flags) {
    Packet reply = call(Open{id(), path, flags, {}});
    if (auto* status = std::get_if<Status>(&reply)) return status->code;
    EXPECT_EQ(code_of(Close{id(), std::get<Handle>(reply).handle}), StatusCode::Ok);
    return StatusCode::Ok;
  }
  std::string read_all(const std::string& handle) {
    std::string data;
    while (true) {
      Packet reply = call(Read{id(), handle, data.size(), 7});
      if (auto* status = std::get_if<Status>(&reply)) {
        EXPECT_EQ(status->code, StatusCode::Eof);
        return data;
      }
      data += text(std::get<Data>(reply).data);
    }
  }
  std::optional<Attrs> stat(const std::string& path, bool follow = true) {
    Packet reply = follow ? call(Stat{id(), path}) : call(Lstat{id(), path});
    if (auto* attrs = std::get_if<AttrsReply>(&reply)) return attrs->attrs;
    return std::nullopt;
  }
  StatusCode stat_code(const std::string& path, bool follow = true) {
    Packet reply = follow ? call(Stat{id(), path}) : call(Lstat{id(), path});
    if (auto* status = std::get_if<Status>(&reply)) return status->code;
    return StatusCode::Ok;
  }
  std::string realpath(const std::string& path) {
    Packet reply = call(Realpath{id(), path});
    if (auto* name = std::get_if<Name>(&reply)) {
      EXPECT_EQ(name->names.size(), 1u);
      return name->names.at(0).filename;
    }
    return "error: " + std::get<Status>(reply).message;
  }
  Packet extended(const std::string& name, Bytes body) {
    return call(Extended{id(), name, std::move(body)});
  }
  // All names of a directory, READDIR after READDIR until EOF.
  std::vector<std::string> list(const std::string& path, std::size_t* batches = nullptr) {
    Packet reply = call(Opendir{id(), path});
    if (!std::holds_alternative<Handle>(reply)) {
      ADD_FAILURE() << "OPENDIR " << path << " failed";
      return {};
    }
    const std::string handle = std::get<Handle>(reply).handle;
    std::vector<std::string> names;
    std::size_t count = 0;
    while (true) {
      Packet next = call(Readdir{id(), handle});
      if (auto* status = std::get_if<Status>(&next)) {
        EXPECT_EQ(status->code, StatusCode::Eof);
        break;
      }
      ++count;
      for (const auto& entry : std::get<Name>(next).names) names.push_back(entry.filename);
    }
    EXPECT_EQ(code_of(Close{id(), handle}), StatusCode::Ok);
    if (batches) *batches = count;
    return names;
  }

  MemoryFileSystem fs;
  std::unique_ptr<Server> server;
  Version version;

 private:
  std::uint32_t next_id_ = 1;
};

std::string in_root(const std::string& path) {
  return std::string(kRoot) + path;
}

// Messages ------------------------------------------------------------------

template <class T>
T roundtrip(const T& value) {
  Bytes wire = encode(Packet(value));
  EXPECT_GE(wire.size(), 5u);
  auto decoded = decode(ByteView(wire).subspan(4));
  EXPECT_TRUE(decoded.ok());
  return std::get<T>(decoded.value());
}

TEST(SftpMessagesTest, EveryPacketSurvivesEncodeAndDecode) {
  Attrs attrs;
  attrs.size = 1ull << 40;
  attrs.owner = Attrs::Owner{1000, 100};
  attrs.permissions = file_type::kRegular | 0640;
  attrs.times = Attrs::Times{111, 222};
  attrs.extended = {{"vendor@example.com", "x"}};

  EXPECT_EQ(roundtrip(Init{3, {{"a", "1"}}}).extensions.at(0), (ExtensionPair{"a", "1"}));
  EXPECT_EQ(roundtrip(Version{3, {{ext::kLimits, "1"}}}).extensions.at(0).name, ext::kLimits);
  auto open = roundtrip(Open{7, "/f", open_flags::kRead | open_flags::kCreate, attrs});
  EXPECT_EQ(open.id, 7u);
  EXPECT_EQ(open.filename, "/f");
  EXPECT_EQ(open.attrs, attrs);
  EXPECT_EQ(roundtrip(Close{8, "h"}).handle, "h");
  auto read = roundtrip(Read{9, "h", 1ull << 33, 4096});
  EXPECT_EQ(read.offset, 1ull << 33);
  EXPECT_EQ(read.length, 4096u);
  EXPECT_EQ(text(roundtrip(Write{10, "h", 5, bytes("data")}).data), "data");
  EXPECT_EQ(roundtrip(Lstat{11, "l"}).path, "l");
  EXPECT_EQ(roundtrip(Fstat{12, "h"}).handle, "h");
  EXPECT_EQ(roundtrip(Setstat{13, "p", attrs}).attrs, attrs);
  EXPECT_EQ(roundtrip(Fsetstat{14, "h", attrs}).attrs, attrs);
  EXPECT_EQ(roundtrip(Opendir{15, "d"}).path, "d");
  EXPECT_EQ(roundtrip(Readdir{16, "h"}).handle, "h");
  EXPECT_EQ(roundtrip(Remove{17, "r"}).path, "r");
  EXPECT_EQ(roundtrip(Mkdir{18, "m", attrs}).attrs, attrs);
  EXPECT_EQ(roundtrip(Rmdir{19, "m"}).id, 19u);
  EXPECT_EQ(roundtrip(Realpath{20, "."}).path, ".");
  EXPECT_EQ(roundtrip(Stat{21, "s"}).path, "s");
  auto rename = roundtrip(Rename{22, "a", "b"});
  EXPECT_EQ(rename.new_path, "b");
  EXPECT_EQ(roundtrip(Readlink{23, "l"}).path, "l");
  auto symlink = roundtrip(Symlink{24, "target", "link"});
  EXPECT_EQ(symlink.target_path, "target");
  EXPECT_EQ(symlink.link_path, "link");
  EXPECT_EQ(text(roundtrip(Extended{25, "x@y", bytes("body")}).data), "body");
  auto status = roundtrip(Status{26, StatusCode::NoSuchFile, "gone", "en"});
  EXPECT_EQ(status.code, StatusCode::NoSuchFile);
  EXPECT_EQ(status.message, "gone");
  EXPECT_EQ(roundtrip(Handle{27, "h"}).handle, "h");
  EXPECT_EQ(text(roundtrip(Data{28, bytes("d")}).data), "d");
  auto name = roundtrip(Name{29, {{"f", "-rw f", attrs}, {"g", "g", {}}}});
  ASSERT_EQ(name.names.size(), 2u);
  EXPECT_EQ(name.names[0].attrs, attrs);
  EXPECT_EQ(name.names[1].filename, "g");
  EXPECT_EQ(roundtrip(AttrsReply{30, attrs}).attrs, attrs);
  EXPECT_EQ(text(roundtrip(ExtendedReply{31, bytes("r")}).data), "r");
}

TEST(SftpMessagesTest, ExtensionBodiesSurviveEncodeAndDecode) {
  EXPECT_EQ(ext::decode_two_paths(ext::encode(ext::TwoPaths{"a", "b"}))->new_path, "b");
  EXPECT_EQ(ext::decode_one_string(ext::encode(ext::OneString{"~"}))->value, "~");
  EXPECT_EQ(ext::decode_one_handle(ext::encode(ext::OneHandle{"h"}))->handle, "h");
  Attrs attrs;
  attrs.permissions = 0600;
  EXPECT_EQ(ext::decode_lsetstat(ext::encode(ext::Lsetstat{"p", attrs}))->attrs, attrs);
  auto copy = ext::decode_copy_data(ext::encode(ext::CopyData{"r", 1, 2, "w", 3}));
  ASSERT_TRUE(copy);
  EXPECT_EQ(copy->write_handle, "w");
  EXPECT_EQ(copy->write_offset, 3u);
  auto ids = ext::decode_users_groups_by_id(ext::encode(ext::UsersGroupsById{{1, 2}, {3}}));
  ASSERT_TRUE(ids);
  EXPECT_EQ(ids->uids, (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(ids->gids, (std::vector<std::uint32_t>{3}));
  ext::StatvfsReply stats{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  EXPECT_EQ(*ext::decode_statvfs_reply(ext::encode(stats)), stats);
  ext::LimitsReply limits{1, 2, 3, 4};
  EXPECT_EQ(*ext::decode_limits_reply(ext::encode(limits)), limits);
  auto names = ext::decode_users_groups_by_id_reply(
      ext::encode(ext::UsersGroupsByIdReply{{"root", ""}, {"wheel"}}));
  ASSERT_TRUE(names);
  EXPECT_EQ(names->user_names, (std::vector<std::string>{"root", ""}));
  EXPECT_EQ(names->group_names, (std::vector<std::string>{"wheel"}));
  // Packed ids must be whole words; trailing bytes are refused.
  Bytes ragged;
  ssh::wire::Writer w(ragged);
  w.string(bytes("abc"));
  w.string(bytes(""));
  EXPECT_FALSE(ext::decode_users_groups_by_id(ragged));
  Bytes trailing = ext::encode(ext::OneString{"x"});
  trailing.push_back(0);
  EXPECT_FALSE(ext::decode_one_string(trailing));
}

TEST(SftpMessagesTest, HostileCountsAndLengthsAreRefusedBeforeAllocating) {
  // NAME claiming four billion entries in a few bytes.
  Bytes name;
  ssh::wire::Writer w(name);
  w.u8(static_cast<std::uint8_t>(PacketType::Name));
  w.u32(1);
  w.u32(0xffffffff);
  w.u32(0);
  EXPECT_FALSE(decode(name).ok());
  // ATTRS with a huge extended count.
  Bytes attrs;
  ssh::wire::Writer a(attrs);
  a.u8(static_cast<std::uint8_t>(PacketType::Attrs));
  a.u32(1);
  a.u32(Attrs::kExtendedFlag);
  a.u32(0x7fffffff);
  EXPECT_FALSE(decode(attrs).ok());
  // ATTRS with a flag we do not know (its fields could not be skipped).
  Bytes unknown_flag;
  ssh::wire::Writer u(unknown_flag);
  u.u8(static_cast<std::uint8_t>(PacketType::Attrs));
  u.u32(1);
  u.u32(0x40);
  EXPECT_FALSE(decode(unknown_flag).ok());
  // A string length past the end.
  Bytes truncated;
  ssh::wire::Writer t(truncated);
  t.u8(static_cast<std::uint8_t>(PacketType::Stat));
  t.u32(1);
  t.u32(1000);
  t.raw(bytes("abc"));
  EXPECT_FALSE(decode(truncated).ok());
  // Trailing bytes, an empty packet, an unknown type, an oversized packet.
  Bytes stat = encode(Packet(Stat{1, "x"}));
  stat.push_back(0);
  EXPECT_FALSE(decode(ByteView(stat).subspan(4)).ok());
  EXPECT_FALSE(decode(ByteView()).ok());
  const std::uint8_t unknown[] = {99, 0, 0, 0, 1};
  EXPECT_FALSE(decode(unknown).ok());
  Bytes huge(kMaxPacketLength + 1, 0);
  huge[0] = static_cast<std::uint8_t>(PacketType::Extended);
  EXPECT_FALSE(decode(huge).ok());
}

// Requests --------------------------------------------------------------------

TEST(SftpServerTest, InitAnswersVersion3WithEveryExtension) {
  Client client;
  EXPECT_EQ(client.version.version, 3u);
  std::map<std::string, std::string> offered;
  for (const auto& pair : client.version.extensions) offered[pair.name] = pair.data;
  const std::map<std::string, std::string> expected{{"posix-rename@openssh.com", "1"},
                                                    {"statvfs@openssh.com", "2"},
                                                    {"fstatvfs@openssh.com", "2"},
                                                    {"hardlink@openssh.com", "1"},
                                                    {"fsync@openssh.com", "1"},
                                                    {"lsetstat@openssh.com", "1"},
                                                    {"limits@openssh.com", "1"},
                                                    {"expand-path@openssh.com", "1"},
                                                    {"copy-data", "1"},
                                                    {"home-directory", "1"},
                                                    {"users-groups-by-id@openssh.com", "1"}};
  EXPECT_EQ(offered, expected);
}

TEST(SftpServerTest, RequestBeforeInitEndsTheSession) {
  MemoryFileSystem fs;
  Server server(fs, {});
  server.feed(encode(Stat{1, "/"}));
  EXPECT_TRUE(server.failed());
  EXPECT_FALSE(server.has_output());
  EXPECT_TRUE(server.finished());
}

TEST(SftpServerTest, OpenWriteReadFstatClose) {
  Client client;
  using namespace open_flags;
  const std::string handle = client.open("/notes.txt", kWrite | kCreate | kTruncate);
  EXPECT_EQ(client.code_of(Write{client.id(), handle, 0, bytes("hello ")}), StatusCode::Ok);
  EXPECT_EQ(client.code_of(Write{client.id(), handle, 6, bytes("world")}), StatusCode::Ok);
  // A write-only handle cannot be read.
  EXPECT_EQ(client.code_of(Read{client.id(), handle, 0, 10}), StatusCode::PermissionDenied);
  EXPECT_EQ(client.code_of(Close{client.id(), handle}), StatusCode::Ok);
  EXPECT_EQ(client.fs.content(in_root("/notes.txt")), "hello world");

  const std::string reader = client.open("notes.txt", kRead);
  EXPECT_EQ(client.read_all(reader), "hello world");
  auto fstat = std::get<AttrsReply>(client.call(Fstat{client.id(), reader}));
  EXPECT_EQ(fstat.attrs.size, 11u);
  EXPECT_TRUE(fstat.attrs.is_regular());
  // A read past the end is EOF; writes through a read handle are refused.
  EXPECT_EQ(client.code_of(Read{client.id(), reader, 100, 10}), StatusCode::Eof);
  EXPECT_EQ(client.code_of(Write{client.id(), reader, 0, bytes("x")}),
            StatusCode::PermissionDenied);
  EXPECT_EQ(client.code_of(Close{client.id(), reader}), StatusCode::Ok);
  EXPECT_EQ(client.server->open_handle_count(), 0u);

  // APPEND writes at the end whatever the offset; EXCL refuses an existing file.
  const std::string appender = client.open("/notes.txt", kWrite | kAppend);
  EXPECT_EQ(client.code_of(Write{client.id(), appender, 0, bytes("!")}), StatusCode::Ok);
  EXPECT_EQ(client.code_of(Close{client.id(), appender}), StatusCode::Ok);
  EXPECT_EQ(client.fs.content(in_root("/notes.txt")), "hello world!");
  EXPECT_EQ(client.open_code("/notes.txt", kWrite | kCreate | kExclusive), StatusCode::Failure);
  EXPECT_EQ(client.open_code("/missing", kRead), StatusCode::NoSuchFile);
}

TEST(SftpServerTest, ReadLengthIsCappedAndDataRepliesStayWithinThePacketLimit) {
  Client client;
  client.fs.add_file(in_root("/big"), std::string(kMaxPacketLength * 2, 'b'));
  const std::string handle = client.open("/big", open_flags::kRead);
  Packet reply = client.call(Read{client.id(), handle, 0, 0xffffffff});
  ASSERT_TRUE(std::holds_alternative<Data>(reply));
  EXPECT_EQ(std::get<Data>(reply).data.size(), kMaxReadLength);
}

TEST(SftpServerTest, StatLstatSetstatFsetstat) {
  Client client;
  client.fs.add_file(in_root("/f"), "12345");
  client.fs.add_link(in_root("/l"), "f");
  auto followed = client.stat("/l");
  ASSERT_TRUE(followed);
  EXPECT_TRUE(followed->is_regular());
  EXPECT_EQ(followed->size, 5u);
  auto link = client.stat("/l", false);
  ASSERT_TRUE(link);
  EXPECT_TRUE(link->is_symlink());
  EXPECT_EQ(client.stat_code("/nope"), StatusCode::NoSuchFile);

  Attrs change;
  change.size = 2;
  change.permissions = 0100600;  // type bits are ignored
  change.times = Attrs::Times{10, 20};
  change.owner = Attrs::Owner{0, 0};
  EXPECT_EQ(client.code_of(Setstat{client.id(), "/l", change}), StatusCode::Ok);
  auto node = client.fs.find(in_root("/f"));
  EXPECT_EQ(node->data.size(), 2u);
  EXPECT_EQ(node->permissions, 0600u);
  EXPECT_EQ(node->mtime, 20u);
  EXPECT_EQ(node->uid, 0u);

  const std::string handle = client.open("/f", open_flags::kRead | open_flags::kWrite);
  Attrs chmod;
  chmod.permissions = 0640;
  EXPECT_EQ(client.code_of(Fsetstat{client.id(), handle, chmod}), StatusCode::Ok);
  EXPECT_EQ(node->permissions, 0640u);
  EXPECT_EQ(client.code_of(Close{client.id(), handle}), StatusCode::Ok);
}

TEST(SftpServerTest, DirectoriesListInBoundedBatches) {
  Client client;
  Attrs mode;
  mode.permissions = 0700;
  EXPECT_EQ(client.code_of(Mkdir{client.id(), "/d", mode}), StatusCode::Ok);
  EXPECT_EQ(client.fs.find(in_root("/d"))->permissions, 0700u);
  EXPECT_EQ(client.code_of(Mkdir{client.id(), "/d", {}}), StatusCode::Failure);
  for (int i = 0; i < 250; ++i) client.fs.add_file(in_root("/d/f" + std::to_string(i)), "x");
  std::size_t batches = 0;
  auto names = client.list("/d", &batches);
  EXPECT_EQ(names.size(), 252u);  // with "." and ".."
  EXPECT_EQ(batches, 3u);
  EXPECT_NE(std::find(names.begin(), names.end(), "f249"), names.end());

  // ls -l style long names.
  Packet opened = client.call(Opendir{client.id(), "/d"});
  const std::string handle = std::get<Handle>(opened).handle;
  auto first = std::get<Name>(client.call(Readdir{client.id(), handle}));
  bool saw_file = false;
  for (const auto& entry : first.names) {
    if (entry.filename == "f0") {
      saw_file = true;
      EXPECT_EQ(entry.longname.rfind("-rw-r--r--", 0), 0u) << entry.longname;
      EXPECT_NE(entry.longname.find("tester"), std::string::npos) << entry.longname;
      EXPECT_NE(entry.longname.find("Jan  1  1970 f0"), std::string::npos) << entry.longname;
    }
  }
  EXPECT_TRUE(saw_file);
  EXPECT_EQ(client.code_of(Close{client.id(), handle}), StatusCode::Ok);

  EXPECT_EQ(client.code_of(Rmdir{client.id(), "/d"}), StatusCode::Failure);  // not empty
  EXPECT_EQ(client.code_of(Mkdir{client.id(), "/e", {}}), StatusCode::Ok);
  EXPECT_EQ(client.code_of(Rmdir{client.id(), "/e"}), StatusCode::Ok);
  EXPECT_EQ(client.fs.find(in_root("/e")), nullptr);
  EXPECT_EQ(client.code_of(Opendir{client.id(), "/nope"}), StatusCode::NoSuchFile);
}

// One READDIR reply holds limits::kDefaultSftpReaddirBatch names: a
// directory with exactly that many ("." and ".." count) lists in one reply,
// one entry more takes a second.
TEST(SftpServerTest, DefaultReaddirBatchLimitAtAndPast) {
  const std::size_t limit = ssh::limits::kDefaultSftpReaddirBatch;
  ASSERT_EQ(Client::default_options().readdir_batch, limit);
  for (const std::size_t entries : {limit, limit + 1}) {
    Client client;
    client.fs.add_directory(in_root("/d"));
    for (std::size_t i = 0; i + 2 < entries; ++i) {
      client.fs.add_file(in_root("/d/f" + std::to_string(i)), "x");
    }
    Packet opened = client.call(Opendir{client.id(), "/d"});
    ASSERT_TRUE(std::holds_alternative<Handle>(opened));
    const std::string handle = std::get<Handle>(opened).handle;
    Packet first = client.call(Readdir{client.id(), handle});
    ASSERT_TRUE(std::holds_alternative<Name>(first));
    EXPECT_EQ(std::get<Name>(first).names.size(), limit);
    Packet second = client.call(Readdir{client.id(), handle});
    if (entries == limit) {
      ASSERT_TRUE(std::holds_alternative<Status>(second));
      EXPECT_EQ(std::get<Status>(second).code, StatusCode::Eof);
    } else {
      ASSERT_TRUE(std::holds_alternative<Name>(second));
      EXPECT_EQ(std::get<Name>(second).names.size(), 1u);
    }
  }
}

TEST(SftpServerTest, RemoveRenameAndPosixRename) {
  Client client;
  client.fs.add_file(in_root("/a"), "A");
  client.fs.add_file(in_root("/b"), "B");
  // The draft's RENAME refuses to replace; posix-rename replaces.
  EXPECT_EQ(client.code_of(Rename{client.id(), "/a", "/b"}), StatusCode::Failure);
  EXPECT_EQ(client.code_of(Rename{client.id(), "/a", "/c"}), StatusCode::Ok);
  EXPECT_EQ(client.fs.content(in_root("/c")), "A");
  Packet reply = client.extended(ext::kPosixRename, ext::encode(ext::TwoPaths{"/c", "/b"}));
  EXPECT_EQ(std::get<Status>(reply).code, StatusCode::Ok);
  EXPECT_EQ(client.fs.content(in_root("/b")), "A");
  EXPECT_EQ(client.fs.find(in_root("/c")), nullptr);
  EXPECT_EQ(client.code_of(Remove{client.id(), "/b"}), StatusCode::Ok);
  EXPECT_EQ(client.code_of(Remove{client.id(), "/b"}), StatusCode::NoSuchFile);
}

// Found by fuzz_sftp_server (a leak: the in-memory tree held a cycle): a
// directory renamed into its own subtree is refused, as rename(2) does with
// EINVAL, and nothing moves.
TEST(SftpServerTest, ADirectoryCannotBeRenamedIntoItself) {
  Client client;
  client.fs.add_file(in_root("/dir/sub/file"), "F");
  EXPECT_EQ(client.code_of(Rename{client.id(), "/dir", "/dir/inside"}), StatusCode::Failure);
  EXPECT_EQ(client.code_of(Rename{client.id(), "/dir", "/dir/sub/deeper"}), StatusCode::Failure);
  Packet reply =
      client.extended(ext::kPosixRename, ext::encode(ext::TwoPaths{"/dir", "/dir/sub/../sub/y"}));
  EXPECT_EQ(std::get<Status>(reply).code, StatusCode::Failure);
  EXPECT_EQ(client.fs.content(in_root("/dir/sub/file")), "F");
  EXPECT_EQ(client.fs.find(in_root("/dir/inside")), nullptr);
  // Beside itself is fine.
  EXPECT_EQ(client.code_of(Rename{client.id(), "/dir", "/dir2"}), StatusCode::Ok);
  EXPECT_EQ(client.fs.content(in_root("/dir2/sub/file")), "F");
}

TEST(SftpServerTest, RealpathClampsAtTheRootAndStartsAtTheStartDirectory) {
  auto options = Client::default_options();
  options.start_directory = "/home/u";
  Client client(options);
  client.fs.add_directory(in_root("/home/u/x"));
  client.fs.add_directory(in_root("/a"));
  EXPECT_EQ(client.realpath("."), "/home/u");
  EXPECT_EQ(client.realpath(""), "/home/u");
  EXPECT_EQ(client.realpath("x/../y"), "/home/u/y");
  EXPECT_EQ(client.realpath(".."), "/home");
  EXPECT_EQ(client.realpath("/../../.."), "/");
  EXPECT_EQ(client.realpath("../../../../etc"), "/etc");
  EXPECT_EQ(client.realpath("//a//b/./"), "/a/b");
  // As realpath(3): a missing last component is fine, a missing directory is not.
  EXPECT_EQ(client.realpath("/missing/../a"), "error: no such file");
}

TEST(SftpServerTest, SymlinkTakesOpenSshArgumentOrderAndReadlinkReturnsTheTarget) {
  Client client;
  client.fs.add_file(in_root("/target"), "T");
  EXPECT_EQ(client.code_of(Symlink{client.id(), "target", "/link"}), StatusCode::Ok);
  auto node = client.fs.find(in_root("/link"));
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->target, "target");
  auto name = std::get<Name>(client.call(Readlink{client.id(), "/link"}));
  EXPECT_EQ(name.names.at(0).filename, "target");
  const std::string handle = client.open("/link", open_flags::kRead);
  EXPECT_EQ(client.read_all(handle), "T");
  EXPECT_EQ(client.code_of(Readlink{client.id(), "/target"}), StatusCode::Failure);
  EXPECT_EQ(client.realpath("/link"), "/target");
}

// Extensions --------------------------------------------------------------------

TEST(SftpServerTest, StatvfsAndFstatvfs) {
  Client client;
  client.fs.add_file(in_root("/f"), "x");
  auto reply =
      std::get<ExtendedReply>(client.extended(ext::kStatvfs, ext::encode(ext::OneString{"/"})));
  auto stats = ext::decode_statvfs_reply(reply.data);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->blocks, 1000u);
  EXPECT_EQ(stats->available_blocks, 500u);
  EXPECT_EQ(stats->flags & ext::StatvfsReply::kReadOnly, 0u);
  const std::string handle = client.open("/f", open_flags::kRead);
  auto by_handle =
      std::get<ExtendedReply>(client.extended(ext::kFstatvfs, ext::encode(ext::OneHandle{handle})));
  EXPECT_EQ(ext::decode_statvfs_reply(by_handle.data)->max_name_length, 255u);
  auto bad = client.extended(ext::kFstatvfs, ext::encode(ext::OneHandle{"nope"}));
  EXPECT_EQ(std::get<Status>(bad).code, StatusCode::Failure);
}

TEST(SftpServerTest, HardlinkFsyncAndLsetstat) {
  Client client;
  client.fs.add_file(in_root("/f"), "data");
  auto linked = client.extended(ext::kHardlink, ext::encode(ext::TwoPaths{"/f", "/g"}));
  EXPECT_EQ(std::get<Status>(linked).code, StatusCode::Ok);
  EXPECT_EQ(client.fs.find(in_root("/g")), client.fs.find(in_root("/f")));

  const std::string handle = client.open("/f", open_flags::kWrite);
  auto synced = client.extended(ext::kFsync, ext::encode(ext::OneHandle{handle}));
  EXPECT_EQ(std::get<Status>(synced).code, StatusCode::Ok);
  EXPECT_TRUE(client.fs.find(in_root("/f"))->synced);

  // lsetstat changes the link itself, not its target.
  client.fs.add_link(in_root("/l"), "f");
  Attrs times;
  times.times = Attrs::Times{5, 6};
  auto set = client.extended(ext::kLsetstat, ext::encode(ext::Lsetstat{"/l", times}));
  EXPECT_EQ(std::get<Status>(set).code, StatusCode::Ok);
  EXPECT_EQ(client.fs.find(in_root("/l"))->mtime, 6u);
  EXPECT_EQ(client.fs.find(in_root("/f"))->mtime, 0u);
}

TEST(SftpServerTest, LimitsExpandPathHomeDirectoryAndUsersGroups) {
  auto options = Client::default_options();
  options.start_directory = "/home/me";
  options.user_name = "me";
  options.max_open_handles = 77;
  Client client(options);
  client.fs.add_directory(in_root("/home/me/docs"));

  auto limits =
      ext::decode_limits_reply(std::get<ExtendedReply>(client.extended(ext::kLimits, {})).data);
  ASSERT_TRUE(limits);
  EXPECT_EQ(limits->max_packet_length, kMaxPacketLength);
  EXPECT_EQ(limits->max_read_length, kMaxReadLength);
  EXPECT_EQ(limits->max_write_length, kMaxReadLength);
  EXPECT_EQ(limits->max_open_handles, 77u);

  auto expanded = client.extended(ext::kExpandPath, ext::encode(ext::OneString{"~/docs/../docs"}));
  EXPECT_EQ(std::get<Name>(expanded).names.at(0).filename, "/home/me/docs");
  auto tilde = client.extended(ext::kExpandPath, ext::encode(ext::OneString{"~"}));
  EXPECT_EQ(std::get<Name>(tilde).names.at(0).filename, "/home/me");
  auto other = client.extended(ext::kExpandPath, ext::encode(ext::OneString{"~root/x"}));
  EXPECT_EQ(std::get<Status>(other).code, StatusCode::Failure);

  auto home = client.extended(ext::kHomeDirectory, ext::encode(ext::OneString{"me"}));
  EXPECT_EQ(std::get<Name>(home).names.at(0).filename, "/home/me");
  auto stranger = client.extended(ext::kHomeDirectory, ext::encode(ext::OneString{"bob"}));
  EXPECT_EQ(std::get<Status>(stranger).code, StatusCode::NoSuchFile);

  auto names = client.extended(ext::kUsersGroupsById,
                               ext::encode(ext::UsersGroupsById{{0, 1000, 4242}, {1000, 0}}));
  auto decoded = ext::decode_users_groups_by_id_reply(std::get<ExtendedReply>(names).data);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->user_names, (std::vector<std::string>{"root", "tester", ""}));
  EXPECT_EQ(decoded->group_names, (std::vector<std::string>{"testers", "wheel"}));

  auto unknown = client.extended("nonsense@example.com", bytes("x"));
  EXPECT_EQ(std::get<Status>(unknown).code, StatusCode::OpUnsupported);
  auto malformed = client.extended(ext::kStatvfs, bytes("\x00\x00"));
  EXPECT_EQ(std::get<Status>(malformed).code, StatusCode::BadMessage);
}

TEST(SftpServerTest, CopyDataCopiesRangesBetweenHandles) {
  Client client;
  client.fs.add_file(in_root("/src"), "0123456789");
  using namespace open_flags;
  const std::string source = client.open("/src", kRead);
  const std::string destination = client.open("/dst", kWrite | kCreate);
  auto part =
      client.extended(ext::kCopyData, ext::encode(ext::CopyData{source, 2, 3, destination, 0}));
  EXPECT_EQ(std::get<Status>(part).code, StatusCode::Ok);
  EXPECT_EQ(client.fs.content(in_root("/dst")), "234");
  auto rest =
      client.extended(ext::kCopyData, ext::encode(ext::CopyData{source, 5, 0, destination, 3}));
  EXPECT_EQ(std::get<Status>(rest).code, StatusCode::Ok);
  EXPECT_EQ(client.fs.content(in_root("/dst")), "23456789");
  // Wrong direction and overlapping ranges within one file are refused.
  auto backwards =
      client.extended(ext::kCopyData, ext::encode(ext::CopyData{destination, 0, 0, source, 0}));
  EXPECT_EQ(std::get<Status>(backwards).code, StatusCode::PermissionDenied);
  const std::string both = client.open("/src", kRead | kWrite);
  auto overlap = client.extended(ext::kCopyData, ext::encode(ext::CopyData{both, 0, 5, both, 2}));
  EXPECT_EQ(std::get<Status>(overlap).code, StatusCode::Failure);
  auto disjoint = client.extended(ext::kCopyData, ext::encode(ext::CopyData{both, 0, 2, both, 8}));
  EXPECT_EQ(std::get<Status>(disjoint).code, StatusCode::Ok);
  EXPECT_EQ(client.fs.content(in_root("/src")), "0123456701");
}

// Hostile input ---------------------------------------------------------------

TEST(SftpServerTest, MalformedRequestsGetBadMessageAndTheSessionGoesOn) {
  Client client;
  // A STAT whose path length runs past the packet.
  Bytes truncated;
  ssh::wire::Writer w(truncated);
  w.u32(1 + 4 + 4 + 2);
  w.u8(static_cast<std::uint8_t>(PacketType::Stat));
  w.u32(42);
  w.u32(1000);
  w.raw(bytes("ab"));
  client.server->feed(truncated);
  auto replies = client.take_replies();
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(std::get<Status>(replies[0]).id, 42u);
  EXPECT_EQ(std::get<Status>(replies[0]).code, StatusCode::BadMessage);
  // An unknown type with an id.
  const std::uint8_t unknown[] = {0, 0, 0, 5, 77, 0, 0, 0, 43};
  client.server->feed(unknown);
  replies = client.take_replies();
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(std::get<Status>(replies[0]).code, StatusCode::OpUnsupported);
  // A reply type sent as a request.
  EXPECT_EQ(client.code_of(Handle{44, "x"}), StatusCode::BadMessage);
  // Still serving.
  EXPECT_EQ(client.realpath("/"), "/");
  EXPECT_FALSE(client.server->failed());
}

TEST(SftpServerTest, OversizedOrEmptyPacketsEndTheSession) {
  for (std::uint32_t length :
       {std::uint32_t{0}, std::uint32_t(kMaxPacketLength + 1), 0xffffffffu}) {
    Client client;
    Bytes header;
    ssh::wire::Writer w(header);
    w.u32(length);
    w.u8(static_cast<std::uint8_t>(PacketType::Write));
    client.server->feed(header);
    EXPECT_TRUE(client.server->failed()) << length;
    EXPECT_FALSE(client.server->has_output());
    client.server->feed(encode(Realpath{1, "/"}));
    EXPECT_FALSE(client.server->has_output());
  }
}

TEST(SftpServerTest, PacketsSplitIntoSingleBytesAreReassembled) {
  Client client;
  client.fs.add_directory(in_root("/a"));
  Bytes wire = encode(Realpath{9, "/a/.."});
  for (std::uint8_t byte : wire) client.server->feed(ByteView(&byte, 1));
  auto replies = client.take_replies();
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(std::get<Name>(replies[0]).names.at(0).filename, "/");
}

TEST(SftpServerTest, InvalidHandlesAreRefusedAndTheHandleCountIsBounded) {
  auto options = Client::default_options();
  options.max_open_handles = 3;
  Client client(options);
  for (const std::string& bad : {std::string("nope"), std::string(), std::string("999999")}) {
    EXPECT_EQ(client.status_of(Read{client.id(), bad, 0, 10}).message, "invalid handle");
    EXPECT_EQ(client.code_of(Write{client.id(), bad, 0, bytes("x")}), StatusCode::Failure);
    EXPECT_EQ(client.code_of(Close{client.id(), bad}), StatusCode::Failure);
    EXPECT_EQ(client.code_of(Fstat{client.id(), bad}), StatusCode::Failure);
    EXPECT_EQ(client.code_of(Fsetstat{client.id(), bad, {}}), StatusCode::Failure);
    EXPECT_EQ(client.code_of(Readdir{client.id(), bad}), StatusCode::Failure);
  }
  client.fs.add_file(in_root("/f"), "x");
  std::vector<std::string> handles;
  for (int i = 0; i < 3; ++i) handles.push_back(client.open("/f", open_flags::kRead));
  EXPECT_EQ(client.status_of(Open{client.id(), "/f", open_flags::kRead, {}}).message,
            "too many open handles");
  EXPECT_EQ(client.code_of(Opendir{client.id(), "/"}), StatusCode::Failure);
  // A directory handle is no file handle and the reverse.
  EXPECT_EQ(client.code_of(Close{client.id(), handles[0]}), StatusCode::Ok);
  const std::string dir = std::get<Handle>(client.call(Opendir{client.id(), "/"})).handle;
  EXPECT_EQ(client.code_of(Read{client.id(), dir, 0, 1}), StatusCode::Failure);
  EXPECT_EQ(client.code_of(Readdir{client.id(), handles[1]}), StatusCode::Failure);
  // A closed handle stays invalid.
  EXPECT_EQ(client.code_of(Read{client.id(), handles[0], 0, 1}), StatusCode::Failure);
}

TEST(SftpServerTest, DefaultHandleLimitAtAndPast) {
  Client client;
  const std::size_t limit = Client::default_options().max_open_handles;
  ASSERT_EQ(limit, 1024u);
  client.fs.add_file(in_root("/f"), "x");
  for (std::size_t i = 0; i < limit; ++i) {
    ASSERT_TRUE(
        std::holds_alternative<Handle>(client.call(Open{client.id(), "/f", open_flags::kRead, {}})))
        << "handle " << i;
  }
  EXPECT_EQ(client.status_of(Open{client.id(), "/f", open_flags::kRead, {}}).message,
            "too many open handles");
}

// A chain of limits::kMaxSftpLinksPerLookup links resolves; one link more
// is "too many levels of symbolic links".
TEST(SftpServerTest, LinksPerLookupLimitAtAndPast) {
  const int limit = ssh::limits::kMaxSftpLinksPerLookup;
  for (const int links : {limit, limit + 1}) {
    SCOPED_TRACE(links);
    Client client;
    client.fs.add_file(in_root("/target.txt"), "end of the chain");
    // link1 -> link2 -> ... -> linkN -> target.txt
    for (int i = 1; i <= links; ++i) {
      client.fs.add_link(in_root("/link" + std::to_string(i)),
                         i == links ? "target.txt" : "link" + std::to_string(i + 1));
    }
    if (links <= limit) {
      EXPECT_EQ(client.open_code("/link1", open_flags::kRead), StatusCode::Ok);
    } else {
      const Status status = client.status_of(Open{client.id(), "/link1", open_flags::kRead, {}});
      EXPECT_EQ(status.code, StatusCode::Failure);
      EXPECT_EQ(status.message, "too many levels of symbolic links");
    }
  }
}

// Confinement ---------------------------------------------------------------------

class SftpConfinementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client.fs.add_file(in_root("/inside.txt"), "inside");
    client.fs.add_directory(in_root("/sub"));
    client.fs.add_link(in_root("/to_etc"), "/etc");
    client.fs.add_link(in_root("/sub/up"), "../../../etc");
    client.fs.add_link(in_root("/chain1"), "chain2");
    client.fs.add_link(in_root("/chain2"), "sub/up");
    client.fs.add_link(in_root("/inside_abs"), std::string(kRoot) + "/sub");
    client.fs.add_link(in_root("/loop_a"), "loop_b");
    client.fs.add_link(in_root("/loop_b"), "loop_a");
  }
  void TearDown() override {
    // Whatever happened, the outside is as it was.
    EXPECT_EQ(client.fs.content("/etc/passwd"), kSecret);
    auto etc = client.fs.find("/etc");
    ASSERT_NE(etc, nullptr);
    EXPECT_EQ(etc->children.size(), 1u);
  }
  Client client;
};

TEST_F(SftpConfinementTest, DotDotAndAbsolutePathsStayInsideTheRoot) {
  EXPECT_EQ(client.open_code("../../etc/passwd", open_flags::kRead), StatusCode::NoSuchFile);
  EXPECT_EQ(client.open_code("/../../../etc/passwd", open_flags::kRead), StatusCode::NoSuchFile);
  EXPECT_EQ(client.open_code("/etc/passwd", open_flags::kRead), StatusCode::NoSuchFile);
  EXPECT_EQ(client.open_code("sub/../../inside.txt", open_flags::kRead), StatusCode::Ok);
  // A file created "above" the root lands inside it.
  const std::string handle =
      client.open("../../../made.txt", open_flags::kWrite | open_flags::kCreate);
  EXPECT_EQ(client.code_of(Close{client.id(), handle}), StatusCode::Ok);
  EXPECT_TRUE(client.fs.content(in_root("/made.txt")));
  EXPECT_EQ(client.fs.find("/made.txt"), nullptr);
  EXPECT_EQ(client.fs.find("/srv/made.txt"), nullptr);
}

TEST_F(SftpConfinementTest, LinksLeadingOutsideAreRefused) {
  for (const std::string path : {"/to_etc/passwd", "/sub/up/passwd", "/chain1/passwd"}) {
    EXPECT_EQ(client.open_code(path, open_flags::kRead), StatusCode::PermissionDenied) << path;
    EXPECT_EQ(client.stat_code(path), StatusCode::PermissionDenied) << path;
  }
  EXPECT_EQ(client.stat_code("/to_etc"), StatusCode::PermissionDenied);
  EXPECT_EQ(client.stat_code("/to_etc", false), StatusCode::Ok);                 // the link itself
  EXPECT_EQ(client.stat_code("/to_etc/", false), StatusCode::PermissionDenied);  // its target
  EXPECT_EQ(client.code_of(Opendir{client.id(), "/chain1"}), StatusCode::PermissionDenied);
  EXPECT_EQ(client.status_of(Realpath{client.id(), "/sub/up"}).code, StatusCode::PermissionDenied);
  EXPECT_EQ(client.code_of(Setstat{client.id(), "/to_etc/passwd", {}}),
            StatusCode::PermissionDenied);
  EXPECT_EQ(client.code_of(Remove{client.id(), "/to_etc/passwd"}), StatusCode::PermissionDenied);
  EXPECT_EQ(client.code_of(Mkdir{client.id(), "/to_etc/new", {}}), StatusCode::PermissionDenied);
  auto statvfs = client.extended(ext::kStatvfs, ext::encode(ext::OneString{"/to_etc"}));
  EXPECT_EQ(std::get<Status>(statvfs).code, StatusCode::PermissionDenied);
  // Links inside the root work, absolute ones included.
  EXPECT_EQ(client.realpath("/inside_abs"), "/sub");
  EXPECT_EQ(client.realpath("/sub/up/.."), "error: symbolic link leads outside the served root");
  EXPECT_EQ(client.code_of(Opendir{client.id(), "/loop_a"}), StatusCode::Failure);
}

TEST_F(SftpConfinementTest, SymlinksCreatedByTheClientAreConfinedWhenFollowed) {
  EXPECT_EQ(client.code_of(Symlink{client.id(), "/etc", "/mine"}), StatusCode::Ok);
  EXPECT_EQ(client.code_of(Symlink{client.id(), "../../../../etc/passwd", "/pw"}), StatusCode::Ok);
  EXPECT_EQ(client.fs.find(in_root("/mine"))->target, "/etc");
  EXPECT_EQ(client.open_code("/mine/passwd", open_flags::kRead), StatusCode::PermissionDenied);
  EXPECT_EQ(client.open_code("/pw", open_flags::kRead), StatusCode::PermissionDenied);
  EXPECT_EQ(client.open_code("/pw", open_flags::kWrite | open_flags::kTruncate),
            StatusCode::PermissionDenied);
  // A symlink created through an outside link lands nowhere.
  EXPECT_EQ(client.code_of(Symlink{client.id(), "x", "/to_etc/evil"}),
            StatusCode::PermissionDenied);
}

TEST_F(SftpConfinementTest, RenameAndHardlinkCannotCrossTheRoot) {
  EXPECT_EQ(client.code_of(Rename{client.id(), "/inside.txt", "/to_etc/stolen"}),
            StatusCode::PermissionDenied);
  EXPECT_EQ(client.code_of(Rename{client.id(), "/to_etc/passwd", "/mine"}),
            StatusCode::PermissionDenied);
  auto posix =
      client.extended(ext::kPosixRename, ext::encode(ext::TwoPaths{"/chain1/passwd", "/mine"}));
  EXPECT_EQ(std::get<Status>(posix).code, StatusCode::PermissionDenied);
  auto hard_out =
      client.extended(ext::kHardlink, ext::encode(ext::TwoPaths{"/to_etc/passwd", "/mine"}));
  EXPECT_EQ(std::get<Status>(hard_out).code, StatusCode::PermissionDenied);
  auto hard_in =
      client.extended(ext::kHardlink, ext::encode(ext::TwoPaths{"/inside.txt", "/sub/up/x"}));
  EXPECT_EQ(std::get<Status>(hard_in).code, StatusCode::PermissionDenied);
  auto hard_abs =
      client.extended(ext::kHardlink, ext::encode(ext::TwoPaths{"/etc/passwd", "/mine"}));
  EXPECT_EQ(std::get<Status>(hard_abs).code, StatusCode::NoSuchFile);
  // Renaming the link itself (not its target) is an ordinary rename.
  EXPECT_EQ(client.code_of(Rename{client.id(), "/to_etc", "/sub/moved"}), StatusCode::Ok);
  EXPECT_EQ(client.stat_code("/sub/moved/passwd"), StatusCode::PermissionDenied);
  // And the root itself cannot be renamed or removed.
  EXPECT_EQ(client.code_of(Rename{client.id(), "/", "/sub/x"}), StatusCode::PermissionDenied);
  EXPECT_EQ(client.code_of(Rmdir{client.id(), "/.."}), StatusCode::PermissionDenied);
}

// Modes -------------------------------------------------------------------------------

TEST(SftpServerTest, ReadOnlyRefusesEveryChange) {
  auto options = Client::default_options();
  options.read_only = true;
  Client client(options);
  client.fs.add_file(in_root("/f"), "content");
  client.fs.add_directory(in_root("/d"));
  using namespace open_flags;
  for (std::uint32_t flags : {kWrite, kRead | kWrite, kAppend, kCreate, kRead | kTruncate,
                              kWrite | kCreate | kExclusive}) {
    EXPECT_EQ(client.open_code("/f", flags), StatusCode::PermissionDenied) << flags;
  }
  const std::string reader = client.open("/f", kRead);
  EXPECT_EQ(client.read_all(reader), "content");
  Attrs chmod;
  chmod.permissions = 0777;
  EXPECT_EQ(client.code_of(Setstat{client.id(), "/f", chmod}), StatusCode::PermissionDenied);
  EXPECT_EQ(client.code_of(Fsetstat{client.id(), reader, chmod}), StatusCode::PermissionDenied);
  EXPECT_EQ(client.code_of(Write{client.id(), reader, 0, bytes("x")}),
            StatusCode::PermissionDenied);
  EXPECT_EQ(client.code_of(Remove{client.id(), "/f"}), StatusCode::PermissionDenied);
  EXPECT_EQ(client.code_of(Mkdir{client.id(), "/n", {}}), StatusCode::PermissionDenied);
  EXPECT_EQ(client.code_of(Rmdir{client.id(), "/d"}), StatusCode::PermissionDenied);
  EXPECT_EQ(client.code_of(Rename{client.id(), "/f", "/g"}), StatusCode::PermissionDenied);
  EXPECT_EQ(client.code_of(Symlink{client.id(), "f", "/l"}), StatusCode::PermissionDenied);
  for (const auto& [name, body] : std::vector<std::pair<std::string, Bytes>>{
           {ext::kPosixRename, ext::encode(ext::TwoPaths{"/f", "/g"})},
           {ext::kHardlink, ext::encode(ext::TwoPaths{"/f", "/g"})},
           {ext::kLsetstat, ext::encode(ext::Lsetstat{"/f", chmod})},
           {ext::kCopyData, ext::encode(ext::CopyData{reader, 0, 0, reader, 100})}}) {
    EXPECT_EQ(std::get<Status>(client.extended(name, body)).code, StatusCode::PermissionDenied)
        << name;
  }
  auto stats = client.extended(ext::kStatvfs, ext::encode(ext::OneString{"/"}));
  EXPECT_NE(ext::decode_statvfs_reply(std::get<ExtendedReply>(stats).data)->flags &
                ext::StatvfsReply::kReadOnly,
            0u);
  // Nothing changed.
  EXPECT_EQ(client.fs.content(in_root("/f")), "content");
  EXPECT_EQ(client.fs.find(in_root("/f"))->permissions, 0644u);
  EXPECT_EQ(client.fs.find(in_root("/g")), nullptr);
  EXPECT_EQ(client.fs.find(in_root("/n")), nullptr);
  EXPECT_NE(client.fs.find(in_root("/d")), nullptr);
  EXPECT_EQ(client.list("/").size(), 4u);
}

TEST(SftpServerTest, UmaskClearsPermissionsOfCreatedFilesAndDirectories) {
  auto options = Client::default_options();
  options.umask = 027;
  Client client(options);
  Attrs wide;
  wide.permissions = 0666;
  const std::string handle = client.open("/f", open_flags::kWrite | open_flags::kCreate, wide);
  EXPECT_EQ(client.code_of(Close{client.id(), handle}), StatusCode::Ok);
  EXPECT_EQ(client.fs.find(in_root("/f"))->permissions, 0640u);
  EXPECT_EQ(client.code_of(Mkdir{client.id(), "/d", {}}), StatusCode::Ok);
  EXPECT_EQ(client.fs.find(in_root("/d"))->permissions, 0750u);
  // An explicit chmod is not masked (as with chmod(2)).
  Attrs chmod;
  chmod.permissions = 0666;
  EXPECT_EQ(client.code_of(Setstat{client.id(), "/f", chmod}), StatusCode::Ok);
  EXPECT_EQ(client.fs.find(in_root("/f"))->permissions, 0666u);
}

// Pipelining ------------------------------------------------------------------------------

TEST(SftpServerTest, HundredPipelinedWritesThenHundredReadsAreEachAnswered) {
  Client client;
  const std::string handle =
      client.open("/pipe", open_flags::kRead | open_flags::kWrite | open_flags::kCreate);
  constexpr int kCount = 100;
  constexpr std::size_t kChunk = 1000;
  auto chunk_of = [](int i) { return std::string(kChunk, static_cast<char>('A' + i % 26)); };
  Bytes writes;
  for (int i = 0; i < kCount; ++i) {
    encode(Write{static_cast<std::uint32_t>(1000 + i), handle, i * kChunk, bytes(chunk_of(i))},
           writes);
  }
  client.server->feed(writes);
  auto write_replies = client.take_replies();
  ASSERT_EQ(write_replies.size(), static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; ++i) {
    const auto& status = std::get<Status>(write_replies[i]);
    EXPECT_EQ(status.id, static_cast<std::uint32_t>(1000 + i));
    EXPECT_EQ(status.code, StatusCode::Ok);
  }
  Bytes reads;
  // Read back in reverse order: each reply must carry its own chunk.
  for (int i = kCount - 1; i >= 0; --i) {
    encode(Read{static_cast<std::uint32_t>(2000 + i), handle, i * kChunk, kChunk}, reads);
  }
  client.server->feed(reads);
  auto read_replies = client.take_replies();
  ASSERT_EQ(read_replies.size(), static_cast<std::size_t>(kCount));
  for (int n = 0; n < kCount; ++n) {
    const int i = kCount - 1 - n;
    const auto& data = std::get<Data>(read_replies[n]);
    EXPECT_EQ(data.id, static_cast<std::uint32_t>(2000 + i));
    EXPECT_EQ(text(data.data), chunk_of(i));
  }
}

TEST(SftpServerTest, SlowReaderBoundsTheBufferedReplies) {
  auto options = Client::default_options();
  options.output_high_water = 512 * 1024;
  Client client(options);
  client.fs.add_file(in_root("/big"), std::string(8 * kMaxReadLength, 'z'));
  const std::string handle = client.open("/big", open_flags::kRead);
  constexpr int kReads = 40;
  Bytes reads;
  for (int i = 0; i < kReads; ++i) {
    encode(Read{static_cast<std::uint32_t>(i), handle, (i % 8) * std::uint64_t{kMaxReadLength},
                static_cast<std::uint32_t>(kMaxReadLength)},
           reads);
  }
  client.server->feed(reads);
  std::size_t total = 0;
  std::size_t peak = 0;
  while (client.server->has_output()) {
    peak = std::max(peak, client.server->pending_output());
    Bytes part = client.server->take_output(100 * 1000);
    EXPECT_LE(part.size(), 100u * 1000u);
    total += part.size();
  }
  EXPECT_LE(peak, options.output_high_water + kMaxPacketLength);
  EXPECT_EQ(total, kReads * (kMaxReadLength + 13));
}

}  // namespace
