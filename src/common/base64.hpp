#pragma once
// Base64 (RFC 4648) as AWS uses it: blobs in JSON documents, CodeSha256, x-amz-id-2, checksums.
#include <optional>
#include <string>
#include <string_view>

namespace stratus {

// Standard alphabet, with '=' padding.
std::string base64_encode(std::string_view data);
// Accepts the standard and URL-safe alphabets and ignores whitespace; nullopt on anything else
// (invalid characters, data after padding).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace stratus
