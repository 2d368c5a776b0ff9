#include "Seeder.h"

#include "certs/Certificate.h"
#include "certs/SmimeValue.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QtEndian>

namespace certsync::testing {

namespace {

QString sha256Hex(const QByteArray &bytes)
{
    return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
}

CertSpec leafSpec(const QString &mail, int keySlot)
{
    CertSpec spec = goodLeafSpec(mail);
    spec.keySlot = keySlot;
    return spec;
}

QByteArray ldifLine(const QString &name, const QByteArray &value, bool forceBase64 = false)
{
    bool safe = !forceBase64 && !value.isEmpty();
    if (safe) {
        const char first = value.at(0);
        safe = first != ' ' && first != ':' && first != '<' && !value.endsWith(' ');
        for (char c : value)
            if (uchar(c) < 0x20 || uchar(c) > 0x7e) {
                safe = false;
                break;
            }
    }
    if (safe)
        return name.toUtf8() + ": " + value + '\n';
    return name.toUtf8() + ":: " + value.toBase64() + '\n';
}

} // namespace

DirectorySeeder::DirectorySeeder(SeedOptions options)
    : m_options(std::move(options))
{ }

QString DirectorySeeder::peopleDn() const
{
    return m_options.flavour == DirectoryFlavour::OpenLdap
        ? QStringLiteral("ou=people,") + m_options.baseDn
        : QStringLiteral("OU=certsync,") + m_options.baseDn;
}

QString DirectorySeeder::userDn(const SeededUser &user) const
{
    return (m_options.flavour == DirectoryFlavour::OpenLdap ? QStringLiteral("uid=") : QStringLiteral("CN="))
        + user.rdnValue + QLatin1Char(',') + peopleDn();
}

SeededValue DirectorySeeder::x509(const Issued &cert, const QStringList &problems,
                                  const QString &attribute) const
{
    SeededValue value;
    value.attribute = attribute;
    value.bytes = cert.der;
    value.kind = QStringLiteral("x509");
    value.certificates.append({ sha256Hex(cert.der), problems });
    return value;
}

void DirectorySeeder::buildPki()
{
    const StandardPki &pki = StandardPki::instance();
    CertSpec hidden;
    hidden.commonName = QStringLiteral("certsync Unpublished Issuing CA");
    hidden.ca = true;
    hidden.pathLength = 0;
    hidden.key = KeyKind::EcP256;
    hidden.keySlot = 5;
    hidden.notBeforeDays = -365;
    hidden.notAfterDays = 3650;
    m_hiddenIntermediate = TestPki::issue(hidden, pki.root);

    CertSpec ldapCa;
    ldapCa.commonName = QStringLiteral("certsync Test LDAP Server CA");
    ldapCa.ca = true;
    ldapCa.key = KeyKind::EcP256;
    ldapCa.keySlot = 6;
    ldapCa.notBeforeDays = -365;
    ldapCa.notAfterDays = 3650;
    m_ldapCa = TestPki::selfSigned(ldapCa);

    CertSpec server;
    server.commonName = QStringLiteral("certsync test directory server");
    server.ipAddresses = m_options.serverAddresses;
    server.dnsNames = m_options.serverNames;
    server.key = KeyKind::Rsa2048;
    server.keySlot = 7;
    server.extendedKeyUsage = QStringList { QStringLiteral("1.3.6.1.5.5.7.3.1") };
    server.keyUsage = quint16(certs::DigitalSignature | certs::KeyEncipherment);
    server.notBeforeDays = -1;
    server.notAfterDays = 825;
    m_serverCert = TestPki::issue(server, m_ldapCa);
}

void DirectorySeeder::buildCatalogue()
{
    const StandardPki &pki = StandardPki::instance();
    const QString domain = m_options.mailDomain;
    auto mailOf = [&domain](const QString &name) -> QString { return name + QLatin1Char('@') + domain; };
    auto user = [&](const QString &name, const QString &note) {
        SeededUser u;
        u.rdnValue = name;
        u.mail = mailOf(name);
        u.displayName = QStringLiteral("Catalogue %1").arg(name);
        u.proxyAddresses = { QStringLiteral("SMTP:") + u.mail };
        u.note = note;
        return u;
    };
    auto single = [&](const QString &name, const CertSpec &spec, const Issued &issuer,
                      const QStringList &problems, const QString &note) {
        SeededUser u = user(name, note);
        u.values.append(x509(TestPki::issue(spec, issuer), problems));
        m_users.append(u);
    };

    single(QStringLiteral("good-ec"), leafSpec(mailOf(QStringLiteral("good-ec")), 10), pki.ecIntermediate, {},
           QStringLiteral("a good EC certificate"));
    {
        CertSpec spec = leafSpec(mailOf(QStringLiteral("good-rsa")), 11);
        spec.key = KeyKind::Rsa2048;
        single(QStringLiteral("good-rsa"), spec, pki.intermediate, {},
               QStringLiteral("a good RSA certificate"));
    }
    {
        CertSpec spec = leafSpec(mailOf(QStringLiteral("expired")), 12);
        spec.notBeforeDays = -400;
        spec.notAfterDays = -2;
        single(QStringLiteral("expired"), spec, pki.ecIntermediate, { QStringLiteral("expired") },
               QStringLiteral("expired"));
    }
    {
        CertSpec spec = leafSpec(mailOf(QStringLiteral("not-yet-valid")), 13);
        spec.notBeforeDays = 5;
        spec.notAfterDays = 400;
        single(QStringLiteral("not-yet-valid"), spec, pki.ecIntermediate, { QStringLiteral("not_yet_valid") },
               QStringLiteral("not valid yet"));
    }
    {
        CertSpec spec = leafSpec(mailOf(QStringLiteral("expiring")), 14);
        spec.notAfterDays = 10;
        single(QStringLiteral("expiring"), spec, pki.ecIntermediate, { QStringLiteral("expiring_soon") },
               QStringLiteral("expires in 10 days"));
    }
    {
        CertSpec spec = leafSpec(mailOf(QStringLiteral("tls-only")), 15);
        spec.extendedKeyUsage = QStringList { QStringLiteral("1.3.6.1.5.5.7.3.2") };
        single(QStringLiteral("tls-only"), spec, pki.ecIntermediate,
               { QStringLiteral("no_email_protection") }, QStringLiteral("client authentication EKU only"));
    }
    {
        CertSpec spec = leafSpec(mailOf(QStringLiteral("bad-usage")), 16);
        spec.keyUsage = quint16(certs::NonRepudiation);
        single(QStringLiteral("bad-usage"), spec, pki.ecIntermediate, { QStringLiteral("key_usage") },
               QStringLiteral("key usage nonRepudiation only"));
    }
    {
        CertSpec spec = leafSpec(mailOf(QStringLiteral("no-mail")), 17);
        spec.emails.clear();
        single(QStringLiteral("no-mail"), spec, pki.ecIntermediate, { QStringLiteral("no_email") },
               QStringLiteral("no e-mail address in the certificate"));
    }
    {
        CertSpec spec = leafSpec(QStringLiteral("someone.else@elsewhere.test"), 18);
        single(QStringLiteral("mismatch"), spec, pki.ecIntermediate, { QStringLiteral("email_mismatch") },
               QStringLiteral("somebody else's address"));
    }
    {
        CertSpec spec = leafSpec(mailOf(QStringLiteral("weak-key")), 0);
        spec.key = KeyKind::Rsa1024;
        single(QStringLiteral("weak-key"), spec, pki.intermediate, { QStringLiteral("weak_key") },
               QStringLiteral("RSA 1024"));
    }
    {
        CertSpec spec = leafSpec(mailOf(QStringLiteral("sha1")), 19);
        spec.digest = QStringLiteral("SHA1");
        single(QStringLiteral("sha1"), spec, pki.ecIntermediate, { QStringLiteral("weak_signature") },
               QStringLiteral("signed with SHA-1"));
    }
    {
        SeededUser u = user(QStringLiteral("self-signed"), QStringLiteral("a self-signed certificate"));
        u.values.append(x509(TestPki::selfSigned(leafSpec(u.mail, 20)),
                             { QStringLiteral("self_signed"), QStringLiteral("untrusted") }));
        m_users.append(u);
    }
    single(QStringLiteral("incomplete"), leafSpec(mailOf(QStringLiteral("incomplete")), 21),
           m_hiddenIntermediate, { QStringLiteral("chain_incomplete") },
           QStringLiteral("issued by a CA nobody published"));
    {
        // A complete chain that ends at a root nobody trusts: the root travels in the PKCS#7 bag.
        SeededUser u =
            user(QStringLiteral("untrusted"), QStringLiteral("chain to a root that is not an anchor"));
        const Issued leaf = TestPki::issue(leafSpec(u.mail, 22), pki.otherRoot);
        SeededValue value;
        value.attribute = QStringLiteral("userSMIMECertificate");
        value.bytes = TestPki::pkcs7CertsOnly({ &leaf, &pki.otherRoot });
        value.kind = QStringLiteral("pkcs7");
        value.certificates = { { sha256Hex(leaf.der), { QStringLiteral("untrusted") } },
                               { sha256Hex(pki.otherRoot.der), { QStringLiteral("untrusted") } } };
        u.values.append(value);
        m_users.append(u);
    }
    {
        CertSpec spec = leafSpec(mailOf(QStringLiteral("revoked")), 23);
        spec.key = KeyKind::Rsa2048;
        m_keep.push_back(TestPki::issue(spec, pki.intermediate));
        SeededUser u = user(QStringLiteral("revoked"), QStringLiteral("revoked by its CA (needs the CRL)"));
        u.values.append(x509(m_keep.back(), { QStringLiteral("revoked") }));
        m_users.append(u);
    }
    {
        // Outlook's "Publish to GAL" shape, and the same certificate again as a certs-only bag.
        SeededUser u = user(QStringLiteral("duplicate"), QStringLiteral("the same certificate twice"));
        const Issued leaf = TestPki::issue(leafSpec(u.mail, 24), pki.ecIntermediate);
        SeededValue signedValue;
        signedValue.attribute = QStringLiteral("userSMIMECertificate");
        signedValue.bytes = TestPki::pkcs7Signed(leaf, { &pki.ecIntermediate });
        signedValue.kind = QStringLiteral("pkcs7");
        signedValue.certificates = { { sha256Hex(leaf.der), {} }, { sha256Hex(pki.ecIntermediate.der), {} } };
        SeededValue again = signedValue;
        again.bytes = TestPki::pkcs7CertsOnly({ &leaf, &pki.ecIntermediate });
        again.certificates = { { sha256Hex(leaf.der), { QStringLiteral("duplicate") } },
                               { sha256Hex(pki.ecIntermediate.der), { QStringLiteral("duplicate") } } };
        u.values = { signedValue, again };
        m_users.append(u);
    }
    {
        SeededUser u =
            user(QStringLiteral("outlook"), QStringLiteral("signed PKCS#7 with chain and capabilities"));
        const Issued leaf = TestPki::issue(leafSpec(u.mail, 25), pki.intermediate);
        SeededValue value;
        value.attribute = QStringLiteral("userSMIMECertificate");
        value.bytes = TestPki::pkcs7Signed(leaf, { &pki.intermediate });
        value.kind = QStringLiteral("pkcs7");
        value.certificates = { { sha256Hex(leaf.der), {} }, { sha256Hex(pki.intermediate.der), {} } };
        u.values.append(value);
        u.values.append(x509(leaf, {}));
        m_users.append(u);
    }
    {
        SeededUser u =
            user(QStringLiteral("bare-smime"), QStringLiteral("a bare certificate in userSMIMECertificate"));
        u.values.append(x509(TestPki::issue(leafSpec(u.mail, 26), pki.ecIntermediate), {},
                             QStringLiteral("userSMIMECertificate")));
        u.values.first().kind = QStringLiteral("x509");
        m_users.append(u);
    }
    {
        SeededUser u =
            user(QStringLiteral("many"), QStringLiteral("17 certificates: two over Entra's limit of 15"));
        for (int i = 0; i < 17; ++i) {
            CertSpec spec = leafSpec(u.mail, 30 + (i % 4));
            spec.notAfterDays = 365 + i; // distinct certificates
            u.values.append(x509(TestPki::issue(spec, pki.ecIntermediate),
                                 i >= 15 ? QStringList { QStringLiteral("over_limit") } : QStringList {}));
        }
        m_users.append(u);
    }
    {
        SeededUser u =
            user(QStringLiteral("garbage"), QStringLiteral("a value that is no certificate at all"));
        SeededValue value;
        value.attribute = QStringLiteral("userSMIMECertificate");
        value.bytes = QByteArray("\x30\x03\x02\x01", 4) + QByteArray("garbage, not DER");
        value.kind = QStringLiteral("invalid");
        value.certificates = { { sha256Hex(value.bytes), { QStringLiteral("parse_error") } } };
        u.values.append(value);
        m_users.append(u);
    }
    m_users.append(user(QStringLiteral("none"), QStringLiteral("no certificate at all")));
    {
        SeededUser u = user(QStringLiteral("-dash"),
                            QStringLiteral("a mail address a spreadsheet would take for a formula"));
        u.mail = QStringLiteral("-dash@") + domain;
        u.proxyAddresses = { QStringLiteral("SMTP:") + u.mail };
        u.values.append(x509(TestPki::issue(leafSpec(u.mail, 27), pki.ecIntermediate), {}));
        m_users.append(u);
    }
    {
        SeededUser u =
            user(QStringLiteral("disabled"), QStringLiteral("a disabled account with a good certificate"));
        u.disabled = true;
        u.values.append(x509(TestPki::issue(leafSpec(u.mail, 28), pki.ecIntermediate), {}));
        m_users.append(u);
    }
    {
        // The address is a proxy address, not the primary mail: fine on AD, a mismatch on OpenLDAP
        // (which has no proxyAddresses).
        SeededUser u = user(QStringLiteral("alias"), QStringLiteral("certificate for a proxy address"));
        const QString alias = QStringLiteral("alias.other@") + domain;
        u.proxyAddresses.append(QStringLiteral("smtp:") + alias);
        u.values.append(x509(TestPki::issue(leafSpec(alias, 29), pki.ecIntermediate),
                             m_options.flavour == DirectoryFlavour::ActiveDirectory
                                 ? QStringList {}
                                 : QStringList { QStringLiteral("email_mismatch") }));
        m_users.append(u);
    }
    m_revoked = { &m_keep.back() };
    m_crlPem = TestPki::crlPem(pki.intermediate, m_revoked) + TestPki::crlPem(pki.ecIntermediate, {});
}

void DirectorySeeder::buildBulk()
{
    const StandardPki &pki = StandardPki::instance();
    for (int i = 0; i < m_options.bulkUsers; ++i) {
        SeededUser u;
        u.rdnValue = QStringLiteral("user%1").arg(i, 6, 10, QLatin1Char('0'));
        u.mail = u.rdnValue + QLatin1Char('@') + m_options.mailDomain;
        u.displayName = QStringLiteral("User %1").arg(i);
        u.proxyAddresses = { QStringLiteral("SMTP:") + u.mail };
        // Mostly EC issuing CA (fast to sign), one in ten from the RSA one. Leaf keys are RSA-2048, as
        // most S/MIME certificates are (eight keys reused, generation is what is slow): OpenSSL 3.0
        // decodes an EC public key about five times slower than an RSA one, which would skew the
        // benchmark away from what directories hold.
        const bool bags = m_options.bulkShape == SeedOptions::BulkShape::Bags;
        const Issued &issuer = bags || i % 10 == 9 ? pki.intermediate : pki.ecIntermediate;
        CertSpec spec = leafSpec(u.mail, 100 + i % 8);
        spec.key = KeyKind::Rsa2048;
        const Issued current = TestPki::issue(spec, issuer);
        u.values.append(x509(current, {}));
        // Bags: one user in 25 has kept every certificate it was ever issued (15 more expired ones).
        const int expired = (i % 2 ? 1 : 0) + (bags && i % 25 == 3 ? 15 : 0);
        for (int e = 0; e < expired; ++e) {
            CertSpec old = leafSpec(u.mail, 100 + (i + 1 + e) % 8);
            old.key = KeyKind::Rsa2048;
            old.notBeforeDays = -400 - 30 * e;
            old.notAfterDays = -5 - 30 * e;
            // A userCertificate holds at most 15 values (Exchange's limit): the 16th on are over it.
            QStringList problems { QStringLiteral("expired") };
            if (1 + e >= 15)
                problems.append(QStringLiteral("over_limit"));
            u.values.append(x509(TestPki::issue(old, issuer), problems));
        }
        SeededValue bag;
        bag.attribute = QStringLiteral("userSMIMECertificate");
        bag.bytes = bags ? TestPki::pkcs7CertsOnly({ &current, &pki.intermediate })
                         : TestPki::pkcs7CertsOnly({ &current });
        bag.kind = QStringLiteral("pkcs7");
        bag.certificates = { { sha256Hex(current.der), {} } };
        if (bags)
            bag.certificates.append({ sha256Hex(pki.intermediate.der), {} });
        u.values.append(bag);
        m_users.append(u);
    }
}

void DirectorySeeder::build()
{
    buildPki();
    if (m_options.catalogue)
        buildCatalogue();
    else
        m_crlPem = TestPki::crlPem(StandardPki::instance().intermediate, {})
            + TestPki::crlPem(StandardPki::instance().ecIntermediate, {});
    buildBulk();
}

QByteArray DirectorySeeder::ldif() const
{
    QByteArray out;
    const bool ad = m_options.flavour == DirectoryFlavour::ActiveDirectory;
    if (!ad) {
        const QString dc = m_options.baseDn.section(QLatin1Char(','), 0, 0).section(QLatin1Char('='), 1);
        out += "dn: " + m_options.baseDn.toUtf8() + "\nobjectClass: dcObject\nobjectClass: organization\ndc: "
            + dc.toUtf8() + "\no: certsync tests\n\n";
    }
    out += "dn: " + peopleDn().toUtf8() + "\nobjectClass: organizationalUnit\n"
        + (ad ? QByteArray("ou: certsync\n") : QByteArray("ou: people\n")) + '\n';
    for (const SeededUser &u : m_users) {
        out += ldifLine(QStringLiteral("dn"), userDn(u).toUtf8());
        if (ad) {
            out += "objectClass: user\n";
            out += ldifLine(QStringLiteral("sAMAccountName"), u.rdnValue.left(20).toUtf8());
            out += ldifLine(QStringLiteral("userPrincipalName"),
                            (u.rdnValue + QStringLiteral("@") + m_options.mailDomain).toUtf8());
            out += ldifLine(QStringLiteral("displayName"), u.displayName.toUtf8());
            for (const QString &proxy : u.proxyAddresses)
                out += ldifLine(QStringLiteral("proxyAddresses"), proxy.toUtf8());
            // 0x20 PASSWD_NOTREQD: seeded accounts have no password; 0x2 ACCOUNTDISABLE.
            out += u.disabled ? "userAccountControl: 546\n" : "userAccountControl: 544\n";
        } else {
            out += "objectClass: inetOrgPerson\n";
            out += ldifLine(QStringLiteral("uid"), u.rdnValue.toUtf8());
            out += ldifLine(QStringLiteral("cn"), u.displayName.toUtf8());
            out += ldifLine(QStringLiteral("sn"), u.rdnValue.toUtf8());
        }
        out += ldifLine(QStringLiteral("mail"), u.mail.toUtf8());
        for (const SeededValue &v : u.values) {
            const QString name = !ad && v.attribute == QLatin1String("userCertificate")
                ? QStringLiteral("userCertificate;binary")
                : v.attribute;
            out += ldifLine(name, v.bytes, true);
        }
        out += '\n';
    }
    return out;
}

QJsonObject DirectorySeeder::manifest() const
{
    QJsonArray users;
    for (const SeededUser &u : m_users) {
        QJsonObject o;
        o[QStringLiteral("dn")] = userDn(u);
        o[QStringLiteral("name")] = u.rdnValue;
        o[QStringLiteral("mail")] = u.mail;
        o[QStringLiteral("disabled")] = u.disabled;
        o[QStringLiteral("note")] = u.note;
        QJsonArray values;
        int index[2] = { 0, 0 };
        for (const SeededValue &v : u.values) {
            QJsonObject vo;
            const int a = v.attribute == QLatin1String("userCertificate") ? 0 : 1;
            vo[QStringLiteral("attribute")] = v.attribute;
            vo[QStringLiteral("index")] = index[a]++;
            vo[QStringLiteral("kind")] = v.kind;
            vo[QStringLiteral("sha256")] = sha256Hex(v.bytes);
            vo[QStringLiteral("size")] = int(v.bytes.size());
            QJsonObject certsObject;
            for (const auto &[sha, problems] : v.certificates)
                certsObject[sha] = QJsonArray::fromStringList(problems);
            vo[QStringLiteral("certificates")] = certsObject;
            values.append(vo);
        }
        o[QStringLiteral("values")] = values;
        users.append(o);
    }
    QJsonObject root;
    root[QStringLiteral("flavour")] =
        m_options.flavour == DirectoryFlavour::OpenLdap ? QStringLiteral("ldap") : QStringLiteral("ad");
    root[QStringLiteral("baseDn")] = m_options.baseDn;
    root[QStringLiteral("peopleDn")] = peopleDn();
    root[QStringLiteral("users")] = users;
    return root;
}

bool DirectorySeeder::write(const QString &dir, QString *error) const
{
    const StandardPki &pki = StandardPki::instance();
    if (!QDir().mkpath(dir + QStringLiteral("/pki"))) {
        *error = QStringLiteral("cannot create %1/pki").arg(dir);
        return false;
    }
    QByteArray
        corpus; // every certificate occurrence, [u32 big-endian length][DER], for the bare OpenSSL loop
    for (const SeededUser &u : m_users)
        for (const SeededValue &v : u.values) {
            QList<QByteArray> ders;
            if (v.kind == QLatin1String("x509"))
                ders.append(v.bytes);
            if (v.kind == QLatin1String("pkcs7")) {
                const certs::DecodedValue decoded =
                    certs::decodeValue(certs::Attribute::UserSmimeCertificate, v.bytes);
                for (const certs::Certificate &c : decoded.certificates)
                    ders.append(c.der);
            }
            for (const QByteArray &der : ders) {
                char length[4];
                qToBigEndian(quint32(der.size()), length);
                corpus.append(length, 4);
                corpus.append(der);
            }
        }
    const QList<QPair<QString, QByteArray>> files = {
        { QStringLiteral("pki/root.pem"), pki.root.pem() },
        { QStringLiteral("pki/trust.pem"),
          TestPki::pemOf({ &pki.root, &pki.intermediate, &pki.ecIntermediate }) },
        { QStringLiteral("pki/crl.pem"), m_crlPem },
        { QStringLiteral("pki/other-root.pem"), pki.otherRoot.pem() },
        { QStringLiteral("pki/ldap-ca.pem"), m_ldapCa.pem() },
        { QStringLiteral("pki/server.pem"), m_serverCert.pem() },
        { QStringLiteral("pki/server.key"), m_serverCert.keyPem() },
        { QStringLiteral("pki/server.sha256"), sha256Hex(m_serverCert.der).toLatin1() + '\n' },
        { QStringLiteral("users.ldif"), ldif() },
        { QStringLiteral("manifest.json"), QJsonDocument(manifest()).toJson(QJsonDocument::Indented) },
        { QStringLiteral("corpus.bin"), corpus },
    };
    for (const auto &[name, bytes] : files) {
        const QString path = dir + QLatin1Char('/') + name;
        if (!TestPki::writeFile(path, bytes)) {
            *error = QStringLiteral("cannot write %1").arg(path);
            return false;
        }
    }
    QFile::setPermissions(dir + QStringLiteral("/pki/server.key"), QFile::ReadOwner | QFile::WriteOwner);
    return true;
}

} // namespace certsync::testing
