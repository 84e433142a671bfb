#include "vm/instance_start.hpp"

#include <botan/auto_rng.h>

#include <algorithm>
#include <asio.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <thread>

#include "platform/detached_process.hpp"
#include "platform/files.hpp"
#include "platform/instance_lock.hpp"
#include "platform/program_run.hpp"
#include "platform/user.hpp"
#include "ssh/keys/keys.hpp"
#include "ssh/log.hpp"
#include "vm/boot_progress.hpp"
#include "vm/cidata.hpp"
#include "vm/disk_image.hpp"
#include "vm/image_download.hpp"
#include "vm/lima_config_load.hpp"
#include "vm/qemu_probe.hpp"
#include "vm/qmp.hpp"
#include "vm/templates.hpp"

namespace vm {
namespace fs = std::filesystem;
namespace {

constexpr unsigned kPrivateKeyMode = 0600;
constexpr unsigned kPublicKeyMode = 0644;
constexpr auto kPollInterval = std::chrono::milliseconds(200);
constexpr auto kPidFileTimeout = std::chrono::seconds(30);
constexpr auto kQemuImgTimeout = std::chrono::seconds(120);
constexpr auto kQmpTimeout = std::chrono::seconds(10);
constexpr auto kKillTimeout = std::chrono::seconds(10);
// A guest under KVM that has printed nothing at all on its console by then
// is taken as one KVM cannot run: some nested virtualisation passes the
// accelerator probe (real mode) and then hangs the kernel's switch to long
// mode without a word. A working KVM guest's kernel speaks within seconds.
constexpr auto kSilentKvmGuestLimit = std::chrono::seconds(30);
// sockaddr_un's sun_path holds 108 bytes on Linux, 104 on the BSDs.
constexpr std::size_t kMaxUnixSocketPath = 100;
constexpr std::size_t kMaxSerialRead = 1 << 20;

auto logger() {
  return ssh::log::get("vm");
}

// Steps are the user's to see (the reporter prints them); -v adds the
// details logged next to them.
void report(const InstanceReporter& reporter, std::string_view line) {
  if (reporter.step) reporter.step(line);
}

std::string read_text_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InstanceStartError("cannot read " + file.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

void write_file(const fs::path& file, std::string_view content, unsigned mode) {
  if (auto error = platform::write_file_with_mode(file, content, mode)) {
    throw InstanceStartError("cannot " + error->action + " " + file.string() + ": " +
                             std::strerror(error->error_number));
  }
}

struct KeyPairText {
  std::string private_key;
  std::string public_line;
};

KeyPairText generate_ed25519(const std::string& comment) {
  Botan::AutoSeeded_RNG rng;
  auto key = ssh::keys::PrivateKey::generate("ssh-ed25519", 0, rng);
  if (!key) throw InstanceStartError("cannot generate an ed25519 key: " + key.error().message);
  KeyPairText pair{key->to_openssh(comment, rng, {}), key->public_key().to_openssh_line(comment)};
  if (pair.private_key.empty()) throw InstanceStartError("cannot encode an ed25519 key");
  return pair;
}

// limactl's own key pair, shared by every instance (Lima's _config/user).
std::string ensure_user_key(const LimaHome& home, const InstanceReporter& reporter) {
  const fs::path private_file = home.user_private_key();
  const fs::path public_file = home.user_public_key();
  std::error_code error;
  if (fs::exists(private_file, error) && fs::exists(public_file, error)) {
    logger()->debug("using the key {}", private_file.string());
    return first_line(read_text_file(public_file));
  }
  fs::create_directories(home.config_directory(), error);
  if (error) {
    throw InstanceStartError("cannot create " + home.config_directory().string() + ": " +
                             error.message() + " (is $LIMA_HOME writable?)");
  }
  const KeyPairText pair = generate_ed25519("limactl");
  write_file(private_file, pair.private_key, kPrivateKeyMode);
  write_file(public_file, pair.public_line + "\n", kPublicKeyMode);
  report(reporter, "generated limactl's key " + private_file.string());
  return pair.public_line;
}

// The guest's host key: made once per instance, so the host can pin it.
GuestHostKey ensure_guest_host_key(const InstancePaths& paths, const InstanceReporter& reporter) {
  std::error_code error;
  if (fs::exists(paths.guest_host_key(), error) &&
      fs::exists(paths.guest_host_public_key(), error)) {
    return {read_text_file(paths.guest_host_key()),
            first_line(read_text_file(paths.guest_host_public_key()))};
  }
  const KeyPairText pair = generate_ed25519("lima-" + paths.name());
  write_file(paths.guest_host_key(), pair.private_key, kPrivateKeyMode);
  write_file(paths.guest_host_public_key(), pair.public_line + "\n", kPublicKeyMode);
  report(reporter, "generated the guest's host key " + paths.guest_host_key().string());
  return {pair.private_key, pair.public_line};
}

std::vector<std::string> authorized_keys(const std::string& user_key, const LimaConfig& config) {
  std::vector<std::string> keys{user_key};
  if (!config.ssh.load_dot_ssh_pub_keys.value_or(false)) return keys;
  const fs::path ssh_directory = fs::path(platform::home_directory()) / ".ssh";
  std::error_code error;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(ssh_directory, error)) {
    if (entry.path().extension() == ".pub") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    const std::string line = first_line(read_text_file(file));
    if (line.empty()) continue;
    logger()->debug("loadDotSSHPubKeys: authorizing {}", file.string());
    keys.push_back(line);
  }
  return keys;
}

const Image& choose_image(const LimaConfig& config) {
  const std::string arch = config.arch.value_or("x86_64");
  for (const Image& image : config.images) {
    if (!image.file.arch || *image.file.arch == arch) return image;
  }
  throw InstanceStartError("lima.yaml has no image for arch " + arch +
                           ": add one to images[] with arch: " + arch);
}

// Copies one image file into the instance unless it is there already.
void install_if_missing(const ImageFile& file, const fs::path& destination, std::string_view label,
                        const InstanceReporter& reporter) {
  std::error_code error;
  if (fs::exists(destination, error)) return;
  ImageLocation location = parse_image_location(file.location, platform::home_directory());
  if (location.remote) {
    // Into the cache first (resumable, digest checked), then copied like a
    // local file: the instance keeps its own copy, as in Lima.
    report(reporter, "downloading the " + std::string(label) + " " + location.url);
    location.local_path = fetch_to_cache(
        location.url, limactl_cache_directory(), file.digest,
        reporter.begin_download ? reporter.begin_download(label) : DownloadProgressCallback{});
    logger()->debug("{} cached as {}", location.url, location.local_path.string());
  }
  if (!fs::exists(location.local_path, error)) {
    std::string message =
        "the " + std::string(label) + " " + location.local_path.string() + " does not exist";
    const fs::path guest_images = local_guest_image_directory();
    if (location.local_path.parent_path() == guest_images) {
      message += ": build the local guest image first with scripts/build-guest-image";
    }
    throw InstanceStartError(message);
  }
  report(reporter, "copying the " + std::string(label) + " " + location.local_path.string());
  install_image_file(location.local_path, destination, file.digest, compression_of(file.location),
                     [&](const InstallProgress& progress) {
                       if (reporter.copy_progress) reporter.copy_progress(label, progress);
                     });
}

QemuArch qemu_arch(const LimaConfig& config) {
  const std::string arch = config.arch.value_or("x86_64");
  if (arch == "x86_64") return QemuArch::X86_64;
  if (arch == "aarch64") return QemuArch::Aarch64;
  throw InstanceStartError("arch " + arch + " is not supported by limactl's QEMU driver " +
                           "(x86_64 and aarch64 are)");
}

struct QemuPrograms {
  std::string system;
  std::string img;
};

QemuPrograms find_qemu(QemuArch arch) {
  const std::string suffix = arch == QemuArch::X86_64 ? "x86_64" : "aarch64";
  const std::string variable =
      arch == QemuArch::X86_64 ? "QEMU_SYSTEM_X86_64" : "QEMU_SYSTEM_AARCH64";
  const char* from_environment = std::getenv(variable.c_str());
  const std::string wanted = from_environment && *from_environment ? std::string(from_environment)
                                                                   : "qemu-system-" + suffix;
  const auto system = platform::find_program(wanted);
  if (!system) {
    throw InstanceStartError(
        wanted + " was not found" +
        (from_environment && *from_environment ? " ($" + variable + ")" : " in PATH") +
        ": install QEMU (Debian: apt install qemu-system-x86 qemu-utils)");
  }
  fs::path img = system->parent_path() / "qemu-img";
#ifdef _WIN32
  img += ".exe";
#endif
  std::error_code error;
  if (!fs::exists(img, error)) {
    const auto found = platform::find_program("qemu-img");
    if (!found) {
      throw InstanceStartError(
          "qemu-img was not found next to " + system->string() +
          " or in PATH: install QEMU's tools (Debian: apt install qemu-utils)");
    }
    img = *found;
  }
  logger()->debug("QEMU: {} and {}", system->string(), img.string());
  return {system->string(), img.string()};
}

void create_overlay(const InstancePaths& paths, const LimaConfig& config,
                    const std::string& qemu_img, const InstanceReporter& reporter) {
  std::error_code error;
  if (fs::exists(paths.diff_disk(), error)) return;
  const DiskImageInfo base = read_disk_image_info(paths.base_disk());
  const std::uint64_t size = overlay_size(config.disk.value_or(0), base);
  const auto argv =
      qemu_img_overlay_arguments(qemu_img, paths.base_disk(), base, paths.diff_disk(), size);
  report(reporter, "creating the disk " + paths.diff_disk().string() + " (" + format_size(size) +
                       ", qcow2 over the " + std::string(disk_format_name(base.format)) + " base)");
  auto run = platform::run_program(argv, kQemuImgTimeout);
  if (!run || !run->exit_code || *run->exit_code != 0) {
    fs::remove(paths.diff_disk(), error);
    const std::string why =
        !run ? run.error().message
             : (run->timed_out ? std::string("it timed out") : first_line(run->output));
    throw InstanceStartError("qemu-img could not create " + paths.diff_disk().string() + ": " +
                             why);
  }
}

int choose_ssh_port(const LimaConfig& config) {
  const int wanted = config.ssh.local_port.value_or(0);
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io);
  std::error_code error;
  const asio::ip::tcp::endpoint endpoint(asio::ip::address_v4::loopback(),
                                         static_cast<unsigned short>(wanted));
  acceptor.open(endpoint.protocol(), error);
  if (!error) acceptor.bind(endpoint, error);
  if (error) {
    if (wanted > 0) {
      throw InstanceStartError("127.0.0.1:" + std::to_string(wanted) +
                               " (ssh.localPort in lima.yaml) cannot be used: " + error.message() +
                               "; free it, or set ssh.localPort to 0 to take a free port");
    }
    throw InstanceStartError("cannot find a free port on 127.0.0.1: " + error.message());
  }
  const int port = acceptor.local_endpoint().port();
  logger()->debug("SSH port: 127.0.0.1:{}{}", port, wanted > 0 ? " (ssh.localPort)" : " (free)");
  return port;
}

std::string last_lines(const fs::path& file, std::size_t count) {
  std::ifstream in(file, std::ios::binary);
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    lines.push_back(line);
    if (lines.size() > count) lines.pop_front();
  }
  std::string text;
  for (const std::string& each : lines) text += (text.empty() ? "" : "\n  ") + each;
  return text;
}

