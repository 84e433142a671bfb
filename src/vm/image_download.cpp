#include "vm/image_download.hpp"

#include <botan/auto_rng.h>
#include <botan/certstor_flatfile.h>
#include <botan/certstor_system.h>
#include <botan/credentials_manager.h>
#include <botan/pkix_types.h>
#include <botan/tls_callbacks.h>
#include <botan/tls_client.h>
#include <botan/tls_policy.h>
#include <botan/tls_session_manager.h>
#include <botan/x509cert.h>

#include <algorithm>
#include <array>
#include <asio.hpp>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <memory>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <variant>

#include "platform/instance_lock.hpp"
#include "ssh/log.hpp"

namespace vm {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxHeaderBlock = 64 * 1024;
constexpr std::size_t kMaxChunkSizeLine = 4096;
constexpr std::size_t kMaxValidator = 1024;
constexpr std::size_t kReadChunk = 64 * 1024;

// The connection broke or went quiet: a later try may resume.
class ConnectionLost : public ImageError {
 public:
  using ImageError::ImageError;
};

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Decimal digits only, no sign, no overflow.
std::optional<std::uint64_t> parse_decimal(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::string describe_bytes(std::uint64_t done, std::uint64_t total) {
  return std::to_string(done) + (total > 0 ? " of " + std::to_string(total) : "") + " bytes";
}

// --- URLs ---------------------------------------------------------------------

struct Url {
  bool https = false;
  std::string host;  // without IPv6 brackets
  std::uint16_t port = 0;
  std::string target;  // path and query, starting with '/'
  std::string text;    // as given (for messages)

  std::string authority() const {
    const std::string name = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    const bool default_port = port == (https ? 443 : 80);
    return default_port ? name : name + ":" + std::to_string(port);
  }
  std::string origin() const { return (https ? "https://" : "http://") + authority(); }
};

Url parse_url(const std::string& text) {
  Url url;
  url.text = text;
  std::string_view rest(text);
  if (rest.starts_with("https://")) {
    url.https = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    throw ImageError("\"" + text + "\" is not an http:// or https:// URL");
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      throw ImageError("URL \"" + text + "\" contains spaces or control characters");
    }
  }
  const std::size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view target =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    throw ImageError("URL " + text +
                     " carries a user name or password, which limactl does not send");
  }
  std::string_view port_text;
  if (authority.starts_with("[")) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) throw ImageError("URL " + text + " has an unclosed [");
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw ImageError("URL " + text + " has junk after its host");
      port_text = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (url.host.empty()) throw ImageError("URL " + text + " has no host");
  url.port = url.https ? 443 : 80;
  if (!port_text.empty()) {
    const auto port = parse_decimal(port_text);
    if (!port || *port == 0 || *port > 65535) {
      throw ImageError("URL " + text + " has an invalid port \"" + std::string(port_text) + "\"");
    }
    url.port = static_cast<std::uint16_t>(*port);
  }
  const std::size_t fragment = target.find('#');
  if (fragment != std::string_view::npos) target = target.substr(0, fragment);
  url.target =
      target.empty() || target.front() != '/' ? "/" + std::string(target) : std::string(target);
  return url;
}

// RFC 3986 5.2.4 on a path with its query: "/a/b/../c/./d?x" -> "/a/c/d?x".
std::string remove_dot_segments(const std::string& target) {
  const std::size_t query = target.find('?');
  const std::string path = target.substr(0, query);
  std::vector<std::string> segments;
  std::size_t start = 1;  // after the leading '/'
  for (;;) {
    const std::size_t slash = path.find('/', start);
    const std::string segment = path.substr(start, slash - start);
    const bool last = slash == std::string::npos;
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
      if (last) segments.emplace_back();
    } else if (segment == ".") {
      if (last) segments.emplace_back();
    } else {
      segments.push_back(segment);
    }
    if (last) break;
    start = slash + 1;
  }
  std::string out;
  for (const auto& segment : segments) out += "/" + segment;
  if (out.empty()) out = "/";
  return query == std::string::npos ? out : out + target.substr(query);
}

// A Location header against the URL it came from: absolute, scheme-relative
// ("//host/x"), absolute-path ("/x") or relative ("x", "../x").
Url resolve_location(const Url& base, const std::string& location) {
  if (location.starts_with("http://") || location.starts_with("https://")) {
    return parse_url(location);
  }
  if (location.starts_with("//")) return parse_url((base.https ? "https:" : "http:") + location);
  if (location.starts_with("/")) return parse_url(base.origin() + remove_dot_segments(location));
  std::string directory = base.target.substr(0, base.target.find('?'));
  directory = directory.substr(0, directory.rfind('/') + 1);
  return parse_url(base.origin() + remove_dot_segments(directory + location));
}

