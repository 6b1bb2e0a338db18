#pragma once
// Runs Lambda invocations on the function runtime: the adapter between the Lambda API's FunctionExecutor
// (src/services/lambda/executor.hpp) and runtime::Pool (src/runtime/pool.hpp).
//
// Threading: pools are not thread-safe and live on this executor's own io_context thread; every call
// posts to it, so the caller (an HTTP thread) never waits on a worker.
// Pools: one per qualified function ARN. When a version's code or configuration changes, new invocations
// go to a new pool; the old one is shut down once its in-flight invocations can no longer be running
// (after its timeout), so busy instances finish.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "runtime/log_buffer.hpp"
#include "services/lambda/executor.hpp"

namespace stratus::emulator {

struct RuntimeExecutorOptions {
  std::string endpoint_url;   // AWS_ENDPOINT_URL given to functions: back to this daemon
  std::string work_dir;       // library snapshots; empty: a private temporary directory
  int account_concurrency = 1000;
  std::int64_t keep_warm_ms = 5 * 60 * 1000;
  int spare_workers = 1;  // runtime::SpareWorkers shared by all pools, started with the executor
};

class RuntimeExecutor final : public services::lambda::FunctionExecutor {
 public:
  RuntimeExecutor(const Clock& clock, RuntimeExecutorOptions options);
  ~RuntimeExecutor() override;

  void invoke(const services::lambda::FunctionConfig& config, std::string payload,
              services::lambda::InvocationType type,
              std::function<void(services::lambda::InvokeResult)> done) override;
  void provisioned_concurrency_changed(const services::lambda::FunctionConfig& config) override;
  void function_removed(const std::string& function_arn, const std::string& version) override;
  void function_updated(const services::lambda::FunctionConfig& config) override;

  // Every pool's stats (instances cold/warm/busy, cold starts, throttles, errors, durations), for
  // GET /_stratus/functions. Blocks the caller until the runtime thread answers (at most ~1 s).
  nlohmann::json stats();
  // Log lines of one function (all its versions), oldest first, for GET /_stratus/logs/NAME[?since=SEQ]:
  // without `since` the newest max_bytes, with it the lines after that cursor (runtime::read_logs). Every
  // pool numbers its lines from one sequence, so a cursor covers all versions. A cursor the sequence has
  // not reached yet comes from an earlier daemon process: it reads as 0 (everything still held).
  runtime::LogPage logs(const std::string& function_name, std::optional<std::uint64_t> since,
                        std::size_t max_bytes);
  // Appends `text` to the log source `name` (an API Gateway stage's access log group), numbered from the
  // same sequence as function logs, so that logs(name) and `stratus logs NAME [--follow]` read it as they
  // read a function. Returns at once (posted to the runtime thread).
  void append_log(const std::string& name, std::int64_t time_ms, std::string text);
  // Kills every instance and stops the runtime thread. Idempotent.
  void shutdown();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace stratus::emulator
