#include "idl/alerter/alerter_config.h"

namespace idl::alerter {

void declareSettings(Config &c)
{
    auto s = [](const char *text) { return QString::fromUtf8(text); };
    c.addSecret(s("pg.dsn"), s("dbname=idl"),
                s("PostgreSQL connection string (libpq keywords or URI)"));
    c.addBool(s("pg.migrate"), true,
              s("Apply the schema migrations at start (under an advisory lock)"));
    c.addDuration(s("pg.statement-timeout"), s("10s"),
                  s("Longest count statement of one rule (a rule that takes longer fails "
                    "this evaluation and is tried again after its interval)"));
    c.addInt(s("eval.threads"), 2,
             s("Evaluator threads, each with its own PostgreSQL connection; instances and "
               "threads share the due rules through row locks (FOR UPDATE SKIP LOCKED)"),
             1, 64);
    c.addInt(s("eval.batch"), 50, s("Rules claimed and evaluated per transaction"), 1, 10000);
    c.addInt(s("eval.max-series"), 500,
             s("Series counted per grouped rule and statement (the largest ones)"), 1, 100000);
    c.addDuration(s("eval.poll"), s("500ms"),
                  s("Wait between passes when no rule is due (and between outbox polls)"));
    c.addInt(s("notify.threads"), 2, s("Threads posting notifications"), 1, 64);
    c.addInt(s("notify.max-attempts"), 8,
             s("A notification is marked failed after this many attempts"), 1, 1000);
    c.addDuration(s("notify.timeout"), s("10s"), s("Longest webhook POST (connect to reply)"));
    c.addDuration(s("notify.retry-initial"), s("1s"),
                  s("Back-off after the first failed attempt (doubles per attempt)"));
    c.addDuration(s("notify.retry-max"), s("5m"), s("Longest back-off between attempts"));
    c.addString(s("notify.ca-file"), QString(),
                s("PEM file of the CAs trusted for https:// targets (empty: the system's)"));
    c.addString(s("notify.channel"), s("idl_alerts"),
                s("PostgreSQL NOTIFY channel of alert state changes (the gateway listens)"));
    c.addString(s("http.address"), s("127.0.0.1"),
                s("Address of the ops endpoints (/healthz, /readyz, /metrics)"));
    c.addInt(s("http.port"), 9104, s("Port of the ops endpoints (0: any free port)"), 0, 65535);
    c.addSecret(s("metrics.token"), QString(),
                s("Bearer token required by /metrics (empty: none)"));
}

Result<AlerterSettings> optionsFromConfig(const Config &c)
{
    auto s = [](const char *text) { return QString::fromUtf8(text); };
    AlerterSettings out;
    AlerterOptions &a = out.alerter;
    a.pgDsn = c.string(s("pg.dsn")).toStdString();
    a.migrate = c.boolean(s("pg.migrate"));
    a.statementTimeout = c.duration(s("pg.statement-timeout"));
    a.evaluators = static_cast<int>(c.integer(s("eval.threads")));
    a.batch = static_cast<int>(c.integer(s("eval.batch")));
    a.maxSeries = static_cast<int>(c.integer(s("eval.max-series")));
    a.poll = c.duration(s("eval.poll"));
    a.senders = static_cast<int>(c.integer(s("notify.threads")));
    a.maxAttempts = static_cast<int>(c.integer(s("notify.max-attempts")));
    a.httpTimeout = c.duration(s("notify.timeout"));
    a.retryInitial = c.duration(s("notify.retry-initial"));
    a.retryMax = c.duration(s("notify.retry-max"));
    a.caFile = c.string(s("notify.ca-file")).toStdString();
    a.channel = c.string(s("notify.channel")).toStdString();
    if (a.poll.count() <= 0)
        return makeError(ErrorCode::BadField, "eval.poll must be > 0");
    if (a.retryInitial.count() <= 0 || a.retryMax < a.retryInitial)
        return makeError(ErrorCode::BadField,
                         "notify.retry-initial must be > 0 and <= notify.retry-max");
    if (a.httpTimeout.count() <= 0 || a.statementTimeout.count() <= 0)
        return makeError(ErrorCode::BadField, "timeouts must be > 0");
    if (a.channel.empty())
        return makeError(ErrorCode::BadField, "notify.channel must not be empty");
    out.httpAddress = c.string(s("http.address")).toStdString();
    out.httpPort = static_cast<int>(c.integer(s("http.port")));
    out.metricsToken = c.string(s("metrics.token")).toStdString();
    return out;
}

} // namespace idl::alerter
