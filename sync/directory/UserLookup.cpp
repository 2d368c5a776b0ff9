#include "directory/UserLookup.h"

#include "directory/LdapConnection.h"

namespace certsync::directory {

namespace {

// A DN has an attribute type and '=' before its first value; mail addresses, UPNs and account
// names have no '='.
bool looksLikeDn(const QString &who)
{
    return who.contains(QLatin1Char('='));
}

} // namespace

QString escapeFilterValue(const QString &value)
{
    QString out;
    out.reserve(value.size());
    for (QChar c : value) {
        switch (c.unicode()) {
        case '*':
            out += QStringLiteral("\\2a");
            break;
        case '(':
            out += QStringLiteral("\\28");
            break;
        case ')':
            out += QStringLiteral("\\29");
            break;
        case '\\':
            out += QStringLiteral("\\5c");
            break;
        case 0:
            out += QStringLiteral("\\00");
            break;
        default:
            out += c;
        }
    }
    return out;
}

SearchRequest lookupRequest(const ConnectionProfile &profile, const QString &who)
{
    SearchRequest request;
    request.attributes = profile.mapping.attributes();
    request.pageSize = 0;
    const QString name = who.trimmed();
    if (looksLikeDn(name)) {
        request.base = name;
        request.scope = SearchRequest::Scope::Base;
        request.filter = profile.effectiveFilter();
        return request;
    }
    request.base = profile.baseDn;
    request.scope = SearchRequest::Scope::Subtree;
    const AttributeMapping &m = profile.mapping;
    const QString value = escapeFilterValue(name);
    QString any;
    for (const QString *attribute : { &m.mail, &m.userPrincipalName, &m.accountName })
        if (!attribute->isEmpty())
            any += QStringLiteral("(%1=%2)").arg(*attribute, value);
    // proxyAddresses match case-insensitively on AD: "smtp:" finds the primary "SMTP:" too.
    if (!m.proxyAddresses.isEmpty() && name.contains(QLatin1Char('@')))
        any += QStringLiteral("(%1=smtp:%2)").arg(m.proxyAddresses, value);
    request.filter = QStringLiteral("(&%1(|%2))").arg(profile.effectiveFilter(), any);
    return request;
}

Result<DirectoryUser> lookUpUser(const DirectoryReadSettings &settings, const QString &who,
                                 const QDateTime &now)
{
    if (who.trimmed().isEmpty())
        return Error { QStringLiteral("usage"),
                       QStringLiteral("name a user: mail, UPN, account name or DN") };
    auto connection = LdapConnection::open(settings.profile, settings.password);
    if (!connection)
        return connection.error();
    QList<LdapEntry> entries;
    auto searched = (*connection)->search(lookupRequest(settings.profile, who), [&](QList<LdapEntry> &&page) {
        entries.append(std::move(page));
    });
    if (!searched) {
        if (searched.error().code == QLatin1String("no_such_object"))
            return Error { QStringLiteral("not_found"), QStringLiteral("no directory entry %1").arg(who) };
        return searched.error();
    }
    if (entries.isEmpty())
        return Error { QStringLiteral("not_found"),
                       QStringLiteral(
                           "no directory user matches '%1' (mail, UPN, account name or DN) under %2")
                           .arg(who, settings.profile.baseDn) };
    if (entries.size() > 1) {
        QStringList dns;
        constexpr qsizetype shown = 5; // enough to tell the candidates apart, short enough for one line
        for (const LdapEntry &e : entries.first(std::min(shown, entries.size())))
            dns << e.dn;
        if (entries.size() > shown)
            dns << QStringLiteral("and %1 more").arg(entries.size() - shown);
        return Error { QStringLiteral("ambiguous"),
                       QStringLiteral("%1 directory users match '%2': %3")
                           .arg(entries.size())
                           .arg(who, dns.join(QStringLiteral("; "))) };
    }
    DirectoryUser user = userFromEntry(entries.first(), settings.profile.mapping);
    if (!settings.trust)
        return Error { QStringLiteral("config"), QStringLiteral("no S/MIME trust store to judge with") };
    const certs::ValueAnalyzer analyzer(*settings.trust, certs::CertificateJudge(settings.policy),
                                        settings.cache.get());
    user.values = analyzer.analyzeUser(user.userCertificate, user.userSmimeCertificate, user.context(),
                                       now.isValid() ? now : QDateTime::currentDateTimeUtc());
    return user;
}

} // namespace certsync::directory
