#pragma once

// "Can senders encrypt to this person?", read live for one user: the directory entry (one LDAP
// search), the Microsoft 365 user and Exchange recipient, Exchange Online's S/MIME CA collection and
// the state database's plan items for the user, then the verdict. `certsync check` and the console's
// live look-up both run UserCheckJob; the console also builds verdicts for users it has already read
// from the same pieces (tenantView, planItemsByUser).

#include "directory/DirectoryReadJob.h"
#include "directory/DirectorySnapshot.h"
#include "engine/Verdict.h"
#include "jobs/Job.h"
#include "tenant/TenantSettings.h"
#include "tenant/TenantSnapshot.h"

#include <QHash>
#include <QMetaType>

#include <optional>

namespace certsync::engine {

class PlanStore;

// Get-SmimeConfig's SMIMECertificateIssuingCA decoded and parsed; empty bytes (nothing uploaded) give
// an empty collection, which trusts nothing.
Result<QList<certs::Certificate>> decodeSmimeCollection(const QByteArray &store);

// The CA certificates of a trust store (anchors, then intermediates; the system bundle is not
// listed), described with their DER: what the diff may add to Exchange Online's S/MIME collection.
QList<certs::Certificate> trustBundleCertificates(const certs::TrustStore &trust);

// What the tenant holds for a directory user, analysed like the directory's values. `user` empty: no
// Microsoft 365 user matches. `collection` nullopt: not read (the verdict does not judge trust).
TenantView tenantView(const std::optional<tenant::TenantUser> &user, const certs::ValueAnalyzer &analyzer,
                      const certs::UserContext &context, const QDateTime &now,
                      const std::optional<QList<certs::Certificate>> &collection);

// What the published values are judged against: the directory user's addresses, with the Microsoft 365
// user's mail when it has one (the address senders look up).
certs::UserContext publishedContext(const directory::DirectoryUser &user,
                                    const std::optional<tenant::TenantUser> &tenantUser);

// The verdict's Exchange Online path for a directory user already read (its `values` analysed): the
// users pane's "Can encrypt" column. Published values byte for byte the directory's reuse its analysis
// (what blocks encryption does not depend on the addresses); others are analysed.
bool tenantCanEncrypt(const directory::DirectoryUser &user,
                      const std::optional<tenant::TenantUser> &tenantUser,
                      const certs::ValueAnalyzer &analyzer, const QDateTime &now,
                      const std::optional<QList<certs::Certificate>> &collection);

// The plan items of the newest open plans, per directory DN, newest plan first: what a verdict's fix
// names ("plan 12 item 3 is staged"). Stale and rejected plans are left out.
Result<QHash<QString, QList<PlanItemState>>> planItemsByUser(const PlanStore &plans, int newestPlans = 3);

// How a verdict names a directory user: UPN, else mail, else DN.
QString verdictName(const directory::DirectoryUser &user);

struct UserCheck
{
    directory::DirectoryUser user; // values analysed (chains included)
    std::optional<tenant::TenantUser> tenantUser; // the matching Microsoft 365 user and its recipient
    QString tenantNote; // why no Microsoft 365 user counts as this one's, when none does
    std::optional<QList<certs::Certificate>> smimeCollection; // read when a recipient was found
    QList<PlanItemState> planItems;
    EncryptionVerdict verdict;
};

struct UserCheckSettings
{
    directory::DirectoryReadSettings directory;
    std::optional<tenant::TenantSettings> tenant; // nullopt: the directory only
    QString who; // mail, UPN, account name or DN
    QString statePath; // the state database with the plans; empty or missing: no plan items
    QDateTime now; // invalid: the current time
};

// Runs on a worker thread: the LDAP search is a blocking call in doStart, the tenant's requests are
// answered on the thread's event loop. Emits checked() once, before finished(true); a failure
// finishes with the error (prefixed "directory: " or "tenant: ") and its code in errorCode().
class UserCheckJob : public jobs::Job
{
    Q_OBJECT
public:
    explicit UserCheckJob(UserCheckSettings settings, QObject *parent = nullptr);
    ~UserCheckJob() override;

    [[nodiscard]] QString errorCode() const { return m_errorCode; } // "not_found", "ambiguous", ...

signals:
    void checked(const certsync::engine::UserCheck &check);

protected:
    void doStart() override;
    void doCancel() override;

private:
    void readRecipient();
    void readCollection();
    void complete();
    void fail(const QString &code, const QString &message);
    void failTenant(const tenant::TenantError &error);

    UserCheckSettings m_settings;
    UserCheck m_check;
    QString m_errorCode;
    tenant::TenantHttp *m_http = nullptr; // created in doStart, on the worker thread
    tenant::GraphClient *m_graph = nullptr;
    tenant::ExchangeClient *m_exchange = nullptr;
};

// Reads Exchange Online's S/MIME CA collection (Get-SmimeConfig), decoded: for the console's view of
// the tenant's trust and its verdicts.
class SmimeCollectionJob : public jobs::Job
{
    Q_OBJECT
public:
    explicit SmimeCollectionJob(tenant::TenantSettings settings, QObject *parent = nullptr);
    ~SmimeCollectionJob() override;

signals:
    void collectionRead(const QList<certsync::certs::Certificate> &collection);

protected:
    void doStart() override;
    void doCancel() override;

private:
    tenant::TenantSettings m_settings;
    tenant::TenantHttp *m_http = nullptr;
};

} // namespace certsync::engine

Q_DECLARE_METATYPE(certsync::engine::UserCheck)
