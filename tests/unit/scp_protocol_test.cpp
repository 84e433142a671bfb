// The legacy scp protocol (src/ssh/scp/scp_protocol.hpp) against an
// in-memory file system: what the client is told, byte for byte, and what
// ends up in the tree, for uploads (scp -t), downloads (scp -f), and for
// hostile or broken input.
#include "ssh/scp/scp_protocol.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

using namespace std::string_literals;

using ssh::Bytes;
using ssh::ByteView;
using ssh::MutableByteView;
using ssh::Result;
using ssh::Status;
using namespace ssh::scp;

struct Node {
  FileKind kind = FileKind::Regular;
  std::uint32_t mode = 0644;
  std::string content;
  std::int64_t mtime = 1000;
  std::int64_t atime = 1000;
};

// A tree of absolute paths; relative ones are taken relative to "/home/u".
class MemoryFileSystem final : public FileSystem {
 public:
  MemoryFileSystem() {
    nodes["/"] = {FileKind::Directory, 0755, {}};
    nodes["/home"] = {FileKind::Directory, 0755, {}};
    nodes["/home/u"] = {FileKind::Directory, 0755, {}};
  }

  void add_file(const std::string& path, std::string content, std::uint32_t mode = 0644,
                std::int64_t mtime = 1000, std::int64_t atime = 1000) {
    nodes[path] = {FileKind::Regular, mode, std::move(content), mtime, atime};
  }
  void add_directory(const std::string& path, std::uint32_t mode = 0755) {
    nodes[path] = {FileKind::Directory, mode, {}};
  }
  const Node& at(const std::string& path) const {
    const auto found = nodes.find(path);
    if (found == nodes.end()) throw std::runtime_error("no " + path);
    return found->second;
  }
  bool has(const std::string& path) const { return nodes.count(path) != 0; }

  std::string resolve(const std::string& path) const {
    std::string full = path.starts_with("/") ? path : "/home/u/" + path;
    while (full.size() > 1 && full.back() == '/') full.pop_back();
    return full;
  }

  Result<FileInfo> stat(const std::string& path) override {
    const std::string full = resolve(path);
    if (auto problem = parent_problem(full)) return file_error(*problem);
    const auto found = nodes.find(full);
    if (found == nodes.end()) return file_error("No such file or directory");
    const Node& node = found->second;
    return FileInfo{node.kind, node.mode, node.content.size(), node.mtime, node.atime};
  }

  class Reader final : public ReadableFile {
   public:
    Reader(MemoryFileSystem& owner, std::string path) : owner_(owner), path_(std::move(path)) {}
    Result<std::size_t> read(MutableByteView buffer) override {
      owner_.largest_read = std::max(owner_.largest_read, buffer.size());
      const std::string& content = owner_.nodes.at(path_).content;
      if (owner_.read_fails_after && offset_ >= *owner_.read_fails_after) {
        return file_error("Input/output error");
      }
      const std::size_t count = std::min(buffer.size(), content.size() - offset_);
      std::copy_n(content.begin() + static_cast<std::ptrdiff_t>(offset_), count, buffer.begin());
      offset_ += count;
      return count;
    }

   private:
    MemoryFileSystem& owner_;
    std::string path_;
    std::size_t offset_ = 0;
  };

  class Writer final : public WritableFile {
   public:
    Writer(MemoryFileSystem& owner, std::string path) : owner_(owner), path_(std::move(path)) {}
    Status write(ByteView data) override {
      if (owner_.write_fails) return file_error("No space left on device");
      std::string& content = owner_.nodes.at(path_).content;
      const std::size_t end = offset_ + data.size();
      if (content.size() < end) content.resize(end);
      std::copy(data.begin(), data.end(), content.begin() + static_cast<std::ptrdiff_t>(offset_));
      offset_ = end;
      return {};
    }
    Status truncate(std::uint64_t size) override {
      owner_.nodes.at(path_).content.resize(size);
      return {};
    }
    Status set_mode(std::uint32_t mode) override {
      owner_.nodes.at(path_).mode = mode;
      return {};
    }
    Status close() override {
      ++owner_.closed_files;
      return {};
    }

   private:
    MemoryFileSystem& owner_;
    std::string path_;
    std::size_t offset_ = 0;
  };

  Result<std::unique_ptr<ReadableFile>> open_for_reading(const std::string& path) override {
    const std::string full = resolve(path);
    Result<FileInfo> info = stat(full);
    if (!info.ok()) return info.take_error();
    if (unreadable.count(full) != 0) return file_error("Permission denied");
    return std::unique_ptr<ReadableFile>(std::make_unique<Reader>(*this, full));
  }

  Result<std::unique_ptr<WritableFile>> open_for_writing(const std::string& path,
                                                         std::uint32_t create_mode) override {
    const std::string full = resolve(path);
    Result<FileInfo> info = stat(full);
    if (info.ok() && info->kind == FileKind::Directory) return file_error("Is a directory");
    if (!info.ok()) {
      if (auto problem = parent_problem(full)) return file_error(*problem);
      nodes[full] = {FileKind::Regular, create_mode & ~creation_mask(), {}};
      created_modes[full] = create_mode;
    }
    return std::unique_ptr<WritableFile>(std::make_unique<Writer>(*this, full));
  }

  Status make_directory(const std::string& path, std::uint32_t mode) override {
    const std::string full = resolve(path);
    if (has(full)) return file_error("File exists");
    if (auto problem = parent_problem(full)) return file_error(*problem);
    nodes[full] = {FileKind::Directory, mode & ~creation_mask(), {}};
    return {};
  }

  Status set_mode(const std::string& path, std::uint32_t mode) override {
    const std::string full = resolve(path);
    if (!has(full)) return file_error("No such file or directory");
    nodes[full].mode = mode;
    return {};
  }

