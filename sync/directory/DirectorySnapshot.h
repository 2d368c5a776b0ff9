#pragma once

#include "certs/ValueAnalyzer.h"
#include "core/Result.h"
#include "directory/ConnectionProfile.h"
#include "directory/LdapConnection.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringList>

#include <memory>

namespace certsync::directory {

// One user as the directory has it: identifiers, the raw values of both certificate attributes
// (exact bytes, for writes by value), and what the certificate engine made of them.
struct DirectoryUser
{
    QString dn;
    QString sourceAnchor; // AD: base64 of objectGUID (= Entra's onPremisesImmutableId); LDAP: entryUUID
    QString consistencyGuid; // base64 of ms-DS-ConsistencyGuid, when set
    QString userPrincipalName;
    QString mail;
    QStringList proxyAddresses;
    QString accountName;
    QString displayName;
    bool disabled = false; // userAccountControl bit 0x2
    QDateTime changed; // UTC
    qint64 changeNumber = -1; // AD uSNChanged
    QList<QByteArray> userCertificate;
    QList<QByteArray> userSmimeCertificate;
    // Both attributes analysed, userCertificate values first. Chain details are dropped to keep a
    // snapshot of 100,000 users small (status and message stay); re-analyse one user to show them.
    QList<certs::AnalyzedValue> values;

    [[nodiscard]] certs::UserContext context() const;
    [[nodiscard]] int valueCount() const { return int(userCertificate.size() + userSmimeCertificate.size()); }
    [[nodiscard]] qint64 valueBytes() const;
};

DirectoryUser userFromEntry(const LdapEntry &entry, const AttributeMapping &mapping);

// Where an incremental read continues. AD: uSNChanged is per domain controller, so the mark holds
// the DC's identity too; OpenLDAP: the newest entryCSN seen (the change sequence of modifyTimestamp).
struct ReadMark
{
    SourceKind kind = SourceKind::ActiveDirectory;
    QString server; // url + base: a mark for another directory or subtree is worthless
    QString dcIdentity; // dsServiceName + invocationId
    qint64 usn = -1; // highestCommittedUSN when the read began
    QString csn; // "20261128093000.123456Z#000000#000#000000"

    [[nodiscard]] bool isValid() const { return !server.isEmpty() && (usn >= 0 || !csn.isEmpty()); }
    [[nodiscard]] QByteArray toJson() const;
    static ReadMark fromJson(const QByteArray &json);
    bool operator==(const ReadMark &) const = default;
};

struct DirectorySnapshot
{
    QString server; // ConnectionProfile::describe()
    QDateTime readAt; // UTC, when the read began
    // False when the read ended early (server gone, timeout, canceled, an error): such a snapshot
    // must never be used as if it were the whole directory (no deletions derived from it).
    bool complete = false;
    Error error; // why it is incomplete
    bool incremental = false; // only users changed since `previous` mark are in `users`
    ReadMark mark; // where the next incremental read continues (valid only when complete)
    QList<DirectoryUser> users;
    qint64 entries = 0;
    int pages = 0;
    qint64 values = 0;
    qint64 valueBytes = 0;
    qint64 certificates = 0;
    std::optional<ServerCertificate> serverCertificate;
};

} // namespace certsync::directory

Q_DECLARE_METATYPE(certsync::directory::DirectoryUser)
Q_DECLARE_METATYPE(QList<certsync::directory::DirectoryUser>)
Q_DECLARE_METATYPE(std::shared_ptr<certsync::directory::DirectorySnapshot>)
