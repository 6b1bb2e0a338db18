// The event source mapping operations (SQS sources only) and the loading of stored mappings at start.
// https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html
// https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
//
// Store layout (Column::lambda): (account, region, "esm", UUID) -> the EventSourceMappingConfiguration
// output members (State is the settled state, "Enabled" or "Disabled") plus private members:
//   _function (name), _qualifier ("" = unqualified), _enabled (bool).
// The answers show the transitional state Lambda answers with (Create: "Creating", Update: "Updating",
// "Enabling" or "Disabling", Delete: "Deleting"); Stratus settles at once, so the next Get shows
// "Enabled"/"Disabled" (or ResourceNotFoundException after a delete).
#include <fmt/format.h>

#include <algorithm>

#include "common/ids.hpp"
#include "common/log.hpp"
#include "protocol/protocol.hpp"
#include "services/lambda/lambda_service.hpp"
#include "services/lambda/names.hpp"
#include "store/key_codec.hpp"

namespace stratus::services::lambda {

using nlohmann::json;

namespace {

constexpr int kDefaultBatchSize = 10;   // SQS
constexpr int kMaxFifoBatchSize = 10;
constexpr int kDefaultMaxItems = 100;   // ListEventSourceMappings

AwsError invalid(std::string message) {
  return AwsError::sender(400, "InvalidParameterValueException", std::move(message));
}

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string esm_key(const Partition& p, std::string_view uuid) {
  return KeyBuilder().add_string(p.account).add_string(p.region).add_string("esm").add_string(uuid).build();
}
std::string esm_prefix(const Partition& p) {
  return KeyBuilder().add_string(p.account).add_string(p.region).add_string("esm").build();
}

// arn:aws:sqs:REGION:ACCOUNT:NAME
bool is_sqs_arn(const std::string& arn) {
  if (!arn.starts_with("arn:aws:sqs:")) return false;
  std::size_t colons = static_cast<std::size_t>(std::count(arn.begin(), arn.end(), ':'));
  return colons == 5 && arn.back() != ':';
}

MappingSpec spec_of(const Partition& p, const json& rec) {
  MappingSpec s;
  s.uuid = str(rec, "UUID");
  s.account = p.account;
  s.region = p.region;
  s.queue_arn = str(rec, "EventSourceArn");
  s.function = str(rec, "_function");
  s.qualifier = str(rec, "_qualifier");
  s.batch_size = rec.value("BatchSize", kDefaultBatchSize);
  s.window_seconds = rec.value("MaximumBatchingWindowInSeconds", 0);
  if (auto sc = rec.find("ScalingConfig"); sc != rec.end() && sc->is_object())
    s.max_concurrency = sc->value("MaximumConcurrency", 0);
  if (auto types = rec.find("FunctionResponseTypes"); types != rec.end() && types->is_array())
    s.report_failures =
        std::find(types->begin(), types->end(), json("ReportBatchItemFailures")) != types->end();
  s.enabled = rec.value("_enabled", true);
  if (auto fc = rec.find("FilterCriteria"); fc != rec.end() && fc->is_object())
    for (const auto& f : fc->value("Filters", json::array())) {
      json pattern = json::parse(str(f, "Pattern"), nullptr, false);
      if (pattern.is_object()) s.filters.push_back(std::move(pattern));
    }
  return s;
}

}  // namespace

// The operations; run under LambdaService::mutex_ like the others.
struct EsmOps {
  LambdaService& s;
  const Partition& p;

  std::int64_t now_ms() const { return s.deps_.clock->now_ms(); }

  static AwsError not_found() {
    return AwsError::sender(404, "ResourceNotFoundException", "The resource you requested does not exist.");
  }
  static AwsError store_error(const Status& st) {
    return AwsError::receiver(500, "ServiceException", "Stratus could not write its store: " + st.message);
  }

  json out(const json& rec, const char* state = nullptr) const {
    json o = json::object();
    for (auto it = rec.begin(); it != rec.end(); ++it)
      if (!it.key().starts_with("_")) o[it.key()] = it.value();
    if (state != nullptr) o["State"] = state;
    if (s.pollers_) {
      std::string result = s.pollers_->last_processing_result(str(rec, "UUID"));
      if (!result.empty()) o["LastProcessingResult"] = result;
    }
    return o;
  }

  std::optional<json> load(const std::string& uuid) {
    std::string value;
    if (!s.deps_.store->get(Column::lambda, esm_key(p, uuid), value).ok()) return std::nullopt;
    json rec = json::parse(value, nullptr, false);
    if (rec.is_discarded()) return std::nullopt;
    return rec;
  }

