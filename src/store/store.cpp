#include "store/store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <shared_mutex>
#include <utility>

#include <fmt/format.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include "common/log.hpp"
#include "store/key_codec.hpp"

namespace stratus {
namespace fs = std::filesystem;

namespace {

constexpr std::array<const char*, kColumnCount> kColumnNames = {"default",  "lambda", "sqs",        "s3",
                                                                "dynamodb", "events", "apigateway", "router"};
constexpr const char* kLockFileName = "stratus.lock";
constexpr const char* kComponent = "store";

bool valid_column(Column column) { return static_cast<std::size_t>(column) < kColumnCount; }

rocksdb::Slice slice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

Status from_rocks(const rocksdb::Status& s, std::string_view context) {
  if (s.ok()) return Status::success();
  Status::Code code = Status::Code::io_error;
  if (s.IsNotFound()) {
    code = Status::Code::not_found;
  } else if (s.IsCorruption()) {
    code = Status::Code::corrupt;
  } else if (s.IsInvalidArgument() || s.IsNotSupported()) {
    code = Status::Code::invalid_argument;
  }
  return Status::error(code, fmt::format("{}: {}", context, s.ToString()));
}

Status closed_error() { return Status::error(Status::Code::io_error, "store is closed"); }

std::string errno_text(int err) { return std::strerror(err); }

// Sends RocksDB's own log (warnings and errors only) to the daemon's log instead of LOG files in the data
// directory. Header lines (an options dump on every open) are dropped.
class RocksLogger final : public rocksdb::Logger {
 public:
  RocksLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}

  void LogHeader(const char* /*format*/, va_list /*ap*/) override {}
  void Logv(const char* format, va_list ap) override { Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap); }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel() || level == rocksdb::InfoLogLevel::HEADER_LEVEL) return;
    char buf[1024];
    va_list copy;
    va_copy(copy, ap);
    int n = std::vsnprintf(buf, sizeof(buf), format, copy);
    va_end(copy);
    if (n < 0) return;
    std::string_view text(buf, std::min(static_cast<std::size_t>(n), sizeof(buf) - 1));
    if (level >= rocksdb::InfoLogLevel::ERROR_LEVEL) {
      log::error("rocksdb", "{}", text);
    } else {
      log::warn("rocksdb", "{}", text);
    }
  }
};

// The file system of an ephemeral store: every sync is a no-op. Its directory is deleted at exit, so there is
// nothing to make durable, and skipping ~20 fsyncs cuts opening a fresh store from ~18 ms to a few ms.
class NoSyncWritableFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  using rocksdb::FSWritableFileOwnerWrapper::FSWritableFileOwnerWrapper;
  rocksdb::IOStatus Sync(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override { return {}; }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override { return {}; }
  rocksdb::IOStatus RangeSync(uint64_t, uint64_t, const rocksdb::IOOptions&,
                              rocksdb::IODebugContext*) override {
    return {};
  }
};

class NoSyncDirectory final : public rocksdb::FSDirectoryWrapper {
 public:
  using rocksdb::FSDirectoryWrapper::FSDirectoryWrapper;
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override { return {}; }
  rocksdb::IOStatus FsyncWithDirOptions(const rocksdb::IOOptions&, rocksdb::IODebugContext*,
                                        const rocksdb::DirFsyncOptions&) override {
    return {};
  }
};

class NoSyncFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  NoSyncFileSystem() : rocksdb::FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "StratusNoSyncFileSystem"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    return wrap(target()->NewWritableFile(name, options, result, dbg), result);
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override {
    return wrap(target()->ReopenWritableFile(name, options, result, dbg), result);
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override {
    return wrap(target()->ReuseWritableFile(name, old_name, options, result, dbg), result);
  }
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& options,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewDirectory(name, options, result, dbg);
    if (s.ok() && *result) *result = std::make_unique<NoSyncDirectory>(std::move(*result));
    return s;
  }

 private:
  static rocksdb::IOStatus wrap(rocksdb::IOStatus s, std::unique_ptr<rocksdb::FSWritableFile>* result) {
    if (s.ok() && *result) *result = std::make_unique<NoSyncWritableFile>(std::move(*result));
    return s;
  }
};

