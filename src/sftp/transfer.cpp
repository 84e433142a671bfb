#include "sftp/transfer.hpp"

#include <algorithm>
#include <deque>
#include <optional>
#include <tuple>
#include <utility>

#include "sftp/write_budget.hpp"
#include "ssh/log.hpp"

namespace sftp {
namespace {

std::shared_ptr<spdlog::logger> logger() {
  return ssh::log::get("sftp");
}

std::string join(const std::string& directory, const std::string& name) {
  if (directory.empty()) return name;
  if (directory.back() == '/') return directory + name;
  return directory + "/" + name;
}

// "/a/b/" -> ("/a", "b"); "b" -> ("", "b"); "/b" -> ("/", "b").
std::pair<std::string, std::string> split_last(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return {"", path};
  std::string parent = path.substr(0, slash);
  if (parent.empty()) parent = "/";
  return {parent, path.substr(slash + 1)};
}

std::string describe(const FsError& error) {
  if (!error.message.empty()) return error.message;
  return status_code_name(error.code);
}

// The bits scp -p carries: permissions (no file type) and times.
Attrs preserved_attrs(const Attrs& source) {
  Attrs attrs;
  if (source.permissions) attrs.permissions = *source.permissions & 07777;
  attrs.times = source.times;
  return attrs;
}

std::uint32_t creation_permissions(const Attrs& source) {
  // The owner must be able to write the partial file while it is copied.
  return ((source.permissions ? *source.permissions : 0644) & 0777) | 0200;
}

// The byte ranges compared before a partial file is trusted as a prefix.
std::vector<std::pair<std::uint64_t, std::uint64_t>> resume_check_ranges(std::uint64_t size) {
  const std::uint64_t head = std::min<std::uint64_t>(size, kResumeCheckBytes);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges{{0, head}};
  if (size > head) {
    const std::uint64_t tail = std::min<std::uint64_t>(size - head, kResumeCheckBytes);
    ranges.emplace_back(size - tail, tail);
  }
  return ranges;
}

FsResult<Bytes> read_local_range(File& file, std::uint64_t offset, std::uint64_t length) {
  Bytes bytes(static_cast<std::size_t>(length));
  std::size_t filled = 0;
  while (filled < bytes.size()) {
    auto count = file.read(offset + filled, ssh::MutableByteView(bytes).subspan(filled));
    if (!count) return count.error();
    if (*count == 0) break;
    filled += *count;
  }
  bytes.resize(filled);
  return bytes;
}

}  // namespace

std::string partial_path(const std::string& path) {
  auto [parent, name] = split_last(path);
  return join(parent, "." + name + kPartialSuffix);
}

// One unit of work: a path to copy (which may turn out to be a directory).
struct Work {
  bool get = true;
  std::string source;
  std::string destination;
};

struct TransferJob::State : std::enable_shared_from_this<TransferJob::State> {
  struct Task;
  using TaskPtr = std::shared_ptr<Task>;

  State(Client& client_in, FileSystem& local_in, TransferOptions options_in)
      : client(client_in), local(local_in), options(std::move(options_in)) {
    options.max_requests_in_flight = std::max<std::size_t>(options.max_requests_in_flight, 1);
    options.max_parallel_files = std::max<std::size_t>(options.max_parallel_files, 1);
  }

  Client& client;
  FileSystem& local;
  TransferOptions options;
  std::deque<Work> queue;
  std::vector<TaskPtr> active;
  std::vector<TransferError> errors;
  TransferProgress progress;
  // Directories whose mode and times are set once everything is copied
  // (deeper ones come later in this list, so it is applied from the back:
  // copying into a directory changes its times).
  struct DirectoryAttrs {
    bool remote = false;
    std::string path;
    Attrs attrs;
  };
  std::vector<DirectoryAttrs> directory_attrs;
  std::size_t directory_attrs_pending = 0;
  bool directory_attrs_started = false;
  // READs and WRITEs outstanding over the whole job.
  std::size_t in_flight = 0;
  // Put: WRITE bytes outstanding, and how many may be (with a clock).
  std::uint64_t write_bytes_in_flight = 0;
  std::optional<WriteBudget> write_budget;
  std::uint64_t logged_write_budget = 0;
  bool started = false;
  bool waiting_for_client = false;
  bool done = false;
  bool pumping = false;
  bool pump_again = false;
  std::vector<std::function<void()>> finished_callbacks;

