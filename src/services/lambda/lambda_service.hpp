#pragma once
// Internal: the Lambda service class, shared by the operation table and the stack providers.
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "services/lambda/lambda.hpp"

namespace stratus::services::lambda {

// State is partitioned by (account, region).
struct Partition {
  std::string account;
  std::string region;
};

class LambdaService final : public Service {
 public:
  explicit LambdaService(LambdaDeps deps);
  std::string_view name() const override { return "lambda"; }
  const std::vector<OperationSpec>& operations() const override { return operations_; }

  // Runs an operation synchronously with an input document (after the same validation the dispatcher
  // does for it). For the stack providers and tests; the request (for Invoke) may be null.
  Outcome call(const std::string& operation, const Partition& partition, nlohmann::json input,
               const http::Request* request = nullptr);

  // The stored record of a function, if it exists.
  std::optional<nlohmann::json> load(const Partition& p, const std::string& name);

  const LambdaDeps& deps() const { return deps_; }

 private:
  void build_operations();
  LambdaDeps deps_;
  std::vector<OperationSpec> operations_;
  std::mutex mutex_;  // every read-modify-write of the store's records

  friend struct Ops;
};

}  // namespace stratus::services::lambda
