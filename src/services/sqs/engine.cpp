// The queue engine (see engine.hpp for the store layout and locking).
#include "services/sqs/engine.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <random>

#include <fmt/format.h>

#include "common/base64.hpp"
#include "common/ids.hpp"
#include "common/log.hpp"
#include "common/text.hpp"
#include "store/key_codec.hpp"

namespace stratus::services::sqs {

using nlohmann::json;

namespace {

constexpr std::uint64_t kSequenceBase = 10'000'000'000'000'000'000ull;  // SequenceNumber: 20 digits

// `md` is fetched once by the caller and the context is kept per thread: OpenSSL 3 otherwise looks the
// algorithm up in its provider tables and allocates a context on every call (a tenth of SendMessage's
// instructions went there).
std::string digest_hex(const EVP_MD* md, std::string_view data) {
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 || EVP_DigestFinal_ex(ctx.get(), out, &len) != 1) {
    EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);  // the one-shot call, without the reuse
  }
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string s;
  s.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    s.push_back(k_hex[out[i] >> 4]);
    s.push_back(k_hex[out[i] & 15]);
  }
  return s;
}

void put_u32be(std::string& s, std::size_t v) {
  for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put64(std::string& s, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
std::uint64_t get64(std::string_view s, std::size_t off) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[off + static_cast<std::size_t>(i)]);
  return v;
}

// State record: sent, visible_at, first_receive, last_receive (i64), receive_count, gen (u32 as u64), then
// the FIFO group name.
std::string encode_state(const Meta& m, const std::string& group) {
  std::string s;
  s.reserve(48 + group.size());
  put64(s, static_cast<std::uint64_t>(m.sent_ms));
  put64(s, static_cast<std::uint64_t>(m.visible_at));
  put64(s, static_cast<std::uint64_t>(m.first_receive_ms));
  put64(s, static_cast<std::uint64_t>(m.last_receive_ms));
  put64(s, m.receive_count);
  put64(s, m.gen);
  s += group;
  return s;
}
bool decode_state(std::string_view s, Meta& m, std::string& group) {
  if (s.size() < 48) return false;
  m.sent_ms = static_cast<std::int64_t>(get64(s, 0));
  m.visible_at = static_cast<std::int64_t>(get64(s, 8));
  m.first_receive_ms = static_cast<std::int64_t>(get64(s, 16));
  m.last_receive_ms = static_cast<std::int64_t>(get64(s, 24));
  m.receive_count = static_cast<std::uint32_t>(get64(s, 32));
  m.gen = static_cast<std::uint32_t>(get64(s, 40));
  group.assign(s.substr(48));
  return true;
}

// Body record: u32be length of a small JSON header (message id, digests, attributes, FIFO ids, sent time,
// sender, DLQ source), the header, then the body's raw bytes (never escaped or parsed).
std::string encode_record(const json& header, std::string_view body) {
  std::string h = header.dump();
  std::string s;
  s.reserve(4 + h.size() + body.size());
  put_u32be(s, h.size());
  s += h;
  s += body;
  return s;
}
// The record of a send without message attributes whose strings need no JSON escaping (the usual case),
// written directly: the same header encode_record() writes for it, without building a json object first.
// "" when the send does not qualify; the caller then builds the json.
std::string plain_record(std::string_view id, std::string_view md5, std::int64_t sent, const SendRequest& req,
                         bool fifo) {
  if (!req.message_attributes.empty()) return {};
  for (std::string_view v : {id, md5, std::string_view(req.sender_id), std::string_view(req.trace_header),
                             std::string_view(req.group_id), std::string_view(req.dedup_id)}) {
    if (!json_plain_text(v)) return {};
  }
  std::string h;
  h.reserve(96 + req.sender_id.size() + req.trace_header.size() + req.group_id.size() + req.dedup_id.size());
  auto field = [&h](std::string_view key, std::string_view value) {
    h += ",\"";
    h += key;
    h += "\":\"";
    h += value;
    h += '"';
  };
  h += "{\"id\":\"";
  h += id;
  h += '"';
  field("mdb", md5);
  h += ",\"sent\":";
  h += std::to_string(sent);
  field("snd", req.sender_id);
  if (!req.trace_header.empty()) field("th", req.trace_header);
  if (!req.group_id.empty()) field("g", req.group_id);
  if (fifo) field("d", req.dedup_id);
  h += '}';
  std::string s;
  s.reserve(4 + h.size() + req.body.size());
  put_u32be(s, h.size());
  s += h;
  s += req.body;
  return s;
}

bool decode_record(std::string_view v, json& header, std::string& body) {
  if (v.size() < 4) return false;
  std::size_t n = 0;
  for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<unsigned char>(v[static_cast<std::size_t>(i)]);
  if (4 + n > v.size()) return false;
  header = json::parse(v.substr(4, n), nullptr, false);
  if (!header.is_object()) return false;
  body.assign(v.substr(4 + n));
  return true;
}

std::string prefix_of(const QueueKey& k, const char* kind, std::uint64_t qid) {
  return KeyBuilder().add_string(k.account).add_string(k.region).add_string(kind).add_u64(qid).build();
}
std::string dedup_key(const QueueKey& k, std::uint64_t qid, const std::string& d) {
  return KeyBuilder(prefix_of(k, "d", qid)).add_string(d).build();
}
std::string next_qid_key() { return KeyBuilder().add_string("c").add_string("next_qid").build(); }
std::string task_key(const std::string& handle) { return KeyBuilder().add_string("t").add_string(handle).build(); }

AwsError store_error(const Status& st) {
  return AwsError::receiver(500, "InternalError", "store: " + st.message);
}
AwsError no_queue() {
  AwsError e = AwsError::sender(400, "QueueDoesNotExist", "The specified queue does not exist.");
  e.query_code = "AWS.SimpleQueueService.NonExistentQueue";
  return e;
}

std::string sequence_number(std::uint64_t seq) { return std::to_string(kSequenceBase + seq); }

using Heap = std::vector<std::pair<std::int64_t, std::uint64_t>>;
void heap_push(Heap& h, std::int64_t t, std::uint64_t seq) {
  h.emplace_back(t, seq);
  std::push_heap(h.begin(), h.end(), std::greater<>());
}

}  // namespace

// --- digests ---

std::string md5_hex(std::string_view data) {
  static const EVP_MD* md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  return digest_hex(md5 != nullptr ? md5 : EVP_md5(), data);
}
std::string sha256_hex(std::string_view data) {
  static const EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return digest_hex(sha256 != nullptr ? sha256 : EVP_sha256(), data);
}

// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html
// (calculating the MD5 message digest for message attributes): names sorted, each as length-prefixed
// name, data type, then 1 + string value or 2 + binary value.
std::string md5_of_attributes(const json& attributes) {
  if (!attributes.is_object() || attributes.empty()) return "";
  std::string buf;
  for (auto it = attributes.begin(); it != attributes.end(); ++it) {  // json objects iterate sorted
    const json& v = it.value();
    std::string type = v.value("DataType", "");
    put_u32be(buf, it.key().size());
    buf += it.key();
    put_u32be(buf, type.size());
    buf += type;
    if (auto s = v.find("StringValue"); s != v.end() && s->is_string()) {
      buf.push_back(1);
      put_u32be(buf, s->get_ref<const std::string&>().size());
      buf += s->get<std::string>();
    } else if (auto b = v.find("BinaryValue"); b != v.end() && b->is_string()) {
      std::string raw = base64_decode(b->get<std::string>()).value_or("");
      buf.push_back(2);
      put_u32be(buf, raw.size());
      buf += raw;
    }
  }
  return md5_hex(buf);
}

// --- keys and config ---

std::string queue_record_key(const QueueKey& k) {
  // Under "q" first so that start-up finds every queue with one prefix scan.
  return KeyBuilder().add_string("q").add_string(k.account).add_string(k.region).add_string(k.name).build();
}
std::string body_key(const QueueKey& k, std::uint64_t qid, std::uint64_t seq) {
  return KeyBuilder(prefix_of(k, "m", qid)).add_u64(seq).build();
}
std::string state_key(const QueueKey& k, std::uint64_t qid, std::uint64_t seq) {
  return KeyBuilder(prefix_of(k, "s", qid)).add_u64(seq).build();
}

