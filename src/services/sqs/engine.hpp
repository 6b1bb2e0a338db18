#pragma once
// Internal: the queue engine. Queues and messages live in the store; memory holds a compact index per
// queue (about 100 bytes per message: ordering, visibility, receive counts, FIFO group state), loaded
// at start. Bodies are read from the store when received.
//
// Store layout (Column::sqs), keys built with KeyBuilder:
//   ("c", "next_qid")                                  -> decimal counter of queue incarnations
//   (account, region, "q", NAME)                        -> queue record (JSON, see QueueConfig)
//   (account, region, "m", QID, SEQ)                    -> message record (JSON header + raw body, immutable)
//   (account, region, "s", QID, SEQ)                    -> message state (binary; written on every receive)
//   (account, region, "d", QID, DEDUP-KEY)              -> FIFO deduplication entry (JSON), 5 minutes
//   ("t", TASK-HANDLE)                                  -> message move task (JSON, see MoveTask), 14 days
// QID is the queue's incarnation (a re-created queue gets a new one, so old receipt handles and keys
// never match it); SEQ increases with every send to the queue (FIFO SequenceNumber derives from it).
//
// Locking: the queue map has a shared_mutex; each queue a mutex. Lock order: queue mutex, then the map
// (shared) — the map lock is never held while a queue mutex is taken. A standard queue's send writes to
// the store without any lock held; FIFO sends hold the queue's lock (deduplication and order).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/aws_error.hpp"
#include "common/clock.hpp"
#include "services/queue_source.hpp"
#include "store/store.hpp"

namespace stratus::services::sqs {

// Limits and defaults, from https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html
// and https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html
inline constexpr std::int64_t kMaxMessageSize = 1'048'576;   // 1 MiB since August 2025
inline constexpr std::int64_t kDedupWindowMs = 5 * 60 * 1000;  // also ReceiveRequestAttemptId's window
inline constexpr std::size_t kMaxAttemptsPerQueue = 10'000;  // remembered receive attempts (oldest dropped)
inline constexpr std::int64_t kRecentlyMs = 60 * 1000;       // QueueDeletedRecently, PurgeQueueInProgress
inline constexpr int kMaxVisibility = 43200;

struct QueueKey {
  std::string account, region, name;
  std::string str() const { return account + '\x1f' + region + '\x1f' + name; }
};

// Attribute values as SQS reports them (strings); `attributes` holds every settable attribute.
struct QueueConfig {
  std::string name;
  std::uint64_t qid = 0;
  bool fifo = false;
  std::int64_t created_s = 0;
  std::int64_t modified_s = 0;
  std::map<std::string, std::string> attributes;  // VisibilityTimeout, DelaySeconds, Policy, ...
  std::map<std::string, std::string> tags;
  std::int64_t last_purge_ms = 0;

  int int_attr(const std::string& name, int fallback) const;
  nlohmann::json to_json() const;
  static QueueConfig from_json(const nlohmann::json& j);
};

// One message as the index sees it (no body).
struct Meta {
  std::int64_t visible_at = 0;     // when not visible: the time it becomes visible
  std::int64_t sent_ms = 0;        // enqueue time (retention)
  std::int64_t first_receive_ms = 0;
  std::int64_t last_receive_ms = 0;  // the 12-hour visibility rule counts from the latest receive
  std::uint32_t receive_count = 0;
  std::uint32_t gen = 0;           // receipt generation: a new handle per receive
  std::uint32_t group = 0;         // FIFO group index
  std::uint8_t state = 0;          // kReady, kDelayed, kInflight
};
inline constexpr std::uint8_t kReady = 0, kDelayed = 1, kInflight = 2;

struct Group {
  std::string name;
  std::deque<std::uint64_t> seqs;  // every message of the group in order (deleted ones skipped lazily)
  std::uint32_t inflight = 0;
  bool queued = false;             // in ready_groups
};

// A message handed to a receiver.
struct Received {
  std::string message_id;
  std::string receipt_handle;
  std::string body;
  std::string md5_of_body;
  std::string md5_of_message_attributes;
  nlohmann::json message_attributes = nlohmann::json::object();
  std::map<std::string, std::string> attributes;  // every system attribute
};

using ReceiveCallback = std::function<void(std::optional<AwsError>, std::vector<Received>)>;

struct Waiter {
  std::uint64_t id = 0;
  int max = 1;
  int visibility = 30;
  std::int64_t deadline = 0;
  ReceiveCallback done;
};

struct Stats {
  std::uint64_t sent = 0, received = 0, deleted = 0, moved_to_dlq = 0, expired = 0, moved_by_task = 0;
};

struct Queue {
  QueueKey key;
  std::mutex mu;
  QueueConfig cfg;
  bool deleted = false;
  std::uint64_t next_seq = 1;
  std::uint64_t purge_floor = 0;  // sends with a lower seq finishing after a purge are erased
  std::unordered_map<std::uint64_t, Meta> messages;
  std::deque<std::uint64_t> ready;  // standard queues: visible messages, roughly oldest first
  // Delayed and in-flight messages by the time they become visible (stale entries skipped).
  std::vector<std::pair<std::int64_t, std::uint64_t>> timers;  // min-heap
  // FIFO
  std::vector<Group> groups;
  std::unordered_map<std::string, std::uint32_t> group_ids;
  std::vector<std::uint32_t> free_groups;
  std::deque<std::uint32_t> ready_groups;
  struct Dedup {
    std::string message_id;
    std::uint64_t seq = 0;
    std::int64_t expires = 0;
  };
  std::unordered_map<std::string, Dedup> dedup;
  std::deque<std::pair<std::int64_t, std::string>> dedup_order;
  // FIFO ReceiveRequestAttemptId -> what that receive returned (seq, receipt generation, handle), for
  // 5 minutes (in memory only).
  struct Attempt {
    std::int64_t expires = 0;
    std::vector<std::uint64_t> seqs;
    std::vector<std::uint32_t> gens;
    std::vector<std::string> handles;
  };
  std::unordered_map<std::string, Attempt> attempts;
  std::deque<std::pair<std::int64_t, std::string>> attempt_order;
  // counters
  std::int64_t n_ready = 0, n_delayed = 0, n_inflight = 0;
  Stats stats;
  std::deque<Waiter> waiters;
  // From cfg, refreshed whenever it changes (refresh_cache).
  std::int64_t retention_ms = 345'600'000;
  int default_delay = 0;
  int max_receive = 0;      // 0: no RedrivePolicy
  std::string dlq_arn;
  bool content_dedup = false;
  bool dedup_by_group = false;

