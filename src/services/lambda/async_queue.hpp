#pragma once
// Asynchronous invocation (Invoke with InvocationType=Event): the durable event queue, its dispatcher,
// retries and destinations. https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html
//
// Contract, as Lambda behaves:
//   - An accepted event is written to the store before Invoke answers 202, so it survives a restart
//     (kill -9 included, per the store's durability contract) and runs after it. Delivery is at least
//     once: an event that was running when the daemon stopped runs again after the restart, as AWS
//     warns ("your function might receive the same event multiple times").
//     https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
//   - A function error (the handler threw, timed out, crashed, ran out of memory) is retried
//     MaximumRetryAttempts times (EventInvokeConfig of the invoked qualifier; 0..2, default 2), the n-th
//     retry n * LambdaDeps::async_retry_base_ms after the failure (AWS: 1 min, then 2 min).
//   - A throttle (429) or system error (5xx) does not count as an attempt: the event goes back to the
//     queue with an exponential backoff (AWS: 1 s doubling up to 5 min) until it is too old.
//   - An event older than MaximumEventAgeInSeconds (60..21600, default 21600 = 6 h) when it comes up is
//     discarded with condition "EventAgeExceeded".
//   - A function with reserved concurrency 0 sends new events to the on-failure destination without
//     retries (AWS: "Lambda begins sending new events to the configured dead-letter queue or the
//     on-failure event destination, without any retries"); the condition used is "RetriesExhausted"
//     with approximateInvokeCount 0 (AWS does not document it).
//     https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
//   - On the final outcome the destination configured for it (DestinationConfig.OnSuccess /
//     OnFailure) receives the invocation record:
//       {"version": "1.0", "timestamp": "2019-11-14T18:16:05.568Z",
//        "requestContext": {"requestId", "functionArn" (qualified: ...:function:NAME:$LATEST or :ALIAS),
//                           "condition": "Success"|"RetriesExhausted"|"EventAgeExceeded",
//                           "approximateInvokeCount": N},
//        "requestPayload": EVENT,
//        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
//        "responsePayload": RESPONSE or ERROR DOCUMENT}
//     (functionError only on errors; responseContext/responsePayload are left out when the function
//     never ran, e.g. an event that expired while throttled). A payload that is not JSON is sent as
//     a JSON string.
//     https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
//     A Lambda function destination gets the record as a new asynchronous event (same queue, the
//     destination's own EventInvokeConfig). An SQS destination gets it through the event router:
//     Router::send(Event{type "lambda:DestinationRecord", detail = the record}, Target{kind "queue",
//     arn}) (the "queue" kind sends the detail as the message body). SNS, EventBridge and S3
//     destinations have no target kind in Stratus yet: their records are logged as undeliverable.
//     Records are sent whatever their size; one over SQS's 256 KB message limit is refused by the queue
//     and logged (AWS documents no truncation for SQS destinations).
//   - Dead-letter queue (the function's DeadLetterConfig.TargetArn, an SQS queue): an event that fails
//     for good (RetriesExhausted or EventAgeExceeded) is also sent there, in addition to any OnFailure
//     destination, as AWS does: the body is the event payload as it was invoked, with the message
//     attributes RequestID (String, the invocation's request id), ErrorCode (Number, the 3-digit HTTP
//     status of the last attempt: 200 for a function error, 429 for a throttle) and ErrorMessage (String,
//     the first 1 KB of the error message).
//     https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html#invocation-dlq
//     An SNS topic as TargetArn is logged as undeliverable (no "topic" target kind yet).
//
// Store layout (Column::lambda): (account, region, "async", due_ms:i64, id) -> the event as JSON:
//   {"id": request id, "account", "region", "function": NAME, "qualifier": as invoked ("" = $LATEST),
//    "payload": the event text, "enqueued_ms", "invocations", "errors", "throttles",
//    "last": {"status", "functionError", "executedVersion", "payload"} (the latest response, if any)}
// Rescheduling moves the key (one atomic batch); the final outcome erases it in the same batch that
// enqueues a function destination's event.
//
// Threads: one timer thread (LambdaDeps::async_background) wakes at the earliest due time (at most
// every second, so a clock that jumps is noticed) and hands due events to the FunctionExecutor; it
// never waits on an invocation. Completions arrive on the executor's threads.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "common/clock.hpp"
#include "events/router.hpp"
#include "services/lambda/executor.hpp"
#include "store/store.hpp"