  Status set_times(const std::string& path, const FileTimes& times) override {
    const std::string full = resolve(path);
    if (!has(full)) return file_error("No such file or directory");
    nodes[full].mtime = times.mtime_seconds;
    nodes[full].atime = times.atime_seconds;
    return {};
  }

  // The server roles never rename or remove; only the client's download does.
  Status rename(const std::string& from, const std::string& to) override {
    const auto found = nodes.find(resolve(from));
    if (found == nodes.end()) return file_error("No such file or directory");
    Node node = found->second;
    nodes.erase(found);
    nodes[resolve(to)] = std::move(node);
    return {};
  }
  Status remove_file(const std::string& path) override {
    if (nodes.erase(resolve(path)) == 0) return file_error("No such file or directory");
    return {};
  }

  Result<std::vector<std::string>> list_directory(const std::string& path) override {
    const std::string full = resolve(path);
    Result<FileInfo> info = stat(full);
    if (!info.ok()) return info.take_error();
    if (info->kind != FileKind::Directory) return file_error("Not a directory");
    std::vector<std::string> names;
    const std::string prefix = full == "/" ? "/" : full + "/";
    // Reverse order, so the protocol's own sorting is what the tests see.
    for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
      const std::string& candidate = it->first;
      if (candidate.size() > prefix.size() && candidate.starts_with(prefix) &&
          candidate.find('/', prefix.size()) == std::string::npos) {
        names.push_back(candidate.substr(prefix.size()));
      }
    }
    return names;
  }

  // Wildcards in the last component only: '*' and '?'.
  std::vector<std::string> expand_wildcards(const std::string& pattern) override {
    patterns_expanded.push_back(pattern);
    const std::size_t slash = pattern.rfind('/');
    const std::string directory = slash == 0 ? "/" : pattern.substr(0, slash);
    const std::string name_pattern = pattern.substr(slash + 1);
    std::vector<std::string> matches;
    Result<std::vector<std::string>> names = list_directory(directory);
    if (!names.ok()) return matches;
    for (const std::string& name : *names) {
      if (matches_pattern(name_pattern, name)) matches.push_back(join(directory, name));
    }
    std::sort(matches.begin(), matches.end());
    return matches;
  }

  std::uint32_t creation_mask() const override { return 022; }

  std::map<std::string, Node> nodes;
  std::set<std::string> unreadable;
  std::optional<std::size_t> read_fails_after;
  bool write_fails = false;
  std::size_t largest_read = 0;
  int closed_files = 0;
  std::map<std::string, std::uint32_t> created_modes;
  std::vector<std::string> patterns_expanded;

 private:
  static std::string join(const std::string& directory, const std::string& name) {
    return directory == "/" ? "/" + name : directory + "/" + name;
  }
  static bool matches_pattern(std::string_view pattern, std::string_view name) {
    if (pattern.empty()) return name.empty();
    if (pattern[0] == '*') {
      for (std::size_t skip = 0; skip <= name.size(); ++skip) {
        if (matches_pattern(pattern.substr(1), name.substr(skip))) return true;
      }
      return false;
    }
    if (pattern[0] == '\\' && pattern.size() > 1)
      pattern.remove_prefix(1);
    else if (pattern[0] == '?' && !name.empty()) {
      return matches_pattern(pattern.substr(1), name.substr(1));
    }
    return !name.empty() && pattern[0] == name[0] &&
           matches_pattern(pattern.substr(1), name.substr(1));
  }
  // "Not a directory" when a parent is a file, "No such ..." when missing.
  std::optional<std::string> parent_problem(const std::string& full) const {
    std::size_t slash = full.find('/', 1);
    while (slash != std::string::npos) {
      const auto parent = nodes.find(full.substr(0, slash));
      if (parent == nodes.end()) return "No such file or directory";
      if (parent->second.kind != FileKind::Directory) return "Not a directory";
      slash = full.find('/', slash + 1);
    }
    return std::nullopt;
  }
};

const std::string kOk(1, '\0');

// One scp run: what the client sends goes in, what it gets comes back.
class ScpRun {
 public:
  ScpRun(MemoryFileSystem& files, std::string_view command_line) {
    std::optional<CommandLine> command = parse_command_line(command_line, "/home/u");
    if (!command) throw std::runtime_error("not scp: " + std::string(command_line));
    session_ = start_session(*command, files);
  }

  // Feeds `input` and returns everything the session has for the client then.
  std::string send(std::string_view input, std::size_t chunk = 1 << 20) {
    for (std::size_t offset = 0; offset < input.size(); offset += chunk) {
      session_->on_input(ssh::as_bytes(input.substr(offset, chunk)));
    }
    return collect();
  }
  std::string send_eof() {
    session_->on_input_eof();
    return collect();
  }
  std::string collect(std::size_t max = 64 * 1024) {
    std::string out;
    while (session_->has_output()) {
      Bytes chunk;
      Bytes err;
      session_->produce(max, chunk, err);
      EXPECT_LE(chunk.size(), max);
      out.append(ssh::as_text(chunk));
      diagnostics.append(ssh::as_text(err));
    }
    return out;
  }
  std::optional<std::uint32_t> exit_status() const { return session_->exit_status(); }
  Session& session() { return *session_; }

  std::string diagnostics;

 private:
  std::unique_ptr<Session> session_;
};

// ---------------------------------------------------------------------------
// Command line.

