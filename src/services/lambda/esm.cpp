// SQS event source mapping pollers; the contract is in esm.hpp.
#include "services/lambda/esm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>

#include "common/log.hpp"
#include "common/text.hpp"
#include "services/lambda/names.hpp"

namespace stratus::services::lambda {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

// How often a poller parked by reserved concurrency looks again.
constexpr std::int64_t kParkedMs = 1'000;

std::string text(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The system attributes in the order of the documented example, then the rest (FIFO, trace header).
const char* const kAttributeOrder[] = {"ApproximateReceiveCount", "SentTimestamp", "SenderId",
                                       "ApproximateFirstReceiveTimestamp", "SequenceNumber", "MessageGroupId",
                                       "MessageDeduplicationId"};

}  // namespace

ordered_json sqs_event(const std::vector<QueueMessage>& batch, const std::string& queue_arn,
                       const std::string& region) {
  ordered_json records = ordered_json::array();
  for (const auto& m : batch) {
    ordered_json attributes = ordered_json::object();
    for (const char* name : kAttributeOrder)
      if (auto it = m.attributes.find(name); it != m.attributes.end()) attributes[name] = it->second;
    for (const auto& [name, value] : m.attributes)
      if (!attributes.contains(name)) attributes[name] = value;

    // SQS's {"DataType", "StringValue" | "BinaryValue", ...} becomes Lambda's lowerCamel form, with both
    // list members always present (as empty lists) as in the documented example.
    ordered_json message_attributes = ordered_json::object();
    if (m.message_attributes.is_object()) {
      for (auto it = m.message_attributes.begin(); it != m.message_attributes.end(); ++it) {
        const json& v = it.value();
        ordered_json a = ordered_json::object();
        if (v.contains("StringValue")) a["stringValue"] = text(v, "StringValue");
        if (v.contains("BinaryValue")) a["binaryValue"] = text(v, "BinaryValue");
        a["stringListValues"] = v.value("StringListValues", json::array());
        a["binaryListValues"] = v.value("BinaryListValues", json::array());
        a["dataType"] = text(v, "DataType");
        message_attributes[it.key()] = std::move(a);
      }
    }
    ordered_json record = ordered_json::object();
    record["messageId"] = m.message_id;
    record["receiptHandle"] = m.receipt_handle;
    record["body"] = m.body;
    record["attributes"] = std::move(attributes);
    record["messageAttributes"] = std::move(message_attributes);
    record["md5OfBody"] = m.md5_of_body;
    record["eventSource"] = "aws:sqs";
    record["eventSourceARN"] = queue_arn;
    record["awsRegion"] = region;
    records.push_back(std::move(record));
  }
  ordered_json event = ordered_json::object();
  event["Records"] = std::move(records);
  return event;
}

namespace {

bool numeric_matches(const json& value, const json& spec) {
  if (!value.is_number() || !spec.is_array() || spec.empty() || spec.size() % 2 != 0) return false;
  double v = value.get<double>();
  for (std::size_t i = 0; i + 1 < spec.size(); i += 2) {
    if (!spec[i].is_string() || !spec[i + 1].is_number()) return false;
    std::string op = spec[i].get<std::string>();
    double n = spec[i + 1].get<double>();
    bool ok = op == "=" ? v == n : op == "<" ? v < n : op == "<=" ? v <= n : op == ">" ? v > n : op == ">=" ? v >= n : false;
    if (!ok) return false;
  }
  return true;
}

// One allowed value or matcher against one value of the data (nullptr: the key is absent).
bool value_matches(const json* value, const json& cond) {
  if (cond.is_object() && cond.size() == 1) {
    const std::string& op = cond.begin().key();
    const json& arg = cond.begin().value();
    if (op == "exists") return arg.is_boolean() && (value != nullptr) == arg.get<bool>();
    if (value == nullptr) return false;
    if (op == "prefix")
      return arg.is_string() && value->is_string() && value->get<std::string>().starts_with(arg.get<std::string>());
    if (op == "suffix")
      return arg.is_string() && value->is_string() && value->get<std::string>().ends_with(arg.get<std::string>());
    if (op == "equals-ignore-case")
      return arg.is_string() && value->is_string() &&
             ascii_lower(value->get<std::string>()) == ascii_lower(arg.get<std::string>());
    if (op == "numeric") return numeric_matches(*value, arg);
    if (op == "anything-but") {
      if (arg.is_array()) {
        for (const auto& a : arg)
          if (*value == a) return false;
        return true;
      }
      if (arg.is_object()) return !value_matches(value, arg);
      return *value != arg;
    }
    return false;
  }
  if (cond.is_object() || cond.is_array()) return false;
  return value != nullptr && *value == cond;
}

bool values_match(const json* value, const json& allowed) {
  for (const auto& cond : allowed) {
    if (value != nullptr && value->is_array() && !(cond.is_object() && cond.contains("exists"))) {
      for (const auto& element : *value)
        if (value_matches(&element, cond)) return true;
    } else if (value_matches(value, cond)) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool filter_matches(const json& pattern, const json& record) {
  if (!pattern.is_object()) return false;
  for (auto it = pattern.begin(); it != pattern.end(); ++it) {
    const json* value = record.is_object() && record.contains(it.key()) ? &record[it.key()] : nullptr;
    if (it->is_object()) {
      if (value == nullptr || !value->is_object() || !filter_matches(*it, *value)) return false;
    } else if (it->is_array()) {
      if (!values_match(value, *it)) return false;
    } else {
      return false;
    }
  }
  return true;
}

bool valid_filter_pattern(const json& pattern) {
  // Matchers filter_matches knows; anything else ($or, wildcard, cidr) is refused rather than silently never
  // matching (which would delete every message).
  static const std::set<std::string> kMatchers = {"exists",  "prefix",       "suffix",
                                                  "numeric", "anything-but", "equals-ignore-case"};
  if (!pattern.is_object() || pattern.empty()) return false;
  for (auto it = pattern.begin(); it != pattern.end(); ++it) {
    if (it.key().starts_with("$")) return false;
    if (it->is_object()) {
      if (!valid_filter_pattern(*it)) return false;
    } else if (!it->is_array() || it->empty()) {
      return false;
    } else {
      for (const auto& cond : *it) {
        if (cond.is_array()) return false;
        if (cond.is_object() && (cond.size() != 1 || !kMatchers.count(cond.begin().key()))) return false;
      }
    }
  }
  return true;
}

json filter_view(const QueueMessage& message, const std::string& queue_arn, const std::string& region) {
  json record = json::parse(sqs_event({message}, queue_arn, region)["Records"][0].dump());
  json body = json::parse(message.body, nullptr, false);
  if (!body.is_discarded()) record["body"] = std::move(body);
  return record;
}

BatchOutcome parse_batch_response(const std::string& payload, const std::vector<QueueMessage>& batch) {
  BatchOutcome out;
  auto fail = [&](std::string reason) {
    out.whole_batch_failed = true;
    out.failed_ids.clear();
    out.reason = std::move(reason);
    return out;
  };
  if (payload.find_first_not_of(" \t\r\n") == std::string::npos) return out;  // empty response
  json response = json::parse(payload, nullptr, false);
  if (response.is_discarded()) return fail("the response is not valid JSON");
  if (!response.is_object()) return out;  // null, or no SQSBatchResponse at all: nothing reported
  auto failures = response.find("batchItemFailures");
  if (failures == response.end() || failures->is_null()) return out;
  if (!failures->is_array()) return fail("batchItemFailures is not a list");
  std::set<std::string> ids;
  for (const auto& m : batch) ids.insert(m.message_id);
  for (const auto& item : *failures) {
    if (!item.is_object()) return fail("a batchItemFailures entry is not an object");
    auto id = item.find("itemIdentifier");
    if (id == item.end() || id->is_null()) return fail("a batchItemFailures entry has no itemIdentifier");
    if (!id->is_string() || id->get<std::string>().empty())
      return fail("an itemIdentifier is empty or not a string");
    if (!ids.count(id->get<std::string>()))
      return fail("itemIdentifier " + id->get<std::string>() + " is not a messageId of the batch");
    out.failed_ids.insert(id->get<std::string>());
  }
  return out;
}

int scale_pollers(int current, int minimum, int maximum, std::int64_t visible, int batch_size, bool throttled) {
  maximum = std::max(maximum, 1);
  minimum = std::clamp(minimum, 1, maximum);
  current = std::clamp(current, minimum, maximum);
  if (visible < 0) return current;
  if (throttled || visible == 0) return std::max(current - 1, minimum);
  std::int64_t batches = (visible + std::max(batch_size, 1) - 1) / std::max(batch_size, 1);
  return static_cast<int>(std::min<std::int64_t>({current + std::min<std::int64_t>(batches, kScaleUpStep), maximum}));
}

SqsPollers::SqsPollers(std::shared_ptr<QueueSource> queues, std::shared_ptr<FunctionExecutor> executor,
                       const Clock* clock, FunctionResolver resolver, PollerOptions options)
    : queues_(std::move(queues)),
      executor_(std::move(executor)),
      clock_(clock),
      resolver_(std::move(resolver)),
      options_(options) {}

SqsPollers::~SqsPollers() { stop(); }

void SqsPollers::start() {
  if (!options_.background) return;
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stopped_) {
      std::int64_t wait_ms = 1000;
      if (!tasks_.empty()) {
        std::int64_t now = clock_->now_ms();
        if (tasks_.begin()->first <= now) {
          lock.unlock();
          run_due();
          lock.lock();
          continue;
        }
        wait_ms = std::min(wait_ms, tasks_.begin()->first - now);
      }
      wake_.wait_for(lock, std::chrono::milliseconds(wait_ms));
    }
  });
}

void SqsPollers::stop() {
  std::vector<std::shared_ptr<Runner>> runners;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    for (auto& [uuid, runner] : runners_) runners.push_back(runner);
    runners_.clear();
    tasks_.clear();
  }
  wake_.notify_all();
  for (const auto& runner : runners) halt(runner);
  if (thread_.joinable()) thread_.join();
}

