#pragma once

#include <QString>
#include <QUrl>

namespace certsync::tenant {

enum class AssertionAlgorithm {
    Ps256, // RSASSA-PSS with SHA-256, header x5t#S256: what Microsoft recommends
    Rs256, // RSASSA-PKCS1-v1_5 with SHA-256, header x5t (SHA-1 thumbprint): the older form
};

// How Exchange's InvokeCommand JSON carries byte[] parameters and properties. Microsoft does not
// document it; base64 strings are what the Exchange module sends. Kept here, in one place.
enum class ByteArrayEncoding { Base64String, NumberArray };
// How a multi-valued Exchange parameter is changed: a GenericHashTable of values to add and to
// remove (what `Set-Mailbox -UserCertificate @{Add=...;Remove=...}` sends; a value someone else
// added meanwhile survives), or the whole list replaced.
enum class MultiValuedUpdate { AddRemove, Replace };

// Everything needed to reach one tenant. Secrets are held in memory only: they come from the
// keychain or an environment variable and are never written to settings, logs or files.
struct TenantSettings
{
    QString tenantId;
    QString clientId;

    // One of the two credentials. The certificate is preferred when both are given.
    QString clientSecret;
    QString clientCertificateFile; // PEM
    QString clientKeyFile; // PEM, RSA (PS256/RS256 need RSA)
    QByteArray clientKeyPassphrase;
    AssertionAlgorithm assertionAlgorithm = AssertionAlgorithm::Ps256;

    // "{tenant}" is replaced by tenantId.
    QString authorityUrl = QStringLiteral("https://login.microsoftonline.com/{tenant}");
    QString graphUrl = QStringLiteral("https://graph.microsoft.com/v1.0");
    QString exchangeUrl = QStringLiteral("https://outlook.office365.com/adminapi/beta/{tenant}");
    QString graphScope = QStringLiteral("https://graph.microsoft.com/.default");
    QString exchangeScope = QStringLiteral("https://outlook.office365.com/.default");

    // Extra trust anchors (PEM) added to the system's, e.g. a test tenant's CA. TLS verification
    // itself is never turned off.
    QString caFile;

    int maxConcurrency = 4; // requests in flight at once
    int maxAttempts = 6; // per request, the first one included
    int timeoutMs = 60000; // per attempt
    int backoffBaseMs = 500; // exponential backoff (with jitter) when the service gives no Retry-After
    int backoffMaxMs = 30000;
    int maxRetryAfterSeconds = 300; // a Retry-After beyond this fails the request instead of stalling
    // A Retry-After of at least this many seconds holds all new requests to that service, not
    // only the throttled one (0: per request only).
    int throttleGateSeconds = 2;
    int tokenRefreshMarginSeconds = 300; // renew a token this long before it expires
    int assertionLifetimeSeconds = 600; // at most 10 minutes, as Entra ID requires
    ByteArrayEncoding exchangeByteEncoding = ByteArrayEncoding::Base64String;
    MultiValuedUpdate exchangeMultiValuedUpdate = MultiValuedUpdate::AddRemove;

    [[nodiscard]] QUrl tokenUrl() const;
    [[nodiscard]] QUrl graphBase() const;
    [[nodiscard]] QUrl exchangeBase() const;
    [[nodiscard]] bool usesCertificate() const { return !clientCertificateFile.isEmpty(); }
};

} // namespace certsync::tenant
