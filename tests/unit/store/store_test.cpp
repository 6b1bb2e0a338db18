#include "store/store.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "store/key_codec.hpp"

extern char** environ;

namespace stratus {
namespace {
namespace fs = std::filesystem;

constexpr const char* kChildDirEnv = "STRATUS_STORE_TEST_CHILD_DIR";
constexpr const char* kChildFdEnv = "STRATUS_STORE_TEST_CHILD_FD";

std::string child_key(int i) { return KeyBuilder().add_string("msg").add_i64(i).build(); }
std::string child_value(int i) { return fmt::format("value-{}", i); }

// The durability test's child: this binary re-executed with kChildDirEnv set. Opens the store, writes until
// killed and reports each acknowledged write with one byte on the pipe.
[[noreturn]] void run_kill_child(const char* dir, int fd) {
  Status status;
  auto store = Store::open(StoreOptions{dir, false, false}, status);
  if (!store) {
    std::fprintf(stderr, "child: %s\n", status.message.c_str());
    _exit(2);
  }
  for (int i = 0;; ++i) {
    Status s;
    if (i % 2 == 0) {
      s = store->put(Column::sqs, child_key(i), child_value(i));
    } else {
      WriteBatch batch;
      batch.put(Column::sqs, child_key(i), child_value(i));
      batch.put(Column::s3, child_key(i), child_value(i));
      s = store->write(batch);
    }
    if (!s.ok()) _exit(3);
    if (::write(fd, "+", 1) != 1) _exit(4);
  }
}

// Runs the child before any test, once main() has started (all static initializers, RocksDB's included,
// have run by then). A test environment rather than a test, so the child mode adds nothing to the list.
class KillChildHook : public ::testing::Environment {
 public:
  void SetUp() override {
    const char* dir = std::getenv(kChildDirEnv);
    const char* fd = std::getenv(kChildFdEnv);
    if (dir != nullptr && fd != nullptr) run_kill_child(dir, std::atoi(fd));
  }
};
[[maybe_unused]] ::testing::Environment* const kKillChildHook =
    ::testing::AddGlobalTestEnvironment(new KillChildHook);

// A scratch directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = fmt::format("{}/stratus-store-test-XXXXXX", tmp != nullptr && *tmp ? tmp : "/tmp");
    if (mkdtemp(templ.data()) == nullptr) std::abort();
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::unique_ptr<Store> open_store(const std::string& dir) {
  Status status;
  auto store = Store::open(StoreOptions{dir, false, false}, status);
  EXPECT_TRUE(status.ok()) << status.message;
  EXPECT_NE(store, nullptr);
  return store;
}

std::unique_ptr<Store> open_ephemeral() {
  Status status;
  auto store = Store::open(StoreOptions{"", true, false}, status);
  EXPECT_TRUE(status.ok()) << status.message;
  return store;
}

const std::vector<Column> kAllColumns = {Column::meta,       Column::lambda,   Column::sqs,
                                         Column::s3,         Column::dynamodb, Column::events,
                                         Column::apigateway, Column::router};

std::vector<std::pair<std::string, std::string>> collect(Store::Iterator& it) {
  std::vector<std::pair<std::string, std::string>> out;
  for (; it.valid(); it.next()) out.emplace_back(std::string(it.key()), std::string(it.value()));
  EXPECT_TRUE(it.status().ok()) << it.status().message;
  return out;
}

std::vector<std::string> keys_of(Store::Iterator& it) {
  std::vector<std::string> out;
  for (auto& [k, v] : collect(it)) out.push_back(k);
  return out;
}

TEST(Store, ColumnNames) {
  EXPECT_STREQ(column_name(Column::meta), "default");
  EXPECT_STREQ(column_name(Column::lambda), "lambda");
  EXPECT_STREQ(column_name(Column::dynamodb), "dynamodb");
  EXPECT_STREQ(column_name(Column::router), "router");
  EXPECT_STREQ(status_code_name(Status::Code::locked), "locked");
}

TEST(Store, PutGetEraseInEveryColumn) {
  auto store = open_ephemeral();
  ASSERT_TRUE(store);
  for (Column c : kAllColumns) {
    std::string key = fmt::format("key-{}", column_name(c));
    std::string value;
    EXPECT_EQ(store->get(c, key, value).code, Status::Code::not_found);
    ASSERT_TRUE(store->put(c, key, "v1").ok());
    ASSERT_TRUE(store->get(c, key, value).ok());
    EXPECT_EQ(value, "v1");
    ASSERT_TRUE(store->put(c, key, std::string("v2\0\xff", 4)).ok());
    ASSERT_TRUE(store->get(c, key, value).ok());
    EXPECT_EQ(value, std::string("v2\0\xff", 4));
    ASSERT_TRUE(store->erase(c, key).ok());
    value = "untouched";
    EXPECT_EQ(store->get(c, key, value).code, Status::Code::not_found);
    EXPECT_EQ(value, "untouched");
    EXPECT_TRUE(store->erase(c, key).ok());  // erasing an absent key is fine
  }
  // Empty keys and values are allowed.
  ASSERT_TRUE(store->put(Column::s3, "", "").ok());
  std::string value = "x";
  ASSERT_TRUE(store->get(Column::s3, "", value).ok());
  EXPECT_EQ(value, "");
}

TEST(Store, ColumnsAreIsolated) {
  auto store = open_ephemeral();
  ASSERT_TRUE(store);
  for (Column c : kAllColumns) ASSERT_TRUE(store->put(c, "shared", column_name(c)).ok());
  for (Column c : kAllColumns) {
    std::string value;
    ASSERT_TRUE(store->get(c, "shared", value).ok());
    EXPECT_EQ(value, column_name(c));
  }
  ASSERT_TRUE(store->erase(Column::sqs, "shared").ok());
  std::string value;
  EXPECT_EQ(store->get(Column::sqs, "shared", value).code, Status::Code::not_found);
  EXPECT_TRUE(store->get(Column::s3, "shared", value).ok());
  auto it = store->scan(Column::lambda, "", "");
  auto rows = collect(*it);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].second, "lambda");
}

