#pragma once
// An in-memory QueueSource for the pollers' unit tests: enough of SQS's receive semantics (visibility
// timeouts on a ManualClock, receive counts, redrive to a DLQ after maxReceiveCount, long polls that wait
// until a message arrives or they are cancelled) to drive Lambda's event source mappings without the SQS
// service, which lives on another branch. The integration test (tests/integration/test_sqs_esm.py) runs
// the pollers against the real SQS.
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "services/queue_source.hpp"

namespace stratus::services::lambda::testing {

class FakeQueue final : public QueueSource {
 public:
  struct Message {
    std::string id;
    std::string body;
    nlohmann::json message_attributes = nlohmann::json::object();
    std::map<std::string, std::string> extra_attributes;  // FIFO attributes etc.
    int receives = 0;
    std::int64_t sent_ms = 0;
    std::int64_t first_receive_ms = 0;
    std::int64_t visible_at_ms = 0;
    std::string handle;  // of the latest receive
    bool deleted = false;
  };

  explicit FakeQueue(const ManualClock& clock) : clock_(clock) {}

  static std::string arn(const std::string& name) { return "arn:aws:sqs:us-east-1:000000000000:" + name; }

  void create(const std::string& name, int visibility_seconds = 30, const std::string& dlq = "",
              int max_receive_count = 0) {
    std::lock_guard lock(mutex_);
    Queue& q = queues_[arn(name)];
    q.info.arn = arn(name);
    q.info.name = name;
    q.info.fifo = name.ends_with(".fifo");
    q.info.visibility_timeout_seconds = visibility_seconds;
    if (!dlq.empty()) {
      q.dlq = arn(dlq);
      q.info.max_receive_count = max_receive_count;
    }
  }

