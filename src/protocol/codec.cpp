// decode_input / encode_output dispatch, the JSON protocol, and the XML (de)serialization of shapes
// shared by query and REST-XML.
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "common/text.hpp"
#include "protocol/codec_internal.hpp"
#include "protocol/protocol.hpp"

namespace stratus::protocol {

using nlohmann::json;

namespace detail {

namespace {
// dump_json's fast path for what responses are mostly made of (objects, arrays, plain ASCII strings, integers,
// booleans): the bytes nlohmann's dump(-1) writes for them, without its per-character escaping. False, with
// `out` unusable, at anything else (a string needing escapes or non-ASCII, a float): dump_json then asks
// nlohmann for the whole document.
bool dump_plain(const json& j, std::string& out) {
  auto string = [&out](std::string_view s) {
    if (!json_plain_text(s)) return false;
    out += '"';
    out += s;
    out += '"';
    return true;
  };
  switch (j.type()) {
    case json::value_t::object: {
      out += '{';
      bool first = true;
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (!first) out += ',';
        first = false;
        if (!string(it.key())) return false;
        out += ':';
        if (!dump_plain(it.value(), out)) return false;
      }
      out += '}';
      return true;
    }
    case json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& v : j) {
        if (!first) out += ',';
        first = false;
        if (!dump_plain(v, out)) return false;
      }
      out += ']';
      return true;
    }
    case json::value_t::string: return string(j.get_ref<const std::string&>());
    case json::value_t::number_integer: out += std::to_string(j.get<std::int64_t>()); return true;
    case json::value_t::number_unsigned: out += std::to_string(j.get<std::uint64_t>()); return true;
    case json::value_t::boolean: out += j.get<bool>() ? "true" : "false"; return true;
    case json::value_t::null: out += "null"; return true;
    default: return false;
  }
}
}  // namespace

std::string dump_json(const json& j) {
  std::string out;
  if (dump_plain(j, out)) return out;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string scalar_text(const Shape& shape, const json& value, std::string_view timestamp_format) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (shape.type == ShapeType::timestamp && value.is_number()) {
    double t = value.get<double>();
    if (timestamp_format == "rfc822") return format_http_date(t);
    if (timestamp_format == "unixTimestamp") {
      if (t == std::floor(t)) return fmt::format("{}", static_cast<std::int64_t>(t));
      return fmt::format("{}", t);
    }
    return format_iso8601(t);
  }
  if (value.is_number_integer()) return value.dump();
  if (value.is_number_float()) {
    double d = value.get<double>();
    if (d == std::floor(d) && std::fabs(d) < 1e15 && shape.type != ShapeType::double_ &&
        shape.type != ShapeType::float_)
      return fmt::format("{}", static_cast<std::int64_t>(d));
    return fmt::format("{}", d);
  }
  return dump_json(value);
}

std::optional<json> scalar_from_text(const Shape& shape, std::string_view text) {
  switch (shape.type) {
    case ShapeType::integer:
    case ShapeType::long_: {
      std::int64_t v = 0;
      std::string_view t = text;
      if (!t.empty() && t.front() == '+') t.remove_prefix(1);
      auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      if (ec != std::errc{} || p != t.data() + t.size() || t.empty()) return std::nullopt;
      return json(v);
    }
    case ShapeType::float_:
    case ShapeType::double_: {
      std::string copy(text);
      char* end = nullptr;
      double v = std::strtod(copy.c_str(), &end);
      if (copy.empty() || end != copy.c_str() + copy.size()) return std::nullopt;
      return json(v);
    }
    case ShapeType::boolean:
      if (text == "true" || text == "True" || text == "TRUE") return json(true);
      if (text == "false" || text == "False" || text == "FALSE") return json(false);
      return std::nullopt;
    case ShapeType::timestamp:
      if (auto t = parse_timestamp(text)) {
        if (*t == std::floor(*t)) return json(static_cast<std::int64_t>(*t));
        return json(*t);
      }
      return std::nullopt;
    case ShapeType::document: {
      auto j = json::parse(text, nullptr, false);
      if (j.is_discarded()) return std::nullopt;
      return j;
    }
    default:
      return json(std::string(text));
  }
}

// --- XML writing ---

