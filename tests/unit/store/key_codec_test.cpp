#include "store/key_codec.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

namespace stratus {
namespace {

// A model of tuples, independent of the codec. Variant index order = the codec's documented type order.
struct Bytes {
  std::string v;
};
using Elem = std::variant<Bytes, std::string, std::int64_t, std::uint64_t, double, bool>;
using Tuple = std::vector<Elem>;

int sign(int v) { return (v > 0) - (v < 0); }

int compare_double(double a, double b) {
  bool an = std::isnan(a), bn = std::isnan(b);
  if (an || bn) return an == bn ? 0 : (an ? 1 : -1);
  if (a < b) return -1;
  if (a > b) return 1;
  return std::signbit(b) - std::signbit(a);  // -0 < +0
}

int compare_elem(const Elem& a, const Elem& b) {
  if (a.index() != b.index()) return a.index() < b.index() ? -1 : 1;
  switch (a.index()) {
    case 0: return sign(std::get<0>(a).v.compare(std::get<0>(b).v));
    case 1: return sign(std::get<1>(a).compare(std::get<1>(b)));
    case 2: return (std::get<2>(a) > std::get<2>(b)) - (std::get<2>(a) < std::get<2>(b));
    case 3: return (std::get<3>(a) > std::get<3>(b)) - (std::get<3>(a) < std::get<3>(b));
    case 4: return compare_double(std::get<4>(a), std::get<4>(b));
    default: return static_cast<int>(std::get<5>(a)) - static_cast<int>(std::get<5>(b));
  }
}

int compare_tuple(const Tuple& a, const Tuple& b) {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (int c = compare_elem(a[i], b[i])) return c;
  }
  return (a.size() > b.size()) - (a.size() < b.size());
}

bool is_tuple_prefix(const Tuple& p, const Tuple& t) {
  if (p.size() > t.size()) return false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (compare_elem(p[i], t[i]) != 0) return false;
  }
  return true;
}

int compare_bytes(const std::string& a, const std::string& b) {
  int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  if (c != 0) return sign(c);
  return (a.size() > b.size()) - (a.size() < b.size());
}

std::string encode(const Tuple& t) {
  KeyBuilder b;
  for (const auto& e : t) {
    switch (e.index()) {
      case 0: b.add_bytes(std::get<0>(e).v); break;
      case 1: b.add_string(std::get<1>(e)); break;
      case 2: b.add_i64(std::get<2>(e)); break;
      case 3: b.add_u64(std::get<3>(e)); break;
      case 4: b.add_double(std::get<4>(e)); break;
      default: b.add_bool(std::get<5>(e)); break;
    }
  }
  return b.build();
}

// Decodes `key` following the type sequence of `schema`; false if any read fails.
bool decode(std::string_view key, const Tuple& schema, Tuple& out) {
  KeyReader r(key);
  out.clear();
  for (const auto& e : schema) {
    switch (e.index()) {
      case 0: {
        auto v = r.read_bytes();
        if (!v) return false;
        out.emplace_back(Bytes{*v});
        break;
      }
      case 1: {
        auto v = r.read_string();
        if (!v) return false;
        out.emplace_back(*v);
        break;
      }
      case 2: {
        auto v = r.read_i64();
        if (!v) return false;
        out.emplace_back(*v);
        break;
      }
      case 3: {
        auto v = r.read_u64();
        if (!v) return false;
        out.emplace_back(*v);
        break;
      }
      case 4: {
        auto v = r.read_double();
        if (!v) return false;
        out.emplace_back(*v);
        break;
      }
      default: {
        auto v = r.read_bool();
        if (!v) return false;
        out.emplace_back(*v);
        break;
      }
    }
  }
  return r.at_end();
}

// Exact equality for round trips: doubles bitwise, except that every NaN equals every NaN.
bool same_elem(const Elem& a, const Elem& b) {
  if (a.index() != b.index()) return false;
  if (a.index() == 4) {
    double x = std::get<4>(a), y = std::get<4>(b);
    if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
    return std::bit_cast<std::uint64_t>(x) == std::bit_cast<std::uint64_t>(y);
  }
  return compare_elem(a, b) == 0;
}

