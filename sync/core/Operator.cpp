#include "core/Operator.h"

#include <QMutex>

#include <pwd.h>
#include <unistd.h>

#include <vector>

namespace certsync {

namespace {

QMutex overrideMutex;
QString overrideAccount; // setOperatorForTests

// The account name of a uid, from the system's user database (getpwuid_r: thread-safe).
QString accountName(uid_t uid)
{
    long size = sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buffer(size > 0 ? size_t(size) : 16384);
    passwd entry {};
    passwd *found = nullptr;
    if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found && found->pw_name)
        return QString::fromLocal8Bit(found->pw_name);
    return QStringLiteral("uid %1").arg(uid);
}

} // namespace

QString Operator::recorded() const
{
    return viaSudo ? account + QStringLiteral(" (via sudo)") : account;
}

QString Operator::accountOf(const QString &recorded)
{
    static const QString suffix = QStringLiteral(" (via sudo)");
    return recorded.endsWith(suffix) ? recorded.chopped(suffix.size()) : recorded;
}

Operator currentOperator()
{
    {
        const QMutexLocker lock(&overrideMutex);
        if (!overrideAccount.isEmpty())
            return Operator { overrideAccount, false, 0 };
    }
    Operator op;
    op.uid = getuid();
    op.account = accountName(op.uid);
    // sudo sets SUDO_USER and SUDO_UID for the command it runs as root. Only root can have been
    // started that way, and root could claim any name anyway: the pair must agree with the user
    // database, otherwise the real account (root) is recorded.
    if (op.uid == 0) {
        const QString sudoUser = qEnvironmentVariable("SUDO_USER");
        bool ok = false;
        const uint sudoUid = qEnvironmentVariable("SUDO_UID").toUInt(&ok);
        if (!sudoUser.isEmpty() && ok && sudoUid != 0 && accountName(sudoUid) == sudoUser) {
            op.account = sudoUser;
            op.uid = sudoUid;
            op.viaSudo = true;
        }
    }
    return op;
}

namespace testing {

void setOperatorForTests(const QString &account)
{
    const QMutexLocker lock(&overrideMutex);
    overrideAccount = account;
}

} // namespace testing

} // namespace certsync
