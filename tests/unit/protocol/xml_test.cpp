#include <gtest/gtest.h>

#include "protocol/protocol.hpp"
#include "protocol/xml.hpp"

namespace stratus::protocol {
namespace {

TEST(ProtocolXml, WriterEscapes) {
  XmlWriter w;
  w.open("A", {{"x", "1\"2"}});
  w.element("B", "a&b<c>'d'\r\n\t");
  w.empty_element("C");
  std::string s = w.finish();
  EXPECT_EQ(
      s,
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<A x=\"1&quot;2\"><B>a&amp;b&lt;c&gt;&apos;d&apos;&#13;"
      "&#10;&#9;</B><C/></A>");
  auto doc = parse_xml(s);
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->child("B")->text, "a&b<c>'d'\r\n\t");
  EXPECT_EQ(*doc->attribute("x"), "1\"2");
}

TEST(ProtocolXml, ParserBasics) {
  auto doc = parse_xml(
      "<?xml version=\"1.0\"?><!-- c --><r:Root xmlns:r=\"u\"><a>&#65;&#x42;&#x20AC;</a>"
      "<b><![CDATA[<raw>]]></b><c/></r:Root>");
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->local_name(), "Root");
  EXPECT_EQ(doc->child("a")->text, "AB\xE2\x82\xAC");
  EXPECT_EQ(doc->child("b")->text, "<raw>");
  EXPECT_NE(doc->child("c"), nullptr);
}

TEST(ProtocolXml, ParserRejectsUnsafeOrBroken) {
  std::string error;
  EXPECT_FALSE(parse_xml("<!DOCTYPE x [<!ENTITY e \"boom\">]><x>&e;</x>", &error));
  EXPECT_NE(error.find("DTD"), std::string::npos);
  EXPECT_FALSE(parse_xml("<x>&e;</x>"));
  EXPECT_FALSE(parse_xml("<x><y></x>"));
  EXPECT_FALSE(parse_xml("<x></x><y/>"));
  EXPECT_FALSE(parse_xml(""));
  EXPECT_FALSE(parse_xml("<x>"));
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  for (int i = 0; i < 100; ++i) deep += "</a>";
  EXPECT_FALSE(parse_xml(deep));
  XmlLimits small;
  small.max_bytes = 4;
  EXPECT_FALSE(parse_xml("<abc/>", nullptr, small));
}

TEST(ProtocolHelpers, Base64AndTimestamps) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_decode("Zm9vYg==").value(), "foob");
  EXPECT_FALSE(base64_decode("Zm9v!"));
  EXPECT_EQ(parse_timestamp("2023-11-14T22:13:20Z").value(), 1700000000);
  EXPECT_EQ(parse_timestamp("2023-11-14T22:13:20.500Z").value(), 1700000000.5);
  EXPECT_EQ(parse_timestamp("2023-11-14T23:13:20+01:00").value(), 1700000000);
  EXPECT_EQ(parse_timestamp("Tue, 14 Nov 2023 22:13:20 GMT").value(), 1700000000);
  EXPECT_EQ(parse_timestamp("1700000000").value(), 1700000000);
  EXPECT_FALSE(parse_timestamp("yesterday"));
  EXPECT_EQ(format_iso8601(1700000000.25), "2023-11-14T22:13:20.250Z");
  EXPECT_EQ(format_http_date(1700000000), "Tue, 14 Nov 2023 22:13:20 GMT");
}

}  // namespace
}  // namespace stratus::protocol
