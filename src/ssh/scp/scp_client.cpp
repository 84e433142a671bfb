#include "ssh/scp/scp_client.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>

#include "ssh/log.hpp"
#include "ssh/scp/scp_protocol.hpp"
#include "ssh/scp/scp_records.hpp"

namespace ssh::scp {

namespace {

using records::kMaxSize;
using records::kModeMask;
using records::kOwnerAll;
using records::kOwnerWrite;
using records::NumberStatus;
using records::octal_mode;
using records::parse_decimal;

// File data is read from disk in pieces of at most this size per produce().
constexpr std::size_t kMaxReadChunk = 256 * 1024;

std::string join_path(const std::string& directory, const std::string& name) {
  if (directory.empty()) return name;
  if (directory.back() == '/') return directory + name;
  return directory + "/" + name;
}

// The last component of a path, trailing slashes ignored ("a/b/" -> "b").
std::string last_component(std::string_view path, bool backslash_separates) {
  while (path.size() > 1 && (path.back() == '/' || (backslash_separates && path.back() == '\\'))) {
    path.remove_suffix(1);
  }
  const std::size_t slash = backslash_separates ? path.find_last_of("/\\") : path.find_last_of('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// The directory part of a path, its last separator included ("" if none).
std::string directory_of(const std::string& path, bool backslash_separates) {
  const std::size_t slash = backslash_separates ? path.find_last_of("/\\") : path.find_last_of('/');
  if (slash == std::string::npos) return std::string();
  return path.substr(0, slash + 1);
}

// A bracket expression at pattern[pos] ('['): whether c matches it, with
// `next` set past its ']'; nullopt when there is no closing ']' (the '[' is
// then an ordinary character).
std::optional<bool> match_bracket(std::string_view pattern, std::size_t pos, char c,
                                  std::size_t& next) {
  std::size_t i = pos + 1;
  bool negate = false;
  if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
    negate = true;
    ++i;
  }
  bool matched = false;
  const std::size_t first = i;
  // A ']' right after the opening (or its '!') is a member, not the end.
  while (i < pattern.size() && (pattern[i] != ']' || i == first)) {
    const char low = pattern[i];
    char high = low;
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      high = pattern[i + 2];
      i += 2;
    }
    if (low <= c && c <= high) matched = true;
    ++i;
  }
  if (i >= pattern.size()) return std::nullopt;
  next = i + 1;
  return matched != negate;
}

// One protocol line, without its '\n'.
std::optional<std::string> take_line(Bytes& input) {
  const auto newline = std::find(input.begin(), input.end(), std::uint8_t{'\n'});
  if (newline == input.end()) return std::nullopt;
  std::string line(input.begin(), newline);
  input.erase(input.begin(), newline + 1);
  return line;
}

// What both directions share: the output queue, error reporting and the
// end of the run.
class ClientRole : public ChannelProtocol {
 public:
  ClientRole(FileSystem& files, ClientObserver& observer)
      : files_(files), observer_(observer), log_(log::get("scp")) {}

  bool output_finished() const override { return output_done_ && outbox_.empty(); }

  std::optional<Status> outcome() const override {
    if (!finished_) return std::nullopt;
    if (first_error_) return Status(Error{DisconnectReason::ByApplication, *first_error_});
    return Status();
  }

 protected:
  void send(std::string_view text) {
    if (output_done_) return;
    outbox_.insert(outbox_.end(), text.begin(), text.end());
  }
  void send_ok() { send(std::string_view("\0", 1)); }

  void drain_outbox(std::size_t& max, Bytes& out) {
    const std::size_t count = std::min(max, outbox_.size() - outbox_sent_);
    const auto begin = outbox_.begin() + static_cast<std::ptrdiff_t>(outbox_sent_);
    out.insert(out.end(), begin, begin + static_cast<std::ptrdiff_t>(count));
    outbox_sent_ += count;
    max -= count;
    if (outbox_sent_ == outbox_.size()) {
      outbox_.clear();
      outbox_sent_ = 0;
    }
  }
  bool outbox_pending() const { return outbox_.size() > outbox_sent_; }

