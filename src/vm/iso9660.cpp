#include "vm/iso9660.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string_view>
#include <tuple>

// Layout of the image, in 2048-byte sectors:
//   0-15   system area (zeros)
//   16     Primary Volume Descriptor
//   17     Joliet Supplementary Volume Descriptor
//   18     Volume Descriptor Set Terminator
//   then   ISO path tables (L, M), Joliet path tables (L, M)
//   then   ISO directories, each followed by its Rock Ridge continuation area
//   then   Joliet directories
//   then   file data, shared by both trees
// Every size in it depends only on names and contents, so the layout is
// computed first from sizes, then everything is written once with the final
// sector numbers.

namespace vm::iso9660 {
namespace {

constexpr std::uint32_t kPrimaryDescriptorSector = 16;
constexpr std::uint32_t kJolietDescriptorSector = 17;
constexpr std::uint32_t kTerminatorSector = 18;
constexpr std::uint32_t kFirstFreeSector = 19;
constexpr std::size_t kMaxNameCharacters = 64;  // Joliet's limit
constexpr std::size_t kMaxVolumeIdLength = 32;
constexpr std::size_t kJolietVolumeIdCharacters = 16;
constexpr std::size_t kMaxPathComponents = 8;  // ECMA-119 6.8.2.1: 8 directory levels
constexpr std::size_t kMaxRecordLength = 255;
constexpr std::size_t kContinuationEntryLength = 28;
constexpr std::uint8_t kDirectoryFlag = 0x02;
constexpr std::uint32_t kFileTypeDirectory = 0040000;
constexpr std::uint32_t kFileTypeRegular = 0100000;
constexpr std::int64_t kSecondsPerDay = 86400;

// The Rock Ridge extension reference, as mkisofs and libisofs write it;
// Linux only prefers Rock Ridge over Joliet once it has seen this ER entry.
constexpr std::string_view kRripIdentifier = "RRIP_1991A";
constexpr std::string_view kRripDescriptor =
    "THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS";
constexpr std::string_view kRripSource =
    "PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN "
    "PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.";

using Bytes = std::vector<std::uint8_t>;

// ---------------------------------------------------------------------------
// Byte fields (ECMA-119 7.2, 7.3: little, big and both-endian numbers).

void put_le16(std::uint8_t* at, std::uint16_t value) {
  at[0] = static_cast<std::uint8_t>(value);
  at[1] = static_cast<std::uint8_t>(value >> 8);
}
void put_be16(std::uint8_t* at, std::uint16_t value) {
  at[0] = static_cast<std::uint8_t>(value >> 8);
  at[1] = static_cast<std::uint8_t>(value);
}
void put_both16(std::uint8_t* at, std::uint16_t value) {
  put_le16(at, value);
  put_be16(at + 2, value);
}
void put_le32(std::uint8_t* at, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) at[i] = static_cast<std::uint8_t>(value >> (8 * i));
}
void put_be32(std::uint8_t* at, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) at[i] = static_cast<std::uint8_t>(value >> (8 * (3 - i)));
}
void put_both32(std::uint8_t* at, std::uint32_t value) {
  put_le32(at, value);
  put_be32(at + 4, value);
}
void put_text(std::uint8_t* at, std::size_t width, std::string_view text) {
  std::memset(at, ' ', width);
  std::memcpy(at, text.data(), std::min(width, text.size()));
}
void put_ucs2_text(std::uint8_t* at, std::size_t width, std::u16string_view text) {
  for (std::size_t i = 0; i + 1 < width; i += 2) {
    const char16_t unit = i / 2 < text.size() ? text[i / 2] : u' ';
    put_be16(at + i, static_cast<std::uint16_t>(unit));
  }
}

void append(Bytes& out, const Bytes& more) {
  out.insert(out.end(), more.begin(), more.end());
}

std::uint32_t sectors_for(std::uint64_t bytes) {
  return static_cast<std::uint32_t>((bytes + kSectorSize - 1) / kSectorSize);
}

void pad_to_sector(Bytes& bytes) {
  bytes.resize(std::size_t{sectors_for(bytes.size())} * kSectorSize);
}

// Appends `item` so that it does not cross a sector boundary (directory
// records and continuation areas must not, ECMA-119 6.8.1.1, SUSP 5.1).
void append_within_sector(Bytes& out, const Bytes& item) {
  const std::size_t used = out.size() % kSectorSize;
  if (used != 0 && used + item.size() > kSectorSize) out.resize(out.size() + kSectorSize - used);
  append(out, item);
}