  // Wraps a reply handler: it runs only while the job exists, and the job
  // moves on (more requests, next files) after it.
  template <class Handler>
  auto guarded(Handler handler) {
    return [weak = weak_from_this(), handler = std::move(handler)](auto result) mutable {
      auto self = weak.lock();
      if (!self) return;
      handler(*self, std::move(result));
      self->pump();
    };
  }

  void error(const std::string& path, const std::string& message) {
    logger()->debug("sftp: {}: {}", path, message);
    errors.push_back({path, message});
  }

  void report_progress() {
    if (options.on_progress) options.on_progress(progress);
  }

  void pump();
  void pump_once();
  bool issue_get_read(const TaskPtr& task);
  bool issue_put_write(const TaskPtr& task);
  void on_write_acknowledged(std::uint64_t length, WriteBudget::Clock::time_point sent_at);
  void start_work(Work work);
  void finish_get(const TaskPtr& task);
  void finish_put(const TaskPtr& task);
  void file_done(Task& task);
  void release(Task& task);
  void maybe_finish();

  void start_get(const TaskPtr& task);
  void start_put(const TaskPtr& task);
  void get_directory(const TaskPtr& task, const Attrs& attrs);
  void put_directory(const TaskPtr& task, const FileInfo& info);
  void get_file(const TaskPtr& task, const Attrs& attrs);
  void put_file(const TaskPtr& task, const Attrs& attrs);
  void open_get_partial(const TaskPtr& task, std::uint64_t keep);
  void check_prefix(const TaskPtr& task, const std::string& remote_handle, File& local_file,
                    std::uint64_t size, std::function<void(State&, bool)> done_callback);
  void read_remote_range(const TaskPtr& task, const std::string& handle, std::uint64_t offset,
                         std::uint64_t length, std::shared_ptr<Bytes> into,
                         std::function<void(State&, bool)> done_callback);
};

// A copy in progress: resolving its source, listing a directory, or moving a
// file's bytes.
struct TransferJob::State::Task {
  Work work;
  // The task is over and its slot free.
  bool finished = false;
  bool failed = false;
  // Bytes are moving: the pump issues READs (get) or WRITEs (put).
  bool transferring = false;
  // Every byte is in; closing and renaming.
  bool finishing = false;
  Attrs source_attrs;
  std::uint64_t size = 0;
  std::uint64_t next_offset = 0;
  std::uint64_t bytes_done = 0;
  std::size_t in_flight = 0;
  // Get: ranges a short READ left out, asked again before new ones.
  std::deque<std::pair<std::uint64_t, std::uint32_t>> gaps;
  // Put: the local file ended.
  bool local_eof = false;
  std::string remote_handle;
  std::unique_ptr<File> local_file;
  std::string partial;

