#include "cli/CommandLine.h"

#include "cli/CheckCommand.h"
#include "cli/InspectCommand.h"
#include "cli/InventoryCommand.h"
#include "cli/SyncCommands.h"
#include "core/Versions.h"

#include <QCoreApplication>

namespace certsync::cli {

namespace {

const QStringList subcommands = { QStringLiteral("inspect"), QStringLiteral("inventory") };

QString usage()
{
    return QStringLiteral(
        "Usage: certsync [COMMAND] [OPTIONS]\n"
        "Without a command, opens the certsync console.\n"
        "\n"
        "Commands:\n"
        "  inspect FILE...   show a certificate, PEM bundle or PKCS#7 file's details and verdict\n"
        "  inventory         read the directory, judge every certificate, write a CSV (--csv FILE)\n"
        "  check WHO         can senders encrypt to this person? (exit 5: no; --json)\n"
        "  diff              read both sides, store a staged plan, print its summary (--json)\n"
        "  plans             list the stored plans (--json)\n"
        "  show PLAN         a plan's items, decisions, journal and findings (--json)\n"
        "  approve PLAN      approve items (--item N ... or --all, --comment TEXT)\n"
        "  reject PLAN       reject items (--item N ... or --all, --comment TEXT)\n"
        "  publish PLAN      apply the approved items (exit 3: some failed, 4: refused by a guard)\n"
        "                    (approve, reject, publish: exit 6 when the approval rules refuse you)\n"
        "  export REPORT     inventory, expiring, problems, plan PLAN or audit as CSV (--csv FILE)\n"
        "  runs              the run history: every run, latest first (--json, --limit N)\n"
        "  log RUN           a run's log records (--json, or --csv FILE)\n"
        "  audit verify      check the audit trail's hash chain (--journal FILE; exit 7: broken)\n"
        "\n"
        "Options:\n"
        "  --demo            open the console on the built-in demo\n"
        "  --version         print versions and exit\n"
        "  --help            print this help\n"
        "\n"
        "Run 'certsync COMMAND --help' for a command's options.\n");
}

} // namespace

bool isHeadless(const QStringList &arguments)
{
    if (arguments.isEmpty())
        return false;
    const QString &first = arguments.first();
    if (first == QLatin1String("--demo"))
        return false;
    // Qt's own options (-platform, -style, -reverse) belong to the console; anything else, including
    // an unknown --option, goes to the command line, which names what it did not understand.
    return !(first.startsWith(QLatin1Char('-')) && !first.startsWith(QLatin1String("--")));
}

QString commandHelp(const QCommandLineParser &parser, const QString &command)
{
    QString text = parser.helpText();
    const QString usage = QStringLiteral("Usage: ");
    const QStringList arguments = QCoreApplication::arguments();
    const QString program = arguments.isEmpty() ? QString() : arguments.constFirst();
    if (!program.isEmpty() && text.startsWith(usage + program))
        text.replace(usage.size(), program.size(), QStringLiteral("certsync ") + command);
    return text;
}

QString versionText()
{
    QString text;
    for (const ComponentVersion &component : runtimeVersions())
        text += component.name % QLatin1Char(' ') % component.version % QLatin1Char('\n');
    return text;
}

int run(const QStringList &arguments, QTextStream &out, QTextStream &err)
{
    if (arguments.isEmpty() || arguments.first() == QLatin1String("--help")
        || arguments.first() == QLatin1String("-h")) {
        out << usage();
        return Success;
    }
    const QString &command = arguments.first();
    if (command == QLatin1String("--version") || command == QLatin1String("-v")) {
        out << versionText();
        return Success;
    }
    if (command == QLatin1String("inspect"))
        return runInspect(arguments.mid(1), out, err);
    if (command == QLatin1String("inventory"))
        return runInventory(arguments.mid(1), out, err);
    if (command == QLatin1String("check"))
        return runCheck(arguments.mid(1), out, err);
    if (isSyncCommand(command))
        return runSyncCommand(command, arguments.mid(1), out, err);
    if (command.startsWith(QLatin1String("--")))
        err << "certsync: unknown option '" << command << "'; run 'certsync --help'\n";
    else
        err << "certsync: unknown command '" << command << "'; run 'certsync --help'\n";
    return Usage;
}

} // namespace certsync::cli