// ---------------------------------------------------------------------------
// Time: one UTC timestamp, in the two formats ECMA-119 records.

struct CivilTime {
  std::int64_t year;
  unsigned month, day, hour, minute, second;
};

CivilTime civil_from_unix(std::int64_t seconds) {
  const std::int64_t days = seconds / kSecondsPerDay;  // seconds >= 0 (validated)
  const std::int64_t of_day = seconds % kSecondsPerDay;
  const std::chrono::year_month_day date{std::chrono::sys_days{std::chrono::days{days}}};
  return {static_cast<int>(date.year()),           static_cast<unsigned>(date.month()),
          static_cast<unsigned>(date.day()),       static_cast<unsigned>(of_day / 3600),
          static_cast<unsigned>(of_day / 60 % 60), static_cast<unsigned>(of_day % 60)};
}

// ECMA-119 9.1.5: years since 1900, month, day, hour, minute, second, GMT offset.
using RecordTime = std::array<std::uint8_t, 7>;

RecordTime record_time(const CivilTime& time) {
  return {static_cast<std::uint8_t>(time.year - 1900),
          static_cast<std::uint8_t>(time.month),
          static_cast<std::uint8_t>(time.day),
          static_cast<std::uint8_t>(time.hour),
          static_cast<std::uint8_t>(time.minute),
          static_cast<std::uint8_t>(time.second),
          0};
}

// ECMA-119 8.4.26.1: "YYYYMMDDHHMMSScc" digits and a GMT offset byte.
void put_descriptor_time(std::uint8_t* at, const CivilTime* time) {
  if (time == nullptr) {  // "not specified"
    std::memset(at, '0', 16);
    at[16] = 0;
    return;
  }
  char digits[17];
  std::snprintf(digits, sizeof digits, "%04u%02u%02u%02u%02u%02u00",
                static_cast<unsigned>(time->year), time->month, time->day, time->hour, time->minute,
                time->second);
  std::memcpy(at, digits, 16);
  at[16] = 0;
}

// ---------------------------------------------------------------------------
// Validation of names.

