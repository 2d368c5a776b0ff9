#include "tenant/TenantSettings.h"

namespace certsync::tenant {

namespace {

QString expand(QString url, const QString &tenantId)
{
    url.replace(QStringLiteral("{tenant}"), tenantId);
    while (url.endsWith(QLatin1Char('/')))
        url.chop(1);
    return url;
}

} // namespace

QUrl TenantSettings::tokenUrl() const
{
    return QUrl(expand(authorityUrl, tenantId) + QStringLiteral("/oauth2/v2.0/token"));
}

QUrl TenantSettings::graphBase() const
{
    return QUrl(expand(graphUrl, tenantId));
}

QUrl TenantSettings::exchangeBase() const
{
    return QUrl(expand(exchangeUrl, tenantId));
}

} // namespace certsync::tenant
