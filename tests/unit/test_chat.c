/*
 * Tests for the chat service (server/chat/chat.c with session.c and room.c): whole requests go in
 * as bytes, replies and events come out of the sessions' send queues, through a fake transport and
 * a fake clock. Covers sign-in, rooms, chat fan-out, whispers, rate limits, slow consumers and
 * every error code the service produces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chat.h"
#include "game.h"
#include "proto.h"
#include "qbank.h"
#include "room.h"
#include "server.h"
#include "session.h"

#include "fake_transport.h"

/* Three questions whose right answers are 0, 1 and 2. */
static struct quiz_question fake_questions[] = {
    {.id = 1, .text = "q0?", .choices = {"a", "b", "c", "d"}, .correct = 0},
    {.id = 2, .text = "q1?", .choices = {"a", "b", "c", "d"}, .correct = 1},
    {.id = 3, .text = "q2?", .choices = {"a", "b", "c", "d"}, .correct = 2},
};
static struct quiz_question *fake_question_ptrs[] = {&fake_questions[0], &fake_questions[1],
                                                     &fake_questions[2]};
static struct qbank fake_bank = {.qs = fake_question_ptrs, .n = 3, .cap = 3};

struct fixture {
    struct server srv;
    struct config cfg;
    struct fake_conn conns[8];
    struct session *s[8];
    int n;
};

static void default_config(struct config *cfg)
{
    char err[256];
    char *argv[] = {"parlor-server", NULL};

    assert_int_equal(config_parse(cfg, 1, argv, err, sizeof(err)), CONFIG_OK);
}

static struct fixture *fixture_new(const struct config *cfg)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    fx->cfg = *cfg;
    fake_transport_reset(1000000, NULL);
    assert_int_equal(server_init(&fx->srv, &fx->cfg, &fake_transport_ops, NULL), 0);
    fx->srv.wall_ms = fake_clock_ms;
    fx->srv.mono_ms = fake_clock_ms;
    fx->srv.bank = &fake_bank;
    return fx;
}

static int setup(void **state)
{
    struct config cfg;

    default_config(&cfg);
    *state = fixture_new(&cfg);
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
    chat_stop_timers(&fx->srv);
    server_destroy(&fx->srv);
    free(fx);
    return 0;
}

/* Pops the oldest queued message of `s` as JSON; fails the test when there is none. */
static json_t *next_msg(struct session *s)
{
    struct msgbuf *m = session_out_peek(s);
    json_error_t jerr;
    json_t *j;

    assert_non_null(m);
    j = json_loadb((const char *)msgbuf_payload(m), m->len, 0, &jerr);
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

    assert_true(json_is_string(v));
    return json_string_value(v);
}

static json_int_t num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static void send_text(struct fixture *fx, struct session *s, const char *text)
{
    chat_handle(&fx->srv, s, text, strlen(text));
}

/* Sends a request and checks that the next message is an ok echoing `id`; returns it. */
static json_t *expect_ok(struct fixture *fx, struct session *s, int id, const char *request)
{
    json_t *r;

    send_text(fx, s, request);
    r = next_msg(s);
    if (strcmp(str(r, "type"), "ok")) {
        char *dump = json_dumps(r, 0);
        fail_msg("expected ok for %s, got %s", request, dump);
    }
    assert_int_equal(num(r, "re"), id);
    return r;
}

/* Sends a request and checks for an error with `code` (and `re` = id, or null when id < 0). */
static void expect_error(struct fixture *fx, struct session *s, int id, const char *request,
                         const char *code)
{
    json_t *r;

    send_text(fx, s, request);
    r = next_msg(s);
    assert_string_equal(str(r, "type"), "error");
    assert_string_equal(str(r, "code"), code);
    assert_true(strlen(str(r, "message")) > 0);
    if (id < 0)
        assert_true(json_is_null(json_object_get(r, "re")));
    else
        assert_int_equal(num(r, "re"), id);
    json_decref(r);
}

/* Connects a new session and consumes its welcome. */
static struct session *connect_session(struct fixture *fx)
{
    struct session *s = session_new(&fx->srv, &fx->conns[fx->n]);
    json_t *w;

    assert_non_null(s);
    fx->s[fx->n++] = s;
    chat_session_opened(&fx->srv, s);
    w = next_msg(s);
    assert_string_equal(str(w, "type"), "welcome");
    json_decref(w);
    return s;
}

static struct session *signed_in(struct fixture *fx, const char *name)
{
    struct session *s = connect_session(fx);
    char req[128];

    snprintf(req, sizeof(req), "{\"type\":\"hello\",\"id\":1,\"name\":\"%s\"}", name);
    json_decref(expect_ok(fx, s, 1, req));
    return s;
}

static void disconnect(struct fixture *fx, struct session *s)
{
    for (int i = 0; i < fx->n; i++) {
        if (fx->s[i] == s) {
            chat_session_closed(&fx->srv, s);
            session_free(s);
            fx->s[i] = NULL;
        }
    }
}

static void join(struct fixture *fx, struct session *s, const char *room)
{
    char req[128];

    snprintf(req, sizeof(req), "{\"type\":\"join\",\"id\":5,\"room\":\"%s\"}", room);
    json_decref(expect_ok(fx, s, 5, req));
}

static void test_chat_welcome_carries_version_and_limits(void **state)
{
    struct fixture *fx = *state;
    struct session *s = session_new(&fx->srv, &fx->conns[0]);
    json_t *w, *limits;

    fx->s[fx->n++] = s;
    chat_session_opened(&fx->srv, s);
    assert_int_equal(fx->conns[0].want_writes, 1);
    w = next_msg(s);
    assert_string_equal(str(w, "type"), "welcome");
    assert_string_equal(str(w, "server"), "parlor/" PARLOR_VERSION);
    assert_int_equal(num(w, "protocol"), 1);
    limits = json_object_get(w, "limits");
    assert_int_equal(num(limits, "max_message"), 8192);
    assert_int_equal(num(limits, "text_max"), 1000);
    assert_int_equal(num(limits, "signin_timeout"), 10);
    json_decref(w);
}

static void test_chat_requests_before_hello_are_unauthorized(void **state)
{
    struct fixture *fx = *state;
    struct session *s = connect_session(fx);

    expect_error(fx, s, 1, "{\"type\":\"ping\",\"id\":1}", "unauthorized");
    expect_error(fx, s, 2, "{\"type\":\"rooms\",\"id\":2}", "unauthorized");
    expect_error(fx, s, 3, "{\"type\":\"join\",\"id\":3,\"room\":\"lobby\"}", "unauthorized");
    expect_error(fx, s, 4, "{\"type\":\"say\",\"id\":4,\"room\":\"lobby\",\"text\":\"x\"}",
                 "unauthorized");
    assert_int_equal(fx->srv.rooms.first->nmembers, 0);
}