  std::string arn() const { return "arn:aws:sqs:" + key.region + ":" + key.account + ":" + key.name; }
};

struct SendRequest {
  std::string body;
  nlohmann::json message_attributes = nlohmann::json::object();  // validated, JSON-protocol shape
  std::string md5_of_message_attributes;                          // "" when none
  std::string trace_header;                                       // AWSTraceHeader, "" when none
  std::optional<int> delay_seconds;
  std::string group_id;
  std::string dedup_id;
  std::string sender_id;
};

struct SendResult {
  std::string message_id;
  std::string md5_of_body;
  std::string sequence_number;  // FIFO
};

// A message to move (DLQ redrive, move tasks), taken out of its source queue's index.
struct Moving {
  std::shared_ptr<Queue> from;
  std::uint64_t seq = 0;
  std::string target_arn;  // a move task with no DestinationArn: "" (each message's original source)
  bool to_dlq = false;     // redrive (keeps the receive count, records the source) or a move task
};

struct MoveTask {
  std::string handle;
  std::string source_arn;
  std::string destination_arn;  // "" = each message's original source
  int rate = 0;                 // 0 = as fast as possible
  std::string status = "RUNNING";
  std::int64_t moved = 0;
  std::int64_t to_move = 0;
  std::int64_t started_ms = 0;
  std::int64_t last_tick_ms = 0;
  double budget = 0;
  std::string failure;
  QueueKey source;

  nlohmann::json to_json() const;
  static std::optional<MoveTask> from_json(const nlohmann::json& j);
};
// Finished tasks stay listed for 14 days; ListMessageMoveTasks shows at most the 10 most recent of a
// source, so older ones are dropped when a source gets its 11th.
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ListMessageMoveTasks.html
inline constexpr std::int64_t kMoveTaskKeepMs = 14LL * 24 * 3600 * 1000;
inline constexpr std::size_t kMoveTasksPerSource = 10;

class Engine {
 public:
  Engine(Store* store, const Clock* clock, bool background);
  ~Engine();
  void start();     // loads queues and messages, starts the timer thread when asked
  void shutdown();  // stops the timer thread, answers waiting receivers with no messages

  const Clock& clock() const { return *clock_; }
  Store& store() { return *store_; }

  std::shared_ptr<Queue> find(const QueueKey& key) const;
  std::shared_ptr<Queue> find_arn(const std::string& arn) const;
  std::vector<std::shared_ptr<Queue>> list(const std::string& account, const std::string& region) const;
  std::vector<std::shared_ptr<Queue>> all() const;

  // Creates the queue (the caller checked names and attributes and that it does not exist).
  std::optional<AwsError> create(const QueueKey& key, QueueConfig cfg);
  std::optional<AwsError> save_config(Queue& q);  // under q.mu
  std::optional<AwsError> remove(const std::shared_ptr<Queue>& q);
  // Time of the last DeleteQueue of `key`, if within the last 60 s.
  bool deleted_recently(const QueueKey& key) const;
  std::optional<AwsError> purge(const std::shared_ptr<Queue>& q);

