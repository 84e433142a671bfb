#include "cli/stdin_reader.hpp"

#include "platform/stdio.hpp"

namespace cli {
namespace {

constexpr std::size_t kChunkSize = 256 * 1024;
// Chunks in flight: enough to keep the connection busy while one is read.
constexpr std::size_t kChunksInFlight = 4;

}  // namespace

StdinReader::StdinReader(asio::io_context& io, std::function<void(ssh::Bytes&)> on_chunk)
    : io_(io), on_chunk_(std::move(on_chunk)) {
  for (std::size_t i = 0; i < kChunksInFlight; ++i) free_buffers_.emplace_back();
}

StdinReader::~StdinReader() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  // A thread blocked in read() on a terminal cannot be woken portably; the
  // process is exiting when this runs, so let it go.
  if (thread_.joinable()) thread_.detach();
}

void StdinReader::start() { thread_ = std::thread([this] { run(); }); }

void StdinReader::release(ssh::Bytes&& buffer) {
  {
    std::lock_guard lock(mutex_);
    free_buffers_.push_back(std::move(buffer));
  }
  ready_.notify_one();
}

void StdinReader::run() {
  for (;;) {
    ssh::Bytes buffer;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !free_buffers_.empty(); });
      if (stopping_) return;
      buffer = std::move(free_buffers_.front());
      free_buffers_.pop_front();
    }
    buffer.resize(kChunkSize);
    const std::ptrdiff_t count = platform::read_stdin(buffer);
    buffer.resize(count > 0 ? static_cast<std::size_t>(count) : 0);
    const bool end = count <= 0;
    asio::post(io_, [this, chunk = std::move(buffer)]() mutable { on_chunk_(chunk); });
    if (end) return;
  }
}

}  // namespace cli
