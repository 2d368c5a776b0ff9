// The state database: migrations, and the analysis cache that makes warm inventories fast.
#include "TestPki.h"

#include "certs/TrustStore.h"
#include "store/StateStore.h"

#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace certsync;
using namespace certsync::store;
using namespace certsync::testing;

class TestStateStore : public QObject
{
    Q_OBJECT
private slots:
    void migratesAndUsesWal();
    void refusesANewerSchema();
    void cacheSurvivesARestart();
    void damagedRowIsNotTrusted();
    void marks();
};

void TestStateStore::migratesAndUsesWal()
{
    QTemporaryDir dir;
    auto store = StateStore::open(dir.filePath(QStringLiteral("state/certsync.db")));
    QVERIFY2(store.ok(), qPrintable(store.ok() ? QString() : store.error().message));
    QCOMPARE((*store)->schemaVersion(), StateStore::latestSchemaVersion());
    QSqlQuery q((*store)->database());
    QVERIFY(q.exec(QStringLiteral("PRAGMA journal_mode")) && q.next());
    QCOMPARE(q.value(0).toString(), QStringLiteral("wal"));
    store->reset();
    auto again = StateStore::open(dir.filePath(QStringLiteral("state/certsync.db"))); // idempotent
    QVERIFY(again.ok());
    QCOMPARE((*again)->schemaVersion(), StateStore::latestSchemaVersion());
}

void TestStateStore::refusesANewerSchema()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("certsync.db"));
    {
        auto store = StateStore::open(path);
        QVERIFY(store.ok());
        QSqlQuery q((*store)->database());
        QVERIFY(q.exec(QStringLiteral("UPDATE schema_version SET version = 999")));
    }
    auto newer = StateStore::open(path);
    QVERIFY(!newer.ok());
    QVERIFY2(newer.error().message.contains(QStringLiteral("newer than this certsync knows")),
             qPrintable(newer.error().message));
}

void TestStateStore::cacheSurvivesARestart()
{
    const StandardPki &pki = StandardPki::instance();
    const Issued leaf = TestPki::issue(goodLeafSpec(QStringLiteral("alice@example.test")), pki.intermediate);
    const QByteArray bag = TestPki::pkcs7Signed(leaf, { &pki.intermediate });
    QTemporaryDir dir;
    const QString anchors = dir.filePath(QStringLiteral("trust.pem"));
    QVERIFY(TestPki::writeFile(anchors, TestPki::pemOf({ &pki.root, &pki.intermediate })));
    certs::TrustSettings settings;
    settings.bundleFiles = { anchors };
    auto trust = certs::TrustStore::load(settings);
    QVERIFY(trust.ok());
    certs::UserContext user;
    user.mail = QStringLiteral("alice@example.test");
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const QString path = dir.filePath(QStringLiteral("certsync.db"));

    certs::AnalyzedValue fresh;
    {
        auto store = StateStore::open(path);
        QVERIFY(store.ok());
        auto cache = SqliteAnalysisCache::load(**store);
        QVERIFY(cache.ok());
        const certs::ValueAnalyzer analyzer(*trust, certs::CertificateJudge(), cache->get());
        fresh = analyzer.analyze(certs::Attribute::UserSmimeCertificate, 0, bag, user, now);
        QCOMPARE((*cache)->pending(), 1);
        QVERIFY((*cache)->flush().ok());
        QCOMPARE((*cache)->pending(), 0);
    }
    auto store = StateStore::open(path);
    auto cache = SqliteAnalysisCache::load(**store);
    QVERIFY(cache.ok());
    QCOMPARE((*cache)->size(), 1);
    const auto cached = (*cache)->find(fresh.sha256);
    QVERIFY(cached.has_value());
    QCOMPARE(cached->kind, certs::ValueKind::Pkcs7);
    QVERIFY(cached->pkcs7Signed);
    QCOMPARE(cached->certificates.size(), 2);
    QCOMPARE(cached->chains.size(), 2);
    QCOMPARE(cached->capabilities.size(), fresh.capabilities.size());
    QVERIFY(!cached->capabilities.isEmpty());
    // Judged from the cache, the value reads exactly as when it was parsed.
    const certs::ValueAnalyzer analyzer(*trust, certs::CertificateJudge(), cache->get());
    const certs::AnalyzedValue warm =
        analyzer.analyze(certs::Attribute::UserSmimeCertificate, 0, bag, user, now);
    QCOMPARE(warm.certificates.size(), fresh.certificates.size());
    for (int i = 0; i < warm.certificates.size(); ++i) {
        const certs::Certificate &a = warm.certificates.at(i).certificate;
        const certs::Certificate &b = fresh.certificates.at(i).certificate;
        QCOMPARE(a.der, b.der);
        QCOMPARE(a.subject, b.subject);
        QCOMPARE(a.notAfter, b.notAfter);
        QCOMPARE(a.extendedKeyUsages, b.extendedKeyUsages);
        QCOMPARE(a.keyUsage, b.keyUsage);
        QCOMPARE(warm.certificates.at(i).chain.status, fresh.certificates.at(i).chain.status);
        QCOMPARE(warm.certificates.at(i).chain.message, fresh.certificates.at(i).chain.message);
        QVERIFY(warm.certificates.at(i).chain.chain.isEmpty()); // the verdict is kept, not the elements
        QCOMPARE(warm.problemsOf(i), fresh.problemsOf(i));
        QCOMPARE(warm.certificates.at(i).isUsers, fresh.certificates.at(i).isUsers);
    }
    QCOMPARE((*cache)->pending(), 0); // nothing new to write
}

void TestStateStore::damagedRowIsNotTrusted()
{
    QVERIFY(!SqliteAnalysisCache::decode(QByteArray("\x00\x00\x00\x01garbage", 11)).has_value());
    certs::CachedAnalysis a;
    a.kind = certs::ValueKind::X509;
    a.certificates.append(certs::Certificate {});
    a.chains.append(certs::ChainResult {});
    a.certificates.first().der = QByteArray("DER");
    a.certificates.first().subject = QStringLiteral("CN=x");
    const QByteArray encoded = SqliteAnalysisCache::encode(a);
    const auto decoded = SqliteAnalysisCache::decode(encoded);
    QVERIFY(decoded.has_value());
    QCOMPARE(decoded->certificates.first().subject, QStringLiteral("CN=x"));
    QVERIFY(decoded->certificates.first().der.isEmpty()); // a plain certificate value is its own DER
    QVERIFY(!SqliteAnalysisCache::decode(encoded.left(encoded.size() / 2)).has_value());
}

void TestStateStore::marks()
{
    QTemporaryDir dir;
    auto store = StateStore::open(dir.filePath(QStringLiteral("certsync.db")));
    QVERIFY(store.ok());
    QCOMPARE((*store)->mark(QStringLiteral("ldaps://dc1 DC=x")), QByteArray());
    QVERIFY((*store)->saveMark(QStringLiteral("ldaps://dc1 DC=x"), "{\"usn\":\"12\"}").ok());
    QVERIFY((*store)->saveMark(QStringLiteral("ldaps://dc1 DC=x"), "{\"usn\":\"13\"}").ok());
    QCOMPARE((*store)->mark(QStringLiteral("ldaps://dc1 DC=x")), QByteArray("{\"usn\":\"13\"}"));
}

QTEST_GUILESS_MAIN(TestStateStore)
#include "tst_statestore.moc"
