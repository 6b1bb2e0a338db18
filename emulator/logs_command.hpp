#pragma once
// `stratus logs FUNCTION [--follow] [--endpoint URL]`: a client of a running daemon. It reads
// GET /_stratus/logs/FUNCTION (the function's recent log text, all versions, oldest first, bounded by the
// daemon) with a tiny blocking HTTP/1.1 client over a POSIX socket, so the CLI needs no HTTP library.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "emulator/options.hpp"

namespace stratus::emulator {

// Runs the command: prints the log text on stdout; with options.follow, then polls every
// options.poll_interval and prints only what is new, until SIGINT or SIGTERM (exit 0).
// Returns 0, or 1 when the daemon cannot be reached or answers other than 200 (message on stderr).
int run_logs(const LogsOptions& options);

struct HttpGetResult {
  int status = 0;
  std::string body;
};

// One GET of `target` on host:port with "Connection: close"; reads the whole answer (Content-Length,
// chunked, or up to EOF). Every socket operation is bounded by `timeout`. Returns an error message
// (cannot connect, timed out, interrupted by a signal, malformed answer) or nullopt with `out` set.
std::optional<std::string> http_get(const std::string& host, std::uint16_t port, const std::string& target,
                                    std::chrono::milliseconds timeout, HttpGetResult& out);

// Percent-encodes everything but RFC 3986's unreserved characters (for a function name in a path).
std::string percent_encode_segment(std::string_view text);

// What `current` (a newer answer of the logs endpoint) holds beyond `previous` (the last answer, all of
// it printed). The daemon keeps a bounded window, so old lines fall off the front: when `current` does
// not simply extend `previous`, the last lines of `previous` are looked for in `current` and what
// follows them is new. When they are gone (more than the window was written between two polls, or the
// function was deleted and re-created) all of `current` is new. Log lines carry request ids, so the
// anchor lines are in practice unique.
std::string_view unseen_log_text(std::string_view previous, std::string_view current);

}  // namespace stratus::emulator
