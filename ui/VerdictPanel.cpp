#include "ui/VerdictPanel.h"

#include "models/StatusPresentation.h"

#include <QClipboard>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QStyle>
#include <QVBoxLayout>

namespace certsync::ui {

namespace {

QString yesNo(bool yes)
{
    return yes ? VerdictPanel::tr("yes") : VerdictPanel::tr("no");
}

QString certificateText(const engine::ChosenCertificate &c)
{
    return VerdictPanel::tr("%1 <tt>%2…</tt> %3, valid until %4")
        .arg(certs::attributeName(c.attribute), c.certificate.sha256Hex().left(16),
             c.certificate.subject.toHtmlEscaped(),
             c.certificate.notAfter.toUTC().date().toString(Qt::ISODate));
}

QString pathHtml(const QString &name, const engine::PathVerdict &p)
{
    QString html =
        QStringLiteral("<p style='margin:0'><b>%1: %2</b> — %3</p>")
            .arg(name.toHtmlEscaped(), yesNo(p.canEncrypt),
                 p.chosen ? certificateText(*p.chosen) : VerdictPanel::tr("no certificate chosen"));
    if (!p.reasons.isEmpty()) {
        html += QStringLiteral("<ul style='margin-top:0; margin-bottom:0'>");
        for (const QString &code : p.reasons)
            html += QStringLiteral("<li>%1 <i>(%2)</i></li>")
                        .arg(engine::verdictReasonText(code).toHtmlEscaped(), code.toHtmlEscaped());
        html += QStringLiteral("</ul>");
    }
    return html;
}

} // namespace

VerdictPanel::VerdictPanel(QWidget *parent)
    : QFrame(parent)
    , m_icon(new QLabel(this))
    , m_line(new QLabel(this))
    , m_details(new QLabel(this))
    , m_copy(new QPushButton(tr("Copy answer"), this))
{
    setObjectName(QStringLiteral("verdictPanel"));
    setFrameShape(QFrame::StyledPanel);
    m_icon->setObjectName(QStringLiteral("verdictIcon"));
    m_line->setObjectName(QStringLiteral("verdictLine"));
    m_line->setWordWrap(true);
    m_line->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont bold = m_line->font();
    bold.setBold(true);
    m_line->setFont(bold);
    m_details->setObjectName(QStringLiteral("verdictDetails"));
    m_details->setWordWrap(true);
    m_details->setTextFormat(Qt::RichText);
    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_copy->setObjectName(QStringLiteral("copyAnswer"));
    m_copy->setToolTip(tr("Copy the answer as text for a ticket (the same text as certsync check prints)"));
    connect(m_copy, &QPushButton::clicked, this, &VerdictPanel::copyAnswer);

    auto *top = new QHBoxLayout;
    top->addWidget(m_icon, 0, Qt::AlignTop);
    top->addWidget(m_line, 1);
    top->addWidget(m_copy, 0, Qt::AlignTop);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 6, 8, 6);
    layout->addLayout(top);
    layout->addWidget(m_details);
    clear();
}

void VerdictPanel::clear()
{
    m_verdict.reset();
    hide();
}

void VerdictPanel::showMessage(const QString &text)
{
    m_verdict.reset();
    m_icon->clear();
    m_line->setText(text);
    m_details->clear();
    m_details->hide();
    m_copy->setEnabled(false);
    show();
}

void VerdictPanel::showVerdict(const engine::EncryptionVerdict &verdict, const QString &note)
{
    m_verdict = verdict;
    const int size = style()->pixelMetric(QStyle::PM_SmallIconSize);
    m_icon->setPixmap(
        models::statusIcon(verdict.canEncrypt() ? certs::Status::Ok : certs::Status::Error).pixmap(size));
    m_line->setText(verdict.line());
    QString html = pathHtml(tr("Directory (Outlook reading the GAL)"), verdict.directory);
    if (verdict.tenant)
        html += pathHtml(tr("Exchange Online (what senders get)"), *verdict.tenant);
    else
        html += QStringLiteral("<p style='margin:0'><b>%1</b></p>")
                    .arg(tr("Exchange Online: not checked").toHtmlEscaped());
    if (!note.isEmpty())
        html += QStringLiteral("<p style='margin:0'><i>%1</i></p>").arg(note.toHtmlEscaped());
    html += QStringLiteral("<p style='margin-top:4px; margin-bottom:0'><b>%1</b> %2</p>")
                .arg(tr("Fix:"), verdict.fix.toHtmlEscaped());
    m_details->setText(html);
    m_details->show();
    m_copy->setEnabled(true);
    show();
}

void VerdictPanel::copyAnswer()
{
    if (m_verdict)
        QGuiApplication::clipboard()->setText(m_verdict->ticketText());
}

} // namespace certsync::ui
