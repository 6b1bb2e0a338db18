// apigateway (v1) for REST APIs: the operations infrastructure tools use to build a Lambda proxy API —
// REST APIs, resources, methods, integrations, deployments and stages.
// Reference: https://docs.aws.amazon.com/apigateway/latest/api/ and botocore's model
// (src/protocol/models/apigateway.json). Errors: BadRequestException, NotFoundException, ConflictException.
// A deployment is a snapshot of the resources; a stage serves its deployment, as on AWS.
#include <regex>
#include <set>

#include <fmt/format.h>

#include "services/apigateway/edge_ops.hpp"
#include "services/apigateway/authorizers.hpp"
#include "services/apigateway/gateway.hpp"
#include "services/apigateway/routing.hpp"

namespace stratus::services::apigateway {

using nlohmann::json;

namespace {




json public_members(const json& j) {
  json out = json::object();
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!it.key().starts_with("_")) out[it.key()] = it.value();
  return out;
}

double seconds(std::int64_t ms) { return static_cast<double>(ms) / 1000.0; }

struct Ops {
  Gateway& g;
  const CallContext& ctx;
  Partition p;

  std::optional<AwsError> load(const json& in, json& rec) {
    std::string id = str(in, "restApiId");
    auto loaded = g.load(p, id);
    if (!loaded || str(*loaded, "Type") != "REST")
      return not_found(fmt::format("Invalid API identifier specified {}:{}", p.account, id));
    rec = std::move(*loaded);
    return std::nullopt;
  }

  std::optional<AwsError> save(const json& rec) { return save_record(g, rec); }


  // --- REST APIs ---

  Outcome create_rest_api(const json& in) {
    std::string name = str(in, "name");
    if (name.empty()) return Outcome::fail(bad_request("Invalid REST API name specified"));
    if (in.contains("cloneFrom"))
      return Outcome::fail(bad_request("Stratus does not support cloneFrom yet"));
    std::string id;
    do id = random_id(10);
    while (g.id_taken(id));
    std::string root = random_id(10);
    json api = {{"id", id},
                {"name", name},
                {"createdDate", seconds(ctx.now_ms)},
                {"apiKeySource", str(in, "apiKeySource", "HEADER")},
                {"endpointConfiguration", in.value("endpointConfiguration", json{{"types", {"EDGE"}}})},
                {"disableExecuteApiEndpoint", in.value("disableExecuteApiEndpoint", false)},
                {"rootResourceId", root},
                {"tags", in.value("tags", json::object())}};
    for (const char* key : {"description", "binaryMediaTypes", "minimumCompressionSize", "policy", "version"})
      if (in.contains(key)) api[key] = in[key];
    json rec = {{"Type", "REST"},
                {"Account", p.account},
                {"Region", p.region},
                {"Api", api},
                {"Resources", {{root, {{"id", root}, {"path", "/"}}}}},
                {"Deployments", json::object()},
                {"Stages", json::object()}};
    if (auto e = save(rec)) return Outcome::fail(*e);
    return Outcome::ok(api);
  }

  Outcome get_rest_api(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    return Outcome::ok(rec["Api"]);
  }

  Outcome get_rest_apis(const json&) {
    json items = json::array();
    for (const auto& rec : g.list(p, "REST")) items.push_back(rec["Api"]);
    return Outcome::ok({{"items", items}});
  }

  Outcome delete_rest_api(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    if (auto e = g.erase(p, str(in, "restApiId"))) return Outcome::fail(AwsError::receiver(500, "InternalFailure", *e));
    return Outcome::ok(json::object());
  }

  // --- resources ---

  static json resource_out(const json& res, bool embed_methods) {
    json out = public_members(res);
    if (auto m = out.find("resourceMethods"); m != out.end()) {
      if (m->empty()) {
        out.erase("resourceMethods");
      } else if (!embed_methods) {
        for (auto& [k, v] : m->items()) v = json::object();
      }
    }
    return out;
  }

  std::optional<AwsError> find_resource(json& rec, const std::string& id, json*& out) {
    auto it = rec["Resources"].find(id);
    if (it == rec["Resources"].end()) return not_found("Invalid Resource identifier specified");
    out = &*it;
    return std::nullopt;
  }