static void test_chat_hello_claims_a_name_case_insensitively(void **state)
{
    struct fixture *fx = *state;
    struct session *a = connect_session(fx), *b = connect_session(fx);
    json_t *r = expect_ok(fx, a, 7, "{\"type\":\"hello\",\"id\":7,\"name\":\"Alice\"}");

    assert_string_equal(str(r, "name"), "Alice");
    json_decref(r);
    expect_error(fx, b, 8, "{\"type\":\"hello\",\"id\":8,\"name\":\"aLiCe\"}", "name_taken");
    expect_error(fx, a, 9, "{\"type\":\"hello\",\"id\":9,\"name\":\"other\"}", "not_allowed");
    assert_false(b->signed_in);

    /* the name is free again once its holder has gone */
    disconnect(fx, a);
    json_decref(expect_ok(fx, b, 10, "{\"type\":\"hello\",\"id\":10,\"name\":\"alice\"}"));
}

static void test_chat_decode_errors_are_replied_and_the_session_stays_usable(void **state)
{
    struct fixture *fx = *state;
    struct session *s = signed_in(fx, "bob");

    expect_error(fx, s, -1, "{not json", "bad_json");
    expect_error(fx, s, -1, "[1,2]", "bad_request");
    expect_error(fx, s, -1, "{\"type\":\"ping\",\"id\":\"x\"}", "bad_request");
    expect_error(fx, s, 4, "{\"type\":\"dance\",\"id\":4}", "unknown_type");
    expect_error(fx, s, 5, "{\"type\":\"say\",\"id\":5,\"room\":7,\"text\":\"x\"}", "bad_request");
    json_decref(expect_ok(fx, s, 6, "{\"type\":\"ping\",\"id\":6}"));
    assert_false(s->closing);
}

static void test_chat_join_tells_others_and_returns_members_and_history(void **state)
{
    struct fixture *fx = *state;
    struct session *a = signed_in(fx, "alice"), *b = signed_in(fx, "bob");
    json_t *r, *ev, *members;

    join(fx, a, "lobby");
    send_text(fx, a, "{\"type\":\"say\",\"id\":2,\"room\":\"lobby\",\"text\":\"hi\"}");
    json_decref(next_msg(a)); /* the chat event comes first */
    json_decref(next_msg(a)); /* then the ok */

    r = expect_ok(fx, b, 3, "{\"type\":\"join\",\"id\":3,\"room\":\"lobby\"}");
    assert_string_equal(str(json_object_get(r, "room"), "id"), "lobby");
    assert_int_equal(num(json_object_get(r, "room"), "members"), 2);
    members = json_object_get(r, "members");
    assert_int_equal(json_array_size(members), 2);
    assert_string_equal(json_string_value(json_array_get(members, 0)), "alice");
    assert_string_equal(json_string_value(json_array_get(members, 1)), "bob");
    assert_int_equal(json_array_size(json_object_get(r, "history")), 1);
    assert_string_equal(str(json_array_get(json_object_get(r, "history"), 0), "text"), "hi");
    json_decref(r);

    ev = next_msg(a);
    assert_string_equal(str(ev, "type"), "joined");
    assert_string_equal(str(ev, "room"), "lobby");
    assert_string_equal(str(ev, "name"), "bob");
    json_decref(ev);
    expect_empty(a);
    expect_empty(b);

    /* joining again succeeds without telling anyone */
    join(fx, b, "lobby");
    expect_empty(a);
}

static void test_chat_say_reaches_every_member_in_seq_order_and_acks_the_seq(void **state)
{
    struct fixture *fx = *state;
    struct session *a = signed_in(fx, "alice"), *b = signed_in(fx, "bob");
    struct session *c = signed_in(fx, "carol"); /* not in the room */
    json_t *ev, *ok;

    join(fx, a, "lobby");
    join(fx, b, "lobby");
    json_decref(next_msg(a)); /* joined bob */

    for (int i = 1; i <= 3; i++) {
        char req[128];
        snprintf(req, sizeof(req),
                 "{\"type\":\"say\",\"id\":%d,\"room\":\"lobby\",\"text\":\"m%d <b>\"}", 10 + i, i);
        send_text(fx, a, req);
        for (int k = 0; k < 2; k++) {
            struct session *who = k ? b : a;
            char text[16];
            ev = next_msg(who);
            assert_string_equal(str(ev, "type"), "chat");
            assert_string_equal(str(ev, "room"), "lobby");
            assert_string_equal(str(ev, "from"), "alice");
            snprintf(text, sizeof(text), "m%d <b>", i);
            assert_string_equal(str(ev, "text"), text);
            assert_int_equal(num(ev, "seq"), i);
            assert_int_equal(num(ev, "ts"), fake_clock_ms());
            json_decref(ev);
        }
        ok = next_msg(a);
        assert_string_equal(str(ok, "type"), "ok");
        assert_int_equal(num(ok, "re"), 10 + i);
        assert_int_equal(num(ok, "seq"), i);
        json_decref(ok);
        fake_clock_advance(1000); /* stay clear of the say rate limit */
    }
    expect_empty(b);
    expect_empty(c);
}

static void test_chat_room_errors(void **state)
{
    struct fixture *fx = *state;
    struct session *a = signed_in(fx, "alice");

    expect_error(fx, a, 1, "{\"type\":\"join\",\"id\":1,\"room\":\"nowhere\"}", "no_such_room");
    expect_error(fx, a, 2, "{\"type\":\"say\",\"id\":2,\"room\":\"nowhere\",\"text\":\"x\"}",
                 "no_such_room");
    expect_error(fx, a, 3, "{\"type\":\"say\",\"id\":3,\"room\":\"lobby\",\"text\":\"x\"}",
                 "not_in_room");
    expect_error(fx, a, 4, "{\"type\":\"leave\",\"id\":4,\"room\":\"lobby\"}", "not_in_room");
    expect_error(fx, a, 5, "{\"type\":\"leave\",\"id\":5,\"room\":\"r99\"}", "no_such_room");
}