int QueueConfig::int_attr(const std::string& n, int fallback) const {
  auto it = attributes.find(n);
  if (it == attributes.end()) return fallback;
  int v = fallback;
  auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  return ec == std::errc{} ? v : fallback;
}

json QueueConfig::to_json() const {
  return {{"name", name},          {"qid", qid},         {"fifo", fifo},
          {"created", created_s},  {"modified", modified_s}, {"attributes", attributes},
          {"tags", tags},          {"last_purge", last_purge_ms}};
}

QueueConfig QueueConfig::from_json(const json& j) {
  QueueConfig c;
  c.name = j.value("name", "");
  c.qid = j.value("qid", std::uint64_t{0});
  c.fifo = j.value("fifo", false);
  c.created_s = j.value("created", std::int64_t{0});
  c.modified_s = j.value("modified", std::int64_t{0});
  c.attributes = j.value("attributes", std::map<std::string, std::string>{});
  c.tags = j.value("tags", std::map<std::string, std::string>{});
  c.last_purge_ms = j.value("last_purge", std::int64_t{0});
  return c;
}

void refresh_cache(Queue& q) {
  q.retention_ms = static_cast<std::int64_t>(q.cfg.int_attr("MessageRetentionPeriod", 345600)) * 1000;
  q.default_delay = q.cfg.int_attr("DelaySeconds", 0);
  q.max_receive = 0;
  q.dlq_arn.clear();
  if (auto it = q.cfg.attributes.find("RedrivePolicy"); it != q.cfg.attributes.end() && !it->second.empty()) {
    json rp = json::parse(it->second, nullptr, false);
    if (rp.is_object()) {
      q.dlq_arn = rp.value("deadLetterTargetArn", "");
      auto mrc = rp.find("maxReceiveCount");
      if (mrc != rp.end() && mrc->is_number_integer()) q.max_receive = mrc->get<int>();
      if (mrc != rp.end() && mrc->is_string()) q.max_receive = std::atoi(mrc->get<std::string>().c_str());
    }
  }
  q.content_dedup = q.cfg.attributes.count("ContentBasedDeduplication") &&
                    q.cfg.attributes.at("ContentBasedDeduplication") == "true";
  q.dedup_by_group = q.cfg.attributes.count("DeduplicationScope") &&
                     q.cfg.attributes.at("DeduplicationScope") == "messageGroup";
}

// --- receipt handles: base64 of "qid:seq:gen:nonce" ---

std::string Engine::format_receipt(std::uint64_t qid, std::uint64_t seq, std::uint32_t gen) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return base64_encode(fmt::format("{}:{}:{}:{:016x}{:016x}", qid, seq, gen, rng(), rng()));
}

bool Engine::parse_receipt(const std::string& handle, std::uint64_t& qid, std::uint64_t& seq,
                           std::uint32_t& gen) {
  if (handle.empty() || handle.size() > 1024) return false;
  auto raw = base64_decode(handle);
  if (!raw) return false;
  std::string_view s = *raw;
  auto num = [&s](auto& out) {
    auto colon = s.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + colon, out);
    if (ec != std::errc{} || p != s.data() + colon) return false;
    s.remove_prefix(colon + 1);
    return true;
  };
  return num(qid) && num(seq) && num(gen) && s.size() == 32;
}

// --- life cycle ---

Engine::Engine(Store* store, const Clock* clock, bool background)
    : store_(store), clock_(clock), background_(background) {}

Engine::~Engine() { shutdown(); }

void Engine::start() {
  load();
  if (background_) {
    timer_ = std::thread([this] {
      std::unique_lock lk(timer_mu_);
      while (!stopping_) {
        std::int64_t now = clock_->now_ms();
        if (next_wake_ <= now) {
          next_wake_ = now + 1000;
          lk.unlock();
          try {
            process_due();
          } catch (const std::exception& e) {
            log::error("sqs", "timer: {}", e.what());
          }
          lk.lock();
          continue;
        }
        timer_cv_.wait_for(lk, std::chrono::milliseconds(next_wake_ - now));
      }
    });
  }
}

void Engine::shutdown() {
  {
    std::lock_guard lk(timer_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  timer_cv_.notify_all();
  if (timer_.joinable()) timer_.join();
  std::vector<ReceiveCallback> pending;
  for (auto& q : all()) {
    std::lock_guard lk(q->mu);
    for (auto& w : q->waiters) pending.push_back(std::move(w.done));
    q->waiters.clear();
  }
  for (auto& done : pending) done(std::nullopt, {});
}

void Engine::wake(std::int64_t at) {
  if (!background_) return;
  bool notify = false;
  {
    std::lock_guard lk(timer_mu_);
    if (at < next_wake_) {
      next_wake_ = at;
      notify = true;
    }
  }
  if (notify) timer_cv_.notify_all();
}

void Engine::load() {
  std::string v;
  if (store_->get(Column::sqs, next_qid_key(), v).ok()) next_qid_ = std::stoull(v);
  std::int64_t now = clock_->now_ms();
  auto it = store_->scan_prefix(Column::sqs, KeyBuilder().add_string("q").build());
  std::vector<std::shared_ptr<Queue>> loaded;
  for (; it->valid(); it->next()) {
    KeyReader r(it->key());
    r.read_string();
    auto account = r.read_string();
    auto region = r.read_string();
    auto name = r.read_string();
    json j = json::parse(it->value(), nullptr, false);
    if (!account || !region || !name || !j.is_object()) continue;
    auto q = std::make_shared<Queue>();
    q->key = QueueKey{*account, *region, *name};
    q->cfg = QueueConfig::from_json(j);
    refresh_cache(*q);
    loaded.push_back(q);
  }
  it.reset();
  for (auto& q : loaded) {
    std::uint64_t max_seq = 0;
    auto s = store_->scan_prefix(Column::sqs, prefix_of(q->key, "s", q->cfg.qid));
    std::string group;
    for (; s->valid(); s->next()) {
      KeyReader r(s->key());
      for (int i = 0; i < 4; ++i) r.skip();
      auto seq = r.read_u64();
      Meta m;
      if (!seq || !decode_state(s->value(), m, group)) continue;
      max_seq = std::max(max_seq, *seq);
      m.state = m.visible_at > now ? (m.receive_count > 0 ? kInflight : kDelayed) : kReady;
      insert_meta(*q, *seq, m, group);
    }
    s.reset();
    q->next_seq = std::max<std::uint64_t>(max_seq + 1, static_cast<std::uint64_t>(now) * 1000);
    auto d = store_->scan_prefix(Column::sqs, prefix_of(q->key, "d", q->cfg.qid));
    for (; d->valid(); d->next()) {
      KeyReader r(d->key());
      for (int i = 0; i < 4; ++i) r.skip();
      auto dk = r.read_string();
      json e = json::parse(d->value(), nullptr, false);
      if (!dk || !e.is_object()) continue;
      std::int64_t exp = e.value("exp", std::int64_t{0});
      if (exp <= now) continue;
      q->dedup[*dk] = Queue::Dedup{e.value("id", ""), e.value("seq", std::uint64_t{0}), exp};
      q->dedup_order.emplace_back(exp, *dk);
    }
    std::sort(q->dedup_order.begin(), q->dedup_order.end());
    std::unique_lock lk(map_mu_);
    queues_[q->key.str()] = q;
  }
  load_move_tasks(now);
}

// --- lookup ---

std::shared_ptr<Queue> Engine::find(const QueueKey& key) const {
  std::shared_lock lk(map_mu_);
  auto it = queues_.find(key.str());
  return it == queues_.end() ? nullptr : it->second;
}

std::shared_ptr<Queue> Engine::find_arn(const std::string& arn) const {
  // arn:aws:sqs:REGION:ACCOUNT:NAME
  if (!arn.starts_with("arn:")) return nullptr;
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (int i = 0; i < 5; ++i) {
    auto colon = arn.find(':', start);
    if (colon == std::string::npos) return nullptr;
    parts.push_back(arn.substr(start, colon - start));
    start = colon + 1;
  }
  parts.push_back(arn.substr(start));
  if (parts[2] != "sqs") return nullptr;
  return find(QueueKey{parts[4], parts[3], parts[5]});
}

std::vector<std::shared_ptr<Queue>> Engine::list(const std::string& account, const std::string& region) const {
  std::vector<std::shared_ptr<Queue>> out;
  std::shared_lock lk(map_mu_);
  for (auto& [k, q] : queues_)
    if (q->key.account == account && q->key.region == region) out.push_back(q);
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a->key.name < b->key.name; });
  return out;
}

