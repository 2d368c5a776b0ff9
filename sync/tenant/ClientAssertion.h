#pragma once

// The JWT client assertion Entra ID accepts instead of a client secret (RFC 7523, RFC 7515).

#include "certs/OpenSsl.h"
#include "core/Result.h"
#include "tenant/TenantSettings.h"

#include <QByteArray>
#include <QDateTime>
#include <QString>

namespace certsync::tenant {

QByteArray base64Url(QByteArrayView bytes); // unpadded, RFC 4648 section 5

// The app's certificate credential: the certificate Entra knows (its thumbprint goes into the
// header) and the private key that signs.
struct ClientCredential
{
    QByteArray certificateDer;
    ossl::EvpPkeyPtr key;

    static Result<ClientCredential> fromPemFiles(const QString &certificateFile, const QString &keyFile,
                                                 const QByteArray &passphrase = {});
    static Result<ClientCredential> fromPem(const QByteArray &certificatePem, const QByteArray &keyPem,
                                            const QByteArray &passphrase = {});
};

struct AssertionClaims
{
    QString clientId; // iss and sub
    QString audience; // the token endpoint URL
    QDateTime issuedAt; // iat and nbf
    int lifetimeSeconds = 600; // exp = iat + this; Entra accepts at most 10 minutes
    QString jti; // a new GUID for each assertion
};

// header.payload.signature. The header and payload JSON are compact with sorted keys, so that the
// same inputs give the same bytes (RS256 signatures are then reproducible; PS256 ones are not,
// PSS being randomised).
Result<QByteArray> buildClientAssertion(const ClientCredential &credential, const AssertionClaims &claims,
                                        AssertionAlgorithm algorithm);

} // namespace certsync::tenant
