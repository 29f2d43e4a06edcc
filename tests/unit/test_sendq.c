/*
 * Unit tests for server/base/sendq.c and server/base/msgbuf.c: FIFO order across ring wrap-around
 * and growth, the count and byte limits (exactly at a limit and one past it), reference counts of
 * queued and refused messages, clearing, and the msgbuf constructors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libwebsockets.h>

#include "msgbuf.h"
#include "sendq.h"

/* A message whose payload is the decimal text of n. */
static struct msgbuf *numbered(int n)
{
    char text[16];
    int len = snprintf(text, sizeof(text), "%d", n);
    struct msgbuf *m = msgbuf_from_bytes(text, (size_t)len);

    assert_non_null(m);
    return m;
}

static struct msgbuf *sized(size_t len)
{
    char buf[64];
    struct msgbuf *m;

    assert_true(len <= sizeof(buf));
    memset(buf, 'z', sizeof(buf));
    m = msgbuf_from_bytes(buf, len);
    assert_non_null(m);
    return m;
}

/* The number in the payload of the oldest queued message. */
static int peek_number(const struct sendq *q)
{
    struct msgbuf *m = sendq_peek(q);
    char text[16];

    assert_non_null(m);
    assert_true(m->len < sizeof(text));
    memcpy(text, msgbuf_payload(m), m->len);
    text[m->len] = '\0';
    return atoi(text);
}

/* Queues a new numbered message and drops the caller's reference. */
static void push_numbered(struct sendq *q, int n)
{
    struct msgbuf *m = numbered(n);

    assert_int_equal(sendq_push(q, m), 0);
    assert_int_equal(m->refs, 2);
    msgbuf_unref(m);
}

static void test_sendq_empty(void **state)
{
    struct sendq q;

    (void)state;
    sendq_init(&q, 4, 100);
    assert_null(sendq_peek(&q));
    sendq_pop(&q); /* no-op */
    assert_int_equal(q.count, 0);
    assert_int_equal(q.bytes, 0);
    sendq_clear(&q);
    sendq_clear(&q);
    assert_null(sendq_peek(&q));
}

static void test_sendq_fifo_and_refs(void **state)
{
    struct sendq q;
    struct msgbuf *a = msgbuf_from_bytes("alpha", 5);
    struct msgbuf *b = msgbuf_from_bytes("be", 2);
    struct msgbuf *c = msgbuf_from_bytes("c", 1);

    (void)state;
    sendq_init(&q, 10, 1000);
    assert_int_equal(sendq_push(&q, a), 0);
    assert_int_equal(sendq_push(&q, b), 0);
    assert_int_equal(sendq_push(&q, c), 0);
    assert_int_equal(q.count, 3);
    assert_int_equal(q.bytes, 8);
    assert_int_equal(a->refs, 2);
    assert_int_equal(b->refs, 2);
    assert_int_equal(c->refs, 2);

    assert_ptr_equal(sendq_peek(&q), a);
    assert_ptr_equal(sendq_peek(&q), a); /* peek does not remove */
    sendq_pop(&q);
    assert_int_equal(a->refs, 1);
    assert_int_equal(q.count, 2);
    assert_int_equal(q.bytes, 3);
    assert_ptr_equal(sendq_peek(&q), b);
    sendq_pop(&q);
    assert_int_equal(b->refs, 1);
    assert_ptr_equal(sendq_peek(&q), c);
    sendq_pop(&q);
    assert_int_equal(c->refs, 1);
    assert_null(sendq_peek(&q));
    assert_int_equal(q.count, 0);
    assert_int_equal(q.bytes, 0);

    sendq_clear(&q);
    msgbuf_unref(a);
    msgbuf_unref(b);
    msgbuf_unref(c);
}

static void test_sendq_order_across_wrap_and_growth(void **state)
{
    struct sendq q;
    int next_in = 0, next_out = 0;

    (void)state;
    sendq_init(&q, 100, 100000);
    /* move the head forward, then grow while the live part wraps around the ring's end */
    for (int i = 0; i < 6; i++)
        push_numbered(&q, next_in++);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(peek_number(&q), next_out++);
        sendq_pop(&q);
    }
    for (int i = 0; i < 30; i++)
        push_numbered(&q, next_in++);
    assert_int_equal(q.count, 32);

    /* mixed traffic: two in, one out, many times over */
    for (int round = 0; round < 60; round++) {
        if (q.count + 2 <= 100) {
            push_numbered(&q, next_in++);
            push_numbered(&q, next_in++);
        }
        assert_int_equal(peek_number(&q), next_out++);
        sendq_pop(&q);
    }
    while (q.count) {
        assert_int_equal(peek_number(&q), next_out++);
        sendq_pop(&q);
    }
    assert_int_equal(next_out, next_in);
    assert_int_equal(q.bytes, 0);
    sendq_clear(&q);
}

