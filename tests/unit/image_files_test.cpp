#include "vm/image_files.hpp"

#include <botan/hash.h>
#include <botan/hex.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "support/temp_dir.hpp"

namespace vm {
namespace {

namespace fs = std::filesystem;
using testing_support::TempDir;

std::string read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_all(const fs::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary) << bytes;
}

std::string gzip(const std::string& data) {
  z_stream stream{};
  EXPECT_EQ(deflateInit2(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&stream, data.size()) + 64, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

std::string digest_of(const std::string& bytes, const char* botan_name, const char* prefix) {
  auto hash = Botan::HashFunction::create_or_throw(botan_name);
  hash->update(bytes);
  return std::string(prefix) + ":" + Botan::hex_encode(hash->final(), false);
}

// 3 MiB of not very compressible bytes: several read chunks.
std::string image_bytes() {
  std::string bytes(3 * 1024 * 1024 + 17, '\0');
  std::uint32_t state = 12345;
  for (char& c : bytes) {
    state = state * 1103515245 + 12345;
    c = static_cast<char>(state >> 24);
  }
  return bytes;
}

TEST(ImageFiles, LocationsLocalAndRemote) {
  EXPECT_EQ(parse_image_location("/img/disk.qcow2", "/home/u").local_path,
            fs::path("/img/disk.qcow2"));
  EXPECT_EQ(parse_image_location("~/img/d.qcow2", "/home/u").local_path,
            fs::path("/home/u/img/d.qcow2"));
  EXPECT_EQ(parse_image_location("file:///img/d.raw", "/home/u").local_path,
            fs::path("/img/d.raw"));
  const ImageLocation remote = parse_image_location("https://example.org/d.img", "/home/u");
  EXPECT_TRUE(remote.remote);
  EXPECT_EQ(remote.url, "https://example.org/d.img");
  EXPECT_TRUE(parse_image_location("http://127.0.0.1:8080/d.img", "/h").remote);
  for (const char* bad : {"relative.img", "", "ftp://x/y", "~other/x"}) {
    EXPECT_THROW(parse_image_location(bad, "/home/u"), ImageError) << bad;
  }
}

TEST(ImageFiles, CompressionBySuffix) {
  EXPECT_EQ(compression_of("/d.qcow2"), Compression::None);
  EXPECT_EQ(compression_of("/d.raw.gz"), Compression::Gzip);
  EXPECT_EQ(compression_of("/D.IMG.GZ"), Compression::Gzip);
  for (const auto& [name, says] : {std::pair{"/d.raw.xz", "xz-compressed"},
                                   {"/d.raw.bz2", "bzip2-compressed"},
                                   {"https://x/d.img.zst", "zstd-compressed"}}) {
    try {
      (void)compression_of(name);
      FAIL() << name;
    } catch (const ImageError& error) {
      EXPECT_NE(std::string(error.what()).find(says), std::string::npos) << error.what();
    }
  }
}

TEST(ImageFiles, DownloadCacheIsKeyedByTheUrlsSha256) {
  const std::string url = "https://cloud-images.ubuntu.com/x.img";
  EXPECT_EQ(download_cache_file("/cache", url), fs::path("/cache") / "download" / "by-url-sha256" /
                                                    digest_of(url, "SHA-256", "x").substr(2) /
                                                    "data");
}

TEST(ImageFiles, CopiesWithTheDigestChecked) {
  TempDir temp;
  const std::string bytes = image_bytes();
  write_all(temp.path() / "src.raw", bytes);
  std::uint64_t last_done = 0;
  std::size_t reports = 0;
  install_image_file(temp.path() / "src.raw", temp.path() / "basedisk",
                     digest_of(bytes, "SHA-256", "sha256"), Compression::None,
                     [&](const InstallProgress& progress) {
                       EXPECT_GE(progress.source_bytes_done, last_done);
                       EXPECT_EQ(progress.source_bytes_total, bytes.size());
                       last_done = progress.source_bytes_done;
                       ++reports;
                     });
  EXPECT_EQ(read_all(temp.path() / "basedisk"), bytes);
  EXPECT_EQ(last_done, bytes.size());
  EXPECT_GE(reports, 4u);
  EXPECT_FALSE(fs::exists(temp.path() / "basedisk.partial"));
  EXPECT_EQ(file_digest(temp.path() / "basedisk", "sha512"), digest_of(bytes, "SHA-512", "sha512"));
}

TEST(ImageFiles, ADigestMismatchLeavesNothing) {
  TempDir temp;
  const std::string bytes = image_bytes();
  write_all(temp.path() / "src.raw", bytes);
  const std::string wrong = digest_of(bytes + "x", "SHA-512", "sha512");
  try {
    install_image_file(temp.path() / "src.raw", temp.path() / "basedisk", wrong, Compression::None);
    FAIL() << "a wrong digest was accepted";
  } catch (const ImageError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("does not match its digest: expected " + wrong + ", got sha512:"),
              std::string::npos)
        << message;
  }
  EXPECT_FALSE(fs::exists(temp.path() / "basedisk"));
  EXPECT_FALSE(fs::exists(temp.path() / "basedisk.partial"));
  EXPECT_THROW(install_image_file(temp.path() / "src.raw", temp.path() / "basedisk",
                                  std::string("md5:00"), Compression::None),
               ImageError);
}

TEST(ImageFiles, GzipIsUndoneAndTheDigestIsOfTheCompressedFile) {
  TempDir temp;
  const std::string bytes = image_bytes();
  const std::string compressed = gzip(bytes);
  write_all(temp.path() / "src.raw.gz", compressed);
  install_image_file(temp.path() / "src.raw.gz", temp.path() / "basedisk",
                     digest_of(compressed, "SHA-256", "sha256"), Compression::Gzip);
  EXPECT_EQ(read_all(temp.path() / "basedisk"), bytes);

  // Two members one after the other (cat a.gz b.gz) are both inflated.
  write_all(temp.path() / "two.gz", gzip("first ") + gzip("second"));
  install_image_file(temp.path() / "two.gz", temp.path() / "two", std::nullopt, Compression::Gzip);
  EXPECT_EQ(read_all(temp.path() / "two"), "first second");
}

TEST(ImageFiles, TruncatedOrCorruptGzipIsAnErrorAndLeavesNothing) {
  TempDir temp;
  const std::string compressed = gzip(image_bytes());
  write_all(temp.path() / "cut.gz", compressed.substr(0, compressed.size() / 2));
  try {
    install_image_file(temp.path() / "cut.gz", temp.path() / "basedisk", std::nullopt,
                       Compression::Gzip);
    FAIL() << "a truncated gzip stream was accepted";
  } catch (const ImageError& error) {
    EXPECT_NE(std::string(error.what()).find("ends early"), std::string::npos) << error.what();
  }
  write_all(temp.path() / "junk.gz", "this is not gzip data at all");
  EXPECT_THROW(install_image_file(temp.path() / "junk.gz", temp.path() / "basedisk", std::nullopt,
                                  Compression::Gzip),
               ImageError);
  EXPECT_FALSE(fs::exists(temp.path() / "basedisk"));
  EXPECT_FALSE(fs::exists(temp.path() / "basedisk.partial"));
}

TEST(ImageFiles, AMissingSourceIsAClearError) {
  TempDir temp;
  try {
    install_image_file(temp.path() / "nope.qcow2", temp.path() / "basedisk", std::nullopt,
                       Compression::None);
    FAIL();
  } catch (const ImageError& error) {
    EXPECT_NE(std::string(error.what()).find("cannot read image"), std::string::npos)
        << error.what();
  }
  EXPECT_FALSE(fs::exists(temp.path() / "basedisk.partial"));
}

}  // namespace
}  // namespace vm