  std::vector<json> all() {
    std::vector<json> out;
    auto it = s.deps_.store->scan_prefix(Column::lambda, esm_prefix(p));
    for (; it->valid(); it->next()) {
      json rec = json::parse(it->value(), nullptr, false);
      if (!rec.is_discarded()) out.push_back(std::move(rec));
    }
    return out;
  }

  // FunctionName (a name, partial or full ARN, optionally qualified) of an existing function and qualifier.
  std::optional<AwsError> resolve_function(const std::string& text, FunctionRef& ref) {
    auto parsed = parse_function_name(text);
    if (!parsed)
      return invalid(
          "1 validation error detected: Value '" + text +
          "' at 'functionName' failed to satisfy constraint: Member must satisfy regular "
          "expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))"
          "?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?");
    ref = *parsed;
    auto not_found_error = [&] {
      std::string arn = ref.qualifier.empty() ? function_arn(p.region, p.account, ref.name)
                                              : qualified_arn(p.region, p.account, ref.name, ref.qualifier);
      return AwsError::sender(404, "ResourceNotFoundException", "Function not found: " + arn);
    };
    if (!ref.account.empty() && ref.account != p.account) return not_found_error();
    auto rec = s.load(p, ref.name);
    if (!rec) return not_found_error();
    const std::string& q = ref.qualifier;
    if (!q.empty() && q != "$LATEST" && !(*rec)["Versions"].contains(q) && !(*rec)["Aliases"].contains(q))
      return not_found_error();
    return std::nullopt;
  }

  std::string function_arn_of(const FunctionRef& ref) const {
    return ref.qualifier.empty() ? function_arn(p.region, p.account, ref.name)
                                 : qualified_arn(p.region, p.account, ref.name, ref.qualifier);
  }

  std::optional<AwsError> check_visibility(const QueueInfo& queue, const FunctionRef& ref) {
    auto rec = s.load(p, ref.name);
    if (!rec) return std::nullopt;
    const json* cfg = &(*rec)["Latest"];
    std::string version = ref.qualifier;
    if (auto alias = (*rec)["Aliases"].find(version); alias != (*rec)["Aliases"].end())
      version = str(*alias, "FunctionVersion");
    if (!version.empty() && version != "$LATEST" && (*rec)["Versions"].contains(version))
      cfg = &(*rec)["Versions"][version];
    int timeout = cfg->value("Timeout", 3);
    if (queue.visibility_timeout_seconds < timeout)
      return invalid(fmt::format("Queue visibility timeout: {} seconds is less than Function timeout: {} seconds",
                                 queue.visibility_timeout_seconds, timeout));
    return std::nullopt;
  }

  // The SQS rules on BatchSize and MaximumBatchingWindowInSeconds, for the values a mapping would have.
  // https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html
  static std::optional<AwsError> check_batching(const std::string& queue_arn, int batch, int window) {
    if (queue_arn.ends_with(".fifo") && batch > kMaxFifoBatchSize)
      // Lambda's text for this rule is not documented; this says what the rule is.
      return invalid("Batch size cannot be greater than 10 for an SQS FIFO queue.");
    if (batch > 10 && window < 1)
      return invalid(
          "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10");
    return std::nullopt;
  }

  // FilterCriteria.Filters[].Pattern must each be an event pattern (esm.hpp filter_matches).
  static std::optional<AwsError> check_filters(const json& in) {
    auto fc = in.find("FilterCriteria");
    if (fc == in.end() || !fc->is_object()) return std::nullopt;
    for (const auto& f : fc->value("Filters", json::array())) {
      json pattern = json::parse(str(f, "Pattern"), nullptr, false);
      if (!valid_filter_pattern(pattern)) return invalid("Invalid filter pattern definition.");
    }
    return std::nullopt;
  }

  static void apply_members(json& rec, const json& in) {
    for (const char* key : {"BatchSize", "MaximumBatchingWindowInSeconds", "FunctionResponseTypes"})
      if (in.contains(key) && !in[key].is_null()) rec[key] = in[key];
    if (in.contains("ScalingConfig")) {
      if (in["ScalingConfig"].is_object() && in["ScalingConfig"].contains("MaximumConcurrency"))
        rec["ScalingConfig"] = {{"MaximumConcurrency", in["ScalingConfig"]["MaximumConcurrency"]}};
      else
        rec.erase("ScalingConfig");  // an empty ScalingConfig removes the limit
    }
    if (in.contains("FilterCriteria")) {
      if (in["FilterCriteria"].is_object() && !in["FilterCriteria"].value("Filters", json::array()).empty())
        rec["FilterCriteria"] = {{"Filters", in["FilterCriteria"]["Filters"]}};
      else
        rec.erase("FilterCriteria");
    }
  }

