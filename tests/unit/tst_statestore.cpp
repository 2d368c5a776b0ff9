// The state database: migrations, and the analysis cache that makes warm inventories fast.
#include "TestPki.h"

#include "certs/CertificateJudge.h"
#include "certs/TrustStore.h"
#include "directory/StoredDirectory.h"
#include "store/CompactCodec.h"
#include "store/SqliteStatement.h"
#include "store/StateStore.h"
#include "store/WriteBehind.h"

#include <QDataStream>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QSemaphore>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <atomic>
#include <functional>

using namespace certsync;
using namespace certsync::store;
using namespace certsync::testing;

namespace {

// Runs `work` on a thread of its own, which ends before this returns. (A pool's future may run its
// task on the waiting thread instead, which would read through the store's own connection.)
template<typename Work> auto onAnotherThread(Work work)
{
    decltype(work()) result;
    const std::unique_ptr<QThread> thread(QThread::create([&] { result = work(); }));
    thread->start();
    thread->wait();
    return result;
}

directory::ConnectionProfile ldapProfile()
{
    directory::ConnectionProfile profile;
    profile.kind = directory::SourceKind::GenericLdap;
    profile.mapping = directory::AttributeMapping::defaults(profile.kind);
    profile.url = QStringLiteral("ldap://127.0.0.1:3890");
    profile.baseDn = QStringLiteral("dc=example");
    return profile;
}

// A read mark of the profile's server, as a read of it saves
directory::ReadMark readMarkOf(const directory::ConnectionProfile &profile)
{
    directory::ReadMark mark;
    mark.kind = profile.kind;
    mark.server = profile.url;
    mark.csn = QStringLiteral("20261202090000.000000Z#000000#000#000000");
    return mark;
}

// The rows this connection has changed so far, triggers' changes included
qint64 totalChanges(QSqlQuery &q)
{
    return q.exec(QStringLiteral("SELECT total_changes()")) && q.next() ? q.value(0).toLongLong() : -1;
}

// Every field of a certificate that the analysis cache's form keeps (SqliteAnalysisCache's comment).
void compareCachedFields(const certs::Certificate &got, const certs::Certificate &want)
{
    QCOMPARE(got.sha256, want.sha256);
    QCOMPARE(got.subject, want.subject);
    QCOMPARE(got.issuer, want.issuer);
    QCOMPARE(got.serialHex, want.serialHex);
    QCOMPARE(got.notBefore, want.notBefore);
    QCOMPARE(got.notAfter.isValid(), want.notAfter.isValid());
    if (want.notAfter.isValid())
        QCOMPARE(got.notAfter, want.notAfter);
    QCOMPARE(got.emailSans, want.emailSans);
    QCOMPARE(got.subjectEmails, want.subjectEmails);
    QCOMPARE(got.hasKeyUsage, want.hasKeyUsage);
    QCOMPARE(got.keyUsage, want.keyUsage);
    QCOMPARE(got.hasExtendedKeyUsage, want.hasExtendedKeyUsage);
    QCOMPARE(got.extendedKeyUsages, want.extendedKeyUsages);
    QCOMPARE(got.isCa, want.isCa);
    QCOMPARE(int(got.keyType), int(want.keyType));
    QCOMPARE(got.keyBits, want.keyBits);
    QCOMPARE(got.curve, want.curve);
    QCOMPARE(got.signatureAlgorithm, want.signatureAlgorithm);
    QCOMPARE(got.signatureDigest, want.signatureDigest);
    QCOMPARE(got.selfIssued, want.selfIssued);
    QCOMPARE(got.selfSigned, want.selfSigned);
}

// A trust file of the test PKI, and the analyzer judging under it.
struct PkiAnalyzer
{
    explicit PkiAnalyzer(const QString &dir)
    {
        const StandardPki &pki = StandardPki::instance();
        const QString file = QDir(dir).filePath(QStringLiteral("trust.pem"));
        if (!TestPki::writeFile(file, TestPki::pemOf({ &pki.root, &pki.intermediate, &pki.ecIntermediate })))
            return;
        certs::TrustSettings settings;
        settings.bundleFiles = { file };
        if (auto loaded = certs::TrustStore::load(settings))
            trust.emplace(std::move(loaded).value());
        if (trust)
            analyzer.emplace(*trust, certs::CertificateJudge(certs::JudgePolicy()), nullptr);
    }
    std::optional<certs::TrustStore> trust;
    std::optional<certs::ValueAnalyzer> analyzer;
};

} // namespace

class TestStateStore : public QObject
{
    Q_OBJECT
private slots:
    void migratesAndUsesWal();
    void refusesANewerSchema();
    void cacheSurvivesARestart();
    void damagedRowIsNotTrusted();
    void cachedFormKeepsEveryField();
    void compactCodecBounds();
    void cacheWritesFollowTheOpenTransaction();
    void earlierCacheFormatsAreDropped();
    void marks();
    void storedDirectoryMergesAndRollsBack();
    void firstFillWritesOnceAndSurvivesACrash();
    void verdictsHoldUntilTheirFirstStep();
    void reportsAreStoredAndReadBack();
    void threadReadersNeverMixDatabases();
    void summariesFollowTheirRows();
    void firstReadStoresAKeyMetTwice();
    void rowKeysKeepEveryCharacter();
    void rowStatementsShareTheStoresConnection();
    void pendingAnalysesSpanBlocks();
    void threadsInsertIntoTheirCache();
    void writeBehindAsksUntilStopped();
    void unreadableSnapshotFailsTheRead();
    void summariesMigrate();
    void summariesMigrate_data();
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
    QByteArray key;
    {
        auto store = StateStore::open(path);
        QVERIFY(store.ok());
        auto cache = SqliteAnalysisCache::load(**store);
        QVERIFY(cache.ok());
        const certs::ValueAnalyzer analyzer(*trust, certs::CertificateJudge(), cache->get());
        fresh = analyzer.analyze(certs::Attribute::UserSmimeCertificate, 0, bag, user, now);
        key = analyzer.cacheKey(fresh.sha256);
        QCOMPARE((*cache)->pending(), 1);
        QVERIFY((*cache)->flush().ok());
        QCOMPARE((*cache)->pending(), 0);
    }
    auto store = StateStore::open(path);
    auto cache = SqliteAnalysisCache::load(**store);
    QVERIFY(cache.ok());
    QCOMPARE((*cache)->size(), 1);
    QVERIFY(!(*cache)->find(fresh.sha256).has_value()); // the value alone, without its trust
    const auto cached = (*cache)->find(key);
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
        // The compact form: what the judge and the inventory CSV need, not a bag's DER (the bag is
        // the value) nor the certificate's other details.
        QVERIFY(a.der.isEmpty());
        QVERIFY(!b.der.isEmpty());
        compareCachedFields(a, b);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(a.emails(), b.emails());
        QCOMPARE(a.keyDescription(), b.keyDescription());
        QCOMPARE(warm.certificates.at(i).chain.status, fresh.certificates.at(i).chain.status);
        QCOMPARE(warm.certificates.at(i).chain.message, fresh.certificates.at(i).chain.message);
        QVERIFY(warm.certificates.at(i).chain.chain.isEmpty()); // the verdict is kept, not the elements
        QCOMPARE(warm.problemsOf(i), fresh.problemsOf(i));
        QCOMPARE(warm.certificates.at(i).isUsers, fresh.certificates.at(i).isUsers);
    }
    QCOMPARE((*cache)->pending(), 0); // nothing new to write

    // Analysis threads look values up through read-only connections of their own, closed when the
    // thread ends.
    const qsizetype connections = QSqlDatabase::connectionNames().size();
    std::optional<certs::CachedAnalysis> fromWorker;
    std::unique_ptr<QThread> worker(QThread::create([&] { fromWorker = (*cache)->find(key); }));
    worker->start();
    QVERIFY(worker->wait(30000));
    QVERIFY(fromWorker.has_value());
    QCOMPARE(fromWorker->certificates.size(), 2);
    QCOMPARE(fromWorker->certificates.at(1).subject, fresh.certificates.at(1).certificate.subject);
    QCOMPARE(QSqlDatabase::connectionNames().size(), connections);
    QVERIFY(!(*cache)->find(certs::sha256Of("never stored")).has_value());
}

void TestStateStore::earlierCacheFormatsAreDropped()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("certsync.db"));
    auto insertRow = [](const QSqlDatabase &db, const QByteArray &sha, int format) {
        QSqlQuery q(db);
        q.prepare(QStringLiteral(
            "INSERT INTO analysis_cache (sha256, format, data, created) VALUES (?, ?, ?, '')"));
        q.addBindValue(sha);
        q.addBindValue(format);
        q.addBindValue(QByteArray("an earlier format"));
        return q.exec();
    };
    {
        auto store = StateStore::open(path);
        QVERIFY(store.ok());
        // A row of an earlier format is never decoded as the current one...
        QVERIFY(insertRow((*store)->database(), "old", SqliteAnalysisCache::formatVersion() - 1));
        auto cache = SqliteAnalysisCache::load(**store);
        QVERIFY(cache.ok());
        QVERIFY(!(*cache)->find("old").has_value());
        QCOMPARE((*cache)->size(), 0);
    }
    // ...and a database of version 3 or 12 (made by the migrations of then) with a row of its time
    // (format 3; format 4, QDataStream's)...
    for (const auto &[version, format] : { std::pair(3, 3), std::pair(12, 4) }) {
        QFile::remove(path);
        {
            auto store = StateStore::openAtVersion(path, version);
            QVERIFY(store.ok());
            QCOMPARE((*store)->schemaVersion(), version);
            QVERIFY(insertRow((*store)->database(), "old", format));
        }
        // ...loses it in the migrations that follow.
        auto store = StateStore::open(path);
        QVERIFY(store.ok());
        QCOMPARE((*store)->schemaVersion(), StateStore::latestSchemaVersion());
        QSqlQuery q((*store)->database());
        QVERIFY(q.exec(QStringLiteral("SELECT COUNT(*) FROM analysis_cache")) && q.next());
        QVERIFY2(q.value(0).toInt() == 0, qPrintable(QStringLiteral("from version %1").arg(version)));
    }
}

