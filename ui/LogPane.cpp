#include "ui/LogPane.h"

#include "models/LogModel.h"
#include "report/CsvWriter.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>

namespace certsync::ui {

using jobs::LogRecord;

LogPane::LogPane(models::LogModel *model, QWidget *parent)
    : QWidget(parent)
    , m_model(model)
    , m_proxy(new models::LogFilterProxy(this))
    , m_job(new QComboBox(this))
    , m_text(new QLineEdit(this))
    , m_table(new QTableView(this))
    , m_details(new QPlainTextEdit(this))
{
    setObjectName(QStringLiteral("logPane"));
    m_proxy->setSourceModel(m_model);

    auto *filters = new QHBoxLayout;
    const struct
    {
        LogRecord::Level level;
        const char *name;
        QString text;
    } levels[] = { { LogRecord::Level::Error, "logShowErrors", tr("Errors") },
                   { LogRecord::Level::Warning, "logShowWarnings", tr("Warnings") },
                   { LogRecord::Level::Info, "logShowInfo", tr("Info") },
                   { LogRecord::Level::Debug, "logShowDebug", tr("Debug") } };
    for (const auto &level : levels) {
        auto *toggle = new QToolButton(this);
        toggle->setObjectName(QString::fromLatin1(level.name));
        toggle->setText(level.text);
        toggle->setCheckable(true);
        toggle->setChecked(m_proxy->isLevelShown(level.level));
        toggle->setAccessibleName(tr("Show %1").arg(level.text));
        const LogRecord::Level l = level.level;
        connect(toggle, &QToolButton::toggled, this,
                [this, l](bool shown) { m_proxy->setLevelShown(l, shown); });
        filters->addWidget(toggle);
    }
    m_job->setObjectName(QStringLiteral("logJob"));
    m_job->setAccessibleName(tr("Job"));
    m_job->addItem(tr("All jobs"), QString());
    connect(m_job, &QComboBox::currentIndexChanged, this,
            [this](int index) { m_proxy->setJob(m_job->itemData(index).toString()); });
    connect(m_model, &models::LogModel::jobNamesChanged, this, &LogPane::updateJobs);
    filters->addWidget(m_job);
    m_text->setObjectName(QStringLiteral("logSearch"));
    m_text->setPlaceholderText(tr("Filter messages, users, request ids…"));
    m_text->setClearButtonEnabled(true);
    m_text->setAccessibleName(tr("Filter log"));
    connect(m_text, &QLineEdit::textChanged, m_proxy, &models::LogFilterProxy::setText);
    filters->addWidget(m_text, 1);
    auto *copy = new QPushButton(tr("Copy"), this);
    copy->setObjectName(QStringLiteral("logCopy"));
    connect(copy, &QPushButton::clicked, this,
            [this] { QApplication::clipboard()->setText(m_details->toPlainText()); });
    filters->addWidget(copy);
    auto *exportButton = new QPushButton(tr("Export CSV…"), this);
    exportButton->setObjectName(QStringLiteral("logExport"));
    connect(exportButton, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Export log"), QStringLiteral("certsync-log.csv"), tr("CSV (*.csv)"));
        if (path.isEmpty())
            return;
        if (const QString error = exportCsv(path); !error.isEmpty())
            QMessageBox::warning(this, tr("Export log"), error);
    });
    filters->addWidget(exportButton);

    m_table->setObjectName(QStringLiteral("logTable"));
    m_table->setAccessibleName(tr("Log records"));
    m_table->setModel(m_proxy);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_table->horizontalHeader()->setStretchLastSection(false);
    m_table->horizontalHeader()->setSectionResizeMode(models::LogModel::Message, QHeaderView::Stretch);
    for (int column : { models::LogModel::Time, models::LogModel::Level, models::LogModel::HttpStatus })
        m_table->horizontalHeader()->setSectionResizeMode(column, QHeaderView::ResizeToContents);
    m_table->setWordWrap(false);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &LogPane::showDetails);
    m_details->setObjectName(QStringLiteral("logDetails"));
    m_details->setReadOnly(true);
    m_details->setAccessibleName(tr("Log record details"));

    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(m_table);
    splitter->addWidget(m_details);
    splitter->setStretchFactor(0, 4);
    splitter->setStretchFactor(1, 1);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(filters);
    layout->addWidget(splitter, 1);
}

void LogPane::updateJobs()
{
    for (const QString &job : m_model->jobNames())
        if (m_job->findData(job) < 0)
            m_job->addItem(job, job);
}

void LogPane::showDetails()
{
    const QModelIndex current = m_proxy->mapToSource(m_table->currentIndex());
    m_details->setPlainText(current.isValid() ? models::LogModel::describe(m_model->record(current.row()))
                                              : QString());
}

QString LogPane::exportCsv(const QString &path) const
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return tr("Cannot write %1: %2").arg(path, file.errorString());
    report::CsvWriter csv(&file);
    csv.writeRow({ QStringLiteral("time"), QStringLiteral("level"), QStringLiteral("job"),
                   QStringLiteral("user"), QStringLiteral("channel"), QStringLiteral("message"),
                   QStringLiteral("http_status"), QStringLiteral("request_id"),
                   QStringLiteral("client_request_id") });
    for (int row = 0; row < m_proxy->rowCount(); ++row) {
        const LogRecord &r = m_model->record(m_proxy->mapToSource(m_proxy->index(row, 0)).row());
        csv.writeRow({ r.time.toUTC().toString(Qt::ISODate), jobs::levelName(r.level), r.job, r.user,
                       r.channel, r.message, r.httpStatus ? QString::number(r.httpStatus) : QString(),
                       r.requestId, r.clientRequestId });
    }
    return file.error() == QFile::NoError ? QString() : file.errorString();
}

} // namespace certsync::ui
