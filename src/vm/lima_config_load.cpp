#include "vm/lima_config_load.hpp"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <charconv>
#include <fstream>
#include <limits>
#include <sstream>
#include <system_error>
#include <type_traits>
#include <utility>

namespace vm {
namespace {

// Lima's sizes are binary whatever the suffix says (go-units RAMInBytes).
constexpr std::array<char, 6> kSizeUnits = {'k', 'm', 'g', 't', 'p', 'e'};
constexpr std::array<std::string_view, 6> kSizeUnitNames = {"KiB", "MiB", "GiB",
                                                            "TiB", "PiB", "EiB"};

std::string describe_node(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "\"" + node.Scalar() + "\"";
    default:
      return "nothing";
  }
}

// "U+0007".
std::string code_point_name(char32_t code) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string name = "U+";
  for (int shift = 12; shift >= 0; shift -= 4) name += kHex[(code >> shift) & 0xfU];
  return name;
}

// YAML streams are Unicode with only printable characters (YAML 1.2
// section 5.1, c-printable), and Lima's parser refuses anything else.
// yaml-cpp does not check: it would take invalid UTF-8 into a value and its
// writer would then print U+FFFD instead, so a file limactl writes would not
// read back as what it loaded. The line of the first offending byte, or
// nullopt when the text is fine.
std::optional<std::pair<int, std::string>> unreadable_text(std::string_view text) {
  int line = 1;
  std::size_t at = 0;
  while (at < text.size()) {
    const auto lead = static_cast<unsigned char>(text[at]);
    std::size_t length = 1;
    char32_t code = lead;
    if (lead >= 0x80) {
      if (lead >= 0xc2 && lead <= 0xdf) {
        length = 2;
        code = lead & 0x1fU;
      } else if (lead >= 0xe0 && lead <= 0xef) {
        length = 3;
        code = lead & 0x0fU;
      } else if (lead >= 0xf0 && lead <= 0xf4) {
        length = 4;
        code = lead & 0x07U;
      } else {
        return std::pair{line, std::string("invalid UTF-8")};
      }
      if (text.size() - at < length) return std::pair{line, std::string("invalid UTF-8")};
      for (std::size_t i = 1; i < length; ++i) {
        const auto next = static_cast<unsigned char>(text[at + i]);
        if ((next & 0xc0U) != 0x80) return std::pair{line, std::string("invalid UTF-8")};
        code = (code << 6) | (next & 0x3fU);
      }
      const char32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
      if (code < smallest[length] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
        return std::pair{line, std::string("invalid UTF-8")};
      }
    }
    const bool printable = code == '\t' || code == '\n' || code == '\r' ||
                           (code >= 0x20 && code <= 0x7e) || code == 0x85 ||
                           (code >= 0xa0 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) ||
                           code >= 0x10000;
    if (!printable) {
      return std::pair{line, "control character " + code_point_name(code) + " is not allowed"};
    }
    if (code == '\n') ++line;
    at += length;
  }
  return std::nullopt;
}

// The text is checked for non-printable characters before parsing, but a
// quoted scalar's escapes ("\uFFFE") can still bring in the noncharacters
// U+FFFE and U+FFFF, which YAML does not print and yaml-cpp cannot write
// (it writes U+FFFD), so a config holding one would not read back the same.
std::optional<std::string> noncharacter_in(std::string_view text) {
  for (const std::string_view noncharacter : {"\xef\xbf\xbe", "\xef\xbf\xbf"}) {
    if (text.find(noncharacter) != std::string_view::npos) {
      return "the noncharacter " +
             std::string(noncharacter == "\xef\xbf\xbe" ? "U+FFFE" : "U+FFFF") + " is not allowed";
    }
  }
  return std::nullopt;
}

int line_of(const YAML::Node& node) {
  const int line = node.Mark().line;
  return line >= 0 ? line + 1 : 0;
}