TEST(Store, BatchWritesAcrossColumns) {
  auto store = open_ephemeral();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put(Column::events, "old", "1").ok());
  WriteBatch batch;
  EXPECT_TRUE(batch.empty());
  batch.put(Column::lambda, "fn", "a");
  batch.put(Column::sqs, "q", "b");
  batch.erase(Column::events, "old");
  EXPECT_EQ(batch.size(), 3u);
  ASSERT_TRUE(store->write(batch).ok());
  std::string value;
  EXPECT_TRUE(store->get(Column::lambda, "fn", value).ok());
  EXPECT_TRUE(store->get(Column::sqs, "q", value).ok());
  EXPECT_EQ(store->get(Column::events, "old", value).code, Status::Code::not_found);
  batch.clear();
  EXPECT_EQ(batch.size(), 0u);
  EXPECT_TRUE(store->write(batch).ok());  // empty batch
}

TEST(Store, RejectedBatchAppliesNothing) {
  auto store = open_ephemeral();
  ASSERT_TRUE(store);
  WriteBatch batch;
  batch.put(Column::sqs, "a", "1");
  batch.erase_range(Column::sqs, "b", "");  // no end: invalid
  Status s = store->write(batch);
  EXPECT_EQ(s.code, Status::Code::invalid_argument);
  std::string value;
  EXPECT_EQ(store->get(Column::sqs, "a", value).code, Status::Code::not_found);
}

// Readers scanning a column while batches rewrite every key must never see a half-applied batch.
TEST(Store, BatchesAreAtomicForConcurrentReaders) {
  auto store = open_ephemeral();
  ASSERT_TRUE(store);
  constexpr int kKeys = 50;
  auto write_generation = [&](int gen) {
    WriteBatch batch;
    for (int k = 0; k < kKeys; ++k) batch.put(Column::lambda, fmt::format("k{:03}", k), std::to_string(gen));
    batch.put(Column::events, "generation", std::to_string(gen));
    return store->write(batch);
  };
  ASSERT_TRUE(write_generation(0).ok());
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::atomic<int> scans{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!done.load()) {
        auto it = store->scan(Column::lambda, "", "");
        auto rows = collect(*it);
        if (rows.size() != static_cast<std::size_t>(kKeys)) ++torn;
        for (auto& row : rows) {
          if (row.second != rows.front().second) ++torn;
        }
        ++scans;
      }
    });
  }
  for (int gen = 1; gen <= 300; ++gen) ASSERT_TRUE(write_generation(gen).ok());
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_GT(scans.load(), 0);
}

