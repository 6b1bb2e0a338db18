#pragma once
// Process-wide logging to stderr: one line per record, text or JSON, filtered by level.
// Thread-safe. The "ready" line is not a log record: the emulator prints it on stdout.
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace stratus::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3, off = 4 };
enum class Format { text, json };

void configure(Level level, Format format);
// Parses "debug|info|warn|error|off"; returns false on anything else.
bool parse_level(std::string_view text, Level& out);
bool enabled(Level level);
void write(Level level, std::string_view component, std::string_view message);

template <typename... Args>
void debug(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::debug)) write(Level::debug, component, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::info)) write(Level::info, component, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::warn)) write(Level::warn, component, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::error)) write(Level::error, component, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace stratus::log
