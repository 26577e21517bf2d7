#pragma once

#include "idl/console/histogram_data.h"
#include "idl/console/time_range.h"

#include <QPointer>
#include <QWidget>

class QChartView;
class QComboBox;
class QLabel;
class QTimer;

namespace idl::console {
class GatewayReply;
}

namespace idl::console::ui {

class ConsoleContext;
class InlineMessage;
class QueryEdit;
class TimeRangePicker;

// Analytics: errors over time per app (lines), top apps and top hosts by errors (bars),
// level distribution (donut), for a time range and an optional filter; refreshes itself
// every N seconds when asked.
class AnalyticsView : public QWidget
{
    Q_OBJECT
public:
    explicit AnalyticsView(ConsoleContext *context, QWidget *parent = nullptr);

    void refresh();
    // Auto refresh interval in seconds (0 = off).
    void setAutoRefresh(int seconds);
    void setRange(const TimeRange &range);
    // Requests answered since the last refresh() (for tests): 4 when complete.
    int completedParts() const { return m_completed; }

Q_SIGNALS:
    // The user clicked an app or host: open a query for its errors.
    void queryRequested(const QString &q, const idl::console::TimeRange &range);
    void refreshed();

private:
    void setErrorsOverTime(const HistogramData &h);
    void setTop(QChartView *view, const QString &field, const QList<TopItem> &items);
    void setLevels(const HistogramData &h);
    void partDone();
    void applyTheme();

    ConsoleContext *m_context;
    QueryEdit *m_filter;
    TimeRangePicker *m_range;
    QComboBox *m_auto;
    QLabel *m_updated;
    InlineMessage *m_message;
    QChartView *m_errorsOverTime;
    QChartView *m_topApps;
    QChartView *m_topHosts;
    QChartView *m_levels;
    QTimer *m_timer;
    QList<QPointer<GatewayReply>> m_pending;
    int m_completed = 0;
    HistogramData m_lastErrors;
    HistogramData m_lastLevels;
    QList<TopItem> m_lastApps;
    QList<TopItem> m_lastHosts;
};

} // namespace idl::console::ui
