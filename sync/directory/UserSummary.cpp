#include "directory/UserSummary.h"

#include "engine/Verdict.h"

#include <QDataStream>
#include <QIODevice>

#include <algorithm>

namespace certsync::directory {

namespace {

// "CSS2": with the directory path's verdict. A "CSS1" summary does not decode, so its user is judged
// again from the stored values (the fallback path) and summarised anew by the next stored read.
constexpr quint32 magic = 0x43535332;

} // namespace

std::optional<UserSummary> UserSummary::of(const DirectoryUser &user)
{
    if (user.values.isEmpty() && user.valueCount() > 0)
        return std::nullopt; // not analysed (a stored report was reused): nothing to summarise
    UserSummary s;
    s.identity = user;
    s.identity.userCertificate.clear();
    s.identity.userSmimeCertificate.clear();
    s.identity.values.clear();
    s.identity.report.reset();
    s.identity.storedSeq = -1;
    for (const certs::AnalyzedValue &value : user.values) {
        s.status = std::max(s.status, value.valueProblems.status());
        s.overLimit |= value.valueProblems.has(certs::Problem::OverLimit);
        s.invalidValues += value.kind == certs::ValueKind::Invalid;
        for (int i = 0; i < value.certificates.size(); ++i) {
            const certs::JudgedCertificate &cert = value.certificates.at(i);
            if (!cert.isUsers)
                continue;
            ++s.certificates;
            s.status = std::max(s.status, value.problemsOf(i).status());
            s.notAfters.append(cert.certificate.notAfter.isValid()
                                   ? cert.certificate.notAfter.toMSecsSinceEpoch()
                                   : qint64(0));
            if (!s.sha256.contains(cert.certificate.sha256))
                s.sha256.append(cert.certificate.sha256);
        }
    }
    const engine::OutlookPick pick = engine::outlookPick(user.values);
    s.directoryCanEncrypt = pick.usable;
    s.encryptReasons = pick.reasons;
    return s;
}

QByteArray UserSummary::encode() const
{
    const DirectoryUser &u = identity;
    // Room for all of it at once (QDataStream writes UTF-16 and a length per string): grown write by
    // write, the buffer was reallocated four or five times per summary.
    qsizetype size = 96 + 8 * notAfters.size();
    for (const QString *text : { &u.dn, &u.sourceAnchor, &u.consistencyGuid, &u.userPrincipalName, &u.mail,
                                 &u.accountName, &u.displayName })
        size += 4 + 2 * text->size();
    for (const QStringList *list : { &u.proxyAddresses, &encryptReasons })
        for (const QString &text : *list)
            size += 4 + 2 * text.size();
    for (const QByteArray &hash : sha256)
        size += 4 + hash.size();
    QByteArray bytes;
    bytes.reserve(size);
    QDataStream s(&bytes, QIODevice::WriteOnly);
    s.setVersion(QDataStream::Qt_6_4);
    s << magic << u.dn << u.sourceAnchor << u.consistencyGuid << u.userPrincipalName << u.mail
      << u.proxyAddresses << u.accountName << u.displayName << u.disabled
      << (u.changed.isValid() ? u.changed.toMSecsSinceEpoch() : qint64(-1)) << u.changeNumber
      << quint8(status) << qint32(certificates) << overLimit << qint32(invalidValues) << notAfters << sha256
      << directoryCanEncrypt << encryptReasons;
    return bytes;
}

std::optional<UserSummary> UserSummary::decode(const QByteArray &bytes)
{
    QDataStream s(bytes);
    s.setVersion(QDataStream::Qt_6_4);
    UserSummary summary;
    DirectoryUser &u = summary.identity;
    quint32 m = 0;
    qint64 changed = -1;
    quint8 status = 0;
    qint32 certificates = 0;
    qint32 invalid = 0;
    s >> m;
    if (m != magic)
        return std::nullopt;
    s >> u.dn >> u.sourceAnchor >> u.consistencyGuid >> u.userPrincipalName >> u.mail >> u.proxyAddresses
        >> u.accountName >> u.displayName >> u.disabled >> changed >> u.changeNumber >> status >> certificates
        >> summary.overLimit >> invalid >> summary.notAfters >> summary.sha256 >> summary.directoryCanEncrypt
        >> summary.encryptReasons;
    if (s.status() != QDataStream::Ok || status > quint8(certs::Status::Error) || !s.atEnd())
        return std::nullopt;
    if (changed >= 0)
        u.changed = QDateTime::fromMSecsSinceEpoch(changed, Qt::UTC);
    summary.status = certs::Status(status);
    summary.certificates = certificates;
    summary.invalidValues = invalid;
    return summary;
}

} // namespace certsync::directory
