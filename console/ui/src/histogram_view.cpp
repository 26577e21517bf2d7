#include "idl/console/ui/histogram_view.h"

#include "idl/console/log_row.h"
#include "idl/console/ui/theme.h"

#include <QAreaSeries>
#include <QChart>
#include <QDateTime>
#include <QDateTimeAxis>
#include <QGraphicsSimpleTextItem>
#include <QLegendMarker>
#include <QLineSeries>
#include <QMouseEvent>
#include <QRubberBand>
#include <QToolTip>
#include <QValueAxis>

namespace idl::console::ui {

QColor seriesColour(const QString &key, int index, bool dark)
{
    if (auto level = levelFromText(key); level && key == levelText(*level))
        return levelColour(*level, dark);
    static const QColor palette[] = {
        QColor(0x3b, 0x7d, 0xd8), QColor(0xe0, 0x6c, 0x2f), QColor(0x2e, 0x9e, 0x5b),
        QColor(0x8e, 0x2d, 0xc8), QColor(0xd9, 0x3b, 0x3b), QColor(0x12, 0x9c, 0xa8),
        QColor(0xc4, 0x9a, 0x12), QColor(0x6b, 0x72, 0x80), QColor(0xd0, 0x4f, 0x9a),
        QColor(0x55, 0x8b, 0x2f), QColor(0x9a, 0x6b, 0x3f)};
    if (key == u"_other")
        return dark ? QColor(0x80, 0x80, 0x80) : QColor(0xa0, 0xa0, 0xa0);
    QColor c = palette[index % static_cast<int>(std::size(palette))];
    return dark ? c.lighter(125) : c;
}

HistogramView::HistogramView(QWidget *parent) : QChartView(parent)
{
    setObjectName(QStringLiteral("histogram"));
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(120);
    setFrameShape(QFrame::NoFrame);
    setMouseTracking(true);
    setToolTip(tr("Drag to zoom into a time range; double-click to zoom out"));
    m_band = new QRubberBand(QRubberBand::Rectangle, viewport());
    rebuild();
}

void HistogramView::setData(const HistogramData &data)
{
    m_data = data;
    m_placeholder.clear();
    rebuild();
}

void HistogramView::setPlaceholder(const QString &text)
{
    m_placeholder = text;
    rebuild();
}

void HistogramView::rebuild()
{
    auto *chart = new QChart;
    chart->legend()->setAlignment(Qt::AlignRight);
    chart->legend()->setMarkerShape(QLegend::MarkerShapeRectangle);
    const bool dark = isDark(palette());
    const auto &buckets = m_data.buckets;
    if (!m_placeholder.isEmpty() || buckets.empty()) {
        chart->setTitle(m_placeholder.isEmpty() ? tr("No events in this range") : m_placeholder);
        chart->legend()->hide();
        setChart(chart);
        styleChart(chart, palette());
        QFont f = chart->titleFont();
        f.setPointSizeF(font().pointSizeF());
        chart->setTitleFont(f);
        chart->setTitleBrush(mutedText(palette()));
        return;
    }
    const qint64 bucketNs = qMax<qint64>(1, m_data.bucketMs) * 1'000'000;
    const QStringList keys = m_data.nonEmptyKeys();
    auto *axisX = new QDateTimeAxis;
    auto *axisY = new QValueAxis;
    const qint64 spanMs = (m_data.toNs - m_data.fromNs) / 1'000'000;
    axisX->setFormat(spanMs > 2 * 86'400'000LL ? QStringLiteral("MMM d")
                     : spanMs > 86'400'000LL   ? QStringLiteral("MMM d HH:mm")
                     : spanMs > 600'000        ? QStringLiteral("HH:mm")
                                               : QStringLiteral("HH:mm:ss"));
    axisX->setTickCount(qBound(3, width() / 110, 10));
    axisX->setRange(QDateTime::fromMSecsSinceEpoch(m_data.fromNs / 1'000'000),
                    QDateTime::fromMSecsSinceEpoch(m_data.toNs / 1'000'000));
    axisY->setLabelFormat(QStringLiteral("%d"));
    const qint64 maxY = qMax<qint64>(1, m_data.maxStacked());
    const NiceScale scale = niceScale(static_cast<double>(maxY), 4);
    axisY->setRange(0, scale.max);
    axisY->setTickCount(scale.ticks);
    chart->addAxis(axisX, Qt::AlignBottom);
    chart->addAxis(axisY, Qt::AlignLeft);

    // Stepped stacked areas: each bucket is a flat top over [t, t + width).
    std::vector<qint64> lower(buckets.size(), 0);
    for (int k = 0; k < keys.size(); ++k) {
        auto *upperLine = new QLineSeries;
        auto *lowerLine = new QLineSeries;
        QList<QPointF> up;
        QList<QPointF> lo;
        up.reserve(static_cast<qsizetype>(buckets.size()) * 2);
        lo.reserve(static_cast<qsizetype>(buckets.size()) * 2);
        for (size_t i = 0; i < buckets.size(); ++i) {
            const double x0 = static_cast<double>(buckets[i].tNs / 1'000'000);
            const double x1 = static_cast<double>((buckets[i].tNs + bucketNs) / 1'000'000);
            const qint64 base = lower[i];
            const qint64 top = base + buckets[i].counts.value(keys[k]);
            lo << QPointF(x0, static_cast<double>(base)) << QPointF(x1, static_cast<double>(base));
            up << QPointF(x0, static_cast<double>(top)) << QPointF(x1, static_cast<double>(top));
            lower[i] = top;
        }
        upperLine->replace(up);
        lowerLine->replace(lo);
        auto *area = new QAreaSeries(upperLine, lowerLine);
        area->setName(keys[k]);
        const QColor c = seriesColour(keys[k], k, dark);
        QColor fill = c;
        fill.setAlphaF(0.78f);
        area->setBrush(fill);
        area->setPen(QPen(c, 1));
        chart->addSeries(area);
        area->attachAxis(axisX);
        area->attachAxis(axisY);
    }
    setChart(chart);
    styleChart(chart, palette());
}

void HistogramView::changeEvent(QEvent *event)
{
    QChartView::changeEvent(event);
    if (event->type() == QEvent::PaletteChange)
        rebuild();
}

void HistogramView::resizeEvent(QResizeEvent *event)
{
    QChartView::resizeEvent(event);
    if (auto *axis = chart() ? qobject_cast<QDateTimeAxis *>(chart()->axes(Qt::Horizontal).value(0))
                             : nullptr)
        axis->setTickCount(qBound(3, width() / 110, 10));
}

qint64 HistogramView::nsAt(int x) const
{
    const QPointF scenePos = mapToScene(QPoint(x, 0));
    const QPointF chartPos = chart()->mapFromScene(scenePos);
    const QPointF value = chart()->mapToValue(chartPos);
    return static_cast<qint64>(value.x()) * 1'000'000;
}

void HistogramView::mousePressEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton && !m_data.buckets.empty()) {
        m_pressX = static_cast<int>(event->position().x());
        const QRectF plot = chart()->plotArea();
        m_band->setGeometry(
            QRect(m_pressX, static_cast<int>(plot.top()), 1, static_cast<int>(plot.height())));
        m_band->show();
        event->accept();
        return;
    }
    QChartView::mousePressEvent(event);
}

