// certsync-tenantsim: the Microsoft 365 test double. See README.md beside this file.
#include "TenantSimulator.h"

#include "TestPki.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>

#include "certs/Certificate.h"
#include "certs/OpenSsl.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <QSocketNotifier>

#include <csignal>
#include <cstdio>
#include <sys/socket.h>
#include <unistd.h>

using namespace certsync;
using namespace certsync::tenantsim;

namespace {

// A TLS server certificate for 127.0.0.1, issued by a CA made for this run. TestPki has no IP SANs,
// so the certificate is issued without a SAN and re-signed after the IP SAN is added.
bool makeServerCertificate(QByteArray *certPem, QByteArray *keyPem, QByteArray *caPem, QString *error)
{
    using namespace certsync::testing;
    try {
        CertSpec caSpec;
        caSpec.commonName = QStringLiteral("certsync tenantsim TLS CA");
        caSpec.ca = true;
        caSpec.key = KeyKind::EcP256;
        caSpec.keySlot = 71;
        caSpec.extendedKeyUsage = std::nullopt;
        const Issued ca = TestPki::selfSigned(caSpec);

        CertSpec serverSpec;
        serverSpec.commonName = QStringLiteral("127.0.0.1");
        serverSpec.key = KeyKind::EcP256;
        serverSpec.keySlot = 72;
        serverSpec.extendedKeyUsage = QStringList { QStringLiteral("1.3.6.1.5.5.7.3.1") };
        serverSpec.keyUsage = certs::DigitalSignature;
        Issued server = TestPki::issue(serverSpec, ca);

        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, ca.cert.get(), server.cert.get(), nullptr, nullptr, 0);
        X509_EXTENSION *san =
            X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
        const bool ok = san && X509_add_ext(server.cert.get(), san, -1) == 1
            && X509_sign(server.cert.get(), ca.key.get(), EVP_sha256()) > 0;
        X509_EXTENSION_free(san);
        if (!ok) {
            *error = QStringLiteral("cannot add the IP SAN: ") + ossl::drainErrors();
            return false;
        }
        server.der = ossl::der(server.cert.get());
        *certPem = server.pem();
        *caPem = ca.pem();
        ossl::BioPtr bio(BIO_new(BIO_s_mem()));
        if (PEM_write_bio_PrivateKey(bio.get(), server.key.get(), nullptr, nullptr, 0, nullptr, nullptr)
            != 1) {
            *error = ossl::drainErrors();
            return false;
        }
        char *data = nullptr;
        const long size = BIO_get_mem_data(bio.get(), &data);
        *keyPem = QByteArray(data, int(size));
        return true;
    } catch (const std::exception &e) {
        *error = QString::fromUtf8(e.what());
        return false;
    }
}

// SIGTERM/SIGINT end the event loop through a socket pair, so that the state is saved on the way out.
int g_signalFds[2] = { -1, -1 };

void onSignal(int)
{
    const char b = 1;
    [[maybe_unused]] const auto n = ::write(g_signalFds[0], &b, 1);
}

QByteArray readFile(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

} // namespace