TEST(ScpCommandLine, SinkWithAllOptions) {
  const std::optional<CommandLine> command =
      parse_command_line("scp -v -r -p -d -q -t -- -dir", "/home/u");
  ASSERT_TRUE(command);
  EXPECT_EQ(command->direction, Direction::Sink);
  EXPECT_TRUE(command->recursive);
  EXPECT_TRUE(command->preserve);
  EXPECT_TRUE(command->target_should_be_directory);
  EXPECT_TRUE(command->verbose);
  ASSERT_EQ(command->paths.size(), 1u);
  EXPECT_EQ(command->paths[0].text, "-dir");
  EXPECT_FALSE(command->paths[0].wildcard_pattern);
}

TEST(ScpCommandLine, SourceWithCombinedFlagsAndSeveralPaths) {
  const std::optional<CommandLine> command = parse_command_line("scp -rpf a b/c", "/home/u");
  ASSERT_TRUE(command);
  EXPECT_EQ(command->direction, Direction::Source);
  EXPECT_TRUE(command->recursive);
  EXPECT_TRUE(command->preserve);
  EXPECT_FALSE(command->target_should_be_directory);
  ASSERT_EQ(command->paths.size(), 2u);
  EXPECT_EQ(command->paths[0].text, "a");
  EXPECT_EQ(command->paths[1].text, "b/c");
}

