// encode_error and the small encoders shared by the codecs (base64, timestamps).
#include <array>
#include <cmath>
#include <cstdio>
#include <ctime>

#include <fmt/format.h>

#include "common/ids.hpp"
#include "protocol/codec_internal.hpp"
#include "protocol/protocol.hpp"
#include "protocol/xml.hpp"

namespace stratus::protocol {

namespace {

// The namespace before '#' in a JSON protocol's __type, as AWS sends it.
std::string json_error_type(const ServiceModel* model, const AwsError& error) {
  if (error.code.find('#') != std::string::npos) return error.code;
  std::string_view svc = model != nullptr ? model->name() : std::string_view{};
  if (error.code == "ValidationException" && (svc == "dynamodb" || svc == "dynamodbstreams"))
    return "com.amazon.coral.validate#" + error.code;
  if (error.code == "UnknownOperationException" || error.code == "SerializationException" ||
      error.code == "IncompleteSignatureException" || error.code == "MissingAuthenticationTokenException")
    return "com.amazon.coral.service#" + error.code;
  if (svc == "dynamodb" || svc == "dynamodbstreams") return "com.amazonaws.dynamodb.v20120810#" + error.code;
  if (svc == "sqs") return "com.amazonaws.sqs#" + error.code;
  return error.code;
}

// The legacy query code for query-compatible services: the given one, else the model's error shape's.
std::string query_code(const ServiceModel* model, const AwsError& error) {
  if (!error.query_code.empty()) return error.query_code;
  if (model != nullptr)
    if (const Shape* s = model->shape(error.code); s != nullptr && !s->error_code.empty())
      return s->error_code;
  return error.code;
}

std::string extra_text(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

}  // namespace

http::Response encode_error(const ServiceModel* model, Protocol protocol, const AwsError& error,
                            const std::string& request_id, bool head_request) {
  http::Response r;
  r.status = error.http_status;
  switch (protocol) {
    case Protocol::json: {
      nlohmann::json body = nlohmann::json::object();
      body["__type"] = json_error_type(model, error);
      body["message"] = error.message;
      if (error.extra.is_object())
        for (auto it = error.extra.begin(); it != error.extra.end(); ++it) body[it.key()] = it.value();
      std::string version = model != nullptr && !model->json_version().empty()
                                ? std::string(model->json_version())
                                : std::string("1.0");
      r.headers.set("Content-Type", "application/x-amz-json-" + version);
      r.headers.set("x-amzn-RequestId", request_id);
      if (model != nullptr && model->query_compatible())
        r.headers.set("x-amzn-query-error",
                      query_code(model, error) + (error.sender_fault ? ";Sender" : ";Receiver"));
      r.body = body.dump();
      break;
    }
    case Protocol::query: {
      std::string ns = model != nullptr && !model->xml_namespace().empty()
                           ? std::string(model->xml_namespace())
                           : std::string{};
      XmlWriter w;
      XmlWriter::Attributes attrs;
      if (!ns.empty()) attrs.emplace_back("xmlns", ns);
      w.open("ErrorResponse", attrs);
      w.open("Error");
      w.element("Type", error.sender_fault ? "Sender" : "Receiver");
      w.element("Code",
                model != nullptr && model->query_compatible() ? query_code(model, error) : error.code);
      w.element("Message", error.message);
      if (error.extra.is_object())
        for (auto it = error.extra.begin(); it != error.extra.end(); ++it)
          w.element(it.key(), extra_text(it.value()));
      w.empty_element("Detail");
      w.close();
      w.element("RequestId", request_id);
      r.body = w.finish();
      r.headers.set("Content-Type", "text/xml");
      r.headers.set("x-amzn-RequestId", request_id);
      break;
    }
    case Protocol::rest_json: {
      nlohmann::json body = nlohmann::json::object();
      body["Type"] = error.sender_fault ? "User" : "Service";
      body["message"] = error.message;
      body["Message"] = error.message;
      // Members the model puts in headers (Lambda's TooManyRequestsException.retryAfterSeconds ->
      // Retry-After) travel there; the rest go in the body.
      const Shape* shape = model != nullptr ? model->shape(error.code) : nullptr;
      if (error.extra.is_object()) {
        for (auto it = error.extra.begin(); it != error.extra.end(); ++it) {
          const MemberRef* member = shape != nullptr ? shape->find_member(it.key()) : nullptr;
          if (member != nullptr && member->location == Location::header && it.value().is_primitive()) {
            std::string name = member->location_name.empty() ? member->name : member->location_name;
            r.headers.set(name, it.value().is_string() ? it.value().get<std::string>() : it.value().dump());
          } else {
            body[it.key()] = it.value();
          }
        }
      }
      r.headers.set("Content-Type", "application/json");
      r.headers.set("x-amzn-RequestId", request_id);
      r.headers.set("x-amzn-ErrorType", error.code);
      r.body = body.dump();
      break;
    }
    case Protocol::rest_xml: {
      r.headers.set("x-amz-request-id", request_id);
      r.headers.set("x-amz-id-2", base64_encode(request_id));
      if (head_request) break;
      XmlWriter w;
      w.open("Error");
      w.element("Code", error.code);
      w.element("Message", error.message);
      if (error.extra.is_object())
        for (auto it = error.extra.begin(); it != error.extra.end(); ++it)
          w.element(it.key(), extra_text(it.value()));
      w.element("RequestId", request_id);
      w.element("HostId", base64_encode(request_id));
      r.body = w.finish();
      r.headers.set("Content-Type", "application/xml");
      break;
    }
  }
  return r;
}


// --- timestamps ---

namespace {

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

std::optional<double> parse_iso8601(std::string_view s) {
  int y, mo, d, h, mi, sec;
  if (!digits(s, 0, 4, y) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, h) ||
      s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, sec))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  std::size_t pos = 19;
  double frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    double scale = 0.1;
    ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
  }
  int offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh)) return std::nullopt;
    std::size_t mpos = pos + 3;
    if (mpos < s.size() && s[mpos] == ':') ++mpos;
    if (!digits(s, mpos, 2, om)) return std::nullopt;
    offset = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos = mpos + 2;
  }
  if (pos != s.size()) return std::nullopt;
  auto days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return static_cast<double>(days * 86400 + h * 3600 + mi * 60 + sec - offset) + frac;
}

