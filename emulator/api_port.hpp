#pragma once
// An API Gateway API on a port of its own (the stack file's `Port`, a Stratus extension): the http::Handler
// of that extra listener. Every request goes to the one API, on the stage api_ports() chose, with the path
// as sent (no stage prefix), as `sam local start-api` serves it. The listener is the same http::Server as
// the main port's, so limits, keep-alive and timeouts are the same.
#include <string>

#include "http/http_types.hpp"
#include "services/service.hpp"

namespace stratus::emulator {

class ApiPortHandler final : public http::Handler {
 public:
  ApiPortHandler(services::Registry& registry, std::string api_id, std::string stage)
      : registry_(registry), api_id_(std::move(api_id)), stage_(std::move(stage)) {}

  http::BodyPlan plan_body(const http::Request& head) override;
  void handle(http::Request request, http::Respond respond) override;
  http::Response body_too_large(const http::Request& head) override;

 private:
  services::Registry& registry_;
  std::string api_id_;
  std::string stage_;
};

}  // namespace stratus::emulator
