/*
 * Tests for the log lines (server/log.c): one line per event whatever the text holds, and
 * syslog level prefixes instead of timestamps when stderr is the journal (JOURNAL_STREAM names
 * stderr's device and inode, as systemd sets it for StandardError=journal).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <libwebsockets.h>

#include "log.h"

/* What the logger writes to stderr while `journal_stream` is in the environment (NULL: unset;
 * "self": the device and inode of the file stderr points at). */
static char *capture(const char *journal_stream)
{
    static char out[4096];
    char path[] = "/tmp/parlor-test-log-XXXXXX", value[64];
    int fd = mkstemp(path), saved = dup(STDERR_FILENO);
    struct stat st;
    ssize_t n;

    assert_true(fd >= 0 && saved >= 0);
    unlink(path);
    assert_int_equal(fstat(fd, &st), 0);
    if (!journal_stream)
        unsetenv("JOURNAL_STREAM");
    else if (!strcmp(journal_stream, "self"))
        snprintf(value, sizeof(value), "%llu:%llu", (unsigned long long)st.st_dev,
                 (unsigned long long)st.st_ino);
    else
        snprintf(value, sizeof(value), "%s", journal_stream);
    if (journal_stream)
        setenv("JOURNAL_STREAM", value, 1);
    fflush(stderr);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    log_set_level(LOG_DEBUG); /* where the logger looks at stderr */
    log_info("listening on\nport %d", 8080);
    log_warn("a warning");
    log_error("an error\r\n");
    log_debug("details");
    lwsl_err("from lws\n");
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    log_set_level(LOG_ERROR);
    n = pread(fd, out, sizeof(out) - 1, 0);
    close(fd);
    assert_true(n >= 0);
    out[n] = '\0';
    return out;
}

static void test_log_journal_gets_level_prefixes(void **state)
{
    assert_string_equal(capture("self"), "<6>listening on port 8080\n"
                                         "<4>a warning\n"
                                         "<3>an error\n"
                                         "<7>details\n"
                                         "<3>lws: from lws\n");
}

/* the timestamped format, and still one line per event */
static void expect_plain(const char *out)
{
    char line[256];
    const char *p = out;
    const char *const want[] = {"info  listening on port 8080", "warn  a warning", "error an error",
                                "debug details", "error lws: from lws"};

    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
        /* 2026-01-02T03:04:05.678Z, then the level and the text */
        assert_int_equal(strlen(line), 25 + strlen(want[i]));
        assert_int_equal(line[4], '-');
        assert_int_equal(line[10], 'T');
        assert_int_equal(line[23], 'Z');
        assert_string_equal(line + 25, want[i]);
        p = nl + 1;
    }
    assert_string_equal(p, "");
}

static void test_log_plain_without_journal_stream(void **state)
{
    expect_plain(capture(NULL));
}

/* JOURNAL_STREAM is inherited by children whose stderr was redirected elsewhere */
static void test_log_plain_when_journal_stream_is_another_file(void **state)
{
    expect_plain(capture("1:1"));
    expect_plain(capture("garbage"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_journal_gets_level_prefixes),
        cmocka_unit_test(test_log_plain_without_journal_stream),
        cmocka_unit_test(test_log_plain_when_journal_stream_is_another_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
