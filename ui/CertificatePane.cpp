#include "ui/CertificatePane.h"

#include "models/CertificateTreeModel.h"
#include "models/HelpdeskHints.h"
#include "models/StatusPresentation.h"
#include "ui/VerdictPanel.h"

#include <QClipboard>
#include <QFile>
#include <QFileDialog>
#include <QGroupBox>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QTextBrowser>
#include <QTreeView>
#include <QVBoxLayout>

namespace certsync::ui {

using namespace certs;

namespace {

QTreeView *makeTree(models::CertificateTreeModel *model, const QString &name, const QString &accessible,
                    QWidget *parent)
{
    auto *tree = new QTreeView(parent);
    tree->setObjectName(name);
    tree->setAccessibleName(accessible);
    tree->setModel(model);
    tree->setUniformRowHeights(true);
    tree->setAlternatingRowColors(true);
    tree->header()->setStretchLastSection(false);
    tree->header()->setSectionResizeMode(models::CertificateTreeModel::NameColumn, QHeaderView::Stretch);
    for (int c = models::CertificateTreeModel::StatusColumn; c < models::CertificateTreeModel::ColumnCount;
         ++c)
        tree->header()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    // The fingerprint is in the details panel; the tree's room goes to the names.
    tree->header()->setSectionHidden(models::CertificateTreeModel::FingerprintColumn, true);
    return tree;
}

QString escaped(const QString &text)
{
    return text.toHtmlEscaped();
}

QString row(const QString &name, const QString &value)
{
    return QStringLiteral("<tr><td style='padding-right:12px'><b>%1</b></td><td>%2</td></tr>")
        .arg(escaped(name), value);
}

QString hexColons(const QByteArray &bytes)
{
    return QString::fromLatin1(bytes.toHex(':')).toUpper();
}

} // namespace

CertificatePane::CertificatePane(QWidget *parent)
    : QWidget(parent)
    , m_directoryModel(new models::CertificateTreeModel(this))
    , m_tenantModel(new models::CertificateTreeModel(this))
    , m_title(new QLabel(this))
    , m_verdict(new VerdictPanel(this))
    , m_warning(new QLabel(this))
    , m_tenantNote(new QLabel(this))
    , m_details(new QTextBrowser(this))
    , m_copy(new QPushButton(tr("Copy SHA-256"), this))
    , m_save(new QPushButton(tr("Save as…"), this))
{
    setObjectName(QStringLiteral("certificatePane"));
    m_title->setObjectName(QStringLiteral("certificateTitle"));
    QFont titleFont = m_title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.2);
    titleFont.setBold(true);
    m_title->setFont(titleFont);
    m_warning->setObjectName(QStringLiteral("outlookWarning"));
    m_warning->setWordWrap(true);
    m_warning->setFrameShape(QFrame::StyledPanel);
    m_warning->setContentsMargins(6, 4, 6, 4);
    m_warning->hide();
    m_tenantNote->setObjectName(QStringLiteral("tenantNote"));
    m_tenantNote->setWordWrap(true);

    m_directoryTree = makeTree(m_directoryModel, QStringLiteral("directoryTree"),
                               tr("Certificates in the directory"), this);
    m_tenantTree = makeTree(m_tenantModel, QStringLiteral("tenantTree"),
                            tr("Certificates published in Microsoft 365"), this);

    auto *directoryBox = new QGroupBox(tr("In the directory"), this);
    (new QVBoxLayout(directoryBox))->addWidget(m_directoryTree);
    auto *tenantBox = new QGroupBox(tr("Published in Microsoft 365"), this);
    auto *tenantLayout = new QVBoxLayout(tenantBox);
    tenantLayout->addWidget(m_tenantNote);
    tenantLayout->addWidget(m_tenantTree, 1);
    auto *sides = new QSplitter(Qt::Horizontal, this);
    sides->setObjectName(QStringLiteral("sidesSplitter"));
    sides->addWidget(directoryBox);
    sides->addWidget(tenantBox);

