// SQS against a real RocksDB store in a temporary directory, with a ManualClock driving visibility
// timeouts, delays, retention, deduplication windows and long-poll deadlines (no sleeps).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>
#include <set>

#include "emulator/dispatcher.hpp"
#include "services/sqs/engine.hpp"
#include "services/sqs/sqs.hpp"
#include "services/sqs/sqs_service.hpp"

namespace stratus::services::sqs {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kAccount = "000000000000";
constexpr const char* kRegion = "us-east-1";

// An operation answered later (long poll): the outcome once it arrives.
struct Pending {
  std::mutex mu;
  std::optional<Outcome> outcome;
  bool done() {
    std::lock_guard lk(mu);
    return outcome.has_value();
  }
  Outcome get() {
    std::lock_guard lk(mu);
    return *outcome;
  }
};

class SqsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/stratus-sqs-test-XXXXXX";
    dir = ::mkdtemp(tmpl);
    open();
  }
  void TearDown() override {
    close();
    fs::remove_all(dir);
  }
  void open() {
    Status st;
    store = Store::open(StoreOptions{dir, false, false}, st);
    ASSERT_TRUE(store) << st.message;
    SqsDeps deps;
    deps.store = store.get();
    deps.clock = &clock;
    deps.background = false;
    module = make_sqs_service(deps);
    svc = std::dynamic_pointer_cast<SqsService>(module.service);
  }
  void close() {
    if (svc) svc->shutdown();
    svc.reset();
    module = SqsModule{};
    store.reset();
  }

  Outcome call(const std::string& op, json in) {
    return svc->call(op, kAccount, kRegion, std::move(in), "localhost:4566");
  }
  json ok(const std::string& op, json in) {
    Outcome o = call(op, std::move(in));
    EXPECT_FALSE(o.error) << op << ": " << (o.error ? o.error->code + " " + o.error->message : "");
    return o.output;
  }
  AwsError fails(const std::string& op, json in) {
    Outcome o = call(op, std::move(in));
    EXPECT_TRUE(o.error) << op << " succeeded: " << o.output.dump();
    return o.error.value_or(AwsError{});
  }
  std::shared_ptr<Pending> start(const std::string& op, json in) {
    auto p = std::make_shared<Pending>();
    for (const auto& spec : svc->operations()) {
      if (spec.name != op) continue;
      CallContext ctx;
      ctx.account = kAccount;
      ctx.region = kRegion;
      ctx.host = "localhost:4566";
      spec.handler(ctx, in, [p](Outcome o) {
        std::lock_guard lk(p->mu);
        p->outcome = std::move(o);
      });
    }
    return p;
  }
  std::string create(const std::string& name, json attrs = json::object()) {
    return ok("CreateQueue", {{"QueueName", name}, {"Attributes", attrs}})["QueueUrl"];
  }
  json receive(const std::string& url, json extra = json::object()) {
    extra["QueueUrl"] = url;
    if (!extra.contains("AttributeNames")) extra["AttributeNames"] = {"All"};
    json out = ok("ReceiveMessage", extra);
    return out.value("Messages", json::array());
  }
  json attributes(const std::string& url) {
    return ok("GetQueueAttributes", {{"QueueUrl", url}, {"AttributeNames", {"All"}}})["Attributes"];
  }

  std::string dir;
  ManualClock clock;
  std::unique_ptr<Store> store;
  SqsModule module;
  std::shared_ptr<SqsService> svc;
};

TEST_F(SqsTest, Md5OfMessageAttributesMatchesAwsTestVector) {
  json attrs = {{"attribName1", {{"DataType", "String"}, {"StringValue", "attribValue 1"}}}};
  EXPECT_EQ(md5_of_attributes(attrs), "19e27d4e946b072f3f58da80d94fd778");
  EXPECT_EQ(md5_hex("hello"), "5d41402abc4b2a76b9719d911017c592");
}