// The inventory writes new analyses into the snapshot's transaction as it reads, and keeps only their
// keys: until that transaction commits they are not found (no other connection sees them, and their
// bytes are not held in memory), and when it is rolled back, takeBackWritten() first makes them pending
// again, so that they reach the database by flush().
void TestStateStore::cacheWritesFollowTheOpenTransaction()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("certsync.db"));
    auto store = StateStore::open(path);
    QVERIFY(store.ok());
    auto loaded = SqliteAnalysisCache::load(**store);
    QVERIFY(loaded.ok());
    SqliteAnalysisCache &cache = **loaded;
    certs::CachedAnalysis analysis;
    analysis.kind = certs::ValueKind::Invalid;
    analysis.error = QStringLiteral("not a certificate");
    const QByteArray first(32, 'a'), second(32, 'b'), third(32, 'c');
    auto countRows = [&] {
        QSqlQuery q((*store)->database());
        return q.exec(QStringLiteral("SELECT COUNT(*) FROM analysis_cache")) && q.next() ? q.value(0).toInt()
                                                                                         : -1;
    };

    // Rolled back: pending again, then flushed in a transaction of its own.
    QVERIFY((*store)->database().transaction());
    cache.insert(first, analysis);
    QVERIFY(cache.writeIntoTransaction().ok());
    QCOMPARE(cache.pending(), 0);
    QCOMPARE(countRows(), 1); // in the open transaction
    QVERIFY(!cache.find(first).has_value()); // not held in memory meanwhile: analysed again if met
    cache.takeBackWritten();
    QCOMPARE(cache.pending(), 1);
    QVERIFY(!cache.find(first).has_value()); // pending again: pending rows are not looked up
    QVERIFY((*store)->database().rollback());
    QCOMPARE(countRows(), 0);
    cache.transactionEnded(false);
    QCOMPARE(cache.pending(), 1);
    QVERIFY(cache.flush().ok());
    QCOMPARE(cache.pending(), 0);
    QCOMPARE(countRows(), 1);
    // The store was empty when the cache was loaded, so lookups skipped it; written now, it is asked.
    QVERIFY(cache.find(first).has_value());

    // Committed: written once, found in the database by a new store, nothing pending.
    QVERIFY((*store)->database().transaction());
    cache.insert(second, analysis);
    cache.insert(third, analysis);
    QVERIFY(cache.writeIntoTransaction().ok());
    QVERIFY((*store)->database().commit());
    cache.transactionEnded(true);
    QCOMPARE(cache.pending(), 0);
    QVERIFY(cache.flush().ok()); // nothing left to write
    QCOMPARE(countRows(), 3);
    QVERIFY(cache.find(second).has_value()); // from the database now
    loaded->reset();
    store->reset();
    auto reopened = StateStore::open(path);
    QVERIFY(reopened.ok());
    auto again = SqliteAnalysisCache::load(**reopened);
    QVERIFY(again.ok());
    for (const QByteArray &key : { first, second, third }) {
        const auto found = (*again)->find(key);
        QVERIFY(found.has_value());
        QCOMPARE(found->error, analysis.error);
    }
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

namespace {

// A cached analysis with every field the cached form keeps set to something other than its default.
certs::CachedAnalysis fullAnalysis()
{
    certs::CachedAnalysis a;
    a.kind = certs::ValueKind::Pkcs7;
    a.error = QStringLiteral("bag with a stray byte");
    a.bareCertificate = true;
    a.pkcs7Signed = true;
    a.userChoice = QStringLiteral("issuer and serial");
    a.userIndex = 1;
    a.capabilities.append({ QStringLiteral("1.2.840.113549.3.2"), QStringLiteral("rc2-cbc"), 128 });
    a.capabilities.append({ QStringLiteral("2.16.840.1.101.3.4.1.42"), QString(), -1 });
    for (int i = 0; i < 2; ++i) {
        certs::Certificate c;
        c.sha256 = QByteArray(32, char(0xa0 + i));
        c.subject = QStringLiteral("CN=Jürgen Ünal %1,O=Café \\, Söhne,C=DE").arg(i); // non-ASCII, escapes
        c.issuer = QStringLiteral("CN=\U0001F512 Issuing CA"); // outside the BMP: a surrogate pair
        c.serialHex = QStringLiteral("00FFA1B2C3D4E5F6");
        c.notBefore = QDateTime(QDate(1949, 12, 31), QTime(23, 59, 59, 999), Qt::UTC); // before the epoch
        c.notAfter = i ? QDateTime() : QDateTime(QDate(2049, 1, 1), QTime(0, 0), Qt::UTC); // invalid: none
        c.emailSans = { QStringLiteral("a@example.test"), QStringLiteral("ä@bücher.example") };
        c.subjectEmails = { QStringLiteral("A@Example.test") };
        c.hasKeyUsage = true;
        c.keyUsage = 0xffff;
        c.hasExtendedKeyUsage = true;
        c.extendedKeyUsages = { QStringLiteral("1.3.6.1.5.5.7.3.4"),
                                QStringLiteral("1.3.6.1.4.1.311.10.3.4") };
        c.isCa = i == 1;
        c.keyType = i ? certs::KeyType::Dsa : certs::KeyType::Ec;
        c.keyBits = i ? 16384 : 384;
        c.curve = QStringLiteral("secp384r1");
        c.signatureAlgorithm = QStringLiteral("ecdsa-with-SHA384");
        c.signatureDigest = QStringLiteral("SHA384");
        c.selfIssued = true;
        c.selfSigned = i == 0;
        a.certificates.append(c);
        certs::ChainResult r;
        r.status = i ? certs::ChainStatus::Invalid : certs::ChainStatus::Revoked;
        r.opensslError = i ? -2147483647 - 1 : 23;
        r.message = QStringLiteral("certificate revoked — CRL of 2026-12-01");
        r.revocationChecked = true;
        a.chains.append(r);
    }
    return a;
}

} // namespace

void TestStateStore::cachedFormKeepsEveryField()
{
    const certs::CachedAnalysis a = fullAnalysis();
    const QByteArray encoded = SqliteAnalysisCache::encode(a);
    const auto d = SqliteAnalysisCache::decode(encoded);
    QVERIFY(d.has_value());
    QCOMPARE(int(d->kind), int(a.kind));
    QCOMPARE(d->error, a.error);
    QCOMPARE(d->bareCertificate, a.bareCertificate);
    QCOMPARE(d->pkcs7Signed, a.pkcs7Signed);
    QCOMPARE(d->userChoice, a.userChoice);
    QCOMPARE(d->userIndex, a.userIndex);
    QCOMPARE(d->capabilities.size(), a.capabilities.size());
    for (qsizetype i = 0; i < a.capabilities.size(); ++i) {
        QCOMPARE(d->capabilities[i].oid, a.capabilities[i].oid);
        QCOMPARE(d->capabilities[i].name, a.capabilities[i].name);
        QCOMPARE(d->capabilities[i].parameter, a.capabilities[i].parameter);
    }
    QCOMPARE(d->certificates.size(), a.certificates.size());
    QCOMPARE(d->chains.size(), a.chains.size());
    for (qsizetype i = 0; i < a.certificates.size(); ++i) {
        compareCachedFields(d->certificates[i], a.certificates[i]);
        if (QTest::currentTestFailed())
            return;
        const certs::ChainResult &p = a.chains[i], &q = d->chains[i];
        QCOMPARE(int(q.status), int(p.status));
        QCOMPARE(q.opensslError, p.opensslError);
        QCOMPARE(q.message, p.message);
        QCOMPARE(q.revocationChecked, p.revocationChecked);
    }

    // Damage never passes and never reads outside the row (the ASan build runs this): every shorter
    // row fails, a longer one fails, and any single byte changed either fails or decodes to an
    // analysis that encodes back to exactly those bytes (a changed letter in a name is still a
    // well-formed row; each value has one encoding, so nothing malformed is half accepted).
    for (qsizetype n = 0; n < encoded.size(); ++n)
        QVERIFY2(!SqliteAnalysisCache::decode(encoded.left(n)).has_value(), qPrintable(QString::number(n)));
    QVERIFY(!SqliteAnalysisCache::decode(encoded + '\0').has_value());
    int accepted = 0, refused = 0;
    for (qsizetype at = 0; at < encoded.size(); ++at)
        for (const char byte : { char(0x00), char(0x7f), char(0x80), char(0xff) }) {
            QByteArray changed = encoded;
            changed[at] = byte;
            if (const auto e = SqliteAnalysisCache::decode(changed)) {
                ++accepted;
                QVERIFY2(SqliteAnalysisCache::encode(*e) == changed, qPrintable(QString::number(at)));
            } else {
                ++refused;
            }
        }
    QVERIFY(accepted > 0 && refused > 0);

    // A row of format 4 (QDataStream's form, as that encoder wrote it) is not read as this one.
    QByteArray old;
    {
        QDataStream s(&old, QIODevice::WriteOnly);
        s.setVersion(QDataStream::Qt_6_4);
        const certs::Certificate &c = a.certificates.first();
        s << qint32(a.kind) << a.error << a.bareCertificate << a.pkcs7Signed << a.userChoice
          << qint32(a.userIndex) << qint32(0) << qint32(1) << c.sha256 << c.subject << c.issuer << c.serialHex
          << c.notBefore.toMSecsSinceEpoch() << c.notAfter.toMSecsSinceEpoch() << c.emailSans
          << c.subjectEmails << c.hasKeyUsage << c.keyUsage << c.hasExtendedKeyUsage << c.extendedKeyUsages
          << c.isCa << qint32(c.keyType) << qint32(c.keyBits) << c.curve << c.signatureAlgorithm
          << c.signatureDigest << c.selfIssued << c.selfSigned << qint32(1) << qint32(a.chains.first().status)
          << qint32(23) << a.chains.first().message << true;
    }
    QVERIFY(!SqliteAnalysisCache::decode(old).has_value());
}

