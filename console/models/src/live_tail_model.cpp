#include "idl/console/live_tail_model.h"

#include <QJsonObject>

namespace idl::console {

LiveTailModel::LiveTailModel(QObject *parent) : QAbstractTableModel(parent)
{
    m_batchTimer.setInterval(50);
    connect(&m_batchTimer, &QTimer::timeout, this, &LiveTailModel::flush);
    m_batchTimer.start();
    m_rateTimer.setInterval(1000);
    connect(&m_rateTimer, &QTimer::timeout, this, &LiveTailModel::updateRate);
    m_rateTimer.start();
    m_rateClock.start();
}

void LiveTailModel::setBatchInterval(int ms)
{
    m_batchTimer.setInterval(qMax(1, ms));
}

int LiveTailModel::physical(int row) const
{
    // Modulo the capacity: while the buffer is still growing, used slots never wrap.
    const int cap = m_capacity;
    const int p = m_head + row;
    return p >= cap ? p - cap : p;
}

const LogRow &LiveTailModel::rowAt(int row) const
{
    Q_ASSERT(row >= 0 && row < m_size);
    return m_buffer[static_cast<size_t>(physical(row))];
}

void LiveTailModel::setCapacity(int rows)
{
    rows = qMax(1, rows);
    if (rows == m_capacity)
        return;
    // Re-pack the kept rows (the newest `rows` of them) in order.
    beginResetModel();
    std::vector<LogRow> kept;
    const int keep = qMin(m_size, rows);
    kept.reserve(static_cast<size_t>(keep));
    for (int i = m_size - keep; i < m_size; ++i)
        kept.push_back(std::move(m_buffer[static_cast<size_t>(physical(i))]));
    m_buffer = std::move(kept);
    m_head = 0;
    m_size = keep;
    m_capacity = rows;
    endResetModel();
}

void LiveTailModel::append(QList<LogRow> rows)
{
    if (rows.isEmpty())
        return;
    m_totalReceived += rows.size();
    for (auto &r : rows)
        m_pending.push_back(std::move(r));
    // Bound the pending buffer: what could never be shown is dropped (and counted) now.
    const auto cap = static_cast<size_t>(m_capacity);
    if (m_pending.size() > 2 * cap) {
        const size_t excess = m_pending.size() - cap;
        m_pending.erase(m_pending.begin(), m_pending.begin() + static_cast<ptrdiff_t>(excess));
        if (m_paused)
            m_localDropped += static_cast<qint64>(excess);
    }
    m_countersDirty = true;
}

void LiveTailModel::flush()
{
    if (m_paused || m_pending.empty()) {
        if (m_countersDirty) {
            m_countersDirty = false;
            Q_EMIT countersChanged();
        }
        return;
    }
    const int cap = m_capacity;
    int n = static_cast<int>(m_pending.size());
    int removed = 0;
    if (n >= cap) {
        // The whole buffer is replaced by the newest `cap` events.
        const int skip = n - cap;
        beginResetModel();
        removed = m_size;
        m_buffer.clear();
        m_buffer.reserve(static_cast<size_t>(cap));
        for (int i = skip; i < n; ++i)
            m_buffer.push_back(std::move(m_pending[static_cast<size_t>(i)]));
        m_head = 0;
        m_size = cap;
        endResetModel();
        m_pending.clear();
        Q_EMIT batchApplied(cap, removed);
    } else {
        const int overflow = m_size + n - cap;
        if (overflow > 0) {
            beginRemoveRows({}, 0, overflow - 1);
            for (int i = 0; i < overflow; ++i)
                m_buffer[static_cast<size_t>(physical(i))] = LogRow{};
            m_head = physical(overflow);
            m_size -= overflow;
            removed = overflow;
            endRemoveRows();
        }
        beginInsertRows({}, m_size, m_size + n - 1);
        for (int i = 0; i < n; ++i) {
            LogRow &src = m_pending[static_cast<size_t>(i)];
            const auto slot = static_cast<size_t>(physical(m_size));
            if (slot == m_buffer.size())
                m_buffer.push_back(std::move(src));
            else
                m_buffer[slot] = std::move(src);
            ++m_size;
        }
        endInsertRows();
        m_pending.clear();
        Q_EMIT batchApplied(n, removed);
    }
    m_countersDirty = false;
    Q_EMIT countersChanged();
}

void LiveTailModel::clear()
{
    beginResetModel();
    m_buffer.clear();
    m_pending.clear();
    m_head = 0;
    m_size = 0;
    endResetModel();
    Q_EMIT countersChanged();
}

void LiveTailModel::resetCounters()
{
    m_totalReceived = 0;
    m_receivedAtLastRate = 0;
    m_serverDropped = 0;
    m_localDropped = 0;
    m_rate = 0;
    Q_EMIT countersChanged();
}

void LiveTailModel::setPaused(bool paused)
{
    if (m_paused == paused)
        return;
    m_paused = paused;
    if (!paused) {
        // Everything beyond the capacity would fall out at once: count it as dropped.
        const auto cap = static_cast<size_t>(m_capacity);
        if (m_pending.size() > cap)
            m_localDropped += static_cast<qint64>(m_pending.size() - cap);
        flush();
    }
    Q_EMIT countersChanged();
}

void LiveTailModel::addServerDropped(qint64 n)
{
    if (n <= 0)
        return;
    m_serverDropped += n;
    m_countersDirty = true;
}

void LiveTailModel::updateRate()
{
    const qint64 elapsed = m_rateClock.restart();
    const qint64 got = m_totalReceived - m_receivedAtLastRate;
    m_receivedAtLastRate = m_totalReceived;
    const double rate = elapsed > 0 ? got * 1000.0 / static_cast<double>(elapsed) : 0.0;
    if (rate != m_rate) {
        m_rate = rate;
        Q_EMIT countersChanged();
    }
}

void LiveTailModel::setHighlightRules(QList<HighlightRule> rules)
{
    m_rules = std::move(rules);
    if (m_size > 0)
        Q_EMIT dataChanged(index(0, 0), index(m_size - 1, ColumnCount - 1), {Qt::BackgroundRole});
}

void LiveTailModel::setDarkTheme(bool dark)
{
    if (m_dark == dark)
        return;
    m_dark = dark;
    if (m_size > 0)
        Q_EMIT dataChanged(index(0, LevelColumn), index(m_size - 1, LevelColumn),
                           {Qt::ForegroundRole});
}

void LiveTailModel::setUtc(bool utc)
{
    m_utc = utc;
    if (m_size > 0)
        Q_EMIT dataChanged(index(0, TimeColumn), index(m_size - 1, TimeColumn));
}

int LiveTailModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : m_size;
}

int LiveTailModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant LiveTailModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_size)
        return {};
    const LogRow &r = rowAt(index.row());
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case TimeColumn:
            return displayTime(r.tsNs, m_utc);
        case LevelColumn:
            return levelText(r.level);
        case AppColumn:
            return r.app;
        case HostColumn:
            return r.host;
        case MessageColumn:
            return r.message;
        default:
            return {};
        }
    case Qt::ToolTipRole:
        if (index.column() == MessageColumn)
            return plainTextToolTip(r.message);
        if (index.column() == TimeColumn)
            return rfc3339(r.tsNs);
        return {};
    case Qt::ForegroundRole:
        if (index.column() == LevelColumn)
            return levelColour(r.level, m_dark);
        return {};
    case Qt::BackgroundRole:
        for (const auto &rule : m_rules) {
            if (!rule.text.isEmpty() && (r.message.contains(rule.text, Qt::CaseInsensitive) ||
                                         r.app.compare(rule.text, Qt::CaseInsensitive) == 0 ||
                                         r.host.compare(rule.text, Qt::CaseInsensitive) == 0))
                return rule.colour;
        }
        return {};
    case LevelRole:
        return static_cast<int>(r.level);
    case RowJsonRole:
        return r.toJson();
    default:
        return {};
    }
}

QVariant LiveTailModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case TimeColumn:
        return tr("Time");
    case LevelColumn:
        return tr("Level");
    case AppColumn:
        return tr("App");
    case HostColumn:
        return tr("Host");
    case MessageColumn:
        return tr("Message");
    default:
        return {};
    }
}

} // namespace idl::console
