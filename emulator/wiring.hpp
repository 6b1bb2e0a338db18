#pragma once
// The one place that knows every service: registers them in the registry and their stack providers in
// the applier. Used by `serve` and by `coverage`, so the coverage tables show what `serve` runs.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/clock.hpp"
#include "events/router.hpp"
#include "services/lambda/executor.hpp"
#include "services/service.hpp"
#include "stack/stack_file.hpp"
#include "store/store.hpp"

namespace stratus::emulator {

struct ServiceEnvironment {
  Store* store = nullptr;
  const Clock* clock = nullptr;
  std::string account_id = "000000000000";
  // Runs Lambda invocations; null until the runtime is wired (Invoke then answers 501).
  std::shared_ptr<services::lambda::FunctionExecutor> function_executor;
  // Where cross-service effects go (Lambda destinations to queues, buses, topics). May be null.
  events::Router* router = nullptr;
  // Base delay of Lambda's asynchronous retries after a function error (AWS: 1 min, then 2 min).
  std::int64_t async_retry_base_ms = 60'000;
  // HOST:PORT for URLs built without a request (SQS QueueUrls of stack resources); "localhost:4566" when empty.
  std::string endpoint_host;
  // Where API Gateway stages write access-log lines: (log group, time, line). May be null.
  std::function<void(const std::string& log_group, std::int64_t time_ms, std::string line)> access_log;
};

// Registers every service of this build; `applier` may be null (coverage).
void register_services(const ServiceEnvironment& env, services::Registry& registry,
                       stack::StackApplier* applier);

}  // namespace stratus::emulator
