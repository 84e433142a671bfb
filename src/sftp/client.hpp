// The SFTP version 3 client (draft-ietf-secsh-filexfer-02 plus OpenSSH's
// extensions), sans I/O: it runs over any byte stream as an
// ssh::ChannelProtocol (an SSH "subsystem sftp" channel, a child's stdio
// pipes, a test loop shuttling bytes to our own sftp::Server).
//
// Every operation takes a callback and returns at once; the request goes
// out with the next produce(), and the callback runs from on_input() when
// the reply arrives. Any number of requests may be outstanding (pipelining);
// replies are matched by request id, in whatever order they come.
// Operations called before the server's VERSION arrived wait and go out
// after it (and after the limits@openssh.com reply, when that was asked).
//
// The server is hostile: a reply longer than the packet limit, one that does
// not decode, one for an id nobody asked for, or one of a type the request
// cannot have ends the session. outcome() then says why, and every pending
// callback gets StatusCode::ConnectionLost with that reason.
//
// Callbacks may start new requests. Destroying the client drops the pending
// callbacks without calling them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sftp/file_system.hpp"
#include "sftp/messages.hpp"
#include "ssh/channel_protocol.hpp"

namespace sftp {

// A request's result: the value, or the server's STATUS (code and message)
// when it failed. StatusCode::ConnectionLost: the session ended first;
// StatusCode::OpUnsupported: the server does not offer the extension.
// (FsResult/FsError from file_system.hpp: the same shape the server uses.)
template <class T>
using ClientResult = FsResult<T>;
using ClientStatus = FsStatus;
using ClientError = FsError;

// The chunk sizes OpenSSH's client uses: 32 KiB until limits@openssh.com
// says more is fine, and never above 261,120 bytes (255 KiB) per request.
inline constexpr std::size_t kDefaultChunkSize = 32 * 1024;
inline constexpr std::size_t kMaxChunkSize = 261120;

struct ClientOptions {
  // The longest reply packet (type and body) accepted from the server.
  std::size_t max_packet_length = kMaxPacketLength;
  // Upper bound for the read and write chunk sizes (also what is used when
  // the server offers no limits@openssh.com).
  std::size_t max_chunk_size = kMaxChunkSize;
  std::size_t default_chunk_size = kDefaultChunkSize;
  // Ask limits@openssh.com when the server offers it.
  bool use_limits_extension = true;
};

class Client : public ssh::ChannelProtocol {
 public:
  using StatusCallback = std::function<void(ClientStatus)>;
  using HandleCallback = std::function<void(ClientResult<std::string>)>;
  // READ: the bytes (possibly fewer than asked); empty at end of file.
  using DataCallback = std::function<void(ClientResult<Bytes>)>;
  using AttrsCallback = std::function<void(ClientResult<Attrs>)>;
  // READDIR: the next batch of entries; empty at the end of the directory.
  using NamesCallback = std::function<void(ClientResult<std::vector<NameEntry>>)>;
  // READLINK, REALPATH: the one name the server returned.
  using PathCallback = std::function<void(ClientResult<std::string>)>;
  using StatvfsCallback = std::function<void(ClientResult<ext::StatvfsReply>)>;

  explicit Client(ClientOptions options = {});
  ~Client() override;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // ssh::ChannelProtocol ------------------------------------------------------
  void on_input(ByteView data) override;
  void on_error_output(ByteView data) override;
  void on_input_eof() override;
  void produce(std::size_t max, Bytes& out) override;
  bool has_output() const override;
  bool output_finished() const override;
  std::optional<ssh::Status> outcome() const override;

  // Session state -------------------------------------------------------------

  // True once VERSION (and the limits reply, when asked) arrived.
  bool ready() const { return ready_; }
  // Runs `callback` once the session is ready, or at once if it already is
  // (or has already failed: check outcome()). Callbacks run in order.
  void when_ready(std::function<void()> callback);
  std::uint32_t server_version() const { return server_version_; }
  const std::vector<ExtensionPair>& server_extensions() const { return server_extensions_; }
  // True if the server's VERSION offered extension `name` (any version).
  bool has_extension(std::string_view name) const;
  // The bytes one READ asks for and one WRITE carries.
  std::size_t read_chunk_size() const { return read_chunk_size_; }
  std::size_t write_chunk_size() const { return write_chunk_size_; }
  // limits@openssh.com's max-open-handles (0: unknown or unlimited).
  std::uint64_t max_open_handles() const { return max_open_handles_; }
  // Requests sent or queued whose reply has not arrived yet.
  std::size_t requests_outstanding() const { return pending_.size(); }
  // The most requests that were ever outstanding at once.
  std::size_t peak_requests_outstanding() const { return peak_outstanding_; }

