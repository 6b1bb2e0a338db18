// REST-JSON (Lambda, API Gateway) and REST-XML (S3): labels, querystring, headers and body ↔ documents.
#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "common/text.hpp"
#include "protocol/codec_internal.hpp"
#include "protocol/protocol.hpp"

namespace stratus::protocol::detail {

using nlohmann::json;

namespace {

constexpr std::string_view k_s3_namespace = "http://s3.amazonaws.com/doc/2006-03-01/";

// REST-JSON body members travel under their locationName at every level (apigatewayv2 writes ApiId as
// "apiId", apigateway's RestApis.items as "item"); documents use member names (see protocol.hpp). Lambda's
// names are the same on both sides. Timestamps whose format is iso8601 are written as ISO 8601 strings.
std::string json_wire_name(const MemberRef& m) { return m.location_name.empty() ? m.name : m.location_name; }

json json_to_members(const Shape* shape, const json& wire) {
  if (shape == nullptr) return wire;
  switch (shape->type) {
    case ShapeType::structure: {
      if (!wire.is_object()) return wire;
      json out = json::object();
      for (auto it = wire.begin(); it != wire.end(); ++it) {
        const MemberRef* found = nullptr;
        for (const auto& m : shape->members)
          if (m.location == Location::body && json_wire_name(m) == it.key()) found = &m;
        if (found != nullptr)
          out[found->name] = json_to_members(found->shape, it.value());
        else
          out[it.key()] = it.value();
      }
      return out;
    }
    case ShapeType::list: {
      if (!wire.is_array()) return wire;
      json out = json::array();
      for (const auto& v : wire) out.push_back(json_to_members(shape->member.shape, v));
      return out;
    }
    case ShapeType::map: {
      if (!wire.is_object()) return wire;
      json out = json::object();
      for (auto it = wire.begin(); it != wire.end(); ++it) out[it.key()] = json_to_members(shape->value.shape, it.value());
      return out;
    }
    default:
      return wire;
  }
}

json json_to_wire(const Shape* shape, const json& doc, const std::string& timestamp_format = "") {
  if (shape == nullptr) return doc;
  switch (shape->type) {
    case ShapeType::structure: {
      if (!doc.is_object()) return doc;
      json out = json::object();
      for (const auto& m : shape->members) {
        auto it = doc.find(m.name);
        if (it == doc.end() || it->is_null()) continue;
        out[json_wire_name(m)] = json_to_wire(m.shape, *it, m.timestamp_format);
      }
      return out;
    }
    case ShapeType::list: {
      if (!doc.is_array()) return doc;
      json out = json::array();
      for (const auto& v : doc) out.push_back(json_to_wire(shape->member.shape, v));
      return out;
    }
    case ShapeType::map: {
      if (!doc.is_object()) return doc;
      json out = json::object();
      for (auto it = doc.begin(); it != doc.end(); ++it) out[it.key()] = json_to_wire(shape->value.shape, it.value());
      return out;
    }
    case ShapeType::timestamp: {
      std::string format = !timestamp_format.empty() ? timestamp_format : shape->timestamp_format;
      if (format == "iso8601" && doc.is_number()) return format_iso8601(doc.get<double>());
      return doc;
    }
    default:
      return doc;
  }
}

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

std::optional<AwsError> bad_value(std::string_view where, std::string_view name, std::string_view value) {
  return AwsError::sender(400, "InvalidArgument",
                          fmt::format("Invalid value '{}' for {} {}", value, where, name));
}

bool is_raw_payload(const Shape& s) {
  return s.type == ShapeType::blob || s.type == ShapeType::string;
}

bool has_body_members(const Shape& s) {
  return std::any_of(s.members.begin(), s.members.end(),
                     [](const MemberRef& m) { return m.location == Location::body; });
}

// REST-XML response roots AWS uses for S3 outputs without a payload member (clients ignore the name).
std::string s3_root_name(const OperationModel& op) {
  static const std::pair<std::string_view, std::string_view> k_roots[] = {
      {"ListBuckets", "ListAllMyBucketsResult"},
      {"ListObjects", "ListBucketResult"},
      {"ListObjectsV2", "ListBucketResult"},
      {"ListObjectVersions", "ListVersionsResult"},
      {"CreateMultipartUpload", "InitiateMultipartUploadResult"},
      {"CompleteMultipartUpload", "CompleteMultipartUploadResult"},
      {"ListMultipartUploads", "ListMultipartUploadsResult"},
      {"ListParts", "ListPartsResult"},
      {"DeleteObjects", "DeleteResult"},
      {"GetBucketLocation", "LocationConstraint"},
      {"GetBucketTagging", "Tagging"},
      {"GetObjectTagging", "Tagging"},
      {"GetBucketVersioning", "VersioningConfiguration"},
      {"GetBucketAcl", "AccessControlPolicy"},
      {"GetObjectAcl", "AccessControlPolicy"},
      {"GetBucketCors", "CORSConfiguration"},
      {"GetBucketNotificationConfiguration", "NotificationConfiguration"},
      {"GetBucketLifecycleConfiguration", "LifecycleConfiguration"},
      {"GetBucketWebsite", "WebsiteConfiguration"},
      {"GetBucketAccelerateConfiguration", "AccelerateConfiguration"},
      {"GetBucketRequestPayment", "RequestPaymentConfiguration"},
      {"GetBucketLogging", "BucketLoggingStatus"},
      {"GetObjectAttributes", "GetObjectAttributesResponse"},
  };
  for (const auto& [op_name, root] : k_roots)
    if (op.name == op_name) return std::string(root);
  return op.name + "Result";
}

std::string header_text(const MemberRef& m, const json& value) {
  const Shape& s = *m.shape;
  if (m.jsonvalue) return base64_encode(dump_json(value));
  if (s.type == ShapeType::list && value.is_array()) {
    std::string out;
    for (const auto& v : value) {
      if (!out.empty()) out += ", ";
      out += scalar_text(*s.member.shape, v, "");
    }
    return out;
  }
  std::string_view fmt = !m.timestamp_format.empty()   ? std::string_view(m.timestamp_format)
                         : !s.timestamp_format.empty() ? std::string_view(s.timestamp_format)
                                                       : std::string_view("rfc822");
  return scalar_text(s, value, fmt);
}

}  // namespace

std::optional<AwsError> decode_rest(const ServiceModel& model, const OperationModel& op,
                                    const http::Request& req, Protocol protocol,
                                    const std::map<std::string, std::string>& labels, json& input) {
  input = json::object();
  if (op.input == nullptr) return std::nullopt;
  const Shape& in = *op.input;
  auto query = http::parse_query(req.query, true);

  std::vector<std::string> claimed_query;
  for (const auto& m : in.members)
    if (m.location == Location::querystring && m.shape->type != ShapeType::map)
      claimed_query.push_back(wire_name(m));

  for (const auto& m : in.members) {
    const Shape& s = *m.shape;
    const std::string& wire = wire_name(m);
    switch (m.location) {
      case Location::uri: {
        auto it = labels.find(wire);
        if (it == labels.end()) break;
        auto v = scalar_from_text(s, it->second);
        if (!v) return bad_value("label", wire, it->second);
        input[m.name] = std::move(*v);
        break;
      }
      case Location::querystring: {
        if (s.type == ShapeType::map) {
          json obj = json::object();
          for (const auto& [k, v] : query) {
            if (std::find(claimed_query.begin(), claimed_query.end(), k) != claimed_query.end()) continue;
            if (s.value.shape != nullptr && s.value.shape->type == ShapeType::list)
              obj[k].push_back(v);
            else if (!obj.contains(k))
              obj[k] = v;
          }
          if (!obj.empty()) input[m.name] = std::move(obj);
        } else if (s.type == ShapeType::list) {
          json arr = json::array();
          for (const auto& [k, v] : query) {
            if (k != wire) continue;
            auto item = scalar_from_text(*s.member.shape, v);
            if (!item) return bad_value("query parameter", wire, v);
            arr.push_back(std::move(*item));
          }
          if (!arr.empty()) input[m.name] = std::move(arr);
        } else {
          for (const auto& [k, v] : query) {
            if (k != wire) continue;
            auto val = scalar_from_text(s, v);
            if (!val) return bad_value("query parameter", wire, v);
            input[m.name] = std::move(*val);
            break;
          }
        }
        break;
      }
      case Location::header: {
        auto h = req.headers.find(wire);
        if (!h) break;
        if (m.jsonvalue) {
          auto decoded = base64_decode(*h);
          json doc = decoded ? json::parse(*decoded, nullptr, false) : json();
          if (doc.is_discarded()) return bad_value("header", wire, *h);
          input[m.name] = std::move(doc);
        } else if (s.type == ShapeType::list) {
          json arr = json::array();
          std::string_view rest = *h;
          while (true) {
            auto comma = rest.find(',');
            std::string part = trim(rest.substr(0, comma));
            if (!part.empty()) {
              auto item = scalar_from_text(*s.member.shape, part);
              if (!item) return bad_value("header", wire, *h);
              arr.push_back(std::move(*item));
            }
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
          }
          input[m.name] = std::move(arr);
        } else {
          auto v = scalar_from_text(s, trim(*h));
          if (!v) return bad_value("header", wire, *h);
          input[m.name] = std::move(*v);
        }
        break;
      }
      case Location::headers: {
        std::string prefix = ascii_lower(wire);
        json obj = json::object();
        for (const auto& f : req.headers.fields()) {
          std::string name = ascii_lower(f.name);
          if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0)
            obj[name.substr(prefix.size())] = f.value;
        }
        if (!obj.empty()) input[m.name] = std::move(obj);
        break;
      }
      case Location::body:
      case Location::status_code:
        break;
    }
  }

