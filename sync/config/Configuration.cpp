#include "config/Configuration.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QSettings>
#include <QStandardPaths>
#include <QUrl>

namespace certsync::config {

using directory::AttributeMapping;
using directory::BindMethod;
using directory::ConnectionProfile;
using directory::SourceKind;

namespace {

Error badValue(const QString &key, const QString &value, const QString &expected)
{
    return Error {
        QStringLiteral("config"),
        QStringLiteral("the settings key %1 has the value '%2'; it takes %3").arg(key, value, expected)
    };
}

// Reads an integer key within [min, max]; absent keeps `target`.
Result<void> readInt(const QSettings &s, const QString &key, int min, int max, int &target)
{
    if (!s.contains(key))
        return {};
    bool ok = false;
    const QString text = s.value(key).toString();
    const int v = text.toInt(&ok);
    if (!ok || v < min || v > max)
        return badValue(key, text, QStringLiteral("a whole number from %1 to %2").arg(min).arg(max));
    target = v;
    return {};
}

Result<void> readBool(const QSettings &s, const QString &key, bool &target)
{
    if (!s.contains(key))
        return {};
    const QString text = s.value(key).toString().toLower();
    if (text == QLatin1String("true") || text == QLatin1String("1"))
        target = true;
    else if (text == QLatin1String("false") || text == QLatin1String("0"))
        target = false;
    else
        return badValue(key, text, QStringLiteral("true or false"));
    return {};
}

// A text value. In a hand-written INI file an unquoted comma makes QSettings read a list (a DN
// such as dc=example,dc=com): it is joined back.
QString text(const QSettings &s, const QString &key)
{
    const QVariant v = s.value(key);
    return v.typeId() == QMetaType::QStringList ? v.toStringList().join(QLatin1Char(',')) : v.toString();
}

void readString(const QSettings &s, const QString &key, QString &target)
{
    if (s.contains(key))
        target = text(s, key);
}

// Lists are stored as one comma-separated value (QSettings' INI list form), so a person can edit them.
QStringList readList(const QSettings &s, const QString &key)
{
    QStringList out;
    for (const QString &v : s.value(key).toStringList())
        if (!v.trimmed().isEmpty())
            out.append(v.trimmed());
    return out;
}

Result<std::optional<ConnectionProfile>> loadDirectory(const QSettings &s)
{
    if (!s.contains(QStringLiteral("directory/url")))
        return std::optional<ConnectionProfile>();
    ConnectionProfile p;
    const QString kindName = s.value(QStringLiteral("directory/kind"), QStringLiteral("ad")).toString();
    const auto kind = sourceKindFromName(kindName);
    if (!kind)
        return badValue(QStringLiteral("directory/kind"), kindName, QStringLiteral("ad or ldap"));
    p.kind = *kind;
    p.mapping = AttributeMapping::defaults(p.kind);
    p.url = text(s, QStringLiteral("directory/url"));
    readString(s, QStringLiteral("directory/baseDn"), p.baseDn);
    readString(s, QStringLiteral("directory/filter"), p.filter);
    const QString bindName = s.value(QStringLiteral("directory/bind"), QStringLiteral("simple")).toString();
    const auto bind = bindMethodFromName(bindName);
    if (!bind)
        return badValue(QStringLiteral("directory/bind"), bindName,
                        QStringLiteral("simple, gssapi or anonymous"));
    p.bind = *bind;
    readString(s, QStringLiteral("directory/bindDn"), p.bindDn);
    readString(s, QStringLiteral("directory/caFile"), p.caFile);
    readString(s, QStringLiteral("directory/serverSha256"), p.serverCertificateSha256);
    for (const auto &r :
         { readBool(s, QStringLiteral("directory/startTls"), p.startTls),
           readBool(s, QStringLiteral("directory/chaseReferrals"), p.chaseReferrals),
           readInt(s, QStringLiteral("directory/connectTimeoutMs"), 100, 600000, p.connectTimeoutMs),
           readInt(s, QStringLiteral("directory/operationTimeoutMs"), 100, 3600000, p.operationTimeoutMs),
           readInt(s, QStringLiteral("directory/pageSize"), 1, 100000, p.pageSize),
           readInt(s, QStringLiteral("directory/serverTimeLimitSeconds"), 0, 86400, p.serverTimeLimitSeconds),
           readBool(s, QStringLiteral("directory/mapping/sourceAnchorBinary"),
                    p.mapping.sourceAnchorBinary) })
        if (!r)
            return r.error();
    for (const MappingField &f : mappingFields())
        readString(s, QStringLiteral("directory/mapping/") + QLatin1String(f.key), p.mapping.*f.field);
    return std::optional<ConnectionProfile>(std::move(p));
}

Result<void> loadTenant(const QSettings &s, Configuration &c)
{
    if (!s.contains(QStringLiteral("tenant/tenantId")))
        return {};
    tenant::TenantSettings t;
    t.tenantId = text(s, QStringLiteral("tenant/tenantId"));
    readString(s, QStringLiteral("tenant/clientId"), t.clientId);
    const QString credential =
        s.value(QStringLiteral("tenant/credential"), QStringLiteral("secret")).toString();
    if (credential == QLatin1String("certificate"))
        c.credential = TenantCredential::Certificate;
    else if (credential == QLatin1String("secret"))
        c.credential = TenantCredential::Secret;
    else
        return badValue(QStringLiteral("tenant/credential"), credential,
                        QStringLiteral("secret or certificate"));
    if (c.credential == TenantCredential::Certificate) {
        readString(s, QStringLiteral("tenant/certificateFile"), t.clientCertificateFile);
        readString(s, QStringLiteral("tenant/keyFile"), t.clientKeyFile);
    }
    readString(s, QStringLiteral("tenant/authorityUrl"), t.authorityUrl);
    readString(s, QStringLiteral("tenant/graphUrl"), t.graphUrl);
    readString(s, QStringLiteral("tenant/exchangeUrl"), t.exchangeUrl);
    readString(s, QStringLiteral("tenant/caFile"), t.caFile);
    if (auto r = readInt(s, QStringLiteral("tenant/maxRetryAfterSeconds"), 1, 86400, t.maxRetryAfterSeconds);
        !r)
        return r.error();
    const QString update =
        s.value(QStringLiteral("tenant/exchangeMultiValuedUpdate"), QStringLiteral("add-remove")).toString();
    if (update == QLatin1String("add-remove"))
        t.exchangeMultiValuedUpdate = tenant::MultiValuedUpdate::AddRemove;
    else if (update == QLatin1String("replace"))
        t.exchangeMultiValuedUpdate = tenant::MultiValuedUpdate::Replace;
    else
        return badValue(QStringLiteral("tenant/exchangeMultiValuedUpdate"), update,
                        QStringLiteral("add-remove or replace"));
    c.tenant = std::move(t);
    return {};
}

Result<void> loadPolicy(const QSettings &s, PolicyConfig &p)
{
    for (const auto &r :
         { readInt(s, QStringLiteral("policy/warningDays"), 0, 3650, p.warningDays),
           readBool(s, QStringLiteral("policy/dropExpired"), p.engine.dropExpired),
           readBool(s, QStringLiteral("policy/dropRevoked"), p.engine.dropRevoked),
           readBool(s, QStringLiteral("policy/smimeOnly"), p.engine.requireSmimeSuitable),
           readInt(s, QStringLiteral("policy/maxValues"), 1, 15, p.engine.maxValues),
           readBool(s, QStringLiteral("policy/consistencyGuidAnchor"), p.engine.consistencyGuidAnchor),
           readInt(s, QStringLiteral("sync/deletionThreshold"), 0, 1000000, p.deletionThreshold),
           readBool(s, QStringLiteral("sync/staging"), p.staging),
           readInt(s, QStringLiteral("sync/planLifetimeHours"), 1, 8760, p.planLifetimeHours),
           readInt(s, QStringLiteral("history/retentionDays"), 1, 36500, p.runRetentionDays),
           readBool(s, QStringLiteral("approval/requireSecondPerson"), p.requireSecondPerson) })
        if (!r)
            return r.error();
    p.approvers = readList(s, QStringLiteral("approval/approvers"));
    p.stateFolder = s.value(QStringLiteral("state/folder")).toString();
    if (!p.stateFolder.isEmpty() && QDir::isRelativePath(p.stateFolder))
        return badValue(QStringLiteral("state/folder"), p.stateFolder, QStringLiteral("an absolute path"));
    if (s.contains(QStringLiteral("policy/certificateUserIds"))) {
        const QString forms = s.value(QStringLiteral("policy/certificateUserIds")).toString();
        if (!setCertificateUserIdForms(p.engine, forms))
            return badValue(QStringLiteral("policy/certificateUserIds"), forms,
                            QStringLiteral("none, issuer-serial, ski or both"));
    }
    return {};
}

} // namespace

const QList<MappingField> &mappingFields()
{
    static const QList<MappingField> fields = {
        { "sourceAnchor", &AttributeMapping::sourceAnchor },
        { "consistencyGuid", &AttributeMapping::consistencyGuid },
        { "userPrincipalName", &AttributeMapping::userPrincipalName },
        { "mail", &AttributeMapping::mail },
        { "proxyAddresses", &AttributeMapping::proxyAddresses },
        { "accountName", &AttributeMapping::accountName },
        { "displayName", &AttributeMapping::displayName },
        { "userAccountControl", &AttributeMapping::userAccountControl },
        { "changedTime", &AttributeMapping::changedTime },
        { "changeNumber", &AttributeMapping::changeNumber },
        { "changeSequence", &AttributeMapping::changeSequence },
        { "userCertificate", &AttributeMapping::userCertificate },
        { "userSmimeCertificate", &AttributeMapping::userSmimeCertificate },
    };
    return fields;
}

Result<std::optional<directory::DirectoryReadSettings>>
directoryReadSettings(const Configuration &c, const QString &bindPassword,
                      const certs::TrustStore::LoadProgress &progress)
{
    if (!c.directory)
        return std::optional<directory::DirectoryReadSettings>();
    directory::DirectoryReadSettings s;
    s.profile = *c.directory;
    if (s.profile.bind == BindMethod::Simple)
        s.password = bindPassword;
    s.policy.warningDays = c.policy.warningDays;
    s.policy.maxValuesPerAttribute = c.policy.engine.maxValues;
    auto trust = certs::TrustStore::load(c.trust, progress);
    if (!trust)
        return trust.error();
    s.trust = std::make_shared<const certs::TrustStore>(std::move(*trust));
    return std::optional<directory::DirectoryReadSettings>(std::move(s));
}

std::optional<tenant::TenantSettings> tenantSettings(const Configuration &c, const Secrets &secrets)
{
    if (!c.tenant)
        return std::nullopt;
    tenant::TenantSettings t = *c.tenant;
    if (c.credential == TenantCredential::Certificate) {
        t.clientSecret.clear();
        t.clientKeyPassphrase = secrets.keyPassphrase.toUtf8();
    } else {
        t.clientCertificateFile.clear();
        t.clientKeyFile.clear();
        t.clientSecret = secrets.clientSecret;
    }
    return t;
}

QString defaultSettingsPath()
{
    const QString fromEnvironment = qEnvironmentVariable("CERTSYNC_CONFIG");
    if (!fromEnvironment.isEmpty())
        return fromEnvironment;
    return QDir(QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation))
        .filePath(QStringLiteral("certsync/certsync.conf"));
}

