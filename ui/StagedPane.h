#pragma once

#include "engine/PlanStore.h"

#include <QWidget>

#include <memory>

class QCheckBox;
class QLabel;
class QLineEdit;
class QMessageBox;
class QPushButton;
class QTableView;

namespace certsync::store {
class StateStore;
}
namespace certsync::models {
class PlansModel;
class PlanItemsModel;
} // namespace certsync::models

namespace certsync::ui {

// Staged plans and their items: approve or reject by clicking, then publish what was approved.
// Decisions are recorded with who, when and the comment. The plans are read from the local state
// database on the GUI thread: a few small queries; publishing itself runs as a job elsewhere.
class StagedPane : public QWidget
{
    Q_OBJECT
public:
    explicit StagedPane(QWidget *parent = nullptr);
    ~StagedPane() override;

    // Opens the state database; returns an error text, empty on success.
    QString setStatePath(const QString &path);
    void setDeletionThreshold(int threshold);
    void refresh();
    [[nodiscard]] qint64 currentPlan() const { return m_planId; }
    [[nodiscard]] models::PlanItemsModel *itemsModel() const { return m_items; }

signals:
    // The person confirmed publishing the approved items of `planId`.
    void publishRequested(qint64 planId, bool allowDeletions);

private:
    void showPlan(qint64 planId);
    void decide(engine::Decision decision, bool allShown);
    void confirmPublish();

    std::unique_ptr<store::StateStore> m_store;
    std::unique_ptr<engine::PlanStore> m_planStore;
    models::PlansModel *m_plans;
    models::PlanItemsModel *m_items;
    QTableView *m_plansView;
    QTableView *m_itemsView;
    QLabel *m_banner;
    QCheckBox *m_allowDeletions;
    QLineEdit *m_comment;
    QPushButton *m_publish;
    QLabel *m_message;
    qint64 m_planId = 0;
    int m_threshold = 500;
};

} // namespace certsync::ui