std::vector<std::shared_ptr<Queue>> Engine::all() const {
  std::vector<std::shared_ptr<Queue>> out;
  std::shared_lock lk(map_mu_);
  for (auto& [k, q] : queues_) out.push_back(q);
  return out;
}

bool Engine::deleted_recently(const QueueKey& key) const {
  std::shared_lock lk(map_mu_);
  auto it = deleted_at_.find(key.str());
  return it != deleted_at_.end() && clock_->now_ms() - it->second < kRecentlyMs;
}

// --- queue life cycle ---

std::optional<AwsError> Engine::create(const QueueKey& key, QueueConfig cfg) {
  auto q = std::make_shared<Queue>();
  q->key = key;
  WriteBatch batch;
  {
    std::lock_guard lk(qid_mu_);
    cfg.qid = next_qid_++;
    batch.put(Column::sqs, next_qid_key(), std::to_string(next_qid_));
  }
  q->cfg = std::move(cfg);
  q->next_seq = static_cast<std::uint64_t>(clock_->now_ms()) * 1000;
  refresh_cache(*q);
  batch.put(Column::sqs, queue_record_key(key), q->cfg.to_json().dump());
  if (Status st = store_->write(batch); !st.ok()) return store_error(st);
  std::unique_lock lk(map_mu_);
  queues_[key.str()] = q;
  deleted_at_.erase(key.str());
  return std::nullopt;
}

std::optional<AwsError> Engine::save_config(Queue& q) {
  refresh_cache(q);
  if (Status st = store_->put(Column::sqs, queue_record_key(q.key), q.cfg.to_json().dump()); !st.ok())
    return store_error(st);
  return std::nullopt;
}

std::optional<AwsError> Engine::remove(const std::shared_ptr<Queue>& q) {
  {
    std::unique_lock lk(map_mu_);
    auto it = queues_.find(q->key.str());
    if (it == queues_.end() || it->second != q) return no_queue();
    queues_.erase(it);
    deleted_at_[q->key.str()] = clock_->now_ms();
  }
  std::vector<ReceiveCallback> pending;
  {
    std::lock_guard lk(q->mu);
    q->deleted = true;
    WriteBatch batch;
    batch.erase(Column::sqs, queue_record_key(q->key));
    for (const char* kind : {"m", "s", "d"}) {
      std::string p = prefix_of(q->key, kind, q->cfg.qid);
      batch.erase_range(Column::sqs, p, prefix_successor(p));
    }
    if (Status st = store_->write(batch); !st.ok()) log::error("sqs", "DeleteQueue: {}", st.message);
    for (auto& w : q->waiters) pending.push_back(std::move(w.done));
    q->waiters.clear();
    q->messages.clear();
    q->ready.clear();
    q->timers.clear();
  }
  for (auto& done : pending) done(std::nullopt, {});
  return std::nullopt;
}

std::optional<AwsError> Engine::purge(const std::shared_ptr<Queue>& q) {
  std::lock_guard lk(q->mu);
  if (q->deleted) return no_queue();
  std::int64_t now = clock_->now_ms();
  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_PurgeQueue.html
  if (q->cfg.last_purge_ms != 0 && now - q->cfg.last_purge_ms < kRecentlyMs) {
    AwsError e = AwsError::sender(
        403, "PurgeQueueInProgress",
        fmt::format("Only one PurgeQueue operation on {} is allowed every 60 seconds.", q->key.name));
    e.query_code = "AWS.SimpleQueueService.PurgeQueueInProgress";
    return e;
  }
  WriteBatch batch;
  for (const char* kind : {"m", "s"}) {
    std::string p = prefix_of(q->key, kind, q->cfg.qid);
    batch.erase_range(Column::sqs, p, prefix_successor(p));
  }
  q->cfg.last_purge_ms = now;
  batch.put(Column::sqs, queue_record_key(q->key), q->cfg.to_json().dump());
  if (Status st = store_->write(batch); !st.ok()) return store_error(st);
  q->purge_floor = q->next_seq;
  q->messages.clear();
  q->ready.clear();
  q->timers.clear();
  q->groups.clear();
  q->group_ids.clear();
  q->free_groups.clear();
  q->ready_groups.clear();
  q->n_ready = q->n_delayed = q->n_inflight = 0;
  return std::nullopt;
}

// --- the index ---

bool Engine::expired(const Queue& q, const Meta& m, std::int64_t now) const {
  return m.sent_ms + q.retention_ms <= now;
}

std::uint32_t Engine::group_index(Queue& q, const std::string& name) {
  auto it = q.group_ids.find(name);
  if (it != q.group_ids.end()) return it->second;
  std::uint32_t g;
  if (!q.free_groups.empty()) {
    g = q.free_groups.back();
    q.free_groups.pop_back();
    q.groups[g] = Group{};
  } else {
    g = static_cast<std::uint32_t>(q.groups.size());
    q.groups.emplace_back();
  }
  q.groups[g].name = name;
  q.group_ids.emplace(name, g);
  return g;
}

// Drops deleted entries at the front of a group; frees an empty idle group, or queues it when its head
// is ready and nothing of it is in flight.
void Engine::release_group(Queue& q, std::uint32_t g) {
  Group& G = q.groups[g];
  if (G.name.empty()) return;  // already freed (MessageGroupId is never empty)
  while (!G.seqs.empty() && q.messages.find(G.seqs.front()) == q.messages.end()) G.seqs.pop_front();
  if (G.inflight > 0) return;
  if (G.seqs.empty()) {
    if (G.queued) return;  // removed from ready_groups lazily first
    q.group_ids.erase(G.name);
    G.name.clear();
    q.free_groups.push_back(g);
    return;
  }
  if (!G.queued && q.messages.at(G.seqs.front()).state == kReady) {
    G.queued = true;
    q.ready_groups.push_back(g);
  }
}

void Engine::make_ready(Queue& q, std::uint64_t seq, Meta& m) {
  if (m.state == kDelayed) --q.n_delayed;
  if (m.state == kInflight) {
    --q.n_inflight;
    if (q.cfg.fifo) --q.groups[m.group].inflight;
  }
  m.state = kReady;
  ++q.n_ready;
  if (q.cfg.fifo)
    release_group(q, m.group);
  else
    q.ready.push_back(seq);
}

void Engine::insert_meta(Queue& q, std::uint64_t seq, Meta m, const std::string& group) {
  if (q.cfg.fifo) {
    m.group = group_index(q, group);
    q.groups[m.group].seqs.push_back(seq);
  }
  std::uint8_t state = m.state;
  Meta& stored = q.messages.emplace(seq, m).first->second;
  if (state == kReady) {
    stored.state = kDelayed;  // make_ready counts it
    ++q.n_delayed;
    make_ready(q, seq, stored);
    return;
  }
  if (state == kDelayed) ++q.n_delayed;
  if (state == kInflight) {
    ++q.n_inflight;
    if (q.cfg.fifo) ++q.groups[stored.group].inflight;
  }
  heap_push(q.timers, stored.visible_at, seq);
}

void Engine::erase_meta(Queue& q, std::uint64_t seq, Meta& m) {
  if (m.state == kReady) --q.n_ready;
  if (m.state == kDelayed) --q.n_delayed;
  bool was_inflight = m.state == kInflight;
  if (was_inflight) --q.n_inflight;
  std::uint32_t g = m.group;
  q.messages.erase(seq);
  if (q.cfg.fifo) {
    if (was_inflight) --q.groups[g].inflight;
    release_group(q, g);
  }
}

