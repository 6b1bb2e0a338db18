// The asynchronous invocation queue; the contract is in async_queue.hpp.
#include "services/lambda/async_queue.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <vector>

#include "common/ids.hpp"
#include "common/log.hpp"
#include "services/lambda/names.hpp"
#include "store/key_codec.hpp"

namespace stratus::services::lambda {

using nlohmann::json;

namespace {

// https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html (defaults)
constexpr int kDefaultMaxRetries = 2;
constexpr std::int64_t kDefaultMaxAgeSeconds = 21600;
constexpr std::size_t kLoggedRecordBytes = 4096;

// The record's timestamp: "2019-11-14T18:16:05.568Z".
std::string iso_timestamp(std::int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
}

// A payload as it appears in a record: its JSON, or the text as a JSON string when it is not JSON.
json payload_json(const std::string& text) {
  json parsed = json::parse(text, nullptr, false);
  return parsed.is_discarded() ? json(text) : parsed;
}

std::string text(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t integer(const json& j, const char* key, std::int64_t fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : fallback;
}

// DestinationConfig.<which>.Destination of an EventInvokeConfig, or "".
std::string destination(const json& event_invoke, const char* which) {
  auto dc = event_invoke.find("DestinationConfig");
  if (dc == event_invoke.end() || !dc->is_object()) return {};
  auto d = dc->find(which);
  if (d == dc->end() || !d->is_object()) return {};
  return text(*d, "Destination");
}

std::string truncated(std::string s) {
  if (s.size() > kLoggedRecordBytes) s = s.substr(0, kLoggedRecordBytes) + "...";
  return s;
}

}  // namespace

AsyncQueue::AsyncQueue(Store* store, const Clock* clock, std::shared_ptr<FunctionExecutor> executor,
                       events::Router* router, AsyncOptions options, AsyncResolver resolver)
    : store_(store),
      clock_(clock),
      executor_(std::move(executor)),
      router_(router),
      options_(options),
      resolver_(std::move(resolver)) {}

AsyncQueue::~AsyncQueue() { stop(); }

std::string AsyncQueue::key_for(const json& event, std::int64_t due_ms) {
  return KeyBuilder()
      .add_string(text(event, "account"))
      .add_string(text(event, "region"))
      .add_string("async")
      .add_i64(due_ms)
      .add_string(text(event, "id"))
      .build();
}

void AsyncQueue::start() {
  load();
  if (options_.background) thread_ = std::thread([this] { run(); });
}

void AsyncQueue::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

// Every (account, region, "async", due, id) key of the column: the events accepted before a restart.
void AsyncQueue::load() {
  std::lock_guard lock(mutex_);
  auto it = store_->scan(Column::lambda, "", "");
  for (; it->valid(); it->next()) {
    KeyReader r(it->key());
    if (!r.read_string() || !r.read_string()) continue;
    auto tag = r.read_string();
    if (!tag || *tag != "async") continue;
    auto due = r.read_i64();
    if (!due || !r.read_string() || !r.at_end()) continue;
    pending_.emplace(*due, std::string(it->key()));
  }
  if (!pending_.empty()) log::info("lambda", "async: {} queued event(s) loaded from the store", pending_.size());
}

Status AsyncQueue::enqueue(const std::string& id, const std::string& account, const std::string& region,
                           const std::string& function, const std::string& qualifier,
                           const std::string& payload) {
  std::int64_t now = clock_->now_ms();
  json event = {{"id", id},           {"account", account},  {"region", region},
                {"function", function}, {"qualifier", qualifier}, {"payload", payload},
                {"enqueued_ms", now},   {"invocations", 0},    {"errors", 0},
                {"throttles", 0}};
  std::string key = key_for(event, now);
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return Status::error(Status::Code::io_error, "the Lambda service is shutting down");
    Status st = store_->put(Column::lambda, key, event.dump());
    if (!st.ok()) return st;
    pending_.emplace(now, key);
    ++counters_.accepted;
  }
  wake_.notify_all();
  log::info("lambda", "async event {} for {}{}{} queued", id, function, qualifier.empty() ? "" : ":", qualifier);
  return Status::success();
}

void AsyncQueue::run() {
  std::unique_lock lock(mutex_);
  while (!stopped_) {
    std::int64_t wait_ms = 1000;
    if (!pending_.empty() && in_flight_ < options_.max_in_flight) {
      std::int64_t due = pending_.begin()->first;
      std::int64_t now = clock_->now_ms();
      if (due <= now) {
        lock.unlock();
        process_due();
        lock.lock();
        continue;
      }
      wait_ms = std::min(wait_ms, due - now);
    }
    wake_.wait_for(lock, std::chrono::milliseconds(wait_ms));
  }
}

std::size_t AsyncQueue::process_due() {
  std::vector<std::string> keys;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return 0;
    std::int64_t now = clock_->now_ms();
    while (!pending_.empty() && pending_.begin()->first <= now && in_flight_ < options_.max_in_flight) {
      keys.push_back(std::move(pending_.begin()->second));
      pending_.erase(pending_.begin());
      ++in_flight_;
    }
  }
  for (const auto& key : keys) dispatch(key);
  return keys.size();
}

