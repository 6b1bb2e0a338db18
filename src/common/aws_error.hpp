#pragma once
// An error as AWS reports it. Services return these; the protocol layer turns them into the
// wire shape each client parses (JSON __type, query <ErrorResponse>, REST x-amzn-ErrorType, S3 <Error>).
#include <nlohmann/json.hpp>
#include <string>

namespace stratus {

struct AwsError {
  int http_status = 400;
  std::string code;            // e.g. "ResourceNotFoundException", "NoSuchKey"
  std::string message;
  bool sender_fault = true;    // query protocol <Type>Sender|Receiver</Type>
  // SQS's JSON protocol also carries the legacy query code in x-amzn-query-error
  // ("AWS.SimpleQueueService.NonExistentQueue"); empty when it is the same as `code`.
  std::string query_code;
  // Extra members some errors carry (Lambda "Reason", DynamoDB "CancellationReasons", S3 "Key").
  nlohmann::json extra = nlohmann::json::object();

  static AwsError sender(int status, std::string code, std::string message) {
    return AwsError{status, std::move(code), std::move(message), true, {}, nlohmann::json::object()};
  }
  static AwsError receiver(int status, std::string code, std::string message) {
    return AwsError{status, std::move(code), std::move(message), false, {}, nlohmann::json::object()};
  }
};

}  // namespace stratus
