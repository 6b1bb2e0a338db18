#pragma once
// Command-line options of `stratus`, parsed without side effects so they can be unit tested.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
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
};

enum class Command { serve, validate, coverage, version, help };

struct Cli {
  Command command = Command::help;
  ServeOptions serve;
  std::vector<std::string> args;  // positional arguments of validate/coverage
};

// Parses argv. Returns an error message (for exit code 2) or nullopt.
std::optional<std::string> parse_cli(int argc, const char* const* argv, Cli& out);
const char* usage();

}  // namespace stratus::emulator
