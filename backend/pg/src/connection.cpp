#include "idl/pg/connection.h"

#include <libpq-fe.h>

#include <poll.h>

#include <cerrno>

#include <string>

namespace idl::pg {

namespace {

ErrorCode codeForSqlState(std::string_view state, std::string_view message)
{
    if (state.size() != 5)
        return ErrorCode::Internal;
    const std::string_view cls = state.substr(0, 2);
    if (cls == "08" || state == "57P01" || state == "57P02" || state == "57P03" || cls == "53")
        return ErrorCode::Unavailable;
    if (state == "40001" || state == "40P01" || state == "23505")
        return ErrorCode::Conflict;
    if (state == "57014")
        return message.find("timeout") != std::string_view::npos ? ErrorCode::Timeout
                                                                 : ErrorCode::Cancelled;
    if (state == "42P01" || state == "3D000" || state == "42883")
        return ErrorCode::NotFound;
    if (cls == "22" || cls == "23")
        return ErrorCode::BadRequest;
    return ErrorCode::Internal;
}

std::string trimmed(const char *text)
{
    std::string s = text ? text : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s;
}

} // namespace

// ---- Rows ----

void Rows::Deleter::operator()(pg_result *r) const noexcept
{
    PQclear(r);
}

Rows::Rows(pg_result *result) : m_result(result) {}

int Rows::rowCount() const
{
    return m_result ? PQntuples(m_result.get()) : 0;
}

int Rows::columnCount() const
{
    return m_result ? PQnfields(m_result.get()) : 0;
}

std::string_view Rows::columnName(int column) const
{
    const char *name = m_result ? PQfname(m_result.get(), column) : nullptr;
    return name ? std::string_view(name) : std::string_view();
}

int Rows::columnIndex(std::string_view name) const
{
    for (int c = 0; c < columnCount(); ++c) {
        if (columnName(c) == name)
            return c;
    }
    return -1;
}

bool Rows::isNull(int row, int column) const
{
    return !m_result || PQgetisnull(m_result.get(), row, column) != 0;
}

std::string_view Rows::value(int row, int column) const
{
    if (!m_result || row < 0 || row >= rowCount() || column < 0 || column >= columnCount())
        return {};
    return std::string_view(PQgetvalue(m_result.get(), row, column),
                            static_cast<size_t>(PQgetlength(m_result.get(), row, column)));
}

std::optional<std::string_view> Rows::at(int row, int column) const
{
    if (isNull(row, column))
        return std::nullopt;
    return value(row, column);
}

long long Rows::affectedRows() const
{
    const char *n = m_result ? PQcmdTuples(m_result.get()) : nullptr;
    return (n && *n) ? std::stoll(n) : 0;
}

// ---- Connection ----

Connection::Connection(pg_conn *conn)
    : m_conn(conn), m_notice(std::make_unique<std::function<void(std::string_view)>>())
{
    PQsetNoticeProcessor(m_conn, &Connection::onNotice, m_notice.get());
}

Connection::Connection(Connection &&other) noexcept
    : m_conn(std::exchange(other.m_conn, nullptr)), m_notice(std::move(other.m_notice))
{}

Connection &Connection::operator=(Connection &&other) noexcept
{
    if (this != &other) {
        if (m_conn)
            PQfinish(m_conn);
        m_conn = std::exchange(other.m_conn, nullptr);
        m_notice = std::move(other.m_notice);
    }
    return *this;
}

Connection::~Connection()
{
    if (m_conn)
        PQfinish(m_conn);
}

Result<Connection> Connection::connect(const std::string &dsn, std::chrono::seconds connectTimeout)
{
    const std::string timeout = std::to_string(std::max<long long>(1, connectTimeout.count()));
    // Later keywords override what the expanded connection string sets.
    const char *keywords[] = {"dbname", "connect_timeout", "client_encoding", nullptr};
    const char *values[] = {dsn.c_str(), timeout.c_str(), "UTF8", nullptr};
    pg_conn *conn = PQconnectdbParams(keywords, values, 1);
    if (!conn)
        return makeError(ErrorCode::Unavailable, "postgres: out of memory creating a connection");
    if (PQstatus(conn) != CONNECTION_OK) {
        std::string message = "postgres: connection failed: " + trimmed(PQerrorMessage(conn));
        PQfinish(conn);
        return makeError(ErrorCode::Unavailable, std::move(message));
    }
    return Connection(conn);
}

void Connection::onNotice(void *self, const char *message)
{
    auto *handler = static_cast<std::function<void(std::string_view)> *>(self);
    if (handler && *handler)
        (*handler)(trimmed(message));
}

void Connection::setNoticeHandler(std::function<void(std::string_view)> handler)
{
    if (m_notice)
        *m_notice = std::move(handler);
}

Result<void> Connection::listen(std::string_view channel)
{
    if (isBroken())
        return makeError(ErrorCode::Unavailable, "postgres: listen: connection is broken");
    char *quoted = PQescapeIdentifier(m_conn, channel.data(), channel.size());
    if (!quoted)
        return makeError(ErrorCode::BadRequest, "postgres: listen: bad channel name");
    const std::string sql = "LISTEN " + std::string(quoted);
    PQfreemem(quoted);
    return exec(sql);
}

Result<std::vector<Connection::Notification>>
Connection::waitNotifications(std::chrono::milliseconds timeout)
{
    auto lost = [] {
        return makeError(ErrorCode::Unavailable, "postgres: connection lost while listening");
    };
    std::vector<Notification> out;
    auto drain = [&] {
        while (PGnotify *n = PQnotifies(m_conn)) {
            out.push_back({n->relname ? n->relname : "", n->extra ? n->extra : ""});
            PQfreemem(n);
        }
    };
    if (isBroken())
        return lost();
    drain();
    if (!out.empty())
        return out;
    const int fd = PQsocket(m_conn);
    if (fd < 0)
        return lost();
    pollfd pfd{fd, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
    if (ready < 0 && errno != EINTR)
        return lost();
    if (ready > 0) {
        if (!PQconsumeInput(m_conn) || isBroken())
            return lost();
        drain();
    }
    return out;
}

bool Connection::isBroken() const
{
    return !m_conn || PQstatus(m_conn) != CONNECTION_OK;
}

Error Connection::resultError(pg_result *result, std::string_view what) const
{
    const char *state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    std::string text = trimmed(result ? PQresultErrorMessage(result) : nullptr);
    if (text.empty())
        text = trimmed(m_conn ? PQerrorMessage(m_conn) : "not connected");
    std::string message = "postgres: " + std::string(what) + ": " + text;
    if (state && *state)
        message += " (SQLSTATE " + std::string(state) + ")";
    ErrorCode code = codeForSqlState(state ? state : "", text);
    if (isBroken() || !result)
        code = ErrorCode::Unavailable;
    return makeError(code, std::move(message));
}

Result<void> Connection::exec(std::string_view sql)
{
    if (isBroken())
        return makeError(ErrorCode::Unavailable, "postgres: exec: connection is broken");
    const std::string text(sql);
    Rows rows(PQexec(m_conn, text.c_str()));
    const auto status = PQresultStatus(rows.m_result.get());
    if (!rows.m_result || (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK))
        return resultError(rows.m_result.get(), "exec");
    return {};
}

Result<Rows> Connection::query(std::string_view sql, const Params &params)
{
    if (isBroken())
        return makeError(ErrorCode::Unavailable, "postgres: query: connection is broken");
    const std::string text(sql);
    std::vector<const char *> values;
    std::vector<int> lengths;
    values.reserve(params.size());
    lengths.reserve(params.size());
    for (const Param &p : params) {
        values.push_back(p ? p->data() : nullptr);
        lengths.push_back(p ? static_cast<int>(p->size()) : 0);
    }
    Rows rows(PQexecParams(m_conn, text.c_str(), static_cast<int>(params.size()), nullptr,
                           values.data(), lengths.data(), nullptr, 0));
    const auto status = PQresultStatus(rows.m_result.get());
    if (!rows.m_result || (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK))
        return resultError(rows.m_result.get(), "query");
    return rows;
}

Result<long long> Connection::copyIn(std::string_view copySql, std::span<const std::string> chunks,
                                     CopyFormat format)
{
    size_t i = 0;
    return copyIn(
        copySql,
        [&]() -> std::optional<std::string_view> {
            if (i == chunks.size())
                return std::nullopt;
            return std::string_view(chunks[i++]);
        },
        format);
}

Result<long long> Connection::copyIn(std::string_view copySql,
                                     const std::function<std::optional<std::string_view>()> &next,
                                     CopyFormat format)
{
    if (isBroken())
        return makeError(ErrorCode::Unavailable, "postgres: copy: connection is broken");
    const std::string text(copySql);
    {
        Rows start(PQexec(m_conn, text.c_str()));
        if (PQresultStatus(start.m_result.get()) != PGRES_COPY_IN)
            return resultError(start.m_result.get(), "copy");
        const bool binary = PQbinaryTuples(start.m_result.get()) != 0;
        if (binary != (format == CopyFormat::Binary)) {
            PQputCopyEnd(m_conn, "format mismatch");
            while (PGresult *r = PQgetResult(m_conn))
                PQclear(r);
            return makeError(ErrorCode::Internal,
                             "postgres: copy: the statement's FORMAT does not match the data");
        }
    }
    std::string failure;
    while (auto chunk = next()) {
        if (chunk->empty())
            continue;
        if (PQputCopyData(m_conn, chunk->data(), static_cast<int>(chunk->size())) != 1) {
            failure = trimmed(PQerrorMessage(m_conn));
            break;
        }
    }
    if (!failure.empty() && isBroken())
        return makeError(ErrorCode::Unavailable, "postgres: copy: " + failure);
    if (PQputCopyEnd(m_conn, failure.empty() ? nullptr : failure.c_str()) != 1)
        return makeError(ErrorCode::Unavailable,
                         "postgres: copy: " + trimmed(PQerrorMessage(m_conn)));
    Result<long long> outcome = 0LL;
    bool first = true;
    while (PGresult *r = PQgetResult(m_conn)) {
        Rows end(r);
        if (first) {
            first = false;
            if (PQresultStatus(r) == PGRES_COMMAND_OK)
                outcome = end.affectedRows();
            else
                outcome = resultError(r, "copy");
        }
    }
    if (first)
        return makeError(ErrorCode::Unavailable, "postgres: copy: no result from the server");
    return outcome;
}

Result<void> Connection::begin()
{
    return exec("BEGIN");
}

Result<void> Connection::commit()
{
    if (isBroken())
        return makeError(ErrorCode::Unavailable, "postgres: commit: connection is broken");
    Rows rows(PQexec(m_conn, "COMMIT"));
    if (PQresultStatus(rows.m_result.get()) != PGRES_COMMAND_OK)
        return resultError(rows.m_result.get(), "commit");
    // COMMIT of a transaction that already failed answers "ROLLBACK" without an error.
    if (std::string_view(PQcmdStatus(rows.m_result.get())) == "ROLLBACK")
        return makeError(ErrorCode::Conflict,
                         "postgres: commit: the transaction had failed and was rolled back");
    return {};
}

Result<void> Connection::rollback()
{
    return exec("ROLLBACK");
}

std::string_view sqlState(const Error &error)
{
    static constexpr std::string_view marker = "(SQLSTATE ";
    const std::string_view m = error.message;
    const size_t at = m.rfind(marker);
    if (at == std::string_view::npos || m.size() < at + marker.size() + 5)
        return {};
    return m.substr(at + marker.size(), 5);
}

} // namespace idl::pg
