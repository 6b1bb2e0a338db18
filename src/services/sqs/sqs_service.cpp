// The SQS API: one function per operation, with SQS's own checks and messages beside it (the model's
// generic coral validation is not used: SQS answers with InvalidParameterValue, MissingParameter,
// InvalidAttributeName, InvalidAttributeValue and friends, over both JSON and query).
// Reference: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_Operations.html
// and botocore's model (src/protocol/models/sqs.json).
#include "services/sqs/sqs_service.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cstring>
#include <future>
#include <set>

#include <fmt/format.h>

#include "common/base64.hpp"
#include "common/ids.hpp"

namespace stratus::services::sqs {

using nlohmann::json;

namespace {

constexpr int kMaxBatch = 10;

// --- errors, as SQS words them ---

AwsError invalid_value(std::string message) {
  return AwsError::sender(400, "InvalidParameterValue", std::move(message));
}
AwsError invalid_param(const std::string& param, const std::string& value, const std::string& reason) {
  return invalid_value(fmt::format("Value {} for parameter {} is invalid. Reason: {}", value, param, reason));
}
AwsError missing(const std::string& param) {
  return AwsError::sender(400, "MissingParameter",
                          fmt::format("The request must contain the parameter {}.", param));
}
AwsError no_queue() {
  AwsError e = AwsError::sender(400, "QueueDoesNotExist", "The specified queue does not exist.");
  e.query_code = "AWS.SimpleQueueService.NonExistentQueue";
  return e;
}
AwsError unknown_attribute(const std::string& name) {
  return AwsError::sender(400, "InvalidAttributeName", fmt::format("Unknown Attribute {}.", name));
}
AwsError invalid_attribute(const std::string& name, const std::string& reason = "") {
  return AwsError::sender(400, "InvalidAttributeValue",
                          fmt::format("Invalid value for the parameter {}.{}", name,
                                      reason.empty() ? "" : " Reason: " + reason));
}
AwsError batch_error(const char* shape, const std::string& message) {
  AwsError e = AwsError::sender(400, shape, message);
  e.query_code = std::string("AWS.SimpleQueueService.") + shape;
  return e;
}

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// An optional integer parameter: nullopt when absent; an error when not an integer.
std::optional<AwsError> int_param(const json& in, const char* key, std::optional<std::int64_t>& out) {
  auto it = in.find(key);
  out.reset();
  if (it == in.end() || it->is_null()) return std::nullopt;
  if (it->is_number_integer()) {
    out = it->get<std::int64_t>();
    return std::nullopt;
  }
  return invalid_value(fmt::format("Value {} for parameter {} is invalid. Reason: must be an integer.",
                                   it->is_string() ? it->get<std::string>() : it->dump(), key));
}

std::optional<std::int64_t> parse_int(const std::string& s) {
  std::int64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// The characters SQS allows in bodies and string attribute values:
// #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
std::optional<std::uint32_t> bad_character(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    // Eight bytes at a time while they are all printable ASCII (0x20..0x7F), as most bodies are: a byte
    // is outside that range when its top bit is set or when it is below 0x20 (adding 0x60 leaves the
    // top bit clear only for bytes below 0x20, and cannot carry into the next byte for bytes below 0x80).
    constexpr std::uint64_t kHigh = 0x8080808080808080ull;
    constexpr std::uint64_t kAdd = 0x6060606060606060ull;
    while (i + 8 <= s.size()) {
      std::uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if ((w & kHigh) != 0 || ((w + kAdd) & kHigh) != kHigh) break;
      i += 8;
    }
    if (i >= s.size()) break;
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x80) {  // printable ASCII, most bodies: always allowed
      ++i;
      continue;
    }
    std::uint32_t cp;
    int len;
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if ((c & 0xE0) == 0xC0) {
      cp = c & 0x1F;
      len = 2;
    } else if ((c & 0xF0) == 0xE0) {
      cp = c & 0x0F;
      len = 3;
    } else if ((c & 0xF8) == 0xF0) {
      cp = c & 0x07;
      len = 4;
    } else {
      return c;
    }
    if (i + static_cast<std::size_t>(len) > s.size()) return c;
    for (int k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
      if ((cc & 0xC0) != 0x80) return c;
      cp = (cp << 6) | (cc & 0x3F);
    }
    i += static_cast<std::size_t>(len);
    bool ok = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
              (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
    if (!ok) return cp;
  }
  return std::nullopt;
}

bool valid_queue_name(const std::string& name, bool fifo) {
  std::string base = name;
  if (fifo) {
    if (!name.ends_with(".fifo")) return false;
    base = name.substr(0, name.size() - 5);
  }
  if (base.empty() || name.size() > 80) return false;
  return std::all_of(base.begin(), base.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; });
}

bool valid_batch_id(const std::string& id) {
  return !id.empty() && id.size() <= 80 &&
         std::all_of(id.begin(), id.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; });
}

// MessageGroupId / MessageDeduplicationId: 1..128 of alphanumerics and punctuation.
bool valid_group_token(const std::string& v) {
  return !v.empty() && v.size() <= 128 &&
         std::all_of(v.begin(), v.end(), [](char c) { return c >= 33 && c <= 126; });
}

// A decimal number as SQS accepts for Number attributes (up to 38 significant digits).
bool valid_number(const std::string& s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  std::size_t digits = 0;
  bool dot = false;
  for (; i < s.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(s[i]))) {
      ++digits;
    } else if (s[i] == '.' && !dot) {
      dot = true;
    } else if ((s[i] == 'e' || s[i] == 'E') && digits > 0) {
      ++i;
      if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
      if (i >= s.size()) return false;
      for (; i < s.size(); ++i)
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
      break;
    } else {
      return false;
    }
  }
  return digits > 0 && digits <= 38;
}

// Message attributes (user or system): checks names, types and values; returns the normalized map and
// adds their size (name + type + value) to `size`.
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html
std::optional<AwsError> check_message_attributes(const json& in, json& out, std::int64_t& size) {
  out = json::object();
  if (in.is_null()) return std::nullopt;
  if (!in.is_object()) return invalid_value("MessageAttributes must be a map.");
  if (in.size() > 10)
    return invalid_value(
        fmt::format("Number of message attributes [{}] exceeds the allowed maximum [10].", in.size()));
  for (auto it = in.begin(); it != in.end(); ++it) {
    const std::string& name = it.key();
    std::string lower = name;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool name_ok = !name.empty() && name.size() <= 256 && name.front() != '.' && name.back() != '.' &&
                   name.find("..") == std::string::npos && !lower.starts_with("aws.") &&
                   !lower.starts_with("amazon.") &&
                   std::all_of(name.begin(), name.end(), [](char c) {
                     return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
                   });
    if (!name_ok) return invalid_value(fmt::format("Message (user) attribute name '{}' is invalid.", name));
    const json& v = it.value();
    if (!v.is_object()) return invalid_value(fmt::format("The message attribute '{}' is malformed.", name));
    std::string type = str(v, "DataType");
    if (type.empty())
      return invalid_value(
          fmt::format("The message attribute '{}' must contain non-empty message attribute type.", name));
    std::string base = type.substr(0, type.find('.'));
    if ((base != "String" && base != "Number" && base != "Binary") || type.size() > 256 ||
        (type.find('.') != std::string::npos && type.size() == base.size() + 1))
      return invalid_value(fmt::format(
          "The message attribute '{}' has an invalid message attribute type, the set of supported type prefixes "
          "is Binary, Number, and String.",
          name));
    json norm = {{"DataType", type}};
    if (base == "Binary") {
      std::string b64 = str(v, "BinaryValue");
      auto raw = base64_decode(b64);
      if (b64.empty() || !raw || raw->empty())
        return invalid_value(fmt::format(
            "The message attribute '{}' must contain non-empty message attribute value for message attribute "
            "type '{}'.",
            name, type));
      norm["BinaryValue"] = b64;
      size += static_cast<std::int64_t>(raw->size());
    } else {
      std::string s = str(v, "StringValue");
      if (s.empty())
        return invalid_value(fmt::format(
            "The message attribute '{}' must contain non-empty message attribute value for message attribute "
            "type '{}'.",
            name, type));
      if (base == "Number" && !valid_number(s))
        return invalid_value(fmt::format("Can't cast the value of message (user) attribute '{}' to a number.", name));
      if (auto bad = bad_character(s))
        return AwsError::sender(400, "InvalidMessageContents",
                                fmt::format("Invalid binary character '#x{:X}' was found in the message attribute "
                                            "'{}', the set of allowed characters is #x9 | #xA | #xD | #x20 to "
                                            "#xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
                                            *bad, name));
      norm["StringValue"] = s;
      size += static_cast<std::int64_t>(s.size());
    }
    size += static_cast<std::int64_t>(name.size() + type.size());
    out[name] = std::move(norm);
  }
  return std::nullopt;
}

