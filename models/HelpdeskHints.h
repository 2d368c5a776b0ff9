#pragma once

#include "certs/ValueAnalyzer.h"

#include <QString>

namespace certsync::models {

// The warning a helpdesk needs first: Outlook reads userSMIMECertificate before userCertificate and
// uses what it finds there even when userCertificate holds a newer certificate. Empty when none.
QString outlookSelectionWarning(const QList<certs::AnalyzedValue> &values, const QDateTime &now);

} // namespace certsync::models
