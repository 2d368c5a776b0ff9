#include "ui/UsersPane.h"

#include "models/StatusPresentation.h"
#include "models/UserFilterProxy.h"
#include "models/UsersModel.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>

namespace certsync::ui {

UsersPane::UsersPane(models::UsersModel *model, QWidget *parent)
    : QWidget(parent)
    , m_model(model)
    , m_proxy(new models::UserFilterProxy(this))
    , m_search(new QLineEdit(this))
    , m_table(new QTableView(this))
    , m_count(new QLabel(this))
    , m_lookupStatus(new QLabel(this))
{
    setObjectName(QStringLiteral("usersPane"));
    m_proxy->setSourceModel(m_model);

    m_search->setObjectName(QStringLiteral("userSearch"));
    m_search->setPlaceholderText(tr("Search name, UPN, mail or fingerprint; Enter looks a name up live…"));
    m_search->setClearButtonEnabled(true);
    m_search->setAccessibleName(tr("Search users"));
    connect(m_search, &QLineEdit::textChanged, m_proxy, &models::UserFilterProxy::setSearchText);
    connect(m_search, &QLineEdit::returnPressed, this, &UsersPane::searchEntered);
    m_lookupStatus->setObjectName(QStringLiteral("lookupStatus"));
    m_lookupStatus->setWordWrap(true);
    m_lookupStatus->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_lookupStatus->hide();

    auto *filters = new QHBoxLayout;
    filters->addWidget(m_search, 1);
    const struct
    {
        certs::Status status;
        const char *name;
    } chips[] = { { certs::Status::Error, "chipError" },
                  { certs::Status::Warning, "chipWarning" },
                  { certs::Status::Ok, "chipOk" } };
    for (const auto &chip : chips) {
        auto *button = new QToolButton(this);
        button->setObjectName(QString::fromLatin1(chip.name));
        button->setCheckable(true);
        button->setChecked(true);
        button->setIcon(models::statusIcon(chip.status));
        button->setText(models::statusText(chip.status));
        button->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
        button->setAccessibleName(tr("Show users with status %1").arg(models::statusText(chip.status)));
        button->setToolTip(button->accessibleName());
        const certs::Status status = chip.status;
        connect(button, &QToolButton::toggled, this,
                [this, status](bool shown) { m_proxy->setStatusShown(status, shown); });
        filters->addWidget(button);
        m_chips.append(button);
    }
    filters->addWidget(m_count);

    m_table->setObjectName(QStringLiteral("usersTable"));
    m_table->setAccessibleName(tr("Directory users"));
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(models::UsersModel::DisplayName, Qt::AscendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setAlternatingRowColors(true);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 8);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setWordWrap(false);
    // Status, name, mail and the yes/no fit the pane's default width; the rest scrolls.
    m_table->horizontalHeader()->resizeSection(models::UsersModel::Status, 85);
    m_table->horizontalHeader()->resizeSection(models::UsersModel::DisplayName, 150);
    m_table->horizontalHeader()->resizeSection(models::UsersModel::UserPrincipalName, 200);
    m_table->horizontalHeader()->resizeSection(models::UsersModel::Mail, 165);
    m_table->horizontalHeader()->resizeSection(models::UsersModel::CanEncrypt, 95);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                emit currentUserChanged(current.isValid() ? m_proxy->mapToSource(current).row() : -1);
            });
    for (auto signal : { &QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved })
        connect(m_proxy, signal, this, &UsersPane::updateCount);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, &UsersPane::updateCount);
    connect(m_model, &QAbstractItemModel::modelReset, this, &UsersPane::hideEmptyColumns);
    connect(m_proxy, &QAbstractItemModel::layoutChanged, this, &UsersPane::updateCount);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(filters);
    layout->addWidget(m_lookupStatus);
    layout->addWidget(m_table, 1);
    updateCount();
    hideEmptyColumns();
}

void UsersPane::hideEmptyColumns()
{
    // Only once users are there: an empty table shows every heading.
    const bool loaded = m_model->rowCount() > 0;
    for (int column = 0; column < models::UsersModel::ColumnCount; ++column)
        m_table->setColumnHidden(column, loaded && !m_model->columnHasValues(column));
}

void UsersPane::focusSearch()
{
    m_search->setFocus(Qt::ShortcutFocusReason);
    m_search->selectAll();
}

void UsersPane::selectSourceRow(int sourceRow)
{
    const QModelIndex index = m_proxy->mapFromSource(m_model->index(sourceRow, 0));
    if (index.isValid())
        m_table->selectionModel()->setCurrentIndex(
            index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

void UsersPane::searchEntered()
{
    const QString who = m_search->text().trimmed();
    if (who.isEmpty())
        return;
    if (m_proxy->rowCount() == 0) {
        emit lookupRequested(who);
        return;
    }
    // Loaded: Enter goes to the first user shown, as a click would.
    m_table->selectionModel()->setCurrentIndex(
        m_proxy->index(0, 0), QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    m_table->setFocus(Qt::OtherFocusReason);
}

void UsersPane::showFoundUser(int sourceRow)
{
    if (!m_proxy->mapFromSource(m_model->index(sourceRow, 0)).isValid()) {
        m_search->clear();
        for (QToolButton *chip : std::as_const(m_chips))
            chip->setChecked(true);
    }
    selectSourceRow(sourceRow);
    const QModelIndex shown = m_proxy->mapFromSource(m_model->index(sourceRow, 0));
    if (shown.isValid())
        m_table->scrollTo(shown);
}

void UsersPane::setLookupStatus(const QString &text)
{
    m_lookupStatus->setText(text);
    m_lookupStatus->setVisible(!text.isEmpty());
}

void UsersPane::updateCount()
{
    m_count->setText(tr("%1 of %2 users").arg(m_proxy->rowCount()).arg(m_model->rowCount()));
}

} // namespace certsync::ui
