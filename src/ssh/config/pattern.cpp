#include "ssh/config/pattern.hpp"

#include <cstddef>

namespace ssh::config {

bool wildcard_match(std::string_view pattern, std::string_view text) {
  // Iterative matching with backtracking to the last '*': linear in practice
  // and no recursion on hostile input such as "*a*a*a*a*b".
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;
  std::size_t text_after_star = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      text_after_star = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++text_after_star;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

PatternListMatch match_pattern_list(std::string_view text, std::string_view pattern_list,
                                    bool case_insensitive) {
  const std::string lowered_text = case_insensitive ? to_lower_ascii(text) : std::string(text);
  PatternListMatch result = PatternListMatch::NoMatch;
  std::size_t start = 0;
  while (start <= pattern_list.size()) {
    std::size_t end = pattern_list.find(',', start);
    if (end == std::string_view::npos) end = pattern_list.size();
    std::string_view pattern = pattern_list.substr(start, end - start);
    start = end + 1;
    const bool negated = !pattern.empty() && pattern.front() == '!';
    if (negated) pattern.remove_prefix(1);
    if (pattern.empty()) continue;
    const std::string lowered_pattern =
        case_insensitive ? to_lower_ascii(pattern) : std::string(pattern);
    if (wildcard_match(lowered_pattern, lowered_text)) {
      if (negated) return PatternListMatch::NegatedMatch;
      result = PatternListMatch::Match;
    }
  }
  return result;
}

std::string to_lower_ascii(std::string_view text) {
  std::string lowered(text);
  for (char& c : lowered) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lowered;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && to_lower_ascii(a) == to_lower_ascii(b);
}

}  // namespace ssh::config