void TestStateStore::compactCodecBounds()
{
    QByteArray bytes;
    store::CompactWriter w(bytes);
    const QList<quint64> numbers {
        0, 1, 127, 128, 16383, 16384, quint64(1) << 63, std::numeric_limits<quint64>::max()
    };
    for (quint64 n : numbers)
        w.number(n);
    const QList<qint64> signedNumbers {
        0, -1, 1, -64, 64, std::numeric_limits<qint64>::min(), std::numeric_limits<qint64>::max()
    };
    for (qint64 n : signedNumbers)
        w.signedNumber(n);
    const QString long_(QStringLiteral("ß").repeated(70000)); // a count of three bytes, 140,000 of UTF-8
    w.text(long_);
    w.text(QString());
    w.bytes(QByteArray("\0\1\2", 3));
    w.texts({ QString(), QStringLiteral("x") });
    store::CompactReader r(bytes);
    for (quint64 n : numbers)
        QCOMPARE(r.number(), n);
    for (qint64 n : signedNumbers)
        QCOMPARE(r.signedNumber(), n);
    QCOMPARE(r.text(), long_);
    QVERIFY(r.text().isEmpty());
    QCOMPARE(r.bytes(), QByteArray("\0\1\2", 3));
    QCOMPARE(r.texts(), QStringList({ QString(), QStringLiteral("x") }));
    QVERIFY(r.atEnd() && !r.failed());

    // A varint longer than 64 bits or not in its shortest form, a count past the end, a list count
    // its elements could not fit, invalid UTF-8, an out-of-range number, a flag that is not 0 or 1.
    const auto refused = [](const QByteArray &in, const std::function<void(store::CompactReader &)> &read) {
        store::CompactReader reader(in); // `in` outlives the reader: it reads in place
        read(reader);
        return reader.failed();
    };
    QVERIFY(refused(QByteArray(11, char(0x80)) + char(0), [](auto &x) { x.number(); }));
    QVERIFY(refused(QByteArray::fromHex("ffffffffffffffffff02"), [](auto &x) { x.number(); })); // bit 64
    QVERIFY(refused(QByteArray::fromHex("8000"), [](auto &x) { x.number(); })); // 0 in two bytes
    QVERIFY(!refused(QByteArray::fromHex("8001"), [](auto &x) { QCOMPARE(x.number(), quint64(128)); }));
    QVERIFY(refused(QByteArray::fromHex("0561"), [](auto &x) { QVERIFY(x.text().isEmpty()); }));
    QVERIFY(refused(QByteArray::fromHex("ffffffff0f00"), [](auto &x) { QVERIFY(x.texts().isEmpty()); }));
    QVERIFY(refused(QByteArray::fromHex("0400000000"), [](auto &x) { x.count(2); })); // 4 x 2 > 4 bytes
    QVERIFY(!refused(QByteArray::fromHex("0400000000"), [](auto &x) { QCOMPARE(x.count(1), quint64(4)); }));
    QVERIFY(refused(QByteArray::fromHex("02fffe"), [](auto &x) { x.text(); })); // not UTF-8
    QVERIFY(refused(QByteArray::fromHex("03eda080"), [](auto &x) { x.text(); })); // a surrogate in UTF-8
    QVERIFY(refused(QByteArray::fromHex("0a"), [](auto &x) { QCOMPARE(x.bounded(0, 4), 0); }));
    QVERIFY(refused(QByteArray::fromHex("02"), [](auto &x) { x.flag(); }));

    // A lone surrogate (a damaged name from elsewhere) is written as U+FFFD, never dropped.
    QByteArray lone;
    store::CompactWriter(lone).text(QString(QStringLiteral("ab") + QChar(0xd83d)));
    QVERIFY(!refused(lone, [](auto &x) { QCOMPARE(x.text(), QStringLiteral("ab") + QChar(0xfffd)); }));

    // A cached row whose certificate count its bytes could not hold is refused (count() refuses such a
    // count before a list is reserved for it: the count(2) case above shows that part).
    QByteArray header;
    store::CompactWriter h(header);
    h.signedNumber(0); // kind
    h.text({});
    h.flag(false);
    h.flag(false);
    h.text({});
    h.signedNumber(-1);
    h.number(0); // capabilities
    h.number(1000); // certificates, in a row of a few hundred bytes
    QVERIFY(!SqliteAnalysisCache::decode(header + QByteArray(300, char(0))).has_value());
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

// The stored snapshot of StoredDirectory: rows keep the order of their first read, a read again
// replaces the data in place, an uncommitted read leaves nothing, a full read drops what it did not see.
void TestStateStore::storedDirectoryMergesAndRollsBack()
{
    QTemporaryDir dir;
    auto store = StateStore::open(dir.filePath(QStringLiteral("certsync.db")));
    QVERIFY(store.ok());
    directory::ConnectionProfile profile = ldapProfile();
    auto user = [](const QString &name, const QByteArray &value) {
        directory::DirectoryUser u;
        u.dn = QStringLiteral("uid=%1,dc=example").arg(name);
        u.mail = name + QStringLiteral("@example.test");
        u.changed = QDateTime(QDate(2026, 11, 28), QTime(9, 0), Qt::UTC);
        u.userCertificate = { value };
        return u;
    };
    const auto decoded =
        directory::decodeStoredUser(directory::encodeStoredUser(user(QStringLiteral("a"), "x")));
    QVERIFY(decoded);
    QCOMPARE(decoded->mail, QStringLiteral("a@example.test"));
    QCOMPARE(decoded->changed, user(QStringLiteral("a"), "x").changed);
    QCOMPARE(decoded->userCertificate, QList<QByteArray> { "x" });
    QVERIFY(!directory::decodeStoredUser("garbage"));

    auto trust = certs::TrustStore::load({});
    QVERIFY(trust.ok());
    const certs::ValueAnalyzer analyzer(*trust, certs::CertificateJudge(certs::JudgePolicy()), nullptr);
    auto order = [&](directory::StoredDirectory &stored) {
        QStringList seen;
        auto n =
            stored.forEachUser(analyzer, QDateTime::currentDateTimeUtc(), [&](directory::DirectoryUser &&u) {
                seen.append(u.mail.section(QLatin1Char('@'), 0, 0)
                            + QString::fromLatin1(u.userCertificate.value(0)));
                return true;
            });
        return n.ok() ? seen : QStringList { QStringLiteral("error") };
    };
    directory::ReadMark mark;
    mark.kind = profile.kind;
    mark.server = profile.url;
    mark.csn = QStringLiteral("20261128090000.000000Z#000000#000#000000");

    directory::StoredDirectory stored(**store, profile);
    QString why;
    QVERIFY(!stored.mark(&why));
    QVERIFY(why.contains(QStringLiteral("no stored snapshot")));
    QVERIFY(stored.begin(true).ok());
    QVERIFY(stored.store({ user(QStringLiteral("c"), "1"), user(QStringLiteral("a"), "1") }).ok());
    QVERIFY(stored.store({ user(QStringLiteral("b"), "1") }).ok());
    QVERIFY(stored.commit(mark).ok());
    QCOMPARE(stored.mark(&why)->csn, mark.csn);
    QCOMPARE(order(stored),
             (QStringList { QStringLiteral("c1"), QStringLiteral("a1"), QStringLiteral("b1") }));

    // Incremental: a changed user keeps its place, a new one comes last.
    QVERIFY(stored.begin(false).ok());
    QVERIFY(stored.store({ user(QStringLiteral("d"), "1"), user(QStringLiteral("c"), "2") }).ok());
    QVERIFY(stored.commit(mark).ok());
    QCOMPARE(order(stored),
             (QStringList { QStringLiteral("c2"), QStringLiteral("a1"), QStringLiteral("b1"),
                            QStringLiteral("d1") }));

    // A read that fails keeps nothing of itself.
    QVERIFY(stored.begin(true).ok());
    QVERIFY(stored.store({ user(QStringLiteral("z"), "9") }).ok());
    stored.rollback();
    QCOMPARE(order(stored).size(), 4);

    // A full read keeps only what it saw (deleted users go).
    QVERIFY(stored.begin(true).ok());
    QVERIFY(stored.store({ user(QStringLiteral("a"), "3") }).ok());
    QVERIFY(stored.commit(mark).ok());
    QCOMPARE(order(stored), QStringList { QStringLiteral("a3") });

    // A full read takes the directory's order and writes only what changed: the same directory read
    // again changes no row.
    QVERIFY(stored.begin(true).ok());
    QVERIFY(stored
                .store({ user(QStringLiteral("e"), "1"), user(QStringLiteral("a"), "3"),
                         user(QStringLiteral("f"), "1") })
                .ok());
    QVERIFY(stored.commit(mark).ok());
    QCOMPARE(order(stored),
             (QStringList { QStringLiteral("e1"), QStringLiteral("a3"), QStringLiteral("f1") }));
    QSqlQuery changes((*store)->database());
    QVERIFY(stored.begin(true).ok());
    const qint64 before = totalChanges(changes);
    QVERIFY(stored
                .store({ user(QStringLiteral("e"), "1"), user(QStringLiteral("a"), "3"),
                         user(QStringLiteral("f"), "1") })
                .ok());
    QCOMPARE(totalChanges(changes), before);
    QVERIFY(stored.commit(mark).ok());
    QVERIFY(stored.begin(true).ok());
    QVERIFY(stored.store({ user(QStringLiteral("f"), "2"), user(QStringLiteral("e"), "1") }).ok());
    QVERIFY(stored.commit(mark).ok());
    QCOMPARE(order(stored), (QStringList { QStringLiteral("f2"), QStringLiteral("e1") }));

    // Rows are keyed by the source anchor: a user renamed or moved (another DN, the same anchor)
    // replaces its row in place on an incremental read; the DN keys only a user without an anchor.
    auto anchored = [&user](const QString &name, const QByteArray &value, const QString &anchor) {
        directory::DirectoryUser u = user(name, value);
        u.sourceAnchor = anchor;
        return u;
    };
    QCOMPARE(directory::storedRowKey(anchored(QStringLiteral("g"), "1", QStringLiteral("0f1e"))),
             QStringLiteral("anchor:0f1e"));
    QCOMPARE(directory::storedRowKey(user(QStringLiteral("G"), "1")), QStringLiteral("dn:uid=g,dc=example"));
    QVERIFY(stored.begin(true).ok());
    QVERIFY(stored
                .store({ anchored(QStringLiteral("g"), "1", QStringLiteral("0f1e")),
                         user(QStringLiteral("e"), "1") })
                .ok());
    QVERIFY(stored.commit(mark).ok());
    QVERIFY(stored.begin(false).ok());
    QVERIFY(stored.store({ anchored(QStringLiteral("h"), "2", QStringLiteral("0f1e")) }).ok());
    QVERIFY(stored.commit(mark).ok());
    QCOMPARE(order(stored), (QStringList { QStringLiteral("h2"), QStringLiteral("e1") }));

    // Another filter is another snapshot.
    profile.filter = QStringLiteral("(uid=a)");
    directory::StoredDirectory other(**store, profile);
    QVERIFY(!other.mark(&why));
    QCOMPARE(order(other), QStringList());
}

// A first full read into a database without users, when its caller asks, is written with a rollback
// journal (each new page once, into the database) if no other connection has the database open;
// otherwise, and for every later read, through the WAL. What is on disk when the process dies mid-read (the
// database file and its hot journal, copied while the transaction holds them) opens as the database was
// before the read.
void TestStateStore::firstFillWritesOnceAndSurvivesACrash()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("certsync.db"));
    auto store = StateStore::open(path);
    QVERIFY(store.ok());
    const directory::ConnectionProfile profile = ldapProfile();
    const directory::ReadMark mark = readMarkOf(profile);
    constexpr auto writeAlone = directory::StoredDirectory::FirstFill::WriteAlone;
    QVERIFY((*store)->saveMark(QStringLiteral("before the read"), "{}").ok());
    auto journalMode = [&store] {
        QSqlQuery q((*store)->database());
        return q.exec(QStringLiteral("PRAGMA journal_mode")) && q.next() ? q.value(0).toString() : QString();
    };
    // 3,000 users of 4 KB each: 12 MB, six times SQLite's page cache, so pages reach the file mid-read.
    auto users = [](int from, int count) {
        QList<directory::DirectoryUser> list;
        for (int i = from; i < from + count; ++i) {
            directory::DirectoryUser u;
            u.dn = QStringLiteral("uid=u%1,dc=example").arg(i);
            u.userCertificate = { QByteArray(4000, char('a' + i % 26)) };
            list.append(u);
        }
        return list;
    };

    // Another connection open: the WAL stays.
    {
        auto other = StateStore::open(path);
        QVERIFY(other.ok());
        directory::StoredDirectory stored(**store, profile);
        QVERIFY(stored.begin(true, writeAlone).ok());
        QCOMPARE(journalMode(), QStringLiteral("wal"));
        stored.rollback();
    }
    // A cached analysis stored (by a run that stored no user): the analysing threads would look it
    // up through connections of their own, which cannot read a file held by a rollback journal's
    // writer: the WAL stays.
    {
        QSqlQuery cached((*store)->database());
        QVERIFY(cached.exec(QStringLiteral("INSERT INTO analysis_cache (sha256, format, data, created) "
                                           "VALUES (x'00', 5, x'00', '2026-12-03T00:00:00Z')")));
        directory::StoredDirectory stored(**store, profile);
        QVERIFY(stored.begin(true, writeAlone).ok());
        QCOMPARE(journalMode(), QStringLiteral("wal"));
        stored.rollback();
        QVERIFY(cached.exec(QStringLiteral("DELETE FROM analysis_cache")));
    }
    // Not asked for (the console): the WAL stays.
    {
        directory::StoredDirectory stored(**store, profile);
        QVERIFY(stored.begin(true).ok());
        QCOMPARE(journalMode(), QStringLiteral("wal"));
        stored.rollback();
    }

    // Written alone and rolled back: back in WAL mode.
    {
        directory::StoredDirectory stored(**store, profile);
        QVERIFY(stored.begin(true, writeAlone).ok());
        QCOMPARE(journalMode(), QStringLiteral("delete"));
        QVERIFY(stored.store(users(0, 10)).ok());
        stored.rollback();
        QCOMPARE(journalMode(), QStringLiteral("wal"));
    }
    // A database this process did not make (opened again, as empty as before): the WAL stays.
    {
        const QString again = dir.filePath(QStringLiteral("again.db"));
        QVERIFY(StateStore::open(again).ok());
        auto reopened = StateStore::open(again);
        QVERIFY(reopened.ok());
        directory::StoredDirectory stored(**reopened, profile);
        QVERIFY(stored.begin(true, writeAlone).ok());
        QSqlQuery q((*reopened)->database());
        QVERIFY(q.exec(QStringLiteral("PRAGMA journal_mode")) && q.next());
        QCOMPARE(q.value(0).toString(), QStringLiteral("wal"));
        stored.rollback();
    }

    const qint64 sizeBefore = QFileInfo(path).size();
    {
        // Its pages written behind meanwhile (WriteBehind), through the connection's own descriptor.
        QLoggingCategory::setFilterRules(QStringLiteral("certsync.store.debug=true"));
        const auto rules = qScopeGuard([] { QLoggingCategory::setFilterRules(QString()); });
        QTest::ignoreMessage(
            QtDebugMsg,
            QRegularExpression(QStringLiteral("state database .* written with a rollback journal")));
        QTest::ignoreMessage(QtDebugMsg,
                             QRegularExpression(QStringLiteral(
                                 "^write-behind of .*certsync\\.db\" ended after \\d+ write-outs asked$")));
        directory::StoredDirectory stored(**store, profile);
        QVERIFY(stored.begin(true, writeAlone).ok());
        QCOMPARE(journalMode(), QStringLiteral("delete"));
        QVERIFY(stored.store(users(0, 3000)).ok());
        QVERIFY2(!QFileInfo::exists(path + QStringLiteral("-wal")), "the first fill went through the WAL");
        QVERIFY2(QFileInfo(path).size() > sizeBefore + 4 * 1024 * 1024, "no page reached the database yet");
        QVERIFY(QFileInfo::exists(path + QStringLiteral("-journal")));
        // Another process that opens the database now cannot put it in WAL mode (after its busy
        // timeout) and is told why.
        auto meanwhile = StateStore::open(path);
        QVERIFY(!meanwhile.ok());
        QVERIFY2(meanwhile.error().message.contains(QStringLiteral("is being filled by another certsync")),
                 qPrintable(meanwhile.error().message));
        // The crash: what is on disk now, opened by the next process.
        const QString crashed = dir.filePath(QStringLiteral("crashed.db"));
        QVERIFY(QFile::copy(path, crashed));
        QVERIFY(QFile::copy(path + QStringLiteral("-journal"), crashed + QStringLiteral("-journal")));
        {
            auto after = StateStore::open(crashed);
            QVERIFY2(after.ok(), qPrintable(after.ok() ? QString() : after.error().message));
            QCOMPARE((*after)->lastRowSeq(directory::storedDirectoryKey(profile)).value(), 0);
            QCOMPARE((*after)->mark(QStringLiteral("before the read")), QByteArray("{}"));
            QSqlQuery check((*after)->database());
            QVERIFY(check.exec(QStringLiteral("PRAGMA integrity_check")) && check.next());
            QCOMPARE(check.value(0).toString(), QStringLiteral("ok"));
            QVERIFY(check.exec(QStringLiteral("PRAGMA journal_mode")) && check.next());
            QCOMPARE(check.value(0).toString(), QStringLiteral("wal"));
        }
        QVERIFY(stored.commit(mark).ok());
        QCOMPARE(journalMode(), QStringLiteral("wal"));
        QVERIFY(!QFileInfo::exists(path + QStringLiteral("-journal")));
    }
    QCOMPARE((*store)->lastRowSeq(directory::storedDirectoryKey(profile)).value(), 3000);

    // Users stored: the next read (another source, too) goes through the WAL.
    directory::ConnectionProfile filtered = profile;
    filtered.filter = QStringLiteral("(uid=u1)");
    directory::StoredDirectory other(**store, filtered);
    QVERIFY(other.begin(true, writeAlone).ok());
    QCOMPARE(journalMode(), QStringLiteral("wal"));
    QVERIFY(other.store(users(1, 1)).ok());
    QVERIFY(other.commit(mark).ok());
}

