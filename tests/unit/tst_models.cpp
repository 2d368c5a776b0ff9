// The console's models: each under QAbstractItemModelTester, proxies with data-driven filters.
#include "TestPki.h"
#include "models/CertificateTreeModel.h"
#include "models/LogModel.h"
#include "models/UserFilterProxy.h"
#include "models/UsersModel.h"

#include <QAbstractItemModelTester>
#include <QCryptographicHash>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using namespace certsync;
using namespace certsync::certs;
using namespace certsync::models;
using namespace certsync::testing;

class TestModels : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void usersModel();
    void usersModelKeepsLookedUpUsers();
    void usersFilter_data();
    void usersFilter();
    void usersSortsOnRawValues();
    void usersProxyMatchesReference_data();
    void usersProxyMatchesReference();
    void usersProxyNarrowsAndWidens();
    void usersProxyKeepsTheSelectedUser();
    void usersProxyFollowsSourceChanges();
    void certificateTree();
    void certificateTreeMarksDifferences();
    void logModelAndFilter_data();
    void logModelAndFilter();
    void logCapacity();

private:
    directory::DirectoryUser makeUser(const QString &name, const QList<QByteArray> &userCertificate,
                                      const QList<QByteArray> &smime);
    QTemporaryDir m_dir;
    std::optional<TrustStore> m_trust;
    std::unique_ptr<ValueAnalyzer> m_analyzer;
    std::shared_ptr<directory::DirectorySnapshot> m_snapshot;
    QDateTime m_now;
    QByteArray m_aliceCert;
    std::shared_ptr<directory::DirectorySnapshot> m_crowd; // 90 users: ties, shared fingerprints, case
};

namespace {

// What the users pane must show, computed the plain way: every row tested, then a stable sort on
// the model's SortRole values (ties in snapshot order).
QList<int> expectedRows(const UsersModel &model, const QString &text, const QList<int> &hidden, int column,
                        Qt::SortOrder order)
{
    const QString needle = text.trimmed().toCaseFolded();
    QString hex = needle;
    hex.remove(QLatin1Char(':')).remove(QLatin1Char(' '));
    const bool isHex =
        hex.size() >= 4 && QRegularExpression(QStringLiteral("^[0-9a-f]+$")).match(hex).hasMatch();
    QList<int> rows;
    for (int row = 0; row < model.rowCount(); ++row) {
        const UsersModel::Row &r = model.row(row);
        if (hidden.contains(int(r.status)))
            continue;
        bool match = needle.isEmpty() || r.searchText.contains(needle);
        for (const QByteArray &sha256 : r.sha256)
            match = match || (isHex && QString::fromLatin1(sha256.toHex()).startsWith(hex));
        if (match)
            rows.append(row);
    }
    if (column >= 0)
        std::stable_sort(rows.begin(), rows.end(), [&](int a, int b) {
            const QPartialOrdering c = QVariant::compare(model.index(a, column).data(UsersModel::SortRole),
                                                         model.index(b, column).data(UsersModel::SortRole));
            return order == Qt::AscendingOrder ? c == QPartialOrdering::Less : c == QPartialOrdering::Greater;
        });
    return rows;
}

// The proxy's rows as source rows, checking the mapping both ways on the way.
QList<int> shownRows(const UserFilterProxy &proxy, const UsersModel &model)
{
    QList<int> rows;
    for (int row = 0; row < proxy.rowCount(); ++row) {
        const QModelIndex shown = proxy.index(row, UsersModel::Mail);
        const QModelIndex source = proxy.mapToSource(shown);
        if (source.model() != &model || source.column() != UsersModel::Mail
            || proxy.mapFromSource(source) != shown || shown.data() != source.data())
            return { -1 - row }; // a broken mapping: no list of rows can equal this one
        rows.append(source.row());
    }
    // Every source row that is not shown maps to nothing.
    for (int row = 0; row < model.rowCount(); ++row)
        if (!rows.contains(row) && proxy.mapFromSource(model.index(row, 0)).isValid())
            return { -1000 - row };
    return rows;
}

} // namespace

directory::DirectoryUser TestModels::makeUser(const QString &name, const QList<QByteArray> &userCertificate,
                                              const QList<QByteArray> &smime)
{
    directory::DirectoryUser user;
    user.dn = QStringLiteral("CN=%1,CN=Users,DC=example,DC=test").arg(name);
    user.displayName = name;
    user.accountName = name.toLower();
    user.mail = name.toLower() + QStringLiteral("@example.test");
    user.userPrincipalName = name.toLower() + QStringLiteral("@corp.example.test");
    user.userCertificate = userCertificate;
    user.userSmimeCertificate = smime;
    user.values = m_analyzer->analyzeUser(userCertificate, smime, user.context(), m_now);
    return user;
}