static void test_sendq_count_limit(void **state)
{
    struct sendq q;
    struct msgbuf *extra;

    (void)state;
    /* 10 is past the first ring size (8) but not a power of two */
    sendq_init(&q, 10, 1 << 20);
    for (int i = 0; i < 10; i++)
        push_numbered(&q, i);
    assert_int_equal(q.count, 10);

    extra = numbered(99);
    assert_int_equal(sendq_push(&q, extra), -1);
    assert_int_equal(extra->refs, 1);
    assert_int_equal(q.count, 10);

    /* room again after a pop; order is intact */
    assert_int_equal(peek_number(&q), 0);
    sendq_pop(&q);
    assert_int_equal(sendq_push(&q, extra), 0);
    assert_int_equal(extra->refs, 2);
    assert_int_equal(sendq_push(&q, extra), -1);
    assert_int_equal(extra->refs, 2);
    for (int i = 1; i < 10; i++) {
        assert_int_equal(peek_number(&q), i);
        sendq_pop(&q);
    }
    assert_ptr_equal(sendq_peek(&q), extra);
    sendq_clear(&q);
    assert_int_equal(extra->refs, 1);
    msgbuf_unref(extra);
}

static void test_sendq_count_limit_of_one(void **state)
{
    struct sendq q;
    struct msgbuf *a = numbered(1), *b = numbered(2);

    (void)state;
    sendq_init(&q, 1, 1000);
    assert_int_equal(sendq_push(&q, a), 0);
    assert_int_equal(sendq_push(&q, b), -1);
    assert_int_equal(b->refs, 1);
    sendq_pop(&q);
    assert_int_equal(sendq_push(&q, b), 0);
    assert_ptr_equal(sendq_peek(&q), b);
    sendq_clear(&q);
    msgbuf_unref(a);
    msgbuf_unref(b);
}

static void test_sendq_byte_limit(void **state)
{
    struct sendq q;
    struct msgbuf *four = sized(4), *six = sized(6), *one = sized(1), *big = sized(11);

    (void)state;
    sendq_init(&q, 100, 10);
    /* alone larger than the limit */
    assert_int_equal(sendq_push(&q, big), -1);
    assert_int_equal(big->refs, 1);
    assert_int_equal(q.count, 0);

    assert_int_equal(sendq_push(&q, four), 0);
    assert_int_equal(sendq_push(&q, six), 0);
    assert_int_equal(q.bytes, 10); /* exactly at the limit */
    assert_int_equal(sendq_push(&q, one), -1);
    assert_int_equal(one->refs, 1);
    assert_int_equal(q.count, 2);
    assert_int_equal(q.bytes, 10);

    sendq_pop(&q); /* frees 4 bytes */
    assert_int_equal(q.bytes, 6);
    assert_int_equal(sendq_push(&q, four), 0);
    assert_int_equal(q.bytes, 10);
    assert_int_equal(sendq_push(&q, one), -1);
    sendq_pop(&q);
    assert_int_equal(sendq_push(&q, one), 0);
    assert_int_equal(q.bytes, 5);
    assert_int_equal(q.count, 2);

    sendq_clear(&q);
    assert_int_equal(q.bytes, 0);
    assert_int_equal(four->refs, 1);
    assert_int_equal(six->refs, 1);
    assert_int_equal(one->refs, 1);
    msgbuf_unref(four);
    msgbuf_unref(six);
    msgbuf_unref(one);
    msgbuf_unref(big);
}

static void test_sendq_shared_message_survives_first_clear(void **state)
{
    struct sendq q1, q2;
    struct msgbuf *m = msgbuf_from_bytes("shared", 6);

    (void)state;
    assert_non_null(m);
    sendq_init(&q1, 4, 100);
    sendq_init(&q2, 4, 100);
    assert_int_equal(sendq_push(&q1, m), 0);
    assert_int_equal(sendq_push(&q2, m), 0);
    assert_int_equal(m->refs, 3);
    msgbuf_unref(m); /* the queues own it now */
    assert_int_equal(m->refs, 2);

    sendq_clear(&q1);
    assert_int_equal(q2.count, 1);
    m = sendq_peek(&q2);
    assert_non_null(m);
    assert_int_equal(m->refs, 1);
    assert_memory_equal(msgbuf_payload(m), "shared", 6);
    sendq_clear(&q2); /* frees it; ASan reports a leak or a double free */
}

