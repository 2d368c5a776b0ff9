// The serialized certificate store (SST) of Set-SmimeConfig -SMIMECertificateIssuingCA: round trips
// of certificates made at run time, a store written byte by byte from [MS-OSHARED] 2.3.9.1 (not by
// our encoder), every malformation the decoder must name, and the CA collection judged with real
// certificates decoded from a store.
#include "TestPki.h"
#include "certs/SerializedStore.h"
#include "engine/Verdict.h"

#include <QCryptographicHash>
#include <QTest>
#include <QtEndian>

using namespace certsync;
using namespace certsync::testing;

namespace {

QByteArray u32(quint32 v)
{
    char b[4];
    qToLittleEndian(v, b);
    return QByteArray(b, 4);
}

QByteArray entry(quint32 id, quint32 encoding, const QByteArray &value)
{
    return u32(id) + u32(encoding) + u32(quint32(value.size())) + value;
}

const QByteArray Header = u32(0) + u32(0x54524543);
const QByteArray EndMarker = u32(0) + u32(0) + u32(0);

certs::Certificate described(const QByteArray &der)
{
    auto parsed = certs::parseDer(der);
    return parsed ? parsed->info : certs::Certificate {};
}

} // namespace

class TestSerializedStore : public QObject
{
    Q_OBJECT
private slots:
    void roundTrip();
    void writtenFromTheSpecification();
    void propertyEncodingIsKept();
    void malformed_data();
    void malformed();
    void collectionJudgesRealChains();
};

void TestSerializedStore::roundTrip()
{
    const StandardPki &pki = StandardPki::instance();
    const Issued leaf = TestPki::issue(goodLeafSpec(QStringLiteral("sst@certsync.test")), pki.intermediate);
    const QList<QByteArray> ders { pki.root.der, pki.intermediate.der, pki.ecIntermediate.der, leaf.der };
    for (qsizetype n = 0; n <= ders.size(); ++n) {
        const QByteArray store = certs::encodeSerializedStore(ders.first(n));
        QVERIFY(store.startsWith(Header));
        QVERIFY(store.endsWith(EndMarker));
        auto decoded = certs::decodeSerializedStore(store);
        QVERIFY2(decoded.ok(), qPrintable(decoded ? QString() : decoded.error().message));
        QCOMPARE(decoded->size(), n);
        for (qsizetype i = 0; i < n; ++i) {
            QCOMPARE(decoded->at(i).der, ders.at(i));
            // Windows' certificate tools write each certificate's SHA-1 hash property before it.
            QCOMPARE(decoded->at(i).properties.size(), 1);
            QCOMPARE(decoded->at(i).properties.first().id, 3u);
            QCOMPARE(decoded->at(i).properties.first().encoding, 1u);
            QCOMPARE(decoded->at(i).properties.first().value,
                     QCryptographicHash::hash(ders.at(i), QCryptographicHash::Sha1));
        }
    }
    QCOMPARE(certs::encodeSerializedStore({}), Header + EndMarker);
}

void TestSerializedStore::writtenFromTheSpecification()
{
    const StandardPki &pki = StandardPki::instance();
    // Two certificates, the first with two properties (a key identifier, id 20, and a friendly
    // name, id 11, UTF-16), the second with none.
    const QByteArray friendly = QByteArray("R\0o\0o\0t\0\0\0", 10);
    const QByteArray store = Header + entry(20, 1, QByteArray(20, '\x11')) + entry(11, 1, friendly)
        + entry(0x20, 1, pki.root.der) + entry(0x20, 1, pki.intermediate.der) + EndMarker;
    auto decoded = certs::decodeSerializedStore(store);
    QVERIFY2(decoded.ok(), qPrintable(decoded ? QString() : decoded.error().message));
    QCOMPARE(decoded->size(), 2);
    QCOMPARE(decoded->at(0).der, pki.root.der);
    QCOMPARE(decoded->at(0).properties.size(), 2);
    QCOMPARE(decoded->at(0).properties.at(0).id, 20u);
    QCOMPARE(decoded->at(0).properties.at(1).value, friendly);
    QCOMPARE(decoded->at(1).der, pki.intermediate.der);
    QVERIFY(decoded->at(1).properties.isEmpty());
}