  void fail(State& state, const std::string& message) {
    if (failed) return;
    failed = true;
    transferring = false;
    state.error(work.source, message);
  }
  // Fails a task that holds nothing (yet).
  void fail_now(State& state, const std::string& message) {
    fail(state, message);
    finished = true;
  }
};

void TransferJob::State::pump() {
  if (pumping) {
    pump_again = true;
    return;
  }
  // A finished callback may destroy the job; stay alive until the end.
  auto keep_alive = shared_from_this();
  pumping = true;
  do {
    pump_again = false;
    pump_once();
  } while (pump_again);
  pumping = false;
  maybe_finish();
}

void TransferJob::State::pump_once() {
  if (!started || done || waiting_for_client) return;
  std::erase_if(active, [](const TaskPtr& task) { return task->finished; });
  while (active.size() < options.max_parallel_files && !queue.empty()) {
    Work work = std::move(queue.front());
    queue.pop_front();
    start_work(std::move(work));
  }
  // Round-robin over the files moving bytes while request room is left.
  bool issued = true;
  while (issued && in_flight < options.max_requests_in_flight) {
    issued = false;
    for (std::size_t i = 0; i < active.size() && in_flight < options.max_requests_in_flight; ++i) {
      TaskPtr task = active[i];
      if (!task->transferring || task->failed) continue;
      if (task->work.get ? issue_get_read(task) : issue_put_write(task)) issued = true;
    }
  }
  for (std::size_t i = 0; i < active.size(); ++i) {
    TaskPtr task = active[i];
    if (task->finished || task->in_flight > 0) continue;
    if (task->failed) {
      if (!task->finishing) release(*task);
      continue;
    }
    if (!task->transferring) continue;
    const bool complete =
        task->work.get ? task->next_offset >= task->size && task->gaps.empty() : task->local_eof;
    if (!complete) continue;
    task->transferring = false;
    task->finishing = true;
    if (task->work.get) {
      finish_get(task);
    } else {
      finish_put(task);
    }
  }
}

bool TransferJob::State::issue_get_read(const TaskPtr& task) {
  std::uint64_t offset = 0;
  std::uint32_t length = 0;
  if (!task->gaps.empty()) {
    std::tie(offset, length) = task->gaps.front();
    task->gaps.pop_front();
  } else if (task->next_offset < task->size) {
    offset = task->next_offset;
    length = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(client.read_chunk_size(), task->size - task->next_offset));
    task->next_offset += length;
  } else {
    return false;
  }
  ++task->in_flight;
  ++in_flight;
  client.read(task->remote_handle, offset, length,
              guarded([task, offset, length](State& state, ClientResult<Bytes> data) {
                --task->in_flight;
                --state.in_flight;
                if (task->failed) return;
                if (!data) {
                  task->fail(state, "read failed: " + describe(data.error()));
                  return;
                }
                if (data->empty()) {
                  // The file shrank since its stat: it ends here.
                  task->size = std::min(task->size, offset);
                  task->next_offset = std::min(task->next_offset, task->size);
                  std::erase_if(task->gaps, [&](const auto& gap) { return gap.first >= offset; });
                  return;
                }
                auto written = task->local_file->write(offset, *data);
                if (!written) {
                  task->fail(state,
                             "cannot write " + task->partial + ": " + describe(written.error()));
                  return;
                }
                if (data->size() < length) {
                  task->gaps.emplace_back(offset + data->size(),
                                          static_cast<std::uint32_t>(length - data->size()));
                }
                task->bytes_done += data->size();
                state.progress.bytes_done += data->size();
                state.progress.current_file = task->work.source;
                state.progress.file_bytes_done = task->bytes_done;
                state.progress.file_bytes_total = task->size;
                state.report_progress();
              }));
  return true;
}

bool TransferJob::State::issue_put_write(const TaskPtr& task) {
  if (task->local_eof) return false;
  if (options.clock && !write_budget) {
    const std::uint64_t ceiling =
        std::uint64_t{client.write_chunk_size()} * options.max_requests_in_flight;
    write_budget.emplace(options.write_budget_floor, ceiling);
  }
  if (write_budget && write_bytes_in_flight > 0) {
    // What this WRITE will carry, by the size the file had at its stat (a
    // small file's one WRITE must not count as a whole chunk).
    const std::uint64_t left = task->size > task->next_offset ? task->size - task->next_offset : 1;
    const std::uint64_t next = std::min<std::uint64_t>(client.write_chunk_size(), left);
    if (write_bytes_in_flight + next > write_budget->bytes()) return false;
  }
  Bytes chunk(client.write_chunk_size());
  auto count = task->local_file->read(task->next_offset, chunk);
  if (!count) {
    task->fail(*this, "cannot read: " + describe(count.error()));
    return false;
  }
  if (*count == 0) {
    task->local_eof = true;
    return false;
  }
  chunk.resize(*count);
  const std::uint64_t offset = task->next_offset;
  const std::size_t sent = *count;
  task->next_offset += sent;
  ++task->in_flight;
  ++in_flight;
  write_bytes_in_flight += sent;
  std::optional<WriteBudget::Clock::time_point> sent_at;
  if (options.clock) sent_at = options.clock();
  client.write(task->remote_handle, offset, std::move(chunk),
               guarded([task, sent, sent_at](State& state, ClientStatus status) {
                 --task->in_flight;
                 --state.in_flight;
                 state.write_bytes_in_flight -= sent;
                 if (sent_at && state.write_budget) state.on_write_acknowledged(sent, *sent_at);
                 if (task->failed) return;
                 if (!status) {
                   task->fail(state, "write failed: " + describe(status.error()));
                   return;
                 }
                 task->bytes_done += sent;
                 state.progress.bytes_done += sent;
                 state.progress.current_file = task->work.source;
                 state.progress.file_bytes_done = task->bytes_done;
                 state.progress.file_bytes_total = std::max(task->size, task->bytes_done);
                 state.report_progress();
               }));
  return true;
}

