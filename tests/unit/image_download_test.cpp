// Image downloads over http and https against a scriptable server on
// loopback (tests/support/http_test_server.*): resume with Range/If-Range,
// restarts when the server cannot continue, the cache left clean on every
// failure, redirects, chunked bodies, hostile headers, TLS trust, and
// `limactl create URL`. Linux only (the server and the limactl runs use
// POSIX-only test support).
#include "vm/image_download.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <variant>

#include "platform/instance_lock.hpp"
#include "support/build_paths.hpp"
#include "support/files.hpp"
#include "support/http_test_server.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "vm/image_files.hpp"
#include "vm/templates.hpp"

namespace vm {
namespace {

namespace fs = std::filesystem;
using testing_support::HttpReply;
using testing_support::HttpRequest;
using testing_support::HttpTestServer;
using testing_support::ServedFile;
using testing_support::TempDir;
using testing_support::TlsIdentity;

constexpr std::size_t kImageSize = 1024 * 1024 + 123;

std::string sha256_digest(const std::string& bytes) {
  return "sha256:" + testing_support::sha256_hex(bytes);
}

// Hermetic: only the CAs a test names are trusted.
DownloadOptions test_options() {
  DownloadOptions options;
  options.use_ca_file_variable = false;
  options.use_system_ca_store = false;
  options.connect_timeout = std::chrono::seconds(10);
  options.idle_timeout = std::chrono::seconds(10);
  return options;
}

std::string message_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const ImageError& error) {
    return error.what();
  }
  ADD_FAILURE() << "no ImageError was thrown";
  return {};
}

class ImageDownload : public ::testing::Test {
 protected:
  fs::path cache() const { return dir_.path() / "cache"; }
  fs::path cached(const std::string& url) const { return download_cache_file(cache(), url); }

  const std::string image_ = testing_support::payload_of(kImageSize, 7);
  TempDir dir_{"limactl-download"};
};