void SqsPollers::post(std::int64_t due_ms, std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    tasks_.emplace(due_ms, std::move(task));
  }
  wake_.notify_all();
}

std::size_t SqsPollers::run_due() {
  std::vector<std::function<void()>> due;
  {
    std::lock_guard lock(mutex_);
    std::int64_t now = clock_->now_ms();
    while (!tasks_.empty() && tasks_.begin()->first <= now) {
      due.push_back(std::move(tasks_.begin()->second));
      tasks_.erase(tasks_.begin());
    }
  }
  for (auto& task : due) task();
  return due.size();
}

std::int64_t SqsPollers::backoff_ms(int failures) const {
  std::int64_t delay = options_.backoff_base_ms << std::min(std::max(failures - 1, 0), 20);
  return std::min(delay, options_.backoff_max_ms);
}

void SqsPollers::problem(const std::string& uuid, const std::string& message) {
  std::string result = "PROBLEM: " + message;
  bool changed = false;
  {
    std::lock_guard lock(mutex_);
    auto it = counters_.find(uuid);
    if (it == counters_.end()) return;
    changed = it->second.last_result != result;
    it->second.last_result = result;
  }
  if (changed) log::warn("lambda", "event source mapping {}: {}", uuid, result);
}

void SqsPollers::apply(const MappingSpec& spec) {
  std::shared_ptr<Runner> old;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    if (auto it = runners_.find(spec.uuid); it != runners_.end()) {
      old = it->second;
      runners_.erase(it);
    }
    counters_.try_emplace(spec.uuid);
    if (spec.enabled) {
      auto runner = std::make_shared<Runner>();
      runner->spec = spec;
      int maximum = std::clamp(spec.max_concurrency > 0 ? spec.max_concurrency : kMaxPollers, 1, kMaxPollers);
      runner->slots.resize(static_cast<std::size_t>(maximum));
      runner->minimum = std::clamp(options_.default_pollers, 1, maximum);
      runner->active = runner->minimum;
      runner->throttles_seen = counters_[spec.uuid].throttles;
      runners_[spec.uuid] = runner;
      std::int64_t now = clock_->now_ms();
      for (std::size_t i = 0; i < runner->slots.size(); ++i) {
        if (static_cast<int>(i) < runner->active)
          tasks_.emplace(now, [this, runner, i] { poll(runner, i); });
        else
          runner->slots[i].parked = true;
      }
      tasks_.emplace(now + options_.scale_tick_ms, [this, runner] { scale(runner); });
    }
  }
  wake_.notify_all();
  if (old) halt(old);
  log::info("lambda", "event source mapping {}: {} -> {}{}{} {}", spec.uuid, spec.queue_arn, spec.function,
            spec.qualifier.empty() ? "" : ":", spec.qualifier, spec.enabled ? "enabled" : "disabled");
}

