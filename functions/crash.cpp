// Dies: abort() by default, {"how": "segv"} raises SIGSEGV, {"how": "exit"} calls exit(3);
// {"how": "none"} returns normally.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <stratus/function.hpp>

static nlohmann::json handler(const nlohmann::json& event, stratus::Context&) {
  std::string how = event.is_object() ? event.value("how", "abort") : "abort";
  if (how == "none") return {{"ok", true}};
  std::printf("crash: about to %s\n", how.c_str());
  if (how == "segv") std::raise(SIGSEGV);
  if (how == "exit") std::exit(3);
  std::abort();
}
STRATUS_HANDLER(handler)
