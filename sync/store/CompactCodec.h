#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QStringDecoder>
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
// half the bytes and is made without either (docs/BENCHMARKS.md, session 11). QCborStreamWriter
// would be UTF-8 too, but it also writes through a QIODevice (a QBuffer over the QByteArray) per
// item and makes a temporary UTF-8 copy of each string.
//
// Each value has one encoding (minimal varints, valid UTF-8, flags 0 or 1), so a row that decodes
// encodes back to the same bytes.
class CompactWriter
{
public:
    explicit CompactWriter(QByteArray &out)
        : m_out(out)
    { }

    void number(quint64 value)
    {
        char bytes[10];
        m_out.append(bytes, varint(value, bytes));
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
        // Stateless: a lone surrogate becomes U+FFFD, as with toUtf8(); a stateful encoder would hold
        // back a high surrogate at the end, waiting for its pair, and drop it.
        QStringEncoder encoder(QStringEncoder::Utf8, QStringEncoder::Flag::Stateless);
        const qsizetype written = encoder.appendToBuffer(text, value) - text;
        char count[10];
        const int n = varint(quint64(written), count);
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
    // `value` as LEB128 into `out` (room for 10 bytes); returns the bytes written.
    static int varint(quint64 value, char *out)
    {
        int n = 0;
        do {
            const auto low = char(value & 0x7f);
            value >>= 7;
            out[n++] = char(low | (value ? 0x80 : 0));
        } while (value);
        return n;
    }

    QByteArray &m_out;
};

// Reads what CompactWriter wrote, from bytes that must outlive the reader. Input cut short, a count
// past the end, a varint over 64 bits or not in its shortest form, invalid UTF-8, a flag other than
// 0 or 1, a number out of its field's range: failed() is set and the reads that follow yield empty
// values; nothing is read past the end.
class CompactReader
{
public:
    explicit CompactReader(QByteArrayView in)
        : m_at(in.data())
        , m_end(in.data() + in.size())
    { }
    explicit CompactReader(QByteArray &&) = delete; // a temporary would be gone before the reads

    [[nodiscard]] bool failed() const { return m_failed; }
    void refuse() { fail(); } // what was read is well formed but means nothing valid: damage too
    [[nodiscard]] bool atEnd() const { return m_at == m_end; }

    quint64 number()
    {
        quint64 value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (m_at == m_end)
                return fail();
            const auto byte = quint8(*m_at++);
            value |= quint64(byte & 0x7f) << shift;
            if (!(byte & 0x80)) {
                if ((shift == 63 && byte > 1) || (shift > 0 && byte == 0))
                    return fail(); // over 64 bits, or a longer form than the shortest
                return value;
            }
        }
        return fail();
    }
    qint64 signedNumber()
    {
        const quint64 value = number();
        return qint64(value >> 1) ^ -qint64(value & 1);
    }
    // A signed number that must lie in [min, max] (an enum, an int field; counts use count()).
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
        if (view.isEmpty())
            return QString();
        QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
        QString value = decoder(view);
        if (decoder.hasError()) {
            fail();
            return QString();
        }
        return value;
    }
    QStringList texts()
    {
        QStringList values;
        const quint64 n = count(1);
        values.reserve(qsizetype(n));
        for (quint64 i = 0; i < n && !m_failed; ++i)
            values.append(text());
        return values;
    }
    // The count of a list that follows, whose elements take at least `minBytes` each: a count they
    // could not fit in the bytes left is damage, refused before any list is reserved for it (a
    // reserve of a few hundred bytes per element would otherwise turn a damaged row of a megabyte
    // into an allocation of hundreds).
    quint64 count(quint64 minBytes)
    {
        const quint64 count = number();
        if (count > quint64(m_end - m_at) / minBytes)
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
