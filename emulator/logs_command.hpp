#pragma once
// `stratus logs FUNCTION [--follow] [--endpoint URL]`: a client of a running daemon. It reads
// GET /_stratus/logs/FUNCTION (the function's recent log text, all versions, oldest first, bounded by the
// daemon) with a tiny blocking HTTP/1.1 client over a POSIX socket, so the CLI needs no HTTP library.
// --follow then asks for GET /_stratus/logs/FUNCTION?since=CURSOR, CURSOR being the X-Stratus-Log-Cursor
// of the previous answer (the sequence number of the last line it held): every line once, none twice,
// even when lines repeat word for word.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "emulator/options.hpp"

namespace stratus::emulator {

// Runs the command: prints the log text on stdout; with options.follow, then polls every
// options.poll_interval and prints the lines after the cursor, until SIGINT or SIGTERM (exit 0). When the
// daemon says lines were lost (X-Stratus-Log-Lost: more was written between two polls than its buffer
// holds) a note goes to stderr.
// Returns 0, or 1 when the daemon cannot be reached or answers other than 200 (message on stderr).
int run_logs(const LogsOptions& options);

struct HttpGetResult {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // as received, in order
  std::string body;
  // First value of header `name` (case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
};

// One GET of `target` on host:port with "Connection: close"; reads the whole answer (Content-Length,
// chunked, or up to EOF). Every socket operation is bounded by `timeout`. Returns an error message
// (cannot connect, timed out, interrupted by a signal, malformed answer) or nullopt with `out` set.
std::optional<std::string> http_get(const std::string& host, std::uint16_t port, const std::string& target,
                                    std::chrono::milliseconds timeout, HttpGetResult& out);

// Percent-encodes everything but RFC 3986's unreserved characters (for a function name in a path).
std::string percent_encode_segment(std::string_view text);

// The value of X-Stratus-Log-Cursor in an answer of the logs endpoint (a decimal sequence number), or
// nullopt when it is missing or malformed.
std::optional<std::uint64_t> log_cursor(const HttpGetResult& result);

}  // namespace stratus::emulator
