/*
 * Tests for the operators' event log ring (server/base/oplog.c): entries kept oldest first, the
 * oldest overwritten when full, the subscriber told of each entry, long text cut.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "oplog.h"

static int64_t now_ms;

static int64_t fake_clock(void)
{
    return now_ms;
}

static int64_t (*const clock_field)(void) = fake_clock;

struct seen {
    int calls;
    const struct oplog_entry *last;
};

static void subscriber(void *arg, const struct oplog_entry *e)
{
    struct seen *seen = arg;

    seen->calls++;
    seen->last = e;
}

static int setup(void **state)
{
    log_set_level(LOG_ERROR); /* the entries also go to stderr: keep the output quiet */
    return 0;
}

static void test_oplog_keeps_entries_oldest_first(void **state)
{
    static struct oplog o;

    oplog_init(&o, &clock_field);
    assert_int_equal(oplog_count(&o), 0);
    now_ms = 10;
    oplog_add(&o, LOG_INFO, "first %d", 1);
    now_ms = 20;
    oplog_add(&o, LOG_WARN, "second");
    assert_int_equal(oplog_count(&o), 2);
    assert_string_equal(oplog_at(&o, 0)->text, "first 1");
    assert_int_equal(oplog_at(&o, 0)->ts, 10);
    assert_int_equal(oplog_at(&o, 0)->level, LOG_INFO);
    assert_string_equal(oplog_at(&o, 1)->text, "second");
    assert_int_equal(oplog_at(&o, 1)->ts, 20);
    assert_int_equal(oplog_at(&o, 1)->level, LOG_WARN);
}

static void test_oplog_wraps_around(void **state)
{
    static struct oplog o;
    char want[32];

    oplog_init(&o, &clock_field);
    for (int i = 0; i < OPLOG_MAX + 5; i++)
        oplog_add(&o, LOG_INFO, "entry %d", i);
    assert_int_equal(oplog_count(&o), OPLOG_MAX);
    /* the five oldest were overwritten */
    assert_string_equal(oplog_at(&o, 0)->text, "entry 5");
    snprintf(want, sizeof(want), "entry %d", OPLOG_MAX + 4);
    assert_string_equal(oplog_at(&o, OPLOG_MAX - 1)->text, want);
    for (int i = 0; i < OPLOG_MAX; i++) {
        snprintf(want, sizeof(want), "entry %d", i + 5);
        assert_string_equal(oplog_at(&o, i)->text, want);
    }
}

static void test_oplog_calls_the_subscriber(void **state)
{
    static struct oplog o;
    struct seen seen = {0};

    oplog_init(&o, &clock_field);
    oplog_add(&o, LOG_INFO, "before anyone listens");
    oplog_subscribe(&o, subscriber, &seen);
    assert_int_equal(seen.calls, 0);
    now_ms = 42;
    oplog_add(&o, LOG_ERROR, "it broke: %s", "disk full");
    assert_int_equal(seen.calls, 1);
    assert_ptr_equal(seen.last, oplog_at(&o, 1));
    assert_string_equal(seen.last->text, "it broke: disk full");
    assert_int_equal(seen.last->level, LOG_ERROR);
    assert_int_equal(seen.last->ts, 42);
    oplog_subscribe(&o, NULL, NULL);
    oplog_add(&o, LOG_INFO, "after");
    assert_int_equal(seen.calls, 1);
}

static void test_oplog_cuts_long_text(void **state)
{
    static struct oplog o;
    char big[OPLOG_TEXT * 2];

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    oplog_init(&o, &clock_field);
    oplog_add(&o, LOG_INFO, "%s", big);
    assert_int_equal(strlen(oplog_at(&o, 0)->text), OPLOG_TEXT - 1);
    assert_memory_equal(oplog_at(&o, 0)->text, big, OPLOG_TEXT - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oplog_keeps_entries_oldest_first),
        cmocka_unit_test(test_oplog_wraps_around),
        cmocka_unit_test(test_oplog_calls_the_subscriber),
        cmocka_unit_test(test_oplog_cuts_long_text),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