static void test_sendq_clear_frees_and_queue_is_reusable(void **state)
{
    struct sendq q;

    (void)state;
    sendq_init(&q, 50, 1000);
    for (int i = 0; i < 20; i++)
        push_numbered(&q, i);
    sendq_clear(&q);
    assert_int_equal(q.count, 0);
    assert_int_equal(q.bytes, 0);
    assert_null(sendq_peek(&q));
    assert_int_equal(q.max_messages, 50);
    assert_int_equal(q.max_bytes, 1000);

    for (int i = 100; i < 150; i++)
        push_numbered(&q, i);
    assert_int_equal(sendq_push(&q, sendq_peek(&q)), -1); /* still bounded at 50 */
    for (int i = 100; i < 150; i++) {
        assert_int_equal(peek_number(&q), i);
        sendq_pop(&q);
    }
    sendq_clear(&q);
}

static void test_msgbuf_from_json_is_compact(void **state)
{
    json_t *j = json_pack("{s:s, s:i, s:[i,i], s:n}", "type", "ok", "re", 7, "a", 1, 2, "b");
    struct msgbuf *m;
    static const char want[] = "{\"type\":\"ok\",\"re\":7,\"a\":[1,2],\"b\":null}";

    (void)state;
    assert_non_null(j);
    m = msgbuf_from_json(j);
    assert_non_null(m);
    assert_int_equal(m->refs, 1);
    assert_int_equal(m->len, sizeof(want) - 1);
    assert_memory_equal(msgbuf_payload(m), want, sizeof(want) - 1);
    /* the headroom before the payload is the caller's to write */
    assert_ptr_equal(msgbuf_payload(m), m->data + LWS_PRE);
    memset(msgbuf_payload(m) - LWS_PRE, 0, LWS_PRE);
    msgbuf_unref(m);
    json_decref(j);
}

static void test_msgbuf_from_json_large(void **state)
{
    size_t n = 5000;
    char *text = malloc(n + 1), *want = malloc(n + 32);
    json_t *j;
    struct msgbuf *m;
    int wlen;

    (void)state;
    assert_non_null(text);
    assert_non_null(want);
    memset(text, 'x', n);
    text[n] = '\0';
    j = json_pack("{s:s}", "text", text);
    assert_non_null(j);
    wlen = snprintf(want, n + 32, "{\"text\":\"%s\"}", text);

    m = msgbuf_from_json(j);
    assert_non_null(m);
    assert_int_equal(m->len, (size_t)wlen);
    assert_true(m->cap >= m->len);
    assert_memory_equal(msgbuf_payload(m), want, (size_t)wlen);
    msgbuf_unref(m);
    json_decref(j);
    free(text);
    free(want);
}

static void test_msgbuf_from_json_null(void **state)
{
    (void)state;
    assert_null(msgbuf_from_json(NULL));
}

static void test_msgbuf_from_bytes(void **state)
{
    static const char bytes[] = {'a', '\0', 'b', '\xff'};
    struct msgbuf *m = msgbuf_from_bytes(bytes, sizeof(bytes));
    struct msgbuf *empty = msgbuf_from_bytes("", 0);

    (void)state;
    assert_non_null(m);
    assert_int_equal(m->len, 4);
    assert_int_equal(m->refs, 1);
    assert_memory_equal(msgbuf_payload(m), bytes, sizeof(bytes));
    msgbuf_ref(m);
    assert_int_equal(m->refs, 2);
    msgbuf_unref(m);
    assert_int_equal(m->refs, 1);
    msgbuf_unref(m);

    assert_non_null(empty);
    assert_int_equal(empty->len, 0);
    msgbuf_unref(empty);
    msgbuf_unref(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sendq_empty),
        cmocka_unit_test(test_sendq_fifo_and_refs),
        cmocka_unit_test(test_sendq_order_across_wrap_and_growth),
        cmocka_unit_test(test_sendq_count_limit),
        cmocka_unit_test(test_sendq_count_limit_of_one),
        cmocka_unit_test(test_sendq_byte_limit),
        cmocka_unit_test(test_sendq_shared_message_survives_first_clear),
        cmocka_unit_test(test_sendq_clear_frees_and_queue_is_reusable),
        cmocka_unit_test(test_msgbuf_from_json_is_compact),
        cmocka_unit_test(test_msgbuf_from_json_large),
        cmocka_unit_test(test_msgbuf_from_json_null),
        cmocka_unit_test(test_msgbuf_from_bytes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
