// The legacy scp client roles (src/ssh/scp/scp_client.hpp) against OUR
// server roles (src/ssh/scp/scp_protocol.hpp), both on the real disk in
// temporary directories, bytes shuttled by a loop in small pieces: files,
// -r trees, -p modes and times, errors from either side; and the download
// role against a hostile fake source that sends names and sizes it must
// not accept.
#include "ssh/scp/scp_client.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "platform/scp_local_files.hpp"
#include "ssh/scp/scp_protocol.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;
using ssh::Bytes;
using testing_support::read_file;
using testing_support::TempDir;
using testing_support::write_file;

class RecordingObserver : public ssh::scp::ClientObserver {
 public:
  void on_error(std::string_view message) override { errors.emplace_back(message); }
  void on_file_started(std::string_view name, std::uint64_t size) override {
    started.emplace_back(name);
    sizes.push_back(size);
  }
  void on_file_progress(std::uint64_t done) override { last_progress = done; }
  void on_file_finished(bool ok) override { finished.push_back(ok); }

  std::vector<std::string> errors;
  std::vector<std::string> started;
  std::vector<std::uint64_t> sizes;
  std::vector<bool> finished;
  std::uint64_t last_progress = 0;
};

struct Ending {
  std::optional<ssh::Status> client_outcome;
  std::optional<std::uint32_t> server_exit;
  std::string server_stderr;
};

// Moves bytes between the two ends, `piece` bytes at a time, EOF in both
// directions as a channel would carry it, until neither moves.
Ending shuttle(ssh::ChannelProtocol& client, ssh::scp::Session& server, std::size_t piece) {
  Ending ending;
  bool client_eof_sent = false;
  bool server_eof_sent = false;
  for (int round = 0; round < 10'000'000; ++round) {
    bool moved = false;
    Bytes to_server;
    client.produce(piece, to_server);
    EXPECT_LE(to_server.size(), piece);
    if (!to_server.empty()) {
      server.on_input(to_server);
      moved = true;
    }
    if (!client_eof_sent && client.output_finished() && !client.has_output()) {
      client_eof_sent = true;
      server.on_input_eof();
      moved = true;
    }
    Bytes to_client;
    Bytes diagnostics;
    server.produce(piece, to_client, diagnostics);
    ending.server_stderr.append(ssh::as_text(diagnostics));
    if (!to_client.empty()) {
      client.on_input(to_client);
      moved = true;
    }
    if (!server_eof_sent && server.exit_status()) {
      server_eof_sent = true;
      client.on_input_eof();
      moved = true;
    }
    if (!moved) break;
  }
  ending.client_outcome = client.outcome();
  ending.server_exit = server.exit_status();
  return ending;
}

class ScpClientTest : public ::testing::Test {
 protected:
  ScpClientTest()
      : local_root_(dirs_.path() / "local"),
        remote_root_(dirs_.path() / "remote"),
        local_files_(platform::make_local_scp_file_system("")),
        remote_files_(platform::make_local_scp_file_system(remote_root_.string())) {
    fs::create_directories(local_root_);
    fs::create_directories(remote_root_);
  }

  std::string local(const std::string& name) const { return (local_root_ / name).string(); }
  fs::path remote(const std::string& name) const { return remote_root_ / name; }

  Ending upload(ssh::scp::UploadRequest request, const std::string& remote_target,
                bool target_should_be_directory, std::size_t piece = 1000) {
    const std::string command = ssh::scp::remote_sink_command(
        remote_target, request.recursive, request.preserve, target_should_be_directory);
    const auto parsed = ssh::scp::parse_command_line(command, remote_root_.string());
    EXPECT_TRUE(parsed) << command;
    auto server = ssh::scp::start_session(*parsed, *remote_files_);
    auto client = ssh::scp::start_upload(std::move(request), *local_files_, observer_);
    return shuttle(*client, *server, piece);
  }