std::string describe(const Tuple& t) {
  std::string out = "(";
  for (const auto& e : t) {
    switch (e.index()) {
      case 0:
      case 1: {
        const std::string& s = e.index() == 0 ? std::get<0>(e).v : std::get<1>(e);
        out += e.index() == 0 ? "b'" : "'";
        for (unsigned char c : s) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), c >= 0x20 && c < 0x7F ? "%c" : "\\x%02x", c);
          out += buf;
        }
        out += "'";
        break;
      }
      case 2: out += std::to_string(std::get<2>(e)); break;
      case 3: out += std::to_string(std::get<3>(e)) + "u"; break;
      case 4: {
        char buf[40];
        std::snprintf(buf, sizeof(buf), "%a", std::get<4>(e));
        out += buf;
        break;
      }
      default: out += std::get<5>(e) ? "true" : "false"; break;
    }
    out += ", ";
  }
  return out + ")";
}

class Gen {
 public:
  explicit Gen(std::uint64_t seed) : rng_(seed) {}

  std::uint64_t below(std::uint64_t n) {
    return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_);
  }

  std::string text() {
    // A tiny alphabet, so that shared prefixes, 0x00 and 0xFF bytes are common; sometimes any bytes.
    static const unsigned char kAlphabet[] = {0x00, 0x01, 0x02, 'a', 'b', 0x7F, 0x80, 0xFE, 0xFF};
    std::string s;
    bool wide = below(8) == 0;
    std::size_t len = wide ? below(40) : below(5);
    for (std::size_t i = 0; i < len; ++i) {
      s.push_back(static_cast<char>(wide ? below(256) : kAlphabet[below(sizeof(kAlphabet))]));
    }
    return s;
  }

  std::int64_t i64() {
    static const std::int64_t kEdges[] = {std::numeric_limits<std::int64_t>::min(),
                                          std::numeric_limits<std::int64_t>::min() + 1,
                                          -65536, -256, -255, -1, 0, 1, 255, 256, 65536,
                                          std::numeric_limits<std::int64_t>::max() - 1,
                                          std::numeric_limits<std::int64_t>::max()};
    if (below(2) == 0) return kEdges[below(std::size(kEdges))];
    if (below(2) == 0) return static_cast<std::int64_t>(below(2001)) - 1000;
    return static_cast<std::int64_t>(rng_());
  }

  std::uint64_t u64() {
    static const std::uint64_t kEdges[] = {0, 1, 255, 256, (std::uint64_t{1} << 63) - 1,
                                           std::uint64_t{1} << 63, std::numeric_limits<std::uint64_t>::max()};
    if (below(2) == 0) return kEdges[below(std::size(kEdges))];
    if (below(2) == 0) return below(1000);
    return rng_();
  }

  double f64() {
    using L = std::numeric_limits<double>;
    static const double kEdges[] = {-L::infinity(), -L::max(), -1e300, -1.5, -1.0, -L::min(),
                                    -L::denorm_min(), -0.0, 0.0, L::denorm_min(), 2 * L::denorm_min(), L::min(),
                                    1.0, 1.5, 1e300, L::max(), L::infinity(), L::quiet_NaN(), -L::quiet_NaN()};
    switch (below(4)) {
      case 0: return kEdges[below(std::size(kEdges))];
      case 1: return static_cast<double>(static_cast<std::int64_t>(below(21)) - 10) / 4;
      case 2: return std::bit_cast<double>(rng_());  // any bits: denormals, NaN payloads, both signs
      default: return std::uniform_real_distribution<double>(-1e6, 1e6)(rng_);
    }
  }

  Elem elem(std::size_t type) {
    switch (type) {
      case 0: return Bytes{text()};
      case 1: return text();
      case 2: return i64();
      case 3: return u64();
      case 4: return f64();
      default: return below(2) == 1;
    }
  }

  Tuple tuple(std::size_t max_len = 4) {
    Tuple t;
    std::size_t len = below(max_len + 1);
    for (std::size_t i = 0; i < len; ++i) t.push_back(elem(below(6)));
    return t;
  }

  // A tuple following `types`, possibly cut short (to exercise the prefix rule).
  Tuple tuple_of(const std::vector<std::size_t>& types, bool allow_shorter) {
    Tuple t;
    std::size_t len = allow_shorter && below(4) == 0 ? below(types.size() + 1) : types.size();
    for (std::size_t i = 0; i < len; ++i) t.push_back(elem(types[i]));
    return t;
  }

 private:
  std::mt19937_64 rng_;
};

