#include "runtime/log_buffer.hpp"

namespace stratus::runtime {

void LogBuffer::append(std::int64_t time_ms, std::string_view text) {
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    bytes_ += line.size() + 1;
    lines_.push_back(LogLine{next_seq_++, time_ms, std::string(line)});
  }
  while (bytes_ > max_bytes_ && !lines_.empty()) {
    bytes_ -= lines_.front().text.size() + 1;
    lines_.pop_front();
  }
}

std::vector<LogLine> LogBuffer::since(std::uint64_t after, std::size_t max) const {
  std::vector<LogLine> out;
  if (lines_.empty() || after >= lines_.back().seq) return out;
  std::size_t start = 0;
  if (after >= lines_.front().seq) start = static_cast<std::size_t>(after - lines_.front().seq + 1);
  for (std::size_t i = start; i < lines_.size() && out.size() < max; ++i) out.push_back(lines_[i]);
  return out;
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
