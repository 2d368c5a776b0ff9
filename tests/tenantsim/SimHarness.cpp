#include "SimHarness.h"

#include <QCryptographicHash>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QSignalSpy>

#include <csignal>
#include <sys/prctl.h>

namespace certsync::testing {

SimHarness::SimHarness()
{
    // CERTSYNC_KEEP_TENANTSIM=1 keeps the state, CA and access log for a look after a failure.
    if (qEnvironmentVariableIntValue("CERTSYNC_KEEP_TENANTSIM"))
        m_dir.setAutoRemove(false);
}

SimHarness::~SimHarness()
{
    stop();
}

bool SimHarness::start(const QJsonObject &seed, const QStringList &args)
{
    if (!m_dir.isValid()) {
        m_error = QStringLiteral("no temporary folder");
        return false;
    }
    const QString seedPath = m_dir.filePath(QStringLiteral("seed.json"));
    QFile seedFile(seedPath);
    if (!seedFile.open(QIODevice::WriteOnly) || seedFile.write(QJsonDocument(seed).toJson()) < 0) {
        m_error = seedFile.errorString();
        return false;
    }
    seedFile.close();
    QStringList all { QStringLiteral("--seed"),   seedPath, QStringLiteral("--state"),      statePath(),
                      QStringLiteral("--ca-out"), caFile(), QStringLiteral("--access-log"), accessLogPath() };
    all += args;
    m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    // A crashed test must not leave its simulator behind (ctest would wait on its pipes).
    m_process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
    m_process.start(QStringLiteral(CERTSYNC_TENANTSIM_PATH), all);
    if (!m_process.waitForStarted(10000)) {
        m_error = m_process.errorString();
        return false;
    }
    // The simulator prints one line with its ports once it listens.
    static const QRegularExpression line(
        QStringLiteral("listening https://127\\.0\\.0\\.1:(\\d+) admin http://127\\.0\\.0\\.1:(\\d+)"));
    QByteArray out;
    while (!out.contains('\n')) {
        if (m_process.state() != QProcess::Running || !m_process.waitForReadyRead(20000)) {
            m_error = QStringLiteral("the simulator did not come up: ") + QString::fromUtf8(out);
            return false;
        }
        out += m_process.readAllStandardOutput();
    }
    const auto match = line.match(QString::fromUtf8(out));
    if (!match.hasMatch()) {
        m_error = QStringLiteral("unexpected first line: ") + QString::fromUtf8(out);
        return false;
    }
    m_port = quint16(match.captured(1).toUInt());
    m_adminPort = quint16(match.captured(2).toUInt());
    return true;
}

void SimHarness::stop()
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    m_process.terminate();
    if (!m_process.waitForFinished(5000)) {
        m_process.kill();
        m_process.waitForFinished(5000);
    }
}

QString SimHarness::baseUrl() const
{
    return QStringLiteral("https://127.0.0.1:%1").arg(m_port);
}

QJsonObject SimHarness::admin(const QByteArray &verb, const QString &path, const QJsonObject &body)
{
    QNetworkRequest request(QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_adminPort).arg(path)));
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    QNetworkReply *reply =
        m_nam.sendCustomRequest(request, verb, QJsonDocument(body).toJson(QJsonDocument::Compact));
    QSignalSpy finished(reply, &QNetworkReply::finished);
    if (!reply->isFinished() && !finished.wait(15000)) {
        reply->deleteLater();
        return { { QStringLiteral("error"), QStringLiteral("admin request timed out") } };
    }
    const QByteArray data = reply->readAll();
    const bool ok = reply->error() == QNetworkReply::NoError;
    const QString errorText = reply->errorString();
    reply->deleteLater();
    if (!ok)
        return { { QStringLiteral("error"),
                   QString(errorText + QStringLiteral(": ") + QString::fromUtf8(data)) } };
    return QJsonDocument::fromJson(data).object();
}

QList<QStringList> SimHarness::accessLog() const
{
    QList<QStringList> lines;
    QFile f(accessLogPath());
    if (!f.open(QIODevice::ReadOnly | QIODevice::Text))
        return lines;
    while (!f.atEnd()) {
        QString line = QString::fromUtf8(f.readLine());
        if (line.endsWith(QLatin1Char('\n')))
            line.chop(1); // only the newline: an empty last column must stay a column
        if (!line.isEmpty())
            lines.append(line.split(QLatin1Char('\t')));
    }
    return lines;
}

QString SimHarness::sha256Hex(const QString &secret)
{
    return QString::fromLatin1(QCryptographicHash::hash(secret.toUtf8(), QCryptographicHash::Sha256).toHex());
}

QJsonObject SimHarness::app(const QString &clientId, const QString &secret,
                            const QList<QByteArray> &certificatesDer)
{
    QJsonArray certs;
    for (const QByteArray &der : certificatesDer)
        certs.append(QString::fromLatin1(der.toBase64()));
    return { { QStringLiteral("clientId"), clientId },
             { QStringLiteral("secretSha256"), secret.isEmpty() ? QString() : sha256Hex(secret) },
             { QStringLiteral("certificates"), certs } };
}

QJsonObject SimHarness::seed(const QString &tenantId, const QJsonObject &app, const QList<QJsonObject> &users)
{
    QJsonArray userArray;
    for (const QJsonObject &u : users)
        userArray.append(u);
    return { { QStringLiteral("tenantId"), tenantId },
             { QStringLiteral("apps"), QJsonArray { app } },
             { QStringLiteral("users"), userArray } };
}

} // namespace certsync::testing
