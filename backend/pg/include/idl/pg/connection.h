#pragma once

#include "idl/core/result.h"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct pg_conn;
struct pg_result;

namespace idl::pg {

// One query parameter in text format; std::nullopt is SQL NULL.
using Param = std::optional<std::string>;
using Params = std::vector<Param>;

// The rows (or command status) of one statement. Owns the PGresult; movable, not copyable.
// Values are in PostgreSQL's text format and stay valid while the Rows object lives.
class Rows
{
public:
    Rows() = default;
    // Number of rows returned.
    int rowCount() const;
    // Number of columns returned.
    int columnCount() const;
    // Column name, e.g. "count".
    std::string_view columnName(int column) const;
    // Index of a column by name, or -1.
    int columnIndex(std::string_view name) const;
    // True when the value is SQL NULL.
    bool isNull(int row, int column) const;
    // The value as text ("" for NULL; use isNull or at() to tell them apart).
    std::string_view value(int row, int column) const;
    // The value as text, or std::nullopt for NULL.
    std::optional<std::string_view> at(int row, int column) const;
    // Rows affected by INSERT/UPDATE/DELETE/COPY (PQcmdTuples), 0 when not applicable.
    long long affectedRows() const;

private:
    friend class Connection;
    explicit Rows(pg_result *result);
    struct Deleter
    {
        void operator()(pg_result *r) const noexcept;
    };
    std::unique_ptr<pg_result, Deleter> m_result;
};

// Format of the bytes sent by copyIn; must match the COPY statement's FORMAT option.
enum class CopyFormat { Text, Binary };

// A connection to PostgreSQL (libpq, blocking calls). Lifecycle: connect() creates it, the
// destructor closes it. Use from one thread at a time; movable, not copyable. Values never go
// into SQL text: query() always sends them as parameters (PQexecParams).
class Connection
{
public:
    Connection() = default;
    Connection(Connection &&) noexcept;
    Connection &operator=(Connection &&) noexcept;
    ~Connection();

    // Opens a connection from a libpq connection string or URI. Failure: ErrorCode::Unavailable.
    static Result<Connection>
    connect(const std::string &dsn, std::chrono::seconds connectTimeout = std::chrono::seconds(10));

    // Runs one or more statements without parameters and ignores their rows (DDL, SET, ...).
    Result<void> exec(std::string_view sql);
    // Runs one statement with $1..$n bound to params (text format) and returns its rows.
    Result<Rows> query(std::string_view sql, const Params &params = {});
    // Runs "COPY ... FROM STDIN" and streams the chunks; returns the number of rows copied.
    Result<long long> copyIn(std::string_view copySql, std::span<const std::string> chunks,
                             CopyFormat format = CopyFormat::Text);
    // Streaming variant: next() returns the next chunk, or std::nullopt at the end.
    Result<long long> copyIn(std::string_view copySql,
                             const std::function<std::optional<std::string_view>()> &next,
                             CopyFormat format = CopyFormat::Text);

    // Transaction helpers (BEGIN / COMMIT / ROLLBACK). commit() fails (Conflict) when the
    // transaction had already failed and the server rolled it back instead.
    Result<void> begin();
    Result<void> commit();
    Result<void> rollback();

    // LISTEN on a channel (the name is quoted as an identifier, so any text is safe).
    Result<void> listen(std::string_view channel);
    // A NOTIFY received on a channel this connection listens on.
    struct Notification
    {
        std::string channel;
        std::string payload;
    };
    // Waits up to `timeout` for notifications (none waiting: an empty vector after the
    // timeout). Unavailable when the connection is lost.
    Result<std::vector<Notification>> waitNotifications(std::chrono::milliseconds timeout);

    // True when there is no usable connection (never connected, closed, or lost).
    bool isBroken() const;
    // Receives server notices (e.g. "relation already exists, skipping"); default: dropped.
    void setNoticeHandler(std::function<void(std::string_view)> handler);
    // The underlying libpq handle, for what this wrapper does not cover.
    pg_conn *native() const { return m_conn; }

private:
    explicit Connection(pg_conn *conn);
    static void onNotice(void *self, const char *message);
    Error resultError(pg_result *result, std::string_view what) const;

    pg_conn *m_conn = nullptr;
    std::unique_ptr<std::function<void(std::string_view)>> m_notice;
};

// The SQLSTATE carried in an error made by this library (e.g. "23505"), or "" if none.
std::string_view sqlState(const Error &error);

} // namespace idl::pg