TEST(ScpCommandLine, ShellQuotingIsUndone) {
  const std::optional<CommandLine> command = parse_command_line(
      R"(scp -f 'a b' "c \"d\" \$x \\ \y" e\ f 'it'\''s' "" x"y"'z')", "/home/u");
  ASSERT_TRUE(command);
  std::vector<std::string> paths;
  for (const PathArgument& path : command->paths) paths.push_back(path.text);
  EXPECT_EQ(paths, (std::vector<std::string>{"a b", R"(c "d" $x \ \y)", "e f", "it's", "", "xyz"}));
}

TEST(ScpCommandLine, TildeExpandsToTheWorkingDirectory) {
  const std::optional<CommandLine> command =
      parse_command_line("scp -f ~ ~/x '~/y' a~ \\~/z", "/home/u");
  ASSERT_TRUE(command);
  std::vector<std::string> paths;
  for (const PathArgument& path : command->paths) paths.push_back(path.text);
  EXPECT_EQ(paths, (std::vector<std::string>{"/home/u", "/home/u/x", "~/y", "a~", "~/z"}));
}

TEST(ScpCommandLine, UnquotedWildcardsBecomePatterns) {
  const std::optional<CommandLine> command =
      parse_command_line("scp -f *.txt 'a*' '[x]'* d?", "/home/u");
  ASSERT_TRUE(command);
  ASSERT_EQ(command->paths.size(), 4u);
  EXPECT_EQ(command->paths[0].wildcard_pattern, "*.txt");
  EXPECT_FALSE(command->paths[1].wildcard_pattern);
  EXPECT_EQ(command->paths[2].text, "[x]*");
  EXPECT_EQ(command->paths[2].wildcard_pattern, "\\[x\\]*");
  EXPECT_EQ(command->paths[3].wildcard_pattern, "d?");
}

TEST(ScpCommandLine, AnythingElseIsNotScp) {
  for (const char* line : {
           "",
           "ls -t x",
           "scpx -t x",
           "/usr/bin/scp -t x",
           "scp x",
           "scp -t -f x",
           "scp -x -t x",
           "scp -T -t x",
           "scp -t $HOME/x",
           "scp -t \"$HOME\"/x",
           "scp -t x; rm -rf /",
           "scp -r -f x\nrm -rf ~",
           "scp -t x | cat",
           "scp -t x && id",
           "scp -t `id`",
           "scp -t $(id)",
           "scp -t x > /tmp/y",
           "scp -t 'unterminated",
           "scp -t \"unterminated",
           "scp -t x\\",
           "scp -f ~root/x",
           "scp -f {a,b}",
           "scp -f # comment",
       }) {
    EXPECT_FALSE(parse_command_line(line, "/home/u")) << line;
  }
}

// ---------------------------------------------------------------------------
// Sink: scp -t (the client uploads).

TEST(ScpSink, FileIntoADirectory) {
  MemoryFileSystem files;
  files.add_directory("/home/u/in");
  ScpRun run(files, "scp -t /home/u/in");
  EXPECT_EQ(run.collect(), kOk);
  EXPECT_EQ(run.send("C0640 5 a.txt\n"), kOk);
  EXPECT_EQ(run.send("hello"), "");
  EXPECT_EQ(run.send(kOk), kOk);
  EXPECT_FALSE(run.exit_status());
  EXPECT_EQ(run.send_eof(), "");
  EXPECT_EQ(run.exit_status(), 0u);
  EXPECT_EQ(files.at("/home/u/in/a.txt").content, "hello");
  EXPECT_EQ(files.at("/home/u/in/a.txt").mode, 0640u);
  EXPECT_EQ(files.closed_files, 1);
}

TEST(ScpSink, FileToANewNameRelativeToTheWorkingDirectory) {
  MemoryFileSystem files;
  ScpRun run(files, "scp -t renamed.txt");
  EXPECT_EQ(run.collect(), kOk);
  EXPECT_EQ(run.send("C0644 3 original.txt\nabc" + kOk), kOk + kOk);
  EXPECT_EQ(run.send_eof(), "");
  EXPECT_EQ(run.exit_status(), 0u);
  EXPECT_EQ(files.at("/home/u/renamed.txt").content, "abc");
  EXPECT_FALSE(files.has("/home/u/original.txt"));
}

TEST(ScpSink, ExistingFileIsOverwrittenAndTruncatedKeepingItsMode) {
  MemoryFileSystem files;
  files.add_file("/home/u/f", "a much longer old content", 0600);
  ScpRun run(files, "scp -t /home/u/f");
  run.collect();
  EXPECT_EQ(run.send("C0755 3 f\nnew" + kOk), kOk + kOk);
  run.send_eof();
  EXPECT_EQ(run.exit_status(), 0u);
  EXPECT_EQ(files.at("/home/u/f").content, "new");
  EXPECT_EQ(files.at("/home/u/f").mode, 0600u);
}

TEST(ScpSink, ModeWithoutPreserveLosesTheCreationMaskAndGetsOwnerWriteOnlyWhileWriting) {
  MemoryFileSystem files;
  ScpRun run(files, "scp -t /home/u");
  run.collect();
  EXPECT_EQ(run.send("C0777 1 open\nx" + kOk), kOk + kOk);
  EXPECT_EQ(run.send("C0444 1 readonly\ny" + kOk), kOk + kOk);
  run.send_eof();
  EXPECT_EQ(run.exit_status(), 0u);
  EXPECT_EQ(files.at("/home/u/open").mode, 0755u);
  EXPECT_EQ(files.created_modes.at("/home/u/readonly"), 0644u);
  EXPECT_EQ(files.at("/home/u/readonly").mode, 0444u);
}

TEST(ScpSink, EmptyFile) {
  MemoryFileSystem files;
  ScpRun run(files, "scp -t /home/u");
  run.collect();
  EXPECT_EQ(run.send("C0644 0 empty\n"), kOk);
  EXPECT_EQ(run.send(kOk), kOk);
  run.send_eof();
  EXPECT_EQ(run.exit_status(), 0u);
  EXPECT_EQ(files.at("/home/u/empty").content, "");
}

TEST(ScpSink, RecursiveTree) {
  MemoryFileSystem files;
  ScpRun run(files, "scp -r -t /home/u");
  run.collect();
  EXPECT_EQ(run.send("D0755 0 tree\n"), kOk);
  EXPECT_EQ(run.send("C0644 3 one\n111" + kOk), kOk + kOk);
  EXPECT_EQ(run.send("D0700 0 sub\n"), kOk);
  EXPECT_EQ(run.send("C0600 2 two\n22" + kOk), kOk + kOk);
  EXPECT_EQ(run.send("E\n"), kOk);
  EXPECT_EQ(run.send("D0555 0 empty\nE\n"), kOk + kOk);
  EXPECT_EQ(run.send("E\n"), kOk);
  run.send_eof();
  EXPECT_EQ(run.exit_status(), 0u);
  EXPECT_EQ(files.at("/home/u/tree").kind, FileKind::Directory);
  EXPECT_EQ(files.at("/home/u/tree/one").content, "111");
  EXPECT_EQ(files.at("/home/u/tree/sub").mode, 0700u);
  EXPECT_EQ(files.at("/home/u/tree/sub/two").content, "22");
  EXPECT_EQ(files.at("/home/u/tree/sub/two").mode, 0600u);
  // Created with owner access so it could be filled, then given its mode.
  EXPECT_EQ(files.at("/home/u/tree/empty").mode, 0555u);
}

TEST(ScpSink, WholeUploadFedOneByteAtATime) {
  MemoryFileSystem files;
  ScpRun run(files, "scp -r -p -t /home/u");
  run.collect();
  const std::string stream =
      "T1600000000 0 1600000001 0\nD0750 0 d\nT1500000000 0 1500000002 0\n"
      "C0640 4 f\nabcd" +
      kOk + "E\n";
  const std::string reply = run.send(stream, 1);
  EXPECT_EQ(reply, std::string(6, '\0'));
  run.send_eof();
  EXPECT_EQ(run.exit_status(), 0u);
  EXPECT_EQ(files.at("/home/u/d/f").content, "abcd");
  EXPECT_EQ(files.at("/home/u/d/f").mtime, 1500000000);
  EXPECT_EQ(files.at("/home/u/d/f").atime, 1500000002);
  EXPECT_EQ(files.at("/home/u/d").mtime, 1600000000);
}

TEST(ScpSink, PreserveSetsExactModesAndTimes) {
  MemoryFileSystem files;
  files.add_directory("/home/u/existing", 0700);
  ScpRun run(files, "scp -r -p -t /home/u");
  run.collect();
  EXPECT_EQ(run.send("T1234567890 0 1234567891 0\n"), kOk);
  EXPECT_EQ(run.send("C0751 2 exe\nhi" + kOk), kOk + kOk);
  EXPECT_EQ(run.send("T1111111111 0 1111111112 0\nD0775 0 existing\nE\n"), kOk + kOk + kOk);
  run.send_eof();
  EXPECT_EQ(run.exit_status(), 0u);
  const Node& exe = files.at("/home/u/exe");
  EXPECT_EQ(exe.mode, 0751u);  // no creation mask with -p
  EXPECT_EQ(exe.mtime, 1234567890);
  EXPECT_EQ(exe.atime, 1234567891);
  EXPECT_EQ(files.at("/home/u/existing").mode, 0775u);
  EXPECT_EQ(files.at("/home/u/existing").mtime, 1111111111);
}

TEST(ScpSink, TimesApplyOnlyToTheNextRecord) {
  MemoryFileSystem files;
  ScpRun run(files, "scp -p -t /home/u");
  run.collect();
  run.send("T1234567890 0 1234567891 0\nC0644 1 a\na" + kOk + "C0644 1 b\nb" + kOk);
  run.send_eof();
  EXPECT_EQ(files.at("/home/u/a").mtime, 1234567890);
  EXPECT_EQ(files.at("/home/u/b").mtime, 1000);  // the in-memory default
}

TEST(ScpSink, MalformedTimesAreFatal) {
  for (const char* record : {"T\n", "T1 0 2\n", "T1 0 2 0 \n", "T1 1000000 2 0\n", "Tx 0 1 0\n",
                             "T1  0 1 0\n", "T1 0 1 -1\n"}) {
    MemoryFileSystem files;
    ScpRun run(files, "scp -p -t /home/u");
    run.collect();
    const std::string reply = run.send(record);
    EXPECT_TRUE(reply.starts_with("\2scp: protocol error: ")) << record << " -> " << reply;
    EXPECT_EQ(run.exit_status(), 1u) << record;
  }
}

TEST(ScpSink, DirectoryWithoutRecursionIsAProtocolError) {
  MemoryFileSystem files;
  ScpRun run(files, "scp -t /home/u");
  run.collect();
  EXPECT_EQ(run.send("D0755 0 d\n"), "\2scp: protocol error: received directory without -r\n");
  EXPECT_EQ(run.exit_status(), 1u);
  EXPECT_FALSE(files.has("/home/u/d"));
}

TEST(ScpSink, TargetMustBeADirectoryWithMinusD) {
  MemoryFileSystem files;
  files.add_file("/home/u/file", "x");
  {
    ScpRun run(files, "scp -d -t /home/u/file");
    EXPECT_EQ(run.collect(), "\2scp: /home/u/file: Not a directory\n");
    EXPECT_EQ(run.exit_status(), 1u);
  }
  {
    ScpRun run(files, "scp -d -t /home/u/missing");
    EXPECT_EQ(run.collect(), "\2scp: /home/u/missing: No such file or directory\n");
    EXPECT_EQ(run.exit_status(), 1u);
  }
}

TEST(ScpSink, MoreThanOneTargetIsAmbiguous) {
  MemoryFileSystem files;
  ScpRun run(files, "scp -t a b");
  EXPECT_EQ(run.collect(), "\2scp: ambiguous target\n");
  EXPECT_EQ(run.exit_status(), 1u);
}

TEST(ScpSink, DirectoryOverAFileIsRefusedAndTheRunGoesOn) {
  MemoryFileSystem files;
  files.add_file("/home/u/d", "x");
  ScpRun run(files, "scp -r -t /home/u");
  run.collect();
  EXPECT_EQ(run.send("D0755 0 d\n"), "\1scp: /home/u/d: Not a directory\n");
  EXPECT_EQ(run.send("C0644 1 f\nf" + kOk), kOk + kOk);
  run.send_eof();
  EXPECT_EQ(run.exit_status(), 1u);
  EXPECT_EQ(files.at("/home/u/f").content, "f");
}

TEST(ScpSink, FileThatCannotBeOpenedIsReportedAndSkipped) {
  MemoryFileSystem files;
  files.add_directory("/home/u/a.txt");
  ScpRun run(files, "scp -t /home/u");
  run.collect();
  EXPECT_EQ(run.send("C0644 5 a.txt\n"), "\1scp: /home/u/a.txt: Is a directory\n");
  // The client sends no data for a refused file; the next one goes through.
  EXPECT_EQ(run.send("C0644 1 b\nb" + kOk), kOk + kOk);
  run.send_eof();
  EXPECT_EQ(run.exit_status(), 1u);
}

TEST(ScpSink, MissingTargetDirectory) {
  MemoryFileSystem files;
  ScpRun run(files, "scp -t /nowhere/x");
  run.collect();
  EXPECT_EQ(run.send("C0644 1 x\n"), "\1scp: /nowhere/x: No such file or directory\n");
  run.send_eof();
  EXPECT_EQ(run.exit_status(), 1u);
}

TEST(ScpSink, WriteFailureIsReportedAfterTheDataInsteadOfTheAck) {
  MemoryFileSystem files;
  files.write_fails = true;
  ScpRun run(files, "scp -t /home/u");
  run.collect();
  EXPECT_EQ(run.send("C0644 4 full\n"), kOk);
  EXPECT_EQ(run.send("data"), "");
  EXPECT_EQ(run.send(kOk), "\1scp: /home/u/full: No space left on device\n");
  // Still in step: the next record is read as a record.
  files.write_fails = false;
  EXPECT_EQ(run.send("C0644 2 ok\nok" + kOk), kOk + kOk);
  run.send_eof();
  EXPECT_EQ(run.exit_status(), 1u);
  EXPECT_EQ(files.at("/home/u/ok").content, "ok");
}

TEST(ScpSink, ClientErrorsCountButAreNotAnswered) {
  MemoryFileSystem files;
  ScpRun run(files, "scp -t /home/u");
  run.collect();
  EXPECT_EQ(run.send("\1scp: local.txt: No such file or directory\n"), "");
  EXPECT_EQ(run.send("C0644 1 b\nb" + kOk), kOk + kOk);
  run.send_eof();
  EXPECT_EQ(run.exit_status(), 1u);
}

TEST(ScpSink, ClientFailureAfterTheDataStillAcknowledges) {
  MemoryFileSystem files;
  ScpRun run(files, "scp -t /home/u");
  run.collect();
  run.send("C0644 3 f\n");
  // The client's file shrank: zeros, then its error in place of the \0.
  EXPECT_EQ(run.send(std::string(3, '\0') + "\1scp: f: Input/output error\n"), kOk);
  run.send_eof();
  EXPECT_EQ(run.exit_status(), 1u);
  EXPECT_EQ(files.at("/home/u/f").content, std::string(3, '\0'));
}

TEST(ScpSink, FatalClientMessageEndsTheRun) {
  MemoryFileSystem files;
  ScpRun run(files, "scp -t /home/u");
  run.collect();
  EXPECT_EQ(run.send("\2scp: giving up\n"), "");
  EXPECT_EQ(run.exit_status(), 1u);
}

TEST(ScpSink, HostileNamesAreRefusedBeforeAnythingIsCreated) {
  for (const std::string& name : {"../x"s, "a/b"s, "/etc/passwd"s, ".."s, "."s, ""s, "a\0b"s}) {
    MemoryFileSystem files;
    const std::size_t nodes_before = files.nodes.size();
    ScpRun run(files, "scp -r -t /home/u");
    run.collect();
    const std::string reply = run.send("C0644 1 " + name + "\n");
    EXPECT_EQ(reply, "\2scp: error: unexpected filename: " + name + "\n") << name;
    EXPECT_EQ(run.exit_status(), 1u) << name;
    MemoryFileSystem directory_files;
    ScpRun directory_run(directory_files, "scp -r -t /home/u");
    directory_run.collect();
    EXPECT_EQ(directory_run.send("D0755 0 " + name + "\n"),
              "\2scp: error: unexpected filename: " + name + "\n")
        << name;
    EXPECT_EQ(files.nodes.size(), nodes_before) << name;
    EXPECT_EQ(directory_files.nodes.size(), nodes_before) << name;
  }
}

TEST(ScpSink, NothingIsReadAfterAFatalError) {
  MemoryFileSystem files;
  ScpRun run(files, "scp -t /home/u");
  run.collect();
  EXPECT_EQ(run.send("C0644 1 ../x\nC0644 1 y\ny" + kOk),
            "\2scp: error: unexpected filename: ../x\n");
  EXPECT_FALSE(files.has("/home/u/y"));
  EXPECT_EQ(run.send_eof(), "");
  EXPECT_EQ(run.exit_status(), 1u);
}

TEST(ScpSink, OverLongLineIsFatalWithoutWaitingForItsEnd) {
  MemoryFileSystem files;
  ScpRun run(files, "scp -t /home/u");
  run.collect();
  const std::string reply = run.send("C0644 1 " + std::string(kMaxLineLength, 'n'));
  EXPECT_EQ(reply, "\2scp: protocol error: line too long\n");
  EXPECT_EQ(run.exit_status(), 1u);
  // A line of exactly the limit, '\n' included, is still read.
  MemoryFileSystem other;
  ScpRun fitting(other, "scp -t /home/u");
  fitting.collect();
  const std::string name(kMaxLineLength - std::string("C0644 1 \n").size(), 'n');
  EXPECT_EQ(fitting.send("C0644 1 " + name + "\n"), kOk);
}

TEST(ScpSink, BadModesAndSizesAreProtocolErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"C0844 1 x", "bad mode"},
      {"C06440 1 x", "mode not delimited"},
      {"C064 1 x", "bad mode"},
      {"C06 1 x", "bad mode"},
      {"Cabcd 1 x", "bad mode"},
      {"C0644 -1 x", "size not present"},
      {"C0644  x", "size not present"},
      {"C0644 12a x", "size not delimited"},
      {"C0644 1", "size not delimited"},
      {"C0644 9223372036854775808 x", "size out of range"},
      {"C0644 99999999999999999999999 x", "size out of range"},
      {"X0644 1 x", "expected control record"},
      {"", "unexpected <newline>"},
      {"Efoo", "bad end-of-directory record"},
  };
  for (const auto& [record, why] : cases) {
    MemoryFileSystem files;
    ScpRun second(files, "scp -r -t /home/u");
    second.collect();
    // Not the first record, so an odd one is not taken for a shell's message.
    EXPECT_EQ(second.send("C0644 0 first\n" + kOk), kOk + kOk);
    EXPECT_EQ(second.send(record + "\n"), "\2scp: protocol error: " + why + "\n") << record;
    EXPECT_EQ(second.exit_status(), 1u) << record;
  }
}