  Outcome get_resources(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    bool embed = false;
    if (auto e = in.find("embed"); e != in.end() && e->is_array())
      for (const auto& v : *e) embed = embed || v == "methods";
    json items = json::array();
    std::vector<const json*> sorted;
    for (const auto& [id, res] : rec["Resources"].items()) sorted.push_back(&res);
    std::sort(sorted.begin(), sorted.end(),
              [](const json* a, const json* b) { return str(*a, "path") < str(*b, "path"); });
    for (const json* res : sorted) items.push_back(resource_out(*res, embed));
    return Outcome::ok({{"items", items}});
  }

  Outcome get_resource(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    json* res = nullptr;
    if (auto e = find_resource(rec, str(in, "resourceId"), res)) return Outcome::fail(*e);
    return Outcome::ok(resource_out(*res, true));
  }

  Outcome create_resource(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    json* parent = nullptr;
    std::string parent_id = str(in, "parentId");
    if (auto e = find_resource(rec, parent_id, parent)) return Outcome::fail(*e);
    std::string part = str(in, "pathPart");
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-settings-method-request.html
    static const std::regex kLiteral("[A-Za-z0-9._\\-:@$!&'()*+,;=~]+");
    static const std::regex kParam("\\{[A-Za-z0-9._\\-]+\\+?\\}");
    bool param = !part.empty() && part.front() == '{';
    if (!(param ? std::regex_match(part, kParam) : std::regex_match(part, kLiteral)))
      return Outcome::fail(bad_request(
          "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an "
          "optional plus sign before the closing brace."));
    std::string parent_path = str(*parent, "path", "/");
    if (str(*parent, "pathPart").ends_with("+}"))
      return Outcome::fail(bad_request("Cannot create a child of a resource with a greedy path variable: " +
                                       str(*parent, "pathPart")));
    for (const auto& [id, res] : rec["Resources"].items()) {
      if (str(res, "parentId") != parent_id) continue;
      std::string sibling = str(res, "pathPart");
      if (sibling == part)
        return Outcome::fail(conflict("Another resource with the same parent already has this name: " + part));
      if (param && !sibling.empty() && sibling.front() == '{')
        return Outcome::fail(bad_request("A sibling (" + sibling +
                                         ") of this resource already has a variable path part -- only one is allowed"));
    }
    std::string id = unique_id(rec["Resources"], 6);
    json res = {{"id", id},
                {"parentId", parent_id},
                {"pathPart", part},
                {"path", (parent_path == "/" ? "" : parent_path) + "/" + part}};
    rec["Resources"][id] = res;
    if (auto e = save(rec)) return Outcome::fail(*e);
    return Outcome::ok(res);
  }

  Outcome delete_resource(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    json* res = nullptr;
    std::string id = str(in, "resourceId");
    if (auto e = find_resource(rec, id, res)) return Outcome::fail(*e);
    if (id == str(rec["Api"], "rootResourceId")) return Outcome::fail(bad_request("Cannot delete root resource"));
    // The resource and everything under it.
    std::set<std::string> doomed = {id};
    for (bool grew = true; grew;) {
      grew = false;
      for (const auto& [rid, r] : rec["Resources"].items())
        if (!doomed.contains(rid) && doomed.contains(str(r, "parentId"))) grew = doomed.insert(rid).second || grew;
    }
    for (const auto& d : doomed) rec["Resources"].erase(d);
    if (auto e = save(rec)) return Outcome::fail(*e);
    return Outcome::ok(json::object());
  }

  // --- methods and integrations ---

  std::optional<AwsError> find_method(json& rec, const json& in, json*& res, json*& method) {
    if (auto e = find_resource(rec, str(in, "resourceId"), res)) return e;
    auto& methods = (*res)["resourceMethods"];
    if (!methods.is_object()) methods = json::object();
    auto it = methods.find(str(in, "httpMethod"));
    if (it == methods.end()) return not_found("Invalid Method identifier specified");
    method = &*it;
    return std::nullopt;
  }

