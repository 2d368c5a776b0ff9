#include "engine/PublishJob.h"

#include "certs/SerializedStore.h"
#include "certs/ValueAnalyzer.h"
#include "core/Logging.h"
#include "directory/LdapConnection.h"
#include "tenant/ExchangeClient.h"
#include "tenant/GraphClient.h"
#include "tenant/TenantHttp.h"

#include <QJsonArray>
#include <QScopeGuard>
#include <QSqlQuery>

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

QStringList hexOf(const QList<Value> &values)
{
    QStringList out;
    for (const Value &v : values)
        out.append(v.sha256Hex());
    return out;
}

// "{ab12cd34, 9f00e1d2}": short digests for a log line; the journal keeps the whole ones.
QString shortSet(const QList<Value> &values)
{
    QStringList out;
    for (const Value &v : values)
        out.append(v.sha256Hex().left(8));
    return QLatin1Char('{') + out.join(QStringLiteral(", ")) + QLatin1Char('}');
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
    // This connection writes only journal transitions, their audit rows and the claim. With WAL,
    // synchronous=NORMAL survives a killed process but may lose the last commits on power loss;
    // FULL syncs the WAL at every commit, so a transition that returned is on disk before the
    // request it announces leaves. Its cost is in docs/BENCHMARKS.md ("Tenant publish").
    if (QSqlQuery pragma(m_store->database()); !pragma.exec(QStringLiteral("PRAGMA synchronous=FULL"))) {
        m_outcome.error =
            Error { QStringLiteral("state_db"), QStringLiteral("cannot make the journal durable") };
        end(false, m_outcome.error.message);
        return;
    }
    m_plans = std::make_unique<PlanStore>(*m_store);
    auto plan = m_plans->plan(m_settings.planId);
    if (!plan) {
        m_outcome.error = plan.error();
        end(false, plan.error().message);
        return;
    }

    // The approval rules: the author does not publish their own plan (four-eyes). Refused before the
    // claim, with a row in the trail.
    if (auto allowed = mayPublish(m_settings.approval, m_settings.who, m_settings.planId, plan->author);
        !allowed) {
        m_outcome.refused = true;
        m_outcome.error = allowed.error();
        if (!audit(QStringLiteral("publish_refused"), 0, allowed.error().message))
            return;
        end(false, allowed.error().message);
        return;
    }

    // One publisher per plan, before anything else is looked at or written.
    std::optional<PlanClaim> previous;
    if (auto claimed = m_plans->claim(PlanClaim::ofThisProcess(m_settings.planId, m_settings.who), &previous);
        !claimed) {
        m_outcome.claimed = claimed.error().code == QLatin1String("plan_claimed");
        m_outcome.error = claimed.error();
        end(false, claimed.error().message);
        return;
    }
    m_claimed = true;
    if (previous) {
        const QString detail = QStringLiteral("took over from %1, whose process is gone; its in-flight items "
                                              "are read back first")
                                   .arg(previous->describe());
        log(LogRecord::Level::Warning, detail);
        if (!audit(QStringLiteral("publish_takeover"), 0, detail))
            return;
    }

    m_originalStatus = plan->status;
    const qint64 ageSeconds = plan->created.secsTo(QDateTime::currentDateTimeUtc());
    if (ageSeconds > qint64(m_settings.planLifetimeHours) * 3600) {
        const QString age = QStringLiteral("plan %1 is %2 h old, over the plan lifetime of %3 h")
                                .arg(m_settings.planId)
                                .arg(ageSeconds / 3600)
                                .arg(m_settings.planLifetimeHours);
        if (!m_settings.directory) {
            m_outcome.refused = true;
            m_outcome.error =
                Error { QStringLiteral("plan_expired"),
                        age
                            + QStringLiteral(": publishing it reads every item's directory values "
                                             "again, which needs the directory settings; give "
                                             "them, or run diff for a new plan") };
            (void)audit(QStringLiteral("publish_refused"), 0, m_outcome.error.message);
            end(false, m_outcome.error.message);
            return;
        }
        m_recheckDirectory = true;
        log(LogRecord::Level::Info,
            age + QStringLiteral(": every item is read again in the directory and the tenant first"));
    }

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
        } else if (s.state == JournalState::Applied) {
            ++m_outcome.skippedApplied;
        } else if (s.state == JournalState::Conflict) {
            ++m_outcome.skippedConflicts;
        } else {
            m_queue.append(s);
            m_outcome.removedValues += s.item.removed.size();
        }
    }
    m_outcome.considered = int(m_queue.size());

    // Every way around a guard is in the trail: a threshold other than the settings' for this run,
    // and the override given (whether or not this plan needs it).
    if (m_settings.configuredDeletionThreshold >= 0
        && m_settings.deletionThreshold != m_settings.configuredDeletionThreshold
        && !audit(QStringLiteral("threshold_changed"), 0,
                  QStringLiteral("deletion threshold %1 for this publish (the settings say %2)")
                      .arg(m_settings.deletionThreshold)
                      .arg(m_settings.configuredDeletionThreshold)))
        return;
    if (m_settings.allowDeletions && m_outcome.removedValues <= m_settings.deletionThreshold
        && !audit(QStringLiteral("deletions_allowed"), 0,
                  QStringLiteral("publish started with the deletion override; not needed: %1 values "
                                 "removed, threshold %2")
                      .arg(m_outcome.removedValues)
                      .arg(m_settings.deletionThreshold)))
        return;
    if (m_outcome.removedValues > m_settings.deletionThreshold) {
        const QString detail = QStringLiteral("%1 values would be removed, over the deletion threshold of %2")
                                   .arg(m_outcome.removedValues)
                                   .arg(m_settings.deletionThreshold);
        if (!m_settings.allowDeletions) {
            m_outcome.refused = true;
            m_outcome.error = Error { QStringLiteral("deletion_threshold"), detail };
            if (!audit(QStringLiteral("publish_refused"), 0, detail))
                return;
            log(LogRecord::Level::Error, detail + QStringLiteral("; nothing was published"));
            end(false, detail);
            return;
        }
        // The override is a decision someone took: it goes in the audit trail before any write.
        if (!audit(QStringLiteral("threshold_override"), 0, detail))
            return;
        log(LogRecord::Level::Warning, detail + QStringLiteral("; allowed by an explicit override"));
    }
    if (m_settings.staging) {
        m_outcome.staging = true;
        const QString detail =
            QStringLiteral("staging mode: %1 approved items would be published, nothing was written")
                .arg(m_outcome.considered);
        if (!audit(QStringLiteral("publish_staging"), 0, detail))
            return;
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
    if (!stopOnError(m_plans->setStatus(m_settings.planId, QStringLiteral("publishing"))))
        return;
    if (!audit(QStringLiteral("publish_start"), 0,
               QStringLiteral("%1 approved items to publish, %2 already applied, %3 conflicts left to the "
                              "next diff, %4 not approved; every target read first")
                   .arg(m_outcome.considered)
                   .arg(m_outcome.skippedApplied)
                   .arg(m_outcome.skippedConflicts)
                   .arg(m_outcome.unapproved)))
        return;
    reportProgress(0, m_outcome.considered);
    pump();
}