namespace {

XmlWriter::Attributes namespace_attributes(const MemberRef* ref, const Shape& shape) {
  XmlWriter::Attributes attrs;
  const std::string& uri =
      ref != nullptr && !ref->xml_namespace.empty() ? ref->xml_namespace : shape.xml_namespace;
  const std::string& prefix =
      ref != nullptr && !ref->xml_namespace.empty() ? ref->xml_namespace_prefix : shape.xml_namespace_prefix;
  if (!uri.empty()) attrs.emplace_back(prefix.empty() ? "xmlns" : "xmlns:" + prefix, uri);
  return attrs;
}

const std::string& list_item_name(const Shape& list, const std::string& fallback) {
  return list.member.location_name.empty() ? fallback : list.member.location_name;
}

void write_map_entry(XmlWriter& w, const Shape& map, std::string_view key, const json& value) {
  static const std::string k_key = "key", k_value = "value";
  w.element(map.key.location_name.empty() ? k_key : map.key.location_name, key);
  write_xml_value(w, map.value, map.value.location_name.empty() ? k_value : map.value.location_name, value);
}

}  // namespace

void write_xml_value(XmlWriter& w, const MemberRef& ref, std::string_view name, const json& value) {
  if (value.is_null() || ref.shape == nullptr) return;
  const Shape& shape = *ref.shape;
  switch (shape.type) {
    case ShapeType::structure: {
      auto attrs = namespace_attributes(&ref, shape);
      for (const auto& m : shape.members)
        if (m.xml_attribute && value.is_object() && value.contains(m.name) && m.shape != nullptr)
          attrs.emplace_back(wire_name(m), scalar_text(*m.shape, value[m.name], m.timestamp_format));
      w.open(name, attrs);
      write_xml_members(w, shape, value);
      w.close();
      return;
    }
    case ShapeType::list: {
      if (!value.is_array()) return;
      if (ref.flattened || shape.flattened) {
        const std::string item(name);
        for (const auto& v : value) write_xml_value(w, shape.member, list_item_name(shape, item), v);
      } else {
        static const std::string k_member = "member";
        w.open(name);
        for (const auto& v : value) write_xml_value(w, shape.member, list_item_name(shape, k_member), v);
        w.close();
      }
      return;
    }
    case ShapeType::map: {
      if (!value.is_object()) return;
      if (ref.flattened || shape.flattened) {
        for (auto it = value.begin(); it != value.end(); ++it) {
          w.open(name);
          write_map_entry(w, shape, it.key(), it.value());
          w.close();
        }
      } else {
        w.open(name);
        for (auto it = value.begin(); it != value.end(); ++it) {
          w.open("entry");
          write_map_entry(w, shape, it.key(), it.value());
          w.close();
        }
        w.close();
      }
      return;
    }
    default: {
      std::string_view fmt = !ref.timestamp_format.empty() ? std::string_view(ref.timestamp_format)
                                                           : std::string_view(shape.timestamp_format);
      w.element(name, scalar_text(shape, value, fmt.empty() ? "iso8601" : fmt));
    }
  }
}

void write_xml_members(XmlWriter& w, const Shape& shape, const json& value) {
  if (!value.is_object()) return;
  for (const auto& m : shape.members) {
    if (m.location != Location::body || m.xml_attribute) continue;
    auto it = value.find(m.name);
    if (it == value.end()) continue;
    const std::string& name = (m.shape != nullptr && m.shape->type == ShapeType::list &&
                               (m.flattened || m.shape->flattened) && !m.shape->member.location_name.empty())
                                  ? m.shape->member.location_name
                                  : wire_name(m);
    write_xml_value(w, m, name, *it);
  }
}

// --- XML reading ---

