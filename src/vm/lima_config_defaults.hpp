// Layering and built-in defaults for lima.yaml, with Lima's rules
// (pkg/limayaml/defaults.go FillDefault, and the notes at the end of Lima's
// templates/default.yaml):
//
//   $LIMA_HOME/_config/default.yaml  <  the instance's lima.yaml  <
//   $LIMA_HOME/_config/override.yaml
//
// - Scalars (and each field of ssh and user): the highest layer that sets
//   one wins.
// - images, provision, probes, portForwards: concatenated override, then
//   instance, then default. Lima uses the first matching image and the first
//   matching port forward rule, so the higher layer's entries come first;
//   provision scripts and probes run in that same order.
// - mounts: concatenated default, then instance, then override; a mount
//   whose location (as written, after no expansion) equals an earlier one's
//   is merged into it instead, the later layer's set fields winning, so the
//   mount keeps its first position.
// - env and param: merged key by key, the higher layer's value winning.
//
// Then apply_builtin_defaults() fills what no layer set: vmType qemu, os
// Linux, arch of this host, cpus 4, memory 4GiB, disk 100GiB, mountType
// reverse-sshfs, the host user (see HostFacts), and each list entry's
// defaults, as Lima's FillDefault does.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "vm/lima_config.hpp"
#include "vm/lima_config_load.hpp"

namespace vm {

inline constexpr int kDefaultCpus = 4;
inline constexpr std::uint64_t kDefaultMemoryBytes = 4ULL << 30;
inline constexpr std::uint64_t kDefaultDiskBytes = 100ULL << 30;
// Lima's fallbacks when the host user's name or uid do not suit a Linux guest.
inline constexpr std::string_view kFallbackUserName = "lima";
inline constexpr std::int64_t kFallbackUid = 1000;

// What the built-in defaults take from the host; a parameter so that tests
// (and Windows) get the same results everywhere.
struct HostFacts {
  std::string user_name;
  std::string user_id;  // numeric on POSIX; "0" on Windows, which has none
  std::string home;
  std::string arch;  // Lima's name: x86_64, aarch64, ...
};

HostFacts current_host_facts();
// This build's architecture in Lima's names.
std::string host_arch();
// $LIMA_HOME if set and not empty, else ~/.lima.
std::filesystem::path lima_home_directory();

LimaConfig merge_lima_configs(const LimaConfig& defaults, const LimaConfig& instance,
                              const LimaConfig& overrides);
LimaConfig apply_builtin_defaults(LimaConfig config, const HostFacts& host);

// "~" and "~/x" with the host home; other text unchanged; nullopt for
// "~user/x", which Lima does not expand either.
std::optional<std::string> expand_home(const std::string& location, const std::string& home);

// The instance file with $LIMA_HOME/_config/{default,override}.yaml where
// present, merged and with built-in defaults. Errors and warnings of every
// file read. `lines` holds the instance file's lines only when no other file
// was there to contribute (lines of a merged config would mislead).
ConfigLoadResult load_lima_config_with_defaults(const std::filesystem::path& instance_file,
                                                const std::filesystem::path& lima_home,
                                                const HostFacts& host);

}  // namespace vm