void TestModels::initTestCase()
{
    const StandardPki &pki = StandardPki::instance();
    const QString anchors = m_dir.filePath(QStringLiteral("anchors.pem"));
    QVERIFY(TestPki::writeFile(anchors, TestPki::pemOf({ &pki.root, &pki.intermediate })));
    TrustSettings settings;
    settings.bundleFiles = { anchors };
    m_trust.emplace(std::move(TrustStore::load(settings).value()));
    m_analyzer = std::make_unique<ValueAnalyzer>(*m_trust, CertificateJudge());
    m_now = QDateTime::currentDateTimeUtc();

    auto leaf = [&](const QString &mail, int days) {
        CertSpec spec = goodLeafSpec(mail);
        spec.notAfterDays = days;
        if (days < 0)
            spec.notBeforeDays = days - 365;
        return TestPki::issue(spec, pki.intermediate);
    };
    const Issued alice = leaf(QStringLiteral("alice@example.test"), 200);
    m_aliceCert = alice.der;
    const Issued aliceOld = leaf(QStringLiteral("alice@example.test"), -5);
    const Issued bob = leaf(QStringLiteral("bob@example.test"), 10);
    m_snapshot = std::make_shared<directory::DirectorySnapshot>();
    m_snapshot->complete = true;
    m_snapshot->users = {
        makeUser(QStringLiteral("Alice"), { alice.der, aliceOld.der },
                 { TestPki::pkcs7Signed(alice, { &pki.intermediate }) }),
        makeUser(QStringLiteral("Bob"), { bob.der }, {}),
        makeUser(QStringLiteral("Carol"), {}, {}),
        makeUser(QStringLiteral("Dave"), { QByteArray("garbage") }, {}),
    };
    // The four users' certificates again under 90 names: many equal sort keys, fingerprints shared
    // by many users, names that differ only in case and letters beyond ASCII.
    const QStringList surnames = {
        QStringLiteral("Nowak"), QStringLiteral("Müller"), QStringLiteral("rossi"),
        QStringLiteral("ROSSI"), QStringLiteral("Smith"),  QStringLiteral("Øster")
    };
    m_crowd = std::make_shared<directory::DirectorySnapshot>();
    m_crowd->complete = true;
    for (int i = 0; i < 90; ++i) {
        directory::DirectoryUser user = m_snapshot->users.at((i * 7) % 4);
        const QString id = QStringLiteral("u%1").arg((i * 37) % 90, 3, 10, QLatin1Char('0'));
        user.displayName = surnames.at(i % surnames.size()) + QLatin1Char(' ') + id;
        user.accountName = id;
        user.dn = QStringLiteral("CN=%1,DC=example,DC=test").arg(id);
        user.mail = i % 5 == 0 ? QString() : id + QStringLiteral("@example.test");
        user.userPrincipalName = id + QStringLiteral("@corp.example.test");
        m_crowd->users.append(user);
    }
}