namespace {

bool name_is(const XmlNode& n, std::string_view name) {
  return n.name == name || n.local_name() == name;
}

std::optional<AwsError> malformed_xml(std::string_view detail) {
  (void)detail;
  return AwsError::sender(
      400, "MalformedXML",
      "The XML you provided was not well-formed or did not validate against our published "
      "schema");
}

std::optional<AwsError> read_xml_value(const MemberRef& ref, const std::vector<const XmlNode*>& nodes,
                                       json& out);

std::optional<AwsError> read_map_entries(const Shape& map, const std::vector<const XmlNode*>& entries,
                                         json& out) {
  std::string key_name = map.key.location_name.empty() ? "key" : map.key.location_name;
  std::string value_name = map.value.location_name.empty() ? "value" : map.value.location_name;
  out = json::object();
  for (const XmlNode* e : entries) {
    const XmlNode* k = e->child(key_name);
    const XmlNode* v = e->child(value_name);
    if (k == nullptr) return malformed_xml("map entry without key");
    json value;
    if (v != nullptr)
      if (auto err = read_xml_value(map.value, {v}, value)) return err;
    out[k->text] = std::move(value);
  }
  return std::nullopt;
}

std::optional<AwsError> read_xml_value(const MemberRef& ref, const std::vector<const XmlNode*>& nodes,
                                       json& out) {
  if (ref.shape == nullptr || nodes.empty()) return std::nullopt;
  const Shape& shape = *ref.shape;
  switch (shape.type) {
    case ShapeType::structure:
      return read_xml_structure(shape, *nodes.front(), out);
    case ShapeType::list: {
      out = json::array();
      std::vector<const XmlNode*> items;
      if (ref.flattened || shape.flattened) {
        items = nodes;
      } else {
        for (const auto& c : nodes.front()->children) items.push_back(&c);
      }
      for (const XmlNode* item : items) {
        json v;
        if (auto err = read_xml_value(shape.member, {item}, v)) return err;
        out.push_back(std::move(v));
      }
      return std::nullopt;
    }
    case ShapeType::map: {
      std::vector<const XmlNode*> entries;
      if (ref.flattened || shape.flattened) {
        entries = nodes;
      } else {
        for (const auto& c : nodes.front()->children) entries.push_back(&c);
      }
      return read_map_entries(shape, entries, out);
    }
    default: {
      auto v = scalar_from_text(shape, nodes.front()->text);
      if (!v) return malformed_xml("bad scalar");
      out = std::move(*v);
      return std::nullopt;
    }
  }
}

}  // namespace

std::optional<AwsError> read_xml_structure(const Shape& shape, const XmlNode& node, json& out) {
  if (!out.is_object()) out = json::object();
  for (const auto& m : shape.members) {
    if (m.location != Location::body || m.shape == nullptr) continue;
    if (m.xml_attribute) {
      if (const std::string* a = node.attribute(wire_name(m))) {
        auto v = scalar_from_text(*m.shape, *a);
        if (!v) return malformed_xml("bad attribute");
        out[m.name] = std::move(*v);
      }
      continue;
    }
    bool flat_list = m.shape->type == ShapeType::list && (m.flattened || m.shape->flattened);
    const std::string& name =
        flat_list && !m.shape->member.location_name.empty() ? m.shape->member.location_name : wire_name(m);
    std::vector<const XmlNode*> nodes;
    for (const auto& c : node.children)
      if (name_is(c, name)) nodes.push_back(&c);
    if (nodes.empty()) continue;
    json v;
    if (auto err = read_xml_value(m, nodes, v)) return err;
    out[m.name] = std::move(v);
  }
  return std::nullopt;
}

}  // namespace detail

namespace {

std::optional<AwsError> decode_json(const http::Request& req, json& input) {
  std::string_view body = req.body;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    input = json::object();
    return std::nullopt;
  }
  input = detail::parse_json(body);
  if (input.is_discarded() || !input.is_object()) {
    bool unparsable = input.is_discarded();
    input = json::object();
    return AwsError::sender(400, "SerializationException",
                            unparsable ? "Could not parse request body as JSON"
                                       : "Start of structure or map found where not expected.");
  }
  return std::nullopt;
}

}  // namespace

std::optional<AwsError> decode_input(const ServiceModel& model, const OperationModel& op,
                                     const http::Request& req, const Identified& id, json& input) {
  input = json::object();
  switch (id.protocol) {
    case Protocol::json:
      return decode_json(req, input);
    case Protocol::query:
      return detail::decode_query(model, op, req, input);
    case Protocol::rest_json:
    case Protocol::rest_xml:
      return detail::decode_rest(model, op, req, id.protocol, id.labels, input);
  }
  return std::nullopt;
}

http::Response encode_output(const ServiceModel& model, const OperationModel& op, const json& output,
                             const std::string& request_id, const std::string* raw_payload) {
  return encode_output(model.protocol(), model, op, output, request_id, raw_payload);
}

http::Response encode_output(Protocol protocol, const ServiceModel& model, const OperationModel& op,
                             const json& output, const std::string& request_id,
                             const std::string* raw_payload) {
  switch (protocol) {
    case Protocol::json: {
      http::Response r;
      r.status = 200;
      std::string version =
          model.json_version().empty() ? std::string("1.0") : std::string(model.json_version());
      r.headers.set("Content-Type", "application/x-amz-json-" + version);
      r.headers.set("x-amzn-RequestId", request_id);
      r.body = output.is_null() ? std::string("{}") : detail::dump_json(output);
      return r;
    }
    case Protocol::query:
      return detail::encode_query(model, op, output, request_id);
    case Protocol::rest_json:
    case Protocol::rest_xml:
      return detail::encode_rest(model, op, protocol, output, request_id, raw_payload);
  }
  return {};
}

}  // namespace stratus::protocol
