// Drives <stratus/aws_client.hpp> for tests/integration/test_aws_client.py: reads one JSON call per stdin
// line, {"service": "sqs", "target": "AmazonSQS.SendMessage", "input": {...}, "json_version": "1.0",
// "sleep_ms": N (before the call)}, and prints one JSON line per call: {"ok": output} or {"error":
// {"status", "code", "message", "what"}}, with "connections" (TCP connections the client opened so far).
// argv[1], if given, is the client's timeout in ms. Built like a function: against include/ and
// nlohmann/json only.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <stratus/aws_client.hpp>
#include <string>
#include <thread>

int main(int argc, char** argv) {
  // argv[1]: the client's timeout in ms (default: the client's own, 10 s).
  stratus::aws::Client client(stratus::aws::detail::env_or("AWS_ENDPOINT_URL", ""),
                              stratus::aws::detail::env_or("AWS_REGION", "us-east-1"),
                              argc > 1 ? std::atoi(argv[1]) : 10000);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    nlohmann::json step = nlohmann::json::parse(line);
    if (step.contains("sleep_ms"))
      std::this_thread::sleep_for(std::chrono::milliseconds(step["sleep_ms"].get<int>()));
    nlohmann::json result;
    try {
      result["ok"] = client.call(step["service"].get<std::string>(), step["target"].get<std::string>(),
                                 step.value("input", nlohmann::json::object()),
                                 step.value("json_version", std::string("1.0")));
    } catch (const stratus::aws::Error& e) {
      result["error"] = {{"status", e.status()}, {"code", e.code()}, {"message", e.message()}, {"what", e.what()}};
    }
    result["connections"] = client.connections_opened();
    std::cout << result.dump() << std::endl;
  }
  return 0;
}