// --- Transports: bytes with timeouts ----------------------------------------

class Transport {
 public:
  virtual ~Transport() = default;
  // 0 at the end of the stream.
  virtual std::size_t read_some(std::uint8_t* data, std::size_t size) = 0;
  virtual void write_all(const std::uint8_t* data, std::size_t size) = 0;
};

// Blocking TCP on Asio with each wait bounded: the io_context runs only for
// the timeout, then the socket is closed and the cancelled operation drained.
class TcpTransport final : public Transport {
 public:
  TcpTransport(const Url& url, const DownloadOptions& options) : options_(options) {
    asio::ip::tcp::resolver resolver(io_);
    std::error_code error;
    const auto endpoints = resolver.resolve(url.host, std::to_string(url.port), error);
    if (error) {
      throw ImageError("cannot resolve host " + url.host + ": " + error.message() +
                       " (check the URL and the network)");
    }
    wait(
        [&](auto done) {
          asio::async_connect(
              socket_, endpoints,
              [done](const std::error_code& ec, const asio::ip::tcp::endpoint&) { done(ec, 0); });
        },
        options_.connect_timeout, "connecting to " + url.authority(),
        [&](const std::error_code& ec) {
          return ImageError("cannot connect to " + url.authority() + ": " + ec.message() +
                            " (is the server up and the URL right?)");
        });
    socket_.set_option(asio::ip::tcp::no_delay(true), error);
  }

  std::size_t read_some(std::uint8_t* data, std::size_t size) override {
    return wait([&](auto done) { socket_.async_read_some(asio::buffer(data, size), done); },
                options_.idle_timeout, "waiting for the server",
                [](const std::error_code& ec) {
                  return ConnectionLost("the connection broke: " + ec.message());
                });
  }

  void write_all(const std::uint8_t* data, std::size_t size) override {
    wait([&](auto done) { asio::async_write(socket_, asio::buffer(data, size), done); },
         options_.idle_timeout, "sending to the server",
         [](const std::error_code& ec) {
           return ConnectionLost("the connection broke: " + ec.message());
         });
  }

 private:
  template <typename Start, typename Failure>
  std::size_t wait(Start&& start, std::chrono::milliseconds timeout, const std::string& what,
                   Failure&& failure) {
    std::optional<std::error_code> outcome;
    std::size_t transferred = 0;
    start([&](const std::error_code& ec, std::size_t count) {
      outcome = ec;
      transferred = count;
    });
    io_.restart();
    io_.run_for(timeout);
    if (!outcome) {
      std::error_code ignored;
      socket_.close(ignored);
      io_.restart();
      io_.run();
      const std::string duration = timeout.count() % 1000 == 0
                                       ? std::to_string(timeout.count() / 1000) + " s"
                                       : std::to_string(timeout.count()) + " ms";
      throw ConnectionLost("timed out after " + duration + " " + what);
    }
    if (*outcome == asio::error::eof) return 0;
    if (*outcome) throw failure(*outcome);
    return transferred;
  }

  const DownloadOptions& options_;
  asio::io_context io_;
  asio::ip::tcp::socket socket_{io_};
};

class TlsPolicy final : public Botan::TLS::Policy {
 public:
  bool allow_tls10() const override { return false; }
  bool allow_tls11() const override { return false; }
  bool allow_tls12() const override { return true; }
  bool allow_dtls10() const override { return false; }
  bool allow_dtls12() const override { return false; }
  // Botan's default wants OCSP or CRL data for every certificate, which
  // most servers do not staple; like curl and browsers without it, the
  // chain and name are checked but revocation is not.
  bool require_cert_revocation_info() const override { return false; }
};

// The CAs a server certificate may chain to: the system store, the files in
// the options and $LIMACTL_CA_FILE.
class TrustStores final : public Botan::Credentials_Manager {
 public:
  explicit TrustStores(const DownloadOptions& options) {
    auto log = ssh::log::get("vm");
    if (options.use_system_ca_store) {
      try {
        stores_.push_back(std::make_unique<Botan::System_Certificate_Store>());
      } catch (const std::exception& error) {
        log->warn("the system CA store cannot be read ({}); trusting only CA files", error.what());
      }
    }
    std::vector<fs::path> files = options.extra_ca_files;
    if (options.use_ca_file_variable) {
      if (const char* variable = std::getenv(kCaFileVariable); variable && *variable) {
        files.emplace_back(variable);
      }
    }
    for (const fs::path& file : files) {
      try {
        stores_.push_back(std::make_unique<Botan::Flatfile_Certificate_Store>(file.string(), true));
        log->debug("trusting the CAs in {}", file.string());
      } catch (const std::exception& error) {
        throw ImageError("cannot use the CA file " + file.string() + " (" + error.what() +
                         "): it must hold PEM CA certificates");
      }
    }
  }

