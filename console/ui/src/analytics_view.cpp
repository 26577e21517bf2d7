#include "idl/console/ui/analytics_view.h"

#include "idl/console/gateway_client.h"
#include "idl/console/log_row.h"
#include "idl/console/ui/console_context.h"
#include "idl/console/ui/histogram_view.h"
#include "idl/console/ui/inline_message.h"
#include "idl/console/ui/query_edit.h"
#include "idl/console/ui/theme.h"
#include "idl/console/ui/time_range_picker.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDateTime>
#include <QDateTimeAxis>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHorizontalBarSeries>
#include <QLabel>
#include <QLineSeries>
#include <QLocale>
#include <QPieSeries>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>
#include <QValueAxis>

namespace idl::console::ui {

namespace {

QChartView *makeChartView(const QString &title, const QString &name, QWidget *parent)
{
    auto *v = new QChartView(parent);
    v->setObjectName(name);
    v->setRenderHint(QPainter::Antialiasing);
    v->setMinimumSize(300, 220);
    v->setProperty("baseTitle", title);
    auto *chart = new QChart;
    chart->setTitle(title);
    v->setChart(chart);
    return v;
}

QChart *freshChart(QChartView *view)
{
    const QString title = view->property("baseTitle").toString();
    auto *chart = new QChart;
    chart->setTitle(title);
    QFont f = chart->titleFont();
    f.setBold(true);
    chart->setTitleFont(f);
    view->setChart(chart);
    return chart;
}

} // namespace

AnalyticsView::AnalyticsView(ConsoleContext *context, QWidget *parent)
    : QWidget(parent), m_context(context)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 8, 8, 8);
    auto *bar = new QHBoxLayout;
    m_filter = new QueryEdit(this);
    m_filter->setPlaceholderText(
        tr("Optional filter for every chart, e.g. app:check* -host:web-9"));
    m_filter->setKnownValues(context->knownApps(), context->knownHosts());
    m_range = new TimeRangePicker(this);
    m_range->setRange(TimeRange{QStringLiteral("-1h"), QStringLiteral("now")});
    auto *refreshButton = new QPushButton(icon(QStringLiteral("refresh")), tr("Refresh"), this);
    refreshButton->setToolTip(tr("Refresh (F5)"));
    m_auto = new QComboBox(this);
    m_auto->setToolTip(tr("Automatic refresh"));
    m_auto->addItem(tr("Auto refresh: off"), 0);
    m_auto->addItem(tr("every 10 s"), 10);
    m_auto->addItem(tr("every 30 s"), 30);
    m_auto->addItem(tr("every minute"), 60);
    m_auto->addItem(tr("every 5 minutes"), 300);
    m_updated = new QLabel(this);
    bar->addWidget(m_filter, 1);
    bar->addWidget(m_range);
    bar->addWidget(refreshButton);
    bar->addWidget(m_auto);
    layout->addLayout(bar);
    auto *info = new QHBoxLayout;
    info->addStretch(1);
    info->addWidget(m_updated);
    layout->addLayout(info);
    m_message = new InlineMessage(this);
    layout->addWidget(m_message);

    auto *grid = new QGridLayout;
    grid->setSpacing(10);
    m_errorsOverTime =
        makeChartView(tr("Errors over time by app"), QStringLiteral("errorsOverTime"), this);
    m_topApps = makeChartView(tr("Top apps by errors"), QStringLiteral("topApps"), this);
    m_topHosts = makeChartView(tr("Top hosts by errors"), QStringLiteral("topHosts"), this);
    m_levels = makeChartView(tr("Level distribution"), QStringLiteral("levelDistribution"), this);
    grid->addWidget(m_errorsOverTime, 0, 0, 1, 2);
    grid->addWidget(m_levels, 0, 2);
    grid->addWidget(m_topApps, 1, 0, 1, 1);
    grid->addWidget(m_topHosts, 1, 1, 1, 2);
    grid->setColumnStretch(0, 1);
    grid->setColumnStretch(1, 1);
    grid->setColumnStretch(2, 1);
    layout->addLayout(grid, 1);

    m_timer = new QTimer(this);
    connect(m_timer, &QTimer::timeout, this, &AnalyticsView::refresh);
    connect(refreshButton, &QPushButton::clicked, this, &AnalyticsView::refresh);
    connect(m_filter, &QueryEdit::submitted, this, &AnalyticsView::refresh);
    connect(m_range, &TimeRangePicker::rangeChanged, this, &AnalyticsView::refresh);
    connect(m_auto, &QComboBox::currentIndexChanged, this,
            [this] { setAutoRefresh(m_auto->currentData().toInt()); });
    connect(context, &ConsoleContext::knownValuesChanged, this,
            [this] { m_filter->setKnownValues(m_context->knownApps(), m_context->knownHosts()); });
    connect(context, &ConsoleContext::themeChanged, this, [this] { applyTheme(); });
    applyTheme();
}

