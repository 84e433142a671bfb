#include "vm/qemu_probe.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "platform/program_run.hpp"
#include "ssh/log.hpp"

namespace vm {
namespace {

constexpr std::string_view kTcgFallback = "; using TCG, which is slower";

// A tiny 16-bit assembler: bytes plus labels resolved when the sector is
// finished (absolute addresses for data, 8-bit relative offsets for jumps).
class BootSectorCode {
 public:
  enum class Label { Data, Message, Print, Done, Exit, Halt, Fail };

  void bytes(std::initializer_list<std::uint8_t> values) {
    code_.insert(code_.end(), values.begin(), values.end());
  }
  void absolute(Label label) {
    absolute_uses_.emplace_back(code_.size(), label);
    bytes({0, 0});
  }
  void relative(Label label) {
    relative_uses_.emplace_back(code_.size(), label);
    bytes({0});
  }
  void place(Label label) { labels_[label] = code_.size(); }

  std::array<std::uint8_t, 512> finish() {
    constexpr std::size_t kLoadAddress = 0x7c00;  // where the BIOS puts a boot sector
    for (auto [position, label] : absolute_uses_) {
      std::size_t address = kLoadAddress + labels_.at(label);
      code_[position] = static_cast<std::uint8_t>(address & 0xff);
      code_[position + 1] = static_cast<std::uint8_t>(address >> 8);
    }
    for (auto [position, label] : relative_uses_) {
      auto offset = static_cast<std::ptrdiff_t>(labels_.at(label)) -
                    static_cast<std::ptrdiff_t>(position + 1);
      if (offset < -128 || offset > 127) {
        throw std::logic_error("probe boot sector: jump out of range");
      }
      code_[position] = static_cast<std::uint8_t>(offset);
    }
    if (code_.size() > 510) {
      throw std::logic_error("probe boot sector: code does not fit");
    }
    std::array<std::uint8_t, 512> sector{};
    std::copy(code_.begin(), code_.end(), sector.begin());
    sector[510] = 0x55;  // the BIOS boots a sector only with this signature
    sector[511] = 0xaa;
    return sector;
  }

