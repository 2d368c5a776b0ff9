#pragma once

#include <QStringList>
#include <QTextStream>

namespace certsync::cli {

// `certsync check WHO [--json] [--directory-only]`: can senders encrypt to this person? Reads that
// one user live from the directory (one LDAP search) and, with a tenant, from Graph and Exchange.
// Exit 0: yes on every path checked; 5: no; 1: failure; 2: usage.
int runCheck(const QStringList &arguments, QTextStream &out, QTextStream &err);

} // namespace certsync::cli
