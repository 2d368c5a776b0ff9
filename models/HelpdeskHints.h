#pragma once

#include "certs/ValueAnalyzer.h"

#include <QString>

namespace certsync::models {

// The warning a helpdesk needs first, in words for a person: Outlook reads userSMIMECertificate
// before userCertificate and uses what it finds there even when userCertificate holds a newer
// certificate. The rule is the engine's (engine::staleSmimeSelection). Empty when none applies.
QString outlookSelectionWarning(const QList<certs::AnalyzedValue> &values);

} // namespace certsync::models
