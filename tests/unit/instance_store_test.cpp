#include "vm/instance_store.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "platform/instance_lock.hpp"
#include "support/temp_dir.hpp"

namespace vm {
namespace {

namespace fs = std::filesystem;
using testing_support::TempDir;

void write_text(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
}

TEST(InstanceStore, LimaHomeIsTheVariableOrDotLimaInHome) {
  EXPECT_EQ(resolve_lima_home(std::string("/data/lima"), "/home/u"), fs::path("/data/lima"));
  EXPECT_EQ(resolve_lima_home(std::nullopt, "/home/u"), fs::path("/home/u") / ".lima");
  // An empty variable counts as unset, as in Lima.
  EXPECT_EQ(resolve_lima_home(std::string(), "/home/u"), fs::path("/home/u") / ".lima");
}

TEST(InstanceStore, InstanceNamesFollowLimasRule) {
  for (const char* good : {"default", "a", "dev-1", "my.vm", "x_y", "A1b2", "debian-12"}) {
    EXPECT_EQ(instance_name_problem(good), std::nullopt) << good;
  }
  EXPECT_EQ(instance_name_problem(std::string(58, 'a')), std::nullopt);
  struct Bad {
    std::string name;
    std::string says;
  };
  for (const Bad& bad :
       {Bad{"", "must not be empty"}, Bad{std::string(59, 'a'), "longer than 58"},
        Bad{"_config", "reserved"}, Bad{"-x", "not valid"}, Bad{"a--b", "not valid"},
        Bad{"a.", "must end with a letter or digit"}, Bad{"a b", "not valid"},
        Bad{"../x", "not valid"}, Bad{"a/b", "not valid"}, Bad{"caf\xc3\xa9", "not valid"}}) {
    auto problem = instance_name_problem(bad.name);
    ASSERT_TRUE(problem.has_value()) << bad.name;
    EXPECT_NE(problem->find(bad.says), std::string::npos) << *problem;
  }
}

TEST(InstanceStore, FileNamesAreLimas) {
  const LimaHome home("/h/.lima");
  EXPECT_EQ(home.default_yaml(), fs::path("/h/.lima/_config/default.yaml"));
  EXPECT_EQ(home.override_yaml(), fs::path("/h/.lima/_config/override.yaml"));
  EXPECT_EQ(home.user_private_key(), fs::path("/h/.lima/_config/user"));
  EXPECT_EQ(home.user_public_key(), fs::path("/h/.lima/_config/user.pub"));
  const InstancePaths paths(home.instance_directory("dev"));
  EXPECT_EQ(paths.name(), "dev");
  const fs::path dir("/h/.lima/dev");
  EXPECT_EQ(paths.lima_yaml(), dir / "lima.yaml");
  EXPECT_EQ(paths.cidata_iso(), dir / "cidata.iso");
  EXPECT_EQ(paths.base_disk(), dir / "basedisk");
  EXPECT_EQ(paths.diff_disk(), dir / "diffdisk");
  EXPECT_EQ(paths.serial_log(), dir / "serial.log");
  EXPECT_EQ(paths.qemu_pid(), dir / "qemu.pid");
  EXPECT_EQ(paths.qmp_socket(), dir / "qmp.sock");
  EXPECT_EQ(paths.ssh_config(), dir / "ssh.config");
  EXPECT_EQ(paths.ssh_socket(), dir / "ssh.sock");
  EXPECT_EQ(paths.host_agent_pid(), dir / "ha.pid");
  EXPECT_EQ(paths.host_agent_socket(), dir / "ha.sock");
  EXPECT_EQ(paths.host_agent_stdout_log(), dir / "ha.stdout.log");
  EXPECT_EQ(paths.host_agent_stderr_log(), dir / "ha.stderr.log");
}

TEST(InstanceStore, PidFiles) {
  TempDir temp;
  const fs::path file = temp.path() / "qemu.pid";
  EXPECT_EQ(read_pid_file(file), std::nullopt);
  write_text(file, "1234\n");
  EXPECT_EQ(read_pid_file(file), 1234);
  write_text(file, "1234");
  EXPECT_EQ(read_pid_file(file), 1234);
  for (const char* junk : {"", "abc", "12 34", "-5", "0", "99999999999999999999", "12\n13\n"}) {
    write_text(file, junk);
    EXPECT_EQ(read_pid_file(file), 0) << junk;
  }
}

TEST(InstanceStore, StatusFromThePidFile) {
  TempDir temp;
  const InstancePaths paths(temp.path() / "dev");
  auto alive = [](int pid) { return pid == 4242; };

  InstanceState state = inspect_instance(paths, alive);
  EXPECT_EQ(state.status, InstanceStatus::Broken);
  EXPECT_NE(state.problem.find("lima.yaml is missing"), std::string::npos) << state.problem;

  write_text(paths.lima_yaml(), "cpus: 2\n");
  state = inspect_instance(paths, alive);
  EXPECT_EQ(state.status, InstanceStatus::Stopped);
  EXPECT_EQ(instance_status_name(state.status), "Stopped");

  write_text(paths.qemu_pid(), "4242\n");
  state = inspect_instance(paths, alive);
  EXPECT_EQ(state.status, InstanceStatus::Running);
  EXPECT_EQ(state.qemu_pid, 4242);
  EXPECT_EQ(instance_status_name(state.status), "Running");

  write_text(paths.qemu_pid(), "4243\n");
  state = inspect_instance(paths, alive);
  EXPECT_EQ(state.status, InstanceStatus::Broken);
  EXPECT_NE(state.problem.find("names process 4243, which is not running"), std::string::npos)
      << state.problem;

  write_text(paths.qemu_pid(), "garbage");
  state = inspect_instance(paths, alive);
  EXPECT_EQ(state.status, InstanceStatus::Broken);
  EXPECT_NE(state.problem.find("does not hold a process id"), std::string::npos) << state.problem;
}

TEST(InstanceStore, ListsInstanceDirectoriesWithALimaYaml) {
  TempDir temp;
  const LimaHome home(temp.path() / "lima");
  EXPECT_TRUE(list_instance_names(home).empty());  // no home yet: nothing, no error
  write_text(home.default_yaml(), "cpus: 1\n");
  write_text(home.instance_directory("zeta") / "lima.yaml", "");
  write_text(home.instance_directory("alpha") / "lima.yaml", "");
  fs::create_directories(home.instance_directory("half-made"));
  write_text(home.root() / "stray-file", "");
  write_text(home.instance_directory("bad name") / "lima.yaml", "");
  EXPECT_EQ(list_instance_names(home), (std::vector<std::string>{"alpha", "zeta"}));
}

TEST(InstanceStore, ProcessLiveness) {
  EXPECT_TRUE(platform::process_is_running(platform::current_pid()));
  EXPECT_FALSE(platform::process_is_running(0));
  EXPECT_FALSE(platform::process_is_running(-1));
  // Far above any pid_max (Linux allows at most 2^22).
  EXPECT_FALSE(platform::process_is_running(0x3ffffff0));
}

TEST(InstanceStore, ASecondLockIsRefusedNamingTheHolder) {
  TempDir temp;
  const InstancePaths paths(temp.path() / "dev");
  fs::create_directories(paths.directory());
  {
    InstanceLock first = InstanceLock::acquire(paths);
    try {
      (void)InstanceLock::acquire(paths);
      FAIL() << "a second lock was granted";
    } catch (const InstanceBusy& busy) {
      const std::string message = busy.what();
      EXPECT_NE(message.find("instance \"dev\" is busy"), std::string::npos) << message;
      EXPECT_NE(message.find("pid " + std::to_string(platform::current_pid())), std::string::npos)
          << message;
    }
  }
  // Released with its holder; the file left behind is no lock.
  EXPECT_TRUE(fs::exists(paths.lock_file()));
  InstanceLock again = InstanceLock::acquire(paths);
  (void)again;
}

TEST(InstanceStore, ALockInAMissingDirectoryIsAClearError) {
  TempDir temp;
  const InstancePaths paths(temp.path() / "missing");
  try {
    (void)InstanceLock::acquire(paths);
    FAIL() << "locked in a directory that does not exist";
  } catch (const InstanceBusy&) {
    FAIL() << "reported as busy";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("cannot open"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace vm
