/*
 * Tests for the chat log lane (server/chat/chatlog.c) against a real SQLite file, the real pool and
 * a real lws context (no listening socket): messages accepted in one loop turn commit in one
 * transaction, the ok goes out only after the commit, batches are capped, a full lane is
 * reported, a history read sees every message accepted before it, a failed batch becomes an
 * `internal` error, and stopping hands everything pending to the pool.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libwebsockets.h>

#include <sqlite3.h>

#include "chat.h"
#include "chatlog.h"
#include "pool.h"
#include "server.h"
#include "session.h"
#include "store.h"

#include "fake_transport.h"

struct fixture {
    char dir[64], path[96];
    struct config cfg;
    struct server srv;
    struct store_cfg dbc;
    struct pool *pool;
    struct lws_context *ctx;
    struct chatlog cl;
    struct fake_conn conn;
    struct session *s;
    lws_sorted_usec_list_t guard;
    int timed_out;
};

static int cb_loop(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    struct fixture *fx = lws_context_user(lws_get_context(wsi));

    if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED && fx && fx->pool)
        pool_drain(fx->pool, &fx->srv);
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"chatlog-test", cb_loop, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void wake(void *arg)
{
    lws_cancel_service(arg);
}

static void guard_expired(lws_sorted_usec_list_t *sul)
{
    lws_container_of(sul, struct fixture, guard)->timed_out = 1;
}

static struct fixture *fixture_new(int batch_max, int pending_max)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    struct lws_context_creation_info info;
    char *argv[] = {"parlor-server", NULL};
    char err[256];

    assert_non_null(fx);
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/parlor-chatlog-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->path, sizeof(fx->path), "%s/t.db", fx->dir);
    fx->dbc = (struct store_cfg){.target = fx->path, .sync_full = true};
    assert_int_equal(store_prepare(&fx->dbc, err, sizeof(err)), 0);

    assert_int_equal(config_parse(&fx->cfg, 1, argv, err, sizeof(err)), CONFIG_OK);
    assert_int_equal(server_init(&fx->srv, &fx->cfg, &fake_transport_ops, NULL), 0);

    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.user = fx;
    lws_set_log_level(LLL_ERR, NULL);
    fx->ctx = lws_create_context(&info);
    assert_non_null(fx->ctx);
    /* the chat log's batch timers run on this context, which the pool wakes */
    fake_transport_reset(0, fx->ctx);

    fx->pool = pool_create(&(struct pool_cfg){.workers = 2,
                                              .queue_max = 100,
                                              .worker_open = store_worker_open,
                                              .worker_close = store_worker_close,
                                              .wake = wake,
                                              .open_arg = &fx->dbc,
                                              .wake_arg = fx->ctx},
                           err, sizeof(err));
    assert_non_null(fx->pool);
    chatlog_init(&fx->cl, &fx->srv, fx->pool, 0, batch_max, pending_max, chat_message_saved,
                 chat_history_read);
    fx->srv.chatlog = &fx->cl;
    fx->s = session_new(&fx->srv, &fx->conn);
    assert_non_null(fx->s);
    lws_sul_schedule(fx->ctx, 0, &fx->guard, guard_expired, 10 * LWS_US_PER_SEC);
    return fx;
}

static void fixture_free(struct fixture *fx)
{
    char cmd[160];

    lws_sul_cancel(&fx->guard);
    chatlog_stop(&fx->cl);
    pool_destroy(fx->pool, &fx->srv);
    lws_context_destroy(fx->ctx);
    chatlog_destroy(&fx->cl);
    if (fx->s)
        session_free(fx->s);
    server_destroy(&fx->srv);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
    assert_int_equal(system(cmd), 0);
    free(fx);
}

/* Services the loop until `rows` messages are committed (or the guard fires). */
static void run_until_rows(struct fixture *fx, uint64_t rows)
{
    while (fx->cl.stats.rows + fx->cl.stats.failures < rows && !fx->timed_out)
        assert_true(lws_service(fx->ctx, 0) >= 0);
    assert_false(fx->timed_out);
}

