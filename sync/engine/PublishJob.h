#pragma once

// Applies the approved items of a plan through the journal:
//   pending -> in_flight (written before the request leaves) -> applied | failed | conflict.
// Compare-and-set, always: every item's target is read first (Graph through $batch,
// Exchange one Get- per recipient, LDAP one read per entry). The target still holds the set the plan
// was computed from: the write is sent. It holds the new set already (a resumed in_flight item, or
// someone did the same): applied without writing. Anything else is someone else's change: the item
// becomes a conflict, nothing is written, and the next diff plans that user again. With directory
// settings, a tenant item's new values are also checked against the directory: a value removed
// there since, expired since, or (with CRLs configured) revoked since, is not published (conflict).
// One publisher per plan: the run claims the plan in the state database first (PlanClaim) and
// renews the claim every few seconds; a dead holder's claim is taken over.

#include "directory/ConnectionProfile.h"
#include "engine/PlanStore.h"
#include "jobs/Job.h"
#include "tenant/TenantError.h"
#include "tenant/TenantSettings.h"

#include <QElapsedTimer>
#include <QHash>

#include <QPointer>

#include <memory>
#include <optional>

namespace certsync::certs {
class TrustStore;
class ValueAnalyzer;
} // namespace certsync::certs
namespace certsync::directory {
class LdapConnection;
}
namespace certsync::tenant {
class TenantHttp;
class GraphClient;
class ExchangeClient;
struct WriteReceipt;
} // namespace certsync::tenant

namespace certsync::engine {

struct PublishSettings
{
    QString statePath; // the job opens its own connection on the worker thread (QtSql's rule)
    qint64 planId = 0;
    QString who; // recorded in the audit trail
    std::optional<tenant::TenantSettings> tenant; // needed for Exchange and Graph items
    std::optional<directory::ConnectionProfile> directory; // needed for Directory items
    QString directoryPassword; // never logged
    // The trust the plan was judged with, loaded again for this run: with CRLs, a value the plan
    // would publish is judged again and one revoked since is not published.
    std::shared_ptr<const certs::TrustStore> trust;
    int deletionThreshold = 500; // removed values per publish, as Entra Connect's default
    // What the settings say; a different deletionThreshold for this run is audited (-1: not known).
    int configuredDeletionThreshold = -1;
    ApprovalPolicy approval; // four-eyes: the plan's author does not publish it
    // A plan older than this is published only with every tenant item's directory values read
    // again (needs `directory`); without directory settings such a plan is refused.
    int planLifetimeHours = 24;
    // Items being read or written at once. Their journal transitions commit in groups (one sync for
    // whatever arrived in one turn of the event loop); Graph reads go in $batches of up to 20.
    int window = 64;
    bool allowDeletions = false; // the explicit, audited override of the threshold
    bool staging = false; // compute and report, never write
};

struct PublishOutcome
{
    bool refused = false; // a guard (deletion threshold, plan lifetime) said no; nothing was written
    bool claimed = false; // another live publisher holds the plan (error says who); nothing was done
    bool staging = false;
    int considered = 0; // approved items not yet applied when the run began
    int applied = 0; // written in this run
    int confirmedByRead = 0; // found already in place (a resumed in_flight item, or someone else's write)
    int failed = 0;
    int conflicts = 0; // the target (or the directory) changed after the plan: not written
    int skippedApplied = 0; // applied by an earlier run: not redone
    int skippedConflicts = 0; // conflicts of an earlier run: re-planned by the next diff, never forced
    int unapproved = 0; // pending or rejected: never touched
    qint64 removedValues = 0; // what the threshold counted
    Error error; // set when the run itself failed (state database, settings)
};

class PublishJob : public jobs::Job
{
    Q_OBJECT
public:
    explicit PublishJob(PublishSettings settings, QObject *parent = nullptr);
    ~PublishJob() override;

signals:
    void outcomeReady(const certsync::engine::PublishOutcome &outcome);

protected:
    void doStart() override;
    void doCancel() override;

private:
    struct Read
    {
        std::optional<QList<Value>> current; // the target's values now
        std::optional<tenant::TenantError> tenantError;
        QString error; // set when the read failed
        QString conflict; // set when the directory check said no
    };

    void pump();
    void finishRun();
    void startRead(int index);
    void sendGraphReads();
    void checkDirectory(const StoredItem &item, Read &read);
    void decide(int index, const Read &read);
    void scheduleFlush();
    void flushAndSend();
    void send(const StoredItem &item, const QList<Value> &current);
    void itemDone();
    bool flushJournal(); // commits the transitions gathered since the last flush
    bool applied(const StoredItem &item, const QString &requestId, const QString &clientRequestId,
                 int attempts, bool byRead);
    bool failed(const StoredItem &item, const QString &error, int httpStatus = 0,
                const QString &requestId = {}, const QString &clientRequestId = {});
    bool conflict(const StoredItem &item, const QString &why, const QList<Value> &current);
    // A tenant failure: the item fails, or the run ends (canceled, or throttled past the cap).
    bool failedTenant(const StoredItem &item, const tenant::TenantError &error);
    Result<directory::LdapConnection *> ldap();
    QString ldapAttribute(ItemAttribute attribute) const;
    void end(bool success, const QString &summary);
    bool stopOnError(const Result<void> &result); // false (and the run ends) when a store write failed
    bool journal(const StoredItem &item, const JournalUpdate &update, const QString &auditAction,
                 const QString &auditDetail);
    bool audit(const QString &action, int itemNumber, const QString &detail);

    PublishSettings m_settings;
    std::unique_ptr<store::StateStore> m_store;
    std::unique_ptr<PlanStore> m_plans;
    QList<StoredItem> m_queue;
    int m_next = 0; // the next item to start
    int m_active = 0; // items being read or written
    QList<int> m_graphReads; // items waiting for the next $batch of reads
    QList<QPair<int, QList<Value>>> m_toSend; // in_flight, sent after the next flush
    bool m_flushScheduled = false;
    bool m_pumping = false;
    QElapsedTimer m_heartbeat;
    int m_done = 0; // items finished, for progress
    QList<PlanStore::JournalEntry> m_unsaved; // transitions not yet committed (the next flush's)
    bool m_claimed = false;
    bool m_recheckDirectory = false; // the plan outlived its lifetime
    int m_undecided = 0; // items nobody approved or rejected yet: the plan stays open
    QString m_originalStatus;
    PublishOutcome m_outcome;
    tenant::TenantHttp *m_http = nullptr;
    tenant::GraphClient *m_graph = nullptr;
    tenant::ExchangeClient *m_exchange = nullptr;
    std::unique_ptr<directory::LdapConnection> m_ldap;
    std::unique_ptr<certs::ValueAnalyzer> m_analyzer; // made on the first value judged again
};

} // namespace certsync::engine

Q_DECLARE_METATYPE(certsync::engine::PublishOutcome)