void Engine::promote_due(Queue& q, std::int64_t now) {
  while (!q.timers.empty() && q.timers.front().first <= now) {
    auto [t, seq] = q.timers.front();
    std::pop_heap(q.timers.begin(), q.timers.end(), std::greater<>());
    q.timers.pop_back();
    auto it = q.messages.find(seq);
    if (it == q.messages.end() || it->second.state == kReady || it->second.visible_at != t) continue;
    make_ready(q, seq, it->second);
  }
}

std::vector<Engine::Picked> Engine::pick(const std::shared_ptr<Queue>& qp, int max, int visibility,
                                         std::int64_t now, std::vector<Moving>& moves, WriteBatch& batch) {
  Queue& q = *qp;
  promote_due(q, now);
  std::vector<Picked> out;
  // The DLQ, if the redrive policy names one that exists (AWS leaves messages in place otherwise).
  bool redrive = q.max_receive > 0 && find_arn(q.dlq_arn) != nullptr;
  // Returns false when the message left the queue (expired or moved) instead of being taken.
  auto consider = [&](std::uint64_t seq, Meta& m) {
    if (expired(q, m, now)) {
      ++q.stats.expired;
      batch.erase(Column::sqs, body_key(q.key, q.cfg.qid, seq));
      batch.erase(Column::sqs, state_key(q.key, q.cfg.qid, seq));
      erase_meta(q, seq, m);
      return false;
    }
    // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html:
    // a message whose receive count would exceed maxReceiveCount goes to the DLQ instead.
    if (redrive && m.receive_count + 1 > static_cast<std::uint32_t>(q.max_receive)) {
      ++q.stats.moved_to_dlq;
      moves.push_back(Moving{qp, seq, q.dlq_arn, true});
      erase_meta(q, seq, m);
      return false;
    }
    --q.n_ready;
    ++q.n_inflight;
    m.state = kInflight;
    ++m.receive_count;
    ++m.gen;
    if (m.first_receive_ms == 0) m.first_receive_ms = now;
    m.last_receive_ms = now;
    m.visible_at = now + static_cast<std::int64_t>(visibility) * 1000;
    heap_push(q.timers, m.visible_at, seq);
    if (q.cfg.fifo) ++q.groups[m.group].inflight;
    batch.put(Column::sqs, state_key(q.key, q.cfg.qid, seq),
              encode_state(m, q.cfg.fifo ? q.groups[m.group].name : std::string()));
    ++q.stats.received;
    out.push_back(Picked{seq, m.gen, m.receive_count, m.first_receive_ms});
    return true;
  };
  if (!q.cfg.fifo) {
    while (static_cast<int>(out.size()) < max && !q.ready.empty()) {
      std::uint64_t seq = q.ready.front();
      q.ready.pop_front();
      auto it = q.messages.find(seq);
      if (it == q.messages.end() || it->second.state != kReady) continue;
      consider(seq, it->second);
    }
    return out;
  }
  // FIFO: whole runs of a group in order; a group with a message in flight is skipped.
  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues-understanding-logic.html
  while (static_cast<int>(out.size()) < max && !q.ready_groups.empty()) {
    std::uint32_t g = q.ready_groups.front();
    q.ready_groups.pop_front();
    q.groups[g].queued = false;
    if (q.groups[g].inflight > 0) {
      release_group(q, g);
      continue;
    }
    std::vector<std::uint64_t> run;
    for (std::uint64_t seq : q.groups[g].seqs) {
      auto it = q.messages.find(seq);
      if (it == q.messages.end()) continue;
      if (it->second.state != kReady) break;
      run.push_back(seq);
    }
    for (std::uint64_t seq : run) {
      if (static_cast<int>(out.size()) >= max) break;
      auto it = q.messages.find(seq);
      if (it == q.messages.end()) continue;
      consider(seq, it->second);
    }
    release_group(q, g);
  }
  return out;
}

// --- sending ---

std::optional<AwsError> Engine::send(const std::shared_ptr<Queue>& q, SendRequest req, SendResult& out) {
  std::int64_t now = clock_->now_ms();
  out.md5_of_body = md5_hex(req.body);
  out.message_id = new_request_id();
  std::unique_lock lk(q->mu);
  if (q->deleted) return no_queue();
  std::string dkey;
  if (q->cfg.fifo) {
    // Deduplication window: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/using-messagededuplicationid-property.html
    if (req.dedup_id.empty()) req.dedup_id = sha256_hex(req.body);
    dkey = (q->dedup_by_group ? req.group_id + '\x1f' : std::string()) + req.dedup_id;
    WriteBatch cleanup;
    while (!q->dedup_order.empty() && q->dedup_order.front().first <= now) {
      auto& [exp, k] = q->dedup_order.front();
      auto d = q->dedup.find(k);
      if (d != q->dedup.end() && d->second.expires == exp) {
        q->dedup.erase(d);
        cleanup.erase(Column::sqs, dedup_key(q->key, q->cfg.qid, k));
      }
      q->dedup_order.pop_front();
    }
    if (!cleanup.empty()) store_->write(cleanup);
    if (auto d = q->dedup.find(dkey); d != q->dedup.end() && d->second.expires > now) {
      out.message_id = d->second.message_id;
      out.sequence_number = sequence_number(d->second.seq);
      return std::nullopt;
    }
  }
  std::uint64_t seq = q->next_seq++;
  int delay = req.delay_seconds.value_or(q->default_delay);
  Meta m;
  m.sent_ms = now;
  m.visible_at = now + static_cast<std::int64_t>(delay) * 1000;
  m.state = delay > 0 ? kDelayed : kReady;
  if (q->cfg.fifo) out.sequence_number = sequence_number(seq);
  std::string record = plain_record(out.message_id, out.md5_of_body, now, req, q->cfg.fifo);
  if (record.empty()) {
    json rec = {{"id", out.message_id}, {"mdb", out.md5_of_body}, {"sent", now}, {"snd", req.sender_id}};
    if (!req.message_attributes.empty()) {
      rec["ma"] = req.message_attributes;
      rec["mda"] = req.md5_of_message_attributes;
    }
    if (!req.trace_header.empty()) rec["th"] = req.trace_header;
    if (!req.group_id.empty()) rec["g"] = req.group_id;
    if (q->cfg.fifo) rec["d"] = req.dedup_id;
    record = encode_record(rec, req.body);
  }
  std::string group = q->cfg.fifo ? req.group_id : std::string();
  WriteBatch batch;
  batch.put(Column::sqs, body_key(q->key, q->cfg.qid, seq), record);
  batch.put(Column::sqs, state_key(q->key, q->cfg.qid, seq), encode_state(m, group));
  if (q->cfg.fifo) {
    std::int64_t exp = now + kDedupWindowMs;
    batch.put(Column::sqs, dedup_key(q->key, q->cfg.qid, dkey),
              json{{"id", out.message_id}, {"seq", seq}, {"exp", exp}}.dump());
    if (Status st = store_->write(batch); !st.ok()) return store_error(st);
    q->dedup[dkey] = Queue::Dedup{out.message_id, seq, exp};
    q->dedup_order.emplace_back(exp, dkey);
  } else {
    // Standard queues write without the queue's lock; a purge or delete meanwhile is caught below.
    lk.unlock();
    if (Status st = store_->write(batch); !st.ok()) return store_error(st);
    lk.lock();
    if (q->deleted || seq < q->purge_floor) {
      lk.unlock();
      store_->erase(Column::sqs, body_key(q->key, q->cfg.qid, seq));
      store_->erase(Column::sqs, state_key(q->key, q->cfg.qid, seq));
      return std::nullopt;
    }
  }
  insert_meta(*q, seq, m, group);
  ++q->stats.sent;
  std::vector<Completion> completions;
  std::vector<Moving> moves;
  if (!q->waiters.empty()) {
    WriteBatch wb;
    serve_waiters(q, now, completions, moves, wb);
    if (!wb.empty()) store_->write(wb);
    if (m.state == kDelayed && !q->waiters.empty()) wake(m.visible_at);
  }
  lk.unlock();
  finish(completions);
  run_moves(moves);
  return std::nullopt;
}

// --- receiving ---