void expect_order_consistent(const std::vector<Tuple>& tuples) {
  std::vector<std::string> enc;
  for (const auto& t : tuples) enc.push_back(encode(t));
  for (std::size_t i = 0; i < tuples.size(); ++i) {
    for (std::size_t j = 0; j < tuples.size(); ++j) {
      int model = compare_tuple(tuples[i], tuples[j]);
      int bytes = compare_bytes(enc[i], enc[j]);
      if (model != bytes) {
        ADD_FAILURE() << describe(tuples[i]) << " vs " << describe(tuples[j]) << ": tuple order " << model
                      << ", encoded order " << bytes;
        return;
      }
    }
  }
}

TEST(KeyCodec, RandomRoundTrips) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    Gen g(seed);
    for (int i = 0; i < 5000; ++i) {
      Tuple t = g.tuple(6);
      std::string key = encode(t);
      Tuple back;
      ASSERT_TRUE(decode(key, t, back)) << describe(t);
      ASSERT_EQ(back.size(), t.size());
      for (std::size_t k = 0; k < t.size(); ++k) ASSERT_TRUE(same_elem(t[k], back[k])) << describe(t);

      // The generic path reads the same thing.
      KeyReader r(key);
      std::size_t n = 0;
      while (!r.at_end()) {
        ASSERT_TRUE(r.peek().has_value());
        ASSERT_TRUE(r.skip()) << describe(t);
        ++n;
      }
      EXPECT_EQ(n, t.size());
    }
  }
}

TEST(KeyCodec, EncodedOrderMatchesTupleOrderForMixedTuples) {
  for (std::uint64_t seed : {11u, 12u}) {
    Gen g(seed);
    std::vector<Tuple> tuples;
    for (int i = 0; i < 700; ++i) tuples.push_back(g.tuple());
    expect_order_consistent(tuples);
  }
}

TEST(KeyCodec, EncodedOrderMatchesTupleOrderForOneTypeSequence) {
  Gen g(21);
  for (int schema = 0; schema < 40; ++schema) {
    std::vector<std::size_t> types(1 + g.below(4));
    for (auto& t : types) t = g.below(6);
    std::vector<Tuple> tuples;
    for (int i = 0; i < 250; ++i) tuples.push_back(g.tuple_of(types, true));
    expect_order_consistent(tuples);

    // Sorting by encoded bytes gives a tuple-sorted sequence.
    std::vector<std::pair<std::string, Tuple>> sorted;
    for (auto& t : tuples) sorted.emplace_back(encode(t), t);
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t i = 1; i < sorted.size(); ++i) {
      ASSERT_LE(compare_tuple(sorted[i - 1].second, sorted[i].second), 0)
          << describe(sorted[i - 1].second) << " then " << describe(sorted[i].second);
    }
  }
}

TEST(KeyCodec, ByteStringsWithZerosAndPrefixes) {
  std::vector<std::string> ordered = {"", std::string("\0", 1), std::string("\0\0", 2),
                                      std::string("\0\x01", 2), "\x01", "a", std::string("a\0", 2),
                                      std::string("a\0\0", 3), "a\x01", "ab", "b", "\xfe", "\xff", "\xff\xff"};
  for (std::size_t i = 0; i + 1 < ordered.size(); ++i) {
    EXPECT_LT(KeyBuilder().add_string(ordered[i]).str(), KeyBuilder().add_string(ordered[i + 1]).str()) << i;
    EXPECT_LT(KeyBuilder().add_bytes(ordered[i]).str(), KeyBuilder().add_bytes(ordered[i + 1]).str()) << i;
    // The following element cannot break the order of the first.
    EXPECT_LT(KeyBuilder().add_string(ordered[i]).add_string("\xff\xff").str(),
              KeyBuilder().add_string(ordered[i + 1]).add_string("").str())
        << i;
  }
}

