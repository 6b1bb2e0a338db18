#pragma once
// What a service is to the rest of the daemon: a name and one operation table. The dispatcher
// (emulator/) decodes a request into an input document, checks the operation's input rules, calls its
// handler, and encodes the Outcome in the client's protocol. Services never call each other: effects on
// other services are events published to the router (src/events).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/aws_error.hpp"
#include "http/http_types.hpp"

namespace stratus::services {

// Everything an operation knows about the call besides its input document.
struct CallContext {
  std::string request_id;
  std::string account;     // 12 digits; state is partitioned by (account, region)
  std::string region;      // from the SigV4 credential scope, default us-east-1
  std::string service;     // stratus service name ("sqs")
  std::string operation;   // "SendMessage"
  std::string host;        // the request's Host header (SQS builds QueueUrls from it)
  std::int64_t now_ms = 0;
  // The raw request, for operations whose payload is not in the input document (S3 PutObject body,
  // Lambda Invoke payload). Valid until the handler calls its Reply.
  const http::Request* request = nullptr;
};

// An operation's result: either an output document (the output shape as JSON) or an AWS error.
struct Outcome {
  nlohmann::json output = nlohmann::json::object();
  std::optional<AwsError> error;
  // Raw body for an output whose payload member is a blob (S3 GetObject, Lambda Invoke).
  std::optional<std::string> raw_payload;

  static Outcome ok(nlohmann::json out) { return Outcome{std::move(out), std::nullopt, std::nullopt}; }
  static Outcome fail(AwsError err) { return Outcome{nlohmann::json::object(), std::move(err), std::nullopt}; }
};

// Delivers an Outcome; call exactly once, from any thread, possibly later (long polls, invokes).
using Reply = std::function<void(Outcome)>;
using OperationHandler = std::function<void(const CallContext&, nlohmann::json& input, Reply reply)>;

// Input rules checked by generic code before the handler runs.
enum class InputRules {
  none,   // the handler validates everything itself (services whose AWS messages are not the generic ones)
  model,  // the botocore model's constraints: required, lengths, ranges, enums (coral ValidationException text)
};

struct OperationSpec {
  std::string name;             // AWS operation name, exactly as in the model
  OperationHandler handler;
  InputRules rules = InputRules::model;
  std::string notes;            // for the coverage table: what differs from AWS
};

class Service {
 public:
  virtual ~Service() = default;
  virtual std::string_view name() const = 0;  // stratus service name, as in the catalog
  virtual const std::vector<OperationSpec>& operations() const = 0;
  // Stops background work (pollers, timers); called before the store closes.
  virtual void shutdown() {}
};

// Every service and operation AWS defines, from botocore's models (catalog.inc, generated).
struct CatalogEntry {
  std::string_view service;
  std::string_view protocol;     // "json", "query", "rest-json", "rest-xml"
  std::string_view api_version;
  std::vector<std::string_view> operations;  // sorted
};
const std::vector<CatalogEntry>& catalog();
const CatalogEntry* catalog_entry(std::string_view service);

// The services this build implements. Registration happens at start-up, before any lookup; lookups are
// then thread-safe and O(1) (the dispatcher does one per request).
class Registry {
 public:
  void add(std::shared_ptr<Service> service);
  Service* find_service(std::string_view name) const;
  // The spec of an implemented operation, or nullptr.
  const OperationSpec* find_operation(std::string_view service, std::string_view operation) const;
  const std::vector<std::shared_ptr<Service>>& services() const { return services_; }
  void shutdown_all();

 private:
  std::vector<std::shared_ptr<Service>> services_;
  std::unordered_map<std::string, const OperationSpec*> operations_;  // "service\x1foperation" -> spec
};

// The coverage table of one service as Markdown (operation, status, notes), from the catalog and registry.
std::string coverage_markdown(const Registry& registry, std::string_view service);

}  // namespace stratus::services
