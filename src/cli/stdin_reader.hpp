// Reads standard input and hands chunks to the io_context, a few at a time.
// A pipe or terminal is read on a thread of its own, so that it works the
// same on every platform; a regular file (epoll cannot wait on one, but its
// reads never wait) is read on the io_context's thread, which saves a
// thread hand-off per chunk on bulk uploads such as `limactl ssh host cmd < file`.
#pragma once

#include <asio.hpp>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "ssh/common.hpp"

namespace cli {

class StdinReader {
 public:
  // on_chunk runs on the io_context with each chunk; an empty chunk means
  // end of input. Each chunk must be given back with release() once sent.
  StdinReader(asio::io_context& io, std::function<void(ssh::Bytes&)> on_chunk);
  ~StdinReader();
  void start();
  // Returns a chunk's buffer so the thread may read more.
  void release(ssh::Bytes&& buffer);

 private:
  void read_on_io_thread();

  // What the reading thread shares with this object. The thread is detached
  // at destruction (a blocked read() cannot be woken portably), so it holds
  // its own reference and may outlive us; it posts to the io_context only
  // under the mutex while `stopping` is false, that is while we (and the
  // io_context, which outlives us) exist.
  struct ThreadState {
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<ssh::Bytes> free_buffers;
    bool stopping = false;
  };
  static void run(std::shared_ptr<ThreadState> state, StdinReader* reader);

  asio::io_context& io_;
  std::function<void(ssh::Bytes&)> on_chunk_;
  std::shared_ptr<ThreadState> thread_state_ = std::make_shared<ThreadState>();
  // Regular-file mode's buffers (io_context thread only).
  std::deque<ssh::Bytes> free_buffers_;
  // Regular-file mode: no thread; reads are posted to the io_context.
  bool read_on_io_ = false;
  bool io_read_posted_ = false;
  bool io_read_ended_ = false;
  std::thread thread_;
};

}  // namespace cli