  std::vector<Botan::Certificate_Store*> trusted_certificate_authorities(
      const std::string&, const std::string&) override {
    std::vector<Botan::Certificate_Store*> pointers;
    for (const auto& store : stores_) pointers.push_back(store.get());
    return pointers;
  }

 private:
  std::vector<std::unique_ptr<Botan::Certificate_Store>> stores_;
};

// TLS 1.2 over a TcpTransport. Botan's default chain check runs with the
// host name (SNI sent, certificate name matched).
class TlsTransport final : public Transport, public Botan::TLS::Callbacks {
 public:
  TlsTransport(const Url& url, const DownloadOptions& options)
      : tcp_(url, options), trust_(options) {
    client_ = std::make_unique<Botan::TLS::Client>(
        *this, session_manager_, trust_, policy_, rng_,
        Botan::TLS::Server_Information(url.host, url.port), Botan::TLS::Protocol_Version::TLS_V12);
    flush();
    std::array<std::uint8_t, 16 * 1024> buffer;
    while (!client_->is_active()) {
      if (client_->is_closed()) throw handshake_failure("the server closed the TLS session");
      const std::size_t count = tcp_.read_some(buffer.data(), buffer.size());
      if (count == 0) throw handshake_failure("the server closed the connection");
      feed(buffer.data(), count);
    }
  }

  std::size_t read_some(std::uint8_t* data, std::size_t size) override {
    std::array<std::uint8_t, 16 * 1024> buffer;
    while (plaintext_.empty()) {
      if (peer_closed_) return 0;
      const std::size_t count = tcp_.read_some(buffer.data(), buffer.size());
      if (count == 0) {
        throw ConnectionLost("the connection ended without a TLS close_notify (cut off?)");
      }
      feed(buffer.data(), count);
    }
    const std::size_t count = std::min(size, plaintext_.size());
    std::copy_n(plaintext_.begin(), count, data);
    plaintext_.erase(plaintext_.begin(), plaintext_.begin() + static_cast<long>(count));
    return count;
  }

  void write_all(const std::uint8_t* data, std::size_t size) override {
    client_->send(data, size);
    flush();
  }

 private:
  void feed(const std::uint8_t* data, std::size_t size) {
    try {
      client_->received_data(data, size);
    } catch (const std::exception& error) {
      // The alert Botan queued is sent on a best-effort basis.
      try {
        flush();
      } catch (const ImageError&) {
      }
      std::string message = std::string("TLS: ") + error.what();
      if (message.find("does not match provided name") != std::string::npos) {
        message += " (the certificate is for another host name: use the name it was issued for)";
      } else if (message.find("ertificate") != std::string::npos) {
        message += " (if the server's certificate comes from a private CA, name its PEM file in $" +
                   std::string(kCaFileVariable) + ")";
      }
      throw ImageError(message);
    }
    flush();
  }

  ImageError handshake_failure(const std::string& what) const {
    return ImageError("TLS handshake failed: " + what +
                      (alert_.empty() ? "" : " (alert: " + alert_ + ")") +
                      "; the server must speak TLS 1.2");
  }

  void flush() {
    if (outbox_.empty()) return;
    std::vector<std::uint8_t> pending;
    pending.swap(outbox_);
    tcp_.write_all(pending.data(), pending.size());
  }

  void tls_emit_data(const std::uint8_t data[], std::size_t size) override {
    outbox_.insert(outbox_.end(), data, data + size);
  }
  void tls_record_received(std::uint64_t, const std::uint8_t data[], std::size_t size) override {
    plaintext_.insert(plaintext_.end(), data, data + size);
  }
  void tls_alert(Botan::TLS::Alert alert) override {
    if (alert.type() == Botan::TLS::Alert::CLOSE_NOTIFY) {
      peer_closed_ = true;
    } else {
      alert_ = alert.type_string();
    }
  }
  bool tls_session_established(const Botan::TLS::Session&) override { return false; }

  TcpTransport tcp_;
  TrustStores trust_;
  TlsPolicy policy_;
  Botan::AutoSeeded_RNG rng_;
  Botan::TLS::Session_Manager_Noop session_manager_;
  std::unique_ptr<Botan::TLS::Client> client_;
  std::vector<std::uint8_t> outbox_;
  std::vector<std::uint8_t> plaintext_;
  bool peer_closed_ = false;
  std::string alert_;
};