  std::string_view body = req.body;
  bool empty_body = body.find_first_not_of(" \t\r\n") == std::string_view::npos;
  if (!in.payload.empty()) {
    const MemberRef* p = in.find_member(in.payload);
    if (p == nullptr || p->shape == nullptr || is_raw_payload(*p->shape) || empty_body) return std::nullopt;
    if (protocol == Protocol::rest_json || p->shape->type == ShapeType::document) {
      auto doc = json::parse(body, nullptr, false);
      if (doc.is_discarded())
        return AwsError::sender(400, "SerializationException", "Could not parse request body as JSON");
      input[p->name] = std::move(doc);
      return std::nullopt;
    }
    std::string error;
    auto root = parse_xml(body, &error);
    if (!root)
      return AwsError::sender(
          400, "MalformedXML",
          "The XML you provided was not well-formed or did not validate against our published "
          "schema");
    json v = json::object();
    if (p->shape->type == ShapeType::structure) {
      if (auto err = read_xml_structure(*p->shape, *root, v)) return err;
    } else {
      auto s = scalar_from_text(*p->shape, root->text);
      if (s) v = std::move(*s);
    }
    input[p->name] = std::move(v);
    return std::nullopt;
  }
  if (empty_body || !has_body_members(in)) return std::nullopt;
  if (protocol == Protocol::rest_json) {
    auto doc = json::parse(body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object())
      return AwsError::sender(400, "SerializationException", "Could not parse request body as JSON");
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      const MemberRef* body_member = nullptr;
      for (const auto& m : in.members)
        if (m.location == Location::body && json_wire_name(m) == it.key()) body_member = &m;
      if (body_member != nullptr) {
        input[body_member->name] = json_to_members(body_member->shape, it.value());
        continue;
      }
      const MemberRef* m = in.find_member(it.key());
      if (m != nullptr && m->location != Location::body) continue;  // never let the body override a label
      input[it.key()] = it.value();
    }
    return std::nullopt;
  }
  std::string error;
  auto root = parse_xml(body, &error);
  if (!root)
    return AwsError::sender(
        400, "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published "
        "schema");
  (void)model;
  return read_xml_structure(in, *root, input);
}

