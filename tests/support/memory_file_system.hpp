// An in-memory sftp::FileSystem for tests: a tree of directories, files and
// symbolic links that behaves like a POSIX kernel (links in directories are
// followed on every lookup, so a server that forgot to confine a path would
// really reach outside its root here), with helpers to build and inspect it.
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sftp/file_system.hpp"

namespace testing_support {

class MemoryFileSystem : public sftp::FileSystem {
 public:
  struct Node {
    enum class Kind { File, Directory, Link } kind = Kind::File;
    ssh::Bytes data;
    std::string target;
    std::map<std::string, std::shared_ptr<Node>> children;
    std::uint32_t permissions = 0644;
    std::uint32_t uid = 1000;
    std::uint32_t gid = 1000;
    std::uint32_t atime = 0;
    std::uint32_t mtime = 0;
    bool synced = false;
  };
  using NodePtr = std::shared_ptr<Node>;
  // Files may not grow past this (a hostile offset must not exhaust memory).
  static constexpr std::size_t kMaxFileSize = 64 * 1024 * 1024;

  MemoryFileSystem() : root_(make(Node::Kind::Directory, 0755)) {}

  // Test helpers: create parents as needed, never follow links.
  void add_directory(const std::string& path) {
    NodePtr dir = root_;
    for (const auto& part : split(path)) {
      auto& child = dir->children[part];
      if (!child) child = make(Node::Kind::Directory, 0755);
      dir = child;
    }
  }
  void add_file(const std::string& path, std::string_view content, std::uint32_t mode = 0644) {
    auto [dir, name] = parent_for_helpers(path);
    auto node = make(Node::Kind::File, mode);
    node->data.assign(content.begin(), content.end());
    dir->children[name] = node;
  }
  void add_link(const std::string& path, const std::string& target) {
    auto [dir, name] = parent_for_helpers(path);
    auto node = make(Node::Kind::Link, 0777);
    node->target = target;
    dir->children[name] = node;
  }
  // The node at path, links not followed; nullptr if missing.
  NodePtr find(const std::string& path) {
    auto node = walk(path, false);
    return node.ok() ? *node : nullptr;
  }
  std::optional<std::string> content(const std::string& path) {
    auto node = walk(path, true);
    if (!node.ok() || (*node)->kind != Node::Kind::File) return std::nullopt;
    return std::string((*node)->data.begin(), (*node)->data.end());
  }

  // sftp::FileSystem ---------------------------------------------------------

