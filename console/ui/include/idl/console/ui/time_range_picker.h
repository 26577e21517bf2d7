#pragma once

#include "idl/console/time_range.h"

#include <QDialog>
#include <QToolButton>

class QDateTimeEdit;

namespace idl::console::ui {

// A button showing the current range ("Last 15 minutes"); its menu offers the presets and
// "Custom range…" (absolute from/to with date-time editors).
class TimeRangePicker : public QToolButton
{
    Q_OBJECT
public:
    explicit TimeRangePicker(QWidget *parent = nullptr);

    const TimeRange &range() const { return m_range; }
    void setRange(const TimeRange &range);

Q_SIGNALS:
    // The user picked a range.
    void rangeChanged(const idl::console::TimeRange &range);

private:
    void pickCustom();

    TimeRange m_range;
};

// The "Custom range" dialog: absolute from/to (local time, seconds).
class CustomRangeDialog : public QDialog
{
    Q_OBJECT
public:
    CustomRangeDialog(const TimeRange &initial, QWidget *parent = nullptr);
    TimeRange range() const;

private:
    QDateTimeEdit *m_from;
    QDateTimeEdit *m_to;
};

} // namespace idl::console::ui