void TestModels::usersModel()
{
    UsersModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setSnapshot(m_snapshot, m_now);
    QCOMPARE(model.rowCount(), 4);
    QCOMPARE(model.columnCount(), int(UsersModel::ColumnCount));
    QCOMPARE(model.index(0, UsersModel::DisplayName).data().toString(), QStringLiteral("Alice"));
    QCOMPARE(model.index(0, UsersModel::Certificates).data().toInt(), 3); // two x509 + the user's in the bag
    QCOMPARE(model.index(0, UsersModel::Status).data(UsersModel::StatusRole).toInt(),
             int(Status::Error)); // expired one
    QCOMPARE(model.index(0, UsersModel::Status).data().toString(), QStringLiteral("Error"));
    QVERIFY(!model.index(0, UsersModel::Status).data(Qt::DecorationRole).value<QIcon>().isNull());
    // Soonest expiry is the first unexpired one: about 200 days ahead, not the expired one.
    const qint64 soonest = model.index(0, UsersModel::SoonestExpiry).data(UsersModel::SortRole).toLongLong();
    QVERIFY(qAbs(QDateTime::fromMSecsSinceEpoch(soonest, Qt::UTC).daysTo(m_now.addDays(200))) <= 1);
    QCOMPARE(model.index(1, UsersModel::Status).data(UsersModel::StatusRole).toInt(), int(Status::Warning));
    QCOMPARE(model.index(2, UsersModel::Certificates).data().toInt(), 0);
    QCOMPARE(model.index(2, UsersModel::Status).data(UsersModel::StatusRole).toInt(), int(Status::Ok));
    QCOMPARE(model.index(3, UsersModel::Status).data(UsersModel::StatusRole).toInt(),
             int(Status::Error)); // parse_error
    QCOMPARE(model.index(2, UsersModel::Tenant).data().toString(), QStringLiteral("not read"));
    // The status is the first column; the verdict's yes/no is a column.
    QCOMPARE(int(UsersModel::Status), 0);
    QCOMPARE(model.headerData(0, Qt::Horizontal).toString(), QStringLiteral("Status"));
    QCOMPARE(model.headerData(UsersModel::CanEncrypt, Qt::Horizontal).toString(),
             QStringLiteral("Can encrypt"));
    auto canEncrypt = [&] {
        QStringList answers;
        for (int row = 0; row < model.rowCount(); ++row)
            answers << model.index(row, UsersModel::CanEncrypt).data().toString();
        return answers.join(QLatin1Char(' '));
    };
    // Before the tenant is read, Outlook's pick among the directory values: Alice's
    // userSMIMECertificate, Bob's one certificate; Carol has none, Dave's does not parse.
    QCOMPARE(canEncrypt(), QStringLiteral("yes yes no no"));
    QVERIFY(model.index(0, UsersModel::CanEncrypt)
                .data(Qt::ToolTipRole)
                .toString()
                .contains(QStringLiteral("Exchange Online: not judged")));
    QVERIFY(model.index(2, UsersModel::CanEncrypt)
                .data(Qt::ToolTipRole)
                .toString()
                .contains(QStringLiteral("no_certificate")));
    QVERIFY(model.columnHasValues(UsersModel::UserPrincipalName));

    // Exchange Online's path: Alice's published certificate does not do (no), Bob's does.
    model.setTenantMatches({ { m_snapshot->users.at(0).dn, TenantMatch::Cloud },
                             { m_snapshot->users.at(1).dn, TenantMatch::Synced } },
                           { { m_snapshot->users.at(0).dn, false }, { m_snapshot->users.at(1).dn, true } });
    QCOMPARE(model.index(0, UsersModel::Tenant).data().toString(), QStringLiteral("cloud"));
    QCOMPARE(model.index(1, UsersModel::Tenant).data().toString(), QStringLiteral("synced"));
    QCOMPARE(model.index(2, UsersModel::Tenant).data().toString(), QStringLiteral("unmatched"));
    QCOMPARE(canEncrypt(), QStringLiteral("no yes no no"));
    QVERIFY(model.index(0, UsersModel::CanEncrypt)
                .data(Qt::ToolTipRole)
                .toString()
                .contains(QStringLiteral("Directory (Outlook's pick): yes; Exchange Online: no.")));
    // Sorting by it: the noes first (in the snapshot's order), then yes by the directory only, then
    // yes on both paths.
    UserFilterProxy sorted;
    sorted.setSourceModel(&model);
    sorted.sort(UsersModel::CanEncrypt, Qt::AscendingOrder);
    QStringList order;
    for (int row = 0; row < sorted.rowCount(); ++row)
        order << sorted.index(row, UsersModel::DisplayName).data().toString();
    QCOMPARE(order,
             QStringList({ QStringLiteral("Alice"), QStringLiteral("Carol"), QStringLiteral("Dave"),
                           QStringLiteral("Bob") }));
    // OpenLDAP users have no UPN: the column has no values (the pane hides it).
    auto noUpn = std::make_shared<directory::DirectorySnapshot>(*m_snapshot);
    for (directory::DirectoryUser &user : noUpn->users)
        user.userPrincipalName.clear();
    UsersModel ldap;
    ldap.setSnapshot(noUpn, m_now);
    QVERIFY(!ldap.columnHasValues(UsersModel::UserPrincipalName));
    QVERIFY(ldap.columnHasValues(UsersModel::Mail));
    QVERIFY(ldap.columnHasValues(UsersModel::Status));
    QCOMPARE(model.rowOfDn(m_snapshot->users.at(3).dn), 3);
    QCOMPARE(model.user(1)->displayName, QStringLiteral("Bob"));
    model.setSnapshot(nullptr, m_now);
    QCOMPARE(model.rowCount(), 0);
}