void TransferJob::State::on_write_acknowledged(std::uint64_t length,
                                               WriteBudget::Clock::time_point sent_at) {
  write_budget->on_acknowledged(length, sent_at, options.clock());
  const std::uint64_t budget = write_budget->bytes();
  // Logged when it moves by a quarter or more, not on every reply.
  if (budget * 4 < logged_write_budget * 3 || budget * 4 > logged_write_budget * 5) {
    logged_write_budget = budget;
    const auto round_trip = write_budget->min_round_trip().value_or(WriteBudget::Clock::duration{});
    logger()->debug(
        "sftp: keeping {} KiB of writes outstanding (lowest round trip {} us, {:.0f} MiB/s)",
        budget / 1024, std::chrono::duration_cast<std::chrono::microseconds>(round_trip).count(),
        write_budget->delivery_rate() / (1024 * 1024));
  }
}

void TransferJob::State::release(Task& task) {
  // The partial file stays where it is, for a resume.
  if (!task.remote_handle.empty()) {
    client.close(task.remote_handle, [](ClientStatus) {});
    task.remote_handle.clear();
  }
  task.local_file.reset();
  task.finished = true;
  pump_again = true;
}

void TransferJob::State::file_done(Task& task) {
  task.finished = true;
  ++progress.files_done;
  progress.current_file = task.work.source;
  progress.file_bytes_done = task.bytes_done;
  progress.file_bytes_total = task.bytes_done;
  progress.file_finished = true;
  logger()->debug("sftp: {} {} -> {} ({} bytes)", task.work.get ? "got" : "put", task.work.source,
                  task.work.destination, task.bytes_done);
  report_progress();
  progress.file_finished = false;
}

void TransferJob::State::finish_get(const TaskPtr& task) {
  task->local_file.reset();
  // Local first: the remote handle's CLOSE is only bookkeeping.
  bool ok = true;
  if (options.preserve) {
    auto set = local.set_attributes(task->partial, preserved_attrs(task->source_attrs), true);
    if (!set) {
      task->fail(*this, "cannot set the mode and times of " + task->partial + ": " +
                            describe(set.error()));
      ok = false;
    }
  }
  if (ok) {
    auto renamed = local.rename(task->partial, task->work.destination);
    if (!renamed) {
      task->fail(*this, "cannot rename " + task->partial + " to " + task->work.destination + ": " +
                            describe(renamed.error()));
      ok = false;
    }
  }
  const std::string handle = std::move(task->remote_handle);
  task->remote_handle.clear();
  client.close(handle, guarded([task, ok](State& state, ClientStatus) {
                 if (ok) {
                   state.file_done(*task);
                 } else {
                   task->finished = true;
                 }
               }));
}

void TransferJob::State::finish_put(const TaskPtr& task) {
  task->local_file.reset();
  // FSETSTAT and CLOSE go out together; the rename waits for the CLOSE, which
  // is when the server has every byte.
  auto preserve_failed = std::make_shared<std::optional<std::string>>();
  if (options.preserve) {
    client.fsetstat(task->remote_handle, preserved_attrs(task->source_attrs),
                    guarded([preserve_failed](State&, ClientStatus status) {
                      if (!status) *preserve_failed = describe(status.error());
                    }));
  }
  const std::string handle = std::move(task->remote_handle);
  task->remote_handle.clear();
  client.close(
      handle, guarded([task, preserve_failed](State& state, ClientStatus closed) {
        if (!closed) {
          task->fail(state, "closing " + task->partial + " failed: " + describe(closed.error()));
          task->finished = true;
          return;
        }
        if (*preserve_failed) {
          task->fail(state, "cannot set the mode and times of " + task->partial + ": " +
                                **preserve_failed);
          task->finished = true;
          return;
        }
        auto rename_failed = [task](State& s, const ClientError& error) {
          task->fail(s, "cannot rename " + task->partial + " to " + task->work.destination + ": " +
                            describe(error));
          task->finished = true;
        };
        state.client.rename(task->partial, task->work.destination,
                            state.guarded([task, rename_failed](State& s, ClientStatus renamed) {
                              if (renamed) {
                                s.file_done(*task);
                                return;
                              }
                              if (s.client.has_extension(ext::kPosixRename)) {
                                rename_failed(s, renamed.error());
                                return;
                              }
                              // v3 RENAME refuses to replace: remove the old file, then again.
                              s.client.remove(task->work.destination, [](ClientStatus) {});
                              s.client.rename(
                                  task->partial, task->work.destination,
                                  s.guarded([task, rename_failed](State& s2, ClientStatus again) {
                                    if (again) {
                                      s2.file_done(*task);
                                    } else {
                                      rename_failed(s2, again.error());
                                    }
                                  }));
                            }));
      }));
}

