#include "core/Logging.h"

Q_LOGGING_CATEGORY(lcCerts, "certsync.certs", QtWarningMsg)
Q_LOGGING_CATEGORY(lcDirectory, "certsync.directory", QtWarningMsg)
Q_LOGGING_CATEGORY(lcTenant, "certsync.tenant", QtWarningMsg)
Q_LOGGING_CATEGORY(lcEngine, "certsync.engine", QtWarningMsg)
Q_LOGGING_CATEGORY(lcStore, "certsync.store", QtWarningMsg)
