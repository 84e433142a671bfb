// Reads standard input on a thread of its own and hands chunks to the
// io_context, a few at a time, so that stdin may be a file, a pipe or a
// terminal on any platform (epoll cannot wait on regular files).
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

  asio::io_context& io_;
  std::function<void(ssh::Bytes&)> on_chunk_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<ssh::Bytes> free_buffers_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace cli