// A stored report is reused strictly before the first instant at which judging its certificates again
// could give another time-based verdict: checked against the judge itself over a sweep of instants.
void TestStateStore::verdictsHoldUntilTheirFirstStep()
{
    const certs::CertificateJudge judge(certs::JudgePolicy {}); // 30 days' warning
    const int warningDays = judge.policy().warningDays;
    const QDateTime t0(QDate(2026, 11, 29), QTime(12, 0), Qt::UTC);
    auto valueWith = [](const QList<QPair<QDateTime, QDateTime>> &validity) {
        certs::AnalyzedValue value;
        for (const auto &[notBefore, notAfter] : validity) {
            certs::JudgedCertificate judged;
            judged.certificate.notBefore = notBefore;
            judged.certificate.notAfter = notAfter;
            value.certificates.append(judged);
        }
        return value;
    };
    const QList<QPair<QDateTime, QDateTime>> cases = {
        { t0.addDays(-100), t0.addDays(365) }, // good: the warning begins 30 days before the end
        { t0.addDays(-100), t0.addDays(10) }, // in the warning window: expires
        { t0.addDays(5), t0.addDays(400) }, // not yet valid
        { t0.addDays(-400), t0.addDays(-1) }, // expired: never changes again
    };
    const QList<qint64> expected = {
        t0.addDays(365 - warningDays).toMSecsSinceEpoch(),
        t0.addDays(10).toMSecsSinceEpoch(),
        t0.addDays(5).toMSecsSinceEpoch(),
        std::numeric_limits<qint64>::max(),
    };
    for (int i = 0; i < cases.size(); ++i) {
        const certs::AnalyzedValue value = valueWith({ cases.at(i) });
        const qint64 until = directory::verdictsHoldUntil({ value }, t0, warningDays);
        QCOMPARE(until, expected.at(i));
        const certs::Certificate &c = value.certificates.first().certificate;
        const auto verdict = [&](const QDateTime &at) { return judge.judgeTime(c, at).bits(); };
        // The same verdict at every hour before `until`, another one an hour after it.
        for (QDateTime at = t0; at.toMSecsSinceEpoch() < until && at < t0.addDays(500); at = at.addSecs(3600))
            QCOMPARE(verdict(at), verdict(t0));
        if (until != std::numeric_limits<qint64>::max()) {
            const QDateTime step = QDateTime::fromMSecsSinceEpoch(until, Qt::UTC);
            QCOMPARE(verdict(step.addMSecs(-1)), verdict(t0)); // the last instant it is reused
            QVERIFY(verdict(step.addSecs(3600)) != verdict(t0));
        }
    }
    // Several certificates: the earliest step of any of them.
    QCOMPARE(directory::verdictsHoldUntil(
                 { valueWith({ cases.at(0), cases.at(2) }), valueWith({ cases.at(3) }) }, t0, warningDays),
             expected.at(2));
    QCOMPARE(directory::verdictsHoldUntil({}, t0, warningDays), std::numeric_limits<qint64>::max());
}

