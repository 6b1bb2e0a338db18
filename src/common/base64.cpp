#include "common/base64.hpp"

namespace stratus {

std::string base64_encode(std::string_view data) {
  static constexpr char k_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    auto n = (static_cast<unsigned char>(data[i]) << 16) | (static_cast<unsigned char>(data[i + 1]) << 8) |
             static_cast<unsigned char>(data[i + 2]);
    out += k_chars[(n >> 18) & 63];
    out += k_chars[(n >> 12) & 63];
    out += k_chars[(n >> 6) & 63];
    out += k_chars[n & 63];
  }
  if (i + 1 == data.size()) {
    auto n = static_cast<unsigned char>(data[i]) << 16;
    out += k_chars[(n >> 18) & 63];
    out += k_chars[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    auto n = (static_cast<unsigned char>(data[i]) << 16) | (static_cast<unsigned char>(data[i + 1]) << 8);
    out += k_chars[(n >> 18) & 63];
    out += k_chars[(n >> 12) & 63];
    out += k_chars[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  unsigned buffer = 0;
  int bits = 0;
  std::size_t pad = 0, count = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+' || c == '-')
      v = 62;
    else if (c == '/' || c == '_')
      v = 63;
    else if (c == '=') {
      ++pad;
      ++count;
      continue;
    } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
      continue;
    else
      return std::nullopt;
    if (pad > 0) return std::nullopt;  // data after padding
    ++count;
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  if (pad > 2 || (pad > 0 && count % 4 != 0) || count % 4 == 1) return std::nullopt;
  return out;
}

}  // namespace stratus
