#include "ssh/asio/authorized_keys_files.hpp"

#include <ctime>
#include <fstream>
#include <sstream>

#include "ssh/log.hpp"

#ifndef _WIN32
#include <sys/stat.h>
#endif

namespace ssh::net {
namespace {

std::shared_ptr<spdlog::logger> logger() {
  static const auto instance = log::get("auth");
  return instance;
}

// Local time minus UTC now, for expiry-time values written without 'Z'.
std::chrono::seconds local_utc_offset(std::chrono::system_clock::time_point now) {
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm local{};
  std::tm utc{};
#ifdef _WIN32
  localtime_s(&local, &t);
  gmtime_s(&utc, &t);
#else
  localtime_r(&t, &local);
  gmtime_r(&t, &utc);
#endif
  local.tm_isdst = 0;
  utc.tm_isdst = 0;
  return std::chrono::seconds(
      static_cast<std::int64_t>(std::difftime(std::mktime(&local), std::mktime(&utc))));
}

// Why sshd's StrictModes would refuse the file, or nullopt.
std::optional<std::string> unsafe_file(const std::filesystem::path& path) {
#ifndef _WIN32
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return std::nullopt;
  if ((info.st_mode & 022) != 0) return "it is writable by group or others";
  if (info.st_uid != ::getuid() && info.st_uid != 0) return "it is owned by another user";
#else
  (void)path;
#endif
  return std::nullopt;
}

}  // namespace

std::optional<auth::KeyAuthorization> authorize_from_files(
    const AuthorizedKeysFiles& source, const config::ClientOrigin& origin, std::string_view user,
    const keys::PublicKey& key, std::chrono::system_clock::time_point now) {
  if (!source.user.empty() && user != source.user) {
    logger()->info("{}: refused user {}: this server only lets in {}", origin.address, user,
                   source.user);
    return std::nullopt;
  }
  for (const auto& file : source.files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      logger()->debug("{}: no authorized keys file {}", origin.address, file.string());
      continue;
    }
    if (auto problem = unsafe_file(file)) {
      logger()->warn("{}: ignoring {}: {}", origin.address, file.string(), *problem);
      continue;
    }
    std::stringstream text;
    text << in.rdbuf();
    const auto parsed = config::parse_authorized_keys(text.str(), file.string());
    for (const auto& error : parsed.errors) {
      logger()->warn("{}: {}", origin.address, error.to_string());
    }
    for (const auto& entry : parsed.keys) {
      if (entry.key.blob() != key.blob()) continue;
      const std::string where = file.string() + ":" + std::to_string(entry.line);
      if (entry.options.cert_authority) continue;  // authorizes certificates, not the key
      if (auto reason = config::refusal_reason(entry.options, origin, now, local_utc_offset(now))) {
        logger()->info("{}: key {} at {} refused: {}", origin.address, key.fingerprint_sha256(),
                       where, *reason);
        return std::nullopt;
      }
      return auth::KeyAuthorization{entry.options, where};
    }
  }
  return std::nullopt;
}

}  // namespace ssh::net