Result<Configuration> load(const QSettings &s)
{
    if (s.status() != QSettings::NoError)
        return Error { QStringLiteral("config"),
                       QStringLiteral("the settings file %1 cannot be read (%2)")
                           .arg(s.fileName(),
                                s.status() == QSettings::FormatError ? QStringLiteral("not in INI format")
                                                                     : QStringLiteral("access denied")) };
    int version = settingsVersion;
    if (auto r = readInt(s, QStringLiteral("version"), 1, 1000, version); !r)
        return r.error();
    if (version > settingsVersion)
        return Error { QStringLiteral("config"),
                       QStringLiteral("the settings file %1 is of version %2, written by a newer certsync "
                                      "(this one reads version %3)")
                           .arg(s.fileName())
                           .arg(version)
                           .arg(settingsVersion) };
    Configuration c;
    auto directory = loadDirectory(s);
    if (!directory)
        return directory.error();
    c.directory = std::move(*directory);
    c.trust.bundleFiles = readList(s, QStringLiteral("trust/bundles"));
    c.trust.anchorFiles = readList(s, QStringLiteral("trust/anchors"));
    c.trust.intermediateFiles = readList(s, QStringLiteral("trust/intermediates"));
    c.trust.crlFiles = readList(s, QStringLiteral("trust/crls"));
    if (auto r = readBool(s, QStringLiteral("trust/systemAnchors"), c.trust.useSystemAnchors); !r)
        return r.error();
    if (auto r = loadTenant(s, c); !r)
        return r.error();
    if (auto r = loadPolicy(s, c.policy); !r)
        return r.error();
    return c;
}

