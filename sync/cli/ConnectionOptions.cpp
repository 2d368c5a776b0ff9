#include "cli/ConnectionOptions.h"

#include "config/SecretStore.h"

#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

namespace certsync::cli {

using directory::BindMethod;
using directory::SourceKind;

namespace {

Error usage(const QString &message)
{
    return Error { QStringLiteral("usage"), message };
}

// The value of the environment variable an option names; an error when it is unset or empty.
Result<QString> fromEnvironment(const QCommandLineParser &p, const QCommandLineOption &option)
{
    const QString name = p.value(option);
    QString value = qEnvironmentVariable(name.toLocal8Bit().constData());
    if (value.isEmpty())
        return usage(QStringLiteral("the environment variable %1 is not set or empty").arg(name));
    return value;
}

// A secret from the option's environment variable, else from the OS keychain. `what` names the
// setting that needs it, for the error.
Result<QString> secret(const QCommandLineParser &p, const QCommandLineOption &envOption, config::Secret which,
                       const QString &what)
{
    if (p.isSet(envOption))
        return fromEnvironment(p, envOption);
    auto stored = config::SecretStore::readNow(which);
    if (stored && !stored->isEmpty())
        return stored;
    return usage(QStringLiteral("%1 needs %2 (secrets are never taken on the command line); %3")
                     .arg(what, config::secretCliOption(which),
                          stored ? QStringLiteral("the OS keychain holds none") : stored.error().message));
}

Result<int> number(const QCommandLineParser &p, const QCommandLineOption &option, int min, int max)
{
    bool ok = false;
    const int v = p.value(option).toInt(&ok);
    if (!ok || v < min || v > max)
        return usage(QStringLiteral("--%1 takes a number from %2 to %3")
                         .arg(option.names().first())
                         .arg(min)
                         .arg(max));
    return v;
}

Result<void> applyDirectoryOptions(const QCommandLineParser &p, const ConnectionOptions &o,
                                   config::Configuration &c)
{
    if (!c.directory && !p.isSet(o.ldapUrl))
        return {};
    std::optional<SourceKind> kind;
    if (p.isSet(o.profile)) {
        kind = config::sourceKindFromName(p.value(o.profile));
        if (!kind)
            return usage(QStringLiteral("--profile takes ad or ldap"));
    }
    if (!c.directory) {
        c.directory.emplace();
        c.directory->kind = kind.value_or(SourceKind::ActiveDirectory);
        c.directory->mapping = directory::AttributeMapping::defaults(c.directory->kind);
        c.directory->bind = BindMethod::Anonymous;
    } else if (kind && *kind != c.directory->kind) {
        c.directory->kind = *kind;
        c.directory->mapping = directory::AttributeMapping::defaults(*kind);
        c.directory->filter.clear();
    }
    directory::ConnectionProfile &d = *c.directory;
    const std::pair<const QCommandLineOption *, QString *> texts[] = {
        { &o.ldapUrl, &d.url },
        { &o.baseDn, &d.baseDn },
        { &o.filter, &d.filter },
        { &o.caFile, &d.caFile },
        { &o.serverSha256, &d.serverCertificateSha256 },
    };
    for (const auto &t : texts)
        if (p.isSet(*t.first))
            *t.second = p.value(*t.first);
    if (p.isSet(o.noTls)) {
        if (d.url.startsWith(QLatin1String("ldaps://"), Qt::CaseInsensitive))
            return usage(QStringLiteral("--no-tls contradicts an ldaps:// URL"));
        d.startTls = false;
    }
    if (p.isSet(o.bindDn)) {
        d.bind = BindMethod::Simple;
        d.bindDn = p.value(o.bindDn);
    } else if (p.isSet(o.kerberos)) {
        d.bind = BindMethod::Gssapi;
    }
    if (p.isSet(o.pageSize)) {
        auto v = number(p, o.pageSize, 1, 100000);
        if (!v)
            return v.error();
        d.pageSize = *v;
    }
    if (p.isSet(o.timeout)) {
        auto v = number(p, o.timeout, 1, 86400);
        if (!v)
            return v.error();
        d.operationTimeoutMs = *v * 1000;
        d.connectTimeoutMs = qMin(*v, 10) * 1000;
    }
    if (d.baseDn.isEmpty())
        return usage(QStringLiteral("the directory %1 needs a base DN (--base-dn, or directory/baseDn in the "
                                    "settings)")
                         .arg(d.url));
    if (d.url.isEmpty())
        return usage(
            QStringLiteral("the directory needs a URL (--ldap-url, or directory/url in the settings)"));
    return {};
}

Result<void> applyTenantOptions(const QCommandLineParser &p, const ConnectionOptions &o,
                                config::Configuration &c)
{
    if (!c.tenant && !p.isSet(o.tenantId))
        return {};
    if (!c.tenant)
        c.tenant.emplace();
    tenant::TenantSettings &t = *c.tenant;
    const std::pair<const QCommandLineOption *, QString *> texts[] = {
        { &o.tenantId, &t.tenantId },         { &o.clientId, &t.clientId },
        { &o.authorityUrl, &t.authorityUrl }, { &o.graphUrl, &t.graphUrl },
        { &o.exchangeUrl, &t.exchangeUrl },   { &o.tenantCa, &t.caFile },
        { &o.clientKey, &t.clientKeyFile },
    };
    for (const auto &x : texts)
        if (p.isSet(*x.first))
            *x.second = p.value(*x.first);
    if (p.isSet(o.clientCert)) {
        c.credential = config::TenantCredential::Certificate;
        t.clientCertificateFile = p.value(o.clientCert);
        if (t.clientKeyFile.isEmpty())
            return usage(QStringLiteral("--client-cert needs --client-key"));
    } else if (p.isSet(o.secretEnv)) {
        c.credential = config::TenantCredential::Secret;
        t.clientCertificateFile.clear();
        t.clientKeyFile.clear();
    }
    if (t.clientId.isEmpty())
        return usage(QStringLiteral("--tenant-id needs --client-id"));
    return {};
}

} // namespace

ConnectionOptions::ConnectionOptions()
    : settings(QStringLiteral("settings"),
               QStringLiteral("Settings file (INI) to start from; default: $CERTSYNC_CONFIG, else "
                              "~/.config/certsync/certsync.conf. Options override its keys."),
               QStringLiteral("FILE"))
    , stateDir(QStringLiteral("state-dir"), QStringLiteral("Folder of the state database."),
               QStringLiteral("DIR"))
    , profile(QStringLiteral("profile"),
              QStringLiteral("Directory kind: ad (Active Directory) or ldap (OpenLDAP)."),
              QStringLiteral("ad|ldap"))
    , ldapUrl(QStringLiteral("ldap-url"),
              QStringLiteral("ldaps://host[:port], or ldap://host[:port] (StartTLS is then used)."),
              QStringLiteral("URL"))
    , baseDn(QStringLiteral("base-dn"), QStringLiteral("Where to search."), QStringLiteral("DN"))
    , bindDn(QStringLiteral("bind-dn"),
             QStringLiteral("Bind as this DN or UPN (simple bind over TLS); without it: Kerberos with "
                            "--kerberos, else anonymous."),
             QStringLiteral("DN"))
    , passwordEnv(QStringLiteral("password-env"),
                  QStringLiteral("Environment variable holding the bind password (else the OS keychain)."),
                  QStringLiteral("VAR"))
    , kerberos(QStringLiteral("kerberos"),
               QStringLiteral("Bind with SASL GSSAPI using the current Kerberos ticket."))
    , caFile(QStringLiteral("ca-file"),
             QStringLiteral("PEM file of the CA that issued the LDAP server's certificate."),
             QStringLiteral("FILE"))
    , serverSha256(
          QStringLiteral("server-sha256"),
          QStringLiteral("Trust exactly the server certificate with this SHA-256 fingerprint (instead "
                         "of a CA)."),
          QStringLiteral("HEX"))
    , noTls(QStringLiteral("no-tls"),
            QStringLiteral("Plain, unencrypted LDAP on ldap:// (test servers on loopback only)."))
    , filter(QStringLiteral("filter"), QStringLiteral("LDAP filter for the users to read."),
             QStringLiteral("FILTER"))
    , pageSize(QStringLiteral("page-size"), QStringLiteral("Entries per page (default 500)."),
               QStringLiteral("N"))
    , timeout(QStringLiteral("timeout"),
              QStringLiteral("Seconds to wait for the server before giving up (default 60)."),
              QStringLiteral("SECONDS"))
    , trust(QStringLiteral("trust"),
            QStringLiteral("PEM bundle of S/MIME trust anchors and intermediates (repeatable)."),
            QStringLiteral("FILE"))
    , crl(QStringLiteral("crl"), QStringLiteral("CRL file, PEM or DER (repeatable)."), QStringLiteral("FILE"))
    , warningDays(QStringLiteral("warning-days"),
                  QStringLiteral("Expiry warning window in days (default 30)."), QStringLiteral("DAYS"))
    , tenantId(QStringLiteral("tenant-id"), QStringLiteral("Entra tenant id."), QStringLiteral("ID"))
    , clientId(QStringLiteral("client-id"), QStringLiteral("Application (client) id."), QStringLiteral("ID"))
    , secretEnv(QStringLiteral("client-secret-env"),
                QStringLiteral("Environment variable holding the client secret (else the OS keychain)."),
                QStringLiteral("VAR"))
    , clientCert(QStringLiteral("client-cert"), QStringLiteral("PEM certificate for a JWT assertion."),
                 QStringLiteral("FILE"))
    , clientKey(QStringLiteral("client-key"), QStringLiteral("PEM RSA key for a JWT assertion."),
                QStringLiteral("FILE"))
    , keyPassphraseEnv(QStringLiteral("client-key-passphrase-env"),
                       QStringLiteral("Environment variable holding the passphrase of --client-key."),
                       QStringLiteral("VAR"))
    , authorityUrl(QStringLiteral("authority-url"), QStringLiteral("Token authority URL."),
                   QStringLiteral("URL"))
    , graphUrl(QStringLiteral("graph-url"), QStringLiteral("Graph base URL."), QStringLiteral("URL"))
    , exchangeUrl(QStringLiteral("exchange-url"), QStringLiteral("Exchange admin API URL."),
                  QStringLiteral("URL"))
    , tenantCa(QStringLiteral("tenant-ca-file"),
               QStringLiteral("Extra PEM trust anchors for the tenant's TLS (test tenants)."),
               QStringLiteral("FILE"))
{ }

QList<QCommandLineOption> ConnectionOptions::all() const
{
    return { settings,    stateDir,    profile,          ldapUrl,      baseDn,
             bindDn,      passwordEnv, kerberos,         caFile,       serverSha256,
             noTls,       filter,      pageSize,         timeout,      trust,
             crl,         warningDays, tenantId,         clientId,     secretEnv,
             clientCert,  clientKey,   keyPassphraseEnv, authorityUrl, graphUrl,
             exchangeUrl, tenantCa };
}

Result<config::Configuration> effectiveConfiguration(const QCommandLineParser &p, const ConnectionOptions &o)
{
    const QString path = p.isSet(o.settings) ? p.value(o.settings) : config::defaultSettingsPath();
    if (p.isSet(o.settings) && !QFileInfo::exists(path))
        return usage(QStringLiteral("the settings file %1 does not exist").arg(path));
    auto loaded = config::loadFile(path);
    if (!loaded)
        return loaded.error();
    config::Configuration c = std::move(*loaded);
    if (auto r = applyDirectoryOptions(p, o, c); !r)
        return r.error();
    if (auto r = applyTenantOptions(p, o, c); !r)
        return r.error();
    if (p.isSet(o.trust)) {
        c.trust.bundleFiles = p.values(o.trust);
        c.trust.anchorFiles.clear();
        c.trust.intermediateFiles.clear();
    }
    if (p.isSet(o.crl))
        c.trust.crlFiles = p.values(o.crl);
    if (auto r = config::checkTransport(c); !r)
        return r.error();
    if (p.isSet(o.warningDays)) {
        bool ok = false;
        c.policy.warningDays = p.value(o.warningDays).toInt(&ok);
        if (!ok || c.policy.warningDays < 0)
            return usage(QStringLiteral("--warning-days takes a whole number of days"));
    }
    return c;
}

Result<std::optional<directory::DirectoryReadSettings>> directoryReadSettings(const config::Configuration &c,
                                                                              const QCommandLineParser &p,
                                                                              const ConnectionOptions &o,
                                                                              bool needTrust)
{
    if (!c.directory)
        return std::optional<directory::DirectoryReadSettings>();
    QString password;
    if (c.directory->bind == BindMethod::Simple) {
        auto found = secret(p, o.passwordEnv, config::Secret::BindPassword,
                            QStringLiteral("binding as %1").arg(c.directory->bindDn));
        if (!found)
            return found.error();
        password = std::move(*found);
    }
    config::Configuration withoutTrust = c;
    if (!needTrust)
        withoutTrust.trust = {}; // nothing to judge: no trust files to read
    auto s = config::directoryReadSettings(withoutTrust, password);
    password.fill(QLatin1Char('\0'));
    if (s && *s && !needTrust)
        (*s)->trust.reset();
    return s;
}

Result<std::optional<tenant::TenantSettings>>
tenantSettings(const config::Configuration &c, const QCommandLineParser &p, const ConnectionOptions &o)
{
    if (!c.tenant)
        return std::optional<tenant::TenantSettings>();
    config::Secrets secrets;
    if (c.credential == config::TenantCredential::Certificate) {
        if (c.tenant->clientCertificateFile.isEmpty() || c.tenant->clientKeyFile.isEmpty())
            return usage(QStringLiteral("the certificate credential needs --client-cert and --client-key"));
        if (p.isSet(o.keyPassphraseEnv)) {
            auto passphrase = fromEnvironment(p, o.keyPassphraseEnv);
            if (!passphrase)
                return passphrase.error();
            secrets.keyPassphrase = *passphrase;
        } else if (auto stored = config::SecretStore::readNow(config::Secret::KeyPassphrase); stored) {
            // An unencrypted key needs none; if the key is encrypted and no keychain answered,
            // loading the key says so.
            secrets.keyPassphrase = *stored;
        }
    } else {
        auto clientSecret =
            secret(p, o.secretEnv, config::Secret::ClientSecret,
                   QStringLiteral("the tenant %1 (secret credential)").arg(c.tenant->tenantId));
        if (!clientSecret)
            return clientSecret.error();
        secrets.clientSecret = std::move(*clientSecret);
    }
    return config::tenantSettings(c, secrets);
}

QString statePath(const config::Configuration &configuration, const QCommandLineParser &parser,
                  const ConnectionOptions &options)
{
    return config::statePath(configuration, parser.value(options.stateDir));
}

QStringList secretsFromEnvironment(const QCommandLineParser &parser, const ConnectionOptions &options)
{
    QStringList secrets;
    for (const QCommandLineOption *option :
         { &options.passwordEnv, &options.secretEnv, &options.keyPassphraseEnv })
        if (parser.isSet(*option))
            if (auto value = fromEnvironment(parser, *option); value)
                secrets.append(*value);
    return secrets;
}

} // namespace certsync::cli
