#include "runtime/config.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <random>

namespace stratus::runtime {

std::string FunctionConfig::function_arn() const {
  return fmt::format("arn:aws:lambda:{}:{}:function:{}", region, account_id, function_name);
}

std::string FunctionConfig::qualified_arn() const { return function_arn() + ":" + version; }

std::string FunctionConfig::log_group() const { return "/aws/lambda/" + function_name; }

std::string default_worker_path() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "stratus-worker";
  return (self.parent_path() / "stratus-worker").string();
}

std::string new_log_stream_name(std::int64_t now_ms, std::string_view version) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::time_t secs = static_cast<std::time_t>(now_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}/{:02}/{:02}/[{}]{:016x}{:016x}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     version, rng(), rng());
}

std::vector<std::string> worker_environment(const FunctionConfig& config, std::string_view log_stream,
                                            bool provisioned) {
  std::map<std::string, std::string> env = config.environment;
  std::string task_root = std::filesystem::path(config.library_path).parent_path().string();
  // Reserved variables, as Lambda sets them (values for AWS_ACCESS_KEY_ID & co. are the emulator's
  // test credentials; the daemon accepts any).
  env["_HANDLER"] = config.handler;
  env["AWS_REGION"] = config.region;
  env["AWS_DEFAULT_REGION"] = config.region;
  env["AWS_EXECUTION_ENV"] = "AWS_Lambda_stratus1";
  env["AWS_LAMBDA_FUNCTION_NAME"] = config.function_name;
  env["AWS_LAMBDA_FUNCTION_VERSION"] = config.version;
  env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = std::to_string(config.memory_mb);
  env["AWS_LAMBDA_LOG_GROUP_NAME"] = config.log_group();
  env["AWS_LAMBDA_LOG_STREAM_NAME"] = std::string(log_stream);
  env["AWS_LAMBDA_INITIALIZATION_TYPE"] = provisioned ? "provisioned-concurrency" : "on-demand";
  env["AWS_ACCESS_KEY_ID"] = "test";
  env["AWS_SECRET_ACCESS_KEY"] = "test";
  env["AWS_SESSION_TOKEN"] = "test";
  env["AWS_ENDPOINT_URL"] = config.endpoint_url;
  env["LAMBDA_TASK_ROOT"] = task_root;
  env["LAMBDA_RUNTIME_DIR"] = task_root;
  env["LANG"] = "en_US.UTF-8";
  env["TZ"] = ":UTC";
  env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
  if (env.find("LD_LIBRARY_PATH") == env.end()) env["LD_LIBRARY_PATH"] = task_root;
  std::vector<std::string> out;
  out.reserve(env.size());
  for (auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

}  // namespace stratus::runtime