// What the inventory stores of a user (UserReport) round-trips through the snapshot's rows, is read
// back from another thread, and is kept or dropped as the user's row is written again.
void TestStateStore::reportsAreStoredAndReadBack()
{
    const QDateTime t0(QDate(2026, 11, 29), QTime(12, 0), Qt::UTC);
    directory::UserReport report;
    report.context = QByteArray(32, 'c');
    report.from = t0.toMSecsSinceEpoch();
    report.until = t0.addDays(10).toMSecsSinceEpoch();
    report.rows = 2;
    report.certificates = 3;
    report.csv = "a,b\r\nc,d\r\n";
    const auto decoded = directory::UserReport::decode(report.encode(), report.csv);
    QVERIFY(decoded);
    QCOMPARE(decoded->context, report.context);
    QCOMPARE(decoded->until, report.until);
    QCOMPARE(decoded->rows, 2);
    QCOMPARE(decoded->certificates, 3);
    QCOMPARE(decoded->csv, report.csv);
    QVERIFY(!directory::UserReport::decode({}, report.csv));
    QVERIFY(!directory::UserReport::decode(report.encode().chopped(1), report.csv));
    QVERIFY(!directory::UserReport::decode(report.encode() + 'x', report.csv));
    // Holds only under the same context, from its judgement on, strictly before `until`.
    QVERIFY(report.holds(report.context, t0));
    QVERIFY(report.holds(report.context, t0.addDays(10).addMSecs(-1)));
    QVERIFY(!report.holds(report.context, t0.addDays(10)));
    QVERIFY(!report.holds(report.context, t0.addSecs(-1))); // a clock set back
    QVERIFY(!report.holds(QByteArray(32, 'd'), t0));

    // The stored form is compared without being made: any byte of difference is a change.
    directory::DirectoryUser user;
    user.dn = QStringLiteral("uid=a,dc=example");
    user.mail = QStringLiteral("a@example.test");
    user.proxyAddresses = { QStringLiteral("SMTP:a@example.test") };
    user.userCertificate = { QByteArray(1200, 'x'), QByteArray(900, 'y') };
    const QByteArray stored = directory::encodeStoredUser(user);
    QVERIFY(directory::matchesStoredUser(user, stored));
    QVERIFY(!directory::matchesStoredUser(user, stored.chopped(1)));
    QVERIFY(!directory::matchesStoredUser(user, stored + '\0'));
    QByteArray flipped = stored;
    flipped[flipped.size() - 100] = 'z';
    QVERIFY(!directory::matchesStoredUser(user, flipped));
    directory::DirectoryUser renamed = user;
    renamed.mail = QStringLiteral("b@example.test");
    QVERIFY(!directory::matchesStoredUser(renamed, stored));

    QTemporaryDir dir;
    auto store = StateStore::open(dir.filePath(QStringLiteral("certsync.db")));
    QVERIFY(store.ok());
    directory::ConnectionProfile profile = ldapProfile();
    directory::ReadMark mark;
    mark.kind = profile.kind;
    mark.server = profile.url;
    mark.csn = QStringLiteral("20261129120000.000000Z#000000#000#000000");
    directory::StoredDirectory snapshot(**store, profile);
    const directory::StoredUserReader reader(**store, profile);
    directory::DirectoryUser withReport = user;
    withReport.report = report;
    directory::DirectoryUser other = user;
    other.dn = QStringLiteral("uid=b,dc=example");
    QVERIFY(snapshot.begin(true).ok());
    QVERIFY(snapshot.store({ other, withReport }).ok());
    // Another thread reads the last committed snapshot only: nothing yet.
    auto readElsewhere = [&reader](qint64 first, qint64 count) {
        return onAnotherThread([&reader, first, count] { return reader.range(first, count); });
    };
    QVERIFY(readElsewhere(1, 2).isEmpty());
    QVERIFY(snapshot.commit(mark).ok());
    const auto rows = readElsewhere(1, 2);
    QCOMPARE(rows.size(), 2);
    const auto row = rows.value(directory::storedRowKey(user));
    QCOMPARE(row.seq, 2);
    QVERIFY(directory::matchesStoredUser(user, row.data));
    QVERIFY(row.reportCsv == report.csv);
    QVERIFY(directory::UserReport::decode(row.report, row.reportCsv));
    QVERIFY(rows.value(directory::storedRowKey(other)).report.isEmpty()); // made without a report
    QCOMPARE(readElsewhere(2, 1).size(), 1);
    const auto found =
        onAnotherThread([&reader, &user] { return reader.find(directory::storedRowKey(user)); });
    QVERIFY(found && found->seq == 2);
    QVERIFY(!onAnotherThread([&reader] { return reader.find(QStringLiteral("dn:uid=zz,dc=example")); }));

    // Written again without a report (a diff's read): the same data keeps its report, other data drops it.
    QVERIFY(snapshot.begin(true).ok());
    QVERIFY(snapshot.store({ other, user }).ok());
    QVERIFY(snapshot.commit(mark).ok());
    QVERIFY(readElsewhere(2, 1).value(directory::storedRowKey(user)).reportCsv == report.csv);
    QVERIFY(snapshot.begin(true).ok());
    QVERIFY(snapshot.store({ other, renamed }).ok());
    QVERIFY(snapshot.commit(mark).ok());
    const auto changed = readElsewhere(2, 1).value(directory::storedRowKey(user));
    QVERIFY(directory::matchesStoredUser(renamed, changed.data));
    QVERIFY(changed.report.isEmpty() && changed.reportCsv.isEmpty());

    // A user met unchanged in its place (its stored report reused) is not written at all.
    QVERIFY(snapshot.begin(true).ok());
    QVERIFY(snapshot.store({ other, withReport }).ok());
    QVERIFY(snapshot.commit(mark).ok());
    QSqlQuery changes((*store)->database());
    QVERIFY(snapshot.begin(true).ok());
    QVERIFY(changes.exec(QStringLiteral("SELECT total_changes()")) && changes.next());
    const qint64 before = changes.value(0).toLongLong();
    directory::DirectoryUser reused = renamed; // different data: proves the row is not even compared
    reused.report = report;
    reused.storedSeq = 2;
    QVERIFY(snapshot.store({ other, reused }).ok());
    QVERIFY(changes.exec(QStringLiteral("SELECT total_changes()")) && changes.next());
    QCOMPARE(changes.value(0).toLongLong(), before);
    QVERIFY(snapshot.commit(mark).ok());
    QVERIFY(
        directory::matchesStoredUser(user, readElsewhere(2, 1).value(directory::storedRowKey(user)).data));
}

// A long-lived thread that read one state database for a reader that is gone, and then reads another
// for a new reader, reads the new one (a reused thread-local slot once handed it the old connection).
void TestStateStore::threadReadersNeverMixDatabases()
{
    QTemporaryDir dir;
    const directory::ConnectionProfile profile = ldapProfile();
    directory::ReadMark mark;
    mark.kind = profile.kind;
    mark.server = profile.url;
    mark.csn = QStringLiteral("20261129120000.000000Z#000000#000#000000");
    auto storeWith = [&](const QString &file, const QString &dn) -> std::unique_ptr<StateStore> {
        auto store = StateStore::open(dir.filePath(file));
        if (!store.ok())
            return nullptr;
        directory::StoredDirectory snapshot(**store, profile);
        directory::DirectoryUser user;
        user.dn = dn;
        if (!snapshot.begin(true).ok() || !snapshot.store({ user }).ok() || !snapshot.commit(mark).ok())
            return nullptr;
        return std::move(*store);
    };
    const auto first = storeWith(QStringLiteral("first.db"), QStringLiteral("uid=first,dc=example"));
    const auto second = storeWith(QStringLiteral("second.db"), QStringLiteral("uid=second,dc=example"));
    QVERIFY(first && second);

    QThread worker;
    worker.start();
    QObject onWorker;
    onWorker.moveToThread(&worker);
    const auto cleanup = qScopeGuard([&] {
        worker.quit();
        worker.wait();
    });
    auto keysOn = [&onWorker](const directory::StoredUserReader &reader) {
        QStringList keys;
        QMetaObject::invokeMethod(
            &onWorker, [&] { keys = reader.range(1, 10).keys(); }, Qt::BlockingQueuedConnection);
        return keys;
    };
    {
        const directory::StoredUserReader reader(*first, profile);
        QCOMPARE(keysOn(reader), QStringList { QStringLiteral("dn:uid=first,dc=example") });
    }
    for (int i = 0; i < 3; ++i) {
        const directory::StoredUserReader reader(*second, profile);
        QCOMPARE(keysOn(reader), QStringList { QStringLiteral("dn:uid=second,dc=example") });
    }
    // The worker's connections to readers that are gone were closed on it as it opened the new ones.
    int open = 0;
    QMetaObject::invokeMethod(
        &onWorker,
        [&open] {
            for (const QString &name : QSqlDatabase::connectionNames())
                open += name.startsWith(QLatin1String("certsync-state-reader-")) ? 1 : 0;
        },
        Qt::BlockingQueuedConnection);
    QCOMPARE(open, 1);
}

