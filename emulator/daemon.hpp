#pragma once
#include "emulator/options.hpp"

namespace stratus::emulator {

// Exit codes of `stratus serve`.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;      // cannot start: port taken, data directory in use or unreadable
inline constexpr int kExitBadConfig = 2;    // invalid command line or stack file

// Runs the daemon until SIGTERM or SIGINT. Prints `stratus ready on http://HOST:PORT` on stdout once it
// accepts connections. On a signal: stops accepting, lets in-flight requests finish (up to
// options.shutdown_grace), stops services, closes the store, returns kExitOk.
int serve(const ServeOptions& options);

// `stratus validate FILE`: checks a stack file, prints its resources in apply order. Exit 0 or 2.
int validate(const std::string& file);

}  // namespace stratus::emulator
