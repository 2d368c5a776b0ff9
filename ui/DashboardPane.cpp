#include "ui/DashboardPane.h"

#include "models/StatusPresentation.h"
#include "models/UsersModel.h"

#include <QGroupBox>
#include <QLabel>
#include <QLocale>
#include <QPainter>
#include <QVBoxLayout>

namespace certsync::ui {

using certs::Status;

ExpiryChart::ExpiryChart(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("expiryChart"));
    setAccessibleName(tr("Certificates expiring per month"));
    setMinimumHeight(180);
}

void ExpiryChart::setCounts(const QDate &firstMonth, const std::array<int, 12> &counts)
{
    m_first = firstMonth;
    m_counts = counts;
    QStringList description;
    for (int i = 0; i < 12; ++i)
        description.append(QStringLiteral("%1: %2")
                               .arg(QLocale().monthName(m_first.addMonths(i).month(), QLocale::ShortFormat))
                               .arg(counts[size_t(i)]));
    setAccessibleDescription(description.join(QStringLiteral(", ")));
    update();
}

void ExpiryChart::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QPalette pal = palette();
    const int maxCount = std::max(1, *std::max_element(m_counts.cbegin(), m_counts.cend()));
    const QFontMetrics fm = fontMetrics();
    const int labelHeight = fm.height() + 4;
    const QRectF area = rect().adjusted(8, labelHeight + 4, -8, -labelHeight - 4);
    const qreal slot = area.width() / 12.0;
    for (int i = 0; i < 12; ++i) {
        const int count = m_counts[size_t(i)];
        const qreal h = area.height() * count / maxCount;
        const QRectF bar(area.left() + i * slot + slot * 0.15, area.bottom() - h, slot * 0.7, h);
        // The next three months stand out: that is where renewals are due.
        p.fillRect(bar, i < 3 ? models::statusColor(Status::Warning) : pal.color(QPalette::Highlight));
        p.setPen(pal.color(QPalette::WindowText));
        const QString month = m_first.isValid()
            ? QLocale().monthName(m_first.addMonths(i).month(), QLocale::ShortFormat)
            : QString();
        p.drawText(QRectF(area.left() + i * slot, area.bottom() + 2, slot, labelHeight), Qt::AlignCenter,
                   month);
        p.drawText(QRectF(area.left() + i * slot, bar.top() - labelHeight, slot, labelHeight),
                   Qt::AlignCenter, QString::number(count));
    }
    p.setPen(pal.color(QPalette::Mid));
    p.drawLine(area.bottomLeft(), area.bottomRight());
}

DashboardPane::DashboardPane(QWidget *parent)
    : QWidget(parent)
    , m_summary(new QLabel(this))
    , m_blocking(new QLabel(this))
    , m_chart(new ExpiryChart(this))
{
    setObjectName(QStringLiteral("dashboardPane"));
    m_summary->setObjectName(QStringLiteral("dashboardSummary"));
    m_summary->setTextFormat(Qt::RichText);
    m_summary->setWordWrap(true);
    m_blocking->setObjectName(QStringLiteral("dashboardBlocking"));
    m_blocking->setTextFormat(Qt::RichText);
    m_blocking->setWordWrap(true);
    auto *chartBox = new QGroupBox(tr("Certificates expiring in the next 12 months"), this);
    (new QVBoxLayout(chartBox))->addWidget(m_chart);
    auto *blockingBox = new QGroupBox(tr("What blocks synchronisation"), this);
    (new QVBoxLayout(blockingBox))->addWidget(m_blocking);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_summary);
    layout->addWidget(chartBox, 1);
    layout->addWidget(blockingBox);
    m_summary->setText(tr(
        "<h2>No directory read yet</h2><p>Read the directory (F5) to see its users and certificates.</p>"));
    m_blocking->setText(tr("Nothing known yet."));
}

DashboardPane::Figures::Figures(const QDateTime &now)
    : nowMs(now.toMSecsSinceEpoch())
    , firstMonth(now.toUTC().date().year(), now.toUTC().date().month(), 1)
{ }

void DashboardPane::Figures::add(const directory::UserSummary &user)
{
    ++total;
    ++users[size_t(user.status)];
    certificates += user.certificates;
    overLimit += user.overLimit;
    invalid += user.invalidValues;
    for (const qint64 notAfter : user.notAfters) {
        if (notAfter < nowMs)
            continue;
        const QDate end = QDateTime::fromMSecsSinceEpoch(notAfter, Qt::UTC).date();
        const int month = (end.year() - firstMonth.year()) * 12 + end.month() - firstMonth.month();
        if (month >= 0 && month < 12)
            ++expiring[size_t(month)];
    }
}

void DashboardPane::Figures::add(const directory::DirectoryUser &user)
{
    if (const std::optional<directory::UserSummary> summary = directory::UserSummary::of(user)) {
        add(*summary);
    } else {
        ++total;
        ++users[size_t(Status::Ok)];
    }
}

void DashboardPane::setSnapshot(const directory::DirectorySnapshot &snapshot, const QDateTime &now)
{
    Figures figures(now);
    for (const directory::DirectoryUser &user : snapshot.users)
        figures.add(user);
    setFigures(figures, snapshot.server, snapshot.readAt);
}

void DashboardPane::setFigures(const Figures &f, const QString &server, const QDateTime &readAt)
{
    const std::array<int, 3> &users = f.users;
    auto chip = [](Status status, int count) {
        return QStringLiteral("<b>%1</b> %2").arg(count).arg(models::statusText(status).toHtmlEscaped());
    };
    m_summary->setText(
        tr("<h2>%1 users, %2 certificates</h2><p>%3 &nbsp; %4 &nbsp; %5</p><p>Read %6 from %7</p>")
            .arg(f.total)
            .arg(f.certificates)
            .arg(chip(Status::Error, users[2]), chip(Status::Warning, users[1]), chip(Status::Ok, users[0]),
                 QLocale().toString(readAt.toLocalTime(), QLocale::ShortFormat), server.toHtmlEscaped()));
    const int overLimit = f.overLimit;
    const int invalid = f.invalid;
    QStringList blocking;
    if (overLimit)
        blocking.append(
            tr("Users with more than 15 values in an attribute, which Entra Connect stops exporting: %1")
                .arg(overLimit));
    if (invalid)
        blocking.append(tr("Unreadable values in the directory: %1").arg(invalid));
    m_blocking->setText(blocking.isEmpty() ? tr("Nothing blocks synchronisation in the directory.")
                                           : QStringLiteral("<ul><li>")
                                + blocking.join(QStringLiteral("</li><li>")) + QStringLiteral("</li></ul>"));
    m_chart->setCounts(f.firstMonth, f.expiring);
}

} // namespace certsync::ui