    m_details->setObjectName(QStringLiteral("certificateDetails"));
    m_details->setAccessibleName(tr("Certificate details"));
    m_details->setOpenLinks(false);
    m_copy->setObjectName(QStringLiteral("copyFingerprint"));
    m_save->setObjectName(QStringLiteral("saveCertificate"));
    m_copy->setEnabled(false);
    m_save->setEnabled(false);
    connect(m_copy, &QPushButton::clicked, this, &CertificatePane::copyFingerprint);
    connect(m_save, &QPushButton::clicked, this, &CertificatePane::saveCertificate);
    auto *detailsBox = new QWidget(this);
    auto *detailsLayout = new QVBoxLayout(detailsBox);
    detailsLayout->setContentsMargins(0, 0, 0, 0);
    detailsLayout->addWidget(m_details, 1);
    auto *buttons = new QHBoxLayout;
    buttons->addStretch(1);
    buttons->addWidget(m_copy);
    buttons->addWidget(m_save);
    detailsLayout->addLayout(buttons);

    auto *vertical = new QSplitter(Qt::Vertical, this);
    vertical->setObjectName(QStringLiteral("certificateSplitter"));
    vertical->addWidget(sides);
    vertical->addWidget(detailsBox);
    vertical->setStretchFactor(0, 3);
    vertical->setStretchFactor(1, 2);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_title);
    layout->addWidget(m_verdict);
    layout->addWidget(m_warning);
    layout->addWidget(vertical, 1);

    for (const auto &side :
         { std::pair { m_directoryTree, m_directoryModel }, std::pair { m_tenantTree, m_tenantModel } }) {
        QTreeView *tree = side.first;
        models::CertificateTreeModel *model = side.second;
        connect(tree->selectionModel(), &QItemSelectionModel::currentChanged, this,
                [this, model](const QModelIndex &current) {
                    const AnalyzedValue *value = model->valueAt(current);
                    const JudgedCertificate *cert = model->certificateAt(current);
                    if (!value || !cert) {
                        select(nullptr, {}, nullptr);
                        return;
                    }
                    int index = 0;
                    for (int i = 0; i < value->certificates.size(); ++i)
                        if (&value->certificates.at(i) == cert)
                            index = i;
                    select(&cert->certificate, value->problemsOf(index), &cert->chain);
                });
    }
    clear();
}

void CertificatePane::clear()
{
    m_title->setText(tr("Select a user to see their certificates."));
    m_verdict->clear();
    m_warning->hide();
    m_directoryModel->clear();
    m_tenantModel->clear();
    m_tenantNote->clear();
    select(nullptr, {}, nullptr);
}

void CertificatePane::showUser(const QString &title, const QList<AnalyzedValue> &directory,
                               const std::optional<QList<AnalyzedValue>> &published,
                               const QString &tenantNote)
{
    m_title->setText(title);
    const QString warning = models::outlookSelectionWarning(directory);
    m_warning->setText(warning.isEmpty() ? QString() : QStringLiteral("⚠ ") + warning);
    m_warning->setVisible(!warning.isEmpty());
    m_directoryModel->setValues(directory);
    m_tenantModel->setValues(published.value_or(QList<AnalyzedValue> {}));
    auto fingerprints = [](const QList<AnalyzedValue> &values) {
        QSet<QByteArray> set;
        for (const AnalyzedValue &value : values)
            if (const JudgedCertificate *cert = value.usersCertificate())
                set.insert(cert->certificate.sha256);
        return set;
    };
    m_directoryModel->setCounterpart(fingerprints(published.value_or(QList<AnalyzedValue> {})),
                                     published.has_value());
    m_tenantModel->setCounterpart(fingerprints(directory), published.has_value());
    m_tenantNote->setText(tenantNote);
    m_tenantNote->setVisible(!tenantNote.isEmpty());
    m_directoryTree->expandToDepth(0);
    m_tenantTree->expandToDepth(0);
    select(nullptr, {}, nullptr);
}

