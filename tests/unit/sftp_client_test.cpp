// The SFTP client and the transfer jobs against our own sftp::Server over an
// in-memory file system, the bytes shuttled by a loop in the test (which
// also counts the requests on the wire that have no reply yet), plus a
// scripted hostile server for the replies a client must not accept.
#include <botan/hash.h>
#include <botan/hex.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sftp/client.hpp"
#include "sftp/messages.hpp"
#include "sftp/server.hpp"
#include "sftp/transfer.hpp"
#include "ssh/wire/writer.hpp"
#include "support/memory_file_system.hpp"

namespace {

using namespace sftp;
using testing_support::MemoryFileSystem;

std::string sha256(std::string_view data) {
  auto hash = Botan::HashFunction::create_or_throw("SHA-256");
  hash->update(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
  return Botan::hex_encode(hash->final());
}

// Deterministic bytes that differ at every offset (so a chunk written at the
// wrong offset changes the hash).
std::string pattern(std::size_t size, std::uint32_t seed) {
  std::string data(size, '\0');
  std::uint32_t x = seed * 2654435761u + 1;
  for (std::size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    data[i] = static_cast<char>(x);
  }
  return data;
}

// Splits a byte stream into SFTP packets and remembers their ids.
class PacketStream {
 public:
  // Returns the packets completed by these bytes.
  std::vector<Packet> feed(ByteView bytes) {
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
    std::vector<Packet> packets;
    std::size_t at = 0;
    while (buffer_.size() - at >= 4) {
      const std::size_t length = (std::size_t{buffer_[at]} << 24) |
                                 (std::size_t{buffer_[at + 1]} << 16) |
                                 (std::size_t{buffer_[at + 2]} << 8) | std::size_t{buffer_[at + 3]};
      if (buffer_.size() - at - 4 < length) break;
      auto packet = decode(ByteView(buffer_).subspan(at + 4, length));
      EXPECT_TRUE(packet.ok());
      if (packet.ok()) packets.push_back(std::move(*packet));
      at += 4 + length;
    }
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(at));
    return packets;
  }

 private:
  Bytes buffer_;
};

std::optional<std::uint32_t> request_id(const Packet& packet) {
  return std::visit(
      [](const auto& p) -> std::optional<std::uint32_t> {
        if constexpr (requires { p.id; }) {
          return p.id;
        } else {
          return std::nullopt;
        }
      },
      packet);
}

// Our server over a memory file system ("remote", served from /srv), a
// second memory file system as the local disk, and the client between.
class Harness {
 public:
  explicit Harness(ClientOptions client_options = {}) : client(client_options) {
    remote.add_directory("/srv");
    ServerOptions options;
    options.root = "/srv";
    server = std::make_unique<Server>(remote, options);
    local.add_directory("/home");
  }

  // Moves bytes both ways, at most `max` per step and direction, until
  // nothing moves (or `should_stop` says so). Returns the steps taken.
  std::size_t run(std::size_t max = SIZE_MAX, const std::function<bool()>& should_stop = {}) {
    std::size_t steps = 0;
    for (;;) {
      if (should_stop && should_stop()) return steps;
      bool moved = false;
      Bytes to_server;
      client.produce(max, to_server);
      if (!to_server.empty()) {
        moved = true;
        bytes_to_server += to_server.size();
        for (auto& packet : requests_.feed(to_server)) {
          if (auto id = request_id(packet)) {
            outstanding_.insert(*id);
            peak_on_wire = std::max(peak_on_wire, outstanding_.size());
          }
        }
        server->feed(to_server);
      }
      Bytes to_client = server->take_output(max);
      if (!hidden_extension.empty() && !version_rewritten && !to_client.empty()) {
        to_client = without_extension(std::move(to_client));
      }
      if (!to_client.empty()) {
        moved = true;
        bytes_to_client += to_client.size();
        for (auto& packet : replies_.feed(to_client)) {
          if (auto id = request_id(packet)) outstanding_.erase(*id);
        }
        client.on_input(to_client);
      }
      ++steps;
      if (!moved) return steps;
    }
  }

  // Rewrites the server's VERSION (whole in the first bytes when the loop
  // runs unbounded) without hidden_extension: a server that lacks it.
  Bytes without_extension(Bytes bytes) {
    version_rewritten = true;
    const std::size_t length = (std::size_t{bytes[0]} << 24) | (std::size_t{bytes[1]} << 16) |
                               (std::size_t{bytes[2]} << 8) | std::size_t{bytes[3]};
    auto version = decode(ByteView(bytes).subspan(4, length));
    EXPECT_TRUE(version.ok() && std::holds_alternative<Version>(*version));
    auto& extensions = std::get<Version>(*version).extensions;
    std::erase_if(extensions, [&](const auto& pair) { return pair.name == hidden_extension; });
    Bytes rewritten = encode(*version);
    rewritten.insert(rewritten.end(), bytes.begin() + 4 + static_cast<std::ptrdiff_t>(length),
                     bytes.end());
    return rewritten;
  }

  std::string hidden_extension;
  bool version_rewritten = false;
  MemoryFileSystem remote;
  MemoryFileSystem local;
  std::unique_ptr<Server> server;
  Client client;
  // Requests that went to the server and whose reply has not reached the
  // client: the real pipelining depth.
  std::size_t peak_on_wire = 0;
  std::size_t bytes_to_server = 0;
  std::size_t bytes_to_client = 0;

