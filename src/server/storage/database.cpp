#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "server/common/time.hpp"
#include "server/storage/sql.hpp"

namespace vigil::server::storage {

const std::string& Row::text(std::size_t i) const {
  static const std::string kEmpty;
  const auto& c = cols.at(i);
  return c ? *c : kEmpty;
}

std::int64_t Row::integer(std::size_t i) const {
  const auto& c = cols.at(i);
  return c ? std::strtoll(c->c_str(), nullptr, 10) : 0;
}

double Row::real(std::size_t i) const {
  const auto& c = cols.at(i);
  return c ? std::strtod(c->c_str(), nullptr) : 0.0;
}

std::string placeholders(std::size_t n) {
  std::string out;
  out.reserve(n * 3);
  for (std::size_t i = 0; i < n; ++i) out += i ? ", ?" : "?";
  return out;
}

Database::Lease::~Lease() {
  if (!conn) return;
  std::lock_guard<std::mutex> lock(pool_->mu);
  pool_->idle.push_back(std::move(conn));
  pool_->cv.notify_one();
}

Database::~Database() {
  if (checkpointer_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(checkpoint_mu_);
      checkpoint_stop_ = true;
    }
    checkpoint_cv_.notify_all();
    checkpointer_.join();
  }
}

void Database::run_checkpoints(std::unique_ptr<Connection> conn) {
  std::unique_lock<std::mutex> lock(checkpoint_mu_);
  while (!checkpoint_cv_.wait_for(lock, std::chrono::milliseconds(100),
                                  [this] { return checkpoint_stop_; })) {
    lock.unlock();
    try {
      // PASSIVE: copies what no reader still needs, waits for nobody.
      conn->script("PRAGMA wal_checkpoint(PASSIVE)");
    } catch (const StorageError&) {
      // Busy or failing: the next round (or the writer, past its threshold) does it.
    }
    lock.lock();
  }
}

Database::Lease Database::acquire(bool writer) {
  Pool* pool = (writer || dialect_ == Dialect::kPostgres) ? &writers_ : &readers_;
  std::unique_lock<std::mutex> lock(pool->mu);
  pool->cv.wait(lock, [pool] { return !pool->idle.empty(); });
  auto conn = std::move(pool->idle.back());
  pool->idle.pop_back();
  return Lease(pool, std::move(conn));
}

std::unique_ptr<Database> Database::open_sqlite(const SqliteOptions& options) {
  std::unique_ptr<Database> db(new Database(Dialect::kSqlite));
  SqliteOptions writer = options;
  // With the checkpoint thread, the writer's own threshold is only a bound on the WAL's size.
  if (options.checkpoint_thread) writer.wal_autocheckpoint = std::max(options.wal_autocheckpoint, 65536);
  // The writer first: it creates the file and switches it to WAL before readers open it.
  db->writers_.idle.push_back(connect_sqlite(writer, false));
  for (int i = 0; i < std::max(1, options.readers); ++i)
    db->readers_.idle.push_back(connect_sqlite(options, true));
  if (options.checkpoint_thread) {
    auto conn = connect_sqlite(options, false);
    db->checkpointer_ = std::thread(&Database::run_checkpoints, db.get(), std::move(conn));
  }
  return db;
}

std::unique_ptr<Database> Database::open_postgres(const PostgresOptions& options) {
  std::unique_ptr<Database> db(new Database(Dialect::kPostgres));
  for (int i = 0; i < std::max(1, options.connections); ++i)
    db->writers_.idle.push_back(connect_postgres(options.conninfo));
  return db;
}

int Database::migrate() {
  const auto& migrations =
      dialect_ == Dialect::kSqlite ? sqlite_migrations() : postgres_migrations();
  return write([&](Connection& c) {
    // Two vigild starting together on one PostgreSQL: the second waits here, then finds the
    // schema current. (SQLite's BEGIN IMMEDIATE already serialises writers.)
    if (dialect_ == Dialect::kPostgres) c.query("SELECT pg_advisory_xact_lock(7431001)");
    c.exec(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
        "description TEXT NOT NULL, applied_ms BIGINT NOT NULL)");
    auto rows = c.query("SELECT COALESCE(MAX(version), 0) FROM schema_version");
    int current = static_cast<int>(rows.at(0).integer(0));
    if (!migrations.empty() && current > migrations.back().version)
      throw StorageError("the database schema (version " + std::to_string(current) +
                         ") is newer than this vigild knows (" +
                         std::to_string(migrations.back().version) + "): upgrade vigild");
    for (const auto& m : migrations) {
      if (m.version <= current) continue;
      c.script(m.sql);
      c.exec("INSERT INTO schema_version (version, description, applied_ms) VALUES (?, ?, ?)",
             {std::int64_t{m.version}, m.description, now_ms()});
      current = m.version;
    }
    return current;
  });
}

}  // namespace vigil::server::storage
