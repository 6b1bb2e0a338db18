// The Lambda control plane: one function per operation, each with its validation beside it.
// Reference: https://docs.aws.amazon.com/lambda/latest/api/API_Operations.html and botocore's model
// (src/protocol/models/lambda.json). Generic constraints (required members, ranges such as MemorySize
// 128..10240 and Timeout >= 1, enums, patterns) are checked by protocol::validate_input and answered
// with AWS's coral ValidationException; the checks here are the ones Lambda answers with its own codes.
//
// Store layout (Column::lambda), one JSON record per function:
//   (account, region, "function", NAME) -> {"Name", "Latest": cfg, "Versions": {"1": cfg, ...},
//     "NextVersion", "Aliases": {NAME: alias}, "Tags", "Reserved", "Provisioned": {QUALIFIER: ...},
//     "EventInvoke": {QUALIFIER: ...}}
// cfg is the FunctionConfiguration output shape without FunctionArn (built per request, since it
// depends on how the caller qualified the name) plus private members starting with "_":
//   _lib (the .so to load), _dir (our unpacked package dir, "" for hot reload), _src (hot-reload path),
//   _hot (bool), _cfg (hash of the configuration, for PublishVersion's "nothing changed" rule).
// Queued asynchronous invocations live beside them under (account, region, "async", ...): see
// async_queue.hpp.
#include "services/lambda/lambda_service.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <future>
#include <random>
#include <set>

#include "common/ids.hpp"
#include "protocol/protocol.hpp"
#include "services/lambda/async.hpp"
#include "services/lambda/code.hpp"
#include "services/lambda/names.hpp"
#include "store/key_codec.hpp"

