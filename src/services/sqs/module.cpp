// What SQS offers the rest of the daemon besides its API: the QueueSource for Lambda's pollers, the
// router's "queue" target kind, the AWS::SQS::Queue stack provider and the /_stratus/queues stats.
#include <fmt/format.h>

#include "services/sqs/sqs_service.hpp"

namespace stratus::services::sqs {

using nlohmann::json;

namespace {

AwsError no_queue_error() {
  AwsError e = AwsError::sender(400, "QueueDoesNotExist", "The specified queue does not exist.");
  e.query_code = "AWS.SimpleQueueService.NonExistentQueue";
  return e;
}

// --- QueueSource: receives like ReceiveMessage(AttributeNames=All, MessageAttributeNames=All) ---

class Source final : public QueueSource {
 public:
  explicit Source(std::shared_ptr<SqsService> s) : s_(std::move(s)) {}

  std::optional<QueueInfo> describe(const std::string& queue_arn) override {
    auto q = s_->engine().find_arn(queue_arn);
    if (!q) return std::nullopt;
    QueueInfo info;
    info.arn = q->arn();
    info.name = q->key.name;
    std::lock_guard lk(q->mu);
    info.fifo = q->cfg.fifo;
    info.visibility_timeout_seconds = q->cfg.int_attr("VisibilityTimeout", 30);
    if (q->max_receive > 0) info.max_receive_count = q->max_receive;
    return info;
  }

  PollId receive(QueueReceiveRequest request, std::function<void(QueueReceiveResult)> done) override {
    auto q = s_->engine().find_arn(request.queue_arn);
    if (!q) {
      done(QueueReceiveResult{no_queue_error(), {}});
      return 0;
    }
    int vis;
    {
      std::lock_guard lk(q->mu);
      vis = request.visibility_timeout_seconds.value_or(q->cfg.int_attr("VisibilityTimeout", 30));
    }
    int max = std::clamp(request.max_messages, 1, 10);
    std::int64_t wait = static_cast<std::int64_t>(std::clamp(request.wait_seconds, 0, 20)) * 1000;
    return s_->engine().receive(q, max, vis, wait, [done](std::optional<AwsError> e, std::vector<Received> msgs) {
      QueueReceiveResult r;
      r.error = std::move(e);
      for (auto& m : msgs) {
        QueueMessage qm;
        qm.message_id = std::move(m.message_id);
        qm.receipt_handle = std::move(m.receipt_handle);
        qm.body = std::move(m.body);
        qm.md5_of_body = std::move(m.md5_of_body);
        qm.attributes = std::move(m.attributes);
        qm.message_attributes = std::move(m.message_attributes);
        qm.md5_of_message_attributes = std::move(m.md5_of_message_attributes);
        r.messages.push_back(std::move(qm));
      }
      done(std::move(r));
    });
  }

  void cancel_receive(PollId id) override { s_->engine().cancel_waiter(id); }

  std::optional<std::int64_t> visible_messages(const std::string& queue_arn) override {
    auto q = s_->engine().find_arn(queue_arn);
    if (!q) return std::nullopt;
    std::int64_t visible = 0, inflight = 0, delayed = 0;
    s_->engine().counts(q, visible, inflight, delayed);
    return visible;
  }

  std::optional<AwsError> delete_messages(const std::string& queue_arn,
                                          const std::vector<std::string>& receipt_handles) override {
    auto q = s_->engine().find_arn(queue_arn);
    if (!q) return no_queue_error();
    for (auto& e : s_->engine().delete_messages(q, receipt_handles))
      if (e && e->code == "QueueDoesNotExist") return e;
    return std::nullopt;
  }

  std::optional<AwsError> change_visibility(const std::string& queue_arn, const std::string& receipt_handle,
                                            int visibility_timeout_seconds) override {
    auto q = s_->engine().find_arn(queue_arn);
    if (!q) return no_queue_error();
    return s_->engine().change_visibility(q, receipt_handle, visibility_timeout_seconds);
  }

 private:
  std::shared_ptr<SqsService> s_;
};

// --- the router's "queue" target kind (contract in docs/services/sqs.md and the helpers' brief) ---

class QueueTarget final : public events::TargetKind {
 public:
  explicit QueueTarget(std::shared_ptr<SqsService> s) : s_(std::move(s)) {}

  void deliver(const events::Event& event, const events::Target& target,
               std::function<void(events::DeliveryResult)> done) override {
    auto q = s_->engine().find_arn(target.arn);
    if (!q)
      return done(events::DeliveryResult::failure("AWS.SimpleQueueService.NonExistentQueue",
                                                  "The specified queue does not exist: " + target.arn));
    json in = json::object();
    in["MessageBody"] = event.detail.is_string() ? event.detail.get<std::string>() : event.detail.dump();
    if (target.options.is_object())
      for (const char* key : {"MessageGroupId", "MessageDeduplicationId", "MessageAttributes"})
        if (auto it = target.options.find(key); it != target.options.end()) in[key] = *it;
    SendResult r;
    std::string md5_attrs, md5_sys;
    if (auto e = s_->send_to(q, in, event.account.empty() ? q->key.account : event.account, r, md5_attrs, md5_sys))
      return done(events::DeliveryResult::failure(e->query_code.empty() ? e->code : e->query_code, e->message));
    done(events::DeliveryResult::success());
  }