// --- queue attributes ---

const std::set<std::string>& common_attributes() {
  static const std::set<std::string> k = {"DelaySeconds",         "MaximumMessageSize",
                                          "MessageRetentionPeriod", "Policy",
                                          "ReceiveMessageWaitTimeSeconds", "VisibilityTimeout",
                                          "RedrivePolicy",        "RedriveAllowPolicy",
                                          "KmsMasterKeyId",       "KmsDataKeyReusePeriodSeconds",
                                          "SqsManagedSseEnabled"};
  return k;
}
const std::set<std::string>& fifo_attributes() {
  static const std::set<std::string> k = {"ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"};
  return k;
}
// Read-only attributes GetQueueAttributes reports.
const std::set<std::string>& computed_attributes() {
  static const std::set<std::string> k = {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                                          "ApproximateNumberOfMessagesDelayed", "CreatedTimestamp",
                                          "LastModifiedTimestamp", "QueueArn", "FifoQueue"};
  return k;
}

std::map<std::string, std::string> default_attributes(bool fifo) {
  std::map<std::string, std::string> a = {{"DelaySeconds", "0"},
                                          {"MaximumMessageSize", std::to_string(kMaxMessageSize)},
                                          {"MessageRetentionPeriod", "345600"},
                                          {"ReceiveMessageWaitTimeSeconds", "0"},
                                          {"VisibilityTimeout", "30"},
                                          {"SqsManagedSseEnabled", "true"}};
  if (fifo) {
    a["ContentBasedDeduplication"] = "false";
    a["DeduplicationScope"] = "queue";
    a["FifoThroughputLimit"] = "perQueue";
  }
  return a;
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// The operations.
// ------------------------------------------------------------------------------------------------
struct Ops {
  SqsService& s;
  const CallContext& ctx;

  Engine& engine() { return s.engine(); }
  std::int64_t now_ms() const { return s.engine().clock().now_ms(); }
  std::string host() const { return ctx.host.empty() ? s.deps().default_host : ctx.host; }
  std::string url(const QueueKey& k) const { return s.queue_url(host(), k); }
  std::string arn_of(const std::string& name) const {
    return "arn:aws:sqs:" + ctx.region + ":" + ctx.account + ":" + name;
  }

  // QueueUrl -> queue: http(s)://ANY-HOST/ACCOUNT/NAME (the host does not matter).
  std::optional<AwsError> resolve(const json& in, std::shared_ptr<Queue>& q) {
    std::string u = str(in, "QueueUrl");
    if (u.empty()) return missing("QueueUrl");
    std::string path = u;
    if (auto scheme = path.find("://"); scheme != std::string::npos) {
      auto slash = path.find('/', scheme + 3);
      path = slash == std::string::npos ? "" : path.substr(slash);
    }
    while (!path.empty() && path.back() == '/') path.pop_back();
    auto last = path.rfind('/');
    if (last == std::string::npos || last == 0) return no_queue();
    std::string name = path.substr(last + 1);
    std::string rest = path.substr(0, last);
    std::string account = rest.substr(rest.rfind('/') + 1);
    if (account != ctx.account) return no_queue();
    q = engine().find(QueueKey{ctx.account, ctx.region, name});
    if (!q) return no_queue();
    return std::nullopt;
  }

  // Checks `attrs` (name -> string value) for CreateQueue (`creating`) or SetQueueAttributes and merges
  // them into `cfg` (whose `fifo` is already decided). Nothing is changed on error.
  std::optional<AwsError> apply_attributes(const json& attrs, QueueConfig& cfg, bool creating,
                                           const std::string& queue_arn) {
    if (attrs.is_null()) return std::nullopt;
    if (!attrs.is_object()) return invalid_value("Attributes must be a map.");
    std::map<std::string, std::string> next = cfg.attributes;
    for (auto it = attrs.begin(); it != attrs.end(); ++it) {
      const std::string& name = it.key();
      std::string value = it->is_string() ? it->get<std::string>() : it->dump();
      if (name == "FifoQueue") {
        if (!creating) return unknown_attribute(name);
        continue;  // decided by CreateQueue
      }
      bool known = common_attributes().count(name) || (cfg.fifo && fifo_attributes().count(name));
      if (!known) return unknown_attribute(name);
      auto ranged = [&](std::int64_t lo, std::int64_t hi) -> std::optional<AwsError> {
        auto v = parse_int(value);
        if (!v || *v < lo || *v > hi) return invalid_attribute(name);
        value = std::to_string(*v);
        return std::nullopt;
      };
      std::optional<AwsError> e;
      if (name == "DelaySeconds") e = ranged(0, 900);
      else if (name == "MaximumMessageSize") e = ranged(1024, kMaxMessageSize);
      else if (name == "MessageRetentionPeriod") e = ranged(60, 1209600);
      else if (name == "ReceiveMessageWaitTimeSeconds") e = ranged(0, 20);
      else if (name == "VisibilityTimeout") e = ranged(0, kMaxVisibility);
      else if (name == "KmsDataKeyReusePeriodSeconds") e = ranged(60, 86400);
      else if (name == "SqsManagedSseEnabled" || name == "ContentBasedDeduplication") {
        if (value != "true" && value != "false") e = invalid_attribute(name);
      } else if (name == "DeduplicationScope") {
        if (value != "messageGroup" && value != "queue") e = invalid_attribute(name);
      } else if (name == "FifoThroughputLimit") {
        if (value != "perQueue" && value != "perMessageGroupId") e = invalid_attribute(name);
      } else if (name == "Policy") {
        if (!value.empty() && !json::parse(value, nullptr, false).is_object()) e = invalid_attribute(name);
      } else if (name == "RedrivePolicy") {
        e = check_redrive_policy(value, cfg.fifo, queue_arn);
      } else if (name == "RedriveAllowPolicy") {
        e = check_redrive_allow_policy(value);
      }
      if (e) return e;
      if (value.empty() && (name == "RedrivePolicy" || name == "RedriveAllowPolicy" || name == "Policy" ||
                            name == "KmsMasterKeyId"))
        next.erase(name);
      else
        next[name] = value;
    }
    // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/high-throughput-fifo.html
    if (cfg.fifo && next.count("FifoThroughputLimit") && next["FifoThroughputLimit"] == "perMessageGroupId" &&
        next["DeduplicationScope"] != "messageGroup")
      return invalid_attribute("FifoThroughputLimit",
                               "The perMessageGroupId value is allowed only when the value for "
                               "DeduplicationScope is messageGroup");
    // One server-side encryption at a time: SSE-KMS replaces SSE-SQS.
    if (attrs.contains("KmsMasterKeyId") && next.count("KmsMasterKeyId")) {
      if (attrs.contains("SqsManagedSseEnabled") && next["SqsManagedSseEnabled"] == "true")
        return invalid_attribute("SqsManagedSseEnabled",
                                 "You can use one type of server-side encryption (SSE) at one time.");
      next["SqsManagedSseEnabled"] = "false";
      if (!next.count("KmsDataKeyReusePeriodSeconds")) next["KmsDataKeyReusePeriodSeconds"] = "300";
    }
    if (next.count("SqsManagedSseEnabled") && next["SqsManagedSseEnabled"] == "true") {
      next.erase("KmsMasterKeyId");
      next.erase("KmsDataKeyReusePeriodSeconds");
    }
    cfg.attributes = std::move(next);
    return std::nullopt;
  }

  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html
  std::optional<AwsError> check_redrive_policy(std::string& value, bool fifo, const std::string& self_arn) {
    if (value.empty()) return std::nullopt;
    auto bad = [&](const std::string& reason) { return invalid_param("RedrivePolicy", value, reason); };
    json rp = json::parse(value, nullptr, false);
    if (!rp.is_object()) return bad("Redrive policy is not a valid JSON map.");
    for (auto it = rp.begin(); it != rp.end(); ++it)
      if (it.key() != "deadLetterTargetArn" && it.key() != "maxReceiveCount")
        return bad("Only following attributes are supported: [deadLetterTargetArn, maxReceiveCount].");
    if (!rp.contains("deadLetterTargetArn"))
      return bad("Redrive policy does not contain mandatory attribute: deadLetterTargetArn.");
    if (!rp.contains("maxReceiveCount"))
      return bad("Redrive policy does not contain mandatory attribute: maxReceiveCount.");
    std::optional<std::int64_t> mrc;
    if (rp["maxReceiveCount"].is_number_integer()) mrc = rp["maxReceiveCount"].get<std::int64_t>();
    if (rp["maxReceiveCount"].is_string()) mrc = parse_int(rp["maxReceiveCount"].get<std::string>());
    if (!mrc || *mrc < 1 || *mrc > 1000)
      return bad(fmt::format("Invalid value for maxReceiveCount: {}, valid values are from 1 to 1000 both inclusive.",
                             str(rp, "maxReceiveCount")));
    std::string target = str(rp, "deadLetterTargetArn");
    auto dlq = engine().find_arn(target);
    if (!dlq || dlq->key.account != ctx.account || dlq->key.region != ctx.region)
      return bad("Dead letter target does not exist.");
    if (dlq->cfg.fifo != fifo) return bad("Dead-letter queue must be same type of queue as the source.");
    if (target == self_arn) return bad("Dead-letter target cannot be the queue itself.");
    // The DLQ's RedriveAllowPolicy decides which sources may use it.
    std::string allow;
    {
      std::lock_guard lk(dlq->mu);
      auto it = dlq->cfg.attributes.find("RedriveAllowPolicy");
      if (it != dlq->cfg.attributes.end()) allow = it->second;
    }
    if (!allow.empty()) {
      json ap = json::parse(allow, nullptr, false);
      std::string perm = ap.value("redrivePermission", "allowAll");
      bool listed = false;
      if (ap.contains("sourceQueueArns") && ap["sourceQueueArns"].is_array())
        for (const auto& a : ap["sourceQueueArns"]) listed = listed || (a.is_string() && a.get<std::string>() == self_arn);
      if (perm == "denyAll" || (perm == "byQueue" && !listed))
        return bad(fmt::format("Dead letter target {} does not allow this queue to use it as a dead-letter queue "
                               "(its RedriveAllowPolicy).",
                               target));
    }
    value = json{{"deadLetterTargetArn", target}, {"maxReceiveCount", *mrc}}.dump();
    return std::nullopt;
  }

  std::optional<AwsError> check_redrive_allow_policy(std::string& value) {
    if (value.empty()) return std::nullopt;
    auto bad = [&](const std::string& reason) { return invalid_param("RedriveAllowPolicy", value, reason); };
    json ap = json::parse(value, nullptr, false);
    if (!ap.is_object()) return bad("Redrive allow policy is not a valid JSON map.");
    for (auto it = ap.begin(); it != ap.end(); ++it)
      if (it.key() != "redrivePermission" && it.key() != "sourceQueueArns")
        return bad("Only following attributes are supported: [redrivePermission, sourceQueueArns].");
    std::string perm = str(ap, "redrivePermission");
    if (perm != "allowAll" && perm != "denyAll" && perm != "byQueue")
      return bad("Invalid value for redrivePermission. Valid values are allowAll, denyAll and byQueue.");
    bool has_arns = ap.contains("sourceQueueArns");
    if (perm == "byQueue") {
      if (!has_arns || !ap["sourceQueueArns"].is_array() || ap["sourceQueueArns"].empty())
        return bad("sourceQueueArns is required when redrivePermission is byQueue.");
      if (ap["sourceQueueArns"].size() > 10) return bad("You can specify up to 10 source queue ARNs.");
      for (const auto& a : ap["sourceQueueArns"])
        if (!a.is_string() || !a.get<std::string>().starts_with("arn:")) return bad("sourceQueueArns must be ARNs.");
    } else if (has_arns) {
      return bad("sourceQueueArns can be specified only when redrivePermission is byQueue.");
    }
    return std::nullopt;
  }

  static std::optional<AwsError> check_tags(const json& tags) {
    if (tags.is_null()) return std::nullopt;
    if (!tags.is_object()) return invalid_value("Tags must be a map.");
    for (auto it = tags.begin(); it != tags.end(); ++it) {
      if (it.key().empty() || it.key().size() > 128)
        return invalid_value(fmt::format("Tag key '{}' must be 1 to 128 characters long.", it.key()));
      if (!it->is_string() || it->get<std::string>().size() > 256)
        return invalid_value(fmt::format("Tag value for key '{}' must be a string of at most 256 characters.", it.key()));
    }
    return std::nullopt;
  }

  // --- queues ---

  Outcome create_queue(const json& in) {
    std::string name = str(in, "QueueName");
    if (name.empty()) return Outcome::fail(missing("QueueName"));
    json attrs = in.value("Attributes", json::object());
    bool fifo = false;
    if (attrs.is_object() && attrs.contains("FifoQueue")) {
      std::string f = str(attrs, "FifoQueue");
      if (f != "true" && f != "false") return Outcome::fail(invalid_attribute("FifoQueue"));
      fifo = f == "true";
    }
    // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html
    if (fifo && !valid_queue_name(name, true))
      return Outcome::fail(invalid_value(
          "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end "
          "with .fifo suffix and be 1 to 80 in length."));
    if (!fifo && (name.ends_with(".fifo") || !valid_queue_name(name, false)))
      return Outcome::fail(
          invalid_value("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"));
    if (auto e = check_tags(in.value("tags", json()))) return Outcome::fail(*e);
    if (in.contains("tags") && in["tags"].is_object() && in["tags"].size() > 50)
      return Outcome::fail(invalid_value("Too many tags added for queue " + name + "."));
    QueueKey key{ctx.account, ctx.region, name};
    std::lock_guard lk(s.admin_mu_);
    QueueConfig cfg;
    cfg.name = name;
    cfg.fifo = fifo;
    cfg.attributes = default_attributes(fifo);
    if (auto e = apply_attributes(attrs, cfg, true, arn_of(name))) return Outcome::fail(*e);
    if (auto existing = engine().find(key)) {
      // Same name: fine when every given attribute matches, else QueueAlreadyExists.
      std::lock_guard ql(existing->mu);
      if (existing->cfg.fifo != fifo) return Outcome::fail(already_exists("FifoQueue"));
      for (auto it = attrs.begin(); it != attrs.end(); ++it) {
        if (it.key() == "FifoQueue") continue;
        auto mine = cfg.attributes.find(it.key());
        auto theirs = existing->cfg.attributes.find(it.key());
        std::string a = mine == cfg.attributes.end() ? "" : mine->second;
        std::string b = theirs == existing->cfg.attributes.end() ? "" : theirs->second;
        if (a != b) return Outcome::fail(already_exists(it.key()));
      }
      return Outcome::ok({{"QueueUrl", url(key)}});
    }
    if (engine().deleted_recently(key)) {
      AwsError e = AwsError::sender(
          400, "QueueDeletedRecently",
          "You must wait 60 seconds after deleting a queue before you can create another with the same name.");
      e.query_code = "AWS.SimpleQueueService.QueueDeletedRecently";
      return Outcome::fail(e);
    }
    std::int64_t now_s = now_ms() / 1000;
    cfg.created_s = cfg.modified_s = now_s;
    if (in.contains("tags") && in["tags"].is_object())
      for (auto it = in["tags"].begin(); it != in["tags"].end(); ++it) cfg.tags[it.key()] = it->get<std::string>();
    if (auto e = engine().create(key, std::move(cfg))) return Outcome::fail(*e);
    return Outcome::ok({{"QueueUrl", url(key)}});
  }

  static AwsError already_exists(const std::string& attribute) {
    return AwsError::sender(400, "QueueNameExists",
                            "A queue already exists with the same name and a different value for attribute " +
                                attribute);
  }

  Outcome get_queue_url(const json& in) {
    std::string name = str(in, "QueueName");
    if (name.empty()) return Outcome::fail(missing("QueueName"));
    std::string owner = str(in, "QueueOwnerAWSAccountId");
    if (!owner.empty() && owner != ctx.account) return Outcome::fail(no_queue());
    QueueKey key{ctx.account, ctx.region, name};
    if (!engine().find(key)) return Outcome::fail(no_queue());
    return Outcome::ok({{"QueueUrl", url(key)}});
  }

  // MaxResults/NextToken pagination over sorted names: the token is base64 of the last name returned.
  std::optional<AwsError> page(const json& in, std::vector<std::string>& names, std::optional<std::string>& next) {
    std::optional<std::int64_t> max;
    if (auto e = int_param(in, "MaxResults", max)) return e;
    if (max && (*max < 1 || *max > 1000))
      return invalid_param("MaxResults", std::to_string(*max), "MaxResults must be an integer between 1 and 1000.");
    std::string token = str(in, "NextToken");
    if (!token.empty()) {
      auto after = base64_decode(token);
      if (!after) return invalid_value("Invalid NextToken value.");
      names.erase(names.begin(), std::upper_bound(names.begin(), names.end(), *after));
    }
    std::size_t limit = max ? static_cast<std::size_t>(*max) : 1000;
    if (names.size() > limit) {
      names.resize(limit);
      if (max) next = base64_encode(names.back());
    }
    return std::nullopt;
  }

  Outcome list_queues(const json& in) {
    std::string prefix = str(in, "QueueNamePrefix");
    std::vector<std::string> names;
    for (auto& q : engine().list(ctx.account, ctx.region))
      if (q->key.name.starts_with(prefix)) names.push_back(q->key.name);
    std::optional<std::string> next;
    if (auto e = page(in, names, next)) return Outcome::fail(*e);
    json out = json::object();
    if (!names.empty()) {
      json urls = json::array();
      for (auto& n : names) urls.push_back(url(QueueKey{ctx.account, ctx.region, n}));
      out["QueueUrls"] = urls;
    }
    if (next) out["NextToken"] = *next;
    return Outcome::ok(out);
  }

  Outcome delete_queue(const json& in) {
    std::shared_ptr<Queue> q;
    if (auto e = resolve(in, q)) return Outcome::fail(*e);
    std::lock_guard lk(s.admin_mu_);
    if (auto e = engine().remove(q)) return Outcome::fail(*e);
    return Outcome::ok(json::object());
  }

  Outcome purge_queue(const json& in) {
    std::shared_ptr<Queue> q;
    if (auto e = resolve(in, q)) return Outcome::fail(*e);
    if (auto e = engine().purge(q)) return Outcome::fail(*e);
    return Outcome::ok(json::object());
  }

  Outcome get_queue_attributes(const json& in) {
    std::shared_ptr<Queue> q;
    if (auto e = resolve(in, q)) return Outcome::fail(*e);
    std::set<std::string> wanted;
    bool all = false;
    if (auto names = in.find("AttributeNames"); names != in.end() && names->is_array()) {
      for (const auto& n : *names) {
        std::string name = n.is_string() ? n.get<std::string>() : n.dump();
        if (name == "All") {
          all = true;
          continue;
        }
        if (!common_attributes().count(name) && !fifo_attributes().count(name) && !computed_attributes().count(name))
          return Outcome::fail(unknown_attribute(name));
        wanted.insert(name);
      }
    }
    std::int64_t visible = 0, inflight = 0, delayed = 0;
    engine().counts(q, visible, inflight, delayed);
    std::map<std::string, std::string> a;
    {
      std::lock_guard lk(q->mu);
      a = q->cfg.attributes;
      a["CreatedTimestamp"] = std::to_string(q->cfg.created_s);
      a["LastModifiedTimestamp"] = std::to_string(q->cfg.modified_s);
      if (q->cfg.fifo) a["FifoQueue"] = "true";
    }
    a["QueueArn"] = q->arn();
    a["ApproximateNumberOfMessages"] = std::to_string(visible);
    a["ApproximateNumberOfMessagesNotVisible"] = std::to_string(inflight);
    a["ApproximateNumberOfMessagesDelayed"] = std::to_string(delayed);
    json out = json::object();
    for (auto& [k, v] : a)
      if (all || wanted.count(k)) out[k] = v;
    if (out.empty()) return Outcome::ok(json::object());
    return Outcome::ok({{"Attributes", out}});
  }

  Outcome set_queue_attributes(const json& in) {
    std::shared_ptr<Queue> q;
    if (auto e = resolve(in, q)) return Outcome::fail(*e);
    if (!in.contains("Attributes")) return Outcome::fail(missing("Attributes"));
    std::lock_guard admin(s.admin_mu_);
    QueueConfig cfg;
    {
      std::lock_guard lk(q->mu);
      cfg = q->cfg;
    }
    if (auto e = apply_attributes(in["Attributes"], cfg, false, q->arn())) return Outcome::fail(*e);
    std::lock_guard lk(q->mu);
    q->cfg.attributes = cfg.attributes;
    q->cfg.modified_s = now_ms() / 1000;
    if (auto e = engine().save_config(*q)) return Outcome::fail(*e);
    return Outcome::ok(json::object());
  }

  Outcome list_dead_letter_source_queues(const json& in) {
    std::shared_ptr<Queue> q;
    if (auto e = resolve(in, q)) return Outcome::fail(*e);
    std::string arn = q->arn();
    std::vector<std::string> names;
    for (auto& other : engine().list(ctx.account, ctx.region)) {
      std::lock_guard lk(other->mu);
      if (other->dlq_arn == arn) names.push_back(other->key.name);
    }
    std::optional<std::string> next;
    if (auto e = page(in, names, next)) return Outcome::fail(*e);
    json urls = json::array();
    for (auto& n : names) urls.push_back(url(QueueKey{ctx.account, ctx.region, n}));
    json out = {{"queueUrls", urls}};
    if (next) out["NextToken"] = *next;
    return Outcome::ok(out);
  }

  // --- tags and permissions ---

  Outcome tag_queue(const json& in) {
    std::shared_ptr<Queue> q;
    if (auto e = resolve(in, q)) return Outcome::fail(*e);
    if (!in.contains("Tags")) return Outcome::fail(missing("Tags"));
    if (auto e = check_tags(in["Tags"])) return Outcome::fail(*e);
    std::lock_guard admin(s.admin_mu_);
    std::lock_guard lk(q->mu);
    auto tags = q->cfg.tags;
    for (auto it = in["Tags"].begin(); it != in["Tags"].end(); ++it) tags[it.key()] = it->get<std::string>();
    // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-tags.html: 50 tags.
    if (tags.size() > 50) return Outcome::fail(invalid_value("Too many tags added for queue " + q->key.name + "."));
    q->cfg.tags = std::move(tags);
    if (auto e = engine().save_config(*q)) return Outcome::fail(*e);
    return Outcome::ok(json::object());
  }

  Outcome untag_queue(const json& in) {
    std::shared_ptr<Queue> q;
    if (auto e = resolve(in, q)) return Outcome::fail(*e);
    auto keys = in.find("TagKeys");
    if (keys == in.end() || !keys->is_array()) return Outcome::fail(missing("TagKeys"));
    std::lock_guard admin(s.admin_mu_);
    std::lock_guard lk(q->mu);
    for (const auto& k : *keys)
      if (k.is_string()) q->cfg.tags.erase(k.get<std::string>());
    if (auto e = engine().save_config(*q)) return Outcome::fail(*e);
    return Outcome::ok(json::object());
  }

  Outcome list_queue_tags(const json& in) {
    std::shared_ptr<Queue> q;
    if (auto e = resolve(in, q)) return Outcome::fail(*e);
    std::lock_guard lk(q->mu);
    if (q->cfg.tags.empty()) return Outcome::ok(json::object());
    return Outcome::ok({{"Tags", q->cfg.tags}});
  }

  // AddPermission writes a statement into the queue's Policy, as SQS does.
  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_AddPermission.html
  Outcome add_permission(const json& in) {
    std::shared_ptr<Queue> q;
    if (auto e = resolve(in, q)) return Outcome::fail(*e);
    std::string label = str(in, "Label");
    if (label.empty()) return Outcome::fail(missing("Label"));
    if (!valid_batch_id(label))
      return Outcome::fail(invalid_param("Label", label,
                                         "Can only include alphanumeric characters, hyphens, or underscores. 1 to "
                                         "80 in length"));
    auto accounts = in.find("AWSAccountIds");
    auto actions = in.find("Actions");
    if (accounts == in.end() || !accounts->is_array() || accounts->empty()) return Outcome::fail(missing("AWSAccountIds"));
    if (actions == in.end() || !actions->is_array() || actions->empty()) return Outcome::fail(missing("Actions"));
    static const std::set<std::string> k_actions = {"*", "SendMessage", "ReceiveMessage", "DeleteMessage",
                                                    "ChangeMessageVisibility", "GetQueueAttributes", "GetQueueUrl",
                                                    "ListDeadLetterSourceQueues", "PurgeQueue", "ListQueueTags"};
    json principals = json::array();
    for (const auto& a : *accounts) principals.push_back("arn:aws:iam::" + a.get<std::string>() + ":root");
    json acts = json::array();
    for (const auto& a : *actions) {
      std::string act = a.is_string() ? a.get<std::string>() : a.dump();
      if (!k_actions.count(act))
        return Outcome::fail(invalid_param("Actions", act, "Only the queue owner is allowed to invoke this action."));
      acts.push_back("SQS:" + act);
    }
    std::lock_guard admin(s.admin_mu_);
    std::lock_guard lk(q->mu);
    json policy = json::parse(q->cfg.attributes.count("Policy") ? q->cfg.attributes["Policy"] : "", nullptr, false);
    if (!policy.is_object())
      policy = {{"Version", "2012-10-17"}, {"Id", q->arn() + "/SQSDefaultPolicy"}, {"Statement", json::array()}};
    for (const auto& st : policy["Statement"])
      if (st.value("Sid", "") == label)
        return Outcome::fail(invalid_param("Label", label, "Already exists."));
    policy["Statement"].push_back({{"Sid", label},
                                   {"Effect", "Allow"},
                                   {"Principal", {{"AWS", principals.size() == 1 ? principals[0] : principals}}},
                                   {"Action", acts.size() == 1 ? acts[0] : acts},
                                   {"Resource", q->arn()}});
    q->cfg.attributes["Policy"] = policy.dump();
    if (auto e = engine().save_config(*q)) return Outcome::fail(*e);
    return Outcome::ok(json::object());
  }

  Outcome remove_permission(const json& in) {
    std::shared_ptr<Queue> q;
    if (auto e = resolve(in, q)) return Outcome::fail(*e);
    std::string label = str(in, "Label");
    if (label.empty()) return Outcome::fail(missing("Label"));
    std::lock_guard admin(s.admin_mu_);
    std::lock_guard lk(q->mu);
    json policy = json::parse(q->cfg.attributes.count("Policy") ? q->cfg.attributes["Policy"] : "", nullptr, false);
    bool found = false;
    if (policy.is_object() && policy["Statement"].is_array()) {
      json kept = json::array();
      for (const auto& st : policy["Statement"]) {
        if (st.value("Sid", "") == label)
          found = true;
        else
          kept.push_back(st);
      }
      policy["Statement"] = kept;
    }
    if (!found) return Outcome::fail(invalid_param("Label", label, "can't find label on existing policy."));
    if (policy["Statement"].empty())
      q->cfg.attributes.erase("Policy");
    else
      q->cfg.attributes["Policy"] = policy.dump();
    if (auto e = engine().save_config(*q)) return Outcome::fail(*e);
    return Outcome::ok(json::object());
  }

  // --- messages ---

  // SendMessage's checks for one message (SendMessage or a batch entry) and the send itself.
  std::optional<AwsError> send_one(const std::shared_ptr<Queue>& q, const json& in, json& out) {
    SendResult r;
    std::string md5_attrs, md5_sys;
    if (auto e = s.send_to(q, in, ctx.account, r, md5_attrs, md5_sys)) return e;
    out = {{"MessageId", r.message_id}, {"MD5OfMessageBody", r.md5_of_body}};
    if (!md5_attrs.empty()) out["MD5OfMessageAttributes"] = md5_attrs;
    if (!md5_sys.empty()) out["MD5OfMessageSystemAttributes"] = md5_sys;
    if (!r.sequence_number.empty()) out["SequenceNumber"] = r.sequence_number;
    return std::nullopt;
  }

  Outcome send_message(const json& in) {
    std::shared_ptr<Queue> q;
    if (auto e = resolve(in, q)) return Outcome::fail(*e);
    json out;
    if (auto e = send_one(q, in, out)) return Outcome::fail(*e);
    return Outcome::ok(std::move(out));
  }

  // The batch rules shared by the three batch operations.
  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
  std::optional<AwsError> check_batch(const json& in, const char* entry_name) {
    auto entries = in.find("Entries");
    if (entries == in.end() || !entries->is_array() || entries->empty())
      return batch_error("EmptyBatchRequest",
                         fmt::format("There should be at least one {} in the request.", entry_name));
    if (entries->size() > kMaxBatch)
      return batch_error("TooManyEntriesInBatchRequest",
                         fmt::format("Maximum number of entries per request are {}. You have sent {}.", kMaxBatch,
                                     entries->size()));
    std::set<std::string> ids;
    for (const auto& e : *entries) {
      std::string id = e.is_object() ? str(e, "Id") : "";
      if (!valid_batch_id(id))
        return batch_error("InvalidBatchEntryId",
                           "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It "
                           "can be at most 80 letters long.");
      if (!ids.insert(id).second) return batch_error("BatchEntryIdsNotDistinct", fmt::format("Id {} repeated.", id));
    }
    return std::nullopt;
  }

  // {"Successful": ok, "Failed": failed} without the deep copy a braced initializer list makes.
  static json batch_result(json ok, json failed) {
    json out = json::object();
    out["Successful"] = std::move(ok);
    out["Failed"] = std::move(failed);
    return out;
  }

  static json failure(const std::string& id, const AwsError& e) {
    return {{"Id", id}, {"SenderFault", e.sender_fault}, {"Code", e.query_code.empty() ? e.code : e.query_code},
            {"Message", e.message}};
  }

  Outcome send_message_batch(const json& in) {
    std::shared_ptr<Queue> q;
    if (auto e = resolve(in, q)) return Outcome::fail(*e);
    if (auto e = check_batch(in, "SendMessageBatchRequestEntry")) return Outcome::fail(*e);
    std::int64_t total = 0;
    for (const auto& e : in["Entries"]) {
      total += static_cast<std::int64_t>(str(e, "MessageBody").size());
      if (auto ma = e.find("MessageAttributes"); ma != e.end() && ma->is_object())
        for (auto it = ma->begin(); it != ma->end(); ++it)
          total += static_cast<std::int64_t>(it.key().size() + str(*it, "DataType").size() +
                                             str(*it, "StringValue").size() +
                                             str(*it, "BinaryValue").size() * 3 / 4);
    }
    if (total > kMaxMessageSize)
      return Outcome::fail(batch_error("BatchRequestTooLong",
                                       fmt::format("Batch requests cannot be longer than {} bytes. You have sent {} "
                                                   "bytes.",
                                                   kMaxMessageSize, total)));
    json ok = json::array(), failed = json::array();
    for (const auto& entry : in["Entries"]) {
      json out;
      if (auto e = send_one(q, entry, out)) {
        if (e->code == "QueueDoesNotExist") return Outcome::fail(*e);
        failed.push_back(failure(str(entry, "Id"), *e));
        continue;
      }
      out["Id"] = str(entry, "Id");
      ok.push_back(std::move(out));
    }
    return Outcome::ok(batch_result(std::move(ok), std::move(failed)));
  }

  Outcome delete_message(const json& in) {
    std::shared_ptr<Queue> q;
    if (auto e = resolve(in, q)) return Outcome::fail(*e);
    std::string handle = str(in, "ReceiptHandle");
    if (handle.empty()) return Outcome::fail(missing("ReceiptHandle"));
    if (auto e = engine().delete_message(q, handle)) return Outcome::fail(*e);
    return Outcome::ok(json::object());
  }

  Outcome delete_message_batch(const json& in) {
    std::shared_ptr<Queue> q;
    if (auto e = resolve(in, q)) return Outcome::fail(*e);
    if (auto e = check_batch(in, "DeleteMessageBatchRequestEntry")) return Outcome::fail(*e);
    json ok = json::array(), failed = json::array();
    std::vector<std::string> handles;
    for (const auto& entry : in["Entries"]) handles.push_back(str(entry, "ReceiptHandle"));
    auto results = engine().delete_messages(q, handles);
    for (std::size_t i = 0; i < handles.size(); ++i) {
      std::string id = str(in["Entries"][i], "Id");
      std::optional<AwsError> e = handles[i].empty() ? std::optional<AwsError>(missing("ReceiptHandle")) : results[i];
      if (e && e->code == "QueueDoesNotExist") return Outcome::fail(*e);
      if (e)
        failed.push_back(failure(id, *e));
      else
        ok.push_back({{"Id", id}});
    }
    return Outcome::ok(batch_result(std::move(ok), std::move(failed)));
  }

  std::optional<AwsError> check_visibility(const json& in, std::int64_t& vis) {
    std::optional<std::int64_t> v;
    if (auto e = int_param(in, "VisibilityTimeout", v)) return e;
    if (!v) return missing("VisibilityTimeout");
    if (*v < 0 || *v > kMaxVisibility)
      return invalid_param("VisibilityTimeout", std::to_string(*v), "Must be >= 0 and <= 43200, if provided.");
    vis = *v;
    return std::nullopt;
  }

  Outcome change_message_visibility(const json& in) {
    std::shared_ptr<Queue> q;
    if (auto e = resolve(in, q)) return Outcome::fail(*e);
    std::string handle = str(in, "ReceiptHandle");
    if (handle.empty()) return Outcome::fail(missing("ReceiptHandle"));
    std::int64_t vis = 0;
    if (auto e = check_visibility(in, vis)) return Outcome::fail(*e);
    if (auto e = engine().change_visibility(q, handle, static_cast<int>(vis))) return Outcome::fail(*e);
    return Outcome::ok(json::object());
  }

  Outcome change_message_visibility_batch(const json& in) {
    std::shared_ptr<Queue> q;
    if (auto e = resolve(in, q)) return Outcome::fail(*e);
    if (auto e = check_batch(in, "ChangeMessageVisibilityBatchRequestEntry")) return Outcome::fail(*e);
    json ok = json::array(), failed = json::array();
    for (const auto& entry : in["Entries"]) {
      std::string id = str(entry, "Id");
      std::string handle = str(entry, "ReceiptHandle");
      std::int64_t vis = 0;
      std::optional<AwsError> e;
      if (handle.empty()) e = missing("ReceiptHandle");
      if (!e) e = check_visibility(entry, vis);
      if (!e) e = engine().change_visibility(q, handle, static_cast<int>(vis));
      if (e && e->code == "QueueDoesNotExist") return Outcome::fail(*e);
      if (e)
        failed.push_back(failure(id, *e));
      else
        ok.push_back({{"Id", id}});
    }
    return Outcome::ok(batch_result(std::move(ok), std::move(failed)));
  }

  // --- message move tasks ---
  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_StartMessageMoveTask.html

  Outcome start_message_move_task(const json& in) {
    std::string source_arn = str(in, "SourceArn");
    if (source_arn.empty()) return Outcome::fail(missing("SourceArn"));
    auto source = engine().find_arn(source_arn);
    if (!source || source->key.account != ctx.account)
      return Outcome::fail(AwsError::sender(404, "ResourceNotFoundException",
                                            "The resource that you specified for the SourceArn parameter doesn't "
                                            "exist."));
    bool is_dlq = false;
    for (auto& other : engine().list(source->key.account, source->key.region)) {
      std::lock_guard lk(other->mu);
      is_dlq = is_dlq || other->dlq_arn == source_arn;
    }
    if (!is_dlq) return Outcome::fail(invalid_value("Source queue must be configured as a Dead Letter Queue."));
    std::string dest = str(in, "DestinationArn");
    if (!dest.empty()) {
      auto d = engine().find_arn(dest);
      if (!d)
        return Outcome::fail(AwsError::sender(404, "ResourceNotFoundException",
                                              "The resource that you specified for the DestinationArn parameter "
                                              "doesn't exist."));
      if (d == source) return Outcome::fail(invalid_value("Source and destination queues must be different."));
    }
    std::optional<std::int64_t> rate;
    if (auto e = int_param(in, "MaxNumberOfMessagesPerSecond", rate)) return Outcome::fail(*e);
    if (rate && (*rate < 1 || *rate > 500))
      return Outcome::fail(invalid_param("MaxNumberOfMessagesPerSecond", std::to_string(*rate),
                                         "Must be between 1 and 500, if provided."));
    std::string handle;
    if (auto e = engine().start_move_task(source, dest, rate ? static_cast<int>(*rate) : 0, handle))
      return Outcome::fail(*e);
    return Outcome::ok({{"TaskHandle", handle}});
  }

  Outcome list_message_move_tasks(const json& in) {
    std::string source_arn = str(in, "SourceArn");
    if (source_arn.empty()) return Outcome::fail(missing("SourceArn"));
    if (!engine().find_arn(source_arn))
      return Outcome::fail(AwsError::sender(404, "ResourceNotFoundException",
                                            "The resource that you specified for the SourceArn parameter doesn't "
                                            "exist."));
    std::optional<std::int64_t> max;
    if (auto e = int_param(in, "MaxResults", max)) return Outcome::fail(*e);
    if (max && (*max < 1 || *max > 10))
      return Outcome::fail(invalid_param("MaxResults", std::to_string(*max), "Must be between 1 and 10, if provided."));
    json results = json::array();
    for (const auto& t : engine().move_tasks(source_arn)) {
      if (static_cast<std::int64_t>(results.size()) >= max.value_or(1)) break;
      json r = {{"Status", t.status},
                {"SourceArn", t.source_arn},
                {"ApproximateNumberOfMessagesMoved", t.moved},
                {"ApproximateNumberOfMessagesToMove", t.to_move},
                {"StartedTimestamp", t.started_ms}};
      if (t.status == "RUNNING") r["TaskHandle"] = t.handle;
      if (!t.destination_arn.empty()) r["DestinationArn"] = t.destination_arn;
      if (t.rate > 0) r["MaxNumberOfMessagesPerSecond"] = t.rate;
      if (!t.failure.empty()) r["FailureReason"] = t.failure;
      results.push_back(r);
    }
    return Outcome::ok({{"Results", results}});
  }

  Outcome cancel_message_move_task(const json& in) {
    std::string handle = str(in, "TaskHandle");
    if (handle.empty()) return Outcome::fail(missing("TaskHandle"));
    std::int64_t moved = 0;
    if (auto e = engine().cancel_move_task(handle, moved)) return Outcome::fail(*e);
    return Outcome::ok({{"ApproximateNumberOfMessagesMoved", moved}});
  }
};

// --- ReceiveMessage: answers now or when a message arrives (long poll) ---

namespace {

struct Selection {
  bool all_system = false;
  std::set<std::string> system;
  bool all_user = false;
  std::vector<std::string> user_exact, user_prefix;
};

// Consumes `r`: the body and ids are moved into the answer, not copied (a receive of 10 x 256 KiB would
// otherwise copy every body twice more).
json message_out(Received&& r, const Selection& sel) {
  json m = json::object();
  m["MessageId"] = std::move(r.message_id);
  m["ReceiptHandle"] = std::move(r.receipt_handle);
  m["MD5OfBody"] = std::move(r.md5_of_body);
  m["Body"] = std::move(r.body);
  json attrs = json::object();
  for (auto& [k, v] : r.attributes)
    if (sel.all_system || sel.system.count(k)) attrs[k] = std::move(v);
  if (!attrs.empty()) m["Attributes"] = std::move(attrs);
  if (!r.message_attributes.empty()) {
    json user = json::object();
    for (auto it = r.message_attributes.begin(); it != r.message_attributes.end(); ++it) {
      bool want = sel.all_user ||
                  std::find(sel.user_exact.begin(), sel.user_exact.end(), it.key()) != sel.user_exact.end() ||
                  std::any_of(sel.user_prefix.begin(), sel.user_prefix.end(),
                              [&](const std::string& p) { return it.key().starts_with(p); });
      if (want) user[it.key()] = std::move(it.value());
    }
    if (!user.empty()) {
      m["MD5OfMessageAttributes"] = md5_of_attributes(user);
      m["MessageAttributes"] = std::move(user);
    }
  }
  return m;
}

}  // namespace

// --- the service ---

SqsService::SqsService(SqsDeps deps) : deps_(std::move(deps)) {
  if (deps_.clock == nullptr) deps_.clock = &SystemClock::instance();
  engine_ = std::make_unique<Engine>(deps_.store, deps_.clock, deps_.background);
  engine_->start();
  build_operations();
}

SqsService::~SqsService() { engine_->shutdown(); }

void SqsService::shutdown() { engine_->shutdown(); }

std::string SqsService::queue_url(const std::string& host, const QueueKey& key) const {
  return "http://" + (host.empty() ? deps_.default_host : host) + "/" + key.account + "/" + key.name;
}

std::optional<AwsError> SqsService::send_to(const std::shared_ptr<Queue>& q, const json& in,
                                            const std::string& sender, SendResult& out, std::string& md5_attrs,
                                            std::string& md5_sys) {
  SendRequest req;
  auto body = in.find("MessageBody");
  if (body == in.end() || !body->is_string() || body->get_ref<const std::string&>().empty())
    return missing("MessageBody");
  req.body = body->get<std::string>();
  if (auto bad = bad_character(req.body))
    return AwsError::sender(400, "InvalidMessageContents",
                            fmt::format("Invalid binary character '#x{:X}' was found in the message body, the set "
                                        "of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to "
                                        "#xFFFD | #x10000 to #x10FFFF",
                                        *bad));
  std::int64_t size = static_cast<std::int64_t>(req.body.size());
  if (auto e = check_message_attributes(in.value("MessageAttributes", json()), req.message_attributes, size))
    return e;
  req.md5_of_message_attributes = md5_of_attributes(req.message_attributes);
  md5_attrs = req.md5_of_message_attributes;
  if (auto sys = in.find("MessageSystemAttributes"); sys != in.end() && sys->is_object() && !sys->empty()) {
    for (auto it = sys->begin(); it != sys->end(); ++it) {
      if (it.key() != "AWSTraceHeader")
        return invalid_value(fmt::format("Message system attribute name '{}' is invalid.", it.key()));
      if (str(*it, "DataType") != "String" || str(*it, "StringValue").empty())
        return invalid_value("Message system attribute 'AWSTraceHeader' must contain a non-empty value of type "
                             "'String'.");
      req.trace_header = str(*it, "StringValue");
    }
    md5_sys = md5_of_attributes(json{{"AWSTraceHeader", {{"DataType", "String"}, {"StringValue", req.trace_header}}}});
  }
  int max_size = 0;
  bool fifo = false, cbd = false;
  {
    std::lock_guard lk(q->mu);
    max_size = q->cfg.int_attr("MaximumMessageSize", static_cast<int>(kMaxMessageSize));
    fifo = q->cfg.fifo;
    cbd = q->content_dedup;
  }
  if (size > max_size)
    return invalid_value(
        fmt::format("One or more parameters are invalid. Reason: Message must be shorter than {} bytes.", max_size));
  std::optional<std::int64_t> delay;
  if (auto e = int_param(in, "DelaySeconds", delay)) return e;
  if (delay && (*delay < 0 || *delay > 900))
    return invalid_param("DelaySeconds", std::to_string(*delay), "DelaySeconds must be >= 0 and <= 900.");
  req.group_id = in.value("MessageGroupId", "");
  req.dedup_id = in.value("MessageDeduplicationId", "");
  if (in.contains("MessageGroupId") && !valid_group_token(req.group_id))
    return invalid_param("MessageGroupId", req.group_id,
                         "MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in "
                         "length.");
  if (fifo) {
    // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues-understanding-logic.html
    if (delay && *delay != 0)
      return invalid_param("DelaySeconds", std::to_string(*delay),
                           "The request include parameter that is not valid for this queue type.");
    if (req.group_id.empty()) return missing("MessageGroupId");
    if (in.contains("MessageDeduplicationId") && !valid_group_token(req.dedup_id))
      return invalid_param("MessageDeduplicationId", req.dedup_id,
                           "MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to "
                           "128 in length.");
    if (req.dedup_id.empty() && !cbd)
      return invalid_value(
          "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided "
          "explicitly");
  } else {
    if (in.contains("MessageDeduplicationId"))
      return invalid_param("MessageDeduplicationId", req.dedup_id,
                           "The request include parameter that is not valid for this queue type.");
    if (delay) req.delay_seconds = static_cast<int>(*delay);
  }
  req.sender_id = sender;
  return engine_->send(q, std::move(req), out);
}

void SqsService::build_operations() {
  using Sync = Outcome (Ops::*)(const json&);
  auto sync = [this](std::string name, Sync fn, std::string notes = "") {
    OperationSpec spec;
    spec.name = name;
    spec.rules = InputRules::none;
    spec.notes = std::move(notes);
    spec.handler = [this, fn](const CallContext& ctx, json& input, Reply reply) {
      if (!input.is_object()) input = json::object();
      Ops ops{*this, ctx};
      reply((ops.*fn)(input));
    };
    operations_.push_back(std::move(spec));
  };
  sync("CreateQueue", &Ops::create_queue, "KMS attributes stored, nothing is encrypted");
  sync("GetQueueUrl", &Ops::get_queue_url);
  sync("ListQueues", &Ops::list_queues);
  sync("DeleteQueue", &Ops::delete_queue);
  sync("PurgeQueue", &Ops::purge_queue);
  sync("GetQueueAttributes", &Ops::get_queue_attributes);
  sync("SetQueueAttributes", &Ops::set_queue_attributes, "changes apply at once (AWS: up to 60 s)");
  sync("ListDeadLetterSourceQueues", &Ops::list_dead_letter_source_queues);
  sync("TagQueue", &Ops::tag_queue);
  sync("UntagQueue", &Ops::untag_queue);
  sync("ListQueueTags", &Ops::list_queue_tags);
  sync("AddPermission", &Ops::add_permission, "written to Policy; policies are not enforced");
  sync("RemovePermission", &Ops::remove_permission);
  sync("SendMessage", &Ops::send_message);
  sync("SendMessageBatch", &Ops::send_message_batch);
  sync("DeleteMessage", &Ops::delete_message);
  sync("DeleteMessageBatch", &Ops::delete_message_batch);
  sync("ChangeMessageVisibility", &Ops::change_message_visibility);
  sync("ChangeMessageVisibilityBatch", &Ops::change_message_visibility_batch);
  sync("StartMessageMoveTask", &Ops::start_message_move_task, "tasks are in the store: listed across restarts, a running one resumes");
  sync("ListMessageMoveTasks", &Ops::list_message_move_tasks);
  sync("CancelMessageMoveTask", &Ops::cancel_message_move_task);

  OperationSpec receive;
  receive.name = "ReceiveMessage";
  receive.rules = InputRules::none;
  receive.notes = "long polls hold no thread; ReceiveRequestAttemptId retries remembered in memory";
  receive.handler = [this](const CallContext& ctx, json& in, Reply reply) {
    if (!in.is_object()) in = json::object();
    Ops ops{*this, ctx};
    std::shared_ptr<Queue> q;
    if (auto e = ops.resolve(in, q)) return reply(Outcome::fail(*e));
    std::optional<std::int64_t> max, wait, vis;
    if (auto e = int_param(in, "MaxNumberOfMessages", max)) return reply(Outcome::fail(*e));
    if (max && (*max < 1 || *max > 10))
      return reply(Outcome::fail(invalid_param("MaxNumberOfMessages", std::to_string(*max),
                                               "Must be between 1 and 10, if provided.")));
    if (auto e = int_param(in, "WaitTimeSeconds", wait)) return reply(Outcome::fail(*e));
    if (wait && (*wait < 0 || *wait > 20))
      return reply(Outcome::fail(
          invalid_param("WaitTimeSeconds", std::to_string(*wait), "Must be >= 0 and <= 20, if provided.")));
    if (auto e = int_param(in, "VisibilityTimeout", vis)) return reply(Outcome::fail(*e));
    if (vis && (*vis < 0 || *vis > kMaxVisibility))
      return reply(Outcome::fail(
          invalid_param("VisibilityTimeout", std::to_string(*vis), "Must be >= 0 and <= 43200, if provided.")));
    auto sel = std::make_shared<Selection>();
    for (const char* key : {"AttributeNames", "MessageSystemAttributeNames"})
      if (auto it = in.find(key); it != in.end() && it->is_array())
        for (const auto& n : *it) {
          std::string name = n.is_string() ? n.get<std::string>() : "";
          if (name == "All") sel->all_system = true;
          sel->system.insert(name);
        }
    if (auto it = in.find("MessageAttributeNames"); it != in.end() && it->is_array())
      for (const auto& n : *it) {
        std::string name = n.is_string() ? n.get<std::string>() : "";
        if (name == "All" || name == ".*")
          sel->all_user = true;
        else if (name.ends_with(".*"))
          sel->user_prefix.push_back(name.substr(0, name.size() - 1));
        else
          sel->user_exact.push_back(name);
      }
    int visibility, wait_s;
    bool fifo;
    {
      std::lock_guard lk(q->mu);
      visibility = vis ? static_cast<int>(*vis) : q->cfg.int_attr("VisibilityTimeout", 30);
      wait_s = wait ? static_cast<int>(*wait) : q->cfg.int_attr("ReceiveMessageWaitTimeSeconds", 0);
      fifo = q->cfg.fifo;
    }
    // ReceiveRequestAttemptId applies to FIFO queues only (standard queues ignore it).
    std::string attempt_id;
    if (fifo && in.contains("ReceiveRequestAttemptId")) {
      attempt_id = str(in, "ReceiveRequestAttemptId");
      if (!valid_group_token(attempt_id))
        return reply(Outcome::fail(invalid_param(
            "ReceiveRequestAttemptId", attempt_id,
            "ReceiveRequestAttemptId can only include alphanumeric and punctuation characters. 1 to 128 in "
            "length.")));
    }
    auto answer = [reply, sel](std::optional<AwsError> error, std::vector<Received> msgs) {
      if (error) return reply(Outcome::fail(*error));
      if (msgs.empty()) return reply(Outcome::ok(json::object()));
      json out = json::object();
      json& list = out["Messages"] = json::array();
      for (auto& m : msgs) list.push_back(message_out(std::move(m), *sel));
      reply(Outcome::ok(std::move(out)));
    };
    if (!attempt_id.empty())
      engine_->receive_attempt(q, attempt_id, static_cast<int>(max.value_or(1)), visibility,
                               static_cast<std::int64_t>(wait_s) * 1000, std::move(answer));
    else
      engine_->receive(q, static_cast<int>(max.value_or(1)), visibility, static_cast<std::int64_t>(wait_s) * 1000,
                       std::move(answer));
  };
  operations_.push_back(std::move(receive));
  std::sort(operations_.begin(), operations_.end(), [](auto& a, auto& b) { return a.name < b.name; });
}

Outcome SqsService::call(const std::string& operation, const std::string& account, const std::string& region,
                         json input, const std::string& host) {
  for (const auto& op : operations_) {
    if (op.name != operation) continue;
    CallContext ctx;
    ctx.account = account;
    ctx.region = region;
    ctx.service = "sqs";
    ctx.operation = operation;
    ctx.host = host;
    ctx.request_id = new_request_id();
    ctx.now_ms = deps_.clock->now_ms();
    auto promise = std::make_shared<std::promise<Outcome>>();
    auto future = promise->get_future();
    auto answered = std::make_shared<std::atomic<bool>>(false);
    op.handler(ctx, input, [promise, answered](Outcome o) {
      if (!answered->exchange(true)) promise->set_value(std::move(o));
    });
    return future.get();
  }
  return Outcome::fail(AwsError::sender(400, "InvalidAction", "Unknown operation " + operation));
}

}  // namespace stratus::services::sqs