namespace stratus::services::lambda {

struct AsyncOptions {
  std::int64_t retry_base_ms = 60'000;
  std::int64_t throttle_base_ms = 1'000;
  std::int64_t throttle_max_ms = 300'000;
  bool background = true;
  std::size_t max_in_flight = 64;  // events handed to the executor and not yet answered
};

// What the control plane tells the queue about the function an event is for, at dispatch time.
struct AsyncTarget {
  std::optional<FunctionConfig> config;  // nullopt: the function or qualifier no longer exists
  nlohmann::json event_invoke = nlohmann::json::object();  // EventInvokeConfig of the qualifier, or {}
  std::string invoked_arn;  // qualified ARN as invoked (requestContext.functionArn)
  std::string dead_letter_arn;  // DeadLetterConfig.TargetArn of the version that runs, or ""
};
using AsyncResolver = std::function<AsyncTarget(const std::string& account, const std::string& region,
                                                const std::string& function, const std::string& qualifier)>;

class AsyncQueue : public std::enable_shared_from_this<AsyncQueue> {
 public:
  AsyncQueue(Store* store, const Clock* clock, std::shared_ptr<FunctionExecutor> executor,
             events::Router* router, AsyncOptions options, AsyncResolver resolver);
  ~AsyncQueue();
  AsyncQueue(const AsyncQueue&) = delete;
  AsyncQueue& operator=(const AsyncQueue&) = delete;

  // Loads the events the store holds (from before a restart) and starts the timer thread if asked.
  void start();
  // Stops the timer thread; completions arriving later are ignored (their events stay in the store and
  // run again after a restart). Idempotent. Call before the store closes.
  void stop();

  // Durably queues one event, due now. `id` is the Invoke request id. Fails only when the store does.
  Status enqueue(const std::string& id, const std::string& account, const std::string& region,
                 const std::string& function, const std::string& qualifier, const std::string& payload);

  // Hands every due event to the executor (up to max_in_flight at once); returns how many. The timer
  // thread calls this; tests with a ManualClock call it directly.
  std::size_t process_due();

  // Counters for /_stratus/: accepted, queued, in_flight, invocations, succeeded, function_errors,
  // retries, throttled, retries_exhausted, expired, dropped, destinations {function, router,
  // undeliverable, dead_letter}.
  nlohmann::json stats() const;

 private:
  struct Counters {
    std::uint64_t accepted = 0, invocations = 0, succeeded = 0, function_errors = 0, retries = 0,
                  throttled = 0, retries_exhausted = 0, expired = 0, dropped = 0, to_function = 0,
                  to_router = 0, undeliverable = 0, to_dead_letter = 0;
  };
  static std::string key_for(const nlohmann::json& event, std::int64_t due_ms);
  void load();
  void run();
  void dispatch(const std::string& key);
  void complete(const std::string& key, nlohmann::json event, const AsyncTarget& target, InvokeResult result);
  // A delivery to send through the router once mutex_ is released.
  struct Outgoing {
    events::Event event;
    events::Target target;
    std::string what;  // "destination" or "dead-letter queue", for the log
  };
  // Ends an event: erases `key`, delivers the record to the destination for `condition` (if any) and,
  // for a failure, the event to the dead-letter queue. Called with mutex_ held; returns what to send to
  // the router after unlocking.
  std::vector<Outgoing> finish(const std::string& key, const nlohmann::json& event, const AsyncTarget& target,
                               const std::string& condition);
  // Sends to the router (without mutex_ held); a failed delivery is logged.
  void send(std::vector<Outgoing> outgoing);
  void reschedule(const std::string& key, nlohmann::json event, std::int64_t due_ms);
  nlohmann::json record(const nlohmann::json& event, const AsyncTarget& target,
                        const std::string& condition) const;

  Store* store_;
  const Clock* clock_;
  std::shared_ptr<FunctionExecutor> executor_;
  events::Router* router_;
  AsyncOptions options_;
  AsyncResolver resolver_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::multimap<std::int64_t, std::string> pending_;  // due_ms -> store key
  std::size_t in_flight_ = 0;
  bool stopped_ = false;
  Counters counters_;
  std::thread thread_;
};

}  // namespace stratus::services::lambda