// A property's encodingType is kept as read. fuzz_sst found the store below (a SHA-1 property with
// encodingType 0) counted as "in the encoder's shape" while the encoder writes 1: the decoder
// dropped the field, so what decoded was not what was there (tests/fuzz/corpus/sst/regress-*).
void TestSerializedStore::propertyEncodingIsKept()
{
    const QByteArray der("\x30\x03\x02\x01\x01", 5);
    const QByteArray sha1 = QCryptographicHash::hash(der, QCryptographicHash::Sha1);
    const QByteArray store = Header + entry(3, 0, sha1) + entry(0x20, 1, der) + EndMarker;
    auto decoded = certs::decodeSerializedStore(store);
    QVERIFY2(decoded.ok(), qPrintable(decoded ? QString() : decoded.error().message));
    QCOMPARE(decoded->size(), 1);
    QCOMPARE(decoded->at(0).properties.size(), 1);
    QCOMPARE(decoded->at(0).properties.at(0).id, 3u);
    QCOMPARE(decoded->at(0).properties.at(0).encoding, 0u);
    QCOMPARE(decoded->at(0).properties.at(0).value, sha1);
    // The encoder writes Windows' shape, encodingType 1, so this store is not written back as read.
    const QByteArray reencoded = certs::encodeSerializedStore({ der });
    QCOMPARE(reencoded, Header + entry(3, 1, sha1) + entry(0x20, 1, der) + EndMarker);
    QVERIFY(reencoded != store);
}

void TestSerializedStore::malformed_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("error");
    const QByteArray cert = entry(0x20, 1, QByteArray("\x30\x03\x02\x01\x01", 5));
    QTest::newRow("empty") << QByteArray() << "offset 0: 0 bytes, shorter than the 8-byte header";
    QTest::newRow("version 1") << QByteArray(u32(1) + u32(0x54524543) + EndMarker) << "offset 0: version 1";
    QTest::newRow("not CERT") << QByteArray(u32(0) + u32(0x4c525443) + EndMarker)
                              << "offset 4: file type 0x4c525443";
    QTest::newRow("no end marker") << QByteArray(Header + cert) << "no end marker";
    QTest::newRow("entry runs past the end")
        << QByteArray(Header + u32(0x20) + u32(1) + u32(100) + QByteArray(10, 'x'))
        << "offset 8: entry 32 of 100 bytes runs past the end";
    QTest::newRow("length near 4 GiB")
        << QByteArray(Header + u32(0x20) + u32(1) + u32(0xffffffffu) + EndMarker)
        << "of 4294967295 bytes runs past the end";
    QTest::newRow("certificate not X.509")
        << QByteArray(Header + entry(0x20, 2, "x") + EndMarker) << "certificate with encoding type 2";
    QTest::newRow("empty certificate")
        << QByteArray(Header + entry(0x20, 1, {}) + EndMarker) << "empty certificate";
    QTest::newRow("property with no certificate")
        << QByteArray(Header + entry(3, 1, QByteArray(20, 'h')) + EndMarker)
        << "properties with no certificate after them";
    QTest::newRow("bytes after the end")
        << QByteArray(Header + cert + EndMarker + "x") << "1 bytes after the end marker";
    QTest::newRow("end marker not zero")
        << QByteArray(Header + u32(0) + u32(1) + u32(0)) << "end marker with non-zero fields";
}

void TestSerializedStore::malformed()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, error);
    auto decoded = certs::decodeSerializedStore(bytes);
    QVERIFY(!decoded.ok());
    QCOMPARE(decoded.error().code, QStringLiteral("sst"));
    QVERIFY2(decoded.error().message.contains(error), qPrintable(decoded.error().message));
}

void TestSerializedStore::collectionJudgesRealChains()
{
    const StandardPki &pki = StandardPki::instance();
    const Issued leaf = TestPki::issue(goodLeafSpec(QStringLiteral("sst@certsync.test")), pki.intermediate);
    auto collectionOf = [](const QList<QByteArray> &ders) {
        QList<certs::Certificate> out;
        const auto decoded = certs::decodeSerializedStore(certs::encodeSerializedStore(ders));
        for (const certs::SerializedStoreEntry &e : decoded.value())
            out << described(e.der);
        return out;
    };
    const certs::Certificate user = described(leaf.der);
    QVERIFY(engine::chainInCollection(user, collectionOf({ pki.root.der, pki.intermediate.der })));
    // The missing intermediate breaks trust (DOMAIN.md); the wrong intermediate does not replace it.
    QVERIFY(!engine::chainInCollection(user, collectionOf({ pki.root.der })));
    QVERIFY(!engine::chainInCollection(user, collectionOf({ pki.root.der, pki.ecIntermediate.der })));
    QVERIFY(!engine::chainInCollection(user, collectionOf({ pki.intermediate.der })));
    QVERIFY(!engine::chainInCollection(user, collectionOf({ pki.otherRoot.der, pki.intermediate.der })));
}

QTEST_GUILESS_MAIN(TestSerializedStore)
#include "tst_serializedstore.moc"
