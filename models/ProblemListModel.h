#pragma once

#include "certs/Problem.h"

#include <QAbstractListModel>

namespace certsync::models {

// The problems of one certificate, for the details panel: code, plain-words text, severity.
class ProblemListModel : public QAbstractListModel
{
    Q_OBJECT
public:
    enum Role { CodeRole = Qt::UserRole + 1, SeverityRole };

    explicit ProblemListModel(QObject *parent = nullptr);
    void setProblems(certs::ProblemSet problems);

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

private:
    QList<certs::Problem> m_problems;
};

} // namespace certsync::models
