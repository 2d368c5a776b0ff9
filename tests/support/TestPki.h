#pragma once

// A PKI made at run time with OpenSSL, for tests, fuzz seeds, benchmarks and the demo seeder.
// Nothing here is trusted by anything but the tests that build it.

#include "certs/OpenSsl.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace certsync::testing {

enum class KeyKind { Rsa1024, Rsa2048, EcP256, EcP384 };

struct CertSpec
{
    QString commonName = QStringLiteral("Test User");
    QString organization = QStringLiteral("certsync tests");
    QStringList emails; // rfc822Name SANs
    QString subjectEmail; // emailAddress attribute in the subject
    QStringList upns; // otherName UPN SANs
    QStringList dnsNames;
    QStringList ipAddresses; // iPAddress SANs (TLS server certificates of the test servers)
    KeyKind key = KeyKind::EcP256;
    int keySlot = 0; // different slots give different keys of the same kind
    QString digest = QStringLiteral("SHA256"); // "SHA1", "SHA384", ...
    int notBeforeDays = -30; // relative to now
    int notAfterDays = 365;
    bool ca = false;
    int pathLength = -1;
    // Extended key usage OIDs; std::nullopt leaves the extension out.
    std::optional<QStringList> extendedKeyUsage = QStringList { QStringLiteral("1.3.6.1.5.5.7.3.4") };
    // certs::KeyUsageBit flags; std::nullopt picks the usual set for the key kind and CA flag; 0 omits it.
    std::optional<quint16> keyUsage;
    QString crlUrl;
    QString caIssuersUrl;
    QString ocspUrl;
    quint64 serial = 0; // 0: a fresh one
};

struct Issued
{
    ossl::X509Ptr cert;
    ossl::EvpPkeyPtr key;
    QByteArray der;

    [[nodiscard]] QByteArray pem() const;
    [[nodiscard]] QByteArray keyPem() const; // unencrypted PKCS#8, for test servers only
    [[nodiscard]] Issued clone() const; // shares the OpenSSL objects
};

class TestPki
{
public:
    // Keys are cached per (kind, slot) for the whole process: RSA generation is slow.
    static ossl::EvpPkeyPtr key(KeyKind kind, int slot = 0);
    static Issued selfSigned(const CertSpec &spec);
    static Issued issue(const CertSpec &spec, const Issued &issuer);
    // The certificate of `subject` re-signed with a key unrelated to it (signature cannot verify).
    static Issued issueWithBadSignature(const CertSpec &spec, const Issued &issuer);

    static QByteArray crlDer(const Issued &issuer, const QList<const Issued *> &revoked,
                             int nextUpdateDays = 30);
    static QByteArray crlPem(const Issued &issuer, const QList<const Issued *> &revoked,
                             int nextUpdateDays = 30);
    // Degenerate SignedData with only certificates (what some tools publish).
    static QByteArray pkcs7CertsOnly(const QList<const Issued *> &certs);
    // SignedData signed by `signer`, carrying `extra` certificates and, optionally, an
    // SMIMECapabilities signed attribute: the shape Outlook's "Publish to GAL" writes.
    static QByteArray pkcs7Signed(const Issued &signer, const QList<const Issued *> &extra,
                                  bool capabilities = true);

    static bool writeFile(const QString &path, const QByteArray &bytes);
    static QByteArray pemOf(const QList<const Issued *> &certs);
};

// A small standard hierarchy that most tests share: two roots, an intermediate under the first.
struct StandardPki
{
    Issued root; // RSA 2048, "certsync Test Root CA"
    Issued intermediate; // RSA 2048, "certsync Test Issuing CA", issued by root
    Issued ecIntermediate; // P-256, "certsync Test EC Issuing CA", issued by root
    Issued otherRoot; // a root nobody configured as an anchor

    static const StandardPki &instance();
};

// A leaf spec for `mail` that passes every check when issued by StandardPki's intermediate.
CertSpec goodLeafSpec(const QString &mail, KeyKind key = KeyKind::EcP256);

} // namespace certsync::testing
