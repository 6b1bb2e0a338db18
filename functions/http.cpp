// An API Gateway Lambda proxy handler for tests and examples. By default it answers 200 with the event it
// received as a JSON body ({"event": ...}). A JSON request body can steer it:
//   {"respond": <any JSON>}  returns that value as the function's response (statusCode, headers, cookies,
//                            multiValueHeaders, isBase64Encoded, body: or anything malformed)
//   {"sleep_ms": N}          sleeps first (integration timeouts)
//   {"fail": "message"}      throws (a function error)
#include <chrono>
#include <stdexcept>
#include <stratus/function.hpp>
#include <thread>

static nlohmann::json handler(const nlohmann::json& event, stratus::Context&) {
  nlohmann::json steer;
  if (event.is_object() && event.contains("body") && event["body"].is_string() &&
      !event.value("isBase64Encoded", false))
    steer = nlohmann::json::parse(event["body"].get<std::string>(), nullptr, false);
  if (steer.is_object()) {
    if (steer.contains("sleep_ms")) std::this_thread::sleep_for(std::chrono::milliseconds(steer["sleep_ms"].get<long>()));
    if (steer.contains("fail")) throw std::runtime_error(steer["fail"].dump());
    if (steer.contains("respond")) return steer["respond"];
  }
  return {{"statusCode", 200},
          {"headers", {{"Content-Type", "application/json"}}},
          {"body", nlohmann::json{{"event", event}}.dump()}};
}
STRATUS_HANDLER(handler)