  void start(const json& rec) {
    if (s.pollers_) s.pollers_->apply(spec_of(p, rec));
  }

  // https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html — 202.
  Outcome create(const json& in) {
    std::string source = str(in, "EventSourceArn");
    // Stratus reads SQS queues only; every other source is answered as Lambda answers a source it does
    // not recognize.
    if (!is_sqs_arn(source)) return Outcome::fail(invalid("Unrecognized event source."));
    FunctionRef ref;
    if (auto e = resolve_function(str(in, "FunctionName"), ref)) return Outcome::fail(*e);
    int batch = in.value("BatchSize", kDefaultBatchSize);
    int window = in.value("MaximumBatchingWindowInSeconds", 0);
    if (auto e = check_batching(source, batch, window)) return Outcome::fail(*e);
    if (auto e = check_filters(in)) return Outcome::fail(*e);
    // Lambda checks the queue with the function's role when the mapping is created.
    std::optional<QueueInfo> queue = s.deps_.queues ? s.deps_.queues->describe(source) : std::nullopt;
    if (!queue)
      return Outcome::fail(invalid(
          "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS "
          "Error Message: The specified queue does not exist."));
    // A message must stay invisible for as long as the function may run on it.
    // https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html (queue visibility timeout)
    if (auto e = check_visibility(*queue, ref)) return Outcome::fail(*e);
    std::string fn_arn = function_arn_of(ref);
    for (const auto& other : all()) {
      if (str(other, "EventSourceArn") == source && str(other, "FunctionArn") == fn_arn)
        return Outcome::fail(AwsError::sender(
            409, "ResourceConflictException",
            fmt::format("An event source mapping with SQS arn (\" {} \") and function (\" {} \") already "
                        "exists. Please update or delete the existing mapping with UUID {}",
                        source, ref.name, str(other, "UUID"))));
    }
    std::string uuid = new_request_id();
    bool enabled = in.value("Enabled", true);
    json rec = {{"UUID", uuid},
                {"BatchSize", batch},
                {"MaximumBatchingWindowInSeconds", window},
                {"EventSourceArn", source},
                {"FunctionArn", fn_arn},
                {"LastModified", static_cast<double>(now_ms()) / 1000.0},
                {"State", enabled ? "Enabled" : "Disabled"},
                {"StateTransitionReason", "USER_INITIATED"},
                {"FunctionResponseTypes", json::array()},
                {"EventSourceMappingArn",
                 fmt::format("arn:aws:lambda:{}:{}:event-source-mapping:{}", p.region, p.account, uuid)},
                {"_function", ref.name},
                {"_qualifier", ref.qualifier},
                {"_enabled", enabled}};
    apply_members(rec, in);
    if (Status st = s.deps_.store->put(Column::lambda, esm_key(p, uuid), rec.dump()); !st.ok())
      return Outcome::fail(store_error(st));
    start(rec);
    return Outcome::ok(out(rec, "Creating"));
  }

  // https://docs.aws.amazon.com/lambda/latest/api/API_GetEventSourceMapping.html
  Outcome get(const json& in) {
    auto rec = load(str(in, "UUID"));
    if (!rec) return Outcome::fail(not_found());
    return Outcome::ok(out(*rec));
  }

  // https://docs.aws.amazon.com/lambda/latest/api/API_ListEventSourceMappings.html
  Outcome list(const json& in) {
    std::string source = str(in, "EventSourceArn");
    std::optional<FunctionRef> fn;
    if (in.contains("FunctionName")) {
      fn = parse_function_name(str(in, "FunctionName"));
      if (!fn) return Outcome::fail(invalid("Invalid FunctionName: " + str(in, "FunctionName")));
    }
    std::string marker;
    if (in.contains("Marker")) {
      auto raw = protocol::base64_decode(str(in, "Marker"));
      if (!raw) return Outcome::fail(invalid("Invalid Marker"));
      marker = *raw;
    }
    int limit = in.value("MaxItems", kDefaultMaxItems);
    json mappings = json::array();
    std::string next;
    for (const auto& rec : all()) {  // in UUID order
      std::string uuid = str(rec, "UUID");
      if (!marker.empty() && uuid < marker) continue;
      if (!source.empty() && str(rec, "EventSourceArn") != source) continue;
      if (fn && (str(rec, "_function") != fn->name ||
                 (!fn->qualifier.empty() && str(rec, "_qualifier") != fn->qualifier)))
        continue;
      if (static_cast<int>(mappings.size()) == limit) {
        next = uuid;
        break;
      }
      mappings.push_back(out(rec));
    }
    json o = {{"EventSourceMappings", mappings}};
    if (!next.empty()) o["NextMarker"] = protocol::base64_encode(next);
    return Outcome::ok(o);
  }

