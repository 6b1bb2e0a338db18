#include "emulator/options.hpp"

#include "emulator/logs_command.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace stratus::emulator {
namespace {

std::optional<std::string> parse(std::vector<const char*> args, Cli& cli) {
  args.insert(args.begin(), "stratus");
  return parse_cli(static_cast<int>(args.size()), args.data(), cli);
}

TEST(Options, Defaults) {
  Cli cli;
  ASSERT_FALSE(parse({"serve"}, cli));
  EXPECT_EQ(cli.command, Command::serve);
  EXPECT_EQ(cli.serve.host, "127.0.0.1");
  EXPECT_EQ(cli.serve.port, 4566);
  EXPECT_FALSE(cli.serve.ephemeral);
  EXPECT_EQ(cli.serve.account_id, "000000000000");
  EXPECT_EQ(cli.serve.spare_workers, 1);
}

TEST(Options, AllFlags) {
  Cli cli;
  ASSERT_FALSE(parse({"serve", "--host", "0.0.0.0", "--port=0", "--ephemeral", "--config", "c.yaml", "--account-id",
                      "123456789012", "--log-level", "debug", "--log-format", "json", "--threads", "3",
                      "--header-timeout-ms", "300", "--idle-timeout-ms=400", "--region", "eu-west-1",
                      "--async-retry-base-ms", "50", "--keep-warm-ms", "2000", "--spare-workers", "0"},
                     cli));
  EXPECT_EQ(cli.serve.host, "0.0.0.0");
  EXPECT_EQ(cli.serve.port, 0);
  EXPECT_TRUE(cli.serve.ephemeral);
  EXPECT_EQ(cli.serve.config_file, "c.yaml");
  EXPECT_EQ(cli.serve.account_id, "123456789012");
  EXPECT_EQ(cli.serve.log_level, log::Level::debug);
  EXPECT_EQ(cli.serve.log_format, log::Format::json);
  EXPECT_EQ(cli.serve.threads, 3u);
  EXPECT_EQ(cli.serve.header_timeout.count(), 300);
  EXPECT_EQ(cli.serve.idle_timeout.count(), 400);
  EXPECT_EQ(cli.serve.default_region, "eu-west-1");
  EXPECT_EQ(cli.serve.async_retry_base_ms, 50);
  EXPECT_EQ(cli.serve.keep_warm_ms, 2000);
  EXPECT_EQ(cli.serve.spare_workers, 0);
}

TEST(Options, OptionsWithoutCommandMeanServe) {
  Cli cli;
  ASSERT_FALSE(parse({"--port", "5000"}, cli));
  EXPECT_EQ(cli.command, Command::serve);
  EXPECT_EQ(cli.serve.port, 5000);
}

TEST(Options, Errors) {
  struct Case {
    std::vector<const char*> args;
    std::string message_part;
  };
  std::vector<Case> cases = {
      {{"serve", "--port", "70000"}, "--port"},
      {{"serve", "--port"}, "needs a value"},
      {{"serve", "--port", "12a"}, "not a number"},
      {{"serve", "--bogus"}, "unknown option '--bogus'"},
      {{"serve", "--account-id", "12"}, "12 digits"},
      {{"serve", "--log-level", "loud"}, "--log-level"},
      {{"serve", "--ephemeral", "--data-dir", "x"}, "exclude"},
      {{"frobnicate"}, "unknown command"},
      {{"serve", "extra"}, "unexpected argument"},
  };
  for (auto& c : cases) {
    Cli cli;
    auto error = parse(c.args, cli);
    ASSERT_TRUE(error.has_value()) << c.args.back();
    EXPECT_NE(error->find(c.message_part), std::string::npos) << *error;
  }
}

TEST(Options, ValidateAndCoverageTakePositionals) {
  Cli cli;
  ASSERT_FALSE(parse({"validate", "stack.yaml"}, cli));
  EXPECT_EQ(cli.command, Command::validate);
  ASSERT_EQ(cli.args.size(), 1u);
  EXPECT_EQ(cli.args[0], "stack.yaml");
  Cli cov;
  ASSERT_FALSE(parse({"coverage", "sqs"}, cov));
  EXPECT_EQ(cov.command, Command::coverage);
}

TEST(Options, LogsDefaults) {
  Cli cli;
  ASSERT_FALSE(parse({"logs", "my-fn"}, cli));
  EXPECT_EQ(cli.command, Command::logs);
  EXPECT_EQ(cli.logs.function, "my-fn");
  EXPECT_FALSE(cli.logs.follow);
  EXPECT_EQ(cli.logs.endpoint, "http://127.0.0.1:4566");
  EXPECT_EQ(cli.logs.host, "127.0.0.1");
  EXPECT_EQ(cli.logs.port, 4566);
  EXPECT_EQ(cli.logs.poll_interval.count(), 500);
}

TEST(Options, LogsFlagsInAnyOrder) {
  Cli a;
  ASSERT_FALSE(parse({"logs", "--follow", "--endpoint", "http://localhost:5000", "fn"}, a));
  EXPECT_EQ(a.logs.function, "fn");
  EXPECT_TRUE(a.logs.follow);
  EXPECT_EQ(a.logs.endpoint, "http://localhost:5000");
  EXPECT_EQ(a.logs.host, "localhost");
  EXPECT_EQ(a.logs.port, 5000);
  Cli b;
  ASSERT_FALSE(parse({"logs", "fn", "-f", "--endpoint=http://[::1]:4567/"}, b));
  EXPECT_TRUE(b.logs.follow);
  EXPECT_EQ(b.logs.host, "::1");
  EXPECT_EQ(b.logs.port, 4567);
  Cli c;
  ASSERT_FALSE(parse({"logs", "fn", "--endpoint", "http://example.test"}, c));
  EXPECT_EQ(c.logs.port, 80);
}

TEST(Options, LogsErrors) {
  struct Case {
    std::vector<const char*> args;
    std::string message_part;
  };
  std::vector<Case> cases = {
      {{"logs"}, "needs a function name"},
      {{"logs", "--follow"}, "needs a function name"},
      {{"logs", "a", "b"}, "unexpected argument 'b'"},
      {{"logs", "a", "--tail"}, "unknown option '--tail'"},
      {{"logs", "a", "--endpoint"}, "needs a URL"},
      {{"logs", "a", "--endpoint", "https://x:1"}, "not an http:// URL"},
      {{"logs", "a", "--endpoint", "127.0.0.1:4566"}, "not an http:// URL"},
      {{"logs", "a", "--endpoint", "http://:4566"}, "no host"},
      {{"logs", "a", "--endpoint", "http://h:"}, "empty port"},
      {{"logs", "a", "--endpoint", "http://h:99999"}, "no valid port"},
      {{"logs", "a", "--endpoint", "http://h:0"}, "no valid port"},
      {{"logs", "a", "--endpoint", "http://h:1/x"}, "has a path"},
      {{"logs", "a", "--follow=yes"}, "takes no value"},
  };
  for (auto& c : cases) {
    Cli cli;
    auto error = parse(c.args, cli);
    ASSERT_TRUE(error.has_value()) << c.args.back();
    EXPECT_NE(error->find(c.message_part), std::string::npos) << *error;
  }
}

TEST(LogsCommand, PercentEncodesTheName) {
  EXPECT_EQ(percent_encode_segment("my-fn_1.x~"), "my-fn_1.x~");
  EXPECT_EQ(percent_encode_segment("a b/c:d"), "a%20b%2Fc%3Ad");
}

TEST(LogsCommand, CursorHeader) {
  HttpGetResult r;
  EXPECT_FALSE(log_cursor(r).has_value());
  r.headers = {{"Content-Type", "text/plain"}, {"x-stratus-log-cursor", "42"}};
  EXPECT_EQ(log_cursor(r), 42u);
  for (const char* bad : {"", "-1", "4x", "x", "99999999999999999999999"}) {
    r.headers = {{"X-Stratus-Log-Cursor", bad}};
    EXPECT_FALSE(log_cursor(r).has_value()) << bad;
  }
}

TEST(LogsCommand, UnreachableDaemonIsAnError) {
  HttpGetResult result;
  // Port 1 on loopback: nothing listens there in the test environment.
  auto error = http_get("127.0.0.1", 1, "/_stratus/logs/x", std::chrono::milliseconds(1000), result);
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->find("cannot connect"), std::string::npos) << *error;
}

}  // namespace
}  // namespace stratus::emulator