static void test_chat_create_leave_and_room_removal(void **state)
{
    struct fixture *fx = *state;
    struct session *a = signed_in(fx, "alice"), *b = signed_in(fx, "bob");
    json_t *r, *ev;

    r = expect_ok(fx, a, 1, "{\"type\":\"create\",\"id\":1,\"name\":\"Quiz night\",\"max\":3}");
    assert_string_equal(str(json_object_get(r, "room"), "id"), "r1");
    assert_string_equal(str(json_object_get(r, "room"), "name"), "Quiz night");
    assert_int_equal(num(json_object_get(r, "room"), "max"), 3);
    assert_int_equal(num(json_object_get(r, "room"), "members"), 1);
    assert_true(json_is_null(json_object_get(json_object_get(r, "room"), "game")));
    json_decref(r);
    assert_int_equal(fx->srv.rooms.count, 2);

    join(fx, b, "r1");
    json_decref(next_msg(a)); /* joined */
    json_decref(expect_ok(fx, a, 2, "{\"type\":\"leave\",\"id\":2,\"room\":\"r1\"}"));
    ev = next_msg(b);
    assert_string_equal(str(ev, "type"), "left");
    assert_string_equal(str(ev, "name"), "alice");
    json_decref(ev);

    /* the last member leaving removes the room; the lobby is never removed */
    json_decref(expect_ok(fx, b, 3, "{\"type\":\"leave\",\"id\":3,\"room\":\"r1\"}"));
    assert_int_equal(fx->srv.rooms.count, 1);
    expect_error(fx, b, 4, "{\"type\":\"join\",\"id\":4,\"room\":\"r1\"}", "no_such_room");
    join(fx, b, "lobby");
    json_decref(expect_ok(fx, b, 6, "{\"type\":\"leave\",\"id\":6,\"room\":\"lobby\"}"));
    assert_non_null(room_find(&fx->srv.rooms, "lobby"));

    /* default max */
    r = expect_ok(fx, b, 7, "{\"type\":\"create\",\"id\":7,\"name\":\"x\"}");
    assert_int_equal(num(json_object_get(r, "room"), "max"), 50);
    assert_string_equal(str(json_object_get(r, "room"), "id"), "r2");
    json_decref(r);
}

static void test_chat_rooms_lists_lobby_first_then_creation_order(void **state)
{
    struct fixture *fx = *state;
    struct session *a = signed_in(fx, "alice");
    json_t *r, *list;

    json_decref(expect_ok(fx, a, 1, "{\"type\":\"create\",\"id\":1,\"name\":\"one\"}"));
    json_decref(expect_ok(fx, a, 2, "{\"type\":\"create\",\"id\":2,\"name\":\"two\"}"));
    r = expect_ok(fx, a, 3, "{\"type\":\"rooms\",\"id\":3}");
    list = json_object_get(r, "rooms");
    assert_int_equal(json_array_size(list), 3);
    assert_string_equal(str(json_array_get(list, 0), "id"), "lobby");
    assert_string_equal(str(json_array_get(list, 1), "name"), "one");
    assert_string_equal(str(json_array_get(list, 2), "name"), "two");
    assert_int_equal(num(json_array_get(list, 2), "members"), 1);
    json_decref(r);
}

static void test_chat_disconnect_leaves_every_room(void **state)
{
    struct fixture *fx = *state;
    struct session *a = signed_in(fx, "alice"), *b = signed_in(fx, "bob");
    json_t *ev;

    join(fx, a, "lobby");
    json_decref(expect_ok(fx, a, 1, "{\"type\":\"create\",\"id\":1,\"name\":\"side\"}"));
    join(fx, b, "lobby");
    join(fx, b, "r1");
    json_decref(next_msg(a)); /* joined lobby */
    json_decref(next_msg(a)); /* joined r1 */

    disconnect(fx, a);
    for (int i = 0; i < 2; i++) {
        ev = next_msg(b);
        assert_string_equal(str(ev, "type"), "left");
        assert_string_equal(str(ev, "name"), "alice");
        json_decref(ev);
    }
    assert_int_equal(fx->srv.rooms.first->nmembers, 1);
    assert_int_equal(room_find(&fx->srv.rooms, "r1")->nmembers, 1);
}

static void test_chat_whisper(void **state)
{
    struct fixture *fx = *state;
    struct session *a = signed_in(fx, "alice"), *b = signed_in(fx, "Bob");
    json_t *ev;

    ev = expect_ok(fx, a, 1, "{\"type\":\"whisper\",\"id\":1,\"to\":\"bob\",\"text\":\"psst\"}");
    assert_string_equal(str(ev, "to"), "Bob");
    json_decref(ev);
    ev = next_msg(b);
    assert_string_equal(str(ev, "type"), "whisper");
    assert_string_equal(str(ev, "from"), "alice");
    assert_string_equal(str(ev, "text"), "psst");
    assert_int_equal(num(ev, "ts"), fake_clock_ms());
    json_decref(ev);
    expect_empty(a);

    expect_error(fx, a, 2, "{\"type\":\"whisper\",\"id\":2,\"to\":\"nobody\",\"text\":\"x\"}",
                 "no_such_user");
    expect_error(fx, a, 3, "{\"type\":\"whisper\",\"id\":3,\"to\":\"not a name!\",\"text\":\"x\"}",
                 "no_such_user");
    expect_error(fx, a, 4, "{\"type\":\"whisper\",\"id\":4,\"to\":\"ALICE\",\"text\":\"x\"}",
                 "not_allowed");
}

static void test_chat_ping_reports_server_time(void **state)
{
    struct fixture *fx = *state;
    struct session *a = signed_in(fx, "alice");
    json_t *r = expect_ok(fx, a, 9, "{\"type\":\"ping\",\"id\":9}");

    assert_int_equal(num(r, "time"), fake_clock_ms());
    json_decref(r);
}

