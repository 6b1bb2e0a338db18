#include "http/http_types.hpp"

#include <gtest/gtest.h>

namespace stratus::http {

TEST(Headers, CaseInsensitiveLookupKeepsRepeats) {
  Headers h;
  h.add("Content-Type", "text/plain");
  h.add("X-Multi", "a");
  h.add("x-multi", "b");
  EXPECT_EQ(h.get("content-type"), "text/plain");
  EXPECT_EQ(h.get("X-MULTI"), "a");
  EXPECT_EQ(h.fields().size(), 3u);
  h.set("x-Multi", "c");
  EXPECT_EQ(h.fields().size(), 2u);
  EXPECT_EQ(h.get("x-multi"), "c");
  EXPECT_FALSE(h.find("absent").has_value());
  EXPECT_EQ(h.get("absent"), "");
  // Only letters fold: '@' and '`', '[' and '{', '-' and '\r' differ by the same bit as A and a.
  EXPECT_TRUE(Headers::iequals("X-Amz-Target", "x-amz-TARGET"));
  EXPECT_FALSE(Headers::iequals("a@", "a`"));
  EXPECT_FALSE(Headers::iequals("[", "{"));
  EXPECT_FALSE(Headers::iequals("-", "\r"));
  EXPECT_FALSE(Headers::iequals("ab", "abc"));
  EXPECT_FALSE(Headers::iequals("\xc3", "\xe3"));
}

TEST(PercentCoding, DecodeAndEncode) {
  EXPECT_EQ(percent_decode("a%20b%2Fc"), "a b/c");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  bool ok = true;
  EXPECT_EQ(percent_decode("bad%zzx%4", false, &ok), "bad%zzx%4");
  EXPECT_FALSE(ok);
  EXPECT_EQ(percent_encode("a b/c~"), "a%20b%2Fc~");
  EXPECT_EQ(percent_encode("a b/c", true), "a%20b/c");
  EXPECT_EQ(percent_decode(percent_encode(std::string("\x00\xff\x10z", 4))), std::string("\x00\xff\x10z", 4));
}

TEST(Query, ParsesPairsInOrder) {
  auto q = parse_query("Action=SendMessage&MessageBody=hello+world%21&empty=&flag");
  ASSERT_EQ(q.size(), 4u);
  EXPECT_EQ(q[0], std::make_pair(std::string("Action"), std::string("SendMessage")));
  EXPECT_EQ(q[1].second, "hello world!");
  EXPECT_EQ(q[2].second, "");
  EXPECT_EQ(q[3].first, "flag");
  EXPECT_TRUE(parse_query("").empty());
  EXPECT_TRUE(parse_query("&&").empty());
}

}  // namespace stratus::http
