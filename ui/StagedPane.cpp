#include "ui/StagedPane.h"
#include "core/Operator.h"

#include "jobs/TaskJob.h"
#include "models/PlanModels.h"
#include "store/StateStore.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPainter>
#include <QPushButton>
#include <QSplitter>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QVBoxLayout>

#include <map>

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

// Fusion draws an item's check box with an edge derived from the Window colour, which nearly
// vanishes against Base in a dark palette: an unticked box is then invisible. This delegate draws
// the edge again, half way from Base to Text, so that it stands out (at least 3:1, WCAG's
// non-text contrast) in light and dark palettes. Other styles draw their own indicators.
class CheckEdgeDelegate : public QStyledItemDelegate
{
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override
    {
        QStyledItemDelegate::paint(painter, option, index);
        QStyleOptionViewItem opt = option;
        initStyleOption(&opt, index);
        const QStyle *style = opt.widget ? opt.widget->style() : nullptr;
        if (!(opt.features & QStyleOptionViewItem::HasCheckIndicator) || !style
            || style->name().compare(QLatin1String("fusion"), Qt::CaseInsensitive) != 0)
            return;
        const QRect box = style->subElementRect(QStyle::SE_ItemViewItemCheckIndicator, &opt, opt.widget);
        const QColor base = opt.palette.color(QPalette::Base);
        const QColor text = opt.palette.color(QPalette::Text);
        const QColor edge((base.red() + text.red()) / 2, (base.green() + text.green()) / 2,
                          (base.blue() + text.blue()) / 2);
        painter->save();
        painter->setPen(edge);
        painter->setBrush(Qt::NoBrush);
        painter->drawRect(box.adjusted(0, 0, -1, -1)); // where Fusion draws its own edge
        painter->restore();
    }
};

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
    m_itemsView->setItemDelegateForColumn(models::PlanItemsModel::Check, new CheckEdgeDelegate(m_itemsView));
    m_itemsView->horizontalHeader()->setSectionResizeMode(models::PlanItemsModel::Check,
                                                          QHeaderView::ResizeToContents);
    m_itemsView->horizontalHeader()->setSectionResizeMode(models::PlanItemsModel::Number,
                                                          QHeaderView::ResizeToContents);
    // Wide enough for a UPN and a change summary: what a person reads first.
    m_itemsView->horizontalHeader()->resizeSection(models::PlanItemsModel::User, 240);
    m_itemsView->horizontalHeader()->resizeSection(models::PlanItemsModel::Attribute, 150);
    m_itemsView->horizontalHeader()->resizeSection(models::PlanItemsModel::Change, 170);
    m_itemsView->horizontalHeader()->resizeSection(models::PlanItemsModel::Expiry, 150);
    m_plansView->horizontalHeader()->resizeSection(models::PlansModel::Created, 170);
    connect(m_plansView->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                if (m_applying)
                    return;
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

StagedPane::~StagedPane()
{
    m_worker.cancelAll();
}

struct StagedPane::Loaded
{
    quint64 generation = 0;
    std::optional<QList<PlanSummary>> plans; // set when the list was read
    qint64 planId = 0;
    std::optional<PlanSummary> summary;
    QList<StoredItem> items;
    QHash<int, QString> deciders;
    QString message; // what a change reports ("2 item(s) approved.")
    QString error;
};

QString StagedPane::setStatePath(const QString &path)
{
    if (path.isEmpty())
        return tr("No state database is set.");
    m_path = path;
    m_planId = 0;
    refresh();
    return {};
}

void StagedPane::setDeletionThreshold(int threshold)
{
    m_threshold = threshold;
    showBanner();
}

void StagedPane::refresh(qint64 planId)
{
    load(planId ? planId : m_planId, true);
}

void StagedPane::showPlan(qint64 planId)
{
    m_planId = planId;
    load(planId, false);
}

void StagedPane::load(qint64 planId, bool withPlans,
                      std::function<QString(PlanStore &, QString &message)> change)
{
    if (m_path.isEmpty())
        return;
    auto out = std::make_shared<Loaded>();
    out->generation = ++m_generation;
    auto *job = new jobs::TaskJob(
        tr("read plans"),
        [path = m_path, planId, withPlans, change = std::move(change), out](jobs::TaskJob &) -> QString {
            auto state = store::StateStore::open(path);
            if (!state)
                return state.error().message;
            PlanStore plans(**state);
            if (change) {
                const QString error = change(plans, out->message);
                if (!error.isEmpty())
                    out->error = error; // still show the plan as it is now
            }
            out->planId = planId;
            if (withPlans) {
                auto list = plans.plans();
                if (!list)
                    return list.error().message;
                out->plans = std::move(list).value();
                const bool known = std::any_of(out->plans->cbegin(), out->plans->cend(),
                                               [&](const PlanSummary &p) { return p.id == planId; });
                if (!known)
                    out->planId = out->plans->isEmpty() ? 0 : out->plans->first().id;
            }
            if (!out->planId)
                return {};
            auto items = plans.items(out->planId);
            auto audit = plans.auditRows(out->planId);
            auto summary = plans.plan(out->planId);
            if (!items || !audit || !summary)
                return !items ? items.error().message
                    : !audit  ? audit.error().message
                              : summary.error().message;
            out->items = std::move(items).value();
            out->summary = std::move(summary).value();
            for (const AuditRow &row : std::as_const(*audit)) // the latest approve/reject per item
                if (row.itemNumber > 0
                    && (row.action == QLatin1String("approve") || row.action == QLatin1String("reject")))
                    out->deciders.insert(row.itemNumber, row.who);
            return {};
        });
    connect(job, &jobs::Job::finished, this, [this, out](bool ok, const QString &error) {
        if (out->generation != m_generation)
            return; // a newer read is on its way
        if (!ok) {
            m_message->setText(tr("The state database cannot be read: %1").arg(error));
            emit loaded();
            return;
        }
        apply(*out);
        emit loaded();
    });
    m_worker.run(job);
}

void StagedPane::apply(const Loaded &loaded)
{
    m_applying = true;
    if (loaded.plans)
        m_plans->setPlans(*loaded.plans);
    m_planId = loaded.planId;
    m_summary = loaded.summary;
    m_items->setItems(loaded.items, loaded.deciders);
    if (!loaded.message.isEmpty())
        m_items->setAllChecked(false); // decided: the ticks have done their work
    const int row = m_planId ? m_plans->rowOfPlan(m_planId) : -1;
    if (row >= 0 && m_plansView->currentIndex().row() != row)
        m_plansView->selectRow(row);
    m_applying = false;
    m_allowDeletions->setChecked(false);
    showBanner();
    if (!loaded.error.isEmpty())
        m_message->setText(loaded.error);
    else if (!loaded.message.isEmpty())
        m_message->setText(loaded.message);
    else
        m_message->setText(m_summary && m_summary->status == QLatin1String("stale")
                               ? tr("Newer directory or tenant data has been read since this plan was made: "
                                    "publishing re-checks every item against its target first.")
                               : QString());
}

void StagedPane::showBanner()
{
    const bool overThreshold = m_summary && m_summary->removedValues > m_threshold;
    m_banner->setVisible(overThreshold);
    m_allowDeletions->setVisible(overThreshold);
    if (!overThreshold)
        return;
    m_banner->setText(
        tr("⚠ This plan removes %1 values, more than the deletion threshold of %2. Entra Connect "
           "would stop here too. Publishing needs an explicit override, recorded in the audit trail.")
            .arg(m_summary->removedValues)
            .arg(m_threshold));
    m_allowDeletions->setText(tr("Allow %1 deletions in this publish").arg(m_summary->removedValues));
}

void StagedPane::decide(Decision decision, bool allShown)
{
    if (m_path.isEmpty() || !m_planId)
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
    const qint64 plan = m_planId;
    load(plan, true,
         [plan, numbers, decision, comment = m_comment->text(), policy = m_approval](PlanStore &plans,
                                                                                     QString &message) {
             auto changed =
                 plans.decide(plan, numbers, decision, currentOperator().recorded(), comment, policy);
             if (!changed)
                 return changed.error().message;
             message = decision == Decision::Approved ? tr("%n item(s) approved.", nullptr, *changed)
                                                      : tr("%n item(s) rejected.", nullptr, *changed);
             return QString();
         });
}

void StagedPane::confirmPublish()
{
    if (m_path.isEmpty() || !m_planId)
        return;
    std::map<Channel, int> perChannel;
    int approved = 0;
    for (int row = 0; row < m_items->rowCount(); ++row) {
        const StoredItem *item = m_items->item(row);
        if (item->decision == Decision::Approved && item->state != JournalState::Applied) {
            ++perChannel[item->item.channel];
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
    for (const auto &[channel, count] : perChannel)
        lines.append(tr("%1: %2 item(s)").arg(models::channelText(channel)).arg(count));
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
