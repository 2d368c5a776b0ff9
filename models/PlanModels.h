#pragma once

#include "engine/PlanStore.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QSet>

namespace certsync::models {

// What a person reads for the engine's names, which stay as they are in the state database, the
// command line and CSV: a plan's status (staged, stale, publishing, published, partial, rejected;
// any other is shown as stored), a decision, a publish state, a channel.
QString planStatusText(const QString &status);
QString decisionText(engine::Decision decision);
QString journalStateText(engine::JournalState state);
QString channelText(engine::Channel channel);

// The staged plans, newest first.
class PlansModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        Id,
        Created,
        Author,
        Status,
        Items,
        Approved,
        Applied,
        Failed,
        Conflicts,
        Removed,
        ColumnCount
    };
    enum Role { PlanIdRole = Qt::UserRole + 1 };

    explicit PlansModel(QObject *parent = nullptr);
    void setPlans(const QList<engine::PlanSummary> &plans);
    [[nodiscard]] const engine::PlanSummary *plan(int row) const;
    [[nodiscard]] int rowOfPlan(qint64 id) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QList<engine::PlanSummary> m_plans;
};

// The items of one plan, each with a check box for "approve/reject selected", its decision, who made
// it, and where publishing stands.
class PlanItemsModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        Check,
        Number,
        User,
        Channel,
        Attribute,
        Change,
        Expiry,
        Decision,
        Approver,
        State,
        ColumnCount
    };
    enum Role { ItemNumberRole = Qt::UserRole + 1, DecisionRole, ChannelRole };

    explicit PlanItemsModel(QObject *parent = nullptr);
    // `deciders`: item number -> who made its current decision (from the audit trail).
    void setItems(const QList<engine::StoredItem> &items, const QHash<int, QString> &deciders);
    [[nodiscard]] QList<int> checkedItemNumbers() const;
    void setAllChecked(bool checked);
    [[nodiscard]] const engine::StoredItem *item(int row) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex &index, const QVariant &value, int role = Qt::EditRole) override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QList<engine::StoredItem> m_items;
    QHash<int, QString> m_deciders;
    QSet<int> m_checked; // item numbers
};

} // namespace certsync::models
