#pragma once
// Pieces shared by the codecs (codec.cpp, query.cpp, rest.cpp). Not part of the public API.
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/aws_error.hpp"
#include "http/http_types.hpp"
#include "protocol/model.hpp"
#include "protocol/xml.hpp"

namespace stratus::protocol::detail {

// Parses a JSON document as nlohmann::json::parse(text, nullptr, false) does (a discarded value when it is
// not valid JSON), faster for the common case: parse_json_fast takes ASCII strings with the simple escapes,
// integers up to 18 digits, literals, objects and arrays, and returns false (out untouched) for anything
// else, which parse_json then leaves to nlohmann. Same values and number types as nlohmann's.
bool parse_json_fast(std::string_view text, nlohmann::json& out);
nlohmann::json parse_json(std::string_view text);

// json.dump that never throws on invalid UTF-8 (replaces it).
std::string dump_json(const nlohmann::json& j);

// A scalar in a document → its text on the wire (timestamps per `timestamp_format`: "iso8601" (default),
// "rfc822", "unixTimestamp"; booleans "true"/"false"; blobs stay base64).
std::string scalar_text(const Shape& shape, const nlohmann::json& value, std::string_view timestamp_format);
// Wire text → document scalar. nullopt if the text does not fit the shape (bad number, boolean, timestamp).
std::optional<nlohmann::json> scalar_from_text(const Shape& shape, std::string_view text);

// Writes `value` (of `shape`) as XML children of the current element per the XML rules of query/rest-xml.
void write_xml_members(XmlWriter& w, const Shape& shape, const nlohmann::json& value);
// Writes one member value named `name` (handles flattened lists/maps).
void write_xml_value(XmlWriter& w, const MemberRef& ref, std::string_view name, const nlohmann::json& value);
// Reads an element's children into a structure document.
std::optional<AwsError> read_xml_structure(const Shape& shape, const XmlNode& node, nlohmann::json& out);

std::optional<AwsError> decode_query(const ServiceModel&, const OperationModel&, const http::Request&,
                                     nlohmann::json& input);
http::Response encode_query(const ServiceModel&, const OperationModel&, const nlohmann::json& output,
                            const std::string& request_id);
std::optional<AwsError> decode_rest(const ServiceModel&, const OperationModel&, const http::Request&,
                                    Protocol protocol, const std::map<std::string, std::string>& labels,
                                    nlohmann::json& input);
http::Response encode_rest(const ServiceModel&, const OperationModel&, Protocol protocol,
                           const nlohmann::json& output, const std::string& request_id,
                           const std::string* raw_payload);

// The serialized (XML/query) name of a member: locationName, else the member name.
inline const std::string& wire_name(const MemberRef& ref) {
  return ref.location_name.empty() ? ref.name : ref.location_name;
}

}  // namespace stratus::protocol::detail
