/*
 * Logging (see log.h). The level, and whether stderr is the journal, are written once at
 * startup, before any worker thread exists, and only read afterwards.
 */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

static enum log_level threshold = LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};
/* syslog's LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG (<syslog.h> would clash with ours) */
static const int syslog_levels[] = {3, 4, 6, 7};
/* stderr is the journal: it stamps the time itself and reads the level from a "<N>" prefix */
static bool journal;

int log_level_parse(const char *s)
{
    for (int i = 0; i < (int)(sizeof(level_names) / sizeof(level_names[0])); i++)
        if (!strcmp(s, level_names[i]))
            return i;
    return -1;
}

/* systemd sets JOURNAL_STREAM to "device:inode" of the stream it connected to the journal;
 * children inherit the variable with stderr redirected elsewhere, so it must name our stderr. */
static bool stderr_is_journal(void)
{
    const char *v = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    char *end;

    if (!v || fstat(STDERR_FILENO, &st))
        return false;
    dev = strtoull(v, &end, 10);
    if (end == v || *end != ':')
        return false;
    v = end + 1;
    ino = strtoull(v, &end, 10);
    if (end == v || *end)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* One event, one line: a newline inside the text would split it into two journal entries. */
static void emit(enum log_level level, const char *prefix, char *text)
{
    struct timespec ts;
    struct tm tm;
    char when[32];
    size_t n = strlen(text);

    while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        text[--n] = '\0';
    for (char *p = text; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    if (journal) {
        fprintf(stderr, "<%d>%s%s\n", syslog_levels[level], prefix, text);
        return;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03ldZ %-5s %s%s\n", when, ts.tv_nsec / 1000000, level_names[level], prefix,
            text);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    if (level > threshold)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    emit(level, "", buf);
}

static void lws_emit(int lws_level, const char *line)
{
    char buf[1024];
    enum log_level level = lws_level == LLL_ERR ? LOG_ERROR : LOG_WARN;

    /* lws lines carry their own timestamp and newline: keep only the text (emit drops the
     * newline) */
    const char *p = strstr(line, "]: ");
    snprintf(buf, sizeof(buf), "%s", p ? p + 3 : line);
    emit(level, "lws: ", buf);
}

void log_set_level(enum log_level level)
{
    threshold = level;
    journal = stderr_is_journal();
    /* lws is chatty below warnings; its notices only help when debugging parlor itself */
    int mask = LLL_ERR;
    if (level >= LOG_WARN)
        mask |= LLL_WARN;
    if (level >= LOG_DEBUG)
        mask |= LLL_NOTICE;
    lws_set_log_level(mask, lws_emit);
}
