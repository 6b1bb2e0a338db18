/* The smallest function: the C ABI alone, no C++ and no JSON library. Returns {}. */
#include <stratus/function.h>

STRATUS_EXPORT int stratus_function_abi_version(void) { return STRATUS_ABI_VERSION; }

STRATUS_EXPORT int stratus_function_handle(const stratus_invocation* inv, stratus_response* resp) {
  (void)inv;
  resp->write(resp->host, "{}", 2);
  return 0;
}