  sftp::FsResult<sftp::FileInfo> lstat(const std::string& path) override {
    auto node = walk(path, false);
    if (!node.ok()) return node.error();
    return info(**node);
  }
  sftp::FsResult<std::string> readlink(const std::string& path) override {
    auto node = walk(path, false);
    if (!node.ok()) return node.error();
    if ((*node)->kind != Node::Kind::Link) return failure("not a link");
    return (*node)->target;
  }
  sftp::FsResult<std::unique_ptr<sftp::File>> open(const std::string& path,
                                                   const sftp::OpenMode& mode) override {
    auto existing = walk(path, !mode.exclusive);
    NodePtr node;
    if (existing.ok()) {
      if (mode.create && mode.exclusive) return failure("exists");
      node = *existing;
      if (node->kind == Node::Kind::Directory) return failure("is a directory");
      if (node->kind == Node::Kind::Link) return failure("too many links");
      if (mode.truncate) node->data.clear();
    } else {
      if (!mode.create || existing.error().code != sftp::StatusCode::NoSuchFile) {
        return existing.error();
      }
      auto parent = walk_parent(path);
      if (!parent.ok()) return parent.error();
      node = make(Node::Kind::File, mode.create_permissions);
      parent->first->children[parent->second] = node;
    }
    return std::unique_ptr<sftp::File>(std::make_unique<MemoryFile>(node, mode));
  }
  sftp::FsResult<std::unique_ptr<sftp::Directory>> open_directory(
      const std::string& path) override {
    auto node = walk(path, true);
    if (!node.ok()) return node.error();
    if ((*node)->kind != Node::Kind::Directory) return no_such_file("not a directory");
    std::vector<std::string> names{".", ".."};
    for (const auto& [name, child] : (*node)->children) names.push_back(name);
    return std::unique_ptr<sftp::Directory>(std::make_unique<MemoryDirectory>(std::move(names)));
  }
  sftp::FsStatus set_attributes(const std::string& path, const sftp::Attrs& attrs,
                                bool follow_last) override {
    auto node = walk(path, follow_last);
    if (!node.ok()) return node.error();
    return apply(**node, attrs);
  }
  sftp::FsStatus remove_file(const std::string& path) override {
    auto parent = walk_parent(path);
    if (!parent.ok()) return parent.error();
    auto& children = parent->first->children;
    auto it = children.find(parent->second);
    if (it == children.end()) return no_such_file("no such file");
    if (it->second->kind == Node::Kind::Directory) return failure("is a directory");
    children.erase(it);
    return sftp::FsOk{};
  }
  sftp::FsStatus make_directory(const std::string& path, std::uint32_t permissions) override {
    auto parent = walk_parent(path);
    if (!parent.ok()) return parent.error();
    auto& slot = parent->first->children[parent->second];
    if (slot) return failure("exists");
    slot = make(Node::Kind::Directory, permissions);
    return sftp::FsOk{};
  }
  sftp::FsStatus remove_directory(const std::string& path) override {
    auto parent = walk_parent(path);
    if (!parent.ok()) return parent.error();
    auto& children = parent->first->children;
    auto it = children.find(parent->second);
    if (it == children.end()) return no_such_file("no such directory");
    if (it->second->kind != Node::Kind::Directory) return no_such_file("not a directory");
    if (!it->second->children.empty()) return failure("directory not empty");
    children.erase(it);
    return sftp::FsOk{};
  }
  sftp::FsStatus rename(const std::string& old_path, const std::string& new_path) override {
    auto from = walk_parent(old_path);
    if (!from.ok()) return from.error();
    auto to = walk_parent(new_path);
    if (!to.ok()) return to.error();
    auto it = from->first->children.find(from->second);
    if (it == from->first->children.end()) return no_such_file("no such file");
    NodePtr moving = it->second;
    // As rename(2) (EINVAL): a directory cannot move into itself; the tree
    // would hold a cycle that nothing reaches from the root.
    if (moving->kind == Node::Kind::Directory &&
        (to->first == moving || holds(*moving, to->first.get()))) {
      return failure("cannot move a directory into itself");
    }
    auto& target = to->first->children[to->second];
    if (target == moving) return sftp::FsOk{};
    if (target && target->kind == Node::Kind::Directory &&
        (moving->kind != Node::Kind::Directory || !target->children.empty())) {
      return failure("cannot replace a directory");
    }
    target = moving;
    from->first->children.erase(from->second);
    return sftp::FsOk{};
  }
  sftp::FsStatus symlink(const std::string& link_target, const std::string& link_path) override {
    auto parent = walk_parent(link_path);
    if (!parent.ok()) return parent.error();
    auto& slot = parent->first->children[parent->second];
    if (slot) return failure("exists");
    slot = make(Node::Kind::Link, 0777);
    slot->target = link_target;
    return sftp::FsOk{};
  }
  sftp::FsStatus hardlink(const std::string& existing_path, const std::string& new_path) override {
    auto existing = walk(existing_path, false);
    if (!existing.ok()) return existing.error();
    if ((*existing)->kind == Node::Kind::Directory) {
      return sftp::FsError{sftp::StatusCode::PermissionDenied, "hard link to a directory"};
    }
    auto parent = walk_parent(new_path);
    if (!parent.ok()) return parent.error();
    auto& slot = parent->first->children[parent->second];
    if (slot) return failure("exists");
    slot = *existing;
    return sftp::FsOk{};
  }
  sftp::FsResult<sftp::FsStatvfs> statvfs(const std::string& path) override {
    auto node = walk(path, true);
    if (!node.ok()) return node.error();
    sftp::FsStatvfs stats;
    stats.block_size = 4096;
    stats.fragment_size = 4096;
    stats.blocks = 1000;
    stats.free_blocks = 600;
    stats.available_blocks = 500;
    stats.files = 100;
    stats.free_files = 50;
    stats.available_files = 40;
    stats.filesystem_id = 7;
    stats.max_name_length = 255;
    return stats;
  }
  std::optional<std::string> user_name(std::uint32_t uid) override {
    if (uid == 0) return "root";
    if (uid == 1000) return "tester";
    return std::nullopt;
  }
  std::optional<std::string> group_name(std::uint32_t gid) override {
    if (gid == 0) return "wheel";
    if (gid == 1000) return "testers";
    return std::nullopt;
  }

