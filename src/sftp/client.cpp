#include "sftp/client.hpp"

#include <algorithm>
#include <memory>
#include <type_traits>
#include <utility>
#include <variant>

#include "ssh/log.hpp"

namespace sftp {
namespace {

std::shared_ptr<spdlog::logger> logger() {
  return ssh::log::get("sftp");
}

// Stderr lines from the server are logged, but only this much of them.
constexpr std::size_t kMaxLoggedErrorOutput = 1024;

ClientError connection_lost(const std::string& reason) {
  return {StatusCode::ConnectionLost, reason};
}

ClientError status_error(const Status& status) {
  std::string message = status.message;
  if (message.empty()) message = status_code_name(status.code);
  return {status.code, std::move(message)};
}

std::optional<std::uint32_t> reply_id(const Packet& packet) {
  return std::visit(
      [](const auto& p) -> std::optional<std::uint32_t> {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, Status> || std::is_same_v<T, Handle> ||
                      std::is_same_v<T, Data> || std::is_same_v<T, Name> ||
                      std::is_same_v<T, AttrsReply> || std::is_same_v<T, ExtendedReply>) {
          return p.id;
        } else {
          return std::nullopt;
        }
      },
      packet);
}

std::size_t read_u32(const Bytes& bytes, std::size_t at) {
  return (std::size_t{bytes[at]} << 24) | (std::size_t{bytes[at + 1]} << 16) |
         (std::size_t{bytes[at + 2]} << 8) | std::size_t{bytes[at + 3]};
}

// Replies that are a STATUS and nothing else (CLOSE, WRITE, SETSTAT, ...).
auto expect_status(Client::StatusCallback callback) {
  return [callback = std::move(callback)](Packet& reply) {
    auto* status = std::get_if<Status>(&reply);
    if (!status) return false;
    if (status->code == StatusCode::Ok) {
      callback(FsOk{});
    } else {
      callback(status_error(*status));
    }
    return true;
  };
}

// Replies that are a T (or a failed STATUS): hands over what `take` makes of
// the T; a STATUS OK where a T belongs is a protocol violation.
template <class T, class Value, class Take>
auto expect_reply(std::function<void(ClientResult<Value>)> callback, Take take) {
  return [callback = std::move(callback), take = std::move(take)](Packet& reply) {
    if (auto* value = std::get_if<T>(&reply)) {
      std::optional<Value> taken = take(*value);
      if (!taken) return false;
      callback(std::move(*taken));
      return true;
    }
    auto* status = std::get_if<Status>(&reply);
    if (!status || status->code == StatusCode::Ok) return false;
    callback(status_error(*status));
    return true;
  };
}

template <class Value>
auto lost_to(std::function<void(ClientResult<Value>)> callback) {
  return [callback = std::move(callback)](ClientError error) { callback(std::move(error)); };
}

}  // namespace

Client::Client(ClientOptions options)
    : options_(options),
      read_chunk_size_(std::min(options.default_chunk_size, options.max_chunk_size)),
      write_chunk_size_(read_chunk_size_) {
  encode(Init{kProtocolVersion, {}}, output_);
}

Client::~Client() = default;

// ssh::ChannelProtocol ---------------------------------------------------------

void Client::on_input(ByteView data) {
  if (outcome_) return;
  input_.insert(input_.end(), data.begin(), data.end());
  // A callback that feeds more input (a synchronous carrier) only appends
  // here; the loop below, already running, takes it in turn.
  if (dispatching_) return;
  dispatching_ = true;
  while (!outcome_ && input_.size() - input_start_ >= 4) {
    const std::size_t length = read_u32(input_, input_start_);
    if (length == 0 || length > options_.max_packet_length) {
      fail("the SFTP server sent a packet of " + std::to_string(length) + " bytes (the limit is " +
           std::to_string(options_.max_packet_length) + ")");
      break;
    }
    if (input_.size() - input_start_ - 4 < length) break;
    const std::size_t start = input_start_ + 4;
    input_start_ += 4 + length;
    // Decoded in place (no copy of a 255 KiB DATA); the view is not used
    // once the callbacks run, which may append to input_.
    handle_packet(ByteView(input_).subspan(start, length));
  }
  dispatching_ = false;
  if (outcome_) {
    input_.clear();
    input_start_ = 0;
  } else if (input_start_ > 0 && input_start_ * 2 >= input_.size()) {
    input_.erase(input_.begin(), input_.begin() + static_cast<std::ptrdiff_t>(input_start_));
    input_start_ = 0;
  }
  check_finished();
}