void Engine::serve_waiters(const std::shared_ptr<Queue>& q, std::int64_t now, std::vector<Completion>& out,
                           std::vector<Moving>& moves, WriteBatch& batch) {
  while (!q->waiters.empty() && q->n_ready > 0) {
    Waiter& w = q->waiters.front();
    auto picked = pick(q, w.max, w.visibility, now, moves, batch);
    if (picked.empty()) break;
    out.push_back(Completion{q, std::move(picked), std::move(w.done)});
    {
      std::lock_guard lk(waiter_mu_);
      waiter_queue_.erase(w.id);
    }
    q->waiters.pop_front();
  }
}

std::vector<Received> Engine::materialize(const Queue& q, const std::vector<Picked>& picked) {
  std::vector<Received> out;
  out.reserve(picked.size());
  std::string value;
  for (const auto& p : picked) {
    if (!store_->get(Column::sqs, body_key(q.key, q.cfg.qid, p.seq), value).ok()) continue;
    json rec;
    Received r;
    if (!decode_record(value, rec, r.body)) continue;
    r.message_id = rec.value("id", "");
    r.receipt_handle = format_receipt(q.cfg.qid, p.seq, p.gen);
    r.md5_of_body = rec.value("mdb", "");
    if (auto ma = rec.find("ma"); ma != rec.end()) {
      r.message_attributes = *ma;
      r.md5_of_message_attributes = rec.value("mda", "");
    }
    r.attributes["SenderId"] = rec.value("snd", "");
    r.attributes["SentTimestamp"] = std::to_string(rec.value("sent", std::int64_t{0}));
    r.attributes["ApproximateReceiveCount"] = std::to_string(p.receive_count);
    r.attributes["ApproximateFirstReceiveTimestamp"] = std::to_string(p.first_receive_ms);
    if (auto g = rec.find("g"); g != rec.end()) r.attributes["MessageGroupId"] = g->get<std::string>();
    if (q.cfg.fifo) {
      r.attributes["MessageDeduplicationId"] = rec.value("d", "");
      r.attributes["SequenceNumber"] = sequence_number(p.seq);
    }
    if (auto th = rec.find("th"); th != rec.end()) r.attributes["AWSTraceHeader"] = th->get<std::string>();
    if (auto src = rec.find("src"); src != rec.end())
      r.attributes["DeadLetterQueueSourceArn"] = src->get<std::string>();
    out.push_back(std::move(r));
  }
  return out;
}

void Engine::finish(std::vector<Completion>& completions) {
  for (auto& c : completions) {
    auto msgs = materialize(*c.q, c.picked);
    c.done(std::nullopt, std::move(msgs));
  }
  completions.clear();
}

std::uint64_t Engine::receive(const std::shared_ptr<Queue>& q, int max, int visibility, std::int64_t wait_ms,
                              ReceiveCallback done) {
  std::int64_t now = clock_->now_ms();
  std::vector<Moving> moves;
  WriteBatch batch;
  std::unique_lock lk(q->mu);
  if (q->deleted) {
    lk.unlock();
    done(no_queue(), {});
    return 0;
  }
  auto picked = pick(q, max, visibility, now, moves, batch);
  if (!batch.empty()) {
    if (Status st = store_->write(batch); !st.ok()) log::error("sqs", "ReceiveMessage: {}", st.message);
  }
  if (picked.empty() && wait_ms > 0) {
    Waiter w;
    w.id = next_waiter_++;
    w.max = max;
    w.visibility = visibility;
    w.deadline = now + wait_ms;
    w.done = std::move(done);
    std::uint64_t id = w.id;
    std::int64_t at = w.deadline;
    if (!q->timers.empty()) at = std::min(at, q->timers.front().first);
    q->waiters.push_back(std::move(w));
    {
      std::lock_guard wl(waiter_mu_);
      waiter_queue_[id] = q;
    }
    lk.unlock();
    wake(at);
    run_moves(moves);
    return id;
  }
  lk.unlock();
  auto msgs = materialize(*q, picked);
  run_moves(moves);
  done(std::nullopt, std::move(msgs));
  return 0;
}

void Engine::cancel_waiter(std::uint64_t id) {
  std::shared_ptr<Queue> q;
  {
    std::lock_guard lk(waiter_mu_);
    auto it = waiter_queue_.find(id);
    if (it == waiter_queue_.end()) return;
    q = it->second.lock();
    waiter_queue_.erase(it);
  }
  if (!q) return;
  ReceiveCallback done;
  {
    std::lock_guard lk(q->mu);
    for (auto it = q->waiters.begin(); it != q->waiters.end(); ++it) {
      if (it->id != id) continue;
      done = std::move(it->done);
      q->waiters.erase(it);
      break;
    }
  }
  if (done) done(std::nullopt, {});
}

// --- ReceiveRequestAttemptId (FIFO) ---

void Engine::expire_attempts(Queue& q, std::int64_t now) {
  while (!q.attempt_order.empty() &&
         (q.attempt_order.front().first <= now || q.attempt_order.size() > kMaxAttemptsPerQueue)) {
    auto& [exp, id] = q.attempt_order.front();
    auto it = q.attempts.find(id);
    if (it != q.attempts.end() && it->second.expires == exp) q.attempts.erase(it);
    q.attempt_order.pop_front();
  }
}

void Engine::remember_attempt(Queue& q, const std::string& attempt_id, const std::vector<Received>& msgs) {
  Queue::Attempt a;
  for (const auto& r : msgs) {
    std::uint64_t qid = 0, seq = 0;
    std::uint32_t gen = 0;
    if (!parse_receipt(r.receipt_handle, qid, seq, gen)) return;
    a.seqs.push_back(seq);
    a.gens.push_back(gen);
    a.handles.push_back(r.receipt_handle);
  }
  std::int64_t now = clock_->now_ms();
  a.expires = now + kDedupWindowMs;
  std::lock_guard lk(q.mu);
  if (q.deleted) return;
  q.attempt_order.emplace_back(a.expires, attempt_id);
  q.attempts[attempt_id] = std::move(a);
  expire_attempts(q, now);
}

std::uint64_t Engine::receive_attempt(const std::shared_ptr<Queue>& q, const std::string& attempt_id, int max,
                                      int visibility, std::int64_t wait_ms, ReceiveCallback done) {
  std::int64_t now = clock_->now_ms();
  std::vector<Picked> again;
  std::vector<std::string> handles;
  {
    std::unique_lock lk(q->mu);
    if (q->deleted) {
      lk.unlock();
      done(no_queue(), {});
      return 0;
    }
    promote_due(*q, now);
    expire_attempts(*q, now);
    if (auto it = q->attempts.find(attempt_id); it != q->attempts.end()) {
      const Queue::Attempt& a = it->second;
      // The same messages, untouched since: still there, not received again (same generation). A visibility
      // change forgets the attempt (change_visibility).
      bool same = true;
      for (std::size_t i = 0; i < a.seqs.size() && same; ++i) {
        auto m = q->messages.find(a.seqs[i]);
        same = m != q->messages.end() && m->second.gen == a.gens[i] && m->second.state != kDelayed;
      }
      if (same) {
        WriteBatch batch;
        for (std::uint64_t seq : a.seqs) {
          Meta& m = q->messages.at(seq);
          if (m.state == kReady) {  // its visibility timeout passed and nobody received it meanwhile
            --q->n_ready;
            ++q->n_inflight;
            m.state = kInflight;
            if (q->cfg.fifo) ++q->groups[m.group].inflight;
          }
          // "If a retry occurs within the deduplication interval, it resets the visibility timeout."
          m.visible_at = now + static_cast<std::int64_t>(visibility) * 1000;
          heap_push(q->timers, m.visible_at, seq);
          batch.put(Column::sqs, state_key(q->key, q->cfg.qid, seq),
                    encode_state(m, q->cfg.fifo ? q->groups[m.group].name : std::string()));
          again.push_back(Picked{seq, m.gen, m.receive_count, m.first_receive_ms});
        }
        handles = a.handles;
        if (Status st = store_->write(batch); !st.ok()) log::error("sqs", "ReceiveMessage: {}", st.message);
      } else {
        q->attempts.erase(it);
      }
    }
  }
  if (!again.empty()) {
    auto msgs = materialize(*q, again);
    for (auto& r : msgs) {
      std::uint64_t qid = 0, seq = 0;
      std::uint32_t gen = 0;
      parse_receipt(r.receipt_handle, qid, seq, gen);
      for (std::size_t i = 0; i < again.size(); ++i)
        if (again[i].seq == seq) r.receipt_handle = handles[i];
    }
    done(std::nullopt, std::move(msgs));
    return 0;
  }
  std::weak_ptr<Queue> weak = q;
  return receive(q, max, visibility, wait_ms,
                 [this, weak, attempt_id, done = std::move(done)](std::optional<AwsError> e, std::vector<Received> msgs) {
                   if (!e && !msgs.empty())
                     if (auto queue = weak.lock()) remember_attempt(*queue, attempt_id, msgs);
                   done(std::move(e), std::move(msgs));
                 });
}