  Outcome put_method(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    json* res = nullptr;
    if (auto e = find_resource(rec, str(in, "resourceId"), res)) return Outcome::fail(*e);
    std::string http_method = str(in, "httpMethod");
    static const std::set<std::string> kMethods = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"};
    if (!kMethods.contains(http_method))
      return Outcome::fail(bad_request("Invalid HttpMethod specified. Valid options are "
                                       "ANY,DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT"));
    json method = {{"httpMethod", http_method}, {"apiKeyRequired", in.value("apiKeyRequired", false)}};
    if (auto e = check_method_authorization(rec, in, method)) return Outcome::fail(*e);  // authorizer_apis.cpp
    auto& methods = (*res)["resourceMethods"];
    if (!methods.is_object()) methods = json::object();
    if (methods.contains(http_method)) return Outcome::fail(conflict("Method already exists for this resource"));
    for (const char* key : {"operationName", "requestParameters", "requestModels", "requestValidatorId"})
      if (in.contains(key)) method[key] = in[key];
    methods[http_method] = method;
    if (auto e = save(rec)) return Outcome::fail(*e);
    return Outcome::ok(method);
  }

  Outcome get_method(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    json *res = nullptr, *method = nullptr;
    if (auto e = find_method(rec, in, res, method)) return Outcome::fail(*e);
    return Outcome::ok(*method);
  }

  Outcome delete_method(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    json *res = nullptr, *method = nullptr;
    if (auto e = find_method(rec, in, res, method)) return Outcome::fail(*e);
    (*res)["resourceMethods"].erase(str(in, "httpMethod"));
    if (auto e = save(rec)) return Outcome::fail(*e);
    return Outcome::ok(json::object());
  }

  Outcome put_integration(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    json *res = nullptr, *method = nullptr;
    if (auto e = find_method(rec, in, res, method)) return Outcome::fail(*e);
    std::string type = str(in, "type");
    static const std::set<std::string> kTypes = {"AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY", "MOCK"};
    if (!kTypes.contains(type))
      return Outcome::fail(bad_request("Invalid integration type specified: " + type));
    std::string uri = str(in, "uri");
    std::string integration_method = str(in, "integrationHttpMethod");
    if (type == "AWS" || type == "AWS_PROXY" || type == "HTTP" || type == "HTTP_PROXY") {
      if (integration_method.empty())
        return Outcome::fail(bad_request("Enumeration value for HttpMethod must be non-empty"));
      if (uri.empty()) return Outcome::fail(bad_request("Invalid integration URI specified"));
    }
    if (type == "AWS_PROXY" && function_of_uri(uri).empty())
      return Outcome::fail(bad_request(
          "Invalid ARN specified in the request: a Lambda proxy integration URI has the form "
          "arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{functionArn}/invocations"));
    int timeout = in.value("timeoutInMillis", 29000);
    if (timeout < 50 || timeout > 29000)
      return Outcome::fail(bad_request("Timeout should be between 50 ms and 29000 ms"));
    json integ = {{"type", type},
                  {"passthroughBehavior", str(in, "passthroughBehavior", "WHEN_NO_MATCH")},
                  {"timeoutInMillis", timeout},
                  {"cacheNamespace", str(in, "cacheNamespace", str(*res, "id"))},
                  {"cacheKeyParameters", in.value("cacheKeyParameters", json::array())}};
    if (!integration_method.empty()) integ["httpMethod"] = integration_method;
    if (!uri.empty()) integ["uri"] = uri;
    for (const char* key : {"connectionType", "connectionId", "credentials", "requestParameters", "requestTemplates",
                            "contentHandling", "tlsConfig"})
      if (in.contains(key)) integ[key] = in[key];
    (*method)["methodIntegration"] = integ;
    if (auto e = save(rec)) return Outcome::fail(*e);
    return Outcome::ok(integ);
  }

  Outcome get_integration(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    json *res = nullptr, *method = nullptr;
    if (auto e = find_method(rec, in, res, method)) return Outcome::fail(*e);
    auto it = method->find("methodIntegration");
    if (it == method->end()) return Outcome::fail(not_found("Invalid Integration identifier specified"));
    return Outcome::ok(*it);
  }

  // --- deployments and stages ---

