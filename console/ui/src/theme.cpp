#include "idl/console/ui/theme.h"

#include <QApplication>
#include <QChart>
#include <QFontDatabase>
#include <QValueAxis>

// The icons live in a static library: register them before the first use.
static void initConsoleResources()
{
    Q_INIT_RESOURCE(console);
}

namespace idl::console::ui {

bool isDark(const QPalette &palette)
{
    return palette.color(QPalette::Window).lightness() <
           palette.color(QPalette::WindowText).lightness();
}

bool isDarkNow()
{
    return isDark(QApplication::palette());
}

QIcon icon(const QString &name)
{
    static const bool resourcesReady = [] {
        initConsoleResources();
        return true;
    }();
    Q_UNUSED(resourcesReady);
    return QIcon(QStringLiteral(":/console/icons/%1.svg").arg(name));
}

void styleChart(QChart *chart, const QPalette &palette)
{
    const bool dark = isDark(palette);
    chart->setTheme(dark ? QChart::ChartThemeDark : QChart::ChartThemeLight);
    chart->setBackgroundVisible(false);
    chart->setPlotAreaBackgroundVisible(false);
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->setBackgroundRoundness(0);
    const QColor text = palette.color(QPalette::WindowText);
    QColor grid = text;
    grid.setAlphaF(0.12f);
    QColor line = text;
    line.setAlphaF(0.35f);
    chart->setTitleBrush(text);
    chart->legend()->setLabelColor(text);
    for (QAbstractAxis *axis : chart->axes()) {
        axis->setLabelsColor(mutedText(palette));
        axis->setGridLineColor(grid);
        axis->setLinePenColor(line);
        axis->setTitleBrush(mutedText(palette));
        QFont f = axis->labelsFont();
        f.setPointSizeF(QApplication::font().pointSizeF() * 0.85);
        axis->setLabelsFont(f);
    }
}

QFont monospaceFont()
{
    QFont f = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    f.setPointSizeF(QApplication::font().pointSizeF());
    return f;
}

QColor mutedText(const QPalette &palette)
{
    QColor c = palette.color(QPalette::WindowText);
    c.setAlphaF(0.6f);
    return c;
}

} // namespace idl::console::ui