static long long count_rows(struct fixture *fx, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    long long n = -1;

    assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static json_t *next_msg(struct session *s)
{
    struct msgbuf *m = session_out_peek(s);
    json_t *j;

    assert_non_null(m);
    j = json_loadb((const char *)msgbuf_payload(m), m->len, 0, NULL);
    assert_non_null(j);
    session_out_pop(s);
    return j;
}

static void append(struct fixture *fx, uint64_t session_id, int id, uint64_t seq)
{
    char text[32];

    snprintf(text, sizeof(text), "message %llu", (unsigned long long)seq);
    assert_int_equal(chatlog_append(&fx->cl, session_id, (struct proto_re){true, id}, "lobby", seq,
                                    "alice", text, 1700000000000 + (int64_t)seq),
                     0);
}

static void test_chatlog_one_turn_is_one_transaction_and_oks_follow_the_commit(void **state)
{
    struct fixture *fx = fixture_new(500, 10000);

    for (int i = 1; i <= 200; i++)
        append(fx, fx->s->id, 1000 + i, (uint64_t)i);
    /* nothing is acknowledged before the commit */
    assert_int_equal(fx->s->sendq.count, 0);
    assert_int_equal(count_rows(fx, "SELECT count(*) FROM messages"), 0);

    run_until_rows(fx, 200);
    assert_int_equal(fx->cl.stats.batches, 1);
    assert_int_equal(fx->cl.stats.max_batch, 200);
    assert_int_equal(count_rows(fx, "SELECT count(*) FROM messages"), 200);
    assert_int_equal(count_rows(fx, "SELECT sum(seq) FROM messages"), 200 * 201 / 2);
    for (int i = 1; i <= 200; i++) {
        json_t *ok = next_msg(fx->s);
        assert_string_equal(json_string_value(json_object_get(ok, "type")), "ok");
        assert_int_equal(json_integer_value(json_object_get(ok, "re")), 1000 + i);
        assert_int_equal(json_integer_value(json_object_get(ok, "seq")), i);
        json_decref(ok);
    }
    assert_int_equal(fx->s->sendq.count, 0);
    fixture_free(fx);
}

static void test_chatlog_batches_are_capped_at_batch_max(void **state)
{
    struct fixture *fx = fixture_new(50, 10000);

    for (int i = 1; i <= 200; i++)
        append(fx, fx->s->id, i, (uint64_t)i);
    run_until_rows(fx, 200);
    assert_int_equal(fx->cl.stats.batches, 4);
    assert_int_equal(fx->cl.stats.max_batch, 50);
    fixture_free(fx);
}

static void test_chatlog_full_is_reported_before_side_effects(void **state)
{
    struct fixture *fx = fixture_new(500, 10);

    for (int i = 1; i <= 9; i++)
        append(fx, fx->s->id, i, (uint64_t)i);
    assert_false(chatlog_full(&fx->cl));
    append(fx, fx->s->id, 10, 10);
    assert_true(chatlog_full(&fx->cl));
    run_until_rows(fx, 10);
    assert_false(chatlog_full(&fx->cl));
    fixture_free(fx);
}

static void test_chatlog_history_sees_every_message_accepted_before_it(void **state)
{
    struct fixture *fx = fixture_new(500, 10000);
    json_t *ok, *msgs;

    for (int i = 1; i <= 7; i++)
        append(fx, 0, 0, (uint64_t)i); /* nobody waits for these oks */
    assert_int_equal(
        chatlog_history(&fx->cl, fx->s->id, (struct proto_re){true, 77}, "lobby", 100, 5), 0);
    while (!fx->s->sendq.count && !fx->timed_out)
        assert_true(lws_service(fx->ctx, 0) >= 0);
    ok = next_msg(fx->s);
    assert_int_equal(json_integer_value(json_object_get(ok, "re")), 77);
    msgs = json_object_get(ok, "messages");
    assert_int_equal(json_array_size(msgs), 5);
    for (int i = 0; i < 5; i++) {
        json_t *m = json_array_get(msgs, (size_t)i);
        assert_int_equal(json_integer_value(json_object_get(m, "seq")), 3 + i);
        assert_string_equal(json_string_value(json_object_get(m, "type")), "chat");
        assert_string_equal(json_string_value(json_object_get(m, "from")), "alice");
    }
    json_decref(ok);
    fixture_free(fx);
}

static void test_chatlog_failed_batch_reports_internal_and_the_lane_goes_on(void **state)
{
    struct fixture *fx = fixture_new(500, 10000);
    json_t *r;

    append(fx, fx->s->id, 1, 1);
    run_until_rows(fx, 1);
    json_decref(next_msg(fx->s));
    /* the same (room, seq) again: the primary key refuses, the transaction rolls back */
    append(fx, fx->s->id, 2, 1);
    append(fx, fx->s->id, 3, 2);
    while (!fx->cl.stats.failures && !fx->timed_out)
        assert_true(lws_service(fx->ctx, 0) >= 0);
    for (int id = 2; id <= 3; id++) {
        r = next_msg(fx->s);
        assert_string_equal(json_string_value(json_object_get(r, "code")), "internal");
        assert_int_equal(json_integer_value(json_object_get(r, "re")), id);
        json_decref(r);
    }
    assert_int_equal(count_rows(fx, "SELECT count(*) FROM messages"), 1);
    append(fx, fx->s->id, 4, 2);
    run_until_rows(fx, 3); /* 2 rows + 1 failed batch */
    assert_int_equal(count_rows(fx, "SELECT count(*) FROM messages"), 2);
    fixture_free(fx);
}

static void test_chatlog_stop_writes_everything_pending(void **state)
{
    struct fixture *fx = fixture_new(500, 10000);

    for (int i = 1; i <= 30; i++)
        append(fx, fx->s->id, i, (uint64_t)i);
    /* no loop turn at all: stop must still get them written */
    chatlog_stop(&fx->cl);
    pool_destroy(fx->pool, &fx->srv);
    fx->pool = pool_create(
        &(struct pool_cfg){.workers = 1, .queue_max = 1, .wake = wake, .wake_arg = fx->ctx},
        (char[64]){0}, 64);
    fx->cl.pool = fx->pool;
    assert_int_equal(count_rows(fx, "SELECT count(*) FROM messages"), 30);
    fixture_free(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chatlog_one_turn_is_one_transaction_and_oks_follow_the_commit),
        cmocka_unit_test(test_chatlog_batches_are_capped_at_batch_max),
        cmocka_unit_test(test_chatlog_full_is_reported_before_side_effects),
        cmocka_unit_test(test_chatlog_history_sees_every_message_accepted_before_it),
        cmocka_unit_test(test_chatlog_failed_batch_reports_internal_and_the_lane_goes_on),
        cmocka_unit_test(test_chatlog_stop_writes_everything_pending),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
