// MainWindow and the state database's directory side: the stored snapshot shown at start, and
// directory reads that use the analysis cache and keep their snapshot for the next start. Every
// database call runs on a worker thread.
#include "ui/MainWindow.h"

#include "directory/StoredDirectory.h"
#include "jobs/TaskJob.h"
#include "models/UsersModel.h"
#include "store/StateStore.h"
#include "tenant/StoredTenantRead.h"
#include "ui/CertificatePane.h"
#include "ui/DashboardPane.h"
#include "ui/UsersPane.h"

#include <QFileInfo>
#include <QLabel>
#include <QLocale>
#include <QScrollBar>
#include <QStatusBar>
#include <QTableView>

namespace certsync::ui {

namespace {

constexpr qsizetype cacheBatch = 5000; // new analyses written at a time during a read, as `inventory`

// The state database as one directory read uses it. Opened by the first job on the runner's thread
// and used only there (a QtSql connection belongs to the thread that opened it): the read job's
// direct connections and the jobs before and after it all run on that thread. Only jobs hold it, so
// that it is also destroyed there (an unfinished transaction rolls back).
struct StoredRead
{
    std::unique_ptr<store::StateStore> state;
    std::shared_ptr<store::SqliteAnalysisCache> cache;
    std::optional<directory::StoredDirectory> stored;
    std::shared_ptr<directory::DirectorySnapshot> snapshot;
    QString failure; // the first thing that went wrong storing it

