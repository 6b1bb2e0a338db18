#pragma once
// What services that call functions synchronously need from Lambda (API Gateway's Lambda proxy
// integrations and authorizers; later EventBridge and S3 targets): invoke a function by name or ARN and
// get its response. Lambda implements it (resolving names, ARNs, aliases and versions, checking
// concurrency, running the invocation through the runtime); emulator/wiring.cpp hands it to the caller, so
// the services never include each other.
#include <functional>
#include <string>

namespace stratus::services {

struct FunctionInvocation {
  std::string account;   // the caller's account and region, used when `function` is a bare name
  std::string region;
  // A name ("orders"), a name with a qualifier ("orders:live"), a partial ARN ("000000000000:function:orders")
  // or a full ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]), as Invoke's FunctionName.
  std::string function;
  std::string qualifier;  // optional; a qualifier inside `function` wins when both are given
  std::string payload;    // the event document (JSON text)
};

struct FunctionInvocationResult {
  enum class Status {
    ok,              // payload = the function's response
    function_error,  // payload = Lambda's error document {"errorMessage","errorType",...}
    throttled,       // the function or the account is at its concurrency limit
    not_found,       // no such function / version / alias
    service_error,   // anything else the platform failed with (error_code / error_message)
  };
  Status status = Status::ok;
  std::string payload;
  std::string function_error;  // "Unhandled" when status == function_error
  std::string error_code;      // throttled / not_found / service_error: Lambda's error code
  std::string error_message;
  std::string executed_version;
};

class FunctionInvoker {
 public:
  virtual ~FunctionInvoker() = default;
  // Runs one synchronous (RequestResponse) invocation. `done` is called exactly once, from any thread,
  // possibly after this returns. Never blocks the caller's thread on the function.
  virtual void invoke(FunctionInvocation invocation, std::function<void(FunctionInvocationResult)> done) = 0;
};

}  // namespace stratus::services
