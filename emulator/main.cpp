// `stratus`: the command-line entry point. See emulator/options.cpp for the commands and flags.
#include <cstdio>

#include <fmt/format.h>

#include "emulator/daemon.hpp"
#include "emulator/logs_command.hpp"
#include "emulator/options.hpp"
#include "emulator/wiring.hpp"
#include "store/store.hpp"
#include "services/service.hpp"
#include "stratus_version.hpp"

int main(int argc, char** argv) {
  using namespace stratus::emulator;
  Cli cli;
  if (auto error = parse_cli(argc, argv, cli)) {
    fmt::print(stderr, "stratus: {}\n\n{}", *error, usage());
    return kExitBadConfig;
  }
  switch (cli.command) {
    case Command::help:
      fmt::print("{}", usage());
      return kExitOk;
    case Command::version:
      fmt::print("stratus {}\n", STRATUS_VERSION);
      return kExitOk;
    case Command::validate:
      if (cli.args.size() != 1) {
        fmt::print(stderr, "usage: stratus validate FILE\n");
        return kExitBadConfig;
      }
      return validate(cli.args[0]);
    case Command::coverage: {
      // The same registrations as serve, over a throwaway store.
      stratus::Status status;
      auto store = stratus::Store::open(stratus::StoreOptions{"", true, false}, status);
      if (!store) {
        fmt::print(stderr, "stratus: cannot open a temporary store: {}\n", status.message);
        return kExitFailure;
      }
      stratus::services::Registry registry;
      ServiceEnvironment environment;
      environment.store = store.get();
      environment.clock = &stratus::SystemClock::instance();
      register_services(environment, registry, nullptr);
      bool any = false;
      for (const auto& entry : stratus::services::catalog()) {
        if (!cli.args.empty() && cli.args[0] != entry.service) continue;
        any = true;
        fmt::print("## {}\n\n{}\n", entry.service, stratus::services::coverage_markdown(registry, entry.service));
      }
      if (!any) {
        fmt::print(stderr, "stratus: unknown service '{}'\n", cli.args.empty() ? "" : cli.args[0]);
        return kExitBadConfig;
      }
      return kExitOk;
    }
    case Command::logs:
      return run_logs(cli.logs);
    case Command::serve:
      return serve(cli.serve);
  }
  return kExitFailure;
}
