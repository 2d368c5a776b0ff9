#pragma once

#include <QList>
#include <QString>

namespace certsync {

// A component certsync runs with, and its version as that component reports it at run time (a
// shared library upgraded under an installed certsync shows its new version here).
struct ComponentVersion
{
    QString name;
    QString version;
};

// certsync itself, Qt (run time, and the version it was built with), OpenSSL and libldap: what
// `certsync --version` prints and the About dialog shows.
QList<ComponentVersion> runtimeVersions();

} // namespace certsync
