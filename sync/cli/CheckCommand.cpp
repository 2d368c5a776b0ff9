#include "cli/CheckCommand.h"

#include "cli/CommandLine.h"
#include "cli/ConnectionOptions.h"
#include "engine/UserCheck.h"

#include <QCommandLineParser>
#include <QEventLoop>
#include <QJsonDocument>

namespace certsync::cli {

int runCheck(const QStringList &arguments, QTextStream &out, QTextStream &err)
{
    QCommandLineParser parser;
    ConnectionOptions connection;
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Machine-readable output (JSON)."));
    const QCommandLineOption directoryOnly(QStringLiteral("directory-only"),
                                           QStringLiteral("Check the directory only, without a tenant."));
    parser.setApplicationDescription(
        QStringLiteral("Can senders encrypt to this person? WHO is a mail address, UPN, account name or DN.\n"
                       "Exit 0: yes on every path checked; 5: no; 1: failure; 2: usage."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("WHO"), QStringLiteral("The user to check."));
    parser.addOptions({ json, directoryOnly });
    parser.addOptions(connection.all());
    auto usage = [&](const QString &problem) {
        err << "certsync check: " << problem << "; run 'certsync check --help'\n";
        return int(Usage);
    };
    auto fail = [&](const QString &problem) {
        err << "certsync check: " << problem << '\n';
        return int(Failure);
    };
    if (!parser.parse(QStringList { QStringLiteral("certsync check") } + arguments))
        return usage(parser.errorText());
    if (parser.isSet(QStringLiteral("help"))) {
        out << commandHelp(parser, QStringLiteral("check"));
        return Success;
    }
    if (parser.positionalArguments().size() != 1 || parser.positionalArguments().first().trimmed().isEmpty())
        return usage(parser.positionalArguments().isEmpty() ? QStringLiteral("name the user to check (WHO)")
                                                            : QStringLiteral("name exactly one user"));
    const QString who = parser.positionalArguments().first().trimmed();
    auto configuration = effectiveConfiguration(parser, connection);
    if (!configuration)
        return configuration.error().code == QLatin1String("usage") ? usage(configuration.error().message)
                                                                    : fail(configuration.error().message);
    if (!configuration->directory)
        return usage(
            QStringLiteral("--ldap-url and --base-dn are required (or a directory in the settings file)"));
    auto dirSettings = directoryReadSettings(*configuration, parser, connection, true);
    if (!dirSettings)
        return fail(dirSettings.error().message);
    std::optional<tenant::TenantSettings> tenantConfig;
    if (!parser.isSet(directoryOnly)) {
        auto t = tenantSettings(*configuration, parser, connection);
        if (!t)
            return fail(t.error().message);
        if (!*t)
            return usage(QStringLiteral("no tenant configured: give the tenant options, or --directory-only "
                                        "to check the directory alone"));
        tenantConfig = std::move(*t);
    }

    engine::UserCheckSettings check;
    check.directory = **dirSettings;
    check.tenant = tenantConfig;
    check.who = who;
    check.statePath = statePath(*configuration, parser, connection);
    // The job the console's live look-up runs, on a worker thread as there.
    jobs::JobRunner runner;
    auto *job = new engine::UserCheckJob(std::move(check));
    std::optional<engine::UserCheck> result;
    QEventLoop loop;
    QObject::connect(job, &engine::UserCheckJob::checked, &loop,
                     [&](const engine::UserCheck &c) { result = c; });
    QObject::connect(job, &jobs::Job::logRecord, &loop, [&](const jobs::LogRecord &r) {
        if (r.level >= jobs::LogRecord::Level::Warning)
            err << "certsync check: " << r.message << '\n';
    });
    const QString failure = runner.runToEnd(job, loop);
    if (!result)
        return fail(failure);
    if (!result->tenantNote.isEmpty())
        err << "certsync check: tenant: " << result->tenantNote << '\n';
    const engine::EncryptionVerdict &verdict = result->verdict;
    if (parser.isSet(json)) {
        QJsonObject o = verdict.toJson();
        o.insert(QStringLiteral("dn"), result->user.dn);
        if (o.value(QStringLiteral("tenant")).isObject()) {
            // How the recipient is mastered: synced, and whether Exchange Online masters its Exchange
            // attributes (IsExchangeCloudManaged; null when the answer does not carry it).
            QJsonObject t = o.value(QStringLiteral("tenant")).toObject();
            const std::optional<tenant::ExchangeRecipient> recipient =
                result->tenantUser ? result->tenantUser->recipient : std::nullopt;
            t.insert(QStringLiteral("synced"),
                     result->tenantUser ? QJsonValue(result->tenantUser->user.isSynced()) : QJsonValue());
            t.insert(QStringLiteral("exchange_cloud_managed"),
                     recipient && recipient->isExchangeCloudManaged
                         ? QJsonValue(*recipient->isExchangeCloudManaged)
                         : QJsonValue());
            o.insert(QStringLiteral("tenant"), t);
        }
        out << QJsonDocument(o).toJson(QJsonDocument::Indented);
    } else {
        out << verdict.ticketText();
    }
    return verdict.canEncrypt() ? int(Success) : int(CannotEncrypt);
}

} // namespace certsync::cli