 private:
  std::shared_ptr<SqsService> s_;
};

// --- AWS::SQS::Queue ---
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-sqs-queue.html

class QueueProvider final : public stack::ResourceProvider {
 public:
  explicit QueueProvider(std::shared_ptr<SqsService> s) : s_(std::move(s)) {}
  std::string type() const override { return "AWS::SQS::Queue"; }

  bool apply(const stack::Resource& resource, const stack::ResolvedProperties& props,
             const stack::ApplyContext& context, stack::AppliedResource& out, std::string& error) override {
    bool fifo = false;
    if (auto f = props.find("FifoQueue"); f != props.end())
      fifo = f->is_boolean() ? f->get<bool>() : (f->is_string() && f->get<std::string>() == "true");
    std::string name = props.value("QueueName", "");
    if (name.empty()) {
      // CloudFormation generates STACK-LOGICALID-RANDOM; Stratus drops the random part so that applying the
      // stack again finds the same queue.
      name = context.stack_name + "-" + resource.logical_id;
      for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '-';
      std::size_t max = fifo ? 75 : 80;
      if (name.size() > max) name.resize(max);
      if (fifo) name += ".fifo";
    }
    json attrs = json::object();
    auto text = [](const json& v) {
      if (v.is_string()) return v.get<std::string>();
      if (v.is_boolean()) return std::string(v.get<bool>() ? "true" : "false");
      return v.dump();
    };
    for (const char* key : {"ContentBasedDeduplication", "DelaySeconds", "MaximumMessageSize",
                            "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds", "VisibilityTimeout",
                            "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled",
                            "DeduplicationScope", "FifoThroughputLimit", "RedrivePolicy", "RedriveAllowPolicy"})
      if (auto it = props.find(key); it != props.end()) attrs[key] = text(*it);
    if (fifo) attrs["FifoQueue"] = "true";
    json tags = json::object();
    if (auto t = props.find("Tags"); t != props.end() && t->is_array())
      for (const auto& kv : *t)
        if (kv.contains("Key")) tags[kv["Key"].get<std::string>()] = kv.value("Value", "");
    std::string host = s_->deps().default_host;
    QueueKey key{context.account, context.region, name};
    Outcome o;
    if (!s_->engine().find(key)) {
      json in = {{"QueueName", name}, {"Attributes", attrs}};
      if (!tags.empty()) in["tags"] = tags;
      o = s_->call("CreateQueue", context.account, context.region, in, host);
    } else {
      // Update in place: every attribute the stack names (FifoQueue cannot change).
      attrs.erase("FifoQueue");
      std::string url = s_->queue_url(host, key);
      if (!attrs.empty())
        o = s_->call("SetQueueAttributes", context.account, context.region,
                     {{"QueueUrl", url}, {"Attributes", attrs}}, host);
      if (!o.error && !tags.empty())
        o = s_->call("TagQueue", context.account, context.region, {{"QueueUrl", url}, {"Tags", tags}}, host);
    }
    if (o.error) {
      error = o.error->code + ": " + o.error->message;
      return false;
    }
    std::string url = s_->queue_url(host, key);
    out.physical_id = url;
    out.attributes["Arn"] = "arn:aws:sqs:" + context.region + ":" + context.account + ":" + name;
    out.attributes["QueueName"] = name;
    out.attributes["QueueUrl"] = url;
    return true;
  }

 private:
  std::shared_ptr<SqsService> s_;
};

}  // namespace

SqsModule make_sqs_service(SqsDeps deps) {
  auto service = std::make_shared<SqsService>(std::move(deps));
  SqsModule m;
  m.service = service;
  m.queue_source = std::make_shared<Source>(service);
  m.target_kind = std::make_shared<QueueTarget>(service);
  return m;
}

std::shared_ptr<stack::ResourceProvider> make_queue_provider(const std::shared_ptr<Service>& service) {
  auto s = std::dynamic_pointer_cast<SqsService>(service);
  if (!s) return nullptr;
  return std::make_shared<QueueProvider>(std::move(s));
}

json queue_stats(const Service& service) {
  auto* s = dynamic_cast<const SqsService*>(&service);
  if (s == nullptr) return json::object();
  return const_cast<SqsService*>(s)->engine().stats_json();
}

std::size_t process_due(const Service& service) {
  auto* s = dynamic_cast<const SqsService*>(&service);
  if (s == nullptr) return 0;
  return const_cast<SqsService*>(s)->engine().process_due();
}

}  // namespace stratus::services::sqs
