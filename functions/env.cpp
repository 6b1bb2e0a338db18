// Its environment: {"names": ["A", "B"]} returns those (null when unset); no names returns all of it;
// {"cwd": true} returns {"cwd": its working directory}.
#include <unistd.h>

#include <cstdlib>
#include <stratus/function.hpp>

extern char** environ;

static nlohmann::json handler(const nlohmann::json& event, stratus::Context&) {
  nlohmann::json out = nlohmann::json::object();
  if (event.is_object() && event.value("cwd", false)) {
    char buf[4096];
    return {{"cwd", ::getcwd(buf, sizeof buf) != nullptr ? buf : ""}};
  }
  if (event.is_object() && event.contains("names")) {
    for (const auto& name : event["names"]) {
      const char* v = std::getenv(name.get<std::string>().c_str());
      out[name.get<std::string>()] = v != nullptr ? nlohmann::json(v) : nlohmann::json(nullptr);
    }
    return out;
  }
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    out[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
  }
  return out;
}
STRATUS_HANDLER(handler)