void SqsPollers::remove(const std::string& uuid) {
  std::shared_ptr<Runner> old;
  {
    std::lock_guard lock(mutex_);
    if (auto it = runners_.find(uuid); it != runners_.end()) {
      old = it->second;
      runners_.erase(it);
    }
    counters_.erase(uuid);
  }
  if (old) halt(old);
}

void SqsPollers::halt(const std::shared_ptr<Runner>& runner) {
  std::vector<QueueSource::PollId> polls;
  std::vector<QueueMessage> gathered;
  bool shutting_down = false;
  {
    std::lock_guard lock(mutex_);
    runner->stopped = true;
    shutting_down = stopped_;
    for (auto& slot : runner->slots) {
      if (slot.polling && slot.poll_id) polls.push_back(*slot.poll_id);
      for (auto& m : slot.gathered) gathered.push_back(std::move(m));
      slot.gathered.clear();
    }
  }
  for (auto id : polls) queues_->cancel_receive(id);
  // Messages gathered for a batch that will not run go back to the queue at once.
  if (!shutting_down)
    for (const auto& m : gathered) queues_->change_visibility(runner->spec.queue_arn, m.receipt_handle, 0);
}

void SqsPollers::scale(const std::shared_ptr<Runner>& runner) {
  std::string arn;
  {
    std::lock_guard lock(mutex_);
    if (stopped_ || runner->stopped) return;
    arn = runner->spec.queue_arn;
  }
  std::int64_t visible = queues_->visible_messages(arn).value_or(-1);
  std::vector<QueueSource::PollId> cancel;
  {
    std::lock_guard lock(mutex_);
    if (stopped_ || runner->stopped) return;
    std::uint64_t throttles = counters_[runner->spec.uuid].throttles;
    bool throttled = throttles != runner->throttles_seen;
    runner->throttles_seen = throttles;
    int before = runner->active;
    runner->active = scale_pollers(before, runner->minimum, static_cast<int>(runner->slots.size()), visible,
                                   runner->spec.batch_size, throttled);
    std::int64_t now = clock_->now_ms();
    for (int i = before; i < runner->active; ++i) {
      Slot& slot = runner->slots[static_cast<std::size_t>(i)];
      if (!slot.parked) continue;  // still finishing its last round
      slot.parked = false;
      auto index = static_cast<std::size_t>(i);
      tasks_.emplace(now, [this, runner, index] { poll(runner, index); });
    }
    // Pollers beyond the new count stop after their current round; an idle long poll ends now.
    for (int i = runner->active; i < before; ++i) {
      Slot& slot = runner->slots[static_cast<std::size_t>(i)];
      if (slot.polling && slot.poll_id && slot.gathered.empty()) cancel.push_back(*slot.poll_id);
    }
    if (runner->active != before)
      log::info("lambda", "event source mapping {}: {} -> {} pollers ({} messages waiting)", runner->spec.uuid,
                before, runner->active, visible);
    tasks_.emplace(now + options_.scale_tick_ms, [this, runner] { scale(runner); });
  }
  wake_.notify_all();
  for (auto id : cancel) queues_->cancel_receive(id);
}

