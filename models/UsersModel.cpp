#include "models/UsersModel.h"

#include "models/StatusPresentation.h"

#include <QCoreApplication>

#include <QLocale>

namespace certsync::models {

QString tenantMatchText(TenantMatch match)
{
    switch (match) {
    case TenantMatch::NotRead:
        return QCoreApplication::translate("certsync", "not read");
    case TenantMatch::Unmatched:
        return QCoreApplication::translate("certsync", "unmatched");
    case TenantMatch::Synced:
        return QCoreApplication::translate("certsync", "synced");
    case TenantMatch::Cloud:
        return QCoreApplication::translate("certsync", "cloud");
    }
    return {};
}

UsersModel::UsersModel(QObject *parent)
    : QAbstractTableModel(parent)
{ }

UsersModel::~UsersModel() = default;

UsersModel::Row UsersModel::summarize(const directory::DirectoryUser &user, const QDateTime &now)
{
    Row row;
    row.displayName = user.displayName.isEmpty() ? user.accountName : user.displayName;
    row.userPrincipalName = user.userPrincipalName;
    row.mail = user.mail;
    row.searchText = (row.displayName + QLatin1Char('\n') + row.userPrincipalName + QLatin1Char('\n')
                      + row.mail + QLatin1Char('\n') + user.accountName)
                         .toLower();
    QDateTime soonestValid;
    QDateTime latestExpired;
    for (const certs::AnalyzedValue &value : user.values) {
        row.status = std::max(row.status, value.valueProblems.status());
        for (int i = 0; i < value.certificates.size(); ++i) {
            const certs::JudgedCertificate &cert = value.certificates.at(i);
            if (!cert.isUsers)
                continue;
            ++row.certificates;
            row.status = std::max(row.status, value.problemsOf(i).status());
            const QDateTime notAfter = cert.certificate.notAfter;
            if (notAfter > now) {
                if (!soonestValid.isValid() || notAfter < soonestValid)
                    soonestValid = notAfter;
            } else if (!latestExpired.isValid() || notAfter > latestExpired) {
                latestExpired = notAfter;
            }
            const QString hex = cert.certificate.sha256Hex();
            if (!row.fingerprints.contains(hex))
                row.fingerprints.append(hex);
        }
    }
    row.soonestExpiry = soonestValid.isValid() ? soonestValid : latestExpired;
    return row;
}

void UsersModel::setSnapshot(std::shared_ptr<const directory::DirectorySnapshot> snapshot,
                             const QDateTime &now)
{
    beginResetModel();
    m_snapshot = std::move(snapshot);
    m_rows.clear();
    m_rowByDn.clear();
    if (m_snapshot) {
        m_rows.reserve(size_t(m_snapshot->users.size()));
        m_rowByDn.reserve(m_snapshot->users.size());
        for (const directory::DirectoryUser &user : m_snapshot->users) {
            m_rowByDn.insert(user.dn, int(m_rows.size()));
            m_rows.push_back(summarize(user, now));
        }
    }
    endResetModel();
}

void UsersModel::setTenantMatches(const QHash<QString, TenantMatch> &byDn)
{
    if (m_rows.empty())
        return;
    for (auto it = m_rowByDn.cbegin(); it != m_rowByDn.cend(); ++it)
        m_rows[size_t(it.value())].tenant =
            byDn.isEmpty() ? TenantMatch::NotRead : byDn.value(it.key(), TenantMatch::Unmatched);
    emit dataChanged(index(0, Tenant), index(int(m_rows.size()) - 1, Tenant));
}

const directory::DirectoryUser *UsersModel::user(int row) const
{
    if (!m_snapshot || row < 0 || row >= int(m_rows.size()))
        return nullptr;
    return &m_snapshot->users.at(row);
}

int UsersModel::rowOfDn(const QString &dn) const
{
    return m_rowByDn.value(dn, -1);
}

int UsersModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int UsersModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant UsersModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows[size_t(index.row())];
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole:
        switch (column) {
        case DisplayName:
            return r.displayName;
        case UserPrincipalName:
            return r.userPrincipalName;
        case Mail:
            return r.mail;
        case Certificates:
            return r.certificates;
        case SoonestExpiry:
            return r.soonestExpiry.isValid()
                ? QLocale().toString(r.soonestExpiry.toLocalTime().date(), QLocale::ShortFormat)
                : QString();
        case Status:
            return statusText(r.status);
        case Tenant:
            return tenantMatchText(r.tenant);
        }
        break;
    case SortRole:
        switch (column) {
        case Certificates:
            return r.certificates;
        case SoonestExpiry:
            return r.soonestExpiry.isValid() ? r.soonestExpiry.toMSecsSinceEpoch()
                                             : std::numeric_limits<qint64>::max();
        case Status:
            return int(r.status);
        case Tenant:
            return int(r.tenant);
        default:
            return data(index, Qt::DisplayRole).toString().toLower();
        }
    case Qt::DecorationRole:
        if (column == Status)
            return statusIcon(r.status);
        break;
    case Qt::ToolTipRole:
        if (column == SoonestExpiry && r.soonestExpiry.isValid())
            return r.soonestExpiry.toString(Qt::ISODate);
        break;
    case Qt::TextAlignmentRole:
        if (column == Certificates)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        break;
    case StatusRole:
        return int(r.status);
    case UserIndexRole:
        return index.row();
    default:
        break;
    }
    return {};
}

QVariant UsersModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case DisplayName:
        return tr("Name");
    case UserPrincipalName:
        return tr("UPN");
    case Mail:
        return tr("Mail");
    case Certificates:
        return tr("Certificates");
    case SoonestExpiry:
        return tr("Soonest expiry");
    case Status:
        return tr("Status");
    case Tenant:
        return tr("Microsoft 365");
    }
    return {};
}

} // namespace certsync::models