void Client::on_error_output(ByteView data) {
  const std::size_t shown = std::min(data.size(), kMaxLoggedErrorOutput);
  logger()->info("sftp server: {}", ssh::as_text(data.first(shown)));
}

void Client::on_input_eof() {
  input_ended_ = true;
  if (outcome_) return;
  if (finishing_ && pending_.empty()) {
    outcome_ = ssh::Status{};
    return;
  }
  if (!version_received_) {
    fail("the SFTP server closed the stream before its VERSION");
  } else if (!input_.empty() && input_.size() > input_start_) {
    fail("the SFTP server closed the stream inside a packet");
  } else {
    fail("the SFTP server closed the stream");
  }
}

void Client::produce(std::size_t max, Bytes& out) {
  const std::size_t count = std::min(max, output_.size() - output_start_);
  out.insert(out.end(), output_.begin() + static_cast<std::ptrdiff_t>(output_start_),
             output_.begin() + static_cast<std::ptrdiff_t>(output_start_ + count));
  output_start_ += count;
  if (output_start_ == output_.size()) {
    output_.clear();
    output_start_ = 0;
  } else if (output_start_ * 2 >= output_.size()) {
    output_.erase(output_.begin(), output_.begin() + static_cast<std::ptrdiff_t>(output_start_));
    output_start_ = 0;
  }
}

bool Client::has_output() const {
  return output_.size() > output_start_;
}

bool Client::output_finished() const {
  if (outcome_ && !outcome_->ok()) return true;
  return finishing_ && !has_output();
}

std::optional<ssh::Status> Client::outcome() const {
  return outcome_;
}

// Session state ----------------------------------------------------------------

void Client::when_ready(std::function<void()> callback) {
  if (ready_ || outcome_) {
    callback();
  } else {
    ready_callbacks_.push_back(std::move(callback));
  }
}

bool Client::has_extension(std::string_view name) const {
  return std::any_of(server_extensions_.begin(), server_extensions_.end(),
                     [&](const ExtensionPair& pair) { return pair.name == name; });
}

void Client::finish() {
  finishing_ = true;
  check_finished();
}

void Client::check_finished() {
  if (!outcome_ && finishing_ && pending_.empty() && (ready_ || input_ended_)) {
    outcome_ = ssh::Status{};
  }
}

std::uint32_t Client::next_id() {
  std::uint32_t id = next_request_id_++;
  // Ids wrap after 2^32 requests; skip the ones still waiting for a reply.
  while (pending_.count(id) != 0) id = next_request_id_++;
  return id;
}

bool Client::refuse_if_closed(Pending& pending) {
  if (!outcome_ && !finishing_) return false;
  std::string reason = "the SFTP session is closing";
  if (outcome_ && !outcome_->ok()) reason = outcome_->error().message;
  pending.on_lost(connection_lost(reason));
  return true;
}

void Client::send_request(std::uint32_t id, const Packet& request, Pending pending) {
  if (refuse_if_closed(pending)) return;
  encode(request, output_);
  pending_.emplace(id, std::move(pending));
  peak_outstanding_ = std::max(peak_outstanding_, pending_.size());
}

void Client::send_extended(const char* name, Bytes body, Pending pending) {
  const std::uint32_t id = next_id();
  send_request(id, Extended{id, name, std::move(body)}, std::move(pending));
}

