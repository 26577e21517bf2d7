#pragma once

#include <QStyledItemDelegate>

namespace idl::console::ui {

// Paints the level column as a small coloured badge (colour from the model's ForegroundRole).
class LevelDelegate : public QStyledItemDelegate
{
    Q_OBJECT
public:
    using QStyledItemDelegate::QStyledItemDelegate;
    void paint(QPainter *painter, const QStyleOptionViewItem &option,
               const QModelIndex &index) const override;
    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override;
};

} // namespace idl::console::ui