TEST_F(SqsTest, QueueLifecycleAndUrls) {
  std::string url = create("orders");
  EXPECT_EQ(url, "http://localhost:4566/000000000000/orders");
  EXPECT_EQ(ok("GetQueueUrl", {{"QueueName", "orders"}})["QueueUrl"], url);
  EXPECT_EQ(fails("GetQueueUrl", {{"QueueName", "nope"}}).query_code, "AWS.SimpleQueueService.NonExistentQueue");
  EXPECT_EQ(fails("GetQueueUrl", {{"QueueName", "orders"}, {"QueueOwnerAWSAccountId", "111111111111"}}).code,
            "QueueDoesNotExist");
  // Any host resolves by account and name.
  EXPECT_FALSE(call("GetQueueAttributes", {{"QueueUrl", "https://sqs.us-east-1.amazonaws.com/000000000000/orders"}}).error);
  // Same attributes: the same queue; different ones: QueueAlreadyExists.
  EXPECT_EQ(create("orders"), url);
  auto e = fails("CreateQueue", {{"QueueName", "orders"}, {"Attributes", {{"VisibilityTimeout", "60"}}}});
  EXPECT_EQ(e.code, "QueueNameExists");
  EXPECT_NE(e.message.find("VisibilityTimeout"), std::string::npos);
  EXPECT_EQ(fails("CreateQueue", {{"QueueName", "bad name"}}).code, "InvalidParameterValue");
  EXPECT_EQ(fails("CreateQueue", {{"QueueName", std::string(81, 'a')}}).code, "InvalidParameterValue");
  EXPECT_EQ(fails("CreateQueue", {{"QueueName", "x.fifo"}}).code, "InvalidParameterValue");
  EXPECT_EQ(fails("CreateQueue", {{"QueueName", "x"}, {"Attributes", {{"FifoQueue", "true"}}}}).code,
            "InvalidParameterValue");
  create("orders-dlq");
  create("zeta");
  auto all = ok("ListQueues", json::object())["QueueUrls"];
  EXPECT_EQ(all.size(), 3u);
  EXPECT_EQ(ok("ListQueues", {{"QueueNamePrefix", "orders"}})["QueueUrls"].size(), 2u);
  auto page1 = ok("ListQueues", {{"MaxResults", 2}});
  EXPECT_EQ(page1["QueueUrls"].size(), 2u);
  ASSERT_TRUE(page1.contains("NextToken"));
  auto page2 = ok("ListQueues", {{"MaxResults", 2}, {"NextToken", page1["NextToken"]}});
  EXPECT_EQ(page2["QueueUrls"], json::array({"http://localhost:4566/000000000000/zeta"}));
  EXPECT_FALSE(page2.contains("NextToken"));

  ok("DeleteQueue", {{"QueueUrl", url}});
  EXPECT_EQ(fails("GetQueueUrl", {{"QueueName", "orders"}}).code, "QueueDoesNotExist");
  auto recent = fails("CreateQueue", {{"QueueName", "orders"}});
  EXPECT_EQ(recent.code, "QueueDeletedRecently");
  EXPECT_EQ(recent.query_code, "AWS.SimpleQueueService.QueueDeletedRecently");
  clock.advance_ms(61'000);
  EXPECT_EQ(create("orders"), url);
}

TEST_F(SqsTest, AttributeValidationStoresNothingInvalid) {
  std::string url = create("q");
  auto a = attributes(url);
  EXPECT_EQ(a["VisibilityTimeout"], "30");
  EXPECT_EQ(a["MaximumMessageSize"], "1048576");
  EXPECT_EQ(a["MessageRetentionPeriod"], "345600");
  EXPECT_EQ(a["QueueArn"], "arn:aws:sqs:us-east-1:000000000000:q");
  EXPECT_EQ(a["ApproximateNumberOfMessages"], "0");
  EXPECT_FALSE(a.contains("FifoQueue"));
  EXPECT_EQ(fails("SetQueueAttributes", {{"QueueUrl", url}, {"Attributes", {{"VisibilityTimeout", "43201"}}}}).code,
            "InvalidAttributeValue");
  EXPECT_EQ(fails("SetQueueAttributes", {{"QueueUrl", url}, {"Attributes", {{"DelaySeconds", "abc"}}}}).code,
            "InvalidAttributeValue");
  EXPECT_EQ(fails("SetQueueAttributes", {{"QueueUrl", url}, {"Attributes", {{"Nope", "1"}}}}).message,
            "Unknown Attribute Nope.");
  EXPECT_EQ(fails("SetQueueAttributes", {{"QueueUrl", url}, {"Attributes", {{"ContentBasedDeduplication", "true"}}}})
                .code,
            "InvalidAttributeName");
  // A valid attribute next to an invalid one is not stored either.
  fails("SetQueueAttributes", {{"QueueUrl", url}, {"Attributes", {{"DelaySeconds", "5"}, {"MaximumMessageSize", "10"}}}});
  EXPECT_EQ(attributes(url)["DelaySeconds"], "0");
  ok("SetQueueAttributes", {{"QueueUrl", url}, {"Attributes", {{"DelaySeconds", "5"}}}});
  EXPECT_EQ(attributes(url)["DelaySeconds"], "5");
  EXPECT_EQ(fails("GetQueueAttributes", {{"QueueUrl", url}, {"AttributeNames", {"Bogus"}}}).code,
            "InvalidAttributeName");
  auto only = ok("GetQueueAttributes", {{"QueueUrl", url}, {"AttributeNames", {"DelaySeconds"}}})["Attributes"];
  EXPECT_EQ(only, json({{"DelaySeconds", "5"}}));
}

TEST_F(SqsTest, SendReceiveDeleteAndVisibility) {
  std::string url = create("q");
  json sent = ok("SendMessage", {{"QueueUrl", url},
                                 {"MessageBody", "hello"},
                                 {"MessageAttributes", {{"attribName1", {{"DataType", "String"}, {"StringValue", "attribValue 1"}}}}}});
  EXPECT_EQ(sent["MD5OfMessageBody"], "5d41402abc4b2a76b9719d911017c592");
  EXPECT_EQ(sent["MD5OfMessageAttributes"], "19e27d4e946b072f3f58da80d94fd778");
  auto msgs = receive(url, {{"MessageAttributeNames", {"All"}}, {"VisibilityTimeout", 10}});
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0]["Body"], "hello");
  EXPECT_EQ(msgs[0]["MessageId"], sent["MessageId"]);
  EXPECT_EQ(msgs[0]["MD5OfMessageAttributes"], "19e27d4e946b072f3f58da80d94fd778");
  EXPECT_EQ(msgs[0]["Attributes"]["ApproximateReceiveCount"], "1");
  EXPECT_EQ(msgs[0]["Attributes"]["SentTimestamp"], std::to_string(clock.now_ms()));
  std::string first_handle = msgs[0]["ReceiptHandle"];
  // In flight: invisible until its timeout passes.
  EXPECT_TRUE(receive(url).empty());
  auto a = attributes(url);
  EXPECT_EQ(a["ApproximateNumberOfMessagesNotVisible"], "1");
  clock.advance_ms(10'000);
  msgs = receive(url);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0]["Attributes"]["ApproximateReceiveCount"], "2");
  EXPECT_FALSE(msgs[0].contains("MessageAttributes"));  // not asked for
  std::string second_handle = msgs[0]["ReceiptHandle"];
  EXPECT_NE(first_handle, second_handle);
  // An older handle: accepted, nothing deleted.
  ok("DeleteMessage", {{"QueueUrl", url}, {"ReceiptHandle", first_handle}});
  EXPECT_EQ(attributes(url)["ApproximateNumberOfMessagesNotVisible"], "1");
  auto bad = fails("DeleteMessage", {{"QueueUrl", url}, {"ReceiptHandle", "garbage"}});
  EXPECT_EQ(bad.code, "ReceiptHandleIsInvalid");
  EXPECT_EQ(bad.message, "The input receipt handle \"garbage\" is not a valid receipt handle.");
  // ChangeMessageVisibility: 0 makes it visible at once; the 12-hour rule.
  auto over = fails("ChangeMessageVisibility", {{"QueueUrl", url}, {"ReceiptHandle", second_handle}, {"VisibilityTimeout", 43201}});
  EXPECT_EQ(over.code, "InvalidParameterValue");
  clock.advance_ms(3'600'000 - 30'000);  // visible again after the 30 s default: receive anew
  msgs = receive(url, {{"VisibilityTimeout", 43000}});
  ASSERT_EQ(msgs.size(), 1u);
  std::string third = msgs[0]["ReceiptHandle"];
  clock.advance_ms(1'000'000);
  EXPECT_EQ(fails("ChangeMessageVisibility", {{"QueueUrl", url}, {"ReceiptHandle", third}, {"VisibilityTimeout", 43000}}).message,
            "Value 43000 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is "
            "beyond the limit [43200 seconds]");
  ok("ChangeMessageVisibility", {{"QueueUrl", url}, {"ReceiptHandle", third}, {"VisibilityTimeout", 0}});
  msgs = receive(url);
  ASSERT_EQ(msgs.size(), 1u);
  ok("DeleteMessage", {{"QueueUrl", url}, {"ReceiptHandle", msgs[0]["ReceiptHandle"]}});
  clock.advance_ms(100'000'000);
  EXPECT_TRUE(receive(url).empty());
  a = attributes(url);
  EXPECT_EQ(a["ApproximateNumberOfMessages"], "0");
  EXPECT_EQ(a["ApproximateNumberOfMessagesNotVisible"], "0");
}

