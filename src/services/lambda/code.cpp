#include "services/lambda/code.hpp"

#include <openssl/evp.h>
#include <zip.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <memory>
#include <system_error>

#include "protocol/protocol.hpp"

namespace stratus::services::lambda {

namespace fs = std::filesystem;

namespace {

std::array<unsigned char, 32> sha256(std::string_view data) {
  std::array<unsigned char, 32> digest{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &len, EVP_sha256(), nullptr);
  return digest;
}

// A zip entry name is safe when it stays inside the target directory.
bool safe_entry_name(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.find('\\') != std::string_view::npos) return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    if (name.substr(start, end - start) == "..") return false;
    start = end + 1;
  }
  return true;
}

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

}  // namespace

std::string code_sha256(std::string_view data) {
  auto d = sha256(data);
  return protocol::base64_encode(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

std::string sha256_hex(std::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  auto d = sha256(data);
  std::string out;
  out.reserve(64);
  for (unsigned char c : d) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
  }
  return out;
}

UnpackResult unpack_zip(std::string_view zip, const std::string& dir, std::uint64_t max_unzipped) {
  UnpackResult result;
  zip_error_t error;
  zip_error_init(&error);
  // The buffer is not freed by libzip (freep = 0) and outlives the archive.
  zip_source_t* src = zip_source_buffer_create(zip.data(), zip.size(), 0, &error);
  if (src == nullptr) {
    result.error = zip_error_strerror(&error);
    zip_error_fini(&error);
    return result;
  }
  std::unique_ptr<zip_t, ZipCloser> archive(zip_open_from_source(src, ZIP_RDONLY, &error));
  if (!archive) {
    zip_source_free(src);
    result.error = zip_error_strerror(&error);
    zip_error_fini(&error);
    return result;
  }
  zip_error_fini(&error);

  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) {
    result.error = "cannot create " + dir + ": " + ec.message();
    return result;
  }
  zip_int64_t count = zip_get_num_entries(archive.get(), 0);
  std::string buffer(64 * 1024, '\0');
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(archive.get(), static_cast<zip_uint64_t>(i), 0, &st) != 0 || st.name == nullptr) {
      result.error = "unreadable entry";
      return result;
    }
    std::string name = st.name;
    if (!safe_entry_name(name)) {
      result.error = "entry escapes the package: " + name;
      return result;
    }
    fs::path target = fs::path(dir) / name;
    if (name.back() == '/') {
      fs::create_directories(target, ec);
      continue;
    }
    fs::create_directories(target.parent_path(), ec);
    std::unique_ptr<zip_file_t, ZipFileCloser> in(
        zip_fopen_index(archive.get(), static_cast<zip_uint64_t>(i), 0));
    if (!in) {
      result.error = "cannot read entry " + name;
      return result;
    }
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    if (!out) {
      result.error = "cannot write " + target.string();
      return result;
    }
    while (true) {
      zip_int64_t n = zip_fread(in.get(), buffer.data(), buffer.size());
      if (n < 0) {
        result.error = "corrupt entry " + name;
        return result;
      }
      if (n == 0) break;
      result.unzipped_bytes += static_cast<std::uint64_t>(n);
      if (result.unzipped_bytes > max_unzipped) {
        result.error = "unzipped size exceeds the limit";
        return result;
      }
      out.write(buffer.data(), n);
    }
    out.close();
    if (!out) {
      result.error = "cannot write " + target.string();
      return result;
    }
    // Keep the executable bit from Unix zips (opsys UNIX, mode in the high 16 bits).
    zip_uint8_t opsys = 0;
    zip_uint32_t attributes = 0;
    if (zip_file_get_external_attributes(archive.get(), static_cast<zip_uint64_t>(i), 0, &opsys,
                                         &attributes) == 0 &&
        opsys == ZIP_OPSYS_UNIX && ((attributes >> 16) & 0111) != 0) {
      fs::permissions(target, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                      fs::perm_options::add, ec);
    }
  }
  result.ok = true;
  return result;
}

bool is_elf_file(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in.gcount() == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
}

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

void remove_tree(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
}

}  // namespace stratus::services::lambda
