#include "events/router.hpp"

#include <atomic>
#include <exception>
#include <map>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "common/ids.hpp"
#include "common/log.hpp"

namespace stratus::events {

// Everything a delivery in flight may touch, kept alive by the delivery itself.
struct Router::State {
  struct Entry {
    Subscription subscription;
  };

  explicit State(Executor e) : executor(std::move(e)) {}

  const Executor executor;
  mutable std::mutex mutex;
  // Guarded by `mutex`. Entries are immutable once inserted and shared with publishers' snapshots.
  std::map<SubscriptionId, std::shared_ptr<const Entry>> subscriptions;
  std::unordered_map<std::string, std::shared_ptr<TargetKind>> kinds;
  std::shared_ptr<const Observer> observer;
  SubscriptionId next_id = 1;

  std::atomic<std::uint64_t> published{0};
  std::atomic<std::uint64_t> unmatched{0};
  std::atomic<std::uint64_t> scheduled{0};
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> failed{0};

  // Counts the outcome and tells the observer. Called exactly once per delivery, without the lock.
  void complete(const Event& event, const Target& target, const DeliveryResult& result) {
    (result.ok ? delivered : failed).fetch_add(1, std::memory_order_relaxed);
    std::shared_ptr<const Observer> current;
    {
      std::lock_guard lock(mutex);
      current = observer;
    }
    if (current && *current) {
      try {
        (*current)(event, target, result);
      } catch (const std::exception& e) {
        log::warn("events", "event observer threw: {}", e.what());
      }
    }
  }
};

// What one scheduled delivery needs; shared between the task and its `done` callback.
struct Router::Delivery {
  std::shared_ptr<State> state;
  std::shared_ptr<const Event> event;
  Target target;
  std::shared_ptr<TargetKind> kind;  // null when the kind is not registered
  std::function<void(DeliveryResult)> on_done;  // send()'s caller, after the observer; may be empty
  std::atomic<bool> completed{false};

