#include "models/PlanModels.h"

#include "models/StatusPresentation.h"

#include <QCoreApplication>
#include <QLocale>

namespace certsync::models {

using namespace engine;

QString planStatusText(const QString &status)
{
    static const struct
    {
        const char *name;
        const char *text;
    } texts[] = {
        { "staged", QT_TRANSLATE_NOOP("certsync", "staged") },
        { "stale", QT_TRANSLATE_NOOP("certsync", "stale") },
        { "publishing", QT_TRANSLATE_NOOP("certsync", "publishing") },
        { "published", QT_TRANSLATE_NOOP("certsync", "published") },
        { "partial", QT_TRANSLATE_NOOP("certsync", "partial") },
        { "rejected", QT_TRANSLATE_NOOP("certsync", "rejected") },
    };
    for (const auto &t : texts)
        if (status == QLatin1String(t.name))
            return QCoreApplication::translate("certsync", t.text);
    return status;
}

QString decisionText(Decision decision)
{
    switch (decision) {
    case Decision::Pending:
        return QCoreApplication::translate("certsync", "pending");
    case Decision::Approved:
        return QCoreApplication::translate("certsync", "approved");
    case Decision::Rejected:
        return QCoreApplication::translate("certsync", "rejected");
    }
    return {};
}

QString journalStateText(JournalState state)
{
    switch (state) {
    case JournalState::Pending:
        return QCoreApplication::translate("certsync", "not published");
    case JournalState::InFlight:
        return QCoreApplication::translate("certsync", "in flight");
    case JournalState::Applied:
        return QCoreApplication::translate("certsync", "applied");
    case JournalState::Failed:
        return QCoreApplication::translate("certsync", "failed");
    case JournalState::Conflict:
        return QCoreApplication::translate("certsync", "conflict");
    }
    return {};
}

QString channelText(Channel channel)
{
    switch (channel) {
    case Channel::Exchange:
        return QCoreApplication::translate("certsync", "exchange");
    case Channel::Graph:
        return QCoreApplication::translate("certsync", "graph");
    case Channel::Directory:
        return QCoreApplication::translate("certsync", "directory");
    }
    return {};
}

PlansModel::PlansModel(QObject *parent)
    : QAbstractTableModel(parent)
{ }

void PlansModel::setPlans(const QList<PlanSummary> &plans)
{
    beginResetModel();
    m_plans = plans;
    std::sort(m_plans.begin(), m_plans.end(),
              [](const PlanSummary &a, const PlanSummary &b) { return a.id > b.id; });
    endResetModel();
}

const PlanSummary *PlansModel::plan(int row) const
{
    return row >= 0 && row < m_plans.size() ? &m_plans.at(row) : nullptr;
}

int PlansModel::rowOfPlan(qint64 id) const
{
    for (int row = 0; row < m_plans.size(); ++row)
        if (m_plans.at(row).id == id)
            return row;
    return -1;
}

int PlansModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_plans.size());
}

int PlansModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant PlansModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const PlanSummary &p = m_plans.at(index.row());
    if (role == PlanIdRole)
        return p.id;
    if (role == Qt::DecorationRole && index.column() == Status) {
        if (p.status == QLatin1String("stale") || p.status == QLatin1String("partial"))
            return statusIcon(certs::Status::Warning);
        if (p.failed > 0)
            return statusIcon(certs::Status::Error);
        return {};
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case Id:
        return p.id;
    case Created:
        return QLocale().toString(p.created.toLocalTime(), QLocale::ShortFormat);
    case Author:
        return p.author;
    case Status:
        return planStatusText(p.status);
    case Items:
        return p.items;
    case Approved:
        return p.approved;
    case Applied:
        return p.applied;
    case Failed:
        return p.failed;
    case Conflicts:
        return p.conflicts;
    case Removed:
        return p.removedValues;
    }
    return {};
}

QVariant PlansModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Id:
        return tr("Plan");
    case Created:
        return tr("Created");
    case Author:
        return tr("Staged by");
    case Status:
        return tr("Status");
    case Items:
        return tr("Items");
    case Approved:
        return tr("Approved");
    case Applied:
        return tr("Applied");
    case Failed:
        return tr("Failed");
    case Conflicts:
        return tr("Conflicts");
    case Removed:
        return tr("Removed values");
    }
    return {};
}

PlanItemsModel::PlanItemsModel(QObject *parent)
    : QAbstractTableModel(parent)
{ }

void PlanItemsModel::setItems(const QList<StoredItem> &items, const QHash<int, QString> &deciders)
{
    beginResetModel();
    m_items = items;
    m_deciders = deciders;
    QSet<int> numbers;
    for (const StoredItem &item : m_items)
        numbers.insert(item.item.number);
    m_checked.intersect(numbers); // keep ticks across a refresh of the same plan
    endResetModel();
}