TEST(ScpSink, LargestSizeIsAccepted) {
  MemoryFileSystem files;
  ScpRun run(files, "scp -t /home/u");
  run.collect();
  EXPECT_EQ(run.send("C0644 9223372036854775807 big\n"), kOk);
  EXPECT_EQ(run.send("start"), "");
  EXPECT_EQ(run.send_eof(), "");
  EXPECT_EQ(run.exit_status(), 1u);
}

TEST(ScpSink, FirstLineThatIsNoRecordIsPassedOn) {
  MemoryFileSystem files;
  ScpRun run(files, "scp -t /home/u");
  run.collect();
  EXPECT_EQ(run.send("No match.\n"), "\2scp: No match.\n");
  EXPECT_EQ(run.exit_status(), 1u);
}

TEST(ScpSink, TruncatedStreams) {
  // In the middle of the data.
  {
    MemoryFileSystem files;
    ScpRun run(files, "scp -t /home/u");
    run.collect();
    EXPECT_EQ(run.send("C0644 10 f\nabcd"), kOk);
    EXPECT_FALSE(run.exit_status());
    EXPECT_EQ(run.send_eof(), "");
    EXPECT_EQ(run.exit_status(), 1u);
    EXPECT_EQ(files.at("/home/u/f").content, "abcd");
  }
  // In the middle of a record.
  {
    MemoryFileSystem files;
    ScpRun run(files, "scp -t /home/u");
    run.collect();
    EXPECT_EQ(run.send("C0644 10"), "");
    run.send_eof();
    EXPECT_EQ(run.exit_status(), 1u);
  }
  // Before the final ack of a file.
  {
    MemoryFileSystem files;
    ScpRun run(files, "scp -t /home/u");
    run.collect();
    EXPECT_EQ(run.send("C0644 1 f\nf"), kOk);
    run.send_eof();
    EXPECT_EQ(run.exit_status(), 1u);
  }
  // Inside a directory: the records so far were fine, the end is clean.
  {
    MemoryFileSystem files;
    ScpRun run(files, "scp -r -t /home/u");
    run.collect();
    EXPECT_EQ(run.send("D0755 0 d\n"), kOk);
    run.send_eof();
    EXPECT_EQ(run.exit_status(), 0u);
  }
}