void TestModels::usersModelKeepsLookedUpUsers()
{
    UsersModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    UserFilterProxy proxy;
    proxy.setSourceModel(&model);
    // Before any read: a looked-up user is a row, never a snapshot (the diff reads the snapshot).
    directory::DirectoryUser erin = makeUser(QStringLiteral("Erin"), { m_aliceCert }, {});
    QCOMPARE(model.addLookedUp(erin, TenantMatch::Cloud, m_now), 0);
    QVERIFY(!model.snapshot());
    QVERIFY(model.isLookedUp(0));
    QCOMPARE(model.user(0)->displayName, QStringLiteral("Erin"));
    QCOMPARE(model.index(0, UsersModel::Tenant).data().toString(), QStringLiteral("cloud"));
    proxy.setSearchText(QStringLiteral("erin"));
    QCOMPARE(proxy.rowCount(), 1);
    proxy.setSearchText(QString());

    // A read that does not hold Erin keeps her after its users, with her own tenant column.
    model.setSnapshot(m_snapshot, m_now);
    model.setTenantMatches({ { m_snapshot->users.at(0).dn, TenantMatch::Synced } });
    QCOMPARE(model.rowCount(), 5);
    QCOMPARE(model.rowOfDn(erin.dn), 4);
    QVERIFY(model.isLookedUp(4) && !model.isLookedUp(3));
    QCOMPARE(model.user(4)->displayName, QStringLiteral("Erin"));
    QCOMPARE(model.index(4, UsersModel::Tenant).data().toString(), QStringLiteral("cloud"));
    QCOMPARE(model.snapshot()->users.size(), 4);
    // Looking a loaded user up again gives its row; looking Erin up again replaces her row, and the
    // read's users keep their tenant column.
    QCOMPARE(model.addLookedUp(m_snapshot->users.at(1), TenantMatch::Cloud, m_now), 1);
    erin.displayName = QStringLiteral("Erin Again");
    QCOMPARE(model.addLookedUp(erin, TenantMatch::Synced, m_now), 4);
    QCOMPARE(model.rowCount(), 5);
    QCOMPARE(model.index(4, UsersModel::DisplayName).data().toString(), QStringLiteral("Erin Again"));
    QCOMPARE(model.index(0, UsersModel::Tenant).data().toString(), QStringLiteral("synced"));
    QCOMPARE(model.index(1, UsersModel::Tenant).data().toString(), QStringLiteral("unmatched"));
    proxy.setSearchText(QStringLiteral("again"));
    QCOMPARE(proxy.rowCount(), 1);
    QCOMPARE(proxy.mapToSource(proxy.index(0, 0)).row(), 4);

    // A read that holds her takes her row over.
    auto withErin = std::make_shared<directory::DirectorySnapshot>(*m_snapshot);
    withErin->users.append(erin);
    model.setSnapshot(withErin, m_now);
    QCOMPARE(model.rowCount(), 5);
    QVERIFY(!model.isLookedUp(4));
    QCOMPARE(model.user(4), &withErin->users.at(4));
}

void TestModels::usersFilter_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QList<int>>("hiddenStatuses");
    QTest::addColumn<QStringList>("expected");
    const QList<int> none;
    QTest::newRow("everyone") << QString() << none
                              << QStringList { QStringLiteral("Alice"), QStringLiteral("Bob"),
                                               QStringLiteral("Carol"), QStringLiteral("Dave") };
    QTest::newRow("name, any case") << QStringLiteral("aLi") << none
                                    << QStringList { QStringLiteral("Alice") };
    QTest::newRow("UPN") << QStringLiteral("bob@corp") << none << QStringList { QStringLiteral("Bob") };
    QTest::newRow("mail domain") << QStringLiteral("@example.test") << none
                                 << QStringList { QStringLiteral("Alice"), QStringLiteral("Bob"),
                                                  QStringLiteral("Carol"), QStringLiteral("Dave") };
    QTest::newRow("nobody") << QStringLiteral("zed") << none << QStringList {};
    QTest::newRow("errors hidden") << QString() << QList<int> { int(Status::Error) }
                                   << QStringList { QStringLiteral("Bob"), QStringLiteral("Carol") };
    QTest::newRow("only errors") << QString() << QList<int> { int(Status::Ok), int(Status::Warning) }
                                 << QStringList { QStringLiteral("Alice"), QStringLiteral("Dave") };
    QTest::newRow("text and chips") << QStringLiteral("o") << QList<int> { int(Status::Error) }
                                    << QStringList { QStringLiteral("Bob"), QStringLiteral("Carol") };
}

void TestModels::usersFilter()
{
    QFETCH(QString, text);
    QFETCH(QList<int>, hiddenStatuses);
    QFETCH(QStringList, expected);
    UsersModel model;
    model.setSnapshot(m_snapshot, m_now);
    UserFilterProxy proxy;
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setSourceModel(&model);
    proxy.setSearchText(text);
    for (int status : hiddenStatuses)
        proxy.setStatusShown(Status(status), false);
    proxy.sort(UsersModel::DisplayName);
    QStringList shown;
    for (int row = 0; row < proxy.rowCount(); ++row)
        shown.append(proxy.index(row, UsersModel::DisplayName).data().toString());
    QCOMPARE(shown, expected);
}