Result<Configuration> loadFile(const QString &path)
{
    if (!QFileInfo::exists(path))
        return Configuration();
    const QSettings s(path, QSettings::IniFormat);
    return load(s);
}

void save(const Configuration &c, QSettings &s)
{
    s.setValue(QStringLiteral("version"), settingsVersion);
    s.remove(QStringLiteral("directory"));
    if (c.directory) {
        const ConnectionProfile &p = *c.directory;
        s.beginGroup(QStringLiteral("directory"));
        s.setValue(QStringLiteral("kind"), directory::sourceKindName(p.kind));
        s.setValue(QStringLiteral("url"), p.url);
        s.setValue(QStringLiteral("startTls"), p.startTls);
        s.setValue(QStringLiteral("baseDn"), p.baseDn);
        s.setValue(QStringLiteral("filter"), p.filter);
        s.setValue(QStringLiteral("bind"), bindMethodName(p.bind));
        s.setValue(QStringLiteral("bindDn"), p.bindDn);
        s.setValue(QStringLiteral("caFile"), p.caFile);
        s.setValue(QStringLiteral("serverSha256"), p.serverCertificateSha256);
        s.setValue(QStringLiteral("connectTimeoutMs"), p.connectTimeoutMs);
        s.setValue(QStringLiteral("operationTimeoutMs"), p.operationTimeoutMs);
        s.setValue(QStringLiteral("pageSize"), p.pageSize);
        s.setValue(QStringLiteral("serverTimeLimitSeconds"), p.serverTimeLimitSeconds);
        s.setValue(QStringLiteral("chaseReferrals"), p.chaseReferrals);
        s.setValue(QStringLiteral("mapping/sourceAnchorBinary"), p.mapping.sourceAnchorBinary);
        for (const MappingField &f : mappingFields())
            s.setValue(QStringLiteral("mapping/") + QLatin1String(f.key), p.mapping.*f.field);
        s.endGroup();
    }
    s.remove(QStringLiteral("trust"));
    s.setValue(QStringLiteral("trust/bundles"), c.trust.bundleFiles);
    s.setValue(QStringLiteral("trust/anchors"), c.trust.anchorFiles);
    s.setValue(QStringLiteral("trust/intermediates"), c.trust.intermediateFiles);
    s.setValue(QStringLiteral("trust/crls"), c.trust.crlFiles);
    s.setValue(QStringLiteral("trust/systemAnchors"), c.trust.useSystemAnchors);
    s.remove(QStringLiteral("tenant"));
    if (c.tenant) {
        const tenant::TenantSettings &t = *c.tenant;
        s.beginGroup(QStringLiteral("tenant"));
        s.setValue(QStringLiteral("tenantId"), t.tenantId);
        s.setValue(QStringLiteral("clientId"), t.clientId);
        const bool certificate = c.credential == TenantCredential::Certificate;
        s.setValue(QStringLiteral("credential"),
                   certificate ? QStringLiteral("certificate") : QStringLiteral("secret"));
        if (certificate) {
            s.setValue(QStringLiteral("certificateFile"), t.clientCertificateFile);
            s.setValue(QStringLiteral("keyFile"), t.clientKeyFile);
        }
        s.setValue(QStringLiteral("authorityUrl"), t.authorityUrl);
        s.setValue(QStringLiteral("graphUrl"), t.graphUrl);
        s.setValue(QStringLiteral("exchangeUrl"), t.exchangeUrl);
        s.setValue(QStringLiteral("caFile"), t.caFile);
        s.setValue(QStringLiteral("maxRetryAfterSeconds"), t.maxRetryAfterSeconds);
        s.setValue(QStringLiteral("exchangeMultiValuedUpdate"),
                   t.exchangeMultiValuedUpdate == tenant::MultiValuedUpdate::Replace
                       ? QStringLiteral("replace")
                       : QStringLiteral("add-remove"));
        s.endGroup();
    }
    const PolicyConfig &p = c.policy;
    s.setValue(QStringLiteral("policy/warningDays"), p.warningDays);
    s.setValue(QStringLiteral("policy/dropExpired"), p.engine.dropExpired);
    s.setValue(QStringLiteral("policy/dropRevoked"), p.engine.dropRevoked);
    s.setValue(QStringLiteral("policy/smimeOnly"), p.engine.requireSmimeSuitable);
    s.setValue(QStringLiteral("policy/maxValues"), p.engine.maxValues);
    s.setValue(QStringLiteral("policy/certificateUserIds"), certificateUserIdFormsName(p.engine));
    s.setValue(QStringLiteral("policy/consistencyGuidAnchor"), p.engine.consistencyGuidAnchor);
    s.setValue(QStringLiteral("sync/deletionThreshold"), p.deletionThreshold);
    s.setValue(QStringLiteral("sync/staging"), p.staging);
    s.setValue(QStringLiteral("sync/planLifetimeHours"), p.planLifetimeHours);
    s.setValue(QStringLiteral("history/retentionDays"), p.runRetentionDays);
    s.setValue(QStringLiteral("approval/requireSecondPerson"), p.requireSecondPerson);
    if (p.approvers.isEmpty())
        s.remove(QStringLiteral("approval/approvers"));
    else
        s.setValue(QStringLiteral("approval/approvers"), p.approvers);
    if (p.stateFolder.isEmpty())
        s.remove(QStringLiteral("state/folder"));
    else
        s.setValue(QStringLiteral("state/folder"), p.stateFolder);
}

