// Sleeps event.ms milliseconds (default 100), then says so.
#include <chrono>
#include <stratus/function.hpp>
#include <thread>

static nlohmann::json handler(const nlohmann::json& event, stratus::Context& ctx) {
  long ms = event.is_object() ? event.value("ms", 100L) : 100L;
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return {{"slept_ms", ms}, {"remaining_time_in_millis", ctx.remaining_time_in_millis()}};
}
STRATUS_HANDLER(handler)
