#include "events/router.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace stratus::events {
namespace {

Router::Executor inline_executor() {
  return [](std::function<void()> task) { task(); };
}

// Holds tasks until run_all() is called, so a test controls when deliveries happen.
class QueuedExecutor {
 public:
  Router::Executor executor() {
    return [this](std::function<void()> task) {
      std::lock_guard lock(mutex_);
      tasks_.push_back(std::move(task));
    };
  }
  std::size_t run_all() {
    std::size_t n = 0;
    for (;;) {
      std::function<void()> task;
      {
        std::lock_guard lock(mutex_);
        if (tasks_.empty()) return n;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
      ++n;
    }
  }
  std::size_t pending() {
    std::lock_guard lock(mutex_);
    return tasks_.size();
  }

 private:
  std::mutex mutex_;
  std::deque<std::function<void()>> tasks_;
};

struct Received {
  Event event;
  Target target;
};

// Completes every delivery synchronously and records it.
class RecordingKind : public TargetKind {
 public:
  void deliver(const Event& event, const Target& target, std::function<void(DeliveryResult)> done) override {
    {
      std::lock_guard lock(mutex);
      received.push_back({event, target});
    }
    done(fail_with.empty() ? DeliveryResult::success() : DeliveryResult::failure(fail_with, "told to fail"));
  }
  std::vector<Received> snapshot() {
    std::lock_guard lock(mutex);
    return received;
  }
  std::mutex mutex;
  std::vector<Received> received;
  std::string fail_with;
};

Event make_event(std::string type, std::string source) {
  Event e;
  e.type = std::move(type);
  e.source_arn = std::move(source);
  e.account = "000000000000";
  e.region = "us-east-1";
  e.time_ms = 1'700'000'000'000;
  e.detail = {{"key", "photo.jpg"}};
  return e;
}

Subscription make_sub(std::string source, std::vector<std::string> types, std::string arn,
                      std::string kind = "function") {
  Subscription s;
  s.source_arn = std::move(source);
  s.event_types = std::move(types);
  s.target = Target{std::move(kind), std::move(arn), nlohmann::json::object()};
  return s;
}

const std::string kBucket = "arn:aws:s3:::photos";
const std::string kQueue = "arn:aws:sqs:us-east-1:000000000000:orders";

TEST(events_wildcard, ExactPrefixAndStar) {
  EXPECT_TRUE(wildcard_match("s3:ObjectCreated:Put", "s3:ObjectCreated:Put"));
  EXPECT_FALSE(wildcard_match("s3:ObjectCreated:Put", "s3:ObjectCreated:Post"));
  EXPECT_TRUE(wildcard_match("s3:ObjectCreated:*", "s3:ObjectCreated:Copy"));
  EXPECT_FALSE(wildcard_match("s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"));
  EXPECT_FALSE(wildcard_match("s3:ObjectCreated:*", "s3:ObjectCreated"));
  EXPECT_TRUE(wildcard_match("*", ""));
  EXPECT_TRUE(wildcard_match("*", "anything"));
  EXPECT_FALSE(wildcard_match("", "x"));
  EXPECT_TRUE(wildcard_match("", ""));
}

TEST(events_router, MatchesBySourceAndTypeWildcards) {
  Router router(inline_executor());
  auto kind = std::make_shared<RecordingKind>();
  router.register_target_kind("function", kind);
  router.subscribe(make_sub(kBucket, {"s3:ObjectCreated:*"}, "fn-created"));
  router.subscribe(make_sub("*", {"s3:ObjectRemoved:Delete"}, "fn-removed-any-bucket"));
  router.subscribe(make_sub("arn:aws:s3:::other", {"s3:*"}, "fn-other-bucket"));
  router.subscribe(make_sub("arn:aws:s3:::ph*", {}, "fn-prefix-all-types"));

  EXPECT_EQ(router.publish(make_event("s3:ObjectCreated:Put", kBucket)), 2u);
  EXPECT_EQ(router.publish(make_event("s3:ObjectRemoved:Delete", kBucket)), 2u);
  EXPECT_EQ(router.publish(make_event("s3:ObjectRemoved:Delete", "arn:aws:s3:::other")), 2u);
  EXPECT_EQ(router.publish(make_event("sqs:MessageAvailable", kQueue)), 0u);

  auto got = kind->snapshot();
  std::vector<std::string> arns;
  for (const auto& r : got) arns.push_back(r.target.arn);
  EXPECT_EQ(arns,
            (std::vector<std::string>{"fn-created", "fn-prefix-all-types", "fn-removed-any-bucket",
                                      "fn-prefix-all-types", "fn-removed-any-bucket", "fn-other-bucket"}));
  EXPECT_EQ(got[0].event.type, "s3:ObjectCreated:Put");
  EXPECT_EQ(got[0].event.detail["key"], "photo.jpg");
  EXPECT_FALSE(got[0].event.id.empty()) << "publish assigns an id";
  EXPECT_EQ(got[0].event.id, got[1].event.id) << "both deliveries carry the same event";

  Router::Stats s = router.stats();
  EXPECT_EQ(s.published, 4u);
  EXPECT_EQ(s.unmatched, 1u);
  EXPECT_EQ(s.scheduled, 6u);
  EXPECT_EQ(s.delivered, 6u);
  EXPECT_EQ(s.failed, 0u);
}

TEST(events_router, KeepsAGivenEventId) {
  Router router(inline_executor());
  auto kind = std::make_shared<RecordingKind>();
  router.register_target_kind("queue", kind);
  router.subscribe(make_sub("*", {"*"}, kQueue, "queue"));
  Event e = make_event("x:Y", "src");
  e.id = "my-id";
  router.publish(e);
  ASSERT_EQ(kind->snapshot().size(), 1u);
  EXPECT_EQ(kind->snapshot()[0].event.id, "my-id");
}

TEST(events_router, MultipleSubscribersOfDifferentKinds) {
  Router router(inline_executor());
  auto functions = std::make_shared<RecordingKind>();
  auto queues = std::make_shared<RecordingKind>();
  router.register_target_kind("function", functions);
  router.register_target_kind("queue", queues);
  router.subscribe(make_sub(kBucket, {"s3:ObjectCreated:*"}, "fn-a"));
  router.subscribe(make_sub(kBucket, {"s3:ObjectCreated:*"}, "fn-b"));
  router.subscribe(make_sub(kBucket, {"s3:ObjectCreated:Put", "s3:ObjectCreated:Copy"}, kQueue, "queue"));

  EXPECT_EQ(router.publish(make_event("s3:ObjectCreated:Copy", kBucket)), 3u);
  EXPECT_EQ(functions->snapshot().size(), 2u);
  ASSERT_EQ(queues->snapshot().size(), 1u);
  EXPECT_EQ(queues->snapshot()[0].target.kind, "queue");
  EXPECT_EQ(router.subscription_count(), 3u);
}

TEST(events_router, SendDeliversToOneTargetWithoutSubscriptions) {
  QueuedExecutor queued;
  Router router(queued.executor());
  auto queues = std::make_shared<RecordingKind>();
  router.register_target_kind("queue", queues);
  router.subscribe(make_sub("*", {}, "fn-a"));  // a subscription must not see a point-to-point send
  std::vector<DeliveryResult> results;
  router.send(make_event("lambda:DestinationRecord", "fn"), Target{"queue", kQueue, nlohmann::json::object()},
              [&](DeliveryResult r) { results.push_back(r); });
  router.send(make_event("lambda:DestinationRecord", "fn"), Target{"topic", "arn:aws:sns:x", nlohmann::json::object()},
              [&](DeliveryResult r) { results.push_back(r); });
  EXPECT_TRUE(results.empty());  // nothing runs before the executor does
  EXPECT_EQ(queued.run_all(), 2u);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0].ok);
  EXPECT_FALSE(results[1].ok);
  EXPECT_EQ(results[1].error_code, "UnknownTargetKind");
  auto got = queues->snapshot();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].target.arn, kQueue);
  auto stats = router.stats();
  EXPECT_EQ(stats.scheduled, 2u);
  EXPECT_EQ(stats.delivered, 1u);
  EXPECT_EQ(stats.failed, 1u);
}