void TransferJob::State::maybe_finish() {
  if (!started || done || waiting_for_client) return;
  std::erase_if(active, [](const TaskPtr& task) { return task->finished; });
  if (!queue.empty() || !active.empty() || in_flight > 0) return;
  if (!directory_attrs_started) {
    directory_attrs_started = true;
    for (auto it = directory_attrs.rbegin(); it != directory_attrs.rend(); ++it) {
      if (!it->remote) {
        auto set = local.set_attributes(it->path, it->attrs, true);
        if (!set) {
          error(it->path, "cannot set the mode and times: " + describe(set.error()));
        }
        continue;
      }
      ++directory_attrs_pending;
      client.setstat(
          it->path, it->attrs, guarded([path = it->path](State& state, ClientStatus status) {
            --state.directory_attrs_pending;
            if (!status) {
              state.error(path, "cannot set the mode and times: " + describe(status.error()));
            }
          }));
    }
  }
  if (directory_attrs_pending > 0) return;
  done = true;
  logger()->debug("sftp: transfer finished: {} files, {} bytes, {} errors", progress.files_done,
                  progress.bytes_done, errors.size());
  auto callbacks = std::move(finished_callbacks);
  finished_callbacks.clear();
  for (auto& callback : callbacks) callback();
}

void TransferJob::State::start_work(Work work) {
  auto task = std::make_shared<Task>();
  task->work = std::move(work);
  active.push_back(task);
  if (task->work.get) {
    start_get(task);
  } else {
    start_put(task);
  }
}

// Reads [offset, offset + length) of a remote file into `into`, one chunk
// after the other (only used for the small resume checks).
void TransferJob::State::read_remote_range(const TaskPtr& task, const std::string& handle,
                                           std::uint64_t offset, std::uint64_t length,
                                           std::shared_ptr<Bytes> into,
                                           std::function<void(State&, bool)> done_callback) {
  if (length == 0) {
    done_callback(*this, true);
    return;
  }
  const auto piece =
      static_cast<std::uint32_t>(std::min<std::uint64_t>(client.read_chunk_size(), length));
  client.read(handle, offset, piece,
              guarded([task, handle, offset, length, into, done_callback](
                          State& state, ClientResult<Bytes> data) {
                if (!data || data->empty()) {
                  done_callback(state, false);
                  return;
                }
                into->insert(into->end(), data->begin(), data->end());
                state.read_remote_range(task, handle, offset + data->size(), length - data->size(),
                                        into, done_callback);
              }));
}

// Whether the first `size` bytes of the local and the remote file agree in
// the ranges resume trusts (see transfer.hpp).
void TransferJob::State::check_prefix(const TaskPtr& task, const std::string& remote_handle,
                                      File& local_file, std::uint64_t size,
                                      std::function<void(State&, bool)> done_callback) {
  auto ranges = resume_check_ranges(size);
  auto expected = std::make_shared<std::vector<Bytes>>();
  for (const auto& [offset, length] : ranges) {
    auto bytes = read_local_range(local_file, offset, length);
    if (!bytes || bytes->size() != length) {
      done_callback(*this, false);
      return;
    }
    expected->push_back(std::move(*bytes));
  }
  auto received = std::make_shared<std::vector<std::shared_ptr<Bytes>>>();
  for (std::size_t i = 0; i < ranges.size(); ++i) received->push_back(std::make_shared<Bytes>());
  auto remaining = std::make_shared<std::size_t>(ranges.size());
  auto all_read = std::make_shared<bool>(true);
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    read_remote_range(
        task, remote_handle, ranges[i].first, ranges[i].second, (*received)[i],
        [expected, received, remaining, all_read, done_callback](State& state, bool read) {
          if (!read) *all_read = false;
          if (--*remaining > 0) return;
          bool equal = *all_read;
          for (std::size_t r = 0; equal && r < expected->size(); ++r) {
            equal = *(*received)[r] == (*expected)[r];
          }
          done_callback(state, equal);
        });
  }
}

