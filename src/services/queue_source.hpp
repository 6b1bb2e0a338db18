#pragma once
// What Lambda's event source mappings need from SQS: receive a batch the way ReceiveMessage does, and
// delete or release the messages afterwards. SQS implements it; emulator/wiring.cpp hands the
// implementation to Lambda, so the two services never include each other (a poller is a client of the
// queue, as Lambda's pollers are clients of SQS on AWS).
// https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/aws_error.hpp"

namespace stratus::services {

// One received message, with every system attribute ReceiveMessage(AttributeNames=All) returns.
struct QueueMessage {
  std::string message_id;
  std::string receipt_handle;
  std::string body;
  std::string md5_of_body;
  // ApproximateReceiveCount, SentTimestamp, SenderId, ApproximateFirstReceiveTimestamp and, for FIFO
  // queues, SequenceNumber, MessageGroupId, MessageDeduplicationId; AWSTraceHeader when set.
  std::map<std::string, std::string> attributes;
  // name -> {"DataType": .., "StringValue": ..} or {"DataType": .., "BinaryValue": <base64>}, as SQS's
  // JSON protocol returns them (the event source mapping turns these into the lowerCamel event keys).
  nlohmann::json message_attributes = nlohmann::json::object();
  std::string md5_of_message_attributes;  // empty when there are none
};

struct QueueInfo {
  std::string arn;
  std::string name;
  bool fifo = false;
  int visibility_timeout_seconds = 30;
  std::optional<int> max_receive_count;  // from RedrivePolicy, when the queue has a DLQ
};

struct QueueReceiveRequest {
  std::string queue_arn;
  int max_messages = 10;     // 1..10
  int wait_seconds = 0;      // 0..20; long poll: completes as soon as a message is available
  std::optional<int> visibility_timeout_seconds;  // the queue's default when empty
};

struct QueueReceiveResult {
  std::optional<AwsError> error;  // e.g. AWS.SimpleQueueService.NonExistentQueue when the queue is gone
  std::vector<QueueMessage> messages;
};

class QueueSource {
 public:
  using PollId = std::uint64_t;
  virtual ~QueueSource() = default;

  // The queue behind `queue_arn` (arn:aws:sqs:REGION:ACCOUNT:NAME), or nullopt when there is none.
  virtual std::optional<QueueInfo> describe(const std::string& queue_arn) = 0;

  // Receives like ReceiveMessage with AttributeNames=All and MessageAttributeNames=All: receive counts
  // grow, messages become in flight, DLQ redrive applies. `done` is called exactly once, from any
  // thread, possibly later (a long poll holds no thread while it waits). Never blocks.
  virtual PollId receive(QueueReceiveRequest request, std::function<void(QueueReceiveResult)> done) = 0;

  // Ends a waiting long poll early: its `done` is called with no messages (if it has not been yet).
  virtual void cancel_receive(PollId id) = 0;

  // DeleteMessage for each handle; handles that are stale or unknown are ignored as SQS ignores them.
  virtual std::optional<AwsError> delete_messages(const std::string& queue_arn,
                                                  const std::vector<std::string>& receipt_handles) = 0;

  // ChangeMessageVisibility of one in-flight message (0 makes it visible at once).
  virtual std::optional<AwsError> change_visibility(const std::string& queue_arn, const std::string& receipt_handle,
                                                    int visibility_timeout_seconds) = 0;

  // ApproximateNumberOfMessages: the messages waiting to be received now (not in flight, not delayed), or
  // nullopt when there is no such queue. The pollers scale with it.
  virtual std::optional<std::int64_t> visible_messages(const std::string& queue_arn) = 0;
};

}  // namespace stratus::services