http::Response encode_rest(const ServiceModel& model, const OperationModel& op, Protocol protocol,
                           const json& output, const std::string& request_id,
                           const std::string* raw_payload) {
  http::Response r;
  r.status = op.success_code;
  if (protocol == Protocol::rest_json) {
    r.headers.set("x-amzn-RequestId", request_id);
  } else {
    r.headers.set("x-amz-request-id", request_id);
    r.headers.set("x-amz-id-2", base64_encode(request_id));
  }
  if (op.output == nullptr) {
    if (raw_payload != nullptr) r.body = *raw_payload;
    return r;
  }
  const Shape& out = *op.output;
  const json empty = json::object();
  const json& doc = output.is_object() ? output : empty;

  for (const auto& m : out.members) {
    auto it = doc.find(m.name);
    if (it == doc.end() || it->is_null()) continue;
    switch (m.location) {
      case Location::header:
        r.headers.set(wire_name(m), header_text(m, *it));
        break;
      case Location::headers:
        if (it->is_object())
          for (auto h = it->begin(); h != it->end(); ++h)
            r.headers.add(wire_name(m) + h.key(), h->is_string() ? h->get<std::string>() : dump_json(*h));
        break;
      case Location::status_code:
        if (it->is_number_integer()) r.status = it->get<int>();
        break;
      default:
        break;
    }
  }

  if (!out.payload.empty()) {
    const MemberRef* p = out.find_member(out.payload);
    if (p == nullptr || p->shape == nullptr) return r;
    auto it = doc.find(p->name);
    if (is_raw_payload(*p->shape)) {
      if (raw_payload != nullptr) {
        r.body = *raw_payload;
      } else if (it != doc.end() && it->is_string()) {
        if (p->shape->type == ShapeType::blob)
          r.body = base64_decode(it->get<std::string>()).value_or(std::string{});
        else
          r.body = it->get<std::string>();
      }
      return r;
    }
    if (it == doc.end() || it->is_null()) return r;
    if (protocol == Protocol::rest_json || p->shape->type == ShapeType::document) {
      r.body = dump_json(*it);
      r.headers.set("Content-Type", "application/json");
      return r;
    }
    XmlWriter w;
    std::string root = !p->location_name.empty()          ? p->location_name
                       : !p->shape->location_name.empty() ? p->shape->location_name
                                                          : p->name;
    MemberRef ref = *p;
    if (ref.xml_namespace.empty() && p->shape->xml_namespace.empty() && model.name() == "s3")
      ref.xml_namespace = std::string(k_s3_namespace);
    write_xml_value(w, ref, root, *it);
    r.body = w.finish();
    r.headers.set("Content-Type", "application/xml");
    return r;
  }

  if (!has_body_members(out)) return r;
  if (protocol == Protocol::rest_json) {
    json body = json::object();
    for (const auto& m : out.members) {
      if (m.location != Location::body) continue;
      auto it = doc.find(m.name);
      if (it != doc.end() && !it->is_null()) body[json_wire_name(m)] = json_to_wire(m.shape, *it, m.timestamp_format);
    }
    if (r.status != 204) {
      r.body = dump_json(body);
      r.headers.set("Content-Type", "application/json");
    }
    return r;
  }
  XmlWriter w;
  std::string root = !out.location_name.empty() ? out.location_name
                     : model.name() == "s3"     ? s3_root_name(op)
                                                : op.name + "Result";
  XmlWriter::Attributes attrs;
  std::string ns = !out.xml_namespace.empty() ? out.xml_namespace
                   : model.name() == "s3"     ? std::string(k_s3_namespace)
                                              : std::string(model.xml_namespace());
  if (!ns.empty()) attrs.emplace_back("xmlns", ns);
  w.open(root, attrs);
  write_xml_members(w, out, doc);
  w.close();
  r.body = w.finish();
  r.headers.set("Content-Type", "application/xml");
  return r;
}

}  // namespace stratus::protocol::detail