TEST_F(ImageDownload, FullDownloadMatchesItsDigestAndIsKeptWithLimasUrlFile) {
  HttpTestServer server([&](const HttpRequest& request) {
    return testing_support::reply_for_file(request, {image_, "\"v1\""});
  });
  const std::string url = server.url("/images/disk.img");
  std::vector<DownloadProgress> reports;
  const fs::path data = fetch_to_cache(
      url, cache(), sha256_digest(image_), [&](const DownloadProgress& p) { reports.push_back(p); },
      test_options());

  EXPECT_EQ(data, cached(url));
  EXPECT_EQ(testing_support::sha256_file(data), testing_support::sha256_hex(image_));
  EXPECT_EQ(testing_support::read_file(data.parent_path() / "url"), url);
  EXPECT_EQ(testing_support::read_file(data.parent_path() / "sha256.digest"),
            sha256_digest(image_));
  EXPECT_FALSE(fs::exists(data.string() + ".partial"));
  EXPECT_FALSE(fs::exists(data.string() + ".partial.validator"));
  ASSERT_FALSE(reports.empty());
  EXPECT_EQ(reports.back().bytes_done, kImageSize);
  EXPECT_EQ(reports.back().bytes_total, kImageSize);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/images/disk.img");
  EXPECT_EQ(requests[0].header("host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_FALSE(requests[0].header("range"));

  // Cached: the second call does not ask the server again.
  EXPECT_EQ(fetch_to_cache(url, cache(), sha256_digest(image_), {}, test_options()), data);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(ImageDownload, InterruptedHalfWayThenResumedWithRange) {
  std::atomic<int> served{0};
  HttpTestServer server([&](const HttpRequest& request) {
    HttpReply reply = testing_support::reply_for_file(request, {image_, "\"v1\""});
    if (served++ == 0) reply.drop_after = kImageSize / 2;
    return reply;
  });
  const std::string url = server.url("/disk.img");
  DownloadOptions options = test_options();
  options.attempts = 1;
  const std::string first =
      message_of([&] { fetch_to_cache(url, cache(), sha256_digest(image_), {}, options); });
  EXPECT_NE(first.find(url), std::string::npos) << first;
  EXPECT_NE(first.find("run the command again to resume"), std::string::npos) << first;
  const fs::path data = cached(url);
  EXPECT_FALSE(fs::exists(data));
  ASSERT_TRUE(fs::exists(data.string() + ".partial"));
  EXPECT_EQ(fs::file_size(data.string() + ".partial"), kImageSize / 2);
  EXPECT_EQ(testing_support::read_file(data.string() + ".partial.validator"), "\"v1\"");

  std::vector<DownloadProgress> reports;
  fetch_to_cache(
      url, cache(), sha256_digest(image_), [&](const DownloadProgress& p) { reports.push_back(p); },
      options);
  EXPECT_EQ(testing_support::sha256_file(data), testing_support::sha256_hex(image_));
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].header("range"), "bytes=" + std::to_string(kImageSize / 2) + "-");
  EXPECT_EQ(requests[1].header("if-range"), "\"v1\"");
  ASSERT_FALSE(reports.empty());
  EXPECT_EQ(reports.front().bytes_done, kImageSize / 2);  // resumed, not restarted
  EXPECT_EQ(reports.back().bytes_done, kImageSize);
}

TEST_F(ImageDownload, ACutConnectionIsResumedWithinOneCall) {
  std::atomic<int> served{0};
  HttpTestServer server([&](const HttpRequest& request) {
    HttpReply reply = testing_support::reply_for_file(request, {image_, "\"v1\""});
    if (served++ < 2) reply.drop_after = 300 * 1024;
    return reply;
  });
  const fs::path destination = dir_.path() / "disk.img";
  download_file(server.url("/disk.img"), destination, test_options());
  EXPECT_EQ(testing_support::sha256_file(destination), testing_support::sha256_hex(image_));
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_FALSE(requests[0].header("range"));
  EXPECT_EQ(requests[1].header("range"), "bytes=" + std::to_string(300 * 1024) + "-");
  EXPECT_EQ(requests[2].header("range"), "bytes=" + std::to_string(600 * 1024) + "-");
  EXPECT_FALSE(fs::exists(destination.string() + ".partial"));
}

TEST_F(ImageDownload, ResumeAnsweredWithTheWholeFileRestartsFromZero) {
  std::atomic<int> served{0};
  HttpTestServer server([&](const HttpRequest& request) {
    // The server forgets Range support after the first try.
    const bool first = served++ == 0;
    HttpReply reply = testing_support::reply_for_file(request, {image_, "\"v1\"", first});
    if (first) reply.drop_after = kImageSize / 3;
    return reply;
  });
  const std::string url = server.url("/disk.img");
  const fs::path data = fetch_to_cache(url, cache(), sha256_digest(image_), {}, test_options());
  EXPECT_EQ(fs::file_size(data), kImageSize);
  EXPECT_EQ(testing_support::sha256_file(data), testing_support::sha256_hex(image_));
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].header("range"), "bytes=" + std::to_string(kImageSize / 3) + "-");
}

TEST_F(ImageDownload, AChangedETagRestartsWithTheNewFile) {
  const std::string newer = testing_support::payload_of(kImageSize - 1000, 8);
  std::atomic<int> served{0};
  HttpTestServer server([&](const HttpRequest& request) {
    if (served++ == 0) {
      HttpReply reply = testing_support::reply_for_file(request, {image_, "\"v1\""});
      reply.drop_after = kImageSize / 2;
      return reply;
    }
    return testing_support::reply_for_file(request, {newer, "\"v2\""});
  });
  const fs::path destination = dir_.path() / "disk.img";
  DownloadOptions options = test_options();
  options.attempts = 1;
  EXPECT_THROW(download_file(server.url("/disk.img"), destination, options), ImageError);
  download_file(server.url("/disk.img"), destination, options);
  EXPECT_EQ(testing_support::read_file(destination), newer);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].header("if-range"), "\"v1\"");
}

TEST_F(ImageDownload, APartialAnswerThatDoesNotContinueTheFileRestartsCleanly) {
  // A broken server: 206 for the wrong range.
  std::atomic<int> served{0};
  HttpTestServer server([&](const HttpRequest& request) {
    const int number = served++;
    HttpReply reply = testing_support::reply_for_file(request, {image_, "\"v1\""});
    if (number == 0) reply.drop_after = kImageSize / 2;
    if (number == 1) {
      reply.status = 206;
      reply.reason = "Partial Content";
      reply.headers = {{"ETag", "\"v1\""},
                       {"Content-Range", "bytes 0-999/" + std::to_string(kImageSize)}};
      reply.body = image_.substr(0, 1000);
    }
    return reply;
  });
  const fs::path destination = dir_.path() / "disk.img";
  download_file(server.url("/disk.img"), destination, test_options());
  EXPECT_EQ(testing_support::sha256_file(destination), testing_support::sha256_hex(image_));
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_TRUE(requests[1].header("range"));
  EXPECT_FALSE(requests[2].header("range"));  // from zero
}

