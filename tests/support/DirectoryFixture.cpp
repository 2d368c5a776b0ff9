#include "DirectoryFixture.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QJsonDocument>
#include <QTimer>

namespace certsync::testing {

using namespace directory;

DirectoryFixture DirectoryFixture::fromEnvironment(const char *variable)
{
    DirectoryFixture fixture;
    fixture.envPath = qEnvironmentVariable(variable);
    if (fixture.envPath.isEmpty()) {
        fixture.error = QStringLiteral("%1 is not set: run this suite through ctest, which starts the server")
                            .arg(QString::fromLatin1(variable));
        return fixture;
    }
    QFile file(fixture.envPath);
    if (!file.open(QIODevice::ReadOnly)) {
        fixture.error = QStringLiteral("cannot read %1 (did the fixture start?)").arg(fixture.envPath);
        return fixture;
    }
    for (const QByteArray &line : file.readAll().split('\n')) {
        const qsizetype eq = line.indexOf('=');
        if (eq > 0)
            fixture.env.insert(QString::fromUtf8(line.left(eq)), QString::fromUtf8(line.mid(eq + 1)));
    }
    if (fixture.value(QStringLiteral("LDAP_URL")).isEmpty())
        fixture.error = QStringLiteral("%1 names no LDAP_URL").arg(fixture.envPath);
    return fixture;
}

ConnectionProfile DirectoryFixture::profile(bool admin) const
{
    ConnectionProfile p;
    p.kind = isActiveDirectory() ? SourceKind::ActiveDirectory : SourceKind::GenericLdap;
    p.mapping = AttributeMapping::defaults(p.kind);
    p.url = value(QStringLiteral("LDAP_URL"));
    p.startTls = true;
    p.baseDn = value(QStringLiteral("BASE_DN"));
    p.bind = BindMethod::Simple;
    p.bindDn = value(admin ? QStringLiteral("ADMIN_DN") : QStringLiteral("READER_DN"));
    p.caFile = value(QStringLiteral("CA_FILE"));
    p.connectTimeoutMs = 5000;
    p.operationTimeoutMs = 20000;
    return p;
}

QString DirectoryFixture::password(bool admin) const
{
    return value(admin ? QStringLiteral("ADMIN_PASSWORD") : QStringLiteral("READER_PASSWORD"));
}

QJsonObject DirectoryFixture::manifest() const
{
    QFile file(value(QStringLiteral("MANIFEST")));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

std::shared_ptr<const certs::TrustStore> DirectoryFixture::trust() const
{
    certs::TrustSettings settings;
    settings.bundleFiles = { value(QStringLiteral("TRUST_FILE")) };
    settings.crlFiles = { value(QStringLiteral("CRL_FILE")) };
    auto store = certs::TrustStore::load(settings);
    if (!store)
        return {};
    return std::make_shared<const certs::TrustStore>(std::move(*store));
}

DirectoryReadSettings DirectoryFixture::readSettings(bool admin) const
{
    DirectoryReadSettings s;
    s.profile = profile(admin);
    s.password = password(admin);
    s.trust = trust();
    s.cache = std::make_shared<certs::MemoryAnalysisCache>();
    return s;
}

ReadOutcome readDirectory(DirectoryReadSettings settings,
                          const std::function<void(DirectoryReadJob *)> &setup, int timeoutMs)
{
    ReadOutcome outcome;
    QEventLoop loop;
    QElapsedTimer clock;
    clock.start();
    {
        jobs::JobRunner runner;
        auto *job = new DirectoryReadJob(std::move(settings));
        QObject::connect(job, &DirectoryReadJob::usersRead, &loop,
                         [&outcome](const QList<DirectoryUser> &users) { outcome.streamed += users; });
        QObject::connect(job, &DirectoryReadJob::snapshotReady, &loop,
                         [&outcome](const std::shared_ptr<DirectorySnapshot> &s) { outcome.snapshot = s; });
        QObject::connect(job, &jobs::Job::finished, &loop, [&](bool success, const QString &) {
            outcome.finished = true;
            outcome.success = success;
            outcome.elapsedMs = clock.elapsed();
            loop.quit();
        });
        if (setup)
            setup(job);
        QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
        runner.run(job);
        loop.exec();
    }
    return outcome;
}

} // namespace certsync::testing