TEST_F(SqsTest, SendValidation) {
  std::string url = create("q", {{"MaximumMessageSize", "1024"}});
  EXPECT_EQ(fails("SendMessage", {{"QueueUrl", url}, {"MessageBody", ""}}).code, "MissingParameter");
  EXPECT_EQ(fails("SendMessage", {{"QueueUrl", url}, {"MessageBody", std::string(1025, 'x')}}).message,
            "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes.");
  EXPECT_EQ(fails("SendMessage", {{"QueueUrl", url}, {"MessageBody", std::string("a\x01", 2)}}).code,
            "InvalidMessageContents");
  EXPECT_EQ(fails("SendMessage", {{"QueueUrl", url}, {"MessageBody", "x"}, {"DelaySeconds", 901}}).code,
            "InvalidParameterValue");
  // The character check reads eight bytes at a time: a bad byte at every offset of a 40-byte body (and
  // allowed tab, newline, carriage return, DEL and UTF-8 there) is found or passed exactly as byte by byte.
  std::string chars = create("chars");
  for (std::size_t at = 0; at < 40; ++at) {
    std::string body(40, 'a');
    for (char bad : {'\x01', '\x1f', '\x00'}) {
      body[at] = bad;
      EXPECT_EQ(fails("SendMessage", {{"QueueUrl", chars}, {"MessageBody", body}}).message,
                fmt::format("Invalid binary character '#x{:X}' was found in the message body, the set of allowed "
                            "characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to "
                            "#x10FFFF",
                            static_cast<unsigned>(static_cast<unsigned char>(bad))))
          << "offset " << at;
    }
    for (char fine : {'\t', '\n', '\r', '\x7f', ' '}) {
      body[at] = fine;
      ok("SendMessage", {{"QueueUrl", chars}, {"MessageBody", body}});
    }
    std::string utf8 = body.substr(0, at) + "\xc3\xa9" + body.substr(at);
    ok("SendMessage", {{"QueueUrl", chars}, {"MessageBody", utf8}});
  }
  EXPECT_EQ(fails("SendMessage", {{"QueueUrl", url},
                                  {"MessageBody", "x"},
                                  {"MessageAttributes", {{"n", {{"DataType", "Number"}, {"StringValue", "abc"}}}}}})
                .message,
            "Can't cast the value of message (user) attribute 'n' to a number.");
  EXPECT_EQ(fails("SendMessage", {{"QueueUrl", url}, {"MessageBody", "x"}, {"MessageDeduplicationId", "d"}}).code,
            "InvalidParameterValue");
  // Every data type, including custom suffixes; prefix selection.
  ok("SendMessage", {{"QueueUrl", url},
                     {"MessageBody", "x"},
                     {"MessageAttributes",
                      {{"a.one", {{"DataType", "Number.float"}, {"StringValue", "1.5"}}},
                       {"a.two", {{"DataType", "Binary"}, {"BinaryValue", "AAEC"}}},
                       {"b", {{"DataType", "String.custom"}, {"StringValue", "v"}}}}}});
  auto msgs = receive(url, {{"MessageAttributeNames", {"a.*"}}});
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0]["MessageAttributes"].size(), 2u);
  EXPECT_EQ(msgs[0]["MessageAttributes"]["a.two"]["BinaryValue"], "AAEC");
  EXPECT_EQ(fails("ReceiveMessage", {{"QueueUrl", url}, {"MaxNumberOfMessages", 11}}).message,
            "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.");
  EXPECT_EQ(fails("ReceiveMessage", {{"QueueUrl", url}, {"WaitTimeSeconds", 21}}).code, "InvalidParameterValue");
}

TEST_F(SqsTest, DelaysAndRetention) {
  std::string url = create("q", {{"MessageRetentionPeriod", "60"}});
  ok("SendMessage", {{"QueueUrl", url}, {"MessageBody", "later"}, {"DelaySeconds", 5}});
  ok("SendMessage", {{"QueueUrl", url}, {"MessageBody", "now"}});
  EXPECT_EQ(attributes(url)["ApproximateNumberOfMessagesDelayed"], "1");
  auto msgs = receive(url, {{"MaxNumberOfMessages", 10}});
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0]["Body"], "now");
  clock.advance_ms(5'000);
  msgs = receive(url, {{"MaxNumberOfMessages", 10}});
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0]["Body"], "later");
  clock.advance_ms(60'000);  // both past retention
  EXPECT_TRUE(receive(url, {{"MaxNumberOfMessages", 10}}).empty());
  auto a = attributes(url);
  EXPECT_EQ(a["ApproximateNumberOfMessages"], "0");
  EXPECT_EQ(a["ApproximateNumberOfMessagesNotVisible"], "0");
}

// A message's stored record is written directly when no string in it needs JSON escaping and it has no
// message attributes, else through a json object: both read back, after a restart, with every system
// attribute as sent.
TEST_F(SqsTest, StoredRecordsKeepEverySystemAttributeBothWays) {
  auto fifo = [this](const std::string& name) { return create(name + ".fifo", {{"FifoQueue", "true"}}); };
  auto trace = [](const std::string& value) {
    return json{{"AWSTraceHeader", {{"DataType", "String"}, {"StringValue", value}}}};
  };
  struct Sent {
    std::string url, body, trace, group, dedup;
    json out;
  };
  std::vector<Sent> sent = {
      {fifo("plain"), "plain", "Root=1-5759e988-bd862e3fe1be46a994272793", "g-1", "d-1", {}},
      {fifo("escaped"), "escaped \"body\"\n", "Root=\"quoted\" \xc3\xa9", "g-2", "d-2", {}},
      {create("plain-standard"), "plain standard", "Root=1-abc", "", "", {}},
      {create("escaped-standard"), "standard \\ escaped", "Root=\\back\\slash", "", "", {}},
  };
  for (auto& m : sent) {
    json in = {{"QueueUrl", m.url}, {"MessageBody", m.body}, {"MessageSystemAttributes", trace(m.trace)}};
    if (!m.group.empty()) in["MessageGroupId"] = m.group;
    if (!m.dedup.empty()) in["MessageDeduplicationId"] = m.dedup;
    m.out = ok("SendMessage", in);
  }
  std::int64_t sent_at = clock.now_ms();
  close();
  open();
  for (const auto& m : sent) {
    auto msgs = receive(m.url);
    ASSERT_EQ(msgs.size(), 1u) << m.body;
    const json& got = msgs[0];
    EXPECT_EQ(got["Body"], m.body);
    EXPECT_EQ(got["MessageId"], m.out["MessageId"]);
    EXPECT_EQ(got["MD5OfBody"], md5_hex(m.body));
    EXPECT_EQ(got["Attributes"]["AWSTraceHeader"], m.trace);
    EXPECT_EQ(got["Attributes"]["SentTimestamp"], std::to_string(sent_at));
    EXPECT_EQ(got["Attributes"]["SenderId"], kAccount);
    if (m.group.empty()) {
      EXPECT_FALSE(got["Attributes"].contains("MessageGroupId"));
    } else {
      EXPECT_EQ(got["Attributes"]["MessageGroupId"], m.group);
      EXPECT_EQ(got["Attributes"]["MessageDeduplicationId"], m.dedup);
      EXPECT_EQ(got["Attributes"]["SequenceNumber"], m.out["SequenceNumber"]);
    }
    ok("DeleteMessage", {{"QueueUrl", m.url}, {"ReceiptHandle", got["ReceiptHandle"]}});
  }
}

TEST_F(SqsTest, RestartKeepsQueuesMessagesAndVisibility) {
  std::string url = create("durable", {{"VisibilityTimeout", "100"}});
  ok("SendMessage", {{"QueueUrl", url}, {"MessageBody", "one"}});
  ok("SendMessage", {{"QueueUrl", url}, {"MessageBody", "two"}});
  auto msgs = receive(url);
  ASSERT_EQ(msgs.size(), 1u);
  std::string inflight_body = msgs[0]["Body"];
  std::string handle = msgs[0]["ReceiptHandle"];
  close();
  open();
  auto a = attributes(url);
  EXPECT_EQ(a["VisibilityTimeout"], "100");
  EXPECT_EQ(a["ApproximateNumberOfMessages"], "1");
  EXPECT_EQ(a["ApproximateNumberOfMessagesNotVisible"], "1");
  msgs = receive(url, {{"MaxNumberOfMessages", 10}, {"VisibilityTimeout", 1000}});
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_NE(msgs[0]["Body"], inflight_body);
  clock.advance_ms(100'000);
  msgs = receive(url, {{"MaxNumberOfMessages", 10}});
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0]["Body"], inflight_body);
  EXPECT_EQ(msgs[0]["Attributes"]["ApproximateReceiveCount"], "2");
  // The handle from before the restart is stale now: accepted, nothing deleted.
  ok("DeleteMessage", {{"QueueUrl", url}, {"ReceiptHandle", handle}});
  EXPECT_EQ(attributes(url)["ApproximateNumberOfMessagesNotVisible"], "2");
}

