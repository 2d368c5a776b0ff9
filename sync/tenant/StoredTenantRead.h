#pragma once

// The tenant side of the state database: the Graph delta link of the last users read, with the
// users it left (a delta round only says what changed, so the next read applies it to them).

#include "core/Result.h"
#include "tenant/TenantSettings.h"
#include "tenant/TenantSnapshot.h"

#include <optional>

namespace certsync::store {
class StateStore;
}

namespace certsync::tenant {

// Under what the link is stored: the Graph service, the tenant and the query's $select. A changed
// $select (a new certsync reading more fields) finds no link, and so reads every user once.
QString storedReadKey(const TenantSettings &settings);

struct StoredTenantRead
{
    std::optional<TenantSnapshot> previous; // users and delta link; none: read every user
    QString why; // why there is none, for the log
};

StoredTenantRead loadTenantRead(const store::StateStore &state, const TenantSettings &settings);
// Stores the snapshot's delta link and users. A snapshot without a delta link forgets the old one.
Result<void> saveTenantRead(store::StateStore &state, const TenantSettings &settings,
                            const TenantSnapshot &snapshot);

} // namespace certsync::tenant
