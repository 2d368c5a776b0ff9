#include "engine/PublishJob.h"

#include "core/Logging.h"
#include "directory/LdapConnection.h"
#include "tenant/ExchangeClient.h"
#include "tenant/GraphClient.h"
#include "tenant/TenantHttp.h"

#include <algorithm>

namespace certsync::engine {

using jobs::LogRecord;

namespace {

QList<QByteArray> sortedDigests(const QList<Value> &values)
{
    QList<QByteArray> d;
    for (const Value &v : values)
        d.append(v.sha256);
    std::sort(d.begin(), d.end());
    return d;
}

QList<Value> valuesOfBytes(const QList<QByteArray> &bytes)
{
    QList<Value> out;
    for (const QByteArray &b : bytes)
        out.append(valueOf(b));
    return out;
}

QList<QByteArray> bytesOf(const QList<Value> &values)
{
    QList<QByteArray> out;
    for (const Value &v : values)
        out.append(v.bytes);
    return out;
}

QString describe(const StoredItem &s)
{
    return QStringLiteral("item %1 (%2 %3 of %4)")
        .arg(s.item.number)
        .arg(channelName(s.item.channel), itemAttributeName(s.item.attribute), s.item.userLabel);
}

} // namespace

PublishJob::PublishJob(PublishSettings settings, QObject *parent)
    : jobs::Job(QStringLiteral("publish"), parent)
    , m_settings(std::move(settings))
{
    qRegisterMetaType<PublishOutcome>();
}

PublishJob::~PublishJob() = default;

void PublishJob::doStart()
{
    auto opened = store::StateStore::open(m_settings.statePath);
    if (!opened) {
        m_outcome.error = opened.error();
        end(false, opened.error().message);
        return;
    }
    m_store = std::move(*opened);
    m_plans = std::make_unique<PlanStore>(*m_store);
    auto plan = m_plans->plan(m_settings.planId);
    if (!plan) {
        m_outcome.error = plan.error();
        end(false, plan.error().message);
        return;
    }
    m_originalStatus = plan->status;
    m_recheckAll = plan->status == QLatin1String("stale");
    auto items = m_plans->items(m_settings.planId);
    if (!items) {
        m_outcome.error = items.error();
        end(false, items.error().message);
        return;
    }
    for (const StoredItem &s : std::as_const(*items)) {
        if (s.decision != Decision::Approved) {
            ++m_outcome.unapproved; // never touched, whatever its journal says
            if (s.decision == Decision::Pending)
                ++m_undecided;
        } else if (s.state == JournalState::Applied)
            ++m_outcome.skippedApplied;
        else {
            m_queue.append(s);
            m_outcome.removedValues += s.item.removed.size();
        }
    }
    m_outcome.considered = int(m_queue.size());

    if (m_outcome.removedValues > m_settings.deletionThreshold) {
        const QString detail = QStringLiteral("%1 values would be removed, over the deletion threshold of %2")
                                   .arg(m_outcome.removedValues)
                                   .arg(m_settings.deletionThreshold);
        if (!m_settings.allowDeletions) {
            m_outcome.refused = true;
            (void)m_plans->audit(m_settings.who, QStringLiteral("publish_refused"), m_settings.planId, 0,
                                 detail);
            log(LogRecord::Level::Error, detail + QStringLiteral("; nothing was published"));
            m_outcome.error = Error { QStringLiteral("deletion_threshold"), detail };
            end(false, detail);
            return;
        }
        // The override is a decision someone took: it goes in the audit trail before any write.
        (void)m_plans->audit(m_settings.who, QStringLiteral("threshold_override"), m_settings.planId, 0,
                             detail);
        log(LogRecord::Level::Warning, detail + QStringLiteral("; allowed by an explicit override"));
    }
    if (m_settings.staging) {
        m_outcome.staging = true;
        const QString detail =
            QStringLiteral("staging mode: %1 approved items would be published, nothing was written")
                .arg(m_outcome.considered);
        (void)m_plans->audit(m_settings.who, QStringLiteral("publish_staging"), m_settings.planId, 0, detail);
        log(LogRecord::Level::Info, detail);
        end(true, detail);
        return;
    }

    const bool needsTenant = std::any_of(m_queue.cbegin(), m_queue.cend(), [](const StoredItem &s) {
        return s.item.channel != Channel::Directory;
    });
    const bool needsDirectory = std::any_of(m_queue.cbegin(), m_queue.cend(), [](const StoredItem &s) {
        return s.item.channel == Channel::Directory;
    });
    if (needsTenant && !m_settings.tenant) {
        m_outcome.error = Error { QStringLiteral("config"),
                                  QStringLiteral("the plan has tenant items: tenant settings are needed") };
        end(false, m_outcome.error.message);
        return;
    }
    if (needsDirectory && !m_settings.directory) {
        m_outcome.error =
            Error { QStringLiteral("config"),
                    QStringLiteral("the plan has directory items: directory settings are needed") };
        end(false, m_outcome.error.message);
        return;
    }
    if (needsTenant) {
        m_http = new tenant::TenantHttp(*m_settings.tenant, this);
        connect(m_http, &tenant::TenantHttp::logRecord, this,
                [this](const LogRecord &record) { log(record); });
        m_graph = new tenant::GraphClient(m_http, this);
        m_exchange = new tenant::ExchangeClient(m_http, this);
    }
    (void)m_plans->setStatus(m_settings.planId, QStringLiteral("publishing"));
    (void)m_plans->audit(
        m_settings.who, QStringLiteral("publish_start"), m_settings.planId, 0,
        QStringLiteral("%1 approved items to publish, %2 already applied, %3 not approved%4")
            .arg(m_outcome.considered)
            .arg(m_outcome.skippedApplied)
            .arg(m_outcome.unapproved)
            .arg(m_recheckAll ? QStringLiteral(", stale plan: every item re-read first") : QString()));
    reportProgress(0, m_outcome.considered);
    next();
}

void PublishJob::doCancel()
{
    if (m_http)
        m_http->cancelAll();
}

void PublishJob::next()
{
    if (isCanceled()) {
        end(false, QStringLiteral("canceled after %1 of %2 items").arg(m_index).arg(m_queue.size()));
        return;
    }
    if (m_index >= m_queue.size()) {
        end(m_outcome.failed == 0,
            QStringLiteral("%1 applied, %2 already in place, %3 failed, %4 applied before, %5 not approved")
                .arg(m_outcome.applied)
                .arg(m_outcome.confirmedByRead)
                .arg(m_outcome.failed)
                .arg(m_outcome.skippedApplied)
                .arg(m_outcome.unapproved));
        return;
    }
    const StoredItem &item = m_queue.at(m_index);
    // An in_flight item may or may not have reached its target before the process died; a failed one
    // may have failed after the write; a stale plan's targets may have moved: read, then decide.
    const bool readFirst = m_recheckAll || item.state == JournalState::InFlight
        || item.state == JournalState::Failed || item.item.channel == Channel::Directory;
    if (readFirst)
        readTarget(item);
    else
        write(item);
}

void PublishJob::readTarget(const StoredItem &item)
{
    const StoredItem copy = item;
    switch (item.item.channel) {
    case Channel::Exchange:
        m_exchange->getRecipient(
            item.item.target, [this, copy](tenant::TenantResult<tenant::ExchangeRecipient> r) {
                if (!r) {
                    failedTenant(copy, r.error());
                    return;
                }
                decideAfterRead(copy,
                                valuesOfBytes(copy.item.attribute == ItemAttribute::UserCertificate
                                                  ? r->userCertificate
                                                  : r->userSMimeCertificate));
            });
        return;
    case Channel::Graph:
        m_graph->getUser(item.item.target, [this, copy](tenant::TenantResult<tenant::GraphUser> r) {
            if (!r) {
                failedTenant(copy, r.error());
                return;
            }
            QList<Value> current;
            for (const QString &id : std::as_const(r->certificateUserIds))
                current.append(valueOf(id.toUtf8()));
            decideAfterRead(copy, current);
        });
        return;
    case Channel::Directory: {
        auto connection = ldap();
        if (!connection) {
            failed(copy, connection.error().toString());
            return;
        }
        const QString attribute = ldapAttribute(copy.item.attribute);
        auto entry = (*connection)->readEntry(copy.item.target, { attribute });
        if (!entry) {
            failed(copy, entry.error().toString());
            return;
        }
        // Value deletes by exact bytes: delete what is still there, and only that.
        const QList<QByteArray> present = entry->values(attribute);
        QList<QByteArray> remove;
        for (const Value &v : copy.item.removed)
            if (present.contains(v.bytes))
                remove.append(v.bytes);
        if (remove.isEmpty())
            applied(copy, {}, {}, 0, true);
        else
            write(copy, remove);
        return;
    }
    }
}

void PublishJob::decideAfterRead(const StoredItem &item, const QList<Value> &current)
{
    const QList<QByteArray> now = sortedDigests(current);
    if (now == sortedDigests(item.item.newValues)) {
        applied(item, {}, {}, 0, true);
        return;
    }
    if (now == sortedDigests(item.item.oldValues)) {
        write(item);
        return;
    }
    failed(item,
           QStringLiteral(
               "changed_meanwhile: the target holds %1 values that are neither the plan's old nor its new "
               "set; run diff again")
               .arg(current.size()));
}

void PublishJob::write(const StoredItem &item, const QList<QByteArray> &ldapRemove)
{
    // The journal says in_flight before the request can leave: a kill from here on is resolved by a
    // read on the next run, never by a blind second write.
    if (!journal(item, JournalUpdate { JournalState::InFlight, true, 0, {}, {}, {} }))
        return;
    log(LogRecord::Level::Info, QStringLiteral("writing %1").arg(describe(item)), item.item.userLabel,
        channelName(item.item.channel));
    const StoredItem copy = item;
    // Both tenant channels answer with a write receipt: journal it as applied, or the error as failed.
    const auto onTenantWrite = [this, copy](tenant::TenantResult<tenant::WriteReceipt> r) {
        if (!r)
            failedTenant(copy, r.error());
        else
            applied(copy, r->requestId, r->clientRequestId, r->attempts, r->confirmedByRead);
    };
    switch (item.item.channel) {
    case Channel::Exchange: {
        tenant::RecipientCertificateChange change;
        change.identity = item.item.target;
        change.recipientTypeDetails = item.item.recipientTypeDetails;
        if (item.item.attribute == ItemAttribute::UserCertificate)
            change.userCertificate = bytesOf(item.item.newValues);
        else
            change.userSMimeCertificate = bytesOf(item.item.newValues);
        m_exchange->setCertificates(change, onTenantWrite);
        return;
    }
    case Channel::Graph: {
        tenant::CertificateUserIdsChange change;
        change.userId = item.item.target;
        for (const Value &v : item.item.newValues)
            change.values.append(QString::fromUtf8(v.bytes));
        m_graph->setCertificateUserIds(change, onTenantWrite);
        return;
    }
    case Channel::Directory: {
        auto connection = ldap();
        if (!connection) {
            failed(copy, connection.error().toString());
            return;
        }
        auto done =
            (*connection)->modifyValues(copy.item.target, ldapAttribute(copy.item.attribute), ldapRemove, {});
        if (!done)
            failed(copy, done.error().toString());
        else
            applied(copy, {}, {}, 1, false);
        return;
    }
    }
}

void PublishJob::applied(const StoredItem &item, const QString &requestId, const QString &clientRequestId,
                         int attempts, bool byRead)
{
    if (!journal(
            item,
            JournalUpdate { JournalState::Applied, false, byRead ? 0 : 200, requestId, clientRequestId, {} }))
        return;
    if (byRead)
        ++m_outcome.confirmedByRead;
    else
        ++m_outcome.applied;
    LogRecord record;
    record.level = LogRecord::Level::Info;
    record.user = item.item.userLabel;
    record.channel = channelName(item.item.channel);
    record.message = byRead
        ? QStringLiteral("%1 already in place (read back), not written again").arg(describe(item))
        : QStringLiteral("%1 applied (-%2 +%3 values, %4 attempt(s))")
              .arg(describe(item))
              .arg(item.item.removed.size())
              .arg(item.item.added.size())
              .arg(attempts);
    record.requestId = requestId;
    record.clientRequestId = clientRequestId;
    log(record);
    (void)m_plans->audit(m_settings.who,
                         byRead ? QStringLiteral("item_confirmed") : QStringLiteral("item_applied"),
                         m_settings.planId, item.item.number, requestId);
    ++m_index;
    reportProgress(m_index, m_queue.size(), item.item.userLabel);
    QMetaObject::invokeMethod(this, &PublishJob::next, Qt::QueuedConnection);
}

void PublishJob::failed(const StoredItem &item, const QString &error, int httpStatus,
                        const QString &requestId, const QString &clientRequestId)
{
    if (!journal(
            item,
            JournalUpdate { JournalState::Failed, false, httpStatus, requestId, clientRequestId, error }))
        return;
    ++m_outcome.failed;
    LogRecord record;
    record.level = LogRecord::Level::Error;
    record.user = item.item.userLabel;
    record.channel = channelName(item.item.channel);
    record.message = QStringLiteral("%1 failed: %2").arg(describe(item), error);
    record.httpStatus = httpStatus;
    record.requestId = requestId;
    record.clientRequestId = clientRequestId;
    log(record);
    (void)m_plans->audit(m_settings.who, QStringLiteral("item_failed"), m_settings.planId, item.item.number,
                         error);
    ++m_index;
    reportProgress(m_index, m_queue.size(), item.item.userLabel);
    QMetaObject::invokeMethod(this, &PublishJob::next, Qt::QueuedConnection);
}

void PublishJob::failedTenant(const StoredItem &item, const tenant::TenantError &error)
{
    if (error.source == tenant::TenantError::Source::Canceled) {
        end(false, QStringLiteral("canceled"));
        return; // the item stays in_flight or pending: the next run reads it back
    }
    failed(item, error.toString(), error.httpStatus, error.requestId, error.clientRequestId);
}

Result<directory::LdapConnection *> PublishJob::ldap()
{
    if (!m_ldap) {
        auto opened = directory::LdapConnection::open(*m_settings.directory, m_settings.directoryPassword);
        if (!opened)
            return opened.error();
        m_ldap = std::move(*opened);
    }
    return m_ldap.get();
}

QString PublishJob::ldapAttribute(ItemAttribute attribute) const
{
    const directory::AttributeMapping &m = m_settings.directory->mapping;
    return attribute == ItemAttribute::UserSmimeCertificate ? m.userSmimeCertificate : m.userCertificate;
}

bool PublishJob::journal(const StoredItem &item, const JournalUpdate &update)
{
    auto written = m_plans->updateJournal(m_settings.planId, item.item.number, update);
    if (written)
        return true;
    // Without its journal the run cannot promise exactly-once: stop here.
    m_outcome.error = written.error();
    end(false, written.error().message);
    return false;
}

void PublishJob::end(bool success, const QString &summary)
{
    if (isFinished())
        return;
    if (m_plans && !m_outcome.refused && !m_outcome.staging && m_outcome.error.code.isEmpty()) {
        QString status = m_originalStatus;
        const int done = m_outcome.applied + m_outcome.confirmedByRead;
        if (m_outcome.failed > 0)
            status = QStringLiteral("partial");
        else if (m_outcome.considered > 0 && done == m_outcome.considered && m_undecided == 0
                 && !isCanceled())
            status = QStringLiteral("published");
        (void)m_plans->setStatus(m_settings.planId, status);
        (void)m_plans->audit(m_settings.who, QStringLiteral("publish_end"), m_settings.planId, 0, summary);
    }
    emit outcomeReady(m_outcome);
    finish(success, summary);
}

} // namespace certsync::engine