  Ending download(ssh::scp::DownloadRequest request, std::size_t piece = 1000) {
    const std::string command =
        ssh::scp::remote_source_command(request.remote_paths, request.recursive, request.preserve);
    const auto parsed = ssh::scp::parse_command_line(command, remote_root_.string());
    EXPECT_TRUE(parsed) << command;
    request.temporary_suffix = "t3st";
    auto server = ssh::scp::start_session(*parsed, *remote_files_);
    auto client = ssh::scp::start_download(std::move(request), *local_files_, observer_);
    return shuttle(*client, *server, piece);
  }

  // Feeds a fake source's bytes to a download and returns its outcome.
  std::optional<ssh::Status> hostile_download(ssh::scp::DownloadRequest request,
                                              std::string_view from_source, bool then_eof,
                                              std::string* replies = nullptr) {
    request.temporary_suffix = "t3st";
    auto client = ssh::scp::start_download(std::move(request), *local_files_, observer_);
    client->on_input(ssh::as_bytes(from_source));
    if (then_eof) client->on_input_eof();
    Bytes out;
    client->produce(1 << 20, out);
    if (replies) *replies = std::string(ssh::as_text(out));
    return client->outcome();
  }

  std::vector<std::string> local_names() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::recursive_directory_iterator(local_root_)) {
      names.push_back(fs::relative(entry.path(), local_root_).generic_string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  TempDir dirs_{"limactl-scp-client"};
  fs::path local_root_;
  fs::path remote_root_;
  std::unique_ptr<ssh::scp::FileSystem> local_files_;
  std::unique_ptr<ssh::scp::FileSystem> remote_files_;
  RecordingObserver observer_;
};

void expect_success(const Ending& ending) {
  ASSERT_TRUE(ending.client_outcome);
  EXPECT_TRUE(ending.client_outcome->ok()) << ending.client_outcome->error().message;
  EXPECT_EQ(ending.server_exit, 0u);
}

TEST_F(ScpClientTest, UploadsFilesIntoARemoteDirectory) {
  std::string big(300'000, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 251);
  write_file(local_root_ / "big.bin", big);
  write_file(local_root_ / "empty", "");
  fs::create_directories(remote_root_ / "in");
  const Ending ending = upload({{local("big.bin"), local("empty")}, false, false}, "in", true);
  expect_success(ending);
  EXPECT_EQ(read_file(remote("in/big.bin")), big);
  EXPECT_EQ(read_file(remote("in/empty")), "");
  EXPECT_EQ(observer_.started, (std::vector<std::string>{"big.bin", "empty"}));
  EXPECT_EQ(observer_.finished, (std::vector<bool>{true, true}));
  EXPECT_TRUE(observer_.errors.empty());
}

TEST_F(ScpClientTest, UploadToAFileNameRenamesAndOverwrites) {
  write_file(local_root_ / "a.txt", "new contents");
  write_file(remote_root_ / "b.txt", "old and longer contents");
  expect_success(upload({{local("a.txt")}, false, false}, "b.txt", false, 3));
  EXPECT_EQ(read_file(remote("b.txt")), "new contents");
}

TEST_F(ScpClientTest, DownloadsAFileUnderATemporaryNameThenRenames) {
  std::string content(100'000, 'x');
  content[500] = 'y';
  write_file(remote_root_ / "data.bin", content);
  ssh::scp::DownloadRequest request;
  request.remote_paths = {"data.bin"};
  request.local_target = local_root_.string();
  expect_success(download(request, 777));
  EXPECT_EQ(read_file(local_root_ / "data.bin"), content);
  // No temporary file is left behind.
  EXPECT_EQ(local_names(), (std::vector<std::string>{"data.bin"}));
  EXPECT_EQ(observer_.last_progress, content.size());
}

TEST_F(ScpClientTest, DownloadToANewFileNameAndOverAnExistingFile) {
  write_file(remote_root_ / "src.txt", "short");
  write_file(local_root_ / "dst.txt", "a much longer old file");
  ssh::scp::DownloadRequest request;
  request.remote_paths = {"src.txt"};
  request.local_target = local("dst.txt");
  expect_success(download(request));
  EXPECT_EQ(read_file(local_root_ / "dst.txt"), "short");
  EXPECT_EQ(local_names(), (std::vector<std::string>{"dst.txt"}));
}

TEST_F(ScpClientTest, DownloadWithRemoteWildcardsGetsEveryMatch) {
  write_file(remote_root_ / "one.log", "1");
  write_file(remote_root_ / "two.log", "22");
  write_file(remote_root_ / "other.txt", "no");
  ssh::scp::DownloadRequest request;
  request.remote_paths = {"*.log"};
  request.local_target = local_root_.string();
  expect_success(download(request));
  EXPECT_EQ(local_names(), (std::vector<std::string>{"one.log", "two.log"}));
  EXPECT_EQ(read_file(local_root_ / "two.log"), "22");
}

void make_tree(const fs::path& root) {
  fs::create_directories(root / "tree/sub/deeper");
  fs::create_directories(root / "tree/empty");
  write_file(root / "tree/top.txt", "top", fs::perms(0640));
  write_file(root / "tree/sub/mid.sh", "#!/bin/sh\n", fs::perms(0755));
  write_file(root / "tree/sub/deeper/low.txt", std::string(70'000, 'l'), fs::perms(0600));
  const auto when = fs::file_time_type::clock::now() - std::chrono::hours(24 * 400);
  fs::last_write_time(root / "tree/top.txt", when);
  fs::last_write_time(root / "tree/sub/deeper/low.txt", when);
}

void expect_same_tree(const fs::path& expected, const fs::path& actual, bool preserved) {
  std::vector<std::string> expected_names;
  std::vector<std::string> actual_names;
  for (const auto& entry : fs::recursive_directory_iterator(expected)) {
    expected_names.push_back(fs::relative(entry.path(), expected).generic_string());
  }
  for (const auto& entry : fs::recursive_directory_iterator(actual)) {
    actual_names.push_back(fs::relative(entry.path(), actual).generic_string());
  }
  std::sort(expected_names.begin(), expected_names.end());
  std::sort(actual_names.begin(), actual_names.end());
  ASSERT_EQ(actual_names, expected_names);
  for (const std::string& name : expected_names) {
    const fs::path from = expected / name;
    const fs::path to = actual / name;
    if (!fs::is_regular_file(from)) continue;
    EXPECT_EQ(read_file(to), read_file(from)) << name;
    if (!preserved) continue;
    const auto seconds = [](const fs::path& path) {
      // scp carries whole seconds: the source's fraction is dropped.
      return std::chrono::floor<std::chrono::seconds>(fs::last_write_time(path).time_since_epoch())
          .count();
    };
    EXPECT_EQ(seconds(to), seconds(from)) << name;
#ifndef _WIN32
    EXPECT_EQ(fs::status(to).permissions(), fs::status(from).permissions()) << name;
#endif
  }
}

TEST_F(ScpClientTest, RecursiveUploadWithPreservedModesAndTimes) {
  make_tree(local_root_);
  fs::create_directories(remote_root_ / "dest");
  expect_success(upload({{local("tree")}, true, true}, "dest", false, 4096));
  expect_same_tree(local_root_ / "tree", remote_root_ / "dest/tree", true);
}

TEST_F(ScpClientTest, RecursiveDownloadWithPreservedModesAndTimes) {
  make_tree(remote_root_);
  ssh::scp::DownloadRequest request;
  request.remote_paths = {"tree"};
  request.local_target = local_root_.string();
  request.recursive = true;
  request.preserve = true;
  expect_success(download(request, 4096));
  expect_same_tree(remote_root_ / "tree", local_root_ / "tree", true);
}

TEST_F(ScpClientTest, RecursiveDownloadToANewDirectoryName) {
  make_tree(remote_root_);
  ssh::scp::DownloadRequest request;
  request.remote_paths = {"tree/"};
  request.local_target = local("copy");
  request.recursive = true;
  expect_success(download(request));
  expect_same_tree(remote_root_ / "tree", local_root_ / "copy", false);
}

TEST_F(ScpClientTest, MissingRemoteFileIsReportedWithScpsMessage) {
  write_file(remote_root_ / "there.txt", "here");
  ssh::scp::DownloadRequest request;
  request.remote_paths = {"missing.txt", "there.txt"};
  request.local_target = local_root_.string();
  request.target_should_be_directory = true;
  const Ending ending = download(request);
  ASSERT_TRUE(ending.client_outcome);
  ASSERT_FALSE(ending.client_outcome->ok());
  EXPECT_EQ(ending.server_exit, 1u);
  EXPECT_EQ(observer_.errors,
            (std::vector<std::string>{"scp: missing.txt: No such file or directory"}));
  // The other file still arrived.
  EXPECT_EQ(local_names(), (std::vector<std::string>{"there.txt"}));
}

TEST_F(ScpClientTest, MissingLocalFileIsReportedAndTheRestUploaded) {
  write_file(local_root_ / "real.txt", "real");
  const Ending ending =
      upload({{local("nothing.txt"), local("real.txt")}, false, false}, ".", true);
  ASSERT_TRUE(ending.client_outcome);
  ASSERT_FALSE(ending.client_outcome->ok());
  EXPECT_EQ(ending.server_exit, 1u);  // the remote heard about it too
  ASSERT_EQ(observer_.errors.size(), 1u);
  EXPECT_NE(observer_.errors[0].find("nothing.txt: No such file or directory"), std::string::npos)
      << observer_.errors[0];
  EXPECT_EQ(read_file(remote("real.txt")), "real");
}

TEST_F(ScpClientTest, DirectoryWithoutRecursiveIsNotSent) {
  make_tree(local_root_);
  const Ending ending = upload({{local("tree")}, false, false}, ".", false);
  ASSERT_TRUE(ending.client_outcome);
  EXPECT_FALSE(ending.client_outcome->ok());
  ASSERT_EQ(observer_.errors.size(), 1u);
  EXPECT_NE(observer_.errors[0].find("not a regular file"), std::string::npos);
  EXPECT_FALSE(fs::exists(remote("tree")));
}

TEST_F(ScpClientTest, RemoteRefusalOfAnUploadIsShown) {
  write_file(local_root_ / "a.txt", "a");
  const Ending ending = upload({{local("a.txt")}, false, false}, "no/such/dir/a.txt", false);
  ASSERT_TRUE(ending.client_outcome);
  EXPECT_FALSE(ending.client_outcome->ok());
  EXPECT_EQ(ending.server_exit, 1u);
  ASSERT_EQ(observer_.errors.size(), 1u);
  EXPECT_EQ(observer_.errors[0], "scp: no/such/dir/a.txt: No such file or directory");
}

TEST_F(ScpClientTest, TargetMustBeADirectoryForSeveralSources) {
  ssh::scp::DownloadRequest request;
  request.remote_paths = {"a", "b"};
  request.local_target = local("not-there");
  request.target_should_be_directory = true;
  const auto outcome = hostile_download(request, "", false);
  ASSERT_TRUE(outcome);
  EXPECT_FALSE(outcome->ok());
  EXPECT_NE(outcome->error().message.find("No such file or directory"), std::string::npos);
}

// --- A hostile source -------------------------------------------------------

ssh::scp::DownloadRequest ask_for(std::string path, std::string target, bool recursive = false) {
  ssh::scp::DownloadRequest request;
  request.remote_paths = {std::move(path)};
  request.local_target = std::move(target);
  request.recursive = recursive;
  return request;
}

TEST_F(ScpClientTest, HostileNamesThatLeaveTheTargetAreRefused) {
  for (const std::string name : {"../x", "a/b", "..", ".", "", "/etc/passwd"}) {
    std::string replies;
    const auto outcome = hostile_download(ask_for("*", local_root_.string()),
                                          "C0644 3 " + name + "\nabc", false, &replies);
    ASSERT_TRUE(outcome) << name;
    EXPECT_FALSE(outcome->ok()) << name;
    EXPECT_NE(outcome->error().message.find("unexpected filename"), std::string::npos) << name;
    // Told the source it is over (\2), after the first ready \0.
    EXPECT_EQ(replies.substr(0, 2), std::string("\0\2", 2)) << name;
  }
  // Inside a directory too.
  const auto outcome = hostile_download(ask_for("d", local_root_.string(), true),
                                        "D0755 0 d\nC0644 1 ../escape\nx", false);
  ASSERT_TRUE(outcome);
  EXPECT_FALSE(outcome->ok());
  EXPECT_FALSE(fs::exists(dirs_.path() / "escape"));
  EXPECT_FALSE(fs::exists(local_root_ / "escape"));
}

TEST_F(ScpClientTest, AFileNotAskedForIsRefused) {
  const auto outcome = hostile_download(ask_for("dir/wanted.txt", local_root_.string()),
                                        "C0644 3 .bashrc\nabc", false);
  ASSERT_TRUE(outcome);
  ASSERT_FALSE(outcome->ok());
  EXPECT_NE(outcome->error().message.find("filename does not match request"), std::string::npos);
  EXPECT_TRUE(local_names().empty());
  // A pattern allows what matches it, nothing else.
  const auto matched =
      hostile_download(ask_for("logs/*.log", local_root_.string()), "C0644 3 a.log\nabc\0"s, false);
  EXPECT_FALSE(matched);  // still running: waiting for more records
  EXPECT_EQ(local_names(), (std::vector<std::string>{"a.log"}));
}

TEST_F(ScpClientTest, OversizedAndMalformedRecordsEndTheRun) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"C0644 99999999999999999999 f\n", "size out of range"},
      {"C0644 9223372036854775808 f\n", "size out of range"},
      {"C0644 -1 f\n", "size not present"},
      {"C9999 1 f\n", "bad mode"},
      {"C0644 1f\n", "size not delimited"},
      {"T1 2\n", "bad time record"},
      {"D0755 0 f\n", "received directory without -r"},
      {"E\n", "end of a directory never entered"},
      {"C0644 1 " + std::string(9000, 'n'), "line too long"},
  };
  for (const auto& [records, expected] : cases) {
    const auto outcome = hostile_download(ask_for("f", local_root_.string()), records, false);
    ASSERT_TRUE(outcome) << records;
    ASSERT_FALSE(outcome->ok()) << records;
    EXPECT_NE(outcome->error().message.find(expected), std::string::npos)
        << records << " -> " << outcome->error().message;
  }
  EXPECT_TRUE(local_names().empty());
}

TEST_F(ScpClientTest, AnInterruptedDownloadLeavesNothingUnderTheFinalName) {
  const auto outcome =
      hostile_download(ask_for("f.bin", local_root_.string()), "C0644 10 f.bin\n12345", true);
  ASSERT_TRUE(outcome);
  ASSERT_FALSE(outcome->ok());
  EXPECT_NE(outcome->error().message.find("lost connection"), std::string::npos);
  EXPECT_TRUE(local_names().empty());  // neither f.bin nor its temporary file
}

TEST_F(ScpClientTest, SourceReadFailureAfterTheDataDiscardsTheFile) {
  std::string replies;
  const auto outcome =
      hostile_download(ask_for("f.bin", local_root_.string()),
                       "C0644 3 f.bin\nabc\1scp: f.bin: Input/output error\n", true, &replies);
  ASSERT_TRUE(outcome);
  ASSERT_FALSE(outcome->ok());
  EXPECT_EQ(observer_.errors, (std::vector<std::string>{"scp: f.bin: Input/output error"}));
  EXPECT_TRUE(local_names().empty());
  EXPECT_EQ(replies, std::string("\0\0\0", 3));  // ready, header, and carry on
}

TEST_F(ScpClientTest, WhatTheRemoteShellSaysInsteadIsShown) {
  const auto outcome =
      hostile_download(ask_for("f", local_root_.string()), "bash: scp: command not found\n", true);
  ASSERT_TRUE(outcome);
  ASSERT_FALSE(outcome->ok());
  EXPECT_EQ(observer_.errors, (std::vector<std::string>{"bash: scp: command not found"}));
}

// --- Remote command lines ------------------------------------------------------

TEST(ScpClientCommand, RemotePathsAreQuotedForTheShell) {
  using ssh::scp::quote_for_remote_shell;
  EXPECT_EQ(quote_for_remote_shell("plain", false), "'plain'");
  EXPECT_EQ(quote_for_remote_shell("it's here", false), "'it'\\''s here'");
  EXPECT_EQ(quote_for_remote_shell("~/a b", false), "~'/a b'");
  EXPECT_EQ(quote_for_remote_shell("~", false), "~");
  EXPECT_EQ(quote_for_remote_shell("$HOME;rm *", false), "'$HOME;rm *'");
  EXPECT_EQ(quote_for_remote_shell("$x/*.log", true), "'$x/'*'.log'");
  // A bracket's '!' or '^' negates only when the shell sees it bare.
  EXPECT_EQ(quote_for_remote_shell("d/[!a]x", true), "'d/'[!'a']'x'");
  EXPECT_EQ(quote_for_remote_shell("d/[^a]!", true), "'d/'[^'a']'!'");
  EXPECT_EQ(quote_for_remote_shell("", false), "''");
  EXPECT_EQ(ssh::scp::remote_sink_command("", true, true, true), "scp -t -r -p -d -- '.'");
  EXPECT_EQ(ssh::scp::remote_source_command({"a b", "-x"}, false, true), "scp -f -p -- 'a b' '-x'");
}

TEST(ScpClientCommand, OurServerReadsBackWhatWeQuoted) {
  const std::string tricky = "it's \"$HOME\" `x` \\ [1]";
  const auto parsed = ssh::scp::parse_command_line(
      ssh::scp::remote_sink_command(tricky, false, false, false), "/h");
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->paths.size(), 1u);
  EXPECT_EQ(parsed->paths[0].text, tricky);
  EXPECT_FALSE(parsed->paths[0].wildcard_pattern);
  const auto globbed = ssh::scp::parse_command_line(
      ssh::scp::remote_source_command({"~/d i r/*.txt"}, false, false), "/h");
  ASSERT_TRUE(globbed);
  ASSERT_EQ(globbed->paths.size(), 1u);
  EXPECT_EQ(globbed->paths[0].text, "/h/d i r/*.txt");
  EXPECT_EQ(globbed->paths[0].wildcard_pattern, "/h/d i r/*.txt");
}

TEST(ScpClientCommand, FilenamePatternsMatchLikeFnmatch) {
  using ssh::scp::filename_matches;
  EXPECT_TRUE(filename_matches("a.txt", "a.txt"));
  EXPECT_FALSE(filename_matches("a.txt", "b.txt"));
  EXPECT_TRUE(filename_matches("*.log", "x.log"));
  EXPECT_TRUE(filename_matches("*.log", ".log"));
  EXPECT_FALSE(filename_matches("*.log", "x.log.gz"));
  EXPECT_TRUE(filename_matches("a*b*c", "aXXbYYbc"));
  EXPECT_TRUE(filename_matches("f?le", "file"));
  EXPECT_FALSE(filename_matches("f?le", "fle"));
  EXPECT_TRUE(filename_matches("[a-c]x", "bx"));
  EXPECT_FALSE(filename_matches("[!a-c]x", "bx"));
  EXPECT_TRUE(filename_matches("[]]", "]"));
  EXPECT_TRUE(filename_matches("[x", "[x"));
  EXPECT_TRUE(filename_matches("\\*", "*"));
  EXPECT_FALSE(filename_matches("\\*", "a"));
}

}  // namespace
