// POST /orders of the demo (config/demo.yaml): an API Gateway HTTP API (payload 2.0) handler that checks
// an order (functions/order.hpp), gives it an orderId when the client sent none, and sends it to the
// `orders` queue with SQS SendMessage; order-worker processes it from there.
//
//   201 {"orderId": "..."}       enqueued
//   400 {"message": "<reason>"}  not JSON, not an order (the reason says which rule)
//   503 {"message": "..."}       the queue could not be reached (the SQS error is in the function's log)
//
// The queue URL comes from the environment (ORDERS_QUEUE_URL, set in the stack file with !Ref OrderQueue,
// which for an AWS::SQS::Queue is its URL). SQS is called through <stratus/aws_client.hpp> at
// AWS_ENDPOINT_URL; the client (and its keep-alive connection) lives as long as the instance. No order
// state is kept in the function.
#include <cstdlib>
#include <random>
#include <stratus/aws_client.hpp>
#include <stratus/function.hpp>
#include <string>

#include "order.hpp"

namespace {

nlohmann::json respond(int status, const nlohmann::json& body) {
  return {{"statusCode", status}, {"headers", {{"Content-Type", "application/json"}}}, {"body", body.dump()}};
}

// RFC 4648 base64 (API Gateway base64-encodes request bodies whose Content-Type is not text, e.g. what
// `curl -d` sends). False when `in` is not base64.
bool base64_decode(const std::string& in, std::string& out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  out.clear();
  unsigned bits = 0;
  int nbits = 0;
  std::size_t i = 0;
  for (; i < in.size() && in[i] != '='; ++i) {
    int v = value(in[i]);
    if (v < 0) return false;
    bits = (bits << 6) | static_cast<unsigned>(v);
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out.push_back(static_cast<char>((bits >> nbits) & 0xFF));
    }
  }
  for (; i < in.size(); ++i)
    if (in[i] != '=') return false;
  return true;
}

// "o-" and a random (version 4) UUID.
std::string new_order_id() {
  std::random_device rd;
  unsigned char b[16];
  for (int i = 0; i < 16; i += 4) {
    unsigned r = rd();
    for (int k = 0; k < 4; ++k) b[i + k] = static_cast<unsigned char>(r >> (8 * k));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  static const char* hex = "0123456789abcdef";
  std::string id = "o-";
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id += '-';
    id += hex[b[i] >> 4];
    id += hex[b[i] & 0xF];
  }
  return id;
}

stratus::aws::Client& sqs() {
  static stratus::aws::Client client;  // one per instance; reconnects by itself
  return client;
}

}  // namespace

static nlohmann::json handler(const nlohmann::json& event, stratus::Context& ctx) {
  std::string body;
  if (event.is_object() && event.contains("body") && event["body"].is_string()) {
    body = event["body"].get<std::string>();
    if (event.value("isBase64Encoded", false) && !base64_decode(std::string(body), body))
      return respond(400, {{"message", "the body is not valid base64"}});
  }
  if (body.empty()) return respond(400, {{"message", "the body must be an order (JSON), it is empty"}});
  nlohmann::json order = nlohmann::json::parse(body, nullptr, false);
  if (order.is_discarded()) return respond(400, {{"message", "the body is not JSON"}});
  if (std::string why = order::problem(order, /*require_id=*/false); !why.empty())
    return respond(400, {{"message", why}});
  if (!order.contains("orderId")) order["orderId"] = new_order_id();
  std::string id = order["orderId"].get<std::string>();

  const char* queue_url = std::getenv("ORDERS_QUEUE_URL");
  if (queue_url == nullptr || *queue_url == '\0') {
    ctx.log("ORDERS_QUEUE_URL is not set (the stack file sets it with !Ref OrderQueue)");
    return respond(503, {{"message", "the orders queue is not configured"}});
  }
  try {
    nlohmann::json out = sqs().call("sqs", "AmazonSQS.SendMessage",
                                    {{"QueueUrl", queue_url}, {"MessageBody", order.dump()}});
    ctx.log("order " + id + " enqueued as message " + out.value("MessageId", std::string("?")));
  } catch (const stratus::aws::Error& e) {
    ctx.log(std::string("order ") + id + " not enqueued: " + e.what());
    return respond(503, {{"message", "the order could not be enqueued; try again"}});
  }
  return respond(201, {{"orderId", id}});
}
STRATUS_HANDLER(handler)