TEST(Store, EraseRange) {
  auto store = open_ephemeral();
  ASSERT_TRUE(store);
  for (char c = 'a'; c <= 'h'; ++c) {
    ASSERT_TRUE(store->put(Column::s3, std::string(1, c), "x").ok());
    ASSERT_TRUE(store->put(Column::dynamodb, std::string(1, c), "x").ok());
  }
  ASSERT_TRUE(store->erase_range(Column::s3, "c", "f").ok());
  auto it = store->scan(Column::s3, "", "");
  EXPECT_EQ(keys_of(*it), (std::vector<std::string>{"a", "b", "f", "g", "h"}));
  // Other columns are untouched; an empty or inverted range is a no-op; an empty end is refused.
  it = store->scan(Column::dynamodb, "", "");
  EXPECT_EQ(keys_of(*it).size(), 8u);
  EXPECT_TRUE(store->erase_range(Column::s3, "g", "g").ok());
  EXPECT_TRUE(store->erase_range(Column::s3, "h", "a").ok());
  EXPECT_EQ(store->erase_range(Column::s3, "a", "").code, Status::Code::invalid_argument);
  it = store->scan(Column::s3, "", "");
  EXPECT_EQ(keys_of(*it).size(), 5u);

  // Erasing one tuple prefix removes exactly the keys of that tuple.
  std::string bucket_a = KeyBuilder().add_string("bucket").build();
  std::string bucket_a0 = KeyBuilder().add_string(std::string("bucket\0", 7)).build();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(store->put(Column::s3, KeyBuilder(bucket_a).add_i64(i).str(), "x").ok());
    ASSERT_TRUE(store->put(Column::s3, KeyBuilder(bucket_a0).add_i64(i).str(), "y").ok());
  }
  WriteBatch batch;
  batch.erase_range(Column::s3, bucket_a, prefix_successor(bucket_a));
  ASSERT_TRUE(store->write(batch).ok());
  it = store->scan_prefix(Column::s3, bucket_a);
  EXPECT_FALSE(it->valid());
  it = store->scan_prefix(Column::s3, bucket_a0);
  EXPECT_EQ(collect(*it).size(), 10u);
}

TEST(Store, ScanOrderAndBounds) {
  auto store = open_ephemeral();
  ASSERT_TRUE(store);
  std::vector<std::string> keys = {"",  "a",    "ab",      "abc", "b", "ba", "c", std::string("c\0", 2),
                                   "d", "\xff", "\xff\xff"};
  // Insert in a scrambled order.
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::string& k = keys[(i * 7) % keys.size()];
    ASSERT_TRUE(store->put(Column::apigateway, k, "v:" + k).ok());
  }
  ASSERT_TRUE(store->put(Column::router, "b", "other column").ok());

  auto it = store->scan(Column::apigateway, "", "");
  auto rows = collect(*it);
  ASSERT_EQ(rows.size(), keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(rows[i].first, keys[i]);
    EXPECT_EQ(rows[i].second, "v:" + keys[i]);
  }

  it = store->scan(Column::apigateway, "ab", "c");
  EXPECT_EQ(keys_of(*it), (std::vector<std::string>{"ab", "abc", "b", "ba"}));
  it = store->scan(Column::apigateway, "aa", "b");
  EXPECT_EQ(keys_of(*it), (std::vector<std::string>{"ab", "abc"}));
  it = store->scan(Column::apigateway, "c", "");
  EXPECT_EQ(keys_of(*it), (std::vector<std::string>{"c", std::string("c\0", 2), "d", "\xff", "\xff\xff"}));
  it = store->scan(Column::apigateway, "d", "c");
  EXPECT_FALSE(it->valid());

  it = store->scan_prefix(Column::apigateway, "a");
  EXPECT_EQ(keys_of(*it), (std::vector<std::string>{"a", "ab", "abc"}));
  it = store->scan_prefix(Column::apigateway, "c");
  EXPECT_EQ(keys_of(*it), (std::vector<std::string>{"c", std::string("c\0", 2)}));
  it = store->scan_prefix(Column::apigateway, "\xff");
  EXPECT_EQ(keys_of(*it), (std::vector<std::string>{"\xff", "\xff\xff"}));
  it = store->scan_prefix(Column::apigateway, "zz");
  EXPECT_FALSE(it->valid());
  EXPECT_TRUE(it->status().ok());

  // seek stays inside the bounds; reverse iteration too.
  it = store->scan(Column::apigateway, "ab", "c");
  it->seek("");
  ASSERT_TRUE(it->valid());
  EXPECT_EQ(it->key(), "ab");
  it->seek("b");
  ASSERT_TRUE(it->valid());
  EXPECT_EQ(it->key(), "b");
  it->seek("bb");
  EXPECT_FALSE(it->valid());
  it->seek_to_last();
  ASSERT_TRUE(it->valid());
  EXPECT_EQ(it->key(), "ba");
  it->prev();
  ASSERT_TRUE(it->valid());
  EXPECT_EQ(it->key(), "b");
  it->seek_for_prev("zzz");
  ASSERT_TRUE(it->valid());
  EXPECT_EQ(it->key(), "ba");
  it->seek_for_prev("abd");
  ASSERT_TRUE(it->valid());
  EXPECT_EQ(it->key(), "abc");
  it->seek_for_prev("aa");
  EXPECT_FALSE(it->valid());
  it->seek_to_first();
  ASSERT_TRUE(it->valid());
  EXPECT_EQ(it->key(), "ab");
  it->prev();
  EXPECT_FALSE(it->valid());
}