QString statePath(const Configuration &c, const QString &stateDirOption)
{
    QString folder = stateDirOption.isEmpty() ? c.policy.stateFolder : stateDirOption;
    if (folder.isEmpty())
        folder = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    return QDir(folder).filePath(QStringLiteral("certsync.db"));
}

engine::ApprovalPolicy approvalPolicy(const Configuration &c)
{
    return engine::ApprovalPolicy { c.policy.requireSecondPerson, c.policy.approvers };
}

QList<QPair<QString, QString>> guardSettings(const Configuration &c, bool withTrust)
{
    QList<QPair<QString, QString>> settings = {
        { QStringLiteral("four-eyes"),
          c.policy.requireSecondPerson ? QStringLiteral("on") : QStringLiteral("off") },
        { QStringLiteral("approvers"),
          c.policy.approvers.isEmpty() ? QStringLiteral("any") : c.policy.approvers.join(QLatin1Char(',')) },
        { QStringLiteral("staging"), c.policy.staging ? QStringLiteral("on") : QStringLiteral("off") },
        { QStringLiteral("deletion-threshold"), QString::number(c.policy.deletionThreshold) }
    };
    if (!withTrust)
        return settings;
    QCryptographicHash trust(QCryptographicHash::Sha256);
    for (const QStringList *files :
         { &c.trust.anchorFiles, &c.trust.intermediateFiles, &c.trust.bundleFiles, &c.trust.crlFiles,
           &c.trust.anchorDirectories, &c.trust.intermediateDirectories }) {
        for (const QString &path : *files) {
            trust.addData(path.toUtf8());
            QFile f(path);
            if (f.open(QIODevice::ReadOnly))
                trust.addData(&f);
        }
        trust.addData(QByteArrayView("\n", 1));
    }
    trust.addData(QByteArrayView(c.trust.useSystemAnchors ? "system" : "", c.trust.useSystemAnchors ? 6 : 0));
    settings.append({ QStringLiteral("trust"), QString::fromLatin1(trust.result().toHex().left(16)) });
    return settings;
}

