/*
 * Tests for accounts (server/accounts/accounts.c): register, login and resume against a real
 * pool and a temporary database (scrypt at its smallest cost), with the server's sessions on
 * the fake transport. The test's thread plays the loop: it waits for the pool and drains it.
 * Covers the replies of each path, names taken and banned, bad credentials, tokens that are
 * bad, expired or of an ended guest, the bounded wait line (server_busy), a sign-in already in
 * progress, and a player who leaves before the hash is done.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "accounts.h"
#include "bans.h"
#include "chat.h"
#include "log.h"
#include "proto.h"
#include "server.h"
#include "session.h"

#include "db_fixture.h"
#include "fake_transport.h"

#define START_MS 1795400000000LL
#define TTL_MS   (7LL * 86400 * 1000)

struct fixture {
    struct db_fixture db;
    struct config cfg;
    struct server srv;
    struct accounts acc;
    struct fake_conn conns[8];
    struct session *s[8];
    int n;
};

static const uint8_t key[AUTH_KEY_LEN] = {7, 7, 7};

static struct fixture *fixture_new(int hash_limit, size_t wait_max)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    char *argv[] = {"parlor-server", NULL};
    char err[256];

    assert_non_null(fx);
    log_set_level(LOG_ERROR);
    /* the server's arrangement: hashes in their own lane, beside the database's */
    fx->db.lanes[POOL_LANE_CPU] = (struct pool_lane_cfg){hash_limit, wait_max};
    if (db_fixture_open(&fx->db, 2, 100, err, sizeof(err)))
        fail_msg("%s", err);
    assert_int_equal(config_parse(&fx->cfg, 1, argv, err, sizeof(err)), CONFIG_OK);
    fake_transport_reset(START_MS, NULL);
    assert_int_equal(server_init(&fx->srv, &fx->cfg, &fake_transport_ops, NULL), 0);
    fx->srv.wall_ms = fake_clock_ms;
    fx->srv.mono_ms = fake_clock_ms;
    accounts_init(&fx->acc, &fx->srv, fx->db.pool,
                  &(struct accounts_cfg){.key = key,
                                         .cost = auth_scrypt_default(10),
                                         .token_ttl_ms = TTL_MS,
                                         .signed_in = chat_signed_in,
                                         .signed_in_arg = &fx->srv});
    fx->srv.accounts = &fx->acc;
    return fx;
}

/* Password jobs in the pool's CPU lane now, waiting or running. */
static size_t lane_jobs(struct fixture *fx)
{
    size_t queued, running;

    pool_get_lane(fx->db.pool, POOL_LANE_CPU, &queued, &running);
    return queued + running;
}

static int setup(void **state)
{
    *state = fixture_new(1, 10);
    return 0;
}