void SqsPollers::poll(const std::shared_ptr<Runner>& runner, std::size_t i) {
  MappingSpec spec;
  {
    std::lock_guard lock(mutex_);
    if (stopped_ || runner->stopped) return;
    Slot& slot = runner->slots[i];
    // Scaled down: this poller stops here (unless it holds messages for a batch being gathered).
    if (static_cast<int>(i) >= runner->active && slot.gathered.empty()) {
      slot.parked = true;
      return;
    }
    spec = runner->spec;
  }
  auto retry = [this, runner, i](std::int64_t delay) {
    post(clock_->now_ms() + delay, [this, runner, i] { poll(runner, i); });
  };
  auto config = resolver_(spec.account, spec.region, spec.function, spec.qualifier);
  if (!config) {
    int failures = 0;
    {
      std::lock_guard lock(mutex_);
      failures = ++runner->slots[i].failures;
    }
    problem(spec.uuid, "Function not found: " + (spec.qualifier.empty()
                                                     ? function_arn(spec.region, spec.account, spec.function)
                                                     : qualified_arn(spec.region, spec.account, spec.function,
                                                                     spec.qualifier)));
    return retry(backoff_ms(failures));
  }
  // Never more concurrent batches than the function may run.
  // https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html
  if (config->reserved_concurrency && static_cast<int>(i) >= *config->reserved_concurrency)
    return retry(kParkedMs);

  QueueReceiveRequest request;
  request.queue_arn = spec.queue_arn;
  std::uint64_t seq = 0;
  {
    std::lock_guard lock(mutex_);
    if (stopped_ || runner->stopped) return;
    Slot& slot = runner->slots[i];
    int missing = spec.batch_size - static_cast<int>(slot.gathered.size());
    request.max_messages = std::clamp(missing, 1, 10);
    request.wait_seconds = options_.wait_seconds;
    if (spec.window_seconds > 0 && !slot.gathered.empty()) {
      std::int64_t left = std::max<std::int64_t>(slot.window_deadline_ms - clock_->now_ms(), 0);
      request.wait_seconds = static_cast<int>(std::min<std::int64_t>((left + 999) / 1000, options_.wait_seconds));
    }
    slot.polling = true;
    seq = ++slot.poll_seq;
    slot.poll_id.reset();
  }
  auto self = shared_from_this();
  QueueSource::PollId id = queues_->receive(request, [self, runner, i, seq](QueueReceiveResult result) {
    self->received(runner, i, seq, std::move(result));
  });
  bool cancel = false;
  {
    std::lock_guard lock(mutex_);
    Slot& slot = runner->slots[i];
    if (slot.polling && slot.poll_seq == seq) {
      slot.poll_id = id;
      cancel = runner->stopped;  // halted while the receive was being issued
    }
  }
  if (cancel) queues_->cancel_receive(id);
}

