#pragma once

// Starts certsync-tenantsim for a test (port 0, a temporary folder for its state, CA and access
// log), and talks to its admin endpoint. Waits only on signals (QSignalSpy), never on sleeps.

#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

namespace certsync::testing {

class SimHarness
{
public:
    SimHarness();
    ~SimHarness();
    SimHarness(const SimHarness &) = delete;
    SimHarness &operator=(const SimHarness &) = delete;

    // Writes `seed` as the seed file and starts the simulator with `args` added; false with a
    // reason in lastError() when it does not come up.
    bool start(const QJsonObject &seed, const QStringList &args = {});
    void stop();

    [[nodiscard]] QString baseUrl() const; // https://127.0.0.1:PORT
    [[nodiscard]] QString caFile() const { return m_dir.filePath(QStringLiteral("tenantsim-ca.pem")); }
    [[nodiscard]] QString statePath() const { return m_dir.filePath(QStringLiteral("state.json")); }
    [[nodiscard]] QString accessLogPath() const { return m_dir.filePath(QStringLiteral("access.log")); }
    [[nodiscard]] QString dirPath() const { return m_dir.path(); }
    [[nodiscard]] QString lastError() const { return m_error; }

    // Admin endpoint: returns the JSON answer, or an object with "error" on failure.
    QJsonObject admin(const QByteArray &verb, const QString &path, const QJsonObject &body = {});
    QJsonObject setFaults(const QJsonObject &faults)
    {
        return admin("POST", QStringLiteral("/admin/faults"), faults);
    }
    QJsonObject stats() { return admin("GET", QStringLiteral("/admin/stats")); }

    // The access log, one list of columns per line.
    [[nodiscard]] QList<QStringList> accessLog() const;

    // Seed helpers.
    static QString sha256Hex(const QString &secret);
    static QJsonObject seed(const QString &tenantId, const QJsonObject &app, const QList<QJsonObject> &users);
    static QJsonObject app(const QString &clientId, const QString &secret,
                           const QList<QByteArray> &certificatesDer);

private:
    QTemporaryDir m_dir;
    QProcess m_process;
    QNetworkAccessManager m_nam;
    quint16 m_port = 0;
    quint16 m_adminPort = 0;
    QString m_error;
};

} // namespace certsync::testing
