// Stack providers for API Gateway resources. The stack is applied at every start, so each provider finds
// the API it made before by the tags CloudFormation puts on what it creates (aws:cloudformation:stack-name,
// aws:cloudformation:logical-id), keeps its id, and rebuilds its routes, integrations and stages from the
// stack file.
//   AWS::Serverless::HttpApi   https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-resource-httpapi.html
//   AWS::Serverless::Api       https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-resource-api.html
//   AWS::ApiGatewayV2::Api / Integration / Route / Stage (CloudFormation)
//   Stratus::Serverless::ApiEvent: one HttpApi or Api event of an AWS::Serverless::Function, made by the
//     stack loader (src/stack) as SAM's transform makes a route, an integration and a permission.
#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "services/apigateway/edge_ops.hpp"
#include "services/apigateway/authorizers.hpp"
#include "services/apigateway/gateway.hpp"

namespace stratus::services::apigateway {

using nlohmann::json;

namespace {


std::string lambda_uri(const std::string& region, const std::string& function_arn) {
  return fmt::format("arn:aws:apigateway:{}:lambda:path/2015-03-31/functions/{}/invocations", region, function_arn);
}

class ApiProvider final : public stack::ResourceProvider {
 public:
  ApiProvider(std::shared_ptr<Gateway> gateway, std::shared_ptr<GatewayService> http,
              std::shared_ptr<GatewayService> rest, std::string type)
      : gateway_(std::move(gateway)), http_(std::move(http)), rest_(std::move(rest)), type_(std::move(type)) {}

  std::string type() const override { return type_; }

  bool apply(const stack::Resource& resource, const stack::ResolvedProperties& props,
             const stack::ApplyContext& context, stack::AppliedResource& out, std::string& error) override {
    Partition p{context.account, context.region};
    std::optional<AwsError> e;
    if (type_ == "AWS::Serverless::HttpApi" || type_ == "AWS::ApiGatewayV2::Api")
      e = apply_http_api(resource, props, context, p, out);
    else if (type_ == "AWS::Serverless::Api")
      e = apply_rest_api(resource, props, context, p, out);
    else if (type_ == "AWS::ApiGatewayV2::Integration")
      e = call(*http_, "CreateIntegration", p, with_api(props), out, "IntegrationId");
    else if (type_ == "AWS::ApiGatewayV2::Route")
      e = call(*http_, "CreateRoute", p, with_api(props), out, "RouteId");
    else if (type_ == "AWS::ApiGatewayV2::Stage")
      e = call(*http_, "CreateStage", p, with_api(props), out, "StageName");
    else if (type_ == "AWS::ApiGatewayV2::Authorizer")
      e = call(*http_, "CreateAuthorizer", p, with_api(props), out, "AuthorizerId");
    else if (type_ == "Stratus::Serverless::ApiEvent")
      e = apply_event(props, p, out);
    if (e) {
      error = e->code + ": " + e->message;
      return false;
    }
    return true;
  }

 private:
  static json with_api(json props) { return props; }

  std::optional<AwsError> call(GatewayService& service, const std::string& op, const Partition& p, json input,
                               stack::AppliedResource& out, const char* id_member) {
    Outcome o = service.call(op, p, std::move(input));
    if (o.error) return o.error;
    out.physical_id = str(o.output, id_member);
    out.attributes[id_member] = out.physical_id;
    return std::nullopt;
  }

  // The API this stack made for `logical_id` before, if any.
  std::optional<json> find_owned(const Partition& p, const std::string& type, const stack::Resource& r,
                                 const stack::ApplyContext& context) {
    const char* tags_member = type == "REST" ? "tags" : "Tags";
    for (auto& rec : gateway_->list(p, type)) {
      const json& tags = rec["Api"].value(tags_member, json::object());
      if (str(tags, "aws:cloudformation:stack-name") == context.stack_name &&
          str(tags, "aws:cloudformation:logical-id") == r.logical_id)
        return rec;
    }
    return std::nullopt;
  }

  static json owner_tags(const stack::Resource& r, const stack::ApplyContext& context, const json& props) {
    json tags = props.value("Tags", json::object());
    if (!tags.is_object()) tags = json::object();
    tags["aws:cloudformation:stack-name"] = context.stack_name;
    tags["aws:cloudformation:logical-id"] = r.logical_id;
    return tags;
  }

  std::optional<AwsError> save(const json& rec) { return save_record(*gateway_, rec); }