void Client::handle_packet(ByteView packet) {
  auto decoded = decode(packet);
  if (!decoded) {
    fail("the SFTP server sent a malformed packet: " + decoded.error().message);
    return;
  }
  Packet& reply = *decoded;
  if (!version_received_) {
    auto* version = std::get_if<Version>(&reply);
    if (!version) {
      fail(std::string("the SFTP server sent ") + packet_type_name(packet_type(reply)) +
           " before VERSION");
      return;
    }
    on_version(*version);
    return;
  }
  const auto id = reply_id(reply);
  if (!id) {
    fail(std::string("the SFTP server sent a ") + packet_type_name(packet_type(reply)) +
         " packet, which only clients send");
    return;
  }
  auto it = pending_.find(*id);
  if (it == pending_.end()) {
    fail("the SFTP server replied to request " + std::to_string(*id) + ", which was not asked");
    return;
  }
  Pending pending = std::move(it->second);
  pending_.erase(it);
  if (!pending.on_reply(reply)) {
    // This request's callback did not run; it learns why the session ended.
    const std::string reason = std::string("the SFTP server sent an unexpected ") +
                               packet_type_name(packet_type(reply)) + " reply to request " +
                               std::to_string(*id);
    fail(reason);
    pending.on_lost(connection_lost(reason));
  }
}

void Client::on_version(const Version& version) {
  version_received_ = true;
  server_version_ = version.version;
  server_extensions_ = version.extensions;
  if (version.version != kProtocolVersion) {
    fail("the SFTP server speaks version " + std::to_string(version.version) + ", not version 3");
    return;
  }
  for (const auto& extension : server_extensions_) {
    logger()->debug("sftp server offers {} ({})", extension.name, extension.data);
  }
  if (options_.use_limits_extension && has_extension(ext::kLimits)) {
    logger()->debug("sftp: asking {}", ext::kLimits);
    const std::uint32_t id = next_id();
    Pending pending;
    pending.on_reply = [this](Packet& reply) {
      if (auto* extended = std::get_if<ExtendedReply>(&reply)) {
        on_limits_reply(std::move(extended->data));
        return true;
      }
      auto* status = std::get_if<Status>(&reply);
      if (!status || status->code == StatusCode::Ok) return false;
      on_limits_reply(status_error(*status));
      return true;
    };
    pending.on_lost = [](ClientError) {};
    send_request(id, Extended{id, ext::kLimits, {}}, std::move(pending));
    return;
  }
  become_ready();
}

void Client::on_limits_reply(ClientResult<Bytes> reply) {
  if (!reply) {
    logger()->debug("sftp: {} refused ({}); keeping {} byte chunks", ext::kLimits,
                    reply.error().message, read_chunk_size_);
    become_ready();
    return;
  }
  const auto limits = ext::decode_limits_reply(*reply);
  if (!limits) {
    fail(std::string("the SFTP server sent a malformed ") + ext::kLimits + " reply");
    return;
  }
  // Our own packet limit bounds what a READ may ask for (its DATA reply must
  // fit, with room for the header); the server's bounds what a WRITE carries.
  const std::size_t header_room = 1024;
  std::size_t read_cap = options_.max_chunk_size;
  if (options_.max_packet_length > header_room) {
    read_cap = std::min(read_cap, options_.max_packet_length - header_room);
  }
  std::size_t write_cap = options_.max_chunk_size;
  if (limits->max_packet_length > header_room) {
    write_cap = std::min<std::uint64_t>(write_cap, limits->max_packet_length - header_room);
  }
  if (limits->max_read_length > 0) {
    read_chunk_size_ =
        static_cast<std::size_t>(std::min<std::uint64_t>(read_cap, limits->max_read_length));
  }
  if (limits->max_write_length > 0) {
    write_chunk_size_ =
        static_cast<std::size_t>(std::min<std::uint64_t>(write_cap, limits->max_write_length));
  }
  max_open_handles_ = limits->max_open_handles;
  become_ready();
}

void Client::become_ready() {
  ready_ = true;
  logger()->debug("sftp: version {}, read chunk {} bytes, write chunk {} bytes", server_version_,
                  read_chunk_size_, write_chunk_size_);
  // Callbacks may add more callbacks (they then run at once).
  auto callbacks = std::move(ready_callbacks_);
  ready_callbacks_.clear();
  for (auto& callback : callbacks) callback();
}