TEST(events_router, Unsubscribe) {
  Router router(inline_executor());
  auto kind = std::make_shared<RecordingKind>();
  router.register_target_kind("function", kind);
  SubscriptionId a = router.subscribe(make_sub("*", {}, "fn-a"));
  SubscriptionId b = router.subscribe(make_sub("*", {}, "fn-b"));
  EXPECT_NE(a, 0u);
  EXPECT_NE(a, b);
  EXPECT_EQ(router.publish(make_event("t", "s")), 2u);
  EXPECT_TRUE(router.unsubscribe(a));
  EXPECT_FALSE(router.unsubscribe(a));
  EXPECT_FALSE(router.unsubscribe(12345));
  EXPECT_EQ(router.publish(make_event("t", "s")), 1u);
  auto got = kind->snapshot();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2].target.arn, "fn-b");
  EXPECT_EQ(router.subscription_count(), 1u);
}

TEST(events_router, PredicateFiltersAfterSourceAndType) {
  Router router(inline_executor());
  auto kind = std::make_shared<RecordingKind>();
  router.register_target_kind("bus", kind);
  Subscription s = make_sub("*", {"s3:*"}, "arn:aws:events:us-east-1:000000000000:event-bus/default", "bus");
  s.predicate = [](const Event& e) { return e.detail.value("key", "").ends_with(".jpg"); };
  router.subscribe(s);
  EXPECT_EQ(router.publish(make_event("s3:ObjectCreated:Put", kBucket)), 1u);
  Event txt = make_event("s3:ObjectCreated:Put", kBucket);
  txt.detail["key"] = "notes.txt";
  EXPECT_EQ(router.publish(txt), 0u);
  EXPECT_EQ(router.stats().unmatched, 1u);
}