void PublishJob::doCancel()
{
    if (m_http)
        m_http->cancelAll();
}

void PublishJob::pump()
{
    // Items decided at once (directory reads are synchronous) end in itemDone(), which calls pump():
    // the loop below goes on instead of recursing.
    if (isFinished() || m_pumping)
        return;
    m_pumping = true;
    auto pumped = qScopeGuard([this] { m_pumping = false; });
    // A pipeline, not chunks: up to `window` items are being read or written at once, and each one
    // that finishes lets the next start, so that one slow or throttled answer holds up nothing else.
    while (!isCanceled() && m_active < m_settings.window && m_next < m_queue.size()) {
        ++m_active;
        startRead(m_next++);
        if (isFinished())
            return;
    }
    if (!m_graphReads.isEmpty())
        scheduleFlush();
    if (m_active == 0 && (isCanceled() || m_next >= m_queue.size())) {
        pumped.dismiss();
        m_pumping = false;
        finishRun();
    }
}

void PublishJob::finishRun()
{
    if (!flushJournal())
        return;
    if (isCanceled()) {
        end(false, QStringLiteral("canceled after %1 of %2 items").arg(m_done).arg(m_queue.size()));
        return;
    }
    end(m_outcome.failed == 0 && m_outcome.conflicts == 0,
        QStringLiteral("%1 applied, %2 already in place, %3 conflicts, %4 failed, %5 applied before, %6 not "
                       "approved")
            .arg(m_outcome.applied)
            .arg(m_outcome.confirmedByRead)
            .arg(m_outcome.conflicts)
            .arg(m_outcome.failed)
            .arg(m_outcome.skippedApplied)
            .arg(m_outcome.unapproved));
}

