#pragma once
// The Lambda control plane: the REST-JSON API (functions, versions, aliases, concurrency,
// event-invoke configs, tags, Invoke's HTTP semantics) over the store, plus the stack providers for
// AWS::Lambda::Function and AWS::Serverless::Function. Running code is the FunctionExecutor's job.
//
// Code packages (documented in docs/functions.md by the runtime work; summarized here):
//   - Code.ZipFile: a zip holding the function's shared library. Handler is the path of the .so inside
//     the zip ("libecho.so", "build/handler.so"). The zip is unpacked to
//     <data_dir>/lambda/<account>/<region>/<function>/<sha256-hex>/ and the library loaded from there.
//     CodeSha256 = base64(SHA-256(zip)), CodeSize = zip size, as AWS computes them.
//   - Hot reload (LocalStack's convention): Code {S3Bucket: "hot-reload", S3Key: "/abs/path"}. S3Key is
//     the .so itself, or a directory holding Handler. The file is used in place, never copied, so a
//     rebuild is picked up by the runtime. CodeSha256/CodeSize are those of the file when the code was
//     last set (CreateFunction / UpdateFunctionCode), not of later rebuilds.
//   - Runtime must be "provided.al2023", "provided.al2", "provided" or "stratus.cpp".
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "events/router.hpp"
#include "services/function_invoker.hpp"
#include "services/lambda/executor.hpp"
#include "services/queue_source.hpp"
#include "services/service.hpp"
#include "stack/stack_file.hpp"
#include "store/store.hpp"

namespace stratus::services::lambda {

struct LambdaDeps {
  Store* store = nullptr;
  const Clock* clock = nullptr;
  // Code is unpacked under <data_dir>/lambda/...; for an ephemeral store pass store->data_dir().
  std::string data_dir;
  std::string account_id = "000000000000";
  // Runs invocations; may be null (Invoke then answers 501 NotImplemented).
  std::shared_ptr<FunctionExecutor> executor;
  // Account concurrency limit reported by GetAccountSettings and used for the reservation check.
  int account_concurrency_limit = 1000;

  // --- Asynchronous invocation (InvocationType=Event; see async_queue.hpp) ---
  // Where destination records for SQS destinations and dead-letter queues are sent (Router::send to
  // target kind "queue"). May be null: such records are then only logged. Must outlive the service (or
  // its shutdown()).
  events::Router* router = nullptr;
  // Delay before retry n (1, 2) of an event whose function returned an error: n * base. AWS waits 1 min
  // before the second attempt and 2 min before the third, so the default is 60000; tests and local
  // development usually want something like 100.
  // https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
  // Until the daemon has a flag for it, make_lambda_service takes it from the environment variable
  // STRATUS_ASYNC_RETRY_BASE_MS when set (and this field is at its default).
  std::int64_t async_retry_base_ms = 60'000;
  // Throttles and system errors are retried until the event's maximum age with an exponential backoff
  // from 1 s up to 5 min on AWS: base * 2^(k-1), capped at max.
  std::int64_t async_throttle_base_ms = 1'000;
  std::int64_t async_throttle_max_ms = 300'000;
  // Run due events from a background timer thread (the daemon). false: nothing runs until
  // process_due() is called (unit tests with a ManualClock). The same holds for the event source
  // mappings' pollers (process_due_polls()).
  bool async_background = true;

  // --- Event source mappings (esm.hpp) ---
  // The queues SQS sources are read from; set by emulator/wiring.cpp from the SQS service. Null: no queue
  // exists for Lambda (CreateEventSourceMapping answers that the queue does not exist).
  std::shared_ptr<QueueSource> queues;
  // Pollers per mapping when ScalingConfig.MaximumConcurrency is not set (AWS starts with five).
  int esm_default_pollers = 5;
  // Long poll of each receive, seconds (AWS: 20).
  int esm_wait_seconds = 20;
};

std::shared_ptr<Service> make_lambda_service(LambdaDeps deps);

// The stack provider for `type`: "AWS::Lambda::Function" (Code {S3Bucket: hot-reload, S3Key: path}),
// "AWS::Serverless::Function" (CodeUri: a local .so, a directory holding Handler, or a .zip; relative paths
// are taken from the daemon's working directory; Events of Type SQS become event source mappings;
// DeadLetterQueue) or "AWS::Lambda::EventSourceMapping" (SQS sources; Ref = UUID, GetAtt Id and
// EventSourceMappingArn). `lambda_service` must come from make_lambda_service.
// Returns null for another type.
std::shared_ptr<stack::ResourceProvider> make_function_provider(
    const std::shared_ptr<Service>& lambda_service, std::string_view type);

// Synchronous invocations for other services (API Gateway's Lambda proxy integrations), through the
// seam of services/function_invoker.hpp. `lambda_service` must come from make_lambda_service; null
// otherwise. The invoker keeps the service alive.
std::shared_ptr<FunctionInvoker> make_function_invoker(const std::shared_ptr<Service>& lambda_service);

}  // namespace stratus::services::lambda
