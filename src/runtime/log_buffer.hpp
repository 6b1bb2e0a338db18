#pragma once
// A bounded ring of log lines per function (what `stratus logs FUNCTION [--follow]` reads).
// Not thread-safe: used from the io_context thread that owns the pool.
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stratus::runtime {

// Where line sequence numbers come from. Several buffers (the pools of every version of a function, of
// every function) can share one, so that one cursor orders all of their lines: a follower asks for the
// lines after the last seq it saw, whichever buffer they are in. Not thread-safe (one io_context thread).
struct LogSequence {
  std::uint64_t next = 1;
};

struct LogLine {
  std::uint64_t seq = 0;  // increasing, never reused: a follower asks for lines after the last it saw
  std::int64_t time_ms = 0;
  std::string text;  // one line, without the newline
};

class LogBuffer {
 public:
  // `sequence`: shared with other buffers (see LogSequence); null: this buffer numbers its own lines 1, 2, ...
  explicit LogBuffer(std::size_t max_bytes = 1u << 20, std::shared_ptr<LogSequence> sequence = nullptr)
      : max_bytes_(max_bytes), sequence_(sequence ? std::move(sequence) : std::make_shared<LogSequence>()) {}

  // Appends `text` split into lines (a missing final newline is implied); each line gets the next seq.
  // Drops the oldest lines while the total exceeds max_bytes.
  void append(std::int64_t time_ms, std::string_view text);
  // Lines with seq > after, at most `max` of them, oldest first.
  std::vector<LogLine> since(std::uint64_t after, std::size_t max = SIZE_MAX) const;
  // seq of the newest line in this buffer (0 when nothing was ever written to it).
  std::uint64_t last_seq() const { return last_seq_; }
  // seq of the newest line dropped to stay within max_bytes (0: none was). A follower whose cursor is
  // below it missed lines: since(cursor) no longer holds everything after it.
  std::uint64_t dropped_through() const { return dropped_through_; }
  std::size_t bytes() const { return bytes_; }
  std::size_t size() const { return lines_.size(); }

 private:
  std::size_t max_bytes_;
  std::shared_ptr<LogSequence> sequence_;
  std::size_t bytes_ = 0;
  std::uint64_t last_seq_ = 0;
  std::uint64_t dropped_through_ = 0;
  std::deque<LogLine> lines_;
};

// One read of the logs of several buffers (a function's pools) that share a LogSequence.
struct LogPage {
  std::string text;          // whole lines, each ending in '\n', in seq order
  std::uint64_t cursor = 0;  // seq of the last line in `text`; when it is empty, the `since` asked for
                             // (or 0): what to pass as `since` next time
  bool lost = false;         // lines after `since` were dropped (buffer bound) before this read got them
};
// since == nullopt: the newest lines of all `buffers` that fit in max_bytes (what `stratus logs` prints).
// since == N: the lines with seq > N, oldest first, as many as fit in max_bytes (at least one), so a
// follower that passes each answer's cursor back gets every line exactly once while the buffers hold it.
LogPage read_logs(const std::vector<const LogBuffer*>& buffers, std::optional<std::uint64_t> since,
                  std::size_t max_bytes);

// The last `max_bytes` of `log`, not starting inside a UTF-8 sequence (LogType=Tail returns "the last
// 4 KB of the execution log").
// https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#lambda-Invoke-request-LogType
std::string log_tail(std::string_view log, std::size_t max_bytes = 4096);

}  // namespace stratus::runtime
