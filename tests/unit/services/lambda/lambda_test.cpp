// The Lambda control plane against an ephemeral store, with packages built here with libzip and a fake
// executor standing in for the runtime.
#include <gtest/gtest.h>
#include <zip.h>

#include <filesystem>
#include <fstream>
#include <list>
#include <mutex>
#include <regex>

#include "protocol/protocol.hpp"
#include "services/lambda/code.hpp"
#include "services/lambda/lambda_service.hpp"
#include "services/lambda/names.hpp"

namespace stratus::services::lambda {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// An ELF-looking shared library: the control plane only checks the magic.
std::string fake_library(const std::string& tag = "v1") {
  return std::string(
             "\x7f"
             "ELF",
             4) +
         "fake-so-" + tag;
}

// A zip holding `files` (name -> bytes), as bytes.
std::string make_zip(const std::map<std::string, std::string>& files) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(nullptr, 0, 0, &err);
  zip_t* z = zip_open_from_source(src, ZIP_TRUNCATE, &err);
  zip_source_keep(src);
  std::list<std::string> keep;  // stable addresses until zip_close reads them
  for (const auto& [name, data] : files) {
    keep.push_back(data);
    zip_source_t* s = zip_source_buffer(z, keep.back().data(), keep.back().size(), 0);
    zip_file_add(z, name.c_str(), s, ZIP_FL_OVERWRITE);
  }
  zip_close(z);
  zip_source_open(src);
  zip_source_seek(src, 0, SEEK_END);
  zip_int64_t size = zip_source_tell(src);
  zip_source_seek(src, 0, SEEK_SET);
  std::string out(static_cast<std::size_t>(size), '\0');
  zip_source_read(src, out.data(), static_cast<zip_uint64_t>(size));
  zip_source_close(src);
  zip_source_free(src);
  zip_error_fini(&err);
  return out;
}

std::string zip_b64(const std::string& tag = "v1", const std::string& name = "libecho.so") {
  return protocol::base64_encode(make_zip({{name, fake_library(tag)}}));
}

class FakeExecutor : public FunctionExecutor {
 public:
  void invoke(const FunctionConfig& config, std::string payload, InvocationType type,
              std::function<void(InvokeResult)> done) override {
    std::lock_guard lock(mutex);
    configs.push_back(config);
    payloads.push_back(payload);
    types.push_back(type);
    InvokeResult r = next;
    if (r.payload.empty() && r.status == InvokeResult::Status::ok) r.payload = payload;  // echo
    done(r);
  }
  void function_removed(const std::string& arn, const std::string& version) override {
    std::lock_guard lock(mutex);
    removed.push_back(arn + "|" + version);
  }
  void provisioned_concurrency_changed(const FunctionConfig& config) override {
    std::lock_guard lock(mutex);
    provisioned.push_back(config);
  }
  std::mutex mutex;
  InvokeResult next;
  std::vector<FunctionConfig> configs;
  std::vector<std::string> payloads;
  std::vector<InvocationType> types;
  std::vector<std::string> removed;
  std::vector<FunctionConfig> provisioned;
};

class LambdaTest : public ::testing::Test {
 protected:
  void SetUp() override { open_store(StoreOptions{"", true, false}); }

  void open_store(const StoreOptions& options) {
    Status st;
    store = Store::open(options, st);
    ASSERT_TRUE(store) << st.message;
    LambdaDeps deps;
    deps.store = store.get();
    deps.clock = &clock;
    deps.data_dir = store->data_dir();
    deps.executor = executor;
    deps.async_background = false;  // Event invokes run when a test calls process_due_events()
    service = make_lambda_service(deps);
    lambda = dynamic_cast<LambdaService*>(service.get());
  }

  Outcome call(const std::string& op, json in, const http::Request* request = nullptr) {
    return lambda->call(op, p, std::move(in), request);
  }

  json create(const std::string& name, json extra = json::object()) {
    json in = {{"FunctionName", name},
               {"Runtime", "provided.al2023"},
               {"Role", "arn:aws:iam::000000000000:role/lambda-role"},
               {"Handler", "libecho.so"},
               {"Code", {{"ZipFile", zip_b64()}}}};
    in.update(extra);
    Outcome o = call("CreateFunction", in);
    EXPECT_FALSE(o.error) << o.error->code << ": " << o.error->message;
    return o.output;
  }

  static void expect_error(const Outcome& o, const std::string& code, const std::string& message_part = "") {
    ASSERT_TRUE(o.error) << o.output.dump();
    EXPECT_EQ(o.error->code, code) << o.error->message;
    if (!message_part.empty()) {
      EXPECT_NE(o.error->message.find(message_part), std::string::npos) << o.error->message;
    }
  }

  Outcome invoke(const std::string& name, const std::string& payload, json extra = json::object()) {
    http::Request request;
    request.body = payload;
    json in = {{"FunctionName", name}};
    in.update(extra);
    return call("Invoke", in, &request);
  }

  ManualClock clock;
  std::shared_ptr<FakeExecutor> executor = std::make_shared<FakeExecutor>();
  std::unique_ptr<Store> store;
  std::shared_ptr<Service> service;
  LambdaService* lambda = nullptr;
  Partition p{"000000000000", "us-east-1"};
  const std::string arn_prefix = "arn:aws:lambda:us-east-1:000000000000:function:";
};

// --- names ---

