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
#include <optional>

namespace certsync::directory {

// What an inventory made of one user: the CSV rows, kept with the stored snapshot so that a later
// full read that meets the same entry again writes them as they are, without analysing its values.
// They hold as long as the context (trust, policy, certsync's judgement) is the same and the time is
// before `until`, the first instant at which judging the values again could give another verdict.
struct UserReport
{
    QByteArray context; // what the verdicts depend on besides the entry and the time
    qint64 from = 0; // UTC epoch milliseconds: when they were judged (a clock set back reuses nothing)
    qint64 until = 0; // UTC epoch milliseconds; reused only strictly before it
    qint64 rows = 0;
    qint64 certificates = 0;
    QByteArray csv; // the user's rows, each ending in CRLF

    [[nodiscard]] bool holds(const QByteArray &currentContext, const QDateTime &now) const;
    [[nodiscard]] QByteArray encode() const; // all but `csv`, which is stored as it is
    // nullopt when `encoded` is empty or damaged
    static std::optional<UserReport> decode(const QByteArray &encoded, const QByteArray &csv);
};

// The first instant after `judgedAt` at which the time-based verdicts of these values (expired, not
// yet valid, expiring soon within `warningDays`) can differ from those at `judgedAt`.
qint64 verdictsHoldUntil(const QList<certs::AnalyzedValue> &values, const QDateTime &judgedAt,
                         int warningDays);

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
    // Set by a read that makes reports (DirectoryReadSettings::reports). A report taken from the stored
    // snapshot leaves `values` empty, and `storedSeq` says where the unchanged row is.
    std::optional<UserReport> report;
    qint64 storedSeq = -1;

    [[nodiscard]] certs::UserContext context() const;
    [[nodiscard]] int valueCount() const { return int(userCertificate.size() + userSmimeCertificate.size()); }
    [[nodiscard]] qint64 valueBytes() const;
};

DirectoryUser userFromEntry(const LdapEntry &entry, const AttributeMapping &mapping);

// Where an incremental read continues. AD: uSNChanged is per domain controller, so the mark holds
// the DC's identity too; OpenLDAP: the suffix's contextCSN when the read began (entryCSN is the change
// sequence of modifyTimestamp).
struct ReadMark
{
    SourceKind kind = SourceKind::ActiveDirectory;
    QString server; // url + base: a mark for another directory or subtree is worthless
    QString dcIdentity; // dsServiceName + invocationId
    qint64 usn = -1; // highestCommittedUSN when the read began
    QString csn; // contextCSN when the read began: "20261128093000.123456Z#000000#000#000000"

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
    qint64 reused = 0; // users whose stored report was reused (DirectoryReadSettings::reports)
    // The users carry their identifiers only (stored summaries, shown at the console's start): no
    // values, no analysis. Nothing may be derived from their certificates (a diff, a report).
    bool summaryOnly = false;
    std::optional<ServerCertificate> serverCertificate;
};

} // namespace certsync::directory

Q_DECLARE_METATYPE(certsync::directory::DirectoryUser)
Q_DECLARE_METATYPE(QList<certsync::directory::DirectoryUser>)
Q_DECLARE_METATYPE(std::shared_ptr<certsync::directory::DirectorySnapshot>)
