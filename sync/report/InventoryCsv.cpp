#include "report/InventoryCsv.h"

#include <QCryptographicHash>
#include <QDataStream>
#include <QIODevice>

#include <openssl/crypto.h>

namespace certsync::report {

using namespace certs;

InventoryCsv::InventoryCsv(QIODevice *device)
    : m_csv(device)
{ }

QStringList InventoryCsv::header()
{
    return { QStringLiteral("user_dn"),
             QStringLiteral("user_principal_name"),
             QStringLiteral("mail"),
             QStringLiteral("source_anchor"),
             QStringLiteral("attribute"),
             QStringLiteral("value_index"),
             QStringLiteral("value_kind"),
             QStringLiteral("sha256"),
             QStringLiteral("subject"),
             QStringLiteral("issuer"),
             QStringLiteral("serial"),
             QStringLiteral("not_before"),
             QStringLiteral("not_after"),
             QStringLiteral("key"),
             QStringLiteral("signature_algorithm"),
             QStringLiteral("emails"),
             QStringLiteral("status"),
             QStringLiteral("problems") };
}

bool InventoryCsv::writeHeader()
{
    return m_csv.writeRow(header());
}

QString InventoryCsv::utcTime(const QDateTime &time)
{
    if (!time.isValid())
        return {};
    const QDateTime utc = time.toUTC();
    const QDate date = utc.date();
    const QTime clock = utc.time();
    if (date.year() < 0 || date.year() > 9999) // never in a certificate; the general form
        return utc.toString(QStringLiteral("yyyy-MM-ddTHH:mm:ss")) + QLatin1Char('Z');
    // Digit by digit: QDateTime::toString interprets its format on every call, a warm inventory's
    // largest formatting cost.
    char text[] = "0000-00-00T00:00:00Z";
    auto digits = [&text](int at, int width, int number) {
        for (int i = at + width - 1; i >= at; --i, number /= 10)
            text[i] = char('0' + number % 10);
    };
    digits(0, 4, date.year());
    digits(5, 2, date.month());
    digits(8, 2, date.day());
    digits(11, 2, clock.hour());
    digits(14, 2, clock.minute());
    digits(17, 2, clock.second());
    return QString::fromLatin1(text, sizeof text - 1);
}

QByteArray InventoryCsv::userRows(const directory::DirectoryUser &user, qint64 *rows)
{
    // The user's identity, escaped once for all of its rows.
    QByteArray identity;
    CsvWriter::appendField(identity, user.dn, true);
    for (const QString *field : { &user.userPrincipalName, &user.mail, &user.sourceAnchor })
        CsvWriter::appendField(identity, *field);
    QByteArray out;
    qint64 count = 0;
    for (const AnalyzedValue &value : user.values) {
        QByteArray where = identity;
        CsvWriter::appendField(where, attributeName(value.attribute));
        CsvWriter::appendField(where, QString::number(value.index));
        CsvWriter::appendField(where, valueKindName(value.kind));
        if (value.kind == ValueKind::Invalid || value.certificates.isEmpty()) {
            // No certificate to describe: the value's own SHA-256 identifies it.
            const ProblemSet problems = value.valueProblems;
            out += where;
            CsvWriter::appendField(out, QString::fromLatin1(value.sha256.toHex()));
            out.append(",,,,,,,,", 8); // subject to emails: empty
            CsvWriter::appendField(out, statusName(problems.status()));
            CsvWriter::appendField(out, problems.codes());
            CsvWriter::endRow(out);
            ++count;
            continue;
        }
        for (int i = 0; i < value.certificates.size(); ++i) {
            const Certificate &c = value.certificates.at(i).certificate;
            const ProblemSet problems = value.problemsOf(i);
            out += where;
            for (const QString &field :
                 { c.sha256Hex(), c.subject, c.issuer, c.serialHex, utcTime(c.notBefore), utcTime(c.notAfter),
                   c.keyDescription(), c.signatureAlgorithm, c.emails().join(QLatin1Char(';')),
                   statusName(problems.status()), problems.codes() })
                CsvWriter::appendField(out, field);
            CsvWriter::endRow(out);
            ++count;
        }
    }
    *rows = count;
    return out;
}

QByteArray InventoryCsv::reportContext(const TrustStore &trust, const JudgePolicy &policy)
{
    QByteArray bytes;
    QDataStream s(&bytes, QIODevice::WriteOnly);
    s.setVersion(QDataStream::Qt_6_4);
    // The libraries at run time too: an OpenSSL or Qt update may change a verdict or a field.
    s << QStringLiteral("certsync inventory rows") << QStringLiteral(CERTSYNC_VERSION)
      << qint32(reportRevision) << QByteArray(OpenSSL_version(OPENSSL_VERSION)) << QByteArray(qVersion())
      << header() << trust.fingerprint() << qint32(policy.warningDays) << qint32(policy.minRsaBits)
      << qint32(policy.minEcBits) << policy.requireTrust << qint32(policy.maxValuesPerAttribute);
    return QCryptographicHash::hash(bytes, QCryptographicHash::Sha256);
}

bool InventoryCsv::writeUser(const directory::DirectoryUser &user)
{
    if (user.report)
        return m_csv.writeRows(user.report->csv, user.report->rows);
    qint64 rows = 0;
    const QByteArray bytes = userRows(user, &rows);
    return m_csv.writeRows(bytes, rows);
}

} // namespace certsync::report
