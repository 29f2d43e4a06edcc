/*
 * Tests for the operators' console (server/admin/admin.c) through admin_handle(), as
 * protocol/ADMIN.md describes it: consoles and players are sessions on the fake transport,
 * players signed in through the chat service, with a fake clock. Covers authentication (right
 * and wrong token, anything before auth, the lock-out of an address after 3 failures),
 * announce reaching players, kick, mute with a reason, the users filter, the log pushed
 * to consoles, and actions in a cluster: published once by the node that took them, applied
 * without being published again by a node that heard of them (server/admin/actions.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "actions.h"
#include "admin.h"
#include "bans.h"
#include "chat.h"
#include "log.h"
#include "server.h"
#include "session.h"

#include "fake_transport.h"

#define START_MS  1795400000000LL
#define TOKEN     "s3cret"
#define CONSOLE_A "203.0.113.7"

struct fixture {
    struct config cfg;
    struct server srv;
    struct fake_conn conns[16];
    struct session *s[16];
    int n;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    char *argv[] = {"parlor-server", "--admin-token", TOKEN, NULL};
    char err[256];

    assert_non_null(fx);
    log_set_level(LOG_ERROR);
    assert_int_equal(config_parse(&fx->cfg, 3, argv, err, sizeof(err)), CONFIG_OK);
    fake_transport_reset(START_MS, NULL);
    assert_int_equal(server_init(&fx->srv, &fx->cfg, &fake_transport_ops, NULL), 0);
    assert_int_equal(admin_init(&fx->srv), 0);
    fx->srv.wall_ms = fake_clock_ms;
    fx->srv.mono_ms = fake_clock_ms;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    for (int i = 0; i < fx->n; i++) {
        if (fx->s[i]) {
            chat_session_closed(&fx->srv, fx->s[i]);
            session_free(fx->s[i]);
        }
    }
    chat_end_detached(&fx->srv);
    chat_stop_timers(&fx->srv);
    admin_destroy(&fx->srv);
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

static void expect_empty(struct session *s)
{
    assert_null(session_out_peek(s));
}

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_string(v)) {
        char *dump = json_dumps(o, 0);
        fail_msg("no string '%s' in %s", key, dump);
    }
    return json_string_value(v);
}

static json_int_t num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

/* The next message of `s` must be of `type`; returns it. */
static json_t *expect_type(struct session *s, const char *type)
{
    json_t *m = next_msg(s);

    if (strcmp(str(m, "type"), type)) {
        char *dump = json_dumps(m, 0);
        fail_msg("expected %s, got %s", type, dump);
    }
    return m;
}

static struct session *open_session(struct fixture *fx, bool admin, const char *addr)
{
    struct session *s = session_new(&fx->srv, &fx->conns[fx->n]);

    assert_non_null(s);
    fx->s[fx->n++] = s;
    s->admin = admin;
    snprintf(s->addr, sizeof(s->addr), "%s", addr);
    chat_session_opened(&fx->srv, s);
    return s;
}

static void console_send(struct fixture *fx, struct session *c, const char *text)
{
    admin_handle(&fx->srv, c, text, strlen(text));
}

/* A console from `addr` that sent the right token; its ok is checked and consumed. */
static struct session *console(struct fixture *fx, const char *addr)
{
    struct session *c = open_session(fx, true, addr);
    json_t *ok;

    console_send(fx, c, "{\"type\":\"auth\",\"id\":1,\"token\":\"" TOKEN "\"}");
    ok = expect_type(c, "ok");
    json_decref(ok);
    json_decref(expect_type(c, "log")); /* its own arrival, as every console hears it */
    return c;
}

static void player_send(struct fixture *fx, struct session *p, const char *text)
{
    chat_handle(&fx->srv, p, text, strlen(text));
}

static struct session *player(struct fixture *fx, const char *name, const char *addr)
{
    struct session *p = open_session(fx, false, addr);
    char req[128];

    json_decref(expect_type(p, "welcome"));
    snprintf(req, sizeof(req), "{\"type\":\"hello\",\"id\":1,\"name\":\"%s\"}", name);
    chat_handle(&fx->srv, p, req, strlen(req));
    json_decref(expect_type(p, "ok"));
    return p;
}

/* The console's reply to `request` must be an ok for `id`; returns it. */
static json_t *expect_ok(struct fixture *fx, struct session *c, int id, const char *request)
{
    json_t *r;

    console_send(fx, c, request);
    r = expect_type(c, "ok");
    assert_int_equal(num(r, "re"), id);
    return r;
}

