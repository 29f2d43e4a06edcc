/*
 * Logging (see log.h). The level is written once at startup, before any worker thread exists,
 * and only read afterwards.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libwebsockets.h>

static enum log_level threshold = LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int log_level_parse(const char *s)
{
    for (int i = 0; i < (int)(sizeof(level_names) / sizeof(level_names[0])); i++)
        if (!strcmp(s, level_names[i]))
            return i;
    return -1;
}

static void emit(enum log_level level, const char *prefix, const char *text)
{
    struct timespec ts;
    struct tm tm;
    char when[32];

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
    size_t n;
    enum log_level level = lws_level == LLL_ERR ? LOG_ERROR : LOG_WARN;

    /* lws lines carry their own timestamp and newline: keep only the text */
    const char *p = strstr(line, "]: ");
    snprintf(buf, sizeof(buf), "%s", p ? p + 3 : line);
    n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    emit(level, "lws: ", buf);
}

void log_set_level(enum log_level level)
{
    threshold = level;
    /* lws is chatty below warnings; its notices only help when debugging parlor itself */
    int mask = LLL_ERR;
    if (level >= LOG_WARN)
        mask |= LLL_WARN;
    if (level >= LOG_DEBUG)
        mask |= LLL_NOTICE;
    lws_set_log_level(mask, lws_emit);
}
