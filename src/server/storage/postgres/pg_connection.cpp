// PostgreSQL connection over libpq: each statement text is prepared once per connection
// (PQprepare, `?` placeholders rewritten to $n), then run with PQexecPrepared in text format.
#include <libpq-fe.h>

#include <cstdio>
#include <string>
#include <unordered_map>

#include "server/storage/sql.hpp"

namespace vigil::server::storage {
namespace {

// `?` outside quoted literals and identifiers becomes $1, $2, ...
std::string to_dollar_params(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  char quote = 0;
  for (char c : sql) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '?') {
      out += '$';
      out += std::to_string(++n);
      continue;
    }
    out += c;
  }
  return out;
}

void ignore_notice(void*, const char*) {}

class PgConnection final : public Connection {
 public:
  explicit PgConnection(const std::string& conninfo) {
    conn_ = PQconnectdb(conninfo.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
      std::string msg = PQerrorMessage(conn_);
      PQfinish(conn_);
      conn_ = nullptr;
      while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
      throw StorageError("postgres: cannot connect: " + msg);
    }
    PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
    PQclear(PQexec(conn_, "SET client_min_messages TO warning"));
  }
  ~PgConnection() override {
    if (conn_) PQfinish(conn_);
  }

  Dialect dialect() const noexcept override { return Dialect::kPostgres; }

  std::vector<Row> query(std::string_view sql, const Params& params) override {
    PGresult* res = run(sql, params);
    std::vector<Row> rows;
    int nrows = PQntuples(res), ncols = PQnfields(res);
    rows.reserve(nrows);
    for (int r = 0; r < nrows; ++r) {
      Row row;
      row.cols.resize(ncols);
      for (int c = 0; c < ncols; ++c) {
        if (PQgetisnull(res, r, c)) continue;
        row.cols[c] = std::string(PQgetvalue(res, r, c), PQgetlength(res, r, c));
      }
      rows.push_back(std::move(row));
    }
    PQclear(res);
    return rows;
  }

  std::int64_t exec(std::string_view sql, const Params& params) override {
    PGresult* res = run(sql, params);
    std::int64_t n = std::strtoll(PQcmdTuples(res), nullptr, 10);
    PQclear(res);
    return n;
  }

  void script(std::string_view sql) override {
    PGresult* res = PQexec(conn_, std::string(sql).c_str());
    check(res, sql);
    PQclear(res);
  }

  void begin_write() override { script("BEGIN"); }
  void commit() override { script("COMMIT"); }
  void rollback() noexcept override {
    if (PQtransactionStatus(conn_) != PQTRANS_IDLE) PQclear(PQexec(conn_, "ROLLBACK"));
  }

 private:
  PGresult* run(std::string_view sql, const Params& params) {
    std::string key(sql);
    auto it = prepared_.find(key);
    if (it == prepared_.end()) {
      if (prepared_.size() > 512) {  // statements are written in the code: bounds odd growth
        PQclear(PQexec(conn_, "DEALLOCATE ALL"));
        prepared_.clear();
      }
      std::string name = "v" + std::to_string(++next_name_);
      PGresult* res = PQprepare(conn_, name.c_str(), to_dollar_params(sql).c_str(),
                                static_cast<int>(params.size()), nullptr);
      check(res, sql);
      PQclear(res);
      it = prepared_.emplace(std::move(key), std::move(name)).first;
    }
    std::vector<std::string> text(params.size());
    std::vector<const char*> values(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
      const Value& v = params[i];
      if (std::holds_alternative<std::nullptr_t>(v)) {
        values[i] = nullptr;
        continue;
      }
      if (auto* n = std::get_if<std::int64_t>(&v)) {
        text[i] = std::to_string(*n);
      } else if (auto* d = std::get_if<double>(&v)) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.17g", *d);
        text[i] = buf;
      } else {
        // PostgreSQL text cannot hold NUL (SQLite can): the API refuses control characters
        // where it matters; this keeps a stray one from failing a whole batch.
        std::string_view s = std::holds_alternative<TextRef>(v) ? std::get<TextRef>(v).text
                                                                 : std::get<std::string>(v);
        text[i] = std::string(s.substr(0, s.find('\0')));
      }
      values[i] = text[i].c_str();
    }
    PGresult* res = PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(params.size()),
                                   values.data(), nullptr, nullptr, 0);
    check(res, sql);
    return res;
  }

  void check(PGresult* res, std::string_view sql) {
    auto st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return;
    std::string msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn_);
    const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    std::string sqlstate = state ? state : "";
    PQclear(res);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    if (PQstatus(conn_) == CONNECTION_BAD) {
      // The server went away: reconnect for the next user of this connection. Prepared
      // statements die with the session.
      PQreset(conn_);
      prepared_.clear();
    }
    throw StorageError("postgres: " + msg + " in: " + std::string(sql.substr(0, 120)),
                       sqlstate);
  }

  PGconn* conn_ = nullptr;
  std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
  std::uint64_t next_name_ = 0;
};

}  // namespace

std::unique_ptr<Connection> connect_postgres(const std::string& conninfo) {
  return std::make_unique<PgConnection>(conninfo);
}

}  // namespace vigil::server::storage
