#pragma once
// Lambda proxy integrations: the event API Gateway sends a function, and how it reads the answer.
//   Payload 2.0 (HTTP APIs) and 1.0 (HTTP APIs that select it):
//     https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
//   Payload 1.0 of REST APIs ("Input format of a Lambda function for proxy integration", "Output format"):
//     https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
// Pure functions over plain structs, so that every field is unit tested against the doc examples.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "http/http_types.hpp"
#include "services/apigateway/routing.hpp"

namespace stratus::services::apigateway {

struct ProxyRequest {
  bool rest = false;          // REST API (payload 1.0 with REST's requestContext) vs HTTP API
  std::string method;         // as sent
  std::string full_path;      // the request path as sent (percent-encoded), stage prefix included
  std::string path;           // the path the API routes on: full_path without the stage prefix
  std::string query;          // raw query string, "" if none
  const http::Headers* headers = nullptr;
  std::string_view body;
  std::string source_ip;
  std::string protocol = "HTTP/1.1";
  std::string domain_name;    // "{apiId}.execute-api.localhost" (the Host without its port)
  std::string api_id;
  std::string account;
  std::string stage;          // "$default" or the stage name
  std::string request_id;     // HTTP APIs: "JKJaXmPLvHcESHA="; REST: a UUID
  std::string extended_request_id;
  std::int64_t time_ms = 0;
  const std::map<std::string, std::string>* stage_variables = nullptr;  // null or empty: none
  const std::vector<std::string>* binary_media_types = nullptr;        // REST: the API's binaryMediaTypes
};

// "12/Mar/2020:19:03:58 +0000", as requestContext.time / requestTime.
std::string request_time(std::int64_t epoch_ms);

// Whether a request body of this Content-Type reaches the function base64-encoded. HTTP APIs encode every
// body that is not text (text/*, JSON, XML, JavaScript); REST APIs encode those the API's
// binaryMediaTypes name ("image/png", "image/*", "*/*").
bool body_is_binary(const ProxyRequest& request);
bool media_type_matches(std::string_view content_type, const std::vector<std::string>& patterns);

std::string build_event_v2(const ProxyRequest& request, const RouteMatch& match);
std::string build_event_v1(const ProxyRequest& request, const RouteMatch& match);

struct ProxyResponse {
  int status = 200;
  http::Headers headers;
  std::string body;
};

// The function's answer as the HTTP response, or false when API Gateway would call it malformed (502/500).
// Payload 2.0: a JSON object with statusCode is the structured form (statusCode, headers, multiValueHeaders,
// cookies, body, isBase64Encoded); any other valid JSON is the body of a 200 application/json response.
bool map_response_v2(std::string_view payload, ProxyResponse& out);
// Payload 1.0: an object with an integer statusCode, string-valued headers, list-valued multiValueHeaders,
// a string body, a boolean isBase64Encoded. REST APIs reject any other member. REST decodes a base64 body
// only when the request's Accept or the response's Content-Type matches binaryMediaTypes.
bool map_response_v1(std::string_view payload, const ProxyRequest& request, ProxyResponse& out);

}  // namespace stratus::services::apigateway
