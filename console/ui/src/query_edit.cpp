#include "idl/console/ui/query_edit.h"

#include "idl/console/ui/theme.h"
#include "idl/query/lexer.h"
#include "idl/query/parser.h"

#include <QAbstractItemView>
#include <QCompleter>
#include <QKeyEvent>
#include <QMimeData>
#include <QScrollBar>
#include <QStringListModel>
#include <QTextBlock>
#include <QTimer>
#include <QToolTip>

namespace idl::console::ui {

int utf16IndexOfByte(const QString &text, qint64 bytePos)
{
    qint64 bytes = 0;
    for (int i = 0; i < text.size(); ++i) {
        if (bytes >= bytePos)
            return i;
        const char16_t c = text.at(i).unicode();
        if (QChar::isHighSurrogate(c) && i + 1 < text.size()) {
            bytes += 4;
            ++i;
        } else if (c < 0x80) {
            bytes += 1;
        } else if (c < 0x800) {
            bytes += 2;
        } else {
            bytes += 3;
        }
    }
    return static_cast<int>(text.size());
}

qint64 byteOfUtf16Index(const QString &text, int index)
{
    return QStringView(text).left(qBound(0, index, static_cast<int>(text.size()))).toUtf8().size();
}

QueryHighlighter::QueryHighlighter(QTextDocument *doc) : QSyntaxHighlighter(doc) {}

void QueryHighlighter::setErrorIndex(int index)
{
    if (index == m_errorIndex)
        return;
    m_errorIndex = index;
    rehighlight();
}

void QueryHighlighter::setDark(bool dark)
{
    m_dark = dark;
    rehighlight();
}

void QueryHighlighter::highlightBlock(const QString &text)
{
    using idl::query::TokenKind;
    const QByteArray utf8 = text.toUtf8();
    const auto tokens = idl::query::tokenize(std::string_view(utf8.constData(), utf8.size()));
    auto fmt = [this](QColor c, bool bold = false, bool italic = false) {
        QTextCharFormat f;
        f.setForeground(c);
        if (bold)
            f.setFontWeight(QFont::DemiBold);
        f.setFontItalic(italic);
        return f;
    };
    const QColor field = m_dark ? QColor(0x6c, 0xb6, 0xff) : QColor(0x1f, 0x5f, 0xbf);
    const QColor attr = m_dark ? QColor(0xd0, 0x9c, 0xff) : QColor(0x7a, 0x3d, 0xb8);
    const QColor value = m_dark ? QColor(0x9c, 0xdc, 0xa0) : QColor(0x1d, 0x7a, 0x3e);
    const QColor phrase = m_dark ? QColor(0xf0, 0xb8, 0x7a) : QColor(0xa3, 0x55, 0x0c);
    const QColor keyword = m_dark ? QColor(0xff, 0x8f, 0xb0) : QColor(0xb0, 0x1f, 0x5a);
    const QColor punct = m_dark ? QColor(0x9a, 0xa4, 0xb0) : QColor(0x6b, 0x72, 0x80);
    const QColor error = QColor(0xd9, 0x3b, 0x3b);

    int errorBegin = -1;
    int errorEnd = -1;
    for (const auto &t : tokens) {
        const int b = utf16IndexOfByte(text, static_cast<qint64>(t.begin));
        const int e = utf16IndexOfByte(text, static_cast<qint64>(t.end));
        QTextCharFormat f;
        switch (t.kind) {
        case TokenKind::Field:
            f = fmt(field, true);
            break;
        case TokenKind::Attribute:
            f = fmt(attr, true);
            break;
        case TokenKind::Value:
            f = fmt(value);
            break;
        case TokenKind::Phrase:
        case TokenKind::Regex:
            f = fmt(phrase);
            break;
        case TokenKind::And:
        case TokenKind::Or:
        case TokenKind::Not:
        case TokenKind::Minus:
            f = fmt(keyword, true);
            break;
        case TokenKind::Colon:
        case TokenKind::Operator:
        case TokenKind::LParen:
        case TokenKind::RParen:
            f = fmt(punct);
            break;
        case TokenKind::UnknownField:
        case TokenKind::Error:
            f = fmt(error);
            break;
        case TokenKind::Word:
            break;
        }
        if (f.isValid())
            setFormat(b, e - b, f);
        if (m_errorIndex >= 0 && m_errorIndex >= b && m_errorIndex < e) {
            errorBegin = b;
            errorEnd = e;
        }
    }
    if (m_errorIndex >= 0) {
        if (errorBegin < 0) {
            // Between tokens or at the end: underline one character (or the last one).
            errorBegin = qMin(m_errorIndex, static_cast<int>(text.size()) - 1);
            errorEnd = errorBegin + 1;
        }
        if (errorBegin >= 0) {
            for (int i = errorBegin; i < errorEnd; ++i) {
                QTextCharFormat f = format(i);
                f.setUnderlineStyle(QTextCharFormat::WaveUnderline);
                f.setUnderlineColor(error);
                setFormat(i, 1, f);
            }
        }
    }
}

QueryEdit::QueryEdit(QWidget *parent) : QPlainTextEdit(parent)
{
    setObjectName(QStringLiteral("queryEdit"));
    setLineWrapMode(QPlainTextEdit::NoWrap);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    setTabChangesFocus(true);
    setWordWrapMode(QTextOption::NoWrap);
    setFont(monospaceFont());
    setPlaceholderText(tr("Filter: level:>=warn app:checkout -host:web-9 \"timed out\"   "
                          "(Enter to run, Ctrl+Space to complete)"));
    document()->setDocumentMargin(5);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    m_highlighter = new QueryHighlighter(document());
    m_highlighter->setDark(isDarkNow());

    m_completionModel = new QStringListModel(this);
    m_completer = new QCompleter(m_completionModel, this);
    m_completer->setWidget(this);
    m_completer->setCompletionMode(QCompleter::UnfilteredPopupCompletion);
    m_completer->setCaseSensitivity(Qt::CaseInsensitive);
    connect(m_completer, qOverload<const QString &>(&QCompleter::activated), this,
            &QueryEdit::insertCompletion);

    m_validateTimer = new QTimer(this);
    m_validateTimer->setSingleShot(true);
    m_validateTimer->setInterval(250);
    connect(m_validateTimer, &QTimer::timeout, this, &QueryEdit::validate);
    connect(this, &QPlainTextEdit::textChanged, this, [this] {
        // Re-highlighting also signals textChanged: react to real edits only.
        const QString now = toPlainText();
        if (now == m_lastText)
            return;
        m_lastText = now;
        m_highlighter->setErrorIndex(-1);
        m_errorMessage.clear();
        setToolTip({});
        m_validateTimer->start();
    });
}

QSize QueryEdit::sizeHint() const
{
    const int h = fontMetrics().height() + 2 * static_cast<int>(document()->documentMargin()) +
                  2 * frameWidth() + 4;
    return {400, h};
}

QSize QueryEdit::minimumSizeHint() const
{
    return {120, sizeHint().height()};
}

void QueryEdit::setText(const QString &text)
{
    setPlainText(text);
    moveCursor(QTextCursor::End);
    validate();
}

void QueryEdit::setKnownValues(const QStringList &apps, const QStringList &hosts)
{
    m_apps.clear();
    m_hosts.clear();
    for (const auto &a : apps)
        m_apps.push_back(a.toStdString());
    for (const auto &h : hosts)
        m_hosts.push_back(h.toStdString());
}

void QueryEdit::setErrorAtByte(qint64 bytePos, const QString &message)
{
    m_errorMessage = message;
    const QString t = text();
    m_highlighter->setErrorIndex(bytePos < 0 ? static_cast<int>(t.size()) - 1
                                             : utf16IndexOfByte(t, bytePos));
    setToolTip(message);
}

void QueryEdit::clearError()
{
    m_errorMessage.clear();
    m_highlighter->setErrorIndex(-1);
    setToolTip({});
}

void QueryEdit::validate()
{
    const QByteArray utf8 = text().toUtf8();
    auto r = idl::query::parse(std::string_view(utf8.constData(), utf8.size()));
    if (r) {
        clearError();
        return;
    }
    setErrorAtByte(r.error().position, QString::fromStdString(r.error().message));
}

void QueryEdit::keyPressEvent(QKeyEvent *event)
{
    QAbstractItemView *popup = m_completer->popup();
    if (popup->isVisible()) {
        switch (event->key()) {
        case Qt::Key_Enter:
        case Qt::Key_Return:
        case Qt::Key_Tab:
            if (popup->currentIndex().isValid()) {
                insertCompletion(popup->currentIndex().data().toString());
                popup->hide();
                event->accept();
                return;
            }
            popup->hide();
            break;
        case Qt::Key_Escape:
            popup->hide();
            event->accept();
            return;
        default:
            break;
        }
    }
    if (event->key() == Qt::Key_Return || event->key() == Qt::Key_Enter) {
        popup->hide();
        Q_EMIT submitted();
        event->accept();
        return;
    }
    if (event->key() == Qt::Key_Space && (event->modifiers() & Qt::ControlModifier)) {
        updateCompletion(true);
        event->accept();
        return;
    }
    QPlainTextEdit::keyPressEvent(event);
    const QString typed = event->text();
    if (!typed.isEmpty() && (typed.at(0).isLetterOrNumber() || typed == u":" || typed == u"-" ||
                             typed == u"_" || typed == u"."))
        updateCompletion(false);
    else if (event->key() == Qt::Key_Backspace && popup->isVisible())
        updateCompletion(false);
    else if (!typed.isEmpty())
        popup->hide();
}

void QueryEdit::insertFromMimeData(const QMimeData *source)
{
    QString t = source->text();
    t.replace(u'\n', u' ');
    t.replace(u'\r', u' ');
    insertPlainText(t);
}

void QueryEdit::focusInEvent(QFocusEvent *event)
{
    QPlainTextEdit::focusInEvent(event);
}

void QueryEdit::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::PaletteChange)
        m_highlighter->setDark(isDark(palette()));
    QPlainTextEdit::changeEvent(event);
}

