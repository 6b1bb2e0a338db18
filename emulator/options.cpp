#include "emulator/options.hpp"

#include <charconv>
#include <string_view>

#include <fmt/format.h>

namespace stratus::emulator {

const char* usage() {
  return R"(usage: stratus <command> [options]

commands:
  serve                 run the daemon (default when only options are given)
  validate FILE         check a stack file and print its resources in apply order
  logs NAME             print a function's (or an access-log group's) recent log lines from a running daemon
  coverage [SERVICE]    print the coverage table of one service (or all) as Markdown
  version               print the version
  help                  print this help

serve options:
  --host ADDR           address to bind (default 127.0.0.1)
  --port N              port to listen on (default 4566; 0 picks a free port)
  --data-dir DIR        where state is kept (default ./.stratus); survives restarts
  --ephemeral           keep nothing: state lives in a private temporary directory removed at exit
  --sync-writes         fsync every write (survives power loss, not only a crash of the daemon)
  --config FILE         stack file to apply at start (YAML or JSON; see config/)
  --account-id ID       12-digit account id (default 000000000000)
  --region REGION       region for requests that carry none (default us-east-1)
  --log-level LEVEL     debug|info|warn|error|off (default info)
  --log-format FORMAT   text|json (default text)
  --threads N           I/O threads (default: one per core)
  --header-timeout-ms N time allowed for a request head to arrive (default 10000)
  --idle-timeout-ms N   time a keep-alive connection may wait for its next request (default 60000)
  --shutdown-grace-ms N time in-flight requests get to finish on SIGTERM (default 1500)
  --async-retry-base-ms N  Lambda async retry n waits n x N after a function error (default 60000, as AWS)
  --keep-warm-ms N      idle function instances are stopped after N ms unused (default 300000)
  --spare-workers N     empty function workers kept started for cold starts (default 1; 0: none)

logs options:
  --follow, -f          keep printing new lines (polls every 500 ms) until Ctrl-C
  --endpoint URL        the daemon to ask (default http://127.0.0.1:4566)
  exit codes: 0 ok, 1 daemon unreachable, 2 usage
)";
}

namespace {

bool parse_number(std::string_view text, std::uint64_t max, std::uint64_t& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out <= max;
}

bool valid_account_id(std::string_view id) {
  if (id.size() != 12) return false;
  for (char c : id) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

struct SplitOption {
  std::string_view name;
  std::string_view value;
  bool has_value = false;
};

// "--name=value" -> {"--name", "value", true}; anything else -> {arg, "", false}.
SplitOption split_option(std::string_view arg) {
  if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
    return {arg.substr(0, eq), arg.substr(eq + 1), true};
  }
  return {arg, {}, false};
}

// `stratus logs FUNCTION [--follow|-f] [--endpoint URL]`, after the command word.
std::optional<std::string> parse_logs(const std::vector<std::string_view>& args, std::size_t i,
                                      LogsOptions& o) {
  for (; i < args.size(); ++i) {
    auto [arg, value, has_inline_value] = split_option(args[i]);
    if (arg == "--follow" || arg == "-f") {
      if (has_inline_value) return "--follow takes no value";
      o.follow = true;
    } else if (arg == "--endpoint") {
      if (!has_inline_value) {
        if (i + 1 >= args.size()) return "--endpoint needs a URL";
        value = args[++i];
      }
      if (auto error = parse_endpoint(value, o.host, o.port)) return fmt::format("--endpoint: {}", *error);
      o.endpoint = value;
    } else if (arg.starts_with("-") && arg != "-") {
      return fmt::format("unknown option '{}'", arg);
    } else if (o.function.empty()) {
      o.function = arg;
    } else {
      return fmt::format("unexpected argument '{}'", arg);
    }
  }
  if (o.function.empty()) return "logs needs a function name: stratus logs FUNCTION [--follow]";
  return std::nullopt;
}

}  // namespace

std::optional<std::string> parse_endpoint(std::string_view url, std::string& host, std::uint16_t& port) {
  constexpr std::string_view scheme = "http://";
  if (!url.starts_with(scheme)) return fmt::format("'{}' is not an http:// URL", url);
  std::string_view rest = url.substr(scheme.size());
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    if (rest.substr(slash) != "/") return fmt::format("'{}' has a path; give only http://HOST:PORT", url);
    rest = rest.substr(0, slash);
  }
  std::string_view host_part = rest;
  std::string_view port_part;
  if (rest.starts_with("[")) {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return fmt::format("'{}' has an unclosed [", url);
    host_part = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(":")) return fmt::format("'{}' is not http://HOST:PORT", url);
      port_part = after.substr(1);
      if (port_part.empty()) return fmt::format("'{}' has an empty port", url);
    }
  } else if (auto colon = rest.find(':'); colon != std::string_view::npos) {
    host_part = rest.substr(0, colon);
    port_part = rest.substr(colon + 1);
    if (port_part.empty()) return fmt::format("'{}' has an empty port", url);
  }
  if (host_part.empty()) return fmt::format("'{}' has no host", url);
  std::uint64_t n = 80;
  if (!port_part.empty() && (!parse_number(port_part, 65535, n) || n == 0)) {
    return fmt::format("'{}' has no valid port", url);
  }
  host = host_part;
  port = static_cast<std::uint16_t>(n);
  return std::nullopt;
}

