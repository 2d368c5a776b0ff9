#include "tenant/ClientAssertion.h"

#include <QCryptographicHash>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

#include <openssl/pem.h>
#include <openssl/rsa.h>

namespace certsync::tenant {

QByteArray base64Url(QByteArrayView bytes)
{
    return bytes.toByteArray().toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

namespace {

Result<QByteArray> readAll(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return Error { QStringLiteral("tenant.credential"),
                       QStringLiteral("%1: %2").arg(path, f.errorString()) };
    return f.readAll();
}

int passphraseCallback(char *buf, int size, int, void *userdata)
{
    const auto *pass = static_cast<const QByteArray *>(userdata);
    const int n = std::min(size, int(pass->size()));
    std::copy_n(pass->constData(), n, buf);
    return n;
}

} // namespace

Result<ClientCredential> ClientCredential::fromPemFiles(const QString &certificateFile,
                                                        const QString &keyFile, const QByteArray &passphrase)
{
    auto cert = readAll(certificateFile);
    if (!cert)
        return cert.error();
    auto key = readAll(keyFile.isEmpty() ? certificateFile : keyFile);
    if (!key)
        return key.error();
    return fromPem(*cert, *key, passphrase);
}

Result<ClientCredential> ClientCredential::fromPem(const QByteArray &certificatePem, const QByteArray &keyPem,
                                                   const QByteArray &passphrase)
{
    ClientCredential credential;
    {
        ossl::BioPtr bio(BIO_new_mem_buf(certificatePem.constData(), int(certificatePem.size())));
        ossl::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
        if (!cert)
            return ossl::error(QStringLiteral("tenant.credential"),
                               QStringLiteral("the client certificate is not a PEM certificate"));
        credential.certificateDer = ossl::der(cert.get());
    }
    {
        ossl::BioPtr bio(BIO_new_mem_buf(keyPem.constData(), int(keyPem.size())));
        QByteArray pass = passphrase;
        credential.key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, &passphraseCallback, &pass));
        if (!credential.key)
            return ossl::error(QStringLiteral("tenant.credential"),
                               QStringLiteral("the client key cannot be read (wrong passphrase?)"));
    }
    if (EVP_PKEY_get_base_id(credential.key.get()) != EVP_PKEY_RSA)
        return Error { QStringLiteral("tenant.credential"),
                       QStringLiteral(
                           "the client key must be RSA: Entra ID takes PS256 or RS256 assertions") };
    // A key that does not belong to the certificate would only fail at the token endpoint, later
    // and less clearly.
    const unsigned char *p = reinterpret_cast<const unsigned char *>(credential.certificateDer.constData());
    ossl::X509Ptr cert(d2i_X509(nullptr, &p, long(credential.certificateDer.size())));
    if (!cert || EVP_PKEY_eq(X509_get0_pubkey(cert.get()), credential.key.get()) != 1) {
        ossl::drainErrors();
        return Error { QStringLiteral("tenant.credential"),
                       QStringLiteral("the client key does not belong to the client certificate") };
    }
    return credential;
}

Result<QByteArray> buildClientAssertion(const ClientCredential &credential, const AssertionClaims &claims,
                                        AssertionAlgorithm algorithm)
{
    if (!credential.key || credential.certificateDer.isEmpty())
        return Error { QStringLiteral("tenant.credential"), QStringLiteral("no client certificate") };
    if (claims.lifetimeSeconds <= 0 || claims.lifetimeSeconds > 600)
        return Error { QStringLiteral("tenant.credential"),
                       QStringLiteral("an assertion may live at most 10 minutes") };
    if (claims.clientId.isEmpty() || claims.audience.isEmpty() || claims.jti.isEmpty()
        || !claims.issuedAt.isValid())
        return Error { QStringLiteral("tenant.credential"), QStringLiteral("incomplete assertion claims") };

    QJsonObject header { { QStringLiteral("typ"), QStringLiteral("JWT") } };
    if (algorithm == AssertionAlgorithm::Ps256) {
        header.insert(QStringLiteral("alg"), QStringLiteral("PS256"));
        header.insert(QStringLiteral("x5t#S256"),
                      QString::fromLatin1(base64Url(
                          QCryptographicHash::hash(credential.certificateDer, QCryptographicHash::Sha256))));
    } else {
        header.insert(QStringLiteral("alg"), QStringLiteral("RS256"));
        header.insert(QStringLiteral("x5t"),
                      QString::fromLatin1(base64Url(
                          QCryptographicHash::hash(credential.certificateDer, QCryptographicHash::Sha1))));
    }
    const qint64 iat = claims.issuedAt.toSecsSinceEpoch();
    const QJsonObject payload { { QStringLiteral("aud"), claims.audience },
                                { QStringLiteral("iss"), claims.clientId },
                                { QStringLiteral("sub"), claims.clientId },
                                { QStringLiteral("jti"), claims.jti },
                                { QStringLiteral("nbf"), iat },
                                { QStringLiteral("iat"), iat },
                                { QStringLiteral("exp"), iat + claims.lifetimeSeconds } };
    const QByteArray signingInput = base64Url(QJsonDocument(header).toJson(QJsonDocument::Compact)) + '.'
        + base64Url(QJsonDocument(payload).toJson(QJsonDocument::Compact));

    ossl::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX *pctx = nullptr; // owned by ctx
    if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, credential.key.get()) != 1)
        return ossl::error(QStringLiteral("tenant.credential"), QStringLiteral("cannot start signing"));
    if (algorithm == AssertionAlgorithm::Ps256) {
        // RFC 7518 section 3.5: MGF1 with SHA-256 and a salt as long as the hash.
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1
            || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1
            || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1)
            return ossl::error(QStringLiteral("tenant.credential"), QStringLiteral("cannot set PSS padding"));
    } else if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
        return ossl::error(QStringLiteral("tenant.credential"), QStringLiteral("cannot set PKCS#1 padding"));
    }
    size_t size = 0;
    const auto *data = reinterpret_cast<const unsigned char *>(signingInput.constData());
    if (EVP_DigestSign(ctx.get(), nullptr, &size, data, size_t(signingInput.size())) != 1)
        return ossl::error(QStringLiteral("tenant.credential"), QStringLiteral("cannot size the signature"));
    QByteArray signature(qsizetype(size), Qt::Uninitialized);
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char *>(signature.data()), &size, data,
                       size_t(signingInput.size()))
        != 1)
        return ossl::error(QStringLiteral("tenant.credential"), QStringLiteral("cannot sign the assertion"));
    signature.resize(qsizetype(size));
    return QByteArray(signingInput + '.' + base64Url(signature));
}

} // namespace certsync::tenant
