#include "ssh/scp/scp_protocol.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "ssh/log.hpp"
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

// ---------------------------------------------------------------------------
// Command line.

// An unquoted newline separates commands, so it is no blank here.
bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

bool is_wildcard(char c) {
  return c == '*' || c == '?' || c == '[';
}

// A word as a POSIX shell splits it, remembering which characters were
// quoted (so only unquoted wildcards and a leading unquoted '~' count).
struct ShellWord {
  std::string text;
  std::vector<bool> quoted;  // one per character of text
  void add(char c, bool was_quoted) {
    text.push_back(c);
    quoted.push_back(was_quoted);
  }
};

std::optional<std::vector<ShellWord>> split_shell_words(std::string_view line) {
  std::vector<ShellWord> words;
  std::optional<ShellWord> word;
  std::size_t i = 0;
  auto current = [&]() -> ShellWord& {
    if (!word) word.emplace();
    return *word;
  };
  while (i < line.size()) {
    const char c = line[i];
    if (is_blank(c)) {
      if (word) words.push_back(std::move(*word));
      word.reset();
      ++i;
      continue;
    }
    switch (c) {
      case '\'': {
        const std::size_t close = line.find('\'', i + 1);
        if (close == std::string_view::npos) return std::nullopt;
        ShellWord& target = current();
        for (std::size_t k = i + 1; k < close; ++k) target.add(line[k], true);
        i = close + 1;
        continue;
      }
      case '"': {
        ShellWord& target = current();
        ++i;
        for (;;) {
          if (i >= line.size()) return std::nullopt;
          const char inner = line[i];
          if (inner == '"') break;
          // Expansions inside double quotes are the shell's business.
          if (inner == '$' || inner == '`') return std::nullopt;
          if (inner == '\\' && i + 1 < line.size()) {
            const char next = line[i + 1];
            if (next == '\n') {
              i += 2;
              continue;
            }
            if (next == '$' || next == '`' || next == '"' || next == '\\') {
              target.add(next, true);
              i += 2;
              continue;
            }
          }
          target.add(inner, true);
          ++i;
        }
        ++i;
        continue;
      }
      case '\\': {
        if (i + 1 >= line.size()) return std::nullopt;
        if (line[i + 1] != '\n') current().add(line[i + 1], true);
        i += 2;
        continue;
      }
      // Variables, substitutions, redirections, pipes, lists, subshells,
      // brace expansion, comments, history: not a plain scp invocation.
      case '$':
      case '`':
      case '|':
      case '&':
      case ';':
      case '<':
      case '>':
      case '(':
      case ')':
      case '{':
      case '}':
      case '!':
      case '\n':
        return std::nullopt;
      case '#':
        if (!word) return std::nullopt;
        break;
      default:
        break;
    }
    current().add(c, false);
    ++i;
  }
  if (word) words.push_back(std::move(*word));
  return words;
}

bool has_unquoted_wildcard(const ShellWord& word) {
  for (std::size_t k = 0; k < word.text.size(); ++k) {
    if (!word.quoted[k] && is_wildcard(word.text[k])) return true;
  }
  return false;
}

// Tilde expansion of a leading unquoted "~" or "~/". False for "~user".
bool expand_tilde(ShellWord& word, std::string_view home) {
  if (word.text.empty() || word.text[0] != '~' || word.quoted[0]) return true;
  if (word.text.size() > 1 && word.text[1] != '/') return false;
  ShellWord expanded;
  for (const char c : home) expanded.add(c, true);
  for (std::size_t k = 1; k < word.text.size(); ++k) expanded.add(word.text[k], word.quoted[k]);
  word = std::move(expanded);
  return true;
}

PathArgument to_path_argument(const ShellWord& word) {
  PathArgument path{word.text, std::nullopt};
  if (has_unquoted_wildcard(word)) {
    std::string pattern;
    for (std::size_t k = 0; k < word.text.size(); ++k) {
      const char c = word.text[k];
      if (word.quoted[k] && (is_wildcard(c) || c == '\\' || c == ']')) pattern.push_back('\\');
      pattern.push_back(c);
    }
    path.wildcard_pattern = std::move(pattern);
  }
  return path;
}

