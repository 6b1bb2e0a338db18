#pragma once
// Event source mappings for SQS queues: the pollers that read a queue through QueueSource, invoke the
// function synchronously with a batch, and delete what succeeded.
// https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
// https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
//
// Contract, as Lambda behaves:
//   - Per enabled mapping, a number of pollers (concurrent batches) that scales with the queue's depth
//     (scale_pollers): it starts at PollerOptions::default_pollers (AWS starts with five) or
//     ScalingConfig.MaximumConcurrency when that is lower, grows while messages wait, up to
//     MaximumConcurrency (or kMaxPollers when it is not set, and never past kMaxPollers: a laptop's bound),
//     and shrinks back when the queue is empty. Never more than the function's reserved concurrency when
//     that is set (0 = nothing is polled).
//   - A poller long-polls (wait_seconds up to 20) for up to min(10, BatchSize - gathered) messages. With
//     MaximumBatchingWindowInSeconds 0 it invokes as soon as a receive returns messages; otherwise it keeps
//     gathering until BatchSize messages or until the window (counted from the batch's first message)
//     has passed.
//   - The function runs synchronously through FunctionExecutor (the path Invoke takes), resolved from the
//     mapping's FunctionArn (name and optional qualifier) when each batch starts.
//   - Success: the whole batch is deleted. Function error, timeout, crash: nothing is deleted; the
//     messages come back after the queue's visibility timeout and SQS's redrive policy moves them to the
//     DLQ after maxReceiveCount receives. Throttle or service error: nothing is deleted, the poller backs
//     off.
//   - With FunctionResponseTypes [ReportBatchItemFailures] a successful response is read as
//     {"batchItemFailures": [{"itemIdentifier": messageId}, ...]} (parse_batch_response): see there.
//   - Disabling or deleting a mapping cancels its waiting polls (QueueSource::cancel_receive), releases
//     messages it gathered but has not invoked yet (visibility 0), lets in-flight batches finish
//     (their deletes still happen), and starts nothing new.
//   - A receive error (the queue was deleted) or a function that no longer exists is retried with an
//     exponential backoff (backoff_base_ms doubling up to backoff_max_ms) and reported in
//     LastProcessingResult "PROBLEM: <message>"; the next good batch sets it back to "OK".
//
// Threads: no thread waits per poller. Receives complete through QueueSource's callbacks, invocations
// through FunctionExecutor's; every continuation (the next poll, a retry after backoff, the end of a
// batching window) is a task on one timer queue, run by one background thread (PollerOptions::background)
// or, in unit tests with a ManualClock, by run_due().
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "services/lambda/executor.hpp"
#include "services/queue_source.hpp"

