#include "idl/core/config.h"

#include <QCoreApplication>
#include <QFile>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QTextStream>

#include <stdexcept>

namespace idl {

namespace {

Error configError(const QString &message)
{
    return makeError(ErrorCode::BadField, message.toStdString());
}

QString typeName(Config::Type t)
{
    switch (t) {
    case Config::Type::String:
        return QStringLiteral("text");
    case Config::Type::Secret:
        return QStringLiteral("secret");
    case Config::Type::Int:
        return QStringLiteral("integer");
    case Config::Type::Bool:
        return QStringLiteral("bool");
    case Config::Type::Duration:
        return QStringLiteral("duration");
    case Config::Type::Size:
        return QStringLiteral("size");
    }
    return {};
}

std::optional<bool> parseBool(const QString &text)
{
    const QString t = text.trimmed().toLower();
    if (t == u"1" || t == u"true" || t == u"yes" || t == u"on")
        return true;
    if (t == u"0" || t == u"false" || t == u"no" || t == u"off")
        return false;
    return std::nullopt;
}

} // namespace

Config::Config(QString program, QString summary)
    : m_program(std::move(program)), m_summary(std::move(summary))
{
    Setting config{QStringLiteral("config"),
                   Type::String,
                   QString(),
                   QStringLiteral("Configuration file of `name = value` lines"),
                   0,
                   0,
                   {},
                   {}};
    add(config);
}

void Config::add(Setting s)
{
    if (find(s.name))
        throw std::logic_error("setting declared twice: " + s.name.toStdString());
    s.value = s.defaultValue;
    s.source = QStringLiteral("default");
    m_settings.push_back(std::move(s));
}

void Config::addString(const QString &name, const QString &def, const QString &description)
{
    add({name, Type::String, def, description, 0, 0, {}, {}});
}

void Config::addSecret(const QString &name, const QString &def, const QString &description)
{
    add({name, Type::Secret, def, description, 0, 0, {}, {}});
}

void Config::addInt(const QString &name, qint64 def, const QString &description, qint64 min,
                    qint64 max)
{
    add({name, Type::Int, QString::number(def), description, min, max, {}, {}});
}

void Config::addBool(const QString &name, bool def, const QString &description)
{
    add({name,
         Type::Bool,
         def ? QStringLiteral("true") : QStringLiteral("false"),
         description,
         0,
         0,
         {},
         {}});
}

void Config::addDuration(const QString &name, const QString &def, const QString &description)
{
    if (!parseDuration(def))
        throw std::logic_error("bad default duration for " + name.toStdString());
    add({name, Type::Duration, def, description, 0, 0, {}, {}});
}

void Config::addSize(const QString &name, const QString &def, const QString &description)
{
    if (!parseSize(def))
        throw std::logic_error("bad default size for " + name.toStdString());
    add({name, Type::Size, def, description, 0, 0, {}, {}});
}

Config::Setting *Config::find(const QString &name)
{
    for (auto &s : m_settings)
        if (s.name == name)
            return &s;
    return nullptr;
}

const Config::Setting &Config::get(const QString &name) const
{
    for (const auto &s : m_settings)
        if (s.name == name)
            return s;
    throw std::logic_error("setting not declared: " + name.toStdString());
}

QString Config::envName(const QString &name)
{
    QString env = name.toUpper();
    env.replace(QLatin1Char('.'), QLatin1Char('_')).replace(QLatin1Char('-'), QLatin1Char('_'));
    return QStringLiteral("IDL_") + env;
}

Result<std::chrono::milliseconds> Config::parseDuration(const QString &text)
{
    static const QRegularExpression re(
        QStringLiteral("^\\s*(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h|d)?\\s*$"));
    const auto m = re.match(text);
    if (!m.hasMatch())
        return configError(QStringLiteral("'%1' is not a duration (e.g. 250ms, 5s, 2m)").arg(text));
    const double n = m.captured(1).toDouble();
    const QString unit = m.captured(2);
    double ms = n;
    if (unit == u"s")
        ms = n * 1000;
    else if (unit == u"m")
        ms = n * 60'000;
    else if (unit == u"h")
        ms = n * 3'600'000;
    else if (unit == u"d")
        ms = n * 86'400'000;
    if (ms > 1e15)
        return configError(QStringLiteral("duration '%1' is too long").arg(text));
    return std::chrono::milliseconds(static_cast<qint64>(ms));
}

Result<qint64> Config::parseSize(const QString &text)
{
    static const QRegularExpression re(
        QStringLiteral("^\\s*(\\d+(?:\\.\\d+)?)\\s*(B|KiB|MiB|GiB|KB|MB|GB|k|K|M|G)?\\s*$"));
    const auto m = re.match(text);
    if (!m.hasMatch())
        return configError(QStringLiteral("'%1' is not a size (e.g. 512, 64KiB, 5MiB)").arg(text));
    const double n = m.captured(1).toDouble();
    const QString unit = m.captured(2);
    double mult = 1;
    if (unit == u"KiB" || unit == u"k" || unit == u"K")
        mult = 1024.0;
    else if (unit == u"MiB" || unit == u"M")
        mult = 1024.0 * 1024;
    else if (unit == u"GiB" || unit == u"G")
        mult = 1024.0 * 1024 * 1024;
    else if (unit == u"KB")
        mult = 1e3;
    else if (unit == u"MB")
        mult = 1e6;
    else if (unit == u"GB")
        mult = 1e9;
    const double bytes = n * mult;
    if (bytes > 9e15)
        return configError(QStringLiteral("size '%1' is too large").arg(text));
    return static_cast<qint64>(bytes);
}

Result<void> Config::assign(Setting &s, const QString &value, const QString &source)
{
    const auto invalid = [&](const QString &why) {
        return configError(QStringLiteral("%1 (from %2): %3").arg(s.name, source, why));
    };
    switch (s.type) {
    case Type::String:
    case Type::Secret:
        break;
    case Type::Int: {
        bool ok = false;
        const qint64 v = value.trimmed().toLongLong(&ok);
        if (!ok)
            return invalid(QStringLiteral("'%1' is not an integer").arg(value));
        if ((s.min != 0 || s.max != 0) && (v < s.min || v > s.max))
            return invalid(QStringLiteral("%1 is outside %2..%3").arg(v).arg(s.min).arg(s.max));
        break;
    }
    case Type::Bool:
        if (!parseBool(value))
            return invalid(QStringLiteral("'%1' is not true/false").arg(value));
        break;
    case Type::Duration:
        if (auto r = parseDuration(value); !r)
            return invalid(QString::fromStdString(r.error().message));
        break;
    case Type::Size:
        if (auto r = parseSize(value); !r)
            return invalid(QString::fromStdString(r.error().message));
        break;
    }
    s.value = value.trimmed();
    s.source = source;
    return {};
}

Result<void> Config::load(const QStringList &arguments)
{
    QHash<QString, QString> env;
    const auto sys = QProcessEnvironment::systemEnvironment();
    for (const QString &key : sys.keys())
        if (key.startsWith(QLatin1String("IDL_")))
            env.insert(key, sys.value(key));
    return load(arguments, env);
}

Result<void> Config::load(const QStringList &arguments, const QHash<QString, QString> &environment)
{
    // 1. Split the command line first: it may name the config file.
    std::vector<std::pair<QString, QString>> cli;
    for (qsizetype i = 1; i < arguments.size(); ++i) {
        const QString &arg = arguments.at(i);
        if (arg == u"--help" || arg == u"-h") {
            m_help = true;
            continue;
        }
        if (arg == u"--version") {
            m_version = true;
            continue;
        }
        if (arg == u"--") {
            for (++i; i < arguments.size(); ++i)
                m_positional << arguments.at(i);
            break;
        }
        if (!arg.startsWith(QLatin1String("--"))) {
            m_positional << arg;
            continue;
        }
        QString name = arg.mid(2);
        QString value;
        bool hasValue = false;
        if (const auto eq = name.indexOf(QLatin1Char('=')); eq >= 0) {
            value = name.mid(eq + 1);
            name = name.left(eq);
            hasValue = true;
        }
        Setting *s = find(name);
        if (!s) {
            QString dotted = name;
            dotted.replace(QLatin1Char('-'), QLatin1Char('.'));
            s = find(dotted);
            if (!s) // a name that itself contains dashes, e.g. data-dir
                for (auto &cand : m_settings) {
                    QString flat = cand.name;
                    flat.replace(QLatin1Char('.'), QLatin1Char('-'));
                    if (flat == name) {
                        s = &cand;
                        break;
                    }
                }
        }
        if (!s)
            return configError(QStringLiteral("unknown option --%1 (see --help)").arg(name));
        if (!hasValue) {
            if (s->type == Type::Bool &&
                (i + 1 >= arguments.size() || !parseBool(arguments.at(i + 1)))) {
                value = QStringLiteral("true");
            } else if (i + 1 < arguments.size()) {
                value = arguments.at(++i);
            } else {
                return configError(QStringLiteral("option --%1 needs a value").arg(name));
            }
        }
        cli.emplace_back(s->name, value);
    }
    if (m_help || m_version)
        return {};

    // 2. File.
    QString file = environment.value(envName(QStringLiteral("config")));
    for (const auto &[name, value] : cli)
        if (name == u"config")
            file = value;
    if (!file.isEmpty()) {
        QFile f(file);
        if (!f.open(QIODevice::ReadOnly | QIODevice::Text))
            return configError(
                QStringLiteral("cannot read config file %1: %2").arg(file, f.errorString()));
        QTextStream in(&f);
        int lineNo = 0;
        while (!in.atEnd()) {
            ++lineNo;
            QString line = in.readLine();
            if (const auto hash = line.indexOf(QLatin1Char('#')); hash >= 0)
                line.truncate(hash);
            line = line.trimmed();
            if (line.isEmpty())
                continue;
            const auto eq = line.indexOf(QLatin1Char('='));
            if (eq <= 0)
                return configError(
                    QStringLiteral("%1:%2: expected `name = value`").arg(file).arg(lineNo));
            const QString name = line.left(eq).trimmed();
            Setting *s = find(name);
            if (!s)
                return configError(
                    QStringLiteral("%1:%2: unknown setting '%3'").arg(file).arg(lineNo).arg(name));
            if (auto r = assign(*s, line.mid(eq + 1).trimmed(), QStringLiteral("file")); !r)
                return r;
        }
    }
    // 3. Environment.
    for (auto &s : m_settings) {
        const QString key = envName(s.name);
        if (environment.contains(key))
            if (auto r = assign(s, environment.value(key), QStringLiteral("env")); !r)
                return r;
    }
    // 4. Command line.
    for (const auto &[name, value] : cli)
        if (auto r = assign(*find(name), value, QStringLiteral("cli")); !r)
            return r;
    return {};
}

QString Config::helpText() const
{
    QString out;
    QTextStream ts(&out);
    ts << m_program << " — " << m_summary << "\n\nUsage: " << m_program
       << " [options]\n\nEvery setting can also be given in a config file (--config FILE) or"
          " the environment (IDL_NAME).\n\nOptions:\n";
    ts << "  --help                    Show this help\n";
    ts << "  --version                 Show the version\n";
    for (const auto &s : m_settings) {
        ts << "  --" << s.name << " <" << typeName(s.type) << ">\n      " << s.description;
        if (s.type == Type::Int && (s.min != 0 || s.max != 0))
            ts << " (" << s.min << ".." << s.max << ")";
        ts << "\n      default: "
           << (s.type == Type::Secret && !s.defaultValue.isEmpty() ? QStringLiteral("(hidden)")
               : s.defaultValue.isEmpty()                          ? QStringLiteral("(none)")
                                                                   : s.defaultValue)
           << "   env: " << envName(s.name) << "\n";
    }
    return out;
}

QString Config::string(const QString &name) const
{
    return get(name).value;
}

qint64 Config::integer(const QString &name) const
{
    return get(name).value.toLongLong();
}

bool Config::boolean(const QString &name) const
{
    return parseBool(get(name).value).value_or(false);
}

std::chrono::milliseconds Config::duration(const QString &name) const
{
    auto r = parseDuration(get(name).value);
    return r ? *r : std::chrono::milliseconds(0);
}

qint64 Config::bytes(const QString &name) const
{
    auto r = parseSize(get(name).value);
    return r ? *r : 0;
}

bool Config::isSet(const QString &name) const
{
    return get(name).source != u"default";
}

} // namespace idl