static void expect_error(struct fixture *fx, struct session *c, int id, const char *request,
                         const char *code, const char *field)
{
    json_t *r;

    console_send(fx, c, request);
    r = expect_type(c, "error");
    assert_int_equal(num(r, "re"), id);
    assert_string_equal(str(r, "code"), code);
    if (field)
        assert_string_equal(str(r, "field"), field);
    json_decref(r);
}

/* The console's next message must be a log entry containing `text`. */
static void expect_log(struct session *c, const char *text)
{
    json_t *m = expect_type(c, "log");

    if (!strstr(str(m, "text"), text))
        fail_msg("log '%s' does not say '%s'", str(m, "text"), text);
    json_decref(m);
}

/* An action's ok for `id` and its log entry containing `text`, in either order: ADMIN.md's
 * example shows the ok first, the server queues the log first. Returns the ok. */
static json_t *expect_ok_and_log(struct fixture *fx, struct session *c, int id, const char *request,
                                 const char *text)
{
    json_t *m[2], *ok = NULL;

    console_send(fx, c, request);
    m[0] = next_msg(c);
    m[1] = next_msg(c);
    for (int i = 0; i < 2; i++) {
        if (!strcmp(str(m[i], "type"), "ok")) {
            ok = m[i];
            continue;
        }
        assert_string_equal(str(m[i], "type"), "log");
        if (!strstr(str(m[i], "text"), text))
            fail_msg("log '%s' does not say '%s'", str(m[i], "text"), text);
        json_decref(m[i]);
    }
    assert_non_null(ok);
    assert_int_equal(num(ok, "re"), id);
    return ok;
}

static void expect_closed(struct fixture *fx, struct session *s, const char *reason)
{
    assert_true(s->closing);
    assert_int_equal(s->close_code, 1008);
    assert_string_equal(s->close_reason, reason);
    for (int i = 0; i < fx->n; i++)
        if (fx->s[i] == s)
            assert_int_equal(fx->conns[i].close_requests, 1);
}

static void test_admin_right_token_signs_in_with_history_and_log(void **state)
{
    struct fixture *fx = *state;
    struct session *c = open_session(fx, true, CONSOLE_A), *other;
    json_t *ok;

    expect_empty(c); /* no welcome on a console */
    console_send(fx, c, "{\"type\":\"auth\",\"id\":1,\"token\":\"" TOKEN "\"}");
    ok = expect_type(c, "ok");
    assert_int_equal(num(ok, "re"), 1);
    assert_string_equal(str(ok, "version"), PARLOR_VERSION);
    assert_true(json_is_array(json_object_get(ok, "history")));
    assert_true(json_is_array(json_object_get(ok, "log")));
    json_decref(ok);
    assert_true(c->admin_authed);
    assert_false(c->closing);
    expect_log(c, "console connected from " CONSOLE_A);

    /* a second console gets the first one's arrival in its log history */
    other = open_session(fx, true, "198.51.100.1");
    console_send(fx, other, "{\"type\":\"auth\",\"id\":7,\"token\":\"" TOKEN "\"}");
    ok = expect_type(other, "ok");
    assert_non_null(strstr(str(json_array_get(json_object_get(ok, "log"), 0), "text"),
                           "console connected from " CONSOLE_A));
    json_decref(ok);
    expect_log(c, "console connected from 198.51.100.1");

    expect_error(fx, c, 2, "{\"type\":\"nonsense\",\"id\":2}", "unknown_type", NULL);
}

static void test_admin_wrong_token_and_requests_before_auth_close(void **state)
{
    struct fixture *fx = *state;
    struct session *c;

    c = open_session(fx, true, CONSOLE_A);
    console_send(fx, c, "{\"type\":\"auth\",\"id\":1,\"token\":\"s3cret!\"}");
    expect_closed(fx, c, "bad token");
    expect_empty(c);
    assert_false(c->admin_authed);

    c = open_session(fx, true, "198.51.100.1");
    console_send(fx, c, "{\"type\":\"auth\",\"id\":1,\"token\":42}");
    expect_closed(fx, c, "bad token");

    c = open_session(fx, true, "198.51.100.2");
    console_send(fx, c, "{\"type\":\"users\",\"id\":1}");
    expect_closed(fx, c, "authenticate first");
    expect_empty(c);

    c = open_session(fx, true, "198.51.100.3");
    console_send(fx, c, "not json");
    expect_closed(fx, c, "authenticate first");
}

