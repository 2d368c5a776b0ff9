#pragma once

// Who can read what certsync writes. A folder shared by a group (its setgid bit set, as a team's
// state folder is: owned by the admins' group, mode 2770) gets files that the group reads and writes
// (0660), so that a second admin's account can approve in the same state database. Any other
// folder gets files only their owner reads (0600), and a state folder certsync creates is 0700.
// Nothing is ever readable by every local account. The process's umask is 077 from the start
// (app/main.cpp), so that a file is never world-readable even for a moment.

#include "core/Result.h"

#include <QString>

namespace certsync::store {

// 0660 in a setgid folder, 0600 elsewhere.
unsigned fileModeFor(const QString &folder);

// Creates `folder` (and missing parents) with mode 0700 for what it creates; an existing folder is
// left as it is.
Result<void> makeFolder(const QString &folder);

// Gives a file certsync just wrote (or owns) the mode its folder asks for. A file owned by another
// account is left alone (its owner made it so).
Result<void> applyFolderMode(const QString &file);

// Creates the file empty with the folder's mode when it does not exist (before SQLite opens it: the
// database's WAL and shm files then take the same mode), and fixes the mode of the database and its
// WAL and shm files when this account owns them. In a group's folder the process's umask becomes 007.
// True when it made the file (a new database).
Result<bool> prepareDatabaseFile(const QString &path);

} // namespace certsync::store