// --- HTTP/1.1 ------------------------------------------------------------------

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Response {
  int status = 0;
  std::string reason;
  Headers headers;  // names lower-case

  std::optional<std::string> header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) return value;
    }
    return std::nullopt;
  }
  std::string status_text() const {
    return "HTTP " + std::to_string(status) + (reason.empty() ? "" : " " + reason);
  }
};

enum class BodyKind { Length, Chunked, UntilClose };

struct BodyFraming {
  BodyKind kind = BodyKind::UntilClose;
  std::uint64_t length = 0;  // for Length
};

Response parse_head(std::string_view head) {
  Response response;
  std::size_t line_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, line_end);
  // "HTTP/1.1 200 OK"
  if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12 || status_line[8] != ' ' ||
      !std::isdigit(static_cast<unsigned char>(status_line[9])) ||
      !std::isdigit(static_cast<unsigned char>(status_line[10])) ||
      !std::isdigit(static_cast<unsigned char>(status_line[11])) ||
      (status_line.size() > 12 && status_line[12] != ' ')) {
    throw ImageError("the server's answer is not HTTP/1.x (status line \"" +
                     std::string(status_line.substr(0, 80)) + "\")");
  }
  response.status = std::stoi(std::string(status_line.substr(9, 3)));
  if (status_line.size() > 13) response.reason = std::string(trim(status_line.substr(13)));
  while (line_end != std::string_view::npos) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string_view line = head.substr(start, line_end - start);
    if (line.empty()) break;
    // A lone CR or LF, or another control character, could smuggle a
    // header into our next request (the ETag goes back in If-Range).
    const bool control = std::any_of(line.begin(), line.end(), [](char c) {
      return (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f;
    });
    const std::size_t colon = line.find(':');
    if (control || colon == std::string_view::npos || colon == 0 || line.front() == ' ' ||
        line.front() == '\t' || trim(line.substr(0, colon)).size() != colon) {
      throw ImageError("the server sent a malformed header line \"" +
                       std::string(line.substr(0, 80)) + "\"");
    }
    response.headers.emplace_back(lower(line.substr(0, colon)),
                                  std::string(trim(line.substr(colon + 1))));
  }
  return response;
}

BodyFraming framing_of(const Response& response) {
  BodyFraming framing;
  std::optional<std::string> transfer_encoding;
  std::optional<std::uint64_t> length;
  for (const auto& [name, value] : response.headers) {
    if (name == "transfer-encoding") {
      transfer_encoding = transfer_encoding ? *transfer_encoding + "," + value : value;
    } else if (name == "content-length") {
      const auto parsed = parse_decimal(value);
      if (!parsed || (length && *length != *parsed)) {
        throw ImageError("the server sent an invalid Content-Length \"" + value.substr(0, 40) +
                         "\"");
      }
      length = parsed;
    }
  }
  if (transfer_encoding) {
    std::string codings = lower(*transfer_encoding);
    codings.erase(std::remove_if(codings.begin(), codings.end(),
                                 [](char c) { return c == ' ' || c == '\t'; }),
                  codings.end());
    if (codings != "chunked") {
      throw ImageError("the server sent Transfer-Encoding \"" + transfer_encoding->substr(0, 60) +
                       "\", which limactl does not decode (only chunked)");
    }
    framing.kind = BodyKind::Chunked;
  } else if (length) {
    framing.kind = BodyKind::Length;
    framing.length = *length;
  }
  return framing;
}

// One request and its response on a connection of its own
// ("Connection: close").
class HttpExchange {
 public:
  HttpExchange(const Url& url, const Headers& request_headers, const DownloadOptions& options) {
    if (url.https) {
      transport_ = std::make_unique<TlsTransport>(url, options);
    } else {
      transport_ = std::make_unique<TcpTransport>(url, options);
    }
    std::string request = "GET " + url.target + " HTTP/1.1\r\nHost: " + url.authority() +
                          "\r\nUser-Agent: limactl/" LIMACTL_VERSION
                          "\r\nAccept: */*\r\nAccept-Encoding: identity\r\nConnection: close\r\n";
    for (const auto& [name, value] : request_headers) request += name + ": " + value + "\r\n";
    request += "\r\n";
    transport_->write_all(reinterpret_cast<const std::uint8_t*>(request.data()), request.size());
    read_head();
  }

  const Response& response() const { return response_; }
  const BodyFraming& framing() const { return framing_; }

