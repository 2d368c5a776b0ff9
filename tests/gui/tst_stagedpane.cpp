// Staged changes by click: tick two items' check boxes, approve them, reject another, see who decided,
// meet the deletion-threshold guard, and confirm a publish that states its counts per channel.
#include "ItemViewClicks.h"
#include "core/Operator.h"
#include "engine/PlanStore.h"
#include "models/PlanModels.h"
#include "store/StateStore.h"
#include "ui/StagedPane.h"

#include <QCheckBox>
#include <QCryptographicHash>
#include <QLabel>
#include <QLayout>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QStyle>
#include <QStyleOptionButton>
#include <QStyleOptionViewItem>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

using namespace certsync;
using namespace certsync::engine;

namespace {

Value value(const char *text, int days)
{
    Value v;
    v.bytes = QByteArray(text);
    v.sha256 = QCryptographicHash::hash(v.bytes, QCryptographicHash::Sha256);
    v.notAfter = QDateTime::currentDateTimeUtc().addDays(days);
    return v;
}

PlanItem item(const QString &user, Channel channel, QList<Value> oldValues, QList<Value> newValues)
{
    PlanItem i;
    i.userKey = QStringLiteral("CN=%1,DC=example,DC=test").arg(user);
    i.userLabel = user + QStringLiteral("@example.test");
    i.tenantObjectId = user + QStringLiteral("-id");
    i.channel = channel;
    i.attribute = ItemAttribute::UserCertificate;
    i.operation = channel == Channel::Directory ? Operation::RemoveValues : Operation::Replace;
    i.target = channel == Channel::Directory ? i.userKey : i.userLabel;
    i.recipientTypeDetails = QStringLiteral("MailUser");
    i.oldValues = oldValues;
    i.newValues = newValues;
    for (const Value &v : oldValues)
        if (std::none_of(newValues.cbegin(), newValues.cend(),
                         [&](const Value &n) { return n.sha256 == v.sha256; }))
            i.removed.append(v);
    for (const Value &v : newValues)
        if (std::none_of(oldValues.cbegin(), oldValues.cend(),
                         [&](const Value &o) { return o.sha256 == v.sha256; }))
            i.added.append(v);
    i.reasons = { QStringLiteral("expired") };
    return i;
}

} // namespace

class TestStagedPane : public QObject
{
    Q_OBJECT
private slots:
    void approveByClickAndPublish();
};

void TestStagedPane::approveByClickAndPublish()
{
    certsync::testing::setOperatorForTests(QStringLiteral("helpdesk-tester"));
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("certsync.db"));
    {
        auto store = store::StateStore::open(path);
        QVERIFY(store.ok());
        PlanStore plans(**store);
        DiffResult diff;
        diff.items = { item(QStringLiteral("alice"), Channel::Exchange,
                            { value("a-old", -3), value("a-new", 300) }, { value("a-new", 300) }),
                       item(QStringLiteral("bob"), Channel::Exchange, {}, { value("b", 200) }),
                       item(QStringLiteral("carol"), Channel::Directory,
                            { value("c1", -9), value("c2", -8), value("c3", 90) }, { value("c3", 90) }) };
        for (int i = 0; i < diff.items.size(); ++i)
            diff.items[i].number = i + 1;
        diff.removedValues = 3;
        diff.addedValues = 1;
        QVERIFY(plans.savePlan(diff, PlanSource {}, QStringLiteral("tester")).ok());
    }

    ui::StagedPane pane;
    pane.resize(1200, 700);
    pane.show();
    QVERIFY(QTest::qWaitForWindowExposed(&pane));
    QCOMPARE(pane.setStatePath(path), QString());
    auto *items = pane.findChild<QTableView *>(QStringLiteral("planItemsTable"));
    QTRY_COMPARE(items->model()->rowCount(), 3);
    QVERIFY(pane.currentPlan() > 0);

    testing::clickCheckBox(items, 0, models::PlanItemsModel::Check);
    testing::clickCheckBox(items, 1, models::PlanItemsModel::Check);
    QCOMPARE(pane.itemsModel()->checkedItemNumbers(), (QList<int> { 1, 2 }));
    QTest::mouseClick(pane.findChild<QPushButton *>(QStringLiteral("approveSelected")), Qt::LeftButton);
    QTRY_COMPARE(items->model()->index(0, models::PlanItemsModel::Decision).data().toString(),
                 QStringLiteral("approved"));
    QCOMPARE(items->model()->index(1, models::PlanItemsModel::Decision).data().toString(),
             QStringLiteral("approved"));
    QCOMPARE(items->model()->index(2, models::PlanItemsModel::Decision).data().toString(),
             QStringLiteral("pending"));
    QCOMPARE(items->model()->index(0, models::PlanItemsModel::Approver).data().toString(),
             QStringLiteral("helpdesk-tester"));
    QVERIFY(pane.itemsModel()->checkedItemNumbers().isEmpty());

    testing::clickCheckBox(items, 2, models::PlanItemsModel::Check);
    QTest::mouseClick(pane.findChild<QPushButton *>(QStringLiteral("rejectSelected")), Qt::LeftButton);
    QTRY_COMPARE(items->model()->index(2, models::PlanItemsModel::Decision).data().toString(),
                 QStringLiteral("rejected"));

    // The deletion threshold: over it, publishing needs the explicit override.
    pane.setDeletionThreshold(1);
    auto *banner = pane.findChild<QLabel *>(QStringLiteral("thresholdBanner"));
    QVERIFY(banner->isVisible());
    QVERIFY2(banner->text().contains(QStringLiteral("removes 3 values")), qPrintable(banner->text()));
    QSignalSpy publish(&pane, &ui::StagedPane::publishRequested);
    auto *publishButton = pane.findChild<QPushButton *>(QStringLiteral("publishApproved"));
    QTest::mouseClick(publishButton, Qt::LeftButton);
    QVERIFY(pane.findChild<QMessageBox *>(QStringLiteral("publishConfirmation")) == nullptr);
    QVERIFY(pane.findChild<QLabel *>(QStringLiteral("stagedMessage"))
                ->text()
                .contains(QStringLiteral("override")));
    auto *allow = pane.findChild<QCheckBox *>(QStringLiteral("allowDeletions"));
    QVERIFY(allow->isVisible());
    allow->parentWidget()->layout()->activate(); // laid out, as it is by the time a person can click it
    QStyleOptionButton boxOption;
    boxOption.initFrom(allow);
    const QRect indicator = allow->style()->subElementRect(QStyle::SE_CheckBoxIndicator, &boxOption, allow);
    QTest::mouseClick(allow, Qt::LeftButton, {}, indicator.center());
    QVERIFY(allow->isChecked());
    QTest::mouseClick(publishButton, Qt::LeftButton);
    QMessageBox *confirm = nullptr;
    QTRY_VERIFY((confirm = pane.findChild<QMessageBox *>(QStringLiteral("publishConfirmation"))) != nullptr);
    QVERIFY2(confirm->text().contains(QStringLiteral("Publish 2 approved item(s)")),
             qPrintable(confirm->text()));
    QVERIFY(confirm->text().contains(QStringLiteral("exchange: 2 item(s)")));
    QVERIFY(!confirm->text().contains(QStringLiteral("directory")));
    QTest::mouseClick(confirm->button(QMessageBox::Yes), Qt::LeftButton);
    QTRY_COMPARE(publish.count(), 1);
    QCOMPARE(publish.first().at(0).toLongLong(), pane.currentPlan());
    QCOMPARE(publish.first().at(1).toBool(), true);
}

QTEST_MAIN(TestStagedPane)
#include "tst_stagedpane.moc"
