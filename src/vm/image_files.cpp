#include "vm/image_files.hpp"

#include <botan/hash.h>
#include <botan/hex.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <memory>
#include <system_error>
#include <vector>

namespace vm {
namespace {

constexpr std::size_t kChunk = 1024 * 1024;

bool ends_with_ignoring_case(const std::string& text, std::string_view suffix) {
  if (text.size() < suffix.size()) return false;
  return std::equal(suffix.begin(), suffix.end(), text.end() - static_cast<long>(suffix.size()),
                    [](char a, char b) {
                      return std::tolower(static_cast<unsigned char>(a)) ==
                             std::tolower(static_cast<unsigned char>(b));
                    });
}

// Botan's name for a digest algorithm of lima.yaml, or ImageError.
std::string botan_hash_name(const std::string& algorithm) {
  if (algorithm == "sha256") return "SHA-256";
  if (algorithm == "sha512") return "SHA-512";
  throw ImageError("unsupported digest algorithm \"" + algorithm + "\" (use sha256 or sha512)");
}

std::pair<std::string, std::string> split_digest(const std::string& digest) {
  const auto colon = digest.find(':');
  if (colon == std::string::npos) {
    throw ImageError("digest \"" + digest + "\" is not ALGORITHM:HEX");
  }
  return {digest.substr(0, colon), digest.substr(colon + 1)};
}

class GzipInflater {
 public:
  GzipInflater() {
    // 15 + 32: a zlib or gzip header, detected.
    if (inflateInit2(&stream_, 15 + 32) != Z_OK) throw ImageError("zlib: cannot initialise");
  }
  ~GzipInflater() { inflateEnd(&stream_); }
  GzipInflater(const GzipInflater&) = delete;
  GzipInflater& operator=(const GzipInflater&) = delete;

  // Inflates `input`, appending to out. Concatenated gzip members (what
  // `cat a.gz b.gz` makes, and pigz can write) are all inflated.
  void feed(const unsigned char* input, std::size_t size, std::vector<char>& out) {
    stream_.next_in = const_cast<unsigned char*>(input);
    stream_.avail_in = static_cast<uInt>(size);
    while (stream_.avail_in > 0) {
      if (ended_) {
        if (inflateReset(&stream_) != Z_OK) throw ImageError("zlib: cannot reset");
        ended_ = false;
      }
      std::array<unsigned char, 256 * 1024> buffer;
      stream_.next_out = buffer.data();
      stream_.avail_out = static_cast<uInt>(buffer.size());
      const int status = inflate(&stream_, Z_NO_FLUSH);
      if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR) {
        throw ImageError(std::string("corrupt gzip data: ") +
                         (stream_.msg != nullptr ? stream_.msg : "inflate failed"));
      }
      out.insert(out.end(), buffer.data(), buffer.data() + (buffer.size() - stream_.avail_out));
      if (status == Z_STREAM_END) ended_ = true;
      if (status == Z_BUF_ERROR && stream_.avail_out != 0) break;
    }
  }
  // True when the input ended at the end of a gzip member.
  bool complete() const { return ended_; }

 private:
  z_stream stream_{};
  bool ended_ = false;
};

}  // namespace

ImageLocation parse_image_location(const std::string& location, const std::string& home) {
  ImageLocation parsed;
  if (location.starts_with("http://") || location.starts_with("https://")) {
    parsed.remote = true;
    parsed.url = location;
    return parsed;
  }
  std::string path = location;
  if (path.starts_with("file://")) path = path.substr(7);
  if (path == "~" || path.starts_with("~/")) {
    path = home + path.substr(1);
  }
  const std::filesystem::path local(path);
  // "/x" is absolute on Windows too for our purposes (a path on the
  // current drive), as are "C:/x" and "C:\x".
  if (path.empty() || !(local.is_absolute() || path.front() == '/')) {
    throw ImageError("image location \"" + location +
                     "\" must be an absolute path, ~/path, file:///path, or an http(s) URL");
  }
  parsed.local_path = local;
  return parsed;
}