QList<int> PlanItemsModel::checkedItemNumbers() const
{
    QList<int> out;
    for (const StoredItem &item : m_items)
        if (m_checked.contains(item.item.number))
            out.append(item.item.number);
    return out;
}

void PlanItemsModel::setAllChecked(bool checked)
{
    for (const StoredItem &item : m_items)
        checked ? void(m_checked.insert(item.item.number)) : void(m_checked.remove(item.item.number));
    if (!m_items.isEmpty())
        emit dataChanged(index(0, Check), index(int(m_items.size()) - 1, Check), { Qt::CheckStateRole });
}

const StoredItem *PlanItemsModel::item(int row) const
{
    return row >= 0 && row < m_items.size() ? &m_items.at(row) : nullptr;
}

int PlanItemsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_items.size());
}

int PlanItemsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

Qt::ItemFlags PlanItemsModel::flags(const QModelIndex &index) const
{
    Qt::ItemFlags f = QAbstractTableModel::flags(index);
    if (index.isValid() && index.column() == Check)
        f |= Qt::ItemIsUserCheckable;
    return f;
}

bool PlanItemsModel::setData(const QModelIndex &index, const QVariant &value, int role)
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)
        || index.column() != Check || role != Qt::CheckStateRole)
        return false;
    const int number = m_items.at(index.row()).item.number;
    if (value.value<Qt::CheckState>() == Qt::Checked)
        m_checked.insert(number);
    else
        m_checked.remove(number);
    emit dataChanged(index, index, { Qt::CheckStateRole });
    return true;
}

QVariant PlanItemsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const StoredItem &s = m_items.at(index.row());
    const PlanItem &i = s.item;
    switch (role) {
    case Qt::CheckStateRole:
        if (index.column() == Check)
            return m_checked.contains(i.number) ? Qt::Checked : Qt::Unchecked;
        break;
    case ItemNumberRole:
        return i.number;
    case DecisionRole:
        return int(s.decision);
    case ChannelRole:
        return channelName(i.channel);
    case Qt::DecorationRole:
        if (index.column() == State && s.state == JournalState::Failed)
            return statusIcon(certs::Status::Error);
        if (index.column() == State && s.state == JournalState::Conflict)
            return statusIcon(certs::Status::Warning);
        if (index.column() == Decision && s.decision == engine::Decision::Approved)
            return statusIcon(certs::Status::Ok);
        break;
    case Qt::ToolTipRole:
        if (index.column() == State && s.state == JournalState::Conflict) {
            // Both sets, in full: what the plan was computed from, what the target held instead.
            QStringList planned;
            for (const Value &v : i.oldValues)
                planned.append(v.sha256Hex());
            return tr("%1\nThe plan saw: %2\nThe target held: %3")
                .arg(s.error, planned.isEmpty() ? tr("(nothing)") : planned.join(QStringLiteral(", ")),
                     s.seenValues.isEmpty() ? tr("(nothing)") : s.seenValues.join(QStringLiteral(", ")));
        }
        if (index.column() == State && !s.error.isEmpty())
            return s.error;
        if (index.column() == Change)
            return i.reasons.join(QStringLiteral(", "));
        break;
    case Qt::DisplayRole:
        switch (index.column()) {
        case Number:
            return i.number;
        case User:
            return i.userLabel;
        case Channel:
            return channelText(i.channel);
        case Attribute:
            return itemAttributeName(i.attribute);
        case Change: {
            QString text = tr("−%1 +%2").arg(i.removed.size()).arg(i.added.size());
            if (!i.reasons.isEmpty())
                text += QStringLiteral(" (") + i.reasons.join(QStringLiteral(", ")) + QLatin1Char(')');
            return text;
        }
        case Expiry: {
            QDateTime soonest;
            for (const Value &v : i.newValues)
                if (v.notAfter.isValid() && (!soonest.isValid() || v.notAfter < soonest))
                    soonest = v.notAfter;
            return soonest.isValid() ? QLocale().toString(soonest.toLocalTime().date(), QLocale::ShortFormat)
                                     : QString();
        }
        case Decision:
            return decisionText(s.decision);
        case Approver:
            return m_deciders.value(i.number);
        case State:
            return s.attempts > 1 ? tr("%1 (%2 attempts)").arg(journalStateText(s.state)).arg(s.attempts)
                                  : journalStateText(s.state);
        }
        break;
    default:
        break;
    }
    return {};
}

QVariant PlanItemsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Check:
        return QString();
    case Number:
        return tr("#");
    case User:
        return tr("User");
    case Channel:
        return tr("Channel");
    case Attribute:
        return tr("Attribute");
    case Change:
        return tr("Change");
    case Expiry:
        return tr("Soonest expiry after");
    case Decision:
        return tr("Decision");
    case Approver:
        return tr("By");
    case State:
        return tr("Publish state");
    }
    return {};
}

} // namespace certsync::models
