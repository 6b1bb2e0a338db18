#include "emulator/api_port.hpp"

#include <exception>

#include "common/log.hpp"
#include "services/apigateway/apigateway.hpp"

namespace stratus::emulator {

http::BodyPlan ApiPortHandler::plan_body(const http::Request&) {
  http::BodyPlan plan;
  plan.limit = services::apigateway::kApiPayloadLimit;
  return plan;
}

void ApiPortHandler::handle(http::Request request, http::Respond respond) {
  services::Service* apigw = registry_.find_service("apigateway");
  if (!apigw) return respond(http::Response{404, {}, R"({"message":"Not Found"})", false});
  try {
    std::string path = request.path.empty() ? "/" : request.path;
    services::apigateway::serve_api_stage(*apigw, api_id_, stage_, std::move(path), std::move(request),
                                          std::move(respond));
  } catch (const std::exception& e) {
    log::error("apigateway", "API {} on its own port: {}", api_id_, e.what());
  }
}

http::Response ApiPortHandler::body_too_large(const http::Request&) {
  services::Service* apigw = registry_.find_service("apigateway");
  http::Response r = apigw ? services::apigateway::api_payload_too_large(*apigw, api_id_)
                           : http::Response{413, {}, R"({"message":"Request Entity Too Large"})", true};
  r.close = true;
  return r;
}

}  // namespace stratus::emulator