void Client::fail(std::string reason) {
  if (outcome_) return;
  logger()->warn("sftp: {}", reason);
  outcome_ = ssh::protocol_error(reason);
  output_.clear();
  output_start_ = 0;
  fail_pending(reason);
  auto callbacks = std::move(ready_callbacks_);
  ready_callbacks_.clear();
  for (auto& callback : callbacks) callback();
}

void Client::fail_pending(const std::string& reason) {
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, entry] : pending) entry.on_lost(connection_lost(reason));
}

// Operations -------------------------------------------------------------------

// Before VERSION nothing is known about extensions and chunk sizes: an
// operation made then runs again once the session is ready.
bool Client::deferred_until_ready(std::function<void()> retry) {
  if (ready_ || outcome_) return false;
  ready_callbacks_.push_back(std::move(retry));
  return true;
}

void Client::open(const std::string& path, std::uint32_t pflags, const Attrs& attrs,
                  HandleCallback callback) {
  if (deferred_until_ready(
          [=, this]() mutable { open(path, pflags, attrs, std::move(callback)); })) {
    return;
  }
  const std::uint32_t id = next_id();
  Pending pending{expect_reply<Handle, std::string>(
                      callback, [](Handle& h) { return std::optional(std::move(h.handle)); }),
                  lost_to(callback)};
  send_request(id, Open{id, path, pflags, attrs}, std::move(pending));
}

void Client::close(const std::string& handle, StatusCallback callback) {
  if (deferred_until_ready([=, this]() mutable { close(handle, std::move(callback)); })) {
    return;
  }
  const std::uint32_t id = next_id();
  send_request(id, Close{id, handle}, Pending{expect_status(callback), lost_to(callback)});
}

void Client::read(const std::string& handle, std::uint64_t offset, std::uint32_t length,
                  DataCallback callback) {
  if (deferred_until_ready(
          [=, this]() mutable { read(handle, offset, length, std::move(callback)); }))
    return;
  const std::uint32_t id = next_id();
  Pending pending;
  pending.on_reply = [callback, length](Packet& reply) {
    if (auto* data = std::get_if<Data>(&reply)) {
      // More than was asked is a broken (or hostile) server.
      if (data->data.size() > length) return false;
      callback(std::move(data->data));
      return true;
    }
    auto* status = std::get_if<Status>(&reply);
    if (!status || status->code == StatusCode::Ok) return false;
    if (status->code == StatusCode::Eof) {
      callback(Bytes{});
    } else {
      callback(status_error(*status));
    }
    return true;
  };
  pending.on_lost = lost_to(callback);
  send_request(id, Read{id, handle, offset, length}, std::move(pending));
}

void Client::write(const std::string& handle, std::uint64_t offset, Bytes data,
                   StatusCallback callback) {
  if (deferred_until_ready(
          [=, this]() mutable { write(handle, offset, std::move(data), std::move(callback)); }))
    return;
  const std::uint32_t id = next_id();
  send_request(id, Write{id, handle, offset, std::move(data)},
               Pending{expect_status(callback), lost_to(callback)});
}

namespace {
auto take_attrs(AttrsReply& reply) {
  return std::optional(std::move(reply.attrs));
}
}  // namespace

void Client::fstat(const std::string& handle, AttrsCallback callback) {
  if (deferred_until_ready([=, this]() mutable { fstat(handle, std::move(callback)); })) {
    return;
  }
  const std::uint32_t id = next_id();
  send_request(id, Fstat{id, handle},
               Pending{expect_reply<AttrsReply, Attrs>(callback, take_attrs), lost_to(callback)});
}

void Client::stat(const std::string& path, AttrsCallback callback) {
  if (deferred_until_ready([=, this]() mutable { stat(path, std::move(callback)); })) {
    return;
  }
  const std::uint32_t id = next_id();
  send_request(id, Stat{id, path},
               Pending{expect_reply<AttrsReply, Attrs>(callback, take_attrs), lost_to(callback)});
}

void Client::lstat(const std::string& path, AttrsCallback callback) {
  if (deferred_until_ready([=, this]() mutable { lstat(path, std::move(callback)); })) {
    return;
  }
  const std::uint32_t id = next_id();
  send_request(id, Lstat{id, path},
               Pending{expect_reply<AttrsReply, Attrs>(callback, take_attrs), lost_to(callback)});
}

