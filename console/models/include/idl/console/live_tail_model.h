#pragma once

#include "idl/console/log_row.h"

#include <QAbstractTableModel>
#include <QElapsedTimer>
#include <QList>
#include <QRegularExpression>
#include <QTimer>

#include <vector>

namespace idl::console {

// A rule that paints tail rows whose message (or app/host) contains a text.
struct HighlightRule
{
    QString text;  // case-insensitive substring
    QColor colour; // background
    bool operator==(const HighlightRule &) const = default;
};

// Table model of a live tail over a bounded ring buffer (default 100 000 rows; the oldest
// rows fall out). Incoming events are buffered and applied in batches by a timer (default
// every 50 ms) as one remove-from-top plus one insert-at-bottom, so a view stays responsive
// at tens of thousands of events per second. While paused, events keep arriving into the
// pending buffer (bounded by the capacity; what falls out is counted in localDropped()).
// Lives in the GUI thread.
class LiveTailModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { TimeColumn, LevelColumn, AppColumn, HostColumn, MessageColumn, ColumnCount };
    // LevelRole: int(idl::Level); RowJsonRole: the full row as QJsonObject.
    enum Role { LevelRole = Qt::UserRole + 1, RowJsonRole };

    explicit LiveTailModel(QObject *parent = nullptr);

    // Ring buffer size in rows (≥ 1). Shrinking drops the oldest rows.
    void setCapacity(int rows);
    int capacity() const { return m_capacity; }
    // How often pending events are applied to the model.
    void setBatchInterval(int ms);

    // Queues events; they appear at the next batch (or flush()).
    void append(QList<LogRow> rows);
    // Applies pending events now (unless paused).
    void flush();
    // Removes every row and pending event; counters stay.
    void clear();
    // Resets the counters.
    void resetCounters();

    void setPaused(bool paused);
    bool isPaused() const { return m_paused; }

    // Adds events the server reported as dropped (slow client).
    void addServerDropped(qint64 n);

    // The row at a model row (0 = oldest kept).
    const LogRow &rowAt(int row) const;

    qint64 totalReceived() const { return m_totalReceived; }
    qint64 serverDropped() const { return m_serverDropped; }
    qint64 localDropped() const { return m_localDropped; }
    int pendingCount() const { return static_cast<int>(m_pending.size()); }
    // Events received per second, measured over the last second.
    double ratePerSecond() const { return m_rate; }

    void setHighlightRules(QList<HighlightRule> rules);
    const QList<HighlightRule> &highlightRules() const { return m_rules; }
    // Chooses level colours for a dark or light palette.
    void setDarkTheme(bool dark);
    // Show times in UTC instead of local time.
    void setUtc(bool utc);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    // A batch was applied: `added` rows at the bottom, `removed` rows from the top.
    void batchApplied(int added, int removed);
    // Counters or the rate changed (at most once per batch / second).
    void countersChanged();

private:
    int physical(int row) const;
    void updateRate();

    std::vector<LogRow> m_buffer;
    int m_head = 0; // physical index of row 0
    int m_size = 0;
    int m_capacity = 100'000;
    std::vector<LogRow> m_pending;
    bool m_paused = false;
    bool m_dark = false;
    bool m_utc = false;
    QList<HighlightRule> m_rules;
    QTimer m_batchTimer;
    QTimer m_rateTimer;
    QElapsedTimer m_rateClock;
    qint64 m_totalReceived = 0;
    qint64 m_receivedAtLastRate = 0;
    qint64 m_serverDropped = 0;
    qint64 m_localDropped = 0;
    double m_rate = 0;
    bool m_countersDirty = false;
};

} // namespace idl::console