void PublishJob::startRead(int index)
{
    const StoredItem &item = m_queue.at(index);
    Read read;
    if (item.item.channel != Channel::Directory && m_settings.directory) {
        checkDirectory(item, read);
        if (!read.conflict.isEmpty() || !read.error.isEmpty()) {
            decide(index, read); // no tenant read: the item is not published whatever the tenant holds
            return;
        }
    }
    if (item.item.attribute == ItemAttribute::SmimeIssuingCa) {
        // The tenant's S/MIME CA collection: Get-SmimeConfig now, compared with what the plan saw.
        m_exchange->getSmimeIssuingCa([this, index](tenant::TenantResult<QByteArray> r) {
            if (isFinished())
                return;
            Read got;
            if (r) {
                // Compared as the certificates' digests: the store's other properties are Windows'.
                // Nothing uploaded yet reads as no bytes at all: an empty collection.
                if (r.value().isEmpty()) {
                    got.current = QList<Value> {};
                } else if (auto entries = certs::decodeSerializedStore(r.value())) {
                    got.current = QList<Value> {};
                    for (const certs::SerializedStoreEntry &entry : std::as_const(*entries))
                        got.current->append(valueOf(entry.der));
                } else {
                    got.error = QStringLiteral("Get-SmimeConfig: ") + entries.error().message;
                }
            } else {
                got.tenantError = r.error();
                got.error = got.tenantError->toString();
            }
            decide(index, got);
        });
        return;
    }
    switch (item.item.channel) {
    case Channel::Exchange:
        m_exchange->getCertificates(item.item.target, item.item.recipientTypeDetails,
                                    [this, index](tenant::TenantResult<tenant::ExchangeRecipient> r) {
                                        if (isFinished())
                                            return;
                                        Read got;
                                        if (!r) {
                                            got.tenantError = r.error();
                                            got.error = r.error().toString();
                                        } else {
                                            got.current =
                                                valuesOfBytes(m_queue.at(index).item.attribute
                                                                      == ItemAttribute::UserCertificate
                                                                  ? r->userCertificate
                                                                  : r->userSMimeCertificate);
                                        }
                                        decide(index, got);
                                    });
        return;
    case Channel::Graph:
        // Gathered and sent as $batch (GraphClient cuts it in twenties) at the next flush.
        m_graphReads.append(index);
        return;
    case Channel::Directory: {
        auto connection = ldap();
        if (!connection) {
            read.error = connection.error().toString();
        } else {
            auto entry = (*connection)->readEntry(item.item.target, { ldapAttribute(item.item.attribute) });
            if (!entry)
                read.error = entry.error().toString();
            else
                read.current = valuesOfBytes(entry->values(ldapAttribute(item.item.attribute)));
        }
        decide(index, read);
        return;
    }
    }
}

void PublishJob::sendGraphReads()
{
    if (m_graphReads.isEmpty())
        return;
    QList<tenant::BatchRequest> requests;
    for (const int index : std::as_const(m_graphReads))
        requests.append(tenant::BatchRequest {
            QString::number(index), "GET",
            QStringLiteral("/users/%1?$select=id,authorizationInfo")
                .arg(QString::fromLatin1(QUrl::toPercentEncoding(m_queue.at(index).item.target))),
            std::nullopt });
    m_graphReads.clear();
    m_graph->batch(requests, [this](QList<tenant::BatchResponse> responses) {
        if (isFinished())
            return;
        for (const tenant::BatchResponse &r : std::as_const(responses)) {
            Read got;
            if (r.error) {
                got.tenantError = *r.error;
                got.error = r.error->toString();
            } else {
                QList<Value> current;
                const QJsonArray ids = r.body.value(QStringLiteral("authorizationInfo"))
                                           .toObject()
                                           .value(QStringLiteral("certificateUserIds"))
                                           .toArray();
                for (const QJsonValue &id : ids)
                    current.append(valueOf(id.toString().toUtf8()));
                got.current = current;
            }
            decide(r.id.toInt(), got);
            if (isFinished())
                return;
        }
    });
}

