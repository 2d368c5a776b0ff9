#include "directory/ConnectionProfile.h"

namespace certsync::directory {

AttributeMapping AttributeMapping::defaults(SourceKind kind)
{
    AttributeMapping m;
    if (kind == SourceKind::ActiveDirectory) {
        m.sourceAnchor = QStringLiteral("objectGUID");
        m.sourceAnchorBinary = true;
        m.consistencyGuid = QStringLiteral("ms-DS-ConsistencyGuid");
        m.userPrincipalName = QStringLiteral("userPrincipalName");
        m.mail = QStringLiteral("mail");
        m.proxyAddresses = QStringLiteral("proxyAddresses");
        m.accountName = QStringLiteral("sAMAccountName");
        m.displayName = QStringLiteral("displayName");
        m.userAccountControl = QStringLiteral("userAccountControl");
        m.changedTime = QStringLiteral("whenChanged");
        m.changeNumber = QStringLiteral("uSNChanged");
        m.userCertificate = QStringLiteral("userCertificate");
        m.userSmimeCertificate = QStringLiteral("userSMIMECertificate");
    } else {
        m.sourceAnchor = QStringLiteral("entryUUID");
        m.sourceAnchorBinary = false;
        m.mail = QStringLiteral("mail");
        m.accountName = QStringLiteral("uid");
        m.displayName = QStringLiteral("cn");
        m.changedTime = QStringLiteral("modifyTimestamp");
        m.changeSequence = QStringLiteral("entryCSN");
        // OpenLDAP's certificate syntax must be transferred with the ;binary option (RFC 4523).
        m.userCertificate = QStringLiteral("userCertificate;binary");
        m.userSmimeCertificate = QStringLiteral("userSMIMECertificate");
    }
    return m;
}

QStringList AttributeMapping::attributes() const
{
    QStringList out;
    for (const QString *name : { &sourceAnchor, &consistencyGuid, &userPrincipalName, &mail, &proxyAddresses,
                                 &accountName, &displayName, &userAccountControl, &changedTime, &changeNumber,
                                 &changeSequence, &userCertificate, &userSmimeCertificate })
        if (!name->isEmpty() && !out.contains(*name, Qt::CaseInsensitive))
            out.append(*name);
    return out;
}

QString ConnectionProfile::defaultFilter(SourceKind kind)
{
    // objectCategory=person leaves computers out (they are objectClass=user too).
    return kind == SourceKind::ActiveDirectory
        ? QStringLiteral("(&(objectCategory=person)(objectClass=user))")
        : QStringLiteral("(objectClass=inetOrgPerson)");
}

QString ConnectionProfile::effectiveFilter() const
{
    return filter.isEmpty() ? defaultFilter(kind) : filter;
}

bool ConnectionProfile::usesTls() const
{
    return url.startsWith(QLatin1String("ldaps://"), Qt::CaseInsensitive) || startTls;
}

QString ConnectionProfile::describe() const
{
    QString text = url;
    if (url.startsWith(QLatin1String("ldap://"), Qt::CaseInsensitive))
        text += startTls ? QStringLiteral(" (StartTLS)") : QStringLiteral(" (no TLS)");
    text += QStringLiteral(" base ") + baseDn;
    switch (bind) {
    case BindMethod::Simple:
        text += QStringLiteral(" as ") + bindDn;
        break;
    case BindMethod::Gssapi:
        text += QStringLiteral(" with Kerberos");
        break;
    case BindMethod::Anonymous:
        text += QStringLiteral(" anonymously");
        break;
    }
    return text;
}

QString sourceKindName(SourceKind kind)
{
    return kind == SourceKind::ActiveDirectory ? QStringLiteral("ad") : QStringLiteral("ldap");
}

} // namespace certsync::directory