// Keys whose tuple ends in two u64 elements, an owner (a queue's id) and then a sequence number that only
// grows (SQS message bodies and states: ..., "m"|"s", qid, seq), are written in order within their owner.
// Their prefix (the key without the sequence's 8 value bytes) names a memtable insert hint, so an insert
// starts from where the owner's last one went instead of searching the skip list from its top: that search,
// comparing long shared key prefixes at every level, was a fifth of SendMessage's instructions.
// Other keys are inserted the ordinary way. A key this misjudges still lands in its place (a hint is only
// where the search starts); it costs one more hint entry for the memtable's life.
class SequentialTupleHint final : public rocksdb::SliceTransform {
 public:
  static constexpr std::size_t kU64 = 9;  // tag 0x11 and 8 bytes (key_codec.hpp)
  const char* Name() const override { return "stratus.SequentialTupleHint"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), key.size() - (kU64 - 1));
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return key.size() > 2 * kU64 && static_cast<unsigned char>(key[key.size() - kU64]) == 0x11 &&
           static_cast<unsigned char>(key[key.size() - 2 * kU64]) == 0x11;
  }
};

// RocksDB settings chosen for a small footprint: the daemon must stay around 20 MB RSS after start.
struct RocksConfig {
  rocksdb::DBOptions db;
  rocksdb::ColumnFamilyOptions cf;
  // The "sqs" column holds message bodies that are mostly written once, read once and deleted within
  // seconds: larger memtables let most of them die before a flush, no compression spares the CPU that
  // flushes, compactions and reads of short-lived 1 KiB values would spend on it, and higher L0 triggers
  // keep a backlog of messages from stalling writes while compaction catches up.
  rocksdb::ColumnFamilyOptions queue_cf;

  const rocksdb::ColumnFamilyOptions& options_for(const std::string& name) const {
    return name == "sqs" ? queue_cf : cf;
  }
};

RocksConfig make_config(bool ephemeral) {
  RocksConfig c;
  c.db.create_if_missing = true;
  c.db.max_open_files = 256;
  c.db.info_log = std::make_shared<RocksLogger>();  // no LOG files in the data directory
  c.db.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  c.db.keep_log_file_num = 2;  // (only used if info_log is ever unset)
  c.db.max_log_file_size = 1 << 20;
  c.db.manifest_preallocation_size = 256 << 10;  // default 4 MB, which is real memory on a tmpfs
  c.db.max_background_jobs = 2;
  c.db.max_file_opening_threads = 1;  // default 16 threads, started on every open
  c.db.skip_stats_update_on_db_open = true;
  c.db.max_total_wal_size = 64 << 20;    // flush idle column families so old WAL files can go
  c.db.db_write_buffer_size = 48 << 20;  // all memtables together (the sqs column takes most)
  c.db.stats_dump_period_sec = 0;
  c.db.stats_persist_period_sec = 0;
  c.db.manual_wal_flush = false;  // the WAL reaches the OS before a write returns: see header
  c.db.avoid_flush_during_shutdown = ephemeral;
  c.db.allow_fallocate = !ephemeral;  // preallocated WAL space is real memory when $TMPDIR is a tmpfs

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(8 << 20);  // shared by every column family
  table.cache_index_and_filter_blocks = true;         // keeps index/filter memory inside the cache
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  c.cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  c.cf.write_buffer_size = 4 << 20;
  c.cf.max_write_buffer_number = 2;
  c.queue_cf = c.cf;
  c.queue_cf.write_buffer_size = 16 << 20;
  c.queue_cf.max_write_buffer_number = 3;
  c.queue_cf.compression = rocksdb::kNoCompression;
  c.queue_cf.level0_file_num_compaction_trigger = 4;
  c.queue_cf.level0_slowdown_writes_trigger = 40;
  c.queue_cf.level0_stop_writes_trigger = 60;
  c.queue_cf.target_file_size_base = 32 << 20;
  c.queue_cf.max_bytes_for_level_base = 256 << 20;
  c.queue_cf.memtable_insert_with_hint_prefix_extractor = std::make_shared<SequentialTupleHint>();
  return c;
}

