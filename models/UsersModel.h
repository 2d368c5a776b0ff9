#pragma once

#include "certs/Problem.h"
#include "directory/DirectorySnapshot.h"

#include <QAbstractTableModel>
#include <QDateTime>
#include <QHash>
#include <QStringMatcher>

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

// One row per directory user: the users pane. Rows map to snapshot users both ways by index. The
// model sorts itself (sort()): a filter proxy over it then never sorts, so that filtering 100,000
// rows a keystroke is one pass over precomputed lower-case search keys, without a re-sort.
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
        UserIndexRole, // index into the snapshot's users (rows follow the sort order)
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
    [[nodiscard]] const Row &row(int index) const { return m_rows[size_t(m_order[size_t(index)])]; }
    [[nodiscard]] const directory::DirectoryUser *user(int row) const;
    [[nodiscard]] int rowOfDn(const QString &dn) const; // -1 when absent
    // Where a model row's user is kept (the snapshot's index): what matching() answers by.
    [[nodiscard]] int storageIndex(int row) const { return m_order[size_t(row)]; }
    // Per storage index: does the user's name, UPN, mail or account name contain `needle` (lower
    // case), or does one of its certificates' SHA-256 start with `hexPrefix` (when not empty)? One
    // sequential pass over contiguous search keys: the users pane filters 100,000 rows a keystroke.
    [[nodiscard]] std::vector<char> matching(const QStringMatcher &needle, const QString &hexPrefix) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    // Stable, on the raw values of SortRole (numbers, times, ranks, lower-case text).
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

    static Row summarize(const directory::DirectoryUser &user, const QDateTime &now);

private:
    static QVariant sortKey(const Row &row, int column);
    void applySort(); // m_order and m_position from m_sortColumn, without signals

    std::shared_ptr<const directory::DirectorySnapshot> m_snapshot;
    std::vector<Row> m_rows; // in snapshot order
    std::vector<int> m_order; // model row -> index into m_rows (and the snapshot's users)
    std::vector<int> m_position; // the inverse of m_order
    QHash<QString, int> m_rowByDn; // DN -> index into m_rows
    QString m_searchKeys; // every row's searchText, in m_rows order, each followed by a NUL
    std::vector<int> m_searchStart; // where each row's key starts in m_searchKeys (and the end)
    QString m_fingerprintKeys; // every certificate's SHA-256 hex (64 characters each)
    std::vector<int> m_fingerprintOwner; // index into m_rows of each fingerprint
    int m_sortColumn = -1;
    Qt::SortOrder m_sortOrder = Qt::AscendingOrder;
};

} // namespace certsync::models