void SqsPollers::received(const std::shared_ptr<Runner>& runner, std::size_t i, std::uint64_t seq,
                          QueueReceiveResult result) {
  std::vector<QueueMessage> release;
  std::vector<QueueMessage> batch;
  std::string uuid;
  std::string receive_error;
  int failures = 0;
  {
    std::lock_guard lock(mutex_);
    Slot& slot = runner->slots[i];
    if (slot.poll_seq == seq) {
      slot.polling = false;
      slot.poll_id.reset();
    }
    uuid = runner->spec.uuid;
    if (stopped_ || runner->stopped) {
      if (!stopped_) release = std::move(result.messages);
    } else if (result.error) {
      failures = ++slot.failures;
      receive_error = result.error->message;
      ++counters_[uuid].receive_errors;
      if (!slot.gathered.empty()) {
        batch = std::move(slot.gathered);
        slot.gathered.clear();
        ++slot.batch_seq;
        ++runner->in_flight;
      }
    } else {
      if (slot.failures > 0) {
        slot.failures = 0;
        auto& c = counters_[uuid];
        if (c.last_result.starts_with("PROBLEM:")) c.last_result = "OK";
      }
      const MappingSpec& spec = runner->spec;
      std::int64_t now = clock_->now_ms();
      bool first = slot.gathered.empty() && !result.messages.empty();
      for (auto& m : result.messages) slot.gathered.push_back(std::move(m));
      if (first && spec.window_seconds > 0) {
        slot.window_deadline_ms = now + static_cast<std::int64_t>(spec.window_seconds) * 1000;
        std::uint64_t batch_seq = slot.batch_seq;
        tasks_.emplace(slot.window_deadline_ms,
                       [this, runner, i, batch_seq] { window_elapsed(runner, i, batch_seq); });
      }
      bool ready = !slot.gathered.empty() &&
                   (spec.window_seconds == 0 || static_cast<int>(slot.gathered.size()) >= spec.batch_size ||
                    now >= slot.window_deadline_ms);
      if (ready) {
        batch = std::move(slot.gathered);
        slot.gathered.clear();
        ++slot.batch_seq;
        ++runner->in_flight;
      } else {
        tasks_.emplace(now, [this, runner, i] { poll(runner, i); });
      }
    }
  }
  // Nothing below runs inside QueueSource's callback: SQS may call it from its own locked context.
  if (!release.empty()) {
    auto arn = runner->spec.queue_arn;
    post(clock_->now_ms(), [this, arn, release = std::move(release)] {
      for (const auto& m : release) queues_->change_visibility(arn, m.receipt_handle, 0);
    });
  }
  if (!receive_error.empty()) {
    // Lambda's wording for a receive that failed, e.g. a deleted queue.
    problem(uuid, fmt::format("Error occurred while ReceiveMessage. SQS Error Code: {}. SQS Error Message: {}",
                              result.error->code, receive_error));
    if (batch.empty()) {
      post(clock_->now_ms() + backoff_ms(failures), [this, runner, i] { poll(runner, i); });
      return;
    }
  }
  if (!batch.empty()) {
    auto shared = std::make_shared<std::vector<QueueMessage>>(std::move(batch));
    post(clock_->now_ms(), [this, runner, i, shared] { invoke(runner, i, std::move(*shared)); });
  }
  wake_.notify_all();
}