/* After 3 wrong tokens from one address it waits 2^(n-3) s after the n-th failure, even with
 * the right token; other addresses are not held up; a success clears the count. */
static void test_admin_repeated_failures_lock_the_address_out(void **state)
{
    struct fixture *fx = *state;
    const char *wrong = "{\"type\":\"auth\",\"id\":1,\"token\":\"guess\"}";
    const char *right = "{\"type\":\"auth\",\"id\":1,\"token\":\"" TOKEN "\"}";
    struct session *c;

    for (int i = 0; i < 2; i++) {
        console_send(fx, c = open_session(fx, true, CONSOLE_A), wrong);
        expect_closed(fx, c, "bad token");
    }
    console_send(fx, c = open_session(fx, true, CONSOLE_A), right); /* 2 failures: still free */
    assert_true(c->admin_authed);

    for (int i = 0; i < 3; i++) {
        console_send(fx, c = open_session(fx, true, CONSOLE_A), wrong);
        expect_closed(fx, c, "bad token");
    }
    /* the 3rd failure: 1 s */
    console_send(fx, c = open_session(fx, true, CONSOLE_A), right);
    expect_closed(fx, c, "too many attempts");
    assert_false(c->admin_authed);
    console_send(fx, c = open_session(fx, true, "198.51.100.9"), right);
    assert_true(c->admin_authed);
    fake_clock_advance(1000);
    console_send(fx, c = open_session(fx, true, CONSOLE_A), wrong); /* the 4th: 2 s */
    expect_closed(fx, c, "bad token");
    fake_clock_advance(1999);
    console_send(fx, c = open_session(fx, true, CONSOLE_A), right);
    expect_closed(fx, c, "too many attempts");
    fake_clock_advance(1);
    console_send(fx, c = open_session(fx, true, CONSOLE_A), right);
    assert_true(c->admin_authed);
    assert_false(c->closing);
}

static void test_admin_announce_reaches_signed_in_players(void **state)
{
    struct fixture *fx = *state;
    struct session *c = console(fx, CONSOLE_A);
    struct session *a = player(fx, "alice", "192.0.2.1"), *b = player(fx, "bob", "192.0.2.2");
    struct session *stranger = open_session(fx, false, "192.0.2.3");
    json_t *r;
    char big[1100];
    int n;

    json_decref(expect_type(stranger, "welcome"));
    r = expect_ok_and_log(fx, c, 2, "{\"type\":\"announce\",\"id\":2,\"text\":\"restart at noon\"}",
                          "announce to 2 players: restart at noon");
    assert_int_equal(num(r, "recipients"), 2);
    json_decref(r);
    for (int i = 0; i < 2; i++) {
        r = expect_type(i ? b : a, "announce");
        assert_string_equal(str(r, "text"), "restart at noon");
        json_decref(r);
    }
    expect_empty(stranger); /* not signed in */
    expect_empty(c);

    expect_error(fx, c, 3, "{\"type\":\"announce\",\"id\":3,\"text\":\"\"}", "bad_request", "text");
    n = snprintf(big, sizeof(big), "{\"type\":\"announce\",\"id\":4,\"text\":\"");
    memset(big + n, 'x', 1001);
    snprintf(big + n + 1001, sizeof(big) - (size_t)n - 1001, "\"}");
    expect_error(fx, c, 4, big, "bad_request", "text"); /* 1001 characters */
    expect_empty(a);
}

static void test_admin_kick_closes_the_player_with_the_reason(void **state)
{
    struct fixture *fx = *state;
    struct session *c = console(fx, CONSOLE_A), *t = player(fx, "troll", "192.0.2.1");

    expect_error(fx, c, 2, "{\"type\":\"kick\",\"id\":2,\"name\":\"nobody\"}", "no_such_user",
                 NULL);
    json_decref(expect_ok_and_log(
        fx, c, 3, "{\"type\":\"kick\",\"id\":3,\"name\":\"troll\",\"reason\":\"spam\"}",
        "kick troll: spam"));
    expect_closed(fx, t, "kicked: spam");
    expect_empty(c);
}

