#pragma once

// The connection options of DESIGN.md's command-line contract, defined once for every command, and
// the one place that turns the settings file plus those options into directory and tenant settings:
// the settings file is the base, each option given on the command line overrides its key, and
// secrets come from the environment variable an option names, else from the OS keychain.

#include "config/Configuration.h"
#include "core/Result.h"
#include "directory/DirectoryReadJob.h"
#include "tenant/TenantSettings.h"

#include <QCommandLineOption>
#include <QList>

#include <optional>

class QCommandLineParser;

namespace certsync::cli {

struct ConnectionOptions
{
    ConnectionOptions();

    QCommandLineOption settings;
    QCommandLineOption stateDir;
    // directory
    QCommandLineOption profile;
    QCommandLineOption ldapUrl;
    QCommandLineOption baseDn;
    QCommandLineOption bindDn;
    QCommandLineOption passwordEnv;
    QCommandLineOption kerberos;
    QCommandLineOption caFile;
    QCommandLineOption serverSha256;
    QCommandLineOption noTls;
    QCommandLineOption filter;
    QCommandLineOption pageSize;
    QCommandLineOption timeout;
    // S/MIME trust and judgement
    QCommandLineOption trust;
    QCommandLineOption crl;
    QCommandLineOption warningDays;
    // tenant
    QCommandLineOption tenantId;
    QCommandLineOption clientId;
    QCommandLineOption secretEnv;
    QCommandLineOption clientCert;
    QCommandLineOption clientKey;
    QCommandLineOption keyPassphraseEnv;
    QCommandLineOption authorityUrl;
    QCommandLineOption graphUrl;
    QCommandLineOption exchangeUrl;
    QCommandLineOption tenantCa;

    [[nodiscard]] QList<QCommandLineOption> all() const;
};

// The settings file (--settings FILE, else CERTSYNC_CONFIG, else the user's) with the options on
// top. Holds no secret. Error code "usage" for a bad option, "config" for a bad settings file.
Result<config::Configuration> effectiveConfiguration(const QCommandLineParser &parser,
                                                     const ConnectionOptions &options);

// The directory to read, with its password; nullopt when none is configured. `needTrust` loads the
// S/MIME trust store (for reads that judge certificates).
Result<std::optional<directory::DirectoryReadSettings>>
directoryReadSettings(const config::Configuration &configuration, const QCommandLineParser &parser,
                      const ConnectionOptions &options, bool needTrust);

// The tenant with its credential; nullopt when none is configured.
Result<std::optional<tenant::TenantSettings>> tenantSettings(const config::Configuration &configuration,
                                                             const QCommandLineParser &parser,
                                                             const ConnectionOptions &options);

// The state database: certsync.db in --state-dir, else in the settings' state/folder, else in the
// account's application data folder.
QString statePath(const config::Configuration &configuration, const QCommandLineParser &parser,
                  const ConnectionOptions &options);

// The secrets the options name in the environment (bind password, client secret, key passphrase),
// for blanking them wherever text is kept (the run history).
QStringList secretsFromEnvironment(const QCommandLineParser &parser, const ConnectionOptions &options);

} // namespace certsync::cli