std::optional<std::string> parse_cli(int argc, const char* const* argv, Cli& out) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  std::size_t i = 0;
  if (args.empty()) {
    out.command = Command::help;
    return std::nullopt;
  }
  std::string_view first = args[0];
  if (first == "serve") {
    out.command = Command::serve;
    ++i;
  } else if (first == "validate") {
    out.command = Command::validate;
    ++i;
  } else if (first == "coverage") {
    out.command = Command::coverage;
    ++i;
  } else if (first == "logs") {
    out.command = Command::logs;
    return parse_logs(args, 1, out.logs);
  } else if (first == "version" || first == "--version") {
    out.command = Command::version;
    return std::nullopt;
  } else if (first == "help" || first == "--help" || first == "-h") {
    out.command = Command::help;
    return std::nullopt;
  } else if (first.starts_with("--")) {
    out.command = Command::serve;
  } else {
    return fmt::format("unknown command '{}'", first);
  }

  ServeOptions& o = out.serve;
  bool data_dir_given = false;
  for (; i < args.size(); ++i) {
    auto [arg, value, has_inline_value] = split_option(args[i]);
    auto need_value = [&](std::string_view& v) -> bool {
      if (has_inline_value) {
        v = value;
        return true;
      }
      if (i + 1 >= args.size()) return false;
      v = args[++i];
      return true;
    };
    auto number = [&](std::uint64_t max, std::uint64_t& n) -> std::optional<std::string> {
      std::string_view v;
      if (!need_value(v)) return fmt::format("{} needs a value", arg);
      if (!parse_number(v, max, n)) return fmt::format("{}: '{}' is not a number from 0 to {}", arg, v, max);
      return std::nullopt;
    };
    if (!arg.starts_with("--")) {
      if (out.command == Command::serve) return fmt::format("unexpected argument '{}'", arg);
      out.args.emplace_back(arg);
      continue;
    }
    if (out.command != Command::serve) return fmt::format("unknown option '{}'", arg);
    std::string_view v;
    std::uint64_t n = 0;
    if (arg == "--host") {
      if (!need_value(v) || v.empty()) return "--host needs an address";
      o.host = v;
    } else if (arg == "--port") {
      if (auto e = number(65535, n)) return e;
      o.port = static_cast<std::uint16_t>(n);
    } else if (arg == "--data-dir") {
      if (!need_value(v) || v.empty()) return "--data-dir needs a directory";
      o.data_dir = v;
      data_dir_given = true;
    } else if (arg == "--ephemeral") {
      o.ephemeral = true;
    } else if (arg == "--sync-writes") {
      o.sync_writes = true;
    } else if (arg == "--config") {
      if (!need_value(v) || v.empty()) return "--config needs a file";
      o.config_file = v;
    } else if (arg == "--account-id") {
      if (!need_value(v) || !valid_account_id(v)) return "--account-id needs 12 digits";
      o.account_id = v;
    } else if (arg == "--region") {
      if (!need_value(v) || v.empty()) return "--region needs a region name";
      o.default_region = v;
    } else if (arg == "--log-level") {
      if (!need_value(v) || !log::parse_level(v, o.log_level)) return "--log-level must be debug|info|warn|error|off";
    } else if (arg == "--log-format") {
      if (!need_value(v) || (v != "text" && v != "json")) return "--log-format must be text|json";
      o.log_format = v == "json" ? log::Format::json : log::Format::text;
    } else if (arg == "--threads") {
      if (auto e = number(256, n)) return e;
      o.threads = static_cast<unsigned>(n);
    } else if (arg == "--header-timeout-ms") {
      if (auto e = number(3'600'000, n)) return e;
      o.header_timeout = std::chrono::milliseconds(n);
    } else if (arg == "--idle-timeout-ms") {
      if (auto e = number(3'600'000, n)) return e;
      o.idle_timeout = std::chrono::milliseconds(n);
    } else if (arg == "--keep-warm-ms") {
      if (auto e = number(86'400'000, n)) return e;
      o.keep_warm_ms = static_cast<std::int64_t>(n);
    } else if (arg == "--spare-workers") {
      if (auto e = number(64, n)) return e;
      o.spare_workers = static_cast<int>(n);
    } else if (arg == "--async-retry-base-ms") {
      if (auto e = number(3'600'000, n)) return e;
      o.async_retry_base_ms = static_cast<std::int64_t>(n);
    } else if (arg == "--shutdown-grace-ms") {
      if (auto e = number(60'000, n)) return e;
      o.shutdown_grace = std::chrono::milliseconds(n);
    } else {
      return fmt::format("unknown option '{}'", arg);
    }
  }
  if (o.ephemeral && data_dir_given) return "--data-dir and --ephemeral exclude each other";
  return std::nullopt;
}

}  // namespace stratus::emulator