  // An error the user is shown; the run goes on.
  void report(std::string message) {
    ++errors_;
    log_->debug("{}", message);
    observer_.on_error(message);
    if (!first_error_) first_error_ = std::move(message);
  }
  // A local failure on one file: the user is told, and so is the remote
  // (\1, as scp's run_err), which counts it against its exit status.
  void local_error(const std::string& message) {
    report("scp: " + message);
    send("\1scp: " + message + "\n");
  }
  // The remote broke the protocol: the user is told, the remote too (\2),
  // and the run ends.
  void fatal(const std::string& message) {
    report("scp: " + message);
    send("\2scp: " + message + "\n");
    end_output();
    finish();
  }
  void end_output() { output_done_ = true; }
  void finish() {
    if (finished_) return;
    finished_ = true;
    output_done_ = true;
    log_->debug("scp client finished with {} error(s)", errors_);
  }

  FileSystem& files_;
  ClientObserver& observer_;
  std::shared_ptr<spdlog::logger> log_;
  bool finished_ = false;
  unsigned errors_ = 0;

 private:
  Bytes outbox_;
  std::size_t outbox_sent_ = 0;
  bool output_done_ = false;
  std::optional<std::string> first_error_;
};

// ---------------------------------------------------------------------------
// Upload: we are the source, the remote runs scp -t.

class Upload final : public ClientRole {
 public:
  Upload(UploadRequest request, FileSystem& files, ClientObserver& observer)
      : ClientRole(files, observer), request_(std::move(request)) {
    frames_.push_back({std::string(), false, request_.local_paths, 0});
    // The remote speaks first: one \0 once it is ready.
    awaiting_ = After::Start;
  }

  void on_input(ByteView data) override {
    if (finished_) return;
    input_.insert(input_.end(), data.begin(), data.end());
    pump();
  }

  void on_input_eof() override {
    remote_ended_ = true;
    pump();
    if (finished_) return;
    if (!sending_done_) report("scp: lost connection");
    finish();
  }

  void produce(std::size_t max, Bytes& out) override {
    drain_outbox(max, out);
    produce_file_data(max, out);
    drain_outbox(max, out);
  }

  bool has_output() const override { return outbox_pending() || (file_.sending && !finished_); }

 private:
  enum class After {
    Nothing,
    Start,
    FileTimes,
    FileHeader,
    FileData,
    DirectoryTimes,
    DirectoryHeader,
    DirectoryEnd,
  };

  struct Frame {
    std::string directory;  // empty for the request's paths
    bool is_directory = false;
    std::vector<std::string> entries;
    std::size_t next = 0;
  };

  struct OutgoingFile {
    std::unique_ptr<ReadableFile> handle;
    std::string path;
    std::string name;
    FileInfo info;
    std::uint64_t remaining = 0;
    bool sending = false;
    std::optional<std::string> read_error;
  };

  struct PendingDirectory {
    std::string path;
    std::string name;
    FileInfo info;
    std::vector<std::string> entries;
  };

  enum class ResponseKind { Ok, Error, Fatal };

  std::optional<ResponseKind> take_response() {
    if (input_.empty()) return std::nullopt;
    if (input_[0] == 0) {
      input_.erase(input_.begin());
      return ResponseKind::Ok;
    }
    const std::uint8_t kind = input_[0];
    const std::optional<std::string> line = take_line(input_);
    if (!line) return std::nullopt;
    // \1 message: that one failed. \2 message, or any other text (a shell
    // saying "scp: command not found"): the remote gave up.
    std::string message = (kind == 1 || kind == 2) ? line->substr(1) : *line;
    report(message);
    return kind == 1 ? ResponseKind::Error : ResponseKind::Fatal;
  }

  void pump() {
    while (!finished_ && awaiting_ != After::Nothing) {
      const std::optional<ResponseKind> response = take_response();
      if (!response) {
        if (input_.size() >= kMaxLineLength) return fatal("protocol error: line too long");
        return;
      }
      if (*response == ResponseKind::Fatal) {
        end_output();
        return finish();
      }
      const After after = std::exchange(awaiting_, After::Nothing);
      on_response(after, *response == ResponseKind::Ok);
      advance();
    }
    // scp -t sends nothing unprompted: what piles up unasked is bounded.
    if (!finished_ && input_.size() >= kMaxLineLength) fatal("protocol error: line too long");
  }

  void await(After after) { awaiting_ = after; }

