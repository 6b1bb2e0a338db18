// Init throws: every cold start fails, as a function whose module-level code raises does on Lambda.
#include <cstdio>
#include <stdexcept>
#include <stratus/function.hpp>

static void init(stratus::InitContext&) {
  std::printf("init_fail: connecting to nowhere\n");
  throw std::runtime_error("init failed on purpose");
}
static nlohmann::json handler(const nlohmann::json&, stratus::Context&) { return "unreachable"; }

STRATUS_INIT(init)
STRATUS_HANDLER(handler)
