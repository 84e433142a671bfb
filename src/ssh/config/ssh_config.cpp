#include "ssh/config/ssh_config.hpp"

#include <fstream>
#include <sstream>

#include "platform/files.hpp"
#include "ssh/config/pattern.hpp"
#include "ssh/limits.hpp"

namespace ssh::config {
namespace {

// OpenSSH's READCONF_MAX_DEPTH.
constexpr int kMaxIncludeDepth = limits::kMaxConfigIncludeDepth;

struct ReadContext {
  ClientOptions& options;
  std::string_view host;
  std::filesystem::path include_directory;
  std::string home;
  std::string local_user;
  std::vector<ConfigWarning>& warnings;
};

void read_text(ReadContext& context, std::string_view text, const std::string& file_name,
               int depth);

std::string read_whole_file(const std::filesystem::path& path) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) throw ConfigError(path.string(), 0, "cannot open file");
  std::ostringstream contents;
  contents << stream.rdbuf();
  if (stream.bad()) throw ConfigError(path.string(), 0, "cannot read file");
  return contents.str();
}

// Evaluates a Match line's criteria. Unsupported criteria make the block
// inactive with a warning: applying options meant for other conditions would
// be worse than skipping options meant for us.
bool match_criteria_hold(ReadContext& context, const std::vector<std::string>& arguments,
                         const std::string& file_name, std::size_t line_number) {
  if (arguments.empty()) throw ConfigError(file_name, line_number, "Match: missing criteria");
  bool all_hold = true;
  for (std::size_t i = 0; i < arguments.size(); ++i) {
    std::string_view criterion = arguments[i];
    if (criterion.empty()) throw ConfigError(file_name, line_number, "Match: empty criterion");
    const bool negated = criterion.front() == '!';
    if (negated) criterion.remove_prefix(1);
    const std::string name = to_lower_ascii(criterion);

    if (name == "all") {
      if (arguments.size() != 1 || negated) {
        throw ConfigError(file_name, line_number,
                          "Match: \"all\" cannot be combined with other criteria");
      }
      return true;
    }
    if (name != "host" && name != "originalhost" && name != "user" && name != "localuser") {
      context.warnings.push_back({file_name, line_number,
                                  "unsupported Match criterion \"" + std::string(criterion) +
                                      "\"; ignoring this Match block"});
      return false;
    }
    if (i + 1 >= arguments.size()) {
      throw ConfigError(file_name, line_number, "Match: missing argument for \"" + name + "\"");
    }
    const std::string& patterns = arguments[++i];
    std::string subject;
    bool case_insensitive = false;
    if (name == "host") {
      // HostName as configured so far (its %h meaning the name given), like OpenSSH.
      subject =
          context.options.hostname.empty() ? std::string(context.host) : context.options.hostname;
      for (std::size_t at = subject.find("%h"); at != std::string::npos;
           at = subject.find("%h", at + context.host.size())) {
        subject.replace(at, 2, context.host);
      }
      case_insensitive = true;
    } else if (name == "originalhost") {
      subject = context.host;
      case_insensitive = true;
    } else if (name == "user") {
      subject = context.options.user.empty() ? context.local_user : context.options.user;
    } else {
      subject = context.local_user;
    }
    const bool holds =
        match_pattern_list(subject, patterns, case_insensitive) == PatternListMatch::Match;
    if (holds == negated) all_hold = false;  // keep going: later criteria may be malformed
  }
  return all_hold;
}

void include_files(ReadContext& context, const std::vector<std::string>& arguments,
                   const std::string& file_name, std::size_t line_number, int depth) {
  if (arguments.empty()) throw ConfigError(file_name, line_number, "Include: missing argument");
  if (depth + 1 > kMaxIncludeDepth) {
    throw ConfigError(file_name, line_number, "Include: nested too deeply");
  }
  for (const std::string& argument : arguments) {
    std::filesystem::path pattern;
    try {
      pattern = expand_tilde(argument, context.home);
    } catch (const std::invalid_argument& error) {
      throw ConfigError(file_name, line_number, std::string("Include: ") + error.what());
    }
    if (pattern.is_relative()) pattern = context.include_directory / pattern;

    const auto files = platform::expand_wildcards(pattern);
    if (!files) {
      throw ConfigError(file_name, line_number, "Include: cannot expand \"" + argument + "\"");
    }
    // No match is fine: "Include ~/.ssh/config.d/*" with an empty directory.
    for (const std::string& included : *files) {
      if (std::filesystem::is_directory(included)) continue;
      read_text(context, read_whole_file(included), included, depth + 1);
    }
  }
}

