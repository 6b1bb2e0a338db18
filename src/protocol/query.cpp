// The query protocol (SQS over query, as AWS CLI v2 2.9 and older SDKs speak it): form parameters →
// input document, output document → <OpResponse> XML. Names follow botocore's QuerySerializer:
// members by locationName/queryName, lists `Name.member.N` or flattened `Name.N` (flattened lists take
// their member's locationName), maps `Name.entry.N.key/.value` or flattened `Name.N.<key>/<value>`.
#include <map>

#include <fmt/format.h>

#include "protocol/codec_internal.hpp"
#include "protocol/protocol.hpp"

namespace stratus::protocol::detail {

using nlohmann::json;

namespace {

using Params = std::map<std::string, std::string, std::less<>>;

bool has_prefix(const Params& params, const std::string& key) {
  if (params.count(key) > 0) return true;
  std::string dotted = key + ".";
  auto it = params.lower_bound(dotted);
  return it != params.end() && it->first.compare(0, dotted.size(), dotted) == 0;
}

const std::string& query_member_name(const MemberRef& ref) {
  if (!ref.query_name.empty()) return ref.query_name;
  return wire_name(ref);
}

std::optional<AwsError> invalid_value(const std::string& key, const std::string& value) {
  return AwsError::sender(400, "InvalidParameterValue",
                          fmt::format("Value ({}) for parameter {} is invalid.", value, key));
}

// Decodes the value at `key` into `out`; sets `found` when anything was present.
std::optional<AwsError> decode_value(const MemberRef& ref, const std::string& key, const Params& params,
                                     json& out, bool& found) {
  found = false;
  if (ref.shape == nullptr) return std::nullopt;
  const Shape& shape = *ref.shape;
  switch (shape.type) {
    case ShapeType::structure: {
      json obj = json::object();
      for (const auto& m : shape.members) {
        bool f = false;
        json v;
        if (auto err = decode_value(m, key + "." + query_member_name(m), params, v, f)) return err;
        if (f) {
          obj[m.name] = std::move(v);
          found = true;
        }
      }
      if (found) out = std::move(obj);
      return std::nullopt;
    }
    case ShapeType::list: {
      std::string base;
      if (ref.flattened || shape.flattened) {
        base = key;
        if (!shape.member.location_name.empty()) {
          auto dot = key.rfind('.');
          base = (dot == std::string::npos ? std::string{} : key.substr(0, dot + 1)) +
                 shape.member.location_name;
        }
      } else {
        base = key + "." + (shape.member.location_name.empty() ? "member" : shape.member.location_name);
      }
      json arr = json::array();
      for (std::size_t i = 1;; ++i) {
        std::string item_key = fmt::format("{}.{}", base, i);
        if (!has_prefix(params, item_key)) break;
        bool f = false;
        json v;
        if (auto err = decode_value(shape.member, item_key, params, v, f)) return err;
        arr.push_back(std::move(v));
      }
      auto exact = params.find(key);
      if (!arr.empty() || (exact != params.end() && exact->second.empty())) {
        out = std::move(arr);
        found = true;
      }
      return std::nullopt;
    }
    case ShapeType::map: {
      std::string base = (ref.flattened || shape.flattened) ? key : key + ".entry";
      std::string key_name = shape.key.location_name.empty() ? "key" : shape.key.location_name;
      std::string value_name = shape.value.location_name.empty() ? "value" : shape.value.location_name;
      json obj = json::object();
      for (std::size_t i = 1;; ++i) {
        std::string entry = fmt::format("{}.{}", base, i);
        if (!has_prefix(params, entry)) break;
        auto k = params.find(entry + "." + key_name);
        if (k == params.end()) continue;
        bool f = false;
        json v;
        if (auto err = decode_value(shape.value, entry + "." + value_name, params, v, f)) return err;
        obj[k->second] = std::move(v);
      }
      if (!obj.empty()) {
        out = std::move(obj);
        found = true;
      }
      return std::nullopt;
    }
    default: {
      auto it = params.find(key);
      if (it == params.end()) return std::nullopt;
      auto v = scalar_from_text(shape, it->second);
      if (!v) return invalid_value(key, it->second);
      out = std::move(*v);
      found = true;
      return std::nullopt;
    }
  }
}

}  // namespace

std::optional<AwsError> decode_query(const ServiceModel&, const OperationModel& op, const http::Request& req,
                                     json& input) {
  input = json::object();
  bool form = req.method == "POST" &&
              req.headers.get("content-type").substr(0, 33) == "application/x-www-form-urlencoded";
  Params params;
  for (auto& [k, v] :
       http::parse_query(form ? std::string_view(req.body) : std::string_view(req.query), true))
    params.emplace(std::move(k), std::move(v));
  if (form)  // a query string on a form POST counts too (never overriding the body)
    for (auto& [k, v] : http::parse_query(req.query, true)) params.emplace(std::move(k), std::move(v));
  if (op.input == nullptr) return std::nullopt;
  for (const auto& m : op.input->members) {
    bool found = false;
    json v;
    if (auto err = decode_value(m, query_member_name(m), params, v, found)) return err;
    if (found) input[m.name] = std::move(v);
  }
  // `POST /<account>/<queue>`: the queue URL is the request's own URL.
  if (op.input->find_member("QueueUrl") != nullptr && !input.contains("QueueUrl") && req.path.size() > 1 &&
      req.path != "/") {
    std::string host(req.headers.get("host"));
    input["QueueUrl"] = fmt::format("http://{}{}", host.empty() ? "localhost" : host, req.path);
  }
  return std::nullopt;
}

http::Response encode_query(const ServiceModel& model, const OperationModel& op, const json& output,
                            const std::string& request_id) {
  XmlWriter w;
  XmlWriter::Attributes attrs;
  if (!model.xml_namespace().empty()) attrs.emplace_back("xmlns", std::string(model.xml_namespace()));
  w.open(op.name + "Response", attrs);
  if (op.output != nullptr) {
    if (!op.result_wrapper.empty()) w.open(op.result_wrapper);
    write_xml_members(w, *op.output, output);
    if (!op.result_wrapper.empty()) w.close();
  }
  w.open("ResponseMetadata");
  w.element("RequestId", request_id);
  w.close();
  http::Response r;
  r.status = 200;
  r.body = w.finish();
  r.headers.set("Content-Type", "text/xml");
  r.headers.set("x-amzn-RequestId", request_id);
  return r;
}

}  // namespace stratus::protocol::detail
