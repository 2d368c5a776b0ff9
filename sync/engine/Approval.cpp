#include "engine/Approval.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <vector>

namespace certsync::engine {

namespace {

Error notAllowed(const QString &message)
{
    return Error { QStringLiteral("not_allowed"), message };
}

bool sameAccount(const QString &who, const QString &recordedAuthor)
{
    return !recordedAuthor.isEmpty() && Operator::accountOf(recordedAuthor) == Operator::accountOf(who);
}

} // namespace

QString fourEyesOffNote()
{
    return QStringLiteral("four-eyes off (approval/requireSecondPerson=false)");
}

bool isInGroup(const QString &account, const QString &group)
{
    const QByteArray name = account.toLocal8Bit();
    long size = sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buffer(size > 0 ? size_t(size) : 16384);
    passwd entry {};
    passwd *found = nullptr;
    if (getpwnam_r(name.constData(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found)
        return false;
    int count = 64;
    std::vector<gid_t> groups(static_cast<size_t>(count));
    if (getgrouplist(name.constData(), found->pw_gid, groups.data(), &count) < 0) {
        groups.resize(size_t(count));
        if (getgrouplist(name.constData(), found->pw_gid, groups.data(), &count) < 0)
            return false;
    }
    groups.resize(size_t(count));
    const QByteArray wanted = group.toLocal8Bit();
    std::vector<char> groupBuffer(16384);
    for (const gid_t gid : groups) {
        struct group g
        {
        };
        struct group *result = nullptr;
        if (getgrgid_r(gid, &g, groupBuffer.data(), groupBuffer.size(), &result) == 0 && result
            && wanted == result->gr_name)
            return true;
    }
    return false;
}

Result<void> mayDecide(const ApprovalPolicy &policy, const QString &recordedWho, qint64 planId,
                       const QString &planAuthor)
{
    const QString account = Operator::accountOf(recordedWho);
    if (policy.requireSecondPerson && sameAccount(recordedWho, planAuthor))
        return notAllowed(QStringLiteral("%1 staged plan %2 and cannot approve or reject its items: another "
                                         "account must (four-eyes; approval/requireSecondPerson)")
                              .arg(account)
                              .arg(planId));
    if (policy.approvers.isEmpty())
        return {};
    for (const QString &allowed : policy.approvers) {
        if (allowed.startsWith(QLatin1Char('%')) ? isInGroup(account, allowed.mid(1)) : allowed == account)
            return {};
    }
    return notAllowed(QStringLiteral("%1 may not approve or reject: approval/approvers allows %2")
                          .arg(account, policy.approvers.join(QStringLiteral(", "))));
}

Result<void> mayPublish(const ApprovalPolicy &policy, const QString &recordedWho, qint64 planId,
                        const QString &planAuthor)
{
    if (policy.requireSecondPerson && sameAccount(recordedWho, planAuthor))
        return notAllowed(QStringLiteral("%1 staged plan %2 and cannot publish it: an approver or another "
                                         "account must (four-eyes; approval/requireSecondPerson)")
                              .arg(Operator::accountOf(recordedWho))
                              .arg(planId));
    return {};
}

} // namespace certsync::engine
