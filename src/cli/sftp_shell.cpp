#include "cli/sftp_shell.hpp"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <sstream>

#include "sftp/local_file_system.hpp"
#include "sftp/remote_glob.hpp"

namespace cli {
namespace {

namespace fs = std::filesystem;

std::string base_name(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const std::size_t slash = path.find_last_of('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// OpenSSH's fx2txt: the status code's text, not the server's message; a
// lost session says why.
std::string reason(const sftp::FsError& error) {
  switch (error.code) {
    case sftp::StatusCode::Ok:
      return "No error";
    case sftp::StatusCode::Eof:
      return "End of file";
    case sftp::StatusCode::NoSuchFile:
      return "No such file or directory";
    case sftp::StatusCode::PermissionDenied:
      return "Permission denied";
    case sftp::StatusCode::Failure:
      return "Failure";
    case sftp::StatusCode::BadMessage:
      return "Bad message";
    case sftp::StatusCode::NoConnection:
      return "No connection";
    case sftp::StatusCode::OpUnsupported:
      return "Operation unsupported";
    case sftp::StatusCode::ConnectionLost:
      break;
  }
  return error.message.empty() ? "Connection lost" : error.message;
}

// OpenSSH's path_strip: `path` without the leading `strip` directory.
std::string strip_directory(const std::string& path, const std::string& strip) {
  if (strip.empty() || !path.starts_with(strip)) return path;
  std::size_t length = strip.size();
  if (strip.back() != '/' && length < path.size() && path[length] == '/') ++length;
  return path.substr(length);
}

std::string local_served_path(const std::string& path) {
  auto served = sftp::LocalFileSystem::served_path(fs::absolute(fs::path(path)));
  if (!served.ok()) throw std::invalid_argument(path + ": " + served.error().message);
  return *served;
}

// BSD strmode(3) as OpenSSH's ls_file uses it: type, nine permission
// letters (with set-id and sticky bits), and a trailing blank.
std::string mode_string(std::uint32_t mode) {
  std::string text = "?--------- ";
  switch (mode & sftp::file_type::kMask) {
    case sftp::file_type::kDirectory:
      text[0] = 'd';
      break;
    case sftp::file_type::kRegular:
      text[0] = '-';
      break;
    case sftp::file_type::kSymlink:
      text[0] = 'l';
      break;
    case 0020000:
      text[0] = 'c';
      break;
    case 0060000:
      text[0] = 'b';
      break;
    case 0140000:
      text[0] = 's';
      break;
    case 0010000:
      text[0] = 'p';
      break;
    default:
      break;
  }
  static constexpr char kLetters[] = "rwxrwxrwx";
  for (int bit = 0; bit < 9; ++bit) {
    if (mode & (0400u >> bit)) text[1 + bit] = kLetters[bit];
  }
  auto special = [&](std::size_t at, std::uint32_t flag, char with_x, char without_x) {
    if (mode & flag) text[at] = text[at] == 'x' ? with_x : without_x;
  };
  special(3, 04000, 's', 'S');
  special(6, 02000, 's', 'S');
  special(9, 01000, 't', 'T');
  return text.substr(0, 11);
}

// OpenSSH's ls_file for a remote entry: "?" links, owner names, size, and
// the date with the time for files from the last six months (the year
// otherwise).
std::string long_line(const std::string& name, const sftp::Attrs& attrs, const std::string& user,
                      const std::string& group) {
  char date[32] = "";
  if (attrs.times) {
    const std::time_t mtime = attrs.times->mtime;
    const std::time_t now = std::time(nullptr);
    if (const std::tm* local = std::localtime(&mtime)) {
      const bool recent = now - (365 * 24 * 60 * 60) / 2 < mtime && now >= mtime;
      std::strftime(date, sizeof date, recent ? "%b %e %H:%M" : "%b %e  %Y", local);
    }
  }
  const int user_width = static_cast<int>(std::max<std::size_t>(user.size(), 8));
  const int group_width = static_cast<int>(std::max<std::size_t>(group.size(), 8));
  char line[2048];
  std::snprintf(line, sizeof line, "%s %3s %-*s %-*s %8llu %s %s",
                mode_string(attrs.permissions.value_or(0)).c_str(), "?", user_width, user.c_str(),
                group_width, group.c_str(), static_cast<unsigned long long>(attrs.size.value_or(0)),
                date, name.c_str());
  return line;
}

// The owner and group names in an OpenSSH-style long name ("-rw-r--r-- 1
// user group ..."): what users-groups-by-id@openssh.com would tell.
std::pair<std::string, std::string> owner_names(const sftp::NameEntry& entry) {
  std::istringstream words(entry.longname);
  std::string mode, links, user, group;
  if (entry.attrs.owner && (words >> mode >> links >> user >> group)) return {user, group};
  if (entry.attrs.owner) {
    return {std::to_string(entry.attrs.owner->uid), std::to_string(entry.attrs.owner->gid)};
  }
  return {"0", "0"};
}

std::string path_append(const std::string& directory, const std::string& name) {
  if (directory.empty()) return name;
  return directory.back() == '/' ? directory + name : directory + "/" + name;
}

// put -r: OpenSSH's sftp names each local directory as it enters it
// (pre-order, in readdir order), before the files go.
void print_entered_directories(std::ostream& out, const fs::path& directory,
                               const std::string& shown) {
  out << "Entering " << shown << "\n";
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    if (entry.is_directory(error) && !entry.is_symlink(error)) {
      print_entered_directories(out, entry.path(),
                                path_append(shown, entry.path().filename().string()));
    }
  }
}

}  // namespace

// One parsed line: the command word, its flags (single letters) and the
// other words.
struct SftpShell::Command {
  std::string name;
  std::string flags;
  std::vector<std::string> arguments;

