#pragma once
// Deployment packages: hashing, unpacking zips (libzip), locating the handler's shared library.
#include <cstdint>
#include <string>
#include <string_view>

namespace stratus::services::lambda {

// base64(SHA-256(data)): Lambda's CodeSha256.
// https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html (CodeSha256)
std::string code_sha256(std::string_view data);
// Lowercase hex SHA-256, for directory names.
std::string sha256_hex(std::string_view data);

struct UnpackResult {
  bool ok = false;
  std::string error;  // when !ok: a sentence (not an AWS message)
  std::uint64_t unzipped_bytes = 0;
};

// Unpacks `zip` (bytes) into `dir` (created; replaced if it exists). Rejects entries that would escape
// `dir` (absolute paths, ".."), and packages whose unzipped size exceeds `max_unzipped`.
UnpackResult unpack_zip(std::string_view zip, const std::string& dir, std::uint64_t max_unzipped);

// Whether `path` names a regular file starting with the ELF magic (what dlopen can load).
bool is_elf_file(const std::string& path);

// Whole file, or false.
bool read_file(const std::string& path, std::string& out);

// Removes a directory tree; ignores errors.
void remove_tree(const std::string& path);

}  // namespace stratus::services::lambda
