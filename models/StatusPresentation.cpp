#include "models/StatusPresentation.h"

#include <QCoreApplication>
#include <QGuiApplication>
#include <QPainter>
#include <QPainterPath>
#include <QPalette>
#include <QPixmap>

namespace certsync::models {

namespace {

// A dark palette (the system's dark mode) gets lighter accents, so that icons and chart bars keep
// at least 3:1 contrast against the window and the views.
bool darkPalette()
{
    if (!qobject_cast<QGuiApplication *>(QCoreApplication::instance()))
        return false;
    return QGuiApplication::palette().color(QPalette::Window).lightness() < 128;
}

// Deep colours on a light background; bright ones on a dark background.
QColor colorOf(certs::Status status, bool dark)
{
    if (dark) {
        switch (status) {
        case certs::Status::Ok:
            return QColor(0x66, 0xbb, 0x6a);
        case certs::Status::Warning:
            return QColor(0xff, 0xb7, 0x4d);
        case certs::Status::Error:
            return QColor(0xef, 0x53, 0x50);
        }
    }
    switch (status) {
    case certs::Status::Ok:
        return QColor(0x2e, 0x7d, 0x32);
    case certs::Status::Warning:
        return QColor(0xc7, 0x7c, 0x02);
    case certs::Status::Error:
        return QColor(0xc6, 0x28, 0x28);
    }
    return {};
}

// Painted rather than shipped: shapes differ (circle with a tick, triangle with a bar, square with a
// cross) so that the three statuses are told apart without colour too. Drawn at 2x for high DPI.
QIcon paint(certs::Status status, bool dark)
{
    QIcon icon;
    for (const int size : { 16, 32, 48 }) {
        QPixmap pixmap(size, size);
        pixmap.fill(Qt::transparent);
        QPainter p(&pixmap);
        p.setRenderHint(QPainter::Antialiasing);
        const QColor color = colorOf(status, dark);
        const qreal m = size * 0.08;
        const QRectF r(m, m, size - 2 * m, size - 2 * m);
        p.setPen(Qt::NoPen);
        p.setBrush(color);
        // The glyph contrasts with the shape: white on the deep light-mode colours, near-black on the
        // bright dark-mode ones.
        QPen glyph(dark ? QColor(0x1e, 0x1e, 0x1e) : QColor(Qt::white), size * 0.12, Qt::SolidLine,
                   Qt::RoundCap, Qt::RoundJoin);
        switch (status) {
        case certs::Status::Ok:
            p.drawEllipse(r);
            p.setPen(glyph);
            p.drawPolyline(QPolygonF({ QPointF(size * 0.30, size * 0.52), QPointF(size * 0.45, size * 0.67),
                                       QPointF(size * 0.72, size * 0.36) }));
            break;
        case certs::Status::Warning: {
            QPainterPath triangle;
            triangle.moveTo(size * 0.5, m);
            triangle.lineTo(size - m, size - m);
            triangle.lineTo(m, size - m);
            triangle.closeSubpath();
            p.drawPath(triangle);
            p.setPen(glyph);
            p.drawLine(QPointF(size * 0.5, size * 0.38), QPointF(size * 0.5, size * 0.64));
            p.drawPoint(QPointF(size * 0.5, size * 0.80));
            break;
        }
        case certs::Status::Error:
            p.drawRoundedRect(r, size * 0.12, size * 0.12);
            p.setPen(glyph);
            p.drawLine(QPointF(size * 0.33, size * 0.33), QPointF(size * 0.67, size * 0.67));
            p.drawLine(QPointF(size * 0.67, size * 0.33), QPointF(size * 0.33, size * 0.67));
            break;
        }
        p.end();
        icon.addPixmap(pixmap);
    }
    return icon;
}

} // namespace

QIcon statusIcon(certs::Status status)
{
    // QPixmap needs a QGuiApplication; without one (the command line) there is no icon to show.
    if (!qobject_cast<QGuiApplication *>(QCoreApplication::instance()))
        return {};
    static const QIcon light[] = { paint(certs::Status::Ok, false), paint(certs::Status::Warning, false),
                                   paint(certs::Status::Error, false) };
    static const QIcon dark[] = { paint(certs::Status::Ok, true), paint(certs::Status::Warning, true),
                                  paint(certs::Status::Error, true) };
    return darkPalette() ? dark[int(status)] : light[int(status)];
}

QString statusText(certs::Status status)
{
    switch (status) {
    case certs::Status::Ok:
        return QCoreApplication::translate("certsync", "OK");
    case certs::Status::Warning:
        return QCoreApplication::translate("certsync", "Warning");
    case certs::Status::Error:
        return QCoreApplication::translate("certsync", "Error");
    }
    return {};
}

QColor statusColor(certs::Status status)
{
    return colorOf(status, darkPalette());
}

QString chainStatusText(certs::ChainStatus status)
{
    switch (status) {
    case certs::ChainStatus::Trusted:
        return QCoreApplication::translate("certsync", "trusted");
    case certs::ChainStatus::Incomplete:
        return QCoreApplication::translate("certsync", "incomplete");
    case certs::ChainStatus::Untrusted:
        return QCoreApplication::translate("certsync", "untrusted");
    case certs::ChainStatus::Revoked:
        return QCoreApplication::translate("certsync", "revoked");
    case certs::ChainStatus::Invalid:
        return QCoreApplication::translate("certsync", "invalid");
    }
    return {};
}

QString logLevelText(jobs::LogRecord::Level level)
{
    switch (level) {
    case jobs::LogRecord::Level::Debug:
        return QCoreApplication::translate("certsync", "debug");
    case jobs::LogRecord::Level::Info:
        return QCoreApplication::translate("certsync", "info");
    case jobs::LogRecord::Level::Warning:
        return QCoreApplication::translate("certsync", "warning");
    case jobs::LogRecord::Level::Error:
        return QCoreApplication::translate("certsync", "error");
    }
    return {};
}

} // namespace certsync::models
