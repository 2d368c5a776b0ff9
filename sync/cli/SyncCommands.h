#pragma once

#include <QStringList>
#include <QTextStream>

namespace certsync::store {
class RunRecorder;
}

namespace certsync::cli {

// The sync engine's commands of DESIGN.md: diff, plans, show, approve, reject, publish, export.
// `command` is the subcommand word; `arguments` what follows it.
bool isSyncCommand(const QString &command);
int runSyncCommand(const QString &command, const QStringList &arguments, QTextStream &out, QTextStream &err);

// The run history's word for an exit code: success, failure, partial, refused.
QString outcomeName(int exitCode);
// Stores a command's run and its log in the state database at `statePath`, pruning runs older than
// `retentionDays`; a failure to do so is a warning on `err`, not the command's failure.
void recordRun(const QString &statePath, const store::RunRecorder &run, int exitCode, int retentionDays,
               QTextStream &err);

} // namespace certsync::cli