TEST(ScpSink, VerboseEchoesRecordsOnStderr) {
  MemoryFileSystem files;
  ScpRun run(files, "scp -v -t /home/u");
  run.collect();
  run.send("C0644 1 f\nf" + kOk);
  EXPECT_EQ(run.diagnostics, "Sink: C0644 1 f\n");
}

TEST(ScpSink, TopLevelEndOfDirectoryEndsTheRun) {
  MemoryFileSystem files;
  ScpRun run(files, "scp -r -t /home/u");
  run.collect();
  EXPECT_EQ(run.send("E\n"), kOk);
  EXPECT_EQ(run.exit_status(), 0u);
}

// ---------------------------------------------------------------------------
// Source: scp -f (the client downloads).

TEST(ScpSource, SingleFile) {
  MemoryFileSystem files;
  files.add_file("/home/u/a.txt", "hello", 0640);
  ScpRun run(files, "scp -f /home/u/a.txt");
  EXPECT_EQ(run.collect(), "");  // the client speaks first
  EXPECT_EQ(run.send(kOk), "C0640 5 a.txt\n");
  EXPECT_EQ(run.send(kOk), "hello" + kOk);
  EXPECT_FALSE(run.exit_status());
  EXPECT_EQ(run.send(kOk), "");
  EXPECT_EQ(run.exit_status(), 0u);
}