void Client::setstat(const std::string& path, const Attrs& attrs, StatusCallback callback) {
  if (deferred_until_ready([=, this]() mutable { setstat(path, attrs, std::move(callback)); })) {
    return;
  }
  const std::uint32_t id = next_id();
  send_request(id, Setstat{id, path, attrs}, Pending{expect_status(callback), lost_to(callback)});
}

void Client::fsetstat(const std::string& handle, const Attrs& attrs, StatusCallback callback) {
  if (deferred_until_ready([=, this]() mutable { fsetstat(handle, attrs, std::move(callback)); })) {
    return;
  }
  const std::uint32_t id = next_id();
  send_request(id, Fsetstat{id, handle, attrs},
               Pending{expect_status(callback), lost_to(callback)});
}

void Client::opendir(const std::string& path, HandleCallback callback) {
  if (deferred_until_ready([=, this]() mutable { opendir(path, std::move(callback)); })) {
    return;
  }
  const std::uint32_t id = next_id();
  Pending pending{expect_reply<Handle, std::string>(
                      callback, [](Handle& h) { return std::optional(std::move(h.handle)); }),
                  lost_to(callback)};
  send_request(id, Opendir{id, path}, std::move(pending));
}

void Client::readdir(const std::string& handle, NamesCallback callback) {
  if (deferred_until_ready([=, this]() mutable { readdir(handle, std::move(callback)); })) {
    return;
  }
  const std::uint32_t id = next_id();
  Pending pending;
  pending.on_reply = [callback](Packet& reply) {
    if (auto* name = std::get_if<Name>(&reply)) {
      // An empty batch would read as the end of the directory.
      if (name->names.empty()) return false;
      callback(std::move(name->names));
      return true;
    }
    auto* status = std::get_if<Status>(&reply);
    if (!status || status->code == StatusCode::Ok) return false;
    if (status->code == StatusCode::Eof) {
      callback(std::vector<NameEntry>{});
    } else {
      callback(status_error(*status));
    }
    return true;
  };
  pending.on_lost = lost_to(callback);
  send_request(id, Readdir{id, handle}, std::move(pending));
}

namespace {

struct Listing {
  std::string handle;
  std::vector<NameEntry> entries;
  Client::NamesCallback callback;
};

void read_listing(Client& client, std::shared_ptr<Listing> listing) {
  client.readdir(listing->handle, [&client, listing](ClientResult<std::vector<NameEntry>> batch) {
    if (!batch) {
      // The listing failed; the handle is closed all the same.
      client.close(listing->handle, [](ClientStatus) {});
      listing->callback(batch.error());
      return;
    }
    if (batch->empty()) {
      client.close(listing->handle,
                   [listing](ClientStatus) { listing->callback(std::move(listing->entries)); });
      return;
    }
    for (auto& entry : *batch) {
      if (entry.filename == "." || entry.filename == "..") continue;
      listing->entries.push_back(std::move(entry));
    }
    read_listing(client, listing);
  });
}

}  // namespace

void Client::list_directory(const std::string& path, NamesCallback callback) {
  opendir(path, [this, callback](ClientResult<std::string> handle) {
    if (!handle) {
      callback(handle.error());
      return;
    }
    auto listing = std::make_shared<Listing>();
    listing->handle = std::move(*handle);
    listing->callback = callback;
    read_listing(*this, listing);
  });
}

void Client::mkdir(const std::string& path, const Attrs& attrs, StatusCallback callback) {
  if (deferred_until_ready([=, this]() mutable { mkdir(path, attrs, std::move(callback)); })) {
    return;
  }
  const std::uint32_t id = next_id();
  send_request(id, Mkdir{id, path, attrs}, Pending{expect_status(callback), lost_to(callback)});
}

void Client::rmdir(const std::string& path, StatusCallback callback) {
  if (deferred_until_ready([=, this]() mutable { rmdir(path, std::move(callback)); })) {
    return;
  }
  const std::uint32_t id = next_id();
  send_request(id, Rmdir{id, path}, Pending{expect_status(callback), lost_to(callback)});
}

