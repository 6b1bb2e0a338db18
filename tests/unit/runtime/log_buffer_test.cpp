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

TEST(LogBuffer, CursorSeesRepeatedLinesExactlyOnce) {
  LogBuffer buf;
  buf.append(1, "same\nsame\n");
  auto first = read_logs({&buf}, std::nullopt, 1 << 20);
  EXPECT_EQ(first.text, "same\nsame\n");
  EXPECT_EQ(first.cursor, 2u);
  buf.append(2, "same\n");
  auto second = read_logs({&buf}, first.cursor, 1 << 20);
  EXPECT_EQ(second.text, "same\n");  // text matching could not tell this line from the two before it
  EXPECT_EQ(second.cursor, 3u);
  EXPECT_FALSE(second.lost);
  auto none = read_logs({&buf}, second.cursor, 1 << 20);
  EXPECT_EQ(none.text, "");
  EXPECT_EQ(none.cursor, 3u);  // an empty answer keeps the cursor
}

TEST(LogBuffer, SharedSequenceOrdersLinesOfSeveralBuffers) {
  auto seq = std::make_shared<LogSequence>();
  LogBuffer v1(1 << 20, seq), v2(1 << 20, seq);
  v1.append(5, "a1");
  v2.append(1, "b1\nb2");  // an older timestamp, appended later: seq order is append order
  v1.append(2, "a2");
  EXPECT_EQ(v1.last_seq(), 4u);
  EXPECT_EQ(v2.last_seq(), 3u);
  EXPECT_EQ(v2.since(0).front().seq, 2u);
  auto all = read_logs({&v1, &v2}, std::nullopt, 1 << 20);
  EXPECT_EQ(all.text, "a1\nb1\nb2\na2\n");
  EXPECT_EQ(all.cursor, 4u);
  auto after = read_logs({&v1, &v2}, 1, 1 << 20);
  EXPECT_EQ(after.text, "b1\nb2\na2\n");
  // since() on one buffer skips the numbers the other buffer took.
  ASSERT_EQ(v1.since(1).size(), 1u);
  EXPECT_EQ(v1.since(1)[0].text, "a2");
  EXPECT_EQ(v1.since(3)[0].text, "a2");
}

TEST(LogBuffer, PagesFromACursorWithoutLosingOrRepeatingLines) {
  LogBuffer buf;
  for (int i = 0; i < 100; ++i) buf.append(1, "line " + std::to_string(i));
  std::string seen;
  std::uint64_t cursor = 0;
  int pages = 0;
  for (;; ++pages) {
    auto page = read_logs({&buf}, cursor, 64);  // a few lines per page
    if (page.text.empty()) break;
    EXPECT_LE(page.text.size(), 64u);
    seen += page.text;
    cursor = page.cursor;
    ASSERT_LT(pages, 100);
  }
  std::string want;
  for (int i = 0; i < 100; ++i) want += "line " + std::to_string(i) + "\n";
  EXPECT_EQ(seen, want);
  EXPECT_GT(pages, 10);
  // A line longer than the page still goes out (alone), so a follower never stalls.
  buf.append(1, std::string(200, 'x'));
  auto big = read_logs({&buf}, cursor, 64);
  EXPECT_EQ(big.text, std::string(200, 'x') + "\n");
  // Without a cursor: the newest lines that fit.
  auto tail = read_logs({&buf}, std::nullopt, 212);
  EXPECT_EQ(tail.text, "line 99\n" + std::string(200, 'x') + "\n");
  EXPECT_EQ(tail.cursor, buf.last_seq());
}

TEST(LogBuffer, ReportsLinesDroppedBeforeTheCursorCaughtUp) {
  LogBuffer buf(30);
  buf.append(1, "0123456789\n0123456789");  // 22 bytes: both kept
  auto first = read_logs({&buf}, 0, 1 << 20);
  EXPECT_EQ(first.cursor, 2u);
  EXPECT_FALSE(first.lost);
  buf.append(1, "abcdefghij\nABCDEFGHIJ\nzzzzzzzzzz");  // 55 bytes in all: lines 1-3 go
  EXPECT_EQ(buf.dropped_through(), 3u);
  auto next = read_logs({&buf}, first.cursor, 1 << 20);
  EXPECT_TRUE(next.lost);  // line 3 was never read
  EXPECT_EQ(next.text, "ABCDEFGHIJ\nzzzzzzzzzz\n");
  EXPECT_EQ(next.cursor, 5u);
  EXPECT_FALSE(read_logs({&buf}, next.cursor, 1 << 20).lost);
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
