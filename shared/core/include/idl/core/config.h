#pragma once

#include "idl/core/result.h"

#include <QHash>
#include <QString>
#include <QStringList>

#include <chrono>
#include <vector>

namespace idl {

// Every setting of a service, declared once with its name, default, description and
// validation, then read from (in increasing precedence) a config file, the environment and
// the command line. `--help` prints them all.
//
// Names are dotted lower-case ("kafka.bootstrap"). Environment: IDL_ + upper-case name with
// dots and dashes as underscores (IDL_KAFKA_BOOTSTRAP). Command line: --kafka.bootstrap=V,
// --kafka.bootstrap V, or --kafka-bootstrap V. File (--config FILE or IDL_CONFIG): lines of
// `name = value`, `#` starts a comment.
//
// Not thread-safe while loading; read-only (and so safe to share) afterwards.
class Config
{
public:
    // What a setting holds; decides how its text is validated.
    enum class Type { String, Int, Bool, Duration, Size, Secret };

    // One declared setting.
    struct Setting
    {
        QString name;
        Type type = Type::String;
        QString defaultValue;
        QString description;
        qint64 min = 0;
        qint64 max = 0; // min == max == 0: unbounded
        QString value;  // effective text after load()
        QString source; // "default", "file", "env", "cli"
    };

    // program: shown in --help; summary: one line on what the program does.
    Config(QString program, QString summary);

    // Declarations. Durations accept "250ms", "5s", "2m", "1h" (bare numbers are ms);
    // sizes accept "512", "64KiB", "5MiB", "1GiB" (also KB/MB/GB as powers of 1000).
    void addString(const QString &name, const QString &def, const QString &description);
    void addSecret(const QString &name, const QString &def, const QString &description);
    void addInt(const QString &name, qint64 def, const QString &description, qint64 min,
                qint64 max);
    void addBool(const QString &name, bool def, const QString &description);
    void addDuration(const QString &name, const QString &def, const QString &description);
    void addSize(const QString &name, const QString &def, const QString &description);

    // Reads file, environment and arguments (arguments[0] is the program path). Positional
    // arguments are kept in positional(). Unknown options and invalid values are errors.
    Result<void> load(const QStringList &arguments);
    // Same, with an explicit environment (for tests).
    Result<void> load(const QStringList &arguments, const QHash<QString, QString> &environment);

    bool helpRequested() const { return m_help; }
    bool versionRequested() const { return m_version; }
    QString helpText() const;
    const QStringList &positional() const { return m_positional; }

    QString string(const QString &name) const;
    qint64 integer(const QString &name) const;
    bool boolean(const QString &name) const;
    std::chrono::milliseconds duration(const QString &name) const;
    qint64 bytes(const QString &name) const;
    // Whether the value was set anywhere other than the default.
    bool isSet(const QString &name) const;
    const std::vector<Setting> &settings() const { return m_settings; }

    // Parsers shared with anyone who reads such values elsewhere.
    static Result<std::chrono::milliseconds> parseDuration(const QString &text);
    static Result<qint64> parseSize(const QString &text);
    static QString envName(const QString &name);

private:
    void add(Setting s);
    Setting *find(const QString &name);
    const Setting &get(const QString &name) const;
    Result<void> assign(Setting &s, const QString &value, const QString &source);

    QString m_program;
    QString m_summary;
    std::vector<Setting> m_settings;
    QStringList m_positional;
    bool m_help = false;
    bool m_version = false;
};

} // namespace idl