// Reads the pid written by the lock holder; 0 when unknown.
long read_lock_pid(int fd) {
  char buf[32] = {};
  ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return 0;
  long pid = 0;
  auto [ptr, ec] = std::from_chars(buf, buf + n, pid);
  (void)ptr;
  return ec == std::errc() ? pid : 0;
}

}  // namespace

const char* column_name(Column column) {
  return valid_column(column) ? kColumnNames[static_cast<std::size_t>(column)] : "?";
}

const char* status_code_name(Status::Code code) {
  switch (code) {
    case Status::Code::ok: return "ok";
    case Status::Code::not_found: return "not_found";
    case Status::Code::locked: return "locked";
    case Status::Code::corrupt: return "corrupt";
    case Status::Code::incompatible_version: return "incompatible_version";
    case Status::Code::io_error: return "io_error";
    case Status::Code::invalid_argument: return "invalid_argument";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------------------
// WriteBatch

struct WriteBatch::Op {
  enum class Kind { put, erase, erase_range };
  Kind kind;
  Column column;
  std::string key;    // begin for erase_range
  std::string value;  // end for erase_range
};

WriteBatch::WriteBatch() = default;
WriteBatch::~WriteBatch() = default;
WriteBatch::WriteBatch(WriteBatch&&) noexcept = default;
WriteBatch& WriteBatch::operator=(WriteBatch&&) noexcept = default;

void WriteBatch::put(Column column, std::string_view key, std::string_view value) {
  ops_.push_back(Op{Op::Kind::put, column, std::string(key), std::string(value)});
}

void WriteBatch::erase(Column column, std::string_view key) {
  ops_.push_back(Op{Op::Kind::erase, column, std::string(key), {}});
}

void WriteBatch::erase_range(Column column, std::string_view begin, std::string_view end) {
  ops_.push_back(Op{Op::Kind::erase_range, column, std::string(begin), std::string(end)});
}

std::size_t WriteBatch::size() const { return ops_.size(); }
void WriteBatch::clear() { ops_.clear(); }

// ---------------------------------------------------------------------------------------------------------
// Core: the open database and everything that must be released with it. Shared with live iterators, so
// that an iterator outliving close() cannot touch a deleted database.

struct Store::Core {
  std::string dir;
  bool ephemeral = false;
  int lock_fd = -1;
  rocksdb::DB* db = nullptr;
  std::array<rocksdb::ColumnFamilyHandle*, kColumnCount> handles{};
  std::vector<rocksdb::ColumnFamilyHandle*> other_handles;  // families this build does not know
  std::unique_ptr<rocksdb::Env> env;                        // ephemeral only: outlives db
  rocksdb::WriteOptions write_options;

  Core() = default;
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  ~Core() {
    if (db != nullptr) {
      for (auto*& h : handles) {
        if (h != nullptr) db->DestroyColumnFamilyHandle(h);
        h = nullptr;
      }
      for (auto* h : other_handles) db->DestroyColumnFamilyHandle(h);
      rocksdb::Status s = db->Close();
      if (!s.ok()) log::warn(kComponent, "closing {}: {}", dir, s.ToString());
      delete db;
    }
    if (lock_fd >= 0) {
      // Clear our pid while still holding the lock, then release it by closing. The file stays: deleting
      // it would let two processes lock different inodes of the same path.
      if (ftruncate(lock_fd, 0) != 0) log::debug(kComponent, "truncating lock file: {}", errno_text(errno));
      ::close(lock_fd);
    }
    if (ephemeral && !dir.empty()) {
      std::error_code ec;
      fs::remove_all(dir, ec);
      if (ec) log::warn(kComponent, "removing ephemeral data directory {}: {}", dir, ec.message());
    }
  }

  rocksdb::ColumnFamilyHandle* handle(Column column) const {
    return handles[static_cast<std::size_t>(column)];
  }
};

struct Store::Impl {
  mutable std::shared_mutex mu;  // shared: operations; exclusive: close
  std::shared_ptr<Core> core;
  std::string dir;
  int format_version = 0;
};

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Store::~Store() { close(); }

namespace {

// Takes <dir>/stratus.lock; returns the fd or sets `status`.
int acquire_lock(const std::string& dir, Status& status) {
  std::string path = (fs::path(dir) / kLockFileName).string();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    status = Status::error(Status::Code::io_error,
                           fmt::format("cannot open lock file {}: {}", path, errno_text(errno)));
    return -1;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    if (err == EWOULDBLOCK) {
      long pid = read_lock_pid(fd);
      std::string holder = pid > 0 ? fmt::format("pid {}", pid) : std::string("pid unknown");
      if (pid == static_cast<long>(getpid())) {
        status =
            Status::error(Status::Code::locked,
                          fmt::format("data directory {} is already open in this process ({})", dir, holder));
      } else {
        status = Status::error(
            Status::Code::locked,
            fmt::format("data directory {} is in use by another stratus process ({})", dir, holder));
      }
    } else {
      status =
          Status::error(Status::Code::io_error, fmt::format("cannot lock {}: {}", path, errno_text(err)));
    }
    ::close(fd);
    return -1;
  }
  std::string pid = fmt::format("{}\n", getpid());
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    log::warn(kComponent, "cannot write pid to {}: {}", path, errno_text(errno));
  }
  return fd;
}

// Creates the directory to use; returns its absolute path or sets `status`.
std::string prepare_dir(const StoreOptions& options, Status& status) {
  if (options.ephemeral) {
    const char* tmp = std::getenv("TMPDIR");
    std::string base = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
    std::string templ = (fs::path(base) / "stratus-ephemeral-XXXXXX").string();
    if (mkdtemp(templ.data()) == nullptr) {
      status = Status::error(Status::Code::io_error, fmt::format("cannot create an ephemeral data directory "
                                                                 "under {}: {}",
                                                                 base, errno_text(errno)));
      return {};
    }
    return templ;
  }
  if (options.data_dir.empty()) {
    status = Status::error(Status::Code::invalid_argument, "no data directory given (and not ephemeral)");
    return {};
  }
  std::error_code ec;
  fs::path dir = fs::absolute(options.data_dir, ec).lexically_normal();
  if (ec) dir = options.data_dir;
  std::string text = dir.string();
  if (text.size() > 1 && text.back() == '/') text.pop_back();
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) {
    status = Status::error(Status::Code::io_error, fmt::format("cannot create data directory {}: {}", text,
                                                               ec ? ec.message() : "not a directory"));
    return {};
  }
  return text;
}