// --- deleting, visibility ---

namespace {
AwsError invalid_handle(const std::string& handle) {
  return AwsError::sender(400, "ReceiptHandleIsInvalid",
                          fmt::format("The input receipt handle \"{}\" is not a valid receipt handle.", handle));
}
AwsError expired_handle(const std::string& handle) {
  return AwsError::sender(
      400, "InvalidParameterValue",
      fmt::format("Value {} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.",
                  handle));
}
}  // namespace

std::optional<AwsError> Engine::delete_message(const std::shared_ptr<Queue>& q, const std::string& handle) {
  return delete_messages(q, {handle}).front();
}

std::vector<std::optional<AwsError>> Engine::delete_messages(const std::shared_ptr<Queue>& q,
                                                             const std::vector<std::string>& handles) {
  std::vector<std::optional<AwsError>> out(handles.size());
  struct Target {
    std::size_t index;
    std::uint64_t seq;
  };
  std::vector<Target> targets;
  for (std::size_t i = 0; i < handles.size(); ++i) {
    std::uint64_t qid = 0, seq = 0;
    std::uint32_t gen = 0;
    if (!parse_receipt(handles[i], qid, seq, gen) || qid != q->cfg.qid) {
      out[i] = invalid_handle(handles[i]);
      continue;
    }
    targets.push_back(Target{i, seq});
  }
  std::unique_lock lk(q->mu);
  if (q->deleted) {
    for (auto& e : out) e = no_queue();
    return out;
  }
  promote_due(*q, clock_->now_ms());
  WriteBatch batch;
  std::vector<std::uint64_t> doomed;
  for (const auto& t : targets) {
    std::uint64_t qid = 0, seq = 0;
    std::uint32_t gen = 0;
    parse_receipt(handles[t.index], qid, seq, gen);
    auto it = q->messages.find(seq);
    // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteMessage.html: an older
    // receipt handle of a message received again is accepted without deleting it (standard queues); the
    // handle of a message already deleted is accepted too.
    if (it == q->messages.end() || std::find(doomed.begin(), doomed.end(), seq) != doomed.end()) continue;
    Meta& m = it->second;
    if (q->cfg.fifo && (m.gen != gen || m.state != kInflight)) {
      out[t.index] = expired_handle(handles[t.index]);
      continue;
    }
    if (m.gen != gen) continue;
    batch.erase(Column::sqs, body_key(q->key, q->cfg.qid, seq));
    batch.erase(Column::sqs, state_key(q->key, q->cfg.qid, seq));
    doomed.push_back(seq);
  }
  if (!batch.empty()) {
    if (Status st = store_->write(batch); !st.ok()) {
      for (const auto& t : targets)
        if (!out[t.index]) out[t.index] = store_error(st);
      return out;
    }
  }
  for (std::uint64_t seq : doomed) {
    auto it = q->messages.find(seq);
    if (it == q->messages.end()) continue;
    erase_meta(*q, seq, it->second);
    ++q->stats.deleted;
  }
  std::vector<Completion> completions;
  std::vector<Moving> moves;
  if (!q->waiters.empty()) {
    WriteBatch wb;
    serve_waiters(q, clock_->now_ms(), completions, moves, wb);
    if (!wb.empty()) store_->write(wb);
  }
  lk.unlock();
  finish(completions);
  run_moves(moves);
  return out;
}

std::optional<AwsError> Engine::change_visibility(const std::shared_ptr<Queue>& q, const std::string& handle,
                                                  int visibility) {
  std::uint64_t qid = 0, seq = 0;
  std::uint32_t gen = 0;
  if (!parse_receipt(handle, qid, seq, gen) || qid != q->cfg.qid) return invalid_handle(handle);
  std::int64_t now = clock_->now_ms();
  std::unique_lock lk(q->mu);
  if (q->deleted) return no_queue();
  promote_due(*q, now);
  auto it = q->messages.find(seq);
  if (it == q->messages.end())
    return AwsError::sender(400, "InvalidParameterValue",
                            fmt::format("Value {} for parameter ReceiptHandle is invalid. Reason: Message does "
                                        "not exist or is not available for visibility timeout change.",
                                        handle));
  Meta& m = it->second;
  if (m.gen != gen) return expired_handle(handle);
  if (m.state != kInflight) {
    AwsError e = AwsError::sender(400, "MessageNotInflight", "The message referred to isn't in flight.");
    e.query_code = "AWS.SimpleQueueService.MessageNotInflight";
    return e;
  }
  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html:
  // at most 12 hours from the receive.
  if ((now - m.last_receive_ms) / 1000 + visibility > kMaxVisibility)
    return AwsError::sender(400, "InvalidParameterValue",
                            fmt::format("Value {} for parameter VisibilityTimeout is invalid. Reason: Total "
                                        "VisibilityTimeout for the message is beyond the limit [43200 seconds]",
                                        visibility));
  m.visible_at = now + static_cast<std::int64_t>(visibility) * 1000;
  // A receive attempt that returned this message can no longer be retried (API_ReceiveMessage.html).
  if (!q->attempts.empty())
    std::erase_if(q->attempts, [seq](const auto& a) {
      return std::find(a.second.seqs.begin(), a.second.seqs.end(), seq) != a.second.seqs.end();
    });
  std::string group = q->cfg.fifo ? q->groups[m.group].name : std::string();
  if (Status st = store_->put(Column::sqs, state_key(q->key, q->cfg.qid, seq), encode_state(m, group)); !st.ok())
    return store_error(st);
  if (visibility == 0)
    make_ready(*q, seq, m);
  else
    heap_push(q->timers, m.visible_at, seq);
  std::vector<Completion> completions;
  std::vector<Moving> moves;
  if (!q->waiters.empty()) {
    WriteBatch wb;
    serve_waiters(q, now, completions, moves, wb);
    if (!wb.empty()) store_->write(wb);
    if (!q->waiters.empty() && !q->timers.empty()) wake(q->timers.front().first);
  }
  lk.unlock();
  finish(completions);
  run_moves(moves);
  return std::nullopt;
}

void Engine::counts(const std::shared_ptr<Queue>& q, std::int64_t& visible, std::int64_t& inflight,
                    std::int64_t& delayed) {
  std::int64_t now = clock_->now_ms();
  std::lock_guard lk(q->mu);
  promote_due(*q, now);
  // Retention: drop expired messages that are not in flight, so counts do not include them. Standard
  // queues: at the head of the ready list (the oldest).
  if (!q->cfg.fifo) {
    WriteBatch batch;
    while (!q->ready.empty()) {
      auto it = q->messages.find(q->ready.front());
      if (it != q->messages.end() && it->second.state == kReady) {
        if (!expired(*q, it->second, now)) break;
        ++q->stats.expired;
        batch.erase(Column::sqs, body_key(q->key, q->cfg.qid, it->first));
        batch.erase(Column::sqs, state_key(q->key, q->cfg.qid, it->first));
        erase_meta(*q, it->first, it->second);
      }
      q->ready.pop_front();
    }
    if (!batch.empty()) store_->write(batch);
  } else if (q->n_ready + q->n_delayed > 0) {
    // FIFO: a group holds its messages in send order, so its expired ones come first among those not in
    // flight (in-flight ones are left to their visibility timeout, as on standard queues). Each group is
    // looked at up to its first live message: O(groups + expired).
    WriteBatch batch;
    std::vector<std::uint64_t> doomed;
    for (std::size_t g = 0; g < q->groups.size(); ++g) {
      const Group& G = q->groups[g];
      if (G.name.empty()) continue;
      for (std::uint64_t seq : G.seqs) {
        auto it = q->messages.find(seq);
        if (it == q->messages.end() || it->second.state == kInflight) continue;
        if (!expired(*q, it->second, now)) break;
        doomed.push_back(seq);
      }
    }
    for (std::uint64_t seq : doomed) {
      auto it = q->messages.find(seq);
      if (it == q->messages.end()) continue;
      ++q->stats.expired;
      batch.erase(Column::sqs, body_key(q->key, q->cfg.qid, seq));
      batch.erase(Column::sqs, state_key(q->key, q->cfg.qid, seq));
      erase_meta(*q, seq, it->second);
    }
    if (!batch.empty()) store_->write(batch);
  }
  visible = q->n_ready;
  inflight = q->n_inflight;
  delayed = q->n_delayed;
}

