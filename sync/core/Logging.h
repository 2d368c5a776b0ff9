#pragma once

#include <QLoggingCategory>

// One logging category per area (enable with QT_LOGGING_RULES="certsync.certs.debug=true").
Q_DECLARE_LOGGING_CATEGORY(lcCerts)
Q_DECLARE_LOGGING_CATEGORY(lcDirectory)
Q_DECLARE_LOGGING_CATEGORY(lcTenant)
Q_DECLARE_LOGGING_CATEGORY(lcEngine)
Q_DECLARE_LOGGING_CATEGORY(lcStore)