  Outcome create_deployment(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    bool any_method = false;
    for (const auto& [id, res] : rec["Resources"].items())
      any_method = any_method || (res.contains("resourceMethods") && !res["resourceMethods"].empty());
    if (!any_method) return Outcome::fail(bad_request("The REST API doesn't contain any methods"));
    for (const auto& [id, res] : rec["Resources"].items())
      for (const auto& [m, method] : object_member(res, "resourceMethods").items())
        if (!method.contains("methodIntegration"))
          return Outcome::fail(bad_request("No integration defined for method"));
    std::string id = unique_id(rec["Deployments"], 6);
    json deployment = {{"id", id}, {"createdDate", seconds(ctx.now_ms)}, {"_resources", rec["Resources"]}};
    deployment["_authorizers"] = object_member(rec, "Authorizers");  // served with the resources (authorizers.hpp)
    if (in.contains("description")) deployment["description"] = in["description"];
    rec["Deployments"][id] = deployment;
    std::string stage_name = str(in, "stageName");
    if (!stage_name.empty()) {
      json& stage = rec["Stages"][stage_name];
      if (stage.is_null()) stage = new_stage(stage_name, id, json::object());
      stage["deploymentId"] = id;
      if (in.contains("variables")) stage["variables"] = in["variables"];
      if (in.contains("stageDescription")) stage["description"] = in["stageDescription"];
      stage["lastUpdatedDate"] = seconds(ctx.now_ms);
    }
    if (auto e = save(rec)) return Outcome::fail(*e);
    return Outcome::ok(public_members(deployment));
  }

  Outcome get_deployments(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    json items = json::array();
    for (const auto& [id, d] : rec["Deployments"].items()) items.push_back(public_members(d));
    return Outcome::ok({{"items", items}});
  }

  json new_stage(const std::string& name, const std::string& deployment, const json& in) const {
    json stage = {{"stageName", name},
                  {"deploymentId", deployment},
                  {"createdDate", seconds(ctx.now_ms)},
                  {"lastUpdatedDate", seconds(ctx.now_ms)},
                  {"cacheClusterEnabled", false},
                  {"cacheClusterStatus", "NOT_AVAILABLE"},
                  {"methodSettings", json::object()},
                  {"tracingEnabled", in.value("tracingEnabled", false)}};
    for (const char* key : {"description", "variables", "tags", "documentationVersion"})
      if (in.contains(key)) stage[key] = in[key];
    return stage;
  }

  Outcome create_stage(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    std::string name = str(in, "stageName");
    static const std::regex kStage("[A-Za-z0-9_\\-]{1,128}");
    if (!std::regex_match(name, kStage))
      return Outcome::fail(bad_request("Stage name only allows a-zA-Z0-9_-"));
    std::string deployment = str(in, "deploymentId");
    if (!rec["Deployments"].contains(deployment))
      return Outcome::fail(not_found("Invalid Deployment identifier specified"));
    if (rec["Stages"].contains(name)) return Outcome::fail(conflict("Stage already exists"));
    if (auto vars = in.find("variables"); vars != in.end()) {
      static const std::regex kName("[A-Za-z0-9_]{1,64}");
      for (const auto& [k, v] : vars->items())
        if (!std::regex_match(k, kName)) return Outcome::fail(bad_request("Stage variable name " + k + " is invalid"));
    }
    json stage = new_stage(name, deployment, in);
    rec["Stages"][name] = stage;
    if (auto e = save(rec)) return Outcome::fail(*e);
    return Outcome::ok(stage);
  }

  Outcome get_stage(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    auto it = rec["Stages"].find(str(in, "stageName"));
    if (it == rec["Stages"].end()) return Outcome::fail(not_found("Invalid Stage identifier specified"));
    return Outcome::ok(*it);
  }

  // --- authorizers (authorizer_apis.cpp) ---
  Outcome create_authorizer(const json& in) { return rest_create_authorizer(g, p, in); }
  Outcome get_authorizer(const json& in) { return rest_get_authorizer(g, p, in); }
  Outcome get_authorizers(const json& in) { return rest_get_authorizers(g, p, in); }
  Outcome update_authorizer(const json& in) { return rest_update_authorizer(g, p, in); }
  Outcome delete_authorizer(const json& in) { return rest_delete_authorizer(g, p, in); }
  Outcome flush_authorizers_cache(const json& in) { return rest_flush_authorizers_cache(g, p, in); }