  // The stack file's Port (a Stratus extension): kept in the record as "_Port" (edge.hpp). Mutex held.
  std::optional<AwsError> set_port(const Partition& p, const std::string& id, const json& props) {
    auto rec = gateway_->load(p, id);
    if (!rec) return std::nullopt;
    if (props.contains("Port"))
      (*rec)["_Port"] = props["Port"];
    else if (rec->contains("_Port"))
      rec->erase("_Port");
    else
      return std::nullopt;
    return save(*rec);
  }

  std::optional<AwsError> apply_http_api(const stack::Resource& r, const json& props,
                                         const stack::ApplyContext& context, const Partition& p,
                                         stack::AppliedResource& out) {
    bool sam = type_ == "AWS::Serverless::HttpApi";
    std::lock_guard lock(gateway_->mutex());
    json input = {{"Name", str(props, "Name", context.stack_name + "-" + r.logical_id)},
                  {"ProtocolType", "HTTP"},
                  {"Tags", owner_tags(r, context, props)}};
    for (const char* key : {"Description", "CorsConfiguration", "DisableExecuteApiEndpoint", "Version"})
      if (props.contains(key)) input[key] = props[key];
    input.erase("CorsConfiguration");  // SAM's may be `true` (edge_ops.hpp)
    if (auto cors = sam ? sam_http_cors(props) : std::optional<json>(props.value("CorsConfiguration", json())))
      if (!cors->is_null()) input["CorsConfiguration"] = *cors;
    if (!sam) {
      if (str(props, "ProtocolType", "HTTP") != "HTTP")
        return AwsError::sender(400, "BadRequestException", "Stratus supports HTTP APIs only (ProtocolType HTTP)");
      for (const char* key : {"Target", "RouteKey"})
        if (props.contains(key)) input[key] = props[key];
    }
    auto existing = find_owned(p, "HTTP", r, context);
    std::string id;
    if (existing) {
      // Rebuilt from the stack: same id, the stack's routes, integrations and stages only.
      json rec = *existing;
      id = str(rec["Api"], "ApiId");
      json api = rec["Api"];
      api.erase("CorsConfiguration");  // as the stack file says now
      for (auto it = input.begin(); it != input.end(); ++it) api[it.key()] = it.value();
      rec["Api"] = api;
      rec["Routes"] = json::object();
      rec["Integrations"] = json::object();
      rec["Stages"] = json::object();
      rec["Authorizers"] = json::object();
      if (auto e = save(rec)) return e;
      if (!sam && input.contains("Target")) {
        // Quick create again, on the kept id.
        gateway_->mutex().unlock();
        Outcome o = http_->call("CreateApi", p, input);
        gateway_->mutex().lock();
        if (o.error) return o.error;
        auto fresh = gateway_->load(p, str(o.output, "ApiId"));
        gateway_->erase(p, str(o.output, "ApiId"));
        rec["Routes"] = (*fresh)["Routes"];
        rec["Integrations"] = (*fresh)["Integrations"];
        rec["Stages"] = (*fresh)["Stages"];
        if (auto e = save(rec)) return e;
      }
    } else {
      gateway_->mutex().unlock();
      Outcome o = http_->call("CreateApi", p, input);
      gateway_->mutex().lock();
      if (o.error) return o.error;
      id = str(o.output, "ApiId");
    }
    if (sam) {
      // SAM: one stage, $default unless StageName says otherwise, deployed automatically.
      json stage = {{"ApiId", id}, {"StageName", str(props, "StageName", "$default")}, {"AutoDeploy", true}};
      if (props.contains("StageVariables")) stage["StageVariables"] = props["StageVariables"];
      for (const char* key : {"AccessLogSettings", "DefaultRouteSettings", "RouteSettings"})
        if (props.contains(key)) stage[key] = props[key];
      gateway_->mutex().unlock();
      Outcome o = http_->call("CreateStage", p, stage);
      // Auth.Authorizers (sam_authorizers.cpp)
      auto auth_error = o.error ? std::nullopt : apply_sam_auth(*gateway_, *http_, p, id, props, false);
      gateway_->mutex().lock();
      if (o.error) return o.error;
      if (auth_error) return auth_error;
    }
    if (auto e = set_port(p, id, props)) return e;
    out.physical_id = id;
    out.attributes["ApiId"] = id;
    out.attributes["ApiEndpoint"] = fmt::format("https://{}.execute-api.{}.amazonaws.com", id, p.region);
    return std::nullopt;
  }