  // Ends the session cleanly: no more requests are accepted, EOF follows the
  // last queued request, and outcome() turns into success once every
  // outstanding reply arrived.
  void finish();

  // Operations ----------------------------------------------------------------
  // Paths are the server's (POSIX) paths. pflags: open_flags::k*.

  void open(const std::string& path, std::uint32_t pflags, const Attrs& attrs,
            HandleCallback callback);
  void close(const std::string& handle, StatusCallback callback);
  void read(const std::string& handle, std::uint64_t offset, std::uint32_t length,
            DataCallback callback);
  void write(const std::string& handle, std::uint64_t offset, Bytes data, StatusCallback callback);
  void fstat(const std::string& handle, AttrsCallback callback);
  void stat(const std::string& path, AttrsCallback callback);
  void lstat(const std::string& path, AttrsCallback callback);
  void setstat(const std::string& path, const Attrs& attrs, StatusCallback callback);
  void fsetstat(const std::string& handle, const Attrs& attrs, StatusCallback callback);
  void opendir(const std::string& path, HandleCallback callback);
  void readdir(const std::string& handle, NamesCallback callback);
  // OPENDIR, READDIR until the end, CLOSE: every entry but "." and "..".
  void list_directory(const std::string& path, NamesCallback callback);
  void mkdir(const std::string& path, const Attrs& attrs, StatusCallback callback);
  void rmdir(const std::string& path, StatusCallback callback);
  void remove(const std::string& path, StatusCallback callback);
  // posix-rename@openssh.com when offered (replaces new_path, as rename(2));
  // otherwise v3 RENAME, which fails when new_path exists.
  void rename(const std::string& old_path, const std::string& new_path, StatusCallback callback);
  // Creates link_path pointing at target (sent in OpenSSH's order: target
  // first, which is what every server in use expects).
  void symlink(const std::string& target, const std::string& link_path, StatusCallback callback);
  // hardlink@openssh.com (OpUnsupported when not offered).
  void hardlink(const std::string& existing_path, const std::string& new_path,
                StatusCallback callback);
  void readlink(const std::string& path, PathCallback callback);
  void realpath(const std::string& path, PathCallback callback);
  // statvfs@openssh.com (OpUnsupported when not offered).
  void statvfs(const std::string& path, StatvfsCallback callback);
  // fsync@openssh.com (OpUnsupported when not offered).
  void fsync(const std::string& handle, StatusCallback callback);

 private:
  // Who gets a request's reply. on_reply returns false when the reply's
  // type is not one this request can have (the session then fails);
  // on_lost runs instead when the session ends first.
  struct Pending {
    std::function<bool(Packet& reply)> on_reply;
    std::function<void(ClientError error)> on_lost;
  };

  std::uint32_t next_id();
  // Queues (or, before the session is ready, holds) the encoded request and
  // remembers who gets its reply.
  void send_request(std::uint32_t id, const Packet& request, Pending pending);
  void send_extended(const char* name, Bytes body, Pending pending);
  void handle_packet(ByteView packet);
  void on_version(const Version& version);
  void on_limits_reply(ClientResult<Bytes> reply);
  void become_ready();
  void fail(std::string reason);
  void fail_pending(const std::string& reason);
  // A request the session cannot carry any more: its callback gets the error.
  bool refuse_if_closed(Pending& pending);
  void check_finished();
  // True (and `retry` kept for later) while the session is not ready yet.
  bool deferred_until_ready(std::function<void()> retry);

  ClientOptions options_;
  Bytes input_;
  std::size_t input_start_ = 0;
  Bytes output_;
  std::size_t output_start_ = 0;
  bool version_received_ = false;
  bool ready_ = false;
  bool finishing_ = false;
  bool input_ended_ = false;
  bool dispatching_ = false;
  std::vector<std::function<void()>> ready_callbacks_;
  std::uint32_t server_version_ = 0;
  std::vector<ExtensionPair> server_extensions_;
  std::size_t read_chunk_size_;
  std::size_t write_chunk_size_;
  std::uint64_t max_open_handles_ = 0;
  std::uint32_t next_request_id_ = 1;
  std::map<std::uint32_t, Pending> pending_;
  std::size_t peak_outstanding_ = 0;
  std::optional<ssh::Status> outcome_;
};

}  // namespace sftp
