#include "common/base64.hpp"

#include <random>

#include <gtest/gtest.h>

namespace stratus {

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                                          {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                                          {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded);
    EXPECT_EQ(base64_decode(encoded), std::string(plain));
  }
}

TEST(Base64, RandomRoundTrips) {
  std::mt19937 rng(7);
  for (int i = 0; i < 500; ++i) {
    std::string data(rng() % 70, '\0');
    for (auto& c : data) c = static_cast<char>(rng());
    EXPECT_EQ(base64_decode(base64_encode(data)), data);
  }
}

TEST(Base64, RejectsGarbageAndAcceptsUrlSafeAndWhitespace) {
  EXPECT_FALSE(base64_decode("Zm9v!").has_value());
  EXPECT_FALSE(base64_decode("Zg==Zg").has_value());
  EXPECT_EQ(base64_decode("Zm9v\nYmFy"), std::string("foobar"));
  EXPECT_EQ(base64_decode("-_8="), base64_decode("+/8="));
}

}  // namespace stratus