void AnalyticsView::setAutoRefresh(int seconds)
{
    if (seconds <= 0) {
        m_timer->stop();
    } else {
        m_timer->start(seconds * 1000);
    }
    const int idx = m_auto->findData(seconds);
    if (idx >= 0 && idx != m_auto->currentIndex())
        m_auto->setCurrentIndex(idx);
}

void AnalyticsView::setRange(const TimeRange &range)
{
    m_range->setRange(range);
}

void AnalyticsView::refresh()
{
    for (const auto &r : std::as_const(m_pending)) {
        if (r)
            m_context->client()->cancel(r);
    }
    m_pending.clear();
    m_completed = 0;
    m_message->hide();
    const auto range = m_range->range().resolveNow();
    if (!range)
        return;
    const QString filter = m_filter->text().trimmed();
    const auto withFilter = [&filter](const QString &q) {
        return filter.isEmpty() ? q : QStringLiteral("(%1) %2").arg(filter, q);
    };
    GatewayClient *client = m_context->client();
    const auto onFail = [this](const GatewayError &e) {
        m_message->showError(tr("Analytics: %1").arg(e.text()));
        partDone();
    };

    GatewayReply *errors =
        client->send(aggregateRequest(withFilter(QStringLiteral("level:>=error")), range->first,
                                      range->second, QStringLiteral("app"), 0, 8));
    connect(errors, &GatewayReply::finished, this, [this](const QJsonObject &msg) {
        setErrorsOverTime(HistogramData::fromJson(msg));
        partDone();
    });
    connect(errors, &GatewayReply::failed, this, onFail);

    GatewayReply *levels = client->send(
        aggregateRequest(filter, range->first, range->second, QStringLiteral("level")));
    connect(levels, &GatewayReply::finished, this, [this](const QJsonObject &msg) {
        setLevels(HistogramData::fromJson(msg));
        partDone();
    });
    connect(levels, &GatewayReply::failed, this, onFail);

    for (const QString &field : {QStringLiteral("app"), QStringLiteral("host")}) {
        protocol::Top request;
        request.field = field.toStdString();
        request.q = withFilter(QStringLiteral("level:>=error")).toStdString();
        request.range = {std::to_string(range->first), std::to_string(range->second)};
        request.limit = 8;
        GatewayReply *top = client->send(request);
        connect(top, &GatewayReply::finished, this, [this, field](const QJsonObject &msg) {
            const auto items = topItemsFromJson(msg);
            if (field == u"app")
                m_lastApps = items;
            else
                m_lastHosts = items;
            setTop(field == u"app" ? m_topApps : m_topHosts, field, items);
            partDone();
        });
        connect(top, &GatewayReply::failed, this, onFail);
        m_pending << top;
    }
    m_pending << errors << levels;
}

void AnalyticsView::partDone()
{
    ++m_completed;
    if (m_completed == 4) {
        m_updated->setText(
            tr("Updated %1").arg(QTime::currentTime().toString(QStringLiteral("HH:mm:ss"))));
        Q_EMIT refreshed();
    }
}

void AnalyticsView::applyTheme()
{
    setErrorsOverTime(m_lastErrors);
    setLevels(m_lastLevels);
    setTop(m_topApps, QStringLiteral("app"), m_lastApps);
    setTop(m_topHosts, QStringLiteral("host"), m_lastHosts);
}