std::string child_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string index_path(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

// Reads nodes into values, recording a diagnostic for every problem and the
// line of every field it reads.
class Reader {
 public:
  Reader(std::string file, ConfigLoadResult& result) : file_(std::move(file)), result_(result) {}

  void error(const YAML::Node& node, const std::string& path, const std::string& message) {
    result_.errors.push_back({file_, line_of(node), path, message});
  }
  void unknown_field(const YAML::Node& key, const std::string& path) {
    result_.warnings.push_back({file_, line_of(key), path, "unknown field (ignored)"});
  }
  void note_line(const YAML::Node& node, const std::string& path) {
    result_.lines.emplace(path, line_of(node));
  }

  // False (and an error unless the node is null) when it is no mapping.
  bool mapping(const YAML::Node& node, const std::string& path) {
    note_line(node, path);
    if (node.IsMap()) return true;
    if (!node.IsNull()) error(node, path, "expected a mapping, got " + describe_node(node));
    return false;
  }
  bool sequence(const YAML::Node& node, const std::string& path) {
    note_line(node, path);
    if (node.IsSequence()) return true;
    if (!node.IsNull()) error(node, path, "expected a list, got " + describe_node(node));
    return false;
  }

  // Null reads as "not set", as Go's yaml does for pointer fields.
  std::optional<std::string> string(const YAML::Node& node, const std::string& path) {
    note_line(node, path);
    if (node.IsNull()) return std::nullopt;
    if (!node.IsScalar()) {
      error(node, path, "expected a string, got " + describe_node(node));
      return std::nullopt;
    }
    if (const auto refused = noncharacter_in(node.Scalar())) {
      error(node, path, *refused);
      return std::nullopt;
    }
    return node.Scalar();
  }

  std::optional<bool> boolean(const YAML::Node& node, const std::string& path) {
    note_line(node, path);
    if (node.IsNull()) return std::nullopt;
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
      error(node, path, "expected a boolean, got " + describe_node(node));
      return std::nullopt;
    }
    return value;
  }

  std::optional<std::int64_t> integer(const YAML::Node& node, const std::string& path) {
    note_line(node, path);
    if (node.IsNull()) return std::nullopt;
    if (node.IsScalar()) {
      const std::string& text = node.Scalar();
      std::int64_t value = 0;
      const char* const end = text.data() + text.size();
      const char* begin = text.data();
      if (begin != end && *begin == '+' && begin + 1 != end && begin[1] != '-') ++begin;
      const auto parsed = std::from_chars(begin, end, value);
      if (parsed.ec == std::errc() && parsed.ptr == end && begin != end) return value;
    }
    error(node, path, "expected an integer, got " + describe_node(node));
    return std::nullopt;
  }

  // An int field: also refuses values that do not fit an int.
  std::optional<int> small_integer(const YAML::Node& node, const std::string& path) {
    const auto value = integer(node, path);
    if (!value) return std::nullopt;
    if (*value < std::numeric_limits<int>::min() || *value > std::numeric_limits<int>::max()) {
      error(node, path, "integer out of range: " + std::to_string(*value));
      return std::nullopt;
    }
    return static_cast<int>(*value);
  }

  std::optional<std::uint64_t> size(const YAML::Node& node, const std::string& path) {
    note_line(node, path);
    if (node.IsNull()) return std::nullopt;
    if (node.IsScalar()) {
      if (auto bytes = parse_size(node.Scalar())) return bytes;
    }
    error(node, path, "expected a size such as \"4GiB\", got " + describe_node(node));
    return std::nullopt;
  }

  std::optional<PortRange> port_range(const YAML::Node& node, const std::string& path) {
    note_line(node, path);
    if (node.IsNull()) return std::nullopt;
    if (!node.IsSequence() || node.size() != 2) {
      error(node, path, "expected a list of two ports [first, last], got " + describe_node(node));
      return std::nullopt;
    }
    PortRange range{};
    for (std::size_t i = 0; i < 2; ++i) {
      const auto port = small_integer(node[i], index_path(path, i));
      if (!port) return std::nullopt;
      range[i] = *port;
    }
    return range;
  }

  std::map<std::string, std::string> string_map(const YAML::Node& node, const std::string& path) {
    std::map<std::string, std::string> values;
    if (!mapping(node, path)) return values;
    for (const auto& entry : node) {
      const std::string key = entry.first.Scalar();
      if (const auto refused = noncharacter_in(key)) {
        error(entry.first, child_path(path, key), *refused);
        continue;
      }
      if (auto value = string(entry.second, child_path(path, key))) values[key] = *value;
    }
    return values;
  }

 private:
  std::string file_;
  ConfigLoadResult& result_;
};