TEST(ScpSource, RelativeTildeAndTrailingSlash) {
  MemoryFileSystem files;
  files.add_file("/home/u/a", "1");
  files.add_directory("/home/u/d");
  ScpRun run(files, "scp -r -f a ~/a d/");
  EXPECT_EQ(run.send(kOk), "C0644 1 a\n");
  EXPECT_EQ(run.send(kOk), "1" + kOk);
  EXPECT_EQ(run.send(kOk), "C0644 1 a\n");
  EXPECT_EQ(run.send(kOk), "1" + kOk);
  EXPECT_EQ(run.send(kOk), "D0755 0 d\n");
  EXPECT_EQ(run.send(kOk), "E\n");
  EXPECT_EQ(run.send(kOk), "");
  EXPECT_EQ(run.exit_status(), 0u);
}

TEST(ScpSource, LargeFileIsReadNoFurtherThanTheOutputAllows) {
  MemoryFileSystem files;
  std::string content(1 << 20, '\0');
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 7 + i / 251);
  files.add_file("/home/u/big", content);
  ScpRun run(files, "scp -f /home/u/big");
  EXPECT_EQ(run.send(kOk), "C0644 1048576 big\n");
  run.session().on_input(ssh::as_bytes(kOk));
  std::string received;
  for (int calls = 0; run.session().has_output(); ++calls) {
    ASSERT_LT(calls, 2000);
    Bytes out;
    Bytes err;
    run.session().produce(1000, out, err);
    ASSERT_LE(out.size(), 1000u);
    received.append(ssh::as_text(out));
  }
  EXPECT_EQ(files.largest_read, 1000u);
  EXPECT_EQ(received, content + kOk);
  run.send(kOk);
  EXPECT_EQ(run.exit_status(), 0u);
}

TEST(ScpSource, MultipleFilesWithAMissingOneInBetween) {
  MemoryFileSystem files;
  files.add_file("/home/u/one", "1");
  files.add_file("/home/u/three", "333");
  ScpRun run(files, "scp -f one missing three");
  EXPECT_EQ(run.send(kOk), "C0644 1 one\n");
  EXPECT_EQ(run.send(kOk), "1" + kOk);
  EXPECT_EQ(run.send(kOk),
            "\1scp: missing: No such file or directory\n"
            "C0644 3 three\n");
  EXPECT_EQ(run.send(kOk), "333" + kOk);
  EXPECT_EQ(run.send(kOk), "");
  EXPECT_EQ(run.exit_status(), 1u);
}

TEST(ScpSource, NothingToSendAtAll) {
  MemoryFileSystem files;
  ScpRun run(files, "scp -f /home/u/missing");
  EXPECT_EQ(run.send(kOk), "\1scp: /home/u/missing: No such file or directory\n");
  EXPECT_EQ(run.exit_status(), 1u);
}

TEST(ScpSource, UnreadableFile) {
  MemoryFileSystem files;
  files.add_file("/home/u/secret", "s", 0);
  files.unreadable.insert("/home/u/secret");
  ScpRun run(files, "scp -f /home/u/secret");
  EXPECT_EQ(run.send(kOk), "\1scp: /home/u/secret: Permission denied\n");
  EXPECT_EQ(run.exit_status(), 1u);
}

TEST(ScpSource, RecursiveTreeInSortedOrder) {
  MemoryFileSystem files;
  files.add_directory("/home/u/t", 0750);
  files.add_file("/home/u/t/b", "bb");
  files.add_file("/home/u/t/a", "a", 0600);
  files.add_directory("/home/u/t/sub");
  files.add_file("/home/u/t/sub/c", "");
  ScpRun run(files, "scp -r -f /home/u/t");
  std::string transcript = run.send(kOk);
  for (int step = 0; step < 20 && !run.exit_status(); ++step) transcript += run.send(kOk);
  EXPECT_EQ(transcript,
            "D0750 0 t\n"
            "C0600 1 a\n"
            "a" +
                kOk +
                "C0644 2 b\n"
                "bb" +
                kOk +
                "D0755 0 sub\n"
                "C0644 0 c\n" +
                kOk +
                "E\n"
                "E\n");
  EXPECT_EQ(run.exit_status(), 0u);
}

TEST(ScpSource, DirectoryWithoutRecursionIsNotARegularFile) {
  MemoryFileSystem files;
  files.add_directory("/home/u/d");
  files.add_file("/home/u/f", "f");
  ScpRun run(files, "scp -f /home/u/d /home/u/f");
  EXPECT_EQ(run.send(kOk), "\1scp: /home/u/d: not a regular file\nC0644 1 f\n");
  run.send(kOk);
  run.send(kOk);
  EXPECT_EQ(run.exit_status(), 1u);
}