  void on_response(After after, bool ok) {
    switch (after) {
      case After::FileTimes:
        if (!ok) return drop_file();
        return send_file_header();
      case After::FileHeader:
        if (!ok) return drop_file();
        file_.sending = true;
        file_.remaining = file_.info.size;
        observer_.on_file_started(file_.name, file_.info.size);
        if (file_.remaining == 0) end_of_file_data();
        return;
      case After::FileData:
        observer_.on_file_finished(ok);
        return;
      case After::DirectoryTimes:
        if (!ok) return;
        return send_directory_header();
      case After::DirectoryHeader:
        if (!ok) return;
        frames_.push_back({directory_.path, true, std::move(directory_.entries), 0});
        directory_ = PendingDirectory{};
        return;
      case After::Nothing:
      case After::Start:
      case After::DirectoryEnd:
        return;
    }
  }

  void advance() {
    while (!finished_ && awaiting_ == After::Nothing && !file_.sending) {
      if (frames_.empty()) {
        if (!sending_done_) {
          sending_done_ = true;
          end_output();  // the carrier sends EOF; the remote scp then exits
        }
        if (remote_ended_) finish();
        return;
      }
      Frame& frame = frames_.back();
      if (frame.next == frame.entries.size()) {
        const bool was_directory = frame.is_directory;
        frames_.pop_back();
        if (was_directory) {
          send("E\n");
          await(After::DirectoryEnd);
        }
        continue;
      }
      const std::string entry = frame.entries[frame.next++];
      start_path(frame.is_directory ? join_path(frame.directory, entry) : entry);
    }
  }

  void start_path(std::string path) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    const Result<FileInfo> info = files_.stat(path);
    if (!info.ok()) return local_error(path + ": " + info.error().message);
    const std::string name = last_component(path, files_.backslash_separates());
    if (name.find('\n') != std::string::npos) {
      return local_error(path + ": file name contains a newline");
    }
    switch (info->kind) {
      case FileKind::Regular:
        return start_file(path, name, *info);
      case FileKind::Directory:
        if (request_.recursive) return start_directory(path, name, *info);
        break;
      case FileKind::Other:
        break;
    }
    local_error(path + ": not a regular file");
  }

  void send_times(const FileInfo& info) {
    send("T" + std::to_string(std::max<std::int64_t>(info.mtime, 0)) + " 0 " +
         std::to_string(std::max<std::int64_t>(info.atime, 0)) + " 0\n");
  }

  void start_file(const std::string& path, const std::string& name, const FileInfo& info) {
    Result<std::unique_ptr<ReadableFile>> opened = files_.open_for_reading(path);
    if (!opened.ok()) return local_error(path + ": " + opened.error().message);
    file_ = OutgoingFile{};
    file_.handle = std::move(opened.value());
    file_.path = path;
    file_.name = name;
    file_.info = info;
    if (request_.preserve) {
      send_times(info);
      return await(After::FileTimes);
    }
    send_file_header();
  }

  void send_file_header() {
    send("C" + octal_mode(file_.info.mode & kModeMask) + " " + std::to_string(file_.info.size) +
         " " + file_.name + "\n");
    await(After::FileHeader);
  }

  void drop_file() { file_ = OutgoingFile{}; }

  void start_directory(const std::string& path, const std::string& name, const FileInfo& info) {
    Result<std::vector<std::string>> entries = files_.list_directory(path);
    if (!entries.ok()) return local_error(path + ": " + entries.error().message);
    directory_ = PendingDirectory{path, name, info, std::move(entries.value())};
    std::sort(directory_.entries.begin(), directory_.entries.end());
    if (request_.preserve) {
      send_times(info);
      return await(After::DirectoryTimes);
    }
    send_directory_header();
  }

  void send_directory_header() {
    send("D" + octal_mode(directory_.info.mode & kModeMask) + " 0 " + directory_.name + "\n");
    await(After::DirectoryHeader);
  }

  void produce_file_data(std::size_t& max, Bytes& out) {
    if (!file_.sending || finished_) return;
    while (max > 0 && file_.remaining > 0) {
      const std::size_t count = static_cast<std::size_t>(
          std::min<std::uint64_t>(std::min(max, kMaxReadChunk), file_.remaining));
      const std::size_t start = out.size();
      out.resize(start + count);
      std::size_t filled = 0;
      if (!file_.read_error) {
        const Result<std::size_t> got =
            file_.handle->read(MutableByteView(out.data() + start, count));
        if (!got.ok()) {
          file_.read_error = got.error().message;
        } else if (*got == 0) {
          file_.read_error = "file shrank while being sent";
        } else {
          filled = std::min(*got, count);
        }
      }
      // After a read failure the rest is zeros, to stay in step with the
      // remote, which then hears \1 instead of the final \0.
      const std::size_t produced = file_.read_error ? count : filled;
      std::fill(out.begin() + static_cast<std::ptrdiff_t>(start + filled), out.end(), 0);
      out.resize(start + produced);
      file_.remaining -= produced;
      max -= produced;
    }
    observer_.on_file_progress(file_.info.size - file_.remaining);
    if (file_.remaining == 0) {
      end_of_file_data();
      pump();  // the remote's ack may be here already
    }
  }

