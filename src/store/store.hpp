#pragma once
// The daemon's persistent key-value store: one RocksDB database with a column family per service.
// This module is the only user of RocksDB; nothing RocksDB-specific appears in this header.
//
// Durability contract:
//   - Every write (put, erase, write) is appended to the write-ahead log and handed to the OS before it
//     returns ok, so an acknowledged write survives the process being killed (kill -9, crash).
//   - With StoreOptions::sync_writes the log is also fsync'ed before returning, so an acknowledged write
//     survives power loss / OS crash too (at the cost of one fsync per write). Without it, the most recent
//     writes may be lost on power loss, but the store always recovers to a consistent prefix of them.
//   - An ephemeral store keeps no write-ahead log (its directory is never reopened), so it promises nothing
//     beyond the life of the process.
// Locking: one process at a time per data directory, via flock() on <data_dir>/stratus.lock (released by the
// kernel when the process dies, so a crash never leaves a stale lock). The lock file descriptor is close-on-
// exec, but a child forked without exec shares it and keeps the directory locked while it lives.
// Thread safety: all Store methods may be called concurrently from any thread, except that close() and
// the destructor must not race with calls that are still running. Iterators may be used while other
// threads write; each iterator is a point-in-time view as of its creation, and one iterator must be
// used by one thread at a time. Destroy iterators before closing the store (an iterator that outlives
// close() keeps the database, its lock and an ephemeral directory alive until it is destroyed).
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stratus {

// One RocksDB column family each. `meta` is RocksDB's "default" family and holds the store's own keys
// (reserved prefix "stratus:"); the others belong to the service of the same name.
enum class Column { meta, lambda, sqs, s3, dynamodb, events, apigateway, router };
inline constexpr std::size_t kColumnCount = 8;
// "default", "lambda", "sqs", "s3", "dynamodb", "events", "apigateway", "router".
const char* column_name(Column column);

struct StoreOptions {
  // Directory holding the database; created (with parents) if missing. Ignored when ephemeral.
  std::string data_dir;
  // Use a fresh private directory ($TMPDIR or /tmp, named stratus-ephemeral-XXXXXX) that close() or the
  // destructor removes recursively, so nothing remains after exit (a process killed with SIGKILL cannot clean
  // up; the directory is then left behind). Ephemeral stores never fsync and write no write-ahead log:
  // there is nothing to keep.
  bool ephemeral = false;
  // fsync the write-ahead log on every write (see the durability contract above).
  bool sync_writes = false;
};

struct Status {
  enum class Code { ok, not_found, locked, corrupt, incompatible_version, io_error, invalid_argument };
  Code code = Code::ok;
  std::string message;  // human-readable, names the directory or key where useful; empty when ok

  bool ok() const { return code == Code::ok; }
  bool is_not_found() const { return code == Code::not_found; }
  static Status success() { return {}; }
  static Status error(Code code, std::string message) { return Status{code, std::move(message)}; }
};
// "ok", "not_found", "locked", ... for logs.
const char* status_code_name(Status::Code code);

// A group of writes that Store::write applies atomically: readers see all of them or none.
// Keys and values are copied in. A batch can be written more than once, or cleared and reused.
class WriteBatch {
 public:
  WriteBatch();
  ~WriteBatch();
  WriteBatch(WriteBatch&&) noexcept;
  WriteBatch& operator=(WriteBatch&&) noexcept;
  WriteBatch(const WriteBatch&) = delete;
  WriteBatch& operator=(const WriteBatch&) = delete;

  void put(Column column, std::string_view key, std::string_view value);
  void erase(Column column, std::string_view key);
  // Erases every key in [begin, end). begin >= end is a no-op; an empty end makes Store::write fail with
  // invalid_argument (without applying anything), since there is no largest key.
  void erase_range(Column column, std::string_view begin, std::string_view end);
  // Number of operations added.
  std::size_t size() const;
  bool empty() const { return size() == 0; }
  void clear();

 private:
  friend class Store;
  struct Op;
  std::vector<Op> ops_;
};

class Store {
 public:
  static constexpr int kFormatVersion = 1;
  // Meta-column key holding the format version as decimal text.
  static constexpr std::string_view kFormatVersionKey = "stratus:format_version";

  // Opens (creating if needed) the store. On failure returns nullptr and sets `status`:
  //   locked               another process (or another Store in this process) has the directory open;
  //                        the message names the directory and the holder's pid
  //   incompatible_version the directory was written by a newer Stratus, or holds a non-empty database
  //                        without a Stratus format marker; nothing in it is modified
  //   invalid_argument     no data_dir and not ephemeral
  //   io_error / corrupt   as reported by the file system / RocksDB
  // Missing column families are created. A lock left by a killed process does not block.
  static std::unique_ptr<Store> open(const StoreOptions& options, Status& status);

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Closes the database, releases the directory lock and removes an ephemeral directory. Idempotent.
  // Afterwards every operation fails with io_error "store is closed".
  void close();
  bool is_open() const;

  // The directory in use (the generated one when ephemeral), as an absolute path.
  const std::string& data_dir() const;
  // Format version of the open store's data (kFormatVersion once open succeeded).
  int format_version() const;

  Status put(Column column, std::string_view key, std::string_view value);
  // not_found (value untouched) when the key is absent.
  Status get(Column column, std::string_view key, std::string& value);
  // Erasing an absent key is ok.
  Status erase(Column column, std::string_view key);
  // Erases every key in [begin, end) of one column, atomically. Same rules as WriteBatch::erase_range.
  Status erase_range(Column column, std::string_view begin, std::string_view end);
  Status write(const WriteBatch& batch);

  // A bounded cursor over one column in key order (bytewise). Positions outside [begin, end) are invalid.
  // key()/value() are valid only while valid() and until the iterator moves or is destroyed.
  class Iterator {
   public:
    ~Iterator();
    Iterator(const Iterator&) = delete;
    Iterator& operator=(const Iterator&) = delete;

    bool valid() const;
    // First key >= max(key, begin).
    void seek(std::string_view key);
    // Last key <= key (and >= begin); for reverse scans.
    void seek_for_prev(std::string_view key);
    void seek_to_first();
    void seek_to_last();
    void next();  // requires valid()
    void prev();  // requires valid()
    std::string_view key() const;
    std::string_view value() const;
    // ok, or the error that ended iteration early (valid() is false then).
    Status status() const;

   private:
    friend class Store;
    struct Impl;
    explicit Iterator(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
  };

  // An iterator over [begin, end) of `column`, positioned at the first key. An empty end means "to the end
  // of the column". Never null: on a closed store the iterator is invalid and status() says why.
  std::unique_ptr<Iterator> scan(Column column, std::string_view begin, std::string_view end);
  // An iterator over every key starting with `prefix` (see KeyBuilder for tuple prefixes).
  std::unique_ptr<Iterator> scan_prefix(Column column, std::string_view prefix);

 private:
  struct Core;
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace stratus
