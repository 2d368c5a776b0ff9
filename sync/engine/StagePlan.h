#pragma once

#include "engine/PlanStore.h"

namespace certsync::engine {

// A diff stored as a staged plan, with what a person is told about it.
struct StagedPlan
{
    PlanSummary summary;
    int exchangeItems = 0;
    int graphItems = 0;
    int directoryItems = 0;
};

// Stores `diff` as a new staged plan (older open plans become stale) and reads back its summary:
// what `certsync diff` and the console's Diff both do once the diff is computed.
Result<StagedPlan> stagePlan(store::StateStore &state, const DiffResult &diff, const PlanSource &source,
                             const QString &who);

// Staging mode (compute and stage, never publish): the settings file's `sync/staging` (as loaded, so
// that $CERTSYNC_CONFIG is honoured), or CERTSYNC_STAGING=1 for a headless run. `certsync publish`
// and the console's Publish both ask this.
bool stagingMode(bool configured);

} // namespace certsync::engine
