#include "support/http_test_server.hpp"

#include <botan/auto_rng.h>
#include <botan/credentials_manager.h>
#include <botan/data_src.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/pkcs8.h>
#include <botan/pkix_types.h>
#include <botan/tls_callbacks.h>
#include <botan/tls_policy.h>
#include <botan/tls_server.h>
#include <botan/tls_session_manager.h>
#include <botan/x509_ca.h>
#include <botan/x509cert.h>
#include <botan/x509self.h>

#include <algorithm>
#include <array>
#include <asio.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>

namespace testing_support {
namespace {

constexpr std::size_t kMaxRequestHead = 64 * 1024;

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim_spaces(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return std::string(text);
}

HttpRequest parse_request(const std::string& head) {
  HttpRequest request;
  std::size_t line_end = head.find("\r\n");
  const std::string request_line = head.substr(0, line_end);
  const std::size_t first_space = request_line.find(' ');
  const std::size_t second_space = request_line.find(' ', first_space + 1);
  if (first_space == std::string::npos || second_space == std::string::npos) {
    throw std::runtime_error("malformed request line: " + request_line);
  }
  request.method = request_line.substr(0, first_space);
  request.target = request_line.substr(first_space + 1, second_space - first_space - 1);
  while (line_end != std::string::npos) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line = head.substr(start, line_end - start);
    if (line.empty()) break;
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) throw std::runtime_error("malformed header: " + line);
    request.headers.emplace_back(lower(line.substr(0, colon)), trim_spaces(line.substr(colon + 1)));
  }
  return request;
}

// What goes on the wire for a reply: the head, then the body pieces; the
// connection is cut after `drop_after` body bytes.
struct WireReply {
  std::string head;
  std::string body;                   // already chunk-encoded if chunked
  std::optional<std::size_t> cut_at;  // bytes of `body` to send before cutting
};

WireReply encode(const HttpReply& reply) {
  WireReply wire;
  wire.head = "HTTP/1.1 " + std::to_string(reply.status) + " " + reply.reason + "\r\n";
  for (const auto& [name, value] : reply.headers) wire.head += name + ": " + value + "\r\n";
  if (reply.chunked) {
    wire.head += "Transfer-Encoding: chunked\r\n";
    for (std::size_t offset = 0; offset < reply.body.size(); offset += reply.chunk_size) {
      const std::string piece = reply.body.substr(offset, reply.chunk_size);
      char size[32];
      std::snprintf(size, sizeof size, "%zx", piece.size());
      wire.body += std::string(size) + ";ext=1\r\n" + piece + "\r\n";
    }
    wire.body += "0\r\nX-Trailer: yes\r\n\r\n";
  } else {
    if (reply.content_length) {
      wire.head += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
    }
    wire.body = reply.body;
  }
  wire.head += "Connection: close\r\n\r\n";
  if (reply.drop_after) wire.cut_at = std::min(*reply.drop_after, wire.body.size());
  return wire;
}

class ServerCredentials final : public Botan::Credentials_Manager {
 public:
  explicit ServerCredentials(const TlsIdentity& identity) {
    Botan::DataSource_Memory certificate(identity.server_certificate_pem);
    certificate_ = std::make_unique<Botan::X509_Certificate>(certificate);
    Botan::DataSource_Memory key(identity.server_key_pem);
    key_ = Botan::PKCS8::load_key(key);
  }
  std::vector<Botan::X509_Certificate> cert_chain(const std::vector<std::string>& key_types,
                                                  const std::string&, const std::string&) override {
    if (std::find(key_types.begin(), key_types.end(), key_->algo_name()) == key_types.end()) {
      return {};
    }
    return {*certificate_};
  }
  Botan::Private_Key* private_key_for(const Botan::X509_Certificate&, const std::string&,
                                      const std::string&) override {
    return key_.get();
  }

 private:
  std::unique_ptr<Botan::X509_Certificate> certificate_;
  std::unique_ptr<Botan::Private_Key> key_;
};

// One connection: plain bytes, or TLS on top of them.
class Connection : public Botan::TLS::Callbacks {
 public:
  Connection(asio::ip::tcp::socket& socket, ServerCredentials* credentials,
             Botan::RandomNumberGenerator& rng)
      : socket_(socket) {
    if (credentials != nullptr) {
      tls_ =
          std::make_unique<Botan::TLS::Server>(*this, session_manager_, *credentials, policy_, rng);
    }
  }

  std::string read_request_head() {
    for (;;) {
      const std::size_t end = inbox_.find("\r\n\r\n");
      if (end != std::string::npos) return inbox_.substr(0, end + 4);
      if (inbox_.size() > kMaxRequestHead) throw std::runtime_error("request head too large");
      std::array<char, 16 * 1024> buffer;
      const std::size_t count = socket_.read_some(asio::buffer(buffer));
      if (tls_) {
        tls_->received_data(reinterpret_cast<const std::uint8_t*>(buffer.data()), count);
        flush();
      } else {
        inbox_.append(buffer.data(), count);
      }
    }
  }

