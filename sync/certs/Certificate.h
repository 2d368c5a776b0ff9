#pragma once

#include "certs/OpenSsl.h"
#include "core/Result.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>

#include <functional>
#include <vector>

namespace certsync::certs {

// Dsa stays last: the analysis cache's reader refuses values above it (StateStore.cpp, get()).
enum class KeyType { Unknown, Rsa, Ec, Ed25519, Ed448, Dsa };

// Key usage bits as RFC 5280 names them.
enum KeyUsageBit : quint16 {
    DigitalSignature = 0x001,
    NonRepudiation = 0x002,
    KeyEncipherment = 0x004,
    DataEncipherment = 0x008,
    KeyAgreement = 0x010,
    KeyCertSign = 0x020,
    CrlSign = 0x040,
    EncipherOnly = 0x080,
    DecipherOnly = 0x100,
};

inline constexpr auto OidEmailProtection = "1.3.6.1.5.5.7.3.4";
inline constexpr auto OidAnyExtendedKeyUsage = "2.5.29.37.0";
inline constexpr auto OidMicrosoftUpn = "1.3.6.1.4.1.311.20.2.3";

// Everything a person or the judge needs to know about one certificate, as plain data: no OpenSSL
// handle is kept, so that 100,000 of these cost their fields, not OpenSSL's in-memory form.
struct Certificate
{
    QByteArray der;
    QByteArray sha256; // raw digest bytes; hex() for display
    QByteArray sha1;
    QString subject; // RFC 4514
    QString issuer;
    QString serialHex; // uppercase, no separators, as Windows shows it
    QDateTime notBefore; // UTC
    QDateTime notAfter;

    QStringList emailSans; // rfc822Name
    QStringList upnSans; // otherName 1.3.6.1.4.1.311.20.2.3
    QStringList dnsSans;
    QStringList subjectEmails; // emailAddress attributes of the subject

    bool hasKeyUsage = false;
    quint16 keyUsage = 0; // KeyUsageBit
    bool hasExtendedKeyUsage = false;
    QStringList extendedKeyUsages; // dotted OIDs

    bool isCa = false;
    int pathLength = -1; // -1: no constraint

    KeyType keyType = KeyType::Unknown;
    int keyBits = 0;
    QString curve; // EC only, e.g. "prime256v1"
    QString signatureAlgorithm; // e.g. "sha256WithRSAEncryption"
    QString signatureDigest; // e.g. "SHA256", "SHA1", "MD5"; empty where the scheme has none (Ed25519)

    QByteArray subjectKeyId;
    QByteArray authorityKeyId;
    QStringList caIssuersUrls; // AIA
    QStringList ocspUrls; // AIA
    QStringList crlUrls; // CRL distribution points

    bool selfIssued = false; // subject == issuer
    bool selfSigned = false; // and its own key verifies its signature

    [[nodiscard]] QString sha256Hex() const { return QString::fromLatin1(sha256.toHex()); }
    [[nodiscard]] QString sha1Hex() const { return QString::fromLatin1(sha1.toHex()); }
    // rfc822Name SANs first, then subject e-mail addresses, lower-cased and de-duplicated.
    [[nodiscard]] QStringList emails() const;
    [[nodiscard]] bool hasEmailProtection() const; // EKU allows S/MIME (or no EKU extension at all)
    [[nodiscard]] QString keyDescription() const; // "RSA 2048", "EC P-256 (prime256v1)"
    [[nodiscard]] QStringList keyUsageNames() const;
    [[nodiscard]] QStringList extendedKeyUsageNames() const;
};

// A parsed certificate together with OpenSSL's handle, for the short time the handle is needed
// (chain verification). Move-only.
struct ParsedCertificate
{
    ossl::X509Ptr handle;
    Certificate info;
};

// Parses one DER-encoded X.509 certificate. Trailing bytes after the certificate are an error.
// `context`: the OpenSSL library context to decode into (see ossl::LibContext).
Result<ParsedCertificate> parseDer(QByteArrayView der,
                                   const ossl::LibContext &context = ossl::LibContext::global());
// SHA-256 of any bytes, through OpenSSL (several times faster than QCryptographicHash here).
QByteArray sha256Of(QByteArrayView data, const ossl::LibContext &context = ossl::LibContext::global());
// Extracts the fields of an already decoded certificate (takes a new reference to it).
ParsedCertificate describe(X509 *cert, QByteArrayView der = {},
                           const ossl::LibContext &context = ossl::LibContext::global());
// Reads every certificate in a file's bytes: PEM (one or many blocks) or a single DER certificate.
// `step`, when given, is called after each PEM certificate with the bytes read so far; returning
// false stops the reading (error code "canceled"): a bundle of many thousand certificates is read
// by a worker that shows progress and can be cancelled (TrustStore::load).
Result<std::vector<ParsedCertificate>> parseFileBytes(const QByteArray &bytes,
                                                      const std::function<bool(qint64 read)> &step = {});

QString keyTypeName(KeyType type);
QString keyUsageName(KeyUsageBit bit);
// Friendly name of a well-known EKU OID ("E-mail protection"), else the OID itself.
QString extendedKeyUsageName(const QString &oid);

} // namespace certsync::certs