TEST_F(ImageDownload, ADigestMismatchLeavesNothingInTheCache) {
  HttpTestServer server([&](const HttpRequest& request) {
    return testing_support::reply_for_file(request, {image_, "\"v1\""});
  });
  const std::string url = server.url("/disk.img");
  const std::string wrong = sha256_digest("something else");
  const std::string message =
      message_of([&] { fetch_to_cache(url, cache(), wrong, {}, test_options()); });
  EXPECT_NE(message.find("does not match its digest"), std::string::npos) << message;
  EXPECT_NE(message.find(wrong), std::string::npos) << message;
  EXPECT_NE(message.find(sha256_digest(image_)), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(cached(url).parent_path()));
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(ImageDownload, ACachedFileWithAnotherRecordedDigestIsFetchedAgain) {
  std::string served_bytes = image_;
  HttpTestServer server([&](const HttpRequest& request) {
    return testing_support::reply_for_file(request, {served_bytes, ""});
  });
  const std::string url = server.url("/disk.img");
  fetch_to_cache(url, cache(), sha256_digest(image_), {}, test_options());
  served_bytes = testing_support::payload_of(1000, 9);
  const fs::path data =
      fetch_to_cache(url, cache(), sha256_digest(served_bytes), {}, test_options());
  EXPECT_EQ(testing_support::read_file(data), served_bytes);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST_F(ImageDownload, ASecondDownloadOfTheSameUrlWaitsForTheFirst) {
  HttpTestServer server([&](const HttpRequest& request) {
    return testing_support::reply_for_file(request, {image_, "\"v1\""});
  });
  const std::string url = server.url("/disk.img");
  const fs::path entry = cached(url).parent_path();
  fs::create_directories(entry.parent_path());
  // Another limactl downloading it, as far as the lock shows.
  auto holder = platform::FileLock::try_lock(entry.string() + ".lock");
  ASSERT_TRUE(std::holds_alternative<platform::FileLock>(holder));
  auto waiting = std::async(std::launch::async, [&] {
    return fetch_to_cache(url, cache(), sha256_digest(image_), {}, test_options());
  });
  EXPECT_EQ(waiting.wait_for(std::chrono::milliseconds(600)), std::future_status::timeout);
  EXPECT_TRUE(server.requests().empty());
  holder = platform::FileLock::Busy{};  // released
  EXPECT_EQ(testing_support::sha256_file(waiting.get()), testing_support::sha256_hex(image_));
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(ImageDownload, NotFoundIsAClearErrorAndLeavesNoData) {
  HttpTestServer server([](const HttpRequest&) {
    HttpReply reply;
    reply.status = 404;
    reply.reason = "Not Found";
    reply.body = "no such image";
    return reply;
  });
  const std::string url = server.url("/missing.img");
  const std::string message =
      message_of([&] { fetch_to_cache(url, cache(), {}, {}, test_options()); });
  EXPECT_EQ(message, "cannot download " + url + ": " + url +
                         " answered HTTP 404 Not Found; check the URL (the file may have moved; a "
                         "newer template may name it)");
  EXPECT_FALSE(fs::exists(cached(url).parent_path()));
}

TEST_F(ImageDownload, AServerErrorSaysToTryAgainLater) {
  HttpTestServer server([](const HttpRequest&) {
    HttpReply reply;
    reply.status = 500;
    reply.reason = "Internal Server Error";
    return reply;
  });
  const std::string message = message_of(
      [&] { download_file(server.url("/x.img"), dir_.path() / "x.img", test_options()); });
  EXPECT_NE(message.find("HTTP 500 Internal Server Error; the server has a problem"),
            std::string::npos)
      << message;
  EXPECT_FALSE(fs::exists(dir_.path() / "x.img"));
}

TEST_F(ImageDownload, RedirectsAreFollowedRelativeAndAbsolute) {
  std::string self;
  HttpTestServer server([&](const HttpRequest& request) {
    HttpReply reply;
    if (request.target == "/old/disk.img") {
      reply.status = 301;
      reply.reason = "Moved Permanently";
      reply.headers = {{"Location", "../moved/disk.img?x=1"}};
    } else if (request.target == "/moved/disk.img?x=1") {
      reply.status = 307;
      reply.reason = "Temporary Redirect";
      reply.headers = {{"Location", self + "/final/disk.img"}};
    } else if (request.target == "/final/disk.img") {
      return testing_support::reply_for_file(request, {image_, "\"v1\""});
    } else {
      reply.status = 404;
    }
    return reply;
  });
  self = server.url("");
  const fs::path data = fetch_to_cache(server.url("/old/disk.img"), cache(), sha256_digest(image_),
                                       {}, test_options());
  EXPECT_EQ(testing_support::sha256_file(data), testing_support::sha256_hex(image_));
  // Cached under the URL asked for, as Lima does.
  EXPECT_EQ(data, cached(server.url("/old/disk.img")));
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1].target, "/moved/disk.img?x=1");
  EXPECT_EQ(requests[2].target, "/final/disk.img");
}

TEST_F(ImageDownload, ARedirectLoopStopsAfterTenRedirects) {
  HttpTestServer server([](const HttpRequest& request) {
    HttpReply reply;
    reply.status = 302;
    reply.reason = "Found";
    reply.headers = {{"Location", request.target + "x"}};
    return reply;
  });
  const std::string message =
      message_of([&] { download_file(server.url("/loop"), dir_.path() / "loop", test_options()); });
  EXPECT_NE(message.find("more than 10 redirects"), std::string::npos) << message;
  EXPECT_EQ(server.requests().size(), 11u);
}

TEST_F(ImageDownload, ChunkedBodiesAreDecoded) {
  HttpTestServer server([&](const HttpRequest&) {
    HttpReply reply;
    reply.body = image_;
    reply.chunked = true;
    reply.chunk_size = 4093;
    return reply;
  });
  const fs::path data =
      fetch_to_cache(server.url("/disk.img"), cache(), sha256_digest(image_), {}, test_options());
  EXPECT_EQ(testing_support::sha256_file(data), testing_support::sha256_hex(image_));
}

TEST_F(ImageDownload, AnOversizedHeaderBlockIsRefused) {
  HttpTestServer server([](const HttpRequest&) {
    HttpReply reply;
    for (int i = 0; i < 70; ++i)
      reply.headers.emplace_back("X-Filler-" + std::to_string(i), std::string(1000, 'a'));
    reply.body = "small";
    return reply;
  });
  const std::string url = server.url("/disk.img");
  const std::string message =
      message_of([&] { fetch_to_cache(url, cache(), {}, {}, test_options()); });
  EXPECT_NE(message.find("response headers exceed 64 KiB"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(cached(url).parent_path()));
}

TEST_F(ImageDownload, AHeaderWithALoneLineFeedIsRefused) {
  HttpTestServer server([&](const HttpRequest& request) {
    HttpReply reply = testing_support::reply_for_file(request, {image_, ""});
    reply.headers.emplace_back("ETag", "\"v1\"\nX-Injected: yes");
    return reply;
  });
  const std::string message = message_of(
      [&] { download_file(server.url("/disk.img"), dir_.path() / "x", test_options()); });
  EXPECT_NE(message.find("malformed header line"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(dir_.path() / "x.partial.validator"));
}

TEST_F(ImageDownload, AnUnknownDigestAlgorithmIsRefusedBeforeDownloading) {
  HttpTestServer server([&](const HttpRequest& request) {
    return testing_support::reply_for_file(request, {image_, ""});
  });
  const std::string message = message_of(
      [&] { fetch_to_cache(server.url("/disk.img"), cache(), "md5:abc", {}, test_options()); });
  EXPECT_NE(message.find("is not sha256:HEX or sha512:HEX"), std::string::npos) << message;
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(ImageDownload, ASilentServerTimesOut) {
  HttpTestServer server([](const HttpRequest&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    HttpReply reply;
    reply.body = "late";
    return reply;
  });
  DownloadOptions options = test_options();
  options.idle_timeout = std::chrono::milliseconds(300);
  const std::string message =
      message_of([&] { download_file(server.url("/slow"), dir_.path() / "slow", options); });
  EXPECT_NE(message.find("timed out after 300 ms waiting for the server"), std::string::npos)
      << message;
}

class ImageDownloadTls : public ImageDownload {
 protected:
  ImageDownloadTls() { testing_support::write_file(ca_file(), identity_.ca_certificate_pem); }
  fs::path ca_file() const { return dir_.path() / "test-ca.pem"; }

  TlsIdentity identity_ = TlsIdentity::generate("localhost");
};

TEST_F(ImageDownloadTls, HttpsWithTheTestCaDownloadsAndResumes) {
  std::atomic<int> served{0};
  HttpTestServer server(
      [&](const HttpRequest& request) {
        HttpReply reply = testing_support::reply_for_file(request, {image_, "\"v1\""});
        if (served++ == 0) reply.drop_after = kImageSize / 2;
        return reply;
      },
      identity_);
  DownloadOptions options = test_options();
  options.extra_ca_files = {ca_file()};
  const std::string url = server.url("/disk.img", "localhost");
  const fs::path data = fetch_to_cache(url, cache(), sha256_digest(image_), {}, options);
  EXPECT_EQ(testing_support::sha256_file(data), testing_support::sha256_hex(image_));
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].header("range"), "bytes=" + std::to_string(kImageSize / 2) + "-");
}

TEST_F(ImageDownloadTls, AnUnknownCaIsRefused) {
  HttpTestServer server(
      [&](const HttpRequest& request) {
        return testing_support::reply_for_file(request, {image_, "\"v1\""});
      },
      identity_);
  const std::string url = server.url("/disk.img", "localhost");
  const std::string message =
      message_of([&] { fetch_to_cache(url, cache(), {}, {}, test_options()); });
  EXPECT_NE(message.find("cannot download " + url + ": TLS: "), std::string::npos) << message;
  EXPECT_NE(message.find("Certificate issuer not found"), std::string::npos) << message;
  EXPECT_NE(message.find("LIMACTL_CA_FILE"), std::string::npos) << message;
  EXPECT_TRUE(server.requests().empty());
  EXPECT_FALSE(fs::exists(cached(url).parent_path()));
}

TEST_F(ImageDownloadTls, AWrongHostNameIsRefused) {
  HttpTestServer server(
      [&](const HttpRequest& request) {
        return testing_support::reply_for_file(request, {image_, "\"v1\""});
      },
      identity_);
  DownloadOptions options = test_options();
  options.extra_ca_files = {ca_file()};
  // The certificate names "localhost", not the address.
  const std::string url = server.url("/disk.img", "127.0.0.1");
  const std::string message = message_of([&] { download_file(url, dir_.path() / "x", options); });
  EXPECT_NE(message.find("TLS: "), std::string::npos) << message;
  EXPECT_NE(message.find("Certificate does not match provided name (the certificate is for "
                         "another host name: use the name it was issued for)"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find("LIMACTL_CA_FILE"), std::string::npos) << message;
  EXPECT_TRUE(server.requests().empty());
  EXPECT_FALSE(fs::exists(dir_.path() / "x"));
}

TEST_F(ImageDownloadTls, ARedirectFromHttpsToHttpIsRefused) {
  HttpTestServer plain([&](const HttpRequest& request) {
    return testing_support::reply_for_file(request, {image_, "\"v1\""});
  });
  HttpTestServer secure(
      [&](const HttpRequest&) {
        HttpReply reply;
        reply.status = 302;
        reply.reason = "Found";
        reply.headers = {{"Location", plain.url("/disk.img")}};
        return reply;
      },
      identity_);
  DownloadOptions options = test_options();
  options.extra_ca_files = {ca_file()};
  const std::string message = message_of(
      [&] { download_file(secure.url("/disk.img", "localhost"), dir_.path() / "x", options); });
  EXPECT_NE(
      message.find("redirects to plain http (" + plain.url("/disk.img") + "), which is refused"),
      std::string::npos)
      << message;
  EXPECT_EQ(secure.requests().size(), 1u);
  EXPECT_TRUE(plain.requests().empty());
}

TEST(ImageDownloadText, FetchTextRefusesLargeBodies) {
  HttpTestServer server([](const HttpRequest& request) {
    HttpReply reply;
    reply.body = std::string(request.target == "/big" ? 5000 : 100, 'y');
    reply.chunked = request.target == "/big";
    return reply;
  });
  EXPECT_EQ(fetch_text(server.url("/small"), 1000, test_options()), std::string(100, 'y'));
  const std::string message =
      message_of([&] { fetch_text(server.url("/big"), 1000, test_options()); });
  EXPECT_NE(message.find("larger than 1000 bytes"), std::string::npos) << message;
}

TEST(ImageDownloadText, UrlFileStem) {
  EXPECT_EQ(url_file_stem("https://example.org/t/ubuntu.yaml?x=1#y"), "ubuntu");
  EXPECT_EQ(url_file_stem("http://h:8080/a/b/debian-12.yml"), "debian-12");
  EXPECT_EQ(url_file_stem("http://h/a/plain/"), "plain");
  EXPECT_EQ(url_file_stem("http://h"), "");
  EXPECT_EQ(url_file_stem("http://h/"), "");
}

// `limactl create URL`, as users run it.
class LimactlCreateFromUrl : public ::testing::Test {
 protected:
  testing_support::ProcessResult limactl(const testing_support::Argv& arguments,
                                         testing_support::Environment environment = {}) {
    testing_support::Argv argv = {LIMACTL_BINARY};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    testing_support::RunOptions options;
    options.environment = {{"LIMA_HOME", home().string()},
                           {"XDG_CACHE_HOME", (dir_.path() / "cache").string()}};
    for (auto& variable : environment) options.environment.push_back(variable);
    options.timeout = std::chrono::seconds(30);
    return testing_support::run_process(argv, options);
  }
  fs::path home() const { return dir_.path() / "lima-home"; }

  TempDir dir_{"limactl-create-url"};
  const std::string yaml_ = *template_text("debian-local", dir_.path() / "guest-image");
};

TEST_F(LimactlCreateFromUrl, CreatesAnInstanceNamedAfterTheUrl) {
  HttpTestServer server([&](const HttpRequest& request) {
    HttpReply reply;
    if (request.target == "/templates/myvm.yaml") {
      reply.body = yaml_;
    } else {
      reply.status = 404;
      reply.reason = "Not Found";
    }
    return reply;
  });
  auto result = limactl({"create", server.url("/templates/myvm.yaml")});
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_EQ(result.out, "Created instance \"myvm\" in " + (home() / "myvm").string() +
                            "\nRun `limactl start myvm` to start it.\n");
  EXPECT_EQ(testing_support::read_file(home() / "myvm" / "lima.yaml"), yaml_);

  result = limactl({"create", server.url("/templates/gone.yaml")});
  EXPECT_TRUE(result.exited_with(1)) << result.describe();
  EXPECT_EQ(result.err, "limactl create: cannot download " + server.url("/templates/gone.yaml") +
                            ": " + server.url("/templates/gone.yaml") +
                            " answered HTTP 404 Not Found; check the URL (the file may have "
                            "moved; a newer template may name it)\n");
  EXPECT_FALSE(fs::exists(home() / "gone"));
}

TEST_F(LimactlCreateFromUrl, HttpsTrustsTheCaFileNamedInTheEnvironment) {
  const TlsIdentity identity = TlsIdentity::generate("localhost");
  const fs::path ca_file = dir_.path() / "ca.pem";
  testing_support::write_file(ca_file, identity.ca_certificate_pem);
  HttpTestServer server(
      [&](const HttpRequest&) {
        HttpReply reply;
        reply.body = yaml_;
        return reply;
      },
      identity);
  const std::string url = server.url("/vm.yaml", "localhost");
  auto result = limactl({"create", "--name", "secure", url});
  EXPECT_TRUE(result.exited_with(1)) << result.describe();
  EXPECT_NE(result.err.find("LIMACTL_CA_FILE"), std::string::npos) << result.describe();
  EXPECT_FALSE(fs::exists(home() / "secure"));

  result = limactl({"create", "--name", "secure", url}, {{"LIMACTL_CA_FILE", ca_file.string()}});
  ASSERT_TRUE(result.exited_with(0)) << result.describe();
  EXPECT_EQ(testing_support::read_file(home() / "secure" / "lima.yaml"), yaml_);
}

}  // namespace
}  // namespace vm