// True if any of the given families holds a key.
bool any_data(rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
  for (auto* h : handles) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), h));
    it->SeekToFirst();
    if (it->Valid() || !it->status().ok()) return true;
  }
  return false;
}

}  // namespace

std::unique_ptr<Store> Store::open(const StoreOptions& options, Status& status) {
  status = Status::success();
  auto core = std::make_shared<Core>();
  core->ephemeral = options.ephemeral;
  core->dir = prepare_dir(options, status);
  if (!status.ok()) return nullptr;
  const std::string& dir = core->dir;

  core->lock_fd = acquire_lock(dir, status);
  if (!status.ok()) return nullptr;

  RocksConfig config = make_config(options.ephemeral);
  if (options.ephemeral) {
    core->env = rocksdb::NewCompositeEnv(std::make_shared<NoSyncFileSystem>());
    config.db.env = core->env.get();
  }
  core->write_options.sync = options.sync_writes;
  // An ephemeral directory is never opened again (not even after kill -9: the next start makes a new one),
  // so a write-ahead log would be written for nobody to replay. Without it a write is a memtable insert,
  // which is most of what SendMessage costs in an ephemeral daemon (CI's usual mode).
  core->write_options.disableWAL = options.ephemeral;

  // Open the families that exist (just "default" for a new database), check the format marker, and only
  // then create the missing families, all in one call (RocksDB rewrites its OPTIONS file per call).
  std::error_code ec;
  bool existing = fs::exists(fs::path(dir) / "CURRENT", ec);
  std::vector<std::string> names;
  if (existing) {
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(config.db, dir, &names);
    if (!s.ok()) {
      status = from_rocks(s, fmt::format("reading data directory {}", dir));
      return nullptr;
    }
  } else {
    names.emplace_back(rocksdb::kDefaultColumnFamilyName);
  }

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : names) descriptors.emplace_back(name, config.options_for(name));
  std::vector<rocksdb::ColumnFamilyHandle*> opened;
  rocksdb::Status s = rocksdb::DB::Open(config.db, dir, descriptors, &opened, &core->db);
  if (!s.ok()) {
    core->db = nullptr;
    status = from_rocks(s, fmt::format("opening data directory {}", dir));
    return nullptr;
  }
  for (std::size_t i = 0; i < opened.size(); ++i) {
    auto it = std::find(kColumnNames.begin(), kColumnNames.end(), names[i]);
    if (it != kColumnNames.end()) {
      core->handles[static_cast<std::size_t>(it - kColumnNames.begin())] = opened[i];
    } else {
      core->other_handles.push_back(opened[i]);
    }
  }

  // The format marker, checked before anything is created or written.
  int version = kFormatVersion;
  std::string marker;
  s = core->db->Get(rocksdb::ReadOptions(), core->handle(Column::meta), slice(kFormatVersionKey), &marker);
  if (s.ok()) {
    auto [ptr, errc] = std::from_chars(marker.data(), marker.data() + marker.size(), version);
    if (errc != std::errc() || ptr != marker.data() + marker.size()) {
      status =
          Status::error(Status::Code::corrupt,
                        fmt::format("data directory {} has an unreadable format marker '{}'", dir, marker));
      return nullptr;
    }
    if (version > kFormatVersion) {
      status = Status::error(
          Status::Code::incompatible_version,
          fmt::format(
              "data directory {} was written by a newer Stratus (format {}, this build supports up to "
              "{}); upgrade Stratus, or start with --data-dir pointing elsewhere or with --ephemeral",
              dir, version, kFormatVersion));
      return nullptr;
    }
    if (version < 1) {
      status = Status::error(Status::Code::incompatible_version,
                             fmt::format("data directory {} has unknown format {}; start with --data-dir "
                                         "pointing elsewhere or with --ephemeral",
                                         dir, version));
      return nullptr;
    }
  } else if (s.IsNotFound()) {
    // A database without the marker is only acceptable if it is empty (e.g. a first start that was killed
    // before the marker was written).
    if (existing && any_data(core->db, opened)) {
      status = Status::error(
          Status::Code::incompatible_version,
          fmt::format(
              "data directory {} holds a database that was not written by Stratus (no format marker); "
              "start with --data-dir pointing elsewhere or with --ephemeral",
              dir));
      return nullptr;
    }
    s = core->db->Put(core->write_options, core->handle(Column::meta), slice(kFormatVersionKey),
                      std::to_string(kFormatVersion));
    if (!s.ok()) {
      status = from_rocks(s, fmt::format("writing the format marker in {}", dir));
      return nullptr;
    }
  } else {
    status = from_rocks(s, fmt::format("reading the format marker in {}", dir));
    return nullptr;
  }

  std::vector<std::string> missing;
  for (std::size_t i = 0; i < kColumnCount; ++i) {
    if (core->handles[i] == nullptr) missing.emplace_back(kColumnNames[i]);
  }
  if (!missing.empty()) {
    std::vector<rocksdb::ColumnFamilyHandle*> created;
    for (const auto& name : missing) {
      rocksdb::ColumnFamilyHandle* handle = nullptr;
      s = core->db->CreateColumnFamily(config.options_for(name), name, &handle);
      if (!s.ok()) break;
      created.push_back(handle);
    }
    for (std::size_t i = 0; i < created.size() && i < missing.size(); ++i) {
      auto it = std::find(kColumnNames.begin(), kColumnNames.end(), missing[i]);
      core->handles[static_cast<std::size_t>(it - kColumnNames.begin())] = created[i];
    }
    if (!s.ok()) {
      status = from_rocks(s, fmt::format("creating column families in {}", dir));
      return nullptr;
    }
  }

  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->format_version = version;
  impl->core = std::move(core);
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

