#pragma once

// Who is running this process, as the operating system says: the operator recorded for every
// command and console action (plans, approvals, publishes, runs). Never a name from the
// environment, with one exception that the OS vouches for: under sudo (real uid 0, SUDO_USER naming an
// account whose uid is SUDO_UID) the invoking account, recorded as "alice (via sudo)".

#include <QString>

namespace certsync {

struct Operator
{
    QString account; // the OS account: the one four-eyes rules compare
    bool viaSudo = false;
    unsigned uid = 0; // of `account`

    // "alice" or "alice (via sudo)": the form recorded in the state database.
    [[nodiscard]] QString recorded() const;
    // The account part of a recorded name ("alice (via sudo)" -> "alice").
    static QString accountOf(const QString &recorded);
};

Operator currentOperator();

namespace testing {
// In-process tests only: who currentOperator() returns from now on (empty: the real account
// again). The program itself never calls it, and nothing outside C++ code can reach it.
void setOperatorForTests(const QString &account);
} // namespace testing

} // namespace certsync
