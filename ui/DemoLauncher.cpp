#include "ui/DemoLauncher.h"

#include "certs/SerializedStore.h"
#include "certs/TrustStore.h"
#include "directory/DirectoryReadJob.h"
#include "jobs/Job.h"
#include "models/UsersModel.h"
#include "ui/MainWindow.h"

#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTimer>

#include <algorithm>

#include <signal.h>
#include <unistd.h>

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

// A program run as a job on the console's runner (the demo directory's start script: seeding and
// starting slapd take seconds to minutes). The status bar shows it with the time so far and its last
// line of output, and Cancel kills it. Finishes with success on exit code 0; the summary is its last
// line of output.
class ProcessJob : public jobs::Job
{
public:
    ProcessJob(const QString &name, const QString &program, const QStringList &arguments)
        : jobs::Job(name)
        , m_program(program)
        , m_arguments(arguments)
    { }

protected:
    void doStart() override
    {
        // Created here, on the worker thread, so that the process and its notifiers live there.
        m_process = new QProcess(this);
        m_process->setProcessChannelMode(QProcess::MergedChannels);
        // A process group of its own, so that Cancel also stops what the script started (the seeder).
        m_process->setChildProcessModifier([] { setsid(); });
        connect(m_process, &QProcess::readyRead, this, [this] {
            m_output += m_process->readAll();
            report();
        });
        connect(m_process, &QProcess::finished, this, [this](int code, QProcess::ExitStatus status) {
            m_output += m_process->readAll();
            const QString last = lastLine();
            if (isCanceled())
                finish(false, tr("canceled"));
            else if (status != QProcess::NormalExit || code != 0)
                finish(false, last.isEmpty() ? tr("exit code %1").arg(code) : last);
            else
                finish(true, last);
        });
        connect(m_process, &QProcess::errorOccurred, this, [this](QProcess::ProcessError error) {
            if (error == QProcess::FailedToStart)
                finish(false, m_process->errorString());
        });
        auto *ticker = new QTimer(this);
        connect(ticker, &QTimer::timeout, this, [this] { report(); });
        ticker->start(500);
        m_elapsed.start();
        m_process->start(m_program, m_arguments);
    }
    void doCancel() override
    {
        if (m_process && m_process->state() != QProcess::NotRunning) {
            ::kill(-pid_t(m_process->processId()), SIGTERM); // the script and its children
            m_process->kill(); // finished() follows
        } else if (!m_process)
            finish(false, tr("canceled"));
    }

private:
    QString lastLine() const { return QString::fromUtf8(m_output).trimmed().section(QLatin1Char('\n'), -1); }
    void report()
    {
        const QString last = lastLine();
        const QString seconds = tr("%1 s").arg(m_elapsed.elapsed() / 1000);
        reportProgress(0, 0, last.isEmpty() ? seconds : tr("%1, %2").arg(seconds, last.left(120)));
    }

    QString m_program;
    QStringList m_arguments;
    QProcess *m_process = nullptr;
    QByteArray m_output;
    QElapsedTimer m_elapsed;
};

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
    // The script may have started slapd by the time it is cancelled or the console quits: the
    // destructor stops it by its PID file either way ("nothing running" otherwise).
    m_running = true;
    auto *job = new ProcessJob(tr("Starting the demo directory"), QStringLiteral("bash"),
                               { m_scripts + QStringLiteral("/slapd.sh"), QStringLiteral("start"),
                                 directoryDir(), m_seeder, QStringLiteral("--users"), QString::number(users),
                                 QStringLiteral("--reuse") });
    connect(job, &jobs::Job::finished, this, &DemoLauncher::onDirectoryStarted);
    m_window->runInBackground(job);
}

void DemoLauncher::onDirectoryStarted(bool ok, const QString &lastLine)
{
    if (!ok) {
        fail(tr("The demo directory did not start: %1").arg(lastLine));
        return;
    }
    log(int(jobs::LogRecord::Level::Info), lastLine);
    const QHash<QString, QString> env = readEnvFile(directoryDir() + QStringLiteral("/server.env"));

    // The demo's trust bundle and CRL, loaded by a job like the settings' (never on this thread).
    certs::TrustSettings trustSettings;
    m_trustFile = env.value(QStringLiteral("TRUST_FILE"));
    trustSettings.bundleFiles = { m_trustFile };
    trustSettings.crlFiles = { env.value(QStringLiteral("CRL_FILE")) };
    auto trust = std::make_shared<std::shared_ptr<const certs::TrustStore>>();
    m_window->loadTrust(
        tr("Loading the demo's S/MIME trust"),
        [trustSettings, trust](const certs::TrustStore::LoadProgress &progress) {
            auto loaded = certs::TrustStore::load(trustSettings, progress);
            if (!loaded)
                return loaded.error().message;
            *trust = std::make_shared<const certs::TrustStore>(std::move(loaded).value());
            return QString();
        },
        [this, env, trust](const QString &error) {
            if (!error.isEmpty())
                fail(tr("The demo's trust settings cannot be used: %1").arg(error));
            else
                readDemoDirectory(env, *trust);
        });
}

void DemoLauncher::readDemoDirectory(const QHash<QString, QString> &env,
                                     const std::shared_ptr<const certs::TrustStore> &trust)
{
    directory::DirectoryReadSettings settings;
    settings.profile.kind = directory::SourceKind::GenericLdap;
    settings.profile.mapping = directory::AttributeMapping::defaults(directory::SourceKind::GenericLdap);
    settings.profile.url = env.value(QStringLiteral("LDAPS_URL"));
    settings.profile.baseDn = env.value(QStringLiteral("BASE_DN"));
    // The demo's operator may also clean values in the directory (synced users' hygiene).
    settings.profile.bindDn = env.value(QStringLiteral("ADMIN_DN"));
    settings.profile.caFile = env.value(QStringLiteral("CA_FILE"));
    settings.password = env.value(QStringLiteral("ADMIN_PASSWORD"));
    settings.trust = trust;
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