// ---------------------------------------------------------------------------
// Protocol.

std::string join_path(const std::string& directory, const std::string& name) {
  if (directory == "/") return "/" + name;
  return directory + "/" + name;
}

enum class ResponseKind { Ok, Error, Fatal };

// What both directions share: the output queue, the error count and the
// end of the run.
class Protocol : public Session {
 public:
  Protocol(const CommandLine& command, FileSystem& files)
      : command_(command), files_(files), log_(log::get("scp")) {}

  void produce(std::size_t max, Bytes& out, Bytes& err) override {
    drain_outbox(max, out);
    produce_file_data(max, out);
    drain_outbox(max, out);
    err.insert(err.end(), diagnostics_.begin(), diagnostics_.end());
    diagnostics_.clear();
  }

  bool has_output() const override {
    return outbox_.size() > outbox_sent_ || !diagnostics_.empty() || file_data_pending();
  }

  std::optional<std::uint32_t> exit_status() const override {
    if (!finished_ || has_output()) return std::nullopt;
    return errors_ == 0 ? 0u : 1u;
  }

 protected:
  virtual void produce_file_data(std::size_t& max, Bytes& out) = 0;
  virtual bool file_data_pending() const = 0;

  void send(std::string_view text) {
    if (finished_) return;
    outbox_.insert(outbox_.end(), text.begin(), text.end());
  }
  void send_ok() { send(std::string_view("\0", 1)); }
  // A failure that ends this file or directory, not the run (scp's run_err).
  void send_error(const std::string& message) {
    ++errors_;
    log_->debug("scp: {}", message);
    send("\1scp: " + message + "\n");
  }
  // A failure that ends the run.
  void fail(const std::string& message) {
    ++errors_;
    log_->info("scp: {}", message);
    send("\2scp: " + message + "\n");
    finish();
  }
  void protocol_failure(const std::string& why) { fail("protocol error: " + why); }
  // The client went away or gave up: nobody is left to tell.
  void lost_connection() {
    ++errors_;
    log_->debug("scp: lost connection");
    finish();
  }
  void finish() {
    if (finished_) return;
    finished_ = true;
    log_->debug("scp {} finished with {} error(s)",
                command_.direction == Direction::Sink ? "-t" : "-f", errors_);
  }
  void note_verbose(std::string_view prefix, std::string_view line) {
    if (!command_.verbose) return;
    diagnostics_.append(prefix);
    diagnostics_.append(line);
    diagnostics_.push_back('\n');
  }
  // The paths the command names, as a shell would have expanded them.
  std::vector<std::string> expanded_paths() {
    std::vector<std::string> paths;
    for (const PathArgument& path : command_.paths) {
      if (path.wildcard_pattern) {
        std::vector<std::string> matches = files_.expand_wildcards(*path.wildcard_pattern);
        if (!matches.empty()) {
          paths.insert(paths.end(), matches.begin(), matches.end());
          continue;
        }
      }
      paths.push_back(path.text);
    }
    return paths;
  }

  const CommandLine command_;
  FileSystem& files_;
  std::shared_ptr<spdlog::logger> log_;
  bool finished_ = false;
  unsigned errors_ = 0;

 private:
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

  Bytes outbox_;
  std::size_t outbox_sent_ = 0;
  std::string diagnostics_;
};

// ---------------------------------------------------------------------------
// Sink (scp -t): the client sends.

struct FileRecord {
  char type = 'C';  // 'C' or 'D'
  std::uint32_t mode = 0;
  std::uint64_t size = 0;
  std::string name;
};