TEST(LambdaNames, ParsesEveryForm) {
  auto a = parse_function_name("fn");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->name, "fn");
  EXPECT_EQ(a->qualifier, "");
  auto b = parse_function_name("fn:live");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->qualifier, "live");
  auto c = parse_function_name("123456789012:function:fn:3");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->account, "123456789012");
  EXPECT_EQ(c->name, "fn");
  EXPECT_EQ(c->qualifier, "3");
  auto d = parse_function_name("arn:aws:lambda:eu-west-1:123456789012:function:my-fn_1:$LATEST");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->region, "eu-west-1");
  EXPECT_EQ(d->name, "my-fn_1");
  EXPECT_EQ(d->qualifier, "$LATEST");
  EXPECT_FALSE(parse_function_name(""));
  EXPECT_FALSE(parse_function_name("a:b:c"));
  EXPECT_FALSE(parse_function_name("bad name"));
  EXPECT_FALSE(parse_function_name("arn:aws:s3:eu-west-1:123456789012:function:x"));
  EXPECT_FALSE(parse_function_name(std::string(65, 'a')));
  EXPECT_TRUE(is_version_number("12"));
  EXPECT_FALSE(is_version_number("$LATEST"));
  EXPECT_EQ(qualified_arn("us-east-1", "000000000000", "f", "1"),
            "arn:aws:lambda:us-east-1:000000000000:function:f:1");
}