  // Hands the body to `sink` piece by piece until its end.
  void read_body(const std::function<void(const std::uint8_t*, std::size_t)>& sink) {
    switch (framing_.kind) {
      case BodyKind::Length:
        read_exactly(framing_.length, sink);
        return;
      case BodyKind::UntilClose:
        for (;;) {
          if (buffer_.empty() && !fill()) return;
          sink(reinterpret_cast<const std::uint8_t*>(buffer_.data()), buffer_.size());
          buffer_.clear();
        }
      case BodyKind::Chunked:
        read_chunked(sink);
        return;
    }
  }

 private:
  // False at the end of the stream.
  bool fill() {
    std::array<std::uint8_t, kReadChunk> chunk;
    const std::size_t count = transport_->read_some(chunk.data(), chunk.size());
    buffer_.append(reinterpret_cast<const char*>(chunk.data()), count);
    return count > 0;
  }

  void read_head() {
    std::size_t interim_bytes = 0;  // 1xx answers count against the same limit
    for (;;) {
      std::size_t end = buffer_.find("\r\n\r\n");
      if (end != std::string::npos && interim_bytes + end + 4 <= kMaxHeaderBlock) {
        response_ = parse_head(std::string_view(buffer_).substr(0, end + 2));
        buffer_.erase(0, end + 4);
        interim_bytes += end + 4;
        // 1xx: interim answers, the real one follows.
        if (response_.status >= 100 && response_.status < 200) continue;
        framing_ = framing_of(response_);
        return;
      }
      if (interim_bytes + buffer_.size() >= kMaxHeaderBlock) {
        throw ImageError("the server's response headers exceed " +
                         std::to_string(kMaxHeaderBlock / 1024) + " KiB");
      }
      if (!fill()) throw ConnectionLost("the server closed the connection before answering");
    }
  }

  void read_exactly(std::uint64_t count,
                    const std::function<void(const std::uint8_t*, std::size_t)>& sink) {
    std::uint64_t left = count;
    while (left > 0) {
      if (buffer_.empty() && !fill()) {
        throw ConnectionLost("the connection closed " + std::to_string(left) +
                             " bytes before the end of the body");
      }
      const std::size_t take =
          static_cast<std::size_t>(std::min<std::uint64_t>(left, buffer_.size()));
      sink(reinterpret_cast<const std::uint8_t*>(buffer_.data()), take);
      buffer_.erase(0, take);
      left -= take;
    }
  }

  std::string read_line(std::size_t limit) {
    for (;;) {
      const std::size_t end = buffer_.find("\r\n");
      if (end != std::string::npos && end <= limit) {
        std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 2);
        return line;
      }
      // +1: a "\r" may be waiting for its "\n".
      if (buffer_.size() > limit + 1) {
        throw ImageError("the server sent a malformed chunked body (a line over " +
                         std::to_string(limit) + " bytes)");
      }
      if (!fill()) throw ConnectionLost("the connection closed inside a chunked body");
    }
  }

  void read_chunked(const std::function<void(const std::uint8_t*, std::size_t)>& sink) {
    for (;;) {
      const std::string size_line = read_line(kMaxChunkSizeLine);
      const std::string_view size_text =
          trim(std::string_view(size_line).substr(0, size_line.find(';')));
      if (size_text.empty() || size_text.size() > 15) {
        throw ImageError("the server sent a malformed chunk size");
      }
      std::uint64_t size = 0;
      for (char c : size_text) {
        const int digit = std::isdigit(static_cast<unsigned char>(c))
                              ? c - '0'
                              : (std::isxdigit(static_cast<unsigned char>(c))
                                     ? std::tolower(static_cast<unsigned char>(c)) - 'a' + 10
                                     : -1);
        if (digit < 0) throw ImageError("the server sent a malformed chunk size");
        size = size * 16 + static_cast<std::uint64_t>(digit);
      }
      if (size == 0) break;
      read_exactly(size, sink);
      if (!read_line(0).empty()) throw ImageError("the server sent a malformed chunked body");
    }
    // Trailers, up to the empty line; bounded like the header block.
    std::size_t trailer_bytes = 0;
    for (;;) {
      const std::string line = read_line(kMaxHeaderBlock);
      if (line.empty()) return;
      trailer_bytes += line.size();
      if (trailer_bytes > kMaxHeaderBlock) {
        throw ImageError("the server's chunked trailers exceed " +
                         std::to_string(kMaxHeaderBlock / 1024) + " KiB");
      }
    }
  }

  std::unique_ptr<Transport> transport_;
  std::string buffer_;
  Response response_;
  BodyFraming framing_;
};

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