void AnalyticsView::setErrorsOverTime(const HistogramData &h)
{
    m_lastErrors = h;
    QChart *chart = freshChart(m_errorsOverTime);
    const bool dark = isDark(palette());
    chart->legend()->setAlignment(Qt::AlignBottom);
    auto *x = new QDateTimeAxis;
    auto *y = new QValueAxis;
    const qint64 spanMs = (h.toNs - h.fromNs) / 1'000'000;
    x->setFormat(spanMs > 2 * 86'400'000LL ? QStringLiteral("MMM d")
                 : spanMs > 86'400'000LL   ? QStringLiteral("MMM d HH:mm")
                                           : QStringLiteral("HH:mm"));
    x->setTickCount(7);
    y->setLabelFormat(QStringLiteral("%d"));
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    qint64 maxY = 1;
    const QStringList keys = h.nonEmptyKeys();
    for (int k = 0; k < keys.size(); ++k) {
        auto *s = new QLineSeries;
        s->setName(keys[k]);
        QList<QPointF> pts;
        for (const auto &b : h.buckets) {
            const qint64 n = b.counts.value(keys[k]);
            maxY = qMax(maxY, n);
            pts << QPointF(static_cast<double>(b.tNs / 1'000'000), static_cast<double>(n));
        }
        s->replace(pts);
        s->setPen(QPen(seriesColour(keys[k], k, dark), 2));
        chart->addSeries(s);
        s->attachAxis(x);
        s->attachAxis(y);
    }
    if (h.toNs > h.fromNs)
        x->setRange(QDateTime::fromMSecsSinceEpoch(h.fromNs / 1'000'000),
                    QDateTime::fromMSecsSinceEpoch(h.toNs / 1'000'000));
    const NiceScale scale = niceScale(static_cast<double>(maxY), 5);
    y->setRange(0, scale.max);
    y->setTickCount(scale.ticks);
    if (keys.isEmpty())
        chart->setTitle(tr("Errors over time by app — no errors in this range"));
    styleChart(chart, palette());
}

void AnalyticsView::setTop(QChartView *view, const QString &field, const QList<TopItem> &items)
{
    QChart *chart = freshChart(view);
    const bool dark = isDark(palette());
    chart->legend()->hide();
    auto *series = new QHorizontalBarSeries;
    auto *set = new QBarSet(tr("errors"));
    QStringList categories;
    qint64 maxX = 1;
    // Bars are drawn bottom-up: put the largest at the top.
    for (qsizetype i = items.size() - 1; i >= 0; --i) {
        *set << static_cast<double>(items[i].count);
        categories << items[i].value;
        maxX = qMax(maxX, items[i].count);
    }
    set->setColor(levelColour(Level::Error, dark));
    set->setBorderColor(levelColour(Level::Error, dark));
    set->setLabelColor(palette().color(QPalette::WindowText));
    series->append(set);
    series->setLabelsVisible(true);
    series->setLabelsPosition(QAbstractBarSeries::LabelsOutsideEnd);
    series->setBarWidth(0.65);
    chart->addSeries(series);
    auto *y = new QBarCategoryAxis;
    y->append(categories);
    auto *x = new QValueAxis;
    x->setLabelFormat(QStringLiteral("%d"));
    // Room right of the longest bar for its label, on round ticks.
    const NiceScale scale = niceScale(static_cast<double>(maxX) * 1.15, 4);
    x->setRange(0, scale.max);
    x->setTickCount(scale.ticks);
    chart->addAxis(y, Qt::AlignLeft);
    chart->addAxis(x, Qt::AlignBottom);
    series->attachAxis(y);
    series->attachAxis(x);
    connect(series, &QHorizontalBarSeries::clicked, this,
            [this, field, categories](int index, QBarSet *) {
                const QString value = categories.value(index);
                if (!value.isEmpty())
                    Q_EMIT queryRequested(QStringLiteral("%1:%2 level:>=error").arg(field, value),
                                          m_range->range());
            });
    if (items.isEmpty())
        chart->setTitle(chart->title() + tr(" — none"));
    styleChart(chart, palette());
}

void AnalyticsView::setLevels(const HistogramData &h)
{
    m_lastLevels = h;
    QChart *chart = freshChart(m_levels);
    const bool dark = isDark(palette());
    chart->legend()->setAlignment(Qt::AlignRight);
    auto *pie = new QPieSeries;
    pie->setHoleSize(0.5);
    const QLocale loc;
    qint64 total = 0;
    for (const QString &key : h.keys)
        total += h.totalFor(key);
    for (int i = 0; i < h.keys.size(); ++i) {
        const qint64 n = h.totalFor(h.keys[i]);
        if (n <= 0)
            continue;
        QPieSlice *slice = pie->append(
            QStringLiteral("%1 %2%").arg(h.keys[i]).arg(
                total > 0 ? 100.0 * static_cast<double>(n) / static_cast<double>(total) : 0.0, 0,
                'f', 1),
            static_cast<double>(n));
        slice->setColor(seriesColour(h.keys[i], i, dark));
        slice->setBorderColor(palette().color(QPalette::Base));
    }
    chart->addSeries(pie);
    styleChart(chart, palette());
    if (total == 0)
        chart->setTitle(tr("Level distribution — no events"));
    else
        chart->setTitle(tr("Level distribution (%1 events)").arg(loc.toString(total)));
}

} // namespace idl::console::ui