void Store::close() {
  std::shared_ptr<Core> core;
  {
    std::unique_lock lock(impl_->mu);
    core = std::move(impl_->core);
  }
  if (core && core.use_count() > 1) {
    log::warn(kComponent,
              "closing {} with {} iterator(s) still alive; it stays open until they are destroyed",
              impl_->dir, core.use_count() - 1);
  }
}

bool Store::is_open() const {
  std::shared_lock lock(impl_->mu);
  return impl_->core != nullptr;
}

const std::string& Store::data_dir() const { return impl_->dir; }
int Store::format_version() const { return impl_->format_version; }

Status Store::put(Column column, std::string_view key, std::string_view value) {
  if (!valid_column(column)) return Status::error(Status::Code::invalid_argument, "invalid column");
  std::shared_lock lock(impl_->mu);
  Core* core = impl_->core.get();
  if (core == nullptr) return closed_error();
  return from_rocks(core->db->Put(core->write_options, core->handle(column), slice(key), slice(value)),
                    "put");
}

Status Store::get(Column column, std::string_view key, std::string& value) {
  if (!valid_column(column)) return Status::error(Status::Code::invalid_argument, "invalid column");
  std::shared_lock lock(impl_->mu);
  Core* core = impl_->core.get();
  if (core == nullptr) return closed_error();
  rocksdb::PinnableSlice found;
  rocksdb::Status s = core->db->Get(rocksdb::ReadOptions(), core->handle(column), slice(key), &found);
  if (s.IsNotFound()) return Status::error(Status::Code::not_found, "key not found");
  if (!s.ok()) return from_rocks(s, "get");
  value.assign(found.data(), found.size());
  return Status::success();
}

