#include "store/key_codec.hpp"

#include <bit>
#include <cmath>

namespace stratus {
namespace {

constexpr std::uint8_t kBytes = 0x02;
constexpr std::uint8_t kString = 0x03;
constexpr std::uint8_t kI64 = 0x10;
constexpr std::uint8_t kU64 = 0x11;
constexpr std::uint8_t kDouble = 0x20;
constexpr std::uint8_t kFalse = 0x26;
constexpr std::uint8_t kTrue = 0x27;

constexpr std::uint8_t kEscape = 0xFF;      // 0x00 0xFF: a 0x00 data byte
constexpr std::uint8_t kTerminator = 0x01;  // 0x00 0x01: end of the element
constexpr std::uint64_t kSignBit = std::uint64_t{1} << 63;
constexpr std::uint64_t kCanonicalNan = 0x7FF8000000000000ULL;

void append_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

std::uint8_t byte_at(std::string_view s, std::size_t i) { return static_cast<std::uint8_t>(s[i]); }

}  // namespace

void KeyBuilder::add_escaped(std::uint8_t type, std::string_view data) {
  buf_.reserve(buf_.size() + data.size() + 3);
  buf_.push_back(static_cast<char>(type));
  for (char c : data) {
    buf_.push_back(c);
    if (c == '\0') buf_.push_back(static_cast<char>(kEscape));
  }
  buf_.push_back('\0');
  buf_.push_back(static_cast<char>(kTerminator));
}

KeyBuilder& KeyBuilder::add_string(std::string_view s) {
  add_escaped(kString, s);
  return *this;
}

KeyBuilder& KeyBuilder::add_bytes(std::string_view b) {
  add_escaped(kBytes, b);
  return *this;
}

KeyBuilder& KeyBuilder::add_i64(std::int64_t v) {
  buf_.push_back(static_cast<char>(kI64));
  append_u64(buf_, static_cast<std::uint64_t>(v) ^ kSignBit);
  return *this;
}

KeyBuilder& KeyBuilder::add_u64(std::uint64_t v) {
  buf_.push_back(static_cast<char>(kU64));
  append_u64(buf_, v);
  return *this;
}

KeyBuilder& KeyBuilder::add_bool(bool v) {
  buf_.push_back(static_cast<char>(v ? kTrue : kFalse));
  return *this;
}

KeyBuilder& KeyBuilder::add_double(double v) {
  std::uint64_t bits = std::isnan(v) ? kCanonicalNan : std::bit_cast<std::uint64_t>(v);
  bits = (bits & kSignBit) ? ~bits : (bits | kSignBit);
  buf_.push_back(static_cast<char>(kDouble));
  append_u64(buf_, bits);
  return *this;
}

std::optional<std::string> KeyReader::read_escaped(std::uint8_t type) {
  if (pos_ >= key_.size() || byte_at(key_, pos_) != type) return std::nullopt;
  std::string out;
  for (std::size_t i = pos_ + 1; i < key_.size(); ++i) {
    if (key_[i] != '\0') {
      out.push_back(key_[i]);
      continue;
    }
    if (i + 1 >= key_.size()) return std::nullopt;  // truncated after a 0x00
    std::uint8_t next = byte_at(key_, i + 1);
    if (next == kTerminator) {
      pos_ = i + 2;
      return out;
    }
    if (next != kEscape) return std::nullopt;  // malformed
    out.push_back('\0');
    ++i;
  }
  return std::nullopt;  // no terminator
}

std::optional<std::uint64_t> KeyReader::read_fixed(std::uint8_t type) {
  if (pos_ >= key_.size() || byte_at(key_, pos_) != type || key_.size() - pos_ < 9) return std::nullopt;
  std::uint64_t v = 0;
  for (std::size_t i = pos_ + 1; i < pos_ + 9; ++i) v = (v << 8) | byte_at(key_, i);
  pos_ += 9;
  return v;
}

std::optional<std::string> KeyReader::read_string() { return read_escaped(kString); }
std::optional<std::string> KeyReader::read_bytes() { return read_escaped(kBytes); }

std::optional<std::int64_t> KeyReader::read_i64() {
  auto v = read_fixed(kI64);
  if (!v) return std::nullopt;
  return static_cast<std::int64_t>(*v ^ kSignBit);
}

std::optional<std::uint64_t> KeyReader::read_u64() { return read_fixed(kU64); }

std::optional<bool> KeyReader::read_bool() {
  if (pos_ >= key_.size()) return std::nullopt;
  std::uint8_t t = byte_at(key_, pos_);
  if (t != kFalse && t != kTrue) return std::nullopt;
  ++pos_;
  return t == kTrue;
}

std::optional<double> KeyReader::read_double() {
  auto v = read_fixed(kDouble);
  if (!v) return std::nullopt;
  std::uint64_t bits = (*v & kSignBit) ? (*v & ~kSignBit) : ~*v;
  return std::bit_cast<double>(bits);
}

std::optional<KeyElement> KeyReader::peek() const {
  if (pos_ >= key_.size()) return std::nullopt;
  switch (byte_at(key_, pos_)) {
    case kBytes: return KeyElement::bytes;
    case kString: return KeyElement::string;
    case kI64: return KeyElement::i64;
    case kU64: return KeyElement::u64;
    case kDouble: return KeyElement::float64;
    case kFalse:
    case kTrue: return KeyElement::boolean;
    default: return std::nullopt;
  }
}

bool KeyReader::skip() {
  auto type = peek();
  if (!type) return false;
  switch (*type) {
    case KeyElement::bytes: return read_bytes().has_value();
    case KeyElement::string: return read_string().has_value();
    case KeyElement::i64: return read_i64().has_value();
    case KeyElement::u64: return read_u64().has_value();
    case KeyElement::float64: return read_double().has_value();
    case KeyElement::boolean: return read_bool().has_value();
  }
  return false;
}

std::string prefix_successor(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty() && static_cast<std::uint8_t>(out.back()) == 0xFF) out.pop_back();
  if (!out.empty()) out.back() = static_cast<char>(static_cast<std::uint8_t>(out.back()) + 1);
  return out;
}

}  // namespace stratus