    void keep(const Result<void> &result)
    {
        if (!result && failure.isEmpty())
            failure = result.error().message;
    }
    ~StoredRead()
    {
        stored.reset(); // before the cache and the connection it uses
        cache.reset();
    }
};

// The read job is made on the GUI thread, before the state database is open: its cache forwards to
// the database's once there is one (set on the runner's thread before the read job starts there).
class StoredReadCache final : public certs::AnalysisCache
{
public:
    explicit StoredReadCache(std::shared_ptr<StoredRead> read)
        : m_read(std::move(read))
    { }
    std::optional<certs::CachedAnalysis> find(const QByteArray &valueSha256) override
    {
        return m_read->cache ? m_read->cache->find(valueSha256) : std::nullopt;
    }
    void insert(const QByteArray &valueSha256, const certs::CachedAnalysis &analysis) override
    {
        if (m_read->cache)
            m_read->cache->insert(valueSha256, analysis);
    }

private:
    std::shared_ptr<StoredRead> m_read;
};

} // namespace

void MainWindow::startFromState()
{
    showStoredDirectory();
    showStoredTenant();
    readDirectory();
}

void MainWindow::showStoredTenant()
{
    if (!m_tenantSettings)
        return;
    auto out = std::make_shared<std::optional<tenant::TenantSnapshot>>();
    auto *job =
        new jobs::TaskJob(tr("stored Microsoft 365 read"),
                          [path = m_statePath, settings = *m_tenantSettings, out](jobs::TaskJob &) {
                              if (!QFileInfo::exists(path))
                                  return QString();
                              auto state = store::StateStore::open(path);
                              if (!state)
                                  return state.error().message;
                              tenant::StoredTenantRead stored = tenant::loadTenantRead(**state, settings);
                              *out =
                                  std::move(stored.previous); // none: nothing stored, or for another tenant
                              return QString();
                          });
    connect(job, &jobs::Job::finished, this, [this, out](bool ok, const QString &error) {
        if (!ok) {
            logLine(jobs::LogRecord::Level::Warning, tr("stored Microsoft 365 read"),
                    tr("The stored Microsoft 365 read cannot be shown: %1").arg(error));
            return;
        }
        if (!*out || m_tenant)
            return; // nothing stored, or a read was done first
        m_tenant = std::make_shared<const tenant::TenantSnapshot>(std::move(**out));
        m_tenantIsStored = true;
        showStoredBanner();
        emit storedTenantShown(int(m_tenant->users.size()));
        matchTenant();
    });
    m_viewRunner.run(job);
}

void MainWindow::showStoredBanner()
{
    const auto directory = m_users->snapshot();
    QStringList parts;
    if (m_shownSnapshotIsStored && directory)
        parts.append(tr("Showing the directory as read at %1 (stored). Reading it again…")
                         .arg(QLocale().toString(directory->readAt.toLocalTime(), QLocale::ShortFormat)));
    if (m_tenantIsStored && m_tenant)
        parts.append(tr("Microsoft 365 as read at %1 (stored): Read Microsoft 365 to refresh it.")
                         .arg(QLocale().toString(m_tenant->takenAt.toLocalTime(), QLocale::ShortFormat)));
    m_banner->setText(parts.join(QLatin1Char(' ')));
    m_banner->setVisible(!parts.isEmpty());
}

void MainWindow::showStoredDirectory()
{
    if (!m_directorySettings || !m_directorySettings->trust)
        return;
    auto out = std::make_shared<std::optional<ShownSnapshot>>();
    auto *job = new jobs::TaskJob(
        tr("stored snapshot"),
        [path = m_statePath, profile = m_directorySettings->profile, trust = m_directorySettings->trust,
         policy = m_directorySettings->policy, out](jobs::TaskJob &task) {
            if (!QFileInfo::exists(path))
                return QString();
            auto state = store::StateStore::open(path);
            if (!state)
                return state.error().message;
            directory::StoredDirectory stored(**state, profile);
            const QDateTime storedAt = stored.storedAt();
            if (!storedAt.isValid())
                return QString(); // nothing stored for this directory yet
            const QDateTime now = QDateTime::currentDateTimeUtc();
            auto snapshot = std::make_shared<directory::DirectorySnapshot>();
            snapshot->server = profile.describe();
            snapshot->readAt = storedAt;
            snapshot->complete = true;
            std::vector<models::UsersModel::Row> rows;
            DashboardPane::Figures figures(now);
            Result<qint64> visited = qint64(0);
            qint64 users = 0;
            bool judge = true;
            if (stored.summariesComplete(&users)) {
                // What the table shows, as stored with the snapshot: one query, nothing judged.
                snapshot->summaryOnly = true;
                // Room for all at once: grown as they come, 100,000 users were moved again and again.
                // The table's rows are made, and the identities kept, where the summaries are decoded
                // (on both cores), each in its place; this thread only counts. Rows stored after the
                // count (by a read in another process) are taken here and come last.
                rows.resize(size_t(users));
                snapshot->users.resize(users);
                directory::DirectoryUser *identities = snapshot->users.data();
                std::vector<models::UsersModel::Row> laterRows;
                QList<directory::DirectoryUser> laterUsers;
                qint64 position = 0;
                visited = stored.forEachSummary(
                    [&](directory::UserSummary &&summary) {
                        if (task.isCanceled())
                            return false;
                        if (position++ >= users) {
                            laterRows.push_back(models::UsersModel::summarize(summary, now));
                            laterUsers.append(std::move(summary.identity));
                        }
                        figures.add(summary);
                        return true;
                    },
                    [&rows, identities, users, now](qint64 at, directory::UserSummary &summary) {
                        if (at >= users)
                            return;
                        rows[size_t(at)] = models::UsersModel::summarize(summary, now);
                        identities[at] = std::move(summary.identity);
                    });
                rows.resize(size_t(std::min(position, users)));
                snapshot->users.resize(std::min(position, users));
                std::move(laterRows.begin(), laterRows.end(), std::back_inserter(rows));
                snapshot->users.append(std::move(laterUsers));
                judge = !visited && visited.error().code == QLatin1String("summary_unreadable");
                if (judge) {
                    // Summaries of an older format, or damaged: the users are judged below instead.
                    task.log(
                        jobs::LogRecord::Level::Info,
                        tr("The stored summaries cannot be used (%1): the stored users are judged again.")
                            .arg(visited.error().message));
                    snapshot->summaryOnly = false;
                    snapshot->users.clear();
                    rows.clear();
                    figures = DashboardPane::Figures(now);
                }
            }
            if (judge) {
                // A database made before the summaries (or with unusable ones): judged now, from the
                // cached analyses (the stored values are known by their SHA-256). The refresh that
                // follows stores them.
                auto cache = store::SqliteAnalysisCache::load(**state);
                if (!cache)
                    return cache.error().message;
                const certs::ValueAnalyzer analyzer(*trust, certs::CertificateJudge(policy), cache->get());
                visited = stored.forEachUser(analyzer, now, [&](directory::DirectoryUser &&user) {
                    if (task.isCanceled())
                        return false;
                    snapshot->values += user.valueCount();
                    snapshot->users.append(std::move(user));
                    return true;
                });
            }
            if (!visited)
                return visited.error().message;
            if (task.isCanceled())
                return tr("canceled");
            snapshot->entries = snapshot->users.size();
            if (snapshot->summaryOnly)
                out->emplace(
                    ShownSnapshot { models::UsersModel::prepare(snapshot, std::move(rows)), figures });
            else
                out->emplace(prepareSnapshot(snapshot, now));
            return QString();
        });
    connect(job, &jobs::Job::finished, this, [this, out](bool ok, const QString &error) {
        if (!ok) {
            logLine(jobs::LogRecord::Level::Warning, tr("stored snapshot"),
                    tr("The stored directory snapshot cannot be shown: %1").arg(error));
            emit storedDirectoryNotShown(error);
            return;
        }
        if (!*out || m_users->snapshot())
            return; // nothing stored, or a read was done first
        m_shownSnapshotIsStored = true;
        const auto snapshot = (*out)->prepared.snapshot;
        applySnapshot(std::move(**out));
        showStoredBanner();
        emit storedDirectoryShown(int(snapshot->users.size()));
        matchTenant(); // with the stored tenant read, when there is one
    });
    m_viewRunner.run(job);
}

MainWindow::ShownSnapshot
MainWindow::prepareSnapshot(std::shared_ptr<const directory::DirectorySnapshot> snapshot,
                            const QDateTime &now)
{
    DashboardPane::Figures figures(now);
    for (const directory::DirectoryUser &user : snapshot->users)
        figures.add(user);
    return { models::UsersModel::prepare(std::move(snapshot), now), figures };
}

void MainWindow::readDirectory()
{
    if (!m_directorySettings) {
        statusBar()->showMessage(tr("No directory is configured. Start with --demo to try the built-in one."),
                                 10000);
        return;
    }
    if (!idle())
        return;
    // Three jobs on the runner, one after another: open the state database, read (analyses looked up
    // and kept in its cache, users stored as the pages arrive), then commit the snapshot or roll it back.
    auto session = std::make_shared<StoredRead>();
    directory::DirectoryReadSettings settings = *m_directorySettings;
    if (settings.trust)
        settings.cache = std::make_shared<StoredReadCache>(session);
    auto *open = new jobs::TaskJob(
        tr("directory read"), [path = m_statePath, profile = settings.profile, session](jobs::TaskJob &job) {
            auto state = store::StateStore::open(path);
            auto cache = state ? store::SqliteAnalysisCache::load(**state)
                               : Result<std::shared_ptr<store::SqliteAnalysisCache>>(state.error());
            if (!cache) {
                // The read goes on without the cache, and its snapshot is not kept.
                job.log(jobs::LogRecord::Level::Warning,
                        tr("The state database cannot be used, so this read is neither cached nor kept: %1")
                            .arg(cache.error().message));
                return QString();
            }
            session->state = std::move(*state);
            session->cache = std::move(*cache);
            session->stored.emplace(*session->state, profile);
            return QString();
        });
    auto *job = new directory::DirectoryReadJob(std::move(settings));
    connect(
        job, &directory::DirectoryReadJob::readPlanned, job,
        [session](bool changesOnly) {
            if (session->stored)
                session->keep(session->stored->begin(!changesOnly));
        },
        Qt::DirectConnection);
    connect(
        job, &directory::DirectoryReadJob::usersRead, job,
        [session](const QList<directory::DirectoryUser> &users) {
            if (!session->stored || !session->failure.isEmpty())
                return;
            session->keep(session->stored->store(users));
            if (session->failure.isEmpty() && session->cache->pending() >= cacheBatch)
                session->keep(session->cache->writeIntoTransaction());
        },
        Qt::DirectConnection);
    connect(
        job, &directory::DirectoryReadJob::snapshotReady, job,
        [session](const std::shared_ptr<directory::DirectorySnapshot> &snapshot) {
            session->snapshot = snapshot;
        },
        Qt::DirectConnection);
    connect(job, &directory::DirectoryReadJob::snapshotReady, this, &MainWindow::onSnapshot);
    connect(job, &jobs::Job::finished, this, [this](bool ok, const QString &summary) {
        statusBar()->showMessage(ok ? summary : tr("Directory read stopped: %1").arg(summary), 15000);
        // The status bar's message is gone at the next status tip; the log keeps why a read stopped.
        if (!ok)
            logLine(jobs::LogRecord::Level::Warning, tr("directory read"),
                    tr("Directory read stopped: %1").arg(summary));
    });
    auto *keep = new jobs::TaskJob(tr("directory read"), [session](jobs::TaskJob &task) {
        if (!session->stored)
            return QString();
        const bool complete = session->snapshot && session->snapshot->complete;
        if (complete && session->failure.isEmpty())
            session->keep(session->cache->writeIntoTransaction());
        if (complete && session->failure.isEmpty())
            session->keep(session->stored->commit(session->snapshot->mark));
        else {
            session->cache->takeBackWritten(); // what was analysed stays useful
            session->stored->rollback(); // a part of the directory is never kept as the snapshot
        }
        session->cache->transactionEnded(complete && session->failure.isEmpty());
        session->keep(session->cache->flush()); // what was analysed stays useful
        if (!session->failure.isEmpty())
            task.log(jobs::LogRecord::Level::Warning,
                     tr("The directory snapshot was not stored: %1").arg(session->failure));
        return QString();
    });
    connect(open, &jobs::Job::logRecord, this, &MainWindow::appendLog);
    follow(job, keep);
    connect(keep, &jobs::Job::logRecord, this, &MainWindow::appendLog);
    m_runner.run(open);
    m_runner.run(job);
    m_runner.run(keep);
}

void MainWindow::applySnapshot(ShownSnapshot shown)
{
    // The person keeps their place: the selected user (by DN) and the scroll position.
    const directory::DirectoryUser *selected = m_shownRow >= 0 ? m_users->user(m_shownRow) : nullptr;
    const QString shownDn = selected ? selected->dn : QString();
    QScrollBar *scroll = m_usersPane->table()->verticalScrollBar();
    const int scrolled = scroll->value();

    const auto snapshot = shown.prepared.snapshot;
    m_users->setPrepared(std::move(shown.prepared));
    m_dashboard->setFigures(shown.figures, snapshot->server, snapshot->readAt);
    m_shownRow = -1;
    m_matchByDn.clear();
    m_matchedTenant.reset();
    const int row = shownDn.isEmpty() ? -1 : m_users->rowOfDn(shownDn);
    if (row >= 0)
        m_usersPane->selectSourceRow(row); // shows the user again, from the new snapshot
    else
        m_certificatePane->clear();
    scroll->setValue(scrolled);
}

} // namespace certsync::ui