 private:
  std::vector<std::uint8_t> code_;
  std::map<Label, std::size_t> labels_;
  std::vector<std::pair<std::size_t, Label>> absolute_uses_;
  std::vector<std::pair<std::size_t, Label>> relative_uses_;
};

std::string first_line_with(const std::string& text, std::string_view needle) {
  auto found = text.find(needle);
  if (found == std::string::npos) {
    return {};
  }
  auto start = text.rfind('\n', found);
  start = start == std::string::npos ? 0 : start + 1;
  auto end = text.find('\n', found);
  return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string first_line(const std::string& text) {
  auto end = text.find('\n');
  return text.substr(0, end);
}

std::string read_small_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string content;
  char buffer[4096];
  while (in && content.size() < 64 * 1024) {
    in.read(buffer, sizeof buffer);
    content.append(buffer, static_cast<std::size_t>(in.gcount()));
  }
  return content;
}

std::string describe_failed_run(const platform::ProgramRun& run, bool marker_seen,
                                std::chrono::milliseconds timeout) {
  if (auto line = first_line_with(run.output, "KVM internal error"); !line.empty()) {
    return "a test guest stopped with \"" + line + "\"";
  }
  if (run.timed_out) {
    std::string limit = timeout.count() % 1000 == 0 ? std::to_string(timeout.count() / 1000) + " s"
                                                    : std::to_string(timeout.count()) + " ms";
    return "a test guest did not finish within " + limit +
           (marker_seen ? " after its code ran" : " and its code never ran");
  }
  std::string how = run.exit_code ? "exited with status " + std::to_string(*run.exit_code)
                                  : "was killed by signal " + std::to_string(run.signal);
  std::string said = first_line(run.output);
  return "QEMU running a test guest " + how + (said.empty() ? "" : ": " + said);
}

// Why /dev/kvm cannot be used, or empty if it opens for reading and writing
// (what QEMU needs).
std::string kvm_device_problem() {
#ifdef _WIN32
  return "KVM exists only on Linux";
#else
  std::FILE* device = std::fopen("/dev/kvm", "r+b");
  if (device != nullptr) {
    std::fclose(device);
    return {};
  }
  int error = errno;
  if (error == ENOENT) {
    return "there is no /dev/kvm (no KVM on this host, or it is not passed into this container)";
  }
  std::string problem = std::string("/dev/kvm cannot be opened: ") + std::strerror(error);
  if (error == EACCES) {
    problem += " (is your user in the kvm group?)";
  }
  return problem;
#endif
}

}  // namespace

std::array<std::uint8_t, 512> probe_boot_sector() {
  using Label = BootSectorCode::Label;
  BootSectorCode code;
  code.bytes({0xfa});                                // cli
  code.bytes({0xfc});                                // cld
  code.bytes({0x31, 0xc0});                          // xor ax, ax
  code.bytes({0x8e, 0xd8});                          // mov ds, ax
  code.bytes({0x66, 0x31, 0xc0});                    // xor eax, eax
  code.bytes({0x66, 0x31, 0xd2});                    // xor edx, edx
  code.bytes({0x66, 0xbb, 0x01, 0x00, 0x00, 0x00});  // mov ebx, 1
  code.bytes({0x66, 0x31, 0xc9});                    // xor ecx, ecx
  // A locked compare-exchange on memory, akin to the `lock cmpxchg16b`
  // nested KVM failed to emulate here (that one exists only in 64-bit mode):
  // edx:eax (0) equals the zeroed data, so it stores ecx:ebx and sets ZF.
  code.bytes({0xf0, 0x0f, 0xc7, 0x0e});  // lock cmpxchg8b [data]
  code.absolute(Label::Data);
  code.bytes({0x75});  // jnz fail
  code.relative(Label::Fail);
  code.bytes({0x66, 0x83, 0x3e});  // cmp dword [data], 1
  code.absolute(Label::Data);
  code.bytes({0x01});
  code.bytes({0x75});  // jnz fail
  code.relative(Label::Fail);
  code.bytes({0xbe});  // mov si, message
  code.absolute(Label::Message);
  code.place(Label::Print);
  code.bytes({0xac});        // lodsb
  code.bytes({0x84, 0xc0});  // test al, al
  code.bytes({0x74});        // jz done
  code.relative(Label::Done);
  code.bytes({0xe6, 0xe9});  // out 0xe9, al (isa-debugcon)
  code.bytes({0xeb});        // jmp print
  code.relative(Label::Print);
  code.place(Label::Done);
  code.bytes({0xb0, 0x10});  // mov al, 0x10
  code.place(Label::Exit);
  code.bytes({0xe6, 0xf4});  // out 0xf4, al (isa-debug-exit: QEMU exits)
  code.place(Label::Halt);
  code.bytes({0xf4});  // hlt
  code.bytes({0xeb});  // jmp halt
  code.relative(Label::Halt);
  code.place(Label::Fail);
  code.bytes({0xb0, 0x20});  // mov al, 0x20 (QEMU exits with 65)
  code.bytes({0xeb});        // jmp exit
  code.relative(Label::Exit);
  code.place(Label::Data);
  code.bytes({0, 0, 0, 0, 0, 0, 0, 0});
  code.place(Label::Message);
  for (char c : kProbeGuestMarker) {
    code.bytes({static_cast<std::uint8_t>(c)});
  }
  code.bytes({0});
  return code.finish();
}

ProbeGuestRun run_probe_guest(const std::string& qemu_binary, Accelerator accelerator,
                              const std::filesystem::path& scratch_dir,
                              std::chrono::milliseconds timeout, const std::string& cpu_model) {
  std::error_code error;
  std::filesystem::create_directories(scratch_dir, error);
  if (error) {
    return {false, "cannot create " + scratch_dir.string() + ": " + error.message()};
  }
  auto disk = scratch_dir / "accelerator-probe.img";
  auto console = scratch_dir / "accelerator-probe.out";
  {
    auto sector = probe_boot_sector();
    std::ofstream out(disk, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(sector.data()),
              static_cast<std::streamsize>(sector.size()));
    if (!out.flush()) {
      out.close();
      std::filesystem::remove(disk, error);
      return {false, "cannot write " + disk.string()};
    }
  }
  // SeaBIOS refuses to boot a disk of one sector ("could not read the boot
  // disk"); a megabyte of zeros after it is enough (and sparse).
  std::filesystem::resize_file(disk, 1024 * 1024, error);
  if (error) {
    std::string reason = error.message();
    std::filesystem::remove(disk, error);
    return {false, "cannot write " + disk.string() + ": " + reason};
  }
  std::filesystem::remove(console, error);

  std::vector<std::string> argv{
      qemu_binary,
      "-machine",
      "q35",
      "-accel",
      std::string(accelerator_name(accelerator)),
      "-nodefaults",
      "-display",
      "none",
      "-no-reboot",
      "-m",
      "32",
      "-drive",
      "file=" + escape_qemu_option_value(disk.string()) + ",format=raw,if=ide",
      "-chardev",
      "file,id=probe,path=" + escape_qemu_option_value(console.string()),
      "-device",
      "isa-debugcon,iobase=0xe9,chardev=probe",
      "-device",
      "isa-debug-exit,iobase=0xf4,iosize=0x04",
  };
  if (!cpu_model.empty()) {
    argv.push_back("-cpu");
    argv.push_back(cpu_model);
  }
  auto run = platform::run_program(argv, timeout);
  std::string console_output = read_small_file(console);
  std::filesystem::remove(disk, error);
  std::filesystem::remove(console, error);
  if (!run) {
    return {false, run.error().message};
  }
  bool marker_seen = console_output.find(kProbeGuestMarker) != std::string::npos;
  bool internal_error = run->output.find("KVM internal error") != std::string::npos;
  if (marker_seen && !internal_error && run->exit_code == kProbeGuestExitStatus) {
    return {true, {}};
  }
  if (!internal_error && run->exit_code == 65) {
    return {false, "a test guest's locked cmpxchg8b gave a wrong result"};
  }
  return {false, describe_failed_run(*run, marker_seen, timeout)};
}

AcceleratorChoice choose_accelerator(const std::string& qemu_binary,
                                     const std::filesystem::path& scratch_dir) {
  auto logger = ssh::log::get("vm");
  AcceleratorChoice choice;
  if (auto problem = kvm_device_problem(); !problem.empty()) {
    choice.reason = "KVM is not available: " + problem + std::string(kTcgFallback);
  } else {
    // The probe runs the CPU model the guest will get: a guest that QEMU
    // cannot even start with `-cpu host` must not be sent to KVM.
    std::string failures;
    for (std::string_view model : kKvmCpuModels) {
      const std::string cpu_model(model);
      auto trial = run_probe_guest(qemu_binary, Accelerator::Kvm, scratch_dir,
                                   std::chrono::seconds(5), cpu_model);
      if (trial.completed) {
        choice.accelerator = Accelerator::Kvm;
        choice.cpu_model = cpu_model;
        choice.reason = failures.empty() ? "KVM runs guests here; using it"
                                         : "KVM runs guests here with -cpu " + cpu_model +
                                               " (with -cpu " + failures + "); using it";
        break;
      }
      logger->debug("accelerator probe: KVM with -cpu {} failed: {}", cpu_model, trial.failure);
      if (!failures.empty()) failures += "; with -cpu ";
      failures += cpu_model + " QEMU failed: " + trial.failure;
    }
    if (choice.accelerator != Accelerator::Kvm) {
      choice.reason = "KVM is present but cannot run guests here (with -cpu " + failures + ")" +
                      std::string(kTcgFallback);
    }
  }
  logger->info("accelerator {}: {}", accelerator_name(choice.accelerator), choice.reason);
  return choice;
}

}  // namespace vm
