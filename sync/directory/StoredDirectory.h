#pragma once

// The directory side of the state database: the last complete snapshot of one directory (its users'
// identifiers and raw values, one row each) and the mark where the next incremental read continues.
// An incremental read replaces the rows of the users it read; the merged snapshot is then streamed
// from the rows, analysed again through the analysis cache (warm: values are known by SHA-256).
// Deleted users stay in it until the next full read, as the log says.

#include "certs/ValueAnalyzer.h"
#include "core/Result.h"
#include "directory/DirectorySnapshot.h"
#include "jobs/LogRecord.h"

#include <QSet>

#include <functional>
#include <optional>

namespace certsync::store {
class StateStore;
}

namespace certsync::directory {

// What a stored snapshot and its mark belong to: kind, URL, base DN, the effective filter and the
// attributes read. Any of them changed finds nothing stored, and so reads in full.
QString storedDirectoryKey(const ConnectionProfile &profile);

// Identifiers and raw values; no analysis (re-derived, and cached by SHA-256 elsewhere).
QByteArray encodeStoredUser(const DirectoryUser &user);
std::optional<DirectoryUser> decodeStoredUser(const QByteArray &bytes);

// DirectoryReadJob's record of why a read is full or incremental (another DC; changes only, so
// deleted users need a full read): commands show it to the person who ran them.
bool isReadPlanNote(const jobs::LogRecord &record);

class StoredDirectory
{
public:
    StoredDirectory(store::StateStore &state, const ConnectionProfile &profile);
    ~StoredDirectory(); // rolls back what was not committed

    // The mark of the last complete read, when there is one; `why` says why there is none.
    [[nodiscard]] std::optional<ReadMark> mark(QString *why) const;

    // One transaction per read: nothing of a failed read is kept. A full read stores every user in
    // the directory's order (rewriting only what changed) and drops the users it did not meet.
    Result<void> begin(bool fullRead);
    Result<void> store(const QList<DirectoryUser> &users); // replaces rows by DN
    Result<void> commit(const ReadMark &mark);
    void rollback();

    // The stored users in the order they were first read, analysed. `visit` returns false to stop. Returns
    // the users visited.
    Result<qint64> forEachUser(const certs::ValueAnalyzer &analyzer, const QDateTime &now,
                               const std::function<bool(DirectoryUser &&)> &visit) const;

private:
    store::StateStore &m_state;
    QString m_key;
    bool m_open = false;
    bool m_fullRead = false;
    QSet<QString> m_read; // the row keys a full read stored; the others are dropped at commit
    qint64 m_nextSeq = 1;
};

} // namespace certsync::directory