void SqsPollers::window_elapsed(const std::shared_ptr<Runner>& runner, std::size_t i, std::uint64_t batch_seq) {
  std::optional<QueueSource::PollId> id;
  {
    std::lock_guard lock(mutex_);
    if (stopped_ || runner->stopped) return;
    Slot& slot = runner->slots[i];
    if (slot.batch_seq != batch_seq || slot.gathered.empty() || !slot.polling) return;
    id = slot.poll_id;
  }
  // The waiting receive ends with what it has; received() then sees the window is over and invokes.
  if (id) queues_->cancel_receive(*id);
}

void SqsPollers::invoke(const std::shared_ptr<Runner>& runner, std::size_t i, std::vector<QueueMessage> batch) {
  MappingSpec spec;
  {
    std::lock_guard lock(mutex_);
    spec = runner->spec;
  }
  if (!spec.filters.empty()) {
    // Messages that match no filter never reach the function; Lambda deletes them from the queue.
    std::vector<QueueMessage> kept;
    std::vector<std::string> dropped;
    for (auto& m : batch) {
      json view = filter_view(m, spec.queue_arn, spec.region);
      bool match = std::any_of(spec.filters.begin(), spec.filters.end(),
                               [&](const json& f) { return filter_matches(f, view); });
      if (match)
        kept.push_back(std::move(m));
      else
        dropped.push_back(m.receipt_handle);
    }
    if (!dropped.empty()) {
      queues_->delete_messages(spec.queue_arn, dropped);
      std::lock_guard lock(mutex_);
      counters_[spec.uuid].filtered_out += dropped.size();
    }
    batch = std::move(kept);
    if (batch.empty()) {
      bool next = false;
      {
        std::lock_guard lock(mutex_);
        --runner->in_flight;
        next = !stopped_ && !runner->stopped;
      }
      log::info("lambda", "event source mapping {}: {} message(s) from {} matched no filter, deleted", spec.uuid,
                dropped.size(), spec.queue_arn);
      if (next) post(clock_->now_ms(), [this, runner, i] { poll(runner, i); });
      return;
    }
  }
  auto config = resolver_(spec.account, spec.region, spec.function, spec.qualifier);
  auto shared_batch = std::make_shared<const std::vector<QueueMessage>>(std::move(batch));
  if (!config || !executor_) {
    InvokeResult r;
    r.status = InvokeResult::Status::service_error;
    r.error_code = config ? "ServiceException" : "ResourceNotFoundException";
    r.error_message = config ? "no function runtime in this build" : "Function not found";
    return finished(runner, i, *shared_batch, r);
  }
  std::string payload = sqs_event(*shared_batch, spec.queue_arn, spec.region).dump();
  {
    std::lock_guard lock(mutex_);
    auto& c = counters_[spec.uuid];
    ++c.batches;
    c.messages += shared_batch->size();
  }
  auto self = shared_from_this();
  executor_->invoke(*config, std::move(payload), InvocationType::request_response,
                    [self, runner, i, shared_batch](InvokeResult result) {
                      self->finished(runner, i, *shared_batch, result);
                    });
}