void CertificatePane::select(const Certificate *c, const ProblemSet &problems, const ChainResult *chain)
{
    m_copy->setEnabled(c != nullptr);
    m_save->setEnabled(c != nullptr);
    if (!c) {
        m_selected.reset();
        m_details->setHtml(
            QStringLiteral("<p>%1</p>").arg(escaped(tr("Select a certificate to see its details."))));
        return;
    }
    m_selected = *c;
    QString html = QStringLiteral("<table>");
    const Status status = problems.status();
    html += row(tr("Status"), escaped(models::statusText(status)));
    for (Problem p : problems.toList())
        html +=
            row(QString(), QStringLiteral("• %1 <i>(%2)</i>").arg(escaped(problemText(p)), problemCode(p)));
    html += row(tr("Subject"), escaped(c->subject));
    html += row(tr("Issuer"), escaped(c->issuer));
    html += row(tr("Serial"), c->serialHex);
    html += row(tr("Valid from"), c->notBefore.toString(Qt::ISODate));
    html += row(tr("Valid until"), c->notAfter.toString(Qt::ISODate));
    if (!c->emails().isEmpty())
        html += row(tr("E-mail"), escaped(c->emails().join(QStringLiteral(", "))));
    if (!c->upnSans.isEmpty())
        html += row(tr("UPN"), escaped(c->upnSans.join(QStringLiteral(", "))));
    html += row(tr("Key"), escaped(c->keyDescription()));
    html += row(tr("Signature"), escaped(c->signatureAlgorithm));
    html += row(tr("Key usage"),
                c->hasKeyUsage ? escaped(c->keyUsageNames().join(QStringLiteral(", "))) : tr("(any)"));
    html += row(tr("Extended key usage"),
                c->hasExtendedKeyUsage ? escaped(c->extendedKeyUsageNames().join(QStringLiteral(", ")))
                                       : tr("(any)"));
    html += row(tr("Basic constraints"), c->isCa ? tr("CA") : tr("end entity"));
    html += row(tr("SHA-256"), QStringLiteral("<tt>%1</tt>").arg(c->sha256Hex()));
    html += row(tr("SHA-1"), QStringLiteral("<tt>%1</tt>").arg(c->sha1Hex()));
    if (!c->subjectKeyId.isEmpty())
        html += row(tr("Subject key id"), QStringLiteral("<tt>%1</tt>").arg(hexColons(c->subjectKeyId)));
    if (!c->authorityKeyId.isEmpty())
        html += row(tr("Authority key id"), QStringLiteral("<tt>%1</tt>").arg(hexColons(c->authorityKeyId)));
    for (const QString &url : c->caIssuersUrls)
        html += row(tr("CA issuers"), escaped(url));
    for (const QString &url : c->crlUrls)
        html += row(tr("CRL"), escaped(url));
    if (chain) {
        QString text = escaped(models::chainStatusText(chain->status));
        if (!chain->message.isEmpty())
            text += QStringLiteral(" — ") + escaped(chain->message);
        html += row(tr("Chain"), text);
    }
    html += QStringLiteral("</table>");
    m_details->setHtml(html);
}

void CertificatePane::copyFingerprint()
{
    if (m_selected)
        QGuiApplication::clipboard()->setText(m_selected->sha256Hex());
}

void CertificatePane::saveCertificate()
{
    if (!m_selected)
        return;
    const QString path = QFileDialog::getSaveFileName(this, tr("Save certificate"), QString(),
                                                      tr("DER certificate (*.cer);;PEM certificate (*.pem)"));
    if (path.isEmpty())
        return;
    QByteArray bytes = m_selected->der;
    if (path.endsWith(QLatin1String(".pem"), Qt::CaseInsensitive)) {
        QByteArray base64 = m_selected->der.toBase64();
        QByteArray wrapped;
        for (qsizetype i = 0; i < base64.size(); i += 64)
            wrapped += base64.mid(i, 64) + '\n';
        bytes = "-----BEGIN CERTIFICATE-----\n" + wrapped + "-----END CERTIFICATE-----\n";
    }
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(bytes) != bytes.size())
        QMessageBox::warning(this, tr("Save certificate"),
                             tr("Cannot write %1: %2").arg(path, file.errorString()));
}

} // namespace certsync::ui
