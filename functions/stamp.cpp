// Writes the wall-clock time (CLOCK_REALTIME, nanoseconds since the epoch) at which the handler was
// entered, before anything else happens, as one log line per SQS record:
//   STAMP <entry_ns> <messageId> <body>
// (one line "STAMP <entry_ns> - -" for an event without Records). The benchmark's esm_latency workload
// compares it with the time it sent the message. Written against the C ABI so that no event parsing runs
// before the clock is read. Returns {}.
#include <stratus/function.h>
#include <time.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

extern "C" STRATUS_EXPORT int stratus_function_abi_version(void) { return STRATUS_ABI_VERSION; }

extern "C" STRATUS_EXPORT int stratus_function_handle(const stratus_invocation* inv, stratus_response* resp) {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  const std::string stamp =
      "STAMP " + std::to_string(static_cast<std::int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec) + " ";
  std::string lines;
  auto event = nlohmann::json::parse(inv->event, inv->event + inv->event_length, nullptr, false);
  if (event.is_object() && event.contains("Records") && event["Records"].is_array()) {
    for (const auto& record : event["Records"]) {
      if (!record.is_object()) continue;
      lines += stamp + record.value("messageId", std::string("-")) + " " + record.value("body", std::string("-")) + "\n";
    }
  }
  if (lines.empty()) lines = stamp + "- -\n";
  inv->log(inv->host, lines.data(), lines.size());
  resp->write(resp->host, "{}", 2);
  return 0;
}
