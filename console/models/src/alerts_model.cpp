#include "idl/console/alerts_model.h"

#include "idl/console/dead_letters_model.h"
#include "idl/console/log_row.h"
#include "idl/core/config.h"

#include <QColor>
#include <QJsonArray>

#include <algorithm>

namespace idl::console {
namespace {

QString q(const std::string &text)
{
    return QString::fromStdString(text);
}

} // namespace

QString formatDurationMs(qint64 ms)
{
    if (ms <= 0)
        return QStringLiteral("0s");
    struct Unit
    {
        qint64 ms;
        const char *suffix;
    };
    static const Unit units[] = {{86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}};
    for (const Unit &u : units)
        if (ms % u.ms == 0)
            return QString::number(ms / u.ms) + QLatin1String(u.suffix);
    return QString::number(ms) + QStringLiteral("ms");
}

std::optional<qint64> parseDurationMs(const QString &text)
{
    auto d = Config::parseDuration(text);
    if (!d)
        return std::nullopt;
    return static_cast<qint64>(d->count());
}

QString seriesLabel(const std::string &series)
{
    return series.empty() ? AlertRulesModel::tr("(all)") : q(series);
}

QString changeText(const AlertChange &c)
{
    if (c.fromState == "firing" && c.toState == "ok")
        return AlertHistoryModel::tr("resolved");
    return QStringLiteral("%1 → %2").arg(q(c.fromState), q(c.toState));
}

QString conditionText(const AlertRuleDraft &r)
{
    const QString window = formatDurationMs(r.windowMs);
    QString text;
    if (r.condition == "absent")
        text = AlertRulesModel::tr("no events in %1").arg(window);
    else if (r.condition == "below")
        text = AlertRulesModel::tr("count < %1 in %2").arg(r.threshold).arg(window);
    else
        text = AlertRulesModel::tr("count > %1 in %2").arg(r.threshold).arg(window);
    if (!r.groupBy.empty())
        text += AlertRulesModel::tr(", per %1").arg(q(r.groupBy));
    return text;
}

// --- AlertRulesModel

AlertRulesModel::AlertRulesModel(GatewayClient *client, QObject *parent)
    : QAbstractTableModel(parent), m_client(client)
{}

void AlertRulesModel::refresh()
{
    if (!m_client)
        return;
    GatewayReply *r = m_client->send(protocol::AlertsRulesList{});
    connect(r, &GatewayReply::finished, this, [this](const QJsonObject &msg) {
        beginResetModel();
        m_items.clear();
        for (const auto &v : msg.value(QLatin1String("items")).toArray())
            m_items.append(protocol::alertRuleFromJson(v.toObject()));
        endResetModel();
        Q_EMIT refreshed();
    });
    connect(r, &GatewayReply::failed, this, &AlertRulesModel::failed);
}

void AlertRulesModel::fetch(const QString &uuid, Callback done)
{
    if (!m_client)
        return;
    GatewayReply *r = m_client->send(protocol::AlertsRulesGet{uuid.toStdString()});
    connect(r, &GatewayReply::finished, this, [this, done](const QJsonObject &msg) {
        const AlertRule rule =
            protocol::alertRuleFromJson(msg.value(QLatin1String("rule")).toObject());
        upsert(rule);
        done(&rule, nullptr);
    });
    connect(r, &GatewayReply::failed, this, [done](const GatewayError &e) { done(nullptr, &e); });
}

void AlertRulesModel::save(const AlertRuleDraft &rule, Callback done)
{
    if (!m_client)
        return;
    GatewayReply *r = m_client->send(protocol::AlertsRulesPut{rule});
    connect(r, &GatewayReply::finished, this, [this, done](const QJsonObject &msg) {
        const AlertRule stored =
            protocol::alertRuleFromJson(msg.value(QLatin1String("rule")).toObject());
        upsert(stored);
        if (done)
            done(&stored, nullptr);
    });
    connect(r, &GatewayReply::failed, this, [this, done](const GatewayError &e) {
        if (done)
            done(nullptr, &e);
        Q_EMIT failed(e);
    });
}

void AlertRulesModel::remove(const QString &uuid, std::function<void(const GatewayError *)> done)
{
    if (!m_client)
        return;
    GatewayReply *r = m_client->send(protocol::AlertsRulesDelete{uuid.toStdString()});
    connect(r, &GatewayReply::finished, this, [this, uuid, done](const QJsonObject &) {
        const int row = indexOf(uuid);
        if (row >= 0) {
            beginRemoveRows({}, row, row);
            m_items.removeAt(row);
            endRemoveRows();
        }
        if (done)
            done(nullptr);
    });
    connect(r, &GatewayReply::failed, this, [this, done](const GatewayError &e) {
        if (done)
            done(&e);
        Q_EMIT failed(e);
    });
}

void AlertRulesModel::test(const AlertRuleDraft &rule, qint64 windows, TestCallback done)
{
    if (!m_client)
        return;
    protocol::AlertsRulesTest req;
    req.rule = rule;
    req.windows = std::clamp<qint64>(windows, 1, protocol::kAlertMaxTestWindows);
    GatewayReply *r = m_client->send(req);
    connect(r, &GatewayReply::finished, this, [done](const QJsonObject &msg) {
        const AlertTestResult result = protocol::alertTestResultFromJson(msg);
        done(&result, nullptr);
    });
    connect(r, &GatewayReply::failed, this, [done](const GatewayError &e) { done(nullptr, &e); });
}

int AlertRulesModel::indexOf(const QString &uuid) const
{
    for (int i = 0; i < m_items.size(); ++i)
        if (q(m_items[i].rule.uuid) == uuid)
            return i;
    return -1;
}

void AlertRulesModel::upsert(const AlertRule &rule)
{
    const int row = indexOf(q(rule.rule.uuid));
    if (row >= 0) {
        m_items[row] = rule;
        Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
        return;
    }
    // Sorted by name, as the gateway lists them.
    const auto it = std::lower_bound(
        m_items.begin(), m_items.end(), rule,
        [](const AlertRule &a, const AlertRule &b) { return a.rule.name < b.rule.name; });
    const int at = static_cast<int>(it - m_items.begin());
    beginInsertRows({}, at, at);
    m_items.insert(at, rule);
    endInsertRows();
}

int AlertRulesModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_items.size());
}

int AlertRulesModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant AlertRulesModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_items.size())
        return {};
    const AlertRule &a = m_items.at(index.row());
    const AlertRuleDraft &r = a.rule;
    if (role == Qt::ToolTipRole) {
        switch (index.column()) {
        case NameCol:
            return plainTextToolTip(r.q.empty() ? tr("every event") : q(r.q));
        case LastErrorCol:
            return plainTextToolTip(q(a.lastError));
        default:
            return {};
        }
    }
    if (role == Qt::ForegroundRole && !r.enabled)
        return QColor(Qt::gray);
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case NameCol:
        if (!r.enabled)
            return tr("%1 (disabled)").arg(q(r.name));
        return r.shared ? tr("%1 (shared)").arg(q(r.name)) : q(r.name);
    case ConditionCol:
        return conditionText(r);
    case SeverityCol:
        return q(r.severity);
    case EnabledCol:
        return r.enabled ? tr("on") : tr("off");
    case OwnerCol:
        return q(a.owner);
    case LastErrorCol:
        return q(a.lastError);
    default:
        return {};
    }
}

QVariant AlertRulesModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameCol:
        return tr("Rule");
    case ConditionCol:
        return tr("Condition");
    case SeverityCol:
        return tr("Severity");
    case EnabledCol:
        return tr("Enabled");
    case OwnerCol:
        return tr("Owner");
    case LastErrorCol:
        return tr("Last error");
    default:
        return {};
    }
}

// --- FiringAlertsModel

FiringAlertsModel::FiringAlertsModel(GatewayClient *client, QObject *parent)
    : QAbstractTableModel(parent), m_client(client)
{}

void FiringAlertsModel::refresh()
{
    if (!m_client || m_reply)
        return;
    GatewayReply *r = m_client->send(protocol::AlertsFiring{});
    m_reply = r;
    connect(r, &GatewayReply::finished, this, [this](const QJsonObject &msg) {
        m_reply = nullptr;
        beginResetModel();
        m_items.clear();
        for (const auto &v : msg.value(QLatin1String("items")).toArray())
            m_items.append(protocol::alertSeriesFromJson(v.toObject()));
        std::stable_sort(
            m_items.begin(), m_items.end(),
            [](const AlertSeries &a, const AlertSeries &b) { return a.sinceNs > b.sinceNs; });
        endResetModel();
        Q_EMIT refreshed();
    });
    connect(r, &GatewayReply::failed, this, [this](const GatewayError &e) {
        m_reply = nullptr;
        Q_EMIT failed(e);
    });
}

void FiringAlertsModel::apply(const AlertChange &change)
{
    int row = -1;
    for (int i = 0; i < m_items.size(); ++i) {
        if (m_items[i].rule == change.rule && m_items[i].series == change.series) {
            row = i;
            break;
        }
    }
    if (change.toState == "ok") {
        if (row >= 0) {
            beginRemoveRows({}, row, row);
            m_items.removeAt(row);
            endRemoveRows();
        }
        return;
    }
    AlertSeries f;
    f.rule = change.rule;
    f.name = change.name;
    f.severity = change.severity;
    f.series = change.series;
    f.state = change.toState;
    f.value = change.value;
    f.sinceNs = change.atNs;
    f.evaluatedNs = change.atNs;
    if (row >= 0) {
        beginRemoveRows({}, row, row);
        m_items.removeAt(row);
        endRemoveRows();
    }
    beginInsertRows({}, 0, 0);
    m_items.prepend(f);
    endInsertRows();
}

int FiringAlertsModel::firingCount() const
{
    return static_cast<int>(std::count_if(
        m_items.begin(), m_items.end(), [](const AlertSeries &f) { return f.state == "firing"; }));
}

int FiringAlertsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_items.size());
}

int FiringAlertsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant FiringAlertsModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_items.size())
        return {};
    const AlertSeries &f = m_items.at(index.row());
    if (role == Qt::ToolTipRole && index.column() == SeriesCol)
        return plainTextToolTip(seriesLabel(f.series)); // an app or host name from the logs
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case SinceCol:
        return formatTime(f.sinceNs);
    case RuleCol:
        return q(f.name);
    case SeriesCol:
        return seriesLabel(f.series);
    case SeverityCol:
        return q(f.severity);
    case StateCol:
        return q(f.state);
    case ValueCol:
        return static_cast<qlonglong>(f.value);
    default:
        return {};
    }
}

QVariant FiringAlertsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case SinceCol:
        return tr("Since");
    case RuleCol:
        return tr("Rule");
    case SeriesCol:
        return tr("Series");
    case SeverityCol:
        return tr("Severity");
    case StateCol:
        return tr("State");
    case ValueCol:
        return tr("Count");
    default:
        return {};
    }
}

// --- AlertHistoryModel

AlertHistoryModel::AlertHistoryModel(GatewayClient *client, QObject *parent)
    : QAbstractTableModel(parent), m_client(client)
{}

void AlertHistoryModel::refresh(const QString &rule, qint64 limit)
{
    if (!m_client)
        return;
    if (m_reply)
        m_client->cancel(m_reply);
    m_rule = rule;
    m_limit = limit;
    protocol::AlertsHistory req;
    req.rule = rule.toStdString();
    req.limit = std::clamp<qint64>(limit, 1, protocol::kAlertMaxHistory);
    GatewayReply *r = m_client->send(req);
    m_reply = r;
    connect(r, &GatewayReply::finished, this, [this, r](const QJsonObject &msg) {
        if (r != m_reply)
            return;
        m_reply = nullptr;
        beginResetModel();
        m_items.clear();
        for (const auto &v : msg.value(QLatin1String("items")).toArray())
            m_items.append(protocol::alertChangeFromJson(v.toObject()));
        endResetModel();
        Q_EMIT refreshed();
    });
    connect(r, &GatewayReply::failed, this, [this, r](const GatewayError &e) {
        if (r == m_reply)
            m_reply = nullptr;
        Q_EMIT failed(e);
    });
}

void AlertHistoryModel::prepend(const AlertChange &change)
{
    if (!m_rule.isEmpty() && q(change.rule) != m_rule)
        return;
    beginInsertRows({}, 0, 0);
    m_items.prepend(change);
    endInsertRows();
    if (m_items.size() > m_limit) {
        const int last = static_cast<int>(m_items.size()) - 1;
        beginRemoveRows({}, last, last);
        m_items.removeLast();
        endRemoveRows();
    }
}

int AlertHistoryModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_items.size());
}

int AlertHistoryModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant AlertHistoryModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_items.size())
        return {};
    const AlertChange &c = m_items.at(index.row());
    if (role == Qt::ToolTipRole && index.column() == SeriesCol)
        return plainTextToolTip(seriesLabel(c.series));
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case AtCol:
        return formatTime(c.atNs);
    case RuleCol:
        return q(c.name);
    case SeriesCol:
        return seriesLabel(c.series);
    case ChangeCol:
        return changeText(c);
    case ValueCol:
        return static_cast<qlonglong>(c.value);
    default:
        return {};
    }
}

QVariant AlertHistoryModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case AtCol:
        return tr("At");
    case RuleCol:
        return tr("Rule");
    case SeriesCol:
        return tr("Series");
    case ChangeCol:
        return tr("Change");
    case ValueCol:
        return tr("Count");
    default:
        return {};
    }
}

// --- AlertWatch

AlertWatch::AlertWatch(GatewayClient *client, QObject *parent)
    : QObject(parent), m_client(client), m_firing(new FiringAlertsModel(client, this)),
      m_history(new AlertHistoryModel(client, this))
{
    qRegisterMetaType<idl::protocol::AlertChange>();
    connect(m_client, &GatewayClient::connected, this, [this] { m_firing->refresh(); });
    connect(m_client, &GatewayClient::pushed, this, &AlertWatch::onPush);
    const auto count = [this] {
        const int n = m_firing->firingCount();
        if (n != m_lastCount) {
            m_lastCount = n;
            Q_EMIT firingCountChanged(n);
        }
    };
    connect(m_firing, &QAbstractItemModel::modelReset, this, count);
    connect(m_firing, &QAbstractItemModel::rowsInserted, this, count);
    connect(m_firing, &QAbstractItemModel::rowsRemoved, this, count);
}

void AlertWatch::onPush(const QJsonObject &msg)
{
    if (msg.value(QLatin1String("type")).toString() != u"alert.state")
        return;
    const AlertChange change = protocol::alertChangeFromJson(msg);
    m_firing->apply(change);
    m_history->prepend(change);
    Q_EMIT stateChanged(change);
    if (change.toState == "firing" && m_notifier)
        m_notifier->alertFired(change);
}

} // namespace idl::console
