// Shared by the forwarding unit tests: a client and a server Connection
// wired to each other in memory (payloads queued by QueueSink, delivered by
// the test's pump), blocking echo servers on threads of their own, and
// random payloads with their SHA-256.
#pragma once

#include <botan/hash.h>
#include <botan/hex.h>
#include <gtest/gtest.h>

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ssh/common.hpp"
#include "ssh/connection/connection.hpp"

namespace ssh::net {

class QueueSink : public connection::PayloadSink {
 public:
  Status send_payload(ByteView head, ByteView tail) override {
    Bytes payload(head.begin(), head.end());
    payload.insert(payload.end(), tail.begin(), tail.end());
    queue.push_back(std::move(payload));
    return {};
  }
  std::deque<Bytes> queue;
};

// Echoes everything one connection sends, then half-closes: a blocking
// server on a thread of its own.
template <class Protocol>
class EchoServer {
 public:
  explicit EchoServer(typename Protocol::endpoint endpoint) : acceptor_(io_, endpoint) {
    thread_ = std::thread([this] { serve(); });
  }
  ~EchoServer() {
    if (!accepted_) {
      // Unblock accept() of a test that never connected.
      typename Protocol::socket poke(io_);
      std::error_code ignored;
      poke.connect(acceptor_.local_endpoint(), ignored);
    }
    thread_.join();
  }
  typename Protocol::endpoint endpoint() const { return acceptor_.local_endpoint(); }
  std::size_t echoed() const { return echoed_; }

 private:
  void serve() {
    typename Protocol::socket socket(io_);
    std::error_code error;
    acceptor_.accept(socket, error);
    accepted_ = true;
    if (error) return;
    std::vector<char> buffer(64 * 1024);
    for (;;) {
      const std::size_t length = socket.read_some(asio::buffer(buffer), error);
      if (error) break;
      asio::write(socket, asio::buffer(buffer.data(), length), error);
      if (error) return;
      echoed_ += length;
    }
    socket.shutdown(Protocol::socket::shutdown_send, error);
    // Wait for the relay to close its side, so the test sees the whole
    // close sequence.
    char ignored;
    socket.read_some(asio::buffer(&ignored, 1), error);
  }

  asio::io_context io_;
  typename Protocol::acceptor acceptor_;
  std::atomic<bool> accepted_{false};
  std::atomic<std::size_t> echoed_{0};
  std::thread thread_;
};

inline Bytes random_bytes(std::size_t size, std::uint32_t seed) {
  std::mt19937 generator(seed);
  Bytes bytes(size);
  for (std::size_t i = 0; i < size; i += 4) {
    const std::uint32_t word = generator();
    for (std::size_t k = 0; k < 4 && i + k < size; ++k) {
      bytes[i + k] = static_cast<std::uint8_t>(word >> (8 * k));
    }
  }
  return bytes;
}

inline std::string sha256(ByteView data) {
  auto hash = Botan::HashFunction::create_or_throw("SHA-256");
  hash->update(data.data(), data.size());
  return Botan::hex_encode(hash->final());
}

// Delivers the payloads both Connections queued to each other until
// neither has any left; a payload the receiver refuses fails the test.
inline void deliver_payloads(QueueSink& client_out, connection::Connection& client,
                             QueueSink& server_out, connection::Connection& server) {
  while (!client_out.queue.empty() || !server_out.queue.empty()) {
    while (!client_out.queue.empty()) {
      Bytes payload = std::move(client_out.queue.front());
      client_out.queue.pop_front();
      Status handled = server.handle_message(payload);
      ASSERT_TRUE(handled.ok()) << "server: " << handled.error().message;
    }
    while (!server_out.queue.empty()) {
      Bytes payload = std::move(server_out.queue.front());
      server_out.queue.pop_front();
      Status handled = client.handle_message(payload);
      ASSERT_TRUE(handled.ok()) << "client: " << handled.error().message;
    }
  }
}

// Alternates `pump` with running the io_context for a moment until
// done() holds; false once `timeout` passed.
inline bool run_io_until(asio::io_context& io, const std::function<void()>& pump,
                         const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    pump();
    if (done()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.restart();
    io.run_for(std::chrono::milliseconds(2));
    if (io.stopped()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace ssh::net