void remove_quietly(const fs::path& file) {
  std::error_code error;
  fs::remove(file, error);
}

// QEMU is gone: what it leaves when it dies early (it may have written its
// pid file already) must not make the instance look Broken.
std::string qemu_exit_message(const InstancePaths& paths, const platform::ChildExit& exit) {
  remove_quietly(paths.qemu_pid());
  remove_quietly(paths.qmp_socket());
  std::string message = "QEMU exited (" + platform::describe_child_exit(exit) + ")";
  const std::string output = last_lines(paths.qemu_log(), 5);
  if (!output.empty()) message += ":\n  " + output;
  message += "\n(all of QEMU's output: " + paths.qemu_log().string() + ")";
  return message;
}

void wait_for_pid_file(const InstancePaths& paths, int pid) {
  const auto deadline = std::chrono::steady_clock::now() + kPidFileTimeout;
  std::error_code error;
  while (!fs::exists(paths.qemu_pid(), error)) {
    if (auto exit = platform::poll_child_exit(pid)) {
      throw InstanceStartError(qemu_exit_message(paths, *exit));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      throw InstanceStartError("QEMU (pid " + std::to_string(pid) + ") did not write " +
                               paths.qemu_pid().string() + " within 30 s");
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

// Reads what serial.log gained since `offset`, at most kMaxSerialRead at a
// time: the guest writes that file as fast as it likes.
std::string read_new_bytes(const fs::path& file, std::uint64_t& offset) {
  std::error_code error;
  const std::uint64_t size = fs::file_size(file, error);
  if (error || size <= offset) return {};  // nothing new: no open, no buffer
  std::ifstream in(file, std::ios::binary);
  if (!in) return {};
  in.seekg(static_cast<std::streamoff>(offset));
  std::string bytes(
      static_cast<std::size_t>(std::min<std::uint64_t>(size - offset, kMaxSerialRead)), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  offset += bytes.size();
  return bytes;
}

// Follows serial.log until the boot script reports. Returns false only when
// `silence_limit` is given and the console stayed empty that long (the
// caller decides what to do with QEMU then); failures are exceptions.
bool follow_boot(const InstancePaths& paths, int pid, std::chrono::seconds timeout,
                 const InstanceReporter& reporter,
                 std::optional<std::chrono::seconds> silence_limit = std::nullopt) {
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + timeout;
  const std::string still_running = "; the VM is still running (`limactl stop " + paths.name() +
                                    "` stops it; its console is in " + paths.serial_log().string() +
                                    ")";
  BootProgress progress;
  std::uint64_t offset = 0;
  for (;;) {
    for (const BootEvent& event : progress.feed(read_new_bytes(paths.serial_log(), offset))) {
      const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::steady_clock::now() - started)
                               .count();
      const std::string line = "[" + std::to_string(seconds) + " s] guest: " + event.message;
      if (event.kind == BootEvent::Kind::Failed) {
        logger()->error("{}", line);
        throw InstanceStartError("the guest's boot failed: " + event.message + still_running);
      }
      report(reporter, line);
      if (event.kind == BootEvent::Kind::Ready) return true;
    }
    if (auto exit = platform::poll_child_exit(pid)) {
      throw InstanceStartError(qemu_exit_message(paths, *exit));
    }
    if (silence_limit && offset == 0 &&
        std::chrono::steady_clock::now() - started > *silence_limit) {
      return false;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      throw InstanceStartError("the guest did not finish booting within " +
                               std::to_string(timeout.count()) + " s" + still_running);
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

bool wait_until_gone(int pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (platform::process_is_running(pid)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
  return true;
}

}  // namespace

std::string instance_ssh_config(const std::string& instance_name, const std::string& user,
                                int ssh_port, const fs::path& identity_file,
                                const fs::path& known_hosts_file) {
  const std::string alias = "lima-" + instance_name;
  auto quoted = [](const fs::path& path) { return "\"" + path.generic_string() + "\""; };
  return "# Written by limactl start for `ssh -F` (OpenSSH's ssh or `limactl ssh`).\n"
         "# Rewritten at every start: the port may change.\n"
         "Host " +
         alias +
         "\n"
         "  HostName 127.0.0.1\n"
         "  Port " +
         std::to_string(ssh_port) +
         "\n"
         "  User " +
         user +
         "\n"
         "  IdentityFile " +
         quoted(identity_file) +
         "\n"
         "  IdentitiesOnly yes\n"
         "  PreferredAuthentications publickey\n"
         "  BatchMode yes\n"
         "  StrictHostKeyChecking yes\n"
         "  UserKnownHostsFile " +
         quoted(known_hosts_file) +
         "\n"
         "  HostKeyAlias " +
         alias + "\n";
}

std::optional<int> instance_ssh_port(const InstancePaths& paths) {
  std::ifstream in(paths.ssh_config());
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string keyword;
    int port = 0;
    if (words >> keyword && keyword == "Port" && words >> port && port > 0 && port < 65536) {
      return port;
    }
  }
  return std::nullopt;
}

StartedInstance start_instance(const LimaHome& home, const InstancePaths& paths,
                               const LimaConfig& config, const StartOptions& options,
                               const InstanceReporter& reporter) {
  const QemuArch arch = qemu_arch(config);
  const QemuPrograms qemu = find_qemu(arch);
  if (paths.qmp_socket().string().size() > kMaxUnixSocketPath) {
    throw InstanceStartError(
        "the instance directory's path is too long for QEMU's control "
        "socket (" +
        paths.qmp_socket().string() + "): set LIMA_HOME to a shorter directory");
  }

  const Image& image = choose_image(config);
  install_if_missing(image.file, paths.base_disk(), "disk image", reporter);
  std::optional<DirectKernelBoot> kernel_boot;
  if (image.kernel) {
    install_if_missing(image.kernel->file, paths.kernel(), "kernel", reporter);
    kernel_boot = DirectKernelBoot{paths.kernel().string(), std::nullopt, image.kernel->cmdline};
    if (image.initrd) {
      install_if_missing(*image.initrd, paths.initrd(), "initrd", reporter);
      kernel_boot->initrd = paths.initrd().string();
    }
  }
  create_overlay(paths, config, qemu.img, reporter);

  const std::string user_key = ensure_user_key(home, reporter);
  const GuestHostKey host_key = ensure_guest_host_key(paths, reporter);

  CidataInput cidata;
  cidata.instance_name = paths.name();
  cidata.config = config;
  cidata.authorized_keys = authorized_keys(user_key, config);
  cidata.host_keys = {host_key};
  cidata.timestamp_unix_seconds = std::chrono::duration_cast<std::chrono::seconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count();
  write_cidata_iso(cidata, paths.cidata_iso());
  logger()->debug("wrote {}", paths.cidata_iso().string());

  const int ssh_port = choose_ssh_port(config);
  const std::string alias = "lima-" + paths.name();
  write_file(paths.known_hosts(), alias + " " + host_key.public_key_line + "\n", kPublicKeyMode);
  write_file(paths.ssh_config(),
             instance_ssh_config(paths.name(), config.user.name.value_or("lima"), ssh_port,
                                 home.user_private_key(), paths.known_hosts()),
             kPublicKeyMode);

  const AcceleratorChoice accelerator =
      choose_accelerator(qemu.system, paths.accelerator_probe_directory());
  report(reporter, accelerator.reason);

  QemuLaunch launch;
  launch.qemu_binary = qemu.system;
  launch.arch = arch;
  launch.accelerator = accelerator.accelerator;
  launch.cpu_model = accelerator.cpu_model;
  launch.cpus = config.cpus.value_or(1);
  launch.memory_bytes = config.memory.value_or(0);
  launch.disk_image = paths.diff_disk().string();
  launch.kernel_boot = kernel_boot;
  launch.cidata_iso = paths.cidata_iso().string();
  launch.ssh_host_port = ssh_port;
  launch.serial_log = paths.serial_log().string();
  launch.qmp = QmpUnixSocket{paths.qmp_socket().string()};
  launch.pid_file = paths.qemu_pid().string();

  // Each start's console from its beginning; the previous one is kept.
  std::error_code error;
  if (fs::exists(paths.serial_log(), error)) {
    fs::rename(paths.serial_log(), paths.serial_log().string() + ".1", error);
  }
  auto start_qemu = [&] {
    const std::vector<std::string> argv = qemu_arguments(launch);
    std::string command_line;
    for (const std::string& argument : argv)
      command_line += (command_line.empty() ? "" : " ") + argument;
    logger()->debug("QEMU command line: {}", command_line);
    remove_quietly(paths.serial_log());
    remove_quietly(paths.qemu_log());
    remove_quietly(paths.qmp_socket());
    auto pid = platform::start_detached(argv, paths.qemu_log());
    if (!pid) throw InstanceStartError(pid.error().message);
    report(reporter, "QEMU started (pid " + std::to_string(*pid) + ", " +
                         std::string(accelerator_name(launch.accelerator)) +
                         ", SSH on 127.0.0.1:" + std::to_string(ssh_port) +
                         "); following the boot in " + paths.serial_log().string());
    wait_for_pid_file(paths, *pid);
    return *pid;
  };

  int pid = start_qemu();
  const bool kvm = launch.accelerator == Accelerator::Kvm;
  if (!follow_boot(paths, pid, options.boot_timeout, reporter,
                   kvm ? std::optional(kSilentKvmGuestLimit) : std::nullopt)) {
    report(reporter, "the guest printed nothing on its console within " +
                         std::to_string(kSilentKvmGuestLimit.count()) +
                         " s under KVM: KVM cannot run it here (nested virtualisation?); "
                         "restarting it with TCG, which is slower");
    std::string kill_error;
    if (!platform::kill_process(pid, kill_error) && platform::process_is_running(pid)) {
      throw InstanceStartError("cannot kill QEMU (pid " + std::to_string(pid) + "): " + kill_error);
    }
    // QEMU is our child here: reaped, not merely signalled, or it lingers
    // as a zombie that still counts as running.
    const auto kill_deadline = std::chrono::steady_clock::now() + kKillTimeout;
    while (!platform::poll_child_exit(pid) && platform::process_is_running(pid)) {
      if (std::chrono::steady_clock::now() > kill_deadline) {
        throw InstanceStartError("QEMU (pid " + std::to_string(pid) +
                                 ") is still running after a kill");
      }
      std::this_thread::sleep_for(kPollInterval);
    }
    remove_quietly(paths.qemu_pid());
    launch.accelerator = Accelerator::Tcg;
    launch.cpu_model.clear();
    pid = start_qemu();
    follow_boot(paths, pid, options.boot_timeout, reporter);
  }
  return {pid, ssh_port, launch.accelerator};
}

void stop_instance(const InstancePaths& paths, const StopOptions& options,
                   const InstanceReporter& reporter) {
  const InstanceState state = inspect_instance(paths, platform::process_is_running);
  if (state.status == InstanceStatus::Stopped) {
    throw InstanceStartError("instance \"" + paths.name() + "\" is not running");
  }
  if (state.status == InstanceStatus::Broken) {
    remove_quietly(paths.qemu_pid());
    remove_quietly(paths.qmp_socket());
    report(reporter, "instance \"" + paths.name() + "\" was not running (" + state.problem +
                         "); removed its stale files");
    return;
  }
  const int pid = state.qemu_pid;
  bool stopped = false;
  if (!options.force) {
    report(reporter, "asking the guest to power off (QMP system_powerdown)");
    if (auto failure = qmp_execute(QmpUnixSocket{paths.qmp_socket().string()}, "system_powerdown",
                                   kQmpTimeout)) {
      report(reporter, "cannot ask the guest to power off: " + *failure + "; killing QEMU");
    } else if (wait_until_gone(pid, options.timeout)) {
      stopped = true;
      report(reporter, "the guest powered off");
    } else {
      report(reporter, "the guest did not power off within " +
                           std::to_string(options.timeout.count()) + " s; killing QEMU");
    }
  }
  if (!stopped) {
    std::string kill_error;
    if (!platform::kill_process(pid, kill_error) && platform::process_is_running(pid)) {
      throw InstanceStartError("cannot kill QEMU (pid " + std::to_string(pid) + "): " + kill_error);
    }
    if (!wait_until_gone(pid, kKillTimeout)) {
      throw InstanceStartError("QEMU (pid " + std::to_string(pid) +
                               ") is still running after "
                               "a kill");
    }
    report(reporter, "QEMU (pid " + std::to_string(pid) + ") killed");
  }
  remove_quietly(paths.qemu_pid());
  remove_quietly(paths.qmp_socket());
}

}  // namespace vm
