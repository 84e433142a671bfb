// From an image location in lima.yaml to a file the VM can boot: where the
// location points, where a download of it is cached, and copying it into
// the instance with its digest checked and a .gz layer removed on the way.
//
// Downloads themselves (http/https) are in vm/image_download.hpp, which
// fills the cache path defined here (Lima's, by the URL's SHA-256).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

namespace vm {

class ImageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ImageLocation {
  bool remote = false;
  std::filesystem::path local_path;  // when !remote
  std::string url;                   // when remote
};

// "/abs/path", "~/path" (with `home`), "file:///abs/path" are local;
// "http://..." and "https://..." remote; anything else is an ImageError.
ImageLocation parse_image_location(const std::string& location, const std::string& home);

enum class Compression { None, Gzip };

// By the location's suffix: ".gz" is gzip (undone in-process with zlib);
// ".bz2", ".xz", ".zst", ".zstd" are ImageErrors naming the compression;
// anything else is taken as is.
Compression compression_of(const std::string& location);

// Lima's download cache entry for a URL:
// CACHE/download/by-url-sha256/<sha256 of the URL in hex>/data
std::filesystem::path download_cache_file(const std::filesystem::path& cache_directory,
                                          const std::string& url);

// "sha256:<hex>" or "sha512:<hex>" of the file, lower-case hex.
std::string file_digest(const std::filesystem::path& file, const std::string& algorithm);

struct InstallProgress {
  std::uint64_t source_bytes_done = 0;
  std::uint64_t source_bytes_total = 0;
};

// Copies `source` to `destination`, through ".partial" next to it and a
// rename at the end, so the destination is either complete or absent.
// With a digest ("sha256:..." or "sha512:..."), the source's bytes (as
// stored, before decompression: what the digest in lima.yaml is of) must
// match, or ImageError and nothing is left. With Compression::Gzip the
// destination gets the decompressed bytes (a truncated or corrupt stream is
// an ImageError).
void install_image_file(const std::filesystem::path& source,
                        const std::filesystem::path& destination,
                        const std::optional<std::string>& digest, Compression compression,
                        const std::function<void(const InstallProgress&)>& progress = {});

}  // namespace vm