// Get -------------------------------------------------------------------------

void TransferJob::State::start_get(const TaskPtr& task) {
  client.stat(task->work.source, guarded([task](State& state, ClientResult<Attrs> attrs) {
                if (!attrs) {
                  task->fail_now(state, describe(attrs.error()));
                } else if (attrs->is_directory()) {
                  state.get_directory(task, *attrs);
                } else if (attrs->is_regular() || !attrs->permissions) {
                  state.get_file(task, *attrs);
                } else {
                  task->fail_now(state, "not a regular file");
                }
              }));
}

void TransferJob::State::get_directory(const TaskPtr& task, const Attrs& attrs) {
  if (!options.recursive) {
    task->fail_now(*this, "is a directory (not copied without recursion)");
    return;
  }
  const std::string& destination = task->work.destination;
  auto existing = local.lstat(destination);
  if (existing) {
    if (!existing->attrs.is_directory()) {
      task->fail_now(*this, "cannot replace " + destination + " by a directory");
      return;
    }
  } else {
    auto made = local.make_directory(
        destination, ((attrs.permissions ? *attrs.permissions : 0755) & 0777) | 0700);
    if (!made) {
      task->fail_now(*this, "cannot create " + destination + ": " + describe(made.error()));
      return;
    }
  }
  if (options.preserve) directory_attrs.push_back({false, destination, preserved_attrs(attrs)});
  client.list_directory(task->work.source,
                        guarded([task](State& state, ClientResult<std::vector<NameEntry>> entries) {
                          task->finished = true;
                          if (!entries) {
                            task->fail(state, "cannot list: " + describe(entries.error()));
                            return;
                          }
                          for (const auto& entry : *entries) {
                            // A name with a slash would step out of the directory being copied.
                            if (entry.filename.find('/') != std::string::npos) {
                              state.error(join(task->work.source, entry.filename),
                                          "invalid name from the server");
                              continue;
                            }
                            state.queue.push_back({true, join(task->work.source, entry.filename),
                                                   join(task->work.destination, entry.filename)});
                          }
                        }));
}

void TransferJob::State::get_file(const TaskPtr& task, const Attrs& attrs) {
  task->source_attrs = attrs;
  task->size = attrs.size.value_or(0);
  task->partial = partial_path(task->work.destination);
  progress.bytes_total += task->size;
  client.open(task->work.source, open_flags::kRead, Attrs{},
              guarded([task](State& state, ClientResult<std::string> handle) {
                if (!handle) {
                  task->fail_now(state, "cannot open: " + describe(handle.error()));
                  return;
                }
                task->remote_handle = std::move(*handle);
                if (!state.options.resume) {
                  state.open_get_partial(task, 0);
                  return;
                }
                auto existing = state.local.lstat(task->partial);
                const std::uint64_t have =
                    existing && existing->attrs.is_regular() ? existing->attrs.size.value_or(0) : 0;
                if (have == 0 || have > task->size) {
                  state.open_get_partial(task, 0);
                  return;
                }
                OpenMode mode;
                mode.read = true;
                auto partial = state.local.open(task->partial, mode);
                if (!partial) {
                  state.open_get_partial(task, 0);
                  return;
                }
                std::shared_ptr<File> partial_file = std::move(*partial);
                state.check_prefix(task, task->remote_handle, *partial_file, have,
                                   [task, have, partial_file](State& s, bool prefix) {
                                     if (!prefix) {
                                       logger()->debug(
                                           "sftp: {} is not a prefix of {}; copying it again",
                                           task->partial, task->work.source);
                                     }
                                     s.open_get_partial(task, prefix ? have : 0);
                                   });
              }));
}

