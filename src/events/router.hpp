#pragma once
// The event router: the one place through which a service announces something (an S3 object was
// created, an SQS message is available, a DynamoDB item changed, an EventBridge rule matched) and
// through which targets (a function, a queue, a bus) receive it. Services never call each other:
// they publish Events here, and the service owning a kind of target registers a TargetKind that
// delivers to targets of that kind.
//
// Thread-safe: publish, subscribe, unsubscribe, register_target_kind and set_observer may be called
// from any thread concurrently, including from inside a delivery or an observer (the router never
// holds its lock while calling a TargetKind, a predicate, the executor or the observer).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace stratus::events {

struct Event {
  std::string id;          // unique; publish() assigns a UUID when empty
  std::string type;        // e.g. "s3:ObjectCreated:Put", "sqs:MessageAvailable"
  std::string source_arn;  // the resource the event is about
  std::string account;
  std::string region;
  std::int64_t time_ms = 0;  // epoch milliseconds, set by the publisher
  nlohmann::json detail = nlohmann::json::object();
};

struct Target {
  std::string kind;  // "function", "queue", "bus": selects the TargetKind that delivers
  std::string arn;
  nlohmann::json options = nlohmann::json::object();  // kind-specific (input transform, batch size, ...)
};

struct DeliveryResult {
  bool ok = true;
  std::string error_code;     // empty when ok
  std::string error_message;  // empty when ok

  static DeliveryResult success() { return {}; }
  static DeliveryResult failure(std::string code, std::string message) {
    return DeliveryResult{false, std::move(code), std::move(message)};
  }
};

// Implemented by the service that owns a kind of target (Lambda for "function", SQS for "queue"...).
class TargetKind {
 public:
  virtual ~TargetKind() = default;
  // Delivers `event` to `target`. Must call `done` exactly once (later calls are ignored), either
  // before returning or later from any thread. `event` and `target` stay valid until `done` is
  // called. An exception thrown before `done` is called completes the delivery with
  // error_code "DeliveryException".
  virtual void deliver(const Event& event, const Target& target,
                       std::function<void(DeliveryResult)> done) = 0;
};

using SubscriptionId = std::uint64_t;  // never 0

struct Subscription {
  // Exact ARN, "*" for any source, or a prefix followed by '*' ("arn:aws:s3:::photos*").
  std::string source_arn = "*";
  // Event type filters, each exact or ending with '*' ("s3:ObjectCreated:*"). An event matches
  // when any filter matches; an empty list matches every type.
  std::vector<std::string> event_types;
  Target target;
  // Optional extra test (EventBridge patterns); called only when source and type matched, without
  // the router's lock held, possibly from several threads at once.
  std::function<bool(const Event&)> predicate;
};

class Router {
 public:
  // Runs a task, now or later, on any thread. The daemon passes a thread-pool post; tests pass
  // an inline or a queued executor.
  using Executor = std::function<void(std::function<void()>)>;
  // Called once after each delivery completes, on the thread that completed it.
  using Observer = std::function<void(const Event&, const Target&, const DeliveryResult&)>;

  struct Stats {
    std::uint64_t published = 0;  // events passed to publish()
    std::uint64_t unmatched = 0;  // of those, events that matched no subscription
    std::uint64_t scheduled = 0;  // deliveries handed to the executor
    std::uint64_t delivered = 0;  // deliveries completed with ok
    std::uint64_t failed = 0;     // deliveries completed with !ok (including UnknownTargetKind)
  };

  explicit Router(Executor executor);
  // Deliveries still in flight may complete after the router is gone: they only touch shared state
  // that they keep alive themselves.
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Registers (or replaces) the deliverer for targets whose kind is `kind`.
  void register_target_kind(std::string kind, std::shared_ptr<TargetKind> deliverer);

  SubscriptionId subscribe(Subscription subscription);
  // Returns false when `id` is not subscribed. Deliveries already scheduled still complete;
  // no new ones are scheduled once this returns.
  bool unsubscribe(SubscriptionId id);
  std::size_t subscription_count() const;

  // Schedules one delivery through the executor per matching subscription, in subscription order,
  // and returns how many were scheduled. A delivery to a kind with no registered TargetKind
  // completes with ok=false, error_code "UnknownTargetKind"; one the executor throws on completes
  // with "ExecutorRejected".
  std::size_t publish(Event event);

  // Point-to-point delivery (a Lambda destination, a dead-letter queue): schedules one delivery of
  // `event` to `target` through the executor, whatever the subscriptions. `on_done` (optional) is
  // called once with the result, after the observer, on the thread that completed the delivery.
  // Counts as published and scheduled; an unregistered kind completes with "UnknownTargetKind".
  void send(Event event, Target target, std::function<void(DeliveryResult)> on_done = {});

  // Replaces the observer (empty function: none). Deliveries completing concurrently may still
  // see the previous one.
  void set_observer(Observer observer);

  Stats stats() const;

 private:
  struct State;
  struct Delivery;
  void schedule(std::shared_ptr<Delivery> delivery);
  std::shared_ptr<State> state_;
};

// True when `value` matches `pattern`: equal, or `pattern` ends with '*' and `value` starts with
// the text before it ("*" matches everything).
bool wildcard_match(const std::string& pattern, const std::string& value);

}  // namespace stratus::events
