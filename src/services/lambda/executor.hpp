#pragma once
// What the Lambda API needs from the runtime (src/runtime): run one invocation of one function version.
// The control plane (this folder) resolves names, qualifiers and aliases to a FunctionConfig; the
// executor owns instances, pools, throttling and logs. Kept deliberately small so an adapter over the
// runtime's Pool API is a few lines.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace stratus::services::lambda {

// One function version as the executor sees it (fields mirror runtime::FunctionConfig).
struct FunctionConfig {
  std::string function_name;
  std::string version = "$LATEST";  // "$LATEST" or "1", "2", ... (aliases are already resolved)
  std::string function_arn;         // unqualified: arn:aws:lambda:REGION:ACCOUNT:function:NAME
  std::string qualified_arn;        // function_arn + ":" + version
  std::string account_id;
  std::string region;
  std::string library_path;  // absolute path of the .so to load (hot reload: the user's file)
  std::string handler;       // as configured (the .so path inside the package)
  std::string runtime;       // "provided.al2023", "stratus.cpp", ...
  std::string code_sha256;   // changes whenever the code is replaced
  bool hot_reload = false;   // library_path is the user's file, used in place (watch it)
  int memory_mb = 128;
  std::int64_t timeout_ms = 3000;
  std::map<std::string, std::string> environment;  // Environment.Variables
  std::optional<int> reserved_concurrency;         // PutFunctionConcurrency; 0 = throttle everything
  int provisioned_concurrency = 0;                 // for this version (via alias or version)
};

enum class InvocationType { request_response, event, dry_run };

struct InvokeResult {
  enum class Status {
    ok,              // payload = the function's response
    function_error,  // payload = the error document {"errorMessage","errorType",...}
    throttled,       // 429 TooManyRequestsException with throttle_reason
    service_error,   // the platform failed: error_code/error_message/http_status
  };
  Status status = Status::ok;
  std::string payload;
  std::string function_error = "Unhandled";  // X-Amz-Function-Error when status == function_error
  std::string executed_version;              // X-Amz-Executed-Version; defaults to the config's version
  std::string log_tail;                      // the invocation's log (START .. REPORT); the API keeps 4 KB
  // throttled: Lambda's ThrottleReason ("ReservedFunctionConcurrentInvocationLimitExceeded",
  // "ConcurrentInvocationLimitExceeded", ...) and the Retry-After seconds.
  std::string throttle_reason;
  int retry_after_seconds = 1;
  // service_error: e.g. 500 ServiceException, 502 InvalidRuntimeException / EC2UnexpectedException.
  int http_status = 500;
  std::string error_code = "ServiceException";
  std::string error_message;
};

class FunctionExecutor {
 public:
  virtual ~FunctionExecutor() = default;
  // Runs one invocation. `done` is called exactly once, from any thread. For InvocationType::event
  // the API has already answered 202 and ignores the result (durable async queueing, retries and
  // destinations are the runtime's / async module's job). Never called with dry_run.
  virtual void invoke(const FunctionConfig& config, std::string payload, InvocationType type,
                      std::function<void(InvokeResult)> done) = 0;
  // Notifications so the runtime can start / drop instances ahead of invokes. Default: nothing.
  // Provisioned concurrency for `config.version` is now config.provisioned_concurrency (0 = none).
  virtual void provisioned_concurrency_changed(const FunctionConfig& config) { (void)config; }
  // The function (version empty) or one version was deleted, or its code/configuration changed
  // (`config` holds the new state). Busy instances may finish; idle ones should be dropped.
  virtual void function_removed(const std::string& function_arn, const std::string& version) {
    (void)function_arn;
    (void)version;
  }
  virtual void function_updated(const FunctionConfig& config) { (void)config; }
};

}  // namespace stratus::services::lambda