  Outcome get_stages(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    json items = json::array();
    for (const auto& [name, stage] : rec["Stages"].items()) items.push_back(stage);
    return Outcome::ok({{"item", items}});
  }

  Outcome delete_stage(const json& in) {
    json rec;
    if (auto e = load(in, rec)) return Outcome::fail(*e);
    if (!rec["Stages"].contains(str(in, "stageName")))
      return Outcome::fail(not_found("Invalid Stage identifier specified"));
    rec["Stages"].erase(str(in, "stageName"));
    if (auto e = save(rec)) return Outcome::fail(*e);
    return Outcome::ok(json::object());
  }
};

class RestApiService final : public GatewayService {
 public:
  explicit RestApiService(std::shared_ptr<Gateway> gateway) : GatewayService(std::move(gateway)) {
    using Fn = Outcome (Ops::*)(const json&);
    auto add = [this](std::string name, Fn fn, std::string notes = "") {
      OperationSpec spec;
      spec.name = name;
      spec.rules = InputRules::none;
      spec.notes = std::move(notes);
      spec.handler = [this, fn](const CallContext& ctx, json& input, Reply reply) {
        Outcome o;
        {
          std::lock_guard lock(gateway_->mutex());
          Ops ops{*gateway_, ctx, Partition{ctx.account, ctx.region}};
          o = (ops.*fn)(input);
        }
        reply(std::move(o));
      };
      operations_.push_back(std::move(spec));
    };
    add("CreateRestApi", &Ops::create_rest_api, "no cloneFrom; policy stored, not enforced");
    add("GetRestApi", &Ops::get_rest_api);
    add("GetRestApis", &Ops::get_rest_apis, "one page");
    add("DeleteRestApi", &Ops::delete_rest_api);
    add("GetResources", &Ops::get_resources, "one page; embed=methods");
    add("GetResource", &Ops::get_resource);
    add("CreateResource", &Ops::create_resource);
    add("DeleteResource", &Ops::delete_resource);
    add("PutMethod", &Ops::put_method,
        "authorizationType NONE or CUSTOM (a TOKEN or REQUEST Lambda authorizer); AWS_IAM and COGNITO_USER_POOLS "
        "are refused");
    add("GetMethod", &Ops::get_method);
    add("DeleteMethod", &Ops::delete_method);
    add("PutIntegration", &Ops::put_integration,
        "AWS_PROXY to Lambda is served; other types are stored and answer 500 when called");
    add("GetIntegration", &Ops::get_integration);
    add("CreateDeployment", &Ops::create_deployment, "a snapshot of the resources, served by its stages");
    add("GetDeployments", &Ops::get_deployments, "one page");
    add("CreateStage", &Ops::create_stage, "method settings and access logs are set with UpdateStage");
    add("GetStage", &Ops::get_stage);
    add("GetStages", &Ops::get_stages);
    add("DeleteStage", &Ops::delete_stage);
    add_rest_edge_operations(operations_, gateway_);
    add("CreateAuthorizer", &Ops::create_authorizer,
        "TOKEN and REQUEST (Lambda) authorizers; COGNITO_USER_POOLS refused; authorizerCredentials stored, not used; "
        "served from the next deployment");
    add("GetAuthorizer", &Ops::get_authorizer);
    add("GetAuthorizers", &Ops::get_authorizers, "one page");
    add("UpdateAuthorizer", &Ops::update_authorizer, "patch operations: replace");
    add("DeleteAuthorizer", &Ops::delete_authorizer, "refused while a method uses it");
    add("FlushStageAuthorizersCache", &Ops::flush_authorizers_cache, "flushes the API's cache (shared by its stages)");
  }
  std::string_view name() const override { return "apigateway"; }
  const std::vector<OperationSpec>& operations() const override { return operations_; }
};

}  // namespace

std::shared_ptr<GatewayService> make_rest_service(std::shared_ptr<Gateway> gateway) {
  return std::make_shared<RestApiService>(std::move(gateway));
}

}  // namespace stratus::services::apigateway