void HistogramView::mouseMoveEvent(QMouseEvent *event)
{
    const int x = static_cast<int>(event->position().x());
    if (m_pressX >= 0) {
        const QRectF plot = chart()->plotArea();
        const int left = qMax(static_cast<int>(plot.left()), qMin(m_pressX, x));
        const int right = qMin(static_cast<int>(plot.right()), qMax(m_pressX, x));
        m_band->setGeometry(QRect(left, static_cast<int>(plot.top()), qMax(1, right - left),
                                  static_cast<int>(plot.height())));
        event->accept();
        return;
    }
    if (!m_data.buckets.empty() && chart()->plotArea().contains(event->position())) {
        const qint64 ns = nsAt(x);
        const qint64 bucketNs = qMax<qint64>(1, m_data.bucketMs) * 1'000'000;
        for (const auto &b : m_data.buckets) {
            if (ns >= b.tNs && ns < b.tNs + bucketNs) {
                QString text = QStringLiteral("<b>%1</b>").arg(displayTime(b.tNs).left(19));
                qint64 total = 0;
                for (const auto &k : m_data.keys) {
                    const qint64 n = b.counts.value(k);
                    total += n;
                    if (n > 0)
                        text += QStringLiteral("<br>%1: %2").arg(k.toHtmlEscaped()).arg(n);
                }
                text += QStringLiteral("<br>total: %1").arg(total);
                QToolTip::showText(event->globalPosition().toPoint(), text, this);
                break;
            }
        }
    }
    QChartView::mouseMoveEvent(event);
}

void HistogramView::mouseReleaseEvent(QMouseEvent *event)
{
    if (m_pressX >= 0 && event->button() == Qt::LeftButton) {
        const int x = static_cast<int>(event->position().x());
        m_band->hide();
        const int a = qMin(m_pressX, x);
        const int b = qMax(m_pressX, x);
        m_pressX = -1;
        if (b - a >= 4) {
            const qint64 from = qMax(m_data.fromNs, nsAt(a));
            const qint64 to = qMin(m_data.toNs, nsAt(b));
            if (to > from)
                Q_EMIT rangeSelected(from, to);
        }
        event->accept();
        return;
    }
    QChartView::mouseReleaseEvent(event);
}

void HistogramView::mouseDoubleClickEvent(QMouseEvent *event)
{
    Q_EMIT zoomOutRequested();
    event->accept();
}

} // namespace idl::console::ui
