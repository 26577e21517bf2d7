#include "idl/console/ui/saved_queries_panel.h"

#include "idl/console/ui/inline_message.h"
#include "idl/console/ui/theme.h"

#include <QApplication>
#include <QInputDialog>
#include <QLineEdit>
#include <QListView>
#include <QMenu>
#include <QMessageBox>
#include <QPainter>
#include <QSortFilterProxyModel>
#include <QStyledItemDelegate>
#include <QVBoxLayout>

namespace idl::console::ui {

namespace {

// Two lines per saved query: the name, then the query text and a "shared" tag, muted.
class SavedQueryDelegate : public QStyledItemDelegate
{
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    void paint(QPainter *p, const QStyleOptionViewItem &option,
               const QModelIndex &index) const override
    {
        QStyleOptionViewItem opt = option;
        initStyleOption(&opt, index);
        const QString name = opt.text;
        opt.text.clear();
        QStyle *style = opt.widget ? opt.widget->style() : QApplication::style();
        style->drawControl(QStyle::CE_ItemViewItem, &opt, p, opt.widget);
        const QRect r = opt.rect.adjusted(8, 4, -8, -4);
        const bool selected = opt.state & QStyle::State_Selected;
        const QColor text = selected ? opt.palette.color(QPalette::HighlightedText)
                                     : opt.palette.color(QPalette::Text);
        QColor muted = text;
        muted.setAlphaF(0.6f);
        p->save();
        QFont bold = opt.font;
        bold.setWeight(QFont::DemiBold);
        p->setFont(bold);
        p->setPen(text);
        const QFontMetrics fm(bold);
        QString tag;
        if (index.data(SavedQueriesModel::SharedRole).toBool())
            tag =
                QObject::tr("shared · %1").arg(index.data(SavedQueriesModel::OwnerRole).toString());
        QFont small = opt.font;
        small.setPointSizeF(opt.font.pointSizeF() * 0.88);
        const QFontMetrics sfm(small);
        const int tagWidth = tag.isEmpty() ? 0 : sfm.horizontalAdvance(tag) + 8;
        p->drawText(QRect(r.left(), r.top(), r.width() - tagWidth, fm.height()),
                    Qt::AlignLeft | Qt::AlignVCenter,
                    fm.elidedText(name, Qt::ElideRight, r.width() - tagWidth));
        p->setFont(small);
        p->setPen(muted);
        if (!tag.isEmpty())
            p->drawText(QRect(r.right() - tagWidth, r.top(), tagWidth, fm.height()),
                        Qt::AlignRight | Qt::AlignVCenter, tag);
        QString q = index.data(SavedQueriesModel::QueryRole).toString();
        if (q.isEmpty())
            q = QObject::tr("(everything)");
        p->setFont(monospaceFont());
        p->drawText(QRect(r.left(), r.top() + fm.height() + 2, r.width(), sfm.height() + 2),
                    Qt::AlignLeft | Qt::AlignVCenter,
                    QFontMetrics(monospaceFont()).elidedText(q, Qt::ElideRight, r.width()));
        p->restore();
    }

    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &) const override
    {
        const QFontMetrics fm(option.font);
        return {200, fm.height() * 2 + 14};
    }
};

} // namespace

SavedQueriesPanel::SavedQueriesPanel(SavedQueriesModel *model, QWidget *parent)
    : QWidget(parent), m_model(model), m_proxy(new QSortFilterProxyModel(this))
{
    setObjectName(QStringLiteral("savedQueriesPanel"));
    auto *l = new QVBoxLayout(this);
    l->setContentsMargins(6, 6, 6, 6);
    m_filter = new QLineEdit(this);
    m_filter->setPlaceholderText(tr("Filter saved queries"));
    m_filter->setClearButtonEnabled(true);
    l->addWidget(m_filter);
    m_message = new InlineMessage(this);
    l->addWidget(m_message);
    m_proxy->setSourceModel(model);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_list = new QListView(this);
    m_list->setModel(m_proxy);
    m_list->setItemDelegate(new SavedQueryDelegate(m_list));
    m_list->setContextMenuPolicy(Qt::CustomContextMenu);
    m_list->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_list->setUniformItemSizes(true);
    l->addWidget(m_list, 1);
    connect(m_filter, &QLineEdit::textChanged, m_proxy,
            &QSortFilterProxyModel::setFilterFixedString);
    connect(m_list, &QListView::doubleClicked, this,
            [this](const QModelIndex &idx) { Q_EMIT openRequested(queryAt(idx), false); });
    connect(m_list, &QWidget::customContextMenuRequested, this, &SavedQueriesPanel::showMenu);
    connect(model, &SavedQueriesModel::failed, this,
            [this](const GatewayError &e) { m_message->showError(e.text()); });
}

SavedQuery SavedQueriesPanel::queryAt(const QModelIndex &proxyIndex) const
{
    const QModelIndex src = m_proxy->mapToSource(proxyIndex);
    return src.isValid() ? m_model->at(src.row()) : SavedQuery{};
}

void SavedQueriesPanel::showMenu(const QPoint &pos)
{
    const QModelIndex idx = m_list->indexAt(pos);
    QMenu menu(this);
    if (idx.isValid()) {
        const SavedQuery q = queryAt(idx);
        menu.addAction(icon(QStringLiteral("play")), tr("Open"), this,
                       [this, q] { Q_EMIT openRequested(q, false); });
        menu.addAction(tr("Open in new tab"), this, [this, q] { Q_EMIT openRequested(q, true); });
        menu.addSeparator();
        menu.addAction(tr("Rename…"), this, [this, q] {
            bool ok = false;
            const QString name = QInputDialog::getText(this, tr("Rename saved query"), tr("Name:"),
                                                       QLineEdit::Normal, q.name, &ok);
            if (ok && !name.trimmed().isEmpty())
                m_model->rename(q.uuid, name.trimmed());
        });
        menu.addAction(q.shared ? tr("Stop sharing") : tr("Share with the team"), this,
                       [this, q] { m_model->setShared(q.uuid, !q.shared); });
        menu.addAction(tr("Delete"), this, [this, q] {
            if (QMessageBox::question(this, tr("Delete saved query"),
                                      tr("Delete “%1”?").arg(q.name)) == QMessageBox::Yes)
                m_model->remove(q.uuid);
        });
        menu.addSeparator();
    }
    menu.addAction(icon(QStringLiteral("refresh")), tr("Reload"), m_model,
                   &SavedQueriesModel::refresh);
    menu.exec(m_list->viewport()->mapToGlobal(pos));
}

} // namespace idl::console::ui
