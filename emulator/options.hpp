#pragma once
// Command-line options of `stratus`, parsed without side effects so they can be unit tested.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.hpp"

namespace stratus::emulator {

struct ServeOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 4566;
  std::string data_dir = ".stratus";  // used unless ephemeral
  bool ephemeral = false;
  bool sync_writes = false;
  std::string config_file;            // stack file; empty: none
  std::string account_id = "000000000000";
  std::string default_region = "us-east-1";
  log::Level log_level = log::Level::info;
  log::Format log_format = log::Format::text;
  unsigned threads = 0;  // 0: one per core
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds shutdown_grace{1'500};
  // Lambda's asynchronous retries after a function error wait n x this (AWS: 1 min, then 2 min).
  std::int64_t async_retry_base_ms = 60'000;
  // Idle on-demand function instances are stopped after this long unused (provisioned ones are kept).
  std::int64_t keep_warm_ms = 5 * 60 * 1000;
  // Empty `stratus-worker --standby` processes kept started, which cold starts adopt (docs/functions.md).
  int spare_workers = 1;
};

// `stratus logs FUNCTION [--follow] [--endpoint URL]`: prints a function's recent log lines, read from a
// running daemon's GET /_stratus/logs/FUNCTION.
struct LogsOptions {
  std::string function;                       // function name (required)
  bool follow = false;                        // keep polling and print only new lines until SIGINT/SIGTERM
  std::string endpoint = "http://127.0.0.1:4566";
  std::string host = "127.0.0.1";             // parsed from endpoint
  std::uint16_t port = 4566;                  // parsed from endpoint (80 when the URL names none)
  std::chrono::milliseconds poll_interval{500};
};

enum class Command { serve, validate, coverage, logs, version, help };

struct Cli {
  Command command = Command::help;
  ServeOptions serve;
  LogsOptions logs;
  std::vector<std::string> args;  // positional arguments of validate/coverage
};

// Splits an endpoint of the form http://HOST[:PORT][/] (HOST may be a bracketed IPv6 address) into host
// and port. Returns an error message, or nullopt with host/port set. Only plain http is spoken.
std::optional<std::string> parse_endpoint(std::string_view url, std::string& host, std::uint16_t& port);

// Parses argv. Returns an error message (for exit code 2) or nullopt.
std::optional<std::string> parse_cli(int argc, const char* const* argv, Cli& out);
const char* usage();

}  // namespace stratus::emulator