// Control bytes (NUL above all) shown as \xNN, so that the message stays one
// readable C string.
std::string in_quotes(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02X", byte);
      out += escaped;
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

// UTF-8 to UCS-2 (Joliet cannot hold characters outside the BMP).
std::u16string ucs2_from_utf8(std::string_view name, std::string_view path) {
  std::u16string units;
  std::size_t i = 0;
  while (i < name.size()) {
    const auto lead = static_cast<unsigned char>(name[i]);
    std::size_t length = 0;
    std::uint32_t code_point = 0;
    if (lead < 0x80) {
      length = 1;
      code_point = lead;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2;
      code_point = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      code_point = lead & 0x0F;
    } else {
      throw IsoError("ISO image: file name in " + in_quotes(path) +
                     " is not UTF-8 of the Basic Multilingual Plane (Joliet holds only that)");
    }
    if (i + length > name.size()) {
      throw IsoError("ISO image: file name in " + in_quotes(path) +
                     " ends inside a UTF-8 character");
    }
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(name[i + k]);
      if ((next & 0xC0) != 0x80) {
        throw IsoError("ISO image: file name in " + in_quotes(path) + " is not valid UTF-8");
      }
      code_point = (code_point << 6) | (next & 0x3F);
    }
    const bool overlong = (length == 2 && code_point < 0x80) || (length == 3 && code_point < 0x800);
    if (overlong || (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      throw IsoError("ISO image: file name in " + in_quotes(path) + " is not valid UTF-8");
    }
    units.push_back(static_cast<char16_t>(code_point));
    i += length;
  }
  return units;
}

std::u16string validated_name(std::string_view name, std::string_view path) {
  if (name.empty()) {
    throw IsoError("ISO image: path " + in_quotes(path) +
                   " has an empty component (leading, trailing or double '/')");
  }
  if (name == "." || name == "..") {
    throw IsoError("ISO image: path " + in_quotes(path) + " contains \".\" or \"..\"");
  }
  if (name.find('\0') != std::string_view::npos) {
    throw IsoError("ISO image: path " + in_quotes(path) + " contains a NUL byte");
  }
  std::u16string units = ucs2_from_utf8(name, path);
  if (units.size() > kMaxNameCharacters) {
    throw IsoError("ISO image: name " + in_quotes(name) + " in " + in_quotes(path) + " has " +
                   std::to_string(units.size()) + " characters; at most " +
                   std::to_string(kMaxNameCharacters) + " fit in Joliet");
  }
  for (const char16_t unit : units) {
    if (unit < 0x20 || unit == 0x7F) {
      throw IsoError("ISO image: name in " + in_quotes(path) + " contains a control character");
    }
    if (std::u16string_view(u"*:;?\\").find(unit) != std::u16string_view::npos) {
      throw IsoError("ISO image: name in " + in_quotes(path) +
                     " contains one of * : ; ? \\ (not allowed in Joliet names)");
    }
  }
  return units;
}

void validate_mode(std::uint32_t mode, std::string_view what) {
  if ((mode & ~std::uint32_t{07777}) != 0) {
    char octal[16];
    std::snprintf(octal, sizeof octal, "%o", mode);
    throw IsoError("ISO image: mode " + std::string(octal) + " of " + std::string(what) +
                   " has bits beyond 07777 (give permission bits only)");
  }
}

void validate_volume_id(std::string_view volume_id) {
  if (volume_id.empty() || volume_id.size() > kMaxVolumeIdLength) {
    throw IsoError("ISO image: volume id " + in_quotes(volume_id) + " must have 1 to " +
                   std::to_string(kMaxVolumeIdLength) + " characters");
  }
  for (const char c : volume_id) {
    const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                         (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    if (!allowed) {
      throw IsoError("ISO image: volume id " + in_quotes(volume_id) +
                     " may only contain A-Z a-z 0-9 _ - .");
    }
  }
}

// ---------------------------------------------------------------------------
// The tree, with the names and layout of each view.

enum class View { kIso, kJoliet };

struct Node {
  std::string name;  // the real (Rock Ridge) name; "" for the root
  std::u16string joliet_name;
  bool is_directory = false;
  std::uint32_t mode = 0;
  const std::string* contents = nullptr;
  Node* parent = nullptr;
  std::vector<std::unique_ptr<Node>> children;
  std::map<std::string, Node*, std::less<>> children_by_name;

  // ISO9660 level 1 identifier: up to 8 d-characters, and for files up to 3
  // more after the dot.
  std::string iso_base;
  std::string iso_extension;
  std::vector<Node*> iso_order;  // children sorted as ECMA-119 9.3 requires
  std::vector<Node*> joliet_order;

  std::uint32_t data_sector = 0;
  std::uint32_t iso_directory_sector = 0;
  std::uint32_t iso_directory_size = 0;
  std::uint32_t continuation_sector = 0;
  std::uint32_t continuation_size = 0;
  std::uint32_t joliet_directory_sector = 0;
  std::uint32_t joliet_directory_size = 0;
  std::uint16_t iso_number = 0;  // in the path table
  std::uint16_t joliet_number = 0;

  std::uint32_t subdirectory_count() const {
    return static_cast<std::uint32_t>(std::count_if(
        children.begin(), children.end(), [](const auto& child) { return child->is_directory; }));
  }
};

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> components;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = path.find('/', start);
    components.push_back(
        path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return components;
}

Node& add_child(Node& parent, std::string_view name, std::u16string joliet_name,
                bool is_directory) {
  auto child = std::make_unique<Node>();
  child->name = std::string(name);
  child->joliet_name = std::move(joliet_name);
  child->is_directory = is_directory;
  child->parent = &parent;
  Node& added = *child;
  parent.children_by_name.emplace(added.name, &added);
  parent.children.push_back(std::move(child));
  return added;
}

std::unique_ptr<Node> build_tree(const IsoSpec& spec) {
  auto root = std::make_unique<Node>();
  root->is_directory = true;
  root->mode = spec.directory_mode;
  root->parent = root.get();
  for (const IsoFile& file : spec.files) {
    validate_mode(file.mode, in_quotes(file.path));
    if (file.contents.size() > std::uint64_t{0xFFFFFFFF}) {
      throw IsoError("ISO image: " + in_quotes(file.path) + " is larger than 4 GiB - 1");
    }
    const std::vector<std::string_view> components = split_path(file.path);
    if (components.size() > kMaxPathComponents) {
      throw IsoError("ISO image: path " + in_quotes(file.path) + " is " +
                     std::to_string(components.size()) + " levels deep; ISO9660 allows " +
                     std::to_string(kMaxPathComponents));
    }
    Node* directory = root.get();
    for (std::size_t i = 0; i < components.size(); ++i) {
      const std::string_view name = components[i];
      std::u16string joliet_name = validated_name(name, file.path);
      const bool last = i + 1 == components.size();
      const auto existing = directory->children_by_name.find(name);
      if (existing != directory->children_by_name.end()) {
        Node* node = existing->second;
        if (last) {
          throw IsoError("ISO image: path " + in_quotes(file.path) + " is given twice" +
                         (node->is_directory ? " (once as a directory)" : ""));
        }
        if (!node->is_directory) {
          throw IsoError("ISO image: path " + in_quotes(file.path) + " goes through " +
                         in_quotes(name) + ", which is a file");
        }
        directory = node;
        continue;
      }
      Node& added = add_child(*directory, name, std::move(joliet_name), !last);
      if (last) {
        added.mode = file.mode;
        added.contents = &file.contents;
      } else {
        added.mode = spec.directory_mode;
      }
      directory = &added;
    }
  }
  return root;
}

char d_character(char16_t unit) {
  if (unit >= u'a' && unit <= u'z') return static_cast<char>(unit - u'a' + 'A');
  if ((unit >= u'A' && unit <= u'Z') || (unit >= u'0' && unit <= u'9')) {
    return static_cast<char>(unit);
  }
  return '_';
}

std::string d_characters(std::u16string_view text, std::size_t limit) {
  std::string out;
  for (const char16_t unit : text.substr(0, std::min(limit, text.size()))) {
    out.push_back(d_character(unit));
  }
  return out;
}

// ECMA-119 9.3: ordered by name, then extension, each compared as if padded
// with spaces.
int compare_padded(std::string_view a, std::string_view b) {
  const std::size_t length = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < length; ++i) {
    const char x = i < a.size() ? a[i] : ' ';
    const char y = i < b.size() ? b[i] : ' ';
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

// Level 1 names: 8.3 upper case, made unique within the directory by a
// number at the end of the name part.
void assign_iso_names(Node& directory) {
  std::set<std::string> used;
  for (const auto& child : directory.children) {
    std::u16string_view name = child->joliet_name;
    std::string base;
    std::string extension;
    const std::size_t dot = name.rfind(u'.');
    if (child->is_directory || dot == std::u16string_view::npos) {
      base = d_characters(name, 8);
    } else {
      base = d_characters(name.substr(0, dot), 8);
      extension = d_characters(name.substr(dot + 1), 3);
    }
    if (base.empty()) base = "_";
    std::string candidate = base;
    for (unsigned counter = 1; used.count(candidate + "." + extension) != 0; ++counter) {
      const std::string suffix = std::to_string(counter);
      candidate = base.substr(0, std::min(base.size(), 8 - suffix.size())) + suffix;
    }
    used.insert(candidate + "." + extension);
    child->iso_base = candidate;
    child->iso_extension = extension;
    if (child->is_directory) assign_iso_names(*child);
  }
  for (const auto& child : directory.children) {
    directory.iso_order.push_back(child.get());
    directory.joliet_order.push_back(child.get());
  }
  std::sort(directory.iso_order.begin(), directory.iso_order.end(),
            [](const Node* a, const Node* b) {
              const int by_base = compare_padded(a->iso_base, b->iso_base);
              if (by_base != 0) return by_base < 0;
              return compare_padded(a->iso_extension, b->iso_extension) < 0;
            });
  std::sort(directory.joliet_order.begin(), directory.joliet_order.end(),
            [](const Node* a, const Node* b) { return a->joliet_name < b->joliet_name; });
}

const std::vector<Node*>& children_in(const Node& directory, View view) {
  return view == View::kIso ? directory.iso_order : directory.joliet_order;
}

// Directories in path table order (ECMA-119 9.4: by level, then by parent's
// number, then by identifier), which is breadth first over sorted children.
std::vector<Node*> directories_in_order(Node& root, View view) {
  std::vector<Node*> ordered{&root};
  for (std::size_t i = 0; i < ordered.size(); ++i) {
    for (Node* child : children_in(*ordered[i], view)) {
      if (child->is_directory) ordered.push_back(child);
    }
  }
  if (ordered.size() > 0xFFFF) {
    throw IsoError("ISO image: " + std::to_string(ordered.size()) +
                   " directories; a path table holds at most 65535");
  }
  for (std::size_t i = 0; i < ordered.size(); ++i) {
    const auto number = static_cast<std::uint16_t>(i + 1);
    (view == View::kIso ? ordered[i]->iso_number : ordered[i]->joliet_number) = number;
  }
  return ordered;
}

Bytes identifier_of(const Node& node, View view) {
  if (view == View::kJoliet) {
    Bytes units(node.joliet_name.size() * 2);
    for (std::size_t i = 0; i < node.joliet_name.size(); ++i) {
      put_be16(&units[2 * i], static_cast<std::uint16_t>(node.joliet_name[i]));
    }
    return units;
  }
  std::string identifier = node.iso_base;
  if (!node.is_directory) identifier += "." + node.iso_extension + ";1";
  return Bytes(identifier.begin(), identifier.end());
}

// ---------------------------------------------------------------------------
// Rock Ridge (SUSP 1.12, RRIP 1.12 in its 1991A form) system use entries.

Bytes susp_entry(char first, char second, const Bytes& payload) {
  Bytes entry{static_cast<std::uint8_t>(first), static_cast<std::uint8_t>(second),
              static_cast<std::uint8_t>(4 + payload.size()), 1};
  append(entry, payload);
  return entry;
}

Bytes sharing_protocol_entry() {
  return susp_entry('S', 'P', {0xBE, 0xEF, 0});
}

Bytes extension_reference_entry() {
  Bytes payload{static_cast<std::uint8_t>(kRripIdentifier.size()),
                static_cast<std::uint8_t>(kRripDescriptor.size()),
                static_cast<std::uint8_t>(kRripSource.size()), 1};
  for (const std::string_view text : {kRripIdentifier, kRripDescriptor, kRripSource}) {
    payload.insert(payload.end(), text.begin(), text.end());
  }
  return susp_entry('E', 'R', payload);
}

Bytes posix_attributes_entry(const Node& node, const IsoSpec& spec) {
  Bytes payload(32);
  const std::uint32_t type = node.is_directory ? kFileTypeDirectory : kFileTypeRegular;
  put_both32(&payload[0], type | node.mode);
  put_both32(&payload[8], node.is_directory ? 2 + node.subdirectory_count() : 1);
  put_both32(&payload[16], spec.uid);
  put_both32(&payload[24], spec.gid);
  return susp_entry('P', 'X', payload);
}

Bytes timestamps_entry(const RecordTime& time) {
  constexpr std::uint8_t kModifyAccessAttributes = 0x02 | 0x04 | 0x08;
  Bytes payload{kModifyAccessAttributes};
  for (int i = 0; i < 3; ++i) payload.insert(payload.end(), time.begin(), time.end());
  return susp_entry('T', 'F', payload);
}

Bytes alternate_name_entry(std::string_view name) {
  Bytes payload{0};  // flags: the whole name, no continuation
  payload.insert(payload.end(), name.begin(), name.end());
  return susp_entry('N', 'M', payload);
}

// ---------------------------------------------------------------------------
// Directory records.

struct Context {
  const IsoSpec& spec;
  RecordTime time;
};

std::uint32_t extent_of(const Node& node, View view) {
  if (!node.is_directory) return node.data_sector;
  return view == View::kIso ? node.iso_directory_sector : node.joliet_directory_sector;
}

std::uint32_t size_of(const Node& node, View view) {
  if (!node.is_directory) return static_cast<std::uint32_t>(node.contents->size());
  return view == View::kIso ? node.iso_directory_size : node.joliet_directory_size;
}

// ECMA-119 9.1: the fixed 33 bytes, the identifier, and a pad byte after an
// even length identifier come before the system use area.
std::size_t system_use_offset(std::size_t identifier_length) {
  return 33 + identifier_length + (identifier_length % 2 == 0 ? 1 : 0);
}

// Room for system use entries, keeping a byte for the pad to an even length.
std::size_t system_use_room(std::size_t identifier_length) {
  return kMaxRecordLength - 1 - system_use_offset(identifier_length);
}

Bytes directory_record(const Node& target, View view, const RecordTime& time,
                       const Bytes& identifier, const Bytes& system_use) {
  const std::size_t identifier_end = system_use_offset(identifier.size());
  std::size_t length = identifier_end + system_use.size();
  length += length % 2;
  Bytes record(length, 0);
  record[0] = static_cast<std::uint8_t>(length);
  put_both32(&record[2], extent_of(target, view));
  put_both32(&record[10], size_of(target, view));
  std::copy(time.begin(), time.end(), record.begin() + 18);
  record[25] = target.is_directory ? kDirectoryFlag : 0;
  put_both16(&record[28], 1);  // volume sequence number
  record[32] = static_cast<std::uint8_t>(identifier.size());
  std::copy(identifier.begin(), identifier.end(), record.begin() + 33);
  std::copy(system_use.begin(), system_use.end(), record.begin() + identifier_end);
  return record;
}

struct DirectoryBytes {
  Bytes records;
  Bytes continuation;  // Rock Ridge entries that did not fit in their records
};

// The system use area of one record: entries that fit stay in it, the rest
// go to the directory's continuation area behind a CE entry.
Bytes system_use_area(const Node& directory, std::vector<Bytes> in_record,
                      std::vector<Bytes> spilled, std::size_t identifier_length,
                      Bytes& continuation) {
  const std::size_t room = system_use_room(identifier_length);
  Bytes area;
  for (const Bytes& entry : in_record) append(area, entry);
  const std::size_t needed = area.size() + (spilled.empty() ? 0 : kContinuationEntryLength);
  if (needed > room) {
    throw std::logic_error("ISO image: Rock Ridge entries do not fit a directory record");
  }
  if (spilled.empty()) return area;
  Bytes spilled_bytes;
  for (const Bytes& entry : spilled) append(spilled_bytes, entry);
  append_within_sector(continuation, spilled_bytes);
  const std::size_t offset = continuation.size() - spilled_bytes.size();
  Bytes payload(24);
  put_both32(&payload[0],
             directory.continuation_sector + static_cast<std::uint32_t>(offset / kSectorSize));
  put_both32(&payload[8], static_cast<std::uint32_t>(offset % kSectorSize));
  put_both32(&payload[16], static_cast<std::uint32_t>(spilled_bytes.size()));
  append(area, susp_entry('C', 'E', payload));
  return area;
}

DirectoryBytes directory_bytes(const Node& directory, View view, const Context& context) {
  DirectoryBytes out;
  const bool is_root = directory.parent == &directory;
  const Bytes self_identifier{0};
  const Bytes parent_identifier{1};

  Bytes self_use;
  Bytes parent_use;
  if (view == View::kIso) {
    std::vector<Bytes> entries;
    std::vector<Bytes> spilled;
    if (is_root) entries.push_back(sharing_protocol_entry());  // must come first
    entries.push_back(posix_attributes_entry(directory, context.spec));
    entries.push_back(timestamps_entry(context.time));
    if (is_root) spilled.push_back(extension_reference_entry());
    self_use = system_use_area(directory, entries, spilled, 1, out.continuation);
    parent_use = system_use_area(
        directory,
        {posix_attributes_entry(*directory.parent, context.spec), timestamps_entry(context.time)},
        {}, 1, out.continuation);
  }
  append_within_sector(out.records,
                       directory_record(directory, view, context.time, self_identifier, self_use));
  append_within_sector(out.records, directory_record(*directory.parent, view, context.time,
                                                     parent_identifier, parent_use));

  for (const Node* child : children_in(directory, view)) {
    const Bytes identifier = identifier_of(*child, view);
    Bytes use;
    if (view == View::kIso) {
      std::vector<Bytes> entries{posix_attributes_entry(*child, context.spec),
                                 timestamps_entry(context.time)};
      Bytes name = alternate_name_entry(child->name);
      std::size_t in_record_size = 0;
      for (const Bytes& entry : entries) in_record_size += entry.size();
      std::vector<Bytes> spilled;
      if (in_record_size + name.size() <= system_use_room(identifier.size())) {
        entries.push_back(std::move(name));
      } else {
        spilled.push_back(std::move(name));
      }
      use = system_use_area(directory, entries, spilled, identifier.size(), out.continuation);
    }
    append_within_sector(out.records,
                         directory_record(*child, view, context.time, identifier, use));
  }
  pad_to_sector(out.records);
  pad_to_sector(out.continuation);
  return out;
}

// ECMA-119 9.4.
Bytes path_table(const std::vector<Node*>& directories, View view, bool big_endian) {
  Bytes table;
  for (const Node* directory : directories) {
    const bool is_root = directory->parent == directory;
    const Bytes identifier = is_root ? Bytes{0} : identifier_of(*directory, view);
    Bytes record(8 + identifier.size() + identifier.size() % 2, 0);
    record[0] = static_cast<std::uint8_t>(identifier.size());
    const std::uint32_t extent = extent_of(*directory, view);
    const std::uint16_t parent =
        view == View::kIso ? directory->parent->iso_number : directory->parent->joliet_number;
    if (big_endian) {
      put_be32(&record[2], extent);
      put_be16(&record[6], parent);
    } else {
      put_le32(&record[2], extent);
      put_le16(&record[6], parent);
    }
    std::copy(identifier.begin(), identifier.end(), record.begin() + 8);
    append(table, record);
  }
  return table;
}

struct PathTables {
  std::uint32_t size = 0;
  std::uint32_t little_endian_sector = 0;
  std::uint32_t big_endian_sector = 0;
};

// ECMA-119 8.4 (primary) and 8.5 (supplementary; Joliet fills its text
// fields with UCS-2 and marks itself with an escape sequence).
void put_volume_descriptor(std::uint8_t* at, View view, const IsoSpec& spec, const Node& root,
                           const PathTables& tables, std::uint32_t total_sectors,
                           const CivilTime& time) {
  const bool joliet = view == View::kJoliet;
  at[0] = joliet ? 2 : 1;
  std::memcpy(at + 1, "CD001", 5);
  at[6] = 1;
  const std::string application = "LIMACTL";
  if (joliet) {
    const std::u16string volume_id(
        spec.volume_id.begin(),
        spec.volume_id.begin() + static_cast<std::ptrdiff_t>(
                                     std::min(spec.volume_id.size(), kJolietVolumeIdCharacters)));
    put_ucs2_text(at + 8, 32, u"");
    put_ucs2_text(at + 40, 32, volume_id);
    std::memcpy(at + 88, "%/E", 3);  // UCS-2 level 3
    for (const std::size_t field : {190, 318, 446}) put_ucs2_text(at + field, 128, u"");
    put_ucs2_text(at + 574, 128, std::u16string(application.begin(), application.end()));
    for (const std::size_t field : {702, 739, 776}) put_ucs2_text(at + field, 37, u"");
  } else {
    put_text(at + 8, 32, "");
    put_text(at + 40, 32, spec.volume_id);
    for (const std::size_t field : {190, 318, 446}) put_text(at + field, 128, "");
    put_text(at + 574, 128, application);
    for (const std::size_t field : {702, 739, 776}) put_text(at + field, 37, "");
  }
  put_both32(at + 80, total_sectors);
  put_both16(at + 120, 1);  // volume set size
  put_both16(at + 124, 1);  // volume sequence number
  put_both16(at + 128, static_cast<std::uint16_t>(kSectorSize));
  put_both32(at + 132, tables.size);
  put_le32(at + 140, tables.little_endian_sector);
  put_be32(at + 148, tables.big_endian_sector);
  const Bytes root_record = directory_record(root, view, record_time(time), Bytes{0}, {});
  std::copy(root_record.begin(), root_record.end(), at + 156);
  put_descriptor_time(at + 813, &time);    // creation
  put_descriptor_time(at + 830, &time);    // modification
  put_descriptor_time(at + 847, nullptr);  // expiration
  put_descriptor_time(at + 864, nullptr);  // effective
  at[881] = 1;                             // file structure version
}

void put_terminator(std::uint8_t* at) {
  at[0] = 255;
  std::memcpy(at + 1, "CD001", 5);
  at[6] = 1;
}

void collect_files(Node& directory, std::vector<Node*>& files) {
  for (Node* child : directory.iso_order) {
    if (child->is_directory) {
      collect_files(*child, files);
    } else {
      files.push_back(child);
    }
  }
}

}  // namespace

std::vector<std::uint8_t> build_iso(const IsoSpec& spec) {
  validate_volume_id(spec.volume_id);
  validate_mode(spec.directory_mode, "the directories");
  if (spec.timestamp_unix_seconds < 0) {
    throw IsoError("ISO image: timestamp " + std::to_string(spec.timestamp_unix_seconds) +
                   " is before 1970");
  }
  const CivilTime time = civil_from_unix(spec.timestamp_unix_seconds);
  if (time.year > 2155) {
    throw IsoError("ISO image: timestamp " + std::to_string(spec.timestamp_unix_seconds) +
                   " is after 2155, which ISO9660 directory records cannot hold");
  }
  const Context context{spec, record_time(time)};

  const std::unique_ptr<Node> root = build_tree(spec);
  assign_iso_names(*root);
  const std::vector<Node*> iso_directories = directories_in_order(*root, View::kIso);
  const std::vector<Node*> joliet_directories = directories_in_order(*root, View::kJoliet);
  std::vector<Node*> files;
  collect_files(*root, files);

  // Sizes first (they do not depend on where anything is), then sectors.
  PathTables iso_tables{
      static_cast<std::uint32_t>(path_table(iso_directories, View::kIso, false).size())};
  PathTables joliet_tables{
      static_cast<std::uint32_t>(path_table(joliet_directories, View::kJoliet, false).size())};
  for (Node* directory : iso_directories) {
    const DirectoryBytes sized = directory_bytes(*directory, View::kIso, context);
    directory->iso_directory_size = static_cast<std::uint32_t>(sized.records.size());
    directory->continuation_size = static_cast<std::uint32_t>(sized.continuation.size());
    directory->joliet_directory_size = static_cast<std::uint32_t>(
        directory_bytes(*directory, View::kJoliet, context).records.size());
  }

  std::uint64_t next_sector = kFirstFreeSector;
  const auto allocate = [&next_sector](std::uint64_t bytes) {
    const auto sector = static_cast<std::uint32_t>(next_sector);
    next_sector += sectors_for(bytes);
    if (next_sector > 0xFFFFFFFF) throw IsoError("ISO image: more than 2^32 sectors");
    return sector;
  };
  for (PathTables* tables : {&iso_tables, &joliet_tables}) {
    tables->little_endian_sector = allocate(tables->size);
    tables->big_endian_sector = allocate(tables->size);
  }
  for (Node* directory : iso_directories) {
    directory->iso_directory_sector = allocate(directory->iso_directory_size);
    directory->continuation_sector = allocate(directory->continuation_size);
  }
  for (Node* directory : joliet_directories) {
    directory->joliet_directory_sector = allocate(directory->joliet_directory_size);
  }
  for (Node* file : files) {
    // An empty file has no extent; sector 0 is what it points at.
    file->data_sector = file->contents->empty() ? 0 : allocate(file->contents->size());
  }
  const auto total_sectors = static_cast<std::uint32_t>(next_sector);

  Bytes image(std::size_t{total_sectors} * kSectorSize, 0);
  const auto at_sector = [&image](std::uint32_t sector) { return &image[sector * kSectorSize]; };
  put_volume_descriptor(at_sector(kPrimaryDescriptorSector), View::kIso, spec, *root, iso_tables,
                        total_sectors, time);
  put_volume_descriptor(at_sector(kJolietDescriptorSector), View::kJoliet, spec, *root,
                        joliet_tables, total_sectors, time);
  put_terminator(at_sector(kTerminatorSector));

  const auto place = [&](std::uint32_t sector, const Bytes& bytes, std::uint32_t expected_size) {
    if (bytes.size() != expected_size) {
      throw std::logic_error("ISO image: a structure changed size between layout and writing");
    }
    std::copy(bytes.begin(), bytes.end(), image.begin() + sector * kSectorSize);
  };
  for (const auto& [directories, view, tables] :
       {std::tuple{&iso_directories, View::kIso, &iso_tables},
        std::tuple{&joliet_directories, View::kJoliet, &joliet_tables}}) {
    place(tables->little_endian_sector, path_table(*directories, view, false), tables->size);
    place(tables->big_endian_sector, path_table(*directories, view, true), tables->size);
  }
  for (const Node* directory : iso_directories) {
    const DirectoryBytes written = directory_bytes(*directory, View::kIso, context);
    place(directory->iso_directory_sector, written.records, directory->iso_directory_size);
    place(directory->continuation_sector, written.continuation, directory->continuation_size);
  }
  for (const Node* directory : joliet_directories) {
    place(directory->joliet_directory_sector,
          directory_bytes(*directory, View::kJoliet, context).records,
          directory->joliet_directory_size);
  }
  for (const Node* file : files) {
    std::copy(file->contents->begin(), file->contents->end(),
              image.begin() + file->data_sector * kSectorSize);
  }
  return image;
}

void write_iso(const IsoSpec& spec, const std::filesystem::path& path) {
  const std::vector<std::uint8_t> image = build_iso(spec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (out) {
    out.write(reinterpret_cast<const char*>(image.data()),
              static_cast<std::streamsize>(image.size()));
    out.close();
  }
  if (!out) {
    throw std::runtime_error("cannot write ISO image " + path.string() + ": " +
                             std::strerror(errno));
  }
}

}  // namespace vm::iso9660
