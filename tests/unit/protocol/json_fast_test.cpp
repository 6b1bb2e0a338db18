// parse_json (the fast path for JSON request bodies) against nlohmann::json::parse, the reference: the
// same value with the same number types, or a discarded value for the same invalid documents.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/codec_internal.hpp"

namespace stratus::protocol {
namespace {

using nlohmann::json;

// Equal values of equal types all the way down (json's == calls 1 and 1u equal).
::testing::AssertionResult same(const json& a, const json& b, const std::string& path = "$") {
  if (a.type() != b.type())
    return ::testing::AssertionFailure() << path << ": type " << a.type_name() << " vs " << b.type_name();
  if (a.is_object()) {
    if (a.size() != b.size()) return ::testing::AssertionFailure() << path << ": " << a.size() << " vs " << b.size() << " members";
    for (auto it = a.begin(); it != a.end(); ++it) {
      if (!b.contains(it.key())) return ::testing::AssertionFailure() << path << ": no member " << it.key();
      if (auto r = same(it.value(), b.at(it.key()), path + "." + it.key()); !r) return r;
    }
    return ::testing::AssertionSuccess();
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return ::testing::AssertionFailure() << path << ": " << a.size() << " vs " << b.size() << " elements";
    for (std::size_t i = 0; i < a.size(); ++i)
      if (auto r = same(a[i], b[i], path + "[" + std::to_string(i) + "]"); !r) return r;
    return ::testing::AssertionSuccess();
  }
  if (a.is_discarded()) return ::testing::AssertionSuccess();
  if (a != b) return ::testing::AssertionFailure() << path << ": " << a.dump() << " vs " << b.dump();
  return ::testing::AssertionSuccess();
}

TEST(JsonFast, MatchesNlohmannOnValidAndInvalidDocuments) {
  std::string body(1024, 'x');
  const std::vector<std::string> docs = {
      R"({"QueueUrl":"http://127.0.0.1:4566/000000000000/q","MessageBody":")" + body + R"("})",
      R"({"QueueUrl": "u", "MaxNumberOfMessages": 10, "WaitTimeSeconds": 20, "VisibilityTimeout": -1})",
      R"( { "a" : [ 1 , -2 , 0 , -0 , true , false , null , "s" , { } , [ ] ] } )",
      R"({"esc":"q\" b\\ s\/ \b\f\n\r\t end"})",
      R"({"dup":1,"dup":"last"})",
      R"({"big":123456789012345678,"neg":-123456789012345678})",
      R"({"huge":1234567890123456789012,"neg":-9223372036854775809})",
      R"({"f":1.5,"e":1e3,"E":-2E-2})",
      R"({"u":"\u00e9\ud83d\ude00","utf8":"é😀"})",
      R"({"Entries":[{"Id":"m0","MessageBody":"b","DelaySeconds":5},{"Id":"m1","MessageBody":"c"}]})",
      "{\"del\":\"\x7f\"}",
      "[1,2,3]", "\"top\"", "42", "-7", "true", "null",
      // invalid
      "{", "}", "{\"a\":}", "{\"a\" 1}", "{\"a\":1,}", "[1,]", "{\"a\":01}", "{\"a\":-}", "{\"a\":1.}",
      "{\"a\":tru}", "{\"a\":\"unterminated}", "{\"a\":\"bad \\x escape\"}", "{\"a\":\"ctl \x01 char\"}",
      "{\"a\":1} trailing", "{'a':1}", "{\"a\":\"\xff\"}", "{\"a\":\"\\ud800\"}", "nul", "-",
      std::string(100, '[') + std::string(100, ']'), "{\"a\":[" + std::string(70, '[') + std::string(70, ']') + "]}",
  };
  // Every special character at every offset of a long string (the parser scans eight bytes at a time).
  std::vector<std::string> all = docs;
  for (const char* special : {"\\\"", "\\n", "\\\\", "\x01", "\x7f", "\xc3\xa9", "\"", "\\u0041"}) {
    for (std::size_t at = 0; at < 20; ++at) {
      std::string text(40, 'a');
      text.insert(at, special);
      all.push_back("{\"s\":\"" + text + "\",\"n\":1}");
    }
  }
  for (const auto& doc : all) {
    SCOPED_TRACE(doc.substr(0, 80));
    json ref = json::parse(doc, nullptr, false);
    json got = detail::parse_json(doc);
    EXPECT_EQ(ref.is_discarded(), got.is_discarded());
    EXPECT_TRUE(same(ref, got));
  }
}

TEST(JsonFast, TakesTheCommonRequestShapesItself) {
  json out;
  EXPECT_TRUE(detail::parse_json_fast(R"({"QueueUrl":"u","MessageBody":"a\nb","DelaySeconds":0})", out));
  EXPECT_TRUE(out["DelaySeconds"].is_number_unsigned());
  EXPECT_EQ(out["MessageBody"], "a\nb");
  // ... and leaves the rest to nlohmann, untouched.
  json keep = 7;
  EXPECT_FALSE(detail::parse_json_fast(R"({"MessageBody":"é"})", keep));
  EXPECT_FALSE(detail::parse_json_fast(R"({"x":1.5})", keep));
  EXPECT_FALSE(detail::parse_json_fast(R"({"x":"\u0041"})", keep));
  EXPECT_EQ(keep, 7);
}

}  // namespace
}  // namespace stratus::protocol