int main(int argc, char *argv[])
{
    certsync::ossl::initialiseForProcess();
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("certsync-tenantsim"));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Simulated Microsoft 365 tenant (Entra token endpoint, Graph users, Exchange "
                       "InvokeCommand) for certsync's tests and demo."));
    parser.addHelpOption();
    auto opt = [&parser](const QString &name, const QString &help, const QString &value = {},
                         const QString &def = {}) {
        QCommandLineOption o(name, help, value, def);
        parser.addOption(o);
        return o;
    };
    const auto seed =
        opt(QStringLiteral("seed"),
            QStringLiteral("Seed description (JSON), used when the state file does not exist yet."),
            QStringLiteral("file"));
    const auto state = opt(QStringLiteral("state"),
                           QStringLiteral("State file (JSON), loaded when present and saved after changes."),
                           QStringLiteral("file"));
    const auto port =
        opt(QStringLiteral("port"), QStringLiteral("HTTPS port on 127.0.0.1 (0: any free port)."),
            QStringLiteral("port"), QStringLiteral("0"));
    const auto adminPort =
        opt(QStringLiteral("admin-port"), QStringLiteral("Admin HTTP port on 127.0.0.1 (0: any free port)."),
            QStringLiteral("port"), QStringLiteral("0"));
    const auto tlsCert =
        opt(QStringLiteral("tls-cert"), QStringLiteral("Server certificate (PEM); generated when absent."),
            QStringLiteral("file"));
    const auto tlsKey =
        opt(QStringLiteral("tls-key"), QStringLiteral("Server key (PEM)."), QStringLiteral("file"));
    const auto caOut =
        opt(QStringLiteral("ca-out"),
            QStringLiteral(
                "Write the generated TLS CA certificate (PEM) here, for the client's CA-file setting."),
            QStringLiteral("file"));
    const auto accessLog = opt(QStringLiteral("access-log"),
                               QStringLiteral("Append one tab-separated line per request: time, method, "
                                              "target, status, request-id, client-request-id, note."),
                               QStringLiteral("file"));
    const auto pageSize = opt(QStringLiteral("page-size"),
                              QStringLiteral("Largest /users page (Graph: 999 with $top, 100 without)."),
                              QStringLiteral("n"), QStringLiteral("100"));
    const auto deltaPage =
        opt(QStringLiteral("delta-page-size"), QStringLiteral("Users per /users/delta page."),
            QStringLiteral("n"), QStringLiteral("100"));
    const auto exchangePage =
        opt(QStringLiteral("exchange-page-size"), QStringLiteral("Recipients per InvokeCommand page."),
            QStringLiteral("n"), QStringLiteral("1000"));
    const auto tokenLifetime =
        opt(QStringLiteral("token-lifetime"), QStringLiteral("Access token lifetime in seconds."),
            QStringLiteral("s"), QStringLiteral("3599"));
    const auto bytesAsArrays =
        opt(QStringLiteral("exchange-bytes-as-arrays"),
            QStringLiteral("Return Exchange byte arrays as arrays of numbers instead of base64 strings."));
    const auto cloudManagedWrites =
        opt(QStringLiteral("cloud-managed-certificate-writes"),
            QStringLiteral("Accept UserCertificate/UserSMimeCertificate writes of synced recipients whose "
                           "IsExchangeCloudManaged is true (default: refused as for any synced object)."));
    const auto randomSeed =
        opt(QStringLiteral("random-seed"), QStringLiteral("Seed of the fault-injection dice."),
            QStringLiteral("n"), QStringLiteral("1"));
    const auto throttleRate =
        opt(QStringLiteral("throttle-rate"), QStringLiteral("Share of API requests answered 429."),
            QStringLiteral("0..1"), QStringLiteral("0"));
    const auto retryAfter =
        opt(QStringLiteral("retry-after"), QStringLiteral("Retry-After seconds of injected 429s."),
            QStringLiteral("s"), QStringLiteral("1"));
    const auto unavailableRate =
        opt(QStringLiteral("unavailable-rate"), QStringLiteral("Share of API requests answered 503."),
            QStringLiteral("0..1"), QStringLiteral("0"));
    const auto latency =
        opt(QStringLiteral("latency-ms"), QStringLiteral("Delay before answering each request."),
            QStringLiteral("ms"), QStringLiteral("0"));
    const auto dropRate =
        opt(QStringLiteral("drop-rate"),
            QStringLiteral("Share of writes applied and then answered by dropping the connection."),
            QStringLiteral("0..1"), QStringLiteral("0"));
    const auto rateLimit =
        opt(QStringLiteral("rate-limit"), QStringLiteral("Accepted API requests per window (0: no ceiling)."),
            QStringLiteral("n"), QStringLiteral("0"));
    const auto rateWindow =
        opt(QStringLiteral("rate-window-ms"), QStringLiteral("Length of the rate window."),
            QStringLiteral("ms"), QStringLiteral("10000"));
    parser.process(app);

    SimOptions options;
    options.seedPath = parser.value(seed);
    options.statePath = parser.value(state);
    options.accessLogPath = parser.value(accessLog);
    options.usersPageSize = parser.value(pageSize).toInt();
    options.deltaPageSize = parser.value(deltaPage).toInt();
    options.exchangePageSize = parser.value(exchangePage).toInt();
    options.tokenLifetimeSeconds = parser.value(tokenLifetime).toInt();
    options.exchangeBytesAsArrays = parser.isSet(bytesAsArrays);
    options.cloudManagedCertificateWrites = parser.isSet(cloudManagedWrites);
    options.randomSeed = parser.value(randomSeed).toUInt();
    options.faults.throttleRate = parser.value(throttleRate).toDouble();
    options.faults.retryAfterSeconds = parser.value(retryAfter).toInt();
    options.faults.unavailableRate = parser.value(unavailableRate).toDouble();
    options.faults.latencyMs = parser.value(latency).toInt();
    options.faults.dropRate = parser.value(dropRate).toDouble();
    options.faults.rateLimit = parser.value(rateLimit).toInt();
    options.faults.rateWindowMs = parser.value(rateWindow).toInt();

    TenantSimulator sim(options);
    QString error;
    if (!sim.initialize(&error)) {
        std::fprintf(stderr, "certsync-tenantsim: %s\n", qPrintable(error));
        return 2;
    }
    QByteArray certPem;
    QByteArray keyPem;
    if (parser.isSet(tlsCert)) {
        certPem = readFile(parser.value(tlsCert));
        keyPem = readFile(parser.value(tlsKey));
    } else {
        QByteArray caPem;
        if (!makeServerCertificate(&certPem, &keyPem, &caPem, &error)) {
            std::fprintf(stderr, "certsync-tenantsim: %s\n", qPrintable(error));
            return 1;
        }
        if (parser.isSet(caOut) && !testing::TestPki::writeFile(parser.value(caOut), caPem)) {
            std::fprintf(stderr, "certsync-tenantsim: cannot write %s\n", qPrintable(parser.value(caOut)));
            return 1;
        }
    }
    if (!sim.listen(certPem, keyPem, quint16(parser.value(port).toUInt()),
                    quint16(parser.value(adminPort).toUInt()), &error)) {
        std::fprintf(stderr, "certsync-tenantsim: %s\n", qPrintable(error));
        return 1;
    }
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, g_signalFds) == 0) {
        auto *notifier = new QSocketNotifier(g_signalFds[1], QSocketNotifier::Read, &app);
        QObject::connect(notifier, &QSocketNotifier::activated, &app, &QCoreApplication::quit);
        std::signal(SIGTERM, onSignal);
        std::signal(SIGINT, onSignal);
    }
    // Tests read this line to learn the ports (they start the simulator on port 0).
    std::printf("certsync-tenantsim listening https://127.0.0.1:%u admin http://127.0.0.1:%u\n",
                unsigned(sim.port()), unsigned(sim.adminPort()));
    std::fflush(stdout);
    return QCoreApplication::exec();
}
