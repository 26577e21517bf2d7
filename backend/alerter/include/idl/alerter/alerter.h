#pragma once

#include "idl/alerter/rule.h"
#include "idl/core/result.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace idl::pg {
class Connection;
}

namespace idl::alerter {

// What the evaluator and the notification sender do (idl-alerter's settings).
struct AlerterOptions
{
    std::string pgDsn = "dbname=idl";
    bool migrate = true;
    int evaluators = 2;  // threads (each with its own connection) claiming due rules
    int batch = 50;      // rules claimed per transaction
    int maxSeries = 500; // series per grouped rule
    int senders = 2;     // threads posting notifications
    int maxAttempts = 8; // a notification fails after this many attempts
    std::chrono::milliseconds poll{500};                // wait when nothing is due
    std::chrono::milliseconds statementTimeout{10'000}; // per count statement
    std::chrono::milliseconds httpTimeout{10'000};      // per webhook POST
    std::chrono::milliseconds retryInitial{1'000};      // first back-off, doubles
    std::chrono::milliseconds retryMax{300'000};        // longest back-off
    std::string caFile;                                 // TLS trust for https targets
    std::string channel = "idl_alerts";                 // LISTEN/NOTIFY channel of state changes
};

// What one evaluation pass did.
struct PassReport
{
    int evaluated = 0;     // rules evaluated (including failed ones)
    int failed = 0;        // rules whose evaluation failed (last_error set, retried next interval)
    int transitions = 0;   // series state changes stored
    int notifications = 0; // outbox rows written
};

// One evaluation pass at time nowNs, in one transaction: claims up to options.batch enabled
// rules with next_eval_at <= nowNs (SELECT .. FOR UPDATE SKIP LOCKED), counts each rule's
// series, moves their states (step()), and writes, in that same transaction, the new series
// states, one alert_history row per state change, one alert_notifications row per target for
// every change to or from firing, a pg_notify(channel, {"rule","history"}) per change, and
// the rule's next_eval_at = nowNs + interval. A rule whose evaluation fails (a savepoint is
// rolled back) gets last_error and is tried again after its interval.
Result<PassReport> evaluateDue(pg::Connection &db, const AlerterOptions &options,
                               std::int64_t nowNs);

// Posts a notification: (kind, url, payload) -> HTTP status, or a transport error.
using Sender = std::function<Result<int>(const std::string &kind, const std::string &url,
                                         const std::string &payload, std::string &retryAfter)>;
// The real sender: HTTP(S) POST of the payload as application/json (idl::http::Client).
Sender httpSender(const AlerterOptions &options);

// What one delivery step did.
enum class Delivery { Nothing, Delivered, Retry, Failed };

// Claims the oldest due pending notification (FOR UPDATE SKIP LOCKED), sends it and records
// the outcome in the same transaction: delivered (2xx); failed (a 4xx other than 408/429,
// or the last attempt); otherwise a retry after retryInitial * 2^(attempts-1), at most
// retryMax (or the receiver's Retry-After when longer).
Result<Delivery> deliverOne(pg::Connection &db, const AlerterOptions &options, const Sender &send);

// The webhook payloads of a state change (docs/alerts.md): the generic JSON object and the
// Slack-compatible {"text": ...}.
struct Transition
{
    std::int64_t historyId = 0;
    std::string series;
    State from = State::Ok;
    State to = State::Ok;
    std::int64_t value = 0;
    std::int64_t atNs = 0;
};
std::string webhookPayload(const Rule &rule, const Transition &t);
std::string slackPayload(const Rule &rule, const Transition &t);
std::string notificationText(const Rule &rule, const Transition &t);

// The service: evaluator and sender threads over their own connections. start() applies the
// migrations (when asked) and fails when PostgreSQL cannot be reached; stop() joins.
// Metrics: idl_alert_evaluations_total{result}, idl_alert_evaluation_seconds,
// idl_alert_evaluation_failures_total, idl_alert_transitions_total{to},
// idl_alert_notifications_total{result}.
class Alerter
{
public:
    explicit Alerter(AlerterOptions options);
    ~Alerter();
    Alerter(const Alerter &) = delete;
    Alerter &operator=(const Alerter &) = delete;

    Result<void> start();
    void stop();
    // Empty when ready, else why not (for /readyz).
    std::string notReadyReason() const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace idl::alerter