class Sink final : public Protocol {
 public:
  Sink(const CommandLine& command, FileSystem& files) : Protocol(command, files) { start(); }

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
      if (state_ == State::AwaitDataAck && line_.empty() && data[0] == 0) {
        data = data.subspan(1);
        after_data_ack();
        continue;
      }
      const auto newline = std::find(data.begin(), data.end(), std::uint8_t{'\n'});
      const std::size_t count = newline == data.end()
                                    ? data.size()
                                    : static_cast<std::size_t>(newline - data.begin()) + 1;
      if (line_.size() + count > kMaxLineLength) {
        protocol_failure("line too long");
        return;
      }
      line_.append(as_text(data.first(count)));
      data = data.subspan(count);
      if (line_.back() == '\n') {
        std::string line = std::move(line_);
        line_.clear();
        line.pop_back();
        handle_line(line);
      }
    }
  }

  void on_input_eof() override {
    if (finished_) return;
    if (state_ == State::AwaitRecord && line_.empty()) {
      finish();
      return;
    }
    lost_connection();
  }

 private:
  enum class State { AwaitRecord, ReceivingData, AwaitDataAck };

  // A directory (or the target) records are received into.
  struct Frame {
    std::string target;
    bool target_is_directory = false;
    // From a T record, for the next C or D.
    std::optional<FileTimes> pending_times;
    // For a directory entered by a D record: applied when its E arrives.
    std::optional<FileTimes> times_on_exit;
    std::optional<std::uint32_t> mode_on_exit;
  };

  struct IncomingFile {
    std::unique_ptr<WritableFile> handle;
    std::string path;
    std::uint64_t size = 0;
    std::uint64_t remaining = 0;
    bool existed = false;
    bool existed_as_regular_file = false;
    std::uint32_t mode = 0;         // what it should end up with
    std::uint32_t create_mode = 0;  // what it was opened with
    std::optional<FileTimes> times;
    bool write_failed = false;
    // The first failure after the file was accepted, reported in place of
    // its final ack (scp's note_err).
    std::optional<std::string> noted_error;
  };

  void start() {
    if (command_.paths.size() != 1) {
      fail("ambiguous target");
      return;
    }
    std::string target = command_.paths.front().text;
    if (command_.paths.front().wildcard_pattern) {
      const std::vector<std::string> matches = expanded_paths();
      if (matches.size() != 1) {
        fail("ambiguous target");
        return;
      }
      target = matches.front();
    }
    const Result<FileInfo> info = files_.stat(target);
    const bool is_directory = info.ok() && info->kind == FileKind::Directory;
    if (command_.target_should_be_directory && !is_directory) {
      fail(target + ": " + (info.ok() ? std::string("Not a directory") : info.error().message));
      return;
    }
    log_->debug("scp -t {} ({})", target, is_directory ? "directory" : "file");
    frames_.push_back({target, is_directory, std::nullopt, std::nullopt, std::nullopt});
    send_ok();
  }

  void handle_line(const std::string& line) {
    if (state_ == State::AwaitDataAck) {
      // The client could not read all of the file it sent: \1 or \2 message.
      ++errors_;
      if (!line.empty() && line[0] == '\2') {
        finish();
        return;
      }
      after_data_ack();
      return;
    }
    note_verbose("Sink: ", line);
    const bool first = first_record_;
    first_record_ = false;
    if (line.empty()) return protocol_failure("unexpected <newline>");
    switch (line[0]) {
      case '\1':  // the client failed on a file of its own
        ++errors_;
        return;
      case '\2':
        ++errors_;
        finish();
        return;
      case 'E':
        if (line != "E") return protocol_failure("bad end-of-directory record");
        return leave_directory();
      case 'T':
        return handle_times(line);
      case 'C':
      case 'D':
        return handle_file_record(line);
      default:
        // What a shell said instead of running scp ("No match.").
        if (first) return fail(line);
        return protocol_failure("expected control record");
    }
  }

  void handle_times(std::string_view line) {
    // T<mtime> <usec> <atime> <usec>
    std::size_t pos = 1;
    std::uint64_t mtime = 0;
    std::uint64_t mtime_usec = 0;
    std::uint64_t atime = 0;
    std::uint64_t atime_usec = 0;
    bool in_range = true;
    NumberStatus status = parse_decimal(line, pos, kMaxSize, mtime);
    if (status == NumberStatus::Missing) return protocol_failure("mtime.sec not present");
    in_range = in_range && status == NumberStatus::Ok;
    if (pos >= line.size() || line[pos++] != ' ')
      return protocol_failure("mtime.sec not delimited");
    if (parse_decimal(line, pos, 999999, mtime_usec) != NumberStatus::Ok || pos >= line.size() ||
        line[pos++] != ' ') {
      return protocol_failure("mtime.usec not delimited");
    }
    status = parse_decimal(line, pos, kMaxSize, atime);
    if (status == NumberStatus::Missing) return protocol_failure("atime.sec not present");
    in_range = in_range && status == NumberStatus::Ok;
    if (pos >= line.size() || line[pos++] != ' ')
      return protocol_failure("atime.sec not delimited");
    if (parse_decimal(line, pos, 999999, atime_usec) != NumberStatus::Ok || pos != line.size()) {
      return protocol_failure("atime.usec not delimited");
    }
    // Times past int64 are ignored, as scp does with times past time_t.
    frames_.back().pending_times.reset();
    if (in_range) {
      frames_.back().pending_times =
          FileTimes{static_cast<std::int64_t>(mtime), static_cast<std::uint32_t>(mtime_usec),
                    static_cast<std::int64_t>(atime), static_cast<std::uint32_t>(atime_usec)};
    }
    send_ok();
  }

  std::optional<FileRecord> parse_file_record(std::string_view line) {
    FileRecord record;
    record.type = line[0];
    if (line.size() < 6) {
      protocol_failure("bad mode");
      return std::nullopt;
    }
    for (std::size_t pos = 1; pos < 5; ++pos) {
      if (line[pos] < '0' || line[pos] > '7') {
        protocol_failure("bad mode");
        return std::nullopt;
      }
      record.mode = (record.mode << 3) | static_cast<std::uint32_t>(line[pos] - '0');
    }
    if (line[5] != ' ') {
      protocol_failure("mode not delimited");
      return std::nullopt;
    }
    std::size_t pos = 6;
    switch (parse_decimal(line, pos, kMaxSize, record.size)) {
      case NumberStatus::Missing:
        protocol_failure("size not present");
        return std::nullopt;
      case NumberStatus::TooBig:
        protocol_failure("size out of range");
        return std::nullopt;
      case NumberStatus::Ok:
        break;
    }
    if (pos >= line.size() || line[pos] != ' ') {
      protocol_failure("size not delimited");
      return std::nullopt;
    }
    record.name = std::string(line.substr(pos + 1));
    if (!acceptable_name(record.name)) {
      fail("error: unexpected filename: " + record.name);
      return std::nullopt;
    }
    return record;
  }

  // One component inside the target directory, nothing that leaves it.
  bool acceptable_name(std::string_view name) const {
    if (name.empty() || name == "." || name == "..") return false;
    if (name.find('/') != std::string_view::npos) return false;
    if (name.find('\0') != std::string_view::npos) return false;
    if (files_.backslash_separates() && name.find_first_of("\\:") != std::string_view::npos) {
      return false;
    }
    return true;
  }

  void handle_file_record(std::string_view line) {
    std::optional<FileRecord> record = parse_file_record(line);
    if (!record) return;
    if (record->type == 'D' && !command_.recursive) {
      return protocol_failure("received directory without -r");
    }
    Frame& frame = frames_.back();
    const std::optional<FileTimes> times = std::exchange(frame.pending_times, std::nullopt);
    const std::string path =
        frame.target_is_directory ? join_path(frame.target, record->name) : frame.target;
    std::uint32_t mode = record->mode & kModeMask;
    if (!command_.preserve) mode &= ~files_.creation_mask();
    const Result<FileInfo> existing = files_.stat(path);
    if (record->type == 'D') return enter_directory(path, mode, times, existing);
    receive_file(path, mode, record->size, times, existing);
  }

  void enter_directory(const std::string& path, std::uint32_t mode,
                       const std::optional<FileTimes>& times, const Result<FileInfo>& existing) {
    bool set_mode_on_exit = command_.preserve;
    if (existing.ok()) {
      if (existing->kind != FileKind::Directory) return send_error(path + ": Not a directory");
      if (command_.preserve) (void)files_.set_mode(path, mode);
    } else {
      // Owner access while filling it, even when copying a read-only one.
      set_mode_on_exit = true;
      const Status made = files_.make_directory(path, mode | kOwnerAll);
      if (!made.ok()) return send_error(path + ": " + made.error().message);
    }
    frames_.push_back({path, true, std::nullopt, times,
                       set_mode_on_exit ? std::optional<std::uint32_t>(mode) : std::nullopt});
    send_ok();
  }

  void leave_directory() {
    send_ok();
    const Frame frame = std::move(frames_.back());
    frames_.pop_back();
    if (frames_.empty()) return finish();
    if (frame.times_on_exit) (void)files_.set_times(frame.target, *frame.times_on_exit);
    if (frame.mode_on_exit) (void)files_.set_mode(frame.target, *frame.mode_on_exit);
  }

  void receive_file(const std::string& path, std::uint32_t mode, std::uint64_t size,
                    const std::optional<FileTimes>& times, const Result<FileInfo>& existing) {
    const std::uint32_t create_mode = mode | kOwnerWrite;
    Result<std::unique_ptr<WritableFile>> opened = files_.open_for_writing(path, create_mode);
    if (!opened.ok()) return send_error(path + ": " + opened.error().message);
    file_ = IncomingFile{};
    file_.handle = std::move(opened.value());
    file_.path = path;
    file_.size = size;
    file_.remaining = size;
    file_.existed = existing.ok();
    file_.existed_as_regular_file = existing.ok() && existing->kind == FileKind::Regular;
    file_.mode = mode;
    file_.create_mode = create_mode;
    file_.times = times;
    state_ = State::ReceivingData;
    send_ok();
    if (size == 0) end_of_file_data();
  }

  void note_error(std::string message) {
    ++errors_;
    if (!file_.noted_error) file_.noted_error = std::move(message);
  }

  void write_data(ByteView data) {
    file_.remaining -= data.size();
    if (file_.write_failed) return;  // keep reading to stay in step with the client
    const Status written = file_.handle->write(data);
    if (!written.ok()) {
      note_error(file_.path + ": " + written.error().message);
      file_.write_failed = true;
    }
  }

  void end_of_file_data() {
    if (!file_.write_failed && (!file_.existed || file_.existed_as_regular_file)) {
      const Status truncated = file_.handle->truncate(file_.size);
      if (!truncated.ok()) note_error(file_.path + ": truncate: " + truncated.error().message);
    }
    // With -p the mode is the client's exactly (the creation mask took bits
    // off a new file); without, a new file loses the owner-write bit it was
    // opened with if its mode lacks it.
    std::optional<std::uint32_t> final_mode;
    if (command_.preserve) {
      final_mode = file_.mode;
    } else if (!file_.existed && file_.mode != file_.create_mode) {
      final_mode = file_.mode & ~files_.creation_mask();
    }
    if (final_mode) {
      const Status changed = file_.handle->set_mode(*final_mode);
      if (!changed.ok()) note_error(file_.path + ": set mode: " + changed.error().message);
    }
    const Status closed = file_.handle->close();
    if (!closed.ok()) note_error(file_.path + ": close: " + closed.error().message);
    file_.handle.reset();
    state_ = State::AwaitDataAck;
  }

  void after_data_ack() {
    if (file_.times && !file_.write_failed) {
      const Status timed = files_.set_times(file_.path, *file_.times);
      if (!timed.ok()) note_error(file_.path + ": set times: " + timed.error().message);
    }
    if (file_.noted_error) {
      send("\1scp: " + *file_.noted_error + "\n");
    } else {
      send_ok();
    }
    file_ = IncomingFile{};
    state_ = State::AwaitRecord;
  }

  void produce_file_data(std::size_t& /*max*/, Bytes& /*out*/) override {}
  bool file_data_pending() const override { return false; }

  State state_ = State::AwaitRecord;
  std::vector<Frame> frames_;
  std::string line_;
  bool first_record_ = true;
  IncomingFile file_;
};

