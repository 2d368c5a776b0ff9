#include "store/WriteBehind.h"

#include "core/Logging.h"

#include <QDir>
#include <QFile>

#include <chrono>

#include <fcntl.h>
#include <sys/stat.h>

namespace certsync::store {

namespace {

// The one descriptor of this process open on `path`'s file, or -1 when there is none or several.
int onlyDescriptorOf(const QString &path, int *found)
{
    *found = 0;
    struct stat file
    {
    };
    if (::stat(QFile::encodeName(path).constData(), &file) != 0)
        return -1;
    int descriptor = -1;
    const QStringList entries = QDir(QStringLiteral("/proc/self/fd")).entryList(QDir::Files | QDir::System);
    for (const QString &entry : entries) {
        bool number = false;
        const int fd = entry.toInt(&number);
        struct stat status
        {
        };
        if (number && ::fstat(fd, &status) == 0 && status.st_dev == file.st_dev
            && status.st_ino == file.st_ino) {
            descriptor = fd;
            ++*found;
        }
    }
    return *found == 1 ? descriptor : -1;
}

} // namespace

WriteBehind::WriteBehind(const QString &path, int intervalMs)
    : m_path(path)
{
#ifdef __linux__
    int descriptors = 0;
    m_fd = onlyDescriptorOf(path, &descriptors);
    if (m_fd < 0) {
        qCDebug(lcStore) << "no write-behind for" << path << ":" << descriptors
                         << "descriptors open on it, not one";
        return;
    }
    m_thread = std::thread([this, intervalMs] { run(intervalMs); });
#else
    Q_UNUSED(intervalMs);
#endif
}

WriteBehind::~WriteBehind()
{
    {
        const std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable()) {
        m_thread.join();
        qCDebug(lcStore) << "write-behind of" << m_path << "ended after" << m_requests << "write-outs asked";
    }
}

void WriteBehind::run(int intervalMs)
{
#ifdef __linux__
    std::unique_lock lock(m_mutex);
    while (!m_wake.wait_for(lock, std::chrono::milliseconds(intervalMs), [this] { return m_stop; })) {
        lock.unlock();
        // Whole file (offset 0, length 0 = to its end); pages already being written are left alone.
        if (::sync_file_range(m_fd, 0, 0, SYNC_FILE_RANGE_WRITE) == 0)
            ++m_requests;
        lock.lock();
    }
#else
    Q_UNUSED(intervalMs);
#endif
}

} // namespace certsync::store
