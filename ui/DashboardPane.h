#pragma once

#include "directory/DirectorySnapshot.h"

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
    explicit DashboardPane(QWidget *parent = nullptr);
    void setSnapshot(const directory::DirectorySnapshot &snapshot, const QDateTime &now);

private:
    QLabel *m_summary;
    QLabel *m_blocking;
    ExpiryChart *m_chart;
};

} // namespace certsync::ui