// ---------------------------------------------------------------------------
// Source (scp -f): we send.

class Source final : public Protocol {
 public:
  Source(const CommandLine& command, FileSystem& files) : Protocol(command, files) {
    // The client speaks first: one \0 once it is ready.
    frames_.push_back({std::string(), false, expanded_paths(), 0});
    awaiting_ = After::Start;
  }

  void on_input(ByteView data) override {
    if (finished_) return;
    input_.insert(input_.end(), data.begin(), data.end());
    pump();
  }

  void on_input_eof() override {
    input_ended_ = true;
    pump();
  }

 private:
  // What to do once the client acknowledged what we sent last.
  enum class After {
    Nothing,  // not waiting
    Start,
    FileTimes,
    FileHeader,
    FileData,
    DirectoryTimes,
    DirectoryHeader,
    DirectoryEnd,
  };

  // A list of paths being sent: the command's, or a directory's entries.
  struct Frame {
    std::string directory;  // empty for the command's paths
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

  std::optional<ResponseKind> take_response() {
    if (input_.empty()) return std::nullopt;
    if (input_[0] == 0) {
      input_.erase(input_.begin());
      return ResponseKind::Ok;
    }
    const auto newline = std::find(input_.begin(), input_.end(), std::uint8_t{'\n'});
    if (newline == input_.end()) return std::nullopt;
    const ResponseKind kind = input_[0] == 2 ? ResponseKind::Fatal : ResponseKind::Error;
    input_.erase(input_.begin(), newline + 1);
    return kind;
  }

