// certsync-seed: writes a seeded test directory (PKI, LDIF, manifest) for the fixtures, tests,
// benchmark and demo, and checks that the certificate engine finds in it exactly what was planted.
#include "Seeder.h"

#include "certs/ValueAnalyzer.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QTextStream>

using namespace certsync;
using namespace certsync::testing;

namespace {

// Runs the real analyser over the seeded users and compares with what the seeder planted.
int verify(const DirectorySeeder &seeder, const QString &dir, bool activeDirectory, QTextStream &err)
{
    certs::TrustSettings settings;
    settings.bundleFiles = { dir + QStringLiteral("/pki/trust.pem") };
    settings.crlFiles = { dir + QStringLiteral("/pki/crl.pem") };
    auto trust = certs::TrustStore::load(settings);
    if (!trust) {
        err << "certsync-seed: " << trust.error().message << '\n';
        return 1;
    }
    const certs::ValueAnalyzer analyzer(*trust, certs::CertificateJudge());
    const QDateTime now = QDateTime::currentDateTimeUtc();
    int mismatches = 0;
    int checked = 0;
    for (const SeededUser &u : seeder.users()) {
        if (checked > 200 && u.rdnValue.startsWith(QLatin1String("user")))
            continue; // the bulk users repeat one pattern; a sample is enough
        QList<QByteArray> userCertificate, userSmime;
        QHash<QString, QStringList> expected;
        for (const SeededValue &v : u.values) {
            (v.attribute == QLatin1String("userCertificate") ? userCertificate : userSmime).append(v.bytes);
            for (const auto &[sha, problems] : v.certificates)
                expected[v.attribute + QLatin1Char('/')
                         + QString::number(
                             (v.attribute == QLatin1String("userCertificate") ? userCertificate : userSmime)
                                 .size()
                             - 1)
                         + QLatin1Char('/') + sha] = problems;
        }
        certs::UserContext context;
        context.mail = u.mail;
        if (activeDirectory)
            context.proxyAddresses = u.proxyAddresses;
        const QList<certs::AnalyzedValue> values =
            analyzer.analyzeUser(userCertificate, userSmime, context, now);
        for (const certs::AnalyzedValue &value : values) {
            const QString prefix = certs::attributeName(value.attribute) + QLatin1Char('/')
                + QString::number(value.index) + QLatin1Char('/');
            QList<QPair<QString, QString>> rows; // sha, codes
            if (value.kind == certs::ValueKind::Invalid)
                rows.append({ QString::fromLatin1(value.sha256.toHex()), value.valueProblems.codes() });
            for (int i = 0; i < value.certificates.size(); ++i)
                rows.append(
                    { value.certificates.at(i).certificate.sha256Hex(), value.problemsOf(i).codes() });
            for (const auto &[sha, codes] : rows) {
                ++checked;
                const QString key = prefix + sha;
                const QString want = expected.value(key).join(QLatin1Char(';'));
                if (!expected.contains(key) || want != codes) {
                    err << "certsync-seed: " << u.rdnValue << ' ' << key << ": planted '" << want
                        << "', found '" << codes << "'\n";
                    ++mismatches;
                }
            }
        }
    }
    return mismatches ? 1 : 0;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QTextStream out(stdout);
    QTextStream err(stderr);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Seeds a certsync test directory."));
    parser.addHelpOption();
    const QCommandLineOption outDir(QStringLiteral("out"), QStringLiteral("Output folder."),
                                    QStringLiteral("DIR"));
    const QCommandLineOption flavour(QStringLiteral("flavour"),
                                     QStringLiteral("ldap (OpenLDAP) or ad (Samba AD)."),
                                     QStringLiteral("FLAVOUR"), QStringLiteral("ldap"));
    const QCommandLineOption baseDn(QStringLiteral("base-dn"), QStringLiteral("Base DN."),
                                    QStringLiteral("DN"));
    const QCommandLineOption users(QStringLiteral("users"),
                                   QStringLiteral("Bulk users on top of the catalogue."), QStringLiteral("N"),
                                   QStringLiteral("20"));
    const QCommandLineOption noCatalogue(QStringLiteral("no-catalogue"), QStringLiteral("Bulk users only."));
    const QCommandLineOption ip(QStringLiteral("server-ip"),
                                QStringLiteral("IP SAN of the server certificate (repeatable)."),
                                QStringLiteral("IP"));
    const QCommandLineOption noVerify(
        QStringLiteral("no-verify"), QStringLiteral("Skip checking the plants with the certificate engine."));
    const QCommandLineOption shape(
        QStringLiteral("shape"),
        QStringLiteral("Bulk users' values: standard, or bags (all RSA, bags with their intermediate, one "
                       "user in 25 with 17-18 values)."),
        QStringLiteral("SHAPE"), QStringLiteral("standard"));
    parser.addOptions({ outDir, flavour, baseDn, users, noCatalogue, ip, noVerify, shape });
    parser.process(app);
    if (!parser.isSet(outDir)) {
        err << "certsync-seed: --out DIR is required\n";
        return 2;
    }
    SeedOptions options;
    const bool ad = parser.value(flavour) == QLatin1String("ad");
    options.flavour = ad ? DirectoryFlavour::ActiveDirectory : DirectoryFlavour::OpenLdap;
    if (parser.isSet(baseDn))
        options.baseDn = parser.value(baseDn);
    else if (ad)
        options.baseDn = QStringLiteral("DC=certsync,DC=test");
    options.bulkUsers = parser.value(users).toInt();
    options.catalogue = !parser.isSet(noCatalogue);
    if (parser.value(shape) == QLatin1String("bags"))
        options.bulkShape = SeedOptions::BulkShape::Bags;
    else if (parser.value(shape) != QLatin1String("standard")) {
        err << "certsync-seed: --shape is standard or bags\n";
        return 2;
    }
    if (parser.isSet(ip))
        options.serverAddresses = parser.values(ip);

    QElapsedTimer timer;
    timer.start();
    DirectorySeeder seeder(options);
    seeder.build();
    QString error;
    if (!seeder.write(parser.value(outDir), &error)) {
        err << "certsync-seed: " << error << '\n';
        return 1;
    }
    if (!parser.isSet(noVerify) && verify(seeder, parser.value(outDir), ad, err) != 0)
        return 1;
    out << "certsync-seed: " << seeder.users().size() << " users in " << parser.value(outDir) << " ("
        << timer.elapsed() << " ms)\n";
    return 0;
}
