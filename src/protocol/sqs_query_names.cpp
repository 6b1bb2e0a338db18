// SQS's query-protocol names, taken from the last query version of its model (botocore's
// sqs/2012-11-05 service-2.json with "protocol": "query"; the current model is JSON and dropped them).
// AWS CLI v2 2.9 and older SDKs still speak query with these names. The error codes below are that
// model's "error" traits.
#include "protocol/model.hpp"

namespace stratus::protocol {

namespace {
struct QueryName {
  const char* shape;
  const char* member;  // a member name, or "[member]" / "[key]" / "[value]"
  const char* location_name;
};
constexpr QueryName k_sqs_query_names[] = {
    {"AWSAccountIdList", "[member]", "AWSAccountId"},
    {"ActionNameList", "[member]", "ActionName"},
    {"AttributeNameList", "[member]", "AttributeName"},
    {"BatchResultErrorEntryList", "[member]", "BatchResultErrorEntry"},
    {"BinaryList", "[member]", "BinaryListValue"},
    {"ChangeMessageVisibilityBatchRequestEntryList", "[member]", "ChangeMessageVisibilityBatchRequestEntry"},
    {"ChangeMessageVisibilityBatchResultEntryList", "[member]", "ChangeMessageVisibilityBatchResultEntry"},
    {"CreateQueueRequest", "Attributes", "Attribute"},
    {"CreateQueueRequest", "tags", "Tag"},
    {"DeleteMessageBatchRequestEntryList", "[member]", "DeleteMessageBatchRequestEntry"},
    {"DeleteMessageBatchResultEntryList", "[member]", "DeleteMessageBatchResultEntry"},
    {"GetQueueAttributesResult", "Attributes", "Attribute"},
    {"ListMessageMoveTasksResultEntryList", "[member]", "ListMessageMoveTasksResultEntry"},
    {"ListQueueTagsResult", "Tags", "Tag"},
    {"Message", "Attributes", "Attribute"},
    {"Message", "MessageAttributes", "MessageAttribute"},
    {"MessageAttributeNameList", "[member]", "MessageAttributeName"},
    {"MessageAttributeValue", "BinaryListValues", "BinaryListValue"},
    {"MessageAttributeValue", "StringListValues", "StringListValue"},
    {"MessageBodyAttributeMap", "[key]", "Name"},
    {"MessageBodyAttributeMap", "[value]", "Value"},
    {"MessageBodySystemAttributeMap", "[key]", "Name"},
    {"MessageBodySystemAttributeMap", "[value]", "Value"},
    {"MessageList", "[member]", "Message"},
    {"MessageSystemAttributeMap", "[key]", "Name"},
    {"MessageSystemAttributeMap", "[value]", "Value"},
    {"MessageSystemAttributeValue", "BinaryListValues", "BinaryListValue"},
    {"MessageSystemAttributeValue", "StringListValues", "StringListValue"},
    {"QueueAttributeMap", "[key]", "Name"},
    {"QueueAttributeMap", "[value]", "Value"},
    {"QueueUrlList", "[member]", "QueueUrl"},
    {"SendMessageBatchRequestEntry", "MessageAttributes", "MessageAttribute"},
    {"SendMessageBatchRequestEntry", "MessageSystemAttributes", "MessageSystemAttribute"},
    {"SendMessageBatchRequestEntryList", "[member]", "SendMessageBatchRequestEntry"},
    {"SendMessageBatchResultEntryList", "[member]", "SendMessageBatchResultEntry"},
    {"SendMessageRequest", "MessageAttributes", "MessageAttribute"},
    {"SendMessageRequest", "MessageSystemAttributes", "MessageSystemAttribute"},
    {"SetQueueAttributesRequest", "Attributes", "Attribute"},
    {"StringList", "[member]", "StringListValue"},
    {"TagKeyList", "[member]", "TagKey"},
    {"TagQueueRequest", "Tags", "Tag"},  // AWS CLI v2 sends Tag.1.Key / Tag.1.Value
    {"TagMap", "[key]", "Key"},
    {"TagMap", "[value]", "Value"},
};
// Legacy query error codes (sent in x-amzn-query-error over JSON, and as <Code> over query).
struct QueryError {
  const char* shape;
  const char* code;
  int status;
};
constexpr QueryError k_sqs_query_errors[] = {
    {"BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400},
    {"BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong", 400},
    {"EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", 400},
    {"InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId", 400},
    {"MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", 400},
    {"OverLimit", "OverLimit", 403},
    {"PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress", 403},
    {"QueueDeletedRecently", "AWS.SimpleQueueService.QueueDeletedRecently", 400},
    {"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", 400},
    {"QueueNameExists", "QueueAlreadyExists", 400},
    {"ResourceNotFoundException", "ResourceNotFoundException", 404},
    {"TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400},
    {"UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", 400},
};

}  // namespace

void apply_sqs_query_names(ServiceModel& model) {
  model.xml_namespace_ = "http://queue.amazonaws.com/doc/2012-11-05/";
  for (const auto& q : k_sqs_query_names) {
    Shape* shape = model.mutable_shape(q.shape);
    if (shape == nullptr) continue;
    std::string_view member = q.member;
    if (member == "[member]") {
      shape->member.location_name = q.location_name;
    } else if (member == "[key]") {
      shape->key.location_name = q.location_name;
    } else if (member == "[value]") {
      shape->value.location_name = q.location_name;
    } else {
      for (auto& m : shape->members)
        if (m.name == member) m.location_name = q.location_name;
    }
  }
  for (const auto& e : k_sqs_query_errors) {
    Shape* shape = model.mutable_shape(e.shape);
    if (shape == nullptr || !shape->error_code.empty()) continue;
    shape->error_code = e.code;
    shape->error_status = e.status;
  }
  for (auto& op : model.operations_)
    if (op.output != nullptr && op.result_wrapper.empty()) op.result_wrapper = op.name + "Result";
}

}  // namespace stratus::protocol
