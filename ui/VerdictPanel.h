#pragma once

#include "engine/Verdict.h"

#include <QFrame>

#include <optional>

class QLabel;
class QPushButton;

namespace certsync::ui {

// The helpdesk's answer at the top of the user pane: "can senders encrypt to this person?" in one
// line, then each path (the directory as Outlook reads it from the GAL, and Exchange Online) with the
// certificate chosen and the reasons in words, and the fix. "Copy answer" puts the same text as
// `certsync check` prints on the clipboard. Shows a computed engine::EncryptionVerdict; decides
// nothing itself.
class VerdictPanel : public QFrame
{
    Q_OBJECT
public:
    explicit VerdictPanel(QWidget *parent = nullptr);

    // `note`: what limits the answer (Microsoft 365 not read yet, ...), shown under the paths.
    void showVerdict(const engine::EncryptionVerdict &verdict, const QString &note = {});
    // A look-up under way, or why it failed: no verdict meanwhile.
    void showMessage(const QString &text);
    void clear();

    [[nodiscard]] const std::optional<engine::EncryptionVerdict> &verdict() const { return m_verdict; }

private:
    void copyAnswer();

    QLabel *m_icon;
    QLabel *m_line;
    QLabel *m_details;
    QPushButton *m_copy;
    std::optional<engine::EncryptionVerdict> m_verdict;
};

} // namespace certsync::ui
