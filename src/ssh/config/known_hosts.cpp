#include "ssh/config/known_hosts.hpp"

#include <botan/auto_rng.h>
#include <botan/base64.h>
#include <botan/mac.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <system_error>

#include "platform/files.hpp"
#include "ssh/config/pattern.hpp"
#include "ssh/wire/reader.hpp"

namespace ssh::config {
namespace {

constexpr std::string_view kHashMagic = "|1|";
// HMAC-SHA1: salt (the HMAC key) and hash are both one SHA-1 digest long.
constexpr std::size_t kHashedFieldSize = 20;

Bytes hmac_sha1(ByteView key, std::string_view data) {
  auto mac = Botan::MessageAuthenticationCode::create_or_throw("HMAC(SHA-1)");
  mac->set_key(key.data(), key.size());
  mac->update(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
  const auto digest = mac->final();
  return Bytes(digest.begin(), digest.end());
}

std::optional<Bytes> decode_base64(std::string_view text) {
  try {
    const auto decoded = Botan::base64_decode(std::string(text), /*ignore_ws=*/false);
    return Bytes(decoded.begin(), decoded.end());
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// Splits off the next whitespace-separated field of `rest`.
std::string_view next_field(std::string_view& rest) {
  const std::size_t start = rest.find_first_not_of(" \t");
  if (start == std::string_view::npos) {
    rest = {};
    return {};
  }
  rest.remove_prefix(start);
  const std::size_t end = std::min(rest.find_first_of(" \t"), rest.size());
  const std::string_view field = rest.substr(0, end);
  rest.remove_prefix(end);
  return field;
}

// Parses one non-blank, non-comment line; returns an error message for a
// malformed one.
std::string parse_entry(std::string_view line, KnownHostEntry& entry) {
  std::string_view rest = line;
  std::string_view field = next_field(rest);
  if (field.front() == '@') {
    if (field == "@revoked") {
      entry.marker = KnownHostMarker::Revoked;
    } else if (field == "@cert-authority") {
      entry.marker = KnownHostMarker::CertAuthority;
    } else {
      return "unknown marker \"" + std::string(field) + "\"";
    }
    field = next_field(rest);
    if (field.empty()) return "missing host names after the marker";
  }

  entry.hosts = field;
  if (field.front() == '|') {
    if (!field.starts_with(kHashMagic)) return "unsupported hashed host name format";
    const std::string_view salt_and_hash = field.substr(kHashMagic.size());
    const std::size_t separator = salt_and_hash.find('|');
    if (separator == std::string_view::npos) return "malformed hashed host name";
    auto salt = decode_base64(salt_and_hash.substr(0, separator));
    auto hash = decode_base64(salt_and_hash.substr(separator + 1));
    if (!salt || !hash || salt->size() != kHashedFieldSize || hash->size() != kHashedFieldSize) {
      return "malformed hashed host name";
    }
    entry.hashed = true;
    entry.salt = std::move(*salt);
    entry.hash = std::move(*hash);
  }

  const std::string_view key_type = next_field(rest);
  const std::string_view encoded_key = next_field(rest);
  if (key_type.empty() || encoded_key.empty()) return "missing key type or key";
  if (std::all_of(key_type.begin(), key_type.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return "SSH protocol 1 keys are not supported";
  }
  auto blob = decode_base64(encoded_key);
  if (!blob || blob->empty()) return "invalid base64 in the key";
  // The blob names its own type; a disagreement means a corrupted line.
  wire::Reader reader(*blob);
  const std::string_view blob_type = reader.text();
  if (!reader.ok() || blob_type != key_type) {
    return "key type \"" + std::string(key_type) + "\" does not match the key";
  }
  entry.key_type = key_type;
  entry.key_blob = std::move(*blob);

  const std::size_t comment_start = rest.find_first_not_of(" \t");
  if (comment_start != std::string_view::npos) entry.comment = rest.substr(comment_start);
  return {};
}

Error io_error(const std::filesystem::path& file, std::string_view action, int error_number) {
  return Error{
      DisconnectReason::ByApplication,
      "cannot " + std::string(action) + " " + file.string() + ": " + std::strerror(error_number)};
}

// Makes missing parent directories, each with mode 0700 like ~/.ssh.
Status create_parent_directories(const std::filesystem::path& file) {
  const std::filesystem::path parent = file.parent_path();
  if (parent.empty()) return {};
  std::error_code error;
  if (std::filesystem::is_directory(parent, error)) return {};
  std::filesystem::path partial;
  for (const auto& component : parent) {
    partial /= component;
    if (std::filesystem::is_directory(partial, error)) continue;
    if (const int error_number = platform::make_private_directory(partial);
        error_number != 0 && error_number != EEXIST) {
      return io_error(partial, "create directory", error_number);
    }
  }
  return {};
}

// Calls visit(line_number, line) for each line of text, without its line
// ending and trailing blanks.
template <typename Visit>
void for_each_line(std::string_view text, Visit&& visit) {
  std::size_t line_number = 0;
  std::size_t position = 0;
  while (position < text.size()) {
    std::size_t end = text.find('\n', position);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(position, end - position);
    position = end + 1;
    ++line_number;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.remove_suffix(1);
    }
    visit(line_number, line);
  }
}

bool is_blank_or_comment(std::string_view line) {
  const std::size_t first = line.find_first_not_of(" \t");
  return first == std::string_view::npos || line[first] == '#';
}

Bytes random_salt(Botan::RandomNumberGenerator& rng) {
  Bytes salt(kHashedFieldSize);
  rng.randomize(salt.data(), salt.size());
  return salt;
}

}  // namespace

std::string known_hosts_name(std::string_view host, std::uint16_t port) {
  const std::string lowered = to_lower_ascii(host);
  if (port == 22) return lowered;
  return "[" + lowered + "]:" + std::to_string(port);
}

std::string hash_known_hosts_name(std::string_view name, ByteView salt) {
  const Bytes hash = hmac_sha1(salt, name);
  return std::string(kHashMagic) + Botan::base64_encode(salt.data(), salt.size()) + "|" +
         Botan::base64_encode(hash.data(), hash.size());
}

bool KnownHostEntry::matches_name(std::string_view name) const {
  if (hashed) return hmac_sha1(salt, name) == hash;
  return match_pattern_list(name, hosts, /*case_insensitive=*/true) == PatternListMatch::Match;
}

std::string KnownHostsProblem::to_string() const {
  if (line == 0) return file + ": " + message;
  return file + " line " + std::to_string(line) + ": " + message;
}

KnownHosts KnownHosts::load(const std::vector<std::string>& files) {
  KnownHosts known_hosts;
  for (const auto& file : files) known_hosts.load_file(file);
  return known_hosts;
}

bool KnownHosts::load_file(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return false;
  if (std::filesystem::is_directory(path, error)) {
    problems_.push_back({path.string(), 0, "is a directory"});
    return true;
  }
  std::ifstream stream(path, std::ios::binary);
  std::ostringstream contents;
  if (stream) contents << stream.rdbuf();
  if (!stream || stream.bad()) {
    problems_.push_back({path.string(), 0, "cannot read the file"});
    return true;
  }
  load_text(contents.str(), path.string());
  return true;
}

void KnownHosts::load_text(std::string_view text, std::string_view file_name) {
  for_each_line(text, [&](std::size_t line_number, std::string_view line) {
    if (is_blank_or_comment(line)) return;
    KnownHostEntry entry;
    entry.file = file_name;
    entry.line = line_number;
    const std::string_view trimmed = line.substr(line.find_first_not_of(" \t"));
    if (std::string problem = parse_entry(trimmed, entry); !problem.empty()) {
      problems_.push_back({std::string(file_name), line_number, std::move(problem)});
      return;
    }
    entries_.push_back(std::move(entry));
  });
}

HostKeyLookup KnownHosts::lookup(std::string_view host, std::uint16_t port,
                                 const keys::PublicKey& key) const {
  return lookup_name(known_hosts_name(host, port), key);
}

HostKeyLookup KnownHosts::lookup_name(std::string_view name, const keys::PublicKey& key) const {
  const std::string lowered = to_lower_ascii(name);
  HostKeyLookup result;
  const KnownHostEntry* match = nullptr;
  const KnownHostEntry* mismatch = nullptr;
  for (const auto& entry : entries_) {
    // Certificate authorities vouch for certificates, never for a plain key.
    if (entry.marker == KnownHostMarker::CertAuthority) continue;
    if (!entry.matches_name(lowered)) continue;
    const bool same_key = entry.key_type == key.type() && entry.key_blob == key.blob();
    if (entry.marker == KnownHostMarker::Revoked) {
      // A revoked key stays refused whatever else is recorded.
      if (same_key) {
        result.status = HostKeyStatus::Revoked;
        result.file = entry.file;
        result.line = entry.line;
        result.known_key_types.clear();
        return result;
      }
      continue;
    }
    if (std::find(result.known_key_types.begin(), result.known_key_types.end(), entry.key_type) ==
        result.known_key_types.end()) {
      result.known_key_types.push_back(entry.key_type);
    }
    if (same_key && match == nullptr) match = &entry;
    if (!same_key && entry.key_type == key.type() && mismatch == nullptr) mismatch = &entry;
  }
  const KnownHostEntry* reported = match ? match : mismatch;
  if (reported != nullptr) {
    result.status = match ? HostKeyStatus::Match : HostKeyStatus::Mismatch;
    result.file = reported->file;
    result.line = reported->line;
  }
  return result;
}

Status add_known_host(const std::filesystem::path& file, std::string_view host, std::uint16_t port,
                      const keys::PublicKey& key, bool hashed) {
  const std::string name = known_hosts_name(host, port);
  std::string host_field = name;
  if (hashed) {
    Botan::AutoSeeded_RNG rng;
    host_field = hash_known_hosts_name(name, random_salt(rng));
  }
  std::string line = host_field + " " + key.type() + " " +
                     Botan::base64_encode(key.blob().data(), key.blob().size()) + "\n";

  if (Status created = create_parent_directories(file); !created) return created;
  if (auto failed = platform::append_to_text_file(file, line)) {
    return io_error(file, failed->action, failed->error_number);
  }
  return {};
}

Result<KnownHostsHashing> hash_known_hosts_text(std::string_view text, std::string_view file_name,
                                                Botan::RandomNumberGenerator& rng) {
  KnownHostsHashing result;
  std::optional<KnownHostsProblem> malformed;
  for_each_line(text, [&](std::size_t line_number, std::string_view line) {
    if (malformed) return;
    KnownHostEntry entry;
    const bool keep = is_blank_or_comment(line);
    const std::string_view trimmed = keep ? line : line.substr(line.find_first_not_of(" \t"));
    if (!keep) {
      if (std::string problem = parse_entry(trimmed, entry); !problem.empty()) {
        malformed = KnownHostsProblem{std::string(file_name), line_number, std::move(problem)};
        return;
      }
    }
    if (keep || entry.hashed || entry.marker != KnownHostMarker::None) {
      result.text.append(line).push_back('\n');
      return;
    }
    if (entry.hosts.find_first_of("*?!") != std::string::npos) {
      result.left_alone.push_back(
          {std::string(file_name), line_number,
           "not hashed: host pattern \"" + entry.hosts + "\" has wildcards or negation"});
      result.text.append(line).push_back('\n');
      return;
    }
    // Everything after the host field: key type, key and comment, as written.
    const std::string_view after_hosts = trimmed.substr(entry.hosts.size());
    const std::string_view key_and_comment =
        after_hosts.substr(after_hosts.find_first_not_of(" \t"));
    std::string_view names = entry.hosts;
    while (!names.empty()) {
      const std::size_t comma = std::min(names.find(','), names.size());
      const std::string_view name = names.substr(0, comma);
      names.remove_prefix(std::min(comma + 1, names.size()));
      if (name.empty()) continue;
      result.text += hash_known_hosts_name(to_lower_ascii(name), random_salt(rng));
      result.text.push_back(' ');
      result.text.append(key_and_comment).push_back('\n');
      ++result.hashed_names;
    }
  });
  if (malformed) {
    return Error{DisconnectReason::ByApplication,
                 malformed->to_string() + " (not hashing a file with a malformed line)"};
  }
  return result;
}

namespace {

Result<std::string> read_whole_file(const std::filesystem::path& file) {
  std::ifstream stream(file, std::ios::binary);
  if (!stream) return io_error(file, "open", errno);
  std::ostringstream contents;
  contents << stream.rdbuf();
  if (stream.bad()) return io_error(file, "read", errno);
  return contents.str();
}

// Writes `text` to "<file>.tmp" with the file's permissions, keeps the
// original as "<file>.old" (as ssh-keygen and ssh do) and renames the new
// text into place, so that a reader never sees half a file.
Status replace_keeping_backup(const std::filesystem::path& file, std::string_view text) {
  std::error_code error;
  const auto permissions = std::filesystem::status(file, error).permissions();
  std::filesystem::path backup = file;
  backup += ".old";
  std::filesystem::path temporary = file;
  temporary += ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      std::filesystem::remove(temporary, error);
      return io_error(temporary, "write", errno);
    }
  }
  std::filesystem::permissions(temporary, permissions, error);
  std::filesystem::remove(backup, error);
  if (std::filesystem::rename(file, backup, error); error) {
    std::filesystem::remove(temporary, error);
    return io_error(backup, "create", error.value());
  }
  if (std::filesystem::rename(temporary, file, error); error) {
    return io_error(file, "replace", error.value());
  }
  return {};
}

// A line an update may delete: unmarked, and naming exactly `name`, as a
// single plain name or as a hash of it. Lines with several names or
// patterns may also speak for other hosts, so they stay.
bool written_for_exactly(const KnownHostEntry& entry, std::string_view name) {
  if (entry.marker != KnownHostMarker::None) return false;
  if (entry.hashed) return entry.matches_name(name);
  return to_lower_ascii(entry.hosts) == name;
}

bool holds_blob(const std::vector<Bytes>& blobs, const Bytes& blob) {
  return std::find(blobs.begin(), blobs.end(), blob) != blobs.end();
}

}  // namespace

Result<KnownHostsHashing> hash_known_hosts_file(const std::filesystem::path& file,
                                                Botan::RandomNumberGenerator& rng) {
  auto contents = read_whole_file(file);
  if (!contents) return contents.take_error();
  auto hashed = hash_known_hosts_text(*contents, file.string(), rng);
  if (!hashed) return hashed;
  if (Status replaced = replace_keeping_backup(file, hashed->text); !replaced) {
    return replaced.take_error();
  }
  return hashed;
}

hostkeys::KnownHostKeys known_host_keys_for_update(const KnownHosts& known_hosts,
                                                   std::string_view name,
                                                   std::string_view user_file) {
  const std::string lowered = to_lower_ascii(name);
  hostkeys::KnownHostKeys result;
  for (const auto& entry : known_hosts.entries()) {
    if (entry.marker == KnownHostMarker::CertAuthority) continue;
    if (!entry.matches_name(lowered)) continue;
    if (entry.marker == KnownHostMarker::Revoked) {
      if (!holds_blob(result.revoked, entry.key_blob)) result.revoked.push_back(entry.key_blob);
      continue;
    }
    if (!holds_blob(result.known, entry.key_blob)) result.known.push_back(entry.key_blob);
    if (entry.file == user_file && written_for_exactly(entry, lowered) &&
        !holds_blob(result.removable, entry.key_blob)) {
      result.removable.push_back(entry.key_blob);
    }
  }
  // A key also recorded where we may not delete it stays known: deleting
  // our copy would change nothing.
  std::erase_if(result.removable, [&](const Bytes& blob) {
    return std::any_of(known_hosts.entries().begin(), known_hosts.entries().end(),
                       [&](const KnownHostEntry& entry) {
                         return entry.key_blob == blob && entry.matches_name(lowered) &&
                                entry.marker == KnownHostMarker::None &&
                                !(entry.file == user_file && written_for_exactly(entry, lowered));
                       });
  });
  for (const auto& entry : known_hosts.entries()) {
    if (entry.marker == KnownHostMarker::None && holds_blob(result.removable, entry.key_blob) &&
        !entry.matches_name(lowered) && !holds_blob(result.also_for_other_hosts, entry.key_blob)) {
      result.also_for_other_hosts.push_back(entry.key_blob);
    }
  }
  return result;
}

Result<std::string> update_known_host_keys_text(std::string_view text, std::string_view name,
                                                const std::vector<keys::PublicKey>& added,
                                                const std::vector<Bytes>& removed, bool hashed,
                                                Botan::RandomNumberGenerator& rng) {
  const std::string lowered = to_lower_ascii(name);
  std::string result;
  for_each_line(text, [&](std::size_t, std::string_view line) {
    if (!is_blank_or_comment(line)) {
      KnownHostEntry entry;
      const std::string_view trimmed = line.substr(line.find_first_not_of(" \t"));
      if (parse_entry(trimmed, entry).empty() && written_for_exactly(entry, lowered) &&
          holds_blob(removed, entry.key_blob)) {
        return;
      }
    }
    result.append(line).push_back('\n');
  });
  for (const auto& key : added) {
    const std::string host_field =
        hashed ? hash_known_hosts_name(lowered, random_salt(rng)) : lowered;
    result += host_field + " " + key.type() + " " +
              Botan::base64_encode(key.blob().data(), key.blob().size()) + "\n";
  }
  return result;
}

Status update_known_host_keys(const std::filesystem::path& file, std::string_view name,
                              const std::vector<keys::PublicKey>& added,
                              const std::vector<Bytes>& removed, bool hashed,
                              Botan::RandomNumberGenerator& rng) {
  std::error_code error;
  if (!std::filesystem::exists(file, error)) {
    if (Status created = create_parent_directories(file); !created) return created;
    if (auto failed = platform::append_to_text_file(file, "")) {
      return io_error(file, failed->action, failed->error_number);
    }
  }
  auto contents = read_whole_file(file);
  if (!contents) return contents.take_error();
  auto updated = update_known_host_keys_text(*contents, name, added, removed, hashed, rng);
  if (!updated) return updated.take_error();
  return replace_keeping_backup(file, *updated);
}

}  // namespace ssh::config