void AsyncQueue::dispatch(const std::string& key) {
  std::string value;
  json event;
  if (store_->get(Column::lambda, key, value).ok()) event = json::parse(value, nullptr, false);
  if (!event.is_object()) {
    std::lock_guard lock(mutex_);
    --in_flight_;
    if (!stopped_) store_->erase(Column::lambda, key);
    return;
  }
  AsyncTarget target = resolver_(text(event, "account"), text(event, "region"), text(event, "function"),
                                 text(event, "qualifier"));
  std::vector<Outgoing> outgoing;
  bool finished = false;
  {
    std::lock_guard lock(mutex_);
    if (!target.config) {
      // The function (or the qualifier) was deleted while the event waited: nothing can run it.
      --in_flight_;
      if (stopped_) return;
      store_->erase(Column::lambda, key);
      ++counters_.dropped;
      log::info("lambda", "async event {} for {}: dropped, the function no longer exists", text(event, "id"),
                text(event, "function"));
      return;
    }
    const char* condition = nullptr;
    std::int64_t age_ms = clock_->now_ms() - integer(event, "enqueued_ms", 0);
    std::int64_t max_age_ms =
        integer(target.event_invoke, "MaximumEventAgeInSeconds", kDefaultMaxAgeSeconds) * 1000;
    if (age_ms > max_age_ms) {
      condition = "EventAgeExceeded";
      ++counters_.expired;
    } else if (target.config->reserved_concurrency && *target.config->reserved_concurrency == 0) {
      condition = "RetriesExhausted";  // reserved concurrency 0: straight to on-failure, no retries
      ++counters_.retries_exhausted;
    }
    if (condition != nullptr) {
      --in_flight_;
      if (stopped_) return;
      outgoing = finish(key, event, target, condition);
      finished = true;
    }
  }
  if (finished) return send(std::move(outgoing));
  if (!executor_) {
    InvokeResult r;
    r.status = InvokeResult::Status::service_error;
    r.error_message = "no function runtime in this build";
    complete(key, std::move(event), target, std::move(r));
    return;
  }
  std::string payload = text(event, "payload");
  FunctionConfig config = *target.config;
  executor_->invoke(config, std::move(payload), InvocationType::event,
                    [self = shared_from_this(), key, event, target](InvokeResult result) mutable {
                      self->complete(key, std::move(event), target, std::move(result));
                    });
}

void AsyncQueue::complete(const std::string& key, json event, const AsyncTarget& target, InvokeResult result) {
  std::vector<Outgoing> outgoing;
  {
    std::lock_guard lock(mutex_);
    if (in_flight_ > 0) --in_flight_;
    wake_.notify_all();
    if (stopped_) return;  // still in the store: runs again after a restart
    std::int64_t now = clock_->now_ms();
    std::string id = text(event, "id");
    switch (result.status) {
      case InvokeResult::Status::ok:
      case InvokeResult::Status::function_error: {
        bool failed = result.status == InvokeResult::Status::function_error;
        event["invocations"] = integer(event, "invocations", 0) + 1;
        event["last"] = {{"status", failed ? "function_error" : "ok"},
                         {"executedVersion",
                          result.executed_version.empty() ? target.config->version : result.executed_version},
                         {"payload", result.payload}};
        if (failed) event["last"]["functionError"] = result.function_error;
        ++counters_.invocations;
        if (!failed) {
          ++counters_.succeeded;
          outgoing = finish(key, event, target, "Success");
          break;
        }
        ++counters_.function_errors;
        std::int64_t errors = integer(event, "errors", 0) + 1;
        event["errors"] = errors;
        std::int64_t max_retries = integer(target.event_invoke, "MaximumRetryAttempts", kDefaultMaxRetries);
        if (errors <= max_retries) {
          ++counters_.retries;
          std::int64_t delay = options_.retry_base_ms * errors;
          log::info("lambda", "async event {} for {}: attempt {} failed ({}), retry in {} ms", id,
                    target.invoked_arn, integer(event, "invocations", 0), result.function_error, delay);
          reschedule(key, std::move(event), now + delay);
        } else {
          ++counters_.retries_exhausted;
          outgoing = finish(key, event, target, "RetriesExhausted");
        }
        break;
      }
      case InvokeResult::Status::throttled:
      case InvokeResult::Status::service_error: {
        // Not an attempt: back to the queue with an exponential backoff, until the event is too old.
        ++counters_.throttled;
        std::int64_t throttles = integer(event, "throttles", 0) + 1;
        event["throttles"] = throttles;
        // What the dead-letter queue reports if the event expires before it runs.
        event["last_error"] = result.status == InvokeResult::Status::throttled
                                  ? json{{"code", 429}, {"message", "Rate Exceeded. (" + result.throttle_reason + ")"}}
                                  : json{{"code", result.http_status},
                                         {"message", result.error_code + ": " + result.error_message}};
        std::int64_t delay = options_.throttle_base_ms << std::min<std::int64_t>(throttles - 1, 20);
        delay = std::min(delay, options_.throttle_max_ms);
        log::info("lambda", "async event {} for {}: {} ({}), back in the queue for {} ms", id, target.invoked_arn,
                  result.status == InvokeResult::Status::throttled ? "throttled" : "system error",
                  result.status == InvokeResult::Status::throttled ? result.throttle_reason : result.error_message,
                  delay);
        reschedule(key, std::move(event), now + delay);
        break;
      }
    }
  }
  send(std::move(outgoing));
}

