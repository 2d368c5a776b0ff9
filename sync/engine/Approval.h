#pragma once

// Who may approve and who may publish a plan: the four-eyes rules, checked for every approval,
// rejection and publish, from the command line and the console alike.
//
// - A plan's author (the account that staged it) cannot approve or reject its items.
// - The author cannot publish it either; any other account can (an approver, or a third account such
//   as the change window's operator). Every item written was approved by someone else, and the
//   publisher is the one who may override the deletion threshold: that decision, too, is not the
//   author's alone.
// - Optionally, only listed accounts or groups ("%group") may approve or reject.
// A single-admin shop turns the second-person rule off in the settings; approvals made while it is
// off say so in their audit rows. Refusals carry error code "not_allowed".

#include "core/Operator.h"
#include "core/Result.h"

#include <QStringList>

namespace certsync::engine {

struct ApprovalPolicy
{
    bool requireSecondPerson = true;
    QStringList approvers; // account names and "%group"; empty: any account
};

// The words an audit row carries while the second-person rule is off.
QString fourEyesOffNote();

// `who` and `planAuthor` as recorded ("alice", "alice (via sudo)"): their accounts are compared.
Result<void> mayDecide(const ApprovalPolicy &policy, const QString &who, qint64 planId,
                       const QString &planAuthor);
Result<void> mayPublish(const ApprovalPolicy &policy, const QString &who, qint64 planId,
                        const QString &planAuthor);

// The account belongs to the group (primary or supplementary), as the system's group database says.
bool isInGroup(const QString &account, const QString &group);

} // namespace certsync::engine
