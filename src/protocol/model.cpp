#include "protocol/model.hpp"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace stratus::protocol {

using nlohmann::json;

const char* protocol_name(Protocol p) {
  switch (p) {
    case Protocol::json:
      return "json";
    case Protocol::query:
      return "query";
    case Protocol::rest_json:
      return "rest-json";
    case Protocol::rest_xml:
      return "rest-xml";
  }
  return "unknown";
}

const MemberRef* Shape::find_member(std::string_view member_name) const {
  for (const auto& m : members)
    if (m.name == member_name) return &m;
  return nullptr;
}

bool Shape::is_required(std::string_view member_name) const {
  return std::find(required.begin(), required.end(), member_name) != required.end();
}

ServiceModel::ServiceModel() = default;
ServiceModel::~ServiceModel() = default;

const OperationModel* ServiceModel::operation(std::string_view op_name) const {
  auto it = std::lower_bound(operations_.begin(), operations_.end(), op_name,
                             [](const OperationModel& op, std::string_view n) { return op.name < n; });
  if (it == operations_.end() || it->name != op_name) return nullptr;
  return &*it;
}

const Shape* ServiceModel::shape(std::string_view shape_name) const {
  auto it = shape_index_.find(shape_name);
  return it == shape_index_.end() ? nullptr : it->second;
}

Shape* ServiceModel::mutable_shape(std::string_view shape_name) {
  auto it = shape_index_.find(shape_name);
  return it == shape_index_.end() ? nullptr : it->second;
}

