#include "cli/app.hpp"

#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/create_command.hpp"
#include "cli/delete_command.hpp"
#include "cli/info_command.hpp"
#include "cli/keygen_command.hpp"
#include "cli/list_command.hpp"
#include "cli/scp_command.hpp"
#include "cli/sftp_command.hpp"
#include "cli/sftp_server_command.hpp"
#include "cli/ssh_command.hpp"
#include "cli/sshd_command.hpp"
#include "cli/start_command.hpp"
#include "cli/stop_command.hpp"
#include "cli/validate_command.hpp"

namespace cli {

int run_limactl(int argc, char** argv) {
  CLI::App app{"limactl: Lima-style VM manager with a built-in SSH stack"};
  app.set_version_flag("--version", std::string("limactl ") + LIMACTL_VERSION);
  app.require_subcommand(1);

  SshCommandOptions ssh_options;
  setup_ssh_command(app, ssh_options);
  KeygenCommandOptions keygen_options;
  setup_keygen_command(app, keygen_options);
  SshdCommandOptions sshd_options;
  setup_sshd_command(app, sshd_options);
  SftpServerCommandOptions sftp_server_options;
  setup_sftp_server_command(app, sftp_server_options);
  ScpCommandOptions scp_options;
  setup_scp_command(app, scp_options);
  SftpCommandOptions sftp_options;
  setup_sftp_command(app, sftp_options);
  ValidateCommandOptions validate_options;
  setup_validate_command(app, validate_options);
  CreateCommandOptions create_options;
  setup_create_command(app, create_options);
  ListCommandOptions list_options;
  setup_list_command(app, list_options);
  DeleteCommandOptions delete_options;
  setup_delete_command(app, delete_options);
  InfoCommandOptions info_options;
  setup_info_command(app, info_options);
  StartCommandOptions start_options;
  setup_start_command(app, start_options);
  StopCommandOptions stop_options;
  setup_stop_command(app, stop_options);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (app.got_subcommand("ssh")) return run_ssh_command(ssh_options);
  if (app.got_subcommand("keygen")) return run_keygen_command(keygen_options);
  if (app.got_subcommand("sshd")) return run_sshd_command(sshd_options);
  if (app.got_subcommand("sftp-server")) return run_sftp_server_command(sftp_server_options);
  if (app.got_subcommand("scp")) return run_scp_command(scp_options);
  if (app.got_subcommand("sftp")) return run_sftp_command(sftp_options);
  if (app.got_subcommand("validate")) return run_validate_command(validate_options);
  if (app.got_subcommand("create")) return run_create_command(create_options);
  if (app.got_subcommand("list")) return run_list_command(list_options);
  if (app.got_subcommand("delete")) return run_delete_command(delete_options);
  if (app.got_subcommand("info")) return run_info_command(info_options);
  if (app.got_subcommand("start")) return run_start_command(start_options);
  if (app.got_subcommand("stop")) return run_stop_command(stop_options);
  return 0;
}

}  // namespace cli