// location, arch and digest, which images, kernels and initrds share; false
// for other keys.
bool read_image_file_field(Reader& reader, ImageFile& file, const std::string& key,
                           const YAML::Node& value, const std::string& field) {
  if (key == "location") {
    file.location = reader.string(value, field).value_or("");
  } else if (key == "arch") {
    file.arch = reader.string(value, field);
  } else if (key == "digest") {
    file.digest = reader.string(value, field);
  } else {
    return false;
  }
  return true;
}

ImageKernel read_kernel(Reader& reader, const YAML::Node& node, const std::string& path) {
  ImageKernel kernel;
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    const std::string field = child_path(path, key);
    if (read_image_file_field(reader, kernel.file, key, entry.second, field)) continue;
    if (key == "cmdline") {
      kernel.cmdline = reader.string(entry.second, field);
    } else {
      reader.unknown_field(entry.first, field);
    }
  }
  return kernel;
}

ImageFile read_initrd(Reader& reader, const YAML::Node& node, const std::string& path) {
  ImageFile initrd;
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    const std::string field = child_path(path, key);
    if (!read_image_file_field(reader, initrd, key, entry.second, field)) {
      reader.unknown_field(entry.first, field);
    }
  }
  return initrd;
}

Image read_image(Reader& reader, const YAML::Node& node, const std::string& path) {
  Image image;
  if (!reader.mapping(node, path)) return image;
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    const std::string field = child_path(path, key);
    if (read_image_file_field(reader, image.file, key, entry.second, field)) continue;
    if (key == "kernel") {
      if (reader.mapping(entry.second, field)) {
        image.kernel = read_kernel(reader, entry.second, field);
      }
    } else if (key == "initrd") {
      if (reader.mapping(entry.second, field)) {
        image.initrd = read_initrd(reader, entry.second, field);
      }
    } else {
      reader.unknown_field(entry.first, field);
    }
  }
  return image;
}

Mount read_mount(Reader& reader, const YAML::Node& node, const std::string& path) {
  Mount mount;
  if (!reader.mapping(node, path)) return mount;
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    const std::string field = child_path(path, key);
    if (key == "location") {
      mount.location = reader.string(entry.second, field).value_or("");
    } else if (key == "mountPoint") {
      mount.mount_point = reader.string(entry.second, field);
    } else if (key == "writable") {
      mount.writable = reader.boolean(entry.second, field);
    } else if (key == "sshfs") {
      if (!reader.mapping(entry.second, field)) continue;
      for (const auto& sshfs_entry : entry.second) {
        const std::string sshfs_key = sshfs_entry.first.Scalar();
        const std::string sshfs_field = child_path(field, sshfs_key);
        if (sshfs_key == "cache") {
          mount.sshfs.cache = reader.boolean(sshfs_entry.second, sshfs_field);
        } else if (sshfs_key == "followSymlinks") {
          mount.sshfs.follow_symlinks = reader.boolean(sshfs_entry.second, sshfs_field);
        } else {
          reader.unknown_field(sshfs_entry.first, sshfs_field);
        }
      }
    } else {
      reader.unknown_field(entry.first, field);
    }
  }
  return mount;
}

SshSettings read_ssh(Reader& reader, const YAML::Node& node, const std::string& path) {
  SshSettings ssh;
  if (!reader.mapping(node, path)) return ssh;
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    const std::string field = child_path(path, key);
    if (key == "localPort") {
      ssh.local_port = reader.small_integer(entry.second, field);
    } else if (key == "loadDotSSHPubKeys") {
      ssh.load_dot_ssh_pub_keys = reader.boolean(entry.second, field);
    } else if (key == "forwardAgent") {
      ssh.forward_agent = reader.boolean(entry.second, field);
    } else {
      reader.unknown_field(entry.first, field);
    }
  }
  return ssh;
}