 private:
  PacketStream requests_;
  PacketStream replies_;
  std::set<std::uint32_t> outstanding_;
};

// Collects one callback's result.
template <class T>
struct Slot {
  std::optional<ClientResult<T>> result;
  auto callback() {
    return [this](ClientResult<T> value) { result.emplace(std::move(value)); };
  }
  T& value() {
    EXPECT_TRUE(result.has_value());
    EXPECT_TRUE(result->ok()) << (result->ok() ? "" : result->error().message);
    return result->value();
  }
  const FsError& error() {
    EXPECT_TRUE(result.has_value());
    EXPECT_FALSE(result->ok());
    return result->error();
  }
};

TEST(SftpClient, HandshakeRaisesTheChunkSizeFromLimits) {
  Harness h;
  EXPECT_FALSE(h.client.ready());
  EXPECT_EQ(h.client.read_chunk_size(), kDefaultChunkSize);
  h.run();
  ASSERT_TRUE(h.client.ready());
  EXPECT_EQ(h.client.server_version(), 3u);
  EXPECT_TRUE(h.client.has_extension(ext::kPosixRename));
  EXPECT_TRUE(h.client.has_extension(ext::kLimits));
  EXPECT_EQ(h.client.read_chunk_size(), kMaxChunkSize);
  EXPECT_EQ(h.client.write_chunk_size(), kMaxChunkSize);
  EXPECT_EQ(h.client.max_open_handles(), 1024u);
  EXPECT_FALSE(h.client.outcome().has_value());
}

TEST(SftpClient, WithoutLimitsTheChunkStaysAtTheDefault) {
  ClientOptions options;
  options.use_limits_extension = false;
  Harness h(options);
  h.run();
  ASSERT_TRUE(h.client.ready());
  EXPECT_EQ(h.client.read_chunk_size(), kDefaultChunkSize);
  EXPECT_EQ(h.client.write_chunk_size(), kDefaultChunkSize);
}

TEST(SftpClient, EveryOperation) {
  Harness h;
  h.remote.add_file("/srv/old.txt", "old contents");
  h.remote.add_file("/srv/victim.txt", "to be replaced");
  h.remote.add_directory("/srv/list");
  h.remote.add_file("/srv/list/a", "1");
  h.remote.add_file("/srv/list/b", "22");
  h.remote.add_directory("/srv/list/sub");

  // Requests made before VERSION wait for it.
  Slot<std::string> handle;
  Attrs create;
  create.permissions = 0640;
  h.client.open(
      "/new.txt",
      open_flags::kWrite | open_flags::kRead | open_flags::kCreate | open_flags::kTruncate, create,
      handle.callback());
  h.run();
  const std::string file = handle.value();

  Slot<FsOk> wrote1, wrote2;
  h.client.write(file, 0, Bytes{'h', 'e', 'l', 'l', 'o'}, wrote1.callback());
  h.client.write(file, 5, Bytes{' ', 'w', 'o', 'r', 'l', 'd'}, wrote2.callback());
  Slot<Bytes> read_all, read_eof;
  h.client.read(file, 0, 100, read_all.callback());
  h.client.read(file, 11, 100, read_eof.callback());
  Slot<Attrs> fstat;
  h.client.fstat(file, fstat.callback());
  Slot<FsOk> fsync;
  h.client.fsync(file, fsync.callback());
  Attrs times;
  times.times = Attrs::Times{1000, 2000};
  Slot<FsOk> fsetstat;
  h.client.fsetstat(file, times, fsetstat.callback());
  Slot<FsOk> closed;
  h.client.close(file, closed.callback());
  h.run();
  wrote1.value();
  wrote2.value();
  EXPECT_EQ(std::string(read_all.value().begin(), read_all.value().end()), "hello world");
  EXPECT_TRUE(read_eof.value().empty());
  EXPECT_EQ(fstat.value().size, 11u);
  fsync.value();
  EXPECT_TRUE(h.remote.find("/srv/new.txt")->synced);
  fsetstat.value();
  closed.value();
  EXPECT_EQ(h.remote.content("/srv/new.txt"), "hello world");
  EXPECT_EQ(h.remote.find("/srv/new.txt")->permissions, 0640u);
  EXPECT_EQ(h.remote.find("/srv/new.txt")->mtime, 2000u);

  Slot<FsOk> closed_again;
  h.client.close(file, closed_again.callback());
  Slot<Attrs> stat, lstat, missing;
  h.client.stat("/new.txt", stat.callback());
  h.client.stat("/nope", missing.callback());
  Slot<FsOk> setstat;
  Attrs mode;
  mode.permissions = 0600;
  h.client.setstat("/old.txt", mode, setstat.callback());
  Slot<FsOk> symlink;
  h.client.symlink("new.txt", "/link", symlink.callback());
  h.run();
  EXPECT_NE(closed_again.error().code, StatusCode::Ok);
  EXPECT_EQ(stat.value().size, 11u);
  EXPECT_TRUE(stat.value().is_regular());
  EXPECT_EQ(missing.error().code, StatusCode::NoSuchFile);
  setstat.value();
  EXPECT_EQ(h.remote.find("/srv/old.txt")->permissions, 0600u);
  symlink.value();
  // OpenSSH's order: the target first, the link's path second.
  ASSERT_NE(h.remote.find("/srv/link"), nullptr);
  EXPECT_EQ(h.remote.find("/srv/link")->target, "new.txt");

  h.client.lstat("/link", lstat.callback());
  Slot<std::string> readlink, realpath;
  h.client.readlink("/link", readlink.callback());
  h.client.realpath("/list/sub/../a", realpath.callback());
  Slot<FsOk> renamed, mkdir, rmdir, removed, hardlink;
  h.client.rename("/old.txt", "/victim.txt", renamed.callback());
  h.client.mkdir("/made", Attrs{}, mkdir.callback());
  h.client.rmdir("/list/sub", rmdir.callback());
  h.client.remove("/list/a", removed.callback());
  h.client.hardlink("/new.txt", "/hard", hardlink.callback());
  Slot<ext::StatvfsReply> statvfs;
  h.client.statvfs("/", statvfs.callback());
  h.run();
  EXPECT_TRUE(lstat.value().is_symlink());
  EXPECT_EQ(readlink.value(), "new.txt");
  EXPECT_EQ(realpath.value(), "/list/a");
  // posix-rename: replaces the existing file.
  renamed.value();
  EXPECT_EQ(h.remote.content("/srv/victim.txt"), "old contents");
  EXPECT_EQ(h.remote.find("/srv/old.txt"), nullptr);
  mkdir.value();
  EXPECT_EQ(h.remote.find("/srv/made")->kind, MemoryFileSystem::Node::Kind::Directory);
  rmdir.value();
  EXPECT_EQ(h.remote.find("/srv/list/sub"), nullptr);
  removed.value();
  EXPECT_EQ(h.remote.find("/srv/list/a"), nullptr);
  hardlink.value();
  EXPECT_EQ(h.remote.find("/srv/hard"), h.remote.find("/srv/new.txt"));
  EXPECT_EQ(statvfs.value().block_size, 4096u);
  EXPECT_EQ(statvfs.value().available_blocks, 500u);

  // The listing helper, and the raw OPENDIR/READDIR underneath it.
  for (int i = 0; i < 250; ++i) h.remote.add_file("/srv/big/f" + std::to_string(i), "x");
  Slot<std::vector<NameEntry>> listing;
  h.client.list_directory("/big", listing.callback());
  Slot<std::string> dir;
  h.client.opendir("/list", dir.callback());
  h.run();
  EXPECT_EQ(listing.value().size(), 250u);
  std::set<std::string> names;
  for (const auto& entry : listing.value()) names.insert(entry.filename);
  EXPECT_EQ(names.size(), 250u);
  EXPECT_EQ(names.count("."), 0u);
  EXPECT_TRUE(names.count("f249"));
  Slot<std::vector<NameEntry>> batch, end;
  h.client.readdir(dir.value(), batch.callback());
  h.client.readdir(dir.value(), end.callback());
  h.run();
  std::set<std::string> list_names;
  for (const auto& entry : batch.value()) list_names.insert(entry.filename);
  EXPECT_EQ(list_names, (std::set<std::string>{".", "..", "b"}));
  EXPECT_TRUE(end.value().empty());

  // finish(): the session ends cleanly once every reply is in.
  h.client.finish();
  EXPECT_TRUE(h.client.output_finished());
  ASSERT_TRUE(h.client.outcome().has_value());
  EXPECT_TRUE(h.client.outcome()->ok());
  Slot<Attrs> after;
  h.client.stat("/", after.callback());
  EXPECT_EQ(after.error().code, StatusCode::ConnectionLost);
}

TEST(SftpClient, ManyRequestsAreInFlightAtOnce) {
  Harness h;
  h.run();
  for (int i = 0; i < 100; ++i) h.remote.add_file("/srv/f" + std::to_string(i), "data");
  std::vector<Slot<Attrs>> slots(100);
  for (int i = 0; i < 100; ++i) h.client.stat("/f" + std::to_string(i), slots[i].callback());
  EXPECT_EQ(h.client.requests_outstanding(), 100u);
  h.run();
  for (auto& slot : slots) EXPECT_EQ(slot.value().size, 4u);
  EXPECT_EQ(h.peak_on_wire, 100u);
}

struct CopyRun {
  bool finished = false;
  bool succeeded = false;
  std::vector<TransferError> errors;
  TransferProgress last_progress;
  std::size_t progress_calls = 0;
};

// Runs a job to its end over the harness' loop.
CopyRun run_job(Harness& h, TransferJob& job, std::size_t max = SIZE_MAX) {
  job.start();
  h.run(max);
  CopyRun run;
  run.finished = job.finished();
  run.succeeded = job.succeeded();
  run.errors = job.errors();
  run.last_progress = job.progress();
  return run;
}

std::string describe(const std::vector<TransferError>& errors) {
  std::string text;
  for (const auto& error : errors) text += error.path + ": " + error.message + "\n";
  return text;
}

TEST(SftpTransfer, PutAndGetOfMultiMebibyteFilesKeepTheirHash) {
  Harness h;
  // 20 MiB: 81 chunks of 255 KiB, enough to keep 64 requests in flight.
  const std::string data = pattern(20 * 1024 * 1024 + 12345, 1);
  h.local.add_file("/home/big.bin", data);
  std::size_t progress_calls = 0;
  std::size_t finished_reports = 0;
  TransferOptions options;
  options.on_progress = [&](const TransferProgress& progress) {
    ++progress_calls;
    EXPECT_LE(progress.bytes_done, progress.bytes_total);
    EXPECT_LE(progress.file_bytes_done, progress.file_bytes_total);
    EXPECT_EQ(progress.current_file, "/home/big.bin");
    if (progress.file_finished) {
      ++finished_reports;
      EXPECT_EQ(progress.file_bytes_done, data.size());
    }
  };
  {
    TransferJob put(h.client, h.local, options);
    put.add_put("/home/big.bin", "/big.bin");
    auto run = run_job(h, put);
    ASSERT_TRUE(run.finished);
    EXPECT_TRUE(run.succeeded) << describe(run.errors);
    EXPECT_EQ(run.last_progress.bytes_done, data.size());
    EXPECT_EQ(run.last_progress.files_done, 1u);
  }
  EXPECT_GE(h.peak_on_wire, 64u);
  EXPECT_GT(progress_calls, 20u);
  EXPECT_EQ(finished_reports, 1u);
  ASSERT_TRUE(h.remote.content("/srv/big.bin").has_value());
  EXPECT_EQ(sha256(*h.remote.content("/srv/big.bin")), sha256(data));
  EXPECT_EQ(h.remote.find("/srv/.big.bin.limactl-partial"), nullptr);

  h.peak_on_wire = 0;
  {
    TransferJob get(h.client, h.local);
    get.add_get("/big.bin", "/home/copy.bin");
    auto run = run_job(h, get);
    ASSERT_TRUE(run.finished);
    EXPECT_TRUE(run.succeeded) << describe(run.errors);
  }
  EXPECT_GE(h.peak_on_wire, 64u);
  ASSERT_TRUE(h.local.content("/home/copy.bin").has_value());
  EXPECT_EQ(sha256(*h.local.content("/home/copy.bin")), sha256(data));
  EXPECT_EQ(h.local.find("/home/.copy.bin.limactl-partial"), nullptr);
}

TEST(SftpTransfer, WithAClockAPutKeepsOnlyItsWriteBudgetOutstanding) {
  Harness h;
  const std::string data = pattern(6 * 1024 * 1024 + 7, 3);
  h.local.add_file("/home/big.bin", data);
  // A clock that stands still: no rate is ever measured, so the budget
  // stays at its floor, 4 WRITEs of 255 KiB (1 MiB) and then 12 (3 MiB).
  auto stopped_clock = [] { return std::chrono::steady_clock::time_point{}; };
  for (const auto& [floor, writes] : {std::pair{std::uint64_t{1024 * 1024}, std::size_t{4}},
                                      std::pair{std::uint64_t{3 * 1024 * 1024}, std::size_t{12}}}) {
    SCOPED_TRACE(floor);
    TransferOptions options;
    options.clock = stopped_clock;
    options.write_budget_floor = floor;
    h.peak_on_wire = 0;
    TransferJob put(h.client, h.local, options);
    put.add_put("/home/big.bin", "/big.bin");
    auto run = run_job(h, put);
    ASSERT_TRUE(run.finished);
    EXPECT_TRUE(run.succeeded) << describe(run.errors);
    EXPECT_EQ(h.peak_on_wire, writes);
    EXPECT_EQ(sha256(*h.remote.content("/srv/big.bin")), sha256(data));
  }
}

TEST(SftpTransfer, TinyStepsExerciseBackpressure) {
  Harness h;
  const std::string data = pattern(700 * 1024 + 3, 2);
  h.local.add_file("/home/file", data);
  TransferJob put(h.client, h.local);
  put.add_put("/home/file", "/file");
  auto run = run_job(h, put, 997);
  ASSERT_TRUE(run.finished);
  EXPECT_TRUE(run.succeeded) << describe(run.errors);
  EXPECT_EQ(sha256(*h.remote.content("/srv/file")), sha256(data));

  TransferJob get(h.client, h.local);
  get.add_get("/file", "/home/back");
  run = run_job(h, get, 1013);
  ASSERT_TRUE(run.finished);
  EXPECT_TRUE(run.succeeded) << describe(run.errors);
  EXPECT_EQ(sha256(*h.local.content("/home/back")), sha256(data));
}

TEST(SftpTransfer, RecursiveCopiesWithPreserve) {
  Harness h;
  h.local.add_file("/home/tree/a.txt", "alpha", 0600);
  h.local.add_file("/home/tree/sub/b.bin", pattern(300000, 3), 0755);
  h.local.add_file("/home/tree/sub/deeper/c", "", 0640);
  h.local.add_directory("/home/tree/empty");
  h.local.find("/home/tree/a.txt")->mtime = 1111;
  h.local.find("/home/tree/a.txt")->atime = 1110;
  h.local.find("/home/tree/sub/b.bin")->mtime = 2222;
  h.local.find("/home/tree/sub")->permissions = 0750;
  h.local.find("/home/tree/sub")->mtime = 3333;
  h.local.find("/home/tree")->mtime = 4444;

  TransferOptions options;
  options.recursive = true;
  options.preserve = true;
  TransferJob put(h.client, h.local, options);
  put.add_put("/home/tree", "/tree");
  auto run = run_job(h, put);
  ASSERT_TRUE(run.finished);
  EXPECT_TRUE(run.succeeded) << describe(run.errors);
  EXPECT_EQ(run.last_progress.files_done, 3u);
  EXPECT_EQ(h.remote.content("/srv/tree/a.txt"), "alpha");
  EXPECT_EQ(h.remote.content("/srv/tree/sub/b.bin"), pattern(300000, 3));
  EXPECT_EQ(h.remote.content("/srv/tree/sub/deeper/c"), "");
  ASSERT_NE(h.remote.find("/srv/tree/empty"), nullptr);
  EXPECT_EQ(h.remote.find("/srv/tree/a.txt")->permissions, 0600u);
  EXPECT_EQ(h.remote.find("/srv/tree/a.txt")->mtime, 1111u);
  EXPECT_EQ(h.remote.find("/srv/tree/a.txt")->atime, 1110u);
  EXPECT_EQ(h.remote.find("/srv/tree/sub/b.bin")->permissions, 0755u);
  EXPECT_EQ(h.remote.find("/srv/tree/sub/b.bin")->mtime, 2222u);
  EXPECT_EQ(h.remote.find("/srv/tree/sub/deeper/c")->permissions, 0640u);
  EXPECT_EQ(h.remote.find("/srv/tree/sub")->permissions, 0750u);
  EXPECT_EQ(h.remote.find("/srv/tree/sub")->mtime, 3333u);
  EXPECT_EQ(h.remote.find("/srv/tree")->mtime, 4444u);

  TransferJob get(h.client, h.local, options);
  get.add_get("/tree", "/home/back");
  run = run_job(h, get);
  ASSERT_TRUE(run.finished);
  EXPECT_TRUE(run.succeeded) << describe(run.errors);
  EXPECT_EQ(h.local.content("/home/back/a.txt"), "alpha");
  EXPECT_EQ(h.local.content("/home/back/sub/b.bin"), pattern(300000, 3));
  EXPECT_EQ(h.local.content("/home/back/sub/deeper/c"), "");
  ASSERT_NE(h.local.find("/home/back/empty"), nullptr);
  EXPECT_EQ(h.local.find("/home/back/a.txt")->permissions, 0600u);
  EXPECT_EQ(h.local.find("/home/back/a.txt")->mtime, 1111u);
  EXPECT_EQ(h.local.find("/home/back/sub/b.bin")->mtime, 2222u);
  EXPECT_EQ(h.local.find("/home/back/sub")->permissions, 0750u);
  EXPECT_EQ(h.local.find("/home/back/sub")->mtime, 3333u);
  EXPECT_EQ(h.local.find("/home/back")->mtime, 4444u);
}

TEST(SftpTransfer, DirectoryWithoutRecursionAndMissingFilesAreErrorsPerPath) {
  Harness h;
  h.remote.add_file("/srv/good", "fine");
  h.remote.add_directory("/srv/dir");
  TransferJob get(h.client, h.local);
  get.add_get("/missing", "/home/missing");
  get.add_get("/dir", "/home/dir");
  get.add_get("/good", "/home/good");
  auto run = run_job(h, get);
  ASSERT_TRUE(run.finished);
  EXPECT_FALSE(run.succeeded);
  ASSERT_EQ(run.errors.size(), 2u) << describe(run.errors);
  std::map<std::string, std::string> by_path;
  for (const auto& error : run.errors) by_path[error.path] = error.message;
  ASSERT_TRUE(by_path.count("/missing"));
  EXPECT_NE(by_path["/missing"].find("no such file"), std::string::npos) << by_path["/missing"];
  ASSERT_TRUE(by_path.count("/dir"));
  EXPECT_NE(by_path["/dir"].find("directory"), std::string::npos);
  EXPECT_EQ(h.local.content("/home/good"), "fine");
  EXPECT_EQ(h.local.find("/home/missing"), nullptr);
}

TEST(SftpTransfer, InterruptedPutLeavesNoFileUnderTheFinalNameAndResumes) {
  const std::string data = pattern(5 * 1024 * 1024 + 777, 4);
  std::string partial_content;
  {
    Harness h;
    h.local.add_file("/home/data", data);
    TransferJob put(h.client, h.local);
    put.add_put("/home/data", "/data");
    put.start();
    // Small steps, so that the loop stops with the file half sent.
    h.run(64 * 1024, [&] { return put.progress().bytes_done > 2 * 1024 * 1024; });
    EXPECT_FALSE(put.finished());
    // The session dies mid-transfer: the client goes away, then the job.
    h.server->feed_eof();
    EXPECT_EQ(h.remote.find("/srv/data"), nullptr);
    auto partial = h.remote.content("/srv/.data.limactl-partial");
    ASSERT_TRUE(partial.has_value());
    EXPECT_GT(partial->size(), 1024u * 1024);
    EXPECT_LT(partial->size(), data.size());
    partial_content = *partial;
  }
  // A new session resumes into the same partial file.
  Harness h;
  h.remote.add_file("/srv/.data.limactl-partial", partial_content);
  h.local.add_file("/home/data", data);
  TransferOptions options;
  options.resume = true;
  TransferJob put(h.client, h.local, options);
  put.add_put("/home/data", "/data");
  auto run = run_job(h, put);
  ASSERT_TRUE(run.finished);
  EXPECT_TRUE(run.succeeded) << describe(run.errors);
  ASSERT_TRUE(h.remote.content("/srv/data").has_value());
  EXPECT_EQ(sha256(*h.remote.content("/srv/data")), sha256(data));
  EXPECT_EQ(h.remote.find("/srv/.data.limactl-partial"), nullptr);
  // Only the missing part crossed the wire.
  EXPECT_LT(h.bytes_to_server, data.size() - partial_content.size() + 512 * 1024);
}

TEST(SftpTransfer, InterruptedGetLeavesNoFileUnderTheFinalNameAndResumes) {
  const std::string data = pattern(4 * 1024 * 1024 + 5, 5);
  std::string partial_content;
  {
    Harness h;
    h.remote.add_file("/srv/data", data);
    TransferJob get(h.client, h.local);
    get.add_get("/data", "/home/data");
    get.start();
    h.run(64 * 1024, [&] { return get.progress().bytes_done > 1024 * 1024; });
    EXPECT_FALSE(get.finished());
    EXPECT_EQ(h.local.find("/home/data"), nullptr);
    auto partial = h.local.content("/home/.data.limactl-partial");
    ASSERT_TRUE(partial.has_value());
    EXPECT_GT(partial->size(), 1024u * 1024);
    EXPECT_LT(partial->size(), data.size());
    partial_content = *partial;
  }
  // Only the bytes that arrived in order form the prefix that is kept; any
  // later chunk already written beyond a hole is fetched again.
  Harness h;
  h.remote.add_file("/srv/data", data);
  h.local.add_file("/home/.data.limactl-partial", partial_content);
  TransferOptions options;
  options.resume = true;
  TransferJob get(h.client, h.local, options);
  get.add_get("/data", "/home/data");
  auto run = run_job(h, get);
  ASSERT_TRUE(run.finished);
  EXPECT_TRUE(run.succeeded) << describe(run.errors);
  EXPECT_EQ(sha256(*h.local.content("/home/data")), sha256(data));
  EXPECT_EQ(h.local.find("/home/.data.limactl-partial"), nullptr);
  EXPECT_LT(h.bytes_to_client, data.size() - partial_content.size() + 512 * 1024);
}

TEST(SftpTransfer, ResumeCopiesAgainWhenThePartialFileIsNotAPrefix) {
  Harness h;
  const std::string data = pattern(300 * 1024, 6);
  h.local.add_file("/home/data", data);
  std::string wrong = data.substr(0, 200 * 1024);
  wrong[199 * 1024] ^= 0x55;  // in the checked tail
  h.remote.add_file("/srv/.data.limactl-partial", wrong);
  h.remote.add_file("/srv/.longer.limactl-partial", data + "more");
  h.local.add_file("/home/longer", data);
  TransferOptions options;
  options.resume = true;
  TransferJob put(h.client, h.local, options);
  put.add_put("/home/data", "/data");
  put.add_put("/home/longer", "/longer");
  auto run = run_job(h, put);
  ASSERT_TRUE(run.finished);
  EXPECT_TRUE(run.succeeded) << describe(run.errors);
  EXPECT_EQ(sha256(*h.remote.content("/srv/data")), sha256(data));
  EXPECT_EQ(sha256(*h.remote.content("/srv/longer")), sha256(data));

  std::string wrong_head = data.substr(0, 100 * 1024);
  wrong_head[10] ^= 1;
  h.local.add_file("/home/.got.limactl-partial", wrong_head);
  TransferJob get(h.client, h.local, options);
  get.add_get("/data", "/home/got");
  run = run_job(h, get);
  ASSERT_TRUE(run.finished);
  EXPECT_TRUE(run.succeeded) << describe(run.errors);
  EXPECT_EQ(sha256(*h.local.content("/home/got")), sha256(data));
}

TEST(SftpTransfer, ManySmallFilesInParallel) {
  // Without and with a write budget (a small file's WRITE counts its own
  // size against it, not a whole chunk's).
  for (const bool clocked : {false, true}) {
    SCOPED_TRACE(clocked);
    Harness h;
    for (int i = 0; i < 200; ++i) {
      h.local.add_file("/home/many/f" + std::to_string(i), pattern(i * 37, i));
    }
    TransferOptions options;
    options.recursive = true;
    options.max_parallel_files = 16;
    if (clocked) options.clock = [] { return std::chrono::steady_clock::time_point{}; };
    TransferJob put(h.client, h.local, options);
    put.add_put("/home/many", "/many");
    auto run = run_job(h, put);
    ASSERT_TRUE(run.finished);
    EXPECT_TRUE(run.succeeded) << describe(run.errors);
    EXPECT_EQ(run.last_progress.files_done, 200u);
    for (int i = 0; i < 200; ++i) {
      EXPECT_EQ(h.remote.content("/srv/many/f" + std::to_string(i)), pattern(i * 37, i));
    }
    // 16 files at a time, and their requests overlap.
    EXPECT_GE(h.peak_on_wire, 16u);
  }
}

// A scripted server: the test writes its replies byte by byte.
class ScriptedServer {
 public:
  ScriptedServer() {
    // INIT from the client.
    Bytes init;
    client.produce(SIZE_MAX, init);
    EXPECT_EQ(init, encode(Init{3, {}}));
  }
  void reply(const Packet& packet) { client.on_input(encode(packet)); }
  void version(std::vector<ExtensionPair> extensions = {}) {
    reply(Version{3, std::move(extensions)});
  }
  std::vector<Packet> requests() {
    Bytes out;
    client.produce(SIZE_MAX, out);
    return stream.feed(out);
  }
  std::string failure() {
    auto outcome = client.outcome();
    if (!outcome) return "(no outcome)";
    if (outcome->ok()) return "(success)";
    return outcome->error().message;
  }

