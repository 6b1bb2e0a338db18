#pragma once
// Order-preserving tuple keys for the store (in the spirit of FoundationDB's tuple layer).
//
// A key is a sequence of typed elements. Contract: for two tuples A and B, memcmp order of their
// encodings equals lexicographic tuple order, where
//   - elements of the same type compare by value: strings and bytes bytewise (unsigned), so a string
//     that is a prefix of another sorts first and strings may contain 0x00 and 0xFF bytes; integers
//     numerically; doubles by IEEE 754 totalOrder (-inf < negatives < -0.0 < +0.0 < positives < +inf),
//     with every NaN canonicalized to one quiet NaN that sorts after +inf; false < true;
//   - elements of different types compare by type: bytes < string < i64 < u64 < double < bool
//     (stable across versions, but callers should not rely on mixing types at one position);
//   - a tuple that is a prefix of another sorts first.
// The encoding is prefix-free per element, so a tuple T is a prefix of tuple U exactly when enc(T) is a
// byte prefix of enc(U): Store::scan_prefix(enc(T)) returns exactly the keys whose tuple starts with T.
//
// Wire format (part of the on-disk format; changing it needs a Store::kFormatVersion bump):
//   bytes  0x02, data, 0x00 0x01     string 0x03, data, 0x00 0x01   (each 0x00 in data -> 0x00 0xFF)
//   i64    0x10, 8 bytes big-endian of (value XOR 2^63)               u64 0x11, 8 bytes big-endian
//   double 0x20, 8 bytes big-endian: bits with the sign bit set if positive, all bits flipped if negative
//   false  0x26                      true  0x27
// No encoded key starts with 0xFF, so prefix_successor() of a non-empty tuple key is never empty.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stratus {

enum class KeyElement { bytes, string, i64, u64, float64, boolean };

class KeyBuilder {
 public:
  KeyBuilder() = default;
  // Starts from an existing encoded key (e.g. a stored prefix) and appends to it.
  explicit KeyBuilder(std::string_view encoded) : buf_(encoded) {}

  KeyBuilder& add_string(std::string_view s);
  KeyBuilder& add_bytes(std::string_view b);
  KeyBuilder& add_i64(std::int64_t v);
  KeyBuilder& add_u64(std::uint64_t v);
  KeyBuilder& add_bool(bool v);
  // NaN is accepted and canonicalized: it reads back as a quiet NaN and sorts after +inf.
  KeyBuilder& add_double(double v);

  // The encoding so far. build() copies; str() is valid until the builder changes.
  std::string build() const { return buf_; }
  const std::string& str() const { return buf_; }
  std::size_t size() const { return buf_.size(); }
  void clear() { buf_.clear(); }

 private:
  void add_escaped(std::uint8_t type, std::string_view data);
  std::string buf_;
};

// Decodes a key produced by KeyBuilder, one element at a time, in order. Each read_* returns
// std::nullopt (and leaves the position unchanged) when the next element is missing, truncated,
// malformed or of another type; on success it advances past the element.
class KeyReader {
 public:
  explicit KeyReader(std::string_view key) : key_(key) {}

  std::optional<std::string> read_string();
  std::optional<std::string> read_bytes();
  std::optional<std::int64_t> read_i64();
  std::optional<std::uint64_t> read_u64();
  std::optional<bool> read_bool();
  std::optional<double> read_double();

  // Type of the next element, or nullopt at the end or on an unknown type byte.
  std::optional<KeyElement> peek() const;
  // Skips one well-formed element of any type; false (position unchanged) if there is none.
  bool skip();

  bool at_end() const { return pos_ == key_.size(); }
  std::size_t position() const { return pos_; }
  // The undecoded rest of the key.
  std::string_view remaining() const { return key_.substr(pos_); }

 private:
  std::optional<std::string> read_escaped(std::uint8_t type);
  std::optional<std::uint64_t> read_fixed(std::uint8_t type);
  std::string_view key_;
  std::size_t pos_ = 0;
};

// The smallest key greater than every key that starts with `prefix`, for use as an exclusive scan end:
// drops trailing 0xFF bytes and increments the last remaining byte. Returns "" when there is no such key
// (prefix empty or all 0xFF), which Store::scan reads as "to the end of the column".
std::string prefix_successor(std::string_view prefix);

}  // namespace stratus