Status Store::erase(Column column, std::string_view key) {
  if (!valid_column(column)) return Status::error(Status::Code::invalid_argument, "invalid column");
  std::shared_lock lock(impl_->mu);
  Core* core = impl_->core.get();
  if (core == nullptr) return closed_error();
  return from_rocks(core->db->Delete(core->write_options, core->handle(column), slice(key)), "erase");
}

Status Store::erase_range(Column column, std::string_view begin, std::string_view end) {
  WriteBatch batch;
  batch.erase_range(column, begin, end);
  return write(batch);
}

Status Store::write(const WriteBatch& batch) {
  // Room for every record up front (12 bytes of batch header, per record a tag, a column id and two
  // varint lengths): the batch's buffer otherwise doubles its way up, a reallocation and copy each time.
  std::size_t bytes = 12;
  for (const auto& op : batch.ops_) {
    if (!valid_column(op.column)) return Status::error(Status::Code::invalid_argument, "invalid column");
    if (op.kind == WriteBatch::Op::Kind::erase_range && op.value.empty()) {
      return Status::error(Status::Code::invalid_argument, "erase_range needs a non-empty end key");
    }
    bytes += op.key.size() + op.value.size() + 16;
  }
  rocksdb::WriteBatch rb(bytes);
  std::shared_lock lock(impl_->mu);
  Core* core = impl_->core.get();
  if (core == nullptr) return closed_error();
  for (const auto& op : batch.ops_) {
    auto* h = core->handle(op.column);
    rocksdb::Status s;
    switch (op.kind) {
      case WriteBatch::Op::Kind::put: s = rb.Put(h, op.key, op.value); break;
      case WriteBatch::Op::Kind::erase: s = rb.Delete(h, op.key); break;
      case WriteBatch::Op::Kind::erase_range:
        if (op.key < op.value) s = rb.DeleteRange(h, op.key, op.value);
        break;
    }
    if (!s.ok()) return from_rocks(s, "building write batch");
  }
  if (rb.Count() == 0) return Status::success();
  return from_rocks(core->db->Write(core->write_options, &rb), "write");
}