TEST(events_router, UnknownTargetKindFails) {
  Router router(inline_executor());
  std::vector<DeliveryResult> results;
  router.set_observer([&](const Event&, const Target&, const DeliveryResult& r) { results.push_back(r); });
  router.subscribe(make_sub("*", {}, "arn:x", "carrier-pigeon"));
  EXPECT_EQ(router.publish(make_event("t", "s")), 1u) << "still counted as scheduled";
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].ok);
  EXPECT_EQ(results[0].error_code, "UnknownTargetKind");
  EXPECT_NE(results[0].error_message.find("carrier-pigeon"), std::string::npos);
  EXPECT_EQ(router.stats().failed, 1u);
  EXPECT_EQ(router.stats().delivered, 0u);
}

TEST(events_router, FailuresAndExceptionsAreCounted) {
  class ThrowingKind : public TargetKind {
   public:
    void deliver(const Event&, const Target&, std::function<void(DeliveryResult)>) override {
      throw std::runtime_error("boom");
    }
  };
  Router router(inline_executor());
  auto failing = std::make_shared<RecordingKind>();
  failing->fail_with = "KMSAccessDenied";
  router.register_target_kind("queue", failing);
  router.register_target_kind("function", std::make_shared<ThrowingKind>());
  std::vector<std::string> codes;
  router.set_observer(
      [&](const Event&, const Target&, const DeliveryResult& r) { codes.push_back(r.error_code); });
  router.subscribe(make_sub("*", {}, "q", "queue"));
  router.subscribe(make_sub("*", {}, "f", "function"));
  EXPECT_EQ(router.publish(make_event("t", "s")), 2u);
  EXPECT_EQ(codes, (std::vector<std::string>{"KMSAccessDenied", "DeliveryException"}));
  EXPECT_EQ(router.stats().failed, 2u);
}

TEST(events_router, ExecutorThatThrowsFailsTheDelivery) {
  Router router([](std::function<void()>) { throw std::runtime_error("pool stopped"); });
  router.register_target_kind("function", std::make_shared<RecordingKind>());
  std::vector<DeliveryResult> results;
  router.set_observer([&](const Event&, const Target&, const DeliveryResult& r) { results.push_back(r); });
  router.subscribe(make_sub("*", {}, "f"));
  EXPECT_EQ(router.publish(make_event("t", "s")), 1u);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].error_code, "ExecutorRejected");
  EXPECT_EQ(results[0].error_message, "pool stopped");
  EXPECT_EQ(router.stats().failed, 1u);
}

TEST(events_router, QueuedExecutorDefersDelivery) {
  QueuedExecutor queue;
  Router router(queue.executor());
  auto kind = std::make_shared<RecordingKind>();
  router.register_target_kind("function", kind);
  router.subscribe(make_sub("*", {}, "f"));
  EXPECT_EQ(router.publish(make_event("t", "s")), 1u);
  EXPECT_EQ(kind->snapshot().size(), 0u);
  EXPECT_EQ(queue.pending(), 1u);
  EXPECT_EQ(queue.run_all(), 1u);
  EXPECT_EQ(kind->snapshot().size(), 1u);
  EXPECT_EQ(router.stats().delivered, 1u);
}

