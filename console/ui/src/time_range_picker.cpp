#include "idl/console/ui/time_range_picker.h"

#include "idl/console/ui/theme.h"

#include <QDateTimeEdit>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QMenu>
#include <QPushButton>

namespace idl::console::ui {

TimeRangePicker::TimeRangePicker(QWidget *parent) : QToolButton(parent)
{
    setObjectName(QStringLiteral("timeRangePicker"));
    setPopupMode(QToolButton::InstantPopup);
    setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    setIcon(ui::icon(QStringLiteral("clock")));
    setToolTip(tr("Time range (Ctrl+R)"));
    auto *menu = new QMenu(this);
    for (const auto &preset : timeRangePresets()) {
        QAction *a = menu->addAction(preset.label);
        const QString from = preset.from;
        connect(a, &QAction::triggered, this, [this, from] {
            setRange(TimeRange{from, QStringLiteral("now")});
            Q_EMIT rangeChanged(m_range);
        });
    }
    menu->addSeparator();
    connect(menu->addAction(tr("Custom range…")), &QAction::triggered, this,
            &TimeRangePicker::pickCustom);
    setMenu(menu);
    setRange(m_range);
}

void TimeRangePicker::setRange(const TimeRange &range)
{
    m_range = range;
    setText(range.label());
}

void TimeRangePicker::pickCustom()
{
    CustomRangeDialog dialog(m_range, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    setRange(dialog.range());
    Q_EMIT rangeChanged(m_range);
}

CustomRangeDialog::CustomRangeDialog(const TimeRange &initial, QWidget *parent) : QDialog(parent)
{
    setWindowTitle(tr("Custom time range"));
    auto *form = new QFormLayout(this);
    m_from = new QDateTimeEdit(this);
    m_to = new QDateTimeEdit(this);
    for (QDateTimeEdit *e : {m_from, m_to}) {
        e->setCalendarPopup(true);
        e->setDisplayFormat(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
    }
    const auto r = initial.resolveNow();
    const qint64 now = nowNs();
    m_from->setDateTime(
        QDateTime::fromMSecsSinceEpoch((r ? r->first : now - 3'600'000'000'000LL) / 1'000'000));
    m_to->setDateTime(QDateTime::fromMSecsSinceEpoch((r ? r->second : now) / 1'000'000));
    form->addRow(tr("From"), m_from);
    form->addRow(tr("To"), m_to);
    auto *hint = new QLabel(tr("Local time. The range is half-open: from ≤ t < to."), this);
    hint->setStyleSheet(QStringLiteral("color: palette(mid);"));
    form->addRow(hint);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto validate = [this, buttons] {
        buttons->button(QDialogButtonBox::Ok)->setEnabled(m_from->dateTime() < m_to->dateTime());
    };
    connect(m_from, &QDateTimeEdit::dateTimeChanged, this, validate);
    connect(m_to, &QDateTimeEdit::dateTimeChanged, this, validate);
    form->addRow(buttons);
}

TimeRange CustomRangeDialog::range() const
{
    return TimeRange::absolute(m_from->dateTime().toMSecsSinceEpoch() * 1'000'000,
                               m_to->dateTime().toMSecsSinceEpoch() * 1'000'000);
}

} // namespace idl::console::ui
