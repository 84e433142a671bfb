#include "ssh/asio/scp_command.hpp"

#include <utility>

#include "platform/scp_local_files.hpp"
#include "ssh/log.hpp"
#include "ssh/scp/scp_protocol.hpp"

namespace ssh::net {

namespace {

class ScpCommand final : public InProcessCommand {
 public:
  ScpCommand(const scp::CommandLine& command, std::unique_ptr<scp::FileSystem> files)
      : files_(std::move(files)), session_(scp::start_session(command, *files_)) {}

  void on_input(ByteView data) override { session_->on_input(data); }
  void on_input_eof() override { session_->on_input_eof(); }
  void produce(std::size_t max, Bytes& out, Bytes& err) override {
    session_->produce(max, out, err);
  }
  bool has_output() const override { return session_->has_output(); }
  std::optional<std::uint32_t> exit_status() const override { return session_->exit_status(); }

 private:
  std::unique_ptr<scp::FileSystem> files_;  // before session_, which uses it
  std::unique_ptr<scp::Session> session_;
};

}  // namespace

std::unique_ptr<InProcessCommand> make_scp_command(std::string_view command_line,
                                                   const std::string& working_directory) {
  std::optional<scp::CommandLine> command =
      scp::parse_command_line(command_line, working_directory);
  if (!command) return nullptr;
  log::get("scp")->debug("serving \"{}\" in-process in {}", command_line, working_directory);
  return std::make_unique<ScpCommand>(*command,
                                      platform::make_local_scp_file_system(working_directory));
}

}  // namespace ssh::net