// ---------------------------------------------------------------------------------------------------------
// Iterator

struct Store::Iterator::Impl {
  std::shared_ptr<Core> core;  // declared first: released last
  std::string lower;
  std::string upper;  // empty: unbounded
  rocksdb::Slice lower_slice;
  rocksdb::Slice upper_slice;
  Status error;  // set when there is no database iterator (closed store)
  std::unique_ptr<rocksdb::Iterator> it;

  bool usable() const { return it != nullptr; }
};

Store::Iterator::Iterator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::Iterator::~Iterator() = default;

bool Store::Iterator::valid() const { return impl_->usable() && impl_->it->Valid(); }

void Store::Iterator::seek(std::string_view key) {
  if (!impl_->usable()) return;
  impl_->it->Seek(key < impl_->lower ? slice(impl_->lower) : slice(key));
}

void Store::Iterator::seek_for_prev(std::string_view key) {
  if (!impl_->usable()) return;
  if (!impl_->upper.empty() && key >= impl_->upper) {
    impl_->it->SeekToLast();
  } else {
    impl_->it->SeekForPrev(slice(key));
  }
}

void Store::Iterator::seek_to_first() {
  if (impl_->usable()) impl_->it->SeekToFirst();
}

void Store::Iterator::seek_to_last() {
  if (impl_->usable()) impl_->it->SeekToLast();
}

void Store::Iterator::next() {
  if (valid()) impl_->it->Next();
}

void Store::Iterator::prev() {
  if (valid()) impl_->it->Prev();
}

std::string_view Store::Iterator::key() const { return impl_->it->key().ToStringView(); }
std::string_view Store::Iterator::value() const { return impl_->it->value().ToStringView(); }

Status Store::Iterator::status() const {
  if (!impl_->usable()) return impl_->error;
  return from_rocks(impl_->it->status(), "iterator");
}

std::unique_ptr<Store::Iterator> Store::scan(Column column, std::string_view begin, std::string_view end) {
  auto impl = std::make_unique<Iterator::Impl>();
  impl->lower.assign(begin);
  impl->upper.assign(end);
  impl->lower_slice = slice(impl->lower);
  impl->upper_slice = slice(impl->upper);
  if (!valid_column(column)) {
    impl->error = Status::error(Status::Code::invalid_argument, "invalid column");
  } else {
    std::shared_lock lock(impl_->mu);
    impl->core = impl_->core;
    if (impl->core == nullptr) {
      impl->error = closed_error();
    } else {
      rocksdb::ReadOptions ro;  // an iterator without a snapshot still reads one point in time
      if (!impl->lower.empty()) ro.iterate_lower_bound = &impl->lower_slice;
      if (!impl->upper.empty()) ro.iterate_upper_bound = &impl->upper_slice;
      impl->it.reset(impl->core->db->NewIterator(ro, impl->core->handle(column)));
      impl->it->Seek(impl->lower_slice);
    }
  }
  return std::unique_ptr<Iterator>(new Iterator(std::move(impl)));
}

std::unique_ptr<Store::Iterator> Store::scan_prefix(Column column, std::string_view prefix) {
  return scan(column, prefix, prefix_successor(prefix));
}

}  // namespace stratus
