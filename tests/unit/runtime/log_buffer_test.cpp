#include "runtime/log_buffer.hpp"

#include <gtest/gtest.h>

#include "runtime/wire.hpp"

namespace stratus::runtime {

TEST(LogBuffer, KeepsNewestLinesWithinBytes) {
  LogBuffer buf(100);
  for (int i = 0; i < 50; ++i) buf.append(1, "line " + std::to_string(i) + "\n");
  EXPECT_LE(buf.bytes(), 100u);
  auto lines = buf.since(0);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().text, "line 49");
  EXPECT_EQ(lines.back().seq, 50u);
  EXPECT_EQ(buf.last_seq(), 50u);
  // A follower sees only what came after its last line.
  EXPECT_EQ(buf.since(49).size(), 1u);
  EXPECT_TRUE(buf.since(50).empty());
}

TEST(LogBuffer, SplitsLinesAndImpliesFinalNewline) {
  LogBuffer buf;
  buf.append(7, "a\nb\nc");
  auto lines = buf.since(0);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2].text, "c");
  EXPECT_EQ(lines[0].time_ms, 7);
}

TEST(LogTail, LastFourKilobytesWithoutSplittingUtf8) {
  std::string log(5000, 'x');
  log += "\xC3\xA9";  // é
  EXPECT_EQ(log_tail(log).size(), 4096u);
  std::string cut = std::string(4095, 'y');
  std::string two = "\xC3\xA9" + cut;  // the window starts on the continuation byte
  EXPECT_EQ(log_tail(two), cut);
  EXPECT_EQ(log_tail("short"), "short");
}

TEST(Wire, RoundTripsFramesAcrossPartialReads) {
  std::string a = wire::encode(wire::FrameType::invoke, {{"request_id", "r1"}}, "{\"x\":1}");
  std::string b = wire::encode(wire::FrameType::ready, {{"init_us", 5}});
  std::string both = a + b;
  wire::Frame f;
  std::size_t used = 0;
  EXPECT_EQ(wire::decode(std::string_view(both).substr(0, a.size() - 1), f, used),
            wire::DecodeStatus::need_more);
  ASSERT_EQ(wire::decode(both, f, used), wire::DecodeStatus::ok);
  EXPECT_EQ(used, a.size());
  EXPECT_EQ(f.type, wire::FrameType::invoke);
  EXPECT_EQ(f.header["request_id"], "r1");
  EXPECT_EQ(f.payload, "{\"x\":1}");
  ASSERT_EQ(wire::decode(std::string_view(both).substr(used), f, used), wire::DecodeStatus::ok);
  EXPECT_EQ(f.type, wire::FrameType::ready);
  EXPECT_TRUE(f.payload.empty());
  std::string bad("\x02\x00\x00\x00xx", 6);  // N < 5
  EXPECT_EQ(wire::decode(bad, f, used), wire::DecodeStatus::bad);
}

}  // namespace stratus::runtime
