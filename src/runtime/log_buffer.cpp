#include "runtime/log_buffer.hpp"

#include <algorithm>

namespace stratus::runtime {

void LogBuffer::append(std::int64_t time_ms, std::string_view text) {
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    bytes_ += line.size() + 1;
    last_seq_ = sequence_->next++;
    lines_.push_back(LogLine{last_seq_, time_ms, std::string(line)});
  }
  while (bytes_ > max_bytes_ && !lines_.empty()) {
    bytes_ -= lines_.front().text.size() + 1;
    dropped_through_ = lines_.front().seq;
    lines_.pop_front();
  }
}

std::vector<LogLine> LogBuffer::since(std::uint64_t after, std::size_t max) const {
  std::vector<LogLine> out;
  if (lines_.empty() || after >= lines_.back().seq) return out;
  // Sequence numbers increase along the deque but may skip (a shared LogSequence): binary search.
  auto it = std::upper_bound(lines_.begin(), lines_.end(), after,
                             [](std::uint64_t a, const LogLine& line) { return a < line.seq; });
  for (; it != lines_.end() && out.size() < max; ++it) out.push_back(*it);
  return out;
}

LogPage read_logs(const std::vector<const LogBuffer*>& buffers, std::optional<std::uint64_t> since,
                  std::size_t max_bytes) {
  LogPage page;
  const std::uint64_t after = since.value_or(0);
  std::vector<LogLine> lines;
  for (const LogBuffer* b : buffers) {
    auto part = b->since(after);
    lines.insert(lines.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
    if (since && b->dropped_through() > after) page.lost = true;
  }
  std::sort(lines.begin(), lines.end(), [](const LogLine& a, const LogLine& b) { return a.seq < b.seq; });
  std::size_t first = 0, last = lines.size();  // [first, last) goes out
  if (since) {
    std::size_t bytes = 0;
    for (last = 0; last < lines.size(); ++last) {
      bytes += lines[last].text.size() + 1;
      if (bytes > max_bytes && last > 0) break;
    }
  } else {
    std::size_t bytes = 0;
    for (first = lines.size(); first > 0; --first) {
      bytes += lines[first - 1].text.size() + 1;
      if (bytes > max_bytes) break;
    }
  }
  for (std::size_t i = first; i < last; ++i) {
    page.text += lines[i].text;
    page.text += '\n';
  }
  if (!since) {
    page.cursor = lines.empty() ? 0 : lines.back().seq;
  } else {
    page.cursor = last > first ? lines[last - 1].seq : after;
  }
  return page;
}

std::string log_tail(std::string_view log, std::size_t max_bytes) {
  if (log.size() <= max_bytes) return std::string(log);
  std::string_view tail = log.substr(log.size() - max_bytes);
  // Never start inside a UTF-8 sequence.
  std::size_t i = 0;
  while (i < tail.size() && (static_cast<unsigned char>(tail[i]) & 0xC0) == 0x80) ++i;
  return std::string(tail.substr(i));
}

}  // namespace stratus::runtime
