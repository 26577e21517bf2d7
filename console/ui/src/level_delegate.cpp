#include "idl/console/ui/level_delegate.h"

#include <QApplication>
#include <QPainter>

namespace idl::console::ui {

void LevelDelegate::paint(QPainter *painter, const QStyleOptionViewItem &option,
                          const QModelIndex &index) const
{
    QStyleOptionViewItem opt = option;
    initStyleOption(&opt, index);
    const QString text = opt.text.toUpper();
    opt.text.clear();
    const QWidget *w = opt.widget;
    QStyle *style = w ? w->style() : QApplication::style();
    style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, w);

    const QColor colour = index.data(Qt::ForegroundRole).value<QColor>();
    if (!colour.isValid() || text.isEmpty())
        return;
    QFont f = opt.font;
    f.setBold(true);
    f.setPointSizeF(f.pointSizeF() * 0.82);
    const QFontMetrics fm(f);
    const int h = qMin(opt.rect.height() - 4, fm.height() + 4);
    const int wBadge = fm.horizontalAdvance(text) + 12;
    QRect badge(opt.rect.left() + 4, opt.rect.center().y() - h / 2 + 1, wBadge, h);
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    const bool selected = opt.state & QStyle::State_Selected;
    QColor fill = selected ? opt.palette.color(QPalette::HighlightedText) : colour;
    fill.setAlphaF(selected ? 0.25f : 0.18f);
    painter->setPen(Qt::NoPen);
    painter->setBrush(fill);
    painter->drawRoundedRect(badge, h / 2.0, h / 2.0);
    painter->setPen(selected ? opt.palette.color(QPalette::HighlightedText) : colour);
    painter->setFont(f);
    painter->drawText(badge, Qt::AlignCenter, text);
    painter->restore();
}

QSize LevelDelegate::sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    QSize s = QStyledItemDelegate::sizeHint(option, index);
    s.setWidth(qMax(s.width() + 16, 64));
    return s;
}

} // namespace idl::console::ui