bool isLoopbackHost(const QString &host)
{
    QString h = host;
    if (h.startsWith(QLatin1Char('[')) && h.endsWith(QLatin1Char(']')))
        h = h.mid(1, h.size() - 2);
    if (h.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0)
        return true;
    const QHostAddress address(h);
    return !address.isNull() && address.isLoopback();
}

Result<void> checkTransport(const Configuration &c)
{
    auto refuse = [](const QString &message) { return Error { QStringLiteral("usage"), message }; };
    // Anonymous binds too: without TLS anyone on the path can also change the certificates read.
    if (c.directory && !c.directory->usesTls() && c.directory->bind != directory::BindMethod::Gssapi) {
        const QString host = QUrl(c.directory->url).host();
        if (!isLoopbackHost(host))
            return refuse(QStringLiteral("refusing to talk to %1 without TLS: a password would cross the "
                                         "network in the clear, and the certificates read could be altered. "
                                         "Use StartTLS (the default: drop --no-tls "
                                         "or set directory/startTls=true), an ldaps:// URL, or a Kerberos "
                                         "bind (--kerberos); plain LDAP is allowed to a loopback host only")
                              .arg(c.directory->url));
    }
    if (c.tenant) {
        const std::pair<const char *, QString> urls[] = { { "authority", c.tenant->authorityUrl },
                                                          { "Graph", c.tenant->graphUrl },
                                                          { "Exchange", c.tenant->exchangeUrl } };
        for (const auto &[what, url] : urls) {
            const QUrl parsed(QString(url).replace(QLatin1String("{tenant}"), QLatin1String("t")));
            if (parsed.scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) == 0)
                continue;
            if (parsed.scheme().compare(QLatin1String("http"), Qt::CaseInsensitive) == 0
                && isLoopbackHost(parsed.host()))
                continue;
            return refuse(QStringLiteral("refusing the %1 URL %2: a client secret or a bearer token would "
                                         "cross the network unencrypted. Use an https:// URL; http:// is "
                                         "allowed to a loopback host only")
                              .arg(QLatin1String(what), url));
        }
    }
    return {};
}

