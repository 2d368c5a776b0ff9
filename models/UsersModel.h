#pragma once

#include "certs/Problem.h"
#include "directory/DirectorySnapshot.h"

#include <QAbstractTableModel>
#include <QDateTime>
#include <QHash>

#include <memory>
#include <vector>

namespace certsync::models {

// Where a directory user stands in the tenant.
enum class TenantMatch : quint8 {
    NotRead, // the tenant has not been read yet
    Unmatched, // no tenant user matches
    Synced, // matched, mastered on-premises (Entra Connect carries its certificates)
    Cloud, // matched, cloud-mastered (certsync writes through Exchange Online)
};
QString tenantMatchText(TenantMatch match);

// One row per directory user: the users pane. Rows map to snapshot users both ways by index.
class UsersModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        DisplayName,
        UserPrincipalName,
        Mail,
        Certificates,
        SoonestExpiry,
        Status,
        Tenant,
        ColumnCount
    };
    enum Role {
        SortRole = Qt::UserRole + 1, // raw value for sorting (numbers, times, ranks)
        StatusRole, // certs::Status as int
        UserIndexRole, // index into the snapshot's users
    };

    // What the users pane shows of one user, computed once when a snapshot arrives.
    struct Row
    {
        QString displayName;
        QString userPrincipalName;
        QString mail;
        int certificates = 0; // the users' own certificates across both attributes
        QDateTime soonestExpiry; // first notAfter among unexpired ones, else the latest expired
        certs::Status status = certs::Status::Ok;
        TenantMatch tenant = TenantMatch::NotRead;
        QString searchText; // lower-cased name, UPN and mail, for the filter
        QStringList fingerprints; // lower-case SHA-256 hex of each certificate
    };

    explicit UsersModel(QObject *parent = nullptr);
    ~UsersModel() override;

    void setSnapshot(std::shared_ptr<const directory::DirectorySnapshot> snapshot, const QDateTime &now);
    // Tenant match per user DN; users not named become Unmatched (NotRead when the map is empty).
    void setTenantMatches(const QHash<QString, TenantMatch> &byDn);

    [[nodiscard]] std::shared_ptr<const directory::DirectorySnapshot> snapshot() const { return m_snapshot; }
    [[nodiscard]] const Row &row(int index) const { return m_rows[size_t(index)]; }
    [[nodiscard]] const directory::DirectoryUser *user(int row) const;
    [[nodiscard]] int rowOfDn(const QString &dn) const; // -1 when absent

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    static Row summarize(const directory::DirectoryUser &user, const QDateTime &now);

private:
    std::shared_ptr<const directory::DirectorySnapshot> m_snapshot;
    std::vector<Row> m_rows;
    QHash<QString, int> m_rowByDn;
};

} // namespace certsync::models