TEST(KeyCodec, TuplePrefixIsBytePrefix) {
  Gen g(31);
  std::vector<Tuple> tuples;
  for (int i = 0; i < 600; ++i) tuples.push_back(g.tuple());
  // Add true prefixes so the positive case is well covered.
  for (int i = 0; i < 200; ++i) {
    Tuple t = tuples[static_cast<std::size_t>(i)];
    if (!t.empty()) t.pop_back();
    tuples.push_back(t);
  }
  std::vector<std::string> enc;
  for (const auto& t : tuples) enc.push_back(encode(t));
  for (std::size_t i = 0; i < tuples.size(); ++i) {
    for (std::size_t j = 0; j < tuples.size(); ++j) {
      bool bytes = enc[j].compare(0, enc[i].size(), enc[i]) == 0;
      ASSERT_EQ(bytes, is_tuple_prefix(tuples[i], tuples[j]))
          << describe(tuples[i]) << " / " << describe(tuples[j]);
      if (bytes && !enc[i].empty()) {
        ASSERT_LT(enc[j], prefix_successor(enc[i]));
      }
    }
  }
  // A string key and the same string followed by NULs are distinct tuples, neither a prefix of the other.
  std::string a = KeyBuilder().add_string("a").build();
  std::string a0 = KeyBuilder().add_string(std::string("a\0", 2)).build();
  EXPECT_NE(a0.compare(0, a.size(), a), 0);
}

TEST(KeyCodec, IntegerAndDoubleOrder) {
  using L = std::numeric_limits<double>;
  std::vector<std::int64_t> ints = {std::numeric_limits<std::int64_t>::min(), -1000, -1, 0, 1, 1000,
                                    std::numeric_limits<std::int64_t>::max()};
  for (std::size_t i = 0; i + 1 < ints.size(); ++i) {
    EXPECT_LT(KeyBuilder().add_i64(ints[i]).str(), KeyBuilder().add_i64(ints[i + 1]).str());
  }
  std::vector<std::uint64_t> uints = {
      0, 1, 255, 256, std::uint64_t{1} << 63, 65535, std::numeric_limits<std::uint64_t>::max()};
  std::sort(uints.begin(), uints.end());
  for (std::size_t i = 0; i + 1 < uints.size(); ++i) {
    EXPECT_LT(KeyBuilder().add_u64(uints[i]).str(), KeyBuilder().add_u64(uints[i + 1]).str());
  }
  std::vector<double> doubles = {
      -L::infinity(),  -L::max(), -1.0, -L::min(), -L::denorm_min(), -0.0,          0.0,
      L::denorm_min(), L::min(),  1.0,  L::max(),  L::infinity(),    L::quiet_NaN()};
  for (std::size_t i = 0; i + 1 < doubles.size(); ++i) {
    EXPECT_LT(KeyBuilder().add_double(doubles[i]).str(), KeyBuilder().add_double(doubles[i + 1]).str()) << i;
  }
  // Every NaN is the same key, and reads back as NaN.
  EXPECT_EQ(KeyBuilder().add_double(-L::quiet_NaN()).str(), KeyBuilder().add_double(L::quiet_NaN()).str());
  EXPECT_EQ(KeyBuilder().add_double(L::signaling_NaN()).str(), KeyBuilder().add_double(L::quiet_NaN()).str());
  auto nan = KeyReader(KeyBuilder().add_double(L::quiet_NaN()).str()).read_double();
  ASSERT_TRUE(nan.has_value());
  EXPECT_TRUE(std::isnan(*nan));
  // -0.0 and +0.0 stay distinct and keep their sign.
  auto neg_zero = KeyReader(KeyBuilder().add_double(-0.0).str()).read_double();
  ASSERT_TRUE(neg_zero.has_value());
  EXPECT_TRUE(std::signbit(*neg_zero));
  EXPECT_LT(KeyBuilder().add_bool(false).str(), KeyBuilder().add_bool(true).str());
}

