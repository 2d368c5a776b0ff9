#include "ui/SmimeCollectionDialog.h"

#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QStandardItemModel>
#include <QTableView>
#include <QVBoxLayout>

namespace certsync::ui {

namespace {

enum Column { Subject, Issuer, ValidUntil, Sha256, ColumnCount };

} // namespace

SmimeCollectionDialog::SmimeCollectionDialog(QWidget *parent)
    : QDialog(parent)
    , m_summary(new QLabel(this))
    , m_filter(new QLineEdit(this))
    , m_model(new QStandardItemModel(0, ColumnCount, this))
    , m_proxy(new QSortFilterProxyModel(this))
    , m_table(new QTableView(this))
{
    setObjectName(QStringLiteral("smimeCollectionDialog"));
    setWindowTitle(tr("Exchange Online S/MIME CAs"));
    m_summary->setObjectName(QStringLiteral("smimeCollectionSummary"));
    m_summary->setWordWrap(true);
    m_filter->setObjectName(QStringLiteral("smimeCollectionFilter"));
    m_filter->setPlaceholderText(tr("Filter subject, issuer or SHA-256…"));
    m_filter->setClearButtonEnabled(true);
    m_model->setHorizontalHeaderLabels({ tr("Subject"), tr("Issuer"), tr("Valid until"), tr("SHA-256") });
    m_proxy->setSourceModel(m_model);
    m_proxy->setFilterKeyColumn(-1);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_proxy->setSortRole(Qt::UserRole);
    connect(m_filter, &QLineEdit::textChanged, m_proxy, &QSortFilterProxyModel::setFilterFixedString);
    m_table->setObjectName(QStringLiteral("smimeCollectionTable"));
    m_table->setAccessibleName(tr("Exchange Online S/MIME CAs"));
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(Subject, Qt::AscendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_summary);
    layout->addWidget(m_filter);
    layout->addWidget(m_table, 1);
    layout->addWidget(buttons);
    resize(1240, 420);
    setCollection(std::nullopt);
}

void SmimeCollectionDialog::setCollection(const std::optional<QList<certs::Certificate>> &collection,
                                          const QString &problem)
{
    m_model->removeRows(0, m_model->rowCount());
    if (!collection) {
        m_summary->setText(problem.isEmpty()
                               ? tr("Not read yet: read Microsoft 365 (File → Read Microsoft 365).")
                               : tr("The collection cannot be read: %1").arg(problem));
        return;
    }
    if (collection->isEmpty()) {
        m_summary->setText(tr("No CA is uploaded (Set-SmimeConfig -SMIMECertificateIssuingCA): Exchange "
                              "Online and Outlook on the web trust no S/MIME certificate."));
        return;
    }
    m_summary->setText(tr("%n CA certificate(s) uploaded with Set-SmimeConfig -SMIMECertificateIssuingCA. "
                          "A user certificate whose issuing chain is not here is not trusted by Exchange "
                          "Online.",
                          nullptr, int(collection->size())));
    for (const certs::Certificate &c : *collection) {
        auto item = [](const QString &text, const QVariant &sort) {
            auto *i = new QStandardItem(text);
            i->setData(sort, Qt::UserRole);
            i->setToolTip(text);
            return i;
        };
        const QString until = c.notAfter.toUTC().toString(Qt::ISODate);
        m_model->appendRow({ item(c.subject, c.subject.toLower()), item(c.issuer, c.issuer.toLower()),
                             item(until, c.notAfter.toMSecsSinceEpoch()),
                             item(c.sha256Hex(), c.sha256Hex()) });
    }
    m_table->resizeColumnsToContents();
    // The fingerprint is shown whole; long names give way (their tooltips carry them).
    m_table->horizontalHeader()->resizeSection(Subject, std::min(m_table->columnWidth(Subject), 320));
    m_table->horizontalHeader()->resizeSection(Issuer, std::min(m_table->columnWidth(Issuer), 280));
}

} // namespace certsync::ui