// What the console's users table shows of each stored user is stored beside its row (UserSummary)
// and read back in the rows' order with nothing analysed. It follows its row: replaced with it,
// kept in place by an incremental read, moved and dropped by a full one, and gone when its row
// changes without one (a writer that did not analyse the user), so a stale one is never shown.
void TestStateStore::summariesFollowTheirRows()
{
    QTemporaryDir dir;
    const PkiAnalyzer pki(dir.path());
    QVERIFY(pki.analyzer);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const Issued good = TestPki::issue(goodLeafSpec(QStringLiteral("a@example.test")),
                                       StandardPki::instance().ecIntermediate);
    // a's certificate: b and d holding it are warned (its address is not theirs).
    auto user = [&](const QString &name, const QList<QByteArray> &values) {
        directory::DirectoryUser u;
        u.dn = QStringLiteral("uid=%1,dc=example").arg(name);
        u.mail = name + QStringLiteral("@example.test");
        u.displayName = name.toUpper();
        u.accountName = name;
        u.proxyAddresses = { QStringLiteral("SMTP:") + u.mail };
        u.userCertificate = values;
        u.values = pki.analyzer->analyzeUser(u.userCertificate, u.userSmimeCertificate, u.context(), now);
        return u;
    };
    auto shown = [](const directory::StoredDirectory &stored) {
        QStringList seen;
        auto n = stored.forEachSummary([&](directory::UserSummary &&s) {
            seen.append(QStringLiteral("%1:%2:%3")
                            .arg(s.identity.accountName, certs::statusName(s.status))
                            .arg(s.certificates));
            return true;
        });
        return n.ok() ? seen : QStringList { QStringLiteral("error: ") + n.error().message };
    };

    auto store = StateStore::open(dir.filePath(QStringLiteral("certsync.db")));
    QVERIFY(store.ok());
    const directory::ConnectionProfile profile = ldapProfile();
    const directory::ReadMark mark = readMarkOf(profile);
    directory::StoredDirectory stored(**store, profile);
    QVERIFY(stored.begin(true).ok());
    QVERIFY(stored
                .store({ user(QStringLiteral("a"), { good.der }),
                         user(QStringLiteral("b"), { "not a certificate" }), user(QStringLiteral("c"), {}) })
                .ok());
    QVERIFY(stored.commit(mark).ok());
    QVERIFY(stored.summariesComplete());
    QCOMPARE(
        shown(stored),
        (QStringList { QStringLiteral("a:ok:1"), QStringLiteral("b:error:0"), QStringLiteral("c:ok:0") }));

    // All the table, the search, the dashboard and the matching need, and no value.
    std::optional<directory::UserSummary> a;
    QVERIFY(stored
                .forEachSummary([&](directory::UserSummary &&s) {
                    a = std::move(s);
                    return false;
                })
                .ok());
    QVERIFY(a);
    QCOMPARE(a->identity.dn, QStringLiteral("uid=a,dc=example"));
    QCOMPARE(a->identity.mail, QStringLiteral("a@example.test"));
    QCOMPARE(a->identity.displayName, QStringLiteral("A"));
    QCOMPARE(a->identity.proxyAddresses, QStringList { QStringLiteral("SMTP:a@example.test") });
    QVERIFY(a->identity.userCertificate.isEmpty() && a->identity.values.isEmpty());
    const certs::Certificate leaf = // a copy: the user is a temporary
        user(QStringLiteral("a"), { good.der }).values.at(0).certificates.at(0).certificate;
    QCOMPARE(a->notAfters, QList<qint64> { leaf.notAfter.toMSecsSinceEpoch() });
    QCOMPARE(a->sha256, QList<QByteArray> { leaf.sha256 });
    QCOMPARE(a->invalidValues, 0);
    const auto b = directory::UserSummary::of(user(QStringLiteral("b"), { "not a certificate" }));
    QVERIFY(b);
    QCOMPARE(b->invalidValues, 1);
    // The encoded form is read back as it was written, and damage is refused.
    const QByteArray encoded = a->encode();
    const auto decoded = directory::UserSummary::decode(encoded);
    QVERIFY(decoded);
    QCOMPARE(decoded->encode(), encoded);
    QVERIFY(!directory::UserSummary::decode(encoded.chopped(1)));
    QVERIFY(!directory::UserSummary::decode(encoded + 'x'));
    QVERIFY(!directory::UserSummary::decode("garbage"));
    // A user whose values were not analysed (a reused report) has none to give.
    directory::DirectoryUser unanalysed = user(QStringLiteral("a"), { good.der });
    unanalysed.values.clear();
    QVERIFY(!directory::UserSummary::of(unanalysed));

    // The certificate pane's one query: the stored user with its values.
    auto values = stored.user(directory::storedRowKey(user(QStringLiteral("a"), {})));
    QVERIFY(values.ok());
    QCOMPARE(values->userCertificate, QList<QByteArray> { good.der });

    // Incremental: a changed user's summary is replaced in its place; a new one comes last.
    QVERIFY(stored.begin(false).ok());
    QVERIFY(stored.store({ user(QStringLiteral("d"), { good.der }), user(QStringLiteral("b"), { good.der }) })
                .ok());
    QVERIFY(stored.commit(mark).ok());
    QCOMPARE(shown(stored),
             (QStringList { QStringLiteral("a:ok:1"), QStringLiteral("b:warning:1"), QStringLiteral("c:ok:0"),
                            QStringLiteral("d:warning:1") }));

    // A row rewritten by a writer that did not analyse its user loses its summary: never a stale one.
    QVERIFY(stored.begin(false).ok());
    directory::DirectoryUser changed = user(QStringLiteral("a"), { "another value" });
    changed.values.clear();
    QVERIFY(stored.store({ changed }).ok());
    QVERIFY(stored.commit(mark).ok());
    QVERIFY(!stored.summariesComplete());
    QCOMPARE(shown(stored),
             (QStringList { QStringLiteral("b:warning:1"), QStringLiteral("c:ok:0"),
                            QStringLiteral("d:warning:1") }));

    // A full read: the summaries take the directory's order, the users gone take theirs along, and an
    // unchanged directory read again writes nothing.
    const QList<directory::DirectoryUser> again = { user(QStringLiteral("d"), { good.der }),
                                                    user(QStringLiteral("b"), { good.der }),
                                                    user(QStringLiteral("a"), { good.der }) };
    QVERIFY(stored.begin(true).ok());
    QVERIFY(stored.store(again).ok());
    QVERIFY(stored.commit(mark).ok());
    QVERIFY(stored.summariesComplete());
    QCOMPARE(shown(stored),
             (QStringList { QStringLiteral("d:warning:1"), QStringLiteral("b:warning:1"),
                            QStringLiteral("a:ok:1") }));
    QSqlQuery q((*store)->database());
    QVERIFY(q.exec(QStringLiteral("SELECT COUNT(*) FROM user_summaries")) && q.next());
    QCOMPARE(q.value(0).toInt(), 3);
    QVERIFY(stored.begin(true).ok());
    const qint64 before = totalChanges(q);
    QVERIFY(stored.store(again).ok());
    QCOMPARE(totalChanges(q), before);
    QVERIFY(stored.commit(mark).ok());

    // Another directory (here: another filter) has summaries of its own: none.
    directory::ConnectionProfile filtered = profile;
    filtered.filter = QStringLiteral("(uid=a)");
    const directory::StoredDirectory other(**store, filtered);
    QCOMPARE(shown(other), QStringList());
}

// The first read of a directory stores its rows by plain inserts (no statement journal); a key met
// twice in that read (two entries with one source anchor) is stored once, the later one kept, and
// the read still commits. The next full read of the same source stores by upsert: the two rows take
// their new places, and their summaries follow.
void TestStateStore::firstReadStoresAKeyMetTwice()
{
    QTemporaryDir dir;
    const PkiAnalyzer pki(dir.path());
    QVERIFY(pki.analyzer);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const Issued good = TestPki::issue(goodLeafSpec(QStringLiteral("a@example.test")),
                                       StandardPki::instance().ecIntermediate);
    auto user = [&](const QString &name, const QString &anchor, const QString &displayName) {
        directory::DirectoryUser u;
        u.dn = QStringLiteral("uid=%1,dc=example").arg(name);
        u.sourceAnchor = anchor;
        u.mail = name + QStringLiteral("@example.test");
        u.displayName = displayName;
        u.userCertificate = { good.der };
        u.values = pki.analyzer->analyzeUser(u.userCertificate, u.userSmimeCertificate, u.context(), now);
        return u;
    };
    const QList<directory::DirectoryUser> users = {
        user(QStringLiteral("a"), QStringLiteral("A1"), QStringLiteral("first")),
        user(QStringLiteral("b"), QStringLiteral("B1"), QStringLiteral("b")),
        user(QStringLiteral("a2"), QStringLiteral("A1"), QStringLiteral("second"))
    };
    auto store = StateStore::open(dir.filePath(QStringLiteral("certsync.db")));
    QVERIFY(store.ok());
    const directory::ConnectionProfile profile = ldapProfile();
    const directory::ReadMark mark = readMarkOf(profile);
    directory::StoredDirectory stored(**store, profile);
    QVERIFY(stored.begin(true).ok());
    const auto first = stored.store(users);
    QVERIFY2(first.ok(), first.ok() ? "" : qPrintable(first.error().message));
    QVERIFY(stored.commit(mark).ok());
    QVERIFY(stored.summariesComplete());
    const auto shownNames = [&stored] {
        QStringList names;
        auto n = stored.forEachSummary(
            [&](directory::UserSummary &&s) { return names << s.identity.displayName, true; });
        return n.ok() ? names : QStringList { QStringLiteral("error: ") + n.error().message };
    };
    QCOMPARE(shownNames(), (QStringList { QStringLiteral("b"), QStringLiteral("second") }));
    const auto kept = stored.user(QStringLiteral("anchor:A1"));
    QVERIFY(kept.ok());
    QCOMPARE(kept->dn, QStringLiteral("uid=a2,dc=example"));

    QSqlQuery q((*store)->database());
    const QList<directory::DirectoryUser> again = { users.at(1), users.at(2) };
    QVERIFY(stored.begin(true).ok());
    const qint64 before = totalChanges(q);
    QVERIFY(stored.store(again).ok());
    // b and a2 take the places 1 and 2 (they had 2 and 3), and their summaries follow
    QCOMPARE(totalChanges(q) - before, 4);
    QVERIFY(stored.commit(mark).ok());
    QCOMPARE(shownNames(), (QStringList { QStringLiteral("b"), QStringLiteral("second") }));
}

