#pragma once

// Clicks a person makes in item views, shared by the GUI suites.

#include <QAbstractItemView>
#include <QStyle>
#include <QStyleOptionViewItem>
#include <QTest>

namespace certsync::testing {

// Where the style draws the check box of the cell at (row, column), scrolled into view (viewport
// coordinates).
inline QRect checkBoxRect(QAbstractItemView *view, int row, int column)
{
    const QModelIndex index = view->model()->index(row, column);
    view->scrollTo(index);
    QStyleOptionViewItem option;
    option.initFrom(view);
    option.rect = view->visualRect(index);
    option.features |= QStyleOptionViewItem::HasCheckIndicator;
    return view->style()->subElementRect(QStyle::SE_ItemViewItemCheckIndicator, &option, view);
}

// Clicks the check box of the cell at (row, column), where the style draws its indicator.
inline void clickCheckBox(QAbstractItemView *view, int row, int column)
{
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, checkBoxRect(view, row, column).center());
}

} // namespace certsync::testing
