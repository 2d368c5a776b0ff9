#include "core/Versions.h"

#include <QtGlobal>

#include <ldap.h>
#include <openssl/crypto.h>

namespace certsync {

namespace {

ComponentVersion ldapVersion()
{
    LDAPAPIInfo info {};
    info.ldapai_info_version = LDAP_API_INFO_VERSION;
    if (ldap_get_option(nullptr, LDAP_OPT_API_INFO, &info) != LDAP_SUCCESS)
        return { QStringLiteral("libldap"), QStringLiteral("unknown") };
    ComponentVersion version { QString::fromLatin1(info.ldapai_vendor_name),
                               QStringLiteral("%1.%2.%3")
                                   .arg(info.ldapai_vendor_version / 10000)
                                   .arg((info.ldapai_vendor_version / 100) % 100)
                                   .arg(info.ldapai_vendor_version % 100) };
    ldap_memfree(info.ldapai_vendor_name);
    if (info.ldapai_extensions) {
        for (char **e = info.ldapai_extensions; *e; ++e)
            ldap_memfree(*e);
        ldap_memfree(info.ldapai_extensions);
    }
    return version;
}

} // namespace

QList<ComponentVersion> runtimeVersions()
{
    const QString qtRuntime = QString::fromLatin1(qVersion());
    const QString qtBuild = QStringLiteral(QT_VERSION_STR);
    return {
        { QStringLiteral("certsync"), QStringLiteral(CERTSYNC_VERSION) },
        { QStringLiteral("Qt"),
          qtRuntime == qtBuild ? qtRuntime : QStringLiteral("%1 (built with %2)").arg(qtRuntime, qtBuild) },
        { QStringLiteral("OpenSSL"), QString::fromLatin1(OpenSSL_version(OPENSSL_VERSION_STRING)) },
        ldapVersion(),
    };
}

} // namespace certsync