void PublishJob::checkDirectory(const StoredItem &item, Read &read)
{
    // The values this item would add come from the directory as the plan saw it. Publish none that
    // the directory no longer holds, or that expired since.
    if (item.item.attribute == ItemAttribute::CertificateUserIds
        || item.item.attribute == ItemAttribute::SmimeIssuingCa || item.item.added.isEmpty())
        return; // ids and CA certificates are no directory values
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (const Value &v : item.item.added)
        if (v.notAfter.isValid() && v.notAfter < now) {
            read.conflict =
                QStringLiteral("value %1 expired at %2, after the plan was computed; not published")
                    .arg(v.sha256Hex().left(16), v.notAfter.toString(Qt::ISODate));
            return;
        }
    auto connection = ldap();
    if (!connection) {
        read.error = connection.error().toString();
        return;
    }
    const QString attribute = ldapAttribute(item.item.attribute);
    auto entry = (*connection)->readEntry(item.item.userKey, { attribute });
    if (!entry) {
        read.error = QStringLiteral("reading %1 in the directory to check the plan's values: %2")
                         .arg(item.item.userKey, entry.error().toString());
        return;
    }
    const QList<QByteArray> present = entry->values(attribute);
    for (const Value &v : item.item.added)
        if (!present.contains(v.bytes)) {
            read.conflict =
                QStringLiteral("the directory no longer holds value %1 in %2 of %3; not published")
                    .arg(v.sha256Hex().left(16), attribute, item.item.userKey);
            return;
        }
    // Revocation is the one verdict that can change while the value stays: judge the value again
    // under today's CRLs. Only the chain matters here (the policy that chose the value is the
    // plan's), so a user context is not needed.
    if (!m_settings.trust || !m_settings.trust->hasCrls())
        return;
    if (!m_analyzer)
        m_analyzer = std::make_unique<certs::ValueAnalyzer>(*m_settings.trust, certs::CertificateJudge());
    const certs::Attribute judged = item.item.attribute == ItemAttribute::UserSmimeCertificate
        ? certs::Attribute::UserSmimeCertificate
        : certs::Attribute::UserCertificate;
    for (const Value &v : item.item.added) {
        const certs::AnalyzedValue analyzed = m_analyzer->analyze(judged, 0, v.bytes, {}, now);
        const certs::JudgedCertificate *users = analyzed.usersCertificate();
        if (users && users->chain.status == certs::ChainStatus::Revoked) {
            read.conflict = QStringLiteral("value %1 of %2 is revoked (%3) since the plan was computed; not "
                                           "published")
                                .arg(v.sha256Hex().left(16), item.item.userKey, users->chain.message);
            return;
        }
    }
}

void PublishJob::decide(int index, const Read &read)
{
    const StoredItem &item = m_queue.at(index);
    bool go = true;
    if (!read.conflict.isEmpty()) {
        go = conflict(item, read.conflict, {});
    } else if (read.tenantError) {
        go = failedTenant(item, *read.tenantError);
    } else if (!read.error.isEmpty()) {
        go = failed(item, read.error);
    } else if (sortedDigests(*read.current) == sortedDigests(item.item.newValues)) {
        go = applied(item, {}, {}, 0, true);
    } else if (sortedDigests(*read.current) == sortedDigests(item.item.oldValues)) {
        // The journal says in_flight before the request can leave (the write waits for the next
        // flush): a kill from then on is resolved by a read on the next run, never by a blind
        // second write.
        if (journal(item, JournalUpdate { JournalState::InFlight, true, 0, {}, {}, {}, {} }, {}, {})) {
            m_toSend.append({ index, *read.current });
            scheduleFlush();
        }
        return;
    } else {
        go = conflict(
            item,
            QStringLiteral("the target holds %1 where the plan saw %2; nothing was written, the next "
                           "diff plans this user again")
                .arg(shortSet(*read.current), shortSet(item.item.oldValues)),
            *read.current);
    }
    if (go)
        itemDone();
}

void PublishJob::scheduleFlush()
{
    if (m_flushScheduled)
        return;
    m_flushScheduled = true;
    // Everything that arrives in this turn of the event loop commits together: one sync for many
    // transitions (group commit), then the writes they announce leave.
    QMetaObject::invokeMethod(this, &PublishJob::flushAndSend, Qt::QueuedConnection);
}

