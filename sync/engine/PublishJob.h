#pragma once

// Applies the approved items of a plan, one at a time, through the journal:
//   pending -> in_flight (written before the request leaves) -> applied | failed.
// After a crash or kill an item left in_flight is read back from its target first: if the target
// already holds the new values the item is marked applied without writing again; if it still holds
// the old ones the write is sent; anything else is someone else's change and fails the item.
// Failed items are retried the same way (read first). A stale plan reads every item first.

#include "directory/ConnectionProfile.h"
#include "engine/PlanStore.h"
#include "jobs/Job.h"
#include "tenant/TenantSettings.h"

#include <QPointer>

#include <memory>
#include <optional>

namespace certsync::directory {
class LdapConnection;
}
namespace certsync::tenant {
class TenantHttp;
class GraphClient;
class ExchangeClient;
struct TenantError;
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
    int deletionThreshold = 500; // removed values per publish, as Entra Connect's default
    bool allowDeletions = false; // the explicit, audited override of the threshold
    bool staging = false; // compute and report, never write
};

struct PublishOutcome
{
    bool refused = false; // a guard (deletion threshold) said no; nothing was written
    bool staging = false;
    int considered = 0; // approved items not yet applied when the run began
    int applied = 0; // written in this run
    int confirmedByRead = 0; // found already in place (a resumed in_flight item, or someone else's write)
    int failed = 0;
    int skippedApplied = 0; // applied by an earlier run: not redone
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
    void next();
    void readTarget(const StoredItem &item);
    void decideAfterRead(const StoredItem &item, const QList<Value> &current);
    void write(const StoredItem &item, const QList<QByteArray> &ldapRemove = {});
    void applied(const StoredItem &item, const QString &requestId, const QString &clientRequestId,
                 int attempts, bool byRead);
    void failed(const StoredItem &item, const QString &error, int httpStatus = 0,
                const QString &requestId = {}, const QString &clientRequestId = {});
    void failedTenant(const StoredItem &item, const tenant::TenantError &error);
    Result<directory::LdapConnection *> ldap();
    QString ldapAttribute(ItemAttribute attribute) const;
    void end(bool success, const QString &summary);
    bool journal(const StoredItem &item, const JournalUpdate &update);

    PublishSettings m_settings;
    std::unique_ptr<store::StateStore> m_store;
    std::unique_ptr<PlanStore> m_plans;
    QList<StoredItem> m_queue;
    int m_index = 0;
    bool m_recheckAll = false;
    int m_undecided = 0; // items nobody approved or rejected yet: the plan stays open
    QString m_originalStatus;
    PublishOutcome m_outcome;
    tenant::TenantHttp *m_http = nullptr;
    tenant::GraphClient *m_graph = nullptr;
    tenant::ExchangeClient *m_exchange = nullptr;
    std::unique_ptr<directory::LdapConnection> m_ldap;
};

} // namespace certsync::engine

Q_DECLARE_METATYPE(certsync::engine::PublishOutcome)