UserSettings read_user(Reader& reader, const YAML::Node& node, const std::string& path) {
  UserSettings user;
  if (!reader.mapping(node, path)) return user;
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    const std::string field = child_path(path, key);
    if (key == "name") {
      user.name = reader.string(entry.second, field);
    } else if (key == "uid") {
      user.uid = reader.integer(entry.second, field);
    } else if (key == "home") {
      user.home = reader.string(entry.second, field);
    } else if (key == "shell") {
      user.shell = reader.string(entry.second, field);
    } else {
      reader.unknown_field(entry.first, field);
    }
  }
  return user;
}

Provision read_provision(Reader& reader, const YAML::Node& node, const std::string& path) {
  Provision provision;
  if (!reader.mapping(node, path)) return provision;
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    const std::string field = child_path(path, key);
    if (key == "mode") {
      provision.mode = reader.string(entry.second, field);
    } else if (key == "script") {
      provision.script = reader.string(entry.second, field).value_or("");
    } else {
      reader.unknown_field(entry.first, field);
    }
  }
  return provision;
}

Probe read_probe(Reader& reader, const YAML::Node& node, const std::string& path) {
  Probe probe;
  if (!reader.mapping(node, path)) return probe;
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    const std::string field = child_path(path, key);
    if (key == "mode") {
      probe.mode = reader.string(entry.second, field);
    } else if (key == "script") {
      probe.script = reader.string(entry.second, field).value_or("");
    } else if (key == "hint") {
      probe.hint = reader.string(entry.second, field);
    } else {
      reader.unknown_field(entry.first, field);
    }
  }
  return probe;
}

PortForward read_port_forward(Reader& reader, const YAML::Node& node, const std::string& path) {
  PortForward rule;
  if (!reader.mapping(node, path)) return rule;
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    const std::string field = child_path(path, key);
    const YAML::Node& value = entry.second;
    if (key == "guestIPMustBeZero") {
      rule.guest_ip_must_be_zero = reader.boolean(value, field);
    } else if (key == "guestIP") {
      rule.guest_ip = reader.string(value, field);
    } else if (key == "guestPort") {
      rule.guest_port = reader.small_integer(value, field);
    } else if (key == "guestPortRange") {
      rule.guest_port_range = reader.port_range(value, field);
    } else if (key == "guestSocket") {
      rule.guest_socket = reader.string(value, field);
    } else if (key == "hostIP") {
      rule.host_ip = reader.string(value, field);
    } else if (key == "hostPort") {
      rule.host_port = reader.small_integer(value, field);
    } else if (key == "hostPortRange") {
      rule.host_port_range = reader.port_range(value, field);
    } else if (key == "hostSocket") {
      rule.host_socket = reader.string(value, field);
    } else if (key == "proto") {
      rule.proto = reader.string(value, field);
    } else if (key == "reverse") {
      rule.reverse = reader.boolean(value, field);
    } else if (key == "ignore") {
      rule.ignore = reader.boolean(value, field);
    } else {
      reader.unknown_field(entry.first, field);
    }
  }
  return rule;
}

template <typename Item, typename ReadItem>
std::vector<Item> read_list(Reader& reader, const YAML::Node& node, const std::string& path,
                            ReadItem read_item) {
  std::vector<Item> items;
  if (!reader.sequence(node, path)) return items;
  for (std::size_t i = 0; i < node.size(); ++i) {
    items.push_back(read_item(reader, node[i], index_path(path, i)));
  }
  return items;
}

void read_top_level(Reader& reader, const YAML::Node& root, LimaConfig& config) {
  for (const auto& entry : root) {
    const std::string key = entry.first.Scalar();
    const YAML::Node& value = entry.second;
    if (key == "vmType") {
      config.vm_type = reader.string(value, key);
    } else if (key == "os") {
      config.os = reader.string(value, key);
    } else if (key == "arch") {
      config.arch = reader.string(value, key);
    } else if (key == "images") {
      config.images = read_list<Image>(reader, value, key, read_image);
    } else if (key == "cpus") {
      config.cpus = reader.small_integer(value, key);
    } else if (key == "memory") {
      config.memory = reader.size(value, key);
    } else if (key == "disk") {
      config.disk = reader.size(value, key);
    } else if (key == "mounts") {
      config.mounts = read_list<Mount>(reader, value, key, read_mount);
    } else if (key == "mountType") {
      config.mount_type = reader.string(value, key);
    } else if (key == "ssh") {
      config.ssh = read_ssh(reader, value, key);
    } else if (key == "user") {
      config.user = read_user(reader, value, key);
    } else if (key == "provision") {
      config.provision = read_list<Provision>(reader, value, key, read_provision);
    } else if (key == "probes") {
      config.probes = read_list<Probe>(reader, value, key, read_probe);
    } else if (key == "portForwards") {
      config.port_forwards = read_list<PortForward>(reader, value, key, read_port_forward);
    } else if (key == "env") {
      config.env = reader.string_map(value, key);
    } else if (key == "param") {
      config.param = reader.string_map(value, key);
    } else if (key == "message") {
      config.message = reader.string(value, key);
    } else {
      reader.unknown_field(entry.first, key);
    }
  }
}