  void end_of_file_data() {
    const std::optional<std::string> read_error = file_.read_error;
    const std::string path = file_.path;
    file_ = OutgoingFile{};
    if (read_error) {
      local_error(path + ": " + *read_error);
    } else {
      send_ok();
    }
    await(After::FileData);
  }

  UploadRequest request_;
  std::vector<Frame> frames_;
  After awaiting_ = After::Nothing;
  OutgoingFile file_;
  PendingDirectory directory_;
  Bytes input_;
  bool sending_done_ = false;
  bool remote_ended_ = false;
};

// ---------------------------------------------------------------------------
// Download: we are the sink, the remote runs scp -f.

class Download final : public ClientRole {
 public:
  Download(DownloadRequest request, FileSystem& files, ClientObserver& observer)
      : ClientRole(files, observer), request_(std::move(request)) {
    for (const std::string& path : request_.remote_paths) {
      // Names the remote may send at the top level. "~", "." and ".." (and
      // an empty path, the home directory) name a directory whose own name
      // we cannot know; any single component is accepted for them.
      std::string pattern = last_component(path, false);
      if (pattern.empty() || pattern == "~" || pattern == "." || pattern == ".." ||
          pattern == "/") {
        any_top_level_name_ = true;
      }
      top_level_patterns_.push_back(std::move(pattern));
    }
    const Result<FileInfo> target = files_.stat(request_.local_target);
    const bool is_directory = target.ok() && target->kind == FileKind::Directory;
    if (request_.target_should_be_directory && !is_directory) {
      report("scp: " + request_.local_target + ": " +
             (target.ok() ? std::string("Not a directory") : target.error().message));
      end_output();
      finish();
      return;
    }
    frames_.push_back(
        {request_.local_target, is_directory, std::nullopt, std::nullopt, std::nullopt});
    send_ok();  // ready: the remote starts sending
  }

  ~Download() override { discard_partial_file(); }

  void on_input(ByteView data) override {
    while (!data.empty() && !finished_) {
      if (state_ == State::ReceivingData) {
        const std::size_t count =
            static_cast<std::size_t>(std::min<std::uint64_t>(file_.remaining, data.size()));
        write_data(data.first(count));
        data = data.subspan(count);
        if (file_.remaining == 0) end_of_file_data();
        continue;
      }
      if (state_ == State::AwaitDataAck && input_.empty() && data[0] == 0) {
        data = data.subspan(1);
        after_data_ack(true);
        continue;
      }
      const auto newline = std::find(data.begin(), data.end(), std::uint8_t{'\n'});
      const std::size_t count = newline == data.end()
                                    ? data.size()
                                    : static_cast<std::size_t>(newline - data.begin()) + 1;
      if (input_.size() + count > kMaxLineLength) return fatal("protocol error: line too long");
      input_.insert(input_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(count));
      data = data.subspan(count);
      if (std::optional<std::string> line = take_line(input_)) handle_line(*line);
    }
  }

  void on_input_eof() override {
    if (finished_) return;
    if (state_ != State::AwaitRecord || !input_.empty() || frames_.size() > 1) {
      discard_partial_file();
      report("scp: lost connection");
    }
    finish();
  }

  void produce(std::size_t max, Bytes& out) override { drain_outbox(max, out); }
  bool has_output() const override { return outbox_pending(); }

 private:
  enum class State { AwaitRecord, ReceivingData, AwaitDataAck };

  struct Frame {
    std::string target;
    bool target_is_directory = false;
    std::optional<FileTimes> pending_times;
    std::optional<FileTimes> times_on_exit;
    std::optional<std::uint32_t> mode_on_exit;
  };

  struct IncomingFile {
    std::unique_ptr<WritableFile> handle;
    std::string path;            // the final name
    std::string temporary_path;  // where the data goes until it is complete
    std::string name;
    std::uint64_t size = 0;
    std::uint64_t remaining = 0;
    std::uint32_t mode = 0;
    std::optional<FileTimes> times;
    std::optional<std::string> failure;  // the first local failure
  };