TEST(Store, ScanPrefixOfTupleKeys) {
  auto store = open_ephemeral();
  ASSERT_TRUE(store);
  std::map<std::string, std::string> expected;  // key -> value, for ("queue-1", i)
  for (std::string queue : {std::string("queue-1"), std::string("queue-1\0", 8), std::string("queue-10"),
                            std::string("queue-")}) {
    for (std::int64_t i : {-3, 0, 2, 100}) {
      std::string key = KeyBuilder().add_string(queue).add_i64(i).build();
      ASSERT_TRUE(store->put(Column::sqs, key, queue).ok());
      if (queue == "queue-1") expected[key] = queue;
    }
  }
  auto it = store->scan_prefix(Column::sqs, KeyBuilder().add_string("queue-1").str());
  auto rows = collect(*it);
  ASSERT_EQ(rows.size(), 4u);
  std::vector<std::int64_t> ids;
  for (auto& [k, v] : rows) {
    EXPECT_EQ(v, "queue-1");
    KeyReader r(k);
    EXPECT_EQ(r.read_string(), "queue-1");
    ids.push_back(r.read_i64().value_or(-999));
  }
  EXPECT_EQ(ids, (std::vector<std::int64_t>{-3, 0, 2, 100}));
}

TEST(Store, IteratorIsAPointInTimeView) {
  auto store = open_ephemeral();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put(Column::lambda, "a", "1").ok());
  ASSERT_TRUE(store->put(Column::lambda, "c", "1").ok());
  auto it = store->scan(Column::lambda, "", "");
  ASSERT_TRUE(store->put(Column::lambda, "b", "2").ok());
  ASSERT_TRUE(store->put(Column::lambda, "c", "2").ok());
  ASSERT_TRUE(store->erase(Column::lambda, "a").ok());
  auto rows = collect(*it);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (std::pair<std::string, std::string>{"a", "1"}));
  EXPECT_EQ(rows[1], (std::pair<std::string, std::string>{"c", "1"}));
  it = store->scan(Column::lambda, "", "");
  EXPECT_EQ(keys_of(*it), (std::vector<std::string>{"b", "c"}));
}