struct Opened {
  std::unique_ptr<HttpExchange> exchange;
  Url url;  // after redirects
};

Opened open_following_redirects(const std::string& url_text, const Headers& headers,
                                const DownloadOptions& options) {
  auto log = ssh::log::get("vm");
  Url url = parse_url(url_text);
  for (int redirects = 0;; ++redirects) {
    log->debug("GET {}", url.text);
    auto exchange = std::make_unique<HttpExchange>(url, headers, options);
    const Response& response = exchange->response();
    log->debug("{}: {}", url.text, response.status_text());
    if (!is_redirect(response.status)) return {std::move(exchange), url};
    const auto location = response.header("location");
    if (!location || location->empty()) {
      throw ImageError(url.text + " answered " + response.status_text() + " without a Location");
    }
    if (redirects >= options.max_redirects) {
      throw ImageError("more than " + std::to_string(options.max_redirects) +
                       " redirects (last to " + *location + "); check the URL");
    }
    Url next = resolve_location(url, *location);
    if (url.https && !next.https) {
      throw ImageError(url.text + " redirects to plain http (" + next.text +
                       "), which is refused; use an https URL that stays on https");
    }
    log->info("{} redirects to {}", url.text, next.text);
    url = std::move(next);
  }
}

std::string status_failure(const Opened& opened) {
  const Response& response = opened.exchange->response();
  std::string message = opened.url.text + " answered " + response.status_text();
  if (response.status == 404 || response.status == 410) {
    message += "; check the URL (the file may have moved; a newer template may name it)";
  } else if (response.status >= 500) {
    message += "; the server has a problem, try again later";
  } else if (response.status == 401 || response.status == 403) {
    message += "; the server refuses the download";
  }
  return message;
}

// --- Resumable download ---------------------------------------------------------

// What If-Range can carry: a strong ETag, else Last-Modified.
std::string validator_of(const Response& response) {
  if (auto etag = response.header("etag"); etag && !etag->starts_with("W/") && !etag->empty()) {
    return *etag;
  }
  if (auto modified = response.header("last-modified")) return *modified;
  return {};
}

struct ContentRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::optional<std::uint64_t> complete_length;
};

// "bytes FIRST-LAST/COMPLETE" (COMPLETE may be "*").
std::optional<ContentRange> parse_content_range(std::string_view text) {
  if (!text.starts_with("bytes ")) return std::nullopt;
  text.remove_prefix(6);
  const std::size_t dash = text.find('-');
  const std::size_t slash = text.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || dash > slash) {
    return std::nullopt;
  }
  const auto first = parse_decimal(trim(text.substr(0, dash)));
  const auto last = parse_decimal(trim(text.substr(dash + 1, slash - dash - 1)));
  if (!first || !last || *last < *first) return std::nullopt;
  ContentRange range{*first, *last, std::nullopt};
  const std::string_view complete = trim(text.substr(slash + 1));
  if (complete != "*") {
    range.complete_length = parse_decimal(complete);
    if (!range.complete_length || *range.complete_length <= *last) return std::nullopt;
  }
  return range;
}

std::string read_small_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text(kMaxValidator + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxValidator) return {};
  text = std::string(trim(text));
  // Only what a header may carry (the validator goes into If-Range).
  if (std::any_of(text.begin(), text.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    return {};
  }
  return text;
}

void remove_quietly(const fs::path& path) {
  std::error_code ignored;
  fs::remove(path, ignored);
}

void write_small_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw ImageError("cannot write " + path.string() + " (disk full or not writable?)");
}