TEST(LambdaCode, Sha256MatchesKnownVector) {
  // SHA-256("abc") = ba7816bf...; base64 = ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=
  EXPECT_EQ(code_sha256("abc"), "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
}

// --- CreateFunction / Get ---

TEST_F(LambdaTest, CreateFunctionReturnsTheConfiguration) {
  std::string zip = make_zip({{"libecho.so", fake_library()}});
  json out = create("echo", {{"Code", {{"ZipFile", protocol::base64_encode(zip)}}},
                             {"Environment", {{"Variables", {{"AB", "1"}}}}}});
  EXPECT_EQ(out["FunctionName"], "echo");
  EXPECT_EQ(out["FunctionArn"], arn_prefix + "echo");
  EXPECT_EQ(out["CodeSha256"], code_sha256(zip));
  EXPECT_EQ(out["CodeSize"], zip.size());
  EXPECT_EQ(out["Version"], "$LATEST");
  EXPECT_EQ(out["State"], "Active");
  EXPECT_EQ(out["LastUpdateStatus"], "Successful");
  EXPECT_EQ(out["MemorySize"], 128);
  EXPECT_EQ(out["Timeout"], 3);
  EXPECT_EQ(out["PackageType"], "Zip");
  EXPECT_EQ(out["Environment"]["Variables"]["AB"], "1");
  EXPECT_TRUE(std::regex_match(out["LastModified"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000)")));
  EXPECT_EQ(out["RevisionId"].get<std::string>().size(), 36u);
  for (auto it = out.begin(); it != out.end(); ++it) EXPECT_FALSE(it.key().starts_with("_")) << it.key();
  // The package is unpacked under the data dir.
  EXPECT_TRUE(fs::exists(fs::path(store->data_dir()) / "lambda" / "000000000000" / "us-east-1" / "echo" /
                         sha256_hex(zip) / "libecho.so"));
}

TEST_F(LambdaTest, CreateFunctionErrors) {
  create("echo");
  expect_error(call("CreateFunction", {{"FunctionName", "echo"},
                                       {"Runtime", "provided.al2023"},
                                       {"Role", "arn:aws:iam::000000000000:role/r"},
                                       {"Handler", "libecho.so"},
                                       {"Code", {{"ZipFile", zip_b64()}}}}),
               "ResourceConflictException", "Function already exist: echo");
  json base = {{"FunctionName", "f2"},
               {"Runtime", "provided.al2023"},
               {"Role", "arn:aws:iam::000000000000:role/r"},
               {"Handler", "libecho.so"}};
  json bad_zip = base;
  bad_zip["Code"] = {{"ZipFile", protocol::base64_encode("not a zip at all")}};
  expect_error(call("CreateFunction", bad_zip), "InvalidParameterValueException",
               "Could not unzip uploaded file");
  json no_lib = base;
  no_lib["Code"] = {{"ZipFile", protocol::base64_encode(make_zip({{"other.so", fake_library()}}))}};
  expect_error(call("CreateFunction", no_lib), "InvalidParameterValueException", "Handler 'libecho.so'");
  json escaping = base;
  escaping["Handler"] = "../x.so";
  escaping["Code"] = {{"ZipFile", protocol::base64_encode(make_zip({{"../x.so", fake_library()}}))}};
  expect_error(call("CreateFunction", escaping), "InvalidParameterValueException");
  json python = base;
  python["Runtime"] = "python3.12";
  python["Code"] = {{"ZipFile", zip_b64()}};
  expect_error(call("CreateFunction", python), "InvalidParameterValueException", "not supported by Stratus");
  json bogus = python;
  bogus["Runtime"] = "cobol";
  expect_error(call("CreateFunction", bogus), "ValidationException");
  json reserved = base;
  reserved["Code"] = {{"ZipFile", zip_b64()}};
  reserved["Environment"] = {{"Variables", {{"AWS_REGION", "x"}}}};
  expect_error(call("CreateFunction", reserved), "InvalidParameterValueException",
               "Reserved keys used in this request: AWS_REGION");
  json no_handler = base;
  no_handler.erase("Handler");
  no_handler["Code"] = {{"ZipFile", zip_b64()}};
  expect_error(call("CreateFunction", no_handler), "InvalidParameterValueException",
               "Runtime and Handler are mandatory");
  json no_role = base;
  no_role.erase("Role");
  no_role["Code"] = {{"ZipFile", zip_b64()}};
  expect_error(call("CreateFunction", no_role), "ValidationException");
  json s3 = base;
  s3["Code"] = {{"S3Bucket", "bucket"}, {"S3Key", "k.zip"}};
  expect_error(call("CreateFunction", s3), "InvalidParameterValueException", "NoSuchBucket");
  json memory = base;
  memory["Code"] = {{"ZipFile", zip_b64()}};
  memory["MemorySize"] = 64;
  expect_error(call("CreateFunction", memory), "ValidationException", "memorySize");
}

TEST_F(LambdaTest, StratusRuntimeAndSubdirectoryHandlerAreAccepted) {
  json in = {
      {"FunctionName", "cpp"},
      {"Runtime", "stratus.cpp"},
      {"Role", "arn:aws:iam::000000000000:role/r"},
      {"Handler", "lib/handler.so"},
      {"Code", {{"ZipFile", protocol::base64_encode(make_zip({{"lib/handler.so", fake_library()}}))}}}};
  Outcome o = call("CreateFunction", in);
  ASSERT_FALSE(o.error) << o.error->message;
  EXPECT_EQ(o.output["Runtime"], "stratus.cpp");
}

TEST_F(LambdaTest, HotReloadUsesTheLibraryInPlace) {
  fs::path dir = fs::path(store->data_dir()) / "src";
  fs::create_directories(dir);
  std::ofstream(dir / "libhot.so") << fake_library("hot");
  json in = {{"FunctionName", "hot"},
             {"Runtime", "provided.al2023"},
             {"Role", "arn:aws:iam::000000000000:role/r"},
             {"Handler", "libhot.so"},
             {"Code", {{"S3Bucket", "hot-reload"}, {"S3Key", dir.string()}}}};
  Outcome o = call("CreateFunction", in);
  ASSERT_FALSE(o.error) << o.error->message;
  invoke("hot", "{}");
  ASSERT_EQ(executor->configs.size(), 1u);
  EXPECT_EQ(executor->configs[0].library_path, (dir / "libhot.so").string());
  EXPECT_TRUE(executor->configs[0].hot_reload);
  json missing = in;
  missing["FunctionName"] = "hot2";
  missing["Code"]["S3Key"] = "/nonexistent/lib.so";
  expect_error(call("CreateFunction", missing), "InvalidParameterValueException", "hot reload");
}

TEST_F(LambdaTest, GetFunctionByEveryNameForm) {
  create("echo", {{"Tags", {{"team", "a"}}}});
  for (const std::string& name :
       std::vector<std::string>{"echo", "000000000000:function:echo", arn_prefix + "echo"}) {
    Outcome o = call("GetFunction", {{"FunctionName", name}});
    ASSERT_FALSE(o.error) << name << ": " << o.error->message;
    EXPECT_EQ(o.output["Configuration"]["FunctionArn"], arn_prefix + "echo");
    EXPECT_EQ(o.output["Code"]["RepositoryType"], "S3");
    EXPECT_EQ(o.output["Tags"]["team"], "a");
  }
  Outcome q = call("GetFunctionConfiguration", {{"FunctionName", "echo:$LATEST"}});
  ASSERT_FALSE(q.error);
  EXPECT_EQ(q.output["FunctionArn"], arn_prefix + "echo:$LATEST");
  expect_error(call("GetFunction", {{"FunctionName", "nope"}}), "ResourceNotFoundException",
               "Function not found: " + arn_prefix + "nope");
  expect_error(call("GetFunction", {{"FunctionName", "echo:7"}}), "ResourceNotFoundException",
               "Function not found: " + arn_prefix + "echo:7");
  expect_error(call("GetFunction", {{"FunctionName", "echo:1"}, {"Qualifier", "2"}}),
               "InvalidParameterValueException", "derived qualifier");
  expect_error(call("GetFunction", {{"FunctionName", "111111111111:function:echo"}}),
               "ResourceNotFoundException");
}

TEST_F(LambdaTest, ListFunctionsPaginates) {
  for (std::string n : {"e", "d", "c", "b", "a"}) create(n);
  std::vector<std::string> seen;
  json in = {{"MaxItems", 2}};
  int pages = 0;
  while (true) {
    Outcome o = call("ListFunctions", in);
    ASSERT_FALSE(o.error) << o.error->message;
    ++pages;
    for (const auto& f : o.output["Functions"]) seen.push_back(f["FunctionName"]);
    if (!o.output.contains("NextMarker")) break;
    in["Marker"] = o.output["NextMarker"];
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  expect_error(call("ListFunctions", {{"Marker", "@@@"}}), "InvalidParameterValueException");
  expect_error(call("ListFunctions", {{"MaxItems", 0}}), "ValidationException");

  ASSERT_FALSE(call("PublishVersion", {{"FunctionName", "a"}}).error);
  Outcome all = call("ListFunctions", {{"FunctionVersion", "ALL"}});
  ASSERT_EQ(all.output["Functions"].size(), 6u);
  EXPECT_EQ(all.output["Functions"][0]["FunctionArn"], arn_prefix + "a:$LATEST");
  EXPECT_EQ(all.output["Functions"][1]["FunctionArn"], arn_prefix + "a:1");
  Outcome latest = call("ListFunctions", json::object());
  EXPECT_EQ(latest.output["Functions"].size(), 5u);
  EXPECT_EQ(latest.output["Functions"][0]["FunctionArn"], arn_prefix + "a");
}

TEST_F(LambdaTest, StateIsPartitionedByRegion) {
  create("echo");
  p.region = "eu-west-1";
  expect_error(call("GetFunction", {{"FunctionName", "echo"}}), "ResourceNotFoundException",
               "arn:aws:lambda:eu-west-1:000000000000:function:echo");
  EXPECT_EQ(call("ListFunctions", json::object()).output["Functions"].size(), 0u);
}

// --- updates ---

TEST_F(LambdaTest, UpdateFunctionCodeChangesShaAndRevision) {
  json before = create("echo");
  std::string zip2 = make_zip({{"libecho.so", fake_library("v2")}});
  Outcome o =
      call("UpdateFunctionCode", {{"FunctionName", "echo"}, {"ZipFile", protocol::base64_encode(zip2)}});
  ASSERT_FALSE(o.error) << o.error->message;
  EXPECT_EQ(o.output["CodeSha256"], code_sha256(zip2));
  EXPECT_NE(o.output["RevisionId"], before["RevisionId"]);
  expect_error(
      call("UpdateFunctionCode",
           {{"FunctionName", "echo"}, {"ZipFile", zip_b64("v3")}, {"RevisionId", before["RevisionId"]}}),
      "PreconditionFailedException");
  // The old package directory is gone; the new one is there.
  fs::path root = fs::path(store->data_dir()) / "lambda" / "000000000000" / "us-east-1" / "echo";
  EXPECT_FALSE(fs::exists(root / sha256_hex(make_zip({{"libecho.so", fake_library()}}))));
  EXPECT_TRUE(fs::exists(root / sha256_hex(zip2)));
  expect_error(call("UpdateFunctionCode", {{"FunctionName", "nope"}, {"ZipFile", zip_b64()}}),
               "ResourceNotFoundException");
  Outcome published =
      call("UpdateFunctionCode", {{"FunctionName", "echo"}, {"ZipFile", zip_b64("v4")}, {"Publish", true}});
  ASSERT_FALSE(published.error);
  EXPECT_EQ(published.output["Version"], "1");
}

TEST_F(LambdaTest, UpdateFunctionConfiguration) {
  json before = create("echo");
  Outcome o = call("UpdateFunctionConfiguration", {{"FunctionName", "echo"},
                                                   {"MemorySize", 512},
                                                   {"Timeout", 30},
                                                   {"Description", "hi"},
                                                   {"Environment", {{"Variables", {{"KEY", "V"}}}}},
                                                   {"RevisionId", before["RevisionId"]}});
  ASSERT_FALSE(o.error) << o.error->message;
  EXPECT_EQ(o.output["MemorySize"], 512);
  EXPECT_EQ(o.output["Timeout"], 30);
  EXPECT_EQ(o.output["Description"], "hi");
  EXPECT_EQ(o.output["Environment"]["Variables"]["KEY"], "V");
  EXPECT_NE(o.output["RevisionId"], before["RevisionId"]);
  expect_error(call("UpdateFunctionConfiguration", {{"FunctionName", "echo"}, {"MemorySize", 20000}}),
               "ValidationException", "Member must have value less than or equal to 10240");
  expect_error(call("UpdateFunctionConfiguration", {{"FunctionName", "echo"}, {"Timeout", 0}}),
               "ValidationException");
  expect_error(call("UpdateFunctionConfiguration", {{"FunctionName", "echo"}, {"Timeout", 901}}),
               "ValidationException");
  expect_error(call("UpdateFunctionConfiguration", {{"FunctionName", "echo"}, {"RevisionId", "stale"}}),
               "PreconditionFailedException", "Revision Id");
  expect_error(call("UpdateFunctionConfiguration", {{"FunctionName", "echo"}, {"Handler", "missing.so"}}),
               "InvalidParameterValueException");
  expect_error(call("UpdateFunctionConfiguration", {{"FunctionName", "echo"}, {"Runtime", "nodejs20.x"}}),
               "InvalidParameterValueException");
  invoke("echo", "{}");
  ASSERT_EQ(executor->configs.size(), 1u);
  EXPECT_EQ(executor->configs[0].memory_mb, 512);
  EXPECT_EQ(executor->configs[0].timeout_ms, 30000);
  EXPECT_EQ(executor->configs[0].environment.at("KEY"), "V");
}

TEST_F(LambdaTest, DeleteFunctionAndVersions) {
  create("echo");
  ASSERT_FALSE(call("PublishVersion", {{"FunctionName", "echo"}}).error);
  ASSERT_FALSE(
      call("CreateAlias", {{"FunctionName", "echo"}, {"Name", "live"}, {"FunctionVersion", "1"}}).error);
  expect_error(call("DeleteFunction", {{"FunctionName", "echo"}, {"Qualifier", "1"}}),
               "ResourceConflictException", "aliases reference it: [live]");
  expect_error(call("DeleteFunction", {{"FunctionName", "echo"}, {"Qualifier", "$LATEST"}}),
               "InvalidParameterValueException");
  ASSERT_FALSE(call("DeleteAlias", {{"FunctionName", "echo"}, {"Name", "live"}}).error);
  Outcome v = call("DeleteFunction", {{"FunctionName", "echo:1"}});
  ASSERT_FALSE(v.error) << v.error->message;
  EXPECT_EQ(v.output["StatusCode"], 204);
  expect_error(call("GetFunction", {{"FunctionName", "echo:1"}}), "ResourceNotFoundException");
  Outcome d = call("DeleteFunction", {{"FunctionName", arn_prefix + "echo"}});
  ASSERT_FALSE(d.error);
  expect_error(call("GetFunction", {{"FunctionName", "echo"}}), "ResourceNotFoundException");
  expect_error(call("DeleteFunction", {{"FunctionName", "echo"}}), "ResourceNotFoundException");
  EXPECT_FALSE(fs::exists(fs::path(store->data_dir()) / "lambda" / "000000000000" / "us-east-1" / "echo"));
  EXPECT_EQ(executor->removed, (std::vector<std::string>{arn_prefix + "echo|1", arn_prefix + "echo|"}));
}

// --- versions and aliases ---

TEST_F(LambdaTest, PublishVersionNumbersAndDedupes) {
  create("echo");
  Outcome v1 = call("PublishVersion", {{"FunctionName", "echo"}});
  ASSERT_FALSE(v1.error);
  EXPECT_EQ(v1.output["Version"], "1");
  EXPECT_EQ(v1.output["FunctionArn"], arn_prefix + "echo:1");
  Outcome again = call("PublishVersion", {{"FunctionName", "echo"}});
  EXPECT_EQ(again.output["Version"], "1");
  ASSERT_FALSE(call("UpdateFunctionConfiguration", {{"FunctionName", "echo"}, {"Timeout", 10}}).error);
  Outcome v2 = call("PublishVersion", {{"FunctionName", "echo"}, {"Description", "second"}});
  EXPECT_EQ(v2.output["Version"], "2");
  EXPECT_EQ(v2.output["Description"], "second");
  EXPECT_EQ(v2.output["Timeout"], 10);
  expect_error(call("PublishVersion", {{"FunctionName", "echo"}, {"CodeSha256", "xyz"}}),
               "InvalidParameterValueException", "CodeSHA256");
  Outcome list = call("ListVersionsByFunction", {{"FunctionName", "echo"}, {"MaxItems", 2}});
  ASSERT_EQ(list.output["Versions"].size(), 2u);
  EXPECT_EQ(list.output["Versions"][0]["Version"], "$LATEST");
  EXPECT_EQ(list.output["Versions"][0]["FunctionArn"], arn_prefix + "echo:$LATEST");
  EXPECT_EQ(list.output["Versions"][1]["Version"], "1");
  ASSERT_TRUE(list.output.contains("NextMarker"));
  Outcome rest =
      call("ListVersionsByFunction", {{"FunctionName", "echo"}, {"Marker", list.output["NextMarker"]}});
  ASSERT_EQ(rest.output["Versions"].size(), 1u);
  EXPECT_EQ(rest.output["Versions"][0]["Version"], "2");
  EXPECT_FALSE(rest.output.contains("NextMarker"));
  // Versions keep their configuration.
  EXPECT_EQ(
      call("GetFunctionConfiguration", {{"FunctionName", "echo"}, {"Qualifier", "1"}}).output["Timeout"], 3);
}

TEST_F(LambdaTest, Aliases) {
  create("echo");
  call("PublishVersion", {{"FunctionName", "echo"}});
  call("UpdateFunctionConfiguration", {{"FunctionName", "echo"}, {"Timeout", 5}});
  call("PublishVersion", {{"FunctionName", "echo"}});
  Outcome a = call("CreateAlias", {{"FunctionName", "echo"},
                                   {"Name", "live"},
                                   {"FunctionVersion", "1"},
                                   {"Description", "prod"},
                                   {"RoutingConfig", {{"AdditionalVersionWeights", {{"2", 0.25}}}}}});
  ASSERT_FALSE(a.error) << a.error->message;
  EXPECT_EQ(a.output["AliasArn"], arn_prefix + "echo:live");
  EXPECT_EQ(a.output["RoutingConfig"]["AdditionalVersionWeights"]["2"], 0.25);
  expect_error(call("CreateAlias", {{"FunctionName", "echo"}, {"Name", "live"}, {"FunctionVersion", "1"}}),
               "ResourceConflictException", "Alias already exists: " + arn_prefix + "echo:live");
  expect_error(call("CreateAlias", {{"FunctionName", "echo"}, {"Name", "x"}, {"FunctionVersion", "9"}}),
               "ResourceNotFoundException");
  expect_error(call("CreateAlias", {{"FunctionName", "echo"}, {"Name", "123"}, {"FunctionVersion", "1"}}),
               "ValidationException");
  Outcome g = call("GetFunctionConfiguration", {{"FunctionName", "echo:live"}});
  EXPECT_EQ(g.output["Version"], "1");
  EXPECT_EQ(g.output["FunctionArn"], arn_prefix + "echo:live");
  Outcome u = call("UpdateAlias", {{"FunctionName", "echo"},
                                   {"Name", "live"},
                                   {"FunctionVersion", "2"},
                                   {"RoutingConfig", {{"AdditionalVersionWeights", json::object()}}},
                                   {"RevisionId", a.output["RevisionId"]}});
  ASSERT_FALSE(u.error) << u.error->message;
  EXPECT_EQ(u.output["FunctionVersion"], "2");
  EXPECT_FALSE(u.output.contains("RoutingConfig"));
  expect_error(call("UpdateAlias", {{"FunctionName", "echo"}, {"Name", "live"}, {"RevisionId", "old"}}),
               "PreconditionFailedException");
  call("CreateAlias", {{"FunctionName", "echo"}, {"Name", "beta"}, {"FunctionVersion", "$LATEST"}});
  Outcome list = call("ListAliases", {{"FunctionName", "echo"}});
  ASSERT_EQ(list.output["Aliases"].size(), 2u);
  EXPECT_EQ(list.output["Aliases"][0]["Name"], "beta");
  Outcome filtered = call("ListAliases", {{"FunctionName", "echo"}, {"FunctionVersion", "2"}});
  ASSERT_EQ(filtered.output["Aliases"].size(), 1u);
  Outcome page = call("ListAliases", {{"FunctionName", "echo"}, {"MaxItems", 1}});
  ASSERT_TRUE(page.output.contains("NextMarker"));
  Outcome page2 = call("ListAliases", {{"FunctionName", "echo"}, {"Marker", page.output["NextMarker"]}});
  EXPECT_EQ(page2.output["Aliases"][0]["Name"], "live");
  ASSERT_FALSE(call("DeleteAlias", {{"FunctionName", "echo"}, {"Name", "beta"}}).error);
  expect_error(call("GetAlias", {{"FunctionName", "echo"}, {"Name", "beta"}}), "ResourceNotFoundException",
               "Cannot find alias arn: " + arn_prefix + "echo:beta");
}

// --- concurrency, event invoke configs, tags, account ---

TEST_F(LambdaTest, ReservedConcurrency) {
  create("echo");
  create("other");
  EXPECT_EQ(call("GetFunctionConcurrency", {{"FunctionName", "echo"}}).output, json::object());
  Outcome put =
      call("PutFunctionConcurrency", {{"FunctionName", "echo"}, {"ReservedConcurrentExecutions", 800}});
  ASSERT_FALSE(put.error);
  EXPECT_EQ(put.output["ReservedConcurrentExecutions"], 800);
  EXPECT_EQ(call("GetFunctionConcurrency", {{"FunctionName", "echo"}}).output["ReservedConcurrentExecutions"],
            800);
  EXPECT_EQ(
      call("GetFunction", {{"FunctionName", "echo"}}).output["Concurrency"]["ReservedConcurrentExecutions"],
      800);
  expect_error(
      call("PutFunctionConcurrency", {{"FunctionName", "other"}, {"ReservedConcurrentExecutions", 101}}),
      "InvalidParameterValueException", "below its minimum value of [100]");
  expect_error(
      call("PutFunctionConcurrency", {{"FunctionName", "other"}, {"ReservedConcurrentExecutions", -1}}),
      "ValidationException");
  Outcome settings = call("GetAccountSettings", json::object());
  EXPECT_EQ(settings.output["AccountLimit"]["UnreservedConcurrentExecutions"], 200);
  EXPECT_EQ(settings.output["AccountUsage"]["FunctionCount"], 2);
  ASSERT_FALSE(call("DeleteFunctionConcurrency", {{"FunctionName", "echo"}}).error);
  EXPECT_EQ(call("GetFunctionConcurrency", {{"FunctionName", "echo"}}).output, json::object());
}

TEST_F(LambdaTest, ProvisionedConcurrency) {
  create("echo");
  call("PublishVersion", {{"FunctionName", "echo"}});
  call("CreateAlias", {{"FunctionName", "echo"}, {"Name", "live"}, {"FunctionVersion", "1"}});
  expect_error(
      call("PutProvisionedConcurrencyConfig",
           {{"FunctionName", "echo"}, {"Qualifier", "$LATEST"}, {"ProvisionedConcurrentExecutions", 2}}),
      "InvalidParameterValueException");
  expect_error(call("GetProvisionedConcurrencyConfig", {{"FunctionName", "echo"}, {"Qualifier", "live"}}),
               "ProvisionedConcurrencyConfigNotFoundException");
  Outcome put =
      call("PutProvisionedConcurrencyConfig",
           {{"FunctionName", "echo"}, {"Qualifier", "live"}, {"ProvisionedConcurrentExecutions", 2}});
  ASSERT_FALSE(put.error) << put.error->message;
  EXPECT_EQ(put.output["Status"], "READY");
  EXPECT_EQ(put.output["RequestedProvisionedConcurrentExecutions"], 2);
  ASSERT_EQ(executor->provisioned.size(), 1u);
  EXPECT_EQ(executor->provisioned[0].version, "1");
  EXPECT_EQ(executor->provisioned[0].provisioned_concurrency, 2);
  EXPECT_EQ(call("GetProvisionedConcurrencyConfig", {{"FunctionName", "echo"}, {"Qualifier", "live"}})
                .output["AllocatedProvisionedConcurrentExecutions"],
            2);
  expect_error(
      call("PutProvisionedConcurrencyConfig",
           {{"FunctionName", "echo"}, {"Qualifier", "nope"}, {"ProvisionedConcurrentExecutions", 1}}),
      "ResourceNotFoundException");
  ASSERT_FALSE(
      call("DeleteProvisionedConcurrencyConfig", {{"FunctionName", "echo"}, {"Qualifier", "live"}}).error);
  expect_error(call("GetProvisionedConcurrencyConfig", {{"FunctionName", "echo"}, {"Qualifier", "live"}}),
               "ProvisionedConcurrencyConfigNotFoundException");
}

TEST_F(LambdaTest, EventInvokeConfig) {
  create("echo");
  expect_error(call("GetFunctionEventInvokeConfig", {{"FunctionName", "echo"}}), "ResourceNotFoundException",
               "doesn't have an EventInvokeConfig");
  json dest = {{"OnFailure", {{"Destination", arn_prefix + "dlq"}}}};
  Outcome put = call("PutFunctionEventInvokeConfig",
                     {{"FunctionName", "echo"}, {"MaximumRetryAttempts", 1}, {"DestinationConfig", dest}});
  ASSERT_FALSE(put.error) << put.error->message;
  EXPECT_EQ(put.output["FunctionArn"], arn_prefix + "echo:$LATEST");
  EXPECT_EQ(put.output["MaximumRetryAttempts"], 1);
  EXPECT_TRUE(put.output["LastModified"].is_number());
  Outcome upd =
      call("UpdateFunctionEventInvokeConfig", {{"FunctionName", "echo"}, {"MaximumEventAgeInSeconds", 120}});
  EXPECT_EQ(upd.output["MaximumRetryAttempts"], 1);
  EXPECT_EQ(upd.output["MaximumEventAgeInSeconds"], 120);
  Outcome replace =
      call("PutFunctionEventInvokeConfig", {{"FunctionName", "echo"}, {"MaximumEventAgeInSeconds", 60}});
  EXPECT_FALSE(replace.output.contains("MaximumRetryAttempts"));
  expect_error(call("PutFunctionEventInvokeConfig", {{"FunctionName", "echo"}, {"MaximumRetryAttempts", 3}}),
               "ValidationException");
  expect_error(
      call("PutFunctionEventInvokeConfig", {{"FunctionName", "echo"}, {"MaximumEventAgeInSeconds", 59}}),
      "ValidationException");
  expect_error(
      call("PutFunctionEventInvokeConfig",
           {{"FunctionName", "echo"},
            {"DestinationConfig",
             {{"OnSuccess", {{"Destination", "arn:aws:dynamodb:us-east-1:000000000000:table/t"}}}}}}),
      "InvalidParameterValueException");
  EXPECT_EQ(
      call("GetFunctionEventInvokeConfig", {{"FunctionName", "echo"}}).output["MaximumEventAgeInSeconds"],
      60);
  ASSERT_FALSE(call("DeleteFunctionEventInvokeConfig", {{"FunctionName", "echo"}}).error);
  expect_error(call("DeleteFunctionEventInvokeConfig", {{"FunctionName", "echo"}}),
               "ResourceNotFoundException");
}

TEST_F(LambdaTest, Tags) {
  create("echo", {{"Tags", {{"a", "1"}}}});
  std::string arn = arn_prefix + "echo";
  ASSERT_FALSE(call("TagResource", {{"Resource", arn}, {"Tags", {{"b", "2"}}}}).error);
  EXPECT_EQ(call("ListTags", {{"Resource", arn}}).output["Tags"], json({{"a", "1"}, {"b", "2"}}));
  ASSERT_FALSE(call("UntagResource", {{"Resource", arn}, {"TagKeys", {"a"}}}).error);
  EXPECT_EQ(call("ListTags", {{"Resource", arn}}).output["Tags"], json({{"b", "2"}}));
  expect_error(call("ListTags", {{"Resource", arn_prefix + "nope"}}), "ResourceNotFoundException");
  expect_error(call("TagResource", {{"Resource", arn + ":1"}, {"Tags", {{"x", "y"}}}}),
               "InvalidParameterValueException");
  expect_error(call("ListTags", {{"Resource", "echo"}}), "ValidationException");
}

// --- Invoke ---

TEST_F(LambdaTest, InvokeWithoutExecutorIsNotImplemented) {
  executor = nullptr;
  LambdaDeps deps;
  deps.store = store.get();
  deps.clock = &clock;
  deps.data_dir = store->data_dir();
  service = make_lambda_service(deps);
  lambda = dynamic_cast<LambdaService*>(service.get());
  create("echo");
  Outcome o = invoke("echo", "{}");
  expect_error(o, "NotImplemented", "Stratus cannot run functions in this build yet");
  EXPECT_EQ(o.error->http_status, 501);
  Outcome dry = invoke("echo", "{}", {{"InvocationType", "DryRun"}});
  ASSERT_FALSE(dry.error);
  EXPECT_EQ(dry.output["StatusCode"], 204);
}

TEST_F(LambdaTest, InvokeRequestResponse) {
  create("echo");
  executor->next.log_tail = std::string(5000, 'x') + "END";
  Outcome o = invoke("echo", R"({"k":1})", {{"LogType", "Tail"}});
  ASSERT_FALSE(o.error) << o.error->message;
  EXPECT_EQ(o.output["StatusCode"], 200);
  EXPECT_EQ(o.output["ExecutedVersion"], "$LATEST");
  ASSERT_TRUE(o.raw_payload);
  EXPECT_EQ(*o.raw_payload, R"({"k":1})");
  auto tail = protocol::base64_decode(o.output["LogResult"].get<std::string>());
  ASSERT_TRUE(tail);
  EXPECT_EQ(tail->size(), 4096u);
  EXPECT_TRUE(tail->ends_with("END"));
  ASSERT_EQ(executor->configs.size(), 1u);
  EXPECT_EQ(executor->configs[0].function_arn, arn_prefix + "echo");
  EXPECT_EQ(executor->configs[0].qualified_arn, arn_prefix + "echo:$LATEST");
  EXPECT_TRUE(executor->configs[0].library_path.ends_with("/libecho.so"));
  EXPECT_EQ(executor->types[0], InvocationType::request_response);
  // An empty payload is passed as {}.
  invoke("echo", "");
  EXPECT_EQ(executor->payloads.back(), "{}");
  Outcome quiet = invoke("echo", "{}");
  EXPECT_FALSE(quiet.output.contains("LogResult"));
}

TEST_F(LambdaTest, InvokeErrorsAndThrottles) {
  create("echo");
  executor->next.status = InvokeResult::Status::function_error;
  executor->next.payload = R"({"errorMessage":"boom","errorType":"Error"})";
  Outcome fe = invoke("echo", "{}");
  ASSERT_FALSE(fe.error);
  EXPECT_EQ(fe.output["StatusCode"], 200);
  EXPECT_EQ(fe.output["FunctionError"], "Unhandled");
  EXPECT_EQ(*fe.raw_payload, executor->next.payload);

  executor->next = InvokeResult{};
  executor->next.status = InvokeResult::Status::throttled;
  executor->next.throttle_reason = "ConcurrentInvocationLimitExceeded";
  Outcome th = invoke("echo", "{}");
  expect_error(th, "TooManyRequestsException", "Rate Exceeded.");
  EXPECT_EQ(th.error->http_status, 429);
  EXPECT_EQ(th.error->extra["Reason"], "ConcurrentInvocationLimitExceeded");

  executor->next = InvokeResult{};
  expect_error(invoke("echo", "{not json"), "InvalidRequestContentException",
               "Could not parse request body into json");
  expect_error(invoke("nope", "{}"), "ResourceNotFoundException",
               "Function not found: " + arn_prefix + "nope");
  expect_error(invoke("echo", "{}", {{"Qualifier", "3"}}), "ResourceNotFoundException",
               arn_prefix + "echo:3");
  Outcome big = invoke("echo", "\"" + std::string(6 * 1024 * 1024, 'a') + "\"");
  expect_error(big, "RequestTooLargeException");
  EXPECT_EQ(big.error->http_status, 413);

  call("PutFunctionConcurrency", {{"FunctionName", "echo"}, {"ReservedConcurrentExecutions", 0}});
  std::size_t before = executor->configs.size();
  Outcome zero = invoke("echo", "{}");
  expect_error(zero, "TooManyRequestsException");
  EXPECT_EQ(zero.error->extra["Reason"], "ReservedFunctionConcurrentInvocationLimitExceeded");
  EXPECT_EQ(executor->configs.size(), before);
}

TEST_F(LambdaTest, InvokeEventAndDryRunAndAliases) {
  create("echo");
  Outcome ev = invoke("echo", "{}", {{"InvocationType", "Event"}});
  ASSERT_FALSE(ev.error);
  EXPECT_EQ(ev.output["StatusCode"], 202);
  EXPECT_TRUE(executor->types.empty());  // queued, not run yet
  EXPECT_EQ(lambda->process_due_events(), 1u);
  EXPECT_EQ(executor->types.back(), InvocationType::event);
  std::size_t before = executor->configs.size();
  Outcome dry = invoke("echo", "{}", {{"InvocationType", "DryRun"}});
  EXPECT_EQ(dry.output["StatusCode"], 204);
  EXPECT_EQ(executor->configs.size(), before);

  call("PublishVersion", {{"FunctionName", "echo"}});
  call("CreateAlias", {{"FunctionName", "echo"}, {"Name", "live"}, {"FunctionVersion", "1"}});
  Outcome viaAlias = invoke("echo:live", "{}");
  ASSERT_FALSE(viaAlias.error);
  EXPECT_EQ(viaAlias.output["ExecutedVersion"], "1");
  EXPECT_EQ(executor->configs.back().version, "1");
  Outcome viaQualifier = invoke("echo", "{}", {{"Qualifier", "live"}});
  EXPECT_EQ(viaQualifier.output["ExecutedVersion"], "1");
}

// --- persistence ---

TEST_F(LambdaTest, SurvivesReopeningAPersistentStore) {
  fs::path dir = fs::temp_directory_path() / ("stratus-lambda-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  StoreOptions options;
  options.data_dir = dir.string();
  service.reset();
  store.reset();
  open_store(options);
  create("echo", {{"Tags", {{"t", "v"}}}});
  call("PublishVersion", {{"FunctionName", "echo"}});
  call("CreateAlias", {{"FunctionName", "echo"}, {"Name", "live"}, {"FunctionVersion", "1"}});
  call("PutFunctionConcurrency", {{"FunctionName", "echo"}, {"ReservedConcurrentExecutions", 5}});
  std::string sha = call("GetFunction", {{"FunctionName", "echo"}}).output["Configuration"]["CodeSha256"];
  service.reset();
  store->close();
  store.reset();

  open_store(options);
  Outcome g = call("GetFunction", {{"FunctionName", "echo:live"}});
  ASSERT_FALSE(g.error) << g.error->message;
  EXPECT_EQ(g.output["Configuration"]["CodeSha256"], sha);
  EXPECT_EQ(g.output["Configuration"]["Version"], "1");
  EXPECT_EQ(g.output["Tags"]["t"], "v");
  EXPECT_EQ(g.output["Concurrency"]["ReservedConcurrentExecutions"], 5);
  invoke("echo", "{}");
  ASSERT_FALSE(executor->configs.empty());
  EXPECT_TRUE(fs::exists(executor->configs.back().library_path));
  service.reset();
  store->close();
  store.reset();
  fs::remove_all(dir);
}

// --- stack providers ---

TEST_F(LambdaTest, StackProviderCreatesAndUpdates) {
  fs::path dir = fs::path(store->data_dir()) / "fn";
  fs::create_directories(dir);
  std::ofstream(dir / "libecho.so") << fake_library();
  auto provider = make_function_provider(service, "AWS::Serverless::Function");
  ASSERT_TRUE(provider);
  EXPECT_FALSE(make_function_provider(service, "AWS::SQS::Queue"));
  stack::Resource resource;
  resource.logical_id = "Echo";
  resource.type = "AWS::Serverless::Function";
  json props = {{"CodeUri", dir.string()},
                {"Handler", "libecho.so"},
                {"MemorySize", 256},
                {"Tags", {{"app", "demo"}}},
                {"ReservedConcurrentExecutions", 3}};
  stack::ApplyContext context;
  stack::AppliedResource out;
  std::string error;
  ASSERT_TRUE(provider->apply(resource, props, context, out, error)) << error;
  EXPECT_EQ(out.physical_id, "stratus-Echo");
  EXPECT_EQ(out.attributes["Arn"], arn_prefix + "stratus-Echo");
  Outcome g = call("GetFunction", {{"FunctionName", "stratus-Echo"}});
  EXPECT_EQ(g.output["Configuration"]["MemorySize"], 256);
  EXPECT_EQ(g.output["Tags"]["app"], "demo");
  EXPECT_EQ(g.output["Concurrency"]["ReservedConcurrentExecutions"], 3);
  props["MemorySize"] = 512;
  ASSERT_TRUE(provider->apply(resource, props, context, out, error)) << error;
  EXPECT_EQ(call("GetFunction", {{"FunctionName", "stratus-Echo"}}).output["Configuration"]["MemorySize"],
            512);

  auto cfn = make_function_provider(service, "AWS::Lambda::Function");
  json bad = {{"FunctionName", "inline"},
              {"Handler", "index.handler"},
              {"Code", {{"ZipFile", "exports.handler=..."}}}};
  EXPECT_FALSE(cfn->apply(resource, bad, context, out, error));
  EXPECT_NE(error.find("ZipFile"), std::string::npos);
}

}  // namespace
}  // namespace stratus::services::lambda