void PublishJob::flushAndSend()
{
    m_flushScheduled = false;
    if (isFinished() || !flushJournal())
        return;
    // The claim's heartbeat, every few seconds: a publisher on another machine sharing the folder
    // sees this one alive.
    if (!m_heartbeat.isValid() || m_heartbeat.elapsed() > 10000) {
        if (!stopOnError(m_plans->heartbeat(m_settings.planId)))
            return;
        m_heartbeat.start();
    }
    const QList<QPair<int, QList<Value>>> toSend = std::exchange(m_toSend, {});
    for (const auto &[index, current] : toSend) {
        send(m_queue.at(index), current);
        if (isFinished())
            return;
    }
    sendGraphReads();
}

void PublishJob::send(const StoredItem &item, const QList<Value> &current)
{
    log(LogRecord::Level::Info, QStringLiteral("writing %1").arg(describe(item)), item.item.userLabel,
        channelName(item.item.channel));
    const StoredItem copy = item;
    // Both tenant channels answer with a write receipt: journal it as applied, or the error as failed.
    const auto onTenantWrite = [this, copy](tenant::TenantResult<tenant::WriteReceipt> r) {
        if (isFinished())
            return;
        const bool go = r ? applied(copy, r->requestId, r->clientRequestId, r->attempts, r->confirmedByRead)
                          : failedTenant(copy, r.error());
        if (go)
            itemDone();
    };
    if (item.item.attribute == ItemAttribute::SmimeIssuingCa) {
        // Set-SmimeConfig replaces the whole collection: the plan's new list, old CAs first.
        m_exchange->setSmimeIssuingCa(certs::encodeSerializedStore(bytesOf(item.item.newValues)),
                                      onTenantWrite);
        return;
    }
    switch (item.item.channel) {
    case Channel::Exchange: {
        tenant::RecipientCertificateChange change;
        change.identity = item.item.target;
        change.recipientTypeDetails = item.item.recipientTypeDetails;
        if (item.item.attribute == ItemAttribute::UserCertificate) {
            change.userCertificate = bytesOf(item.item.newValues);
            change.userCertificateBefore = bytesOf(current);
        } else {
            change.userSMimeCertificate = bytesOf(item.item.newValues);
            change.userSMimeCertificateBefore = bytesOf(current);
        }
        m_exchange->setCertificates(change, onTenantWrite);
        return;
    }
    case Channel::Graph: {
        // Graph has no add/remove for this property, nor an ETag on users: the read just before is
        // the compare, the PATCH the set.
        tenant::CertificateUserIdsChange change;
        change.userId = item.item.target;
        for (const Value &v : item.item.newValues)
            change.values.append(QString::fromUtf8(v.bytes));
        m_graph->setCertificateUserIds(change, onTenantWrite);
        return;
    }
    case Channel::Directory: {
        // Value deletes by exact bytes: the server refuses the whole modify if one of them is gone,
        // and leaves every other value (someone else's) alone.
        auto connection = ldap();
        bool go = true;
        if (!connection) {
            go = failed(copy, connection.error().toString());
        } else {
            auto done = (*connection)
                            ->modifyValues(copy.item.target, ldapAttribute(copy.item.attribute),
                                           bytesOf(copy.item.removed), {});
            go = done ? applied(copy, {}, {}, 1, false) : failed(copy, done.error().toString());
        }
        if (go)
            itemDone();
        return;
    }
    }
}

void PublishJob::itemDone()
{
    --m_active;
    // Outcomes commit with the next flush; should the process die before it, those items are still
    // in_flight: the next run reads them back and records them without writing again.
    scheduleFlush();
    pump();
}

bool PublishJob::applied(const StoredItem &item, const QString &requestId, const QString &clientRequestId,
                         int attempts, bool byRead)
{
    if (!journal(item,
                 JournalUpdate {
                     JournalState::Applied, false, byRead ? 0 : 200, requestId, clientRequestId, {}, {} },
                 byRead ? QStringLiteral("item_confirmed") : QStringLiteral("item_applied"), requestId))
        return false;
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
    reportProgress(++m_done, m_queue.size(), item.item.userLabel);
    return true;
}

bool PublishJob::failed(const StoredItem &item, const QString &error, int httpStatus,
                        const QString &requestId, const QString &clientRequestId)
{
    if (!journal(
            item,
            JournalUpdate { JournalState::Failed, false, httpStatus, requestId, clientRequestId, error, {} },
            QStringLiteral("item_failed"), error))
        return false;
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
    reportProgress(++m_done, m_queue.size(), item.item.userLabel);
    return true;
}

