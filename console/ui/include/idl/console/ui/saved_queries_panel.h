#pragma once

#include "idl/console/saved_queries_model.h"

#include <QWidget>

class QLineEdit;
class QListView;
class QSortFilterProxyModel;

namespace idl::console::ui {

class InlineMessage;

// The saved-queries sidebar: filterable list (own and shared queries); double-click opens
// in the current tab, the context menu opens in a new tab, renames, shares or deletes.
class SavedQueriesPanel : public QWidget
{
    Q_OBJECT
public:
    SavedQueriesPanel(SavedQueriesModel *model, QWidget *parent = nullptr);

    QListView *list() const { return m_list; }

Q_SIGNALS:
    void openRequested(const idl::console::SavedQuery &query, bool newTab);

private:
    void showMenu(const QPoint &pos);
    SavedQuery queryAt(const QModelIndex &proxyIndex) const;

    SavedQueriesModel *m_model;
    QSortFilterProxyModel *m_proxy;
    QLineEdit *m_filter;
    QListView *m_list;
    InlineMessage *m_message;
};

} // namespace idl::console::ui