  void pump() {
    while (!finished_ && awaiting_ != After::Nothing) {
      const std::optional<ResponseKind> response = take_response();
      if (!response) {
        if (input_.size() >= kMaxLineLength) return protocol_failure("line too long");
        if (input_ended_) lost_connection();
        return;
      }
      if (*response == ResponseKind::Fatal) {
        ++errors_;
        return finish();
      }
      if (*response == ResponseKind::Error) ++errors_;
      const After after = std::exchange(awaiting_, After::Nothing);
      on_response(after, *response == ResponseKind::Ok);
      advance();
    }
    if (!finished_ && input_.size() >= kMaxLineLength) protocol_failure("line too long");
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
        if (file_.remaining == 0) end_of_file_data();
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
      case After::FileData:
      case After::DirectoryEnd:
        return;
    }
  }

  // Starts on the next path when nothing is in flight.
  void advance() {
    while (!finished_ && awaiting_ == After::Nothing && !file_.sending) {
      if (frames_.empty()) return finish();
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
      const std::string& entry = frame.entries[frame.next++];
      start_path(frame.is_directory ? join_path(frame.directory, entry) : entry);
    }
  }

  std::string base_name(const std::string& path) const {
    const std::size_t slash =
        files_.backslash_separates() ? path.find_last_of("/\\") : path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
  }