  std::optional<AwsError> apply_rest_api(const stack::Resource& r, const json& props,
                                         const stack::ApplyContext& context, const Partition& p,
                                         stack::AppliedResource& out) {
    std::lock_guard lock(gateway_->mutex());
    auto existing = find_owned(p, "REST", r, context);
    std::string id, root;
    if (existing) {
      json rec = *existing;
      id = str(rec["Api"], "id");
      root = str(rec["Api"], "rootResourceId");
      rec["Api"]["name"] = str(props, "Name", str(rec["Api"], "name"));
      if (props.contains("BinaryMediaTypes")) rec["Api"]["binaryMediaTypes"] = props["BinaryMediaTypes"];
      rec["Resources"] = {{root, {{"id", root}, {"path", "/"}}}};
      rec["Authorizers"] = json::object();
      rec["Deployments"] = json::object();
      rec["Stages"] = json::object();
      if (auto e = save(rec)) return e;
    } else {
      json input = {{"name", str(props, "Name", context.stack_name + "-" + r.logical_id)},
                    {"tags", owner_tags(r, context, props)}};
      if (props.contains("BinaryMediaTypes")) input["binaryMediaTypes"] = props["BinaryMediaTypes"];
      if (props.contains("Description")) input["description"] = props["Description"];
      gateway_->mutex().unlock();
      Outcome o = rest_->call("CreateRestApi", p, input);
      gateway_->mutex().lock();
      if (o.error) return o.error;
      id = str(o.output, "id");
      root = str(o.output, "rootResourceId");
    }
    // The stage is created by the first event's deployment (a REST API without methods cannot be
    // deployed); its name and variables wait in the record until then.
    auto rec = gateway_->load(p, id);
    (*rec)["_SamStage"] = {{"name", str(props, "StageName", "Prod")}, {"variables", props.value("Variables", json::object())}};
    for (const char* key : {"MethodSettings", "AccessLogSetting"})
      if (props.contains(key)) (*rec)["_SamStage"][key] = props[key];
    if (props.contains("Port")) (*rec)["_Port"] = props["Port"];
    else rec->erase("_Port");
    if (auto e = save(*rec)) return e;
    // Auth.Authorizers (sam_authorizers.cpp)
    gateway_->mutex().unlock();
    auto auth_error = apply_sam_auth(*gateway_, *rest_, p, id, props, true);
    gateway_->mutex().lock();
    if (auth_error) return auth_error;
    out.physical_id = id;
    out.attributes["RestApiId"] = id;
    out.attributes["RootResourceId"] = root;
    return std::nullopt;
  }

