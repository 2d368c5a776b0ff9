#include "ui/StagedPane.h"

#include "models/PlanModels.h"
#include "store/StateStore.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

namespace certsync::ui {

using namespace engine;

namespace {

QTableView *makeTable(QAbstractItemModel *model, const QString &name, const QString &accessible,
                      QWidget *parent)
{
    auto *view = new QTableView(parent);
    view->setObjectName(name);
    view->setAccessibleName(accessible);
    view->setModel(model);
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->verticalHeader()->hide();
    view->horizontalHeader()->setStretchLastSection(true);
    view->setWordWrap(false);
    return view;
}

} // namespace

StagedPane::StagedPane(QWidget *parent)
    : QWidget(parent)
    , m_plans(new models::PlansModel(this))
    , m_items(new models::PlanItemsModel(this))
    , m_banner(new QLabel(this))
    , m_allowDeletions(new QCheckBox(this))
    , m_comment(new QLineEdit(this))
    , m_publish(new QPushButton(tr("&Publish approved…"), this))
    , m_message(new QLabel(this))
{
    setObjectName(QStringLiteral("stagedPane"));
    m_plansView = makeTable(m_plans, QStringLiteral("plansTable"), tr("Staged plans"), this);
    m_plansView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_itemsView = makeTable(m_items, QStringLiteral("planItemsTable"), tr("Items of the plan"), this);
    m_itemsView->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_itemsView->horizontalHeader()->setSectionResizeMode(models::PlanItemsModel::Check,
                                                          QHeaderView::ResizeToContents);
    m_itemsView->horizontalHeader()->setSectionResizeMode(models::PlanItemsModel::Number,
                                                          QHeaderView::ResizeToContents);
    connect(m_plansView->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                if (const PlanSummary *plan = m_plans->plan(current.row()))
                    showPlan(plan->id);
            });

    m_banner->setObjectName(QStringLiteral("thresholdBanner"));
    m_banner->setWordWrap(true);
    m_banner->setFrameShape(QFrame::StyledPanel);
    m_banner->setContentsMargins(8, 6, 8, 6);
    m_allowDeletions->setObjectName(QStringLiteral("allowDeletions"));
    m_banner->hide();
    m_allowDeletions->hide();

    auto *approve = new QPushButton(tr("&Approve selected"), this);
    approve->setObjectName(QStringLiteral("approveSelected"));
    auto *reject = new QPushButton(tr("&Reject selected"), this);
    reject->setObjectName(QStringLiteral("rejectSelected"));
    auto *approveAll = new QPushButton(tr("Approve all &shown"), this);
    approveAll->setObjectName(QStringLiteral("approveAllShown"));
    m_publish->setObjectName(QStringLiteral("publishApproved"));
    m_comment->setObjectName(QStringLiteral("decisionComment"));
    m_comment->setPlaceholderText(tr("Comment for the audit trail (optional)"));
    m_comment->setAccessibleName(tr("Decision comment"));
    m_message->setObjectName(QStringLiteral("stagedMessage"));
    m_message->setWordWrap(true);
    connect(approve, &QPushButton::clicked, this, [this] { decide(Decision::Approved, false); });
    connect(reject, &QPushButton::clicked, this, [this] { decide(Decision::Rejected, false); });
    connect(approveAll, &QPushButton::clicked, this, [this] { decide(Decision::Approved, true); });
    connect(m_publish, &QPushButton::clicked, this, &StagedPane::confirmPublish);

    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_comment, 1);
    buttons->addWidget(approve);
    buttons->addWidget(reject);
    buttons->addWidget(approveAll);
    buttons->addWidget(m_publish);

    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(m_plansView);
    auto *itemsBox = new QWidget(this);
    auto *itemsLayout = new QVBoxLayout(itemsBox);
    itemsLayout->setContentsMargins(0, 0, 0, 0);
    itemsLayout->addWidget(m_banner);
    itemsLayout->addWidget(m_allowDeletions);
    itemsLayout->addWidget(m_itemsView, 1);
    itemsLayout->addLayout(buttons);
    itemsLayout->addWidget(m_message);
    splitter->addWidget(itemsBox);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 3);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(splitter);
}

StagedPane::~StagedPane() = default;

QString StagedPane::setStatePath(const QString &path)
{
    m_planStore.reset();
    auto opened = store::StateStore::open(path);
    if (!opened)
        return opened.error().message;
    m_store = std::move(opened).value();
    m_planStore = std::make_unique<PlanStore>(*m_store);
    refresh();
    return {};
}

void StagedPane::setDeletionThreshold(int threshold)
{
    m_threshold = threshold;
    if (m_planId)
        showPlan(m_planId);
}