void TransferJob::State::open_get_partial(const TaskPtr& task, std::uint64_t keep) {
  OpenMode mode;
  mode.write = true;
  mode.create = true;
  mode.truncate = keep == 0;
  mode.create_permissions = creation_permissions(task->source_attrs);
  auto file = local.open(task->partial, mode);
  if (!file) {
    task->fail(*this, "cannot create " + task->partial + ": " + describe(file.error()));
    return;
  }
  task->local_file = std::move(*file);
  task->next_offset = keep;
  task->bytes_done = keep;
  progress.bytes_done += keep;
  if (keep > 0) logger()->debug("sftp: resuming {} at {} bytes", task->work.source, keep);
  task->transferring = true;
}

// Put -------------------------------------------------------------------------

void TransferJob::State::start_put(const TaskPtr& task) {
  auto info = local.lstat(task->work.source);
  if (!info) {
    task->fail_now(*this, describe(info.error()));
    return;
  }
  if (info->attrs.is_symlink()) {
    // Links are followed, as scp does: what they point at is copied.
    if (local.open_directory(task->work.source)) {
      FileInfo target = *info;
      target.attrs.permissions = file_type::kDirectory | 0755;
      put_directory(task, target);
      return;
    }
    OpenMode mode;
    mode.read = true;
    auto file = local.open(task->work.source, mode);
    if (!file) {
      task->fail_now(*this, describe(file.error()));
      return;
    }
    auto target = (*file)->stat();
    if (!target) {
      task->fail_now(*this, describe(target.error()));
      return;
    }
    info = std::move(*target);
  }
  if (info->attrs.is_directory()) {
    put_directory(task, *info);
  } else if (info->attrs.is_regular()) {
    put_file(task, info->attrs);
  } else {
    task->fail_now(*this, "not a regular file");
  }
}

void TransferJob::State::put_directory(const TaskPtr& task, const FileInfo& info) {
  if (!options.recursive) {
    task->fail_now(*this, "is a directory (not copied without recursion)");
    return;
  }
  auto directory = local.open_directory(task->work.source);
  if (!directory) {
    task->fail_now(*this, "cannot list: " + describe(directory.error()));
    return;
  }
  auto names = std::make_shared<std::vector<std::string>>();
  for (;;) {
    auto name = (*directory)->next();
    if (!name) {
      task->fail_now(*this, "cannot list: " + describe(name.error()));
      return;
    }
    if (!*name) break;
    if (**name == "." || **name == "..") continue;
    names->push_back(std::move(**name));
  }
  Attrs mkdir_attrs;
  mkdir_attrs.permissions =
      ((info.attrs.permissions ? *info.attrs.permissions : 0755) & 0777) | 0700;
  if (options.preserve) {
    directory_attrs.push_back({true, task->work.destination, preserved_attrs(info.attrs)});
  }
  auto queue_entries = [task, names](State& state) {
    task->finished = true;
    for (const auto& name : *names) {
      state.queue.push_back(
          {false, join(task->work.source, name), join(task->work.destination, name)});
    }
  };
  client.mkdir(task->work.destination, mkdir_attrs,
               guarded([task, queue_entries](State& state, ClientStatus made) {
                 if (made) {
                   queue_entries(state);
                   return;
                 }
                 // An existing directory is fine: the copy goes into it.
                 state.client.stat(task->work.destination,
                                   state.guarded([task, queue_entries, made](
                                                     State& s, ClientResult<Attrs> attrs) {
                                     if (attrs && attrs->is_directory()) {
                                       queue_entries(s);
                                     } else {
                                       task->fail_now(s, "cannot create " + task->work.destination +
                                                             ": " + describe(made.error()));
                                     }
                                   }));
               }));
}

