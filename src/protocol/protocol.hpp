#pragma once
// The protocol layer's public API: which service and operation a request is for, request decoding into
// an input document, model validation, and encoding of output documents and errors per AWS protocol.
//
// Documents: an operation's input or output as JSON, in the form botocore's JSON protocol uses:
// member names as keys, blobs as base64 strings, timestamps as epoch seconds (numbers). A REST
// operation's blob/string payload member (S3 PutObject/GetObject Body, Lambda Invoke Payload) is never
// in a document: handlers read the raw request body and pass the raw response body to encode_output.
//
// Signatures are NOT verified: the credential scope only routes (service) and partitions (region).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/aws_error.hpp"
#include "common/base64.hpp"
#include "http/http_types.hpp"
#include "protocol/model.hpp"

namespace stratus::protocol {

struct Identified {
  std::string service;  // stratus name; every request maps to one (S3 is the rest)
  Protocol protocol = Protocol::rest_xml;
  std::string operation;             // operation name; empty if it could not be determined
  bool unknown_operation = false;    // the service is known but AWS has no such operation/route
  std::string requested_operation;   // what the client asked for when unknown (X-Amz-Target suffix, Action)
  std::string region = "us-east-1";  // from the SigV4 credential scope (Authorization or X-Amz-Credential)
  std::string access_key;            // from the credential scope, "" if none
  std::string signing_service;       // the credential scope's service, "" if unsigned
  std::map<std::string, std::string> labels;  // REST path labels, decoded ({Bucket}, {Key+}, {FunctionName})
  bool virtual_hosted = false;                // S3: the bucket came from the Host header
  std::optional<AwsError> error;              // e.g. garbled Authorization, missing Action
};

// Which service and operation a request is for (see the implementation for the order of the rules,
// following /work/shared/notes/aws-wire.md). Never throws. Models are loaded on demand.
Identified identify(const http::Request& request);

// The error to answer when id.unknown_operation (per protocol: UnknownOperationException,
// InvalidAction, S3's MethodNotAllowed/NotImplemented, ...).
AwsError unknown_operation_error(const Identified& id);

// Request → input document (see the top of this file). `id` supplies the protocol and REST labels.
// Returns an AWS-shaped error for malformed requests (SerializationException, query errors, bad XML).
std::optional<AwsError> decode_input(const ServiceModel&, const OperationModel&, const http::Request&,
                                     const Identified&, nlohmann::json& input);

// Generic model validation of an input document: required members, string length, numeric range, enum,
// pattern, list/map sizes. Produces AWS's coral-style ValidationException:
// "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be
// null" (member paths in lowerCamel case; list elements as "<list>.<n>.member"; several joined with "; ").
std::optional<AwsError> validate_input(const ServiceModel&, const OperationModel&,
                                       const nlohmann::json& input);

// Output document → HTTP response in the model's protocol (JSON, query XML, REST-JSON, REST-XML).
// `raw_payload` (may be null) is the raw body for a blob/string payload member.
http::Response encode_output(const ServiceModel&, const OperationModel&, const nlohmann::json& output,
                             const std::string& request_id, const std::string* raw_payload = nullptr);
// Same, in an explicit protocol (SQS answers query requests in query even though its model is JSON).
http::Response encode_output(Protocol protocol, const ServiceModel&, const OperationModel&,
                             const nlohmann::json& output, const std::string& request_id,
                             const std::string* raw_payload = nullptr);

// AWS-shaped error for `protocol`. `model` may be null (service unknown). Always has a body, except
// REST-XML answers to HEAD requests (no body, as S3).
http::Response encode_error(const ServiceModel* model, Protocol protocol, const AwsError& error,
                            const std::string& request_id, bool head_request);

// --- helpers shared by the codecs (and handy for services) ---

// Epoch seconds (may be fractional) ↔ ISO 8601 ("2026-12-01T07:46:50.123Z") / RFC 1123 HTTP dates.
std::optional<double> parse_timestamp(std::string_view text);  // ISO 8601, RFC 1123, or epoch seconds
std::string format_iso8601(double epoch_seconds);
std::string format_http_date(double epoch_seconds);

using ::stratus::base64_decode;  // common/base64.hpp
using ::stratus::base64_encode;

}  // namespace stratus::protocol