  // Deletes a queue: waiting receives end with NonExistentQueue.
  void drop(const std::string& name) {
    std::vector<Waiter> ended;
    {
      std::lock_guard lock(mutex_);
      queues_.erase(arn(name));
      for (auto it = waiters_.begin(); it != waiters_.end();) {
        if (it->second.request.queue_arn == arn(name)) {
          ended.push_back(std::move(it->second));
          it = waiters_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& w : ended) w.done(missing());
  }

  std::string send(const std::string& name, const std::string& body,
                   nlohmann::json message_attributes = nlohmann::json::object(),
                   std::map<std::string, std::string> extra = {}) {
    std::string id;
    {
      std::lock_guard lock(mutex_);
      Message m;
      m.id = "msg-" + std::to_string(++next_id_);
      m.body = body;
      m.message_attributes = std::move(message_attributes);
      m.extra_attributes = std::move(extra);
      m.sent_ms = clock_.now_ms();
      id = m.id;
      queues_.at(arn(name)).messages.push_back(std::move(m));
    }
    wake();
    return id;
  }

  // Completes waiting receives whose queue now has visible messages (after send() or a clock advance).
  void wake() {
    std::vector<std::pair<Waiter, QueueReceiveResult>> ready;
    {
      std::lock_guard lock(mutex_);
      for (auto it = waiters_.begin(); it != waiters_.end();) {
        QueueReceiveResult r = take(it->second.request);
        if (!r.messages.empty() || r.error) {
          ready.emplace_back(std::move(it->second), std::move(r));
          it = waiters_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& [w, r] : ready) w.done(std::move(r));
  }

  // --- QueueSource ---
  std::optional<QueueInfo> describe(const std::string& queue_arn) override {
    std::lock_guard lock(mutex_);
    auto it = queues_.find(queue_arn);
    if (it == queues_.end()) return std::nullopt;
    return it->second.info;
  }

  PollId receive(QueueReceiveRequest request, std::function<void(QueueReceiveResult)> done) override {
    QueueReceiveResult r;
    PollId id = 0;
    {
      std::lock_guard lock(mutex_);
      id = ++next_poll_;
      ++receives_;
      r = take(request);
      if (r.messages.empty() && !r.error && request.wait_seconds > 0) {
        waiters_[id] = Waiter{std::move(request), std::move(done)};
        return id;
      }
    }
    done(std::move(r));
    return id;
  }

  void cancel_receive(PollId id) override {
    std::function<void(QueueReceiveResult)> done;
    {
      std::lock_guard lock(mutex_);
      auto it = waiters_.find(id);
      if (it == waiters_.end()) return;
      done = std::move(it->second.done);
      waiters_.erase(it);
      ++cancelled_;
    }
    done(QueueReceiveResult{});
  }

  std::optional<AwsError> delete_messages(const std::string& queue_arn,
                                          const std::vector<std::string>& handles) override {
    std::lock_guard lock(mutex_);
    auto it = queues_.find(queue_arn);
    if (it == queues_.end()) return missing().error;
    for (auto& m : it->second.messages)
      for (const auto& h : handles)
        if (m.handle == h) m.deleted = true;
    return std::nullopt;
  }

  std::optional<AwsError> change_visibility(const std::string& queue_arn, const std::string& handle,
                                            int seconds) override {
    std::lock_guard lock(mutex_);
    auto it = queues_.find(queue_arn);
    if (it == queues_.end()) return missing().error;
    for (auto& m : it->second.messages)
      if (m.handle == handle) m.visible_at_ms = clock_.now_ms() + seconds * 1000LL;
    return std::nullopt;
  }

  std::optional<std::int64_t> visible_messages(const std::string& queue_arn) override {
    std::lock_guard lock(mutex_);
    auto it = queues_.find(queue_arn);
    if (it == queues_.end()) return std::nullopt;
    std::int64_t n = 0;
    for (const auto& m : it->second.messages) n += !m.deleted && m.visible_at_ms <= clock_.now_ms() ? 1 : 0;
    return n;
  }

  // --- what the tests look at ---
  std::vector<Message> remaining(const std::string& name) {
    std::lock_guard lock(mutex_);
    std::vector<Message> out;
    for (const auto& m : queues_.at(arn(name)).messages)
      if (!m.deleted) out.push_back(m);
    return out;
  }
  std::size_t waiting() {
    std::lock_guard lock(mutex_);
    return waiters_.size();
  }
  std::size_t cancelled() {
    std::lock_guard lock(mutex_);
    return cancelled_;
  }
  std::size_t receives() {
    std::lock_guard lock(mutex_);
    return receives_;
  }

 private:
  struct Queue {
    QueueInfo info;
    std::string dlq;
    std::deque<Message> messages;
  };
  struct Waiter {
    QueueReceiveRequest request;
    std::function<void(QueueReceiveResult)> done;
  };

  static QueueReceiveResult missing() {
    QueueReceiveResult r;
    r.error = AwsError::sender(400, "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.");
    return r;
  }

  // Receives like SQS: visible messages, up to max; a message received more than maxReceiveCount times
  // moves to the DLQ instead. Called with mutex_ held.
  QueueReceiveResult take(const QueueReceiveRequest& request) {
    auto it = queues_.find(request.queue_arn);
    if (it == queues_.end()) return missing();
    Queue& q = it->second;
    QueueReceiveResult r;
    std::int64_t now = clock_.now_ms();
    for (auto m = q.messages.begin(); m != q.messages.end() && static_cast<int>(r.messages.size()) < request.max_messages;) {
      if (m->deleted || m->visible_at_ms > now) {
        ++m;
        continue;
      }
      if (!q.dlq.empty() && q.info.max_receive_count && m->receives >= *q.info.max_receive_count) {
        Message moved = *m;
        moved.receives = 0;
        moved.visible_at_ms = 0;
        m = q.messages.erase(m);
        queues_.at(q.dlq).messages.push_back(std::move(moved));
        continue;
      }
      ++m->receives;
      if (m->first_receive_ms == 0) m->first_receive_ms = now;
      m->handle = m->id + "#" + std::to_string(++next_handle_);
      m->visible_at_ms = now + q.info.visibility_timeout_seconds * 1000LL;
      QueueMessage out;
      out.message_id = m->id;
      out.receipt_handle = m->handle;
      out.body = m->body;
      out.md5_of_body = "md5-" + m->body;
      out.attributes = {{"ApproximateReceiveCount", std::to_string(m->receives)},
                        {"SentTimestamp", std::to_string(m->sent_ms)},
                        {"SenderId", "000000000000"},
                        {"ApproximateFirstReceiveTimestamp", std::to_string(m->first_receive_ms)}};
      for (const auto& [k, v] : m->extra_attributes) out.attributes[k] = v;
      out.message_attributes = m->message_attributes;
      r.messages.push_back(std::move(out));
      ++m;
    }
    return r;
  }

  const ManualClock& clock_;
  std::mutex mutex_;
  std::map<std::string, Queue> queues_;
  std::map<PollId, Waiter> waiters_;
  PollId next_poll_ = 0;
  std::uint64_t next_id_ = 0;
  std::uint64_t next_handle_ = 0;
  std::size_t cancelled_ = 0;
  std::size_t receives_ = 0;
};

}  // namespace stratus::services::lambda::testing
