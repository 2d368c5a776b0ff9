#pragma once

// Plain-data builders for the engine's suites and the diff benchmark: directory users with analysed
// values and tenant users, without parsing a single certificate, so that every policy rule can be
// driven by a table row.

#include "engine/Diff.h"

#include <QCryptographicHash>

namespace certsync::testing {

inline const QDateTime EngineNow = QDateTime(QDate(2026, 11, 28), QTime(9, 0), Qt::UTC);

struct CertSpec
{
    CertSpec(QString n = {}, int days = 365, QList<certs::Problem> p = {}, QString cert = {},
             bool bad = false)
        : name(std::move(n))
        , daysLeft(days)
        , problems(std::move(p))
        , certName(std::move(cert))
        , invalid(bad)
    { }
    QString name; // the raw value is "value:<name>"; the certificate inside is "cert:<certName>"
    int daysLeft = 365; // notAfter relative to EngineNow
    QList<certs::Problem> problems;
    QString certName; // empty: same as name (a different value carrying the same certificate sets it)
    bool invalid = false;
};

inline QByteArray rawOf(const QString &name)
{
    return QStringLiteral("value:%1").arg(name).toUtf8();
}

inline QByteArray shaOf(const QByteArray &bytes)
{
    return QCryptographicHash::hash(bytes, QCryptographicHash::Sha256);
}

inline void addValue(directory::DirectoryUser &u, certs::Attribute attribute, const CertSpec &spec)
{
    QList<QByteArray> &raw =
        attribute == certs::Attribute::UserCertificate ? u.userCertificate : u.userSmimeCertificate;
    certs::AnalyzedValue v;
    v.attribute = attribute;
    v.index = int(raw.size());
    const QByteArray bytes = rawOf(spec.name);
    raw.append(bytes);
    v.sha256 = shaOf(bytes);
    v.size = int(bytes.size());
    if (spec.invalid) {
        v.kind = certs::ValueKind::Invalid;
        v.valueProblems.add(certs::Problem::ParseError);
    } else {
        v.kind =
            attribute == certs::Attribute::UserCertificate ? certs::ValueKind::X509 : certs::ValueKind::Pkcs7;
        certs::JudgedCertificate j;
        const QString certName = spec.certName.isEmpty() ? spec.name : spec.certName;
        j.certificate.sha256 = shaOf(QStringLiteral("cert:%1").arg(certName).toUtf8());
        j.certificate.notAfter = EngineNow.addDays(spec.daysLeft);
        j.certificate.notBefore = EngineNow.addDays(-30);
        j.certificate.issuer = QStringLiteral("CN=Issuing CA,O=Certsync Test,DC=certsync,DC=test");
        j.certificate.serialHex = QString::fromLatin1(j.certificate.sha256.left(8).toHex()).toUpper();
        j.certificate.subjectKeyId = j.certificate.sha256.left(20);
        for (certs::Problem p : spec.problems)
            j.problems.add(p);
        if (spec.daysLeft < 0)
            j.problems.add(certs::Problem::Expired);
        v.certificates.append(j);
    }
    u.values.append(v);
}

inline directory::DirectoryUser directoryUser(const QString &name, const QList<CertSpec> &userCertificate,
                                              const QList<CertSpec> &userSmime = {})
{
    directory::DirectoryUser u;
    u.dn = QStringLiteral("CN=%1,CN=Users,DC=certsync,DC=test").arg(name);
    u.sourceAnchor = QString::fromLatin1(shaOf(name.toUtf8()).left(16).toBase64());
    u.userPrincipalName = name + QStringLiteral("@certsync.test");
    u.mail = name + QStringLiteral("@certsync.test");
    for (const CertSpec &s : userCertificate)
        addValue(u, certs::Attribute::UserCertificate, s);
    for (const CertSpec &s : userSmime)
        addValue(u, certs::Attribute::UserSmimeCertificate, s);
    return u;
}

// SyncedCloudManaged: synced, its recipient's Exchange attributes mastered in Exchange Online.
enum class TenantKind { Synced, CloudMastered, CloudWithoutRecipient, SyncedCloudManaged };

// The tenant side of `u`: synced users carry its anchor, cloud-mastered ones only its UPN.
inline engine::PublishedUser publishedUser(const directory::DirectoryUser &u, TenantKind kind,
                                           const QList<QString> &userCertificate = {},
                                           const QList<QString> &userSmime = {})
{
    engine::PublishedUser p;
    p.user.id = QString::fromLatin1(shaOf(u.dn.toUtf8()).left(16).toHex());
    p.user.userPrincipalName = u.userPrincipalName;
    p.user.mail = u.mail;
    if (kind == TenantKind::Synced || kind == TenantKind::SyncedCloudManaged) {
        p.user.onPremisesImmutableId = u.sourceAnchor;
        p.user.onPremisesSyncEnabled = true;
    }
    p.exchangeCloudManaged = kind == TenantKind::SyncedCloudManaged;
    p.hasRecipient = kind != TenantKind::CloudWithoutRecipient;
    if (p.hasRecipient) {
        p.recipientIdentity = p.user.id;
        p.recipientTypeDetails = QStringLiteral("UserMailbox");
    }
    for (const QString &n : userCertificate)
        p.userCertificate.append(engine::valueOf(rawOf(n)));
    for (const QString &n : userSmime)
        p.userSmimeCertificate.append(engine::valueOf(rawOf(n)));
    return p;
}

} // namespace certsync::testing
