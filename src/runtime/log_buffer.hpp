#pragma once
// A bounded ring of log lines per function (what `stratus logs FUNCTION [--follow]` reads).
// Not thread-safe: used from the io_context thread that owns the pool.
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace stratus::runtime {

struct LogLine {
  std::uint64_t seq = 0;  // increasing, never reused: a follower asks for lines after the last it saw
  std::int64_t time_ms = 0;
  std::string text;  // one line, without the newline
};

class LogBuffer {
 public:
  explicit LogBuffer(std::size_t max_bytes = 1u << 20) : max_bytes_(max_bytes) {}

  // Appends `text` split into lines (a missing final newline is implied). Drops the oldest lines
  // while the total exceeds max_bytes.
  void append(std::int64_t time_ms, std::string_view text);
  // Lines with seq > after, at most `max` of them, oldest first.
  std::vector<LogLine> since(std::uint64_t after, std::size_t max = SIZE_MAX) const;
  // seq of the newest line (0 when nothing was ever written).
  std::uint64_t last_seq() const { return next_seq_ - 1; }
  std::size_t bytes() const { return bytes_; }
  std::size_t size() const { return lines_.size(); }

 private:
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::uint64_t next_seq_ = 1;
  std::deque<LogLine> lines_;
};

// The last `max_bytes` of `log`, not starting inside a UTF-8 sequence (LogType=Tail returns "the last
// 4 KB of the execution log").
// https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#lambda-Invoke-request-LogType
std::string log_tail(std::string_view log, std::size_t max_bytes = 4096);

}  // namespace stratus::runtime