  bool flag(char letter) const { return flags.find(letter) != std::string::npos; }
};

SftpShell::SftpShell(sftp::Client& client, sftp::FileSystem& local, std::ostream& out,
                     std::ostream& err, SftpShellOptions options)
    : client_(client), local_(local), out_(out), err_(err), options_(options) {}

SftpShell::~SftpShell() {
  *alive_ = false;
}

std::vector<std::string> SftpShell::split_words(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else if (c == '\\' && quote == '"' && i + 1 < line.size()) {
        word.push_back(line[++i]);
      } else {
        word.push_back(c);
      }
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '\\' && i + 1 < line.size()) {
      // Kept for the glob so "\*" stays a literal star there.
      const char next = line[++i];
      if (next == '*' || next == '?' || next == '[' || next == ']' || next == '\\') {
        word.push_back('\\');
      }
      word.push_back(next);
    } else {
      word.push_back(c);
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

std::string SftpShell::make_absolute(const std::string& path, const std::string& directory) {
  if (path.starts_with('/')) return path;
  if (path.empty() || path == ".") return directory;
  if (directory.empty()) return path;
  return directory.back() == '/' ? directory + path : directory + "/" + path;
}

std::string SftpShell::help_text() {
  return "Available commands:\n"
         "bye                                Quit sftp\n"
         "cd path                            Change remote directory to 'path'\n"
         "chmod mode path                    Change permissions of file 'path' to 'mode'\n"
         "df [-hi] [path]                    Display statistics for current directory or\n"
         "                                   filesystem containing 'path'\n"
         "exit                               Quit sftp\n"
         "get [-pr] remote [local]           Download file\n"
         "help                               Display this help text\n"
         "lcd path                           Change local directory to 'path'\n"
         "ln [-s] oldpath newpath            Link remote file (-s for symlink)\n"
         "lpwd                               Print local working directory\n"
         "ls [-la] [path]                    Display remote directory listing\n"
         "mkdir path                         Create remote directory\n"
         "put [-pr] local [remote]           Upload file\n"
         "pwd                                Display remote working directory\n"
         "quit                               Quit sftp\n"
         "rename oldpath newpath             Rename remote file\n"
         "rm path                            Delete remote file\n"
         "rmdir path                         Remove remote directory\n"
         "?                                  Synonym for help\n"
         "A command starting with '-' does not stop a batch (-b) when it fails.\n";
}

void SftpShell::fail(const std::string& message, const Done& done) {
  err_ << message << "\n" << std::flush;
  done(Outcome::Failed);
}

void SftpShell::start(Done done) {
  client_.realpath(".", [this, alive = alive_, done](sftp::ClientResult<std::string> path) {
    if (!*alive) return;
    if (!path) {
      fail("Need cwd: " + reason(path.error()), done);
      return;
    }
    remote_directory_ = *path;
    done(Outcome::Ok);
  });
}

void SftpShell::execute(const std::string& line, Done done) {
  std::vector<std::string> words = split_words(line);
  if (words.empty() || words.front().starts_with('#')) {
    done(Outcome::Ok);
    return;
  }
  Command command;
  command.name = words.front();
  for (std::size_t i = 1; i < words.size(); ++i) {
    const std::string& word = words[i];
    // Flags come first, as in OpenSSH's sftp; "chmod -x" is not a thing.
    if (command.arguments.empty() && word.size() > 1 && word.front() == '-' &&
        command.name != "chmod") {
      command.flags += word.substr(1);
      continue;
    }
    command.arguments.push_back(word);
  }
  auto wants = [&](std::size_t least, std::size_t most, const char* usage) {
    if (command.arguments.size() >= least && command.arguments.size() <= most) return true;
    fail(std::string("Usage: ") + usage, done);
    return false;
  };
  try {
    const std::string& name = command.name;
    if (name == "exit" || name == "quit" || name == "bye") {
      done(Outcome::Quit);
    } else if (name == "help" || name == "?") {
      out_ << help_text() << std::flush;
      done(Outcome::Ok);
    } else if (name == "pwd") {
      out_ << "Remote working directory: " << remote_directory_ << "\n" << std::flush;
      done(Outcome::Ok);
    } else if (name == "lpwd") {
      out_ << "Local working directory: " << fs::current_path().string() << "\n" << std::flush;
      done(Outcome::Ok);
    } else if (name == "get") {
      if (wants(1, 2, "get [-pr] remote [local]")) get(command, done);
    } else if (name == "put") {
      if (wants(1, 2, "put [-pr] local [remote]")) put(command, done);
    } else if (name == "ls" || name == "dir") {
      if (wants(0, 1, "ls [-la] [path]")) ls(command, done);
    } else if (name == "cd") {
      if (wants(0, 1, "cd path")) cd(command, done);
    } else if (name == "lcd") {
      if (wants(0, 1, "lcd path")) lcd(command, done);
    } else if (name == "mkdir") {
      if (wants(1, 1, "mkdir path")) mkdir(command, done);
    } else if (name == "rmdir") {
      if (wants(1, 1, "rmdir path")) rmdir(command, done);
    } else if (name == "rm") {
      if (wants(1, 1, "rm path")) rm(command, done);
    } else if (name == "rename") {
      if (wants(2, 2, "rename oldpath newpath")) rename(command, done);
    } else if (name == "ln" || name == "symlink") {
      if (name == "symlink") command.flags += 's';
      if (wants(2, 2, "ln [-s] oldpath newpath")) ln(command, done);
    } else if (name == "chmod") {
      if (wants(2, 2, "chmod mode path")) chmod(command, done);
    } else if (name == "df") {
      if (wants(0, 1, "df [-hi] [path]")) df(command, done);
    } else {
      fail("Invalid command.", done);
    }
  } catch (const std::exception& error) {
    fail(error.what(), done);
  }
}

void SftpShell::remote_paths(const std::string& pattern, bool must_exist,
                             std::function<void(std::vector<std::string>)> then, Done done) {
  const std::string absolute = make_absolute(pattern, remote_directory_);
  if (!sftp::has_glob_magic(absolute)) {
    if (!must_exist) {
      then({absolute});
      return;
    }
  }
  sftp::expand_remote_glob(client_, absolute,
                           [this, alive = alive_, pattern, absolute, then = std::move(then),
                            done](sftp::ClientResult<std::vector<std::string>> matches) {
                             if (!*alive) return;
                             if (!matches) {
                               fail(reason(matches.error()), done);
                               return;
                             }
                             if (matches->empty()) {
                               fail("File \"" + absolute + "\" not found.", done);
                               return;
                             }
                             then(std::move(*matches));
                           });
}

void SftpShell::run_transfer(std::unique_ptr<sftp::TransferJob> job, Done done) {
  // The previous command's job is over; it goes now, not from its own callback.
  job_ = std::move(job);
  sftp::TransferJob* running = job_.get();
  running->on_finished([this, alive = alive_, running, done] {
    if (!*alive) return;
    if (running->succeeded()) {
      done(Outcome::Ok);
      return;
    }
    for (const auto& error : running->errors()) err_ << error.path << ": " << error.message << "\n";
    err_ << std::flush;
    done(Outcome::Failed);
  });
  running->start();
}

void SftpShell::get(Command& command, Done done) {
  const std::string local = command.arguments.size() > 1 ? command.arguments[1] : "";
  remote_paths(
      command.arguments[0], true,
      [this, local, recursive = command.flag('r') || command.flag('R'),
       preserve = command.flag('p') || command.flag('P'), done](std::vector<std::string> sources) {
        const bool into_directory = local.empty() || fs::is_directory(local);
        if (sources.size() > 1 && !into_directory) {
          fail("Multiple source paths, but destination \"" + local + "\" is not a directory", done);
          return;
        }
        auto start_job = [this, alive = alive_, local, into_directory, recursive, preserve, sources,
                          done] {
          if (!*alive) return;
          sftp::TransferOptions options;
          options.recursive = recursive;
          options.preserve = preserve;
          auto job = std::make_unique<sftp::TransferJob>(client_, local_, options);
          for (const std::string& source : sources) {
            const fs::path directory = local.empty() ? fs::path(".") : fs::path(local);
            const fs::path destination =
                into_directory ? directory / base_name(source) : fs::path(local);
            if (!options_.quiet) {
              out_ << "Fetching " << source << " to " << destination.string() << "\n";
            }
            try {
              job->add_get(source, local_served_path(destination.string()));
            } catch (const std::exception& error) {
              fail(error.what(), done);
              return;
            }
          }
          out_ << std::flush;
          run_transfer(std::move(job), done);
        };
        if (recursive) {
          announce_remote_directories(std::move(sources), 0, start_job);
        } else {
          start_job();
        }
      },
      done);
}

// get -r: OpenSSH's sftp names each remote directory as it goes into it
// ("Retrieving PATH", pre-order, in the server's READDIR order); the
// transfer job copies in parallel, so the names are listed first.
void SftpShell::announce_remote_directories(std::vector<std::string> paths, std::size_t index,
                                            std::function<void()> then) {
  if (index == paths.size()) {
    then();
    return;
  }
  const std::string next = paths[index];
  client_.lstat(next, [this, alive = alive_, paths = std::move(paths), index,
                       then](sftp::ClientResult<sftp::Attrs> attrs) mutable {
    if (!*alive) return;
    const std::string path = paths[index];
    if (!attrs || !attrs->is_directory()) {
      announce_remote_directories(std::move(paths), index + 1, std::move(then));
      return;
    }
    out_ << "Retrieving " << path << "\n" << std::flush;
    client_.list_directory(
        path, [this, alive, path, paths = std::move(paths), index,
               then](sftp::ClientResult<std::vector<sftp::NameEntry>> entries) mutable {
          if (!*alive) return;
          std::vector<std::string> subdirectories;
          if (entries) {
            for (const auto& entry : *entries) {
              if (entry.attrs.is_directory() && entry.filename.find('/') == std::string::npos) {
                subdirectories.push_back(path_append(path, entry.filename));
              }
            }
          }
          // The subdirectories, then the next of `paths`.
          announce_remote_directories(std::move(subdirectories), 0,
                                      [this, paths = std::move(paths), index, then]() mutable {
                                        announce_remote_directories(std::move(paths), index + 1,
                                                                    std::move(then));
                                      });
        });
  });
}

void SftpShell::put(Command& command, Done done) {
  const std::string source = command.arguments[0];
  if (!fs::exists(fs::symlink_status(source))) {
    fail("stat " + source + ": No such file or directory", done);
    return;
  }
  const std::string given = command.arguments.size() > 1 ? command.arguments[1] : "";
  const std::string target = make_absolute(given, remote_directory_);
  const bool recursive = command.flag('r') || command.flag('R');
  const bool preserve = command.flag('p') || command.flag('P');
  client_.stat(target, [this, alive = alive_, source, given, target, recursive, preserve,
                        done](sftp::ClientResult<sftp::Attrs> attrs) {
    if (!*alive) return;
    const bool into_directory = given.empty() || (attrs.ok() && attrs->is_directory());
    const std::string destination =
        into_directory ? make_absolute(base_name(source), target) : target;
    sftp::TransferOptions options;
    options.recursive = recursive;
    options.preserve = preserve;
    options.clock = [] { return std::chrono::steady_clock::now(); };
    auto job = std::make_unique<sftp::TransferJob>(client_, local_, options);
    if (!options_.quiet) out_ << "Uploading " << source << " to " << destination << "\n";
    if (recursive && fs::is_directory(source)) {
      print_entered_directories(out_, source, source.ends_with('/') ? source : source + "/");
    }
    out_ << std::flush;
    try {
      job->add_put(local_served_path(source), destination);
    } catch (const std::exception& error) {
      fail(error.what(), done);
      return;
    }
    run_transfer(std::move(job), done);
  });
}

void SftpShell::print_columns(const std::vector<std::string>& names, std::size_t width_basis) {
  // OpenSSH's sftp: as many columns of equal width as fit, filled row by row.
  const std::size_t width = options_.columns;
  const std::size_t columns = std::max<std::size_t>(width / (width_basis + 2), 1);
  const std::size_t column_width = std::min(width / columns, width);
  std::size_t column = 1;
  for (const std::string& name : names) {
    out_ << name;
    if (name.size() < column_width) out_ << std::string(column_width - name.size(), ' ');
    if (column >= columns) {
      out_ << "\n";
      column = 1;
    } else {
      ++column;
    }
  }
  if (column != 1) out_ << "\n";
  out_ << std::flush;
}

void SftpShell::ls(Command& command, Done done) {
  const bool long_view = command.flag('l');
  const bool show_all = command.flag('a');
  const bool given = !command.arguments.empty();
  const std::string path =
      given ? make_absolute(command.arguments[0], remote_directory_) : remote_directory_;
  // Relative names are shown relative to the working directory.
  const std::string strip = given && command.arguments[0].starts_with('/') ? "" : remote_directory_;

  auto list_directory = [this, alive = alive_, long_view, show_all, strip,
                         done](const std::string& directory) {
    client_.list_directory(
        directory, [this, alive, directory, long_view, show_all, strip,
                    done](sftp::ClientResult<std::vector<sftp::NameEntry>> entries) {
          if (!*alive) return;
          if (!entries) {
            fail("Couldn't read directory: " + reason(entries.error()), done);
            return;
          }
          std::vector<sftp::NameEntry> shown;
          for (auto& entry : *entries) {
            if (!show_all && entry.filename.starts_with('.')) continue;
            shown.push_back(std::move(entry));
          }
          std::sort(shown.begin(), shown.end(),
                    [](const auto& a, const auto& b) { return a.filename < b.filename; });
          if (long_view) {
            // As OpenSSH's sftp: its own ls_file() when the server can name
            // owners (users-groups-by-id), the server's long name otherwise.
            const bool named = client_.has_extension("users-groups-by-id@openssh.com");
            for (const auto& entry : shown) {
              if (named) {
                const auto [user, group] = owner_names(entry);
                const std::string name =
                    strip_directory(make_absolute(entry.filename, directory), strip);
                out_ << long_line(name, entry.attrs, user, group) << "\n";
              } else {
                out_ << (entry.longname.empty() ? entry.filename : entry.longname) << "\n";
              }
            }
            out_ << std::flush;
            done(Outcome::Ok);
            return;
          }
          std::size_t longest = 0;
          for (const auto& entry : shown) longest = std::max(longest, entry.filename.size());
          const std::string shown_directory = strip_directory(directory, strip);
          longest += shown_directory.size();
          std::vector<std::string> names;
          for (const auto& entry : shown) {
            names.push_back(strip_directory(make_absolute(entry.filename, directory), strip));
          }
          print_columns(names, longest);
          done(Outcome::Ok);
        });
  };

  if (!given) {
    list_directory(path);
    return;
  }
  if (!sftp::has_glob_magic(path)) {
    client_.stat(path, [this, alive = alive_, path, list_directory, strip,
                        done](sftp::ClientResult<sftp::Attrs> attrs) {
      if (!*alive) return;
      if (!attrs) {
        fail("Can't ls: \"" + path + "\" not found", done);
        return;
      }
      if (attrs->is_directory()) {
        // glob(3)'s GLOB_MARK: a directory's path ends with '/'.
        list_directory(path.ends_with('/') ? path : path + "/");
        return;
      }
      print_columns({strip_directory(path, strip)}, path.size());
      done(Outcome::Ok);
    });
    return;
  }
  remote_paths(
      path, true,
      [this, strip, done](std::vector<std::string> matches) {
        std::size_t longest = 0;
        for (const auto& match : matches) longest = std::max(longest, match.size());
        std::vector<std::string> names;
        for (const auto& match : matches) names.push_back(strip_directory(match, strip));
        print_columns(names, longest);
        done(Outcome::Ok);
      },
      done);
}

void SftpShell::cd(Command& command, Done done) {
  const std::string path = command.arguments.empty()
                               ? std::string(".")
                               : make_absolute(command.arguments[0], remote_directory_);
  client_.realpath(path, [this, alive = alive_, done](sftp::ClientResult<std::string> resolved) {
    if (!*alive) return;
    if (!resolved) {
      fail("Couldn't canonicalize: " + reason(resolved.error()), done);
      return;
    }
    const std::string directory = *resolved;
    client_.stat(directory, [this, alive, directory, done](sftp::ClientResult<sftp::Attrs> attrs) {
      if (!*alive) return;
      if (!attrs) {
        fail("Couldn't stat remote file: " + reason(attrs.error()), done);
        return;
      }
      if (!attrs->is_directory()) {
        fail("Can't change directory: \"" + directory + "\" is not a directory", done);
        return;
      }
      remote_directory_ = directory;
      done(Outcome::Ok);
    });
  });
}

void SftpShell::lcd(Command& command, Done done) {
  const std::string path = command.arguments.empty() ? "" : command.arguments[0];
  std::error_code error;
  fs::current_path(path.empty() ? fs::path(".") : fs::path(path), error);
  if (error) {
    fail("Couldn't change local directory to \"" + path + "\": " + error.message(), done);
    return;
  }
  done(Outcome::Ok);
}

// The commands that are one request and a status.
namespace {
auto status_done(std::shared_ptr<bool> alive, std::function<void(const std::string&)> failed,
                 std::string prefix, SftpShell::Done done) {
  return [alive, failed, prefix, done](sftp::ClientStatus status) {
    if (!*alive) return;
    if (!status) {
      failed(prefix + reason(status.error()));
      return;
    }
    done(SftpShell::Outcome::Ok);
  };
}
}  // namespace

void SftpShell::mkdir(Command& command, Done done) {
  sftp::Attrs attrs;
  attrs.permissions = 0777;
  client_.mkdir(make_absolute(command.arguments[0], remote_directory_), attrs,
                status_done(
                    alive_, [this, done](const std::string& message) { fail(message, done); },
                    "Couldn't create directory: ", done));
}

void SftpShell::rmdir(Command& command, Done done) {
  client_.rmdir(make_absolute(command.arguments[0], remote_directory_),
                status_done(
                    alive_, [this, done](const std::string& message) { fail(message, done); },
                    "Couldn't remove directory: ", done));
}

void SftpShell::rm(Command& command, Done done) {
  remote_paths(
      command.arguments[0], false,
      [this, done](std::vector<std::string> paths) {
        auto remaining = std::make_shared<std::size_t>(paths.size());
        auto failed = std::make_shared<bool>(false);
        for (const std::string& path : paths) {
          if (!options_.quiet) out_ << "Removing " << path << "\n" << std::flush;
          client_.remove(path, [this, alive = alive_, path, remaining, failed,
                                done](sftp::ClientStatus status) {
            if (!*alive) return;
            if (!status) {
              err_ << "remote delete " << path << ": " << reason(status.error()) << "\n"
                   << std::flush;
              *failed = true;
            }
            if (--*remaining == 0) done(*failed ? Outcome::Failed : Outcome::Ok);
          });
        }
      },
      done);
}

void SftpShell::rename(Command& command, Done done) {
  client_.rename(make_absolute(command.arguments[0], remote_directory_),
                 make_absolute(command.arguments[1], remote_directory_),
                 status_done(
                     alive_, [this, done](const std::string& message) { fail(message, done); },
                     "Couldn't rename file: ", done));
}

void SftpShell::ln(Command& command, Done done) {
  const std::string link_path = make_absolute(command.arguments[1], remote_directory_);
  auto failed = [this, done](const std::string& message) { fail(message, done); };
  if (command.flag('s')) {
    // The target is stored as given: a relative link stays relative.
    client_.symlink(command.arguments[0], link_path,
                    status_done(alive_, failed, "Couldn't symlink file: ", done));
    return;
  }
  client_.hardlink(make_absolute(command.arguments[0], remote_directory_), link_path,
                   status_done(alive_, failed, "Couldn't link file: ", done));
}

void SftpShell::chmod(Command& command, Done done) {
  const std::string& mode_text = command.arguments[0];
  std::uint32_t mode = 0;
  bool valid = !mode_text.empty() && mode_text.size() <= 4;
  for (const char c : mode_text) {
    if (c < '0' || c > '7') valid = false;
    mode = mode * 8 + static_cast<std::uint32_t>(c - '0');
  }
  if (!valid) {
    fail("You must supply a numeric argument to the chmod command.", done);
    return;
  }
  remote_paths(
      command.arguments[1], false,
      [this, mode, done](std::vector<std::string> paths) {
        auto remaining = std::make_shared<std::size_t>(paths.size());
        auto failed = std::make_shared<bool>(false);
        sftp::Attrs attrs;
        attrs.permissions = mode;
        for (const std::string& path : paths) {
          if (!options_.quiet) out_ << "Changing mode on " << path << "\n" << std::flush;
          client_.setstat(
              path, attrs,
              [this, alive = alive_, path, remaining, failed, done](sftp::ClientStatus status) {
                if (!*alive) return;
                if (!status) {
                  err_ << "Couldn't setstat on \"" << path << "\": " << reason(status.error())
                       << "\n"
                       << std::flush;
                  *failed = true;
                }
                if (--*remaining == 0) done(*failed ? Outcome::Failed : Outcome::Ok);
              });
        }
      },
      done);
}

void SftpShell::df(Command& command, Done done) {
  const std::string path = command.arguments.empty()
                               ? remote_directory_
                               : make_absolute(command.arguments[0], remote_directory_);
  const bool inodes = command.flag('i');
  const bool human = command.flag('h');
  client_.statvfs(path, [this, alive = alive_, inodes, human,
                         done](sftp::ClientResult<sftp::ext::StatvfsReply> reply) {
    if (!*alive) return;
    if (!reply) {
      if (reply.error().code == sftp::StatusCode::OpUnsupported) {
        fail("Server does not support statvfs@openssh.com extension", done);
      } else {
        fail("Couldn't statvfs: " + reason(reply.error()), done);
      }
      return;
    }
    const auto& st = *reply;
    char line[160];
    // OpenSSH's do_df, column for column.
    if (inodes) {
      std::snprintf(line, sizeof line, "%12s %12s %12s %12s %12s\n", "Inodes", "Used", "Avail",
                    "(root)", "%Capacity");
      out_ << line;
      const std::uint64_t used = st.files - st.free_files;
      std::snprintf(line, sizeof line,
                    "%12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %11" PRIu64 "%%\n",
                    st.files, used, st.available_files, st.free_files,
                    st.files == 0 ? 0 : 100 * used / st.files);
      out_ << line;
    } else {
      const std::uint64_t used = st.blocks - st.free_blocks;
      const std::uint64_t capacity = st.blocks == 0 ? 0 : 100 * used / st.blocks;
      if (human) {
        auto scaled = [](std::uint64_t bytes) {
          static constexpr const char* kUnits = "BKMGTPE";
          double value = static_cast<double>(bytes);
          std::size_t unit = 0;
          while (value >= 1024.0 && unit + 1 < 7) {
            value /= 1024.0;
            ++unit;
          }
          char text[16];
          if (unit == 0 || value >= 10.0) {
            std::snprintf(text, sizeof text, "%.0f%c", value, kUnits[unit]);
          } else {
            std::snprintf(text, sizeof text, "%.1f%c", value, kUnits[unit]);
          }
          return std::string(text);
        };
        std::snprintf(line, sizeof line, "%9s %9s %9s %9s %9s\n", "Size", "Used", "Avail", "(root)",
                      "%Capacity");
        out_ << line;
        std::snprintf(line, sizeof line, "%9s %9s %9s %9s %9" PRIu64 "%%\n",
                      scaled(st.fragment_size * st.blocks).c_str(),
                      scaled(st.fragment_size * used).c_str(),
                      scaled(st.fragment_size * st.available_blocks).c_str(),
                      scaled(st.fragment_size * st.free_blocks).c_str(), capacity);
        out_ << line;
      } else {
        std::snprintf(line, sizeof line, "%12s %12s %12s %12s %12s\n", "Size", "Used", "Avail",
                      "(root)", "%Capacity");
        out_ << line;
        std::snprintf(line, sizeof line,
                      "%12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %11" PRIu64 "%%\n",
                      st.fragment_size * st.blocks / 1024, st.fragment_size * used / 1024,
                      st.fragment_size * st.available_blocks / 1024,
                      st.fragment_size * st.free_blocks / 1024, capacity);
        out_ << line;
      }
    }
    out_ << std::flush;
    done(Outcome::Ok);
  });
}

}  // namespace cli
