// Benchmark: certsync's per-certificate work (parse, fingerprint, chain verification, judgement)
// side by side with its floor, a bare OpenSSL loop doing only the same cryptographic work
// (d2i_X509, SHA-256 of the DER, X509_verify against the issuer's key) over the same bytes.
//
//   bench_certs [--count N] [--corpus FILE]
//
// The corpus (a realistic mix: RSA-2048 and P-256 leaves under four issuing CAs, two RSA and two
// EC) is generated once and kept in FILE, since signing 100,000 certificates takes a while.
#include "TestPki.h"
#include "certs/ValueAnalyzer.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDataStream>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QThreadPool>
#include <QtConcurrent>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdio>
#include <ctime>

using namespace certsync;
using namespace certsync::certs;
using namespace certsync::testing;

namespace {

struct Corpus
{
    QList<QByteArray> caDer; // [0] root, [1..4] issuing CAs
    QList<QByteArray> leaves;
    QList<quint8> issuerOf; // index into caDer
};

constexpr int issuingCas = 4;

Corpus generate(int count)
{
    Corpus corpus;
    const StandardPki &pki = StandardPki::instance();
    std::vector<Issued> cas;
    for (int i = 0; i < issuingCas; ++i) {
        CertSpec spec;
        spec.commonName = QStringLiteral("Bench Issuing CA %1").arg(i + 1);
        spec.ca = true;
        spec.key = i % 2 ? KeyKind::EcP256 : KeyKind::Rsa2048;
        spec.keySlot = 100 + i;
        spec.notAfterDays = 3650;
        cas.push_back(TestPki::issue(spec, pki.root));
    }
    corpus.caDer.append(pki.root.der);
    for (const Issued &ca : cas)
        corpus.caDer.append(ca.der);
    corpus.leaves.resize(count);
    corpus.issuerOf.resize(count);
    QList<int> indexes(count);
    std::iota(indexes.begin(), indexes.end(), 0);
    QtConcurrent::blockingMap(indexes, [&](int i) {
        CertSpec spec = goodLeafSpec(QStringLiteral("user%1@example.test").arg(i),
                                     i % 5 < 3 ? KeyKind::Rsa2048 : KeyKind::EcP256);
        spec.keySlot = 200 + i % 16; // sixteen keys of each kind: key generation is not what we measure
        spec.upns = { QStringLiteral("user%1@corp.example.test").arg(i) };
        spec.notAfterDays = 30 + i % 700;
        const int issuer = i % issuingCas;
        corpus.leaves[i] = TestPki::issue(spec, cas[size_t(issuer)]).der;
        corpus.issuerOf[i] = quint8(issuer + 1);
    });
    return corpus;
}

bool load(const QString &path, int count, Corpus &corpus)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return false;
    QDataStream in(&file);
    in >> corpus.caDer >> corpus.leaves >> corpus.issuerOf;
    return in.status() == QDataStream::Ok && corpus.leaves.size() >= count;
}

void save(const QString &path, const Corpus &corpus)
{
    QFile file(path);
    if (file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        QDataStream out(&file);
        out << corpus.caDer << corpus.leaves << corpus.issuerOf;
    }
}

// The floor: only the cryptographic work, nothing kept.
int floorOne(const QByteArray &der, EVP_PKEY *issuerKey, const EVP_MD *sha256)
{
    const auto *p = reinterpret_cast<const unsigned char *>(der.constData());
    X509 *cert = d2i_X509(nullptr, &p, long(der.size()));
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdLength = 0;
    EVP_Digest(der.constData(), size_t(der.size()), md, &mdLength, sha256, nullptr);
    const int ok = X509_verify(cert, issuerKey);
    X509_free(cert);
    return ok == 1 ? 1 : 0;
}