// --- writing ---

// Whether the text holds a character that must be written escaped: one the
// loader refuses raw (unreadable_text: controls other than tab, line feed
// and carriage return, DEL, C1 controls), a carriage return (yaml-cpp
// prints it raw in a plain scalar, where it reads back as a line break), or
// one yaml-cpp escapes in quotes but prints raw in a literal block (NEL,
// NBSP, the BOM). Such text reaches a config through escapes in a quoted
// scalar ("\e[1m").
bool needs_escapes(std::string_view text) {
  if (unreadable_text(text)) return true;
  for (const std::string_view escaped_in_quotes : {"\r", "\xc2\x85", "\xc2\xa0", "\xef\xbb\xbf"}) {
    if (text.find(escaped_in_quotes) != std::string_view::npos) return true;
  }
  return false;
}

// Scripts read best as literal blocks ("|"), but yaml-cpp writes those
// without a chomping indicator, so a block reads back with exactly one final
// newline; other multi-line text is written quoted with escapes, as is text
// with characters that must be escaped (a literal block cannot escape).
bool reads_back_as_literal(const std::string& value) {
  const std::size_t size = value.size();
  return size >= 2 && value[size - 1] == '\n' && value[size - 2] != '\n' && value[0] != ' ' &&
         value[0] != '\t' && value[0] != '\n' && value.find('\r') == std::string::npos &&
         !needs_escapes(value);
}

// Text that needs escapes is written double-quoted (yaml-cpp would write a
// CR raw in a plain scalar) with everything outside ASCII escaped (yaml-cpp
// writes DEL raw even in double quotes otherwise).
void write_scalar(YAML::Emitter& out, const std::string& text) {
  if (needs_escapes(text)) out << YAML::DoubleQuoted << YAML::EscapeNonAscii;
  out << text;
}

void write_string(YAML::Emitter& out, std::string_view key, const std::string& value) {
  out << YAML::Key;
  write_scalar(out, std::string(key));
  out << YAML::Value;
  if (reads_back_as_literal(value)) out << YAML::Literal;
  write_scalar(out, value);
}

template <typename T>
void write_optional(YAML::Emitter& out, std::string_view key, const std::optional<T>& value) {
  if (!value) return;
  if constexpr (std::is_same_v<T, std::string>) {
    write_string(out, key, *value);
  } else {
    out << YAML::Key << std::string(key) << YAML::Value << *value;
  }
}

void write_image_file_fields(YAML::Emitter& out, const ImageFile& file) {
  write_string(out, "location", file.location);
  write_optional(out, "arch", file.arch);
  write_optional(out, "digest", file.digest);
}

void write_port_range(YAML::Emitter& out, std::string_view key,
                      const std::optional<PortRange>& range) {
  if (!range) return;
  out << YAML::Key << std::string(key) << YAML::Value << YAML::Flow << YAML::BeginSeq << (*range)[0]
      << (*range)[1] << YAML::EndSeq;
}

void write_string_map(YAML::Emitter& out, std::string_view key,
                      const std::map<std::string, std::string>& values) {
  if (values.empty()) return;
  out << YAML::Key << std::string(key) << YAML::Value << YAML::BeginMap;
  for (const auto& [name, value] : values) write_string(out, name, value);
  out << YAML::EndMap;
}

