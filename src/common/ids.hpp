#pragma once
#include <cstdint>
#include <string>

namespace stratus {

// A random RFC 4122 version-4 UUID in lowercase hex ("8f0e...-...."), as AWS request ids look.
std::string new_request_id();

// Formats epoch milliseconds as ISO 8601 UTC with milliseconds: 2026-12-01T07:46:50.123Z.
std::string iso8601_ms(std::int64_t epoch_ms);

// Formats epoch milliseconds as an RFC 1123 HTTP date: Tue, 01 Dec 2026 07:46:50 GMT.
std::string http_date(std::int64_t epoch_ms);

}  // namespace stratus