namespace stratus::services::lambda {

// The SQS event Lambda sends a function for `batch`, exactly as documented ("Using Lambda with Amazon
// SQS", example standard and FIFO queue events): {"Records": [{messageId, receiptHandle, body,
// attributes, messageAttributes (lowerCamel: stringValue | binaryValue, stringListValues [],
// binaryListValues [], dataType), md5OfBody, eventSource "aws:sqs", eventSourceARN, awsRegion}]}.
// Keys keep the documented order.
nlohmann::ordered_json sqs_event(const std::vector<QueueMessage>& batch, const std::string& queue_arn,
                                 const std::string& region);

// What a function's response with ReportBatchItemFailures means for a batch.
// https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html#services-sqs-batchfailurereporting
//   - an empty or null batchItemFailures (or a response without it, an empty response, or a JSON value that
//     is not an object) means every message succeeded;
//   - listed itemIdentifiers failed and stay in the queue;
//   - a response that is not valid JSON, a batchItemFailures that is not a list, or an itemIdentifier that
//     is missing, empty, not a string or not a messageId of the batch makes the whole batch fail.
struct BatchOutcome {
  bool whole_batch_failed = false;
  std::set<std::string> failed_ids;  // when !whole_batch_failed
  std::string reason;                // why the whole batch failed (for the log)
};
BatchOutcome parse_batch_response(const std::string& payload, const std::vector<QueueMessage>& batch);

// Event filtering (FilterCriteria): `pattern` is one filter's Pattern (parsed), matched against a record of
// the SQS event whose body was parsed as JSON when it is JSON. The EventBridge pattern syntax Lambda
// documents: nested objects; arrays of allowed values (strings, numbers, null, booleans) or matchers
// {"prefix"}, {"suffix"}, {"equals-ignore-case"}, {"anything-but": value | [values] | {"prefix"}},
// {"numeric": [op, n, ...]}, {"exists": bool}. An array in the data matches when any element does.
// https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html
bool filter_matches(const nlohmann::json& pattern, const nlohmann::json& record);
// True when `pattern` is a pattern filter_matches understands (every leaf an array of values/matchers).
bool valid_filter_pattern(const nlohmann::json& pattern);
// The record a filter sees: the event's record with "body" parsed when it is JSON.
nlohmann::json filter_view(const QueueMessage& message, const std::string& queue_arn, const std::string& region);

// Concurrent batches of one mapping, whatever MaximumConcurrency (2..1000) says: each poller is a
// waiting long poll and, while its batch runs, a function instance (a worker process) on this machine.
inline constexpr int kMaxPollers = 32;

// One scaling step of a mapping's pollers, taken every PollerOptions::scale_tick_ms, in the spirit of
// Lambda's SQS scaling (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html: five
// concurrent batches at first; while messages are waiting, up to 300 more per minute, up to the function's
// concurrency or MaximumConcurrency; fewer when the queue is empty or the function throttles):
//   - `visible` messages waiting and no throttle since the last step: up by ceil(visible / batch_size),
//     at most kScaleUpStep (5 a second = AWS's 300 a minute), at most `maximum`;
//   - throttled: down by one (not below `minimum`);
//   - nothing waiting: down by one (not below `minimum`);
// `visible` is the queue's ApproximateNumberOfMessages (-1: unknown, no change).
inline constexpr int kScaleUpStep = 5;
int scale_pollers(int current, int minimum, int maximum, std::int64_t visible, int batch_size, bool throttled);

// One mapping as the pollers see it (the stored record's members that matter here).
struct MappingSpec {
  std::string uuid;
  std::string account;
  std::string region;
  std::string queue_arn;
  std::string function;   // name
  std::string qualifier;  // "" = unqualified ($LATEST)
  int batch_size = 10;
  int window_seconds = 0;
  int max_concurrency = 0;  // ScalingConfig.MaximumConcurrency; 0 = not set
  bool report_failures = false;
  bool enabled = true;
  // FilterCriteria.Filters[].Pattern, parsed; a message reaches the function when any matches (none: all).
  // Lambda deletes SQS messages that match no filter.
  std::vector<nlohmann::json> filters;
};

struct PollerOptions {
  bool background = true;        // run the timer queue on a thread of its own (the daemon)
  int default_pollers = 5;       // AWS's initial scale for an SQS mapping
  int wait_seconds = 20;         // long poll of each receive
  std::int64_t backoff_base_ms = 1'000;
  std::int64_t backoff_max_ms = 30'000;
  std::int64_t scale_tick_ms = 1'000;  // how often scale_pollers is applied
};

// nullopt when the function (or the qualifier) no longer exists.
using FunctionResolver = std::function<std::optional<FunctionConfig>(
    const std::string& account, const std::string& region, const std::string& function,
    const std::string& qualifier)>;

class SqsPollers : public std::enable_shared_from_this<SqsPollers> {
 public:
  SqsPollers(std::shared_ptr<QueueSource> queues, std::shared_ptr<FunctionExecutor> executor, const Clock* clock,
             FunctionResolver resolver, PollerOptions options);
  ~SqsPollers();
  SqsPollers(const SqsPollers&) = delete;
  SqsPollers& operator=(const SqsPollers&) = delete;