void TestModels::usersSortsOnRawValues()
{
    UsersModel model;
    model.setSnapshot(m_snapshot, m_now);
    UserFilterProxy proxy;
    proxy.setSourceModel(&model);
    // By fingerprint prefix: Alice's current certificate, typed with colons as a viewer shows it.
    const QString hex =
        QString::fromLatin1(QCryptographicHash::hash(m_aliceCert, QCryptographicHash::Sha256).toHex());
    proxy.setSearchText(hex.left(2) + QLatin1Char(':') + hex.mid(2, 2) + QLatin1Char(':')
                        + hex.mid(4, 4).toUpper());
    QCOMPARE(proxy.rowCount(), 1);
    QCOMPARE(proxy.index(0, UsersModel::DisplayName).data().toString(), QStringLiteral("Alice"));
    proxy.setSearchText({});
    // Certificates sort as numbers (3, 1, 0, 0), not as text; status by rank.
    proxy.sort(UsersModel::Certificates, Qt::DescendingOrder);
    QCOMPARE(proxy.index(0, UsersModel::DisplayName).data().toString(), QStringLiteral("Alice"));
    QCOMPARE(proxy.index(1, UsersModel::DisplayName).data().toString(), QStringLiteral("Bob"));
    proxy.sort(UsersModel::Status, Qt::AscendingOrder);
    QCOMPARE(proxy.index(0, UsersModel::DisplayName).data().toString(), QStringLiteral("Carol"));
    QCOMPARE(proxy.index(1, UsersModel::DisplayName).data().toString(), QStringLiteral("Bob"));
}

void TestModels::usersProxyMatchesReference_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QList<int>>("hidden");
    const QString hex =
        QString::fromLatin1(QCryptographicHash::hash(m_aliceCert, QCryptographicHash::Sha256).toHex());
    const QList<int> none;
    const QList<int> errors { int(Status::Error) };
    const QList<int> warnings { int(Status::Warning) };
    const QList<int> onlyErrors { int(Status::Ok), int(Status::Warning) };
    for (int column = -1; column < UsersModel::ColumnCount; ++column) {
        for (const Qt::SortOrder order : { Qt::AscendingOrder, Qt::DescendingOrder }) {
            const QByteArray name = QByteArray::number(column) + (order == Qt::AscendingOrder ? "+" : "-");
            QTest::addRow("%s everyone", name.constData()) << QString() << none;
            QTest::addRow("%s text", name.constData()) << QStringLiteral("ross") << none;
            QTest::addRow("%s text, case folded", name.constData()) << QStringLiteral("MÜLLER U0") << none;
            QTest::addRow("%s text, errors hidden", name.constData()) << QStringLiteral("u0") << errors;
            QTest::addRow("%s only errors", name.constData()) << QString() << onlyErrors;
            QTest::addRow("%s fingerprint", name.constData()) << hex.left(6).toUpper() << none;
            QTest::addRow("%s fingerprint with colons, warnings hidden", name.constData()) << hex.left(2)
                    + QLatin1Char(':') + hex.mid(2, 2) + QLatin1Char(':') + hex.mid(4, 2) << warnings;
            QTest::addRow("%s nobody", name.constData()) << QStringLiteral("zzz") << none;
        }
    }
}

void TestModels::usersProxyMatchesReference()
{
    QFETCH(QString, text);
    QFETCH(QList<int>, hidden);
    const QString tag = QString::fromLatin1(QTest::currentDataTag());
    const int column = tag.section(QLatin1Char(' '), 0, 0).chopped(1).toInt();
    const Qt::SortOrder order = tag.section(QLatin1Char(' '), 0, 0).endsWith(QLatin1Char('+'))
        ? Qt::AscendingOrder
        : Qt::DescendingOrder;
    UsersModel model;
    model.setSnapshot(m_crowd, m_now);
    model.setTenantMatches({ { m_crowd->users.at(1).dn, TenantMatch::Cloud },
                             { m_crowd->users.at(2).dn, TenantMatch::Synced } });
    UserFilterProxy proxy;
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setSourceModel(&model);
    // Sort first and filter after, then the other way round: both must give the reference.
    proxy.sort(column, order);
    proxy.setSearchText(text);
    for (const int status : hidden)
        proxy.setStatusShown(Status(status), false);
    const QList<int> expected = expectedRows(model, text, hidden, column, order);
    QCOMPARE(shownRows(proxy, model), expected);
    if (!text.isEmpty() && text != QLatin1String("zzz"))
        QVERIFY(!expected.isEmpty()); // the case tests something
    UserFilterProxy filterFirst;
    filterFirst.setSourceModel(&model);
    filterFirst.setSearchText(text);
    for (const int status : hidden)
        filterFirst.setStatusShown(Status(status), false);
    filterFirst.sort(column, order);
    QCOMPARE(shownRows(filterFirst, model), expected);
    QCOMPARE(filterFirst.headerData(UsersModel::Mail, Qt::Horizontal).toString(), QStringLiteral("Mail"));
}