bool any_set(const SshSettings& ssh) {
  return ssh.local_port || ssh.load_dot_ssh_pub_keys || ssh.forward_agent;
}
bool any_set(const UserSettings& user) {
  return user.name || user.uid || user.home || user.shell;
}

}  // namespace

std::string ConfigDiagnostic::to_string() const {
  std::string text = file;
  if (line > 0) text += ":" + std::to_string(line);
  if (!text.empty()) text += ": ";
  if (!path.empty()) text += path + ": ";
  return text + message;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::size_t position = 0;
  auto digits = [&] {
    const std::size_t start = position;
    while (position < text.size() && std::isdigit(static_cast<unsigned char>(text[position]))) {
      ++position;
    }
    return position > start;
  };
  if (!digits()) return std::nullopt;
  const std::size_t integer_end = position;
  std::size_t number_end = position;
  if (position < text.size() && text[position] == '.') {
    ++position;
    if (!digits()) return std::nullopt;
    number_end = position;
  }
  if (position < text.size() && text[position] == ' ') ++position;
  int exponent = 0;
  if (position < text.size()) {
    const char unit = static_cast<char>(std::tolower(static_cast<unsigned char>(text[position])));
    for (std::size_t i = 0; i < kSizeUnits.size() - 1; ++i) {  // go-units stops at P
      if (unit == kSizeUnits[i]) {
        exponent = static_cast<int>(i) + 1;
        ++position;
        break;
      }
    }
  }
  if (position < text.size() && (text[position] == 'i' || text[position] == 'I')) ++position;
  if (position < text.size() && (text[position] == 'b' || text[position] == 'B')) ++position;
  if (position != text.size()) return std::nullopt;

  long double multiplier = 1;
  for (int i = 0; i < exponent; ++i) multiplier *= 1024;
  long double value = 0;
  for (std::size_t i = 0; i < integer_end; ++i) value = value * 10 + (text[i] - '0');
  long double scale = 0.1L;
  for (std::size_t i = integer_end + 1; i < number_end; ++i, scale /= 10) {
    value += (text[i] - '0') * scale;
  }
  const long double bytes = value * multiplier;
  // 2^64 is exactly representable; anything at or above it does not fit.
  if (bytes >= 18446744073709551616.0L) return std::nullopt;
  return static_cast<std::uint64_t>(bytes);
}

std::string format_size(std::uint64_t bytes) {
  if (bytes == 0) return "0";
  int unit = 0;
  while (unit < static_cast<int>(kSizeUnitNames.size()) && bytes % 1024 == 0) {
    bytes /= 1024;
    ++unit;
  }
  if (unit == 0) return std::to_string(bytes);
  return std::to_string(bytes) + std::string(kSizeUnitNames[static_cast<std::size_t>(unit - 1)]);
}

ConfigLoadResult load_lima_config(std::string_view yaml_text, const std::string& file_name) {
  ConfigLoadResult result;
  if (auto problem = unreadable_text(yaml_text)) {
    result.errors.push_back({file_name, problem->first, "", "malformed YAML: " + problem->second});
    return result;
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& error) {
    const int line = error.mark.line >= 0 ? error.mark.line + 1 : 0;
    result.errors.push_back({file_name, line, "", "malformed YAML: " + error.msg});
    return result;
  }
  Reader reader(file_name, result);
  if (root.IsNull()) return result;  // an empty file sets nothing
  if (!root.IsMap()) {
    reader.error(root, "", "expected a mapping of lima.yaml fields, got " + describe_node(root));
    return result;
  }
  read_top_level(reader, root, result.config);
  return result;
}

ConfigLoadResult load_lima_config_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) {
    ConfigLoadResult result;
    result.errors.push_back({file.string(), 0, "", "cannot read the file"});
    return result;
  }
  return load_lima_config(text.str(), file.string());
}