Compression compression_of(const std::string& location) {
  if (ends_with_ignoring_case(location, ".gz")) return Compression::Gzip;
  for (const auto& [suffix, name] :
       {std::pair{".bz2", "bzip2"}, {".xz", "xz"}, {".zst", "zstd"}, {".zstd", "zstd"}}) {
    if (ends_with_ignoring_case(location, suffix)) {
      throw ImageError("image " + location + " is " + name +
                       "-compressed, which limactl cannot decompress: use an uncompressed or "
                       ".gz image, or decompress it first");
    }
  }
  return Compression::None;
}

std::filesystem::path download_cache_file(const std::filesystem::path& cache_directory,
                                          const std::string& url) {
  auto hash = Botan::HashFunction::create_or_throw("SHA-256");
  hash->update(url);
  return cache_directory / "download" / "by-url-sha256" / Botan::hex_encode(hash->final(), false) /
         "data";
}

std::string file_digest(const std::filesystem::path& file, const std::string& algorithm) {
  auto hash = Botan::HashFunction::create_or_throw(botan_hash_name(algorithm));
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ImageError("cannot read " + file.string());
  std::vector<char> buffer(kChunk);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    hash->update(reinterpret_cast<const std::uint8_t*>(buffer.data()),
                 static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw ImageError("cannot read " + file.string());
  return algorithm + ":" + Botan::hex_encode(hash->final(), false);
}

void install_image_file(const std::filesystem::path& source,
                        const std::filesystem::path& destination,
                        const std::optional<std::string>& digest, Compression compression,
                        const std::function<void(const InstallProgress&)>& progress) {
  std::unique_ptr<Botan::HashFunction> hash;
  std::string algorithm, expected;
  if (digest) {
    std::tie(algorithm, expected) = split_digest(*digest);
    hash = Botan::HashFunction::create_or_throw(botan_hash_name(algorithm));
  }
  std::error_code error;
  InstallProgress done;
  done.source_bytes_total = std::filesystem::file_size(source, error);
  if (error) throw ImageError("cannot read image " + source.string() + ": " + error.message());
  std::ifstream in(source, std::ios::binary);
  if (!in) throw ImageError("cannot read image " + source.string());

  const std::filesystem::path partial = destination.string() + ".partial";
  std::ofstream out(partial, std::ios::binary | std::ios::trunc);
  auto fail = [&](const std::string& message) {
    // Closed first: Windows does not remove a file that is still open.
    out.close();
    std::error_code ignored;
    std::filesystem::remove(partial, ignored);
    throw ImageError(message);
  };
  if (!out) fail("cannot write " + partial.string());

  std::optional<GzipInflater> inflater;
  if (compression == Compression::Gzip) inflater.emplace();
  std::vector<char> buffer(kChunk);
  std::vector<char> inflated;
  try {
    while (in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      const auto count = static_cast<std::size_t>(in.gcount());
      if (count == 0) break;
      const auto* bytes = reinterpret_cast<const unsigned char*>(buffer.data());
      if (hash) hash->update(bytes, count);
      if (inflater) {
        inflated.clear();
        inflater->feed(bytes, count, inflated);
        out.write(inflated.data(), static_cast<std::streamsize>(inflated.size()));
      } else {
        out.write(buffer.data(), static_cast<std::streamsize>(count));
      }
      if (!out) fail("cannot write " + partial.string() + " (disk full?)");
      done.source_bytes_done += count;
      if (progress) progress(done);
    }
  } catch (const ImageError& inflate_error) {
    fail(source.string() + ": " + inflate_error.what());
  }
  if (in.bad()) fail("cannot read image " + source.string());
  if (inflater && !inflater->complete()) {
    fail(source.string() + ": the gzip data ends early (truncated download?)");
  }
  out.close();
  if (!out) fail("cannot write " + partial.string());
  if (hash) {
    const std::string actual = Botan::hex_encode(hash->final(), false);
    if (actual != expected) {
      fail("image " + source.string() + " does not match its digest: expected " + algorithm + ":" +
           expected + ", got " + algorithm + ":" + actual);
    }
  }
  std::filesystem::rename(partial, destination, error);
  if (error) fail("cannot rename " + partial.string() + ": " + error.message());
}

}  // namespace vm