TEST(events_router, AsyncCompletionFromAnotherThread) {
  // Completes each delivery later, from its own thread, reading the event only then.
  class AsyncKind : public TargetKind {
   public:
    void deliver(const Event& event, const Target& target,
                 std::function<void(DeliveryResult)> done) override {
      std::lock_guard lock(mutex);
      threads.emplace_back([&event, &target, done, this] {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        {
          std::lock_guard inner(mutex);
          seen.push_back(event.type + "->" + target.arn);
        }
        done(DeliveryResult::success());
        done(DeliveryResult::failure("Twice", "second call is ignored"));
      });
    }
    void join() {
      std::vector<std::thread> all;
      {
        std::lock_guard lock(mutex);
        all.swap(threads);
      }
      for (auto& t : all) t.join();
    }
    std::mutex mutex;
    std::vector<std::thread> threads;
    std::vector<std::string> seen;
  };

  auto kind = std::make_shared<AsyncKind>();
  std::mutex m;
  std::condition_variable cv;
  int completions = 0;
  std::thread::id observer_thread;
  {
    Router router(inline_executor());
    router.register_target_kind("function", kind);
    router.set_observer([&](const Event&, const Target&, const DeliveryResult& r) {
      std::lock_guard lock(m);
      EXPECT_TRUE(r.ok);
      observer_thread = std::this_thread::get_id();
      ++completions;
      cv.notify_all();
    });
    router.subscribe(make_sub("*", {}, "f1"));
    router.subscribe(make_sub("*", {}, "f2"));
    EXPECT_EQ(router.publish(make_event("t", "s")), 2u);
    {
      std::unique_lock lock(m);
      ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return completions == 2; }));
    }
    kind->join();
    EXPECT_EQ(router.stats().delivered, 2u);
    EXPECT_EQ(router.stats().failed, 0u) << "a second done() is ignored";

    // A delivery still in flight when the router is destroyed completes safely afterwards.
    EXPECT_EQ(router.publish(make_event("late", "s")), 2u);
  }
  kind->join();
  EXPECT_NE(observer_thread, std::this_thread::get_id());
  EXPECT_EQ(completions, 4);
  std::sort(kind->seen.begin(), kind->seen.end());
  EXPECT_EQ(kind->seen, (std::vector<std::string>{"late->f1", "late->f2", "t->f1", "t->f2"}));
}

TEST(events_router, ObserverSeesEventTargetAndResult) {
  Router router(inline_executor());
  auto ok = std::make_shared<RecordingKind>();
  router.register_target_kind("function", ok);
  struct Seen {
    std::string event_id, type, arn;
    bool ok;
  };
  std::vector<Seen> seen;
  router.set_observer([&](const Event& e, const Target& t, const DeliveryResult& r) {
    seen.push_back({e.id, e.type, t.arn, r.ok});
  });
  router.subscribe(make_sub(kBucket, {"s3:ObjectCreated:*"}, "fn"));
  router.subscribe(make_sub(kBucket, {"s3:ObjectCreated:*"}, "nowhere", "unknown"));
  Event e = make_event("s3:ObjectCreated:Put", kBucket);
  e.id = "evt-1";
  router.publish(e);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].event_id, "evt-1");
  EXPECT_EQ(seen[0].type, "s3:ObjectCreated:Put");
  EXPECT_EQ(seen[0].arn, "fn");
  EXPECT_TRUE(seen[0].ok);
  EXPECT_EQ(seen[1].arn, "nowhere");
  EXPECT_FALSE(seen[1].ok);

  router.set_observer(nullptr);
  router.publish(e);
  EXPECT_EQ(seen.size(), 2u) << "observer removed";
}

TEST(events_router, TargetThatRepublishesDuringDelivery) {
  // A queue that, on receiving an S3 event, announces "sqs:MessageAvailable" from inside deliver();
  // a function is subscribed to that. With an inline executor everything runs nested on one thread,
  // so any lock held across deliver() or the observer would deadlock here.
  class RepublishingQueue : public TargetKind {
   public:
    explicit RepublishingQueue(Router& r) : router(r) {}
    void deliver(const Event& event, const Target& target,
                 std::function<void(DeliveryResult)> done) override {
      Event out;
      out.type = "sqs:MessageAvailable";
      out.source_arn = target.arn;
      out.detail = {{"body", event.detail.dump()}};
      router.publish(out);
      router.subscribe(make_sub("never", {}, "added-during-delivery"));  // also no deadlock
      done(DeliveryResult::success());
    }
    Router& router;
  };

  Router router(inline_executor());
  auto functions = std::make_shared<RecordingKind>();
  router.register_target_kind("function", functions);
  router.register_target_kind("queue", std::make_shared<RepublishingQueue>(router));
  int observed = 0;
  router.set_observer([&](const Event&, const Target&, const DeliveryResult&) {
    ++observed;
    EXPECT_GE(router.stats().published, 1u);  // calling back into the router from the observer is fine
  });
  router.subscribe(make_sub(kBucket, {"s3:ObjectCreated:*"}, kQueue, "queue"));
  router.subscribe(make_sub(kQueue, {"sqs:MessageAvailable"}, "consumer"));

  EXPECT_EQ(router.publish(make_event("s3:ObjectCreated:Put", kBucket)), 1u);
  auto got = functions->snapshot();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].event.source_arn, kQueue);
  EXPECT_EQ(nlohmann::json::parse(got[0].event.detail["body"].get<std::string>())["key"], "photo.jpg");
  EXPECT_EQ(observed, 2);
  Router::Stats s = router.stats();
  EXPECT_EQ(s.published, 2u);
  EXPECT_EQ(s.delivered, 2u);
  EXPECT_EQ(router.subscription_count(), 3u);
}