void QueryEdit::updateCompletion(bool force)
{
    const QString t = text();
    const int cursor = textCursor().position();
    const QByteArray utf8 = t.toUtf8();
    const auto r = idl::query::completeAt(std::string_view(utf8.constData(), utf8.size()),
                                          static_cast<std::size_t>(byteOfUtf16Index(t, cursor)),
                                          m_apps, m_hosts);
    const int begin = utf16IndexOfByte(t, static_cast<qint64>(r.replaceBegin));
    const int end = utf16IndexOfByte(t, static_cast<qint64>(r.replaceEnd));
    const QString current = t.mid(begin, end - begin);
    QStringList items;
    for (const auto &c : r.candidates) {
        const QString s = QString::fromStdString(c);
        if (s.compare(current, Qt::CaseInsensitive) != 0)
            items << s;
    }
    if (items.isEmpty() || (!force && begin == end && !t.mid(0, cursor).endsWith(u':'))) {
        m_completer->popup()->hide();
        return;
    }
    m_replaceBegin = begin;
    m_replaceEnd = end;
    m_completionModel->setStringList(items);
    QRect rect = cursorRect();
    rect.setWidth(qMax(220, m_completer->popup()->sizeHintForColumn(0) +
                                m_completer->popup()->verticalScrollBar()->sizeHint().width() +
                                16));
    m_completer->complete(rect);
    m_completer->popup()->setCurrentIndex(m_completionModel->index(0));
}

void QueryEdit::insertCompletion(const QString &candidate)
{
    QTextCursor c = textCursor();
    c.setPosition(static_cast<int>(m_replaceBegin));
    c.setPosition(static_cast<int>(m_replaceEnd), QTextCursor::KeepAnchor);
    c.insertText(candidate);
    setTextCursor(c);
    if (candidate.endsWith(u':'))
        QTimer::singleShot(0, this, [this] { updateCompletion(true); });
}

} // namespace idl::console::ui