void TestModels::usersProxyNarrowsAndWidens()
{
    UsersModel model;
    model.setSnapshot(m_crowd, m_now);
    UserFilterProxy proxy;
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setSourceModel(&model);
    proxy.sort(UsersModel::DisplayName, Qt::DescendingOrder);
    // Typed, a typo corrected, a chip toggled in between, deleted, then replaced: each step as the
    // plain filter says, whatever the proxy kept from the step before.
    const QStringList steps = { QStringLiteral("r"),        QStringLiteral("ro"),
                                QStringLiteral("ros"),      QStringLiteral("rosx"),
                                QStringLiteral("ros"),      QStringLiteral("ross"),
                                QStringLiteral("rossi"),    QStringLiteral("rossi "),
                                QStringLiteral("rossi u0"), QStringLiteral("rossi u03"),
                                QStringLiteral("rossi u0"), QStringLiteral("rossi"),
                                QStringLiteral("ro"),       QStringLiteral("o"),
                                QStringLiteral("øst"),      QString(),
                                QStringLiteral("U0"),       QStringLiteral("u01") };
    QList<int> hidden;
    for (qsizetype i = 0; i < steps.size(); ++i) {
        proxy.setSearchText(steps.at(i));
        if (i == 5) { // warnings hidden from here to the end of "ro"
            proxy.setStatusShown(Status::Warning, false);
            hidden = { int(Status::Warning) };
        }
        if (i == 12) {
            proxy.setStatusShown(Status::Warning, true);
            hidden.clear();
        }
        const QList<int> expected =
            expectedRows(model, steps.at(i), hidden, UsersModel::DisplayName, Qt::DescendingOrder);
        QCOMPARE(shownRows(proxy, model), expected);
        if (i == 3)
            QVERIFY(expected.isEmpty()); // the typo matches nobody
        else
            QVERIFY2(!expected.isEmpty(), qPrintable(steps.at(i)));
    }
}

void TestModels::usersProxyKeepsTheSelectedUser()
{
    UsersModel model;
    model.setSnapshot(m_crowd, m_now);
    UserFilterProxy proxy;
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setSourceModel(&model);
    proxy.sort(UsersModel::DisplayName);
    const int user = model.rowOfDn(QStringLiteral("CN=u031,DC=example,DC=test"));
    QVERIFY(user >= 0);
    const QPersistentModelIndex selected =
        proxy.mapFromSource(model.index(user, UsersModel::UserPrincipalName));
    QVERIFY(selected.isValid());
    // Filtering and sorting move the row; the persistent index follows its user.
    for (const QString &text :
         { QStringLiteral("u0"), QStringLiteral("u03"), QStringLiteral("u031"), QString() }) {
        proxy.setSearchText(text);
        QVERIFY(selected.isValid());
        QCOMPARE(proxy.mapToSource(selected).row(), user);
        QCOMPARE(selected.column(), int(UsersModel::UserPrincipalName));
    }
    proxy.sort(UsersModel::Mail, Qt::DescendingOrder);
    QCOMPARE(proxy.mapToSource(selected).row(), user);
    proxy.setSearchText(QStringLiteral("u032")); // hides the user: the index goes
    QVERIFY(!selected.isValid());
}

