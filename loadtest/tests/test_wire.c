/*
 * Unit tests for the load tester's wire code: the JSON member scanner (loadtest/scan.c) on the
 * shapes parlor.v1 servers send, including nesting, escapes, whitespace and malformed input;
 * the WebSocket client frame builder and accept key (loadtest/wsc.c, against RFC 6455's own
 * example); and the /proc parsers (loadtest/procstat.c). One thread, run by ctest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "procstat.h"
#include "scan.h"
#include "wsc.h"

static int scan(const char *s, struct member *m, int max)
{
    return scan_object(s, strlen(s), m, max);
}

static void test_scan_chat(void **state)
{
    struct member m[8];
    const char *s = "{\"type\":\"chat\",\"room\":\"r7\",\"from\":\"lt1_0\","
                    "\"text\":\"1:2:3:...\",\"ts\":1795400000123,\"seq\":42}";
    struct span t;
    int64_t v;

    assert_int_equal(scan(s, m, 8), 6);
    assert_true(scan_str_eq(scan_find(m, 6, "type")->val, "chat"));
    assert_true(scan_str(scan_find(m, 6, "text")->val, &t));
    assert_int_equal(t.n, 9);
    assert_memory_equal(t.p, "1:2:3:...", 9);
    assert_true(scan_int(scan_find(m, 6, "seq")->val, &v));
    assert_int_equal(v, 42);
    assert_true(scan_int(scan_find(m, 6, "ts")->val, &v));
    assert_int_equal(v, 1795400000123LL);
    assert_null(scan_find(m, 6, "nope"));
}

static void test_scan_nested_and_escapes(void **state)
{
    struct member m[8], rm[8];
    const char *s = "{ \"type\" : \"ok\" , \"re\" : 17 ,\n \"room\" : {\"id\":\"r1\",\"name\":"
                    "\"a \\\"}{ b\",\"game\":null,\"members\":[1,{\"x\":[]}],\"max\":12},"
                    "\"members\":[\"a\",\"b]\"],\"history\":[]}";
    const struct member *room;
    int64_t re;
    int n = scan(s, m, 8);

    assert_int_equal(n, 5);
    assert_true(scan_int(scan_find(m, n, "re")->val, &re));
    assert_int_equal(re, 17);
    room = scan_find(m, n, "room");
    assert_non_null(room);
    assert_int_equal(scan_object(room->val.p, room->val.n, rm, 8), 5);
    assert_true(scan_str_eq(scan_find(rm, 5, "id")->val, "r1"));
    assert_true(scan_find(rm, 5, "game")->val.n == 4);
    assert_non_null(scan_find(m, n, "history"));
}

static void test_scan_more_members_than_room(void **state)
{
    struct member m[2];

    /* the count is the object's, only the first two are filled */
    assert_int_equal(scan("{\"a\":1,\"b\":2,\"c\":3}", m, 2), 3);
    assert_true(scan_str_eq((struct span){"\"x\"", 3}, "x"));
    assert_int_equal(m[1].key.n, 1);
    assert_memory_equal(m[1].key.p, "b", 1);
}

static void test_scan_malformed(void **state)
{
    struct member m[4];
    const char *bad[] = {"",
                         "[]",
                         "{",
                         "{\"a\"}",
                         "{\"a\":}",
                         "{\"a\":1,}",
                         "{\"a\":\"x}",
                         "{\"a\":{\"b\":1}",
                         "{a:1}",
                         "{\"a\":1 \"b\":2}"};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (scan(bad[i], m, 4) != -1)
            fail_msg("accepted '%s'", bad[i]);
    assert_int_equal(scan("{}", m, 4), 0);
    assert_int_equal(scan("  {\"a\":\"\"}  ", m, 4), 1);
}

static void test_scan_values(void **state)
{
    int64_t v;
    struct span s;

    assert_true(scan_int((struct span){"-9223372036854775808", 20}, &v));
    assert_true(v == INT64_MIN);
    assert_true(scan_int((struct span){"9223372036854775807", 19}, &v));
    assert_true(v == INT64_MAX);
    assert_false(scan_int((struct span){"9223372036854775808", 19}, &v));
    assert_false(scan_int((struct span){"1.5", 3}, &v));
    assert_false(scan_int((struct span){"-", 1}, &v));
    assert_false(scan_int((struct span){"null", 4}, &v));
    assert_false(scan_str((struct span){"12", 2}, &s));
    assert_false(scan_str_eq((struct span){"\"chat\"", 6}, "cha"));
    assert_true(scan_str_eq((struct span){"\"\"", 2}, ""));
}

static struct span sp(const char *s)
{
    return (struct span){s, strlen(s)};
}

/* The quiz bots count a question's choices: strings holding commas, brackets and escaped
 * quotes must not be taken for separators. */
