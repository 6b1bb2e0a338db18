#pragma once
// Service models: botocore's service-2.json, trimmed by tools/gen_models.py, embedded in the binary
// (embed_models.cmake) and parsed lazily, once per service, on first use (thread-safe).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stratus::protocol {

enum class Protocol { json, query, rest_json, rest_xml };
// "json", "query", "rest-json", "rest-xml" (botocore's spelling).
const char* protocol_name(Protocol);

enum class ShapeType : std::uint8_t {
  structure,
  list,
  map,
  string,
  integer,
  long_,
  float_,
  double_,
  boolean,
  blob,
  timestamp,
  document
};

// Where a structure member travels in a REST request/response. `body` also covers JSON/query members.
enum class Location : std::uint8_t { body, uri, querystring, header, headers, status_code };

struct Shape;

// A reference to a shape: a structure member, or a list's member / a map's key or value.
struct MemberRef {
  std::string name;  // member name ("" for list member / map key / value)
  const Shape* shape = nullptr;
  Location location = Location::body;
  std::string location_name;  // wire name (header, label, query key, XML element); "" = default
  std::string query_name;
  std::string xml_namespace;  // uri
  std::string xml_namespace_prefix;
  std::string timestamp_format;
  bool flattened = false;
  bool xml_attribute = false;
  bool streaming = false;
  bool jsonvalue = false;
  bool host_label = false;
  bool idempotency_token = false;
};

struct Shape {
  std::string name;
  ShapeType type = ShapeType::string;
  std::vector<MemberRef> members;     // structure members, in model order (sorted by name)
  std::vector<std::string> required;  // structure
  std::string payload;                // REST payload member name, "" if none
  MemberRef member, key, value;       // list member, map key/value
  bool flattened = false;
  bool streaming = false;
  bool document = false;
  bool is_union = false;
  bool exception = false;
  bool sensitive = false;
  std::optional<double> min, max;
  std::vector<std::string> enum_values;
  std::string pattern;
  std::string location_name;
  std::string timestamp_format;
  std::string xml_namespace;
  std::string xml_namespace_prefix;
  std::string
      error_code;  // "error": {"code": ...} (legacy query code, e.g. AWS.SimpleQueueService.NonExistentQueue)
  int error_status = 0;  // "error": {"httpStatusCode": ...}
  bool error_sender_fault = true;

  // Returns the member called `name`, or nullptr.
  const MemberRef* find_member(std::string_view name) const;
  bool is_required(std::string_view member) const;
};

// One literal or label segment of a REST requestUri path.
struct UriSegment {
  std::string text;  // literal text, or the label name
  bool label = false;
  bool greedy = false;  // {Key+}
};

struct OperationModel {
  std::string name;
  std::string http_method;  // "POST" for JSON/query services
  std::string request_uri;  // as in the model, with its query part
  int success_code = 200;
  const Shape* input = nullptr;     // nullptr if the operation takes no input
  const Shape* output = nullptr;    // nullptr if the operation returns nothing
  std::string input_location_name;  // REST-XML request root (input.locationName)
  std::string input_xml_namespace;
  std::string result_wrapper;       // query: <OpResult>
  std::vector<std::string> errors;  // error shape names
  // Parsed request_uri (REST): path segments and the query keys it requires ("uploads", "list-type"=2).
  std::vector<UriSegment> path;
  std::vector<std::pair<std::string, std::string>> uri_query;  // value "" = key only
  // Header names and query keys of required input members: used to tell apart operations that
  // share method + path (S3 PutObject / UploadPart / CopyObject). Lower-case header names.
  std::vector<std::string> required_headers;
  std::vector<std::string> required_query;
};

class ServiceModel {
 public:
  ServiceModel();
  ~ServiceModel();
  ServiceModel(const ServiceModel&) = delete;
  ServiceModel& operator=(const ServiceModel&) = delete;

  // Parses a trimmed model document (see tools/gen_models.py). Throws std::exception on malformed input.
  static std::unique_ptr<ServiceModel> parse(std::string_view stratus_name, std::string_view json_text);

  std::string_view name() const { return name_; }
  Protocol protocol() const { return protocol_; }
  std::string_view api_version() const { return api_version_; }
  std::string_view target_prefix() const { return target_prefix_; }
  std::string_view signing_name() const { return signing_name_; }
  std::string_view json_version() const { return json_version_; }  // "1.0" / "1.1" / ""
  std::string_view xml_namespace() const { return xml_namespace_; }
  std::string_view service_id() const { return service_id_; }
  bool query_compatible() const { return query_compatible_; }
  const std::vector<std::string>& operation_names() const { return operation_names_; }
  // nullptr if AWS has no such operation.
  const OperationModel* operation(std::string_view name) const;
  // nullptr if the model has no such shape.
  const Shape* shape(std::string_view name) const;
  // Every operation, in name order.
  const std::vector<OperationModel>& operations() const { return operations_; }

 private:
  friend void apply_sqs_query_names(ServiceModel& model);
  Shape* mutable_shape(std::string_view name);

  std::string name_, api_version_, target_prefix_, signing_name_, json_version_, xml_namespace_, service_id_;
  Protocol protocol_ = Protocol::json;
  bool query_compatible_ = false;
  std::vector<std::string> operation_names_;
  std::vector<OperationModel> operations_;  // sorted by name
  std::vector<std::unique_ptr<Shape>> shapes_;
  std::map<std::string, Shape*, std::less<>> shape_index_;
};

// The model for a stratus service name ("sqs", "lambda", "s3", "dynamodb", "dynamodbstreams", "events",
// "apigateway", "apigatewayv2"); nullptr if unknown. Parsed on first call for that name; thread-safe.
const ServiceModel* find_model(std::string_view stratus_name);
// Names of every embedded model, sorted.
std::vector<std::string> model_names();

// The raw embedded model text ("" if none). Generated by embed_models.cmake.
std::string_view embedded_model(std::string_view name);
std::vector<std::string> embedded_model_names();

// SQS speaks query as well as JSON, but its (JSON) model no longer carries the query/XML names.
// Applies the names of the 2012-11-05 query model (flattened list/map element names) to `model`.
void apply_sqs_query_names(ServiceModel& model);

}  // namespace stratus::protocol
