#include "emulator/wiring.hpp"

#include "services/lambda/lambda.hpp"

namespace stratus::emulator {

void register_services(const ServiceEnvironment& env, services::Registry& registry, stack::StackApplier* applier) {
  services::lambda::LambdaDeps lambda_deps;
  lambda_deps.store = env.store;
  lambda_deps.clock = env.clock;
  lambda_deps.data_dir = env.store ? env.store->data_dir() : std::string();
  lambda_deps.account_id = env.account_id;
  lambda_deps.executor = env.function_executor;
  lambda_deps.router = env.router;
  lambda_deps.async_retry_base_ms = env.async_retry_base_ms;
  // Event source mappings read queues through QueueSource (services/queue_source.hpp), which the SQS
  // service implements: set lambda_deps.queues from it once SQS is registered here.
  auto lambda = services::lambda::make_lambda_service(std::move(lambda_deps));
  registry.add(lambda);
  if (applier) {
    applier->register_provider(services::lambda::make_function_provider(lambda, "AWS::Lambda::Function"));
    applier->register_provider(services::lambda::make_function_provider(lambda, "AWS::Serverless::Function"));
    applier->register_provider(
        services::lambda::make_function_provider(lambda, "AWS::Lambda::EventSourceMapping"));
  }
}

}  // namespace stratus::emulator