TEST(Store, ConcurrentWritersAndScanners) {
  auto store = open_ephemeral();
  ASSERT_TRUE(store);
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 400;
  std::atomic<bool> done{false};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        std::string key = KeyBuilder().add_i64(w).add_i64(i).build();
        Status s;
        if (i % 3 == 0) {
          WriteBatch b;
          b.put(Column::dynamodb, key, key);
          b.put(Column::events, key, key);
          s = store->write(b);
        } else {
          s = store->put(Column::dynamodb, key, key);
        }
        if (!s.ok()) ++errors;
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      while (!done.load()) {
        auto it = store->scan_prefix(Column::dynamodb, "");
        std::string last;
        bool first = true;
        for (; it->valid(); it->next()) {
          if ((!first && it->key() <= last) || it->key() != it->value()) ++errors;
          last = it->key();
          first = false;
        }
        if (!it->status().ok()) ++errors;
        std::string value;
        Status s = store->get(Column::dynamodb, KeyBuilder().add_i64(0).add_i64(0).str(), value);
        if (!s.ok() && s.code != Status::Code::not_found) ++errors;
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[static_cast<std::size_t>(w)].join();
  done = true;
  for (std::size_t t = kWriters; t < threads.size(); ++t) threads[t].join();
  EXPECT_EQ(errors.load(), 0);
  auto it = store->scan(Column::dynamodb, "", "");
  EXPECT_EQ(collect(*it).size(), static_cast<std::size_t>(kWriters * kPerWriter));
}

TEST(Store, ReopenKeepsData) {
  TempDir tmp;
  std::string dir = tmp.sub("nested/data");  // parents are created
  {
    auto store = open_store(dir);
    ASSERT_TRUE(store);
    EXPECT_EQ(store->data_dir(), dir);
    for (Column c : kAllColumns) ASSERT_TRUE(store->put(c, "k", column_name(c)).ok());
    ASSERT_TRUE(store->put(Column::s3, "big", std::string(1 << 20, 'z')).ok());
  }
  EXPECT_TRUE(fs::exists(fs::path(dir) / "stratus.lock"));
  {
    Status status;
    auto store = Store::open(StoreOptions{dir, false, true}, status);  // and with sync_writes
    ASSERT_TRUE(store) << status.message;
    for (Column c : kAllColumns) {
      std::string value;
      ASSERT_TRUE(store->get(c, "k", value).ok());
      EXPECT_EQ(value, column_name(c));
    }
    std::string value;
    ASSERT_TRUE(store->get(Column::s3, "big", value).ok());
    EXPECT_EQ(value.size(), 1u << 20);
    ASSERT_TRUE(store->put(Column::s3, "synced", "yes").ok());
    store->close();
  }
  auto store = open_store(dir);
  ASSERT_TRUE(store);
  std::string value;
  EXPECT_TRUE(store->get(Column::s3, "synced", value).ok());
}

TEST(Store, EphemeralDirectoryIsRemoved) {
  TempDir tmp;
  const char* old = std::getenv("TMPDIR");
  std::string saved = old != nullptr ? old : "";
  setenv("TMPDIR", tmp.path().c_str(), 1);
  auto store = open_ephemeral();
  if (old != nullptr) {
    setenv("TMPDIR", saved.c_str(), 1);
  } else {
    unsetenv("TMPDIR");
  }
  ASSERT_TRUE(store);
  std::string dir = store->data_dir();
  EXPECT_EQ(fs::path(dir).parent_path(), fs::path(tmp.path()));
  EXPECT_EQ(fs::path(dir).filename().string().rfind("stratus-ephemeral-", 0), 0u) << dir;
  EXPECT_TRUE(fs::is_directory(dir));
  ASSERT_TRUE(store->put(Column::sqs, "k", std::string(100000, 'v')).ok());
  store->close();
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_TRUE(fs::is_empty(tmp.path()));
  store->close();  // idempotent
  EXPECT_FALSE(store->is_open());

  // The destructor removes it too.
  std::string dir2;
  {
    auto other = open_ephemeral();
    ASSERT_TRUE(other);
    dir2 = other->data_dir();
    EXPECT_TRUE(fs::is_directory(dir2));
    EXPECT_NE(dir2, dir);
  }
  EXPECT_FALSE(fs::exists(dir2));
}

TEST(Store, ClosedStoreRefusesOperations) {
  auto store = open_ephemeral();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put(Column::sqs, "k", "v").ok());
  store->close();
  std::string value;
  EXPECT_EQ(store->put(Column::sqs, "k", "v").code, Status::Code::io_error);
  EXPECT_EQ(store->get(Column::sqs, "k", value).code, Status::Code::io_error);
  EXPECT_EQ(store->erase(Column::sqs, "k").code, Status::Code::io_error);
  WriteBatch batch;
  batch.put(Column::sqs, "k", "v");
  EXPECT_EQ(store->write(batch).code, Status::Code::io_error);
  auto it = store->scan(Column::sqs, "", "");
  ASSERT_NE(it, nullptr);
  EXPECT_FALSE(it->valid());
  it->seek("k");
  it->next();
  EXPECT_FALSE(it->valid());
  EXPECT_EQ(it->status().code, Status::Code::io_error);
  EXPECT_EQ(store->format_version(), Store::kFormatVersion);
}

