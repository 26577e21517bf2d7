// The notification outbox: claim one due row, POST it, record the outcome.
#include "idl/alerter/alerter.h"
#include "idl/observability/metrics.h"
#include "idl/pg/connection.h"
#include "idl/service/http_client.h"

#include <algorithm>
#include <charconv>

namespace idl::alerter {
namespace {

struct Metrics
{
    metrics::Counter &delivered, &retry, &failed;
    static Metrics &get()
    {
        auto &g = metrics::Registry::global();
        const std::string help = "Notification attempts by outcome";
        static Metrics m{
            g.counter("idl_alert_notifications_total", help, {{"result", "delivered"}}),
            g.counter("idl_alert_notifications_total", help, {{"result", "retry"}}),
            g.counter("idl_alert_notifications_total", help, {{"result", "failed"}}),
        };
        return m;
    }
};

std::int64_t toInt(std::string_view s)
{
    std::int64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

} // namespace

Sender httpSender(const AlerterOptions &options)
{
    return [timeout = options.httpTimeout, ca = options.caFile](
               const std::string &, const std::string &url, const std::string &payload,
               std::string &retryAfter) -> Result<int> {
        auto u = http::parseUrl(url);
        if (!u)
            return u.error();
        http::Client client(u->host, u->port, timeout, u->tls, ca);
        auto reply = client.post(u->target, "application/json", {}, payload);
        if (!reply)
            return reply.error();
        retryAfter = reply->retryAfter;
        return reply->status;
    };
}

Result<Delivery> deliverOne(pg::Connection &db, const AlerterOptions &o, const Sender &send)
{
    if (auto r = db.begin(); !r)
        return r.error();
    auto fail = [&](Error e) -> Result<Delivery> {
        (void)db.rollback();
        return e;
    };
    auto row = db.query("SELECT id, kind, url, payload, attempts FROM alert_notifications "
                        "WHERE status = 'pending' AND next_attempt_at <= clock_timestamp() "
                        "ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED");
    if (!row)
        return fail(row.error());
    if (row->rowCount() == 0) {
        if (auto r = db.commit(); !r)
            return r.error();
        return Delivery::Nothing;
    }
    const std::string id(row->value(0, 0));
    const int attempts = static_cast<int>(toInt(row->value(0, 4))) + 1;
    std::string retryAfter;
    auto status = send(std::string(row->value(0, 1)), std::string(row->value(0, 2)),
                       std::string(row->value(0, 3)), retryAfter);
    auto &m = Metrics::get();
    Delivery outcome;
    Result<pg::Rows> u = pg::Rows();
    if (status && *status >= 200 && *status < 300) {
        outcome = Delivery::Delivered;
        u = db.query("UPDATE alert_notifications SET status = 'delivered', attempts = $2::int, "
                     "last_status = $3::int, last_error = NULL, delivered_at = clock_timestamp() "
                     "WHERE id = $1::bigint",
                     {id, std::to_string(attempts), std::to_string(*status)});
    } else {
        const bool permanent =
            status && *status >= 400 && *status < 500 && *status != 408 && *status != 429;
        const std::string error =
            status ? "HTTP " + std::to_string(*status) : status.error().message;
        pg::Param code;
        if (status)
            code = std::to_string(*status);
        if (permanent || attempts >= o.maxAttempts) {
            outcome = Delivery::Failed;
            u = db.query("UPDATE alert_notifications SET status = 'failed', attempts = $2::int, "
                         "last_status = $3::int, last_error = left($4, 1000) "
                         "WHERE id = $1::bigint",
                         {id, std::to_string(attempts), code, error});
        } else {
            outcome = Delivery::Retry;
            // retryInitial * 2^(attempts-1), capped; a longer Retry-After (seconds) wins.
            std::int64_t waitMs = o.retryInitial.count();
            for (int i = 1; i < attempts && waitMs < o.retryMax.count(); ++i)
                waitMs *= 2;
            waitMs = std::min<std::int64_t>(waitMs, o.retryMax.count());
            if (std::int64_t s = toInt(retryAfter); s > 0)
                waitMs =
                    std::max<std::int64_t>(waitMs, std::min<std::int64_t>(s * 1000, 3'600'000));
            u = db.query("UPDATE alert_notifications SET attempts = $2::int, last_status = "
                         "$3::int, last_error = left($4, 1000), next_attempt_at = "
                         "clock_timestamp() + $5::bigint * interval '1 millisecond' "
                         "WHERE id = $1::bigint",
                         {id, std::to_string(attempts), code, error, std::to_string(waitMs)});
        }
    }
    if (!u)
        return fail(u.error());
    if (auto r = db.commit(); !r)
        return r.error();
    (outcome == Delivery::Delivered ? m.delivered
     : outcome == Delivery::Retry   ? m.retry
                                    : m.failed)
        .inc();
    return outcome;
}

} // namespace idl::alerter
