#pragma once

#include "certs/CertificateJudge.h"
#include "certs/TrustStore.h"
#include "certs/ValueAnalyzer.h"
#include "directory/DirectorySnapshot.h"
#include "jobs/Job.h"

#include <QDateTime>

#include <memory>
#include <optional>

namespace certsync::directory {

struct ReportSettings;

struct DirectoryReadSettings
{
    ConnectionProfile profile;
    QString password; // never logged; cleared from the job when the bind is done
    std::shared_ptr<const certs::TrustStore> trust;
    certs::JudgePolicy policy;
    // Remembers analyses by the value's SHA-256 (the state database's across runs). May be null.
    std::shared_ptr<certs::AnalysisCache> cache;
    // Continue from this mark when it is for the same server (and, on AD, the same DC).
    std::optional<ReadMark> previous;
    // False streams pages through usersRead() only and leaves the snapshot without users: an
    // inventory of 100,000 users then never holds them all at once.
    bool keepUsers = true;
    QDateTime now; // judgement time; invalid = the current time
    int maxPagesInFlight = 4; // pages read ahead of the analysis
    // The inventory's: every user gets a report (DirectoryUser::report); a full read reuses the stored
    // report of each user whose entry is unchanged. Null: no reports.
    std::shared_ptr<const ReportSettings> reports;
};

// Reads every user (or every changed user) of a directory on the worker thread, page by page, and
// analyses the certificate values on a thread pool while the next page is being read. Emits each
// analysed page in directory order, then one snapshot, then finished(). The snapshot is also
// emitted after a failure, marked incomplete with the error, so that no caller mistakes a part of
// the directory for the whole.
class DirectoryReadJob : public jobs::Job
{
    Q_OBJECT
public:
    explicit DirectoryReadJob(DirectoryReadSettings settings, QObject *parent = nullptr);
    ~DirectoryReadJob() override;

signals:
    // Before the first page: whether only changes since the previous mark will be read.
    void readPlanned(bool incremental);
    void usersRead(const QList<certsync::directory::DirectoryUser> &users);
    void snapshotReady(const std::shared_ptr<certsync::directory::DirectorySnapshot> &snapshot);

protected:
    void doStart() override;

private:
    void fail(const std::shared_ptr<DirectorySnapshot> &snapshot, const Error &error);

    DirectoryReadSettings m_settings;
};

} // namespace certsync::directory