  // One SAM function event: Type HttpApi (ApiId, Path, Method, PayloadFormatVersion, TimeoutInMillis) or
  // Api (RestApiId, Path, Method), FunctionArn.
  std::optional<AwsError> apply_event(const json& props, const Partition& p, stack::AppliedResource& out) {
    std::string kind = str(props, "EventType");
    std::string function = str(props, "FunctionArn");
    std::string path = str(props, "Path", "/");
    std::string method = str(props, "Method", "ANY");
    std::transform(method.begin(), method.end(), method.begin(), ::toupper);
    if (kind == "HttpApi") {
      std::string api = str(props, "ApiId");
      json integ = {{"ApiId", api},
                    {"IntegrationType", "AWS_PROXY"},
                    {"IntegrationUri", function},
                    {"PayloadFormatVersion", str(props, "PayloadFormatVersion", "2.0")}};
      if (props.contains("TimeoutInMillis")) integ["TimeoutInMillis"] = props["TimeoutInMillis"];
      Outcome o = http_->call("CreateIntegration", p, integ);
      if (o.error) return o.error;
      // SAM: Path and Method absent -> the $default route; Method "ANY" and "x-amazon-apigateway-any-method".
      std::string key = props.contains("Path") ? method + " " + path : "$default";
      if (method == "X-AMAZON-APIGATEWAY-ANY-METHOD") key = "ANY " + path;
      json route = {{"ApiId", api}, {"RouteKey", key}, {"Target", "integrations/" + str(o.output, "IntegrationId")}};
      if (auto e = sam_event_auth(*gateway_, p, api, props, false, route)) return e;  // sam_authorizers.cpp
      Outcome r = http_->call("CreateRoute", p, route);
      if (r.error) return r.error;
      out.physical_id = str(r.output, "RouteId");
      return std::nullopt;
    }
    // REST: resources along the path, the method, its Lambda proxy integration, then a deployment to the
    // SAM stage so that what is served includes this route.
    std::string api = str(props, "RestApiId");
    json resources_doc;
    {
      Outcome o = rest_->call("GetResources", p, {{"restApiId", api}});
      if (o.error) return o.error;
      resources_doc = o.output["items"];
    }
    auto find_path = [&](const std::string& wanted) -> std::string {
      for (const auto& res : resources_doc)
        if (str(res, "path") == wanted) return str(res, "id");
      return {};
    };
    std::string parent = find_path("/");
    std::string so_far;
    PathTemplate tpl;
    if (auto e = parse_path_template(path, tpl)) return AwsError::sender(400, "BadRequestException", "Path " + path + ": " + *e);
    std::string_view rest_path = path;
    rest_path.remove_prefix(1);
    while (!rest_path.empty()) {
      auto slash = rest_path.find('/');
      std::string part(rest_path.substr(0, slash));
      so_far += "/" + part;
      std::string id = find_path(so_far);
      if (id.empty()) {
        Outcome o = rest_->call("CreateResource", p, {{"restApiId", api}, {"parentId", parent}, {"pathPart", part}});
        if (o.error) return o.error;
        id = str(o.output, "id");
        resources_doc.push_back(o.output);
      }
      parent = id;
      if (slash == std::string_view::npos) break;
      rest_path.remove_prefix(slash + 1);
    }
    if (method == "X-AMAZON-APIGATEWAY-ANY-METHOD") method = "ANY";
    json put_method = {{"restApiId", api}, {"resourceId", parent}, {"httpMethod", method}, {"authorizationType", "NONE"}};
    if (auto e = sam_event_auth(*gateway_, p, api, props, true, put_method)) return e;  // sam_authorizers.cpp
    Outcome m = rest_->call("PutMethod", p, put_method);
    if (m.error && m.error->code != "ConflictException") return m.error;
    Outcome i = rest_->call("PutIntegration", p,
                            {{"restApiId", api},
                             {"resourceId", parent},
                             {"httpMethod", method},
                             {"type", "AWS_PROXY"},
                             {"integrationHttpMethod", "POST"},
                             {"uri", lambda_uri(p.region, function)}});
    if (i.error) return i.error;
    json stage = json::object();
    {
      std::lock_guard lock(gateway_->mutex());
      auto rec = gateway_->load(p, api);
      if (rec) stage = rec->value("_SamStage", json::object());
    }
    json deploy = {{"restApiId", api}, {"stageName", str(stage, "name", "Prod")}};
    if (stage.contains("variables") && !stage["variables"].empty()) deploy["variables"] = stage["variables"];
    Outcome d = rest_->call("CreateDeployment", p, deploy);
    if (d.error) return d.error;
    {
      // SAM's MethodSettings and AccessLogSetting, onto the stage the deployment made.
      std::lock_guard lock(gateway_->mutex());
      auto rec = gateway_->load(p, api);
      if (rec) {
        if (auto e = apply_sam_rest_stage_settings(*rec, str(stage, "name", "Prod"), stage)) return e;
        if (auto e = save(*rec)) return e;
      }
    }
    out.physical_id = parent + "/" + method;
    return std::nullopt;
  }

  std::shared_ptr<Gateway> gateway_;
  std::shared_ptr<GatewayService> http_, rest_;
  std::string type_;
};

}  // namespace

std::vector<std::string> api_provider_types() {
  return {"AWS::Serverless::HttpApi",       "AWS::Serverless::Api",     "AWS::ApiGatewayV2::Api",
          "AWS::ApiGatewayV2::Integration", "AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Stage",
          "Stratus::Serverless::ApiEvent",  "AWS::ApiGatewayV2::Authorizer"};
}

std::shared_ptr<stack::ResourceProvider> make_api_provider(const std::shared_ptr<Service>& service,
                                                          std::string_view type) {
  auto gs = std::dynamic_pointer_cast<GatewayService>(service);
  if (!gs) return nullptr;
  auto types = api_provider_types();
  if (std::find(types.begin(), types.end(), type) == types.end()) return nullptr;
  // Both services over the same gateway: build the pair again around it.
  auto gateway = gs->shared_gateway();
  return std::make_shared<ApiProvider>(gateway, make_http_service(gateway), make_rest_service(gateway),
                                       std::string(type));
}

}  // namespace stratus::services::apigateway