static int no_setup(void **state)
{
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    /* jobs still on the pool find their sessions gone, as after a disconnect */
    for (int i = 0; i < fx->n; i++) {
        if (fx->s[i]) {
            chat_session_closed(&fx->srv, fx->s[i]);
            session_free(fx->s[i]);
        }
    }
    db_fixture_close(&fx->db, &fx->srv);
    chat_end_detached(&fx->srv);
    chat_stop_timers(&fx->srv);
    accounts_destroy(&fx->acc);
    server_destroy(&fx->srv);
    free(fx);
    return 0;
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

static const char *str(json_t *o, const char *key_)
{
    json_t *v = json_object_get(o, key_);

    assert_true(json_is_string(v));
    return json_string_value(v);
}

static struct session *connect_session(struct fixture *fx)
{
    struct session *s = session_new(&fx->srv, &fx->conns[fx->n]);

    assert_non_null(s);
    fx->s[fx->n++] = s;
    chat_session_opened(&fx->srv, s);
    json_decref(next_msg(s)); /* welcome */
    return s;
}

static void disconnect(struct fixture *fx, struct session *s)
{
    for (int i = 0; i < fx->n; i++)
        if (fx->s[i] == s)
            fx->s[i] = NULL;
    chat_session_closed(&fx->srv, s);
    session_free(s);
}

/* Decodes `json` as the dispatcher does and hands it to the accounts. */
static void request(struct fixture *fx, struct session *s, const char *json)
{
    struct proto_req req;
    struct proto_error err;

    if (proto_decode(json, strlen(json), &fx->srv.lim, &req, &err))
        fail_msg("cannot decode %s: %s", json, err.message);
    switch (req.type) {
    case PROTO_REGISTER:
        accounts_register(&fx->acc, s, &req);
        break;
    case PROTO_LOGIN:
        accounts_login(&fx->acc, s, &req);
        break;
    case PROTO_RESUME:
        accounts_resume(&fx->acc, s, &req);
        break;
    default:
        fail_msg("not an accounts request: %s", json);
    }
    proto_req_free(&req);
}

/* Plays the loop until `s` has a message queued. */
static json_t *reply_of(struct fixture *fx, struct session *s)
{
    while (!session_out_peek(s))
        assert_true(db_fixture_wait(&fx->db, &fx->srv) >= 0);
    return next_msg(s);
}

static void expect_error(json_t *r, int id, const char *code)
{
    if (strcmp(str(r, "type"), "error") || strcmp(str(r, "code"), code)) {
        char *dump = json_dumps(r, 0);
        fail_msg("expected error %s, got %s", code, dump);
    }
    assert_int_equal(json_integer_value(json_object_get(r, "re")), id);
    assert_true(strlen(str(r, "message")) > 0);
    json_decref(r);
}

/* An ok for request `id` signing in as `name`; returns its token in `token`. */
static void expect_signed_in(json_t *r, int id, const char *name, char token[AUTH_TOKEN_MAX])
{
    if (strcmp(str(r, "type"), "ok")) {
        char *dump = json_dumps(r, 0);
        fail_msg("expected ok, got %s", dump);
    }
    assert_int_equal(json_integer_value(json_object_get(r, "re")), id);
    assert_string_equal(str(r, "name"), name);
    if (token)
        snprintf(token, AUTH_TOKEN_MAX, "%s", str(r, "token"));
    json_decref(r);
}

static struct session *registered(struct fixture *fx, const char *name, char *token)
{
    struct session *s = connect_session(fx);
    char req[160];

    snprintf(req, sizeof(req),
             "{\"type\":\"register\",\"id\":1,\"name\":\"%s\",\"password\":\"correct horse\"}",
             name);
    request(fx, s, req);
    expect_signed_in(reply_of(fx, s), 1, name, token);
    return s;
}

static void test_accounts_register_then_login(void **state)
{
    struct fixture *fx = *state;
    struct session *a = registered(fx, "Alice", NULL), *b, *c;
    int64_t uid = a->user_id;

    assert_true(a->signed_in);
    assert_true(uid > 0);
    assert_ptr_equal(session_by_name(&fx->srv, "alice"), a);
    assert_true(accounts_name_registered(&fx->acc, "ALICE"));
    assert_int_equal(db_fixture_count(&fx->db, "SELECT count(*) FROM users WHERE name = 'Alice'"),
                     1);
    assert_int_equal(fx->acc.stats.registered, 1);

    /* signed in once at a time */
    b = connect_session(fx);
    request(fx, b,
            "{\"type\":\"login\",\"id\":2,\"name\":\"alice\",\"password\":\"correct horse\"}");
    expect_error(reply_of(fx, b), 2, "name_taken");
    disconnect(fx, a);

    /* any case of the name logs in to the account as registered */
    request(fx, b,
            "{\"type\":\"login\",\"id\":3,\"name\":\"ALICE\",\"password\":\"correct horse\"}");
    expect_signed_in(reply_of(fx, b), 3, "Alice", NULL);
    assert_int_equal(b->user_id, uid);
    assert_int_equal(fx->acc.stats.logins, 2);

    /* already signed in: refused at once */
    request(fx, b,
            "{\"type\":\"login\",\"id\":4,\"name\":\"Alice\",\"password\":\"correct horse\"}");
    expect_error(next_msg(b), 4, "not_allowed");

    c = connect_session(fx);
    request(fx, c, "{\"type\":\"register\",\"id\":5,\"name\":\"alice\",\"password\":\"x2345678\"}");
    expect_error(next_msg(c), 5, "name_taken"); /* known in memory: no database trip */
    request(fx, c, "{\"type\":\"register\",\"id\":6,\"name\":\"A1ice\",\"password\":\"x2345678\"}");
    expect_error(next_msg(c), 6, "name_taken"); /* looks the same */
}

/* A wrong password and an unknown name get the same answer. */
static void test_accounts_bad_credentials(void **state)
{
    struct fixture *fx = *state;
    struct session *b;

    disconnect(fx, registered(fx, "bob", NULL));
    b = connect_session(fx);
    request(fx, b, "{\"type\":\"login\",\"id\":1,\"name\":\"bob\",\"password\":\"wrong horse\"}");
    expect_error(reply_of(fx, b), 1, "bad_credentials");
    assert_false(b->signed_in);
    request(fx, b,
            "{\"type\":\"login\",\"id\":2,\"name\":\"nobody\",\"password\":\"correct horse\"}");
    expect_error(reply_of(fx, b), 2, "bad_credentials");
    assert_int_equal(fx->acc.stats.failures, 2);
    /* the session may try again */
    request(fx, b, "{\"type\":\"login\",\"id\":3,\"name\":\"bob\",\"password\":\"correct horse\"}");
    expect_signed_in(reply_of(fx, b), 3, "bob", NULL);
}

/* One hash at a time and one sign-in waiting: a third is told the server is busy, at once;
 * the two accepted finish in turn. */
static void test_accounts_full_wait_line_is_server_busy(void **state)
{
    struct fixture *fx = fixture_new(1, 1);
    struct session *a, *b, *c;

    *state = fx;
    a = connect_session(fx);
    b = connect_session(fx);
    c = connect_session(fx);
    request(fx, a, "{\"type\":\"register\",\"id\":1,\"name\":\"ann\",\"password\":\"12345678\"}");
    request(fx, b, "{\"type\":\"register\",\"id\":1,\"name\":\"ben\",\"password\":\"12345678\"}");
    assert_int_equal(lane_jobs(fx), 2); /* one hashing, one waiting for the lane's slot */
    request(fx, c, "{\"type\":\"login\",\"id\":1,\"name\":\"ann\",\"password\":\"12345678\"}");
    expect_error(next_msg(c), 1, "server_busy");
    assert_false(c->auth_pending);

    /* a second request of a session whose sign-in is under way */
    request(fx, b, "{\"type\":\"login\",\"id\":2,\"name\":\"ben\",\"password\":\"12345678\"}");
    expect_error(next_msg(b), 2, "not_allowed");

    expect_signed_in(reply_of(fx, a), 1, "ann", NULL);
    expect_signed_in(reply_of(fx, b), 1, "ben", NULL);
    assert_int_equal(lane_jobs(fx), 0);
}

/* The hash finishes after the player has gone: the account exists, nobody is answered. */
static void test_accounts_registration_outlives_its_session(void **state)
{
    struct fixture *fx = *state;
    struct session *a = connect_session(fx);

    request(fx, a, "{\"type\":\"register\",\"id\":1,\"name\":\"gone\",\"password\":\"12345678\"}");
    assert_true(accounts_name_registered(&fx->acc, "gone")); /* reserved meanwhile */
    disconnect(fx, a);
    while (fx->acc.stats.registered == 0)
        assert_true(db_fixture_wait(&fx->db, &fx->srv) >= 0);
    assert_true(accounts_name_registered(&fx->acc, "gone"));
    assert_int_equal(db_fixture_count(&fx->db, "SELECT count(*) FROM users"), 1);
}

static void test_accounts_resume_with_tokens(void **state)
{
    struct fixture *fx = *state;
    char token[AUTH_TOKEN_MAX], req[AUTH_TOKEN_MAX + 64], old[AUTH_TOKEN_MAX];
    struct session *a = registered(fx, "carol", token), *b;
    int64_t uid = a->user_id;

    disconnect(fx, a);
    b = connect_session(fx);
    request(fx, b, "{\"type\":\"resume\",\"id\":1,\"token\":\"v1.1.2.3.nonsense\"}");
    expect_error(next_msg(b), 1, "unauthorized");

    /* a token past its expiry */
    assert_int_equal(auth_token_make(key, uid, START_MS - 1, old), 0);
    snprintf(req, sizeof(req), "{\"type\":\"resume\",\"id\":2,\"token\":\"%s\"}", old);
    request(fx, b, req);
    expect_error(next_msg(b), 2, "unauthorized");

    /* a guest's token whose session has ended */
    assert_int_equal(accounts_token(&fx->acc, -12345, old), 0);
    snprintf(req, sizeof(req), "{\"type\":\"resume\",\"id\":3,\"token\":\"%s\"}", old);
    request(fx, b, req);
    expect_error(next_msg(b), 3, "unauthorized");

    /* the account's token signs in with no password, and no pool job */
    snprintf(req, sizeof(req), "{\"type\":\"resume\",\"id\":4,\"token\":\"%s\"}", token);
    request(fx, b, req);
    expect_signed_in(next_msg(b), 4, "carol", NULL);
    assert_int_equal(b->user_id, uid);
    assert_int_equal(fx->acc.stats.resumes, 1);

    /* it stays valid until its expiry, not after */
    disconnect(fx, b);
    b = connect_session(fx);
    fake_clock_advance(TTL_MS + 1);
    snprintf(req, sizeof(req), "{\"type\":\"resume\",\"id\":5,\"token\":\"%s\"}", token);
    request(fx, b, req);
    expect_error(next_msg(b), 5, "unauthorized");
}

/* Back within the grace period: the kept session's name goes to the new connection. */
static void test_accounts_resume_takes_back_a_dropped_session(void **state)
{
    struct fixture *fx = *state;
    char token[AUTH_TOKEN_MAX], req[AUTH_TOKEN_MAX + 64];
    struct session *a = registered(fx, "dora", token), *b;

    assert_true(chat_session_dropped(&fx->srv, a)); /* no close frame: kept */
    for (int i = 0; i < fx->n; i++) /* the handover frees it: the fixture must not */
        if (fx->s[i] == a)
            fx->s[i] = NULL;
    b = connect_session(fx);
    snprintf(req, sizeof(req), "{\"type\":\"resume\",\"id\":1,\"token\":\"%s\"}", token);
    request(fx, b, req);
    expect_signed_in(next_msg(b), 1, "dora", NULL);
    assert_ptr_equal(session_by_name(&fx->srv, "dora"), b);
    assert_int_equal(fake_timers_pending(), 0); /* the grace timer went with the old session */
}

static void test_accounts_banned_names(void **state)
{
    struct fixture *fx = *state;
    struct session *e = registered(fx, "eve", NULL), *b;

    disconnect(fx, e);
    assert_int_equal(bans_add(&fx->srv.bans, BAN_NAME, "eve", BAN_FOREVER), 0);
    assert_int_equal(bans_add(&fx->srv.bans, BAN_NAME, "mallory", BAN_FOREVER), 0);
    b = connect_session(fx);
    request(fx, b, "{\"type\":\"login\",\"id\":1,\"name\":\"eve\",\"password\":\"correct horse\"}");
    expect_error(reply_of(fx, b), 1, "not_allowed");
    assert_false(b->signed_in);
    request(fx, b,
            "{\"type\":\"register\",\"id\":2,\"name\":\"mallory\",\"password\":\"12345678\"}");
    expect_error(next_msg(b), 2, "not_allowed");
    assert_false(accounts_name_registered(&fx->acc, "mallory"));
}

#define T(fn)  cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TC(fn) cmocka_unit_test_setup_teardown(fn, no_setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_accounts_register_then_login),
        T(test_accounts_bad_credentials),
        TC(test_accounts_full_wait_line_is_server_busy),
        T(test_accounts_registration_outlives_its_session),
        T(test_accounts_resume_with_tokens),
        T(test_accounts_resume_takes_back_a_dropped_session),
        T(test_accounts_banned_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
