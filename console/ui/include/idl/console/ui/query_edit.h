#pragma once

#include <QPlainTextEdit>
#include <QStringList>
#include <QSyntaxHighlighter>

#include <vector>

class QCompleter;
class QStringListModel;
class QTimer;

namespace idl::console::ui {

// Colours the tokens of the query language (shared lexer) and underlines an error position
// with a red wave.
class QueryHighlighter : public QSyntaxHighlighter
{
    Q_OBJECT
public:
    explicit QueryHighlighter(QTextDocument *doc);
    // Underlines the token at a UTF-16 index (-1 clears).
    void setErrorIndex(int index);
    int errorIndex() const { return m_errorIndex; }
    void setDark(bool dark);

protected:
    void highlightBlock(const QString &text) override;

private:
    int m_errorIndex = -1;
    bool m_dark = false;
};

// One-line query editor: highlighting, a parse error underline checked as you type (with
// the message as tooltip), completion of fields, keywords, levels, apps and hosts (popup
// while typing, Ctrl+Space to force), Enter to run.
class QueryEdit : public QPlainTextEdit
{
    Q_OBJECT
public:
    explicit QueryEdit(QWidget *parent = nullptr);

    QString text() const { return toPlainText(); }
    void setText(const QString &text);
    // Apps and hosts offered after "app:" and "host:".
    void setKnownValues(const QStringList &apps, const QStringList &hosts);
    // Shows an error at a UTF-8 byte offset of the text (the gateway's `position`).
    void setErrorAtByte(qint64 bytePos, const QString &message);
    void clearError();
    // The local parse error message, or empty.
    const QString &errorMessage() const { return m_errorMessage; }
    QueryHighlighter *highlighter() const { return m_highlighter; }

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

Q_SIGNALS:
    // Enter pressed (without a completion popup open).
    void submitted();

protected:
    void keyPressEvent(QKeyEvent *event) override;
    void insertFromMimeData(const QMimeData *source) override;
    void focusInEvent(QFocusEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    void validate();
    void updateCompletion(bool force);
    void insertCompletion(const QString &candidate);

    QueryHighlighter *m_highlighter;
    QCompleter *m_completer;
    QStringListModel *m_completionModel;
    QTimer *m_validateTimer;
    std::vector<std::string> m_apps;
    std::vector<std::string> m_hosts;
    QString m_errorMessage;
    QString m_lastText;
    qsizetype m_replaceBegin = 0; // UTF-16 range the chosen completion replaces
    qsizetype m_replaceEnd = 0;
};

// Converts between UTF-8 byte offsets and UTF-16 indexes of a text.
int utf16IndexOfByte(const QString &text, qint64 bytePos);
qint64 byteOfUtf16Index(const QString &text, int index);

} // namespace idl::console::ui
