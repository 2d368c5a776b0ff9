#include "cli/CheckCommand.h"

#include "certs/SerializedStore.h"
#include "cli/CommandLine.h"
#include "cli/ConnectionOptions.h"
#include "directory/UserLookup.h"
#include "engine/Verdict.h"
#include "tenant/ExchangeClient.h"
#include "tenant/GraphClient.h"
#include "tenant/TenantHttp.h"

#include <QCommandLineParser>
#include <QEventLoop>
#include <QJsonDocument>

namespace certsync::cli {

namespace {

struct TenantRead
{
    engine::TenantView view;
    QString note; // why the user or recipient counts as absent, for stderr
};

bool isNotFound(const tenant::TenantError &e)
{
    return e.httpStatus == 404 || e.code == QLatin1String("notFound");
}

// The tenant side of one directory user: its Entra user (by UPN, else mail), checked against the
// source anchor, and its Exchange recipient with the published values.
Result<TenantRead> readTenant(const tenant::TenantSettings &settings, const directory::DirectoryUser &user,
                              const certs::ValueAnalyzer &analyzer, const QDateTime &now)
{
    TenantRead read;
    const QString name = !user.userPrincipalName.isEmpty() ? user.userPrincipalName : user.mail;
    if (name.isEmpty()) {
        read.note = QStringLiteral("the directory user has neither UPN nor mail to find it in Microsoft 365");
        return read;
    }
    tenant::TenantHttp http(settings);
    tenant::GraphClient graph(&http);
    tenant::ExchangeClient exchange(&http);
    QEventLoop loop;
    std::optional<tenant::TenantError> failure;
    std::optional<tenant::GraphUser> graphUser;
    std::optional<tenant::ExchangeRecipient> recipient;
    graph.getUser(name, [&](tenant::TenantResult<tenant::GraphUser> r) {
        if (!r) {
            if (!isNotFound(r.error()))
                failure = r.error();
            loop.quit();
            return;
        }
        graphUser = std::move(r).value();
        exchange.getRecipient(graphUser->id, [&](tenant::TenantResult<tenant::ExchangeRecipient> rr) {
            if (rr)
                recipient = std::move(rr).value();
            else if (!isNotFound(rr.error()))
                failure = rr.error();
            loop.quit();
        });
    });
    loop.exec();
    if (failure)
        return failure->toError();
    if (!graphUser) {
        read.note = QStringLiteral("no Microsoft 365 user %1").arg(name);
        return read;
    }
    // A synced user is the same person only when its anchor is the directory user's.
    const QString anchor = graphUser->onPremisesImmutableId;
    if (graphUser->isSynced() && !anchor.isEmpty() && anchor != user.sourceAnchor
        && anchor != user.consistencyGuid) {
        read.note = QStringLiteral("Microsoft 365 user %1 is synced from another directory object "
                                   "(onPremisesImmutableId %2)")
                        .arg(name, anchor);
        return read;
    }
    read.view.userFound = true;
    read.view.synced = graphUser->isSynced();
    read.view.hasRecipient = recipient.has_value();
    if (!recipient)
        return read;
    read.view.published = analyzer.analyzeUser(recipient->userCertificate, recipient->userSMimeCertificate,
                                               user.context(), now);

    // Exchange Online's own trust: the S/MIME CA collection. None uploaded trusts nothing.
    std::optional<QByteArray> store;
    exchange.getSmimeIssuingCa([&](tenant::TenantResult<QByteArray> r) {
        if (r)
            store = std::move(r).value();
        else
            failure = r.error();
        loop.quit();
    });
    loop.exec();
    if (failure)
        return failure->toError();
    QList<certs::Certificate> collection;
    if (!store->isEmpty()) {
        auto entries = certs::decodeSerializedStore(*store);
        if (!entries)
            return Error { entries.error().code,
                           QStringLiteral("Get-SmimeConfig: ") + entries.error().message };
        for (const certs::SerializedStoreEntry &entry : *entries) {
            auto parsed = certs::parseDer(entry.der);
            if (!parsed)
                return Error { parsed.error().code,
                               QStringLiteral("Get-SmimeConfig: a certificate of the S/MIME collection: ")
                                   + parsed.error().message };
            collection.append(parsed->info);
        }
    }
    read.view.smimeCollection = collection;
    return read;
}

} // namespace

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

    const QDateTime now = QDateTime::currentDateTimeUtc();
    const directory::DirectoryReadSettings &settings = **dirSettings;
    auto user = directory::lookUpUser(settings, who, now);
    if (!user)
        return fail(QStringLiteral("directory: ") + user.error().message);

    engine::VerdictInput input;
    input.who = !user->userPrincipalName.isEmpty() ? user->userPrincipalName
        : !user->mail.isEmpty()                    ? user->mail
                                                   : user->dn;
    input.now = now;
    input.directory = user->values;
    if (tenantConfig) {
        const certs::ValueAnalyzer analyzer(*settings.trust, certs::CertificateJudge(settings.policy));
        auto read = readTenant(*tenantConfig, *user, analyzer, now);
        if (!read)
            return fail(QStringLiteral("tenant: ") + read.error().message);
        if (!read->note.isEmpty())
            err << "certsync check: tenant: " << read->note << '\n';
        input.tenant = read->view;
    }
    const engine::EncryptionVerdict verdict = engine::computeVerdict(input);
    if (parser.isSet(json)) {
        QJsonObject o = verdict.toJson();
        o.insert(QStringLiteral("dn"), user->dn);
        out << QJsonDocument(o).toJson(QJsonDocument::Indented);
    } else {
        out << verdict.ticketText();
    }
    return verdict.canEncrypt() ? int(Success) : int(CannotEncrypt);
}

} // namespace certsync::cli
