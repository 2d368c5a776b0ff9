#pragma once

#include <QStringList>
#include <QTextStream>

namespace certsync::cli {

// The sync engine's commands of DESIGN.md: diff, plans, show, approve, reject, publish, export.
// `command` is the subcommand word; `arguments` what follows it.
bool isSyncCommand(const QString &command);
int runSyncCommand(const QString &command, const QStringList &arguments, QTextStream &out, QTextStream &err);

} // namespace certsync::cli
