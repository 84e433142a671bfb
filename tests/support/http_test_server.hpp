// A scriptable HTTP/1.1 server on 127.0.0.1 (port 0, a thread of its own)
// for the download tests: each request goes to a handler that says what to
// answer (status, headers, body, chunked or not, where to cut the connection),
// and every request is kept for the test to inspect. With a TlsIdentity it
// speaks TLS 1.2 (Botan's TLS::Server) with a certificate from a CA made for
// the test. One connection per request ("Connection: close"), served one at
// a time.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace testing_support {

struct HttpRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case

  std::optional<std::string> header(std::string_view name) const;
};

struct HttpReply {
  int status = 200;
  std::string reason = "OK";
  std::vector<std::pair<std::string, std::string>> headers;  // sent as given
  std::string body;
  // Transfer-Encoding: chunked, in chunks of chunk_size (no Content-Length).
  bool chunked = false;
  std::size_t chunk_size = 1000;
  // Content-Length is added unless chunked or this is false (then the body
  // ends when the connection does).
  bool content_length = true;
  // The connection is cut (no TLS close_notify) after this many body bytes.
  std::optional<std::size_t> drop_after;
};

// A file served as a server with Range support serves it: "Range: bytes=N-"
// (with an If-Range equal to `etag`, or none) gets 206 and Content-Range,
// anything else 200 with the whole body.
struct ServedFile {
  std::string body;
  std::string etag;  // with its quotes, e.g. "\"v1\""; empty: none sent
  bool ranges = true;
};
HttpReply reply_for_file(const HttpRequest& request, const ServedFile& file);

// A CA and a server certificate for `dns_name` signed by it (ECDSA P-256),
// valid from an hour ago for a day. PEM texts.
struct TlsIdentity {
  std::string ca_certificate_pem;
  std::string server_certificate_pem;
  std::string server_key_pem;  // PKCS#8

  static TlsIdentity generate(const std::string& dns_name);
};

class HttpTestServer {
 public:
  using Handler = std::function<HttpReply(const HttpRequest&)>;

  explicit HttpTestServer(Handler handler, std::optional<TlsIdentity> tls = std::nullopt);
  ~HttpTestServer();
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  std::uint16_t port() const { return port_; }
  // "http(s)://HOST:PORT" + path.
  std::string url(std::string_view path, std::string_view host = "127.0.0.1") const;
  // Every request read so far, in order.
  std::vector<HttpRequest> requests() const;
  // Connections that ended with an error on the server's side (a TLS
  // handshake the client refused, a client that went away).
  std::vector<std::string> connection_errors() const;

 private:
  struct State;
  void serve();

  Handler handler_;
  std::optional<TlsIdentity> tls_;
  std::uint16_t port_ = 0;
  std::unique_ptr<State> state_;
  mutable std::mutex mutex_;
  std::vector<HttpRequest> requests_;
  std::vector<std::string> errors_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace testing_support
