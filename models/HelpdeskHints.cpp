#include "models/HelpdeskHints.h"

#include <QCoreApplication>

namespace certsync::models {

using namespace certs;

namespace {

// A certificate Outlook can encrypt to: unexpired, valid now, allowed for e-mail protection.
bool usableForEncryption(const AnalyzedValue &value, int index, const QDateTime &now)
{
    const JudgedCertificate &judged = value.certificates.at(index);
    const Certificate &c = judged.certificate;
    return judged.isUsers && c.notBefore <= now && now <= c.notAfter && c.hasEmailProtection()
        && !value.problemsOf(index).has(Problem::KeyUsage) && !value.problemsOf(index).has(Problem::Revoked);
}

} // namespace

QString outlookSelectionWarning(const QList<AnalyzedValue> &values, const QDateTime &now)
{
    QDateTime newestSmime;
    QDateTime newestUser;
    bool smimeHasCertificate = false;
    for (const AnalyzedValue &value : values)
        for (int i = 0; i < value.certificates.size(); ++i) {
            if (!value.certificates.at(i).isUsers)
                continue;
            const QDateTime notAfter = value.certificates.at(i).certificate.notAfter;
            if (value.attribute == Attribute::UserSmimeCertificate) {
                smimeHasCertificate = true;
                if (usableForEncryption(value, i, now) && (!newestSmime.isValid() || notAfter > newestSmime))
                    newestSmime = notAfter;
            } else if (usableForEncryption(value, i, now)
                       && (!newestUser.isValid() || notAfter > newestUser)) {
                newestUser = notAfter;
            }
        }
    if (!newestUser.isValid() || !smimeHasCertificate)
        return {};
    if (!newestSmime.isValid())
        return QCoreApplication::translate(
            "certsync",
            "userSMIMECertificate holds no usable certificate, yet Outlook may still read it before the "
            "usable one in userCertificate. Remove or replace the stale userSMIMECertificate value.");
    if (newestSmime < newestUser)
        return QCoreApplication::translate(
                   "certsync",
                   "Outlook will encrypt to the certificate in userSMIMECertificate (valid until "
                   "%1), not to the newer one in userCertificate (valid until %2). Republish "
                   "userSMIMECertificate.")
            .arg(newestSmime.date().toString(Qt::ISODate), newestUser.date().toString(Qt::ISODate));
    return {};
}

} // namespace certsync::models
