#include "ssh/asio/control_endpoint.hpp"

#include <botan/hash.h>
#include <botan/hex.h>

#include <filesystem>
#include <utility>

#include "ssh/log.hpp"

#ifdef _WIN32
#include <windows.h>

#include "platform/named_pipe.hpp"
#else
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace ssh::net {
namespace {

std::shared_ptr<spdlog::logger> logger() {
  return log::get("control");
}

Error control_error(std::string message) {
  return Error{DisconnectReason::ByApplication, std::move(message)};
}

}  // namespace

#ifdef _WIN32

namespace {

constexpr std::string_view kPipePrefix = R"(\\.\pipe\)";
// Longer names are not allowed (256 characters in all).
constexpr std::size_t kMaxPipeNameLength = 256;

std::error_code win32_error(unsigned long code) {
  return {static_cast<int>(code), asio::error::get_system_category()};
}

}  // namespace

// Pipe names are case-insensitive and may hold any character but '\': the
// absolute path with '/' separators is kept readable in the name, and a path
// too long for that is named by its SHA-256 instead.
Result<std::string> control_endpoint_name(const std::string& control_path) {
  if (control_path.empty()) return control_error("empty ControlPath");
  if (control_path.starts_with(kPipePrefix)) return control_path;
  std::error_code error;
  const auto absolute = std::filesystem::absolute(std::filesystem::path(control_path), error);
  if (error) return control_error("ControlPath " + control_path + ": " + error.message());
  const std::string generic = absolute.lexically_normal().generic_string();
  std::string name = std::string(kPipePrefix) + "limactl-control-" + generic;
  if (name.size() > kMaxPipeNameLength) {
    auto sha256 = Botan::HashFunction::create_or_throw("SHA-256");
    const auto digest = sha256->process(generic);
    name = std::string(kPipePrefix) + "limactl-control-sha256-" +
           Botan::hex_encode(digest.data(), 16, false);
  }
  return name;
}

Result<ControlStream> connect_control_endpoint(asio::io_context& io,
                                               const std::string& control_path) {
  auto name = control_endpoint_name(control_path);
  if (!name) return name.take_error();
  auto pipe = platform::open_named_pipe_client(*name);
  if (pipe.handle == nullptr) {
    // As ssh words a missing socket; the pipe's name is in the debug log.
    logger()->debug("control pipe {}: {}", *name, pipe.error);
    return control_error("Control socket connect(" + control_path + "): " + pipe.error);
  }
  ControlStream stream(io, pipe.handle);
  if (auto problem = platform::named_pipe_owner_problem(pipe.handle); !problem.empty()) {
    return control_error("Control socket connect(" + control_path + "): refusing pipe " + *name +
                         ": " + problem);
  }
  return stream;
}

struct ControlListener::Impl : std::enable_shared_from_this<Impl> {
  explicit Impl(asio::io_context& context) : io(context) {}

  asio::io_context& io;
  std::string pipe_name;
  // The instance waiting for the next client.
  std::unique_ptr<ControlStream> waiting;
  bool closed = false;
};

ControlListener::ControlListener(asio::io_context& io) : impl_(std::make_shared<Impl>(io)) {}

ControlListener::~ControlListener() {
  close();
}

Status ControlListener::listen(const std::string& control_path) {
  auto name = control_endpoint_name(control_path);
  if (!name) return name.take_error();
  const auto taken = [&] {
    return control_error("ControlSocket " + control_path +
                         " already exists: a master is running (pipe " + *name + ")");
  };
  if (platform::named_pipe_exists(*name)) return taken();
  auto first = platform::create_named_pipe_instance(*name, true);
  if (first.handle == nullptr) {
    if (first.error_code == ERROR_ACCESS_DENIED || first.error_code == ERROR_PIPE_BUSY) {
      return taken();
    }
    return control_error("cannot listen on control pipe " + *name + ": " + first.error);
  }
  impl_->pipe_name = *name;
  impl_->waiting = std::make_unique<ControlStream>(impl_->io, first.handle);
  logger()->debug("ControlPath {} is the named pipe {}", control_path, *name);
  return {};
}

void ControlListener::async_accept(std::function<void(std::error_code, ControlStream)> handler) {
  auto impl = impl_;
  if (impl->closed) {
    asio::post(impl->io, [impl, handler = std::move(handler)] {
      handler(asio::error::operation_aborted, ControlStream(impl->io));
    });
    return;
  }
  if (!impl->waiting) {
    auto next = platform::create_named_pipe_instance(impl->pipe_name, false);
    if (next.handle == nullptr) {
      asio::post(impl->io, [impl, handler = std::move(handler), code = next.error_code] {
        handler(win32_error(code), ControlStream(impl->io));
      });
      return;
    }
    impl->waiting = std::make_unique<ControlStream>(impl->io, next.handle);
  }
  asio::windows::overlapped_ptr connect(
      impl->io, [impl, handler = std::move(handler)](std::error_code error, std::size_t) {
        ControlStream connected(impl->io);
        if (impl->waiting) {
          connected = std::move(*impl->waiting);
          impl->waiting.reset();
        }
        if (impl->closed) {
          error = asio::error::operation_aborted;
        } else {
          // The next instance right away: with none, the name would vanish
          // and a client coming now would see no master.
          auto next = platform::create_named_pipe_instance(impl->pipe_name, false);
          if (next.handle != nullptr) {
            impl->waiting = std::make_unique<ControlStream>(impl->io, next.handle);
          } else {
            logger()->warn("control pipe {}: {}", impl->pipe_name, next.error);
          }
        }
        handler(error, std::move(connected));
      });
  const BOOL done = ConnectNamedPipe(impl->waiting->native_handle(), connect.get());
  const DWORD last = GetLastError();
  if (!done && last == ERROR_PIPE_CONNECTED) {
    // The client came between CreateNamedPipe and ConnectNamedPipe.
    connect.complete(std::error_code(), 0);
  } else if (!done && last != ERROR_IO_PENDING) {
    connect.complete(win32_error(last), 0);
  } else {
    connect.release();
  }
}

void ControlListener::close() {
  if (!impl_ || impl_->closed) return;
  impl_->closed = true;
  if (impl_->waiting) {
    std::error_code ignored;
    impl_->waiting->close(ignored);  // the pending connect ends, aborted
  }
}

std::uint32_t current_process_id() {
  return static_cast<std::uint32_t>(GetCurrentProcessId());
}

#else  // POSIX: a Unix-domain socket

using local_stream = asio::local::stream_protocol;

namespace {

// The socket's directory must be the user's: anyone else could replace the
// socket between our check and a client's connect.
Status check_directory(const std::filesystem::path& path) {
  std::filesystem::path directory = path.parent_path();
  if (directory.empty()) directory = ".";
  struct stat info {};
  if (::stat(directory.c_str(), &info) != 0) {
    return control_error("control socket directory " + directory.string() + " does not exist");
  }
  if (info.st_uid != ::geteuid()) {
    return control_error("control socket directory " + directory.string() +
                         " is not owned by the user");
  }
  return {};
}

// Whether something accepts connections on `path` right now.
bool master_answers(asio::io_context& io, const std::string& path) {
  local_stream::socket probe(io);
  std::error_code error;
  probe.connect(local_stream::endpoint(path), error);
  return !error;
}

}  // namespace

Result<std::string> control_endpoint_name(const std::string& control_path) {
  if (control_path.empty()) return control_error("empty ControlPath");
  return control_path;
}

Result<ControlStream> connect_control_endpoint(asio::io_context& io,
                                               const std::string& control_path) {
  ControlStream socket(io);
  std::error_code error;
  socket.connect(local_stream::endpoint(control_path), error);
  if (error) {
    return control_error("Control socket connect(" + control_path + "): " + error.message());
  }
  return socket;
}

struct ControlListener::Impl {
  explicit Impl(asio::io_context& context) : io(context), acceptor(context) {}
  asio::io_context& io;
  local_stream::acceptor acceptor;
  std::string path;
  bool listening = false;
};

ControlListener::ControlListener(asio::io_context& io) : impl_(std::make_shared<Impl>(io)) {}

ControlListener::~ControlListener() {
  close();
}

Status ControlListener::listen(const std::string& path) {
  if (path.empty()) return control_error("empty ControlPath");
  if (auto directory = check_directory(path); !directory) return directory;
  std::error_code error;
  const auto status = std::filesystem::symlink_status(path, error);
  if (!error && std::filesystem::exists(status)) {
    if (!std::filesystem::is_socket(status)) {
      return control_error("ControlPath " + path + " exists and is not a socket");
    }
    if (master_answers(impl_->io, path)) {
      return control_error("ControlSocket " + path + " already exists: a master is running");
    }
    logger()->warn("removing stale control socket {} (no master answers on it)", path);
    std::filesystem::remove(path, error);
  }
  impl_->acceptor.open(local_stream(), error);
  if (!error) {
    // 0600 from the start: no window in which others could connect.
    const mode_t previous = ::umask(0177);
    impl_->acceptor.bind(local_stream::endpoint(path), error);
    ::umask(previous);
  }
  if (!error) impl_->acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    std::error_code ignored;
    impl_->acceptor.close(ignored);
    return control_error("cannot listen on control socket " + path + ": " + error.message());
  }
  impl_->path = path;
  impl_->listening = true;
  return {};
}

void ControlListener::async_accept(std::function<void(std::error_code, ControlStream)> handler) {
  impl_->acceptor.async_accept(std::move(handler));
}

void ControlListener::close() {
  if (!impl_ || !impl_->listening) return;
  impl_->listening = false;
  std::error_code ignored;
  impl_->acceptor.close(ignored);
  std::filesystem::remove(impl_->path, ignored);
}

std::uint32_t current_process_id() {
  return static_cast<std::uint32_t>(::getpid());
}

#endif

}  // namespace ssh::net
