#include "common/ids.hpp"

#include <array>
#include <ctime>
#include <random>

#include <fmt/format.h>

namespace stratus {

std::string new_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t hi = rng();
  std::uint64_t lo = rng();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  // 8-4-4-4-12 lower-case hex digits, written by hand: every request and every message takes one, and
  // fmt::format cost more than the rest of making it.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(36, '-');
  std::size_t at = 0;
  auto put = [&](std::uint64_t bits, int digits) {
    for (int i = digits - 1; i >= 0; --i) id[at++] = kHex[(bits >> (4 * i)) & 0xf];
  };
  put(hi >> 32, 8);
  ++at;
  put((hi >> 16) & 0xffff, 4);
  ++at;
  put(hi & 0xffff, 4);
  ++at;
  put(lo >> 48, 4);
  ++at;
  put(lo & 0xffffffffffffULL, 12);
  return id;
}

static std::tm utc_tm(std::int64_t epoch_ms) {
  std::time_t secs = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}

std::string iso8601_ms(std::int64_t epoch_ms) {
  std::tm tm = utc_tm(epoch_ms);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, epoch_ms % 1000);
}

std::string http_date(std::int64_t epoch_ms) {
  static constexpr std::array<const char*, 7> days{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm = utc_tm(epoch_ms);
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", days[static_cast<size_t>(tm.tm_wday)],
                     tm.tm_mday, months[static_cast<size_t>(tm.tm_mon)], tm.tm_year + 1900, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

}  // namespace stratus