  // https://docs.aws.amazon.com/lambda/latest/api/API_UpdateEventSourceMapping.html — 202.
  Outcome update(const json& in) {
    auto loaded = load(str(in, "UUID"));
    if (!loaded) return Outcome::fail(not_found());
    json rec = *loaded;
    if (in.contains("FunctionName")) {
      FunctionRef ref;
      if (auto e = resolve_function(str(in, "FunctionName"), ref)) return Outcome::fail(*e);
      rec["FunctionArn"] = function_arn_of(ref);
      rec["_function"] = ref.name;
      rec["_qualifier"] = ref.qualifier;
    }
    if (auto e = check_filters(in)) return Outcome::fail(*e);
    json updated = rec;
    apply_members(updated, in);
    if (auto e = check_batching(str(updated, "EventSourceArn"), updated.value("BatchSize", kDefaultBatchSize),
                                updated.value("MaximumBatchingWindowInSeconds", 0)))
      return Outcome::fail(*e);
    bool was = rec.value("_enabled", true);
    bool enabled = in.contains("Enabled") && in["Enabled"].is_boolean() ? in["Enabled"].get<bool>() : was;
    updated["_enabled"] = enabled;
    updated["State"] = enabled ? "Enabled" : "Disabled";
    updated["StateTransitionReason"] = "USER_INITIATED";
    updated["LastModified"] = static_cast<double>(now_ms()) / 1000.0;
    if (Status st = s.deps_.store->put(Column::lambda, esm_key(p, str(updated, "UUID")), updated.dump());
        !st.ok())
      return Outcome::fail(store_error(st));
    start(updated);
    const char* state = enabled == was ? "Updating" : enabled ? "Enabling" : "Disabling";
    return Outcome::ok(out(updated, state));
  }

  // https://docs.aws.amazon.com/lambda/latest/api/API_DeleteEventSourceMapping.html — 202.
  Outcome remove(const json& in) {
    std::string uuid = str(in, "UUID");
    auto rec = load(uuid);
    if (!rec) return Outcome::fail(not_found());
    json answer = out(*rec, "Deleting");
    if (Status st = s.deps_.store->erase(Column::lambda, esm_key(p, uuid)); !st.ok())
      return Outcome::fail(store_error(st));
    if (s.pollers_) s.pollers_->remove(uuid);
    return Outcome::ok(answer);
  }
};

void LambdaService::build_esm_operations() {
  using Fn = Outcome (EsmOps::*)(const json&);
  auto add = [this](std::string name, Fn fn, std::string notes) {
    OperationSpec spec;
    spec.name = name;
    spec.rules = InputRules::none;  // checked here, so that call() (stack providers, tests) checks too
    spec.notes = std::move(notes);
    spec.handler = [this, name, fn](const CallContext& ctx, json& input, Reply reply) {
      if (auto e = validate_lambda_input(name, input)) return reply(Outcome::fail(*e));
      Partition p{ctx.account, ctx.region};
      Outcome outcome;
      {
        std::lock_guard lock(mutex_);
        EsmOps ops{*this, p};
        outcome = (ops.*fn)(input);
      }
      reply(std::move(outcome));
    };
    operations_.push_back(std::move(spec));
  };
  add("CreateEventSourceMapping", &EsmOps::create,
      "SQS sources only (others: InvalidParameterValueException \"Unrecognized event source.\"); state settles "
      "at once");
  add("GetEventSourceMapping", &EsmOps::get, "");
  add("ListEventSourceMappings", &EsmOps::list, "");
  add("UpdateEventSourceMapping", &EsmOps::update, "SQS members only");
  add("DeleteEventSourceMapping", &EsmOps::remove, "");
}

// Every stored mapping, at start: enabled ones get their pollers again.
void LambdaService::load_mappings() {
  if (!pollers_) return;
  std::size_t n = 0;
  auto it = deps_.store->scan(Column::lambda, "", "");
  for (; it->valid(); it->next()) {
    KeyReader r(it->key());
    auto account = r.read_string();
    auto region = r.read_string();
    auto tag = r.read_string();
    if (!account || !region || !tag || *tag != "esm") continue;
    json rec = json::parse(it->value(), nullptr, false);
    if (rec.is_discarded()) continue;
    pollers_->apply(spec_of(Partition{*account, *region}, rec));
    ++n;
  }
  if (n > 0) log::info("lambda", "{} event source mapping(s) loaded from the store", n);
}

}  // namespace stratus::services::lambda
