// Cold versus warm: init runs once per instance; the counter lives as long as the instance.
#include <unistd.h>

#include <chrono>
#include <stratus/function.hpp>

static long g_count = 0;
static long long g_init_ms = 0;

static void init(stratus::InitContext& ctx) {
  g_init_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  ctx.log("counter: init");
}

static nlohmann::json handler(const nlohmann::json&, stratus::Context&) {
  return {{"count", ++g_count}, {"init_ms", g_init_ms}, {"pid", static_cast<long>(::getpid())}};
}

STRATUS_INIT(init)
STRATUS_HANDLER(handler)