void TestModels::usersProxyFollowsSourceChanges()
{
    UsersModel model;
    model.setSnapshot(m_crowd, m_now);
    UserFilterProxy proxy;
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setSourceModel(&model);
    proxy.sort(UsersModel::Tenant, Qt::DescendingOrder);
    proxy.setSearchText(QStringLiteral("u0"));
    QCOMPARE(shownRows(proxy, model),
             expectedRows(model, QStringLiteral("u0"), {}, UsersModel::Tenant, Qt::DescendingOrder));
    // The tenant read changes the sort column's values: the proxy sorts again.
    QHash<QString, TenantMatch> matches;
    for (int i = 0; i < m_crowd->users.size(); i += 3)
        matches.insert(m_crowd->users.at(i).dn, i % 2 ? TenantMatch::Cloud : TenantMatch::Synced);
    model.setTenantMatches(matches);
    const QList<int> expected =
        expectedRows(model, QStringLiteral("u0"), {}, UsersModel::Tenant, Qt::DescendingOrder);
    QCOMPARE(shownRows(proxy, model), expected);
    QCOMPARE(proxy.index(0, UsersModel::Tenant).data().toString(), QStringLiteral("cloud"));
    // A new snapshot: the text keeps filtering, over the new rows.
    proxy.setSearchText(QStringLiteral("@E"));
    QCOMPARE(proxy.rowCount(), 72); // one in five has no mail
    model.setSnapshot(m_snapshot, m_now);
    QCOMPARE(shownRows(proxy, model),
             expectedRows(model, QStringLiteral("@e"), {}, UsersModel::Tenant, Qt::DescendingOrder));
    QCOMPARE(proxy.rowCount(), 4);
    model.setSnapshot(m_crowd, m_now);
    QCOMPARE(shownRows(proxy, model),
             expectedRows(model, QStringLiteral("@e"), {}, UsersModel::Tenant, Qt::DescendingOrder));
    QCOMPARE(proxy.rowCount(), 72);
    // The model goes first (as in the window's destructor): the proxy forgets it, shows nothing.
    auto *gone = new UsersModel;
    gone->setSnapshot(m_crowd, m_now);
    UserFilterProxy orphan;
    orphan.setSourceModel(gone);
    QCOMPARE(orphan.rowCount(), 90);
    delete gone;
    QCOMPARE(orphan.rowCount(), 0);
    QVERIFY(!orphan.index(0, 0).isValid());
    orphan.setSearchText(QStringLiteral("u0")); // and keeps working without one
    QCOMPARE(orphan.rowCount(), 0);
}

void TestModels::certificateTree()
{
    CertificateTreeModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setValues(m_snapshot->users.at(0).values);
    QCOMPARE(model.rowCount(), 2);
    const QModelIndex userCertificate = model.index(0, 0);
    const QModelIndex smime = model.index(1, 0);
    QCOMPARE(userCertificate.data().toString(), QStringLiteral("userCertificate (2 values)"));
    QCOMPARE(smime.data().toString(), QStringLiteral("userSMIMECertificate (1 value)"));
    QCOMPARE(model.rowCount(userCertificate), 2);
    const QModelIndex first = model.index(0, 0, userCertificate);
    QCOMPARE(model.nodeType(first), CertificateTreeModel::NodeType::Value);
    QVERIFY(first.data().toString().startsWith(QStringLiteral("#1 x509: CN=alice")));
    QCOMPARE(model.certificateAt(first)->certificate.der, m_aliceCert);
    // Its chain, leaf to root.
    QCOMPARE(model.rowCount(first), 3);
    QVERIFY(model.index(0, 0, first).data().toString().startsWith(QStringLiteral("leaf: ")));
    QCOMPARE(model.index(1, 0, first).data().toString(),
             QStringLiteral("issuer: CN=certsync Test Issuing CA,O=certsync tests"));
    QCOMPARE(model.index(2, 0, first).data().toString(),
             QStringLiteral("root (trust anchor): CN=certsync Test Root CA,O=certsync tests"));
    QCOMPARE(model.chainElementAt(model.index(2, 0, first))->isAnchor, true);
    const QModelIndex expired = model.index(1, CertificateTreeModel::StatusColumn, userCertificate);
    QCOMPARE(expired.data(CertificateTreeModel::StatusRole).toInt(), int(Status::Error));
    QCOMPARE(model.index(0, 0, smime).data().toString().left(9), QStringLiteral("#1 pkcs7:"));
    model.setValues(m_snapshot->users.at(3).values); // an invalid value has no chain
    const QModelIndex invalid = model.index(0, 0, model.index(0, 0));
    QVERIFY(invalid.data().toString().startsWith(QStringLiteral("#1 invalid: ")));
    QCOMPARE(model.rowCount(invalid), 0);
    QVERIFY(model.certificateAt(invalid) == nullptr);
}

void TestModels::certificateTreeMarksDifferences()
{
    CertificateTreeModel directorySide;
    QAbstractItemModelTester tester(&directorySide, QAbstractItemModelTester::FailureReportingMode::QtTest);
    directorySide.setValues(m_snapshot->users.at(0).values);
    QCOMPARE(directorySide.onlyHereCount(), 0); // no comparison yet
    // Microsoft 365 has only Alice's current certificate: the expired one is only in the directory.
    directorySide.setCounterpart({ QCryptographicHash::hash(m_aliceCert, QCryptographicHash::Sha256) });
    QCOMPARE(directorySide.onlyHereCount(), 1);
    const QModelIndex values = directorySide.index(0, 0);
    QCOMPARE(directorySide.index(0, 0, values).data(CertificateTreeModel::OnlyHereRole).toBool(), false);
    QCOMPARE(directorySide.index(1, 0, values).data(CertificateTreeModel::OnlyHereRole).toBool(), true);
    QVERIFY(directorySide.index(1, CertificateTreeModel::StatusColumn, values)
                .data()
                .toString()
                .endsWith(QStringLiteral("only here")));
    directorySide.setCounterpart({}, false);
    QCOMPARE(directorySide.onlyHereCount(), 0);
}