  void handle_line(const std::string& line) {
    if (line.empty()) return fatal("protocol error: unexpected <newline>");
    if (state_ == State::AwaitDataAck) {
      // The remote could not read all of the file it sent.
      report(line.substr(1));
      if (line[0] != '\1') {
        discard_partial_file();
        end_output();
        return finish();
      }
      return after_data_ack(false);
    }
    switch (line[0]) {
      case '\1':  // the remote failed on one of the paths
        report(line.substr(1));
        return;
      case '\2':
        report(line.substr(1));
        end_output();
        return finish();
      case 'E':
        if (line != "E") return fatal("protocol error: bad end-of-directory record");
        return leave_directory();
      case 'T':
        return handle_times(line);
      case 'C':
      case 'D':
        return handle_file_record(line);
      default:
        // What the remote shell said instead of running scp.
        if (!seen_record_) {
          report(line);
          end_output();
          return finish();
        }
        return fatal("protocol error: expected control record");
    }
  }

  void handle_times(std::string_view line) {
    seen_record_ = true;
    std::size_t pos = 1;
    std::uint64_t values[4]{};
    const std::uint64_t limits[4]{kMaxSize, 999999, kMaxSize, 999999};
    for (int k = 0; k < 4; ++k) {
      const NumberStatus status = parse_decimal(line, pos, limits[k], values[k]);
      if (status != NumberStatus::Ok) return fatal("protocol error: bad time record");
      const bool last = k == 3;
      if (last ? pos != line.size() : (pos >= line.size() || line[pos++] != ' ')) {
        return fatal("protocol error: bad time record");
      }
    }
    frames_.back().pending_times =
        FileTimes{static_cast<std::int64_t>(values[0]), static_cast<std::uint32_t>(values[1]),
                  static_cast<std::int64_t>(values[2]), static_cast<std::uint32_t>(values[3])};
    send_ok();
  }

  bool acceptable_name(std::string_view name) const {
    if (name.empty() || name == "." || name == "..") return false;
    if (name.find('/') != std::string_view::npos) return false;
    if (name.find('\0') != std::string_view::npos) return false;
    if (files_.backslash_separates() && name.find_first_of("\\:") != std::string_view::npos) {
      return false;
    }
    return true;
  }

  bool requested_at_top_level(std::string_view name) const {
    if (any_top_level_name_) return true;
    return std::any_of(top_level_patterns_.begin(), top_level_patterns_.end(),
                       [&](const std::string& pattern) { return filename_matches(pattern, name); });
  }

  void handle_file_record(std::string_view line) {
    seen_record_ = true;
    const char type = line[0];
    if (line.size() < 6 || line[5] != ' ') return fatal("protocol error: bad mode");
    std::uint32_t mode = 0;
    for (std::size_t pos = 1; pos < 5; ++pos) {
      if (line[pos] < '0' || line[pos] > '7') return fatal("protocol error: bad mode");
      mode = (mode << 3) | static_cast<std::uint32_t>(line[pos] - '0');
    }
    std::size_t pos = 6;
    std::uint64_t size = 0;
    switch (parse_decimal(line, pos, kMaxSize, size)) {
      case NumberStatus::Missing:
        return fatal("protocol error: size not present");
      case NumberStatus::TooBig:
        return fatal("protocol error: size out of range");
      case NumberStatus::Ok:
        break;
    }
    if (pos >= line.size() || line[pos] != ' ') {
      return fatal("protocol error: size not delimited");
    }
    const std::string name(line.substr(pos + 1));
    if (!acceptable_name(name)) return fatal("error: unexpected filename: " + name);
    if (frames_.size() == 1 && !requested_at_top_level(name)) {
      return fatal("protocol error: filename does not match request");
    }
    if (type == 'D' && !request_.recursive) {
      return fatal("protocol error: received directory without -r");
    }
    Frame& frame = frames_.back();
    const std::optional<FileTimes> times = std::exchange(frame.pending_times, std::nullopt);
    const std::string path =
        frame.target_is_directory ? join_path(frame.target, name) : frame.target;
    mode &= kModeMask;
    if (!request_.preserve) mode &= ~files_.creation_mask();
    const Result<FileInfo> existing = files_.stat(path);
    if (type == 'D') return enter_directory(path, mode, times, existing);
    receive_file(path, name, mode, size, times, existing);
  }