void AsyncQueue::send(std::vector<Outgoing> outgoing) {
  for (auto& o : outgoing) {
    std::string arn = o.target.arn;
    std::string what = o.what;
    std::string id = o.event.id;
    // What was not delivered stays visible in the log (a destination record as "destination ARN; record:
    // {...}", the form the async integration test reads).
    std::string body = o.event.detail.is_string() ? o.event.detail.get<std::string>() : o.event.detail.dump();
    router_->send(std::move(o.event), std::move(o.target), [arn, what, id, body](events::DeliveryResult r) {
      if (r.ok) {
        log::info("lambda", "async event {}: sent to {} {}", id, what, arn);
      } else if (what == "destination") {
        log::info("lambda", "async event {}: not delivered ({}: {}); destination {}; record: {}", id,
                  r.error_code, r.error_message, arn, truncated(body));
      } else {
        log::info("lambda", "async event {}: not delivered ({}: {}) to {} {}; event: {}", id, r.error_code,
                  r.error_message, what, arn, truncated(body));
      }
    });
  }
}

void AsyncQueue::reschedule(const std::string& key, json event, std::int64_t due_ms) {
  std::string next = key_for(event, due_ms);
  WriteBatch batch;
  batch.erase(Column::lambda, key);
  batch.put(Column::lambda, next, event.dump());
  if (Status st = store_->write(batch); !st.ok()) {
    log::error("lambda", "async event {}: cannot reschedule: {}", text(event, "id"), st.message);
    return;
  }
  pending_.emplace(due_ms, std::move(next));
  wake_.notify_all();
}

json AsyncQueue::record(const json& event, const AsyncTarget& target, const std::string& condition) const {
  json out = {{"version", "1.0"},
              {"timestamp", iso_timestamp(clock_->now_ms())},
              {"requestContext",
               {{"requestId", text(event, "id")},
                {"functionArn", target.invoked_arn},
                {"condition", condition},
                {"approximateInvokeCount", integer(event, "invocations", 0)}}},
              {"requestPayload", payload_json(text(event, "payload"))}};
  auto last = event.find("last");
  if (last != event.end() && last->is_object()) {
    out["responseContext"] = {{"statusCode", 200}, {"executedVersion", text(*last, "executedVersion")}};
    if (last->contains("functionError")) out["responseContext"]["functionError"] = text(*last, "functionError");
    out["responsePayload"] = payload_json(text(*last, "payload"));
  }
  return out;
}

