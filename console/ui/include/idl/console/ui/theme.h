#pragma once

#include <QColor>
#include <QIcon>
#include <QPalette>

class QChart;
class QWidget;

namespace idl::console::ui {

// Whether a palette is dark (window colour darker than its text).
bool isDark(const QPalette &palette);
// Whether the application palette is dark right now.
bool isDarkNow();
// An icon from the console's resources (":/console/icons/NAME.svg").
QIcon icon(const QString &name);
// Styles a chart for the palette: transparent background, text and grid colours.
void styleChart(QChart *chart, const QPalette &palette);
// A monospace font for JSON and messages.
QFont monospaceFont();
// A muted text colour for secondary labels.
QColor mutedText(const QPalette &palette);

} // namespace idl::console::ui