// --- moving messages (DLQ redrive and move tasks) ---

bool Engine::move_one(Moving& mv) {
  Queue& src = *mv.from;
  std::string value;
  if (!store_->get(Column::sqs, body_key(src.key, src.cfg.qid, mv.seq), value).ok()) return false;
  std::string state;
  Meta m;
  std::string group;
  if (!store_->get(Column::sqs, state_key(src.key, src.cfg.qid, mv.seq), state).ok() ||
      !decode_state(state, m, group))
    return false;
  json rec;
  std::string body;
  if (!decode_record(value, rec, body)) return false;
  std::string target_arn = mv.target_arn.empty() ? rec.value("src", "") : mv.target_arn;
  auto target = find_arn(target_arn);
  std::int64_t now = clock_->now_ms();
  if (!target) return false;
  if (mv.to_dlq) {
    if (!rec.contains("src")) rec["src"] = src.arn();
  } else {
    rec.erase("src");
  }
  std::vector<Completion> completions;
  std::vector<Moving> moves;
  {
    std::unique_lock lk(target->mu);
    if (target->deleted) return false;
    std::uint64_t seq = target->next_seq++;
    Meta t;
    // Standard queues keep the enqueue time, FIFO queues reset it (setting-up-dead-letter-queue-retention).
    t.sent_ms = target->cfg.fifo ? now : m.sent_ms;
    t.visible_at = now;
    t.state = kReady;
    // A DLQ message keeps its receive count; a message moved back by a task starts again.
    t.receive_count = mv.to_dlq ? m.receive_count : 0;
    t.first_receive_ms = t.receive_count > 0 ? m.first_receive_ms : 0;
    std::string tgroup = target->cfg.fifo ? rec.value("g", "") : std::string();
    if (target->cfg.fifo && !rec.contains("d")) rec["d"] = sha256_hex(body);
    WriteBatch batch;
    batch.put(Column::sqs, body_key(target->key, target->cfg.qid, seq), encode_record(rec, body));
    batch.put(Column::sqs, state_key(target->key, target->cfg.qid, seq), encode_state(t, tgroup));
    batch.erase(Column::sqs, body_key(src.key, src.cfg.qid, mv.seq));
    batch.erase(Column::sqs, state_key(src.key, src.cfg.qid, mv.seq));
    if (Status st = store_->write(batch); !st.ok()) return false;
    insert_meta(*target, seq, t, tgroup);
    ++target->stats.sent;
    if (!target->waiters.empty()) {
      WriteBatch wb;
      serve_waiters(target, now, completions, moves, wb);
      if (!wb.empty()) store_->write(wb);
    }
  }
  finish(completions);
  run_moves(moves);
  return true;
}

void Engine::restore(Moving& mv) {
  std::string state, group;
  Meta m;
  Queue& q = *mv.from;
  if (!store_->get(Column::sqs, state_key(q.key, q.cfg.qid, mv.seq), state).ok() ||
      !decode_state(state, m, group))
    return;
  std::lock_guard lk(q.mu);
  if (q.deleted || q.messages.count(mv.seq)) return;
  m.state = kReady;
  insert_meta(q, mv.seq, m, group);
}

void Engine::run_moves(std::vector<Moving>& moves) {
  // A target that vanished meanwhile: the message goes back to its queue, visible.
  for (auto& mv : moves)
    if (!move_one(mv)) restore(mv);
  moves.clear();
}

json MoveTask::to_json() const {
  return {{"handle", handle},       {"source_arn", source_arn}, {"destination_arn", destination_arn},
          {"rate", rate},           {"status", status},         {"moved", moved},
          {"to_move", to_move},     {"started", started_ms},    {"failure", failure},
          {"account", source.account}, {"region", source.region}, {"name", source.name}};
}

std::optional<MoveTask> MoveTask::from_json(const json& j) {
  if (!j.is_object() || !j.contains("handle") || !j["handle"].is_string()) return std::nullopt;
  MoveTask t;
  t.handle = j.value("handle", "");
  t.source_arn = j.value("source_arn", "");
  t.destination_arn = j.value("destination_arn", "");
  t.rate = j.value("rate", 0);
  t.status = j.value("status", "FAILED");
  t.moved = j.value("moved", std::int64_t{0});
  t.to_move = j.value("to_move", std::int64_t{0});
  t.started_ms = j.value("started", std::int64_t{0});
  t.failure = j.value("failure", "");
  t.source = QueueKey{j.value("account", ""), j.value("region", ""), j.value("name", "")};
  return t;
}

// Tasks survive restarts: a RUNNING task goes on from the count it had reached (the messages it moved
// are already in their destination), at its rate from the restart on; a CANCELLING one ends CANCELLED at
// the next step. Tasks older than 14 days are dropped.
void Engine::load_move_tasks(std::int64_t now) {
  std::vector<MoveTask> loaded;
  WriteBatch stale;
  auto it = store_->scan_prefix(Column::sqs, KeyBuilder().add_string("t").build());
  for (; it->valid(); it->next()) {
    auto t = MoveTask::from_json(json::parse(it->value(), nullptr, false));
    if (!t || (t->status != "RUNNING" && t->status != "CANCELLING" && t->started_ms + kMoveTaskKeepMs <= now)) {
      stale.erase(Column::sqs, std::string(it->key()));
      continue;
    }
    t->last_tick_ms = now;
    loaded.push_back(std::move(*t));
  }
  it.reset();
  if (!stale.empty()) store_->write(stale);
  std::stable_sort(loaded.begin(), loaded.end(),
                   [](const MoveTask& a, const MoveTask& b) { return a.started_ms < b.started_ms; });
  std::lock_guard lk(task_mu_);
  tasks_ = std::move(loaded);
}

void Engine::save_move_task(const MoveTask& t) {
  if (Status st = store_->put(Column::sqs, task_key(t.handle), t.to_json().dump()); !st.ok())
    log::error("sqs", "message move task: {}", st.message);
}