void StagedPane::refresh()
{
    if (!m_planStore)
        return;
    const qint64 keep = m_planId;
    auto plans = m_planStore->plans();
    if (!plans) {
        m_message->setText(plans.error().message);
        return;
    }
    m_plans->setPlans(*plans);
    const int row = keep ? m_plans->rowOfPlan(keep) : 0;
    if (m_plans->rowCount() > 0)
        m_plansView->selectRow(std::max(0, row));
}

void StagedPane::showPlan(qint64 planId)
{
    m_planId = planId;
    auto items = m_planStore->items(planId);
    auto audit = m_planStore->auditRows(planId);
    auto summary = m_planStore->plan(planId);
    if (!items || !audit || !summary) {
        m_message->setText(!items       ? items.error().message
                               : !audit ? audit.error().message
                                        : summary.error().message);
        return;
    }
    QHash<int, QString> deciders; // the latest approve/reject per item
    for (const AuditRow &row : *audit)
        if (row.itemNumber > 0
            && (row.action == QLatin1String("approve") || row.action == QLatin1String("reject")))
            deciders.insert(row.itemNumber, row.who);
    m_items->setItems(*items, deciders);
    const bool overThreshold = summary->removedValues > m_threshold;
    m_banner->setVisible(overThreshold);
    m_allowDeletions->setVisible(overThreshold);
    if (overThreshold) {
        m_banner->setText(
            tr("⚠ This plan removes %1 values, more than the deletion threshold of %2. Entra Connect "
               "would stop here too. Publishing needs an explicit override, recorded in the audit trail.")
                .arg(summary->removedValues)
                .arg(m_threshold));
        m_allowDeletions->setText(tr("Allow %1 deletions in this publish").arg(summary->removedValues));
    }
    m_allowDeletions->setChecked(false);
    m_message->setText(
        summary->status == QLatin1String("stale")
            ? tr("Newer directory or tenant data has been read since this plan was made: publishing "
                 "re-checks every item against its target first.")
            : QString());
}

void StagedPane::decide(Decision decision, bool allShown)
{
    if (!m_planStore || !m_planId)
        return;
    QList<int> numbers;
    if (allShown) {
        for (int row = 0; row < m_items->rowCount(); ++row)
            numbers.append(m_items->item(row)->item.number);
    } else {
        numbers = m_items->checkedItemNumbers();
    }
    if (numbers.isEmpty()) {
        m_message->setText(tr("Tick the items to decide on first."));
        return;
    }
    auto changed =
        m_planStore->decide(m_planId, numbers, decision, PlanStore::currentOperator(), m_comment->text());
    if (!changed) {
        m_message->setText(changed.error().message);
        return;
    }
    m_message->setText(decision == Decision::Approved ? tr("%n item(s) approved.", nullptr, *changed)
                                                      : tr("%n item(s) rejected.", nullptr, *changed));
    m_items->setAllChecked(false);
    refresh();
}

void StagedPane::confirmPublish()
{
    if (!m_planStore || !m_planId)
        return;
    QHash<QString, int> perChannel;
    int approved = 0;
    for (int row = 0; row < m_items->rowCount(); ++row) {
        const StoredItem *item = m_items->item(row);
        if (item->decision == Decision::Approved && item->state != JournalState::Applied) {
            ++perChannel[channelName(item->item.channel)];
            ++approved;
        }
    }
    if (approved == 0) {
        m_message->setText(tr("Nothing approved to publish in plan %1.").arg(m_planId));
        return;
    }
    if (m_allowDeletions->isVisible() && !m_allowDeletions->isChecked()) {
        m_message->setText(tr("The plan is over the deletion threshold: tick the override to publish it."));
        return;
    }
    QStringList lines;
    for (const QString &channel :
         { QStringLiteral("exchange"), QStringLiteral("graph"), QStringLiteral("directory") })
        if (perChannel.value(channel))
            lines.append(tr("%1: %2 item(s)").arg(channel).arg(perChannel.value(channel)));
    auto *box = new QMessageBox(
        QMessageBox::Question, tr("Publish plan %1").arg(m_planId),
        tr("Publish %1 approved item(s)?\n\n%2").arg(approved).arg(lines.join(QLatin1Char('\n'))),
        QMessageBox::Yes | QMessageBox::Cancel, this);
    box->setObjectName(QStringLiteral("publishConfirmation"));
    box->setAttribute(Qt::WA_DeleteOnClose);
    const qint64 plan = m_planId;
    const bool allow = m_allowDeletions->isVisible() && m_allowDeletions->isChecked();
    connect(box, &QMessageBox::finished, this, [this, plan, allow](int result) {
        if (result == QMessageBox::Yes)
            emit publishRequested(plan, allow);
    });
    box->open();
}

} // namespace certsync::ui