std::vector<AsyncQueue::Outgoing> AsyncQueue::finish(const std::string& key, const json& event,
                                                    const AsyncTarget& target, const std::string& condition) {
  std::int64_t now = clock_->now_ms();
  std::string id = text(event, "id");
  std::string dest = destination(target.event_invoke, condition == "Success" ? "OnSuccess" : "OnFailure");
  WriteBatch batch;
  batch.erase(Column::lambda, key);
  std::vector<Outgoing> outgoing;
  std::optional<std::pair<std::int64_t, std::string>> queued;
  std::string fate = "no destination";
  auto router_event = [&](json detail) {
    events::Event e;
    e.id = id;
    e.type = "lambda:DestinationRecord";
    e.source_arn = target.config ? target.config->function_arn : target.invoked_arn;
    e.account = text(event, "account");
    e.region = text(event, "region");
    e.time_ms = now;
    e.detail = std::move(detail);
    return e;
  };
  if (!dest.empty()) {
    json rec = record(event, target, condition);
    if (dest.starts_with("arn:aws:lambda:")) {
      // A function destination: the record becomes that function's asynchronous event.
      auto ref = parse_function_name(dest);
      if (ref) {
        json next = {{"id", new_request_id()},
                     {"account", ref->account.empty() ? text(event, "account") : ref->account},
                     {"region", ref->region.empty() ? text(event, "region") : ref->region},
                     {"function", ref->name},
                     {"qualifier", ref->qualifier},
                     {"payload", rec.dump()},
                     {"enqueued_ms", now},
                     {"invocations", 0},
                     {"errors", 0},
                     {"throttles", 0}};
        std::string next_key = key_for(next, now);
        batch.put(Column::lambda, next_key, next.dump());
        queued.emplace(now, next_key);
        fate = fmt::format("record sent to {} as event {}", dest, text(next, "id"));
        ++counters_.to_function;
      } else {
        fate = "destination " + dest + " is not a function ARN; record dropped";
        ++counters_.undeliverable;
      }
    } else if (dest.starts_with("arn:aws:sqs:") && router_ != nullptr) {
      // The "queue" target kind sends event.detail as the message body.
      outgoing.push_back({router_event(rec), events::Target{"queue", dest, json::object()}, "destination"});
      fate = "record sent to " + dest;
      ++counters_.to_router;
    } else {
      fate = fmt::format("destination {} cannot be delivered by Stratus yet; record: {}", dest,
                         truncated(rec.dump()));
      ++counters_.undeliverable;
    }
  }
  if (condition != "Success" && !target.dead_letter_arn.empty()) {
    // The dead-letter queue: the event as invoked, with the error in message attributes.
    // https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html#invocation-dlq
    std::string dlq = target.dead_letter_arn;
    int code = 200;
    std::string message;
    if (auto last = event.find("last"); last != event.end() && last->is_object() &&
                                        text(*last, "status") == "function_error") {
      json doc = json::parse(text(*last, "payload"), nullptr, false);
      message = doc.is_object() && doc.contains("errorMessage") && doc["errorMessage"].is_string()
                    ? doc["errorMessage"].get<std::string>()
                    : text(*last, "payload");
    } else if (auto err = event.find("last_error"); err != event.end() && err->is_object()) {
      code = err->value("code", 429);
      message = text(*err, "message");
    } else {
      code = 429;
      message = condition == "EventAgeExceeded" ? "Event age exceeded" : "Retries exhausted";
    }
    if (message.size() > 1024) message.resize(1024);
    if (dlq.starts_with("arn:aws:sqs:") && router_ != nullptr) {
      json options = {{"MessageAttributes",
                       {{"RequestID", {{"DataType", "String"}, {"StringValue", id}}},
                        {"ErrorCode", {{"DataType", "Number"}, {"StringValue", std::to_string(code)}}},
                        {"ErrorMessage", {{"DataType", "String"}, {"StringValue", message}}}}}};
      outgoing.push_back({router_event(json(text(event, "payload"))), events::Target{"queue", dlq, options},
                          "dead-letter queue"});
      fate += "; event sent to the dead-letter queue " + dlq;
      ++counters_.to_dead_letter;
    } else {
      fate += "; dead-letter queue " + dlq + " cannot be delivered by Stratus yet";
      ++counters_.undeliverable;
    }
  }
  if (Status st = store_->write(batch); !st.ok()) {
    log::error("lambda", "async event {}: cannot finish: {}", id, st.message);
    return {};
  }
  if (queued) {
    pending_.emplace(queued->first, std::move(queued->second));
    wake_.notify_all();
  }
  log::info("lambda", "async event {} for {}: {} after {} invocation(s); {}", id, target.invoked_arn, condition,
            integer(event, "invocations", 0), fate);
  return outgoing;
}

json AsyncQueue::stats() const {
  std::lock_guard lock(mutex_);
  const Counters& c = counters_;
  return {{"accepted", c.accepted},
          {"queued", pending_.size()},
          {"in_flight", in_flight_},
          {"invocations", c.invocations},
          {"succeeded", c.succeeded},
          {"function_errors", c.function_errors},
          {"retries", c.retries},
          {"throttled", c.throttled},
          {"retries_exhausted", c.retries_exhausted},
          {"expired", c.expired},
          {"dropped", c.dropped},
          {"destinations",
           {{"function", c.to_function},
            {"router", c.to_router},
            {"undeliverable", c.undeliverable},
            {"dead_letter", c.to_dead_letter}}}};
}

}  // namespace stratus::services::lambda
