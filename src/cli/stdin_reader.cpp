#include "cli/stdin_reader.hpp"

#include "platform/stdio.hpp"

namespace cli {
namespace {

// Small enough that a chunk, its packets and the socket's copy of them stay
// in the L2 cache between read(), encryption and send().
constexpr std::size_t kChunkSize = 64 * 1024;
// Chunks in flight: enough to keep the connection busy while one is read.
constexpr std::size_t kChunksInFlight = 8;

}  // namespace

StdinReader::StdinReader(asio::io_context& io, std::function<void(ssh::Bytes&)> on_chunk)
    : io_(io), on_chunk_(std::move(on_chunk)) {}

StdinReader::~StdinReader() {
  {
    std::lock_guard lock(thread_state_->mutex);
    thread_state_->stopping = true;
  }
  thread_state_->ready.notify_all();
  // A thread blocked in read() on a terminal cannot be woken portably; the
  // process is exiting when this runs, so let it go (it holds its own
  // reference to what it touches and posts nothing more).
  if (thread_.joinable()) thread_.detach();
}

void StdinReader::start() {
  if (platform::stdin_is_regular_file()) {
    for (std::size_t i = 0; i < kChunksInFlight; ++i) free_buffers_.emplace_back();
    read_on_io_ = true;
    io_read_posted_ = true;
    asio::post(io_, [this] { read_on_io_thread(); });
    return;
  }
  for (std::size_t i = 0; i < kChunksInFlight; ++i) thread_state_->free_buffers.emplace_back();
  thread_ = std::thread(&StdinReader::run, thread_state_, this);
}

void StdinReader::release(ssh::Bytes&& buffer) {
  if (read_on_io_) {
    free_buffers_.push_back(std::move(buffer));
    // Posted rather than called: release() runs inside on_chunk_.
    if (!io_read_posted_ && !io_read_ended_) {
      io_read_posted_ = true;
      asio::post(io_, [this] { read_on_io_thread(); });
    }
    return;
  }
  {
    std::lock_guard lock(thread_state_->mutex);
    thread_state_->free_buffers.push_back(std::move(buffer));
  }
  thread_state_->ready.notify_one();
}

void StdinReader::run(std::shared_ptr<ThreadState> state, StdinReader* reader) {
  for (;;) {
    ssh::Bytes buffer;
    {
      std::unique_lock lock(state->mutex);
      state->ready.wait(lock, [&] { return state->stopping || !state->free_buffers.empty(); });
      if (state->stopping) return;
      buffer = std::move(state->free_buffers.front());
      state->free_buffers.pop_front();
    }
    buffer.resize(kChunkSize);
    const std::ptrdiff_t count = platform::read_stdin(buffer);
    buffer.resize(count > 0 ? static_cast<std::size_t>(count) : 0);
    const bool end = count <= 0;
    {
      // A session that ended while read() waited has destroyed the reader:
      // nothing may be posted then (the io_context may be gone too).
      std::lock_guard lock(state->mutex);
      if (state->stopping) return;
      asio::post(reader->io_,
                 [reader, chunk = std::move(buffer)]() mutable { reader->on_chunk_(chunk); });
    }
    if (end) return;
  }
}

// One chunk per turn of the io_context: the chunk is encrypted and handed
// to the socket before the next is read, so it is still in the cache.
void StdinReader::read_on_io_thread() {
  io_read_posted_ = false;
  if (io_read_ended_ || free_buffers_.empty()) return;
  ssh::Bytes buffer = std::move(free_buffers_.front());
  free_buffers_.pop_front();
  buffer.resize(kChunkSize);
  const std::ptrdiff_t count = platform::read_stdin(buffer);
  buffer.resize(count > 0 ? static_cast<std::size_t>(count) : 0);
  io_read_ended_ = count <= 0;
  on_chunk_(buffer);
  if (!io_read_ended_ && !free_buffers_.empty() && !io_read_posted_) {
    io_read_posted_ = true;
    asio::post(io_, [this] { read_on_io_thread(); });
  }
}

}  // namespace cli
