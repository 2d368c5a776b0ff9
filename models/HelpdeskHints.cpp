#include "models/HelpdeskHints.h"

#include "engine/Diff.h"

#include <QCoreApplication>

namespace certsync::models {

QString outlookSelectionWarning(const QList<certs::AnalyzedValue> &values)
{
    const auto stale = engine::staleSmimeSelection(values);
    if (!stale)
        return {};
    return QCoreApplication::translate(
               "certsync",
               "Outlook will encrypt to the certificate in userSMIMECertificate (valid "
               "until %1), not to the newer one in userCertificate (valid until %2). "
               "Republish userSMIMECertificate.")
        .arg(stale->smimeNotAfter.date().toString(Qt::ISODate),
             stale->userCertificateNotAfter.date().toString(Qt::ISODate));
}

} // namespace certsync::models
