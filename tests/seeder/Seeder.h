#pragma once

// Seeds a test directory: a test PKI written to files, users with certificate values that cover every
// problem code, as LDIF for OpenLDAP or Active Directory (Samba), and a JSON manifest of what was
// seeded (every value's SHA-256 and the problems expected of each certificate) for tests to compare
// against. Used by the fixtures, the integration tests, the benchmark and the demo.

#include "TestPki.h"

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

namespace certsync::testing {

enum class DirectoryFlavour { OpenLdap, ActiveDirectory };

struct SeedOptions
{
    DirectoryFlavour flavour = DirectoryFlavour::OpenLdap;
    QString baseDn = QStringLiteral("dc=certsync,dc=test");
    QString mailDomain = QStringLiteral("certsync.test");
    int bulkUsers = 20; // plain users on top of the catalogue of special cases
    bool catalogue = true; // the special cases (every problem code, PKCS#7, >15 values, none, garbage)
    // How the bulk users' values look. Standard: a current certificate, every second user an expired one,
    // a bag of the current one; 90 % issued by the EC issuing CA. Bags: what Outlook-published
    // directories hold: every certificate RSA-2048 under the RSA issuing CA, the bag carrying the
    // current certificate (a repeat of userCertificate's) with its intermediate, and one user in 25
    // with 17 or 18 values.
    enum class BulkShape { Standard, Bags };
    BulkShape bulkShape = BulkShape::Standard;
    QStringList serverAddresses = { QStringLiteral("127.0.0.1") }; // IP SANs of the LDAP server certificate
    QStringList serverNames = { QStringLiteral("localhost") }; // DNS SANs
};

// One seeded value and what the judge should find in it.
struct SeededValue
{
    QString attribute; // "userCertificate" or "userSMIMECertificate"
    QByteArray bytes;
    QString kind; // "x509", "pkcs7", "invalid"
    // Per certificate inside (one for x509): its SHA-256 (hex) and the problem codes expected.
    QList<QPair<QString, QStringList>> certificates;
};

struct SeededUser
{
    QString rdnValue; // uid / CN
    QString mail;
    QStringList proxyAddresses; // AD only
    QString displayName;
    bool disabled = false;
    QList<SeededValue> values;
    QString note; // what this user demonstrates
};

class DirectorySeeder
{
public:
    explicit DirectorySeeder(SeedOptions options);

    // Builds the PKI and the users (keys are generated; takes seconds for many users).
    void build();
    // Writes pki/*.pem, users.ldif, manifest.json and corpus.bin under `dir`. False on I/O failure.
    bool write(const QString &dir, QString *error) const;

    [[nodiscard]] const QList<SeededUser> &users() const { return m_users; }
    [[nodiscard]] QString userDn(const SeededUser &user) const;
    [[nodiscard]] QString peopleDn() const;
    [[nodiscard]] QByteArray ldif() const;
    [[nodiscard]] QJsonObject manifest() const;

private:
    void buildPki();
    void buildCatalogue();
    void buildBulk();
    SeededValue x509(const Issued &cert, const QStringList &problems,
                     const QString &attribute = QStringLiteral("userCertificate")) const;

    SeedOptions m_options;
    Issued m_hiddenIntermediate; // a CA under the root that nobody publishes: chain_incomplete
    Issued m_ldapCa; // issues the LDAP server's TLS certificate
    Issued m_serverCert;
    QByteArray m_crlPem;
    QList<const Issued *> m_revoked;
    std::vector<Issued> m_keep; // certificates that must outlive build() (revoked ones)
    QList<SeededUser> m_users;
};

} // namespace certsync::testing
