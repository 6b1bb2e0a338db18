// Throws std::runtime_error(event.message or "boom"), unless the event is {"ok": true}.
#include <stdexcept>
#include <stratus/function.hpp>

static nlohmann::json handler(const nlohmann::json& event, stratus::Context&) {
  if (event.is_object() && event.value("ok", false)) return {{"ok", true}};
  std::string message = event.is_object() ? event.value("message", "boom") : "boom";
  throw std::runtime_error(message);
}
STRATUS_HANDLER(handler)
