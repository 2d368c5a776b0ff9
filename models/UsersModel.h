#pragma once

#include "certs/Problem.h"
#include "directory/DirectorySnapshot.h"
#include "directory/UserSummary.h"

#include <QAbstractTableModel>
#include <QDateTime>
#include <QHash>

#include <memory>
#include <optional>
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

// One row per directory user: the users pane. Model rows are the snapshot's users in its order, so
// a row stays the same user until the next snapshot; UserFilterProxy sorts and filters over it with
// the precomputed keys below, so that a keystroke at 100,000 users costs no sort and no pass over
// QVariants.
class UsersModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        // Status first: the column a helpdesk reads first (icon + word).
        Status,
        DisplayName,
        UserPrincipalName,
        Mail,
        Certificates,
        SoonestExpiry,
        Tenant,
        CanEncrypt, // the verdict's yes/no (engine::computeVerdict): directory, and Exchange when judged
        ColumnCount
    };
    enum Role {
        SortRole = Qt::UserRole + 1, // raw value for sorting (numbers, times, ranks)
        StatusRole, // certs::Status as int
        UserIndexRole, // index into the snapshot's users (the model row)
    };

    // What the users pane shows of one user, computed once when a snapshot arrives.
    struct Row
    {
        QString dn;
        QString displayName;
        QString userPrincipalName;
        QString mail;
        int certificates = 0; // the users' own certificates across both attributes
        QDateTime soonestExpiry; // first notAfter among unexpired ones, else the latest expired
        certs::Status status = certs::Status::Ok;
        TenantMatch tenant = TenantMatch::NotRead;
        QString searchText; // case-folded name, UPN, mail and account name, for the filter
        QList<QByteArray> sha256; // each distinct certificate's SHA-256, raw (the summary's, shared)
        // Can senders encrypt? Outlook's pick among the directory values, and what Exchange Online
        // gives senders (nullopt: not judged, the tenant is not read or the user not paired).
        bool directoryCanEncrypt = false;
        std::optional<bool> tenantCanEncrypt;
        QString encryptReasons; // the verdict's reason codes, for the tooltip
    };

    // A snapshot's rows with their search and fingerprint keys: at 100,000 users the slow part of
    // showing a snapshot, so made on any thread and handed to setPrepared() in one go.
    struct Prepared
    {
        std::shared_ptr<const directory::DirectorySnapshot> snapshot;
        std::vector<Row> rows;
        std::vector<certs::Status> statuses; // each row's status, contiguous for the status chips
        QHash<QString, int> rowByDn; // DN -> row
        QString searchKeys; // every row's searchText, in row order, each followed by a NUL
        std::vector<int> searchStart; // where each row's key starts in searchKeys (and the end)
        QByteArray fingerprintKeys; // every certificate's SHA-256 hex (64 characters each), sorted
        std::vector<int> fingerprintOwner; // the row of each fingerprint in fingerprintKeys
        // The rows by display name, ascending: the users pane's first order, sorted beside buildKeys
        // instead of on the GUI thread when the snapshot is shown.
        std::vector<int> byDisplayName;
    };
    // Each user summarised (its values judged)...
    static Prepared prepare(std::shared_ptr<const directory::DirectorySnapshot> snapshot,
                            const QDateTime &now);
    // ...or rows made elsewhere, one per snapshot user in its order (stored summaries).
    static Prepared prepare(std::shared_ptr<const directory::DirectorySnapshot> snapshot,
                            std::vector<Row> rows);

    explicit UsersModel(QObject *parent = nullptr);
    ~UsersModel() override;

    void setSnapshot(std::shared_ptr<const directory::DirectorySnapshot> snapshot, const QDateTime &now);
    // Shows a prepared snapshot: on the model's thread, without a pass over its users (but for
    // looked-up users it holds, which are dropped, and those it does not, which are kept).
    void setPrepared(Prepared prepared);
    // A user looked up live, not in the snapshot: a row after the snapshot's, kept (and not part of
    // snapshot()) until a snapshot holds its DN. Looking the same DN up again replaces it. Returns its
    // row.
    int addLookedUp(const directory::DirectoryUser &user, TenantMatch tenant, const QDateTime &now,
                    std::optional<bool> tenantCanEncrypt = std::nullopt);
    [[nodiscard]] bool isLookedUp(int row) const;
    // Tenant match per user DN; users not named become Unmatched (NotRead when the map is empty).
    // `tenantCanEncrypt`: the Exchange Online path's answer of the verdict per paired user's DN.
    void setTenantMatches(const QHash<QString, TenantMatch> &byDn,
                          const QHash<QString, bool> &tenantCanEncrypt = {});
    // Whether any row has a value in `column`: a column empty for this directory (UPN on OpenLDAP)
    // is hidden by the users pane.
    [[nodiscard]] bool columnHasValues(int column) const;

    [[nodiscard]] std::shared_ptr<const directory::DirectorySnapshot> snapshot() const
    {
        return m_data.snapshot;
    }
    [[nodiscard]] const Row &row(int index) const { return m_data.rows[size_t(index)]; }
    [[nodiscard]] certs::Status status(int row) const { return m_data.statuses[size_t(row)]; }
    [[nodiscard]] const directory::DirectoryUser *user(int row) const;
    [[nodiscard]] int rowOfDn(const QString &dn) const; // -1 when absent

    // The rows in the order of `column`: stable (ties keep the snapshot's order), on raw values
    // (numbers, times, ranks, lower-case text). Computed on first use and kept until the column's
    // data changes, so that sorting a filtered view is one pass over this vector.
    [[nodiscard]] const std::vector<int> &sortOrder(int column, Qt::SortOrder order) const;
    // Rows, ascending, whose name, UPN, mail or account name contains `needle` (case-folded, not
    // empty): one sequential pass over contiguous search keys. With `candidates` (ascending rows that
    // a part of `needle` matched), only those are searched: what a keystroke that extends the text
    // needs; when they are many, the one pass is quicker and finds no other rows.
    [[nodiscard]] std::vector<int> rowsMatching(QStringView needle) const;
    [[nodiscard]] std::vector<int> rowsMatching(QStringView needle, const std::vector<int> &candidates) const;
    // Rows, ascending, holding a certificate whose SHA-256 hex starts with `hexPrefix` (lower case):
    // a binary search in the sorted fingerprints.
    [[nodiscard]] std::vector<int> rowsWithFingerprint(QByteArrayView hexPrefix) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    static Row summarize(const directory::DirectoryUser &user, const QDateTime &now);
    static Row summarize(const directory::UserSummary &summary, const QDateTime &now);

private:
    static QVariant sortKey(const Row &row, int column);
    static std::vector<int> order(const std::vector<Row> &rows, int column, Qt::SortOrder order);
    static void buildKeys(Prepared &prepared); // statuses, DNs and keys from the rows
    static void buildFingerprintKeys(Prepared &prepared); // buildKeys' fingerprints, on another thread
    // The looked-up users' rows after the snapshot's, and the keys again (a look-up added one).
    void appendLookedUp(const QDateTime &now);

    Prepared m_data; // the snapshot (in its order), then the looked-up users
    QList<directory::DirectoryUser> m_lookedUp; // rows after the snapshot's
    QList<TenantMatch> m_lookedUpTenant; // theirs, from their live look-up
    QList<std::optional<bool>> m_lookedUpCanEncrypt; // their Exchange Online answer, same
    // Per column and order (ascending, descending): the rows in that order; empty until asked for.
    mutable std::vector<int> m_sortOrders[ColumnCount][2];
};

} // namespace certsync::models