void Client::remove(const std::string& path, StatusCallback callback) {
  if (deferred_until_ready([=, this]() mutable { remove(path, std::move(callback)); })) {
    return;
  }
  const std::uint32_t id = next_id();
  send_request(id, Remove{id, path}, Pending{expect_status(callback), lost_to(callback)});
}

void Client::rename(const std::string& old_path, const std::string& new_path,
                    StatusCallback callback) {
  if (deferred_until_ready(
          [=, this]() mutable { rename(old_path, new_path, std::move(callback)); }))
    return;
  if (has_extension(ext::kPosixRename)) {
    send_extended(ext::kPosixRename, ext::encode(ext::TwoPaths{old_path, new_path}),
                  Pending{expect_status(callback), lost_to(callback)});
    return;
  }
  const std::uint32_t id = next_id();
  send_request(id, Rename{id, old_path, new_path},
               Pending{expect_status(callback), lost_to(callback)});
}

void Client::symlink(const std::string& target, const std::string& link_path,
                     StatusCallback callback) {
  if (deferred_until_ready(
          [=, this]() mutable { symlink(target, link_path, std::move(callback)); }))
    return;
  const std::uint32_t id = next_id();
  send_request(id, Symlink{id, target, link_path},
               Pending{expect_status(callback), lost_to(callback)});
}

void Client::hardlink(const std::string& existing_path, const std::string& new_path,
                      StatusCallback callback) {
  if (deferred_until_ready(
          [=, this]() mutable { hardlink(existing_path, new_path, std::move(callback)); }))
    return;
  if (!has_extension(ext::kHardlink)) {
    callback(ClientError{StatusCode::OpUnsupported,
                         std::string("the SFTP server does not offer ") + ext::kHardlink});
    return;
  }
  send_extended(ext::kHardlink, ext::encode(ext::TwoPaths{existing_path, new_path}),
                Pending{expect_status(callback), lost_to(callback)});
}

namespace {
std::optional<std::string> take_single_name(Name& reply) {
  if (reply.names.size() != 1) return std::nullopt;
  return std::move(reply.names.front().filename);
}
}  // namespace

void Client::readlink(const std::string& path, PathCallback callback) {
  if (deferred_until_ready([=, this]() mutable { readlink(path, std::move(callback)); })) {
    return;
  }
  const std::uint32_t id = next_id();
  send_request(
      id, Readlink{id, path},
      Pending{expect_reply<Name, std::string>(callback, take_single_name), lost_to(callback)});
}

void Client::realpath(const std::string& path, PathCallback callback) {
  if (deferred_until_ready([=, this]() mutable { realpath(path, std::move(callback)); })) {
    return;
  }
  const std::uint32_t id = next_id();
  send_request(
      id, Realpath{id, path},
      Pending{expect_reply<Name, std::string>(callback, take_single_name), lost_to(callback)});
}

void Client::statvfs(const std::string& path, StatvfsCallback callback) {
  if (deferred_until_ready([=, this]() mutable { statvfs(path, std::move(callback)); })) {
    return;
  }
  if (!has_extension(ext::kStatvfs)) {
    callback(ClientError{StatusCode::OpUnsupported,
                         std::string("the SFTP server does not offer ") + ext::kStatvfs});
    return;
  }
  send_extended(
      ext::kStatvfs, ext::encode(ext::OneString{path}),
      Pending{
          expect_reply<ExtendedReply, ext::StatvfsReply>(
              callback, [](ExtendedReply& reply) { return ext::decode_statvfs_reply(reply.data); }),
          lost_to(callback)});
}

void Client::fsync(const std::string& handle, StatusCallback callback) {
  if (deferred_until_ready([=, this]() mutable { fsync(handle, std::move(callback)); })) {
    return;
  }
  if (!has_extension(ext::kFsync)) {
    callback(ClientError{StatusCode::OpUnsupported,
                         std::string("the SFTP server does not offer ") + ext::kFsync});
    return;
  }
  send_extended(ext::kFsync, ext::encode(ext::OneHandle{handle}),
                Pending{expect_status(callback), lost_to(callback)});
}

}  // namespace sftp