bool PublishJob::conflict(const StoredItem &item, const QString &why, const QList<Value> &current)
{
    if (!journal(item, JournalUpdate { JournalState::Conflict, false, 0, {}, {}, why, hexOf(current) },
                 QStringLiteral("item_conflict"), why))
        return false;
    ++m_outcome.conflicts;
    LogRecord record;
    record.level = LogRecord::Level::Warning;
    record.user = item.item.userLabel;
    record.channel = channelName(item.item.channel);
    record.message = QStringLiteral("%1 conflict: %2").arg(describe(item), why);
    log(record);
    reportProgress(++m_done, m_queue.size(), item.item.userLabel);
    return true;
}

bool PublishJob::failedTenant(const StoredItem &item, const tenant::TenantError &error)
{
    if (error.source == tenant::TenantError::Source::Canceled) {
        end(false, QStringLiteral("canceled"));
        return false; // the item stays in_flight or pending: the next run reads it back
    }
    if (error.retryAfterSeconds > 0) {
        // The service wants more time than this run waits: stop cleanly. The item stays as the
        // journal has it (pending, or in_flight and read back first next time).
        const QString summary =
            QStringLiteral("%1; stopped at %2, the journal is intact: publish again later")
                .arg(error.message, describe(item));
        log(LogRecord::Level::Error, summary, item.item.userLabel, channelName(item.item.channel));
        m_outcome.error = Error { QStringLiteral("throttled"), summary };
        end(false, summary);
        return false;
    }
    return failed(item, error.toString(), error.httpStatus, error.requestId, error.clientRequestId);
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

bool PublishJob::stopOnError(const Result<void> &result)
{
    if (result)
        return true;
    // Without its journal, status or audit trail the run cannot promise exactly-once, nor say
    // afterwards what it did: stop here.
    m_outcome.error = result.error();
    end(false, result.error().message);
    return false;
}

bool PublishJob::journal(const StoredItem &item, const JournalUpdate &update, const QString &auditAction,
                         const QString &auditDetail)
{
    m_unsaved.append(PlanStore::JournalEntry { item.item.number, update,
                                               AuditEntry { m_settings.who, auditAction, auditDetail } });
    return true;
}

bool PublishJob::flushJournal()
{
    if (m_unsaved.isEmpty())
        return true;
    const QList<PlanStore::JournalEntry> entries = std::exchange(m_unsaved, {});
    return stopOnError(m_plans->updateJournal(m_settings.planId, entries));
}

bool PublishJob::audit(const QString &action, int itemNumber, const QString &detail)
{
    return stopOnError(m_plans->audit(m_settings.who, action, m_settings.planId, itemNumber, detail));
}

void PublishJob::end(bool success, const QString &summary)
{
    if (isFinished())
        return;
    if (m_plans && m_claimed) {
        // What was decided since the last flush (a cancel or a stop in the middle), then the status.
        if (auto flushed = m_plans->updateJournal(m_settings.planId, std::exchange(m_unsaved, {}));
            !flushed && m_outcome.error.code.isEmpty()) {
            m_outcome.error = flushed.error();
            success = false;
        }
        // A run that stopped on a store error still tries to leave an honest status and trail; if
        // those writes fail too, the error already set is the one reported.
        if (!m_outcome.refused && !m_outcome.staging) {
            QString status = m_originalStatus;
            const int done = m_outcome.applied + m_outcome.confirmedByRead;
            if (m_outcome.failed > 0 || m_outcome.conflicts > 0 || m_outcome.skippedConflicts > 0)
                status = QStringLiteral("partial");
            else if (m_outcome.considered > 0 && done == m_outcome.considered && m_undecided == 0
                     && !isCanceled() && m_outcome.error.code.isEmpty())
                status = QStringLiteral("published");
            const Result<void> statusWritten = m_plans->setStatus(m_settings.planId, status);
            const Result<void> audited =
                m_plans->audit(m_settings.who, QStringLiteral("publish_end"), m_settings.planId, 0, summary);
            if (m_outcome.error.code.isEmpty() && (!statusWritten || !audited)) {
                m_outcome.error = !statusWritten ? statusWritten.error() : audited.error();
                success = false;
            }
        }
        if (auto released = m_plans->release(m_settings.planId);
            !released && m_outcome.error.code.isEmpty()) {
            m_outcome.error = released.error();
            success = false;
        }
    }
    emit outcomeReady(m_outcome);
    finish(success, m_outcome.error.code.isEmpty() ? summary : m_outcome.error.message);
}

} // namespace certsync::engine
