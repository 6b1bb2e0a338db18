#pragma once
#include <string>
#include <string_view>

#include "http/http_types.hpp"

namespace stratus::protocol::testing {

inline std::string sigv4(std::string_view service, std::string_view region = "eu-west-1") {
  return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/" + std::string(region) + "/" +
         std::string(service) + "/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123456789abcdef";
}

// target may include a query ("/a/b?x=1").
inline http::Request make_request(std::string method, std::string target, std::string body = {}) {
  http::Request r;
  r.method = std::move(method);
  r.target = target;
  auto q = target.find('?');
  r.path = target.substr(0, q);
  r.query = q == std::string::npos ? std::string{} : target.substr(q + 1);
  r.body = std::move(body);
  r.headers.add("Host", "localhost:4566");
  return r;
}

}  // namespace stratus::protocol::testing