  void enter_directory(const std::string& path, std::uint32_t mode,
                       const std::optional<FileTimes>& times, const Result<FileInfo>& existing) {
    bool set_mode_on_exit = request_.preserve;
    if (existing.ok()) {
      if (existing->kind != FileKind::Directory) return local_error(path + ": Not a directory");
      if (request_.preserve) (void)files_.set_mode(path, mode);
    } else {
      // Owner access while filling it, even when copying a read-only one.
      set_mode_on_exit = true;
      const Status made = files_.make_directory(path, mode | kOwnerAll);
      if (!made.ok()) return local_error(path + ": " + made.error().message);
    }
    frames_.push_back({path, true, std::nullopt, request_.preserve ? times : std::nullopt,
                       set_mode_on_exit ? std::optional<std::uint32_t>(mode) : std::nullopt});
    send_ok();
  }

  void leave_directory() {
    if (frames_.size() == 1) return fatal("protocol error: end of a directory never entered");
    send_ok();
    const Frame frame = std::move(frames_.back());
    frames_.pop_back();
    if (frame.times_on_exit) (void)files_.set_times(frame.target, *frame.times_on_exit);
    if (frame.mode_on_exit) (void)files_.set_mode(frame.target, *frame.mode_on_exit);
  }

  void receive_file(const std::string& path, const std::string& name, std::uint32_t mode,
                    std::uint64_t size, const std::optional<FileTimes>& times,
                    const Result<FileInfo>& existing) {
    if (existing.ok() && existing->kind == FileKind::Directory) {
      return local_error(path + ": Is a directory");
    }
    // Without -p an existing file keeps its mode, as when scp writes over
    // it in place.
    if (existing.ok() && existing->kind == FileKind::Regular && !request_.preserve) {
      mode = existing->mode & kModeMask;
    }
    const std::string temporary_path = directory_of(path, files_.backslash_separates()) + "." +
                                       last_component(path, files_.backslash_separates()) + "." +
                                       request_.temporary_suffix + ".part";
    Result<std::unique_ptr<WritableFile>> opened =
        files_.open_for_writing(temporary_path, mode | kOwnerWrite);
    if (!opened.ok()) return local_error(path + ": " + opened.error().message);
    file_ = IncomingFile{};
    file_.handle = std::move(opened.value());
    file_.path = path;
    file_.temporary_path = temporary_path;
    file_.name = name;
    file_.size = size;
    file_.remaining = size;
    file_.mode = mode;
    file_.times = request_.preserve ? times : std::nullopt;
    // A leftover of the same name from an earlier run starts over.
    if (const Status truncated = file_.handle->truncate(0); !truncated.ok()) {
      file_.failure = path + ": " + truncated.error().message;
    }
    state_ = State::ReceivingData;
    observer_.on_file_started(name, size);
    send_ok();
    if (size == 0) end_of_file_data();
  }

  void write_data(ByteView data) {
    file_.remaining -= data.size();
    if (!file_.failure) {
      // Keep reading after a failure to stay in step with the remote.
      const Status written = file_.handle->write(data);
      if (!written.ok()) file_.failure = file_.path + ": " + written.error().message;
    }
    observer_.on_file_progress(file_.size - file_.remaining);
  }

  void end_of_file_data() {
    if (!file_.failure) {
      const Status changed = file_.handle->set_mode(file_.mode);
      if (!changed.ok()) file_.failure = file_.path + ": set mode: " + changed.error().message;
    }
    const Status closed = file_.handle->close();
    if (!closed.ok() && !file_.failure) {
      file_.failure = file_.path + ": close: " + closed.error().message;
    }
    file_.handle.reset();
    state_ = State::AwaitDataAck;
  }

  // The remote said whether all of the file's data was good (\0).
  void after_data_ack(bool remote_ok) {
    state_ = State::AwaitRecord;
    if (!remote_ok) {
      discard_partial_file();
      observer_.on_file_finished(false);
      send_ok();  // the remote reported its failure; the run goes on
      return;
    }
    if (!file_.failure && file_.times) {
      const Status timed = files_.set_times(file_.temporary_path, *file_.times);
      if (!timed.ok()) file_.failure = file_.path + ": set times: " + timed.error().message;
    }
    if (!file_.failure) {
      const Status renamed = files_.rename(file_.temporary_path, file_.path);
      if (!renamed.ok()) file_.failure = file_.path + ": " + renamed.error().message;
    }
    if (file_.failure) {
      const std::string failure = *file_.failure;
      discard_partial_file();
      observer_.on_file_finished(false);
      return local_error(failure);
    }
    file_ = IncomingFile{};
    observer_.on_file_finished(true);
    send_ok();
  }