  Client client;
  PacketStream stream;
};

TEST(SftpClientHostile, ReplyForAnUnknownIdEndsTheSession) {
  ScriptedServer s;
  s.version();
  Slot<Attrs> stat;
  s.client.stat("/x", stat.callback());
  auto requests = s.requests();
  ASSERT_EQ(requests.size(), 1u);
  const std::uint32_t id = *request_id(requests[0]);
  s.reply(AttrsReply{id + 1000, {}});
  EXPECT_NE(s.failure().find("not asked"), std::string::npos) << s.failure();
  EXPECT_EQ(stat.error().code, StatusCode::ConnectionLost);
  EXPECT_TRUE(s.client.output_finished());
  // A second reply to the same request is just as unknown.
  ScriptedServer t;
  t.version();
  Slot<FsOk> removed;
  t.client.remove("/x", removed.callback());
  const std::uint32_t remove_id = *request_id(t.requests()[0]);
  t.reply(Status{remove_id, StatusCode::Ok, "", ""});
  removed.value();
  EXPECT_FALSE(t.client.outcome().has_value());
  t.reply(Status{remove_id, StatusCode::Ok, "", ""});
  EXPECT_NE(t.failure().find("not asked"), std::string::npos) << t.failure();
}

TEST(SftpClientHostile, OversizedLengthEndsTheSessionBeforeBuffering) {
  ScriptedServer s;
  s.version();
  Slot<Bytes> read;
  s.client.read("h", 0, 10, read.callback());
  s.requests();
  // Announces a 16 MiB packet: refused from the length alone.
  s.client.on_input(Bytes{0x01, 0x00, 0x00, 0x00, 103});
  EXPECT_NE(s.failure().find("packet of 16777216 bytes"), std::string::npos) << s.failure();
  EXPECT_EQ(read.error().code, StatusCode::ConnectionLost);
}

TEST(SftpClientHostile, TruncatedPacketThenEofEndsTheSession) {
  ScriptedServer s;
  s.version();
  Slot<Attrs> stat;
  s.client.stat("/x", stat.callback());
  const std::uint32_t id = *request_id(s.requests()[0]);
  Bytes reply = encode(AttrsReply{id, {}});
  reply.resize(reply.size() - 2);
  s.client.on_input(reply);
  EXPECT_FALSE(s.client.outcome().has_value());
  EXPECT_FALSE(stat.result.has_value());
  s.client.on_input_eof();
  EXPECT_NE(s.failure().find("inside a packet"), std::string::npos) << s.failure();
  EXPECT_EQ(stat.error().code, StatusCode::ConnectionLost);
}

TEST(SftpClientHostile, MalformedAndMistypedRepliesEndTheSession) {
  {
    // A packet whose body does not decode (a STATUS cut short inside its
    // length-prefixed message).
    ScriptedServer s;
    s.version();
    Slot<Attrs> stat;
    s.client.stat("/x", stat.callback());
    const std::uint32_t id = *request_id(s.requests()[0]);
    Bytes body;
    ssh::wire::Writer writer(body);
    writer.u8(static_cast<std::uint8_t>(PacketType::Status));
    writer.u32(id);
    writer.u32(0);
    writer.u32(1000);  // a message of 1000 bytes that is not there
    Bytes packet;
    ssh::wire::Writer framing(packet);
    framing.u32(static_cast<std::uint32_t>(body.size()));
    packet.insert(packet.end(), body.begin(), body.end());
    s.client.on_input(packet);
    EXPECT_NE(s.failure().find("malformed"), std::string::npos) << s.failure();
    EXPECT_EQ(stat.error().code, StatusCode::ConnectionLost);
  }
  {
    // A HANDLE where ATTRS belongs.
    ScriptedServer s;
    s.version();
    Slot<Attrs> stat;
    s.client.stat("/x", stat.callback());
    const std::uint32_t id = *request_id(s.requests()[0]);
    s.reply(Handle{id, "h"});
    EXPECT_NE(s.failure().find("unexpected HANDLE"), std::string::npos) << s.failure();
  }
  {
    // More DATA than the READ asked for.
    ScriptedServer s;
    s.version();
    Slot<Bytes> read;
    s.client.read("h", 0, 4, read.callback());
    const std::uint32_t id = *request_id(s.requests()[0]);
    s.reply(Data{id, Bytes(5, 'x')});
    EXPECT_NE(s.failure().find("unexpected DATA"), std::string::npos) << s.failure();
    EXPECT_EQ(read.error().code, StatusCode::ConnectionLost);
  }
  {
    // Something before VERSION, and a version we do not speak.
    ScriptedServer s;
    s.reply(Status{1, StatusCode::Ok, "", ""});
    EXPECT_NE(s.failure().find("before VERSION"), std::string::npos) << s.failure();
    ScriptedServer t;
    t.client.on_input(encode(Version{6, {}}));
    EXPECT_NE(t.failure().find("version 6"), std::string::npos) << t.failure();
  }
}

TEST(SftpClientHostile, WithoutPosixRenameTheV3RenameIsUsedAndExtensionsAreRefused) {
  ScriptedServer s;
  s.version();
  Slot<FsOk> renamed, fsync;
  Slot<ext::StatvfsReply> statvfs;
  s.client.rename("/a", "/b", renamed.callback());
  s.client.fsync("h", fsync.callback());
  s.client.statvfs("/", statvfs.callback());
  auto requests = s.requests();
  ASSERT_EQ(requests.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<Rename>(requests[0]));
  EXPECT_EQ(std::get<Rename>(requests[0]).old_path, "/a");
  EXPECT_EQ(fsync.error().code, StatusCode::OpUnsupported);
  EXPECT_EQ(statvfs.error().code, StatusCode::OpUnsupported);
  s.reply(Status{std::get<Rename>(requests[0]).id, StatusCode::Failure, "exists", ""});
  EXPECT_EQ(renamed.error().message, "exists");
  s.client.on_input_eof();
  EXPECT_NE(s.failure().find("closed the stream"), std::string::npos);
}

TEST(SftpClientHostile, ATransferEndsWithErrorsWhenTheSessionDies) {
  ScriptedServer s;
  MemoryFileSystem local;
  local.add_file("/home/f", pattern(100000, 9));
  TransferJob put(s.client, local);
  put.add_put("/home/f", "/f");
  put.start();
  s.version();
  EXPECT_FALSE(s.requests().empty());
  s.client.on_input_eof();
  ASSERT_TRUE(put.finished());
  EXPECT_FALSE(put.succeeded());
  ASSERT_EQ(put.errors().size(), 1u);
  EXPECT_EQ(put.errors()[0].path, "/home/f");
  EXPECT_NE(put.errors()[0].message.find("closed the stream"), std::string::npos)
      << put.errors()[0].message;
}

TEST(SftpTransfer, WithoutPosixRenameAPutStillReplacesTheFile) {
  Harness h;
  h.hidden_extension = ext::kPosixRename;
  h.run();
  ASSERT_TRUE(h.client.ready());
  EXPECT_FALSE(h.client.has_extension(ext::kPosixRename));
  // The client's own rename is v3 RENAME then, which refuses to replace.
  h.remote.add_file("/srv/a", "a");
  h.remote.add_file("/srv/b", "b");
  Slot<FsOk> renamed;
  h.client.rename("/a", "/b", renamed.callback());
  h.run();
  EXPECT_NE(renamed.error().code, StatusCode::Ok);
  EXPECT_EQ(h.remote.content("/srv/b"), "b");

  h.local.add_file("/home/new", "new contents");
  TransferJob put(h.client, h.local);
  put.add_put("/home/new", "/b");
  auto run = run_job(h, put);
  ASSERT_TRUE(run.finished);
  EXPECT_TRUE(run.succeeded) << describe(run.errors);
  EXPECT_EQ(h.remote.content("/srv/b"), "new contents");
  EXPECT_EQ(h.remote.find("/srv/.b.limactl-partial"), nullptr);
}

TEST(SftpTransfer, PartialPathIsHiddenNextToTheFile) {
  EXPECT_EQ(partial_path("/a/b/name.txt"), "/a/b/.name.txt.limactl-partial");
  EXPECT_EQ(partial_path("name"), ".name.limactl-partial");
  EXPECT_EQ(partial_path("/top"), "/.top.limactl-partial");
  EXPECT_EQ(partial_path("dir/sub/"), "dir/.sub.limactl-partial");
}

// What a progress callback saw, and what the destination held at that moment.
struct ProgressSample {
  TransferProgress progress;
  std::size_t stored = 0;  // bytes of the partial (or final) file at the destination
  bool final_name_exists = false;
};

// The progress a meter draws must follow the bytes that reached the other
// side: never ahead of the destination, never backwards, and at the file's
// size only once the file is in place.
void expect_progress_follows_the_destination(const std::vector<ProgressSample>& samples,
                                             std::size_t size) {
  ASSERT_FALSE(samples.empty());
  std::uint64_t previous = 0;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const auto& sample = samples[i];
    SCOPED_TRACE("report " + std::to_string(i) + " of " + std::to_string(samples.size()));
    EXPECT_GE(sample.progress.file_bytes_done, previous);
    previous = sample.progress.file_bytes_done;
    EXPECT_EQ(sample.progress.file_bytes_total, size);
    EXPECT_LE(sample.progress.file_bytes_done, sample.stored);
    const bool last = i + 1 == samples.size();
    EXPECT_EQ(sample.progress.file_finished, last);
    EXPECT_EQ(sample.final_name_exists, last);
  }
  EXPECT_EQ(samples.back().progress.file_bytes_done, size);
  EXPECT_EQ(samples.back().stored, size);
  // More than a couple of jumps: the meter moves while bytes move.
  EXPECT_GT(samples.size(), 10u);
}