  std::optional<AwsError> send(const std::shared_ptr<Queue>& q, SendRequest req, SendResult& out);
  // Answers via `done` now (messages available, or wait_ms == 0) or later (long poll). Returns a waiter
  // id (0 when answered at once).
  std::uint64_t receive(const std::shared_ptr<Queue>& q, int max, int visibility, std::int64_t wait_ms,
                        ReceiveCallback done);
  void cancel_waiter(std::uint64_t id);
  // ReceiveMessage with a ReceiveRequestAttemptId on a FIFO queue: a retry within 5 minutes returns the
  // same messages with the same receipt handles (and restarts their visibility timeout) as long as none
  // was deleted, had its visibility changed or was received again; otherwise a new receive, remembered.
  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html
  std::uint64_t receive_attempt(const std::shared_ptr<Queue>& q, const std::string& attempt_id, int max,
                                int visibility, std::int64_t wait_ms, ReceiveCallback done);
  // DeleteMessage / ChangeMessageVisibility by receipt handle.
  std::optional<AwsError> delete_message(const std::shared_ptr<Queue>& q, const std::string& handle);
  // DeleteMessageBatch: one lock and one store write for every handle; an error (or nullopt) per handle.
  std::vector<std::optional<AwsError>> delete_messages(const std::shared_ptr<Queue>& q,
                                                       const std::vector<std::string>& handles);
  std::optional<AwsError> change_visibility(const std::shared_ptr<Queue>& q, const std::string& handle,
                                            int visibility);

  // Counts after promoting due messages: visible, in flight, delayed.
  void counts(const std::shared_ptr<Queue>& q, std::int64_t& visible, std::int64_t& inflight,
              std::int64_t& delayed);

  // Message move tasks.
  std::optional<AwsError> start_move_task(const std::shared_ptr<Queue>& source, const std::string& dest_arn,
                                          int rate, std::string& handle);
  std::vector<MoveTask> move_tasks(const std::string& source_arn) const;
  std::optional<AwsError> cancel_move_task(const std::string& handle, std::int64_t& moved);

  std::size_t process_due();
  nlohmann::json stats_json() const;

  static std::string format_receipt(std::uint64_t qid, std::uint64_t seq, std::uint32_t gen);
  static bool parse_receipt(const std::string& handle, std::uint64_t& qid, std::uint64_t& seq,
                            std::uint32_t& gen);

 private:
  struct Picked {
    std::uint64_t seq;
    std::uint32_t gen;
    std::uint32_t receive_count;
    std::int64_t first_receive_ms;
  };
  struct Completion {
    std::shared_ptr<Queue> q;
    std::vector<Picked> picked;
    ReceiveCallback done;
  };

  void load();
  void promote_due(Queue& q, std::int64_t now);
  void make_ready(Queue& q, std::uint64_t seq, Meta& m);
  void insert_meta(Queue& q, std::uint64_t seq, Meta m, const std::string& group);
  void erase_meta(Queue& q, std::uint64_t seq, Meta& m);
  std::uint32_t group_index(Queue& q, const std::string& name);
  void release_group(Queue& q, std::uint32_t g);
  bool expired(const Queue& q, const Meta& m, std::int64_t now) const;
  // Takes up to `max` visible messages: in flight with a new receipt; DLQ candidates go to `moves`,
  // retention-expired ones are deleted (their erasures added to `batch`).
  std::vector<Picked> pick(const std::shared_ptr<Queue>& q, int max, int visibility, std::int64_t now,
                           std::vector<Moving>& moves, WriteBatch& batch);
  void serve_waiters(const std::shared_ptr<Queue>& q, std::int64_t now, std::vector<Completion>& out,
                     std::vector<Moving>& moves, WriteBatch& batch);
  void finish(std::vector<Completion>& completions);
  std::vector<Received> materialize(const Queue& q, const std::vector<Picked>& picked);
  void run_moves(std::vector<Moving>& moves);
  bool move_one(Moving& m);
  void restore(Moving& m);
  void wake(std::int64_t at);
  void step_move_tasks(std::int64_t now);
  void remember_attempt(Queue& q, const std::string& attempt_id, const std::vector<Received>& msgs);
  static void expire_attempts(Queue& q, std::int64_t now);
  void load_move_tasks(std::int64_t now);
  void save_move_task(const MoveTask& t);  // under task_mu_

  Store* store_;
  const Clock* clock_;
  bool background_;
  mutable std::shared_mutex map_mu_;
  std::unordered_map<std::string, std::shared_ptr<Queue>> queues_;
  std::unordered_map<std::string, std::int64_t> deleted_at_;
  std::mutex qid_mu_;
  std::uint64_t next_qid_ = 1;

  std::mutex waiter_mu_;
  std::unordered_map<std::uint64_t, std::weak_ptr<Queue>> waiter_queue_;
  std::atomic<std::uint64_t> next_waiter_{1};

  mutable std::mutex task_mu_;
  std::vector<MoveTask> tasks_;

  std::mutex timer_mu_;
  std::condition_variable timer_cv_;
  std::int64_t next_wake_ = 0;
  bool stopping_ = false;
  std::thread timer_;
};

void refresh_cache(Queue& q);

// Store keys.
std::string queue_record_key(const QueueKey& k);
std::string body_key(const QueueKey& k, std::uint64_t qid, std::uint64_t seq);
std::string state_key(const QueueKey& k, std::uint64_t qid, std::uint64_t seq);

// Digests (hex).
std::string md5_hex(std::string_view data);
std::string sha256_hex(std::string_view data);
// MD5OfMessageAttributes as AWS computes it (aws-wire.md); "" for no attributes.
std::string md5_of_attributes(const nlohmann::json& attributes);

}  // namespace stratus::services::sqs
