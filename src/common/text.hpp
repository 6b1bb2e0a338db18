#pragma once
// Small text helpers shared by the modules.
#include <cstdint>
#include <cstring>
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

// True when every byte of `s` is printable ASCII (0x20..0x7E) other than '"' and '\\': text that goes into a
// JSON string as it is. Reads eight bytes at a time (SWAR): a byte is out when its top bit is set, when it
// is below 0x20, or when it equals '"' or '\\' (a zero byte after XOR with that character).
inline bool json_plain_text(std::string_view s) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  constexpr std::uint64_t kHigh = 0x8080808080808080ull;
  auto has_zero_byte = [](std::uint64_t v) { return ((v - kOnes) & ~v & kHigh) != 0; };
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if ((w & kHigh) != 0 || ((w + 0x6060606060606060ull) & kHigh) != kHigh) return false;
    if (has_zero_byte(w ^ (kOnes * '"')) || has_zero_byte(w ^ (kOnes * '\\')) || has_zero_byte(w ^ (kOnes * 0x7f)))
      return false;
  }
  for (; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
  }
  return true;
}

}  // namespace stratus
