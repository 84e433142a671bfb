#include "sftp/remote_glob.hpp"

#include <algorithm>
#include <memory>
#include <optional>

#include "ssh/log.hpp"
#include "ssh/scp/scp_client.hpp"

namespace sftp {
namespace {

std::vector<std::string> split_components(std::string_view pattern) {
  std::vector<std::string> components;
  std::size_t start = 0;
  while (start <= pattern.size()) {
    std::size_t slash = pattern.find('/', start);
    if (slash == std::string_view::npos) slash = pattern.size();
    if (slash > start) components.emplace_back(pattern.substr(start, slash - start));
    start = slash + 1;
  }
  return components;
}

std::string without_escapes(std::string_view component) {
  std::string literal;
  for (std::size_t i = 0; i < component.size(); ++i) {
    if (component[i] == '\\' && i + 1 < component.size()) ++i;
    literal.push_back(component[i]);
  }
  return literal;
}

std::string join(const std::string& prefix, const std::string& name) {
  if (prefix.empty()) return name;
  if (prefix.back() == '/') return prefix + name;
  return prefix + "/" + name;
}

// glob(3): a leading period is never matched by a wildcard.
bool hidden_from(std::string_view component, std::string_view name) {
  if (!name.starts_with('.')) return false;
  return !(component.starts_with('.') || component.starts_with("\\."));
}

struct Expansion : std::enable_shared_from_this<Expansion> {
  Expansion(Client& client_in, std::vector<std::string> components_in, GlobCallback callback_in)
      : client(client_in), components(std::move(components_in)), callback(std::move(callback_in)) {}

  Client& client;
  std::vector<std::string> components;
  GlobCallback callback;
  std::vector<std::string> matches;
  std::size_t outstanding = 0;
  std::optional<ClientError> lost;

  // `prefix` was reached by components [0, index); `verified` says the
  // server listed it (so it exists).
  void expand(const std::string& prefix, std::size_t index, bool verified) {
    if (index == components.size()) {
      if (verified) {
        matches.push_back(prefix);
        return;
      }
      ++outstanding;
      client.lstat(prefix, [self = shared_from_this(), prefix](ClientResult<Attrs> attrs) {
        if (attrs) {
          self->matches.push_back(prefix);
        } else {
          self->note_lost(attrs.error());
        }
        self->settle();
      });
      return;
    }
    const std::string& component = components[index];
    if (!has_glob_magic(component)) {
      expand(join(prefix, without_escapes(component)), index + 1, false);
      return;
    }
    ++outstanding;
    const std::string directory = prefix.empty() ? "." : prefix;
    client.list_directory(directory, [self = shared_from_this(), prefix,
                                      index](ClientResult<std::vector<NameEntry>> entries) {
      if (!entries) {
        // As glob(3) without GLOB_ERR: an unreadable directory matches nothing.
        ssh::log::get("sftp")->debug("glob: cannot list {}: {}", prefix.empty() ? "." : prefix,
                                     entries.error().message);
        self->note_lost(entries.error());
      } else {
        const std::string& pattern = self->components[index];
        for (const NameEntry& entry : *entries) {
          const std::string& name = entry.filename;
          if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
            continue;
          }
          if (hidden_from(pattern, name) || !ssh::scp::filename_matches(pattern, name)) continue;
          self->expand(join(prefix, name), index + 1, true);
        }
      }
      self->settle();
    });
  }

  void note_lost(const ClientError& error) {
    if (error.code == StatusCode::ConnectionLost && !lost) lost = error;
  }

  void settle() {
    if (--outstanding > 0) return;
    if (lost) {
      callback(*lost);
      return;
    }
    std::sort(matches.begin(), matches.end());
    matches.erase(std::unique(matches.begin(), matches.end()), matches.end());
    callback(std::move(matches));
  }
};

}  // namespace

bool has_glob_magic(std::string_view path) {
  for (std::size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '\\') {
      ++i;
      continue;
    }
    if (c == '*' || c == '?' || c == '[') return true;
  }
  return false;
}

void expand_remote_glob(Client& client, const std::string& pattern, GlobCallback callback) {
  auto expansion =
      std::make_shared<Expansion>(client, split_components(pattern), std::move(callback));
  // Held by itself until the first step is issued, so a pattern that needs
  // no request settles here.
  ++expansion->outstanding;
  expansion->expand(pattern.starts_with('/') ? "/" : "", 0, false);
  expansion->settle();
}

}  // namespace sftp