  // Removes the temporary file of a copy that did not complete.
  void discard_partial_file() {
    if (file_.temporary_path.empty()) return;
    file_.handle.reset();
    (void)files_.remove_file(file_.temporary_path);
    file_ = IncomingFile{};
  }

  DownloadRequest request_;
  std::vector<std::string> top_level_patterns_;
  bool any_top_level_name_ = false;
  State state_ = State::AwaitRecord;
  std::vector<Frame> frames_;
  Bytes input_;
  bool seen_record_ = false;
  IncomingFile file_;
};

}  // namespace

std::string quote_for_remote_shell(std::string_view path, bool keep_wildcards) {
  std::string quoted;
  if (path == "~" || path.starts_with("~/")) {
    quoted.push_back('~');
    path.remove_prefix(1);
  }
  bool open = false;
  char previous = 0;
  for (const char c : path) {
    // A bracket's negation stays bare too: quoted, "[!a]" would mean '!' or 'a'.
    const bool negation = (c == '!' || c == '^') && previous == '[';
    previous = c;
    const bool bare = keep_wildcards && (c == '*' || c == '?' || c == '[' || c == ']' || negation);
    if (bare || c == '\'') {
      if (open) quoted.push_back('\'');
      open = false;
      if (bare) {
        quoted.push_back(c);
      } else {
        quoted += "\\'";
      }
      continue;
    }
    if (!open) quoted.push_back('\'');
    open = true;
    quoted.push_back(c);
  }
  if (open) quoted.push_back('\'');
  if (quoted.empty()) quoted = "''";
  return quoted;
}

std::string remote_sink_command(std::string_view remote_target, bool recursive, bool preserve,
                                bool target_should_be_directory) {
  std::string command = "scp -t";
  if (recursive) command += " -r";
  if (preserve) command += " -p";
  if (target_should_be_directory) command += " -d";
  command += " -- ";
  command += quote_for_remote_shell(remote_target.empty() ? "." : remote_target, false);
  return command;
}

std::string remote_source_command(const std::vector<std::string>& remote_paths, bool recursive,
                                  bool preserve) {
  std::string command = "scp -f";
  if (recursive) command += " -r";
  if (preserve) command += " -p";
  command += " --";
  for (const std::string& path : remote_paths) {
    command += ' ';
    command += quote_for_remote_shell(path.empty() ? "." : path, true);
  }
  return command;
}

bool filename_matches(std::string_view pattern, std::string_view name) {
  // Iterative matching with one backtrack point for the last '*'.
  std::size_t p = 0;
  std::size_t n = 0;
  std::optional<std::size_t> star_pattern;
  std::size_t star_name = 0;
  while (n < name.size()) {
    bool advanced = false;
    if (p < pattern.size()) {
      const char c = pattern[p];
      if (c == '*') {
        star_pattern = ++p;
        star_name = n;
        continue;
      }
      if (c == '?') {
        ++p;
        ++n;
        advanced = true;
      } else if (c == '[') {
        std::size_t next = p;
        const std::optional<bool> matched = match_bracket(pattern, p, name[n], next);
        if (matched && *matched) {
          p = next;
          ++n;
          advanced = true;
        } else if (!matched && name[n] == '[') {
          ++p;
          ++n;
          advanced = true;
        }
      } else {
        char literal = c;
        std::size_t width = 1;
        if (c == '\\' && p + 1 < pattern.size()) {
          literal = pattern[p + 1];
          width = 2;
        }
        if (literal == name[n]) {
          p += width;
          ++n;
          advanced = true;
        }
      }
    }
    if (advanced) continue;
    if (!star_pattern) return false;
    p = *star_pattern;
    n = ++star_name;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::unique_ptr<ChannelProtocol> start_upload(UploadRequest request, FileSystem& local,
                                              ClientObserver& observer) {
  return std::make_unique<Upload>(std::move(request), local, observer);
}

std::unique_ptr<ChannelProtocol> start_download(DownloadRequest request, FileSystem& local,
                                                ClientObserver& observer) {
  return std::make_unique<Download>(std::move(request), local, observer);
}

}  // namespace ssh::scp