TEST(ScpSource, PreserveSendsTimesBeforeEachRecord) {
  MemoryFileSystem files;
  files.add_directory("/home/u/d", 0701);
  files.nodes["/home/u/d"].mtime = 1500000000;
  files.nodes["/home/u/d"].atime = 1500000001;
  files.add_file("/home/u/d/f", "x", 0604, 1234567890, 1234567899);
  ScpRun run(files, "scp -r -p -f /home/u/d");
  EXPECT_EQ(run.send(kOk), "T1500000000 0 1500000001 0\n");
  EXPECT_EQ(run.send(kOk), "D0701 0 d\n");
  EXPECT_EQ(run.send(kOk), "T1234567890 0 1234567899 0\n");
  EXPECT_EQ(run.send(kOk), "C0604 1 f\n");
  EXPECT_EQ(run.send(kOk), "x" + kOk);
  EXPECT_EQ(run.send(kOk), "E\n");
  EXPECT_EQ(run.send(kOk), "");
  EXPECT_EQ(run.exit_status(), 0u);
}

TEST(ScpSource, FileRefusedByTheClientIsSkipped) {
  MemoryFileSystem files;
  files.add_file("/home/u/a", "aaaa");
  files.add_file("/home/u/b", "b");
  ScpRun run(files, "scp -f a b");
  EXPECT_EQ(run.send(kOk), "C0644 4 a\n");
  EXPECT_EQ(run.send("\1scp: a: Permission denied\n"), "C0644 1 b\n");
  EXPECT_EQ(run.send(kOk), "b" + kOk);
  EXPECT_EQ(run.send(kOk), "");
  EXPECT_EQ(run.exit_status(), 1u);
}

TEST(ScpSource, RefusedDirectoryIsNotEntered) {
  MemoryFileSystem files;
  files.add_directory("/home/u/d");
  files.add_file("/home/u/d/f", "f");
  ScpRun run(files, "scp -r -f d");
  EXPECT_EQ(run.send(kOk), "D0755 0 d\n");
  EXPECT_EQ(run.send("\1scp: d: Not a directory\n"), "");
  EXPECT_EQ(run.exit_status(), 1u);
}

TEST(ScpSource, FatalClientMessageEndsTheRun) {
  MemoryFileSystem files;
  files.add_file("/home/u/a", "a");
  files.add_file("/home/u/b", "b");
  ScpRun run(files, "scp -f a b");
  EXPECT_EQ(run.send(kOk), "C0644 1 a\n");
  EXPECT_EQ(run.send("\2scp: protocol error: whatever\n"), "");
  EXPECT_EQ(run.exit_status(), 1u);
}

TEST(ScpSource, ClientGoneWhileWaitingForAnAck) {
  MemoryFileSystem files;
  files.add_file("/home/u/a", "a");
  ScpRun run(files, "scp -f a");
  EXPECT_EQ(run.send(kOk), "C0644 1 a\n");
  EXPECT_EQ(run.send_eof(), "");
  EXPECT_EQ(run.exit_status(), 1u);
}

TEST(ScpSource, OverLongClientMessageIsFatal) {
  MemoryFileSystem files;
  files.add_file("/home/u/a", "a");
  ScpRun run(files, "scp -f a");
  EXPECT_EQ(run.send(kOk), "C0644 1 a\n");
  EXPECT_EQ(run.send("\1" + std::string(kMaxLineLength, 'm')),
            "\2scp: protocol error: line too long\n");
  EXPECT_EQ(run.exit_status(), 1u);
}

TEST(ScpSource, ReadFailureSendsZerosToStayInStepThenTheError) {
  MemoryFileSystem files;
  files.add_file("/home/u/a", "abcdef");
  files.read_fails_after = 0;
  ScpRun run(files, "scp -f a");
  EXPECT_EQ(run.send(kOk), "C0644 6 a\n");
  EXPECT_EQ(run.send(kOk), std::string(6, '\0') + "\1scp: a: Input/output error\n");
  EXPECT_EQ(run.send(kOk), "");
  EXPECT_EQ(run.exit_status(), 1u);
}

TEST(ScpSource, WildcardsExpandLikeAShellWould) {
  MemoryFileSystem files;
  files.add_file("/home/u/x.txt", "x");
  files.add_file("/home/u/y.txt", "y");
  files.add_file("/home/u/z.dat", "z");
  ScpRun run(files, "scp -f /home/u/*.txt '/home/u/*.none' /home/u/*.none");
  EXPECT_EQ(run.send(kOk), "C0644 1 x.txt\n");
  EXPECT_EQ(run.send(kOk), "x" + kOk);
  EXPECT_EQ(run.send(kOk), "C0644 1 y.txt\n");
  EXPECT_EQ(run.send(kOk), "y" + kOk);
  // No match: the word stays as it was, as in sh.
  EXPECT_EQ(run.send(kOk),
            "\1scp: /home/u/*.none: No such file or directory\n"
            "\1scp: /home/u/*.none: No such file or directory\n");
  EXPECT_EQ(run.exit_status(), 1u);
  EXPECT_EQ(files.patterns_expanded, (std::vector<std::string>{"/home/u/*.txt", "/home/u/*.none"}));
}

TEST(ScpSource, VerboseNamesWhatIsSent) {
  MemoryFileSystem files;
  files.add_file("/home/u/a", "a");
  ScpRun run(files, "scp -v -f a");
  run.send(kOk);
  EXPECT_EQ(run.diagnostics, "Sending file modes: C0644 1 a\n");
}

}  // namespace