std::optional<double> parse_rfc1123(std::string_view s) {
  // "Tue, 01 Dec 2026 07:46:50 GMT"
  static constexpr std::array<std::string_view, 12> k_months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto comma = s.find(", ");
  if (comma == std::string_view::npos) return std::nullopt;
  s.remove_prefix(comma + 2);
  int d, y, h, mi, sec;
  if (s.size() < 20 || !digits(s, 0, 2, d) || s[2] != ' ' || !digits(s, 7, 4, y) || s[11] != ' ' ||
      !digits(s, 12, 2, h) || s[14] != ':' || !digits(s, 15, 2, mi) || s[17] != ':' || !digits(s, 18, 2, sec))
    return std::nullopt;
  std::string_view mon = s.substr(3, 3);
  unsigned m = 0;
  for (unsigned i = 0; i < 12; ++i)
    if (k_months[i] == mon) m = i + 1;
  if (m == 0) return std::nullopt;
  return static_cast<double>(days_from_civil(y, m, static_cast<unsigned>(d)) * 86400 + h * 3600 + mi * 60 +
                             sec);
}

}  // namespace

std::optional<double> parse_timestamp(std::string_view text) {
  if (auto t = parse_iso8601(text)) return t;
  if (auto t = parse_rfc1123(text)) return t;
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  std::string copy(text);
  double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string format_iso8601(double epoch_seconds) {
  return iso8601_ms(static_cast<std::int64_t>(std::llround(epoch_seconds * 1000.0)));
}

std::string format_http_date(double epoch_seconds) {
  return http_date(static_cast<std::int64_t>(std::floor(epoch_seconds)) * 1000);
}

}  // namespace stratus::protocol