// Brings `partial` to the complete body of `url`, resuming what an earlier
// try left there when its validator still matches.
void download_to_partial(const std::string& url, const fs::path& partial,
                         const DownloadOptions& options) {
  auto log = ssh::log::get("vm");
  const fs::path validator_file = partial.string() + ".validator";
  bool restarted = false;
  const int attempts = std::max(options.attempts, 1);
  for (int attempt = 1;;) {
    std::error_code error;
    std::uint64_t have = 0;
    std::string validator;
    if (fs::exists(partial, error) && fs::exists(validator_file, error)) {
      validator = read_small_file(validator_file);
      have = fs::file_size(partial, error);
      if (error) have = 0;
    }
    if (validator.empty() || have == 0) {
      have = 0;
      remove_quietly(partial);
      remove_quietly(validator_file);
    }
    Headers headers;
    if (have > 0) {
      headers.emplace_back("Range", "bytes=" + std::to_string(have) + "-");
      headers.emplace_back("If-Range", validator);
      log->info("resuming {} from byte {}", url, have);
    }
    Opened opened = open_following_redirects(url, headers, options);
    const Response& response = opened.exchange->response();
    const std::string new_validator = validator_of(response);

    auto restart = [&](const std::string& why) {
      if (restarted) throw ImageError(opened.url.text + ": " + why + " again after a restart");
      log->warn("{}: {}; downloading from the start", opened.url.text, why);
      restarted = true;
      remove_quietly(partial);
      remove_quietly(validator_file);
    };

    bool append = false;
    std::uint64_t total = 0;
    if (response.status == 206 && have > 0) {
      const auto range = parse_content_range(response.header("content-range").value_or(""));
      const auto& framing = opened.exchange->framing();
      const bool validator_changed =
          !new_validator.empty() && new_validator != validator &&
          // The other kind of validator says nothing.
          (new_validator.starts_with("\"") == validator.starts_with("\""));
      if (!range || range->first != have ||
          (framing.kind == BodyKind::Length && framing.length != range->last - range->first + 1) ||
          (range->complete_length && range->last + 1 != *range->complete_length) ||
          validator_changed) {
        restart("the server's partial answer (" +
                response.header("content-range").value_or("no Content-Range") +
                ") does not continue the " + std::to_string(have) + " bytes already here");
        continue;
      }
      append = true;
      total = range->last + 1;
    } else if (response.status == 416 && have > 0) {
      restart("the server cannot continue from byte " + std::to_string(have));
      continue;
    } else if (response.status == 200) {
      if (have > 0) log->info("{}: the server sent the whole file again", opened.url.text);
      const auto& framing = opened.exchange->framing();
      if (framing.kind == BodyKind::Length) total = framing.length;
    } else {
      throw ImageError(status_failure(opened));
    }

    if (new_validator.empty() || new_validator.size() > kMaxValidator) {
      remove_quietly(validator_file);
    } else {
      write_small_file(validator_file, new_validator);
    }
    std::ofstream out(partial, std::ios::binary | (append ? std::ios::app : std::ios::trunc));
    if (!out) throw ImageError("cannot write " + partial.string());
    DownloadProgress progress{append ? have : 0, total};
    if (options.progress) options.progress(progress);
    try {
      opened.exchange->read_body([&](const std::uint8_t* data, std::size_t size) {
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
        if (!out) {
          throw ImageError("cannot write " + partial.string() + " (disk full?)");
        }
        progress.bytes_done += size;
        if (options.progress) options.progress(progress);
      });
    } catch (const ConnectionLost& lost) {
      out.close();
      if (attempt < attempts) {
        log->warn("{}: {} after {}; trying again", opened.url.text, lost.what(),
                  describe_bytes(progress.bytes_done, total));
        ++attempt;
        continue;
      }
      throw ImageError(opened.url.text + ": " + lost.what() + " after " +
                       describe_bytes(progress.bytes_done, total) +
                       "; run the command again to resume");
    }
    out.close();
    if (!out) throw ImageError("cannot write " + partial.string() + " (disk full?)");
    if (total > 0 && progress.bytes_done != total) {
      restart("the body has " + std::to_string(progress.bytes_done) + " bytes, not " +
              std::to_string(total));
      continue;
    }
    remove_quietly(validator_file);
    return;
  }
}

void rename_or_throw(const fs::path& from, const fs::path& to) {
  std::error_code error;
  fs::rename(from, to, error);
  if (error) {
    remove_quietly(from);
    throw ImageError("cannot rename " + from.string() + " to " + to.string() + ": " +
                     error.message());
  }
}

