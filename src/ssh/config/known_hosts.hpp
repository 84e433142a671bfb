// OpenSSH known_hosts files (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"):
//
//   [@revoked|@cert-authority] hosts keytype base64 [comment]
//
// where hosts is a comma-separated pattern list ('*', '?', negation with
// '!'; "[host]:port" for ports other than 22) or one hashed name
// "|1|base64(salt)|base64(HMAC-SHA1(salt, name))" as written by
// HashKnownHosts / ssh-keygen -H. Malformed lines are skipped and reported
// with file and line, as OpenSSH skips them too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "ssh/common.hpp"
#include "ssh/hostkeys/host_key_rotation.hpp"
#include "ssh/keys/keys.hpp"

namespace Botan {
class RandomNumberGenerator;
}

namespace ssh::config {

enum class KnownHostMarker { None, Revoked, CertAuthority };

struct KnownHostEntry {
  std::string file;
  std::size_t line = 0;
  KnownHostMarker marker = KnownHostMarker::None;
  // The host field as written: a pattern list, or "|1|salt|hash".
  std::string hosts;
  bool hashed = false;
  // Decoded salt and HMAC of a hashed entry.
  Bytes salt;
  Bytes hash;
  // The key type field ("ssh-ed25519"...) and the decoded blob. Kept as bytes
  // rather than a parsed key so that entries of types we cannot use (ssh-dss,
  // security keys) still count, and still report, like OpenSSH's.
  std::string key_type;
  Bytes key_blob;
  std::string comment;

  // Whether this entry is for `name` (as built by known_hosts_name()).
  bool matches_name(std::string_view name) const;
};

struct KnownHostsProblem {
  std::string file;
  std::size_t line = 0;  // 0 when the whole file is concerned (unreadable)
  std::string message;

  // "<file> line <n>: <message>"
  std::string to_string() const;
};

enum class HostKeyStatus {
  Match,     // the presented key is recorded for the host
  Mismatch,  // the host has a different key of the same type recorded
  Revoked,   // the presented key is marked @revoked for the host
  NotFound,  // no key of this type is recorded for the host
};

struct HostKeyLookup {
  HostKeyStatus status = HostKeyStatus::NotFound;
  // Match: the matching entry; Mismatch: the first entry holding another key
  // of the same type; Revoked: the @revoked entry. Empty / 0 for NotFound.
  std::string file;
  std::size_t line = 0;
  // Key types recorded for the host (plain entries only, each once), so a
  // caller can say "keys of a different type are already known" or prefer
  // those types in host key negotiation.
  std::vector<std::string> known_key_types;
};

// The name OpenSSH looks up and writes: the lowercased host for port 22,
// "[host]:port" otherwise.
std::string known_hosts_name(std::string_view host, std::uint16_t port);

// "|1|base64(salt)|base64(HMAC-SHA1(salt, name))".
std::string hash_known_hosts_name(std::string_view name, ByteView salt);

class KnownHosts {
 public:
  // Reads every file in order; missing files are skipped silently (OpenSSH
  // lists known_hosts2 by default, which rarely exists).
  static KnownHosts load(const std::vector<std::string>& files);

  // Adds the entries of one file. Returns false when the file does not exist;
  // an unreadable file is recorded as a problem.
  bool load_file(const std::filesystem::path& path);
  // Adds entries parsed from text; `file_name` is recorded in entries and problems.
  void load_text(std::string_view text, std::string_view file_name);

  HostKeyLookup lookup(std::string_view host, std::uint16_t port, const keys::PublicKey& key) const;
  // The same with a name already built (known_hosts_name() or a HostKeyAlias).
  HostKeyLookup lookup_name(std::string_view name, const keys::PublicKey& key) const;

  const std::vector<KnownHostEntry>& entries() const { return entries_; }
  const std::vector<KnownHostsProblem>& problems() const { return problems_; }

 private:
  std::vector<KnownHostEntry> entries_;
  std::vector<KnownHostsProblem> problems_;
};

// Appends "name keytype base64" for (host, port) to `file`, the name hashed
// when `hashed`. Creates missing directories (mode 0700) and the file;
// starts a new line first if the file does not end with one.
Status add_known_host(const std::filesystem::path& file, std::string_view host, std::uint16_t port,
                      const keys::PublicKey& key, bool hashed);

// What hashing a known_hosts file (ssh-keygen -H) did.
struct KnownHostsHashing {
  // The rewritten text: each plain host name of an unmarked entry becomes a
  // line of its own, "|1|salt|hash keytype base64 [comment]"; comments, blank
  // lines, hashed entries, @revoked/@cert-authority lines and entries whose
  // names have wildcards or negation (a hash can only match one exact name)
  // are kept as they are.
  std::string text;
  std::size_t hashed_names = 0;
  // Entries left unhashed because of wildcards or negation, with the reason.
  std::vector<KnownHostsProblem> left_alone;
};

// Hashes the host names of a known_hosts text. Like ssh-keygen -H, a text
// with a malformed line is an error naming the file and line (rewriting it
// would lose what we cannot parse). Names are lowercased before hashing, as
// lookups are: ssh-keygen hashes them as written, which never matches an
// upper-case name.
Result<KnownHostsHashing> hash_known_hosts_text(std::string_view text, std::string_view file_name,
                                                Botan::RandomNumberGenerator& rng);

// Hashes a known_hosts file in place, keeping the original as "<file>.old"
// (as ssh-keygen -H does) and the file's permissions.
Result<KnownHostsHashing> hash_known_hosts_file(const std::filesystem::path& file,
                                                Botan::RandomNumberGenerator& rng);

// Host key rotation (UpdateHostKeys) -------------------------------------------

// What the loaded files hold for host `name` (known_hosts_name() or a
// HostKeyAlias): keys on unmarked lines (known), @revoked ones, and the keys
// an update may delete: those on lines of `user_file` written for exactly
// this host (its one plain name, or a hash of it) and recorded nowhere else
// for it, and which of those lines for other hosts hold too.
hostkeys::KnownHostKeys known_host_keys_for_update(const KnownHosts& known_hosts,
                                                   std::string_view name,
                                                   std::string_view user_file);

// The known_hosts text with the lines written for exactly `name` that hold
// a `removed` key taken out, and a line per `added` key appended (the name
// hashed when `hashed`). Every other line, comments and blank lines
// included, stays as it was (trailing blanks aside). Lines that do not
// parse are kept.
Result<std::string> update_known_host_keys_text(std::string_view text, std::string_view name,
                                                const std::vector<keys::PublicKey>& added,
                                                const std::vector<Bytes>& removed, bool hashed,
                                                Botan::RandomNumberGenerator& rng);

// The same on a file, replaced whole (the original kept as "<file>.old",
// permissions kept); a missing file is created.
Status update_known_host_keys(const std::filesystem::path& file, std::string_view name,
                              const std::vector<keys::PublicKey>& added,
                              const std::vector<Bytes>& removed, bool hashed,
                              Botan::RandomNumberGenerator& rng);

}  // namespace ssh::config
