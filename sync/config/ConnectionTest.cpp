#include "config/ConnectionTest.h"

#include "directory/LdapConnection.h"
#include "tenant/TenantHttp.h"

#include <QUrlQuery>

namespace certsync::config {

DirectoryTestJob::DirectoryTestJob(directory::ConnectionProfile profile, QString password, QObject *parent)
    : Job(QStringLiteral("directory test"), parent)
    , m_profile(std::move(profile))
    , m_password(std::move(password))
{ }

void DirectoryTestJob::doStart()
{
    auto connection = directory::LdapConnection::open(m_profile, m_password);
    m_password.fill(QLatin1Char('\0'));
    if (!connection) {
        finish(false, connection.error().message);
        return;
    }
    auto base = (*connection)->readEntry(m_profile.baseDn, { QStringLiteral("objectClass") });
    if (!base) {
        finish(false,
               QStringLiteral("connected, but the base DN %1 cannot be read: %2")
                   .arg(m_profile.baseDn, base.error().message));
        return;
    }
    QString text = QStringLiteral("Connected to %1; the base DN is readable.").arg(m_profile.describe());
    if (const auto &certificate = (*connection)->serverCertificate())
        text += QStringLiteral(" Server certificate: %1.").arg(certificate->describe());
    finish(true, text);
}

TenantTestJob::TenantTestJob(tenant::TenantSettings settings, QObject *parent)
    : Job(QStringLiteral("tenant test"), parent)
    , m_settings(std::move(settings))
{ }

TenantTestJob::~TenantTestJob() = default;

void TenantTestJob::doStart()
{
    m_http = new tenant::TenantHttp(m_settings, this);
    m_settings.clientSecret.fill(QLatin1Char('\0'));
    tenant::TenantRequest request;
    request.service = tenant::Service::Graph;
    QUrl url = m_http->settings().graphBase();
    url.setPath(url.path() + QStringLiteral("/users"));
    QUrlQuery query;
    query.addQueryItem(QStringLiteral("$top"), QStringLiteral("1"));
    query.addQueryItem(QStringLiteral("$select"), QStringLiteral("id"));
    url.setQuery(query);
    request.url = url;
    request.what = QStringLiteral("connection test: one Graph user");
    m_http->send(request, [this](tenant::TenantResult<tenant::TenantResponse> result) {
        if (!result) {
            finish(false, result.error().toString());
            return;
        }
        finish(true,
               QStringLiteral("Token received; Graph answered HTTP %1 (request-id %2).")
                   .arg(result->httpStatus)
                   .arg(result->requestId));
    });
}

void TenantTestJob::doCancel()
{
    if (m_http)
        m_http->cancelAll();
}

} // namespace certsync::config
