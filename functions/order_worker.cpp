// Processes orders from an SQS queue (the demo's order flow: OrderQueue -> order-worker, with OrderDLQ
// behind it). Each record's body must be an order (functions/order.hpp: orderId, items with sku, qty and
// price; order-api checks the same rules before it enqueues); anything else is a poison message.
//
// The event source mapping has FunctionResponseTypes [ReportBatchItemFailures]: good records are
// processed, poison ones are reported in batchItemFailures so that only they go back to the queue (and
// after the queue's maxReceiveCount to the DLQ). A batch where every record is poison throws instead, so
// the whole batch fails, which is what a function without partial batch responses does.
// https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
#include <stdexcept>
#include <string>
#include <stratus/function.hpp>

#include "order.hpp"

namespace {

// Why `body` is not an order, or "" when it is one.
std::string problem(const std::string& body, nlohmann::json& parsed) {
  parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_discarded()) return "body is not JSON";
  return order::problem(parsed, /*require_id=*/true);
}

}  // namespace

static nlohmann::json handler(const nlohmann::json& event, stratus::Context& ctx) {
  if (!event.is_object() || !event.contains("Records") || !event["Records"].is_array())
    throw std::invalid_argument("order-worker expects an SQS event with Records");
  nlohmann::json failures = nlohmann::json::array();
  std::string last_problem;
  std::size_t processed = 0;
  for (const auto& record : event["Records"]) {
    std::string id = record.value("messageId", "");
    nlohmann::json parsed;
    std::string why = problem(record.value("body", ""), parsed);
    if (!why.empty()) {
      ctx.log("poison message " + id + " (receive " +
              record.value("attributes", nlohmann::json::object()).value("ApproximateReceiveCount", "?") +
              "): " + why);
      failures.push_back({{"itemIdentifier", id}});
      last_problem = why;
      continue;
    }
    ctx.log("order " + parsed["orderId"].get<std::string>() + ": " + std::to_string(parsed["items"].size()) +
            " item(s), total " + std::to_string(order::total(parsed)));
    ++processed;
  }
  if (processed == 0 && !failures.empty()) throw std::invalid_argument("poison message: " + last_problem);
  return {{"batchItemFailures", failures}};
}
STRATUS_HANDLER(handler)
