#include "emulator/wiring.hpp"

#include "services/apigateway/apigateway.hpp"
#include "services/lambda/lambda.hpp"
#include "services/sqs/sqs.hpp"

namespace stratus::emulator {

void register_services(const ServiceEnvironment& env, services::Registry& registry, stack::StackApplier* applier) {
  // SQS first: Lambda's event source mappings poll its queues through the QueueSource.
  services::sqs::SqsDeps sqs_deps;
  sqs_deps.store = env.store;
  sqs_deps.clock = env.clock;
  sqs_deps.account_id = env.account_id;
  if (!env.endpoint_host.empty()) sqs_deps.default_host = env.endpoint_host;
  services::sqs::SqsModule sqs = services::sqs::make_sqs_service(std::move(sqs_deps));
  registry.add(sqs.service);
  if (env.router) env.router->register_target_kind("queue", sqs.target_kind);
  if (applier) applier->register_provider(services::sqs::make_queue_provider(sqs.service));
  services::lambda::LambdaDeps lambda_deps;
  lambda_deps.store = env.store;
  lambda_deps.clock = env.clock;
  lambda_deps.data_dir = env.store ? env.store->data_dir() : std::string();
  lambda_deps.account_id = env.account_id;
  lambda_deps.executor = env.function_executor;
  lambda_deps.router = env.router;
  lambda_deps.async_retry_base_ms = env.async_retry_base_ms;
  // Event source mappings read queues through QueueSource (services/queue_source.hpp), which SQS implements.
  lambda_deps.queues = sqs.queue_source;
  auto lambda = services::lambda::make_lambda_service(std::move(lambda_deps));
  registry.add(lambda);
  if (applier) {
    applier->register_provider(services::lambda::make_function_provider(lambda, "AWS::Lambda::Function"));
    applier->register_provider(services::lambda::make_function_provider(lambda, "AWS::Serverless::Function"));
    applier->register_provider(
        services::lambda::make_function_provider(lambda, "AWS::Lambda::EventSourceMapping"));
  }

  // API Gateway calls functions through Lambda's FunctionInvoker (services never include each other).
  services::apigateway::ApiGatewayDeps apigw_deps;
  apigw_deps.store = env.store;
  apigw_deps.clock = env.clock;
  apigw_deps.account_id = env.account_id;
  apigw_deps.invoker = services::lambda::make_function_invoker(lambda);
  apigw_deps.access_log = env.access_log;
  auto apigw = services::apigateway::make_apigateway_services(std::move(apigw_deps));
  registry.add(apigw.rest);
  registry.add(apigw.http);
  if (applier) {
    for (const auto& type : services::apigateway::api_provider_types())
      applier->register_provider(services::apigateway::make_api_provider(apigw.http, type));
  }
}

}  // namespace stratus::emulator
