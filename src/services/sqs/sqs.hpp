#pragma once
// SQS: the 2012-11-05 API (JSON 1.0 and query, decoded by src/protocol) over a queue engine that keeps
// queues and messages in the store (Column::sqs) and only a compact index in memory. Besides the
// Service, the module provides the QueueSource Lambda's pollers use (services/queue_source.hpp), the
// router's "queue" TargetKind, and the AWS::SQS::Queue stack provider. See docs/services/sqs.md.
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "events/router.hpp"
#include "services/queue_source.hpp"
#include "services/service.hpp"
#include "stack/stack_file.hpp"
#include "store/store.hpp"

namespace stratus::services::sqs {

struct SqsDeps {
  Store* store = nullptr;  // required
  const Clock* clock = nullptr;  // SystemClock when null
  std::string account_id = "000000000000";
  // Run timers (long-poll deadlines, delayed/in-flight messages becoming visible for waiting receivers,
  // message move tasks) from a background thread. false: nothing runs until process_due() is called
  // (unit tests with a ManualClock).
  bool background = true;
  // Host used in QueueUrls built without a request (stack provider, QueueSource): "localhost:4566".
  std::string default_host = "localhost:4566";
};

// Everything the module offers the daemon; all share one engine.
struct SqsModule {
  std::shared_ptr<Service> service;
  std::shared_ptr<QueueSource> queue_source;
  std::shared_ptr<events::TargetKind> target_kind;  // register as "queue"
};

SqsModule make_sqs_service(SqsDeps deps);

// The AWS::SQS::Queue stack provider (Ref = QueueUrl; GetAtt Arn, QueueName, QueueUrl). `service` must
// come from make_sqs_service.
std::shared_ptr<stack::ResourceProvider> make_queue_provider(const std::shared_ptr<Service>& service);

// /_stratus/queues: per queue visible/in-flight/delayed counts, sends, receives, deletes, DLQ moves.
nlohmann::json queue_stats(const Service& service);

// Runs timers due now by the clock (for tests with background = false). Returns the number of
// long polls completed and messages moved by move tasks.
std::size_t process_due(const Service& service);

}  // namespace stratus::services::sqs
