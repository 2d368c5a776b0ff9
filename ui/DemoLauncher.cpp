#include "ui/DemoLauncher.h"

#include "certs/TrustStore.h"
#include "directory/DirectoryReadJob.h"
#include "ui/MainWindow.h"

#include <QDir>
#include <QFile>
#include <QStandardPaths>

namespace certsync::ui {

namespace {

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

} // namespace

DemoLauncher::DemoLauncher(MainWindow *window, const QString &scriptsDir, const QString &seeder,
                           QObject *parent)
    : QObject(parent)
    , m_window(window)
    , m_scripts(scriptsDir)
    , m_seeder(seeder)
    , m_dir(QStandardPaths::writableLocation(QStandardPaths::CacheLocation)
            + QStringLiteral("/demo-directory"))
{
    connect(&m_process, &QProcess::finished, this, &DemoLauncher::onStarted);
}

DemoLauncher::~DemoLauncher()
{
    if (m_process.state() != QProcess::NotRunning) {
        m_process.kill();
        m_process.waitForFinished(5000);
    }
    if (m_running) // stop our slapd, and only ours (the script stops it by its PID file)
        QProcess::execute(QStringLiteral("bash"),
                          { m_scripts + QStringLiteral("/slapd.sh"), QStringLiteral("stop"), m_dir });
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

void DemoLauncher::start(int users)
{
    QDir().mkpath(m_dir);
    log(int(jobs::LogRecord::Level::Info),
        tr("Starting the demo directory (OpenLDAP with %1 seeded users) in %2").arg(users).arg(m_dir));
    m_process.setProcessChannelMode(QProcess::MergedChannels);
    m_process.start(QStringLiteral("bash"),
                    { m_scripts + QStringLiteral("/slapd.sh"), QStringLiteral("start"), m_dir, m_seeder,
                      QStringLiteral("--users"), QString::number(users), QStringLiteral("--reuse") });
}

void DemoLauncher::onStarted(int exitCode, QProcess::ExitStatus status)
{
    const QString output = QString::fromUtf8(m_process.readAll()).trimmed();
    if (status != QProcess::NormalExit || exitCode != 0) {
        const QString message =
            tr("The demo directory did not start: %1").arg(output.section(QLatin1Char('\n'), -1));
        log(int(jobs::LogRecord::Level::Error), message);
        emit failed(message);
        return;
    }
    m_running = true;
    log(int(jobs::LogRecord::Level::Info), output.section(QLatin1Char('\n'), -1));
    const QHash<QString, QString> env = readEnvFile(m_dir + QStringLiteral("/server.env"));

    certs::TrustSettings trustSettings;
    trustSettings.bundleFiles = { env.value(QStringLiteral("TRUST_FILE")) };
    trustSettings.crlFiles = { env.value(QStringLiteral("CRL_FILE")) };
    auto trust = certs::TrustStore::load(trustSettings);
    if (!trust) {
        log(int(jobs::LogRecord::Level::Error), trust.error().message);
        emit failed(trust.error().message);
        return;
    }
    directory::DirectoryReadSettings settings;
    settings.profile.kind = directory::SourceKind::GenericLdap;
    settings.profile.mapping = directory::AttributeMapping::defaults(directory::SourceKind::GenericLdap);
    settings.profile.url = env.value(QStringLiteral("LDAPS_URL"));
    settings.profile.baseDn = env.value(QStringLiteral("BASE_DN"));
    settings.profile.bindDn = env.value(QStringLiteral("READER_DN"));
    settings.profile.caFile = env.value(QStringLiteral("CA_FILE"));
    settings.password = env.value(QStringLiteral("READER_PASSWORD"));
    settings.trust = std::make_shared<const certs::TrustStore>(std::move(trust).value());
    m_window->setDirectorySettings(settings);
    m_window->readDirectory();
}

} // namespace certsync::ui