void TransferJob::State::put_file(const TaskPtr& task, const Attrs& attrs) {
  task->source_attrs = attrs;
  task->size = attrs.size.value_or(0);
  task->partial = partial_path(task->work.destination);
  progress.bytes_total += task->size;
  OpenMode mode;
  mode.read = true;
  auto file = local.open(task->work.source, mode);
  if (!file) {
    task->fail_now(*this, "cannot open: " + describe(file.error()));
    return;
  }
  task->local_file = std::move(*file);
  Attrs create_attrs;
  create_attrs.permissions = creation_permissions(attrs);
  auto opened = [task](State& state, ClientResult<std::string> handle) -> bool {
    if (!handle) {
      task->fail(state, "cannot create " + task->partial + ": " + describe(handle.error()));
      state.release(*task);
      return false;
    }
    task->remote_handle = std::move(*handle);
    return true;
  };
  const std::uint32_t write_flags = open_flags::kWrite | open_flags::kCreate;
  if (!options.resume) {
    client.open(task->partial, write_flags | open_flags::kTruncate, create_attrs,
                guarded([task, opened](State& state, ClientResult<std::string> handle) {
                  if (opened(state, std::move(handle))) task->transferring = true;
                }));
    return;
  }
  client.lstat(
      task->partial,
      guarded([task, opened, create_attrs, write_flags](State& state, ClientResult<Attrs> have) {
        const std::uint64_t kept = have && have->is_regular() ? have->size.value_or(0) : 0;
        if (kept == 0 || kept > task->size) {
          state.client.open(task->partial, write_flags | open_flags::kTruncate, create_attrs,
                            state.guarded([task, opened](State& s, ClientResult<std::string> h) {
                              if (opened(s, std::move(h))) task->transferring = true;
                            }));
          return;
        }
        // Opened without truncating; the WRITEs wait for the prefix check.
        state.client.open(
            task->partial, write_flags | open_flags::kRead, create_attrs,
            state.guarded([task, opened, kept](State& s, ClientResult<std::string> h) {
              if (!opened(s, std::move(h))) return;
              s.check_prefix(
                  task, task->remote_handle, *task->local_file, kept,
                  [task, kept](State& s2, bool prefix) {
                    if (task->failed) return;
                    if (prefix) {
                      logger()->debug("sftp: resuming {} at {} bytes", task->work.source, kept);
                      task->next_offset = kept;
                      task->bytes_done = kept;
                      s2.progress.bytes_done += kept;
                      task->transferring = true;
                      return;
                    }
                    logger()->debug("sftp: {} is not a prefix of {}; copying it again",
                                    task->partial, task->work.source);
                    Attrs empty;
                    empty.size = 0;
                    s2.client.fsetstat(task->remote_handle, empty,
                                       s2.guarded([task](State& s3, ClientStatus truncated) {
                                         if (!truncated) {
                                           task->fail(s3, "cannot truncate " + task->partial +
                                                              ": " + describe(truncated.error()));
                                           return;
                                         }
                                         task->transferring = true;
                                       }));
                  });
            }));
      }));
}

// TransferJob -----------------------------------------------------------------

TransferJob::TransferJob(Client& client, FileSystem& local, TransferOptions options)
    : state_(std::make_shared<State>(client, local, std::move(options))) {}

TransferJob::~TransferJob() = default;

void TransferJob::add_get(const std::string& remote_path, const std::string& local_path) {
  state_->queue.push_back({true, remote_path, local_path});
  add_more();
}

void TransferJob::add_put(const std::string& local_path, const std::string& remote_path) {
  state_->queue.push_back({false, local_path, remote_path});
  add_more();
}

void TransferJob::add_more() {
  if (!state_->started) return;
  // A finished job runs again for the new copies.
  if (state_->done) {
    state_->done = false;
    state_->directory_attrs.clear();
    state_->directory_attrs_started = false;
  }
  state_->pump();
}

void TransferJob::start() {
  if (state_->started) return;
  state_->started = true;
  state_->waiting_for_client = true;
  std::weak_ptr<State> weak = state_;
  state_->client.when_ready([weak] {
    auto state = weak.lock();
    if (!state) return;
    state->waiting_for_client = false;
    state->pump();
  });
}

void TransferJob::on_finished(std::function<void()> callback) {
  if (state_->done) {
    callback();
    return;
  }
  state_->finished_callbacks.push_back(std::move(callback));
}

bool TransferJob::finished() const {
  return state_->done;
}

bool TransferJob::succeeded() const {
  return state_->done && state_->errors.empty();
}

const std::vector<TransferError>& TransferJob::errors() const {
  return state_->errors;
}

TransferProgress TransferJob::progress() const {
  return state_->progress;
}

}  // namespace sftp
