// Allocates (and touches) 1 MB blocks until the memory limit kills the instance; {"mb": N} stops after
// N MB and returns (and frees them).
#include <cstring>
#include <memory>
#include <stratus/function.hpp>
#include <vector>

static nlohmann::json handler(const nlohmann::json& event, stratus::Context&) {
  long limit = event.is_object() ? event.value("mb", -1L) : -1L;
  std::vector<std::unique_ptr<char[]>> blocks;
  for (long i = 0; limit < 0 || i < limit; ++i) {
    blocks.emplace_back(new char[1 << 20]);
    std::memset(blocks.back().get(), 1, 1 << 20);
  }
  return {{"allocated_mb", limit}};
}
STRATUS_HANDLER(handler)