static void test_chat_history_keeps_the_last_n_messages(void **state)
{
    struct config cfg;
    struct fixture *fx;
    struct session *a, *b;
    json_t *r, *hist;

    default_config(&cfg);
    cfg.history = 3;
    cfg.say_per_sec = cfg.say_burst = 1000;
    *state = fx = fixture_new(&cfg);
    a = signed_in(fx, "alice");
    b = signed_in(fx, "bob");
    join(fx, a, "lobby");
    for (int i = 1; i <= 5; i++) {
        char req[128];
        snprintf(req, sizeof(req), "{\"type\":\"say\",\"room\":\"lobby\",\"text\":\"m%d\"}", i);
        send_text(fx, a, req);
    }
    r = expect_ok(fx, b, 5, "{\"type\":\"join\",\"id\":5,\"room\":\"lobby\"}");
    hist = json_object_get(r, "history");
    assert_int_equal(json_array_size(hist), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(num(json_array_get(hist, (size_t)i), "seq"), 3 + i);
    assert_string_equal(str(json_array_get(hist, 2), "text"), "m5");
    json_decref(r);
}

static void test_chat_capacity_limits(void **state)
{
    struct config cfg;
    struct fixture *fx;
    struct session *a, *b, *c;

    default_config(&cfg);
    cfg.lobby_max = 2;
    cfg.rooms_per_session = 2;
    cfg.max_rooms = 3;
    *state = fx = fixture_new(&cfg);
    a = signed_in(fx, "alice");
    b = signed_in(fx, "bob");
    c = signed_in(fx, "carol");

    join(fx, a, "lobby");
    join(fx, b, "lobby");
    json_decref(next_msg(a)); /* joined bob */
    expect_error(fx, c, 1, "{\"type\":\"join\",\"id\":1,\"room\":\"lobby\"}", "room_full");
    assert_int_equal(room_find(&fx->srv.rooms, "lobby")->nmembers, 2);

    json_decref(expect_ok(fx, a, 2, "{\"type\":\"create\",\"id\":2,\"name\":\"x\",\"max\":2}"));
    expect_error(fx, a, 3, "{\"type\":\"create\",\"id\":3,\"name\":\"y\"}", "not_allowed");
    json_decref(expect_ok(fx, c, 4, "{\"type\":\"create\",\"id\":4,\"name\":\"y\"}"));
    /* lobby + r1 + r2 = max_rooms */
    expect_error(fx, c, 5, "{\"type\":\"create\",\"id\":5,\"name\":\"z\"}", "server_busy");

    join(fx, c, "r1");
    expect_error(fx, b, 6, "{\"type\":\"join\",\"id\":6,\"room\":\"r1\"}", "room_full");
}

static void test_chat_rate_limit_refuses_then_recovers_then_closes(void **state)
{
    struct config cfg;
    struct fixture *fx;
    struct session *a;
    int64_t first_refusal;

    default_config(&cfg);
    cfg.rate_per_sec = 2;
    cfg.rate_burst = 2;
    cfg.rate_close_after = 3;
    *state = fx = fixture_new(&cfg);
    a = connect_session(fx);

    json_decref(expect_ok(fx, a, 1, "{\"type\":\"hello\",\"id\":1,\"name\":\"alice\"}"));
    json_decref(expect_ok(fx, a, 2, "{\"type\":\"ping\",\"id\":2}"));
    first_refusal = fake_clock_ms();
    expect_error(fx, a, 3, "{\"type\":\"ping\",\"id\":3}", "rate_limited");
    expect_error(fx, a, -1, "{broken", "rate_limited"); /* malformed input is not free */
    assert_int_equal(fx->srv.stats.rate_limited, 2);

    fake_clock_advance(500); /* one token back at 2/s */
    json_decref(expect_ok(fx, a, 4, "{\"type\":\"ping\",\"id\":4}"));
    expect_error(fx, a, 5, "{\"type\":\"ping\",\"id\":5}", "rate_limited");

    /* a client at 2.5x the rate gets some requests through, but is refused every second:
     * after rate_close_after (3) seconds of that it is closed with 1008 */
    for (int step = 0; step < 20 && !a->closing; step++) {
        fake_clock_advance(400);
        for (int k = 0; k < 2 && !a->closing; k++) {
            send_text(fx, a, "{\"type\":\"ping\"}");
            while (a->sendq.count)
                json_decref(next_msg(a));
        }
        if (fake_clock_ms() < first_refusal + 3000)
            assert_false(a->closing);
    }
    assert_true(a->closing);
    assert_int_equal(a->close_code, 1008);
    assert_string_equal(a->close_reason, "rate limit");
    assert_int_equal(fx->conns[0].close_requests, 1);
}

static void test_chat_say_has_its_own_stricter_bucket(void **state)
{
    struct fixture *fx = *state; /* defaults: say 5/s, burst 10 */
    struct session *a = signed_in(fx, "alice");
    int oks = 0, limited = 0;

    join(fx, a, "lobby");
    for (int i = 0; i < 12; i++) {
        json_t *r;
        send_text(fx, a, "{\"type\":\"say\",\"room\":\"lobby\",\"text\":\"x\"}");
        r = next_msg(a);
        if (!strcmp(str(r, "type"), "chat")) {
            json_decref(r);
            r = next_msg(a);
            assert_string_equal(str(r, "type"), "ok");
            oks++;
        } else {
            assert_string_equal(str(r, "code"), "rate_limited");
            limited++;
        }
        json_decref(r);
    }
    assert_int_equal(oks, 10);
    assert_int_equal(limited, 2);
    /* other requests still pass: the general bucket is larger */
    json_decref(expect_ok(fx, a, 1, "{\"type\":\"ping\",\"id\":1}"));
}

static void test_chat_slow_consumer_is_closed_and_others_keep_receiving(void **state)
{
    struct config cfg;
    struct fixture *fx;
    struct session *a, *slow, *c;

    default_config(&cfg);
    cfg.sendq_max_messages = 5;
    cfg.say_per_sec = cfg.say_burst = cfg.rate_per_sec = cfg.rate_burst = 1000;
    *state = fx = fixture_new(&cfg);
    a = signed_in(fx, "alice");
    slow = signed_in(fx, "slow");
    c = signed_in(fx, "carol");
    join(fx, a, "lobby");
    join(fx, slow, "lobby");
    join(fx, c, "lobby");
    while (a->sendq.count)
        json_decref(next_msg(a));
    while (c->sendq.count)
        json_decref(next_msg(c));

    /* `slow` never reads; a and c read after each message */
    for (int i = 1; i <= 10; i++) {
        send_text(fx, a, "{\"type\":\"say\",\"room\":\"lobby\",\"text\":\"x\"}");
        json_t *ev = next_msg(c);
        assert_int_equal(num(ev, "seq"), i);
        json_decref(ev);
        json_decref(next_msg(a)); /* chat */
        json_decref(next_msg(a)); /* ok */
    }
    assert_true(slow->closing);
    assert_int_equal(slow->close_code, 1008);
    assert_string_equal(slow->close_reason, "too slow");
    assert_int_equal(slow->sendq.count, 0); /* dropped, not kept */
    assert_int_equal(fx->srv.stats.sendq_overflows, 1);
    assert_false(a->closing);
    assert_false(c->closing);
}

static void test_chat_closing_session_ignores_input(void **state)
{
    struct fixture *fx = *state;
    struct session *a = signed_in(fx, "alice");

    session_close(a, 1008, "test");
    send_text(fx, a, "{\"type\":\"ping\",\"id\":1}");
    expect_empty(a);
    session_close(a, 1000, "again"); /* idempotent: first reason wins */
    assert_int_equal(a->close_code, 1008);
    assert_int_equal(fx->conns[0].close_requests, 1);
}

static void test_chat_close_all_closes_every_session(void **state)
{
    struct fixture *fx = *state;
    struct session *a = signed_in(fx, "alice"), *b = connect_session(fx);

    chat_close_all(&fx->srv, 1001, "server shutting down");
    assert_true(a->closing && b->closing);
    assert_int_equal(a->close_code, 1001);
    assert_string_equal(b->close_reason, "server shutting down");
}

/* Advances the fake clock to the pending timer that falls due first and fires it. */
static void fire_timer(void)
{
    assert_int_equal(fake_timers_fire_next(), 0);
}

/* The delay the one pending loop timer was scheduled with. */
static int64_t only_timer_us(void)
{
    assert_int_equal(fake_timers_pending(), 1);
    return fake_timers_next()->us;
}

/* The next message of `s` must be an event of `type`; returns it. */
static json_t *expect_event(struct session *s, const char *type)
{
    json_t *ev = next_msg(s);

    if (strcmp(str(ev, "type"), type)) {
        char *dump = json_dumps(ev, 0);
        fail_msg("expected %s, got %s", type, dump);
    }
    return ev;
}

static void drain(struct session *s)
{
    while (session_out_peek(s))
        json_decref(next_msg(s));
}

/* ann creates a 2-round, 10-second quiz room r1 that bob joins; both queues drained. */
static void quiz_table(struct fixture *fx, struct session **ann, struct session **bob)
{
    json_t *r;

    *ann = signed_in(fx, "ann");
    *bob = signed_in(fx, "bob");
    r = expect_ok(fx, *ann, 1,
                  "{\"type\":\"create\",\"id\":1,\"name\":\"Quiz\",\"game\":\"quiz\","
                  "\"rounds\":2,\"seconds\":10}");
    assert_string_equal(str(json_object_get(r, "room"), "game"), "quiz");
    assert_string_equal(str(json_object_get(r, "room"), "host"), "ann");
    assert_string_equal(str(json_object_get(r, "room"), "state"), "waiting");
    assert_int_equal(num(json_object_get(r, "room"), "max"), GAME_DEFAULT_MAX);
    json_decref(r);
    join(fx, *bob, "r1");
    drain(*ann);
}

/* The figures' games gauge, as the console and GET /metrics read it. */
static uint32_t games_gauge(struct fixture *fx)
{
    struct stats_counters c;

    server_read_counters(&fx->srv, &c);
    return c.games;
}

static void test_chat_quiz_plays_a_whole_game_on_timers(void **state)
{
    struct fixture *fx = *state;
    struct session *ann, *bob;
    json_t *ev, *scores;

    quiz_table(fx, &ann, &bob);
    expect_error(fx, bob, 2, "{\"type\":\"start\",\"id\":2,\"room\":\"r1\"}", "not_allowed");
    assert_int_equal(games_gauge(fx), 0);
    json_decref(expect_ok(fx, ann, 3, "{\"type\":\"start\",\"id\":3,\"room\":\"r1\"}"));
    assert_int_equal(games_gauge(fx), 1);
    json_decref(expect_event(ann, "game_started"));
    ev = expect_event(bob, "game_started");
    assert_int_equal(json_array_size(json_object_get(ev, "players")), 2);
    json_decref(ev);
    ev = expect_event(bob, "question");
    assert_int_equal(num(ev, "round"), 1);
    assert_int_equal(num(ev, "of"), 2);
    assert_int_equal(num(ev, "deadline"), fake_clock_ms() + 10000);
    assert_int_equal(json_array_size(json_object_get(ev, "choices")), 4);
    json_decref(ev);
    drain(ann);
    assert_int_equal(only_timer_us(), 10000000); /* the deadline, as a loop timer */
    expect_error(fx, ann, 4, "{\"type\":\"start\",\"id\":4,\"room\":\"r1\"}", "game_state");

    /* round 1: the deadline passes with one answer */
    int correct1 = -1;
    for (int i = 0; i < 3; i++) /* whichever question was drawn, answer it right */
        if (((struct game *)ann->srv->rooms.last->game)->quiz.questions[0] == &fake_questions[i])
            correct1 = fake_questions[i].correct;
    char req[128];
    fake_clock_advance(5000);
    snprintf(req, sizeof(req),
             "{\"type\":\"answer\",\"id\":5,\"room\":\"r1\",\"round\":1,\"choice\":%d}", correct1);
    json_decref(expect_ok(fx, ann, 5, req));
    fire_timer(); /* deadline */
    ev = expect_event(bob, "reveal");
    assert_int_equal(num(ev, "correct"), correct1);
    scores = json_object_get(ev, "scores");
    assert_string_equal(str(json_array_get(scores, 0), "name"), "ann");
    assert_int_equal(num(json_array_get(scores, 0), "delta"), 150);
    assert_int_equal(num(json_array_get(scores, 1), "delta"), 0);
    json_decref(ev);
    drain(ann);
    assert_int_equal(only_timer_us(), 3000000); /* the reveal pause */

    /* round 2 opens after the pause; both answer, so it reveals at once */
    fire_timer();
    ev = expect_event(bob, "question");
    assert_int_equal(num(ev, "round"), 2);
    json_decref(ev);
    drain(ann);
    expect_error(fx, bob, 6,
                 "{\"type\":\"answer\",\"id\":6,\"room\":\"r1\",\"round\":1,\"choice\":0}",
                 "game_state");
    json_decref(expect_ok(
        fx, bob, 7, "{\"type\":\"answer\",\"id\":7,\"room\":\"r1\",\"round\":2,\"choice\":0}"));
    json_decref(expect_ok(
        fx, ann, 8, "{\"type\":\"answer\",\"id\":8,\"room\":\"r1\",\"round\":2,\"choice\":3}"));
    json_decref(expect_event(ann, "reveal")); /* no waiting for the deadline */
    drain(bob);
    fire_timer(); /* the pause, then the end */
    ev = expect_event(bob, "game_over");
    assert_int_equal(json_array_size(json_object_get(ev, "ranking")), 2);
    assert_int_equal(num(json_array_get(json_object_get(ev, "ranking"), 0), "rank"), 1);
    json_decref(ev);
    drain(ann);
    assert_int_equal(fake_timers_pending(), 0);
    assert_int_equal(games_gauge(fx), 0);
    ev = expect_ok(fx, ann, 9, "{\"type\":\"rooms\",\"id\":9}");
    assert_string_equal(str(json_array_get(json_object_get(ev, "rooms"), 1), "state"), "waiting");
    json_decref(ev);
}

static void test_chat_quiz_joiner_watches_and_host_passes_on(void **state)
{
    struct fixture *fx = *state;
    struct session *ann, *bob, *cid;
    json_t *r, *game;

    quiz_table(fx, &ann, &bob);
    json_decref(expect_ok(fx, ann, 3, "{\"type\":\"start\",\"id\":3,\"room\":\"r1\"}"));
    drain(ann);
    drain(bob);
    cid = signed_in(fx, "cid");
    r = expect_ok(fx, cid, 4, "{\"type\":\"join\",\"id\":4,\"room\":\"r1\"}");
    game = json_object_get(r, "game");
    assert_non_null(game);
    assert_int_equal(num(game, "round"), 1);
    assert_string_equal(str(game, "phase"), "question");
    assert_int_equal(json_array_size(json_object_get(game, "players")), 2);
    assert_string_equal(str(json_object_get(r, "room"), "state"), "playing");
    json_decref(r);
    expect_error(fx, cid, 5,
                 "{\"type\":\"answer\",\"id\":5,\"room\":\"r1\",\"round\":1,\"choice\":0}",
                 "not_allowed");
    drain(ann);
    drain(bob);

    /* the host leaves mid-game: bob is host now, and the game waits only for bob */
    json_decref(expect_ok(fx, ann, 6, "{\"type\":\"leave\",\"id\":6,\"room\":\"r1\"}"));
    json_decref(expect_event(bob, "left"));
    r = expect_event(bob, "host");
    assert_string_equal(str(r, "name"), "bob");
    json_decref(r);
    json_decref(expect_ok(
        fx, bob, 7, "{\"type\":\"answer\",\"id\":7,\"room\":\"r1\",\"round\":1,\"choice\":1}"));
    json_decref(expect_event(bob, "reveal"));
}

/* Forgets `s` in the fixture: something else (a grace timer, a rejoin) freed it. */
static void forget(struct fixture *fx, struct session *s)
{
    for (int i = 0; i < fx->n; i++)
        if (fx->s[i] == s)
            fx->s[i] = NULL;
}

static const char answer_r1[] =
    "{\"type\":\"answer\",\"id\":9,\"room\":\"r1\",\"round\":1,\"choice\":0}";

static void test_chat_quiz_a_player_who_left_comes_back_as_a_watcher(void **state)
{
    struct fixture *fx = *state;
    struct session *ann, *bob, *bob2;

    quiz_table(fx, &ann, &bob);
    json_decref(expect_ok(fx, ann, 3, "{\"type\":\"start\",\"id\":3,\"room\":\"r1\"}"));
    drain(ann);
    drain(bob);

    /* bob leaves the room, closes his connection, and comes back under the same name with a
     * new one (hello + join): the seat was not his to keep, so he watches */
    json_decref(expect_ok(fx, bob, 6, "{\"type\":\"leave\",\"id\":6,\"room\":\"r1\"}"));
    disconnect(fx, bob);
    bob2 = signed_in(fx, "bob");
    join(fx, bob2, "r1");
    drain(ann);
    expect_error(fx, bob2, 9, answer_r1, "not_allowed");

    /* nor does leaving and joining again on the same connection give a seat back */
    json_decref(expect_ok(fx, ann, 6, "{\"type\":\"leave\",\"id\":6,\"room\":\"r1\"}"));
    join(fx, ann, "r1");
    drain(ann);
    expect_error(fx, ann, 9, answer_r1, "not_allowed");
}

static void test_chat_quiz_a_resumed_player_keeps_the_seat(void **state)
{
    struct fixture *fx = *state;
    struct session *ann, *bob, *back;
    struct proto_req resume = {.type = PROTO_RESUME, .re = {.has_id = true, .id = 2}};
    json_t *r, *ev;

    quiz_table(fx, &ann, &bob);
    json_decref(expect_ok(fx, ann, 3, "{\"type\":\"start\",\"id\":3,\"room\":\"r1\"}"));
    drain(ann);
    drain(bob);

    /* bob's network drops; he resumes on a new connection, a new session */
    assert_true(chat_session_dropped(&fx->srv, bob));
    back = connect_session(fx);
    assert_int_not_equal(back->id, bob->id);
    chat_rejoin(&fx->srv, back, bob, &resume, NULL);
    forget(fx, bob); /* chat_rejoin freed it */
    r = next_msg(back);
    assert_string_equal(str(r, "type"), "ok");
    assert_int_equal(num(r, "re"), 2);
    assert_true(json_is_true(json_object_get(r, "rejoined")));
    json_decref(r);
    json_decref(expect_event(back, "game"));
    drain(back);

    /* the seat moved to the new session: bob answers, and with ann's answer the round is
     * complete */
    json_decref(expect_ok(fx, back, 9, answer_r1));
    json_decref(expect_ok(fx, ann, 9, answer_r1));
    ev = expect_event(back, "reveal");
    assert_int_equal(json_array_size(json_object_get(ev, "scores")), 2);
    json_decref(ev);
}

static void test_chat_quiz_room_emptying_stops_the_game(void **state)
{
    struct fixture *fx = *state;
    struct session *ann, *bob;

    quiz_table(fx, &ann, &bob);
    json_decref(expect_ok(fx, ann, 3, "{\"type\":\"start\",\"id\":3,\"room\":\"r1\"}"));
    assert_int_equal(fake_timers_pending(), 1);
    assert_int_equal(games_gauge(fx), 1);
    disconnect(fx, bob);
    assert_int_equal(fake_timers_pending(), 1); /* ann still plays */
    disconnect(fx, ann);
    assert_int_equal(fake_timers_pending(), 0); /* timer cancelled with the game */
    assert_int_equal(games_gauge(fx), 0);
    assert_null(room_find(&fx->srv.rooms, "r1"));
}

static void test_chat_quiz_requests_in_the_wrong_place(void **state)
{
    struct fixture *fx = *state;
    struct session *ann = signed_in(fx, "ann");

    join(fx, ann, "lobby");
    expect_error(fx, ann, 1, "{\"type\":\"start\",\"id\":1,\"room\":\"lobby\"}", "game_state");
    expect_error(fx, ann, 2,
                 "{\"type\":\"answer\",\"id\":2,\"room\":\"lobby\",\"round\":1,\"choice\":0}",
                 "game_state");
    expect_error(fx, ann, 3, "{\"type\":\"start\",\"id\":3,\"room\":\"r9\"}", "no_such_room");
    json_decref(expect_ok(fx, ann, 4,
                          "{\"type\":\"create\",\"id\":4,\"name\":\"Q\",\"game\":\"quiz\","
                          "\"rounds\":5}"));
    /* five rounds, three questions in the bank */
    expect_error(fx, ann, 5, "{\"type\":\"start\",\"id\":5,\"room\":\"r1\"}", "game_state");
    expect_error(fx, ann, 6,
                 "{\"type\":\"answer\",\"id\":6,\"room\":\"r1\",\"round\":1,\"choice\":0}",
                 "game_state");
}

static void test_chat_dropped_session_waits_out_its_grace_then_leaves(void **state)
{
    struct fixture *fx = *state;
    struct session *a = signed_in(fx, "alice"), *b = signed_in(fx, "bob");
    json_t *ev;

    join(fx, a, "lobby");
    join(fx, b, "lobby");
    drain(a);
    assert_true(chat_session_dropped(&fx->srv, b)); /* no close frame: kept */
    assert_true(b->detached);
    assert_null(b->conn);
    assert_int_equal(only_timer_us(), 30 * 1000000);
    expect_empty(a); /* nobody is told yet */
    /* the seat and the name are held */
    assert_ptr_equal(session_by_name(&fx->srv, "bob"), b);
    send_text(fx, a, "{\"type\":\"say\",\"room\":\"lobby\",\"text\":\"hi\"}");
    assert_int_equal(b->sendq.count, 0); /* nothing queues for a detached session */
    drain(a);

    for (int i = 0; i < fx->n; i++) /* the grace timer frees it: the fixture must not */
        if (fx->s[i] == b)
            fx->s[i] = NULL;
    fire_timer();
    ev = expect_event(a, "left");
    assert_string_equal(str(ev, "name"), "bob");
    json_decref(ev);
    assert_null(session_by_name(&fx->srv, "bob"));
}

static void test_chat_clean_close_and_guests_without_grace_leave_at_once(void **state)
{
    struct fixture *fx = *state;
    struct session *a = signed_in(fx, "alice"), *b = signed_in(fx, "bob");
    struct session *c = connect_session(fx);

    b->peer_closed = true; /* the client sent a close frame */
    assert_false(chat_session_dropped(&fx->srv, b));
    assert_false(chat_session_dropped(&fx->srv, c)); /* never signed in */
    fx->srv.cfg.rejoin_seconds = 0;
    assert_false(chat_session_dropped(&fx->srv, a));
    assert_int_equal(fake_timers_pending(), 0);
}

/* Above presence_max, arrivals and departures are summed up in one `presence` event a second
 * instead of one event per member per change; at or below it again, the event lists every name. */
static void test_chat_big_rooms_count_presence_instead_of_announcing(void **state)
{
    struct config cfg;
    struct fixture *fx;
    struct session *a, *b, *c, *d;
    json_t *r, *ev;

    default_config(&cfg);
    cfg.presence_max = 2;
    *state = fx = fixture_new(&cfg);
    a = signed_in(fx, "alice");
    b = signed_in(fx, "bob");
    c = signed_in(fx, "carol");
    d = signed_in(fx, "dave");
    join(fx, a, "lobby");
    join(fx, b, "lobby");
    json_decref(expect_event(a, "joined")); /* two members: still announced */
    assert_int_equal(fake_timers_pending(), 0);

    /* the third member: nobody is told at once, and the reply lists the first two only */
    r = expect_ok(fx, c, 7, "{\"type\":\"join\",\"id\":7,\"room\":\"lobby\"}");
    assert_int_equal(num(json_object_get(r, "room"), "members"), 3);
    assert_int_equal(json_array_size(json_object_get(r, "members")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(r, "members"), 1)), "bob");
    json_decref(r);
    expect_empty(a);
    expect_empty(b);
    assert_int_equal(fake_timers_pending(), 1);
    assert_int_equal(only_timer_us(), 1000000);

    /* more changes within the second ride on the same timer */
    join(fx, d, "lobby");
    disconnect(fx, c);
    expect_empty(a);
    fire_timer();
    for (int i = 0; i < 2; i++) {
        ev = expect_event(i ? d : a, "presence");
        assert_string_equal(str(ev, "room"), "lobby");
        assert_int_equal(num(ev, "members"), 3);
        assert_null(json_object_get(ev, "names")); /* still above the threshold */
        json_decref(ev);
    }
    json_decref(expect_event(b, "presence"));
    assert_int_equal(fake_timers_pending(), 0);

    /* back down to two: one presence with the full list, then joined/left again */
    disconnect(fx, d);
    expect_empty(a);
    fire_timer();
    ev = expect_event(a, "presence");
    assert_int_equal(num(ev, "members"), 2);
    assert_int_equal(json_array_size(json_object_get(ev, "names")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(ev, "names"), 0)),
                        "alice");
    json_decref(ev);
    json_decref(expect_event(b, "presence"));
    disconnect(fx, b);
    ev = expect_event(a, "left");
    assert_string_equal(str(ev, "name"), "bob");
    json_decref(ev);
    assert_int_equal(fake_timers_pending(), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
/* tests that build their own fixture still need the teardown; their setup is a no-op */
static int no_setup(void **state)
{
    return 0;
}
#define TC(fn) cmocka_unit_test_setup_teardown(fn, no_setup, teardown)

/* A queue over a soft limit stops the connection being read; back under it, reading resumes
 * and the timer is off; staying over until the timer fires closes it as too slow. */
static void test_chat_soft_limit_pauses_reading_then_closes(void **state)
{
    struct config cfg;
    struct fixture *fx;
    struct session *a;
    struct fake_conn *conn;

    default_config(&cfg);
    cfg.sendq_soft_messages = 3;
    cfg.sendq_soft_seconds = 2;
    cfg.rate_per_sec = cfg.rate_burst = 1000;
    *state = fx = fixture_new(&cfg);
    a = signed_in(fx, "alice");
    conn = a->conn;
    for (int i = 0; i < 3; i++)
        send_text(fx, a, "{\"type\":\"ping\"}");
    assert_false(conn->paused); /* at the limit, not over it */
    assert_int_equal(fake_timers_pending(), 0);
    send_text(fx, a, "{\"type\":\"ping\"}");
    assert_true(conn->paused);
    assert_int_equal(only_timer_us(), 2000000);
    assert_non_null(fake_timers_find(&a->soft_sul));
    json_decref(next_msg(a)); /* read one: back at the limit */
    assert_false(conn->paused);
    assert_int_equal(fake_timers_pending(), 0);
    assert_false(a->closing);

    send_text(fx, a, "{\"type\":\"ping\"}");
    assert_true(conn->paused);
    assert_int_equal(fake_timers_fire(&a->soft_sul), 0); /* two seconds later, still over */
    assert_true(a->closing);
    assert_int_equal(a->close_code, 1008);
    assert_string_equal(a->close_reason, "too slow");
    assert_null(session_out_peek(a)); /* dropped, not written */
    assert_int_equal(fx->srv.stats.sendq_overflows, 1);
}

/* Sends `n` says of `from` to `room` and reads `from`'s chat and ok for each. */
static void say_n(struct fixture *fx, struct session *from, const char *room, int n)
{
    char req[128];

    for (int i = 0; i < n; i++) {
        snprintf(req, sizeof(req), "{\"type\":\"say\",\"room\":\"%s\",\"text\":\"m%d\"}", room, i);
        send_text(fx, from, req);
        json_decref(next_msg(from));
        json_decref(next_msg(from));
    }
}

/* A resume in two rooms: the ok reports what is replayed; the replay follows the ok and comes
 * before anything queued after the resume, and it never counts against the queue's limits. */
static void test_chat_resume_replays_after_the_ok_outside_the_limits(void **state)
{
    struct config cfg;
    struct fixture *fx;
    struct session *ann, *bob, *back;
    struct proto_req resume = {.type = PROTO_RESUME, .re = {.has_id = true, .id = 2}};
    json_t *r, *rep, *ev;

    default_config(&cfg);
    cfg.sendq_max_messages = 5;
    cfg.sendq_soft_messages = 5;
    cfg.resume_replay = 8;
    cfg.history = 4;
    cfg.say_per_sec = cfg.say_burst = cfg.rate_per_sec = cfg.rate_burst = 1000;
    *state = fx = fixture_new(&cfg);
    ann = signed_in(fx, "ann");
    bob = signed_in(fx, "bob");
    join(fx, ann, "lobby");
    json_decref(expect_ok(fx, ann, 3, "{\"type\":\"create\",\"id\":3,\"name\":\"side\"}"));
    join(fx, bob, "lobby");
    json_decref(expect_ok(fx, bob, 4, "{\"type\":\"join\",\"id\":4,\"room\":\"r1\"}"));
    drain(ann);
    say_n(fx, ann, "lobby", 2); /* bob saw seqs 1 and 2 */
    drain(bob);
    assert_true(chat_session_dropped(&fx->srv, bob));
    say_n(fx, ann, "lobby", 10); /* seqs 3..12: the ring keeps 8, 3 and 4 are lost */
    say_n(fx, ann, "r1", 3);     /* seqs 1..3 */

    back = connect_session(fx);
    resume.seen = json_pack("{s:i, s:i}", "lobby", 2, "r1", 0);
    chat_rejoin(&fx->srv, back, bob, &resume, NULL);
    json_decref(resume.seen);
    forget(fx, bob);
    /* something live queued while the replay waits: it must come after it */
    say_n(fx, ann, "r1", 1);

    r = next_msg(back);
    assert_string_equal(str(r, "type"), "ok");
    rep = json_object_get(r, "replay");
    assert_int_equal(num(json_object_get(rep, "lobby"), "count"), 8);
    assert_int_equal(num(json_object_get(rep, "lobby"), "from"), 5);
    assert_int_equal(num(json_object_get(rep, "lobby"), "to"), 12);
    assert_true(json_is_false(json_object_get(json_object_get(rep, "lobby"), "recovered")));
    assert_int_equal(num(json_object_get(rep, "r1"), "count"), 3);
    assert_true(json_is_true(json_object_get(json_object_get(rep, "r1"), "recovered")));
    json_decref(r);
    for (int seq = 5; seq <= 12; seq++) {
        ev = expect_event(back, "chat");
        assert_string_equal(str(ev, "room"), "lobby");
        assert_int_equal(num(ev, "seq"), seq);
        json_decref(ev);
    }
    for (int seq = 1; seq <= 4; seq++) { /* the replay, then the live one */
        ev = expect_event(back, "chat");
        assert_string_equal(str(ev, "room"), "r1");
        assert_int_equal(num(ev, "seq"), seq);
        json_decref(ev);
    }
    expect_empty(back);
    assert_false(back->closing); /* 12 messages through a queue of 5 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_chat_welcome_carries_version_and_limits),
        T(test_chat_requests_before_hello_are_unauthorized),
        T(test_chat_hello_claims_a_name_case_insensitively),
        T(test_chat_decode_errors_are_replied_and_the_session_stays_usable),
        T(test_chat_join_tells_others_and_returns_members_and_history),
        T(test_chat_say_reaches_every_member_in_seq_order_and_acks_the_seq),
        T(test_chat_room_errors),
        T(test_chat_create_leave_and_room_removal),
        T(test_chat_rooms_lists_lobby_first_then_creation_order),
        T(test_chat_disconnect_leaves_every_room),
        T(test_chat_whisper),
        T(test_chat_ping_reports_server_time),
        TC(test_chat_history_keeps_the_last_n_messages),
        TC(test_chat_capacity_limits),
        TC(test_chat_rate_limit_refuses_then_recovers_then_closes),
        T(test_chat_say_has_its_own_stricter_bucket),
        TC(test_chat_slow_consumer_is_closed_and_others_keep_receiving),
        T(test_chat_closing_session_ignores_input),
        T(test_chat_close_all_closes_every_session),
        T(test_chat_quiz_plays_a_whole_game_on_timers),
        T(test_chat_quiz_joiner_watches_and_host_passes_on),
        T(test_chat_quiz_a_player_who_left_comes_back_as_a_watcher),
        T(test_chat_quiz_a_resumed_player_keeps_the_seat),
        TC(test_chat_soft_limit_pauses_reading_then_closes),
        TC(test_chat_resume_replays_after_the_ok_outside_the_limits),
        T(test_chat_quiz_room_emptying_stops_the_game),
        T(test_chat_quiz_requests_in_the_wrong_place),
        T(test_chat_dropped_session_waits_out_its_grace_then_leaves),
        T(test_chat_clean_close_and_guests_without_grace_leave_at_once),
        TC(test_chat_big_rooms_count_presence_instead_of_announcing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
