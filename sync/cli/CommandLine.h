#pragma once

#include <QCommandLineParser>
#include <QStringList>
#include <QTextStream>

namespace certsync::cli {

// Exit codes of DESIGN.md's command-line contract.
// CannotEncrypt: `certsync check` answered "no" (a verdict, not a failure).
// NotAllowed: the approval rules refused this account (four-eyes, approval/approvers).
// AuditBroken: `certsync audit verify` found the trail changed.
enum ExitCode : int {
    Success = 0,
    Failure = 1,
    Usage = 2,
    Partial = 3,
    Refused = 4,
    CannotEncrypt = 5,
    NotAllowed = 6,
    AuditBroken = 7
};

// True when `arguments` (argv without the program name) name a headless subcommand or a
// global option such as --version; false means "open the console".
bool isHeadless(const QStringList &arguments);

// Runs a headless command. Output for people and scripts goes to `out`; one line per error to `err`.
int run(const QStringList &arguments, QTextStream &out, QTextStream &err);

QString versionText();

// A command's --help text, its usage line naming the command ("Usage: certsync inventory
// [options]"): QCommandLineParser names the program by the path it was started as, without it.
QString commandHelp(const QCommandLineParser &parser, const QString &command);

} // namespace certsync::cli
