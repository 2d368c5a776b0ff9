#include "engine/PlanStore.h"

#include <QCryptographicHash>
#include <QDataStream>
#include <QFile>
#include <QRegularExpression>
#include <QSqlError>
#include <QSqlQuery>
#include <QSysInfo>

#include <cerrno>
#include <csignal>
#include <syslog.h>
#include <unistd.h>

namespace certsync::engine {

namespace {

Error sqlError(const QString &what, const QSqlError &error)
{
    return Error { QStringLiteral("state_db"), QStringLiteral("%1: %2").arg(what, error.text()) };
}

QString now()
{
    return QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs);
}

QDateTime parseTime(const QVariant &v)
{
    QDateTime t = QDateTime::fromString(v.toString(), Qt::ISODateWithMs);
    t.setTimeSpec(Qt::UTC);
    return t;
}

QByteArray encodeValues(const QList<Value> &values)
{
    QByteArray bytes;
    QDataStream s(&bytes, QIODevice::WriteOnly);
    s.setVersion(QDataStream::Qt_6_4);
    s << qint32(values.size());
    for (const Value &v : values)
        s << v.sha256 << v.bytes << v.notAfter;
    return bytes;
}

QList<Value> decodeValues(const QByteArray &bytes)
{
    QList<Value> values;
    QDataStream s(bytes);
    s.setVersion(QDataStream::Qt_6_4);
    qint32 count = 0;
    s >> count;
    for (qint32 i = 0; i < count && s.status() == QDataStream::Ok; ++i) {
        Value v;
        s >> v.sha256 >> v.bytes >> v.notAfter;
        values.append(std::move(v));
    }
    return values;
}

QString digests(const QList<Value> &values)
{
    QStringList hex;
    for (const Value &v : values)
        hex.append(v.sha256Hex());
    return hex.join(QLatin1Char(' '));
}

class Transaction
{
public:
    enum Kind { Deferred, Immediate };
    explicit Transaction(QSqlDatabase db, Kind kind = Deferred)
        : m_db(std::move(db))
    {
        if (kind == Deferred) {
            m_open = m_db.transaction();
            m_error = m_db.lastError();
            return;
        }
        QSqlQuery begin(m_db); // commit() and rollback() below end it as they end Qt's own
        m_open = begin.exec(QStringLiteral("BEGIN IMMEDIATE"));
        m_error = begin.lastError();
    }
    [[nodiscard]] QSqlError error() const { return m_error; }
    ~Transaction()
    {
        if (m_open)
            m_db.rollback();
    }
    [[nodiscard]] bool isOpen() const { return m_open; }
    bool commit()
    {
        m_open = false;
        return m_db.commit();
    }

private:
    QSqlDatabase m_db;
    bool m_open = false;
    QSqlError m_error;
};

} // namespace

QString decisionName(Decision decision)
{
    switch (decision) {
    case Decision::Pending:
        return QStringLiteral("pending");
    case Decision::Approved:
        return QStringLiteral("approved");
    case Decision::Rejected:
        return QStringLiteral("rejected");
    }
    return {};
}

QString journalStateName(JournalState state)
{
    switch (state) {
    case JournalState::Pending:
        return QStringLiteral("pending");
    case JournalState::InFlight:
        return QStringLiteral("in_flight");
    case JournalState::Applied:
        return QStringLiteral("applied");
    case JournalState::Failed:
        return QStringLiteral("failed");
    case JournalState::Conflict:
        return QStringLiteral("conflict");
    }
    return {};
}

std::optional<JournalState> journalStateFromName(const QString &name)
{
    for (JournalState s : { JournalState::Pending, JournalState::InFlight, JournalState::Applied,
                            JournalState::Failed, JournalState::Conflict })
        if (journalStateName(s) == name)
            return s;
    return std::nullopt;
}

PlanStore::PlanStore(store::StateStore &store)
    : m_store(store)
{ }