std::string write_lima_config(const LimaConfig& config) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  write_optional(out, "vmType", config.vm_type);
  write_optional(out, "os", config.os);
  write_optional(out, "arch", config.arch);
  if (!config.images.empty()) {
    out << YAML::Key << "images" << YAML::Value << YAML::BeginSeq;
    for (const Image& image : config.images) {
      out << YAML::BeginMap;
      write_image_file_fields(out, image.file);
      if (image.kernel) {
        out << YAML::Key << "kernel" << YAML::Value << YAML::BeginMap;
        write_image_file_fields(out, image.kernel->file);
        write_optional(out, "cmdline", image.kernel->cmdline);
        out << YAML::EndMap;
      }
      if (image.initrd) {
        out << YAML::Key << "initrd" << YAML::Value << YAML::BeginMap;
        write_image_file_fields(out, *image.initrd);
        out << YAML::EndMap;
      }
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  write_optional(out, "cpus", config.cpus);
  if (config.memory) write_string(out, "memory", format_size(*config.memory));
  if (config.disk) write_string(out, "disk", format_size(*config.disk));
  if (!config.mounts.empty()) {
    out << YAML::Key << "mounts" << YAML::Value << YAML::BeginSeq;
    for (const Mount& mount : config.mounts) {
      out << YAML::BeginMap;
      write_string(out, "location", mount.location);
      write_optional(out, "mountPoint", mount.mount_point);
      write_optional(out, "writable", mount.writable);
      if (mount.sshfs.cache || mount.sshfs.follow_symlinks) {
        out << YAML::Key << "sshfs" << YAML::Value << YAML::BeginMap;
        write_optional(out, "cache", mount.sshfs.cache);
        write_optional(out, "followSymlinks", mount.sshfs.follow_symlinks);
        out << YAML::EndMap;
      }
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  write_optional(out, "mountType", config.mount_type);
  if (any_set(config.ssh)) {
    out << YAML::Key << "ssh" << YAML::Value << YAML::BeginMap;
    write_optional(out, "localPort", config.ssh.local_port);
    write_optional(out, "loadDotSSHPubKeys", config.ssh.load_dot_ssh_pub_keys);
    write_optional(out, "forwardAgent", config.ssh.forward_agent);
    out << YAML::EndMap;
  }
  if (any_set(config.user)) {
    out << YAML::Key << "user" << YAML::Value << YAML::BeginMap;
    write_optional(out, "name", config.user.name);
    write_optional(out, "uid", config.user.uid);
    write_optional(out, "home", config.user.home);
    write_optional(out, "shell", config.user.shell);
    out << YAML::EndMap;
  }
  if (!config.provision.empty()) {
    out << YAML::Key << "provision" << YAML::Value << YAML::BeginSeq;
    for (const Provision& provision : config.provision) {
      out << YAML::BeginMap;
      write_optional(out, "mode", provision.mode);
      write_string(out, "script", provision.script);
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  if (!config.probes.empty()) {
    out << YAML::Key << "probes" << YAML::Value << YAML::BeginSeq;
    for (const Probe& probe : config.probes) {
      out << YAML::BeginMap;
      write_optional(out, "mode", probe.mode);
      write_string(out, "script", probe.script);
      write_optional(out, "hint", probe.hint);
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  if (!config.port_forwards.empty()) {
    out << YAML::Key << "portForwards" << YAML::Value << YAML::BeginSeq;
    for (const PortForward& rule : config.port_forwards) {
      out << YAML::BeginMap;
      write_optional(out, "guestIPMustBeZero", rule.guest_ip_must_be_zero);
      write_optional(out, "guestIP", rule.guest_ip);
      write_optional(out, "guestPort", rule.guest_port);
      write_port_range(out, "guestPortRange", rule.guest_port_range);
      write_optional(out, "guestSocket", rule.guest_socket);
      write_optional(out, "hostIP", rule.host_ip);
      write_optional(out, "hostPort", rule.host_port);
      write_port_range(out, "hostPortRange", rule.host_port_range);
      write_optional(out, "hostSocket", rule.host_socket);
      write_optional(out, "proto", rule.proto);
      write_optional(out, "reverse", rule.reverse);
      write_optional(out, "ignore", rule.ignore);
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  write_string_map(out, "env", config.env);
  write_string_map(out, "param", config.param);
  write_optional(out, "message", config.message);
  out << YAML::EndMap;
  std::string text = out.c_str();
  // A literal block at the end already ends the text with its newline.
  if (text.empty() || text.back() != '\n') text += '\n';
  return text;
}

}  // namespace vm