std::optional<AwsError> Engine::start_move_task(const std::shared_ptr<Queue>& source, const std::string& dest_arn,
                                                int rate, std::string& handle) {
  std::lock_guard lk(task_mu_);
  std::string arn = source->arn();
  for (auto& t : tasks_)
    if (t.source_arn == arn && (t.status == "RUNNING" || t.status == "CANCELLING"))
      return AwsError::sender(400, "InvalidParameterValue",
                              "There is already a task running. Only one active task is allowed for a source "
                              "queue arn at a given time.");
  MoveTask t;
  t.source_arn = arn;
  t.source = source->key;
  t.destination_arn = dest_arn;
  t.rate = rate;
  t.started_ms = clock_->now_ms();
  t.last_tick_ms = t.started_ms;
  std::int64_t visible = 0, inflight = 0, delayed = 0;
  counts(source, visible, inflight, delayed);
  t.to_move = visible;
  t.handle = base64_encode(json{{"taskId", new_request_id()}, {"sourceArn", arn}}.dump());
  handle = t.handle;
  if (t.to_move == 0) t.status = "COMPLETED";
  if (Status st = store_->put(Column::sqs, task_key(t.handle), t.to_json().dump()); !st.ok()) return store_error(st);
  tasks_.push_back(std::move(t));
  // Keep the 10 most recent tasks of this source (all ListMessageMoveTasks can show) and none older
  // than 14 days.
  std::int64_t now = clock_->now_ms();
  std::size_t newer = 0;  // tasks of this source after the one looked at
  std::vector<bool> drop(tasks_.size(), false);
  for (std::size_t i = tasks_.size(); i-- > 0;) {
    bool mine = tasks_[i].source_arn == arn;
    bool active = tasks_[i].status == "RUNNING" || tasks_[i].status == "CANCELLING";
    drop[i] = !active && (tasks_[i].started_ms + kMoveTaskKeepMs <= now || (mine && newer >= kMoveTasksPerSource));
    if (mine) ++newer;
  }
  WriteBatch dropped;
  std::vector<MoveTask> kept;
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    if (drop[i])
      dropped.erase(Column::sqs, task_key(tasks_[i].handle));
    else
      kept.push_back(std::move(tasks_[i]));
  }
  tasks_ = std::move(kept);
  if (!dropped.empty()) store_->write(dropped);
  wake(clock_->now_ms());
  return std::nullopt;
}

std::vector<MoveTask> Engine::move_tasks(const std::string& source_arn) const {
  std::lock_guard lk(task_mu_);
  std::vector<MoveTask> out;
  std::int64_t now = clock_->now_ms();
  for (auto it = tasks_.rbegin(); it != tasks_.rend(); ++it)
    if (it->source_arn == source_arn &&
        (it->started_ms + kMoveTaskKeepMs > now || it->status == "RUNNING" || it->status == "CANCELLING"))
      out.push_back(*it);
  return out;
}

std::optional<AwsError> Engine::cancel_move_task(const std::string& handle, std::int64_t& moved) {
  // A handle that is not one we could have issued (base64 of {"taskId", "sourceArn"}) is a bad parameter;
  // a well-formed one naming no task is "Task does not exist." (AWS answers these two differently).
  auto decoded = base64_decode(handle);
  json parsed = decoded ? json::parse(*decoded, nullptr, false) : json();
  if (!parsed.is_object() || !parsed.contains("taskId") || !parsed["taskId"].is_string() ||
      !parsed.contains("sourceArn") || !parsed["sourceArn"].is_string())
    return AwsError::sender(400, "InvalidParameterValue", "Value for parameter TaskHandle is invalid.");
  std::lock_guard lk(task_mu_);
  for (auto& t : tasks_) {
    if (t.handle != handle) continue;
    if (t.status != "RUNNING")
      return AwsError::sender(400, "ResourceNotFoundException",
                              "Only active tasks can be cancelled. Task handle " + handle + " is not active.");
    t.status = "CANCELLING";
    save_move_task(t);
    moved = t.moved;
    return std::nullopt;
  }
  return AwsError::sender(404, "ResourceNotFoundException", "Task does not exist.");
}

void Engine::step_move_tasks(std::int64_t now) {
  std::lock_guard tl(task_mu_);
  bool running = false;
  for (auto& t : tasks_) {
    if (t.status == "CANCELLING") {
      t.status = "CANCELLED";
      save_move_task(t);
      continue;
    }
    if (t.status != "RUNNING") continue;
    auto src = find(t.source);
    if (!src) {
      t.status = "FAILED";
      t.failure = "AWS.SimpleQueueService.NonExistentQueue";
      save_move_task(t);
      continue;
    }
    std::int64_t elapsed = now - t.last_tick_ms;
    t.last_tick_ms = now;
    t.budget = t.rate > 0 ? std::min<double>(t.budget + t.rate * static_cast<double>(elapsed) / 1000.0, t.rate)
                          : 500.0;
    int n = static_cast<int>(t.budget);
    std::vector<Moving> moves;
    {
      std::lock_guard lk(src->mu);
      promote_due(*src, now);
      while (static_cast<int>(moves.size()) < n && static_cast<std::int64_t>(moves.size()) + t.moved < t.to_move) {
        std::uint64_t seq = 0;
        bool found = false;
        if (!src->cfg.fifo) {
          while (!src->ready.empty() && !found) {
            seq = src->ready.front();
            src->ready.pop_front();
            auto it = src->messages.find(seq);
            found = it != src->messages.end() && it->second.state == kReady;
          }
        } else {
          while (!src->ready_groups.empty() && !found) {
            std::uint32_t g = src->ready_groups.front();
            src->ready_groups.pop_front();
            src->groups[g].queued = false;
            release_group(*src, g);
            if (src->groups[g].inflight == 0 && !src->groups[g].seqs.empty()) {
              seq = src->groups[g].seqs.front();
              auto it = src->messages.find(seq);
              found = it != src->messages.end() && it->second.state == kReady;
            }
          }
        }
        if (!found) break;
        erase_meta(*src, seq, src->messages.at(seq));
        moves.push_back(Moving{src, seq, t.destination_arn, false});
      }
    }
    t.budget -= static_cast<double>(moves.size());
    for (auto& mv : moves) {
      if (move_one(mv)) {
        ++t.moved;
        ++src->stats.moved_by_task;
        continue;
      }
      // No destination (the original source is gone): the task fails and the message stays.
      t.status = "FAILED";
      t.failure = "AWS.SimpleQueueService.NonExistentQueue";
      restore(mv);
    }
    if (t.status == "RUNNING" && (t.moved >= t.to_move || (moves.empty() && n > 0))) t.status = "COMPLETED";
    if (!moves.empty() || t.status != "RUNNING") save_move_task(t);
    if (t.status == "RUNNING") running = true;
  }
  if (running) wake(now + 100);
}

std::size_t Engine::process_due() {
  std::int64_t now = clock_->now_ms();
  std::size_t done_count = 0;
  std::int64_t next = now + 1000;
  for (auto& q : all()) {
    std::vector<Completion> completions;
    std::vector<Moving> moves;
    {
      std::lock_guard lk(q->mu);
      if (q->deleted) continue;
      promote_due(*q, now);
      WriteBatch batch;
      serve_waiters(q, now, completions, moves, batch);
      if (!batch.empty()) store_->write(batch);
      for (auto it = q->waiters.begin(); it != q->waiters.end();) {
        if (it->deadline > now) {
          next = std::min(next, it->deadline);
          ++it;
          continue;
        }
        {
          std::lock_guard wl(waiter_mu_);
          waiter_queue_.erase(it->id);
        }
        completions.push_back(Completion{q, {}, std::move(it->done)});
        it = q->waiters.erase(it);
      }
      if (!q->waiters.empty() && !q->timers.empty()) next = std::min(next, q->timers.front().first);
    }
    done_count += completions.size();
    finish(completions);
    run_moves(moves);
  }
  step_move_tasks(now);
  if (background_) {
    std::lock_guard lk(timer_mu_);
    next_wake_ = std::min(next_wake_, std::max(next, now + 1));
  }
  return done_count;
}

json Engine::stats_json() const {
  json queues = json::array();
  auto qs = all();
  std::sort(qs.begin(), qs.end(), [](auto& a, auto& b) { return a->key.str() < b->key.str(); });
  for (auto& q : qs) {
    std::lock_guard lk(q->mu);
    queues.push_back({{"name", q->key.name},
                      {"account", q->key.account},
                      {"region", q->key.region},
                      {"arn", q->arn()},
                      {"fifo", q->cfg.fifo},
                      {"visible", q->n_ready},
                      {"in_flight", q->n_inflight},
                      {"delayed", q->n_delayed},
                      {"waiting_receivers", q->waiters.size()},
                      {"sent", q->stats.sent},
                      {"received", q->stats.received},
                      {"deleted", q->stats.deleted},
                      {"moved_to_dlq", q->stats.moved_to_dlq},
                      {"moved_by_task", q->stats.moved_by_task},
                      {"expired", q->stats.expired},
                      {"dead_letter_target", q->dlq_arn}});
  }
  return {{"queues", queues}};
}

}  // namespace stratus::services::sqs
