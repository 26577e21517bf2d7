#pragma once

#include "idl/console/gateway_client.h"
#include "idl/protocol/replies.h"
#include "idl/protocol/requests.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QPointer>
#include <QStringList>

#include <functional>
#include <optional>

namespace idl::console {

using protocol::AlertChange;
using protocol::AlertRule;
using protocol::AlertRuleDraft;
using protocol::AlertSeries;
using protocol::AlertTarget;
using protocol::AlertTestResult;

// "count > 50 in 5m", "no events in 10m", with ", per app" when grouped.
QString conditionText(const AlertRuleDraft &rule);
// A duration in milliseconds as the editor writes it ("5m", "90s", "1h", "250ms"): the
// largest unit that divides it exactly.
QString formatDurationMs(qint64 ms);
// "5m", "30s", "2h", "1d", "500ms" (idl::Config::parseDuration); nullopt when malformed.
std::optional<qint64> parseDurationMs(const QString &text);
// Display label of a series ("" reads "(all)").
QString seriesLabel(const std::string &series);
// The state change as a word: "resolved", "ok → pending", ...
QString changeText(const AlertChange &change);

// The rules visible to the user (own + shared within the token's scope), kept in sync with
// the gateway: refresh() lists them; save() and remove() change them on the server and then
// here; test() previews a rule (saved or not). GUI thread.
class AlertRulesModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        NameCol,
        ConditionCol,
        SeverityCol,
        EnabledCol,
        OwnerCol,
        LastErrorCol,
        ColumnCount
    };
    using Callback = std::function<void(const AlertRule *, const GatewayError *)>;
    using TestCallback = std::function<void(const AlertTestResult *, const GatewayError *)>;

    explicit AlertRulesModel(GatewayClient *client, QObject *parent = nullptr);

    void refresh();
    void fetch(const QString &uuid, Callback done);
    // Creates (no uuid) or replaces a rule.
    void save(const AlertRuleDraft &rule, Callback done = {});
    void remove(const QString &uuid, std::function<void(const GatewayError *)> done = {});
    // Counts the rule's series over its last `windows` windows (the rule need not be saved).
    void test(const AlertRuleDraft &rule, qint64 windows, TestCallback done);

    const QList<AlertRule> &items() const { return m_items; }
    const AlertRule &at(int row) const { return m_items.at(row); }
    int indexOf(const QString &uuid) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    void refreshed();
    void failed(const idl::console::GatewayError &error);

private:
    void upsert(const AlertRule &rule);

    QPointer<GatewayClient> m_client;
    QList<AlertRule> m_items;
};

// The series firing now (and pending ones, marked): listed by `alerts.firing` and kept
// current by `alert.state` pushes (apply()). Newest first. GUI thread.
class FiringAlertsModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { SinceCol, RuleCol, SeriesCol, SeverityCol, StateCol, ValueCol, ColumnCount };

    explicit FiringAlertsModel(GatewayClient *client, QObject *parent = nullptr);

    void refresh();
    // A state change pushed by the gateway: a series entering pending/firing is added or
    // updated, one going back to ok is removed.
    void apply(const AlertChange &change);

    const QList<AlertSeries> &items() const { return m_items; }
    const AlertSeries &at(int row) const { return m_items.at(row); }
    int firingCount() const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    void refreshed();
    void failed(const idl::console::GatewayError &error);

private:
    QPointer<GatewayClient> m_client;
    QList<AlertSeries> m_items;
    QPointer<GatewayReply> m_reply;
};

// State changes, newest first (`alerts.history`, optionally of one rule); pushes are
// prepended while they match the filter. GUI thread.
class AlertHistoryModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { AtCol, RuleCol, SeriesCol, ChangeCol, ValueCol, ColumnCount };

    explicit AlertHistoryModel(GatewayClient *client, QObject *parent = nullptr);

    // `rule` empty: every visible rule.
    void refresh(const QString &rule = {}, qint64 limit = 200);
    const QString &ruleFilter() const { return m_rule; }
    void prepend(const AlertChange &change);

    const QList<AlertChange> &items() const { return m_items; }
    const AlertChange &at(int row) const { return m_items.at(row); }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    void refreshed();
    void failed(const idl::console::GatewayError &error);

private:
    QPointer<GatewayClient> m_client;
    QList<AlertChange> m_items;
    QString m_rule;
    qint64 m_limit = 200;
    QPointer<GatewayReply> m_reply;
};

// Told when an alert starts firing while the console is connected (the UI shows a desktop
// notification; tests record the calls).
class AlertNotifier
{
public:
    virtual ~AlertNotifier() = default;
    virtual void alertFired(const AlertChange &change) = 0;
};

// Follows the alerts while connected: lists the firing ones on every (re)connection, applies
// the gateway's `alert.state` pushes to the firing list and the history, and tells the
// notifier when a series starts firing. GUI thread.
class AlertWatch : public QObject
{
    Q_OBJECT
public:
    explicit AlertWatch(GatewayClient *client, QObject *parent = nullptr);

    FiringAlertsModel *firing() const { return m_firing; }
    AlertHistoryModel *history() const { return m_history; }
    // Not owned; null: no notifications.
    void setNotifier(AlertNotifier *notifier) { m_notifier = notifier; }
    AlertNotifier *notifier() const { return m_notifier; }

Q_SIGNALS:
    void stateChanged(const idl::protocol::AlertChange &change);
    // The number of firing series changed.
    void firingCountChanged(int count);

private:
    void onPush(const QJsonObject &msg);

    GatewayClient *m_client;
    FiringAlertsModel *m_firing;
    AlertHistoryModel *m_history;
    AlertNotifier *m_notifier = nullptr;
    int m_lastCount = -1;
};

} // namespace idl::console

Q_DECLARE_METATYPE(idl::protocol::AlertChange)
