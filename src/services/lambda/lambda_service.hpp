#pragma once
// Internal: the Lambda service class, shared by the operation table and the stack providers.
#include <mutex>
#include <unordered_map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "services/lambda/async_queue.hpp"
#include "services/lambda/esm.hpp"
#include "services/lambda/lambda.hpp"

namespace stratus::services::lambda {

// State is partitioned by (account, region).
struct Partition {
  std::string account;
  std::string region;
};

// The botocore model's validation of `input` for `operation`, except that Runtime may also be
// "stratus.cpp" (not in AWS's enum). Every Lambda operation handler (functions and mappings) starts with it.
std::optional<AwsError> validate_lambda_input(const std::string& operation, const nlohmann::json& input);

class LambdaService final : public Service {
 public:
  explicit LambdaService(LambdaDeps deps);
  ~LambdaService() override;
  std::string_view name() const override { return "lambda"; }
  // Stops the asynchronous-invocation dispatcher (queued events stay in the store).
  void shutdown() override;
  const std::vector<OperationSpec>& operations() const override { return operations_; }

  // Runs an operation synchronously with an input document (after the same validation the dispatcher
  // does for it). For the stack providers and tests; the request (for Invoke) may be null.
  Outcome call(const std::string& operation, const Partition& partition, nlohmann::json input,
               const http::Request* request = nullptr);

  // The stored record of a function, if it exists.
  std::optional<nlohmann::json> load(const Partition& p, const std::string& name);

  const LambdaDeps& deps() const { return deps_; }

  // Asynchronous invocation (async_queue.hpp): runs the events due now by deps().clock and returns how
  // many were handed to the executor (unit tests with a ManualClock and async_background = false);
  // and the queue's counters. Both are no-ops without a store.
  std::size_t process_due_events();
  nlohmann::json async_stats() const;

  // Event source mappings (esm.hpp): runs the pollers' tasks due now (unit tests with a ManualClock and
  // async_background = false) and the per-mapping counters. No-ops without a store or queues.
  std::size_t process_due_polls();
  nlohmann::json esm_stats() const;
  // For the FunctionInvoker (invoker.cpp): the executor's view of the version that `function` (a name,
  // name:qualifier, partial or full ARN, as Invoke's FunctionName) and `qualifier` designate, aliases
  // resolved (with their routing weights) as Invoke resolves them. An error as Invoke answers it.
  std::optional<AwsError> resolve_invocation(const Partition& p, const std::string& function,
                                             const std::string& qualifier, FunctionConfig& config);

 private:
  void build_operations();
  void build_esm_operations();  // esm_api.cpp
  void load_mappings();         // esm_api.cpp
  LambdaDeps deps_;
  std::vector<OperationSpec> operations_;
  std::mutex mutex_;  // every read-modify-write of the store's records
  std::shared_ptr<AsyncQueue> async_;  // null without a store
  std::shared_ptr<SqsPollers> pollers_;  // null without a store or queues

  // Parsed function records by store key: Invoke reads its function's record on every call, and parsing
  // it was a quarter of a warm invoke's cost. The store stays the truth: every write of a record goes
  // through store_record()/erase_record(), which keep this in step.
  void store_record(const std::string& key, const nlohmann::json& rec);
  void erase_record(const std::string& key);
  Status put_record(const std::string& key, const nlohmann::json& rec);
  Status delete_record(const std::string& key);
  std::mutex cache_mutex_;
  std::uint64_t cache_generation_ = 0;  // bumped by every write; a read caches only if unchanged
  std::unordered_map<std::string, std::shared_ptr<const nlohmann::json>> record_cache_;

  friend struct Ops;
  friend struct EsmOps;
};

}  // namespace stratus::services::lambda