  void start_path(std::string path) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    const Result<FileInfo> info = files_.stat(path);
    if (!info.ok()) return send_error(path + ": " + info.error().message);
    const std::string name = base_name(path);
    if (name.find('\n') != std::string::npos) {
      return send_error(path + ": file name contains a newline");
    }
    switch (info->kind) {
      case FileKind::Regular:
        return start_file(path, name, *info);
      case FileKind::Directory:
        if (command_.recursive) return start_directory(path, name, *info);
        break;
      case FileKind::Other:
        break;
    }
    send_error(path + ": not a regular file");
  }

  void send_times(const FileInfo& info) {
    const std::string record = "T" + std::to_string(std::max<std::int64_t>(info.mtime, 0)) + " 0 " +
                               std::to_string(std::max<std::int64_t>(info.atime, 0)) + " 0\n";
    note_verbose("Sending file timestamps: ",
                 std::string_view(record).substr(0, record.size() - 1));
    send(record);
  }

  void start_file(const std::string& path, const std::string& name, const FileInfo& info) {
    Result<std::unique_ptr<ReadableFile>> opened = files_.open_for_reading(path);
    if (!opened.ok()) return send_error(path + ": " + opened.error().message);
    file_ = OutgoingFile{};
    file_.handle = std::move(opened.value());
    file_.path = path;
    file_.name = name;
    file_.info = info;
    if (command_.preserve) {
      send_times(info);
      return await(After::FileTimes);
    }
    send_file_header();
  }

  void send_file_header() {
    const std::string record = "C" + octal_mode(file_.info.mode & kModeMask) + " " +
                               std::to_string(file_.info.size) + " " + file_.name + "\n";
    note_verbose("Sending file modes: ", std::string_view(record).substr(0, record.size() - 1));
    send(record);
    await(After::FileHeader);
  }

  void drop_file() { file_ = OutgoingFile{}; }

  void start_directory(const std::string& path, const std::string& name, const FileInfo& info) {
    Result<std::vector<std::string>> entries = files_.list_directory(path);
    if (!entries.ok()) return send_error(path + ": " + entries.error().message);
    directory_ = PendingDirectory{path, name, info, std::move(entries.value())};
    std::sort(directory_.entries.begin(), directory_.entries.end());
    if (command_.preserve) {
      send_times(info);
      return await(After::DirectoryTimes);
    }
    send_directory_header();
  }

  void send_directory_header() {
    const std::string record =
        "D" + octal_mode(directory_.info.mode & kModeMask) + " 0 " + directory_.name + "\n";
    note_verbose("Entering directory: ", std::string_view(record).substr(0, record.size() - 1));
    send(record);
    await(After::DirectoryHeader);
  }

  bool file_data_pending() const override { return file_.sending && !finished_; }

  void produce_file_data(std::size_t& max, Bytes& out) override {
    if (!file_data_pending()) return;
    while (max > 0 && file_.remaining > 0) {
      const std::size_t count =
          static_cast<std::size_t>(std::min<std::uint64_t>(max, file_.remaining));
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
      // After a read failure the rest is zeros, to stay in step with the client.
      const std::size_t produced = file_.read_error ? count : filled;
      std::fill(out.begin() + static_cast<std::ptrdiff_t>(start + filled), out.end(), 0);
      out.resize(start + produced);
      file_.remaining -= produced;
      max -= produced;
    }
    if (file_.remaining == 0) {
      end_of_file_data();
      pump();  // the client's ack may be here already
    }
  }

  void end_of_file_data() {
    const std::optional<std::string> read_error = file_.read_error;
    const std::string path = file_.path;
    file_ = OutgoingFile{};
    if (read_error) {
      send_error(path + ": " + *read_error);
    } else {
      send_ok();
    }
    await(After::FileData);
  }

  std::vector<Frame> frames_;
  After awaiting_ = After::Nothing;
  OutgoingFile file_;
  PendingDirectory directory_;
  Bytes input_;
  bool input_ended_ = false;
};

}  // namespace