namespace stratus::services::lambda {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Account limits, from https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
constexpr std::int64_t kTotalCodeSize = 80530636800;   // 75 GB
constexpr std::int64_t kCodeSizeUnzipped = 262144000;  // 250 MB
constexpr std::int64_t kCodeSizeZipped = 52428800;     // 50 MB
constexpr int kUnreservedMinimum = 100;
// Invocation payload limits (same page): 6 MB synchronous, 256 KB asynchronous.
constexpr std::size_t kSyncPayloadLimit = 6291456;
constexpr std::size_t kAsyncPayloadLimit = 262144;
constexpr std::size_t kLogTailBytes = 4096;
constexpr int kDefaultMaxItems = 50;

// --- errors, with the codes and messages Lambda uses ---

AwsError invalid(std::string message) {
  return AwsError::sender(400, "InvalidParameterValueException", std::move(message));
}
AwsError conflict(std::string message) {
  return AwsError::sender(409, "ResourceConflictException", std::move(message));
}
AwsError not_found(std::string message) {
  return AwsError::sender(404, "ResourceNotFoundException", std::move(message));
}
// "Function not found: arn:aws:lambda:us-east-1:000000000000:function:NAME[:QUALIFIER]"
AwsError function_not_found(const Partition& p, const std::string& name, const std::string& qualifier = "") {
  return not_found("Function not found: " + (qualifier.empty()
                                                 ? function_arn(p.region, p.account, name)
                                                 : qualified_arn(p.region, p.account, name, qualifier)));
}
// https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html (RevisionId,
// PreconditionFailedException).
AwsError revision_mismatch() {
  return AwsError::sender(412, "PreconditionFailedException",
                          "The Revision Id provided does not match the latest Revision Id. Call the "
                          "GetFunction/GetAlias API to retrieve the latest Revision Id");
}

// LastModified as Lambda writes it: "2019-08-14T22:26:11.234+0000".
// https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html (LastModified)
std::string lambda_timestamp(std::int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
}

std::string record_key(const Partition& p, std::string_view name) {
  return KeyBuilder()
      .add_string(p.account)
      .add_string(p.region)
      .add_string("function")
      .add_string(name)
      .build();
}
std::string partition_prefix(const Partition& p) {
  return KeyBuilder().add_string(p.account).add_string(p.region).add_string("function").build();
}

std::string str(const json& j, const char* key, std::string fallback = "") {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

// Runtimes that can run a shared library: the OS-only runtimes and Stratus's own name.
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-provided.html
bool supported_runtime(std::string_view runtime) {
  return runtime == "provided.al2023" || runtime == "provided.al2" || runtime == "provided" ||
         runtime == "stratus.cpp";
}
AwsError unsupported_runtime(std::string_view runtime) {
  return invalid(fmt::format(
      "The runtime parameter of {} is not supported by Stratus: functions are shared libraries; use "
      "provided.al2023, provided.al2, provided or stratus.cpp",
      runtime));
}

// https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
std::optional<AwsError> check_environment(const json& in) {
  static const std::set<std::string, std::less<>> kReserved = {"_HANDLER",
                                                               "_X_AMZN_TRACE_ID",
                                                               "AWS_DEFAULT_REGION",
                                                               "AWS_REGION",
                                                               "AWS_EXECUTION_ENV",
                                                               "AWS_LAMBDA_FUNCTION_NAME",
                                                               "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                                                               "AWS_LAMBDA_FUNCTION_VERSION",
                                                               "AWS_LAMBDA_INITIALIZATION_TYPE",
                                                               "AWS_LAMBDA_LOG_GROUP_NAME",
                                                               "AWS_LAMBDA_LOG_STREAM_NAME",
                                                               "AWS_ACCESS_KEY",
                                                               "AWS_ACCESS_KEY_ID",
                                                               "AWS_SECRET_ACCESS_KEY",
                                                               "AWS_SESSION_TOKEN",
                                                               "AWS_LAMBDA_RUNTIME_API",
                                                               "LAMBDA_TASK_ROOT",
                                                               "LAMBDA_RUNTIME_DIR"};
  auto env = in.find("Environment");
  if (env == in.end() || !env->is_object()) return std::nullopt;
  auto vars = env->find("Variables");
  if (vars == env->end() || !vars->is_object()) return std::nullopt;
  std::string used;
  for (auto it = vars->begin(); it != vars->end(); ++it) {
    if (kReserved.count(it.key())) used += (used.empty() ? "" : ", ") + it.key();
  }
  if (used.empty()) return std::nullopt;
  return invalid(
      "Lambda was unable to configure your environment variables because the environment variables you have "
      "provided contains reserved keys that are currently not supported for modification. Reserved keys used "
      "in this request: " +
      used);
}

// Limits of standard (non-managed-instance) functions that botocore's model does not carry (its
// MemorySize max is 32768, for Lambda Managed Instances; Timeout has no max). Answered in the coral
// form AWS uses for model constraints.
// https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
std::optional<AwsError> check_limits(const json& in) {
  auto over = [&](const char* member, const char* path, int max) -> std::optional<AwsError> {
    auto it = in.find(member);
    if (it == in.end() || !it->is_number_integer() || it->get<std::int64_t>() <= max) return std::nullopt;
    return AwsError::sender(400, "ValidationException",
                            fmt::format("1 validation error detected: Value '{}' at '{}' failed to satisfy "
                                        "constraint: Member must have value less than or equal to {}",
                                        it->get<std::int64_t>(), path, max));
  };
  if (auto e = over("MemorySize", "memorySize", 10240)) return e;
  return over("Timeout", "timeout", 900);
}

// The members of a configuration that make two versions "the same" for PublishVersion.
std::string config_hash(const json& cfg) {
  json c = cfg;
  for (const char* volatile_key : {"Version", "LastModified", "RevisionId", "State", "StateReason",
                                   "StateReasonCode", "LastUpdateStatus", "_cfg", "Description"})
    c.erase(volatile_key);
  return sha256_hex(c.dump());
}

// The output shape of a stored configuration, with FunctionArn qualified as the caller asked.
json config_out(const Partition& p, const json& cfg, const std::string& arn_qualifier) {
  json out = json::object();
  for (auto it = cfg.begin(); it != cfg.end(); ++it)
    if (!it.key().starts_with("_")) out[it.key()] = it.value();
  std::string name = str(cfg, "FunctionName");
  out["FunctionArn"] = arn_qualifier.empty() ? function_arn(p.region, p.account, name)
                                             : qualified_arn(p.region, p.account, name, arn_qualifier);
  return out;
}

std::uint64_t version_number(const std::string& v) { return std::stoull(v); }

// Versions of a record in ascending numeric order.
std::vector<std::string> sorted_versions(const json& rec) {
  std::vector<std::string> out;
  for (auto it = rec["Versions"].begin(); it != rec["Versions"].end(); ++it) out.push_back(it.key());
  std::sort(out.begin(), out.end(),
            [](const std::string& a, const std::string& b) { return version_number(a) < version_number(b); });
  return out;
}

// Pagination markers are opaque to clients: base64 of the next item's sort key.
std::string make_marker(const json& key) { return protocol::base64_encode(key.dump()); }
std::optional<json> read_marker(const json& in) {
  auto it = in.find("Marker");
  if (it == in.end() || !it->is_string()) return json();
  auto raw = protocol::base64_decode(it->get<std::string>());
  if (!raw) return std::nullopt;
  json key = json::parse(*raw, nullptr, false);
  if (key.is_discarded()) return std::nullopt;
  return key;
}
int max_items(const json& in) {
  auto it = in.find("MaxItems");
  return it != in.end() && it->is_number_integer() ? it->get<int>() : kDefaultMaxItems;
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// The operations. Each takes the validated input document and returns its Outcome.
// ------------------------------------------------------------------------------------------------
struct Ops {
  LambdaService& s;
  const Partition& p;

  std::int64_t now_ms() const { return s.deps_.clock->now_ms(); }

  std::optional<json> load(const std::string& name) { return s.load(p, name); }

  Status save(const json& rec) { return s.put_record(record_key(p, rec["Name"].get<std::string>()), rec); }

  std::string function_root(const std::string& name) const {
    return (fs::path(s.deps_.data_dir) / "lambda" / p.account / p.region / name).string();
  }

  // Removes unpacked packages no configuration of `rec` refers to any more.
  void collect_code(const json& rec) {
    std::set<std::string> used;
    used.insert(str(rec["Latest"], "_dir"));
    for (auto it = rec["Versions"].begin(); it != rec["Versions"].end(); ++it) used.insert(str(*it, "_dir"));
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(function_root(rec["Name"].get<std::string>()), ec)) {
      if (!used.count(entry.path().string())) remove_tree(entry.path().string());
    }
  }

  // The executor's view of one configuration.
  FunctionConfig executor_config(const json& rec, const json& cfg, const std::string& qualifier) const {
    FunctionConfig c;
    c.function_name = str(cfg, "FunctionName");
    c.version = str(cfg, "Version", "$LATEST");
    c.function_arn = function_arn(p.region, p.account, c.function_name);
    c.qualified_arn = c.function_arn + ":" + c.version;
    c.account_id = p.account;
    c.region = p.region;
    c.library_path = str(cfg, "_lib");
    c.handler = str(cfg, "Handler");
    c.runtime = str(cfg, "Runtime");
    c.code_sha256 = str(cfg, "CodeSha256");
    c.hot_reload = cfg.value("_hot", false);
    c.memory_mb = cfg.value("MemorySize", 128);
    c.timeout_ms = static_cast<std::int64_t>(cfg.value("Timeout", 3)) * 1000;
    if (auto env = cfg.find("Environment"); env != cfg.end() && env->contains("Variables"))
      for (auto it = (*env)["Variables"].begin(); it != (*env)["Variables"].end(); ++it)
        if (it->is_string()) c.environment[it.key()] = it->get<std::string>();
    if (rec.contains("Reserved") && rec["Reserved"].is_number_integer())
      c.reserved_concurrency = rec["Reserved"].get<int>();
    std::string pq = qualifier.empty() ? c.version : qualifier;
    if (auto pc = rec["Provisioned"].find(pq); pc != rec["Provisioned"].end())
      c.provisioned_concurrency = pc->value("Requested", 0);
    return c;
  }

  // --- name resolution ---

  // FunctionName (+ Qualifier) of an input document. `allow_qualifier` false: a qualifier in the name is
  // rejected as Lambda does for operations on the unqualified function.
  std::optional<AwsError> parse_name(const json& in, FunctionRef& ref, bool allow_qualifier = true) {
    std::string text = str(in, "FunctionName");
    auto parsed = parse_function_name(text);
    if (!parsed)
      return invalid(
          "1 validation error detected: Value '" + text +
          "' at 'functionName' failed to satisfy constraint: Member must satisfy regular "
          "expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))"
          "?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?");
    ref = *parsed;
    std::string q = str(in, "Qualifier");
    if (!q.empty()) {
      if (!ref.qualifier.empty() && ref.qualifier != q)
        return invalid(
            "The derived qualifier from the function name does not match the specified qualifier.");
      ref.qualifier = q;
    }
    if (!allow_qualifier && !ref.qualifier.empty())
      return invalid("Unsupported qualifier: operation on function " + ref.name + " takes no qualifier");
    // State is partitioned by the caller's account: an ARN of another account names nothing here.
    if (!ref.account.empty() && ref.account != p.account)
      return function_not_found(p, ref.name, ref.qualifier);
    return std::nullopt;
  }

  // The version a qualifier designates: "$LATEST", a number, or an alias's primary version.
  // `routed`: pick per the alias's RoutingConfig weights (Invoke) instead of the primary version.
  std::optional<AwsError> resolve_version(const json& rec, const std::string& qualifier, std::string& version,
                                          bool routed = false) {
    std::string name = rec["Name"].get<std::string>();
    if (qualifier.empty() || qualifier == "$LATEST") {
      version = "$LATEST";
      return std::nullopt;
    }
    if (is_version_number(qualifier)) {
      if (!rec["Versions"].contains(qualifier)) return function_not_found(p, name, qualifier);
      version = qualifier;
      return std::nullopt;
    }
    auto alias = rec["Aliases"].find(qualifier);
    if (alias == rec["Aliases"].end()) return function_not_found(p, name, qualifier);
    version = str(*alias, "FunctionVersion");
    if (routed) {
      auto weights = alias->find("RoutingConfig");
      if (weights != alias->end() && weights->contains("AdditionalVersionWeights")) {
        thread_local std::mt19937_64 rng{std::random_device{}()};
        double roll = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
        for (auto it = (*weights)["AdditionalVersionWeights"].begin();
             it != (*weights)["AdditionalVersionWeights"].end(); ++it) {
          double w = it->is_number() ? it->get<double>() : 0.0;
          if (roll < w) {
            version = it.key();
            break;
          }
          roll -= w;
        }
      }
    }
    if (version != "$LATEST" && !rec["Versions"].contains(version))
      return function_not_found(p, name, qualifier);
    return std::nullopt;
  }

  const json& config_of(const json& rec, const std::string& version) {
    return version == "$LATEST" ? rec["Latest"] : rec["Versions"][version];
  }

  // Loads the function `in` names; fills rec (and version/qualifier when asked).
  std::optional<AwsError> find(const json& in, json& rec, FunctionRef& ref, bool allow_qualifier = true) {
    if (auto e = parse_name(in, ref, allow_qualifier)) return e;
    auto loaded = load(ref.name);
    if (!loaded) return function_not_found(p, ref.name);
    rec = std::move(*loaded);
    return std::nullopt;
  }

  // --- code packages ---

  struct Code {
    std::string sha;
    std::int64_t size = 0;
    std::string lib;
    std::string dir;  // ours (zip); "" for hot reload
    std::string src;  // hot reload: the user's path
    bool hot = false;
  };

  // The library a package provides for `handler`.
  static std::string library_for(const Code& code, const std::string& handler) {
    if (code.hot) {
      std::error_code ec;
      return fs::is_directory(code.src, ec) ? (fs::path(code.src) / handler).string() : code.src;
    }
    return (fs::path(code.dir) / handler).string();
  }

  // Code from {ZipFile | S3Bucket+S3Key | ImageUri} (CreateFunction's Code, UpdateFunctionCode's input).
  std::optional<AwsError> prepare_code(const std::string& name, const json& src, const std::string& handler,
                                       Code& code) {
    if (src.contains("ImageUri"))
      return invalid(
          "Stratus runs functions as shared libraries: container images (ImageUri) are not supported");
    if (auto zip_it = src.find("ZipFile"); zip_it != src.end() && zip_it->is_string()) {
      // https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-deployment.html
      auto zip = protocol::base64_decode(zip_it->get<std::string>());
      const AwsError unzip_error =
          invalid("Could not unzip uploaded file. Please check your file, then try to upload again.");
      if (!zip || zip->empty()) return unzip_error;
      if (zip->size() > static_cast<std::size_t>(kCodeSizeZipped))
        return AwsError::sender(413, "RequestEntityTooLargeException",
                                fmt::format("Zipped size must be smaller than {} bytes", kCodeSizeZipped));
      code.sha = code_sha256(*zip);
      code.size = static_cast<std::int64_t>(zip->size());
      code.dir = (fs::path(function_root(name)) / sha256_hex(*zip)).string();
      std::error_code ec;
      if (!fs::is_directory(code.dir, ec)) {
        std::string tmp = code.dir + ".tmp-" + new_request_id();
        UnpackResult r = unpack_zip(*zip, tmp, static_cast<std::uint64_t>(kCodeSizeUnzipped));
        if (!r.ok) {
          remove_tree(tmp);
          if (r.error == "unzipped size exceeds the limit")
            return invalid(fmt::format("Unzipped size must be smaller than {} bytes", kCodeSizeUnzipped));
          return unzip_error;
        }
        fs::rename(tmp, code.dir, ec);
        if (ec) remove_tree(tmp);  // another request unpacked the same package first
      }
      code.lib = library_for(code, handler);
      if (!is_elf_file(code.lib)) {
        // Lambda accepts any package and fails at invoke (Runtime.HandlerNotFound); Stratus checks here
        // because the handler is the library itself.
        collect_unreferenced(name, code.dir);
        return invalid("The deployment package does not contain a shared library at Handler '" + handler +
                       "' (Stratus loads Handler as the path of a .so inside the zip)");
      }
      return std::nullopt;
    }
    std::string bucket = str(src, "S3Bucket");
    std::string key = str(src, "S3Key");
    if (bucket == "hot-reload") {
      // LocalStack's hot-reload convention: the path is used in place and never copied.
      std::error_code ec;
      if (key.empty() || key.front() != '/' || !fs::exists(key, ec))
        return invalid(
            "Stratus hot reload: S3Key must be an absolute path to an existing .so or directory, got '" +
            key + "'");
      code.hot = true;
      code.src = key;
      code.lib = library_for(code, handler);
      std::string bytes;
      if (!read_file(code.lib, bytes))
        return invalid("Stratus hot reload: cannot read the library " + code.lib + " (Handler '" + handler +
                       "')");
      code.sha = code_sha256(bytes);
      code.size = static_cast<std::int64_t>(bytes.size());
      return std::nullopt;
    }
    if (!bucket.empty())
      // S3 is not connected to Lambda code yet; this is the error Lambda gives for a missing bucket.
      return invalid(
          "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified "
          "bucket does not exist");
    return invalid(
        "Please provide the function code: ZipFile, or S3Bucket \"hot-reload\" with S3Key the path "
        "of a shared library");
  }

  // A package directory just unpacked but rejected: drop it unless something refers to it.
  void collect_unreferenced(const std::string& name, const std::string& dir) {
    if (auto rec = load(name)) {
      if (str((*rec)["Latest"], "_dir") == dir) return;
      for (auto it = (*rec)["Versions"].begin(); it != (*rec)["Versions"].end(); ++it)
        if (str(*it, "_dir") == dir) return;
    }
    remove_tree(dir);
  }

  static void apply_code(json& cfg, const Code& code) {
    cfg["CodeSha256"] = code.sha;
    cfg["CodeSize"] = code.size;
    cfg["_lib"] = code.lib;
    cfg["_dir"] = code.dir;
    cfg["_src"] = code.src;
    cfg["_hot"] = code.hot;
  }

  static Code code_of(const json& cfg) {
    Code c;
    c.sha = str(cfg, "CodeSha256");
    c.size = cfg.value("CodeSize", std::int64_t{0});
    c.lib = str(cfg, "_lib");
    c.dir = str(cfg, "_dir");
    c.src = str(cfg, "_src");
    c.hot = cfg.value("_hot", false);
    return c;
  }

  void touch(json& cfg) {
    cfg["LastModified"] = lambda_timestamp(now_ms());
    cfg["RevisionId"] = new_request_id();
    cfg["_cfg"] = config_hash(cfg);
  }

  // Members of the configuration that Create and UpdateFunctionConfiguration set alike.
  std::optional<AwsError> apply_config(json& cfg, const json& in) {
    if (auto e = check_limits(in)) return e;
    if (in.contains("Runtime")) {
      std::string runtime = str(in, "Runtime");
      if (!supported_runtime(runtime)) return unsupported_runtime(runtime);
      cfg["Runtime"] = runtime;
    }
    if (auto e = check_environment(in)) return e;
    for (const char* key : {"Role", "Handler", "Description", "MemorySize", "Timeout", "KMSKeyArn",
                            "EphemeralStorage", "FileSystemConfigs"}) {
      if (in.contains(key)) cfg[key] = in[key];
    }
    // DeadLetterConfig {TargetArn}: an SQS queue or SNS topic; an empty TargetArn removes it.
    // https://docs.aws.amazon.com/lambda/latest/api/API_DeadLetterConfig.html
    if (in.contains("DeadLetterConfig")) {
      std::string target = in["DeadLetterConfig"].is_object() ? str(in["DeadLetterConfig"], "TargetArn") : "";
      if (target.empty()) {
        cfg.erase("DeadLetterConfig");
      } else if (!target.starts_with("arn:aws:sqs:") && !target.starts_with("arn:aws:sns:")) {
        return invalid("The provided target arn " + target +
                       " is invalid: a dead-letter queue must be an Amazon SQS queue or Amazon SNS topic ARN");
      } else {
        cfg["DeadLetterConfig"] = {{"TargetArn", target}};
      }
    }
    if (in.contains("Environment")) {
      json vars = in["Environment"].value("Variables", json::object());
      if (vars.empty())
        cfg.erase("Environment");
      else
        cfg["Environment"] = {{"Variables", vars}};
    }
    if (in.contains("TracingConfig"))
      cfg["TracingConfig"] = {{"Mode", in["TracingConfig"].value("Mode", "PassThrough")}};
    if (in.contains("LoggingConfig")) {
      json lc = in["LoggingConfig"];
      if (!lc.contains("LogFormat")) lc["LogFormat"] = "Text";
      if (!lc.contains("LogGroup")) lc["LogGroup"] = "/aws/lambda/" + str(cfg, "FunctionName");
      cfg["LoggingConfig"] = lc;
    }
    if (in.contains("VpcConfig")) {
      json v = in["VpcConfig"];
      cfg["VpcConfig"] = {{"SubnetIds", v.value("SubnetIds", json::array())},
                          {"SecurityGroupIds", v.value("SecurityGroupIds", json::array())},
                          {"VpcId", ""}};
    }
    if (in.contains("Layers")) {
      json layers = json::array();
      for (const auto& l : in["Layers"]) layers.push_back({{"Arn", l}, {"CodeSize", 0}});
      cfg["Layers"] = layers;
    }
    return std::nullopt;
  }

  // Publishes $LATEST as a new version, or returns the last one when nothing changed (PublishVersion).
  // https://docs.aws.amazon.com/lambda/latest/api/API_PublishVersion.html
  std::string publish(json& rec, const json& description) {
    json& latest = rec["Latest"];
    auto versions = sorted_versions(rec);
    if (!versions.empty() && str(rec["Versions"][versions.back()], "_cfg") == str(latest, "_cfg") &&
        description.is_null())
      return versions.back();
    std::uint64_t n = rec.value("NextVersion", std::uint64_t{1});
    rec["NextVersion"] = n + 1;
    json v = latest;
    v["Version"] = std::to_string(n);
    if (description.is_string()) v["Description"] = description;
    v["LastModified"] = lambda_timestamp(now_ms());
    v["RevisionId"] = new_request_id();
    rec["Versions"][std::to_string(n)] = v;
    return std::to_string(n);
  }

  // ============================================================================================
  // Functions
  // ============================================================================================

  // https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html — 201 FunctionConfiguration.
  Outcome create_function(const json& in) {
    FunctionRef ref;
    if (auto e = parse_name(in, ref, false)) return Outcome::fail(*e);
    if (str(in, "PackageType", "Zip") == "Image")
      return Outcome::fail(
          invalid("Stratus runs functions as shared libraries: PackageType Image is not supported"));
    if (!in.contains("Runtime") || !in.contains("Handler"))
      return Outcome::fail(invalid(
          "Runtime and Handler are mandatory parameters for functions created with deployment packages."));
    if (!supported_runtime(str(in, "Runtime"))) return Outcome::fail(unsupported_runtime(str(in, "Runtime")));
    if (auto e = check_environment(in)) return Outcome::fail(*e);
    if (load(ref.name)) return Outcome::fail(conflict("Function already exist: " + ref.name));

    Code code;
    if (auto e = prepare_code(ref.name, in["Code"], str(in, "Handler"), code)) return Outcome::fail(*e);

    json cfg = {
        {"FunctionName", ref.name},
        {"Runtime", str(in, "Runtime")},
        {"Role", str(in, "Role")},
        {"Handler", str(in, "Handler")},
        {"Description", ""},
        {"Timeout", 3},
        {"MemorySize", 128},
        {"Version", "$LATEST"},
        {"TracingConfig", {{"Mode", "PassThrough"}}},
        // Lambda answers Pending and moves to Active; Stratus is ready at once.
        // https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html
        {"State", "Active"},
        {"LastUpdateStatus", "Successful"},
        {"PackageType", "Zip"},
        {"Architectures", in.value("Architectures", json::array({"x86_64"}))},
        {"EphemeralStorage", {{"Size", 512}}},
        {"SnapStart", {{"ApplyOn", "None"}, {"OptimizationStatus", "Off"}}},
        {"LoggingConfig", {{"LogFormat", "Text"}, {"LogGroup", "/aws/lambda/" + ref.name}}},
    };
    if (auto e = apply_config(cfg, in)) return Outcome::fail(*e);
    apply_code(cfg, code);
    touch(cfg);

    json rec = {{"Name", ref.name},
                {"Latest", cfg},
                {"Versions", json::object()},
                {"NextVersion", 1},
                {"Aliases", json::object()},
                {"Tags", in.value("Tags", json::object())},
                {"Provisioned", json::object()},
                {"EventInvoke", json::object()}};
    std::string version = "$LATEST";
    if (in.value("Publish", false)) version = publish(rec, json());
    if (Status st = save(rec); !st.ok()) return Outcome::fail(store_error(st));
    return Outcome::ok(config_out(p, config_of(rec, version), version == "$LATEST" ? "" : version));
  }

  static AwsError store_error(const Status& st) {
    return AwsError::receiver(500, "ServiceException", "Stratus could not write its store: " + st.message);
  }

  // https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html
  Outcome get_function(const json& in) {
    json rec;
    FunctionRef ref;
    if (auto e = find(in, rec, ref)) return Outcome::fail(*e);
    std::string version;
    if (auto e = resolve_version(rec, ref.qualifier, version)) return Outcome::fail(*e);
    const json& cfg = config_of(rec, version);
    json out = {{"Configuration", config_out(p, cfg, ref.qualifier)}};
    // Lambda returns a presigned S3 URL; Stratus points at the package on disk.
    std::string location = cfg.value("_hot", false) ? str(cfg, "_src") : str(cfg, "_dir");
    out["Code"] = {{"RepositoryType", "S3"}, {"Location", "file://" + location}};
    if (!rec["Tags"].empty()) out["Tags"] = rec["Tags"];
    if (rec.contains("Reserved")) out["Concurrency"] = {{"ReservedConcurrentExecutions", rec["Reserved"]}};
    return Outcome::ok(out);
  }

  // https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionConfiguration.html
  Outcome get_function_configuration(const json& in) {
    json rec;
    FunctionRef ref;
    if (auto e = find(in, rec, ref)) return Outcome::fail(*e);
    std::string version;
    if (auto e = resolve_version(rec, ref.qualifier, version)) return Outcome::fail(*e);
    return Outcome::ok(config_out(p, config_of(rec, version), ref.qualifier));
  }

  // https://docs.aws.amazon.com/lambda/latest/api/API_ListFunctions.html — $LATEST only (unqualified ARNs),
  // or with FunctionVersion=ALL every version too ($LATEST then 1, 2, ... with qualified ARNs).
  Outcome list_functions(const json& in) {
    auto marker = read_marker(in);
    if (!marker) return Outcome::fail(invalid("Invalid Marker"));
    bool all = str(in, "FunctionVersion") == "ALL";
    int limit = max_items(in);
    json functions = json::array();
    json next;
    auto it = s.deps_.store->scan_prefix(Column::lambda, partition_prefix(p));
    for (; it->valid() && next.is_null(); it->next()) {
      json rec = json::parse(it->value(), nullptr, false);
      if (rec.is_discarded()) continue;
      std::string name = rec["Name"].get<std::string>();
      std::vector<std::pair<std::uint64_t, std::string>> items = {{0, "$LATEST"}};
      if (all)
        for (const auto& v : sorted_versions(rec)) items.emplace_back(version_number(v), v);
      for (const auto& [ordinal, version] : items) {
        json key = json::array({name, ordinal});
        if (!marker->is_null() && key < *marker) continue;
        if (static_cast<int>(functions.size()) == limit) {
          next = key;
          break;
        }
        functions.push_back(config_out(p, config_of(rec, version), all ? version : ""));
      }
    }
    json out = {{"Functions", functions}};
    if (!next.is_null()) out["NextMarker"] = make_marker(next);
    return Outcome::ok(out);
  }

  // https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionCode.html
  Outcome update_function_code(const json& in) {
    json rec;
    FunctionRef ref;
    if (auto e = find(in, rec, ref, false)) return Outcome::fail(*e);
    json& latest = rec["Latest"];
    if (in.contains("RevisionId") && str(in, "RevisionId") != str(latest, "RevisionId"))
      return Outcome::fail(revision_mismatch());
    Code code;
    if (auto e = prepare_code(ref.name, in, str(latest, "Handler"), code)) return Outcome::fail(*e);
    if (in.value("DryRun", false)) {
      json preview = latest;
      apply_code(preview, code);
      collect_code(rec);
      return Outcome::ok(config_out(p, preview, ""));
    }
    apply_code(latest, code);
    latest["LastUpdateStatus"] = "Successful";
    touch(latest);
    std::string version = "$LATEST";
    if (in.value("Publish", false)) version = publish(rec, json());
    if (Status st = save(rec); !st.ok()) return Outcome::fail(store_error(st));
    collect_code(rec);
    if (s.deps_.executor) s.deps_.executor->function_updated(executor_config(rec, rec["Latest"], ""));
    return Outcome::ok(config_out(p, config_of(rec, version), version == "$LATEST" ? "" : version));
  }

  // https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html
  Outcome update_function_configuration(const json& in) {
    json rec;
    FunctionRef ref;
    if (auto e = find(in, rec, ref, false)) return Outcome::fail(*e);
    json& latest = rec["Latest"];
    if (in.contains("RevisionId") && str(in, "RevisionId") != str(latest, "RevisionId"))
      return Outcome::fail(revision_mismatch());
    json updated = latest;
    if (auto e = apply_config(updated, in)) return Outcome::fail(*e);
    if (in.contains("Handler") && str(in, "Handler") != str(latest, "Handler")) {
      Code code = code_of(latest);
      std::string lib = library_for(code, str(in, "Handler"));
      if (!code.hot && !is_elf_file(lib))
        return Outcome::fail(invalid("The deployment package does not contain a shared library at Handler '" +
                                     str(in, "Handler") +
                                     "' (Stratus loads Handler as the path of a .so inside the zip)"));
      updated["_lib"] = lib;
    }
    updated["LastUpdateStatus"] = "Successful";
    touch(updated);
    latest = updated;
    if (Status st = save(rec); !st.ok()) return Outcome::fail(store_error(st));
    if (s.deps_.executor) s.deps_.executor->function_updated(executor_config(rec, latest, ""));
    return Outcome::ok(config_out(p, latest, ""));
  }

  // https://docs.aws.amazon.com/lambda/latest/api/API_DeleteFunction.html — with Qualifier, deletes a
  // version ($LATEST and aliases cannot be deleted this way). Answers 204.
  Outcome delete_function(const json& in) {
    json rec;
    FunctionRef ref;
    if (auto e = find(in, rec, ref)) return Outcome::fail(*e);
    std::string arn = function_arn(p.region, p.account, ref.name);
    if (ref.qualifier.empty()) {
      if (Status st = s.delete_record(record_key(p, ref.name)); !st.ok())
        return Outcome::fail(store_error(st));
      remove_tree(function_root(ref.name));
      if (s.deps_.executor) s.deps_.executor->function_removed(arn, "");
      return Outcome::ok({{"StatusCode", 204}});
    }
    if (ref.qualifier == "$LATEST")
      return Outcome::fail(invalid("$LATEST version cannot be deleted without deleting the function."));
    if (!is_version_number(ref.qualifier)) {
      if (!rec["Aliases"].contains(ref.qualifier))
        return Outcome::fail(function_not_found(p, ref.name, ref.qualifier));
      return Outcome::fail(
          invalid("Deletion of aliases is not supported by DeleteFunction; use DeleteAlias."));
    }
    if (!rec["Versions"].contains(ref.qualifier))
      return Outcome::fail(function_not_found(p, ref.name, ref.qualifier));
    std::vector<std::string> users;
    for (auto it = rec["Aliases"].begin(); it != rec["Aliases"].end(); ++it) {
      bool routed =
          it->contains("RoutingConfig") &&
          (*it)["RoutingConfig"].value("AdditionalVersionWeights", json::object()).contains(ref.qualifier);
      if (str(*it, "FunctionVersion") == ref.qualifier || routed) users.push_back(it.key());
    }
    if (!users.empty()) {
      std::string list;
      for (const auto& a : users) list += (list.empty() ? "" : ", ") + a;
      return Outcome::fail(
          conflict("Unable to delete version because the following aliases reference it: [" + list + "]"));
    }
    rec["Versions"].erase(ref.qualifier);
    rec["Provisioned"].erase(ref.qualifier);
    rec["EventInvoke"].erase(ref.qualifier);
    if (Status st = save(rec); !st.ok()) return Outcome::fail(store_error(st));
    collect_code(rec);
    if (s.deps_.executor) s.deps_.executor->function_removed(arn, ref.qualifier);
    return Outcome::ok({{"StatusCode", 204}});
  }

  // ============================================================================================
  // Versions and aliases
  // ============================================================================================

  // https://docs.aws.amazon.com/lambda/latest/api/API_PublishVersion.html — 201.
  Outcome publish_version(const json& in) {
    json rec;
    FunctionRef ref;
    if (auto e = find(in, rec, ref, false)) return Outcome::fail(*e);
    const json& latest = rec["Latest"];
    if (in.contains("RevisionId") && str(in, "RevisionId") != str(latest, "RevisionId"))
      return Outcome::fail(revision_mismatch());
    if (in.contains("CodeSha256") && str(in, "CodeSha256") != str(latest, "CodeSha256"))
      return Outcome::fail(invalid(fmt::format(
          "CodeSHA256 ({}) is different from current CodeSHA256 in $LATEST ({}). Please try again with the "
          "current CodeSHA256.",
          str(in, "CodeSha256"), str(latest, "CodeSha256"))));
    std::string version = publish(rec, in.contains("Description") ? in["Description"] : json());
    if (Status st = save(rec); !st.ok()) return Outcome::fail(store_error(st));
    return Outcome::ok(config_out(p, rec["Versions"][version], version));
  }

  // https://docs.aws.amazon.com/lambda/latest/api/API_ListVersionsByFunction.html
  Outcome list_versions(const json& in) {
    json rec;
    FunctionRef ref;
    if (auto e = find(in, rec, ref, false)) return Outcome::fail(*e);
    auto marker = read_marker(in);
    if (!marker) return Outcome::fail(invalid("Invalid Marker"));
    int limit = max_items(in);
    std::vector<std::string> items = {"$LATEST"};
    for (const auto& v : sorted_versions(rec)) items.push_back(v);
    json versions = json::array();
    json next;
    for (const auto& v : items) {
      json key = v == "$LATEST" ? json(0) : json(version_number(v));
      if (!marker->is_null() && key < *marker) continue;
      if (static_cast<int>(versions.size()) == limit) {
        next = key;
        break;
      }
      versions.push_back(config_out(p, config_of(rec, v), v));
    }
    json out = {{"Versions", versions}};
    if (!next.is_null()) out["NextMarker"] = make_marker(next);
    return Outcome::ok(out);
  }

  json alias_out(const std::string& function, const json& alias) {
    json out = alias;
    out["AliasArn"] = qualified_arn(p.region, p.account, function, str(alias, "Name"));
    return out;
  }

  AwsError alias_not_found(const std::string& function, const std::string& alias) {
    return not_found("Cannot find alias arn: " + qualified_arn(p.region, p.account, function, alias));
  }

  // Version and RoutingConfig of an alias must name existing versions.
  // https://docs.aws.amazon.com/lambda/latest/dg/configuring-alias-routing.html
  std::optional<AwsError> check_alias_target(const json& rec, const std::string& version,
                                             const json& routing) {
    std::string name = rec["Name"].get<std::string>();
    if (version != "$LATEST" && !rec["Versions"].contains(version))
      return function_not_found(p, name, version);
    if (routing.is_object()) {
      json weights = routing.value("AdditionalVersionWeights", json::object());
      if (weights.size() > 1)
        return invalid("Number of additional version weights cannot be greater than 1.");
      for (auto it = weights.begin(); it != weights.end(); ++it) {
        if (!rec["Versions"].contains(it.key())) return function_not_found(p, name, it.key());
        if (it.key() == version)
          return invalid("Invalid function version " + it.key() +
                         ". Function version is already included in routing configuration.");
        if (version == "$LATEST")
          return invalid("$LATEST is not supported for an alias pointing to more than 1 version");
      }
    }
    return std::nullopt;
  }

  // https://docs.aws.amazon.com/lambda/latest/api/API_CreateAlias.html — 201.
  Outcome create_alias(const json& in) {
    json rec;
    FunctionRef ref;
    if (auto e = find(in, rec, ref, false)) return Outcome::fail(*e);
    std::string alias = str(in, "Name");
    if (rec["Aliases"].contains(alias))
      return Outcome::fail(
          conflict("Alias already exists: " + qualified_arn(p.region, p.account, ref.name, alias)));
    std::string version = str(in, "FunctionVersion");
    json routing = in.value("RoutingConfig", json());
    if (auto e = check_alias_target(rec, version, routing)) return Outcome::fail(*e);
    json a = {{"Name", alias},
              {"FunctionVersion", version},
              {"Description", str(in, "Description")},
              {"RevisionId", new_request_id()}};
    if (routing.is_object()) a["RoutingConfig"] = routing;
    rec["Aliases"][alias] = a;
    if (Status st = save(rec); !st.ok()) return Outcome::fail(store_error(st));
    return Outcome::ok(alias_out(ref.name, a));
  }

  // The function (unqualified) and its existing alias `Name`, or ResourceNotFoundException.
  std::optional<AwsError> find_alias(const json& in, json& rec, FunctionRef& ref, std::string& alias) {
    if (auto e = find(in, rec, ref, false)) return e;
    alias = str(in, "Name");
    if (!rec["Aliases"].contains(alias)) return alias_not_found(ref.name, alias);
    return std::nullopt;
  }

  // https://docs.aws.amazon.com/lambda/latest/api/API_GetAlias.html
  Outcome get_alias(const json& in) {
    json rec;
    FunctionRef ref;
    std::string alias;
    if (auto e = find_alias(in, rec, ref, alias)) return Outcome::fail(*e);
    return Outcome::ok(alias_out(ref.name, rec["Aliases"][alias]));
  }

  // https://docs.aws.amazon.com/lambda/latest/api/API_UpdateAlias.html
  Outcome update_alias(const json& in) {
    json rec;
    FunctionRef ref;
    std::string alias;
    if (auto e = find_alias(in, rec, ref, alias)) return Outcome::fail(*e);
    json a = rec["Aliases"][alias];
    if (in.contains("RevisionId") && str(in, "RevisionId") != str(a, "RevisionId"))
      return Outcome::fail(revision_mismatch());
    if (in.contains("FunctionVersion")) a["FunctionVersion"] = in["FunctionVersion"];
    if (in.contains("Description")) a["Description"] = in["Description"];
    if (in.contains("RoutingConfig")) {
      if (in["RoutingConfig"].value("AdditionalVersionWeights", json::object()).empty())
        a.erase("RoutingConfig");
      else
        a["RoutingConfig"] = in["RoutingConfig"];
    }
    if (auto e = check_alias_target(rec, str(a, "FunctionVersion"), a.value("RoutingConfig", json())))
      return Outcome::fail(*e);
    a["RevisionId"] = new_request_id();
    rec["Aliases"][alias] = a;
    if (Status st = save(rec); !st.ok()) return Outcome::fail(store_error(st));
    return Outcome::ok(alias_out(ref.name, a));
  }

  // https://docs.aws.amazon.com/lambda/latest/api/API_DeleteAlias.html — 204.
  Outcome delete_alias(const json& in) {
    json rec;
    FunctionRef ref;
    std::string alias;
    if (auto e = find_alias(in, rec, ref, alias)) return Outcome::fail(*e);
    rec["Aliases"].erase(alias);
    rec["Provisioned"].erase(alias);
    rec["EventInvoke"].erase(alias);
    if (Status st = save(rec); !st.ok()) return Outcome::fail(store_error(st));
    return Outcome::ok(json::object());
  }

  // https://docs.aws.amazon.com/lambda/latest/api/API_ListAliases.html
  Outcome list_aliases(const json& in) {
    json rec;
    FunctionRef ref;
    if (auto e = find(in, rec, ref, false)) return Outcome::fail(*e);
    auto marker = read_marker(in);
    if (!marker) return Outcome::fail(invalid("Invalid Marker"));
    int limit = max_items(in);
    std::string version = str(in, "FunctionVersion");
    json aliases = json::array();
    json next;
    for (auto it = rec["Aliases"].begin(); it != rec["Aliases"].end(); ++it) {  // sorted by name
      if (!version.empty() && str(*it, "FunctionVersion") != version) continue;
      json key = it.key();
      if (!marker->is_null() && key < *marker) continue;
      if (static_cast<int>(aliases.size()) == limit) {
        next = key;
        break;
      }
      aliases.push_back(alias_out(ref.name, *it));
    }
    json out = {{"Aliases", aliases}};
    if (!next.is_null()) out["NextMarker"] = make_marker(next);
    return Outcome::ok(out);
  }

  // ============================================================================================
  // Concurrency
  // ============================================================================================

  int reserved_elsewhere(const std::string& except) {
    int total = 0;
    auto it = s.deps_.store->scan_prefix(Column::lambda, partition_prefix(p));
    for (; it->valid(); it->next()) {
      json rec = json::parse(it->value(), nullptr, false);
      if (rec.is_discarded() || rec.value("Name", "") == except) continue;
      if (rec.contains("Reserved") && rec["Reserved"].is_number_integer())
        total += rec["Reserved"].get<int>();
    }
    return total;
  }

  // https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionConcurrency.html and
  // https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html (100 stay unreserved).
  Outcome put_function_concurrency(const json& in) {
    json rec;
    FunctionRef ref;
    if (auto e = find(in, rec, ref, false)) return Outcome::fail(*e);
    int wanted = in.value("ReservedConcurrentExecutions", 0);
    int limit = s.deps_.account_concurrency_limit;
    if (reserved_elsewhere(ref.name) + wanted > limit - kUnreservedMinimum)
      return Outcome::fail(
          invalid(fmt::format("Specified ReservedConcurrentExecutions for function decreases account's "
                              "UnreservedConcurrentExecution "
                              "below its minimum value of [{}].",
                              kUnreservedMinimum)));
    rec["Reserved"] = wanted;
    if (Status st = save(rec); !st.ok()) return Outcome::fail(store_error(st));
    if (s.deps_.executor) s.deps_.executor->function_updated(executor_config(rec, rec["Latest"], ""));
    return Outcome::ok({{"ReservedConcurrentExecutions", wanted}});
  }

  // https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionConcurrency.html — {} when none is set.
  Outcome get_function_concurrency(const json& in) {
    json rec;
    FunctionRef ref;
    if (auto e = find(in, rec, ref, false)) return Outcome::fail(*e);
    json out = json::object();
    if (rec.contains("Reserved")) out["ReservedConcurrentExecutions"] = rec["Reserved"];
    return Outcome::ok(out);
  }

  Outcome delete_function_concurrency(const json& in) {
    json rec;
    FunctionRef ref;
    if (auto e = find(in, rec, ref, false)) return Outcome::fail(*e);
    rec.erase("Reserved");
    if (Status st = save(rec); !st.ok()) return Outcome::fail(store_error(st));
    if (s.deps_.executor) s.deps_.executor->function_updated(executor_config(rec, rec["Latest"], ""));
    return Outcome::ok(json::object());
  }

  // Provisioned concurrency applies to a version or an alias, never to $LATEST.
  // https://docs.aws.amazon.com/lambda/latest/api/API_PutProvisionedConcurrencyConfig.html
  std::optional<AwsError> provisioned_target(const json& in, json& rec, FunctionRef& ref,
                                             std::string& version) {
    if (auto e = find(in, rec, ref)) return e;
    if (ref.qualifier == "$LATEST")
      return invalid("Provisioned Concurrency Configs cannot be applied to unpublished function versions.");
    return resolve_version(rec, ref.qualifier, version);
  }

  json provisioned_out(const json& pc) {
    int n = pc.value("Requested", 0);
    return {{"RequestedProvisionedConcurrentExecutions", n},
            {"AvailableProvisionedConcurrentExecutions", n},
            {"AllocatedProvisionedConcurrentExecutions", n},
            {"Status", "READY"},
            {"LastModified", pc.value("LastModified", "")}};
  }

  Outcome put_provisioned_concurrency(const json& in) {
    json rec;
    FunctionRef ref;
    std::string version;
    if (auto e = provisioned_target(in, rec, ref, version)) return Outcome::fail(*e);
    json pc = {{"Requested", in.value("ProvisionedConcurrentExecutions", 1)},
               {"LastModified", lambda_timestamp(now_ms())}};
    rec["Provisioned"][ref.qualifier] = pc;
    if (Status st = save(rec); !st.ok()) return Outcome::fail(store_error(st));
    if (s.deps_.executor)
      s.deps_.executor->provisioned_concurrency_changed(
          executor_config(rec, config_of(rec, version), ref.qualifier));
    return Outcome::ok(provisioned_out(pc));
  }

  Outcome get_provisioned_concurrency(const json& in) {
    json rec;
    FunctionRef ref;
    std::string version;
    if (auto e = provisioned_target(in, rec, ref, version)) return Outcome::fail(*e);
    auto it = rec["Provisioned"].find(ref.qualifier);
    if (it == rec["Provisioned"].end())
      return Outcome::fail(AwsError::sender(404, "ProvisionedConcurrencyConfigNotFoundException",
                                            "No Provisioned Concurrency Config found for this function"));
    return Outcome::ok(provisioned_out(*it));
  }

  Outcome delete_provisioned_concurrency(const json& in) {
    json rec;
    FunctionRef ref;
    std::string version;
    if (auto e = provisioned_target(in, rec, ref, version)) return Outcome::fail(*e);
    rec["Provisioned"].erase(ref.qualifier);
    if (Status st = save(rec); !st.ok()) return Outcome::fail(store_error(st));
    if (s.deps_.executor)
      s.deps_.executor->provisioned_concurrency_changed(
          executor_config(rec, config_of(rec, version), ref.qualifier));
    return Outcome::ok(json::object());
  }

  // ============================================================================================
  // Asynchronous invocation configuration
  // https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html
  // ============================================================================================

  std::optional<AwsError> event_invoke_target(const json& in, json& rec, FunctionRef& ref, std::string& key) {
    if (auto e = find(in, rec, ref)) return e;
    std::string version;
    if (auto e = resolve_version(rec, ref.qualifier, version)) return e;
    key = ref.qualifier.empty() ? "$LATEST" : ref.qualifier;
    return std::nullopt;
  }

  static std::optional<AwsError> check_destinations(const json& dc) {
    for (const char* which : {"OnSuccess", "OnFailure"}) {
      if (!dc.contains(which)) continue;
      std::string arn = str(dc[which], "Destination");
      if (arn.empty()) continue;
      bool ok = arn.starts_with("arn:aws:lambda:") || arn.starts_with("arn:aws:sqs:") ||
                arn.starts_with("arn:aws:sns:") || arn.starts_with("arn:aws:events:") ||
                arn.starts_with("arn:aws:s3:::");
      if (!ok) return invalid("The destination ARN " + arn + " is invalid.");
    }
    return std::nullopt;
  }

  json event_invoke_out(const FunctionRef& ref, const std::string& key, const json& c) {
    json out = c;
    out["FunctionArn"] = qualified_arn(p.region, p.account, ref.name, key);
    return out;
  }

  AwsError event_invoke_not_found(const FunctionRef& ref, const std::string& key) {
    return not_found("The function " + qualified_arn(p.region, p.account, ref.name, key) +
                     " doesn't have an EventInvokeConfig");
  }

  // Put replaces the whole configuration; Update (merge = true) changes only the members given.
  Outcome put_event_invoke_config(const json& in, bool merge) {
    json rec;
    FunctionRef ref;
    std::string key;
    if (auto e = event_invoke_target(in, rec, ref, key)) return Outcome::fail(*e);
    if (in.contains("DestinationConfig"))
      if (auto e = check_destinations(in["DestinationConfig"])) return Outcome::fail(*e);
    json c = merge ? rec["EventInvoke"].value(key, json::object()) : json::object();
    for (const char* k : {"MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig"})
      if (in.contains(k)) c[k] = in[k];
    if (!c.contains("DestinationConfig"))
      c["DestinationConfig"] = {{"OnSuccess", json::object()}, {"OnFailure", json::object()}};
    c["LastModified"] = static_cast<double>(now_ms()) / 1000.0;
    rec["EventInvoke"][key] = c;
    if (Status st = save(rec); !st.ok()) return Outcome::fail(store_error(st));
    return Outcome::ok(event_invoke_out(ref, key, c));
  }

  Outcome put_event_invoke_config_replace(const json& in) { return put_event_invoke_config(in, false); }
  Outcome put_event_invoke_config_merge(const json& in) { return put_event_invoke_config(in, true); }

  Outcome get_event_invoke_config(const json& in) {
    json rec;
    FunctionRef ref;
    std::string key;
    if (auto e = event_invoke_target(in, rec, ref, key)) return Outcome::fail(*e);
    auto it = rec["EventInvoke"].find(key);
    if (it == rec["EventInvoke"].end()) return Outcome::fail(event_invoke_not_found(ref, key));
    return Outcome::ok(event_invoke_out(ref, key, *it));
  }

  Outcome delete_event_invoke_config(const json& in) {
    json rec;
    FunctionRef ref;
    std::string key;
    if (auto e = event_invoke_target(in, rec, ref, key)) return Outcome::fail(*e);
    if (!rec["EventInvoke"].contains(key)) return Outcome::fail(event_invoke_not_found(ref, key));
    rec["EventInvoke"].erase(key);
    if (Status st = save(rec); !st.ok()) return Outcome::fail(store_error(st));
    return Outcome::ok(json::object());
  }

  // ============================================================================================
  // Tags and account
  // https://docs.aws.amazon.com/lambda/latest/api/API_TagResource.html
  // ============================================================================================

  std::optional<AwsError> tag_target(const json& in, json& rec, FunctionRef& ref) {
    json named = {{"FunctionName", str(in, "Resource")}};
    if (auto e = parse_name(named, ref)) return e;
    if (!ref.qualifier.empty())
      return invalid(
          "Tags on function aliases and versions are not supported. Please specify a function ARN.");
    auto loaded = load(ref.name);
    if (!loaded) return function_not_found(p, ref.name);
    rec = std::move(*loaded);
    return std::nullopt;
  }

  Outcome tag_resource(const json& in) {
    json rec;
    FunctionRef ref;
    if (auto e = tag_target(in, rec, ref)) return Outcome::fail(*e);
    for (auto it = in["Tags"].begin(); it != in["Tags"].end(); ++it) rec["Tags"][it.key()] = it.value();
    if (Status st = save(rec); !st.ok()) return Outcome::fail(store_error(st));
    return Outcome::ok(json::object());
  }

  Outcome untag_resource(const json& in) {
    json rec;
    FunctionRef ref;
    if (auto e = tag_target(in, rec, ref)) return Outcome::fail(*e);
    for (const auto& k : in["TagKeys"])
      if (k.is_string()) rec["Tags"].erase(k.get<std::string>());
    if (Status st = save(rec); !st.ok()) return Outcome::fail(store_error(st));
    return Outcome::ok(json::object());
  }

  Outcome list_tags(const json& in) {
    json rec;
    FunctionRef ref;
    if (auto e = tag_target(in, rec, ref)) return Outcome::fail(*e);
    return Outcome::ok({{"Tags", rec["Tags"]}});
  }

  // https://docs.aws.amazon.com/lambda/latest/api/API_GetAccountSettings.html
  Outcome get_account_settings(const json&) {
    std::int64_t code_size = 0;
    std::int64_t count = 0;
    int reserved = 0;
    auto it = s.deps_.store->scan_prefix(Column::lambda, partition_prefix(p));
    for (; it->valid(); it->next()) {
      json rec = json::parse(it->value(), nullptr, false);
      if (rec.is_discarded()) continue;
      ++count;
      code_size += rec["Latest"].value("CodeSize", std::int64_t{0});
      for (auto v = rec["Versions"].begin(); v != rec["Versions"].end(); ++v)
        code_size += v->value("CodeSize", std::int64_t{0});
      if (rec.contains("Reserved") && rec["Reserved"].is_number_integer())
        reserved += rec["Reserved"].get<int>();
    }
    int limit = s.deps_.account_concurrency_limit;
    return Outcome::ok({{"AccountLimit",
                         {{"TotalCodeSize", kTotalCodeSize},
                          {"CodeSizeUnzipped", kCodeSizeUnzipped},
                          {"CodeSizeZipped", kCodeSizeZipped},
                          {"ConcurrentExecutions", limit},
                          {"UnreservedConcurrentExecutions", limit - reserved}}},
                        {"AccountUsage", {{"TotalCodeSize", code_size}, {"FunctionCount", count}}}});
  }

  // What the async queue needs to run an event of `name` invoked with `qualifier` (async_queue.hpp):
  // resolved when the event runs, so code and configuration changes made meanwhile apply, as on AWS.
  AsyncTarget async_target(const std::string& name, const std::string& qualifier) {
    AsyncTarget target;
    auto rec = load(name);
    if (!rec) return target;
    std::string version;
    if (resolve_version(*rec, qualifier, version, true)) return target;
    target.config = executor_config(*rec, config_of(*rec, version), qualifier);
    std::string key = qualifier.empty() ? "$LATEST" : qualifier;
    if (auto it = (*rec)["EventInvoke"].find(key); it != (*rec)["EventInvoke"].end()) target.event_invoke = *it;
    target.invoked_arn = qualified_arn(p.region, p.account, name, key);
    const json& cfg = config_of(*rec, version);
    if (auto dlc = cfg.find("DeadLetterConfig"); dlc != cfg.end() && dlc->is_object())
      target.dead_letter_arn = str(*dlc, "TargetArn");
    return target;
  }

  // ============================================================================================
  // Invoke: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
  // ============================================================================================

  struct InvokePlan {
    FunctionConfig config;
    InvocationType type = InvocationType::request_response;
    bool tail = false;
    std::string payload;
    std::string function;   // the function's name and the qualifier as invoked ("" = none), for the
    std::string qualifier;  // async queue, which resolves them again when the event runs
  };

  // Everything Invoke decides before the executor runs; an Outcome when it answers by itself.
  std::optional<Outcome> plan_invoke(const json& in, const http::Request* request, InvokePlan& plan) {
    json rec;
    FunctionRef ref;
    if (auto e = find(in, rec, ref)) return Outcome::fail(*e);
    std::string version;
    if (auto e = resolve_version(rec, ref.qualifier, version, true)) return Outcome::fail(*e);
    plan.function = ref.name;
    plan.qualifier = ref.qualifier;
    std::string type = str(in, "InvocationType", "RequestResponse");
    plan.type = type == "Event"    ? InvocationType::event
                : type == "DryRun" ? InvocationType::dry_run
                                   : InvocationType::request_response;
    plan.tail = str(in, "LogType") == "Tail" && plan.type == InvocationType::request_response;
    plan.payload = request != nullptr ? request->body : std::string();

    std::size_t limit = plan.type == InvocationType::event ? kAsyncPayloadLimit : kSyncPayloadLimit;
    if (plan.payload.size() > limit)
      return Outcome::fail(AwsError::sender(
          413, "RequestTooLargeException",
          fmt::format("Request must be smaller than {} bytes for the InvokeFunction operation", limit)));
    if (plan.payload.empty()) {
      plan.payload = "{}";
    } else {
      try {
        json parsed = json::parse(plan.payload);
        (void)parsed;
      } catch (const json::parse_error& e) {
        return Outcome::fail(AwsError::sender(
            400, "InvalidRequestContentException",
            std::string("Could not parse request body into json: Could not parse payload into json: ") +
                e.what()));
      }
    }
    if (plan.type == InvocationType::dry_run) return Outcome::ok({{"StatusCode", 204}});
    plan.config = executor_config(rec, config_of(rec, version), ref.qualifier);
    // Reserved concurrency 0 throttles every synchronous invocation, whatever the runtime. An Event is
    // still accepted; the queue sends it to the on-failure destination (async_queue.hpp).
    // https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
    if (plan.type != InvocationType::event && plan.config.reserved_concurrency &&
        *plan.config.reserved_concurrency == 0) {
      InvokeResult r;
      r.status = InvokeResult::Status::throttled;
      r.throttle_reason = "ReservedFunctionConcurrentInvocationLimitExceeded";
      return invoke_outcome(r, plan);
    }
    if (!s.deps_.executor)
      return Outcome::fail(
          AwsError::receiver(501, "NotImplemented", "Stratus cannot run functions in this build yet"));
    return std::nullopt;
  }

  static std::string log_tail(const std::string& log) {
    return protocol::base64_encode(log.size() > kLogTailBytes
                                       ? std::string_view(log).substr(log.size() - kLogTailBytes)
                                       : std::string_view(log));
  }

  // The HTTP answer to a finished invocation.
  static Outcome invoke_outcome(const InvokeResult& r, const InvokePlan& plan) {
    switch (r.status) {
      case InvokeResult::Status::throttled: {
        AwsError e = AwsError::sender(429, "TooManyRequestsException", "Rate Exceeded.");
        e.extra["Reason"] = r.throttle_reason;
        e.extra["retryAfterSeconds"] = std::to_string(r.retry_after_seconds);
        return Outcome::fail(e);
      }
      case InvokeResult::Status::service_error:
        return Outcome::fail(AwsError::receiver(r.http_status, r.error_code, r.error_message));
      case InvokeResult::Status::ok:
      case InvokeResult::Status::function_error:
        break;
    }
    json out = {{"StatusCode", 200},
                {"ExecutedVersion", r.executed_version.empty() ? plan.config.version : r.executed_version}};
    if (r.status == InvokeResult::Status::function_error) out["FunctionError"] = r.function_error;
    if (plan.tail) out["LogResult"] = log_tail(r.log_tail);
    Outcome o = Outcome::ok(out);
    o.raw_payload = r.payload;
    return o;
  }
};

// ------------------------------------------------------------------------------------------------

LambdaService::LambdaService(LambdaDeps deps) : deps_(std::move(deps)) {
  build_operations();
  if (deps_.store == nullptr) return;
  AsyncOptions options;
  options.retry_base_ms = deps_.async_retry_base_ms;
  options.throttle_base_ms = deps_.async_throttle_base_ms;
  options.throttle_max_ms = deps_.async_throttle_max_ms;
  options.background = deps_.async_background;
  auto resolver = [this](const std::string& account, const std::string& region, const std::string& function,
                         const std::string& qualifier) {
    Partition p{account, region};
    std::lock_guard lock(mutex_);
    Ops ops{*this, p};
    return ops.async_target(function, qualifier);
  };
  async_ = std::make_shared<AsyncQueue>(deps_.store, deps_.clock, deps_.executor, deps_.router, options,
                                        std::move(resolver));
  async_->start();
  if (deps_.queues) {
    PollerOptions poller_options;
    poller_options.background = deps_.async_background;
    poller_options.default_pollers = deps_.esm_default_pollers;
    poller_options.wait_seconds = deps_.esm_wait_seconds;
    auto function_resolver = [this](const std::string& account, const std::string& region,
                                    const std::string& function, const std::string& qualifier) {
      Partition p{account, region};
      std::lock_guard lock(mutex_);
      Ops ops{*this, p};
      return ops.async_target(function, qualifier).config;
    };
    pollers_ = std::make_shared<SqsPollers>(deps_.queues, deps_.executor, deps_.clock,
                                            std::move(function_resolver), poller_options);
    pollers_->start();
    load_mappings();
  }
}

LambdaService::~LambdaService() { shutdown(); }

void LambdaService::shutdown() {
  // Pollers first: their batches invoke functions and delete messages; then the async queue.
  if (pollers_) pollers_->stop();
  if (async_) async_->stop();
}

std::size_t LambdaService::process_due_polls() {
  if (!pollers_) return 0;
  // Until nothing is due (bounded, so a task that keeps rescheduling itself now cannot hang a test).
  std::size_t total = 0;
  for (int round = 0; round < 1000; ++round) {
    std::size_t n = pollers_->run_due();
    if (n == 0) break;
    total += n;
  }
  return total;
}

json LambdaService::esm_stats() const { return pollers_ ? pollers_->stats() : json(); }

json esm_stats(const Service& lambda_service) {
  const auto* service = dynamic_cast<const LambdaService*>(&lambda_service);
  return service != nullptr ? service->esm_stats() : json();
}

std::size_t LambdaService::process_due_events() { return async_ ? async_->process_due() : 0; }

json LambdaService::async_stats() const { return async_ ? async_->stats() : json(); }

json async_stats(const Service& lambda_service) {
  const auto* service = dynamic_cast<const LambdaService*>(&lambda_service);
  return service != nullptr ? service->async_stats() : json();
}

std::optional<json> LambdaService::load(const Partition& p, const std::string& name) {
  std::string key = record_key(p, name);
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(cache_mutex_);
    if (auto it = record_cache_.find(key); it != record_cache_.end()) return *it->second;
    generation = cache_generation_;
  }
  std::string value;
  if (!deps_.store->get(Column::lambda, key, value).ok()) return std::nullopt;
  json rec = json::parse(value, nullptr, false);
  if (rec.is_discarded()) return std::nullopt;
  // Cache what was read only if no write happened meanwhile (else it may be older than the store).
  auto parsed = std::make_shared<const json>(rec);
  std::lock_guard lock(cache_mutex_);
  if (generation == cache_generation_ && record_cache_.size() < 10'000) record_cache_[key] = std::move(parsed);
  return rec;
}

void LambdaService::store_record(const std::string& key, const json& rec) {
  auto parsed = std::make_shared<const json>(rec);
  std::lock_guard lock(cache_mutex_);
  ++cache_generation_;
  if (record_cache_.size() >= 10'000) record_cache_.clear();  // bounded; reloads from the store
  record_cache_[key] = std::move(parsed);
}

void LambdaService::erase_record(const std::string& key) {
  std::lock_guard lock(cache_mutex_);
  ++cache_generation_;
  record_cache_.erase(key);
}

Status LambdaService::put_record(const std::string& key, const json& rec) {
  Status st = deps_.store->put(Column::lambda, key, rec.dump());
  if (st.ok()) {
    store_record(key, rec);
  } else {
    erase_record(key);
  }
  return st;
}

Status LambdaService::delete_record(const std::string& key) {
  erase_record(key);
  return deps_.store->erase(Column::lambda, key);
}

std::optional<AwsError> validate_lambda_input(const std::string& operation, const json& input) {
  const protocol::ServiceModel* model = protocol::find_model("lambda");
  if (model == nullptr) return std::nullopt;
  const protocol::OperationModel* op = model->operation(operation);
  if (op == nullptr) return std::nullopt;
  if (input.is_object() && input.value("Runtime", "") == "stratus.cpp") {
    json copy = input;
    copy.erase("Runtime");
    return protocol::validate_input(*model, *op, copy);
  }
  return protocol::validate_input(*model, *op, input);
}

void LambdaService::build_operations() {
  using Sync = Outcome (Ops::*)(const json&);
  // Synchronous operations: validated here (InputRules::none, so "stratus.cpp" passes), run under the
  // service's lock.
  auto sync = [this](std::string name, Sync fn, std::string notes = "") {
    OperationSpec spec;
    spec.name = name;
    spec.rules = InputRules::none;
    spec.notes = std::move(notes);
    spec.handler = [this, name, fn](const CallContext& ctx, json& input, Reply reply) {
      if (auto e = validate_lambda_input(name, input)) return reply(Outcome::fail(*e));
      Partition p{ctx.account, ctx.region};
      Outcome outcome;
      {
        std::lock_guard lock(mutex_);
        Ops ops{*this, p};
        outcome = (ops.*fn)(input);
      }
      reply(std::move(outcome));
    };
    operations_.push_back(std::move(spec));
  };
  sync("CreateFunction", &Ops::create_function,
       "Code.ZipFile (Handler = .so path in the zip) or S3Bucket \"hot-reload\" + S3Key path; no images/S3; "
       "State is Active at once");
  sync("GetFunction", &Ops::get_function, "Code.Location is a file:// URL of the package on disk");
  sync("GetFunctionConfiguration", &Ops::get_function_configuration);
  sync("ListFunctions", &Ops::list_functions, "MasterRegion ignored");
  sync("UpdateFunctionCode", &Ops::update_function_code);
  sync("UpdateFunctionConfiguration", &Ops::update_function_configuration,
       "Layers, VPC, file systems stored but unused; DeadLetterConfig used for SQS queues");
  sync("DeleteFunction", &Ops::delete_function);
  sync("PublishVersion", &Ops::publish_version);
  sync("ListVersionsByFunction", &Ops::list_versions);
  sync("CreateAlias", &Ops::create_alias);
  sync("GetAlias", &Ops::get_alias);
  sync("UpdateAlias", &Ops::update_alias);
  sync("DeleteAlias", &Ops::delete_alias);
  sync("ListAliases", &Ops::list_aliases);
  sync("PutFunctionConcurrency", &Ops::put_function_concurrency);
  sync("GetFunctionConcurrency", &Ops::get_function_concurrency);
  sync("DeleteFunctionConcurrency", &Ops::delete_function_concurrency);
  sync("PutProvisionedConcurrencyConfig", &Ops::put_provisioned_concurrency, "READY at once");
  sync("GetProvisionedConcurrencyConfig", &Ops::get_provisioned_concurrency);
  sync("DeleteProvisionedConcurrencyConfig", &Ops::delete_provisioned_concurrency);
  sync("PutFunctionEventInvokeConfig", &Ops::put_event_invoke_config_replace);
  sync("GetFunctionEventInvokeConfig", &Ops::get_event_invoke_config);
  sync("UpdateFunctionEventInvokeConfig", &Ops::put_event_invoke_config_merge);
  sync("DeleteFunctionEventInvokeConfig", &Ops::delete_event_invoke_config);
  sync("TagResource", &Ops::tag_resource);
  sync("UntagResource", &Ops::untag_resource);
  sync("ListTags", &Ops::list_tags);
  sync("GetAccountSettings", &Ops::get_account_settings);

  // Invoke: resolved under the lock, run by the executor without it; answers when the executor does.
  OperationSpec invoke;
  invoke.name = "Invoke";
  invoke.rules = InputRules::none;
  invoke.notes =
      "ClientContext not passed on; Event: durable queue, retries, destinations (function and SQS; SNS, "
      "EventBridge, S3 logged as undeliverable) and DeadLetterConfig (SQS); retry delays configurable";
  invoke.handler = [this](const CallContext& ctx, json& input, Reply reply) {
    if (auto e = validate_lambda_input("Invoke", input)) return reply(Outcome::fail(*e));
    Partition p{ctx.account, ctx.region};
    Ops::InvokePlan plan;
    std::optional<Outcome> early;
    {
      std::lock_guard lock(mutex_);
      Ops ops{*this, p};
      early = ops.plan_invoke(input, ctx.request, plan);
    }
    if (early) return reply(std::move(*early));
    std::shared_ptr<FunctionExecutor> executor = deps_.executor;
    if (plan.type == InvocationType::event) {
      // Lambda queues the event durably and answers 202; the queue runs it (async_queue.hpp).
      // https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html
      if (!async_) return reply(Outcome::fail(AwsError::receiver(500, "ServiceException", "no event queue")));
      std::string id = ctx.request_id.empty() ? new_request_id() : ctx.request_id;
      Status st = async_->enqueue(id, p.account, p.region, plan.function, plan.qualifier, plan.payload);
      if (!st.ok()) return reply(Outcome::fail(Ops::store_error(st)));
      return reply(Outcome::ok({{"StatusCode", 202}}));
    }
    auto shared_plan = std::make_shared<Ops::InvokePlan>(std::move(plan));
    std::string payload = std::move(shared_plan->payload);
    executor->invoke(
        shared_plan->config, std::move(payload), InvocationType::request_response,
        [shared_plan, reply](InvokeResult result) { reply(Ops::invoke_outcome(result, *shared_plan)); });
  };
  operations_.push_back(std::move(invoke));
  build_esm_operations();
}

std::optional<AwsError> LambdaService::resolve_invocation(const Partition& p, const std::string& function,
                                                         const std::string& qualifier, FunctionConfig& config) {
  json in = {{"FunctionName", function}};
  if (!qualifier.empty()) in["Qualifier"] = qualifier;
  std::lock_guard lock(mutex_);
  Ops ops{*this, p};
  json rec;
  FunctionRef ref;
  if (auto e = ops.find(in, rec, ref)) return e;
  std::string version;
  if (auto e = ops.resolve_version(rec, ref.qualifier, version, true)) return e;
  config = ops.executor_config(rec, ops.config_of(rec, version), ref.qualifier);
  return std::nullopt;
}

Outcome LambdaService::call(const std::string& operation, const Partition& partition, json input,
                            const http::Request* request) {
  for (const auto& op : operations_) {
    if (op.name != operation) continue;
    CallContext ctx;
    ctx.account = partition.account;
    ctx.region = partition.region;
    ctx.service = "lambda";
    ctx.operation = operation;
    ctx.request_id = new_request_id();
    ctx.now_ms = deps_.clock->now_ms();
    ctx.request = request;
    // Synchronous for every operation but an Invoke the executor answers later: wait for it.
    auto promise = std::make_shared<std::promise<Outcome>>();
    auto future = promise->get_future();
    auto answered = std::make_shared<std::atomic<bool>>(false);
    op.handler(ctx, input, [promise, answered](Outcome o) {
      if (!answered->exchange(true)) promise->set_value(std::move(o));
    });
    return future.get();
  }
  return Outcome::fail(AwsError::sender(400, "UnknownOperationException", "Unknown operation " + operation));
}

std::shared_ptr<Service> make_lambda_service(LambdaDeps deps) {
  if (deps.clock == nullptr) deps.clock = &SystemClock::instance();
  if (deps.data_dir.empty() && deps.store != nullptr) deps.data_dir = deps.store->data_dir();
  return std::make_shared<LambdaService>(std::move(deps));
}

}  // namespace stratus::services::lambda