namespace {

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

ShapeType parse_type(const std::string& t) {
  static const std::pair<const char*, ShapeType> k_types[] = {{"structure", ShapeType::structure},
                                                              {"list", ShapeType::list},
                                                              {"map", ShapeType::map},
                                                              {"string", ShapeType::string},
                                                              {"integer", ShapeType::integer},
                                                              {"long", ShapeType::long_},
                                                              {"float", ShapeType::float_},
                                                              {"double", ShapeType::double_},
                                                              {"boolean", ShapeType::boolean},
                                                              {"blob", ShapeType::blob},
                                                              {"timestamp", ShapeType::timestamp}};
  for (const auto& [n, v] : k_types)
    if (t == n) return v;
  return ShapeType::string;
}

Location parse_location(const std::string& l) {
  if (l == "uri") return Location::uri;
  if (l == "querystring") return Location::querystring;
  if (l == "header") return Location::header;
  if (l == "headers") return Location::headers;
  if (l == "statusCode") return Location::status_code;
  return Location::body;
}

void parse_namespace(const json& j, std::string& uri, std::string& prefix) {
  auto it = j.find("xmlNamespace");
  if (it == j.end()) return;
  if (it->is_string()) {
    uri = it->get<std::string>();
  } else if (it->is_object()) {
    uri = str(*it, "uri");
    prefix = str(*it, "prefix");
  }
}

MemberRef parse_ref(const json& j, std::string member_name,
                    const std::map<std::string, Shape*, std::less<>>& index) {
  MemberRef m;
  m.name = std::move(member_name);
  auto target = index.find(str(j, "shape"));
  if (target == index.end()) throw std::runtime_error("model references unknown shape " + str(j, "shape"));
  m.shape = target->second;
  m.location = parse_location(str(j, "location"));
  m.location_name = str(j, "locationName");
  m.query_name = str(j, "queryName");
  parse_namespace(j, m.xml_namespace, m.xml_namespace_prefix);
  m.timestamp_format = str(j, "timestampFormat");
  m.flattened = j.value("flattened", false);
  m.xml_attribute = j.value("xmlAttribute", false);
  m.streaming = j.value("streaming", false);
  m.jsonvalue = j.value("jsonvalue", false);
  m.host_label = j.value("hostLabel", false);
  m.idempotency_token = j.value("idempotencyToken", false);
  return m;
}

void parse_request_uri(OperationModel& op) {
  std::string_view uri = op.request_uri;
  std::string_view path = uri.substr(0, uri.find('?'));
  if (auto q = uri.find('?'); q != std::string_view::npos) {
    std::string_view query = uri.substr(q + 1);
    while (!query.empty()) {
      auto amp = query.find('&');
      std::string_view part = query.substr(0, amp);
      auto eq = part.find('=');
      if (!part.empty())
        op.uri_query.emplace_back(std::string(part.substr(0, eq)), eq == std::string_view::npos
                                                                       ? std::string{}
                                                                       : std::string(part.substr(eq + 1)));
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.empty()) return;  // "/" has no segments
  while (true) {
    auto slash = path.find('/');
    std::string_view seg = path.substr(0, slash);
    UriSegment s;
    if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') {
      s.label = true;
      seg = seg.substr(1, seg.size() - 2);
      if (!seg.empty() && seg.back() == '+') {
        s.greedy = true;
        seg.remove_suffix(1);
      }
    }
    s.text = std::string(seg);
    op.path.push_back(std::move(s));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
}

}  // namespace

std::unique_ptr<ServiceModel> ServiceModel::parse(std::string_view stratus_name, std::string_view json_text) {
  auto doc = json::parse(json_text);
  auto model = std::make_unique<ServiceModel>();
  const json& meta = doc.at("metadata");
  model->name_ = std::string(stratus_name);
  model->api_version_ = str(meta, "apiVersion");
  model->target_prefix_ = str(meta, "targetPrefix");
  model->signing_name_ = str(meta, "signingName");
  if (model->signing_name_.empty()) model->signing_name_ = str(meta, "endpointPrefix");
  model->json_version_ = str(meta, "jsonVersion");
  model->xml_namespace_ = str(meta, "xmlNamespace");
  model->service_id_ = str(meta, "serviceId");
  model->query_compatible_ = meta.contains("awsQueryCompatible");
  std::string proto = str(meta, "protocol");
  if (proto == "json")
    model->protocol_ = Protocol::json;
  else if (proto == "query")
    model->protocol_ = Protocol::query;
  else if (proto == "rest-json")
    model->protocol_ = Protocol::rest_json;
  else if (proto == "rest-xml")
    model->protocol_ = Protocol::rest_xml;
  else
    throw std::runtime_error("unsupported protocol " + proto);

  // Shapes: create all first so references resolve, then fill them in.
  const json& shapes = doc.at("shapes");
  model->shapes_.reserve(shapes.size());
  for (auto it = shapes.begin(); it != shapes.end(); ++it) {
    auto s = std::make_unique<Shape>();
    s->name = it.key();
    model->shape_index_.emplace(it.key(), s.get());
    model->shapes_.push_back(std::move(s));
  }
  for (auto it = shapes.begin(); it != shapes.end(); ++it) {
    Shape& s = *model->shape_index_.at(it.key());
    const json& j = it.value();
    s.type = parse_type(str(j, "type"));
    s.document = j.value("document", false);
    if (s.document) s.type = ShapeType::document;
    if (auto m = j.find("members"); m != j.end())
      for (auto mi = m->begin(); mi != m->end(); ++mi)
        s.members.push_back(parse_ref(mi.value(), mi.key(), model->shape_index_));
    if (auto r = j.find("required"); r != j.end()) s.required = r->get<std::vector<std::string>>();
    s.payload = str(j, "payload");
    if (auto m = j.find("member"); m != j.end()) s.member = parse_ref(*m, "", model->shape_index_);
    if (auto m = j.find("key"); m != j.end()) s.key = parse_ref(*m, "", model->shape_index_);
    if (auto m = j.find("value"); m != j.end()) s.value = parse_ref(*m, "", model->shape_index_);
    s.flattened = j.value("flattened", false);
    s.streaming = j.value("streaming", false);
    s.is_union = j.value("union", false);
    s.exception = j.value("exception", false);
    if (auto v = j.find("min"); v != j.end() && v->is_number()) s.min = v->get<double>();
    if (auto v = j.find("max"); v != j.end() && v->is_number()) s.max = v->get<double>();
    if (auto v = j.find("enum"); v != j.end()) s.enum_values = v->get<std::vector<std::string>>();
    s.pattern = str(j, "pattern");
    s.location_name = str(j, "locationName");
    s.timestamp_format = str(j, "timestampFormat");
    parse_namespace(j, s.xml_namespace, s.xml_namespace_prefix);
    if (auto e = j.find("error"); e != j.end() && e->is_object()) {
      s.error_code = str(*e, "code");
      s.error_status = e->value("httpStatusCode", 0);
      s.error_sender_fault = e->value("senderFault", true);
    }
  }

  const json& ops = doc.at("operations");
  model->operations_.reserve(ops.size());
  for (auto it = ops.begin(); it != ops.end(); ++it) {
    const json& j = it.value();
    OperationModel op;
    op.name = it.key();
    if (auto h = j.find("http"); h != j.end()) {
      op.http_method = str(*h, "method");
      op.request_uri = str(*h, "requestUri");
      op.success_code = h->value("responseCode", 200);
    }
    if (op.http_method.empty()) op.http_method = "POST";
    if (op.request_uri.empty()) op.request_uri = "/";
    if (auto in = j.find("input"); in != j.end()) {
      op.input = model->shape(str(*in, "shape"));
      op.input_location_name = str(*in, "locationName");
      std::string prefix;
      parse_namespace(*in, op.input_xml_namespace, prefix);
    }
    if (auto out = j.find("output"); out != j.end()) {
      op.output = model->shape(str(*out, "shape"));
      op.result_wrapper = str(*out, "resultWrapper");
    }
    if (auto e = j.find("errors"); e != j.end()) op.errors = e->get<std::vector<std::string>>();
    parse_request_uri(op);
    if (op.input != nullptr) {
      for (const auto& m : op.input->members) {
        if (!op.input->is_required(m.name)) continue;
        std::string wire = m.location_name.empty() ? m.name : m.location_name;
        if (m.location == Location::header) {
          std::transform(wire.begin(), wire.end(), wire.begin(),
                         [](unsigned char c) { return std::tolower(c); });
          op.required_headers.push_back(std::move(wire));
        } else if (m.location == Location::querystring) {
          op.required_query.push_back(std::move(wire));
        }
      }
    }
    model->operations_.push_back(std::move(op));
  }
  std::sort(model->operations_.begin(), model->operations_.end(),
            [](const OperationModel& a, const OperationModel& b) { return a.name < b.name; });
  for (const auto& op : model->operations_) model->operation_names_.push_back(op.name);
  if (stratus_name == "sqs") apply_sqs_query_names(*model);
  return model;
}

namespace {

struct Registry {
  struct Slot {
    std::string name;
    std::once_flag once;
    std::unique_ptr<ServiceModel> model;
  };
  std::vector<std::unique_ptr<Slot>> slots;

  Registry() {
    auto names = embedded_model_names();
    std::sort(names.begin(), names.end());
    for (auto& n : names) {
      auto slot = std::make_unique<Slot>();
      slot->name = std::move(n);
      slots.push_back(std::move(slot));
    }
  }
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

const ServiceModel* find_model(std::string_view stratus_name) {
  for (auto& slot : registry().slots) {
    if (slot->name != stratus_name) continue;
    std::call_once(slot->once,
                   [&slot] { slot->model = ServiceModel::parse(slot->name, embedded_model(slot->name)); });
    return slot->model.get();
  }
  return nullptr;
}

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const auto& slot : registry().slots) names.push_back(slot->name);
  return names;
}

}  // namespace stratus::protocol
