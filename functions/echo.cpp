// Returns the event and what the context says. {"print": "x"} also writes x to stdout ({"repeat": n}
// times, default once), {"log": "y"} writes y through the context logger.
#include <cstdio>
#include <stratus/function.hpp>

static nlohmann::json handler(const nlohmann::json& event, stratus::Context& ctx) {
  if (event.is_object() && event.contains("print")) {
    int repeat = event.value("repeat", 1);
    for (int i = 0; i < repeat; ++i) std::printf("%s\n", event["print"].dump().c_str());
  }
  if (event.is_object() && event.contains("log")) ctx.log(event["log"].dump());
  return {{"event", event},
          {"request_id", ctx.request_id()},
          {"function_name", ctx.function_name()},
          {"function_version", ctx.function_version()},
          {"invoked_function_arn", ctx.invoked_function_arn()},
          {"memory_limit_in_mb", ctx.memory_limit_in_mb()},
          {"remaining_time_in_millis", ctx.remaining_time_in_millis()}};
}
STRATUS_HANDLER(handler)