TEST(Store, IteratorOutlivingCloseKeepsDatabaseUntilDestroyed) {
  auto store = open_ephemeral();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put(Column::router, "a", "1").ok());
  ASSERT_TRUE(store->put(Column::router, "b", "2").ok());
  std::string dir = store->data_dir();
  auto it = store->scan(Column::router, "", "");
  store->close();
  EXPECT_TRUE(fs::exists(dir));
  EXPECT_EQ(keys_of(*it), (std::vector<std::string>{"a", "b"}));
  it.reset();
  EXPECT_FALSE(fs::exists(dir));
}

TEST(Store, SecondOpenOfSameDirectoryIsLocked) {
  TempDir tmp;
  std::string dir = tmp.sub("data");
  auto first = open_store(dir);
  ASSERT_TRUE(first);
  Status status;
  auto second = Store::open(StoreOptions{dir, false, false}, status);
  EXPECT_EQ(second, nullptr);
  EXPECT_EQ(status.code, Status::Code::locked);
  EXPECT_NE(status.message.find(dir), std::string::npos) << status.message;
  EXPECT_NE(status.message.find(fmt::format("pid {}", getpid())), std::string::npos) << status.message;
  // The refused open did not disturb the holder.
  ASSERT_TRUE(first->put(Column::meta, "still", "works").ok());
  first->close();
  auto third = Store::open(StoreOptions{dir, false, false}, status);
  ASSERT_TRUE(third) << status.message;
  std::string value;
  EXPECT_TRUE(third->get(Column::meta, "still", value).ok());
}

TEST(Store, InvalidOptions) {
  Status status;
  EXPECT_EQ(Store::open(StoreOptions{}, status), nullptr);
  EXPECT_EQ(status.code, Status::Code::invalid_argument);
  TempDir tmp;
  std::string file = tmp.sub("a-file");
  std::ofstream(file) << "not a directory";
  EXPECT_EQ(Store::open(StoreOptions{file, false, false}, status), nullptr);
  EXPECT_EQ(status.code, Status::Code::io_error);
  EXPECT_NE(status.message.find(file), std::string::npos) << status.message;
}

TEST(Store, FormatVersionMarker) {
  TempDir tmp;
  std::string dir = tmp.sub("data");
  {
    auto store = open_store(dir);
    ASSERT_TRUE(store);
    EXPECT_EQ(store->format_version(), 1);
    std::string value;
    ASSERT_TRUE(store->get(Column::meta, Store::kFormatVersionKey, value).ok());
    EXPECT_EQ(value, "1");
    // Pretend a newer Stratus wrote this directory.
    ASSERT_TRUE(store->put(Column::meta, Store::kFormatVersionKey, "2").ok());
    ASSERT_TRUE(store->put(Column::lambda, "fn", "data").ok());
  }
  Status status;
  auto refused = Store::open(StoreOptions{dir, false, false}, status);
  EXPECT_EQ(refused, nullptr);
  EXPECT_EQ(status.code, Status::Code::incompatible_version);
  EXPECT_NE(status.message.find(dir), std::string::npos) << status.message;
  EXPECT_NE(status.message.find("newer"), std::string::npos) << status.message;
  EXPECT_NE(status.message.find("format 2"), std::string::npos) << status.message;
  EXPECT_NE(status.message.find("--ephemeral"), std::string::npos) << status.message;
  // Refusing released the lock, and opening again still refuses (nothing was rewritten).
  refused = Store::open(StoreOptions{dir, false, false}, status);
  EXPECT_EQ(status.code, Status::Code::incompatible_version);
}

TEST(Store, DatabaseWithoutMarker) {
  TempDir tmp;
  std::string dir = tmp.sub("data");
  {
    auto store = open_store(dir);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->erase(Column::meta, Store::kFormatVersionKey).ok());
  }
  {
    // Empty and unmarked (e.g. a first start killed early): accepted, and the marker is written.
    auto store = open_store(dir);
    ASSERT_TRUE(store);
    std::string value;
    ASSERT_TRUE(store->get(Column::meta, Store::kFormatVersionKey, value).ok());
    EXPECT_EQ(value, "1");
    ASSERT_TRUE(store->erase(Column::meta, Store::kFormatVersionKey).ok());
    ASSERT_TRUE(store->put(Column::dynamodb, "table", "data").ok());
  }
  Status status;
  EXPECT_EQ(Store::open(StoreOptions{dir, false, false}, status), nullptr);
  EXPECT_EQ(status.code, Status::Code::incompatible_version);
  EXPECT_NE(status.message.find(dir), std::string::npos) << status.message;
}

