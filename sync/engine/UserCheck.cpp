#include "engine/UserCheck.h"

#include "certs/SerializedStore.h"
#include "certs/TrustStore.h"
#include "directory/UserLookup.h"
#include "engine/PlanStore.h"
#include "store/StateStore.h"
#include "tenant/ExchangeClient.h"
#include "tenant/GraphClient.h"
#include "tenant/TenantHttp.h"

#include <QFileInfo>

namespace certsync::engine {

namespace {

bool isNotFound(const tenant::TenantError &e)
{
    return e.httpStatus == 404 || e.code == QLatin1String("notFound");
}

QString itemState(const StoredItem &s)
{
    if (s.decision == Decision::Rejected)
        return QStringLiteral("rejected");
    switch (s.state) {
    case JournalState::Applied:
        return QStringLiteral("applied");
    case JournalState::Failed:
        return QStringLiteral("failed");
    case JournalState::Conflict:
        return QStringLiteral("conflict");
    case JournalState::Pending:
    case JournalState::InFlight:
        break;
    }
    return s.decision == Decision::Approved ? QStringLiteral("approved") : QStringLiteral("staged");
}

} // namespace

Result<QList<certs::Certificate>> decodeSmimeCollection(const QByteArray &store)
{
    QList<certs::Certificate> collection;
    if (store.isEmpty())
        return collection;
    auto entries = certs::decodeSerializedStore(store);
    if (!entries)
        return Error { entries.error().code, QStringLiteral("Get-SmimeConfig: ") + entries.error().message };
    for (const certs::SerializedStoreEntry &entry : *entries) {
        auto parsed = certs::parseDer(entry.der);
        if (!parsed)
            return Error { parsed.error().code,
                           QStringLiteral("Get-SmimeConfig: a certificate of the S/MIME collection: ")
                               + parsed.error().message };
        collection.append(parsed->info);
    }
    return collection;
}

QList<certs::Certificate> trustBundleCertificates(const certs::TrustStore &trust)
{
    QList<certs::Certificate> out;
    for (const auto *list : { &trust.anchors(), &trust.intermediates() })
        for (const ossl::X509Ptr &x : *list)
            out.append(certs::describe(x.get()).info);
    return out;
}

TenantView tenantView(const std::optional<tenant::TenantUser> &user, const certs::ValueAnalyzer &analyzer,
                      const certs::UserContext &context, const QDateTime &now,
                      const std::optional<QList<certs::Certificate>> &collection)
{
    TenantView view;
    view.smimeCollection = collection;
    if (!user)
        return view;
    view.userFound = true;
    view.synced = user->user.isSynced();
    view.hasRecipient = user->recipient.has_value();
    if (user->recipient)
        view.published = analyzer.analyzeUser(user->recipient->userCertificate,
                                              user->recipient->userSMimeCertificate, context, now);
    return view;
}

bool tenantCanEncrypt(const directory::DirectoryUser &user,
                      const std::optional<tenant::TenantUser> &tenantUser,
                      const certs::ValueAnalyzer &analyzer, const QDateTime &now,
                      const std::optional<QList<certs::Certificate>> &collection)
{
    VerdictInput input;
    input.now = now;
    input.directory = user.values;
    const bool same = tenantUser && tenantUser->recipient
        && tenantUser->recipient->userCertificate == user.userCertificate
        && tenantUser->recipient->userSMimeCertificate == user.userSmimeCertificate;
    if (same) {
        TenantView view;
        view.userFound = view.hasRecipient = true;
        view.synced = tenantUser->user.isSynced();
        view.published = user.values;
        view.smimeCollection = collection;
        input.tenant = view;
    } else {
        input.tenant = tenantView(tenantUser, analyzer, publishedContext(user, tenantUser), now, collection);
    }
    return computeVerdict(input).tenant->canEncrypt;
}

certs::UserContext publishedContext(const directory::DirectoryUser &user,
                                    const std::optional<tenant::TenantUser> &tenantUser)
{
    certs::UserContext context = user.context();
    if (tenantUser && !tenantUser->user.mail.isEmpty())
        context.mail = tenantUser->user.mail;
    return context;
}

Result<QHash<QString, QList<PlanItemState>>> planItemsByUser(const PlanStore &plans, int newestPlans)
{
    auto summaries = plans.plans();
    if (!summaries)
        return summaries.error();
    QList<PlanSummary> open;
    for (const PlanSummary &s : std::as_const(*summaries))
        if (s.status != QLatin1String("stale") && s.status != QLatin1String("rejected"))
            open.append(s);
    std::sort(open.begin(), open.end(),
              [](const PlanSummary &a, const PlanSummary &b) { return a.id > b.id; });
    QHash<QString, QList<PlanItemState>> byUser;
    for (const PlanSummary &s : open.first(std::min<qsizetype>(newestPlans, open.size()))) {
        auto items = plans.items(s.id);
        if (!items)
            return items.error();
        for (const StoredItem &stored : std::as_const(*items)) {
            PlanItemState state;
            state.planId = QString::number(s.id);
            state.number = stored.item.number;
            state.attribute = itemAttributeName(stored.item.attribute);
            state.state = itemState(stored);
            if (stored.state == JournalState::Applied)
                state.appliedAt = stored.updated.toUTC();
            byUser[stored.item.userKey].append(state);
        }
    }
    return byUser;
}

QString verdictName(const directory::DirectoryUser &user)
{
    return !user.userPrincipalName.isEmpty() ? user.userPrincipalName
        : !user.mail.isEmpty()               ? user.mail
                                             : user.dn;
}

UserCheckJob::UserCheckJob(UserCheckSettings settings, QObject *parent)
    : Job(tr("check user"), parent)
    , m_settings(std::move(settings))
{
    qRegisterMetaType<UserCheck>();
}

UserCheckJob::~UserCheckJob() = default;

void UserCheckJob::fail(const QString &code, const QString &message)
{
    m_errorCode = code;
    finish(false, isCanceled() ? tr("canceled") : message);
}

void UserCheckJob::failTenant(const tenant::TenantError &error)
{
    const Error e = error.toError();
    fail(e.code, QStringLiteral("tenant: ") + e.message);
}

void UserCheckJob::doStart()
{
    if (!m_settings.now.isValid())
        m_settings.now = QDateTime::currentDateTimeUtc();
    reportProgress(0, 0, tr("looking up %1 in the directory").arg(m_settings.who));
    auto user = directory::lookUpUser(m_settings.directory, m_settings.who, m_settings.now);
    if (!user) {
        fail(user.error().code, QStringLiteral("directory: ") + user.error().message);
        return;
    }
    m_check.user = std::move(user).value();
    if (isCanceled()) {
        fail(QStringLiteral("canceled"), tr("canceled"));
        return;
    }
    // The plans only name the fix: a state database that cannot be read costs that sentence, not the
    // answer.
    if (!m_settings.statePath.isEmpty() && QFileInfo::exists(m_settings.statePath)) {
        auto state = store::StateStore::open(m_settings.statePath);
        auto items = state ? planItemsByUser(PlanStore(**state))
                           : Result<QHash<QString, QList<PlanItemState>>>(state.error());
        if (items)
            m_check.planItems = items->value(m_check.user.dn);
        else
            log(jobs::LogRecord::Level::Warning,
                tr("The plans in the state database cannot be read: %1").arg(items.error().message));
    }
    if (!m_settings.tenant) {
        complete();
        return;
    }
    const directory::DirectoryUser &u = m_check.user;
    const QString name = !u.userPrincipalName.isEmpty() ? u.userPrincipalName : u.mail;
    if (name.isEmpty()) {
        m_check.tenantNote = tr("the directory user has neither UPN nor mail to find it in Microsoft 365");
        complete();
        return;
    }
    m_http = new tenant::TenantHttp(*m_settings.tenant, this);
    connect(m_http, &tenant::TenantHttp::logRecord, this, [this](const jobs::LogRecord &r) { log(r); });
    m_graph = new tenant::GraphClient(m_http, this);
    m_exchange = new tenant::ExchangeClient(m_http, this);
    reportProgress(0, 0, tr("reading %1 in Microsoft 365").arg(name));
    m_graph->getUser(name, [this, name](tenant::TenantResult<tenant::GraphUser> r) {
        if (!r) {
            if (!isNotFound(r.error())) {
                failTenant(r.error());
                return;
            }
            m_check.tenantNote = tr("no Microsoft 365 user %1").arg(name);
            complete();
            return;
        }
        // A synced user is the same person only when its anchor is the directory user's.
        const tenant::GraphUser &g = r.value();
        const QString anchor = g.onPremisesImmutableId;
        if (g.isSynced() && !anchor.isEmpty() && anchor != m_check.user.sourceAnchor
            && anchor != m_check.user.consistencyGuid) {
            m_check.tenantNote = tr("Microsoft 365 user %1 is synced from another directory object "
                                    "(onPremisesImmutableId %2)")
                                     .arg(name, anchor);
            complete();
            return;
        }
        m_check.tenantUser = tenant::TenantUser { std::move(r).value(), std::nullopt };
        readRecipient();
    });
}

void UserCheckJob::readRecipient()
{
    m_exchange->getRecipient(m_check.tenantUser->user.id,
                             [this](tenant::TenantResult<tenant::ExchangeRecipient> r) {
                                 if (!r) {
                                     if (!isNotFound(r.error())) {
                                         failTenant(r.error());
                                         return;
                                     }
                                     complete(); // no recipient: nothing is published, no trust to judge
                                     return;
                                 }
                                 m_check.tenantUser->recipient = std::move(r).value();
                                 readCollection();
                             });
}

void UserCheckJob::readCollection()
{
    m_exchange->getSmimeIssuingCa([this](tenant::TenantResult<QByteArray> r) {
        if (!r) {
            failTenant(r.error());
            return;
        }
        auto collection = decodeSmimeCollection(r.value());
        if (!collection) {
            fail(collection.error().code, QStringLiteral("tenant: ") + collection.error().message);
            return;
        }
        m_check.smimeCollection = std::move(collection).value();
        complete();
    });
}

void UserCheckJob::complete()
{
    if (isCanceled()) {
        fail(QStringLiteral("canceled"), tr("canceled"));
        return;
    }
    VerdictInput input;
    input.who = verdictName(m_check.user);
    input.now = m_settings.now;
    input.directory = m_check.user.values;
    input.planItems = m_check.planItems;
    if (m_settings.tenant) {
        const certs::ValueAnalyzer analyzer(*m_settings.directory.trust,
                                            certs::CertificateJudge(m_settings.directory.policy));
        input.tenant =
            tenantView(m_check.tenantUser, analyzer, publishedContext(m_check.user, m_check.tenantUser),
                       m_settings.now, m_check.smimeCollection);
    }
    m_check.verdict = computeVerdict(input);
    emit checked(m_check);
    finish(true, m_check.verdict.line());
}

void UserCheckJob::doCancel()
{
    if (m_http)
        m_http->cancelAll();
}

SmimeCollectionJob::SmimeCollectionJob(tenant::TenantSettings settings, QObject *parent)
    : Job(tr("S/MIME collection"), parent)
    , m_settings(std::move(settings))
{
    qRegisterMetaType<QList<certs::Certificate>>();
}

SmimeCollectionJob::~SmimeCollectionJob() = default;

void SmimeCollectionJob::doStart()
{
    m_http = new tenant::TenantHttp(m_settings, this);
    connect(m_http, &tenant::TenantHttp::logRecord, this, [this](const jobs::LogRecord &r) { log(r); });
    auto *exchange = new tenant::ExchangeClient(m_http, this);
    exchange->getSmimeIssuingCa([this](tenant::TenantResult<QByteArray> r) {
        if (!r) {
            finish(false, isCanceled() ? tr("canceled") : r.error().toString());
            return;
        }
        auto collection = decodeSmimeCollection(r.value());
        if (!collection) {
            finish(false, collection.error().message);
            return;
        }
        emit collectionRead(*collection);
        finish(
            true,
            tr("%n certificate(s) in Exchange Online's S/MIME collection", nullptr, int(collection->size())));
    });
}

void SmimeCollectionJob::doCancel()
{
    if (m_http)
        m_http->cancelAll();
}

} // namespace certsync::engine