TEST_F(SqsTest, LongPollAnsweredBySendAndByDeadline) {
  std::string url = create("q");
  auto waiting = start("ReceiveMessage", {{"QueueUrl", url}, {"WaitTimeSeconds", 20}});
  EXPECT_FALSE(waiting->done());
  ok("SendMessage", {{"QueueUrl", url}, {"MessageBody", "wake"}});
  ASSERT_TRUE(waiting->done());
  EXPECT_EQ(waiting->get().output["Messages"][0]["Body"], "wake");
  // The queue default applies when WaitTimeSeconds is absent; the deadline answers empty.
  ok("SetQueueAttributes", {{"QueueUrl", url}, {"Attributes", {{"ReceiveMessageWaitTimeSeconds", "5"}}}});
  auto empty = start("ReceiveMessage", {{"QueueUrl", url}});
  EXPECT_FALSE(empty->done());
  clock.advance_ms(4'999);
  process_due(*svc);
  EXPECT_FALSE(empty->done());
  clock.advance_ms(1);
  process_due(*svc);
  ASSERT_TRUE(empty->done());
  EXPECT_FALSE(empty->get().output.contains("Messages"));
  // A delayed message answers a waiting receiver when it becomes visible.
  auto delayed = start("ReceiveMessage", {{"QueueUrl", url}, {"WaitTimeSeconds", 20}});
  ok("SendMessage", {{"QueueUrl", url}, {"MessageBody", "slow"}, {"DelaySeconds", 3}});
  EXPECT_FALSE(delayed->done());
  clock.advance_ms(3'000);
  process_due(*svc);
  ASSERT_TRUE(delayed->done());
  EXPECT_EQ(delayed->get().output["Messages"][0]["Body"], "slow");
}

TEST_F(SqsTest, FifoOrderingGroupsAndDeduplication) {
  std::string url = create("jobs.fifo", {{"FifoQueue", "true"}});
  EXPECT_EQ(fails("SendMessage", {{"QueueUrl", url}, {"MessageBody", "x"}, {"MessageDeduplicationId", "1"}}).code,
            "MissingParameter");
  EXPECT_EQ(fails("SendMessage", {{"QueueUrl", url}, {"MessageBody", "x"}, {"MessageGroupId", "g"}}).message,
            "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided "
            "explicitly");
  EXPECT_EQ(fails("SendMessage", {{"QueueUrl", url},
                                  {"MessageBody", "x"},
                                  {"MessageGroupId", "g"},
                                  {"MessageDeduplicationId", "d"},
                                  {"DelaySeconds", 2}})
                .code,
            "InvalidParameterValue");
  std::string prev;
  for (int i = 0; i < 3; ++i) {
    json r = ok("SendMessage", {{"QueueUrl", url},
                                {"MessageBody", "a" + std::to_string(i)},
                                {"MessageGroupId", "A"},
                                {"MessageDeduplicationId", "a" + std::to_string(i)}});
    std::string seq = r["SequenceNumber"];
    EXPECT_GE(seq.size(), 20u);
    if (!prev.empty()) {
      EXPECT_GT(seq, prev);
    }
    prev = seq;
  }
  ok("SendMessage", {{"QueueUrl", url}, {"MessageBody", "b0"}, {"MessageGroupId", "B"}, {"MessageDeduplicationId", "b0"}});
  // A duplicate within 5 minutes: the original id, not enqueued.
  json first = ok("SendMessage", {{"QueueUrl", url}, {"MessageBody", "dup"}, {"MessageGroupId", "B"}, {"MessageDeduplicationId", "b0"}});
  EXPECT_EQ(attributes(url)["ApproximateNumberOfMessages"], "4");
  auto msgs = receive(url, {{"MaxNumberOfMessages", 2}});
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0]["Body"], "a0");
  EXPECT_EQ(msgs[1]["Body"], "a1");
  EXPECT_EQ(msgs[0]["Attributes"]["MessageGroupId"], "A");
  // Group A is blocked while a0/a1 are in flight; B is served.
  msgs = receive(url, {{"MaxNumberOfMessages", 10}});
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0]["Body"], "b0");
  EXPECT_EQ(msgs[0]["MessageId"], first["MessageId"]);
  EXPECT_TRUE(receive(url, {{"MaxNumberOfMessages", 10}}).empty());
  // Visibility expires: a0 comes back first, in order.
  clock.advance_ms(30'000);
  msgs = receive(url, {{"MaxNumberOfMessages", 10}});
  ASSERT_GE(msgs.size(), 3u);
  EXPECT_EQ(msgs[0]["Body"], "a0");
  EXPECT_EQ(msgs[1]["Body"], "a1");
  EXPECT_EQ(msgs[2]["Body"], "a2");
  // Deleting with a handle whose visibility passed is refused on FIFO queues.
  std::string handle = msgs[0]["ReceiptHandle"];
  clock.advance_ms(30'000);
  EXPECT_EQ(fails("DeleteMessage", {{"QueueUrl", url}, {"ReceiptHandle", handle}}).code, "InvalidParameterValue");
  // After the window, the same deduplication id enqueues again.
  clock.advance_ms(5 * 60'000);
  ok("SetQueueAttributes", {{"QueueUrl", url}, {"Attributes", {{"ContentBasedDeduplication", "true"}}}});
  json c1 = ok("SendMessage", {{"QueueUrl", url}, {"MessageBody", "same"}, {"MessageGroupId", "C"}});
  json c2 = ok("SendMessage", {{"QueueUrl", url}, {"MessageBody", "same"}, {"MessageGroupId", "C"}});
  EXPECT_EQ(c1["MessageId"], c2["MessageId"]);
  EXPECT_EQ(fails("SetQueueAttributes", {{"QueueUrl", url}, {"Attributes", {{"FifoThroughputLimit", "perMessageGroupId"}}}}).code,
            "InvalidAttributeValue");
  ok("SetQueueAttributes", {{"QueueUrl", url},
                            {"Attributes", {{"FifoThroughputLimit", "perMessageGroupId"}, {"DeduplicationScope", "messageGroup"}}}});
}

TEST_F(SqsTest, DeadLetterQueueRedriveAndMoveTask) {
  std::string dlq = create("dlq");
  std::string dlq_arn = "arn:aws:sqs:us-east-1:000000000000:dlq";
  std::string src = create("src", {{"RedrivePolicy", json({{"deadLetterTargetArn", dlq_arn}, {"maxReceiveCount", 2}}).dump()},
                                   {"VisibilityTimeout", "1"}});
  auto bad = fails("SetQueueAttributes",
                   {{"QueueUrl", src},
                    {"Attributes", {{"RedrivePolicy", json({{"deadLetterTargetArn", "arn:aws:sqs:us-east-1:000000000000:none"}, {"maxReceiveCount", 2}}).dump()}}}});
  EXPECT_EQ(bad.code, "InvalidParameterValue");
  EXPECT_EQ(ok("ListDeadLetterSourceQueues", {{"QueueUrl", dlq}})["queueUrls"], json::array({src}));
  json sent = ok("SendMessage", {{"QueueUrl", src}, {"MessageBody", "poison"}});
  std::int64_t sent_at = clock.now_ms();
  for (int i = 1; i <= 2; ++i) {
    auto msgs = receive(src);
    ASSERT_EQ(msgs.size(), 1u) << i;
    clock.advance_ms(1'000);
  }
  // The third receive would exceed maxReceiveCount: the message moves to the DLQ instead.
  EXPECT_TRUE(receive(src).empty());
  auto msgs = receive(dlq);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0]["MessageId"], sent["MessageId"]);
  EXPECT_EQ(msgs[0]["Attributes"]["SentTimestamp"], std::to_string(sent_at));
  EXPECT_EQ(msgs[0]["Attributes"]["DeadLetterQueueSourceArn"], "arn:aws:sqs:us-east-1:000000000000:src");
  ok("ChangeMessageVisibility", {{"QueueUrl", dlq}, {"ReceiptHandle", msgs[0]["ReceiptHandle"]}, {"VisibilityTimeout", 0}});
  // Move it back to its source.
  std::string handle = ok("StartMessageMoveTask", {{"SourceArn", dlq_arn}})["TaskHandle"];
  EXPECT_FALSE(handle.empty());
  EXPECT_EQ(fails("StartMessageMoveTask", {{"SourceArn", dlq_arn}}).code, "InvalidParameterValue");
  process_due(*svc);
  auto tasks = ok("ListMessageMoveTasks", {{"SourceArn", dlq_arn}})["Results"];
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0]["Status"], "COMPLETED");
  EXPECT_EQ(tasks[0]["ApproximateNumberOfMessagesMoved"], 1);
  msgs = receive(src);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0]["Body"], "poison");
  EXPECT_EQ(msgs[0]["Attributes"]["ApproximateReceiveCount"], "1");
  EXPECT_EQ(fails("StartMessageMoveTask", {{"SourceArn", "arn:aws:sqs:us-east-1:000000000000:src"}}).message,
            "Source queue must be configured as a Dead Letter Queue.");
  // RedriveAllowPolicy denyAll: no queue may use it as its DLQ.
  std::string locked = create("locked", {{"RedriveAllowPolicy", R"({"redrivePermission":"denyAll"})"}});
  EXPECT_EQ(fails("CreateQueue", {{"QueueName", "other"},
                                  {"Attributes", {{"RedrivePolicy", json({{"deadLetterTargetArn", "arn:aws:sqs:us-east-1:000000000000:locked"}, {"maxReceiveCount", 1}}).dump()}}}})
                .code,
            "InvalidParameterValue");
  EXPECT_EQ(fails("SetQueueAttributes", {{"QueueUrl", locked}, {"Attributes", {{"RedriveAllowPolicy", R"({"redrivePermission":"byQueue"})"}}}}).code,
            "InvalidParameterValue");
}