Result<qint64> PlanStore::savePlan(const DiffResult &diff, const PlanSource &source, const QString &who)
{
    QSqlDatabase db = m_store.database();
    Transaction tx(db);
    if (!tx.isOpen())
        return sqlError(QStringLiteral("cannot store the plan"), db.lastError());
    QSqlQuery q(db);
    // Whatever was staged before was computed from older data: publishing it re-checks every item.
    if (!q.exec(QStringLiteral("UPDATE plans SET status = 'stale' WHERE status IN ('staged', 'partial')")))
        return sqlError(QStringLiteral("cannot mark older plans stale"), q.lastError());
    // A plan left in `publishing` by a process that is gone is as stale as a staged one; one that is
    // being published right now stays with its publisher (who sees the newer plan afterwards).
    if (!q.exec(QStringLiteral("SELECT p.id, c.plan_id, c.who, c.host, c.pid, c.process_start, c.started, "
                               "c.heartbeat FROM plans p LEFT JOIN plan_claims c ON c.plan_id = p.id "
                               "WHERE p.status = 'publishing'")))
        return sqlError(QStringLiteral("cannot mark older plans stale"), q.lastError());
    QList<qint64> abandoned;
    while (q.next()) {
        if (q.value(1).isNull()) {
            abandoned.append(q.value(0).toLongLong());
            continue;
        }
        const PlanClaim holder { q.value(1).toLongLong(), q.value(2).toString(), q.value(3).toString(),
                                 q.value(4).toLongLong(), q.value(5).toString(), parseTime(q.value(6)),
                                 parseTime(q.value(7)) };
        if (!holder.isAlive())
            abandoned.append(holder.planId);
    }
    for (const qint64 planId : std::as_const(abandoned)) {
        q.prepare(QStringLiteral("UPDATE plans SET status = 'stale' WHERE id = ?"));
        q.addBindValue(planId);
        if (!q.exec())
            return sqlError(QStringLiteral("cannot mark older plans stale"), q.lastError());
    }
    q.prepare(
        QStringLiteral("INSERT INTO plans (created, status, directory_server, directory_read_at, tenant_id, "
                       "tenant_read_at, items, removed_values, added_values, matched, author) "
                       "VALUES (?, 'staged', ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    q.addBindValue(now());
    q.addBindValue(source.directoryServer);
    q.addBindValue(source.directoryReadAt.toUTC().toString(Qt::ISODateWithMs));
    q.addBindValue(source.tenantId);
    q.addBindValue(source.tenantReadAt.toUTC().toString(Qt::ISODateWithMs));
    q.addBindValue(int(diff.items.size()));
    q.addBindValue(diff.removedValues);
    q.addBindValue(diff.addedValues);
    q.addBindValue(diff.matched);
    q.addBindValue(who);
    if (!q.exec())
        return sqlError(QStringLiteral("cannot store the plan"), q.lastError());
    const qint64 id = q.lastInsertId().toLongLong();

    QSqlQuery item(db);
    item.prepare(QStringLiteral(
        "INSERT INTO plan_items (plan_id, item_no, user_key, user_label, tenant_object_id, matched_by, "
        "channel, "
        "attribute, operation, target, recipient_type, old_sha256, new_sha256, old_values, new_values, "
        "removed_values, removed, added, reasons) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?)"));
    QSqlQuery journal(db);
    journal.prepare(QStringLiteral(
        "INSERT INTO journal (plan_id, item_no, state, attempts, updated) VALUES (?, ?, 'pending', 0, ?)"));
    const QString time = now();
    for (const PlanItem &i : diff.items) {
        const QVariantList values = { id,
                                      i.number,
                                      i.userKey,
                                      i.userLabel,
                                      i.tenantObjectId,
                                      matchMethodName(i.matchedBy),
                                      channelName(i.channel),
                                      itemAttributeName(i.attribute),
                                      operationName(i.operation),
                                      i.target,
                                      i.recipientTypeDetails,
                                      digests(i.oldValues),
                                      digests(i.newValues),
                                      encodeValues(i.oldValues),
                                      encodeValues(i.newValues),
                                      encodeValues(i.removed),
                                      int(i.removed.size()),
                                      int(i.added.size()),
                                      i.reasons.join(QLatin1Char(';')) };
        for (int c = 0; c < values.size(); ++c)
            item.bindValue(c, values.at(c));
        if (!item.exec())
            return sqlError(QStringLiteral("cannot store plan item %1").arg(i.number), item.lastError());
        journal.bindValue(0, id);
        journal.bindValue(1, i.number);
        journal.bindValue(2, time);
        if (!journal.exec())
            return sqlError(QStringLiteral("cannot store plan item %1").arg(i.number), journal.lastError());
    }

    QSqlQuery finding(db);
    finding.prepare(QStringLiteral("INSERT INTO plan_findings (plan_id, kind, user_key, user_label, code, "
                                   "detail) VALUES (?, ?, ?, ?, ?, ?)"));
    auto addFinding = [&](const Finding &f) {
        finding.bindValue(0, id);
        finding.bindValue(1, f.kind);
        finding.bindValue(2, f.userKey);
        finding.bindValue(3, f.userLabel);
        finding.bindValue(4, f.code);
        finding.bindValue(5, f.detail);
        return finding.exec();
    };
    bool findingsOk = true;
    for (const Warning &w : diff.warnings)
        findingsOk &= addFinding(Finding { QStringLiteral("warning"), w.userKey, w.userLabel,
                                           warningKindName(w.kind), w.message });
    for (const UnmatchedDirectoryUser &u : diff.unmatchedDirectory)
        findingsOk &=
            addFinding(Finding { QStringLiteral("unmatched_directory"), u.dn, u.label, u.reason, {} });
    for (const UnmatchedTenantUser &u : diff.unmatchedTenant)
        findingsOk &=
            addFinding(Finding { QStringLiteral("unmatched_tenant"), u.id, u.userPrincipalName, {}, {} });
    for (const AwaitingEntraConnect &a : diff.awaiting)
        findingsOk &= addFinding(Finding {
            QStringLiteral("awaiting_entra_connect"), a.userKey, a.userLabel, itemAttributeName(a.attribute),
            QStringLiteral("%1 missing, %2 extra in the tenant").arg(a.missing).arg(a.extra) });
    if (!findingsOk)
        return sqlError(QStringLiteral("cannot store the plan's findings"), finding.lastError());

    auto head = appendAudit(who, QStringLiteral("plan_created"), id, 0,
                            QStringLiteral("%1 items, %2 values removed, %3 added")
                                .arg(diff.items.size())
                                .arg(diff.removedValues)
                                .arg(diff.addedValues));
    if (!head)
        return head.error();
    if (!tx.commit())
        return sqlError(QStringLiteral("cannot store the plan"), db.lastError());
    announce(*head, QStringLiteral("plan_created"), who);
    return id;
}

namespace {

const QString summarySelect = QStringLiteral(
    "SELECT p.id, p.created, p.status, p.directory_server, p.directory_read_at, p.tenant_id, "
    "p.tenant_read_at, "
    "p.items, p.removed_values, p.added_values, p.matched, "
    "(SELECT COUNT(*) FROM plan_items i WHERE i.plan_id = p.id AND i.decision = 'approved'), "
    "(SELECT COUNT(*) FROM plan_items i WHERE i.plan_id = p.id AND i.decision = 'rejected'), "
    "(SELECT COUNT(*) FROM journal j WHERE j.plan_id = p.id AND j.state = 'applied'), "
    "(SELECT COUNT(*) FROM journal j WHERE j.plan_id = p.id AND j.state = 'failed'), "
    "(SELECT COUNT(*) FROM plan_findings f WHERE f.plan_id = p.id AND f.kind = 'warning'), "
    "(SELECT COUNT(*) FROM plan_findings f WHERE f.plan_id = p.id AND f.kind = 'unmatched_directory'), "
    "(SELECT COUNT(*) FROM plan_findings f WHERE f.plan_id = p.id AND f.kind = 'unmatched_tenant'), "
    "(SELECT COUNT(*) FROM plan_findings f WHERE f.plan_id = p.id AND f.kind = 'awaiting_entra_connect'), "
    "(SELECT COUNT(*) FROM journal j WHERE j.plan_id = p.id AND j.state = 'conflict'), p.author "
    "FROM plans p");

PlanSummary summaryFrom(const QSqlQuery &q)
{
    PlanSummary s;
    s.id = q.value(0).toLongLong();
    s.created = parseTime(q.value(1));
    s.status = q.value(2).toString();
    s.source.directoryServer = q.value(3).toString();
    s.source.directoryReadAt = parseTime(q.value(4));
    s.source.tenantId = q.value(5).toString();
    s.source.tenantReadAt = parseTime(q.value(6));
    s.items = q.value(7).toInt();
    s.removedValues = q.value(8).toLongLong();
    s.addedValues = q.value(9).toLongLong();
    s.matched = q.value(10).toInt();
    s.approved = q.value(11).toInt();
    s.rejected = q.value(12).toInt();
    s.applied = q.value(13).toInt();
    s.failed = q.value(14).toInt();
    s.warnings = q.value(15).toInt();
    s.unmatchedDirectory = q.value(16).toInt();
    s.unmatchedTenant = q.value(17).toInt();
    s.awaiting = q.value(18).toInt();
    s.conflicts = q.value(19).toInt();
    s.author = q.value(20).toString();
    return s;
}

} // namespace

Result<QList<PlanSummary>> PlanStore::plans() const
{
    QSqlQuery q(m_store.database());
    if (!q.exec(summarySelect + QStringLiteral(" ORDER BY p.id")))
        return sqlError(QStringLiteral("cannot list plans"), q.lastError());
    QList<PlanSummary> out;
    while (q.next())
        out.append(summaryFrom(q));
    return out;
}

Result<PlanSummary> PlanStore::plan(qint64 id) const
{
    QSqlQuery q(m_store.database());
    q.prepare(summarySelect + QStringLiteral(" WHERE p.id = ?"));
    q.addBindValue(id);
    if (!q.exec())
        return sqlError(QStringLiteral("cannot read plan %1").arg(id), q.lastError());
    if (!q.next())
        return Error { QStringLiteral("no_such_plan"), QStringLiteral("there is no plan %1").arg(id) };
    return summaryFrom(q);
}

Result<QList<StoredItem>> PlanStore::items(qint64 planId) const
{
    QSqlQuery q(m_store.database());
    q.setForwardOnly(true);
    q.prepare(
        QStringLiteral("SELECT i.item_no, i.user_key, i.user_label, i.tenant_object_id, i.matched_by, "
                       "i.channel, i.attribute, "
                       "i.operation, i.target, i.recipient_type, i.old_values, i.new_values, "
                       "i.removed_values, i.added, i.reasons, "
                       "i.decision, j.state, j.attempts, j.http_status, j.request_id, j.client_request_id, "
                       "j.error, j.updated, j.seen_values "
                       "FROM plan_items i JOIN journal j ON j.plan_id = i.plan_id AND j.item_no = i.item_no "
                       "WHERE i.plan_id = ? ORDER BY i.item_no"));
    q.addBindValue(planId);
    if (!q.exec())
        return sqlError(QStringLiteral("cannot read plan %1").arg(planId), q.lastError());
    QList<StoredItem> out;
    while (q.next()) {
        StoredItem s;
        PlanItem &i = s.item;
        i.number = q.value(0).toInt();
        i.userKey = q.value(1).toString();
        i.userLabel = q.value(2).toString();
        i.tenantObjectId = q.value(3).toString();
        const QString matched = q.value(4).toString();
        for (MatchMethod m : { MatchMethod::SourceAnchor, MatchMethod::ConsistencyGuid,
                               MatchMethod::UserPrincipalName, MatchMethod::Mail })
            if (matchMethodName(m) == matched)
                i.matchedBy = m;
        i.channel = channelFromName(q.value(5).toString()).value_or(Channel::Exchange);
        i.attribute = itemAttributeFromName(q.value(6).toString()).value_or(ItemAttribute::UserCertificate);
        i.operation = operationFromName(q.value(7).toString()).value_or(Operation::Replace);
        i.target = q.value(8).toString();
        i.recipientTypeDetails = q.value(9).toString();
        i.oldValues = decodeValues(q.value(10).toByteArray());
        i.newValues = decodeValues(q.value(11).toByteArray());
        i.removed = decodeValues(q.value(12).toByteArray());
        // `added` is derivable from the two sets; only its count is stored.
        QList<QByteArray> oldDigests;
        for (const Value &v : std::as_const(i.oldValues))
            oldDigests.append(v.sha256);
        for (const Value &v : std::as_const(i.newValues))
            if (!oldDigests.contains(v.sha256))
                i.added.append(v);
        const QString reasons = q.value(14).toString();
        i.reasons = reasons.isEmpty() ? QStringList() : reasons.split(QLatin1Char(';'));
        const QString decision = q.value(15).toString();
        s.decision = decision == QLatin1String("approved") ? Decision::Approved
            : decision == QLatin1String("rejected")        ? Decision::Rejected
                                                           : Decision::Pending;
        s.state = journalStateFromName(q.value(16).toString()).value_or(JournalState::Pending);
        s.attempts = q.value(17).toInt();
        s.httpStatus = q.value(18).toInt();
        s.requestId = q.value(19).toString();
        s.clientRequestId = q.value(20).toString();
        s.error = q.value(21).toString();
        s.updated = parseTime(q.value(22));
        const QString seen = q.value(23).toString();
        s.seenValues = seen.isEmpty() ? QStringList() : seen.split(QLatin1Char(' '));
        out.append(std::move(s));
    }
    return out;
}

Result<QList<Finding>> PlanStore::findings(qint64 planId) const
{
    QSqlQuery q(m_store.database());
    q.prepare(
        QStringLiteral("SELECT kind, user_key, user_label, code, detail FROM plan_findings WHERE plan_id = ? "
                       "ORDER BY rowid"));
    q.addBindValue(planId);
    if (!q.exec())
        return sqlError(QStringLiteral("cannot read the findings of plan %1").arg(planId), q.lastError());
    QList<Finding> out;
    while (q.next())
        out.append(Finding { q.value(0).toString(), q.value(1).toString(), q.value(2).toString(),
                             q.value(3).toString(), q.value(4).toString() });
    return out;
}

Result<int> PlanStore::decide(qint64 planId, const QList<int> &itemNumbers, Decision decision,
                              const QString &who, const QString &comment, const ApprovalPolicy &policy)
{
    auto summary = plan(planId);
    if (!summary)
        return summary.error();
    if (auto allowed = mayDecide(policy, who, planId, summary->author); !allowed)
        return allowed.error();
    // While the second-person rule is off, every decision says so in the trail.
    const QString detail = policy.requireSecondPerson ? comment
        : comment.isEmpty()                           ? fourEyesOffNote()
                            : comment + QStringLiteral(" [") + fourEyesOffNote() + ']';
    if (summary->status == QLatin1String("published"))
        return Error { QStringLiteral("plan_closed"),
                       QStringLiteral("plan %1 is already published").arg(planId) };
    auto all = items(planId);
    if (!all)
        return all.error();
    QList<int> chosen = itemNumbers;
    if (chosen.isEmpty())
        for (const StoredItem &s : std::as_const(*all))
            chosen.append(s.item.number);
    for (int n : std::as_const(chosen))
        if (n < 1 || n > all->size())
            return Error { QStringLiteral("no_such_item"),
                           QStringLiteral("plan %1 has no item %2").arg(planId).arg(n) };

    QSqlDatabase db = m_store.database();
    Transaction tx(db);
    if (!tx.isOpen())
        return sqlError(QStringLiteral("cannot record the decision"), db.lastError());
    QSqlQuery update(db), record(db);
    update.prepare(QStringLiteral("UPDATE plan_items SET decision = ? WHERE plan_id = ? AND item_no = ?"));
    record.prepare(QStringLiteral(
        "INSERT INTO decisions (plan_id, item_no, decision, who, at, comment) VALUES (?, ?, ?, ?, ?, ?)"));
    const QString action =
        decision == Decision::Approved ? QStringLiteral("approve") : QStringLiteral("reject");
    int changed = 0;
    AuditHead head;
    const QString time = now();
    for (int n : std::as_const(chosen)) {
        const StoredItem &s = all->at(n - 1);
        // What has been written cannot be un-approved; a rejection after the fact would lie.
        if (s.state == JournalState::Applied || s.state == JournalState::InFlight || s.decision == decision)
            continue;
        update.bindValue(0, decisionName(decision));
        update.bindValue(1, planId);
        update.bindValue(2, n);
        const QVariantList rec = { planId, n, decisionName(decision), who, time, comment };
        for (int c = 0; c < rec.size(); ++c)
            record.bindValue(c, rec.at(c));
        // The failing statement's own error: the connection's is empty for a statement error.
        if (!update.exec())
            return sqlError(QStringLiteral("cannot record the decision"), update.lastError());
        if (!record.exec())
            return sqlError(QStringLiteral("cannot record the decision"), record.lastError());
        auto appended = appendAudit(who, action, planId, n, detail);
        if (!appended)
            return appended.error();
        head = *appended;
        ++changed;
    }
    if (!tx.commit())
        return sqlError(QStringLiteral("cannot record the decision"), db.lastError());
    if (changed > 0)
        announce(head, action, who);
    return changed;
}

Result<void> PlanStore::updateJournal(qint64 planId, int itemNumber, const JournalUpdate &u)
{
    QSqlQuery q(m_store.database());
    q.prepare(QStringLiteral("UPDATE journal SET state = ?, attempts = attempts + ?, http_status = ?, "
                             "request_id = ?, client_request_id = ?, error = ?, updated = ?, seen_values = ? "
                             "WHERE plan_id = ? AND item_no = ?"));
    q.addBindValue(journalStateName(u.state));
    q.addBindValue(u.countAttempt ? 1 : 0);
    q.addBindValue(u.httpStatus);
    q.addBindValue(u.requestId);
    q.addBindValue(u.clientRequestId);
    q.addBindValue(u.error);
    q.addBindValue(now());
    q.addBindValue(u.seenValues.isEmpty() ? QVariant() : QVariant(u.seenValues.join(QLatin1Char(' '))));
    q.addBindValue(planId);
    q.addBindValue(itemNumber);
    if (!q.exec())
        return sqlError(QStringLiteral("cannot write the journal"), q.lastError());
    if (q.numRowsAffected() != 1)
        return Error { QStringLiteral("no_such_item"),
                       QStringLiteral("plan %1 has no item %2").arg(planId).arg(itemNumber) };
    return {};
}

Result<void> PlanStore::updateJournal(qint64 planId, int itemNumber, const JournalUpdate &update,
                                      const AuditEntry &entry)
{
    return updateJournal(planId, { JournalEntry { itemNumber, update, entry } });
}

Result<void> PlanStore::updateJournal(qint64 planId, const QList<JournalEntry> &entries)
{
    QSqlDatabase db = m_store.database();
    Transaction tx(db);
    if (!tx.isOpen())
        return sqlError(QStringLiteral("cannot write the journal"), db.lastError());
    std::optional<std::pair<AuditHead, AuditEntry>> last;
    for (const JournalEntry &e : entries) {
        if (auto written = updateJournal(planId, e.itemNumber, e.update); !written)
            return written.error();
        if (e.audit.action.isEmpty())
            continue;
        auto head = appendAudit(e.audit.who, e.audit.action, planId, e.itemNumber, e.audit.detail);
        if (!head)
            return head.error();
        last.emplace(*head, e.audit);
    }
    if (!tx.commit())
        return sqlError(QStringLiteral("cannot write the journal"), db.lastError());
    if (last) // one head per commit: the system log gets the chain's end, not every item
        announce(last->first, last->second.action, last->second.who);
    return {};
}

Result<void> PlanStore::setStatus(qint64 planId, const QString &status)
{
    QSqlQuery q(m_store.database());
    q.prepare(QStringLiteral("UPDATE plans SET status = ? WHERE id = ?"));
    q.addBindValue(status);
    q.addBindValue(planId);
    if (!q.exec())
        return sqlError(QStringLiteral("cannot update plan %1").arg(planId), q.lastError());
    return {};
}

Result<void> PlanStore::audit(const QString &who, const QString &action, qint64 planId, int itemNumber,
                              const QString &detail)
{
    QSqlDatabase db = m_store.database();
    Transaction tx(db);
    if (!tx.isOpen())
        return sqlError(QStringLiteral("cannot write the audit trail"), db.lastError());
    auto head = appendAudit(who, action, planId, itemNumber, detail);
    if (!head)
        return head.error();
    if (!tx.commit())
        return sqlError(QStringLiteral("cannot write the audit trail"), db.lastError());
    announce(*head, action, who);
    return {};
}

namespace {

// The chain's link: SHA-256 over the previous row's hash and this row's fields, each field's UTF-8
// followed by a unit separator (no field can run into the next), hex.
QString auditHash(const QString &previous, qint64 id, const QString &at, const QString &who,
                  const QString &action, qint64 planId, int itemNumber, const QString &detail)
{
    QCryptographicHash h(QCryptographicHash::Sha256);
    for (const QString &field : { previous, QString::number(id), at, who, action, QString::number(planId),
                                  QString::number(itemNumber), detail }) {
        h.addData(field.toUtf8());
        h.addData(QByteArrayView("\x1f", 1));
    }
    return QString::fromLatin1(h.result().toHex());
}

} // namespace

Result<AuditHead> PlanStore::appendAudit(const QString &who, const QString &action, qint64 planId,
                                         int itemNumber, const QString &detail)
{
    QSqlDatabase db = m_store.database();
    const QString at = now();
    QSqlQuery q(db);
    q.prepare(QStringLiteral(
        "INSERT INTO audit (at, who, action, plan_id, item_no, detail) VALUES (?, ?, ?, ?, ?, ?)"));
    for (const QVariant &v : { QVariant(at), QVariant(who), QVariant(action), QVariant(planId),
                               QVariant(itemNumber), QVariant(detail) })
        q.addBindValue(v);
    if (!q.exec())
        return sqlError(QStringLiteral("cannot write the audit trail"), q.lastError());
    const qint64 id = q.lastInsertId().toLongLong();
    // The insert holds the write lock: the row before is the chain's end for every writer.
    q.prepare(QStringLiteral("SELECT hash FROM audit WHERE id < ? ORDER BY id DESC LIMIT 1"));
    q.addBindValue(id);
    if (!q.exec())
        return sqlError(QStringLiteral("cannot read the audit trail"), q.lastError());
    const QString previous = q.next() ? q.value(0).toString() : QString();
    const QString hash = auditHash(previous, id, at, who, action, planId, itemNumber, detail);
    q.prepare(QStringLiteral("UPDATE audit SET hash = ? WHERE id = ?"));
    q.addBindValue(hash);
    q.addBindValue(id);
    if (!q.exec())
        return sqlError(QStringLiteral("cannot write the audit trail"), q.lastError());
    return AuditHead { id, hash, {} };
}

void PlanStore::announce(const AuditHead &head, const QString &action, const QString &who)
{
    static const bool opened = [] {
        openlog("certsync", LOG_PID, LOG_AUTHPRIV);
        return true;
    }();
    Q_UNUSED(opened);
    if (m_trail.isEmpty()) {
        QSqlQuery q(m_store.database());
        if (q.exec(QStringLiteral("SELECT hash FROM audit WHERE hash IS NOT NULL ORDER BY id LIMIT 1"))
            && q.next())
            m_trail = q.value(0).toString().left(16);
    }
    // The format is what parseAuditHeads() reads back from an export of the system log.
    syslog(LOG_NOTICE, "audit head: trail %s row %lld sha256 %s (%s by %s)", m_trail.toLatin1().constData(),
           static_cast<long long>(head.id), head.hash.toLatin1().constData(), action.toUtf8().constData(),
           who.toUtf8().constData());
}

QList<AuditHead> PlanStore::parseAuditHeads(const QByteArray &systemLogExport)
{
    static const QRegularExpression line(
        QStringLiteral("audit head: trail ([0-9a-f]{16}) row (\\d+) sha256 ([0-9a-f]{64})"));
    QList<AuditHead> heads;
    auto it = line.globalMatch(QString::fromUtf8(systemLogExport));
    while (it.hasNext()) {
        const QRegularExpressionMatch m = it.next();
        heads.append(AuditHead { m.captured(2).toLongLong(), m.captured(3), m.captured(1) });
    }
    return heads;
}

Result<AuditCheck> PlanStore::verifyAudit(const QList<AuditHead> &heads) const
{
    QSqlQuery q(m_store.database());
    q.setForwardOnly(true);
    if (!q.exec(QStringLiteral(
            "SELECT id, at, who, action, plan_id, item_no, detail, hash FROM audit ORDER BY id")))
        return sqlError(QStringLiteral("cannot read the audit trail"), q.lastError());
    AuditCheck check;
    QHash<qint64, QString> stored; // the rows the exported heads name
    QSet<qint64> named;
    for (const AuditHead &h : heads)
        named.insert(h.id);
    QString previous;
    bool chained = false;
    auto breakAt = [&check](qint64 id, const QString &problem) {
        if (!check.intact)
            return;
        check.intact = false;
        check.brokenAt = id;
        check.problem = problem;
    };
    while (q.next()) {
        const qint64 id = q.value(0).toLongLong();
        const QString hash = q.value(7).toString();
        if (check.trail.isEmpty() && !hash.isEmpty())
            check.trail = hash.left(16);
        ++check.rows;
        check.headId = id;
        check.headHash = hash;
        if (named.contains(id))
            stored.insert(id, hash);
        if (hash.isEmpty()) {
            if (chained)
                breakAt(id, QStringLiteral("row %1 has no hash, but rows before it do").arg(id));
            else
                ++check.unchained;
            continue;
        }
        chained = true;
        const QString expected =
            auditHash(previous, id, q.value(1).toString(), q.value(2).toString(), q.value(3).toString(),
                      q.value(4).toLongLong(), q.value(5).toInt(), q.value(6).toString());
        if (expected != hash)
            breakAt(id,
                    QStringLiteral("row %1 does not match its hash: it, or a row before it, was changed, "
                                   "inserted or deleted")
                        .arg(id));
        previous = hash;
    }
    for (const AuditHead &h : heads) {
        if (h.trail != check.trail) {
            ++check.otherTrails;
            continue;
        }
        ++check.externalHeads;
        const auto found = stored.constFind(h.id);
        if (found == stored.cend())
            breakAt(h.id,
                    QStringLiteral("row %1, named by the system log, is gone from the database").arg(h.id));
        else if (*found != h.hash)
            breakAt(h.id,
                    QStringLiteral("row %1 does not hold the hash the system log recorded for it").arg(h.id));
    }
    return check;
}

Result<bool> PlanStore::recordSettings(const QString &who, const QList<QPair<QString, QString>> &settings)
{
    static const QString separator = QStringLiteral(" | now: ");
    QSqlDatabase db = m_store.database();
    // Read, then maybe write: the write lock first (BEGIN IMMEDIATE), so that two processes starting
    // at once queue instead of one failing with a stale snapshot.
    Transaction tx(db, Transaction::Immediate);
    if (!tx.isOpen())
        return sqlError(QStringLiteral("cannot write the audit trail"), tx.error());
    QSqlQuery q(db);
    if (!q.exec(QStringLiteral(
            "SELECT detail FROM audit WHERE action = 'settings_changed' ORDER BY id DESC LIMIT 1")))
        return sqlError(QStringLiteral("cannot read the audit trail"), q.lastError());
    QList<QPair<QString, QString>> before; // in the recorded order
    bool first = true;
    if (q.next()) {
        first = false;
        const QString detail = q.value(0).toString();
        const qsizetype at = detail.indexOf(separator);
        for (const QString &pair :
             detail.mid(at < 0 ? 0 : at + separator.size()).split(QStringLiteral("; "))) {
            const qsizetype eq = pair.indexOf(QLatin1Char('='));
            if (eq > 0)
                before.append({ pair.left(eq), pair.mid(eq + 1) });
        }
    }
    auto valueIn = [](const QList<QPair<QString, QString>> &list,
                      const QString &key) -> std::optional<QString> {
        for (const auto &[k, v] : list)
            if (k == key)
                return v;
        return std::nullopt;
    };
    QStringList changes;
    for (const auto &[key, value] : settings) {
        const std::optional<QString> was = valueIn(before, key);
        if (first || was != value)
            changes.append(first ? key + QLatin1Char(' ') + value
                                 : QStringLiteral("%1 %2 (was %3)")
                                       .arg(key, value, was.value_or(QStringLiteral("unset"))));
    }
    if (changes.isEmpty())
        return false;
    // The whole state after this row: a key this caller did not give (a command that loads no trust
    // gives no trust digest) keeps its recorded value.
    QStringList pairs;
    for (const auto &[key, value] : settings)
        pairs.append(key + QLatin1Char('=') + value);
    for (const auto &[key, value] : std::as_const(before))
        if (!valueIn(settings, key))
            pairs.append(key + QLatin1Char('=') + value);
    const QString state = pairs.join(QStringLiteral("; "));
    const QString detail = (first ? QStringLiteral("first recorded: ") : QStringLiteral("changed: "))
        + changes.join(QStringLiteral(", ")) + separator + state;
    auto head = appendAudit(who, QStringLiteral("settings_changed"), 0, 0, detail);
    if (!head)
        return head.error();
    if (!tx.commit())
        return sqlError(QStringLiteral("cannot write the audit trail"), db.lastError());
    announce(*head, QStringLiteral("settings_changed"), who);
    return true;
}

Result<PlanPeople> PlanStore::people(qint64 planId) const
{
    auto summary = plan(planId);
    if (!summary)
        return summary.error();
    PlanPeople people;
    people.author = summary->author;
    QSqlQuery q(m_store.database());
    q.prepare(QStringLiteral("SELECT decision, who FROM decisions WHERE plan_id = ? GROUP BY decision, who "
                             "ORDER BY MIN(id)"));
    q.addBindValue(planId);
    if (!q.exec())
        return sqlError(QStringLiteral("cannot read the decisions of plan %1").arg(planId), q.lastError());
    while (q.next())
        (q.value(0).toString() == decisionName(Decision::Approved) ? people.approvers : people.rejecters)
            .append(q.value(1).toString());
    q.prepare(QStringLiteral("SELECT who FROM audit WHERE plan_id = ? AND action = 'publish_start' GROUP BY "
                             "who ORDER BY MIN(id)"));
    q.addBindValue(planId);
    if (!q.exec())
        return sqlError(QStringLiteral("cannot read the audit trail of plan %1").arg(planId), q.lastError());
    while (q.next())
        people.publishers.append(q.value(0).toString());
    return people;
}

Result<QList<AuditRow>> PlanStore::auditRows(qint64 planId) const
{
    QSqlQuery q(m_store.database());
    q.prepare(QStringLiteral("SELECT id, at, who, action, plan_id, item_no, detail, hash FROM audit "
                             "WHERE ? = 0 OR plan_id = ? ORDER BY id"));
    q.addBindValue(planId);
    q.addBindValue(planId);
    if (!q.exec())
        return sqlError(QStringLiteral("cannot read the audit trail"), q.lastError());
    QList<AuditRow> out;
    while (q.next())
        out.append(AuditRow { q.value(0).toLongLong(), parseTime(q.value(1)), q.value(2).toString(),
                              q.value(3).toString(), q.value(4).toLongLong(), q.value(5).toInt(),
                              q.value(6).toString(), q.value(7).toString() });
    return out;
}

namespace {

// The kernel's start time of a process (clock ticks since boot, /proc/PID/stat field 22) with the
// boot's id: together with the pid it names one process, even after the pid is reused.
QString processStartOf(qint64 pid)
{
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!stat.open(QIODevice::ReadOnly))
        return {};
    const QByteArray line = stat.readAll();
    const qsizetype close = line.lastIndexOf(')'); // the command name may hold blanks and parentheses
    if (close < 0)
        return {};
    const QList<QByteArray> fields = line.mid(close + 2).split(' ');
    if (fields.size() < 20)
        return {};
    QFile boot(QStringLiteral("/proc/sys/kernel/random/boot_id"));
    const QByteArray bootId = boot.open(QIODevice::ReadOnly) ? boot.readAll().trimmed() : QByteArray();
    return QString::fromLatin1(bootId + ':' + fields.at(19)); // field 22: starttime
}

} // namespace

QString PlanClaim::describe() const
{
    return QStringLiteral("%1 (pid %2 on %3, since %4, last heartbeat %5)")
        .arg(who)
        .arg(pid)
        .arg(host, started.toString(Qt::ISODate), heartbeat.toString(Qt::ISODate));
}

bool PlanClaim::isAlive(int staleAfterSeconds) const
{
    if (host == QSysInfo::machineHostName()) {
        if (::kill(pid_t(pid), 0) != 0 && errno == ESRCH)
            return false;
        return processStartOf(pid) == processStart;
    }
    // Another machine sharing the state folder: only its heartbeat can tell.
    return heartbeat.isValid() && heartbeat.secsTo(QDateTime::currentDateTimeUtc()) < staleAfterSeconds;
}

PlanClaim PlanClaim::ofThisProcess(qint64 planId, const QString &who)
{
    const QDateTime t = QDateTime::currentDateTimeUtc();
    const qint64 pid = ::getpid();
    return PlanClaim { planId, who, QSysInfo::machineHostName(), pid, processStartOf(pid), t, t };
}

Result<std::optional<PlanClaim>> PlanStore::claimOf(qint64 planId) const
{
    QSqlQuery q(m_store.database());
    q.prepare(
        QStringLiteral("SELECT plan_id, who, host, pid, process_start, started, heartbeat FROM plan_claims "
                       "WHERE plan_id = ?"));
    q.addBindValue(planId);
    if (!q.exec())
        return sqlError(QStringLiteral("cannot read the claim on plan %1").arg(planId), q.lastError());
    if (!q.next())
        return std::optional<PlanClaim>();
    return std::optional<PlanClaim>(PlanClaim {
        q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toString(), q.value(3).toLongLong(),
        q.value(4).toString(), parseTime(q.value(5)), parseTime(q.value(6)) });
}

Result<void> PlanStore::claim(const PlanClaim &c, std::optional<PlanClaim> *previous)
{
    // Two tries: the second after a dead holder's claim was removed. Each step is a single statement,
    // atomic in SQLite: the primary key lets one INSERT win; the DELETE removes exactly the dead claim
    // that was read (another process that took it over in between is not touched).
    for (int attempt = 0; attempt < 2; ++attempt) {
        QSqlQuery insert(m_store.database());
        insert.prepare(QStringLiteral("INSERT OR IGNORE INTO plan_claims (plan_id, who, host, pid, "
                                      "process_start, started, heartbeat) VALUES (?, ?, ?, ?, ?, ?, ?)"));
        for (const QVariant &v : { QVariant(c.planId), QVariant(c.who), QVariant(c.host), QVariant(c.pid),
                                   QVariant(c.processStart), QVariant(c.started.toString(Qt::ISODateWithMs)),
                                   QVariant(c.heartbeat.toString(Qt::ISODateWithMs)) })
            insert.addBindValue(v);
        if (!insert.exec())
            return sqlError(QStringLiteral("cannot claim plan %1").arg(c.planId), insert.lastError());
        if (insert.numRowsAffected() == 1)
            return {};
        auto holder = claimOf(c.planId);
        if (!holder)
            return holder.error();
        if (!*holder)
            continue; // released in between: try again
        if ((*holder)->isAlive())
            return Error {
                QStringLiteral("plan_claimed"),
                QStringLiteral("plan %1 is being published by %2").arg(c.planId).arg((*holder)->describe())
            };
        QSqlQuery remove(m_store.database());
        remove.prepare(
            QStringLiteral("DELETE FROM plan_claims WHERE plan_id = ? AND host = ? AND pid = ? AND "
                           "process_start = ? AND started = ?"));
        remove.addBindValue(c.planId);
        remove.addBindValue((*holder)->host);
        remove.addBindValue((*holder)->pid);
        remove.addBindValue((*holder)->processStart);
        remove.addBindValue((*holder)->started.toString(Qt::ISODateWithMs));
        if (!remove.exec())
            return sqlError(QStringLiteral("cannot take over the claim on plan %1").arg(c.planId),
                            remove.lastError());
        if (previous)
            *previous = *holder;
    }
    return Error {
        QStringLiteral("plan_claimed"),
        QStringLiteral("plan %1 is being claimed by another publisher at the same moment").arg(c.planId)
    };
}

Result<void> PlanStore::heartbeat(qint64 planId)
{
    QSqlQuery q(m_store.database());
    q.prepare(
        QStringLiteral("UPDATE plan_claims SET heartbeat = ? WHERE plan_id = ? AND host = ? AND pid = ?"));
    q.addBindValue(now());
    q.addBindValue(planId);
    q.addBindValue(QSysInfo::machineHostName());
    q.addBindValue(qint64(::getpid()));
    if (!q.exec())
        return sqlError(QStringLiteral("cannot renew the claim on plan %1").arg(planId), q.lastError());
    if (q.numRowsAffected() != 1)
        return Error {
            QStringLiteral("plan_claimed"),
            QStringLiteral("this process no longer holds plan %1: another publisher took it over").arg(planId)
        };
    return {};
}

Result<void> PlanStore::release(qint64 planId)
{
    QSqlQuery q(m_store.database());
    q.prepare(QStringLiteral("DELETE FROM plan_claims WHERE plan_id = ? AND host = ? AND pid = ?"));
    q.addBindValue(planId);
    q.addBindValue(QSysInfo::machineHostName());
    q.addBindValue(qint64(::getpid()));
    if (!q.exec())
        return sqlError(QStringLiteral("cannot release plan %1").arg(planId), q.lastError());
    return {};
}

} // namespace certsync::engine