  void finish(const DeliveryResult& result) {
    if (completed.exchange(true)) {
      log::warn("events", "delivery of event {} to {} completed more than once; ignoring", event->id,
                target.arn);
      return;
    }
    state->complete(*event, target, result);
    if (on_done) {
      try {
        on_done(result);
      } catch (const std::exception& e) {
        log::warn("events", "send callback for event {} threw: {}", event->id, e.what());
      }
    }
  }
};

bool wildcard_match(const std::string& pattern, const std::string& value) {
  if (!pattern.empty() && pattern.back() == '*') {
    return std::string_view(value).starts_with(std::string_view(pattern).substr(0, pattern.size() - 1));
  }
  return pattern == value;
}

Router::Router(Executor executor) : state_(std::make_shared<State>(std::move(executor))) {}

Router::~Router() = default;

void Router::register_target_kind(std::string kind, std::shared_ptr<TargetKind> deliverer) {
  std::lock_guard lock(state_->mutex);
  state_->kinds[std::move(kind)] = std::move(deliverer);
}

SubscriptionId Router::subscribe(Subscription subscription) {
  auto entry = std::make_shared<const State::Entry>(State::Entry{std::move(subscription)});
  std::lock_guard lock(state_->mutex);
  SubscriptionId id = state_->next_id++;
  state_->subscriptions.emplace(id, std::move(entry));
  return id;
}

bool Router::unsubscribe(SubscriptionId id) {
  std::lock_guard lock(state_->mutex);
  return state_->subscriptions.erase(id) > 0;
}

std::size_t Router::subscription_count() const {
  std::lock_guard lock(state_->mutex);
  return state_->subscriptions.size();
}

void Router::set_observer(Observer observer) {
  auto shared = std::make_shared<const Observer>(std::move(observer));
  std::lock_guard lock(state_->mutex);
  state_->observer = std::move(shared);
}

Router::Stats Router::stats() const {
  Stats s;
  s.published = state_->published.load();
  s.unmatched = state_->unmatched.load();
  s.scheduled = state_->scheduled.load();
  s.delivered = state_->delivered.load();
  s.failed = state_->failed.load();
  return s;
}

std::size_t Router::publish(Event event) {
  if (event.id.empty()) event.id = new_request_id();
  state_->published.fetch_add(1, std::memory_order_relaxed);

  // Source and type are matched under the lock; predicates (user code) run after it is released.
  struct Candidate {
    std::shared_ptr<const State::Entry> entry;
    std::shared_ptr<TargetKind> kind;
  };
  std::vector<Candidate> candidates;
  {
    std::lock_guard lock(state_->mutex);
    for (const auto& [id, entry] : state_->subscriptions) {
      const Subscription& sub = entry->subscription;
      if (!wildcard_match(sub.source_arn, event.source_arn)) continue;
      bool type_ok = sub.event_types.empty();
      for (const std::string& filter : sub.event_types) {
        if (wildcard_match(filter, event.type)) {
          type_ok = true;
          break;
        }
      }
      if (!type_ok) continue;
      auto kind = state_->kinds.find(sub.target.kind);
      candidates.push_back({entry, kind == state_->kinds.end() ? nullptr : kind->second});
    }
  }

  auto shared_event = std::make_shared<const Event>(std::move(event));
  std::vector<std::shared_ptr<Delivery>> deliveries;
  deliveries.reserve(candidates.size());
  for (Candidate& c : candidates) {
    const Subscription& sub = c.entry->subscription;
    if (sub.predicate) {
      bool match = false;
      try {
        match = sub.predicate(*shared_event);
      } catch (const std::exception& e) {
        log::warn("events", "subscription predicate threw for event {}: {}", shared_event->id, e.what());
      }
      if (!match) continue;
    }
    auto d = std::make_shared<Delivery>();
    d->state = state_;
    d->event = shared_event;
    d->target = sub.target;
    d->kind = std::move(c.kind);
    deliveries.push_back(std::move(d));
  }

  if (deliveries.empty()) {
    state_->unmatched.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  state_->scheduled.fetch_add(deliveries.size(), std::memory_order_relaxed);
  for (auto& d : deliveries) schedule(std::move(d));
  return deliveries.size();
}


void Router::send(Event event, Target target, std::function<void(DeliveryResult)> on_done) {
  if (event.id.empty()) event.id = new_request_id();
  state_->published.fetch_add(1, std::memory_order_relaxed);
  auto d = std::make_shared<Delivery>();
  d->state = state_;
  d->event = std::make_shared<const Event>(std::move(event));
  {
    std::lock_guard lock(state_->mutex);
    auto kind = state_->kinds.find(target.kind);
    if (kind != state_->kinds.end()) d->kind = kind->second;
  }
  d->target = std::move(target);
  d->on_done = std::move(on_done);
  state_->scheduled.fetch_add(1, std::memory_order_relaxed);
  schedule(std::move(d));
}

void Router::schedule(std::shared_ptr<Delivery> d) {
  auto task = [d] {
    if (!d->kind) {
      d->finish(DeliveryResult::failure(
          "UnknownTargetKind",
          fmt::format("no target kind \"{}\" is registered (target {})", d->target.kind, d->target.arn)));
      return;
    }
    try {
      d->kind->deliver(*d->event, d->target, [d](DeliveryResult result) { d->finish(result); });
    } catch (const std::exception& e) {
      if (d->completed.load()) {
        log::warn("events", "target kind \"{}\" threw after completing: {}", d->target.kind, e.what());
      } else {
        d->finish(DeliveryResult::failure("DeliveryException", e.what()));
      }
    }
  };
  try {
    state_->executor(std::move(task));
  } catch (const std::exception& e) {  // e.g. a pool that is shutting down
    d->finish(DeliveryResult::failure("ExecutorRejected", e.what()));
  }
}

}  // namespace stratus::events