 private:
  class MemoryFile : public sftp::File {
   public:
    MemoryFile(NodePtr node, const sftp::OpenMode& mode) : node_(std::move(node)), mode_(mode) {}
    sftp::FsResult<std::size_t> read(std::uint64_t offset, ssh::MutableByteView buffer) override {
      if (!mode_.read) return failure("not open for reading");
      const auto& data = node_->data;
      if (offset >= data.size()) return std::size_t{0};
      const std::size_t count = std::min<std::size_t>(buffer.size(), data.size() - offset);
      std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(offset), count, buffer.begin());
      return count;
    }
    sftp::FsStatus write(std::uint64_t offset, ssh::ByteView bytes) override {
      if (!mode_.write) return failure("not open for writing");
      auto& data = node_->data;
      if (mode_.append) offset = data.size();
      if (offset > kMaxFileSize || bytes.size() > kMaxFileSize - offset) {
        return failure("file too large");
      }
      if (data.size() < offset + bytes.size()) data.resize(offset + bytes.size());
      std::copy(bytes.begin(), bytes.end(), data.begin() + static_cast<std::ptrdiff_t>(offset));
      return sftp::FsOk{};
    }
    sftp::FsResult<sftp::FileInfo> stat() override { return info(*node_); }
    sftp::FsStatus set_attributes(const sftp::Attrs& attrs) override {
      return apply(*node_, attrs);
    }
    sftp::FsStatus sync() override {
      node_->synced = true;
      return sftp::FsOk{};
    }

   private:
    NodePtr node_;
    sftp::OpenMode mode_;
  };

  class MemoryDirectory : public sftp::Directory {
   public:
    explicit MemoryDirectory(std::vector<std::string> names) : names_(std::move(names)) {}
    sftp::FsResult<std::optional<std::string>> next() override {
      if (next_ == names_.size()) return std::optional<std::string>();
      return std::optional<std::string>(names_[next_++]);
    }

   private:
    std::vector<std::string> names_;
    std::size_t next_ = 0;
  };

