#pragma once

// What the tenant publishes, per user: Graph's matching data joined with the S/MIME values
// Exchange holds for the user's recipient. Read by a job on the worker thread.

#include "jobs/Job.h"
#include "tenant/ExchangeClient.h"
#include "tenant/GraphClient.h"
#include "tenant/TenantSettings.h"

#include <QDateTime>
#include <QList>
#include <QMetaType>
#include <QPointer>

#include <optional>

namespace certsync::tenant {

struct TenantUser
{
    GraphUser user;
    std::optional<ExchangeRecipient> recipient; // none: the user has no mailbox or mail user
};

struct TenantSnapshot
{
    QDateTime takenAt; // UTC
    QList<TenantUser> users; // sorted by Graph id
    QList<ExchangeRecipient>
        unmatchedRecipients; // recipients whose ExternalDirectoryObjectId is no user we read
    QString deltaLink; // store it for the next, incremental, read
    bool incremental = false; // users came from a delta round applied to the previous snapshot
    bool fellBackToFullRead = false; // the stored delta link had expired (syncStateNotFound)
    int changedUsers = 0; // in the delta round, when incremental
    int removedUsers = 0;

    [[nodiscard]] const TenantUser *find(const QString &id) const;
};

class TenantSnapshotJob : public jobs::Job
{
    Q_OBJECT
public:
    struct Options
    {
        // With a previous snapshot that has a delta link, only Graph's changes are read and applied.
        std::optional<TenantSnapshot> previous;
        bool readExchange = true;
    };

    TenantSnapshotJob(TenantSettings settings, Options options, QObject *parent = nullptr);
    ~TenantSnapshotJob() override;

signals:
    // Emitted once, just before finished(true, ...).
    void snapshotReady(const certsync::tenant::TenantSnapshot &snapshot);

protected:
    void doStart() override;
    void doCancel() override;

private:
    void readUsersInFull();
    void readUsersByDelta();
    void readRecipients(const QStringList &cmdlets);
    void complete();
    void fail(const TenantError &error);
    bool pageRead(const QString &what, int count);

    TenantSettings m_settings;
    Options m_options;
    TenantHttp *m_http = nullptr; // created in doStart, on the worker thread
    GraphClient *m_graph = nullptr;
    ExchangeClient *m_exchange = nullptr;
    TenantSnapshot m_snapshot;
    QList<GraphUser> m_users;
    QList<ExchangeRecipient> m_recipients;
};

} // namespace certsync::tenant

Q_DECLARE_METATYPE(certsync::tenant::TenantSnapshot)
