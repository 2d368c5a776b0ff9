#include "models/HelpdeskHints.h"

#include "engine/Diff.h"

#include <QCoreApplication>

namespace certsync::models {

QString outlookSelectionWarning(const QList<certs::AnalyzedValue> &values)
{
    const auto stale = engine::staleSmimeSelection(values);
    if (!stale)
        return {};
    if (!stale->smimeUsable)
        return QCoreApplication::translate(
                   "certsync",
                   "Outlook takes the certificate in userSMIMECertificate (valid until %1), which "
                   "cannot be encrypted to, and does not fall back to the usable one in "
                   "userCertificate (valid until %2). Republish userSMIMECertificate.")
            .arg(stale->smimeNotAfter.date().toString(Qt::ISODate),
                 stale->userCertificateNotAfter.date().toString(Qt::ISODate));
    return QCoreApplication::translate(
               "certsync",
               "Outlook will encrypt to the certificate in userSMIMECertificate (valid "
               "until %1), not to the newer one in userCertificate (valid until %2). "
               "Republish userSMIMECertificate.")
        .arg(stale->smimeNotAfter.date().toString(Qt::ISODate),
             stale->userCertificateNotAfter.date().toString(Qt::ISODate));
}

} // namespace certsync::models