void SqsPollers::finished(const std::shared_ptr<Runner>& runner, std::size_t i,
                          const std::vector<QueueMessage>& batch, const InvokeResult& result) {
  const MappingSpec& spec = runner->spec;
  std::vector<std::string> handles;
  std::size_t failed = 0;
  std::string what;
  bool back_off = false;
  switch (result.status) {
    case InvokeResult::Status::ok: {
      BatchOutcome outcome;
      if (spec.report_failures) outcome = parse_batch_response(result.payload, batch);
      if (outcome.whole_batch_failed) {
        failed = batch.size();
        what = "whole batch failed: " + outcome.reason;
        break;
      }
      for (const auto& m : batch)
        if (!outcome.failed_ids.count(m.message_id)) handles.push_back(m.receipt_handle);
      failed = batch.size() - handles.size();
      what = failed > 0 ? "reported batch item failures" : "ok";
      break;
    }
    case InvokeResult::Status::function_error:
      failed = batch.size();
      what = "function error (" + result.function_error + ")";
      break;
    case InvokeResult::Status::throttled:
      failed = batch.size();
      what = "throttled (" + result.throttle_reason + ")";
      back_off = true;
      break;
    case InvokeResult::Status::service_error:
      failed = batch.size();
      what = result.error_code + ": " + result.error_message;
      back_off = true;
      break;
  }
  bool shutting_down = false;
  bool next = false;
  int failures = 0;
  {
    std::lock_guard lock(mutex_);
    shutting_down = stopped_;
    --runner->in_flight;
    auto& c = counters_[spec.uuid];
    c.deleted += handles.size();
    c.failed += failed;
    if (result.status == InvokeResult::Status::function_error) ++c.function_errors;
    if (result.status == InvokeResult::Status::throttled) ++c.throttles;
    if (result.status == InvokeResult::Status::ok) c.last_result = "OK";
    if (back_off) failures = ++runner->slots[i].failures;
    next = !stopped_ && !runner->stopped;
  }
  if (!handles.empty() && !shutting_down) {
    if (auto e = queues_->delete_messages(spec.queue_arn, handles))
      log::warn("lambda", "event source mapping {}: deleting {} message(s) failed: {}: {}", spec.uuid,
                handles.size(), e->code, e->message);
  }
  log::info("lambda", "event source mapping {}: batch of {} from {} invoked {}: {}; deleted {}, failed {}",
            spec.uuid, batch.size(), spec.queue_arn, spec.function, what, handles.size(), failed);
  if (next)
    post(clock_->now_ms() + (back_off ? backoff_ms(failures) : 0), [this, runner, i] { poll(runner, i); });
}

std::string SqsPollers::last_processing_result(const std::string& uuid) const {
  std::lock_guard lock(mutex_);
  auto it = counters_.find(uuid);
  return it == counters_.end() ? std::string() : it->second.last_result;
}

json SqsPollers::stats() const {
  std::lock_guard lock(mutex_);
  json out = json::object();
  for (const auto& [uuid, c] : counters_) {
    json entry = {{"batches", c.batches},
                  {"messages", c.messages},
                  {"deleted", c.deleted},
                  {"failed", c.failed},
                  {"function_errors", c.function_errors},
                  {"throttles", c.throttles},
                  {"receive_errors", c.receive_errors},
                  {"filtered_out", c.filtered_out},
                  {"last_processing_result", c.last_result},
                  {"enabled", false},
                  {"pollers", 0},
                  {"polling", 0},
                  {"in_flight", 0}};
    if (auto it = runners_.find(uuid); it != runners_.end()) {
      const Runner& r = *it->second;
      int polling = 0;
      for (const auto& s : r.slots) polling += s.polling ? 1 : 0;
      entry["enabled"] = true;
      entry["queue"] = r.spec.queue_arn;
      entry["function"] = r.spec.qualifier.empty() ? r.spec.function : r.spec.function + ":" + r.spec.qualifier;
      entry["pollers"] = r.active;
      entry["max_pollers"] = r.slots.size();
      entry["polling"] = polling;
      entry["in_flight"] = r.in_flight;
    }
    out[uuid] = std::move(entry);
  }
  return out;
}

}  // namespace stratus::services::lambda
