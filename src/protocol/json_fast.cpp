// A fast path for parsing JSON request bodies (see codec_internal.hpp: parse_json_fast).
//
// nlohmann's lexer handles one character at a time and appends every character to two strings; for a
// SendMessage with a 1 KiB body that was ~94,000 instructions, about a third of the daemon's user-space
// work per request. This parser copies runs of plain characters at once. It handles only the common
// subset (ASCII strings with the simple escapes, integers, literals, objects, arrays) and gives up on
// anything else, so that nlohmann, the reference, parses (or rejects) every other document.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "protocol/codec_internal.hpp"

namespace stratus::protocol::detail {

namespace {

using nlohmann::json;

constexpr int kMaxDepth = 64;

class FastParser {
 public:
  explicit FastParser(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}

  bool parse(json& out) {
    skip_ws();
    if (!value(out, 0)) return false;
    skip_ws();
    return p_ == end_;
  }

 private:
  void skip_ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  bool literal(const char* word, std::size_t n) {
    if (static_cast<std::size_t>(end_ - p_) < n || std::memcmp(p_, word, n) != 0) return false;
    p_ += n;
    return true;
  }

  bool value(json& out, int depth) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{': return object(out, depth + 1);
      case '[': return array(out, depth + 1);
      case '"': {
        std::string s;
        if (!string(s)) return false;
        out = std::move(s);
        return true;
      }
      case 't':
        if (!literal("true", 4)) return false;
        out = true;
        return true;
      case 'f':
        if (!literal("false", 5)) return false;
        out = false;
        return true;
      case 'n':
        if (!literal("null", 4)) return false;
        out = nullptr;
        return true;
      default: return number(out);
    }
  }

  // Plain ASCII and the escapes \" \\ \/ \b \f \n \r \t; anything else (\u, control characters, bytes of
  // multi-byte UTF-8, which nlohmann validates) gives up.
  bool string(std::string& out) {
    ++p_;  // opening quote
    for (;;) {
      const char* run = p_;
      // Eight bytes at a time while none of them is a quote, a backslash, a control character or non-ASCII.
      while (end_ - p_ >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p_, 8);
        constexpr std::uint64_t k01 = 0x0101010101010101ull, k80 = 0x8080808080808080ull;
        std::uint64_t quote = w ^ (k01 * '"'), backslash = w ^ (k01 * '\\');
        std::uint64_t special = ((quote - k01) & ~quote) | ((backslash - k01) & ~backslash) |
                                ((w - k01 * 0x20) & ~w) | w;
        if (special & k80) break;
        p_ += 8;
      }
      while (p_ < end_) {
        auto c = static_cast<unsigned char>(*p_);
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
        ++p_;
      }
      out.append(run, static_cast<std::size_t>(p_ - run));
      if (p_ == end_) return false;
      char c = *p_;
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c != '\\' || p_ + 1 == end_) return false;
      switch (p_[1]) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        default: return false;
      }
      p_ += 2;
    }
  }

  // Integers of up to 18 digits, typed as nlohmann types them: unsigned when not negative, else signed.
  // Fractions, exponents, leading zeros and longer numbers give up.
  bool number(json& out) {
    bool negative = false;
    if (*p_ == '-') {
      negative = true;
      ++p_;
    }
    const char* digits = p_;
    std::uint64_t v = 0;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
      v = v * 10 + static_cast<std::uint64_t>(*p_ - '0');
      ++p_;
    }
    std::size_t n = static_cast<std::size_t>(p_ - digits);
    if (n == 0 || n > 18 || (n > 1 && *digits == '0')) return false;
    if (p_ < end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;
    if (negative)
      out = -static_cast<std::int64_t>(v);
    else
      out = v;
    return true;
  }

  bool object(json& out, int depth) {
    if (depth > kMaxDepth) return false;
    ++p_;  // {
    out = json::object();
    skip_ws();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    for (;;) {
      skip_ws();
      if (p_ == end_ || *p_ != '"') return false;
      std::string key;
      if (!string(key)) return false;
      skip_ws();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      skip_ws();
      json v;
      if (!value(v, depth)) return false;
      out[key] = std::move(v);  // a repeated key: the last one wins, as with nlohmann
      skip_ws();
      if (p_ == end_) return false;
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ != '}') return false;
      ++p_;
      return true;
    }
  }

  bool array(json& out, int depth) {
    if (depth > kMaxDepth) return false;
    ++p_;  // [
    out = json::array();
    skip_ws();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    for (;;) {
      skip_ws();
      json v;
      if (!value(v, depth)) return false;
      out.push_back(std::move(v));
      skip_ws();
      if (p_ == end_) return false;
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ != ']') return false;
      ++p_;
      return true;
    }
  }

  const char* p_;
  const char* end_;
};

}  // namespace

bool parse_json_fast(std::string_view text, nlohmann::json& out) {
  json result;
  if (!FastParser(text).parse(result)) return false;
  out = std::move(result);
  return true;
}

nlohmann::json parse_json(std::string_view text) {
  json out;
  if (parse_json_fast(text, out)) return out;
  return json::parse(text, nullptr, false);
}

}  // namespace stratus::protocol::detail
