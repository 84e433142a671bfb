// OpenSSH's pattern matching (match.c), shared by ssh_config Host lines,
// known_hosts host fields and algorithm list removal ("-aes*-cbc").
#pragma once

#include <string>
#include <string_view>

namespace ssh::config {

// '*' matches any run of characters (also empty), '?' exactly one.
// Case-sensitive; hostname callers lowercase both sides first.
bool wildcard_match(std::string_view pattern, std::string_view text);

enum class PatternListMatch { NoMatch, Match, NegatedMatch };

// Matches text against a comma-separated list of patterns, each optionally
// negated with a leading '!'. A matching negated pattern wins over any
// positive one, as in OpenSSH's match_pattern_list().
PatternListMatch match_pattern_list(std::string_view text, std::string_view pattern_list,
                                    bool case_insensitive);

std::string to_lower_ascii(std::string_view text);
bool equals_ignoring_case(std::string_view a, std::string_view b);

}  // namespace ssh::config