static void test_scan_array_len(void **state)
{
    struct member m[8];
    const char *q = "{\"type\":\"question\",\"room\":\"r3\",\"round\":1,\"of\":3,"
                    "\"text\":\"Which?\",\"choices\":[\"a, b\",\"[c]\",\"d \\\"e\\\",\","
                    "\"{f}\"],\"deadline\":1795400030000}";
    int n = scan(q, m, 8);

    assert_int_equal(n, 7);
    assert_int_equal(scan_array_len(scan_find(m, n, "choices")->val), 4);
    assert_int_equal(scan_array_len(sp("[]")), 0);
    assert_int_equal(scan_array_len(sp("[ ]")), 0);
    assert_int_equal(scan_array_len(sp("[1]")), 1);
    assert_int_equal(scan_array_len(sp(" [ 1 , [2, 3] , {\"a\":[4]} ] ")), 3);
    assert_int_equal(scan_array_len(sp("[1,]")), -1);
    assert_int_equal(scan_array_len(sp("[1 2]")), -1);
    assert_int_equal(scan_array_len(sp("[\"a\"")), -1);
    assert_int_equal(scan_array_len(sp("\"[1]\"")), -1);
    assert_int_equal(scan_array_len(sp("")), -1);
}

static void test_accept_key(void **state)
{
    char out[29];

    /* RFC 6455, section 1.3 */
    wsc_accept_for("dGhlIHNhbXBsZSBub25jZQ==", out);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void unmask(const unsigned char *frame, size_t hdr, size_t len, unsigned char *out)
{
    for (size_t i = 0; i < len; i++)
        out[i] = frame[hdr + i] ^ frame[hdr - 4 + (i & 3)];
}

static void test_frames(void **state)
{
    static unsigned char frame[70000 + 14], payload[70000], back[70000];
    size_t n;

    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (unsigned char)(i * 31 + 7);

    n = wsc_build_frame(frame, 0x1, payload, 5, 0x12345678);
    assert_int_equal(n, 2 + 4 + 5);
    assert_int_equal(frame[0], 0x81);
    assert_int_equal(frame[1], 0x80 | 5);
    unmask(frame, 6, 5, back);
    assert_memory_equal(back, payload, 5);

    n = wsc_build_frame(frame, 0x1, payload, 126, 0xdeadbeef);
    assert_int_equal(n, 4 + 4 + 126);
    assert_int_equal(frame[1], 0x80 | 126);
    assert_int_equal(frame[2] << 8 | frame[3], 126);
    unmask(frame, 8, 126, back);
    assert_memory_equal(back, payload, 126);

    n = wsc_build_frame(frame, 0x1, payload, 70000, 0xcafef00d);
    assert_int_equal(n, 10 + 4 + 70000);
    assert_int_equal(frame[1], 0x80 | 127);
    assert_int_equal(frame[7] << 16 | frame[8] << 8 | frame[9], 70000);
    unmask(frame, 14, 70000, back);
    assert_memory_equal(back, payload, 70000);

    n = wsc_build_frame(frame, 0x8, "\x03\xe8", 2, 0);
    assert_int_equal(n, 8);
    assert_int_equal(frame[0], 0x88);
    assert_int_equal(frame[6], 0x03);
    assert_int_equal(frame[7], 0xe8);
}

static void test_proc_stat(void **state)
{
    uint64_t u = 0, s = 0;
    const char *stat = "1234 (parlor (x) server) S 1 1234 1234 0 -1 4194560 1000 0 0 0 "
                       "2500 375 0 0 20 0 5 0 100 1000000 2000 18446744073709551615";

    assert_true(proc_parse_stat(stat, &u, &s));
    assert_int_equal(u, 2500);
    assert_int_equal(s, 375);
    assert_false(proc_parse_stat("garbage", &u, &s));
    assert_false(proc_parse_stat("1 (x) S 1 2", &u, &s));
}

static void test_stat_all(void **state)
{
    int ppid = 0;
    uint64_t t = 0;
    const char *stat = "1234 (node (x)) S 77 1234 1234 0 -1 4194560 1000 0 0 0 "
                       "2500 375 40 5 20 0 5 0 100 1000000 2000";

    assert_true(proc_parse_stat_all(stat, &ppid, &t));
    assert_int_equal(ppid, 77);
    assert_int_equal(t, 2500 + 375 + 40 + 5);
    assert_false(proc_parse_stat_all("1 (x) S 1 2 3", &ppid, &t));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_chat),
        cmocka_unit_test(test_scan_nested_and_escapes),
        cmocka_unit_test(test_scan_more_members_than_room),
        cmocka_unit_test(test_scan_malformed),
        cmocka_unit_test(test_scan_values),
        cmocka_unit_test(test_scan_array_len),
        cmocka_unit_test(test_accept_key),
        cmocka_unit_test(test_frames),
        cmocka_unit_test(test_proc_stat),
        cmocka_unit_test(test_stat_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
