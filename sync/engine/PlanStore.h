#pragma once

// Staged plans in the state database: the plan, its items with old and new value sets, who
// approved or rejected what, the publish journal per item, and the audit trail. Like StateStore,
// a PlanStore belongs to the thread that opened the store.

#include "core/Result.h"
#include "engine/Diff.h"
#include "store/StateStore.h"

#include <QDateTime>
#include <QList>
#include <QString>

namespace certsync::engine {

enum class Decision { Pending, Approved, Rejected };
QString decisionName(Decision decision); // "pending", "approved", "rejected"

// pending -> in_flight -> applied | failed; failed -> in_flight again on a retry. conflict: the target
// no longer held what the plan was computed from; nothing was written, and nothing will be: the next
// diff plans that user again.
enum class JournalState { Pending, InFlight, Applied, Failed, Conflict };
QString journalStateName(JournalState state); // "pending", "in_flight", "applied", "failed", "conflict"
std::optional<JournalState> journalStateFromName(const QString &name);

// Plan status: staged (approvals open), stale (newer data has been read since), publishing,
// published (every approved item applied), partial (some failed), rejected (every item rejected).
struct PlanSource
{
    QString directoryServer;
    QDateTime directoryReadAt;
    QString tenantId;
    QDateTime tenantReadAt;
};

struct PlanSummary
{
    qint64 id = 0;
    QDateTime created;
    QString status;
    PlanSource source;
    int items = 0;
    qint64 removedValues = 0;
    qint64 addedValues = 0;
    int approved = 0;
    int rejected = 0;
    int applied = 0;
    int failed = 0;
    int conflicts = 0; // items whose target changed after the plan: not written
    int matched = 0;
    int warnings = 0;
    int unmatchedDirectory = 0;
    int unmatchedTenant = 0;
    int awaiting = 0;
};

struct StoredItem
{
    PlanItem item;
    Decision decision = Decision::Pending;
    JournalState state = JournalState::Pending;
    int attempts = 0;
    int httpStatus = 0;
    QString requestId;
    QString clientRequestId;
    QString error;
    QDateTime updated;
    QStringList seenValues; // a conflict: the SHA-256 (hex) of what the target held instead
};

// One finding of the diff kept with the plan for `show` and `export`.
struct Finding
{
    QString kind; // "warning", "unmatched_directory", "unmatched_tenant", "awaiting_entra_connect"
    QString userKey;
    QString userLabel;
    QString code; // warning kind, unmatch reason, attribute
    QString detail;
};

struct AuditRow
{
    qint64 id = 0;
    QDateTime at;
    QString who;
    QString action; // "plan_created", "approve", "reject", "threshold_override", "publish_start", ...
    qint64 planId = 0;
    int itemNumber = 0; // 0: the whole plan
    QString detail;
};

struct JournalUpdate
{
    JournalState state = JournalState::Pending;
    bool countAttempt = false; // adds one to attempts (set with the move to in_flight)
    int httpStatus = 0;
    QString requestId;
    QString clientRequestId;
    QString error;
    QStringList seenValues; // with Conflict
};

// The audit row that commits with a journal transition (same transaction): the trail never says
// less, or more, than the journal.
struct AuditEntry
{
    QString who;
    QString action;
    QString detail;
};

// Who holds a plan for publishing: the process, so that a dead holder can be told from a live one.
struct PlanClaim
{
    qint64 planId = 0;
    QString who;
    QString host;
    qint64 pid = 0;
    QString processStart; // the process's start time as the kernel counts it: a reused pid differs
    QDateTime started;
    QDateTime heartbeat;

    [[nodiscard]] QString describe() const; // "alice (pid 4242 on host, since ..., last heartbeat ...)"
    // The claiming process still runs (same host: pid and start time; another host: a heartbeat
    // younger than `staleAfterSeconds`).
    [[nodiscard]] bool isAlive(int staleAfterSeconds = 120) const;
    static PlanClaim ofThisProcess(qint64 planId, const QString &who);
};

class PlanStore
{
public:
    explicit PlanStore(store::StateStore &store);

    // Stores the diff as a new staged plan (one transaction) and marks older open plans stale:
    // staged, partial, and publishing ones whose publisher is gone.
    Result<qint64> savePlan(const DiffResult &diff, const PlanSource &source, const QString &who);
    Result<QList<PlanSummary>> plans() const;
    Result<PlanSummary> plan(qint64 id) const;
    Result<QList<StoredItem>> items(qint64 planId) const;
    Result<QList<Finding>> findings(qint64 planId) const;

    // Approves or rejects the given items (empty: all), recording who, when and why. Applied items
    // cannot change their decision. Returns how many items changed.
    Result<int> decide(qint64 planId, const QList<int> &itemNumbers, Decision decision, const QString &who,
                       const QString &comment);
    Result<void> updateJournal(qint64 planId, int itemNumber, const JournalUpdate &update);
    // A journal transition and its audit row in one transaction.
    Result<void> updateJournal(qint64 planId, int itemNumber, const JournalUpdate &update,
                               const AuditEntry &audit);

    // One publisher per plan. Claims the plan for this process: refused (code "plan_claimed", naming
    // the holder) while another live process holds it; a dead holder's claim is taken over and
    // returned in `previous`. Atomic across processes (a primary key, and a compare-and-delete of
    // the dead claim).
    Result<void> claim(const PlanClaim &claim, std::optional<PlanClaim> *previous = nullptr);
    Result<void> heartbeat(qint64 planId);
    Result<void> release(qint64 planId);
    Result<std::optional<PlanClaim>> claimOf(qint64 planId) const;
    Result<void> setStatus(qint64 planId, const QString &status);
    Result<void> audit(const QString &who, const QString &action, qint64 planId, int itemNumber,
                       const QString &detail);
    Result<QList<AuditRow>> auditRows(qint64 planId = 0) const;

    // The OS user name, or CERTSYNC_APPROVER when set: who approvals and publishes are recorded for.
    static QString currentOperator();

private:
    store::StateStore &m_store;
};

} // namespace certsync::engine
