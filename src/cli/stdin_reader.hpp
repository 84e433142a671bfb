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
  void run();
  void read_on_io_thread();

  asio::io_context& io_;
  std::function<void(ssh::Bytes&)> on_chunk_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<ssh::Bytes> free_buffers_;
  bool stopping_ = false;
  // Regular-file mode: no thread; reads are posted to the io_context.
  bool read_on_io_ = false;
  bool io_read_posted_ = false;
  bool io_read_ended_ = false;
  std::thread thread_;
};

}  // namespace cli