// Keys go into the rows through SQLite's C API and are found again by QtSql: the same text whatever
// the characters (accents, a pair of surrogates, even a lone one, which no directory sends).
void TestStateStore::rowKeysKeepEveryCharacter()
{
    QTemporaryDir dir;
    const PkiAnalyzer pki(dir.path());
    QVERIFY(pki.analyzer);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const Issued good = TestPki::issue(goodLeafSpec(QStringLiteral("a@example.test")),
                                       StandardPki::instance().ecIntermediate);
    const QString loneSurrogate =
        QStringLiteral("uid=broken") + QChar(0xd800) + QStringLiteral(",dc=example");
    const QStringList dns = { QStringLiteral("uid=Jürgen Groß,dc=example"),
                              QStringLiteral("uid=Zoë 😀,dc=example"), QStringLiteral("uid=ascii,dc=example"),
                              loneSurrogate };
    QList<directory::DirectoryUser> users;
    for (const QString &dn : dns) {
        directory::DirectoryUser u;
        u.dn = dn;
        u.userCertificate = { good.der };
        u.values = pki.analyzer->analyzeUser(u.userCertificate, u.userSmimeCertificate, u.context(), now);
        users << u;
    }
    users[1].sourceAnchor = QStringLiteral("ÄÖÜ-😀-anchor");
    auto store = StateStore::open(dir.filePath(QStringLiteral("certsync.db")));
    QVERIFY(store.ok());
    const directory::ConnectionProfile profile = ldapProfile();
    directory::StoredDirectory stored(**store, profile);
    QVERIFY(stored.begin(true).ok());
    QVERIFY(stored.store(users).ok());
    QVERIFY(stored.commit(readMarkOf(profile)).ok());

    QSqlQuery q((*store)->database());
    QVERIFY(q.exec(QStringLiteral("SELECT dn, typeof(dn) FROM directory_users ORDER BY seq")));
    QStringList keys;
    while (q.next()) {
        QCOMPARE(q.value(1).toString(), QStringLiteral("text"));
        keys << q.value(0).toString();
    }
    QCOMPARE(
        keys.mid(0, 3),
        (QStringList { QStringLiteral("dn:uid=jürgen groß,dc=example"), QStringLiteral("anchor:ÄÖÜ-😀-anchor"),
                       QStringLiteral("dn:uid=ascii,dc=example") }));
    QCOMPARE(keys.size(), 4);
    for (int i = 0; i < 4; ++i) {
        const auto found = stored.user(directory::storedRowKey(users.at(i)));
        QVERIFY2(found.ok(), qPrintable(keys.at(i)));
        QCOMPARE(found->dn, users.at(i).dn);
    }
    // Read again in full: every key matches its row, so nothing is written.
    QVERIFY(stored.begin(true).ok());
    const qint64 before = totalChanges(q);
    QVERIFY(stored.store(users).ok());
    QCOMPARE(totalChanges(q) - before, 0);
    QVERIFY(stored.commit(readMarkOf(profile)).ok());
}

// The per-row statements run on the store's own connection, inside its open transaction, and say
// which failures are a key met twice.
void TestStateStore::rowStatementsShareTheStoresConnection()
{
    QTemporaryDir dir;
    auto store = StateStore::open(dir.filePath(QStringLiteral("certsync.db")));
    QVERIFY(store.ok());
    QSqlDatabase db = (*store)->database();
    QSqlQuery q(db);
    QVERIFY(q.exec(QStringLiteral("CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB)")));
    const auto count = [&q] {
        return q.exec(QStringLiteral("SELECT COUNT(*) FROM t")) && q.next() ? q.value(0).toInt() : -1;
    };

    auto missing = SqliteStatement::prepare(db, "INSERT INTO no_such_table VALUES (1)");
    QVERIFY(!missing.ok());
    QVERIFY2(missing.error().message.contains(QStringLiteral("no such table: no_such_table")),
             qPrintable(missing.error().message));

    auto insert = SqliteStatement::prepare(db, "INSERT INTO t (k, v) VALUES (?1, ?2)");
    QVERIFY(insert.ok());
    QVERIFY(db.transaction());
    insert->bindText(1, u"null");
    insert->bindBlob(2, QByteArrayView());
    QVERIFY(insert->run());
    insert->bindText(1, u"empty");
    const QByteArray empty(""); // bound where it lies: kept until the statement has run
    insert->bindBlob(2, empty);
    QVERIFY(insert->run());
    insert->bindText(1, u"bytes");
    const QByteArray bytes = QByteArray::fromHex("0061ff");
    insert->bindBlob(2, bytes);
    QVERIFY(insert->run());
    QCOMPARE(count(), 3); // QtSql on the same connection sees the open transaction
    insert->bindText(1, u"bytes");
    QVERIFY(!insert->run());
    QVERIFY(insert->constraintFailed());
    QVERIFY2(insert->error().contains(QStringLiteral("UNIQUE constraint failed: t.k")),
             qPrintable(insert->error()));
    QVERIFY(q.exec(QStringLiteral("SELECT k, typeof(v), length(v), hex(v) FROM t ORDER BY rowid")));
    QStringList rows;
    while (q.next())
        rows << QStringLiteral("%1 %2 %3 %4")
                    .arg(q.value(0).toString(), q.value(1).toString(), q.value(2).toString(),
                         q.value(3).toString());
    QCOMPARE(rows,
             (QStringList { QStringLiteral("null null  "), QStringLiteral("empty blob 0 "),
                            QStringLiteral("bytes blob 3 0061FF") }));
    // A value that cannot be bound fails the run, not a row with the last row's value in its place.
    insert->bindText(1, u"unbound");
    insert->bindBlob(3, bytes); // the statement has two parameters
    QVERIFY(!insert->run());
    QVERIFY(!insert->constraintFailed());
    QVERIFY2(insert->error().contains(QStringLiteral("cannot bind a value")), qPrintable(insert->error()));
    // The statement is reset after a failure: the next row goes in.
    insert->bindText(1, u"after");
    insert->bindBlob(2, bytes);
    QVERIFY(insert->run());
    QVERIFY(db.rollback()); // the statement's rows were in the store's transaction
    QCOMPARE(count(), 0);

    auto notNull = SqliteStatement::prepare(db, "INSERT INTO t (k, v) VALUES (?1, json('{'))");
    QVERIFY(notNull.ok());
    notNull->bindText(1, u"malformed");
    QVERIFY(!notNull->run());
    QVERIFY(!notNull->constraintFailed()); // another failure, not a key met twice
    QVERIFY2(notNull->error().contains(QStringLiteral("malformed JSON")), qPrintable(notNull->error()));
}

// Analyses waiting to be written sit in shared blocks; each is found, written and read back as itself,
// also when two threads add them at once, when one is larger than a block, and across several blocks.
void TestStateStore::pendingAnalysesSpanBlocks()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("certsync.db"));
    auto store = StateStore::open(path);
    QVERIFY(store.ok());
    auto loaded = SqliteAnalysisCache::load(**store);
    QVERIFY(loaded.ok());
    SqliteAnalysisCache &cache = **loaded;
    const auto keyOf = [](int i) { return certs::sha256Of(QByteArray::number(i)); };
    const auto analysisOf = [](int i) {
        certs::CachedAnalysis a;
        a.kind = certs::ValueKind::Invalid;
        // 2 x 1,500 rows of 200-300 bytes: several blocks of pending rows
        a.error = QStringLiteral("value %1 ").arg(i).repeated(20 + i % 7);
        if (i == 777) // larger than a block on its own
            a.error = QStringLiteral("x").repeated(400 * 1024);
        return a;
    };
    // The store's thread takes and writes the rows while two threads add them: once when both have
    // added half of theirs (each then starts a new block), and as long as they go on.
    QSemaphore halfway, goOn;
    const auto addRange = [&](int from, int to) {
        const int half = (from + to) / 2;
        for (int i = from; i < half; ++i)
            cache.insert(keyOf(i), analysisOf(i));
        halfway.release();
        goOn.acquire();
        for (int i = half; i < to; ++i)
            cache.insert(keyOf(i), analysisOf(i));
    };
    QVERIFY((*store)->database().transaction());
    const std::unique_ptr<QThread> one(QThread::create(addRange, 0, 1500));
    const std::unique_ptr<QThread> two(QThread::create(addRange, 1500, 3000));
    one->start();
    two->start();
    halfway.acquire(2);
    QCOMPARE(cache.pending(), 1500);
    QVERIFY(cache.writeIntoTransaction().ok());
    QCOMPARE(cache.pending(), 0);
    goOn.release(2);
    while (!one->isFinished() || !two->isFinished()) {
        QVERIFY(cache.writeIntoTransaction().ok());
        QThread::msleep(1);
    }
    QVERIFY(one->wait(60000));
    QVERIFY(two->wait(60000));
    // A value met twice before its row is written: counted twice, written once, as first made.
    cache.insert(keyOf(3000), analysisOf(3000));
    cache.insert(keyOf(3000), analysisOf(3001));
    QVERIFY(cache.pending() >= 2);
    QVERIFY(cache.writeIntoTransaction().ok());
    QCOMPARE(cache.pending(), 0);
    QVERIFY((*store)->database().commit());
    cache.transactionEnded(true);
    const auto allFound = [&](SqliteAnalysisCache &c, const char *where) {
        for (int i = 0; i <= 3000; ++i) {
            const auto found = c.find(keyOf(i));
            if (!found || found->error != analysisOf(i).error) {
                qWarning("%s: analysis %d %s", where, i, found ? "differs" : "missing");
                return false;
            }
        }
        return true;
    };
    QVERIFY(allFound(cache, "written"));
    QVERIFY(onAnotherThread([&] { return allFound(cache, "written, from another thread"); }));
    loaded->reset();
    store->reset();
    auto reopened = StateStore::open(path);
    QVERIFY(reopened.ok());
    auto again = SqliteAnalysisCache::load(**reopened);
    QVERIFY(again.ok());
    QCOMPARE((*again)->size(), 3001);
    QVERIFY(allFound(**again, "reopened"));
}

