#include "ui/LogPane.h"

#include "models/LogModel.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLineEdit>
#include <QLocale>
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
    , m_stored(new models::LogModel(this))
    , m_shown(model)
    , m_proxy(new models::LogFilterProxy(this))
    , m_run(new QComboBox(this))
    , m_job(new QComboBox(this))
    , m_text(new QLineEdit(this))
    , m_table(new QTableView(this))
    , m_details(new QPlainTextEdit(this))
{
    setObjectName(QStringLiteral("logPane"));
    m_proxy->setSourceModel(m_model);

    auto *filters = new QHBoxLayout;
    m_run->setObjectName(QStringLiteral("logRun"));
    m_run->setAccessibleName(tr("Run"));
    m_run->setToolTip(tr("This session's log, or a recorded run's (command line, timer or console)"));
    m_run->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_run->addItem(tr("This session"), qint64(0));
    connect(m_run, &QComboBox::currentIndexChanged, this, &LogPane::pickRun);
    filters->addWidget(m_run);
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
    connect(m_stored, &models::LogModel::jobNamesChanged, this, &LogPane::updateJobs);
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
    for (const QString &job : m_shown->jobNames())
        if (m_job->findData(job) < 0)
            m_job->addItem(job, job);
}

void LogPane::setRuns(const QList<store::RunRow> &runs)
{
    const QSignalBlocker blocker(m_run);
    const qint64 chosen = m_run->currentData().toLongLong();
    while (m_run->count() > 1)
        m_run->removeItem(1);
    for (const store::RunRow &run : runs) {
        const QString when =
            QLocale().toString(run.started.toLocalTime(), QStringLiteral("yyyy-MM-dd HH:mm"));
        m_run->addItem(tr("Run %1: %2 %3, %4 (%5, %6)")
                           .arg(run.id)
                           .arg(when, run.command, run.outcome, run.origin, run.who),
                       run.id);
        m_run->setItemData(m_run->count() - 1, run.summary, Qt::ToolTipRole);
    }
    const int index = m_run->findData(chosen);
    m_run->setCurrentIndex(index < 0 ? 0 : index);
    if (index < 0 && chosen != 0)
        pickRun(0); // the shown run was pruned: back to this session
}

void LogPane::pickRun(int index)
{
    const qint64 run = m_run->itemData(index).toLongLong();
    m_shownRun = run;
    if (run == 0) {
        showModel(m_model);
        return;
    }
    m_stored->clear();
    showModel(m_stored);
    emit runChosen(run);
}

void LogPane::showRun(qint64 runId, const QList<jobs::LogRecord> &records)
{
    if (runId != m_shownRun)
        return;
    m_stored->clear();
    for (const jobs::LogRecord &record : records)
        m_stored->append(record);
}

void LogPane::showModel(models::LogModel *model)
{
    if (m_shown == model)
        return;
    m_shown = model;
    m_proxy->setSourceModel(model); // the filters stay as they are
    m_details->clear();
    updateJobs();
}

void LogPane::showDetails()
{
    const QModelIndex current = m_proxy->mapToSource(m_table->currentIndex());
    m_details->setPlainText(current.isValid() ? models::LogModel::describe(m_shown->record(current.row()))
                                              : QString());
}

QString LogPane::exportCsv(const QString &path) const
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return tr("Cannot write %1: %2").arg(path, file.errorString());
    QList<LogRecord> shown;
    shown.reserve(m_proxy->rowCount());
    for (int row = 0; row < m_proxy->rowCount(); ++row)
        shown.append(m_shown->record(m_proxy->mapToSource(m_proxy->index(row, 0)).row()));
    if (!store::writeLogCsv(&file, shown) || file.error() != QFile::NoError)
        return tr("Cannot write %1: %2").arg(path, file.errorString());
    return {};
}

} // namespace certsync::ui
