#include "common/ids.hpp"

#include <regex>
#include <set>

#include <gtest/gtest.h>

namespace stratus {

TEST(Ids, RequestIdIsVersion4Uuid) {
  std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = new_request_id();
    EXPECT_TRUE(std::regex_match(id, uuid)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Ids, TimeFormats) {
  EXPECT_EQ(iso8601_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso8601_ms(1'796'111'210'123), "2026-12-01T07:46:50.123Z");
  EXPECT_EQ(http_date(1'796'111'210'123), "Tue, 01 Dec 2026 07:46:50 GMT");
}

}  // namespace stratus
