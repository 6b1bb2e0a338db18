// Lambda's side of the FunctionInvoker seam (services/function_invoker.hpp): what API Gateway's Lambda
// proxy integrations (and later other synchronous callers) use to run a function. Resolves the name as
// Invoke does (name, name:qualifier, partial or full ARN, aliases with routing weights), applies Invoke's
// checks that concern a synchronous invocation (payload limit, reserved concurrency 0) and runs it through
// the same FunctionExecutor, so a function behaves the same whether called by Invoke or by a service.
// https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
#include "services/function_invoker.hpp"
#include "services/lambda/lambda_service.hpp"
#include "services/lambda/names.hpp"

namespace stratus::services::lambda {

namespace {

// Synchronous invocation payload limit: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
constexpr std::size_t kSyncPayloadLimit = 6291456;

using Result = FunctionInvocationResult;

Result failure(Result::Status status, std::string code, std::string message) {
  Result r;
  r.status = status;
  r.error_code = std::move(code);
  r.error_message = std::move(message);
  return r;
}

class LambdaInvoker final : public FunctionInvoker {
 public:
  explicit LambdaInvoker(std::shared_ptr<LambdaService> service) : service_(std::move(service)) {}

  void invoke(FunctionInvocation inv, std::function<void(Result)> done) override {
    Partition p{inv.account, inv.region};
    // A full ARN names its region: the function lives there, whatever the caller's region.
    if (auto ref = parse_function_name(inv.function); ref && !ref->region.empty()) p.region = ref->region;
    FunctionConfig config;
    if (auto e = service_->resolve_invocation(p, inv.function, inv.qualifier, config)) {
      auto status = e->code == "ResourceNotFoundException" ? Result::Status::not_found : Result::Status::service_error;
      return done(failure(status, e->code, e->message));
    }
    if (inv.payload.size() > kSyncPayloadLimit)
      return done(failure(Result::Status::service_error, "RequestTooLargeException",
                          "Request must be smaller than 6291456 bytes for the InvokeFunction operation"));
    // Reserved concurrency 0 throttles every synchronous invocation (as Invoke does).
    if (config.reserved_concurrency && *config.reserved_concurrency == 0)
      return done(failure(Result::Status::throttled, "TooManyRequestsException", "Rate Exceeded."));
    std::shared_ptr<FunctionExecutor> executor = service_->deps().executor;
    if (!executor)
      return done(failure(Result::Status::service_error, "NotImplemented",
                          "Stratus cannot run functions in this build yet"));
    std::string version = config.version;
    executor->invoke(config, inv.payload.empty() ? std::string("{}") : std::move(inv.payload),
                     InvocationType::request_response,
                     [done = std::move(done), version = std::move(version)](InvokeResult r) {
                       Result out;
                       out.executed_version = r.executed_version.empty() ? version : r.executed_version;
                       switch (r.status) {
                         case InvokeResult::Status::ok:
                           out.status = Result::Status::ok;
                           out.payload = std::move(r.payload);
                           break;
                         case InvokeResult::Status::function_error:
                           out.status = Result::Status::function_error;
                           out.payload = std::move(r.payload);
                           out.function_error = r.function_error;
                           break;
                         case InvokeResult::Status::throttled:
                           out.status = Result::Status::throttled;
                           out.error_code = "TooManyRequestsException";
                           out.error_message = r.throttle_reason;
                           break;
                         case InvokeResult::Status::service_error:
                           out.status = Result::Status::service_error;
                           out.error_code = r.error_code;
                           out.error_message = r.error_message;
                           break;
                       }
                       done(std::move(out));
                     });
  }

 private:
  std::shared_ptr<LambdaService> service_;
};

}  // namespace

std::shared_ptr<FunctionInvoker> make_function_invoker(const std::shared_ptr<Service>& lambda_service) {
  auto service = std::dynamic_pointer_cast<LambdaService>(lambda_service);
  if (!service) return nullptr;
  return std::make_shared<LambdaInvoker>(std::move(service));
}

}  // namespace stratus::services::lambda
