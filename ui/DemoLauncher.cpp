#include "ui/DemoLauncher.h"

#include "certs/SerializedStore.h"
#include "certs/TrustStore.h"
#include "directory/DirectoryReadJob.h"
#include "models/UsersModel.h"
#include "ui/MainWindow.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QStandardPaths>

#include <algorithm>

namespace certsync::ui {

namespace {

const QString DemoTenantId = QStringLiteral("de30de30-0000-4000-8000-000000000365");
const QString DemoClientId = QStringLiteral("c11e4700-0000-4000-8000-0000000000de");

QHash<QString, QString> readEnvFile(const QString &path)
{
    QHash<QString, QString> values;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return values;
    while (!file.atEnd()) {
        const QString line = QString::fromUtf8(file.readLine()).trimmed();
        const qsizetype eq = line.indexOf(QLatin1Char('='));
        if (eq > 0)
            values.insert(line.left(eq), line.mid(eq + 1));
    }
    return values;
}

QJsonArray base64Array(const QList<QByteArray> &values)
{
    QJsonArray array;
    for (const QByteArray &v : values)
        array.append(QString::fromLatin1(v.toBase64()));
    return array;
}

} // namespace

DemoLauncher::DemoLauncher(MainWindow *window, const QString &scriptsDir, const QString &seeder,
                           const QString &tenantSimulator, QObject *parent)
    : QObject(parent)
    , m_window(window)
    , m_scripts(scriptsDir)
    , m_seeder(seeder)
    , m_tenantSimulator(tenantSimulator)
{
    connect(&m_process, &QProcess::finished, this, &DemoLauncher::onDirectoryStarted);
    connect(&m_tenant, &QProcess::readyReadStandardOutput, this, &DemoLauncher::onTenantOutput);
    connect(&m_tenant, &QProcess::finished, this, [this](int code) {
        if (m_tenantUrl.isEmpty())
            fail(tr("The Microsoft 365 simulator did not start (exit code %1): %2")
                     .arg(code)
                     .arg(QString::fromUtf8(m_tenant.readAllStandardError()).trimmed()));
    });
}

DemoLauncher::~DemoLauncher()
{
    if (m_tenant.state() != QProcess::NotRunning) {
        m_tenant.terminate(); // the simulator saves its state on SIGTERM
        if (!m_tenant.waitForFinished(5000)) {
            m_tenant.kill();
            m_tenant.waitForFinished(5000);
        }
    }
    if (m_process.state() != QProcess::NotRunning) {
        m_process.kill();
        m_process.waitForFinished(5000);
    }
    if (m_running) // stop our slapd, and only ours (the script stops it by its PID file)
        QProcess::execute(
            QStringLiteral("bash"),
            { m_scripts + QStringLiteral("/slapd.sh"), QStringLiteral("stop"), directoryDir() });
}

QString DemoLauncher::sessionDir() const
{
    return m_dir + QStringLiteral("/session");
}

QString DemoLauncher::directoryDir() const
{
    return m_dir + QStringLiteral("/directory"); // the fixture script owns it (and may wipe it)
}

void DemoLauncher::log(int level, const QString &message)
{
    jobs::LogRecord record;
    record.time = QDateTime::currentDateTimeUtc();
    record.level = jobs::LogRecord::Level(level);
    record.job = tr("demo");
    record.message = message;
    m_window->appendLog(record);
}

void DemoLauncher::fail(const QString &message)
{
    log(int(jobs::LogRecord::Level::Error), message);
    emit failed(message);
}

void DemoLauncher::start(int users, const QString &dir)
{
    m_dir = !dir.isEmpty()
        ? dir
        : QStandardPaths::writableLocation(QStandardPaths::CacheLocation) + QStringLiteral("/demo-directory");
    QDir().mkpath(m_dir);
    // Each run starts from a clean tenant and an empty state database: the demo's, never the
    // person's own (AppDataLocation) one.
    QDir(sessionDir()).removeRecursively();
    QDir().mkpath(sessionDir());
    m_window->setStatePath(sessionDir() + QStringLiteral("/certsync.db"));
    log(int(jobs::LogRecord::Level::Info),
        tr("Starting the demo directory (OpenLDAP with %1 seeded users) in %2")
            .arg(users)
            .arg(directoryDir()));
    m_process.setProcessChannelMode(QProcess::MergedChannels);
    m_process.start(QStringLiteral("bash"),
                    { m_scripts + QStringLiteral("/slapd.sh"), QStringLiteral("start"), directoryDir(),
                      m_seeder, QStringLiteral("--users"), QString::number(users),
                      QStringLiteral("--reuse") });
}

void DemoLauncher::onDirectoryStarted(int exitCode, QProcess::ExitStatus status)
{
    const QString output = QString::fromUtf8(m_process.readAll()).trimmed();
    if (status != QProcess::NormalExit || exitCode != 0) {
        fail(tr("The demo directory did not start: %1").arg(output.section(QLatin1Char('\n'), -1)));
        return;
    }
    m_running = true;
    log(int(jobs::LogRecord::Level::Info), output.section(QLatin1Char('\n'), -1));
    const QHash<QString, QString> env = readEnvFile(directoryDir() + QStringLiteral("/server.env"));

    certs::TrustSettings trustSettings;
    m_trustFile = env.value(QStringLiteral("TRUST_FILE"));
    trustSettings.bundleFiles = { m_trustFile };
    trustSettings.crlFiles = { env.value(QStringLiteral("CRL_FILE")) };
    auto trust = certs::TrustStore::load(trustSettings);
    if (!trust) {
        fail(trust.error().message);
        return;
    }
    directory::DirectoryReadSettings settings;
    settings.profile.kind = directory::SourceKind::GenericLdap;
    settings.profile.mapping = directory::AttributeMapping::defaults(directory::SourceKind::GenericLdap);
    settings.profile.url = env.value(QStringLiteral("LDAPS_URL"));
    settings.profile.baseDn = env.value(QStringLiteral("BASE_DN"));
    // The demo's operator may also clean values in the directory (synced users' hygiene).
    settings.profile.bindDn = env.value(QStringLiteral("ADMIN_DN"));
    settings.profile.caFile = env.value(QStringLiteral("CA_FILE"));
    settings.password = env.value(QStringLiteral("ADMIN_PASSWORD"));
    settings.trust = std::make_shared<const certs::TrustStore>(std::move(trust).value());
    m_window->setDirectorySettings(settings);
    connect(m_window, &MainWindow::directoryLoaded, this, &DemoLauncher::onDirectoryLoaded);
    m_window->readDirectory();
}

void DemoLauncher::onDirectoryLoaded(bool complete)
{
    if (!complete || m_tenantStarted)
        return;
    startTenant();
}

QJsonObject DemoLauncher::tenantSeed(const QList<directory::DirectoryUser> &users, const QString &tenantId,
                                     const QString &clientId, const QString &secretSha256Hex)
{
    // Deterministic roles whatever order the directory answers in.
    QList<const directory::DirectoryUser *> sorted;
    for (const directory::DirectoryUser &u : users)
        if (!u.mail.isEmpty())
            sorted.append(&u);
    std::sort(sorted.begin(), sorted.end(), [](const auto *a, const auto *b) { return a->dn < b->dn; });
    QJsonArray tenantUsers;
    int n = 0;
    for (const directory::DirectoryUser *u : std::as_const(sorted)) {
        const QString upn = u->userPrincipalName.isEmpty() ? u->mail : u->userPrincipalName;
        QJsonObject o { { QStringLiteral("userPrincipalName"), upn },
                        { QStringLiteral("mail"), u->mail },
                        { QStringLiteral("displayName"), u->displayName } };
        switch (n++ % 3) {
        case 0: // synced: Entra Connect exported the directory's values as they are
            o.insert(QStringLiteral("onPremisesImmutableId"), u->sourceAnchor);
            o.insert(QStringLiteral("onPremisesSyncEnabled"), true);
            o.insert(QStringLiteral("recipientTypeDetails"), QStringLiteral("UserMailbox"));
            o.insert(QStringLiteral("userCertificate"), base64Array(u->userCertificate));
            o.insert(QStringLiteral("userSMimeCertificate"), base64Array(u->userSmimeCertificate));
            break;
        case 1: // cloud-mastered, an older publish: the first certificate only
            o.insert(QStringLiteral("recipientTypeDetails"), QStringLiteral("MailUser"));
            o.insert(QStringLiteral("userCertificate"), base64Array(u->userCertificate.mid(0, 1)));
            break;
        default: // cloud-mastered, nothing published yet
            o.insert(QStringLiteral("recipientTypeDetails"), QStringLiteral("MailUser"));
            break;
        }
        tenantUsers.append(o);
    }
    // One cloud account without a directory object: shown as unmatched by the diff.
    tenantUsers.append(
        QJsonObject { { QStringLiteral("userPrincipalName"), QStringLiteral("ghost@cloud.test") },
                      { QStringLiteral("recipientTypeDetails"), QStringLiteral("MailUser") } });
    const QJsonObject app { { QStringLiteral("clientId"), clientId },
                            { QStringLiteral("secretSha256"), secretSha256Hex },
                            { QStringLiteral("certificates"), QJsonArray {} } };
    return { { QStringLiteral("tenantId"), tenantId },
             { QStringLiteral("apps"), QJsonArray { app } },
             { QStringLiteral("users"), tenantUsers } };
}

void DemoLauncher::startTenant()
{
    const auto snapshot = m_window->usersModel()->snapshot();
    if (!snapshot)
        return;
    m_tenantStarted = true;
    // A fresh secret per run, known only to this process and (as a SHA-256) to the simulator.
    QByteArray random(24, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(random.data()), random.size() / 4);
    m_secret = QString::fromLatin1(random.toBase64(QByteArray::Base64UrlEncoding));
    const QString secretSha =
        QString::fromLatin1(QCryptographicHash::hash(m_secret.toUtf8(), QCryptographicHash::Sha256).toHex());
    QJsonObject tenantState = tenantSeed(snapshot->users, DemoTenantId, DemoClientId, secretSha);
    // Exchange Online trusts the directory's CAs (Set-SmimeConfig -SMIMECertificateIssuingCA done).
    QFile trustFile(m_trustFile);
    auto trusted = trustFile.open(QIODevice::ReadOnly) ? certs::parseFileBytes(trustFile.readAll())
                                                       : Result<std::vector<certs::ParsedCertificate>>(Error {
                                                           QStringLiteral("io"), trustFile.errorString() });
    if (!trusted) {
        fail(tr("Cannot read the demo's CAs in %1: %2").arg(m_trustFile, trusted.error().message));
        return;
    }
    QList<QByteArray> cas;
    for (const certs::ParsedCertificate &c : *trusted)
        cas.append(c.info.der);
    tenantState.insert(QStringLiteral("smimeCertificateIssuingCA"),
                       QString::fromLatin1(certs::encodeSerializedStore(cas).toBase64()));
    const QString seedPath = sessionDir() + QStringLiteral("/tenant-seed.json");
    QFile seed(seedPath);
    if (!seed.open(QIODevice::WriteOnly) || seed.write(QJsonDocument(tenantState).toJson()) < 0) {
        fail(tr("Cannot write %1: %2").arg(seedPath, seed.errorString()));
        return;
    }
    seed.close();
    log(int(jobs::LogRecord::Level::Info), tr("Starting the Microsoft 365 simulator (certsync-tenantsim)"));
    m_tenant.start(m_tenantSimulator,
                   { QStringLiteral("--seed"), seedPath, QStringLiteral("--state"),
                     sessionDir() + QStringLiteral("/tenant-state.json"), QStringLiteral("--ca-out"),
                     sessionDir() + QStringLiteral("/tenant-ca.pem"), QStringLiteral("--access-log"),
                     sessionDir() + QStringLiteral("/tenant-access.log") });
}

void DemoLauncher::onTenantOutput()
{
    m_tenantOutput += m_tenant.readAllStandardOutput();
    if (!m_tenantUrl.isEmpty() || !m_tenantOutput.contains('\n'))
        return;
    // The simulator prints one line with its ports once it listens (it picks free ones).
    static const QRegularExpression line(
        QStringLiteral("listening (https://127\\.0\\.0\\.1:\\d+) admin (http://127\\.0\\.0\\.1:\\d+)"));
    const auto match = line.match(QString::fromUtf8(m_tenantOutput));
    if (!match.hasMatch()) {
        fail(tr("The Microsoft 365 simulator said: %1").arg(QString::fromUtf8(m_tenantOutput).trimmed()));
        return;
    }
    m_tenantUrl = match.captured(1);
    m_tenantAdminUrl = match.captured(2);
    log(int(jobs::LogRecord::Level::Info), tr("Microsoft 365 simulator listening on %1").arg(m_tenantUrl));
    tenant::TenantSettings settings;
    settings.tenantId = DemoTenantId;
    settings.clientId = DemoClientId;
    settings.clientSecret = m_secret;
    settings.authorityUrl = m_tenantUrl + QStringLiteral("/{tenant}");
    settings.graphUrl = m_tenantUrl + QStringLiteral("/v1.0");
    settings.exchangeUrl = m_tenantUrl + QStringLiteral("/adminapi/beta/{tenant}");
    // TLS stays verified: the simulator's certificate chains to the CA it wrote for this run.
    settings.caFile = sessionDir() + QStringLiteral("/tenant-ca.pem");
    m_window->setTenantSettings(settings);
    connect(
        m_window, &MainWindow::tenantLoaded, this,
        [this](bool ok) {
            if (ok)
                emit ready();
            else
                fail(tr("The demo could not read the Microsoft 365 simulator: see the Log."));
        },
        Qt::SingleShotConnection);
    m_window->readTenant();
}

} // namespace certsync::ui
