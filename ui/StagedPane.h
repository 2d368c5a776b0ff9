#pragma once

#include "engine/PlanStore.h"
#include "jobs/Job.h"

#include <QWidget>

#include <functional>
#include <memory>
#include <optional>

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
// Decisions are recorded with who, when and the comment. Every read and decision goes to the state
// database on the pane's own worker thread (its own connection there, QtSql's rule), so that a
// busy database never stalls the window; answers replace the tables in one step, without an empty
// state in between. Publishing itself runs as a job elsewhere.
class StagedPane : public QWidget
{
    Q_OBJECT
public:
    explicit StagedPane(QWidget *parent = nullptr);
    ~StagedPane() override;

    // Reads plans from the state database at `path` from now on; returns an error text at once for
    // an unusable path, empty otherwise (a database that cannot be opened is reported in the pane).
    QString setStatePath(const QString &path);
    void setDeletionThreshold(int threshold);
    [[nodiscard]] int deletionThreshold() const { return m_threshold; }
    void setApprovalPolicy(const engine::ApprovalPolicy &policy) { m_approval = policy; }
    // Reads the plans again and shows `planId` (0: the plan shown now, else the newest).
    void refresh(qint64 planId = 0);
    [[nodiscard]] qint64 currentPlan() const { return m_planId; }
    [[nodiscard]] models::PlanItemsModel *itemsModel() const { return m_items; }

signals:
    // The person confirmed publishing the approved items of `planId`.
    void publishRequested(qint64 planId, bool allowDeletions);
    // A read of the state database has been shown (tests wait on it).
    void loaded();

private:
    struct Loaded;
    // Runs `change` (may be empty) and then the reads on the worker; shows the answer when it is
    // still the latest one asked for.
    void load(qint64 planId, bool withPlans,
              std::function<QString(engine::PlanStore &, QString &message)> change = {});
    void apply(const Loaded &loaded);
    void showBanner();
    void showPlan(qint64 planId);
    void decide(engine::Decision decision, bool allShown);
    void confirmPublish();

    jobs::JobRunner m_worker;
    QString m_path;
    quint64 m_generation = 0;
    bool m_applying = false; // selecting a row while showing an answer must not ask again
    std::optional<engine::PlanSummary> m_summary; // of the plan shown
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
    engine::ApprovalPolicy m_approval;
};

} // namespace certsync::ui