// Held while a cache entry is checked and filled, so two limactl runs never
// write one .partial; the second waits for the first (whose lock goes when
// it ends, however it ends) and then finds its `data`. Beside the entry, not
// in it: an entry that failed is removed whole.
platform::FileLock lock_cache_entry(const fs::path& entry, const std::string& url) {
  const fs::path lock_file = entry.string() + ".lock";
  bool told = false;
  for (;;) {
    auto attempt = platform::FileLock::try_lock(lock_file);
    if (auto* lock = std::get_if<platform::FileLock>(&attempt)) return std::move(*lock);
    if (auto* failed = std::get_if<platform::FileLock::Failed>(&attempt)) {
      throw ImageError("cannot lock " + lock_file.string() + ": " + failed->message);
    }
    if (!told) {
      const int holder = std::get<platform::FileLock::Busy>(attempt).holder_pid;
      ssh::log::get("vm")->warn("waiting for another limactl{} downloading {}",
                                holder > 0 ? " (pid " + std::to_string(holder) + ")" : "", url);
      told = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace

void download_file(const std::string& url, const fs::path& destination,
                   const DownloadOptions& options) {
  const fs::path partial = destination.string() + ".partial";
  try {
    download_to_partial(url, partial, options);
  } catch (const ImageError& error) {
    throw ImageError("cannot download " + url + ": " + error.what());
  }
  rename_or_throw(partial, destination);
}

std::string fetch_text(const std::string& url, std::size_t max_bytes,
                       const DownloadOptions& options) {
  try {
    Opened opened = open_following_redirects(url, {}, options);
    if (opened.exchange->response().status != 200) throw ImageError(status_failure(opened));
    const auto& framing = opened.exchange->framing();
    const std::string too_big = "the file is larger than " + std::to_string(max_bytes) +
                                " bytes, too large for a lima.yaml";
    if (framing.kind == BodyKind::Length && framing.length > max_bytes) throw ImageError(too_big);
    std::string body;
    opened.exchange->read_body([&](const std::uint8_t* data, std::size_t size) {
      if (size > max_bytes - body.size()) throw ImageError(too_big);
      body.append(reinterpret_cast<const char*>(data), size);
    });
    return body;
  } catch (const ImageError& error) {
    throw ImageError("cannot download " + url + ": " + error.what());
  }
}

fs::path fetch_to_cache(const std::string& url, const fs::path& cache_directory,
                        const std::optional<std::string>& digest,
                        const DownloadProgressCallback& progress, DownloadOptions options) {
  auto log = ssh::log::get("vm");
  const fs::path data = download_cache_file(cache_directory, url);
  const fs::path entry = data.parent_path();
  std::string algorithm;
  if (digest) {
    const std::size_t colon = digest->find(':');
    algorithm = digest->substr(0, colon);
    if (colon == std::string::npos || (algorithm != "sha256" && algorithm != "sha512")) {
      throw ImageError("digest \"" + *digest + "\" of " + url +
                       " is not sha256:HEX or sha512:HEX; fix it in lima.yaml");
    }
  }
  const fs::path digest_file = entry / (algorithm + ".digest");
  std::error_code error;
  fs::create_directories(entry.parent_path(), error);
  if (error) {
    throw ImageError("cannot create the cache directory " + entry.parent_path().string() + ": " +
                     error.message());
  }
  const platform::FileLock lock = lock_cache_entry(entry, url);
  if (fs::exists(data, error)) {
    if (!digest) return data;
    const std::string recorded = fs::exists(digest_file, error) ? read_small_file(digest_file) : "";
    if (recorded == *digest) return data;
    if (recorded.empty() && file_digest(data, algorithm) == *digest) {
      write_small_file(digest_file, *digest);
      return data;
    }
    log->warn("the cached {} does not match {}; downloading it again", data.string(), *digest);
    remove_quietly(data);
    remove_quietly(digest_file);
  }

  fs::create_directories(entry, error);
  if (error) {
    throw ImageError("cannot create the cache directory " + entry.string() + ": " +
                     error.message());
  }
  const fs::path partial = data.string() + ".partial";
  auto remove_empty_entry = [&] {
    std::error_code ignored;
    if (fs::is_empty(entry, ignored)) fs::remove(entry, ignored);
  };
  if (progress) options.progress = progress;
  try {
    download_to_partial(url, partial, options);
  } catch (const ImageError& failure) {
    remove_empty_entry();
    throw ImageError("cannot download " + url + ": " + failure.what());
  }
  if (digest) {
    const std::string actual = file_digest(partial, algorithm);
    if (actual != *digest) {
      remove_quietly(partial);
      remove_empty_entry();
      throw ImageError("the download of " + url + " does not match its digest: expected " +
                       *digest + ", got " + actual +
                       "; the file at the URL changed or the digest in lima.yaml is wrong");
    }
  }
  rename_or_throw(partial, data);
  if (digest) write_small_file(digest_file, *digest);
  write_small_file(entry / "url", url);
  log->info("downloaded {} to {}", url, data.string());
  return data;
}

std::string url_file_stem(const std::string& url) {
  std::string path = url.substr(0, url.find_first_of("?#"));
  if (const std::size_t scheme = path.find("://"); scheme != std::string::npos) {
    const std::size_t slash = path.find('/', scheme + 3);
    path = slash == std::string::npos ? "" : path.substr(slash);
  }
  while (!path.empty() && path.back() == '/') path.pop_back();
  std::string name = path.substr(path.rfind('/') + 1);
  if (const std::size_t dot = name.rfind('.'); dot != std::string::npos && dot > 0) {
    name.resize(dot);
  }
  return name;
}

}  // namespace vm