std::optional<CommandLine> parse_command_line(std::string_view command_line,
                                              std::string_view home_directory) {
  std::optional<std::vector<ShellWord>> words = split_shell_words(command_line);
  if (!words || words->empty() || words->front().text != "scp") return std::nullopt;
  CommandLine command;
  bool sink = false;
  bool source = false;
  std::size_t index = 1;
  for (; index < words->size(); ++index) {
    const std::string& word = (*words)[index].text;
    if (word == "--") {
      ++index;
      break;
    }
    if (word.size() < 2 || word[0] != '-') break;
    for (std::size_t k = 1; k < word.size(); ++k) {
      switch (word[k]) {
        case 't':
          sink = true;
          break;
        case 'f':
          source = true;
          break;
        case 'r':
          command.recursive = true;
          break;
        case 'p':
          command.preserve = true;
          break;
        case 'd':
          command.target_should_be_directory = true;
          break;
        case 'v':
          command.verbose = true;
          break;
        case 'q':
          break;
        default:
          return std::nullopt;
      }
    }
  }
  if (sink == source) return std::nullopt;
  command.direction = sink ? Direction::Sink : Direction::Source;
  for (; index < words->size(); ++index) {
    ShellWord& word = (*words)[index];
    if (!expand_tilde(word, home_directory)) return std::nullopt;
    command.paths.push_back(to_path_argument(word));
  }
  return command;
}

std::unique_ptr<Session> start_session(const CommandLine& command, FileSystem& files) {
  if (command.direction == Direction::Sink) return std::make_unique<Sink>(command, files);
  return std::make_unique<Source>(command, files);
}

}  // namespace ssh::scp
