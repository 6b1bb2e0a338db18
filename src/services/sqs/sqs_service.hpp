#pragma once
// Internal: the SQS service class, shared by the operation table, the QueueSource, the "queue" target
// kind and the stack provider.
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "services/sqs/engine.hpp"
#include "services/sqs/sqs.hpp"

namespace stratus::services::sqs {

class SqsService final : public Service, public std::enable_shared_from_this<SqsService> {
 public:
  explicit SqsService(SqsDeps deps);
  ~SqsService() override;
  std::string_view name() const override { return "sqs"; }
  const std::vector<OperationSpec>& operations() const override { return operations_; }
  void shutdown() override;

  Engine& engine() { return *engine_; }
  const SqsDeps& deps() const { return deps_; }

  // Runs an operation with an input document and waits for its outcome (stack provider, tests).
  // Long polls wait for real: use WaitTimeSeconds 0 from tests with a ManualClock.
  Outcome call(const std::string& operation, const std::string& account, const std::string& region,
               nlohmann::json input, const std::string& host = "");

  // SendMessage's checks and effect, for the router's "queue" target kind (input in SendMessage's shape,
  // without QueueUrl).
  std::optional<AwsError> send_to(const std::shared_ptr<Queue>& q, const nlohmann::json& input,
                                  const std::string& sender, SendResult& out, std::string& md5_attrs,
                                  std::string& md5_sys);

  std::string queue_url(const std::string& host, const QueueKey& key) const;

 private:
  void build_operations();
  SqsDeps deps_;
  std::unique_ptr<Engine> engine_;
  std::vector<OperationSpec> operations_;
  std::mutex admin_mu_;  // CreateQueue, DeleteQueue, SetQueueAttributes, tags, permissions

  friend struct Ops;
};

}  // namespace stratus::services::sqs
