#pragma once

// Staged plans in the state database: the plan, its items with old and new value sets, who
// approved or rejected what, the publish journal per item, and the audit trail. Like StateStore,
// a PlanStore belongs to the thread that opened the store.

#include "core/Result.h"
#include "engine/Approval.h"
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
    QString author; // who staged it, as recorded ("alice" or "alice (via sudo)")
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
    QString hash; // SHA-256 hex of this row and the previous row's hash; empty before the chain began
};

// The people of one plan, as `show`, the staged pane and the audit name them.
struct PlanPeople
{
    QString author;
    QStringList approvers;
    QStringList rejecters;
    QStringList publishers; // who started a publish of it
};

// What `audit verify` found.
struct AuditCheck
{
    bool intact = true;
    qint64 rows = 0;
    qint64 unchained = 0; // rows from before the chain began (schema 10): not protected
    qint64 brokenAt = 0; // the first row whose hash does not match (0: none)
    QString problem; // in words, when not intact
    qint64 headId = 0; // the last row
    QString headHash;
    qint64 externalHeads = 0; // heads from a system-log export that were compared
    qint64 otherTrails = 0; // heads in the export that belong to other state databases
    QString trail; // this trail's id
};

// A head as the system log recorded it: which trail (the first 16 hex digits of the trail's first
// hash: one host may keep several state databases), row id and hash.
struct AuditHead
{
    qint64 id = 0;
    QString hash;
    QString trail;
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
    // cannot change their decision. Returns how many items changed. The approval rules (Approval.h)
    // are checked first: a refusal has code "not_allowed" and changes nothing.
    Result<int> decide(qint64 planId, const QList<int> &itemNumbers, Decision decision, const QString &who,
                       const QString &comment, const ApprovalPolicy &policy = {});
    Result<void> updateJournal(qint64 planId, int itemNumber, const JournalUpdate &update);
    // A journal transition and its audit row in one transaction.
    Result<void> updateJournal(qint64 planId, int itemNumber, const JournalUpdate &update,
                               const AuditEntry &audit);
    // Several transitions, each with its audit row (none where the action is empty), in one
    // transaction: a publisher commits a chunk's transitions at once (one sync, not one per item).
    struct JournalEntry
    {
        int itemNumber = 0;
        JournalUpdate update;
        AuditEntry audit;
    };
    Result<void> updateJournal(qint64 planId, const QList<JournalEntry> &entries);

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
    // Walks the whole trail and checks every hash link; with `heads` (from the system log), also that
    // each of those rows still holds the hash it had, and that none of them is gone.
    Result<AuditCheck> verifyAudit(const QList<AuditHead> &heads = {}) const;
    // The heads certsync sent to the system log, found in an export of it (journalctl, syslog file).
    static QList<AuditHead> parseAuditHeads(const QByteArray &systemLogExport);
    // The settings that matter to the guards (four-eyes, approvers, staging, threshold, trust), as
    // "key=value" pairs: when they differ from the last ones recorded, a "settings_changed" row names
    // what changed (and by whom: the account whose settings these are). A key not given keeps its
    // recorded value (a command that does not use the trust gives no trust digest). Returns whether a
    // row was added.
    Result<bool> recordSettings(const QString &who, const QList<QPair<QString, QString>> &settings);
    // Who staged, approved, rejected and published the plan (recorded names, first come first).
    Result<PlanPeople> people(qint64 planId) const;

private:
    // Appends one row to the chain inside the caller's transaction; the row is inserted first (the
    // write lock), then linked to the row before it. Returns the new head.
    Result<AuditHead> appendAudit(const QString &who, const QString &action, qint64 planId, int itemNumber,
                                  const QString &detail);
    // Sends a committed head to the system log (syslog(3), facility authpriv).
    void announce(const AuditHead &head, const QString &action, const QString &who);
    QString m_trail; // the trail's id, once known

    store::StateStore &m_store;
};

} // namespace certsync::engine