TEST(KeyCodec, ReaderRejectsTypeMismatchWithoutMoving) {
  std::string key = KeyBuilder().add_string("queue").add_i64(-5).add_bool(true).build();
  KeyReader r(key);
  EXPECT_FALSE(r.read_bytes());
  EXPECT_FALSE(r.read_i64());
  EXPECT_FALSE(r.read_u64());
  EXPECT_FALSE(r.read_double());
  EXPECT_FALSE(r.read_bool());
  EXPECT_EQ(r.position(), 0u);
  EXPECT_EQ(r.peek(), KeyElement::string);
  EXPECT_EQ(r.read_string(), "queue");
  EXPECT_EQ(r.peek(), KeyElement::i64);
  EXPECT_FALSE(r.read_u64());
  EXPECT_FALSE(r.read_string());
  EXPECT_EQ(r.read_i64(), -5);
  EXPECT_EQ(r.read_bool(), true);
  EXPECT_TRUE(r.at_end());
  EXPECT_FALSE(r.read_bool());
  EXPECT_FALSE(r.read_string());
  EXPECT_FALSE(r.peek());
  EXPECT_FALSE(r.skip());
}

TEST(KeyCodec, ReaderRejectsTruncationAndGarbage) {
  Gen g(41);
  for (int i = 0; i < 2000; ++i) {
    Tuple t = g.tuple(5);
    if (t.empty()) continue;
    std::string key = encode(t);
    // Every proper prefix of the key fails to decode as the full type sequence.
    for (std::size_t len = 0; len < key.size(); ++len) {
      Tuple back;
      ASSERT_FALSE(decode(std::string_view(key).substr(0, len), t, back)) << describe(t) << " cut at " << len;
    }
  }
  // 0x00 followed by neither 0x01 nor 0xFF
  std::string bad = std::string("\x03") + "ab" + std::string("\0\x05", 2);
  EXPECT_FALSE(KeyReader(bad).read_string());
  EXPECT_FALSE(KeyReader("\x10\x01\x02").read_i64());
  EXPECT_FALSE(KeyReader("\x7f").peek());
  EXPECT_FALSE(KeyReader("\x7f").skip());
}

TEST(KeyCodec, BuilderAppendsToEncodedPrefix) {
  std::string prefix = KeyBuilder().add_string("bucket").build();
  KeyBuilder b(prefix);
  b.add_string("key").add_u64(7);
  EXPECT_EQ(b.str(), KeyBuilder().add_string("bucket").add_string("key").add_u64(7).str());
  EXPECT_EQ(b.size(), b.str().size());
  b.clear();
  EXPECT_EQ(b.str(), "");
}

TEST(KeyCodec, PrefixSuccessor) {
  EXPECT_EQ(prefix_successor(""), "");
  EXPECT_EQ(prefix_successor("\xff\xff"), "");
  EXPECT_EQ(prefix_successor("ab"), "ac");
  EXPECT_EQ(prefix_successor("a\xff"), "b");
  EXPECT_EQ(prefix_successor("a\xfe"), "a\xff");
  EXPECT_EQ(prefix_successor(std::string("a\0", 2)), "a\x01");

  Gen g(51);
  for (int i = 0; i < 3000; ++i) {
    std::string p = g.text();
    std::string k = g.text();
    std::string succ = prefix_successor(p);
    bool has_prefix = k.compare(0, p.size(), p) == 0;
    if (has_prefix) {
      EXPECT_TRUE(succ.empty() || k < succ);
      k = p + k;  // also a key with the prefix
      EXPECT_TRUE(succ.empty() || k < succ);
    } else if (k > p) {
      EXPECT_GE(k, succ);
    }
  }
}

}  // namespace
}  // namespace stratus
