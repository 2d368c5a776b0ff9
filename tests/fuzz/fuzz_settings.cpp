// libFuzzer target: the settings file a person edits (INI, read by Configuration's loadFile). A file
// it accepts must survive the round trip: saved and loaded again, it saves to the same bytes.
#include "config/Configuration.h"

#include "FuzzSupport.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace certsync::config;

namespace {

QByteArray readAll(const QString &path)
{
    QFile file(path);
    check(file.open(QIODevice::ReadOnly), "cannot read back a saved file");
    return file.readAll();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    // In memory when it can be: saving syncs the file to disk, which would dominate the run time.
    static QTemporaryDir dir(QDir(QStringLiteral("/dev/shm")).exists()
                                 ? QStringLiteral("/dev/shm/fuzz_settings-XXXXXX")
                                 : QDir::tempPath() + QStringLiteral("/fuzz_settings-XXXXXX"));
    static int n = 0;
    // A new name each time: QSettings keeps files it has read in a cache keyed by path and mtime,
    // which one-second mtimes would turn stale between two inputs.
    const QString base = dir.filePath(QString::number(++n));
    const QString input = base + QStringLiteral(".conf");
    {
        QFile file(input);
        check(file.open(QIODevice::WriteOnly), "cannot write the input file");
        check(file.write(reinterpret_cast<const char *>(data), qint64(size)) == qint64(size), "short write");
    }
    const auto loaded = loadFile(input);
    if (loaded.ok()) {
        const QString once = base + QStringLiteral("-1.conf");
        const QString twice = base + QStringLiteral("-2.conf");
        check(saveFile(loaded.value(), once).ok(), "a loaded configuration cannot be saved");
        const auto reloaded = loadFile(once);
        if (!reloaded.ok()) {
            fprintf(stderr, "%s\n", qPrintable(reloaded.error().message));
            check(false, "a saved configuration does not load again");
        }
        check(saveFile(reloaded.value(), twice).ok(), "a reloaded configuration cannot be saved");
        check(readAll(once) == readAll(twice), "save(load(save(x))) differs from save(x)");
        QFile::remove(once);
        QFile::remove(twice);
    } else {
        check(!loaded.error().message.isEmpty(), "an error without a message");
    }
    QFile::remove(input);
    reportLiveHeap();
    return 0;
}
