#include "sftp/sftp_subsystem.hpp"

#include "platform/user.hpp"
#include "sftp/local_file_system.hpp"
#include "sftp/server.hpp"
#include "ssh/log.hpp"

namespace sftp {
namespace {

class SftpSubsystem : public ssh::net::InProcessCommand {
 public:
  explicit SftpSubsystem(ServerOptions options) : server_(fs_, std::move(options)) {}

  void on_input(ByteView data) override { server_.feed(data); }
  void on_input_eof() override { server_.feed_eof(); }
  void produce(std::size_t max, Bytes& out, Bytes&) override { server_.take_output(max, out); }
  bool has_output() const override { return server_.has_output(); }
  std::optional<std::uint32_t> exit_status() const override {
    if (!server_.finished()) return std::nullopt;
    return server_.failed() ? 1u : 0u;
  }

 private:
  LocalFileSystem fs_;
  Server server_;
};

}  // namespace

std::unique_ptr<ssh::net::InProcessCommand> make_sftp_subsystem(const std::string& home_directory) {
  ServerOptions options;
  options.root = std::string(1, '/');  // not "/": GCC 12 warns (-Wrestrict) falsely on that
  auto start = LocalFileSystem::served_path(home_directory);
  if (start.ok()) {
    options.start_directory = *start;
  } else {
    ssh::log::get("sftp")->warn("sftp: home directory {}: {}; starting at /", home_directory,
                                start.error().message);
  }
  options.user_name = platform::current_user_name();
  return std::make_unique<SftpSubsystem>(std::move(options));
}

}  // namespace sftp