static void test_admin_mute_with_reason_tells_the_player_and_silences_them(void **state)
{
    struct fixture *fx = *state;
    struct session *c = console(fx, CONSOLE_A), *p = player(fx, "loud", "192.0.2.1");
    const char *say = "{\"type\":\"say\",\"id\":9,\"room\":\"lobby\",\"text\":\"HELLO\"}";
    json_t *r;

    player_send(fx, p, "{\"type\":\"join\",\"id\":2,\"room\":\"lobby\"}");
    json_decref(expect_type(p, "ok"));
    expect_error(fx, c, 2, "{\"type\":\"mute\",\"id\":2,\"name\":\"loud\",\"minutes\":0}",
                 "bad_request", "minutes");
    r = expect_ok_and_log(
        fx, c, 3,
        "{\"type\":\"mute\",\"id\":3,\"name\":\"loud\",\"minutes\":5,\"reason\":\"caps\"}",
        "mute loud for 5 minutes: caps");
    assert_int_equal(num(r, "until"), START_MS + 5 * 60000);
    json_decref(r);

    r = expect_type(p, "muted");
    assert_int_equal(num(r, "until"), START_MS + 5 * 60000);
    assert_string_equal(str(r, "reason"), "caps");
    json_decref(r);
    player_send(fx, p, say);
    r = expect_type(p, "error");
    assert_string_equal(str(r, "code"), "not_allowed");
    json_decref(r);
    assert_false(p->closing); /* muted, not thrown out */

    fake_clock_advance(5 * 60000); /* the mute has run out */
    player_send(fx, p, say);
    json_decref(expect_type(p, "chat"));
}

static bool has_user(json_t *users, const char *name)
{
    for (size_t i = 0; i < json_array_size(users); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(users, i), "name")), name))
            return true;
    return false;
}

static void test_admin_users_filters_by_name_without_case(void **state)
{
    struct fixture *fx = *state;
    struct session *c = console(fx, CONSOLE_A), *a;
    json_t *r, *users, *u;

    a = player(fx, "alice", "192.0.2.1");
    player(fx, "Malin", "192.0.2.2");
    player(fx, "bob", "192.0.2.3");
    player_send(fx, a, "{\"type\":\"join\",\"id\":2,\"room\":\"lobby\"}");
    json_decref(expect_type(a, "ok"));

    r = expect_ok(fx, c, 2, "{\"type\":\"users\",\"id\":2}");
    assert_int_equal(json_array_size(json_object_get(r, "users")), 3);
    json_decref(r);

    r = expect_ok(fx, c, 3, "{\"type\":\"users\",\"id\":3,\"q\":\"LI\"}");
    users = json_object_get(r, "users");
    assert_int_equal(json_array_size(users), 2);
    assert_true(has_user(users, "alice") && has_user(users, "Malin"));
    for (size_t i = 0; i < 2; i++) {
        u = json_array_get(users, i);
        if (strcmp(str(u, "name"), "alice"))
            continue;
        assert_string_equal(str(u, "address"), "192.0.2.1");
        assert_int_equal(num(u, "since"), START_MS);
        assert_string_equal(json_string_value(json_array_get(json_object_get(u, "rooms"), 0)),
                            "lobby");
        assert_int_equal(num(u, "messages"), 0);
        assert_true(json_is_false(json_object_get(u, "account")));
        assert_true(json_is_false(json_object_get(u, "away")));
    }
    json_decref(r);

    r = expect_ok(fx, c, 4, "{\"type\":\"users\",\"id\":4,\"q\":\"zed\"}");
    assert_int_equal(json_array_size(json_object_get(r, "users")), 0);
    json_decref(r);
    expect_error(fx, c, 5, "{\"type\":\"users\",\"id\":5,\"q\":7}", "bad_request", "q");
}

/* What the node published to the cluster (srv->moderation_publish), as compact JSON. */
static char *published[8];
static int npublished;

static void record_published(struct server *srv, json_t *action)
{
    (void)srv;
    assert_true(npublished < 8);
    published[npublished++] = json_dumps(action, JSON_COMPACT | JSON_SORT_KEYS);
}

static void forget_published(void)
{
    for (int i = 0; i < npublished; i++)
        free(published[i]);
    npublished = 0;
}