TEST(events_router, ConcurrentPublishFromSeveralThreadsCountsExactly) {
  // A small thread pool as the executor, like the daemon's.
  class Pool {
   public:
    explicit Pool(int n) {
      for (int i = 0; i < n; ++i) workers_.emplace_back([this] { run(); });
    }
    ~Pool() {
      {
        std::lock_guard lock(mutex_);
        stop_ = true;
      }
      cv_.notify_all();
      for (auto& w : workers_) w.join();
    }
    void post(std::function<void()> task) {
      {
        std::lock_guard lock(mutex_);
        tasks_.push_back(std::move(task));
      }
      cv_.notify_one();
    }

   private:
    void run() {
      for (;;) {
        std::function<void()> task;
        {
          std::unique_lock lock(mutex_);
          cv_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
          if (tasks_.empty()) return;  // stop_ and drained
          task = std::move(tasks_.front());
          tasks_.pop_front();
        }
        task();
      }
    }
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> tasks_;
    std::vector<std::thread> workers_;
    bool stop_ = false;
  };

  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  std::atomic<int> function_hits{0};
  std::atomic<int> queue_hits{0};
  std::atomic<int> observed{0};
  class CountingKind : public TargetKind {
   public:
    explicit CountingKind(std::atomic<int>& c) : count(c) {}
    void deliver(const Event&, const Target&, std::function<void(DeliveryResult)> done) override {
      count.fetch_add(1);
      done(DeliveryResult::success());
    }
    std::atomic<int>& count;
  };

  {
    Pool pool(3);
    Router router([&pool](std::function<void()> task) { pool.post(std::move(task)); });
    router.register_target_kind("function", std::make_shared<CountingKind>(function_hits));
    router.register_target_kind("queue", std::make_shared<CountingKind>(queue_hits));
    router.set_observer([&](const Event&, const Target&, const DeliveryResult&) { observed.fetch_add(1); });
    router.subscribe(make_sub("*", {"s3:ObjectCreated:*"}, "f"));
    router.subscribe(make_sub(kBucket, {"s3:*"}, kQueue, "queue"));

    std::atomic<std::size_t> scheduled{0};
    std::vector<std::thread> publishers;
    for (int t = 0; t < kThreads; ++t) {
      publishers.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          // Every other event comes from another bucket: only the "*" subscription matches it.
          scheduled += router.publish(make_event("s3:ObjectCreated:Put", i % 2 ? kBucket : "arn:aws:s3:::b"));
          if (t == 0 && i % 50 == 0) {  // churn subscriptions meanwhile
            SubscriptionId id = router.subscribe(make_sub("nothing-matches", {}, "x"));
            router.unsubscribe(id);
          }
        }
      });
    }
    for (auto& p : publishers) p.join();
    EXPECT_EQ(scheduled.load(), std::size_t{kThreads * kPerThread + kThreads * kPerThread / 2});
    // Wait for the pool to drain.
    for (int i = 0; i < 1000 && observed.load() < static_cast<int>(scheduled.load()); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    Router::Stats s = router.stats();
    EXPECT_EQ(s.published, std::uint64_t{kThreads * kPerThread});
    EXPECT_EQ(s.scheduled, scheduled.load());
    EXPECT_EQ(s.delivered, scheduled.load());
    EXPECT_EQ(s.failed, 0u);
    EXPECT_EQ(s.unmatched, 0u);
  }
  EXPECT_EQ(function_hits.load(), kThreads * kPerThread);
  EXPECT_EQ(queue_hits.load(), kThreads * kPerThread / 2);
  EXPECT_EQ(observed.load(), kThreads * kPerThread * 3 / 2);
}

}  // namespace
}  // namespace stratus::events
