// The SFTP version 3 server, sans I/O: the client's bytes go in with feed(),
// the replies come out with take_output(), and every file operation goes
// through a FileSystem. The same server runs on stdio (limactl sftp-server),
// on an SSH "subsystem sftp" channel and on reverse-sshfs exec channels.
//
// Every request is answered on its own, in the order received, so clients
// may keep many requests in flight (pipelining). Input is only decoded while
// less than output_high_water bytes of replies wait to be taken, so a client
// that pipelines large READs but reads the replies slowly cannot make the
// server buffer without bound.
//
// Confinement: client paths name paths under options.root. ".." stops at
// the root, absolute paths start at the root, relative ones at the start
// directory; symbolic links are resolved here, component by component, and
// one that leads outside the root is refused (SSH_FX_PERMISSION_DENIED).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sftp/file_system.hpp"
#include "sftp/messages.hpp"
#include "ssh/limits.hpp"

namespace sftp {

struct ServerOptions {
  // The served tree, as an absolute path of the file system ("/" serves all
  // of it, as the user). No symbolic link in it: the caller resolves it.
  std::string root = "/";
  // Where relative client paths start and what REALPATH "." names, as the
  // client sees it (relative to root).
  std::string start_directory = "/";
  // The user the server runs as, for home-directory ("" accepts any name).
  std::string user_name;
  // Refuse every request that would change something.
  bool read_only = false;
  // Cleared from the permissions of created files and directories.
  std::uint32_t umask = 0;
  std::size_t max_open_handles = ssh::limits::kDefaultSftpMaxOpenHandles;
  // Names per READDIR reply.
  std::size_t readdir_batch = ssh::limits::kDefaultSftpReaddirBatch;
  // Input waits while this many reply bytes wait to be taken.
  std::size_t output_high_water = 1024 * 1024;
};

class Server {
 public:
  Server(FileSystem& fs, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The client's bytes; requests are answered as far as output room allows.
  void feed(ByteView data);
  // The client will send nothing more.
  void feed_eof();

  // Moves up to max reply bytes to the end of out (then decodes more input).
  void take_output(std::size_t max, Bytes& out);
  Bytes take_output(std::size_t max = SIZE_MAX);
  bool has_output() const { return output_.size() > output_start_; }
  std::size_t pending_output() const { return output_.size() - output_start_; }

  // Set when the client broke the protocol (a packet over the size limit, a
  // request before INIT): the server stops answering; the stream should end.
  bool failed() const { return !failure_.empty(); }
  const std::string& failure() const { return failure_; }
  // True once the input ended (or failed) and every reply was taken.
  bool finished() const;
  std::size_t open_handle_count() const { return handles_.size(); }

 private:
  struct OpenHandle;
  struct Request;

  void process();
  void handle_packet(ByteView packet);
  void fail(std::string reason);

  // Replies.
  void send(const Packet& packet);
  void send_status(std::uint32_t id, StatusCode code, std::string message = {});
  void send_error(std::uint32_t id, const FsError& error);
  template <class T>
  void send_fs_status(std::uint32_t id, const FsResult<T>& result);

  // Client path -> path in the file system, links resolved (the last one
  // only when follow_last).
  FsResult<std::vector<std::string>> resolve(std::string_view client_path, bool follow_last);
  std::string fs_path(const std::vector<std::string>& components) const;
  std::string client_path(const std::vector<std::string>& components) const;
  FsResult<std::string> resolve_to_fs(std::string_view client_path, bool follow_last);

  OpenHandle* find_handle(const std::string& handle);
  std::string add_handle(std::unique_ptr<OpenHandle> entry);
  std::string long_name(const std::string& name, const FileInfo& info);
  std::uint32_t creation_permissions(const Attrs& attrs, std::uint32_t fallback) const;

  void on_init(const Init& request);
  void on_open(const Open& request);
  void on_close(const Close& request);
  void on_read(const Read& request);
  void on_write(const Write& request);
  void on_stat(std::uint32_t id, const std::string& path, bool follow);
  void on_fstat(const Fstat& request);
  void on_setstat(std::uint32_t id, const std::string& path, const Attrs& attrs, bool follow);
  void on_fsetstat(const Fsetstat& request);
  void on_opendir(const Opendir& request);
  void on_readdir(const Readdir& request);
  void on_remove(const Remove& request);
  void on_mkdir(const Mkdir& request);
  void on_rmdir(const Rmdir& request);
  void on_realpath(std::uint32_t id, const std::string& path);
  void on_rename(std::uint32_t id, const std::string& old_path, const std::string& new_path,
                 bool replace);
  void on_readlink(const Readlink& request);
  void on_symlink(const Symlink& request);
  void on_hardlink(std::uint32_t id, const std::string& old_path, const std::string& new_path);
  void on_extended(const Extended& request);
  void on_statvfs(std::uint32_t id, const std::string& fs_path);
  void on_copy_data(std::uint32_t id, const ext::CopyData& request);
  void on_users_groups_by_id(std::uint32_t id, const ext::UsersGroupsById& request);
  void send_name(std::uint32_t id, const std::string& name);
  bool refuse_if_read_only(std::uint32_t id, const char* what);

  FileSystem& fs_;
  ServerOptions options_;
  std::vector<std::string> start_components_;
  Bytes input_;
  std::size_t input_start_ = 0;
  bool input_ended_ = false;
  Bytes output_;
  std::size_t output_start_ = 0;
  bool initialized_ = false;
  std::string failure_;
  std::map<std::string, std::unique_ptr<OpenHandle>> handles_;
  std::uint64_t next_handle_ = 1;
};

}  // namespace sftp