// A thread that inserts into two caches in turn (two stores open in one process, as the console's
// read and its stored start can be) puts each row into its own cache's pending rows.
void TestStateStore::threadsInsertIntoTheirCache()
{
    QTemporaryDir dir;
    auto first = StateStore::open(dir.filePath(QStringLiteral("first.db")));
    auto second = StateStore::open(dir.filePath(QStringLiteral("second.db")));
    QVERIFY(first.ok() && second.ok());
    auto a = SqliteAnalysisCache::load(**first);
    auto b = SqliteAnalysisCache::load(**second);
    QVERIFY(a.ok() && b.ok());
    certs::CachedAnalysis analysis;
    analysis.kind = certs::ValueKind::Invalid;
    const auto keyOf = [](int i) { return certs::sha256Of(QByteArray::number(i)); };
    QVERIFY(onAnotherThread([&] {
        for (int i = 0; i < 200; ++i) {
            analysis.error = QString::number(i);
            (i % 2 ? **b : **a).insert(keyOf(i), analysis);
        }
        return true;
    }));
    QCOMPARE((*a)->pending(), 100);
    QCOMPARE((*b)->pending(), 100);
    QVERIFY((*a)->flush().ok());
    QVERIFY((*b)->flush().ok());
    for (int i = 0; i < 200; ++i) {
        SqliteAnalysisCache &mine = i % 2 ? **b : **a;
        SqliteAnalysisCache &other = i % 2 ? **a : **b;
        const auto found = mine.find(keyOf(i));
        QVERIFY2(found && found->error == QString::number(i), qPrintable(QString::number(i)));
        QVERIFY2(!other.find(keyOf(i)), qPrintable(QString::number(i)));
    }
}

// The write-behind thread asks for write-outs through the descriptor the writer has open (it opens
// and closes none of its own: closing one would drop the writer's locks), stops at once when told
// (not at the end of its interval), and does nothing for a file open nowhere, or open twice.
void TestStateStore::writeBehindAsksUntilStopped()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("big.db"));
    const auto descriptorsOpen = [&path] {
        int count = 0;
        const QFileInfo file(path);
        for (const QFileInfo &fd :
             QDir(QStringLiteral("/proc/self/fd")).entryInfoList(QDir::Files | QDir::System))
            count += fd.symLinkTarget() == file.canonicalFilePath();
        return count;
    };
    const WriteBehind none(path); // not even made yet
    QVERIFY(!none.running());
    QCOMPARE(none.requests(), 0);

    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    QCOMPARE(descriptorsOpen(), 1);
    {
        WriteBehind behind(path, 20);
        QVERIFY(behind.running());
        QCOMPARE(descriptorsOpen(), 1); // the writer's own
        const QByteArray chunk(1 << 20, 'x');
        for (int i = 0; i < 32; ++i) {
            QCOMPARE(file.write(chunk), chunk.size());
            QVERIFY(file.flush()); // into the page cache, dirty
            QThread::msleep(10);
        }
        QTRY_VERIFY_WITH_TIMEOUT(behind.requests() >= 3, 10000);
        QCOMPARE(descriptorsOpen(), 1);
    }
    // The writer's descriptor is still open and usable.
    QCOMPARE(descriptorsOpen(), 1);
    QCOMPARE(file.write("end"), 3);
    QVERIFY(file.flush());
    QCOMPARE(QFileInfo(path).size(), (qint64(32) << 20) + 3);

    QElapsedTimer stopping;
    {
        WriteBehind idle(path, 30000);
        QVERIFY(idle.running());
        QThread::msleep(200); // waiting for its next turn by now
        stopping.start();
    }
    QVERIFY2(stopping.elapsed() < 10000, "the thread waited out its interval");

    QFile second(path);
    QVERIFY(second.open(QIODevice::ReadOnly));
    const WriteBehind ambiguous(path);
    QVERIFY(!ambiguous.running());
}

// A read that cannot learn where the stored snapshot ends does not begin: taken for an empty source,
// it would store as if there were no rows and drop none of the users that are gone.
void TestStateStore::unreadableSnapshotFailsTheRead()
{
    QTemporaryDir dir;
    auto store = StateStore::open(dir.filePath(QStringLiteral("certsync.db")));
    QVERIFY(store.ok());
    QSqlQuery damage((*store)->database());
    QVERIFY(damage.exec(QStringLiteral("DROP TABLE directory_users")));
    const directory::ConnectionProfile profile = ldapProfile();
    QVERIFY(!(*store)->lastRowSeq(directory::storedDirectoryKey(profile)).ok());
    directory::StoredDirectory stored(**store, profile);
    const auto begun = stored.begin(true);
    QVERIFY(!begun.ok());
    QVERIFY2(begun.error().message.contains(QStringLiteral("cannot read the stored snapshot")),
             qPrintable(begun.error().message));
    QVERIFY(!(*store)->database().rollback()); // no transaction left open
}

// A database of an earlier schema version holding `users` as that version stored them: the rows (and
// from version 11 the summaries) written by today's code into another database, copied across with
// their source named by its text again (as up to version 11), and the read mark.
void storeAtVersion(const QString &path, int version, const directory::ConnectionProfile &profile,
                    const QList<directory::DirectoryUser> &users, const directory::ReadMark &mark)
{
    const QString today = path + QStringLiteral(".today");
    {
        auto store = StateStore::open(today);
        QVERIFY(store.ok());
        directory::StoredDirectory stored(**store, profile);
        QVERIFY(stored.begin(true).ok());
        QVERIFY(stored.store(users).ok());
        QVERIFY(stored.commit(mark).ok());
    }
    auto store = StateStore::openAtVersion(path, version);
    QVERIFY(store.ok());
    QCOMPARE((*store)->schemaVersion(), version);
    QSqlQuery q((*store)->database());
    q.prepare(QStringLiteral("ATTACH DATABASE ? AS today"));
    q.addBindValue(today);
    QVERIFY2(q.exec(), qPrintable(q.lastError().text()));
    QVERIFY2(q.exec(QStringLiteral(
                 "INSERT INTO directory_users (source, dn, seq, data, report, report_csv) SELECT s.key, "
                 "d.dn, d.seq, d.data, d.report, d.report_csv FROM today.directory_users d "
                 "JOIN today.sources s ON s.id = d.source")),
             qPrintable(q.lastError().text()));
    QCOMPARE(q.numRowsAffected(), users.size());
    if (version >= 11)
        QVERIFY2(q.exec(QStringLiteral("INSERT INTO user_summaries (source, dn, seq, summary) SELECT s.key, "
                                       "u.dn, u.seq, u.summary FROM today.user_summaries u "
                                       "JOIN today.sources s ON s.id = u.source")),
                 qPrintable(q.lastError().text()));
    QVERIFY2(q.exec(QStringLiteral("INSERT INTO directory_marks SELECT * FROM today.directory_marks")),
             qPrintable(q.lastError().text()));
    QVERIFY(q.exec(QStringLiteral("DETACH DATABASE today")));
}

// A database of schema version 10 (no summaries) opens, migrates, and its stored users are still
// there to be judged (the console's fallback) until the next read stores their summaries; one of
// version 11 keeps its rows and their summaries through the migration to numbered sources (12).
void TestStateStore::summariesMigrate()
{
    QFETCH(int, version);
    QTemporaryDir dir;
    const PkiAnalyzer pki(dir.path());
    QVERIFY(pki.analyzer);
    const QString path = dir.filePath(QStringLiteral("certsync.db"));
    const directory::ConnectionProfile profile = ldapProfile();
    const directory::ReadMark mark = readMarkOf(profile);
    const Issued good = TestPki::issue(goodLeafSpec(QStringLiteral("m@example.test")),
                                       StandardPki::instance().ecIntermediate);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QList<directory::DirectoryUser> users;
    for (const QString &name : { QStringLiteral("m"), QStringLiteral("n") }) {
        directory::DirectoryUser u;
        u.dn = QStringLiteral("uid=%1,dc=example").arg(name);
        u.mail = name + QStringLiteral("@example.test");
        u.userCertificate = { good.der };
        u.values = pki.analyzer->analyzeUser(u.userCertificate, u.userSmimeCertificate, u.context(), now);
        users.append(u);
    }
    storeAtVersion(path, version, profile, users, mark);
    if (QTest::currentTestFailed())
        return;
    auto store = StateStore::open(path);
    QVERIFY2(store.ok(), store.ok() ? "" : qPrintable(store.error().message));
    QCOMPARE((*store)->schemaVersion(), StateStore::latestSchemaVersion());
    QCOMPARE(StateStore::latestSchemaVersion(), 13); // 13 drops old cache rows only: nothing here changes
    directory::StoredDirectory stored(**store, profile);
    QString why;
    QVERIFY2(stored.mark(&why), qPrintable(why));
    // Version 10 has rows without summaries (the console judges them); 11 has both.
    QCOMPARE(stored.summariesComplete(), version >= 11);
    qint64 summaries = 0;
    QVERIFY(stored.forEachSummary([&](directory::UserSummary &&) { return ++summaries, true; }).ok());
    QCOMPARE(summaries, version >= 11 ? 2 : 0);
    QStringList judgedDns;
    auto judged = stored.forEachUser(*pki.analyzer, now, [&](directory::DirectoryUser &&u) {
        judgedDns << u.dn;
        return !u.values.isEmpty();
    });
    QVERIFY(judged.ok());
    QCOMPARE(*judged, 2);
    QCOMPARE(judgedDns,
             (QStringList { QStringLiteral("uid=m,dc=example"), QStringLiteral("uid=n,dc=example") }));
    QVERIFY(stored.user(directory::storedRowKey(users.at(1))).ok());
    // The next read stores them; the rows unchanged are not written again.
    QSqlQuery q((*store)->database());
    QVERIFY(stored.begin(true).ok());
    const qint64 before = totalChanges(q);
    QVERIFY(stored.store(users).ok());
    QCOMPARE(totalChanges(q) - before, version >= 11 ? 0 : 2); // version 10: the two summaries
    QVERIFY(stored.commit(mark).ok());
    QVERIFY(stored.summariesComplete());
    summaries = 0;
    QVERIFY(stored.forEachSummary([&](directory::UserSummary &&) { return ++summaries, true; }).ok());
    QCOMPARE(summaries, 2);
    QVERIFY(q.exec(QStringLiteral("SELECT COUNT(*) FROM sources")) && q.next());
    QCOMPARE(q.value(0).toInt(), 1);
}

void TestStateStore::summariesMigrate_data()
{
    QTest::addColumn<int>("version");
    QTest::newRow("from version 10") << 10;
    QTest::newRow("from version 11") << 11;
}

QTEST_GUILESS_MAIN(TestStateStore)
#include "tst_statestore.moc"
