#pragma once

#include <QString>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace certsync::store {

// Asks the kernel, a few times a second, to start writing a file's dirty pages to disk, without
// waiting for them (Linux's sync_file_range with SYNC_FILE_RANGE_WRITE), from a thread of its own,
// until destroyed. For a large file written in one transaction: its commit's fdatasync then finds
// most pages already written instead of writing them all while the process waits. A cold 50,000-user
// inventory writes 280 MB into a new state database; that fdatasync was 0.17-0.23 s of its end
// (docs/BENCHMARKS.md, session 13). PostgreSQL (backend_flush_after) and RocksDB (bytes_per_sync) do
// the same for the same reason.
//
// It asks through the descriptor the file's writer (SQLite) already has open, found by the file's
// device and inode among the process's descriptors, and never opens or closes one of its own: closing
// any descriptor of a file drops every POSIX lock the process holds on it, SQLite's included
// (sqlite.org/howtocorrupt.html, 2.2). So the writer must keep that descriptor open while this
// lives, and must be the only one with the file open (with none, or several, it does nothing).
//
// Safe whatever the writer does: the kernel may write any dirty page back at any time anyway, so this
// changes when pages reach the disk, never what or in which order durability is promised (only fsync
// and fdatasync promise anything). Elsewhere than Linux it does nothing.
class WriteBehind
{
public:
    explicit WriteBehind(const QString &path, int intervalMs = 250);
    ~WriteBehind(); // stops the thread, which ends within a request
    WriteBehind(const WriteBehind &) = delete;
    WriteBehind &operator=(const WriteBehind &) = delete;

    [[nodiscard]] bool running() const { return m_thread.joinable(); }
    [[nodiscard]] int requests() const { return m_requests; } // write-outs asked for so far

private:
    void run(int intervalMs);

    QString m_path;
    int m_fd = -1; // the writer's, not ours: never closed here
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stop = false;
    std::atomic<int> m_requests = 0;
    std::thread m_thread;
};

} // namespace certsync::store
