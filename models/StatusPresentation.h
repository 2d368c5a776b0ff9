#pragma once

#include "certs/ChainVerifier.h"
#include "certs/Problem.h"
#include "jobs/LogRecord.h"

#include <QColor>
#include <QIcon>
#include <QString>

namespace certsync::models {

// How a status looks everywhere in the console: an icon with a distinct shape per status and a
// word, so that colour is never the only signal.
QIcon statusIcon(certs::Status status);
QString statusText(certs::Status status); // "OK", "Warning", "Error"
QColor statusColor(certs::Status status); // for accents; always paired with the icon and the text
// Translated words for the core's names (which stay as they are in CSV and on the command line).
QString chainStatusText(certs::ChainStatus status);
QString logLevelText(jobs::LogRecord::Level level);

} // namespace certsync::models