TEST_F(SqsTest, BatchRulesAndPerEntryFailures) {
  std::string url = create("q");
  auto empty = fails("SendMessageBatch", {{"QueueUrl", url}, {"Entries", json::array()}});
  EXPECT_EQ(empty.query_code, "AWS.SimpleQueueService.EmptyBatchRequest");
  json eleven = json::array();
  for (int i = 0; i < 11; ++i) eleven.push_back({{"Id", std::to_string(i)}, {"MessageBody", "x"}});
  EXPECT_EQ(fails("SendMessageBatch", {{"QueueUrl", url}, {"Entries", eleven}}).code, "TooManyEntriesInBatchRequest");
  EXPECT_EQ(fails("SendMessageBatch", {{"QueueUrl", url}, {"Entries", {{{"Id", "a"}, {"MessageBody", "x"}}, {{"Id", "a"}, {"MessageBody", "y"}}}}}).code,
            "BatchEntryIdsNotDistinct");
  EXPECT_EQ(fails("SendMessageBatch", {{"QueueUrl", url}, {"Entries", {{{"Id", "a b"}, {"MessageBody", "x"}}}}}).code,
            "InvalidBatchEntryId");
  EXPECT_EQ(fails("SendMessageBatch", {{"QueueUrl", url},
                                       {"Entries", {{{"Id", "a"}, {"MessageBody", std::string(600'000, 'x')}},
                                                    {{"Id", "b"}, {"MessageBody", std::string(600'000, 'x')}}}}})
                .code,
            "BatchRequestTooLong");
  auto r = ok("SendMessageBatch", {{"QueueUrl", url},
                                   {"Entries", {{{"Id", "good"}, {"MessageBody", "x"}}, {{"Id", "bad"}, {"MessageBody", "y"}, {"DelaySeconds", 1000}}}}});
  ASSERT_EQ(r["Successful"].size(), 1u);
  EXPECT_EQ(r["Successful"][0]["Id"], "good");
  EXPECT_EQ(r["Successful"][0]["MD5OfMessageBody"], md5_hex("x"));
  ASSERT_EQ(r["Failed"].size(), 1u);
  EXPECT_EQ(r["Failed"][0]["Id"], "bad");
  EXPECT_EQ(r["Failed"][0]["SenderFault"], true);
  EXPECT_EQ(r["Failed"][0]["Code"], "InvalidParameterValue");
  auto msgs = receive(url);
  ASSERT_EQ(msgs.size(), 1u);
  auto d = ok("DeleteMessageBatch", {{"QueueUrl", url},
                                     {"Entries", {{{"Id", "1"}, {"ReceiptHandle", msgs[0]["ReceiptHandle"]}}, {{"Id", "2"}, {"ReceiptHandle", "junk"}}}}});
  EXPECT_EQ(d["Successful"].size(), 1u);
  EXPECT_EQ(d["Failed"][0]["Code"], "ReceiptHandleIsInvalid");
  // One batch deleting several received messages at once.
  for (int i = 0; i < 3; ++i) ok("SendMessage", {{"QueueUrl", url}, {"MessageBody", "m" + std::to_string(i)}});
  msgs = receive(url, {{"MaxNumberOfMessages", 10}});
  ASSERT_EQ(msgs.size(), 3u);
  json entries = json::array();
  for (std::size_t i = 0; i < msgs.size(); ++i)
    entries.push_back({{"Id", "e" + std::to_string(i)}, {"ReceiptHandle", msgs[i]["ReceiptHandle"]}});
  d = ok("DeleteMessageBatch", {{"QueueUrl", url}, {"Entries", entries}});
  EXPECT_EQ(d["Successful"].size(), 3u);
  EXPECT_EQ(d["Failed"].size(), 0u);
  clock.advance_ms(60'000);
  EXPECT_TRUE(receive(url, {{"MaxNumberOfMessages", 10}}).empty());
  auto c = ok("ChangeMessageVisibilityBatch", {{"QueueUrl", url}, {"Entries", {{{"Id", "1"}, {"ReceiptHandle", "junk"}, {"VisibilityTimeout", 5}}}}});
  EXPECT_EQ(c["Failed"].size(), 1u);
}

TEST_F(SqsTest, TagsPermissionsAndPurge) {
  std::string url = ok("CreateQueue", {{"QueueName", "t"}, {"tags", {{"team", "a"}}}})["QueueUrl"];
  ok("TagQueue", {{"QueueUrl", url}, {"Tags", {{"env", "dev"}}}});
  EXPECT_EQ(ok("ListQueueTags", {{"QueueUrl", url}})["Tags"], json({{"env", "dev"}, {"team", "a"}}));
  ok("UntagQueue", {{"QueueUrl", url}, {"TagKeys", {"team"}}});
  EXPECT_EQ(ok("ListQueueTags", {{"QueueUrl", url}})["Tags"], json({{"env", "dev"}}));
  ok("AddPermission", {{"QueueUrl", url}, {"Label", "p1"}, {"AWSAccountIds", {"111111111111"}}, {"Actions", {"SendMessage"}}});
  EXPECT_EQ(fails("AddPermission", {{"QueueUrl", url}, {"Label", "p1"}, {"AWSAccountIds", {"1"}}, {"Actions", {"SendMessage"}}}).code,
            "InvalidParameterValue");
  json policy = json::parse(attributes(url)["Policy"].get<std::string>());
  EXPECT_EQ(policy["Statement"][0]["Sid"], "p1");
  ok("RemovePermission", {{"QueueUrl", url}, {"Label", "p1"}});
  EXPECT_FALSE(attributes(url).contains("Policy"));
  EXPECT_EQ(fails("RemovePermission", {{"QueueUrl", url}, {"Label", "p1"}}).code, "InvalidParameterValue");
  for (int i = 0; i < 3; ++i) ok("SendMessage", {{"QueueUrl", url}, {"MessageBody", "m"}});
  ok("PurgeQueue", {{"QueueUrl", url}});
  EXPECT_EQ(attributes(url)["ApproximateNumberOfMessages"], "0");
  auto again = fails("PurgeQueue", {{"QueueUrl", url}});
  EXPECT_EQ(again.query_code, "AWS.SimpleQueueService.PurgeQueueInProgress");
  EXPECT_EQ(again.http_status, 403);
  clock.advance_ms(60'000);
  ok("PurgeQueue", {{"QueueUrl", url}});
}

TEST_F(SqsTest, QueueSourceAndQueueTarget) {
  std::string url = create("events", {{"VisibilityTimeout", "7"}});
  std::string arn = "arn:aws:sqs:us-east-1:000000000000:events";
  auto info = module.queue_source->describe(arn);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->visibility_timeout_seconds, 7);
  EXPECT_FALSE(module.queue_source->describe(arn + "x"));
  // The router's "queue" kind: a JSON detail arrives as its dump, a string verbatim.
  events::Event ev;
  ev.detail = {{"k", 1}};
  std::optional<events::DeliveryResult> res;
  module.target_kind->deliver(ev, events::Target{"queue", arn, json::object()}, [&](events::DeliveryResult r) { res = r; });
  ASSERT_TRUE(res && res->ok);
  module.target_kind->deliver(ev, events::Target{"queue", arn + "x", json::object()}, [&](events::DeliveryResult r) { res = r; });
  EXPECT_EQ(res->error_code, "AWS.SimpleQueueService.NonExistentQueue");
  std::optional<QueueReceiveResult> got;
  module.queue_source->receive(QueueReceiveRequest{arn, 10, 0, std::nullopt}, [&](QueueReceiveResult r) { got = r; });
  ASSERT_TRUE(got);
  ASSERT_EQ(got->messages.size(), 1u);
  EXPECT_EQ(got->messages[0].body, R"({"k":1})");
  EXPECT_EQ(got->messages[0].attributes.at("ApproximateReceiveCount"), "1");
  EXPECT_FALSE(module.queue_source->delete_messages(arn, {got->messages[0].receipt_handle}));
  EXPECT_EQ(attributes(url)["ApproximateNumberOfMessagesNotVisible"], "0");
  // A long poll through the source, cancelled.
  std::optional<QueueReceiveResult> waited;
  auto id = module.queue_source->receive(QueueReceiveRequest{arn, 10, 20, std::nullopt}, [&](QueueReceiveResult r) { waited = r; });
  EXPECT_FALSE(waited);
  module.queue_source->cancel_receive(id);
  ASSERT_TRUE(waited);
  EXPECT_TRUE(waited->messages.empty());
}

// Both protocols through the real dispatcher: query requests to /ACCOUNT/QUEUE carry no QueueUrl.
TEST_F(SqsTest, QueryAndJsonOnTheWire) {
  Registry registry;
  registry.add(module.service);
  emulator::DispatcherConfig config;
  config.version = "test";
  emulator::Dispatcher dispatcher(config, registry, clock);
  auto send = [&](std::string path, std::string body, std::vector<std::pair<std::string, std::string>> headers) {
    http::Request r;
    r.method = "POST";
    r.target = path;
    r.path = path;
    r.headers.add("Host", "127.0.0.1:9999");
    for (auto& [k, v] : headers) r.headers.add(k, v);
    r.body = std::move(body);
    std::optional<http::Response> resp;
    dispatcher.handle(std::move(r), [&](http::Response x) { resp = std::move(x); });
    return resp.value_or(http::Response{});
  };
  const std::vector<std::pair<std::string, std::string>> form = {{"Content-Type", "application/x-www-form-urlencoded"}};
  auto created = send("/", "Action=CreateQueue&QueueName=wire&Version=2012-11-05", form);
  EXPECT_EQ(created.status, 200) << created.body;
  EXPECT_NE(created.body.find("<QueueUrl>http://127.0.0.1:9999/000000000000/wire</QueueUrl>"), std::string::npos);
  auto sent = send("/000000000000/wire",
                   "Action=SendMessage&MessageBody=hello&MessageAttribute.1.Name=attribName1&MessageAttribute.1.Value."
                   "DataType=String&MessageAttribute.1.Value.StringValue=attribValue+1&Version=2012-11-05",
                   form);
  EXPECT_EQ(sent.status, 200) << sent.body;
  EXPECT_NE(sent.body.find("<MD5OfMessageBody>5d41402abc4b2a76b9719d911017c592</MD5OfMessageBody>"), std::string::npos);
  EXPECT_NE(sent.body.find("<MD5OfMessageAttributes>19e27d4e946b072f3f58da80d94fd778</MD5OfMessageAttributes>"),
            std::string::npos);
  const std::vector<std::pair<std::string, std::string>> js = {{"Content-Type", "application/x-amz-json-1.0"},
                                                               {"X-Amz-Target", "AmazonSQS.ReceiveMessage"}};
  auto received = send("/", R"({"QueueUrl":"http://localhost:4566/000000000000/wire","MessageAttributeNames":["All"]})", js);
  EXPECT_EQ(received.status, 200) << received.body;
  json body = json::parse(received.body);
  EXPECT_EQ(body["Messages"][0]["Body"], "hello");
  EXPECT_EQ(body["Messages"][0]["MessageAttributes"]["attribName1"]["StringValue"], "attribValue 1");
  auto missing = send("/", R"({"QueueUrl":"http://localhost:4566/000000000000/nope"})",
                      {{"Content-Type", "application/x-amz-json-1.0"}, {"X-Amz-Target", "AmazonSQS.GetQueueAttributes"}});
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.headers.get("x-amzn-query-error"), "AWS.SimpleQueueService.NonExistentQueue;Sender");
  EXPECT_EQ(json::parse(missing.body)["__type"], "com.amazonaws.sqs#QueueDoesNotExist");
  auto qmissing = send("/000000000000/nope", "Action=GetQueueAttributes&Version=2012-11-05", form);
  EXPECT_EQ(qmissing.status, 400);
  EXPECT_NE(qmissing.body.find("<Code>AWS.SimpleQueueService.NonExistentQueue</Code>"), std::string::npos);
}

// Move tasks are in the store: after a restart the list is the same, a RUNNING task goes on from where it
// was, and its handle still cancels it. Finished tasks stay listed for 14 days.
TEST_F(SqsTest, MoveTasksSurviveRestart) {
  std::string dlq = create("dlq");
  std::string dlq_arn = "arn:aws:sqs:us-east-1:000000000000:dlq";
  create("src", {{"RedrivePolicy", json({{"deadLetterTargetArn", dlq_arn}, {"maxReceiveCount", 1}}).dump()}});
  std::string dest = create("dest");
  std::string dest_arn = "arn:aws:sqs:us-east-1:000000000000:dest";
  for (int i = 0; i < 5; ++i) ok("SendMessage", {{"QueueUrl", dlq}, {"MessageBody", "m" + std::to_string(i)}});
  std::int64_t started = clock.now_ms();
  std::string handle =
      ok("StartMessageMoveTask", {{"SourceArn", dlq_arn}, {"DestinationArn", dest_arn}, {"MaxNumberOfMessagesPerSecond", 1}})
          ["TaskHandle"];
  process_due(*svc);
  clock.advance_ms(1'000);
  process_due(*svc);
  clock.advance_ms(1'000);
  process_due(*svc);
  auto tasks = ok("ListMessageMoveTasks", {{"SourceArn", dlq_arn}})["Results"];
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0]["Status"], "RUNNING");
  EXPECT_EQ(tasks[0]["ApproximateNumberOfMessagesMoved"], 2);
  EXPECT_EQ(attributes(dest)["ApproximateNumberOfMessages"], "2");

  close();
  open();
  tasks = ok("ListMessageMoveTasks", {{"SourceArn", dlq_arn}})["Results"];
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0]["Status"], "RUNNING");
  EXPECT_EQ(tasks[0]["TaskHandle"], handle);
  EXPECT_EQ(tasks[0]["DestinationArn"], dest_arn);
  EXPECT_EQ(tasks[0]["MaxNumberOfMessagesPerSecond"], 1);
  EXPECT_EQ(tasks[0]["ApproximateNumberOfMessagesMoved"], 2);
  EXPECT_EQ(tasks[0]["ApproximateNumberOfMessagesToMove"], 5);
  EXPECT_EQ(tasks[0]["StartedTimestamp"], started);
  // Still the one active task of its source.
  EXPECT_EQ(fails("StartMessageMoveTask", {{"SourceArn", dlq_arn}}).code, "InvalidParameterValue");
  // It goes on at its rate.
  process_due(*svc);
  clock.advance_ms(1'000);
  process_due(*svc);
  tasks = ok("ListMessageMoveTasks", {{"SourceArn", dlq_arn}})["Results"];
  EXPECT_EQ(tasks[0]["ApproximateNumberOfMessagesMoved"], 3);
  EXPECT_EQ(attributes(dest)["ApproximateNumberOfMessages"], "3");
  // The handle from before the restart cancels it; CANCELLED survives the next restart.
  EXPECT_EQ(ok("CancelMessageMoveTask", {{"TaskHandle", handle}})["ApproximateNumberOfMessagesMoved"], 3);
  close();
  open();
  process_due(*svc);
  tasks = ok("ListMessageMoveTasks", {{"SourceArn", dlq_arn}})["Results"];
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0]["Status"], "CANCELLED");
  EXPECT_FALSE(tasks[0].contains("TaskHandle"));
  EXPECT_EQ(attributes(dlq)["ApproximateNumberOfMessages"], "2");
  clock.advance_ms(5'000);
  process_due(*svc);
  EXPECT_EQ(attributes(dlq)["ApproximateNumberOfMessages"], "2");

  // A completed task, and at most 10 per source, newest first.
  for (int i = 0; i < 11; ++i) {
    clock.advance_ms(1'000);
    ok("StartMessageMoveTask", {{"SourceArn", dlq_arn}, {"DestinationArn", dest_arn}});
    process_due(*svc);
  }
  tasks = ok("ListMessageMoveTasks", {{"SourceArn", dlq_arn}, {"MaxResults", 10}})["Results"];
  ASSERT_EQ(tasks.size(), 10u);
  EXPECT_EQ(tasks[0]["Status"], "COMPLETED");
  EXPECT_EQ(tasks[0]["ApproximateNumberOfMessagesMoved"], 0);  // the first of the 11 moved the last 2
  EXPECT_GT(tasks[0]["StartedTimestamp"].get<std::int64_t>(), tasks[9]["StartedTimestamp"].get<std::int64_t>());
  close();
  open();
  EXPECT_EQ(ok("ListMessageMoveTasks", {{"SourceArn", dlq_arn}, {"MaxResults", 10}})["Results"], tasks);
  // 14 days later they are gone, across a restart too.
  clock.advance_ms(kMoveTaskKeepMs);
  EXPECT_TRUE(ok("ListMessageMoveTasks", {{"SourceArn", dlq_arn}})["Results"].empty());
  close();
  open();
  EXPECT_TRUE(ok("ListMessageMoveTasks", {{"SourceArn", dlq_arn}})["Results"].empty());
}

// ReceiveRequestAttemptId (FIFO): a retry within 5 minutes returns the same messages and receipt handles
// and restarts their visibility timeout, unless one was deleted, had its visibility changed or was received
// again. https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html
TEST_F(SqsTest, FifoReceiveRequestAttemptIdDeduplicates) {
  std::string url = create("attempts.fifo", {{"FifoQueue", "true"}, {"ContentBasedDeduplication", "true"}});
  for (const char* b : {"a0", "a1"}) ok("SendMessage", {{"QueueUrl", url}, {"MessageBody", b}, {"MessageGroupId", "A"}});
  ok("SendMessage", {{"QueueUrl", url}, {"MessageBody", "b0"}, {"MessageGroupId", "B"}});
  auto bodies_and_handles = [](const json& msgs) {
    std::vector<std::string> out;
    for (const auto& m : msgs) out.push_back(m["Body"].get<std::string>() + "|" + m["ReceiptHandle"].get<std::string>());
    return out;
  };
  json first = receive(url, {{"MaxNumberOfMessages", 2}, {"ReceiveRequestAttemptId", "try-1"}});
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0]["Body"], "a0");
  EXPECT_EQ(first[1]["Body"], "a1");
  // The retry: the same messages, the same handles, not another receive.
  json retry = receive(url, {{"MaxNumberOfMessages", 2}, {"ReceiveRequestAttemptId", "try-1"}});
  EXPECT_EQ(bodies_and_handles(retry), bodies_and_handles(first));
  EXPECT_EQ(retry[0]["Attributes"]["ApproximateReceiveCount"], "1");
  EXPECT_EQ(attributes(url)["ApproximateNumberOfMessagesNotVisible"], "2");
  // A retry restarts the visibility timeout (with the retry's VisibilityTimeout).
  clock.advance_ms(20'000);
  EXPECT_EQ(bodies_and_handles(receive(url, {{"MaxNumberOfMessages", 2}, {"ReceiveRequestAttemptId", "try-1"},
                                             {"VisibilityTimeout", 30}})),
            bodies_and_handles(first));
  clock.advance_ms(20'000);  // 40 s after the first receive, 20 s after the retry: group A still in flight
  json other = receive(url, {{"MaxNumberOfMessages", 10}});
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0]["Body"], "b0");
  // Visible again but received by nobody: the retry still returns them, in flight again.
  clock.advance_ms(11'000);
  EXPECT_EQ(attributes(url)["ApproximateNumberOfMessages"], "2");
  EXPECT_EQ(bodies_and_handles(receive(url, {{"MaxNumberOfMessages", 2}, {"ReceiveRequestAttemptId", "try-1"}})),
            bodies_and_handles(first));
  EXPECT_EQ(attributes(url)["ApproximateNumberOfMessages"], "0");
  // The handles work; once one message is deleted, the id is a new receive (group A's a1 is in flight, b0
  // too: nothing to return).
  ok("DeleteMessage", {{"QueueUrl", url}, {"ReceiptHandle", first[0]["ReceiptHandle"]}});
  EXPECT_TRUE(receive(url, {{"MaxNumberOfMessages", 2}, {"ReceiveRequestAttemptId", "try-1"}}).empty());
  clock.advance_ms(31'000);
  json fresh = receive(url, {{"MaxNumberOfMessages", 10}, {"ReceiveRequestAttemptId", "try-1"}});
  ASSERT_EQ(fresh.size(), 2u);
  std::set<std::string> fresh_bodies{fresh[0]["Body"], fresh[1]["Body"]};
  EXPECT_EQ(fresh_bodies, (std::set<std::string>{"a1", "b0"}));
  for (const auto& m : fresh) {
    EXPECT_NE(m["ReceiptHandle"], first[1]["ReceiptHandle"]);
    EXPECT_EQ(m["Attributes"]["ApproximateReceiveCount"], "2");
  }
  // A visibility change of one of its messages ends the attempt too.
  ok("ChangeMessageVisibility", {{"QueueUrl", url}, {"ReceiptHandle", fresh[0]["ReceiptHandle"]}, {"VisibilityTimeout", 60}});
  EXPECT_TRUE(receive(url, {{"MaxNumberOfMessages", 10}, {"ReceiveRequestAttemptId", "try-1"}}).empty());
  // The window is 5 minutes from the receive.
  clock.advance_ms(61'000);
  json late = receive(url, {{"MaxNumberOfMessages", 10}, {"ReceiveRequestAttemptId", "late"}});
  ASSERT_EQ(late.size(), 2u);
  clock.advance_ms(5 * 60'000 - 1);
  EXPECT_EQ(bodies_and_handles(receive(url, {{"MaxNumberOfMessages", 10}, {"ReceiveRequestAttemptId", "late"}})),
            bodies_and_handles(late));
  clock.advance_ms(30'001);  // the retry made them in flight for 30 s; the window closed meanwhile
  json after = receive(url, {{"MaxNumberOfMessages", 10}, {"ReceiveRequestAttemptId", "late"}});
  ASSERT_EQ(after.size(), 2u);
  EXPECT_NE(after[0]["ReceiptHandle"], late[0]["ReceiptHandle"]);
  EXPECT_EQ(after[0]["Attributes"]["ApproximateReceiveCount"], "4");

  // A long poll answered later is remembered as well.
  std::string url2 = create("attempts2.fifo", {{"FifoQueue", "true"}, {"ContentBasedDeduplication", "true"}});
  auto waiting = start("ReceiveMessage", {{"QueueUrl", url2}, {"WaitTimeSeconds", 20}, {"ReceiveRequestAttemptId", "lp"}});
  EXPECT_FALSE(waiting->done());
  ok("SendMessage", {{"QueueUrl", url2}, {"MessageBody", "late"}, {"MessageGroupId", "G"}});
  ASSERT_TRUE(waiting->done());
  json polled = waiting->get().output["Messages"];
  ASSERT_EQ(polled.size(), 1u);
  json again = ok("ReceiveMessage", {{"QueueUrl", url2}, {"ReceiveRequestAttemptId", "lp"}})["Messages"];
  EXPECT_EQ(bodies_and_handles(again), bodies_and_handles(polled));

  // Validation (FIFO), and standard queues ignore the parameter.
  EXPECT_EQ(fails("ReceiveMessage", {{"QueueUrl", url2}, {"ReceiveRequestAttemptId", std::string(129, 'a')}}).code,
            "InvalidParameterValue");
  EXPECT_EQ(fails("ReceiveMessage", {{"QueueUrl", url2}, {"ReceiveRequestAttemptId", "has space"}}).code,
            "InvalidParameterValue");
  std::string std_url = create("plain");
  ok("SendMessage", {{"QueueUrl", std_url}, {"MessageBody", "s0"}});
  ok("SendMessage", {{"QueueUrl", std_url}, {"MessageBody", "s1"}});
  json s0 = receive(std_url, {{"ReceiveRequestAttemptId", "same"}});
  json s1 = receive(std_url, {{"ReceiveRequestAttemptId", "same"}});
  ASSERT_EQ(s0.size(), 1u);
  ASSERT_EQ(s1.size(), 1u);
  EXPECT_NE(s0[0]["Body"], s1[0]["Body"]);
}

// FIFO retention: messages past MessageRetentionPeriod leave the counts at once, not when a receive
// reaches their group; the groups stay in order.
TEST_F(SqsTest, FifoExpiredMessagesLeaveTheCounts) {
  std::string url = create("old.fifo", {{"FifoQueue", "true"}, {"ContentBasedDeduplication", "true"},
                                        {"MessageRetentionPeriod", "60"}, {"VisibilityTimeout", "100"}});
  auto send = [&](const char* body, const char* group) {
    ok("SendMessage", {{"QueueUrl", url}, {"MessageBody", body}, {"MessageGroupId", group}});
  };
  send("a0", "A");
  send("a1", "A");
  send("b0", "B");
  auto msgs = receive(url);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0]["Body"], "a0");
  clock.advance_ms(30'000);
  send("a2", "A");
  send("c0", "C");
  auto a = attributes(url);
  EXPECT_EQ(a["ApproximateNumberOfMessages"], "4");
  EXPECT_EQ(a["ApproximateNumberOfMessagesNotVisible"], "1");
  clock.advance_ms(30'000);  // a0 (in flight), a1 and b0 are past retention
  a = attributes(url);
  EXPECT_EQ(a["ApproximateNumberOfMessages"], "2");
  EXPECT_EQ(a["ApproximateNumberOfMessagesNotVisible"], "1");
  clock.advance_ms(30'000);  // a2 and c0 too
  a = attributes(url);
  EXPECT_EQ(a["ApproximateNumberOfMessages"], "0");
  EXPECT_EQ(a["ApproximateNumberOfMessagesNotVisible"], "1");
  json stats = queue_stats(*svc)["queues"][0];
  EXPECT_EQ(stats["expired"], 4);
  // Group A is still blocked by the in-flight a0; when a0 comes back it is dropped as expired and A's
  // next message is served, in order.
  send("a3", "A");
  send("a4", "A");
  EXPECT_TRUE(receive(url, {{"MaxNumberOfMessages", 10}}).empty());
  clock.advance_ms(10'001);
  msgs = receive(url, {{"MaxNumberOfMessages", 10}});
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0]["Body"], "a3");
  EXPECT_EQ(msgs[1]["Body"], "a4");
  a = attributes(url);
  EXPECT_EQ(a["ApproximateNumberOfMessages"], "0");
  EXPECT_EQ(a["ApproximateNumberOfMessagesNotVisible"], "2");
}

}  // namespace
}  // namespace stratus::services::sqs
