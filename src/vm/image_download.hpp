// Downloading images (and lima.yaml files) over http:// and https://:
// HTTP/1.1 GET on Asio, TLS 1.2 with Botan, the server's certificate chain
// and host name checked against the system's CA store (plus CA bundle files
// for private CAs and tests). Downloads resume: the body goes to
// DEST.partial, the server's ETag or Last-Modified to
// DEST.partial.validator, and the next try asks for the rest with
// Range + If-Range. DEST itself only ever appears complete.
//
// CLI-side code: failures are ImageError exceptions with a one-line message
// naming the URL and what to do.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "vm/image_files.hpp"

namespace vm {

struct DownloadProgress {
  std::uint64_t bytes_done = 0;   // including bytes kept from an earlier try
  std::uint64_t bytes_total = 0;  // 0 when the server does not say
};

using DownloadProgressCallback = std::function<void(const DownloadProgress&)>;

// The environment variable that names one more CA bundle file (PEM) to trust
// for https, for servers behind a private CA.
inline constexpr const char* kCaFileVariable = "LIMACTL_CA_FILE";

struct DownloadOptions {
  // PEM bundles trusted besides the system store (and $LIMACTL_CA_FILE).
  std::vector<std::filesystem::path> extra_ca_files;
  // Whether $LIMACTL_CA_FILE is read (tests turn it off to stay hermetic).
  bool use_ca_file_variable = true;
  // Whether the system CA store is trusted (tests turn it off to prove that
  // an unknown CA is refused whatever the machine trusts).
  bool use_system_ca_store = true;
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(30);
  // Longest wait for the next bytes from the server once connected.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
  int max_redirects = 10;
  // Connections tried in one download_file call when the body is cut off
  // (each later one resumes where the previous stopped).
  int attempts = 3;
  DownloadProgressCallback progress;
};

// Downloads `url` to `destination` with resume (see above). On success
// `destination` holds the body and no .partial or .validator is left; on
// failure an ImageError, and a .partial that a later call may resume.
void download_file(const std::string& url, const std::filesystem::path& destination,
                   const DownloadOptions& options = {});

// The body of `url`, refused (ImageError) if longer than `max_bytes`.
std::string fetch_text(const std::string& url, std::size_t max_bytes,
                       const DownloadOptions& options = {});

// Lima's download cache: returns CACHE/download/by-url-sha256/<hex>/data,
// downloading it first unless present. A fresh download is checked against
// `digest` ("sha256:..."/"sha512:...") before it is renamed to `data`: on a
// mismatch nothing is kept and ImageError is thrown. Beside `data` go Lima's
// `url` file and `<algorithm>.digest` once a digest was checked; a cached
// `data` whose recorded digest differs from `digest` is downloaded again.
// One process at a time fills an entry (a lock file beside it, <hex>.lock);
// a second one waits for it.
std::filesystem::path fetch_to_cache(const std::string& url,
                                     const std::filesystem::path& cache_directory,
                                     const std::optional<std::string>& digest,
                                     const DownloadProgressCallback& progress = {},
                                     DownloadOptions options = {});

// The last path segment of the URL without its query, fragment and
// extension ("https://h/x/ubuntu.yaml?a=b" -> "ubuntu"): Lima's default
// instance name for `limactl create URL`. Empty if there is none.
std::string url_file_stem(const std::string& url);

}  // namespace vm
