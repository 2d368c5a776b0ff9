#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QStringEncoder>
#include <QStringList>
#include <QStringView>

#include <cstring>
#include <limits>

namespace certsync::store {

// The state database's compact binary form for rows written by the hundred thousand (the analysis
// cache's): unsigned numbers as LEB128 varints, signed ones zigzagged first, strings as a varint
// byte count and UTF-8, byte strings as a count and the bytes. Written straight into one buffer.
//
// Written here rather than with QDataStream, which the rest of the database uses: QDataStream puts a
// QString as big-endian UTF-16 (twice the bytes of the mostly ASCII subjects, issuers and addresses,
// swapped character by character) and goes through a QIODevice call per field; this form is about
// 40 % smaller and is made without either (docs/BENCHMARKS.md, session 11).
class CompactWriter
{
public:
    explicit CompactWriter(QByteArray &out)
        : m_out(out)
    { }

    void number(quint64 value)
    {
        char bytes[10];
        int n = 0;
        do {
            const auto low = char(value & 0x7f);
            value >>= 7;
            bytes[n++] = char(low | (value ? 0x80 : 0));
        } while (value);
        m_out.append(bytes, n);
    }
    void signedNumber(qint64 value) { number((quint64(value) << 1) ^ quint64(value >> 63)); }
    void flag(bool value) { m_out.append(char(value ? 1 : 0)); }
    void bytes(QByteArrayView value)
    {
        number(quint64(value.size()));
        m_out.append(value.data(), value.size());
    }
    void text(QStringView value)
    {
        if (value.isEmpty()) {
            number(0);
            return;
        }
        // The UTF-8 is written in place after the longest count it could need, then the count is put
        // in front of it: one conversion, no temporary.
        const qsizetype worst = value.size() * 3;
        const qsizetype start = m_out.size();
        m_out.resize(start + 10 + worst);
        char *const text = m_out.data() + start + 10;
        QStringEncoder encoder(QStringEncoder::Utf8);
        const qsizetype written = encoder.appendToBuffer(text, value) - text;
        char count[10];
        int n = 0;
        for (quint64 v = quint64(written);;) {
            const auto low = char(v & 0x7f);
            v >>= 7;
            count[n++] = char(low | (v ? 0x80 : 0));
            if (!v)
                break;
        }
        std::memmove(m_out.data() + start + n, text, size_t(written));
        std::memcpy(m_out.data() + start, count, size_t(n));
        m_out.resize(start + n + written);
    }
    void texts(const QStringList &values)
    {
        number(quint64(values.size()));
        for (const QString &value : values)
            text(value);
    }

private:
    QByteArray &m_out;
};

// Reads what CompactWriter wrote. Every read checks the bytes left: a short, overlong or otherwise
// damaged input sets failed() and yields empty values, never reads past the end.
class CompactReader
{
public:
    explicit CompactReader(QByteArrayView in)
        : m_at(in.data())
        , m_end(in.data() + in.size())
    { }

    [[nodiscard]] bool failed() const { return m_failed; }
    [[nodiscard]] bool atEnd() const { return m_at == m_end; }

    quint64 number()
    {
        quint64 value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (m_at == m_end)
                return fail();
            const auto byte = quint8(*m_at++);
            value |= quint64(byte & 0x7f) << shift;
            if (!(byte & 0x80))
                return shift == 63 && byte > 1 ? fail() : value;
        }
        return fail();
    }
    qint64 signedNumber()
    {
        const quint64 value = number();
        return qint64(value >> 1) ^ -qint64(value & 1);
    }
    // A number that must lie in [min, max] (an enum, a count, an int field).
    qint64 bounded(qint64 min, qint64 max)
    {
        const qint64 value = signedNumber();
        if (value < min || value > max) {
            fail();
            return min;
        }
        return value;
    }
    bool flag()
    {
        if (m_at == m_end)
            return fail();
        const auto byte = quint8(*m_at++);
        if (byte > 1)
            return fail();
        return byte == 1;
    }
    QByteArray bytes()
    {
        const QByteArrayView view = span();
        return view.isEmpty() ? QByteArray() : view.toByteArray();
    }
    QString text()
    {
        const QByteArrayView view = span();
        return view.isEmpty() ? QString() : QString::fromUtf8(view);
    }
    QStringList texts()
    {
        QStringList values;
        const quint64 n = count();
        values.reserve(qsizetype(n));
        for (quint64 i = 0; i < n && !m_failed; ++i)
            values.append(text());
        return values;
    }
    // The count of a list that follows; each element takes at least one byte, so a count larger
    // than the bytes left is damage (and no list is reserved for it).
    quint64 count()
    {
        const quint64 count = number();
        if (count > quint64(m_end - m_at))
            return fail();
        return count;
    }

private:
    QByteArrayView span()
    {
        const quint64 size = number();
        if (m_failed)
            return {};
        if (size > quint64(m_end - m_at)) {
            fail();
            return {};
        }
        const QByteArrayView view(m_at, qsizetype(size));
        m_at += size;
        return view;
    }
    quint64 fail()
    {
        m_failed = true;
        m_at = m_end;
        return 0;
    }

    const char *m_at;
    const char *m_end;
    bool m_failed = false;
};

} // namespace certsync::store