static void test_admin_actions_are_published_once_in_a_cluster(void **state)
{
    struct fixture *fx = *state;
    struct session *c = console(fx, CONSOLE_A), *t = player(fx, "Troll", "192.0.2.1");
    json_t *r;

    fx->srv.moderation_publish = record_published;
    r = expect_ok_and_log(
        fx, c, 2,
        "{\"type\":\"ban\",\"id\":2,\"kind\":\"name\",\"target\":\"troll\",\"reason\":\"rude\"}",
        "ban name troll for ever: rude");
    json_decref(r);
    expect_closed(fx, t, "banned");
    assert_int_equal(npublished, 1);
    assert_string_equal(published[0], "{\"kind\":\"name\",\"op\":\"ban\",\"reason\":\"rude\","
                                      "\"target\":\"troll\",\"until\":null}");
    /* a name or room not on this node may be on another: sent on, and ok */
    json_decref(expect_ok_and_log(fx, c, 3, "{\"type\":\"kick\",\"id\":3,\"name\":\"elsewhere\"}",
                                  "kick elsewhere"));
    json_decref(expect_ok_and_log(fx, c, 4, "{\"type\":\"close_room\",\"id\":4,\"room\":\"r77\"}",
                                  "close room r77"));
    assert_int_equal(npublished, 3);
    assert_string_equal(published[1], "{\"name\":\"elsewhere\",\"op\":\"kick\",\"reason\":\"\"}");
    assert_string_equal(published[2], "{\"op\":\"close_room\",\"room\":\"r77\"}");
    /* refused requests publish nothing */
    expect_error(fx, c, 5, "{\"type\":\"close_room\",\"id\":5,\"room\":\"lobby\"}", "not_allowed",
                 NULL);
    assert_int_equal(npublished, 3);
    forget_published();
}

static void apply(struct fixture *fx, const char *json, int want)
{
    json_t *action = json_loads(json, 0, NULL);

    assert_non_null(action);
    assert_int_equal(actions_apply(&fx->srv, action), want);
    json_decref(action);
}

static void test_admin_an_action_from_another_node_applies_here_without_publishing(void **state)
{
    struct fixture *fx = *state;
    struct session *c = console(fx, CONSOLE_A);
    struct session *t = player(fx, "troll", "192.0.2.1"), *l = player(fx, "Loud", "192.0.2.2");
    json_t *m;

    fx->srv.moderation_publish = record_published;
    apply(fx,
          "{\"op\":\"ban\",\"kind\":\"name\",\"target\":\"TROLL\",\"until\":1795400600000,"
          "\"reason\":\"rude\"}",
          0);
    m = expect_type(t, "banned");
    assert_int_equal(num(m, "until"), 1795400600000LL);
    assert_string_equal(str(m, "reason"), "rude");
    json_decref(m);
    expect_closed(fx, t, "banned");
    assert_int_equal(bans_until(&fx->srv.bans, BAN_NAME, "troll", START_MS), 1795400600000LL);
    expect_log(c, "ban name TROLL (from another node): rude");

    apply(fx, "{\"op\":\"ban\",\"kind\":\"mute\",\"target\":\"loud\",\"until\":null}", 0);
    m = expect_type(l, "muted");
    assert_true(json_is_null(json_object_get(m, "until")));
    json_decref(m);
    expect_log(c, "mute loud (from another node)");
    apply(fx, "{\"op\":\"unban\",\"kind\":\"mute\",\"target\":\"loud\"}", 0);
    json_decref(expect_type(l, "unmuted"));
    expect_log(c, "unban mute loud (from another node)");

    apply(fx, "{\"op\":\"announce\",\"text\":\"hello all\"}", 0);
    m = expect_type(l, "announce");
    assert_string_equal(str(m, "text"), "hello all");
    json_decref(m);
    expect_log(c, "announce to 1 players (from another node): hello all");

    apply(fx, "{\"op\":\"kick\",\"name\":\"loud\",\"reason\":\"spam\"}", 0);
    expect_closed(fx, l, "kicked: spam");
    expect_log(c, "kick loud (from another node): spam");

    apply(fx, "{\"op\":\"explode\"}", -1);
    apply(fx, "{\"op\":\"ban\",\"kind\":\"nonsense\",\"target\":\"x\",\"until\":null}", -1);
    apply(fx, "{\"op\":\"delete_message\",\"room\":\"lobby\",\"seq\":0}", -1);
    assert_int_equal(npublished, 0); /* the node that was asked published it already */
    expect_empty(c);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_admin_right_token_signs_in_with_history_and_log),
        T(test_admin_wrong_token_and_requests_before_auth_close),
        T(test_admin_repeated_failures_lock_the_address_out),
        T(test_admin_announce_reaches_signed_in_players),
        T(test_admin_kick_closes_the_player_with_the_reason),
        T(test_admin_mute_with_reason_tells_the_player_and_silences_them),
        T(test_admin_users_filters_by_name_without_case),
        T(test_admin_actions_are_published_once_in_a_cluster),
        T(test_admin_an_action_from_another_node_applies_here_without_publishing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
