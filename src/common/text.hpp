#pragma once
// Small text helpers shared by the modules.
#include <string>
#include <string_view>

namespace stratus {

// `s` with ASCII letters in lower case (header names, hosts, origins: case-insensitive ASCII by their specs).
inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace stratus
