#pragma once

#include "idl/console/histogram_data.h"

#include <QChartView>

class QRubberBand;
class QDateTimeAxis;
class QValueAxis;

namespace idl::console::ui {

// Event counts over time, stacked by level (or app), drawn as a stepped area chart with Qt
// Charts. Drag horizontally to select a time range (rangeSelected), double-click to ask for
// the previous range back (zoomOutRequested). Hover shows the bucket's counts.
class HistogramView : public QChartView
{
    Q_OBJECT
public:
    explicit HistogramView(QWidget *parent = nullptr);

    void setData(const HistogramData &data);
    const HistogramData &data() const { return m_data; }
    // Shows a short text instead of the chart (loading, no data, error).
    void setPlaceholder(const QString &text);

    QSize sizeHint() const override { return {600, 170}; }

Q_SIGNALS:
    void rangeSelected(qint64 fromNs, qint64 toNs);
    void zoomOutRequested();

protected:
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void mouseDoubleClickEvent(QMouseEvent *event) override;
    void changeEvent(QEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;

private:
    void rebuild();
    qint64 nsAt(int x) const;

    HistogramData m_data;
    QString m_placeholder;
    QRubberBand *m_band = nullptr;
    int m_pressX = -1;
};

// Colour of a series key: a level's colour, or a stable palette colour for apps.
QColor seriesColour(const QString &key, int index, bool dark);

} // namespace idl::console::ui