  // Starts the timer thread when options.background.
  void start();
  // Stops every mapping (as disable does, but in-flight batches no longer delete: the queue may be gone)
  // and the timer thread. Idempotent; call before the store and the queues close.
  void stop();

  // Starts, restarts (new settings) or stops (disabled) the pollers of one mapping.
  void apply(const MappingSpec& spec);
  // Stops the pollers of a deleted mapping and forgets its counters.
  void remove(const std::string& uuid);

  // Runs the tasks due now by the clock; returns how many ran. The timer thread calls it; unit tests call
  // it in a loop until it returns 0.
  std::size_t run_due();

  // LastProcessingResult of a mapping ("No records processed", "OK", "PROBLEM: ..."), or "" if unknown.
  std::string last_processing_result(const std::string& uuid) const;
  // Counters per mapping: {uuid: {"queue", "function", "enabled", "pollers" (now), "max_pollers", "polling",
  // "in_flight",
  // "batches", "messages", "deleted", "failed", "function_errors", "throttles", "receive_errors",
  // "filtered_out", "last_processing_result"}}.
  nlohmann::json stats() const;

 private:
  struct Slot {
    std::vector<QueueMessage> gathered;
    std::int64_t window_deadline_ms = 0;
    std::uint64_t batch_seq = 0;  // bumped when a batch is handed to the function
    bool polling = false;
    std::uint64_t poll_seq = 0;
    std::optional<QueueSource::PollId> poll_id;
    int failures = 0;  // consecutive receive/resolve problems (backoff exponent)
    bool parked = false;  // beyond `active`: its loop stopped until the mapping scales up again
  };
  struct Runner {
    MappingSpec spec;
    bool stopped = false;
    std::vector<Slot> slots;  // as many as the mapping may scale to
    int active = 0;           // pollers now (scale_pollers): slots [0, active) run
    int minimum = 0;
    std::uint64_t throttles_seen = 0;
    int in_flight = 0;
  };
  struct Counters {
    std::uint64_t batches = 0, messages = 0, deleted = 0, failed = 0, function_errors = 0, throttles = 0,
                  receive_errors = 0, filtered_out = 0;
    std::string last_result = "No records processed";
  };

  void post(std::int64_t due_ms, std::function<void()> task);
  void poll(const std::shared_ptr<Runner>& runner, std::size_t slot);
  void received(const std::shared_ptr<Runner>& runner, std::size_t slot, std::uint64_t poll_seq,
                QueueReceiveResult result);
  void window_elapsed(const std::shared_ptr<Runner>& runner, std::size_t slot, std::uint64_t batch_seq);
  void invoke(const std::shared_ptr<Runner>& runner, std::size_t slot, std::vector<QueueMessage> batch);
  void finished(const std::shared_ptr<Runner>& runner, std::size_t slot, const std::vector<QueueMessage>& batch,
                const InvokeResult& result);
  // Stops a runner: cancels its polls and releases what it gathered. Called without mutex_ held.
  void halt(const std::shared_ptr<Runner>& runner);
  // One scaling step (every options_.scale_tick_ms while the runner lives).
  void scale(const std::shared_ptr<Runner>& runner);
  std::int64_t backoff_ms(int failures) const;
  void problem(const std::string& uuid, const std::string& message);

  std::shared_ptr<QueueSource> queues_;
  std::shared_ptr<FunctionExecutor> executor_;
  const Clock* clock_;
  FunctionResolver resolver_;
  PollerOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopped_ = false;
  std::map<std::string, std::shared_ptr<Runner>> runners_;  // by uuid
  std::map<std::string, Counters> counters_;                // by uuid
  std::multimap<std::int64_t, std::function<void()>> tasks_;
  std::thread thread_;
};

}  // namespace stratus::services::lambda