void read_text(ReadContext& context, std::string_view text, const std::string& file_name,
               int depth) {
  // Options before the first Host or Match line apply to every host.
  bool active = true;
  std::size_t line_number = 0;
  std::size_t position = 0;
  while (position < text.size()) {
    std::size_t end = text.find('\n', position);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(position, end - position);
    position = end + 1;
    ++line_number;

    const std::size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == '#') continue;

    try {
      auto [keyword, value] = parse_option_argument(line);
      const std::string lowered = to_lower_ascii(keyword);
      if (lowered == "host") {
        const auto patterns = split_arguments(value);
        if (patterns.empty()) throw ConfigError(file_name, line_number, "Host: missing pattern");
        active = host_patterns_match(patterns, context.host);
      } else if (lowered == "match") {
        active = match_criteria_hold(context, split_arguments(value), file_name, line_number);
      } else if (!active) {
        continue;
      } else if (lowered == "include") {
        include_files(context, split_arguments(value), file_name, line_number, depth);
      } else if (apply_option(context.options, keyword, value) == ApplyResult::NotImplemented) {
        context.warnings.push_back(
            {file_name, line_number, "ignoring unsupported option \"" + keyword + "\""});
      }
    } catch (const ConfigError&) {
      throw;
    } catch (const UnknownOptionError& error) {
      context.warnings.push_back(
          {file_name, line_number, "ignoring unknown option \"" + error.keyword() + "\""});
    } catch (const std::invalid_argument& error) {
      throw ConfigError(file_name, line_number, error.what());
    }
  }
}

ReadContext make_context(ClientOptions& options, std::string_view host,
                         const ConfigFileSettings& settings, std::vector<ConfigWarning>& warnings) {
  std::string home = settings.home.empty() ? home_directory() : settings.home;
  std::filesystem::path include_directory = settings.include_directory.empty()
                                                ? std::filesystem::path(home) / ".ssh"
                                                : settings.include_directory;
  std::string local_user = settings.local_user.empty() ? current_user_name() : settings.local_user;
  return ReadContext{
      options, host, std::move(include_directory), std::move(home), std::move(local_user),
      warnings};
}

}  // namespace

std::string ConfigWarning::to_string() const {
  return file + " line " + std::to_string(line) + ": " + message;
}

ConfigError::ConfigError(std::string file, std::size_t line, const std::string& message)
    : std::runtime_error(line == 0 ? file + ": " + message
                                   : file + " line " + std::to_string(line) + ": " + message),
      file_(std::move(file)),
      line_(line) {}

bool host_patterns_match(const std::vector<std::string>& patterns, std::string_view host) {
  const std::string lowered_host = to_lower_ascii(host);
  bool matched = false;
  for (const std::string& pattern : patterns) {
    std::string_view body = pattern;
    const bool negated = !body.empty() && body.front() == '!';
    if (negated) body.remove_prefix(1);
    if (!wildcard_match(to_lower_ascii(body), lowered_host)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

std::vector<ConfigWarning> apply_config_text(ClientOptions& options, std::string_view text,
                                             std::string_view file_name, std::string_view host,
                                             const ConfigFileSettings& settings) {
  std::vector<ConfigWarning> warnings;
  ReadContext context = make_context(options, host, settings, warnings);
  read_text(context, text, std::string(file_name), 0);
  return warnings;
}

std::vector<ConfigWarning> apply_config_file(ClientOptions& options,
                                             const std::filesystem::path& path,
                                             std::string_view host,
                                             const ConfigFileSettings& settings) {
  std::error_code error;
  if (!settings.missing_file_is_error && !std::filesystem::exists(path, error)) return {};
  std::vector<ConfigWarning> warnings;
  ReadContext context = make_context(options, host, settings, warnings);
  read_text(context, read_whole_file(path), path.string(), 0);
  return warnings;
}

}  // namespace ssh::config
