#include "tenant/TenantSnapshot.h"

#include <QHash>

#include <algorithm>

namespace certsync::tenant {

const TenantUser *TenantSnapshot::find(const QString &id) const
{
    const auto it = std::lower_bound(users.cbegin(), users.cend(), id,
                                     [](const TenantUser &u, const QString &key) { return u.user.id < key; });
    return it != users.cend() && it->user.id == id ? &*it : nullptr;
}

TenantSnapshotJob::TenantSnapshotJob(TenantSettings settings, Options options, QObject *parent)
    : Job(QStringLiteral("tenant read"), parent)
    , m_settings(std::move(settings))
    , m_options(std::move(options))
{
    qRegisterMetaType<TenantSnapshot>();
}

TenantSnapshotJob::~TenantSnapshotJob() = default;

void TenantSnapshotJob::doStart()
{
    m_http = new TenantHttp(m_settings, this);
    connect(m_http, &TenantHttp::logRecord, this, [this](const jobs::LogRecord &record) { log(record); });
    m_graph = new GraphClient(m_http, this);
    m_exchange = new ExchangeClient(m_http, this);
    m_snapshot.takenAt = QDateTime::currentDateTimeUtc();
    if (m_options.previous && !m_options.previous->deltaLink.isEmpty())
        readUsersByDelta();
    else
        readUsersInFull();
}

void TenantSnapshotJob::doCancel()
{
    if (m_http)
        m_http->cancelAll();
}

bool TenantSnapshotJob::pageRead(const QString &what, int count)
{
    reportProgress(count, 0, what);
    return !isCanceled();
}

void TenantSnapshotJob::fail(const TenantError &error)
{
    if (error.source == TenantError::Source::Canceled || isCanceled()) {
        finish(false, tr("canceled"));
        return;
    }
    jobs::LogRecord record;
    record.level = jobs::LogRecord::Level::Error;
    record.channel =
        error.source == TenantError::Source::Exchange ? QStringLiteral("exchange") : QStringLiteral("graph");
    record.message = error.toString();
    record.httpStatus = error.httpStatus;
    record.requestId = error.requestId;
    record.clientRequestId = error.clientRequestId;
    log(record);
    finish(false, error.toString());
}

void TenantSnapshotJob::readUsersInFull()
{
    // Take the delta link first: changes made while we read are then replayed next time, never lost.
    m_graph->latestDeltaLink([this](TenantResult<QString> link) {
        if (!link) {
            fail(link.error());
            return;
        }
        m_snapshot.deltaLink = link.value();
        m_graph->listUsers(
            [this](int n) { return pageRead(tr("users read"), n); },
            [this](TenantResult<QList<GraphUser>> users) {
                if (!users) {
                    fail(users.error());
                    return;
                }
                m_users = std::move(users.value());
                readRecipients({ QStringLiteral("Get-Mailbox"), QStringLiteral("Get-MailUser") });
            });
    });
}

void TenantSnapshotJob::readUsersByDelta()
{
    m_graph->readDelta(
        m_options.previous->deltaLink, [this](int n) { return pageRead(tr("user changes read"), n); },
        [this](TenantResult<UserDelta> delta) {
            if (!delta) {
                if (delta.error().code == errc::SyncStateNotFound) {
                    log(jobs::LogRecord::Level::Warning,
                        tr("the stored delta link has expired (syncStateNotFound); reading every user"), {},
                        QStringLiteral("graph"));
                    m_snapshot.fellBackToFullRead = true;
                    readUsersInFull();
                    return;
                }
                fail(delta.error());
                return;
            }
            QHash<QString, GraphUser> byId;
            for (const TenantUser &u : std::as_const(m_options.previous->users))
                byId.insert(u.user.id, u.user);
            for (const QString &id : std::as_const(delta->removedIds))
                byId.remove(id);
            for (const GraphUser &u : std::as_const(delta->changed))
                byId.insert(u.id, u);
            m_users = byId.values();
            m_snapshot.deltaLink = delta->deltaLink;
            m_snapshot.incremental = true;
            m_snapshot.changedUsers = int(delta->changed.size());
            m_snapshot.removedUsers = int(delta->removedIds.size());
            log(jobs::LogRecord::Level::Info,
                tr("%1 users changed, %2 removed since the last read")
                    .arg(delta->changed.size())
                    .arg(delta->removedIds.size()),
                {}, QStringLiteral("graph"));
            readRecipients({ QStringLiteral("Get-Mailbox"), QStringLiteral("Get-MailUser") });
        });
}

void TenantSnapshotJob::readRecipients(const QStringList &cmdlets)
{
    if (!m_options.readExchange || cmdlets.isEmpty()) {
        complete();
        return;
    }
    const QString cmdlet = cmdlets.first();
    const QStringList rest = cmdlets.mid(1);
    m_exchange->listRecipients(
        cmdlet, [this, cmdlet](int n) { return pageRead(cmdlet, n); },
        [this, rest](TenantResult<QList<ExchangeRecipient>> recipients) {
            if (!recipients) {
                fail(recipients.error());
                return;
            }
            m_recipients += recipients.value();
            readRecipients(rest);
        });
}

void TenantSnapshotJob::complete()
{
    QHash<QString, qsizetype> recipientById;
    for (qsizetype i = 0; i < m_recipients.size(); ++i)
        recipientById.insert(m_recipients[i].externalDirectoryObjectId, i);
    std::sort(m_users.begin(), m_users.end(),
              [](const GraphUser &a, const GraphUser &b) { return a.id < b.id; });
    QSet<qsizetype> matched;
    for (const GraphUser &u : std::as_const(m_users)) {
        TenantUser tu;
        tu.user = u;
        if (const auto it = recipientById.constFind(u.id); it != recipientById.constEnd()) {
            tu.recipient = m_recipients[*it];
            matched.insert(*it);
        }
        m_snapshot.users.append(tu);
    }
    for (qsizetype i = 0; i < m_recipients.size(); ++i)
        if (!matched.contains(i))
            m_snapshot.unmatchedRecipients.append(m_recipients[i]);
    reportProgress(m_snapshot.users.size(), m_snapshot.users.size(), tr("done"));
    const QString summary = tr("%1 users, %2 with an Exchange recipient%3")
                                .arg(m_snapshot.users.size())
                                .arg(matched.size())
                                .arg(m_snapshot.incremental ? tr(" (incremental)") : QString());
    emit snapshotReady(m_snapshot);
    finish(true, summary);
}

} // namespace certsync::tenant
