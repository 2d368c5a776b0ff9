#include "directory/DirectoryReadJob.h"

#include "core/Logging.h"
#include "directory/StoredDirectory.h"

#include <QFuture>
#include <QScopeGuard>
#include <QThreadPool>
#include <QtConcurrent>

#include <deque>

#include <openssl/crypto.h>

namespace certsync::directory {

namespace {

// Drops what a snapshot does not need twice: the DER of a plain certificate value is the raw value
// itself (shared, not copied), and chain elements are re-derived when a person asks for them.
void slim(DirectoryUser &user)
{
    for (certs::AnalyzedValue &value : user.values) {
        const QList<QByteArray> &raw = value.attribute == certs::Attribute::UserCertificate
            ? user.userCertificate
            : user.userSmimeCertificate;
        for (certs::JudgedCertificate &judged : value.certificates) {
            judged.chain.chain.clear();
            judged.chain.chain.squeeze();
        }
        if (value.kind == certs::ValueKind::X509 && value.certificates.size() == 1
            && value.index < raw.size()) {
            // Empty when the analysis came from the state database, which does not store it twice.
            QByteArray &der = value.certificates.first().certificate.der;
            if (der.isEmpty() || der == raw.at(value.index))
                der = raw.at(value.index);
        }
    }
}

// What analysePage does besides analysing: reports, and the stored rows to compare entries with.
struct PageReports
{
    const ReportSettings *settings = nullptr; // null: no reports
    bool compare = false; // a full read with a stored snapshot
    qint64 firstSeq = 0; // where the page's first user is in the stored snapshot, when unchanged
    int warningDays = 0;
};

// With reports, a user whose entry is byte for byte its stored row, and whose stored report still
// holds, is given that report and not analysed.
bool reuseStoredReport(DirectoryUser &user, const QHash<QString, StoredUserReader::Row> &page,
                       const PageReports &reports, const QDateTime &now)
{
    const QString key = storedRowKey(user);
    std::optional<StoredUserReader::Row> row;
    if (auto it = page.constFind(key); it != page.cend())
        row = *it;
    else // a user added or moved since the stored read
        row = reports.settings->stored->find(key);
    if (!row || !matchesStoredUser(user, row->data))
        return false;
    std::optional<UserReport> report = UserReport::decode(row->report, row->reportCsv);
    if (!report || !report->holds(reports.settings->context, now))
        return false;
    user.report = std::move(report);
    user.storedSeq = row->seq;
    return true;
}

QList<DirectoryUser> analysePage(const certs::ValueAnalyzer &analyzer, QList<LdapEntry> entries,
                                 const AttributeMapping &mapping, const QDateTime &now,
                                 const PageReports &reports)
{
    QList<DirectoryUser> users;
    users.reserve(entries.size());
    QHash<QString, StoredUserReader::Row> stored;
    if (reports.compare)
        stored = reports.settings->stored->range(reports.firstSeq, entries.size());
    for (LdapEntry &entry : entries) {
        DirectoryUser user = userFromEntry(entry, mapping);
        entry = LdapEntry {}; // free the entry's copy of the values as we go
        if (reports.compare && reuseStoredReport(user, stored, reports, now)) {
            users.append(std::move(user));
            continue;
        }
        user.values =
            analyzer.analyzeUser(user.userCertificate, user.userSmimeCertificate, user.context(), now);
        slim(user);
        if (reports.settings)
            user.report = reports.settings->make(user, now, reports.warningDays);
        users.append(std::move(user));
    }
    // A pool thread may still be ending when the process exits and OpenSSL's atexit cleanup has
    // dropped its thread-local key; its error state would then leak. Free it now, once per page.
    OPENSSL_thread_stop();
    return users;
}

// The contextCSN of the naming context that holds `baseDn`: the CSN of the last change anywhere in
// it. Empty when the server keeps none (OpenLDAP without syncprov, other servers). With several values
// (one per provider of a multi-provider setup) the oldest: no change after any of them is missed.
Result<QString> contextCsn(LdapConnection &ldap, const QString &baseDn)
{
    auto rootDse = ldap.readEntry(QString(), { QStringLiteral("namingContexts") });
    if (!rootDse)
        return rootDse.error();
    QString suffix;
    for (const QByteArray &value : rootDse->values(QStringLiteral("namingContexts"))) {
        const QString context = QString::fromUtf8(value);
        const bool holds = !context.isEmpty()
            && (baseDn.compare(context, Qt::CaseInsensitive) == 0
                || baseDn.endsWith(QLatin1Char(',') + context, Qt::CaseInsensitive));
        if (holds && context.size() > suffix.size())
            suffix = context;
    }
    if (suffix.isEmpty())
        return QString();
    auto entry = ldap.readEntry(suffix, { QStringLiteral("contextCSN") });
    if (!entry)
        return entry.error();
    QString oldest;
    for (const QByteArray &value : entry->values(QStringLiteral("contextCSN"))) {
        const QString csn = QString::fromUtf8(value);
        if (oldest.isEmpty() || csn < oldest) // fixed-width CSNs sort as text
            oldest = csn;
    }
    return oldest;
}

QString andFilter(const QString &base, const QString &extra)
{
    return QStringLiteral("(&%1%2)").arg(base, extra);
}

} // namespace

DirectoryReadJob::DirectoryReadJob(DirectoryReadSettings settings, QObject *parent)
    : jobs::Job(QStringLiteral("directory read"), parent)
    , m_settings(std::move(settings))
{
    qRegisterMetaType<QList<DirectoryUser>>();
    qRegisterMetaType<std::shared_ptr<DirectorySnapshot>>();
}

DirectoryReadJob::~DirectoryReadJob() = default;

void DirectoryReadJob::fail(const std::shared_ptr<DirectorySnapshot> &snapshot, const Error &error)
{
    snapshot->complete = false;
    snapshot->error = error;
    log(error.code == QLatin1String("canceled") ? jobs::LogRecord::Level::Warning
                                                : jobs::LogRecord::Level::Error,
        error.message, {}, QStringLiteral("ldap"));
    emit snapshotReady(snapshot);
    finish(false, error.message);
}

void DirectoryReadJob::doStart()
{
    // The worker thread may end after OpenSSL's atexit cleanup (QThread::wait() returns before the
    // thread's TLS destructors have run); free its OpenSSL error state when the job is done.
    const auto releaseOpenSsl = qScopeGuard([] { OPENSSL_thread_stop(); });
    auto snapshot = std::make_shared<DirectorySnapshot>();
    const ConnectionProfile &profile = m_settings.profile;
    snapshot->server = profile.describe();
    snapshot->readAt = QDateTime::currentDateTimeUtc();
    // In UTC: the judge's "expiring within N days" adds calendar days, which across a change of local
    // time would differ from the fixed days of a stored report's validity (verdictsHoldUntil).
    const QDateTime now = (m_settings.now.isValid() ? m_settings.now : snapshot->readAt).toUTC();
    if (!m_settings.trust) {
        fail(snapshot,
             Error { QStringLiteral("config"), tr("no trust configuration for judging certificates") });
        return;
    }
    log(jobs::LogRecord::Level::Info, tr("reading %1").arg(profile.describe()), {}, QStringLiteral("ldap"));

    auto connection = LdapConnection::open(profile, m_settings.password);
    m_settings.password.fill(QLatin1Char('\0'));
    m_settings.password.clear();
    if (!connection) {
        fail(snapshot, connection.error());
        return;
    }
    LdapConnection &ldap = **connection;
    snapshot->serverCertificate = ldap.serverCertificate();

    // Where the next incremental read will continue, and whether this one can be incremental.
    ReadMark mark;
    mark.kind = profile.kind;
    mark.server = profile.url + QLatin1Char(' ') + profile.baseDn;
    QString filter = profile.effectiveFilter();
    const AttributeMapping mapping = profile.mapping;
    const std::optional<ReadMark> &previous = m_settings.previous;
    if (profile.kind == SourceKind::ActiveDirectory) {
        auto rootDse = ldap.readEntry(
            QString(), { QStringLiteral("dsServiceName"), QStringLiteral("highestCommittedUSN") });
        if (!rootDse) {
            fail(snapshot, rootDse.error());
            return;
        }
        const QString service = rootDse->text(QStringLiteral("dsServiceName"));
        QString invocation;
        if (auto ntds = ldap.readEntry(service, { QStringLiteral("invocationId") }))
            invocation = QString::fromLatin1(ntds->first(QStringLiteral("invocationId")).toHex());
        mark.dcIdentity = service + QLatin1Char('|') + invocation;
        mark.usn = rootDse->text(QStringLiteral("highestCommittedUSN")).toLongLong();
        if (previous && previous->isValid()) {
            if (previous->server != mark.server)
                log(jobs::LogRecord::Level::Info, tr("full read: the stored mark is for another directory"));
            else if (previous->dcIdentity != mark.dcIdentity)
                log(jobs::LogRecord::Level::Info,
                    tr("full read: the stored mark is from another domain controller (uSNChanged is per "
                       "DC)"));
            else {
                snapshot->incremental = true;
                filter = andFilter(filter, QStringLiteral("(uSNChanged>=%1)").arg(previous->usn + 1));
            }
        }
    } else if (!mapping.changeSequence.isEmpty()) {
        // The next read continues from the suffix's contextCSN as it is before this search begins (as
        // AD's from highestCommittedUSN): a change made while the search goes on, to an entry already
        // read, has a CSN above it and is read again next time. (The newest entryCSN among the entries
        // read would lie above such a change and miss it.)
        // Unreadable (an ACL on the suffix entry, say) is no reason to fail the read: it is full next
        // time too. A connection that is gone fails the search that follows.
        auto context = contextCsn(ldap, profile.baseDn);
        mark.csn = context ? *context : QString();
        if (!context)
            log(jobs::LogRecord::Level::Warning,
                tr("full reads only: the contextCSN of the naming context of %1 cannot be read: %2")
                    .arg(profile.baseDn, context.error().message),
                {}, QStringLiteral("ldap"));
        else if (mark.csn.isEmpty())
            log(jobs::LogRecord::Level::Info,
                tr("full reads only: the naming context of %1 has no contextCSN (OpenLDAP keeps it with "
                   "the syncprov overlay), so no read can start from where this one began")
                    .arg(profile.baseDn));
        if (previous && previous->isValid() && previous->server == mark.server && !previous->csn.isEmpty()) {
            snapshot->incremental = true;
            // Strictly after the mark: CSNs grow with every change on the server. (modifyTimestamp has
            // one-second resolution and cannot tell changes in the mark's own second apart.)
            filter =
                andFilter(filter, QStringLiteral("(!(%1<=%2))").arg(mapping.changeSequence, previous->csn));
        }
    }
    if (snapshot->incremental)
        log(jobs::LogRecord::Level::Info,
            tr("incremental read of changes since the last read; deleted users are found by the next full "
               "read"));
    emit readPlanned(snapshot->incremental);

    certs::ValueAnalyzer analyzer(*m_settings.trust, certs::CertificateJudge(m_settings.policy),
                                  m_settings.cache.get());
    QThreadPool pool;
    pool.setMaxThreadCount(qMax(1, QThread::idealThreadCount()));
    std::deque<QFuture<QList<DirectoryUser>>> inFlight;
    qint64 read = 0;

    auto deliver = [&](QList<DirectoryUser> users) {
        for (const DirectoryUser &user : users) {
            snapshot->values += user.valueCount();
            snapshot->valueBytes += user.valueBytes();
            if (user.storedSeq >= 0 && user.report) { // a stored report, reused
                snapshot->certificates += user.report->certificates;
                ++snapshot->reused;
            }
            for (const certs::AnalyzedValue &value : user.values)
                snapshot->certificates += value.certificates.size();
        }
        emit usersRead(users);
        if (m_settings.keepUsers)
            snapshot->users += std::move(users);
    };
    auto deliverFinished = [&](bool wait) {
        while (!inFlight.empty() && (wait || inFlight.front().isFinished())) {
            QFuture<QList<DirectoryUser>> future = std::move(inFlight.front());
            inFlight.pop_front();
            deliver(future.takeResult());
        }
    };

    SearchRequest request;
    request.base = profile.baseDn;
    request.filter = filter;
    request.attributes = mapping.attributes();
    request.pageSize = profile.pageSize;
    qCDebug(lcDirectory) << "search" << request.base << request.filter;
    auto stats = ldap.search(
        request,
        [&](QList<LdapEntry> &&page) {
            read += page.size();
            PageReports pageReports;
            if (m_settings.reports) {
                pageReports.settings = m_settings.reports.get();
                pageReports.compare = !snapshot->incremental && m_settings.reports->stored;
                pageReports.firstSeq = read - page.size() + 1; // a full read stores users in this order
                pageReports.warningDays = m_settings.policy.warningDays;
            }
            inFlight.push_back(QtConcurrent::run(&pool, analysePage, std::cref(analyzer), std::move(page),
                                                 std::cref(mapping), now, pageReports));
            deliverFinished(false);
            while (int(inFlight.size()) > m_settings.maxPagesInFlight) {
                inFlight.front().waitForFinished();
                deliverFinished(false);
            }
            reportProgress(read, 0, tr("%1 users read").arg(read));
        },
        [this] { return isCanceled(); });
    deliverFinished(true);
    snapshot->entries = read;
    if (!stats) {
        Error error = stats.error();
        if (error.code == QLatin1String("server_gone") || error.code == QLatin1String("timeout"))
            error.message +=
                tr("; the snapshot is incomplete (%1 users read) and is not used as the directory").arg(read);
        fail(snapshot, error);
        return;
    }
    snapshot->pages = stats->pages;
    if (!stats->unreadable.isEmpty()) {
        // A user whose entry was cut short would look as if they had fewer values, and a plan would
        // remove the rest: the whole snapshot is incomplete, so that nothing is derived from it.
        for (const LdapEntry &entry : std::as_const(stats->unreadable))
            log(jobs::LogRecord::Level::Error,
                tr("entry %1 could not be decoded: %2")
                    .arg(entry.dn.isEmpty() ? tr("(DN unreadable)") : entry.dn, entry.unreadable),
                {}, QStringLiteral("ldap"));
        const LdapEntry &first = stats->unreadable.first();
        fail(snapshot,
             Error {
                 QStringLiteral("unreadable_entry"),
                 tr("%1 of the entries the server sent could not be decoded (first: %2: %3); the snapshot is "
                    "incomplete (%4 users read) and is not used as the directory")
                     .arg(stats->unreadable.size())
                     .arg(first.dn.isEmpty() ? tr("(DN unreadable)") : first.dn, first.unreadable)
                     .arg(read) });
        return;
    }
    snapshot->complete = true;
    snapshot->mark = mark;
    if (stats->referencesSkipped)
        log(jobs::LogRecord::Level::Info, // AD always refers to its configuration and DNS partitions
            tr("%1 referrals to other servers were not followed").arg(stats->referencesSkipped));
    const QString summary = tr("%1 users, %2 values (%3 bytes), %4 certificates in %5 pages%6")
                                .arg(read)
                                .arg(snapshot->values)
                                .arg(snapshot->valueBytes)
                                .arg(snapshot->certificates)
                                .arg(stats->pages)
                                .arg(snapshot->incremental ? tr(", changes only") : QString());
    log(jobs::LogRecord::Level::Info, summary, {}, QStringLiteral("ldap"));
    emit snapshotReady(snapshot);
    finish(true, summary);
}

} // namespace certsync::directory