Result<void> saveFile(const Configuration &configuration, const QString &path)
{
    const QString &stateFolder = configuration.policy.stateFolder;
    if (!stateFolder.isEmpty() && QDir::isRelativePath(stateFolder)) // what load() would refuse
        return badValue(QStringLiteral("state/folder"), stateFolder, QStringLiteral("an absolute path"));
    const QFileInfo info(path);
    if (!QDir().mkpath(info.absolutePath()))
        return Error { QStringLiteral("config"),
                       QStringLiteral("cannot create the folder %1").arg(info.absolutePath()) };
    QSettings s(path, QSettings::IniFormat);
    save(configuration, s);
    s.sync();
    if (s.status() != QSettings::NoError)
        return Error { QStringLiteral("config"),
                       QStringLiteral("cannot write the settings file %1").arg(path) };
    return {};
}

QString bindMethodName(BindMethod method)
{
    switch (method) {
    case BindMethod::Simple:
        return QStringLiteral("simple");
    case BindMethod::Gssapi:
        return QStringLiteral("gssapi");
    case BindMethod::Anonymous:
        return QStringLiteral("anonymous");
    }
    return {};
}

std::optional<BindMethod> bindMethodFromName(const QString &name)
{
    for (BindMethod m : { BindMethod::Simple, BindMethod::Gssapi, BindMethod::Anonymous })
        if (bindMethodName(m) == name)
            return m;
    return std::nullopt;
}

std::optional<SourceKind> sourceKindFromName(const QString &name)
{
    for (SourceKind k : { SourceKind::ActiveDirectory, SourceKind::GenericLdap })
        if (directory::sourceKindName(k) == name)
            return k;
    return std::nullopt;
}

QString certificateUserIdFormsName(const engine::PolicySettings &policy)
{
    if (!policy.certificateUserIds)
        return QStringLiteral("none");
    const bool issuer = policy.certificateUserIdForms & engine::IssuerAndSerial;
    const bool ski = policy.certificateUserIdForms & engine::SubjectKeyId;
    return issuer && ski ? QStringLiteral("both")
        : ski            ? QStringLiteral("ski")
                         : QStringLiteral("issuer-serial");
}

bool setCertificateUserIdForms(engine::PolicySettings &policy, const QString &name)
{
    if (name == QLatin1String("none")) {
        policy.certificateUserIds = false;
        return true;
    }
    const quint8 forms = name == QLatin1String("issuer-serial") ? quint8(engine::IssuerAndSerial)
        : name == QLatin1String("ski")                          ? quint8(engine::SubjectKeyId)
        : name == QLatin1String("both") ? quint8(engine::IssuerAndSerial | engine::SubjectKeyId)
                                        : quint8(0);
    if (!forms)
        return false;
    policy.certificateUserIds = true;
    policy.certificateUserIdForms = forms;
    return true;
}

} // namespace certsync::config
