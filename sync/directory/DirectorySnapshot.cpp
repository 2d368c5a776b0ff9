#include "directory/DirectorySnapshot.h"

#include <QDataStream>
#include <QIODevice>
#include <QJsonDocument>
#include <QJsonObject>

#include <limits>

namespace certsync::directory {

namespace {

// LDAP generalized time "20261128093000Z" or "20261128093000.0Z" (AD's whenChanged).
QDateTime fromGeneralizedTime(const QString &text)
{
    // Built from the digits in UTC: QDateTime::fromString goes through local time, which consults the
    // time zone database (a stat() of /etc/localtime) for every user.
    if (text.size() < 14)
        return {};
    auto number = [&text](int from, int length) { return QStringView(text).mid(from, length).toInt(); };
    const QDate date(number(0, 4), number(4, 2), number(6, 2));
    const QTime time(number(8, 2), number(10, 2), number(12, 2));
    if (!date.isValid() || !time.isValid())
        return {};
    return QDateTime(date, time, Qt::UTC);
}

QStringList texts(const QList<QByteArray> &values)
{
    QStringList out;
    out.reserve(values.size());
    for (const QByteArray &value : values)
        out.append(QString::fromUtf8(value));
    return out;
}

} // namespace

bool UserReport::holds(const QByteArray &currentContext, const QDateTime &now) const
{
    const qint64 t = now.toMSecsSinceEpoch();
    return context == currentContext && from <= t && t < until;
}

QByteArray UserReport::encode() const
{
    QByteArray bytes;
    QDataStream s(&bytes, QIODevice::WriteOnly);
    s.setVersion(QDataStream::Qt_6_4);
    s << quint32(0x43535231) /* "CSR1" */ << context << from << until << rows << certificates;
    return bytes;
}

std::optional<UserReport> UserReport::decode(const QByteArray &encoded, const QByteArray &csv)
{
    if (encoded.isEmpty())
        return std::nullopt;
    QDataStream s(encoded);
    s.setVersion(QDataStream::Qt_6_4);
    quint32 magic = 0;
    UserReport r;
    s >> magic >> r.context >> r.from >> r.until >> r.rows >> r.certificates;
    if (magic != 0x43535231 || s.status() != QDataStream::Ok || !s.atEnd() || r.rows < 0
        || r.rows > csv.size())
        return std::nullopt;
    r.csv = csv; // shared, not copied
    return r;
}

qint64 verdictsHoldUntil(const QList<certs::AnalyzedValue> &values, const QDateTime &judgedAt,
                         int warningDays)
{
    // CertificateJudge::judgeTime: not yet valid before notBefore, expired after notAfter, expiring
    // soon after notAfter less the warning days. Each is a step at one instant; the first step at or
    // after the judgement ends the verdicts' validity (at or after: reuse is strictly before it).
    const qint64 from = judgedAt.toMSecsSinceEpoch();
    const qint64 warning = qint64(warningDays) * 24 * 60 * 60 * 1000;
    qint64 until = std::numeric_limits<qint64>::max();
    const auto step = [&](qint64 at) {
        if (at >= from && at < until)
            until = at;
    };
    for (const certs::AnalyzedValue &value : values)
        for (const certs::JudgedCertificate &judged : value.certificates) {
            const certs::Certificate &c = judged.certificate;
            if (c.notBefore.isValid())
                step(c.notBefore.toMSecsSinceEpoch());
            if (c.notAfter.isValid()) {
                step(c.notAfter.toMSecsSinceEpoch());
                step(c.notAfter.toMSecsSinceEpoch() - warning);
            }
        }
    return until;
}

certs::UserContext DirectoryUser::context() const
{
    certs::UserContext context;
    context.mail = mail;
    context.proxyAddresses = proxyAddresses;
    return context;
}

qint64 DirectoryUser::valueBytes() const
{
    qint64 total = 0;
    for (const QList<QByteArray> *list : { &userCertificate, &userSmimeCertificate })
        for (const QByteArray &value : *list)
            total += value.size();
    return total;
}

DirectoryUser userFromEntry(const LdapEntry &entry, const AttributeMapping &mapping)
{
    DirectoryUser user;
    user.dn = entry.dn;
    if (!mapping.sourceAnchor.isEmpty()) {
        const QByteArray anchor = entry.first(mapping.sourceAnchor);
        user.sourceAnchor =
            mapping.sourceAnchorBinary ? QString::fromLatin1(anchor.toBase64()) : QString::fromUtf8(anchor);
    }
    if (!mapping.consistencyGuid.isEmpty()) {
        const QByteArray guid = entry.first(mapping.consistencyGuid);
        if (!guid.isEmpty())
            user.consistencyGuid = QString::fromLatin1(guid.toBase64());
    }
    if (!mapping.userPrincipalName.isEmpty())
        user.userPrincipalName = entry.text(mapping.userPrincipalName);
    if (!mapping.mail.isEmpty())
        user.mail = entry.text(mapping.mail);
    if (!mapping.proxyAddresses.isEmpty())
        user.proxyAddresses = texts(entry.values(mapping.proxyAddresses));
    if (!mapping.accountName.isEmpty())
        user.accountName = entry.text(mapping.accountName);
    if (!mapping.displayName.isEmpty())
        user.displayName = entry.text(mapping.displayName);
    if (!mapping.userAccountControl.isEmpty())
        user.disabled = (entry.text(mapping.userAccountControl).toLongLong() & 0x2) != 0;
    if (!mapping.changedTime.isEmpty())
        user.changed = fromGeneralizedTime(entry.text(mapping.changedTime));
    if (!mapping.changeNumber.isEmpty()) {
        bool ok = false;
        const qint64 usn = entry.text(mapping.changeNumber).toLongLong(&ok);
        user.changeNumber = ok ? usn : -1;
    }
    if (!mapping.userCertificate.isEmpty())
        user.userCertificate = entry.values(mapping.userCertificate);
    if (!mapping.userSmimeCertificate.isEmpty())
        user.userSmimeCertificate = entry.values(mapping.userSmimeCertificate);
    return user;
}

QByteArray ReadMark::toJson() const
{
    QJsonObject o;
    o[QStringLiteral("kind")] = sourceKindName(kind);
    o[QStringLiteral("server")] = server;
    o[QStringLiteral("dc")] = dcIdentity;
    o[QStringLiteral("usn")] = QString::number(usn);
    o[QStringLiteral("csn")] = csn;
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

ReadMark ReadMark::fromJson(const QByteArray &json)
{
    const QJsonObject o = QJsonDocument::fromJson(json).object();
    ReadMark mark;
    mark.kind = o.value(QStringLiteral("kind")).toString() == QLatin1String("ldap")
        ? SourceKind::GenericLdap
        : SourceKind::ActiveDirectory;
    mark.server = o.value(QStringLiteral("server")).toString();
    mark.dcIdentity = o.value(QStringLiteral("dc")).toString();
    bool ok = false;
    mark.usn = o.value(QStringLiteral("usn")).toString().toLongLong(&ok);
    if (!ok)
        mark.usn = -1;
    mark.csn = o.value(QStringLiteral("csn")).toString();
    return mark;
}

} // namespace certsync::directory
