#pragma once

#include "directory/DirectorySnapshot.h"
#include "directory/UserSummary.h"

#include <QWidget>

#include <array>

class QLabel;

namespace certsync::ui {

// Certificates expiring per month for the next twelve months, painted (no QtCharts dependency).
class ExpiryChart : public QWidget
{
    Q_OBJECT
public:
    explicit ExpiryChart(QWidget *parent = nullptr);
    void setCounts(const QDate &firstMonth, const std::array<int, 12> &counts);
    [[nodiscard]] const std::array<int, 12> &counts() const { return m_counts; }
    QSize sizeHint() const override { return { 640, 240 }; }

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    QDate m_first;
    std::array<int, 12> m_counts {};
};

// The first thing a person sees: how many users and certificates in which state, what expires
// when, and what blocks synchronisation.
class DashboardPane : public QWidget
{
    Q_OBJECT
public:
    // What the pane shows, counted user by user on any thread.
    struct Figures
    {
        explicit Figures(const QDateTime &now);
        void add(const directory::UserSummary &user);
        void add(const directory::DirectoryUser &user); // its values judged (else counted as fine)

        qint64 nowMs;
        QDate firstMonth;
        std::array<int, 3> users {}; // per status
        std::array<int, 12> expiring {}; // certificates per month from firstMonth
        int certificates = 0;
        int overLimit = 0; // users
        int invalid = 0; // values
        qsizetype total = 0;
    };

    explicit DashboardPane(QWidget *parent = nullptr);
    void setSnapshot(const directory::DirectorySnapshot &snapshot, const QDateTime &now);
    void setFigures(const Figures &figures, const QString &server, const QDateTime &readAt);

private:
    QLabel *m_summary;
    QLabel *m_blocking;
    ExpiryChart *m_chart;
};

} // namespace certsync::ui