TEST(SftpTransfer, ProgressFollowsAcknowledgedBytesAndEndsWhenTheFileIsInPlace) {
  const std::string data = pattern(6 * 1024 * 1024 + 99, 11);
  Harness h;
  h.local.add_file("/home/up.bin", data);
  std::vector<ProgressSample> samples;
  auto stored = [](MemoryFileSystem& fs, const std::string& partial, const std::string& final) {
    if (auto content = fs.content(final)) return content->size();
    if (auto content = fs.content(partial)) return content->size();
    return std::size_t{0};
  };
  TransferOptions options;
  options.on_progress = [&](const TransferProgress& progress) {
    samples.push_back({progress, stored(h.remote, "/srv/.up.bin.limactl-partial", "/srv/up.bin"),
                       h.remote.find("/srv/up.bin") != nullptr});
  };
  {
    TransferJob put(h.client, h.local, options);
    put.add_put("/home/up.bin", "/up.bin");
    // Small steps: replies trickle in while more WRITEs are queued.
    auto run = run_job(h, put, 48 * 1024);
    ASSERT_TRUE(run.succeeded) << describe(run.errors);
  }
  {
    SCOPED_TRACE("put");
    expect_progress_follows_the_destination(samples, data.size());
  }

  samples.clear();
  options.on_progress = [&](const TransferProgress& progress) {
    samples.push_back({progress,
                       stored(h.local, "/home/.down.bin.limactl-partial", "/home/down.bin"),
                       h.local.find("/home/down.bin") != nullptr});
  };
  {
    TransferJob get(h.client, h.local, options);
    get.add_get("/up.bin", "/home/down.bin");
    auto run = run_job(h, get, 48 * 1024);
    ASSERT_TRUE(run.succeeded) << describe(run.errors);
  }
  {
    SCOPED_TRACE("get");
    expect_progress_follows_the_destination(samples, data.size());
  }
}

}  // namespace