void TestModels::logModelAndFilter_data()
{
    QTest::addColumn<QList<int>>("hiddenLevels");
    QTest::addColumn<bool>("showDebug");
    QTest::addColumn<QString>("job");
    QTest::addColumn<QString>("text");
    QTest::addColumn<QStringList>("expected");
    QTest::newRow("default hides debug")
        << QList<int> {} << false << QString() << QString()
        << QStringList { QStringLiteral("read 20 users"), QStringLiteral("throttled"),
                         QStringLiteral("refused") };
    QTest::newRow("with debug") << QList<int> {} << true << QString() << QString()
                                << QStringList { QStringLiteral("page 1"), QStringLiteral("read 20 users"),
                                                 QStringLiteral("throttled"), QStringLiteral("refused") };
    QTest::newRow("errors only") << QList<int> { int(jobs::LogRecord::Level::Info),
                                                 int(jobs::LogRecord::Level::Warning) }
                                 << false << QString() << QString()
                                 << QStringList { QStringLiteral("refused") };
    QTest::newRow("one job") << QList<int> {} << false << QStringLiteral("publish") << QString()
                             << QStringList { QStringLiteral("throttled"), QStringLiteral("refused") };
    QTest::newRow("by request id") << QList<int> {} << false << QString() << QStringLiteral("REQ-42")
                                   << QStringList { QStringLiteral("refused") };
    QTest::newRow("by user") << QList<int> {} << false << QString() << QStringLiteral("bob@")
                             << QStringList { QStringLiteral("throttled") };
}

void TestModels::logModelAndFilter()
{
    QFETCH(QList<int>, hiddenLevels);
    QFETCH(bool, showDebug);
    QFETCH(QString, job);
    QFETCH(QString, text);
    QFETCH(QStringList, expected);
    LogModel model;
    LogFilterProxy proxy;
    QAbstractItemModelTester modelTester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setSourceModel(&model);
    using L = jobs::LogRecord::Level;
    auto record = [](L level, const char *jobName, const char *message, const char *user = "", int http = 0,
                     const char *requestId = "") {
        jobs::LogRecord r;
        r.time = QDateTime::currentDateTimeUtc();
        r.level = level;
        r.job = QString::fromLatin1(jobName);
        r.message = QString::fromLatin1(message);
        r.user = QString::fromLatin1(user);
        r.httpStatus = http;
        r.requestId = QString::fromLatin1(requestId);
        return r;
    };
    model.append(record(L::Debug, "directory read", "page 1"));
    model.append(record(L::Info, "directory read", "read 20 users"));
    model.append(record(L::Warning, "publish", "throttled", "bob@example.test", 429, "req-7"));
    model.append(record(L::Error, "publish", "refused", "carol@example.test", 400, "req-42"));
    QCOMPARE(model.jobNames(), (QStringList { QStringLiteral("directory read"), QStringLiteral("publish") }));
    proxy.setLevelShown(L::Debug, showDebug);
    for (int level : hiddenLevels)
        proxy.setLevelShown(L(level), false);
    proxy.setJob(job);
    proxy.setText(text);
    QStringList shown;
    for (int row = 0; row < proxy.rowCount(); ++row)
        shown.append(proxy.index(row, LogModel::Message).data().toString());
    QCOMPARE(shown, expected);
    const QString details = LogModel::describe(model.record(3));
    QVERIFY(details.contains(QStringLiteral("HTTP status: 400")));
    QVERIFY(details.contains(QStringLiteral("Request id: req-42")));
    QCOMPARE(model.index(3, LogModel::HttpStatus).data().toInt(), 400);
}

void TestModels::logCapacity()
{
    LogModel model(nullptr, 3);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    for (int i = 0; i < 5; ++i) {
        jobs::LogRecord r;
        r.message = QString::number(i);
        model.append(r);
    }
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.index(0, LogModel::Message).data().toString(), QStringLiteral("2"));
    QCOMPARE(model.index(2, LogModel::Message).data().toString(), QStringLiteral("4"));
}

QTEST_MAIN(TestModels)
#include "tst_models.moc"
