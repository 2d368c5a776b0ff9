#include "store/WriteBehind.h"

#include "core/Logging.h"

#include <QFile>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace certsync::store {

WriteBehind::WriteBehind(const QString &path, int intervalMs)
{
#ifdef __linux__
    // Read-only is enough: the write-out is of the file's pages, whichever descriptor asks.
    m_fd = ::open(QFile::encodeName(path).constData(), O_RDONLY | O_CLOEXEC);
    if (m_fd < 0) {
        qCDebug(lcStore) << "no write-behind for" << path << ":" << strerror(errno);
        return;
    }
    m_thread = std::thread([this, intervalMs] { run(intervalMs); });
#else
    Q_UNUSED(path);
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
    if (m_thread.joinable())
        m_thread.join();
    if (m_fd >= 0)
        ::close(m_fd);
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
