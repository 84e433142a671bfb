#include "vm/instance_store.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>
#include <variant>

namespace vm {
namespace {

constexpr std::size_t kMaxInstanceNameLength = 58;

bool is_name_character(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

bool is_name_separator(char c) {
  return c == '.' || c == '_' || c == '-';
}

}  // namespace

std::filesystem::path resolve_lima_home(std::optional<std::string> lima_home_variable,
                                        const std::filesystem::path& home_directory) {
  if (lima_home_variable && !lima_home_variable->empty()) {
    return std::filesystem::path(*lima_home_variable);
  }
  return home_directory / ".lima";
}

std::optional<std::string> instance_name_problem(std::string_view name) {
  const std::string quoted = "\"" + std::string(name) + "\"";
  if (name.empty()) return "an instance name must not be empty";
  if (name.size() > kMaxInstanceNameLength) {
    return "instance name " + quoted + " is longer than " + std::to_string(kMaxInstanceNameLength) +
           " characters";
  }
  if (name.front() == '_') {
    return "instance name " + quoted + " starts with '_' (reserved for limactl's own directories)";
  }
  bool after_separator = true;  // the first character must be a letter or digit
  for (char c : name) {
    if (is_name_character(c)) {
      after_separator = false;
    } else if (is_name_separator(c) && !after_separator) {
      after_separator = true;
    } else {
      return "instance name " + quoted +
             " is not valid: use letters and digits, with single '.', '_' or '-' between them";
    }
  }
  if (after_separator) {
    return "instance name " + quoted + " must end with a letter or digit";
  }
  return std::nullopt;
}

std::string_view instance_status_name(InstanceStatus status) {
  switch (status) {
    case InstanceStatus::Running:
      return "Running";
    case InstanceStatus::Stopped:
      return "Stopped";
    case InstanceStatus::Broken:
      return "Broken";
  }
  return "Broken";
}

std::optional<int> read_pid_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text;
  // A pid file is a short line; more than this is not one.
  text.resize(64);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  int pid = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (error != std::errc{} || end != text.data() + text.size() || pid <= 0) return 0;
  return pid;
}

InstanceState inspect_instance(const InstancePaths& paths,
                               const std::function<bool(int)>& is_running) {
  InstanceState state;
  std::error_code error;
  if (!std::filesystem::exists(paths.lima_yaml(), error)) {
    state.status = InstanceStatus::Broken;
    state.problem = paths.lima_yaml().string() + " is missing";
    return state;
  }
  const std::optional<int> pid = read_pid_file(paths.qemu_pid());
  if (!pid) {
    state.status = InstanceStatus::Stopped;
    return state;
  }
  if (*pid > 0 && is_running(*pid)) {
    state.status = InstanceStatus::Running;
    state.qemu_pid = *pid;
    return state;
  }
  state.status = InstanceStatus::Broken;
  state.problem = *pid > 0 ? paths.qemu_pid().string() + " names process " + std::to_string(*pid) +
                                 ", which is not running"
                           : paths.qemu_pid().string() + " does not hold a process id";
  return state;
}

std::vector<std::string> list_instance_names(const LimaHome& home) {
  std::vector<std::string> names;
  std::error_code error;
  for (std::filesystem::directory_iterator it(home.root(), error), end; !error && it != end;
       it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (instance_name_problem(name)) continue;
    std::error_code ignored;
    if (!it->is_directory(ignored)) continue;
    if (!std::filesystem::exists(InstancePaths(it->path()).lima_yaml(), ignored)) continue;
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

InstanceLock InstanceLock::acquire(const InstancePaths& paths) {
  auto attempt = platform::FileLock::try_lock(paths.lock_file());
  if (auto* lock = std::get_if<platform::FileLock>(&attempt)) return InstanceLock(std::move(*lock));
  if (auto* busy = std::get_if<platform::FileLock::Busy>(&attempt)) {
    std::string holder =
        busy->holder_pid > 0 ? "limactl (pid " + std::to_string(busy->holder_pid) + ")" : "limactl";
    throw InstanceBusy("instance \"" + paths.name() + "\" is busy: another " + holder +
                       " is working on it; wait for it to finish");
  }
  throw std::runtime_error(std::get<platform::FileLock::Failed>(attempt).message);
}

InstancePaths create_instance_directory(const LimaHome& home, const std::string& name,
                                        const std::string& lima_yaml_text) {
  if (auto problem = instance_name_problem(name)) throw std::runtime_error(*problem);
  const InstancePaths paths(home.instance_directory(name));
  std::error_code error;
  std::filesystem::create_directories(home.root(), error);
  if (error) {
    throw std::runtime_error("cannot create " + home.root().string() + ": " + error.message() +
                             " (set LIMA_HOME to a writable directory)");
  }
  // create_directory is the atomic test: of two creates, one finds it made.
  if (!std::filesystem::create_directory(paths.directory(), error)) {
    if (error) {
      throw std::runtime_error("cannot create " + paths.directory().string() + ": " +
                               error.message());
    }
    throw std::runtime_error("instance \"" + name + "\" already exists (" +
                             paths.directory().string() + ")");
  }
  try {
    InstanceLock lock = InstanceLock::acquire(paths);
    std::ofstream out(paths.lima_yaml(), std::ios::binary | std::ios::trunc);
    out << lima_yaml_text;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + paths.lima_yaml().string());
  } catch (...) {
    std::filesystem::remove_all(paths.directory(), error);
    throw;
  }
  return paths;
}

void delete_instance(const InstancePaths& paths, bool force) {
  std::error_code error;
  if (!std::filesystem::is_directory(paths.directory(), error)) {
    throw std::runtime_error("instance \"" + paths.name() + "\" does not exist (no " +
                             paths.directory().string() + ")");
  }
  {
    InstanceLock lock = InstanceLock::acquire(paths);
    const InstanceState state = inspect_instance(paths, platform::process_is_running);
    if (state.status == InstanceStatus::Running) {
      if (!force) {
        throw std::runtime_error("instance \"" + paths.name() + "\" is running (pid " +
                                 std::to_string(state.qemu_pid) +
                                 "): stop it first (limactl stop), or delete with --force");
      }
      std::string kill_error;
      if (!platform::kill_process(state.qemu_pid, kill_error)) {
        throw std::runtime_error("cannot kill the VM process " + std::to_string(state.qemu_pid) +
                                 ": " + kill_error);
      }
    }
    // Everything but the lock file while the lock is held (Windows cannot
    // remove a directory whose file is still open).
    std::vector<std::filesystem::path> entries;
    for (std::filesystem::directory_iterator it(paths.directory(), error), end; !error && it != end;
         it.increment(error)) {
      if (it->path() != paths.lock_file()) entries.push_back(it->path());
    }
    if (error) {
      throw std::runtime_error("cannot list " + paths.directory().string() + ": " +
                               error.message());
    }
    for (const auto& entry : entries) {
      std::filesystem::remove_all(entry, error);
      if (error) {
        throw std::runtime_error("cannot remove " + entry.string() + ": " + error.message());
      }
    }
  }
  std::filesystem::remove_all(paths.directory(), error);
  if (error) {
    throw std::runtime_error("cannot remove " + paths.directory().string() + ": " +
                             error.message());
  }
}

}  // namespace vm
