#include "models/ProblemListModel.h"

namespace certsync::models {

ProblemListModel::ProblemListModel(QObject *parent)
    : QAbstractListModel(parent)
{ }

void ProblemListModel::setProblems(certs::ProblemSet problems)
{
    beginResetModel();
    m_problems = problems.toList();
    endResetModel();
}

int ProblemListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_problems.size());
}

QVariant ProblemListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const certs::Problem problem = m_problems.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
        return certs::problemText(problem);
    case Qt::ToolTipRole:
    case CodeRole:
        return certs::problemCode(problem);
    case SeverityRole:
        return certs::statusName(certs::problemSeverity(problem));
    default:
        return {};
    }
}

QHash<int, QByteArray> ProblemListModel::roleNames() const
{
    return { { Qt::DisplayRole, "text" }, { CodeRole, "code" }, { SeverityRole, "severity" } };
}

} // namespace certsync::models
