#include "engine/StagePlan.h"

#include <QtGlobal>

namespace certsync::engine {

Result<StagedPlan> stagePlan(store::StateStore &state, const DiffResult &diff, const PlanSource &source,
                             const QString &who)
{
    PlanStore plans(state);
    auto id = plans.savePlan(diff, source, who);
    if (!id)
        return id.error();
    auto summary = plans.plan(*id);
    if (!summary)
        return summary.error();
    StagedPlan staged;
    staged.summary = std::move(summary).value();
    for (const PlanItem &i : diff.items)
        (i.channel == Channel::Exchange    ? staged.exchangeItems
             : i.channel == Channel::Graph ? staged.graphItems
                                           : staged.directoryItems)++;
    return staged;
}

bool stagingMode(bool configured)
{
    return configured || qEnvironmentVariableIntValue("CERTSYNC_STAGING") == 1;
}

} // namespace certsync::engine
