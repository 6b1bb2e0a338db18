#include "emulator/options.hpp"

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
}

TEST(Options, AllFlags) {
  Cli cli;
  ASSERT_FALSE(parse({"serve", "--host", "0.0.0.0", "--port=0", "--ephemeral", "--config", "c.yaml", "--account-id",
                      "123456789012", "--log-level", "debug", "--log-format", "json", "--threads", "3",
                      "--header-timeout-ms", "300", "--idle-timeout-ms=400", "--region", "eu-west-1"},
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

}  // namespace
}  // namespace stratus::emulator