// CPU time of the calling thread: the one-core runs compare CPU too, which stays meaningful when other
// work shares the machine's cores (wall time then does not).
double threadCpuSeconds()
{
    timespec ts {};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

double seconds(const QElapsedTimer &timer)
{
    return double(timer.nsecsElapsed()) / 1e9;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    const QCommandLineOption countOption(QStringLiteral("count"), QStringLiteral("Certificates."),
                                         QStringLiteral("N"), QStringLiteral("100000"));
    const QCommandLineOption corpusOption(QStringLiteral("corpus"), QStringLiteral("Corpus cache file."),
                                          QStringLiteral("FILE"));
    parser.addOptions({ countOption, corpusOption });
    parser.process(app);
    const int count = parser.value(countOption).toInt();
    QString corpusPath = parser.value(corpusOption);
    QTemporaryDir scratch;
    if (corpusPath.isEmpty())
        corpusPath = scratch.filePath(QStringLiteral("corpus.bin"));

    Corpus corpus;
    QElapsedTimer timer;
    timer.start();
    if (!load(corpusPath, count, corpus)) {
        std::fprintf(stderr, "generating %d certificates into %s ...\n", count, qPrintable(corpusPath));
        corpus = generate(count);
        save(corpusPath, corpus);
        std::fprintf(stderr, "generated in %.1f s\n", seconds(timer));
    }
    corpus.leaves.resize(count);
    corpus.issuerOf.resize(count);
    qint64 bytes = 0;
    for (const QByteArray &der : std::as_const(corpus.leaves))
        bytes += der.size();

    // Issuer keys for the floor, and a trust store for certsync: the root as anchor, the issuing
    // CAs as configured intermediates (as an organisation would set it up).
    std::vector<ossl::X509Ptr> caHandles;
    for (const QByteArray &der : std::as_const(corpus.caDer))
        caHandles.push_back(std::move(parseDer(der)->handle));
    QTemporaryDir dir;
    QByteArray anchors =
        "-----BEGIN CERTIFICATE-----\n" + corpus.caDer.first().toBase64() + "\n-----END CERTIFICATE-----\n";
    QByteArray intermediates;
    for (int i = 1; i < corpus.caDer.size(); ++i)
        intermediates +=
            "-----BEGIN CERTIFICATE-----\n" + corpus.caDer.at(i).toBase64() + "\n-----END CERTIFICATE-----\n";
    TestPki::writeFile(dir.filePath(QStringLiteral("anchors.pem")), anchors);
    TestPki::writeFile(dir.filePath(QStringLiteral("intermediates.pem")), intermediates);
    TrustSettings settings;
    settings.anchorFiles = { dir.filePath(QStringLiteral("anchors.pem")) };
    settings.intermediateFiles = { dir.filePath(QStringLiteral("intermediates.pem")) };
    auto trust = TrustStore::load(settings);
    if (!trust) {
        std::fprintf(stderr, "trust store: %s\n", qPrintable(trust.error().message));
        return 1;
    }
    const ValueAnalyzer analyzer(*trust, CertificateJudge());
    const UserContext user { QStringLiteral("user@example.test"), {} };
    const QDateTime now = QDateTime::currentDateTimeUtc();
    EVP_MD *sha256 = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);

    auto floorRange = [&](int from, int to) {
        int ok = 0;
        for (int i = from; i < to; ++i)
            ok += floorOne(corpus.leaves.at(i), X509_get0_pubkey(caHandles[corpus.issuerOf.at(i)].get()),
                           sha256);
        return ok;
    };
    std::atomic<int> trusted { 0 };
    auto oursRange = [&](int from, int to) {
        int ok = 0;
        for (int i = from; i < to; ++i) {
            const AnalyzedValue value =
                analyzer.analyze(Attribute::UserCertificate, i, corpus.leaves.at(i), user, now);
            ok += !value.certificates.isEmpty() && value.certificates.first().chain.trusted();
        }
        trusted += ok;
        return ok;
    };
    // Both cores: chunks of 256 certificates handed to the pool.
    auto parallel = [&](auto &&work) {
        QList<std::pair<int, int>> chunks;
        for (int from = 0; from < count; from += 256)
            chunks.append({ from, std::min(count, from + 256) });
        QtConcurrent::blockingMap(chunks, [&](const std::pair<int, int> &c) { work(c.first, c.second); });
    };
    QThreadPool::globalInstance()->setMaxThreadCount(2);

    // Warm-up (page in, lazily initialised OpenSSL providers), then measure.
    floorRange(0, std::min(count, 2000));
    oursRange(0, std::min(count, 2000));
    trusted = 0;

    timer.restart();
    double cpu = threadCpuSeconds();
    const int floorOk = floorRange(0, count);
    const double floor1 = seconds(timer);
    const double floor1Cpu = threadCpuSeconds() - cpu;
    timer.restart();
    cpu = threadCpuSeconds();
    oursRange(0, count);
    const double ours1 = seconds(timer);
    const double ours1Cpu = threadCpuSeconds() - cpu;
    const int oursOk = trusted.exchange(0);
    timer.restart();
    parallel(floorRange);
    const double floor2 = seconds(timer);
    timer.restart();
    parallel(oursRange);
    const double ours2 = seconds(timer);

    const double perCert = 1e6 / count;
    std::printf("certificates: %d (%.1f MB of DER), issuing CAs: %d (2 RSA-2048, 2 P-256), leaves 60%% "
                "RSA-2048 / 40%% P-256\n",
                count, double(bytes) / 1e6, issuingCas);
    std::printf("signatures verified by the floor: %d / %d; chains trusted by certsync: %d / %d\n", floorOk,
                count, oursOk, count);
    std::printf("| run | seconds | µs per certificate | ratio to the 1-core floor |\n|---|---:|---:|---:|\n");
    std::printf("| floor, 1 core (d2i_X509 + SHA-256 + X509_verify) | %.2f | %.1f | 1.00 |\n", floor1,
                floor1 * perCert);
    std::printf("| certsync, 1 core (parse + fingerprints + chain + judge) | %.2f | %.1f | %.2f |\n", ours1,
                ours1 * perCert, ours1 / floor1);
    std::printf("| floor, 2 cores | %.2f | %.1f | %.2f |\n", floor2, floor2 * perCert, floor2 / floor1);
    std::printf("| certsync, 2 cores | %.2f | %.1f | %.2f |\n", ours2, ours2 * perCert, ours2 / floor1);
    std::printf("one core, CPU time of the thread: floor %.2f s, certsync %.2f s: %.2fx\n", floor1Cpu,
                ours1Cpu, ours1Cpu / floor1Cpu);
    const bool oneCoreOk = ours1 <= 1.5 * floor1;
    const bool twoCoreOk = ours2 < floor1;
    std::printf(
        "budget: 1 core at most 1.5x the floor: %s (%.2fx); 2 cores faster than the floor: %s (%.2fx)\n",
        oneCoreOk ? "met" : "MISSED", ours1 / floor1, twoCoreOk ? "met" : "MISSED", ours2 / floor1);
    EVP_MD_free(sha256);
    return oursOk == count && floorOk == count ? 0 : 1;
}
