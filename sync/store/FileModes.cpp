#include "store/FileModes.h"

#include <QDir>
#include <QFileInfo>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace certsync::store {

namespace {

Error ioError(const QString &what, int error)
{
    return Error { QStringLiteral("io"),
                   QStringLiteral("%1: %2").arg(what, QString::fromLocal8Bit(strerror(error))) };
}

} // namespace

unsigned fileModeFor(const QString &folder)
{
    struct stat st
    {
    };
    if (::stat(QFile::encodeName(folder).constData(), &st) == 0 && (st.st_mode & S_ISGID))
        return 0660;
    return 0600;
}

Result<void> makeFolder(const QString &folder)
{
    const QString absolute = QFileInfo(folder).absoluteFilePath();
    if (QFileInfo(absolute).isDir())
        return {};
    if (auto parent = makeFolder(QFileInfo(absolute).path()); !parent)
        return parent;
    if (::mkdir(QFile::encodeName(absolute).constData(), 0700) != 0 && errno != EEXIST)
        return ioError(QStringLiteral("cannot create the folder %1").arg(absolute), errno);
    return {};
}

Result<void> applyFolderMode(const QString &file)
{
    const QByteArray name = QFile::encodeName(file);
    struct stat st
    {
    };
    if (::stat(name.constData(), &st) != 0)
        return ioError(QStringLiteral("cannot read the permissions of %1").arg(file), errno);
    if (st.st_uid != ::geteuid())
        return {};
    const mode_t wanted = fileModeFor(QFileInfo(file).absolutePath());
    if ((st.st_mode & 07777) != wanted && ::chmod(name.constData(), wanted) != 0)
        return ioError(QStringLiteral("cannot set the permissions of %1").arg(file), errno);
    return {};
}

Result<bool> prepareDatabaseFile(const QString &path)
{
    const QByteArray name = QFile::encodeName(path);
    const mode_t wanted = fileModeFor(QFileInfo(path).absolutePath());
    // SQLite creates the WAL and shm files with the umask's mode and only then gives them the
    // database's: another account opening the database in that moment would be refused. In a shared
    // folder the process's umask lets the group in from the start (never other accounts).
    if (wanted == 0660)
        ::umask(007);
    const int fd = ::open(name.constData(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, wanted);
    if (fd >= 0) {
        const int changed = ::fchmod(fd, wanted); // the umask does not decide
        const int error = errno;
        ::close(fd);
        if (changed != 0)
            return ioError(QStringLiteral("cannot set the permissions of %1").arg(path), error);
        return true;
    }
    if (errno != EEXIST)
        return ioError(QStringLiteral("cannot create the state database %1").arg(path), errno);
    for (const QString &file :
         QStringList { path, path + QStringLiteral("-wal"), path + QStringLiteral("-shm") })
        if (QFileInfo::exists(file))
            if (auto applied = applyFolderMode(file); !applied)
                return applied.error();
    return false;
}

} // namespace certsync::store