  void send(std::string_view data) {
    if (tls_) {
      tls_->send(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
      flush();
    } else {
      asio::write(socket_, asio::buffer(data.data(), data.size()));
    }
  }

  // A clean end (TLS close_notify), or a cut.
  void finish(bool clean) {
    if (clean && tls_) {
      tls_->close();
      flush();
    }
    std::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  void flush() {
    if (outbox_.empty()) return;
    asio::write(socket_, asio::buffer(outbox_));
    outbox_.clear();
  }
  void tls_emit_data(const std::uint8_t data[], std::size_t size) override {
    outbox_.append(reinterpret_cast<const char*>(data), size);
  }
  void tls_record_received(std::uint64_t, const std::uint8_t data[], std::size_t size) override {
    inbox_.append(reinterpret_cast<const char*>(data), size);
  }
  void tls_alert(Botan::TLS::Alert) override {}
  bool tls_session_established(const Botan::TLS::Session&) override { return false; }

  asio::ip::tcp::socket& socket_;
  Botan::TLS::Policy policy_;
  Botan::TLS::Session_Manager_Noop session_manager_;
  std::unique_ptr<Botan::TLS::Server> tls_;
  std::string inbox_;
  std::string outbox_;
};

}  // namespace

std::optional<std::string> HttpRequest::header(std::string_view name) const {
  const std::string wanted = lower(name);
  for (const auto& [key, value] : headers) {
    if (key == wanted) return value;
  }
  return std::nullopt;
}

HttpReply reply_for_file(const HttpRequest& request, const ServedFile& file) {
  HttpReply reply;
  if (!file.etag.empty()) reply.headers.emplace_back("ETag", file.etag);
  if (file.ranges) reply.headers.emplace_back("Accept-Ranges", "bytes");
  const auto range = request.header("range");
  const auto if_range = request.header("if-range");
  const bool validator_matches = !if_range || (!file.etag.empty() && *if_range == file.etag);
  if (file.ranges && range && validator_matches && range->starts_with("bytes=") &&
      range->ends_with("-")) {
    const std::uint64_t first = std::stoull(range->substr(6, range->size() - 7));
    const std::string complete = std::to_string(file.body.size());
    if (first >= file.body.size()) {
      reply.status = 416;
      reply.reason = "Range Not Satisfiable";
      reply.headers.emplace_back("Content-Range", "bytes */" + complete);
      return reply;
    }
    reply.status = 206;
    reply.reason = "Partial Content";
    reply.headers.emplace_back("Content-Range", "bytes " + std::to_string(first) + "-" +
                                                    std::to_string(file.body.size() - 1) + "/" +
                                                    complete);
    reply.body = file.body.substr(first);
    return reply;
  }
  reply.body = file.body;
  return reply;
}

TlsIdentity TlsIdentity::generate(const std::string& dns_name) {
  Botan::AutoSeeded_RNG rng;
  const Botan::EC_Group group("secp256r1");
  Botan::ECDSA_PrivateKey ca_key(rng, group);
  Botan::X509_Cert_Options ca_options("limactl test CA");
  ca_options.CA_key();
  const Botan::X509_Certificate ca_certificate =
      Botan::X509::create_self_signed_cert(ca_options, ca_key, "SHA-256", rng);
  Botan::X509_CA ca(ca_certificate, ca_key, "SHA-256", rng);

  Botan::ECDSA_PrivateKey server_key(rng, group);
  Botan::X509_Cert_Options server_options(dns_name);
  server_options.dns = dns_name;
  const Botan::PKCS10_Request request =
      Botan::X509::create_cert_req(server_options, server_key, "SHA-256", rng);
  const auto now = std::chrono::system_clock::now();
  const Botan::X509_Certificate server_certificate =
      ca.sign_request(request, rng, Botan::X509_Time(now - std::chrono::hours(1)),
                      Botan::X509_Time(now + std::chrono::hours(24)));
  return {ca_certificate.PEM_encode(), server_certificate.PEM_encode(),
          Botan::PKCS8::PEM_encode(server_key)};
}

struct HttpTestServer::State {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor{io};
  Botan::AutoSeeded_RNG rng;
  std::unique_ptr<ServerCredentials> credentials;
};

HttpTestServer::HttpTestServer(Handler handler, std::optional<TlsIdentity> tls)
    : handler_(std::move(handler)), tls_(std::move(tls)), state_(std::make_unique<State>()) {
  if (tls_) state_->credentials = std::make_unique<ServerCredentials>(*tls_);
  const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  state_->acceptor.open(endpoint.protocol());
  state_->acceptor.bind(endpoint);
  state_->acceptor.listen();
  port_ = state_->acceptor.local_endpoint().port();
  thread_ = std::thread([this] { serve(); });
}

HttpTestServer::~HttpTestServer() {
  stopping_ = true;
  // Wakes the blocking accept().
  try {
    asio::io_context io;
    asio::ip::tcp::socket waker(io);
    waker.connect({asio::ip::make_address("127.0.0.1"), port_});
  } catch (const std::exception&) {
  }
  thread_.join();
}

std::string HttpTestServer::url(std::string_view path, std::string_view host) const {
  return std::string(tls_ ? "https://" : "http://") + std::string(host) + ":" +
         std::to_string(port_) + std::string(path);
}

std::vector<HttpRequest> HttpTestServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::vector<std::string> HttpTestServer::connection_errors() const {
  std::lock_guard lock(mutex_);
  return errors_;
}

void HttpTestServer::serve() {
  while (!stopping_) {
    asio::ip::tcp::socket socket(state_->io);
    std::error_code error;
    state_->acceptor.accept(socket, error);
    if (stopping_) return;
    if (error) continue;
    try {
      Connection connection(socket, state_->credentials.get(), state_->rng);
      HttpRequest request = parse_request(connection.read_request_head());
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(request);
      }
      const WireReply wire = encode(handler_(request));
      connection.send(wire.head);
      if (wire.cut_at) {
        connection.send(std::string_view(wire.body).substr(0, *wire.cut_at));
        connection.finish(false);
      } else {
        connection.send(wire.body);
        connection.finish(true);
      }
    } catch (const std::exception& failure) {
      std::lock_guard lock(mutex_);
      errors_.push_back(failure.what());
    }
  }
}

}  // namespace testing_support