// Reads up to `want` bytes from fd (or until EOF / 30 s); returns how many were read.
std::size_t read_acks(int fd, std::size_t want) {
  std::size_t got = 0;
  char buf[4096];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (got < want && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 1000) <= 0) continue;
    ssize_t n = ::read(fd, buf, std::min(sizeof(buf), want - got));
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  return got;
}

// Every write acknowledged before kill -9 is there after reopening (WAL on, no fsync needed for this).
TEST(Store, AcknowledgedWritesSurviveKill9) {
  TempDir tmp;
  std::string dir = tmp.sub("data");
  constexpr std::size_t kAcksBeforeKill = 300;

  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  // Everything the child needs is prepared before fork(): only async-signal-safe calls in between.
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) env_storage.emplace_back(*e);
  env_storage.push_back(fmt::format("{}={}", kChildDirEnv, dir));
  env_storage.push_back(fmt::format("{}={}", kChildFdEnv, fds[1]));
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string exe = "/proc/self/exe";
  char* argv[] = {exe.data(), nullptr};

  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    fcntl(fds[1], F_SETFD, 0);  // keep the write end across exec
    execve(exe.c_str(), argv, envp.data());
    _exit(127);
  }
  ::close(fds[1]);
  std::size_t acked = read_acks(fds[0], kAcksBeforeKill);
  ASSERT_EQ(acked, kAcksBeforeKill) << "child stopped early";
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // kill it in the middle of its writes

  // While the child holds the directory, this process is refused with the child's pid.
  Status status;
  EXPECT_EQ(Store::open(StoreOptions{dir, false, false}, status), nullptr);
  EXPECT_EQ(status.code, Status::Code::locked);
  EXPECT_NE(status.message.find(fmt::format("in use by another stratus process (pid {})", child)),
            std::string::npos)
      << status.message;

  ASSERT_EQ(kill(child, SIGKILL), 0);
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  EXPECT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) << "child exited on its own: " << wstatus;
  acked += read_acks(fds[0], SIZE_MAX);  // acks written before the kill but not read yet
  ::close(fds[0]);

  // The stale lock file does not block; every acknowledged write is present.
  auto store = open_store(dir);
  ASSERT_TRUE(store);
  std::size_t missing = 0;
  for (int i = 0; i < static_cast<int>(acked); ++i) {
    std::string value;
    if (!store->get(Column::sqs, child_key(i), value).ok() || value != child_value(i)) ++missing;
    if (i % 2 == 1 && (!store->get(Column::s3, child_key(i), value).ok() || value != child_value(i)))
      ++missing;
  }
  EXPECT_EQ(missing, 0u) << "of " << acked << " acknowledged writes";
  std::printf("[ info     ] %zu acknowledged writes before kill -9, all present after reopen\n", acked);
}

// Resident set size of this process in KiB, from /proc/self/status.
long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

TEST(Store, OpenTimeOfEmptyStore) {
  using Clock = std::chrono::steady_clock;
  {
    // Only meaningful as the first store of the process (ctest runs each test in its own process).
    long before = rss_kib();
    auto store = open_ephemeral();
    ASSERT_TRUE(store);
    for (Column c : kAllColumns) ASSERT_TRUE(store->put(c, "k", "v").ok());
    std::printf("[ info     ] RSS grew by %ld KiB for an open store with one key per column\n",
                rss_kib() - before);
  }
  constexpr int kRounds = 5;
  double total_ms = 0, best_ms = 1e9;
  for (int i = 0; i < kRounds; ++i) {
    auto start = Clock::now();
    auto store = open_ephemeral();
    ASSERT_TRUE(store);
    store->close();
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    total_ms += ms;
    best_ms = std::min(best_ms, ms);
  }
  TempDir tmp;
  auto start = Clock::now();
  { auto store = open_store(tmp.sub("data")); }
  double fresh_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  start = Clock::now();
  { auto store = open_store(tmp.sub("data")); }
  double reopen_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  std::printf(
      "[ info     ] ephemeral open+close: avg %.2f ms, best %.2f ms; persistent create+close %.2f ms, "
      "reopen+close %.2f ms\n",
      total_ms / kRounds, best_ms, fresh_ms, reopen_ms);
  RecordProperty("ephemeral_open_close_avg_ms", fmt::format("{:.2f}", total_ms / kRounds));
}

}  // namespace
}  // namespace stratus
