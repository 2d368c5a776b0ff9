#include "models/HelpdeskHints.h"

#include "engine/Diff.h"

#include <QCoreApplication>

namespace certsync::models {

QString outlookSelectionWarning(const QList<certs::AnalyzedValue> &values)
{
    const auto stale = engine::staleSmimeSelection(values);
    if (!stale)
        return {};
    // Outlook takes the userSMIMECertificate certificate either way; say whether it can encrypt to it.
    // QT_TRANSLATE_NOOP: lupdate still finds both texts.
    const char *text = stale->smimeUsable
        ? QT_TRANSLATE_NOOP("certsync",
                            "Outlook will encrypt to the certificate in userSMIMECertificate (valid "
                            "until %1), not to the newer one in userCertificate (valid until %2). "
                            "Republish userSMIMECertificate.")
        : QT_TRANSLATE_NOOP("certsync",
                            "Outlook takes the certificate in userSMIMECertificate (valid until %1), which "
                            "cannot be encrypted to, and does not fall back to the usable one in "
                            "userCertificate (valid until %2). Republish userSMIMECertificate.");
    return QCoreApplication::translate("certsync", text)
        .arg(stale->smimeNotAfter.date().toString(Qt::ISODate),
             stale->userCertificateNotAfter.date().toString(Qt::ISODate));
}

} // namespace certsync::models
