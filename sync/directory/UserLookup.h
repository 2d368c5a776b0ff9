#pragma once

// One user, live, by the name a person gives: a mail address, a UPN, a sAMAccountName/uid or a DN.
// One LDAP search (base scope for a DN), no paging, no snapshot: `certsync check` and the console's
// live look-up. Blocking: call it from a worker thread or the command line.

#include "directory/DirectoryReadJob.h"
#include "directory/DirectorySnapshot.h"

namespace certsync::directory {

// The search that finds WHO: its base, scope and filter (the profile's filter and'ed with one that
// matches WHO in the mapping's mail, UPN, account name and SMTP proxy addresses).
SearchRequest lookupRequest(const ConnectionProfile &profile, const QString &who);

// RFC 4515 escaping of a value for an LDAP filter.
QString escapeFilterValue(const QString &value);

// The user WHO names, read and analysed. Error codes: those of LdapConnection, plus "usage" for an
// empty WHO, "not_found" when no user matches and "ambiguous" when several do (the message names
// them).
Result<DirectoryUser> lookUpUser(const DirectoryReadSettings &settings, const QString &who,
                                 const QDateTime &now);

} // namespace certsync::directory
