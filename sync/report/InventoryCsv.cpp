#include "report/InventoryCsv.h"

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
    return time.toUTC().toString(QStringLiteral("yyyy-MM-ddTHH:mm:ss")) + QLatin1Char('Z');
}

bool InventoryCsv::writeUser(const directory::DirectoryUser &user)
{
    const QStringList identity = { user.dn, user.userPrincipalName, user.mail, user.sourceAnchor };
    for (const AnalyzedValue &value : user.values) {
        const QStringList where = { attributeName(value.attribute), QString::number(value.index),
                                    valueKindName(value.kind) };
        if (value.kind == ValueKind::Invalid || value.certificates.isEmpty()) {
            // No certificate to describe: the value's own SHA-256 identifies it.
            const ProblemSet problems = value.valueProblems;
            if (!m_csv.writeRow(identity + where
                                + QStringList { QString::fromLatin1(value.sha256.toHex()),
                                                {},
                                                {},
                                                {},
                                                {},
                                                {},
                                                {},
                                                {},
                                                {},
                                                statusName(problems.status()),
                                                problems.codes() }))
                return false;
            continue;
        }
        for (int i = 0; i < value.certificates.size(); ++i) {
            const Certificate &c = value.certificates.at(i).certificate;
            const ProblemSet problems = value.problemsOf(i);
            if (!m_csv.writeRow(identity + where
                                + QStringList { c.sha256Hex(), c.subject, c.issuer, c.serialHex,
                                                utcTime(c.notBefore), utcTime(c.notAfter), c.keyDescription(),
                                                c.signatureAlgorithm, c.emails().join(QLatin1Char(';')),
                                                statusName(problems.status()), problems.codes() }))
                return false;
        }
    }
    return true;
}

} // namespace certsync::report