  static sftp::FsError failure(std::string message) {
    return {sftp::StatusCode::Failure, std::move(message)};
  }
  static sftp::FsError no_such_file(std::string message) {
    return {sftp::StatusCode::NoSuchFile, std::move(message)};
  }
  static NodePtr make(Node::Kind kind, std::uint32_t permissions) {
    auto node = std::make_shared<Node>();
    node->kind = kind;
    node->permissions = permissions & 07777;
    return node;
  }
  static std::vector<std::string> split(const std::string& path) {
    std::vector<std::string> parts;
    std::string part;
    for (char c : path + "/") {
      if (c == '/') {
        if (!part.empty()) parts.push_back(part);
        part.clear();
      } else {
        part += c;
      }
    }
    return parts;
  }
  static sftp::FileInfo info(const Node& node) {
    sftp::FileInfo result;
    std::uint32_t type = sftp::file_type::kRegular;
    std::uint64_t size = node.data.size();
    if (node.kind == Node::Kind::Directory) {
      type = sftp::file_type::kDirectory;
      size = 4096;
    } else if (node.kind == Node::Kind::Link) {
      type = sftp::file_type::kSymlink;
      size = node.target.size();
    }
    result.attrs.size = size;
    result.attrs.owner = sftp::Attrs::Owner{node.uid, node.gid};
    result.attrs.permissions = type | node.permissions;
    result.attrs.times = sftp::Attrs::Times{node.atime, node.mtime};
    return result;
  }
  static sftp::FsStatus apply(Node& node, const sftp::Attrs& attrs) {
    if (attrs.size) {
      if (node.kind != Node::Kind::File) return failure("not a file");
      if (*attrs.size > kMaxFileSize) return failure("file too large");
      node.data.resize(static_cast<std::size_t>(*attrs.size));
    }
    if (attrs.permissions) node.permissions = *attrs.permissions & 07777;
    if (attrs.owner) {
      node.uid = attrs.owner->uid;
      node.gid = attrs.owner->gid;
    }
    if (attrs.times) {
      node.atime = attrs.times->atime;
      node.mtime = attrs.times->mtime;
    }
    return sftp::FsOk{};
  }

  // A kernel-style lookup: links in directories are always followed, the
  // last one only when follow_last.
  sftp::FsResult<NodePtr> walk(const std::string& path, bool follow_last, int depth = 0) {
    if (depth > 40) return failure("too many levels of symbolic links");
    const auto parts = split(path);
    std::vector<NodePtr> stack{root_};
    std::vector<std::string> names;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const std::string& part = parts[i];
      if (part == ".") continue;
      if (part == "..") {
        if (stack.size() > 1) {
          stack.pop_back();
          names.pop_back();
        }
        continue;
      }
      const NodePtr& dir = stack.back();
      if (dir->kind != Node::Kind::Directory) return no_such_file("not a directory");
      auto it = dir->children.find(part);
      if (it == dir->children.end()) return no_such_file("no such file");
      const NodePtr& child = it->second;
      const bool last = i + 1 == parts.size();
      if (child->kind == Node::Kind::Link && (!last || follow_last)) {
        std::string next;
        if (child->target.empty() || child->target.front() != '/') {
          for (const auto& name : names) next += "/" + name;
        }
        next += "/" + child->target;
        for (std::size_t j = i + 1; j < parts.size(); ++j) next += "/" + parts[j];
        return walk(next, follow_last, depth + 1);
      }
      stack.push_back(child);
      names.push_back(part);
    }
    return stack.back();
  }
  // Whether node is somewhere below directory.
  static bool holds(const Node& directory, const Node* node) {
    for (const auto& [name, child] : directory.children) {
      if (child.get() == node) return true;
      if (child->kind == Node::Kind::Directory && holds(*child, node)) return true;
    }
    return false;
  }

  sftp::FsResult<std::pair<NodePtr, std::string>> walk_parent(const std::string& path) {
    auto parts = split(path);
    if (parts.empty()) return failure("no parent");
    const std::string name = parts.back();
    if (name == "." || name == "..") return failure("invalid name");
    std::string parent_path;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) parent_path += "/" + parts[i];
    auto parent = walk(parent_path, true);
    if (!parent.ok()) return parent.error();
    if ((*parent)->kind != Node::Kind::Directory) return no_such_file("not a directory");
    return std::make_pair(*parent, name);
  }
  std::pair<NodePtr, std::string> parent_for_helpers(const std::string& path) {
    auto parts = split(path);
    const std::string name = parts.back();
    std::string parent_path;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) parent_path += "/" + parts[i];
    add_directory(parent_path);
    NodePtr dir = root_;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) dir = dir->children[parts[i]];
    return {dir, name};
  }

  NodePtr root_;
};

}  // namespace testing_support
