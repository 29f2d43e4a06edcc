/*
 * libFuzzer target over the protocol decoder and the request dispatcher: a frame's bytes go
 * in through chat_handle, the replies come out of the sessions' send queues, with the unit
 * tests' fake transport, fake loop timers and fake clock (tests/unit/support/fake_transport.h)
 * and no sockets. Each input builds a fresh server (no chatlog, no accounts, no pool;
 * a small question bank so that quiz games run) and tears it down, so a leak of any input is
 * caught.
 *
 * An input is a script of lines separated by '\n'. Each line is one text frame sent by the
 * current client, except these directives:
 *   #1, #2      make client 1 or 2 the sender of the following frames (1 at the start)
 *   #close      the sender closes its connection (a close frame); its next frame comes from a
 *               new connection
 *   #drop       the sender's connection drops without a close frame: a signed-in session is
 *               kept for a rejoin until its grace period ends (a timer)
 *   #hold       the sender stops (or resumes) reading, so its send queue fills up
 *   #wait N     N more milliseconds pass (the clock also moves 10 ms per frame); the timers
 *               that fall due meanwhile (quiz deadlines and pauses, rejoin grace) run in order
 *   #admin      the sender's connections become operator consoles (parlor-admin.v1, token
 *               "fuzz-token"), or players again; its current connection closes
 *   #resume     the sender sends `resume` with the last token it was given (a guest's, from
 *               hello): after #drop, its new connection takes the kept session back. Tokens
 *               are MACs the fuzzer could not forge, hence the directive
 * Accounts exist (guest tokens, resume) but hash nothing: register and login are refused as
 * busy, so no pool is needed.
 * A client connects (and is greeted) before its first frame. A frame over max_message, or one
 * sent after the server asked to close the connection, ends the connection as ws.c would.
 *
 * FUZZ_DISPATCH_TRACE=1 in the environment prints the conversation to stderr (client 1 or 2,
 * '>' for a frame, '<' for a message), e.g. to read what a crashing input does:
 *   FUZZ_DISPATCH_TRACE=1 build/fuzz/fuzz_dispatch crash-<sha1>
 *
 * Besides the sanitizers, it checks what the protocol promises: every message sent is a JSON
 * object with a string "type", and every frame of an open connection gets exactly one reply
 * ("ok" or "error") unless the server closes that connection.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "accounts.h"
#include "admin.h"
#include "chat.h"
#include "config.h"
#include "log.h"
#include "msgbuf.h"
#include "qbank.h"
#include "sendq.h"
#include "server.h"
#include "session.h"

#include "fake_transport.h"

#define CLIENTS       2
#define FRAME_STEP_MS 10               /* the clock's advance per frame */
#define WAIT_MAX_MS   (86400LL * 1000) /* the longest #wait */
#define START_MS      1795400000000LL

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct client {
    struct session *s; /* NULL while not connected */
    struct fake_conn conn;
    bool held;                  /* not reading: its queue is not drained */
    bool admin;                 /* connects as an operator console */
    char token[AUTH_TOKEN_MAX]; /* the last token it was sent */
};

struct run {
    struct server srv;
    struct accounts acc;
    struct client clients[CLIENTS];
    int cur; /* index of the sender */
};

static struct config fuzz_cfg;
static const uint8_t fuzz_key[AUTH_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8}; /* tokens' MAC key */
static bool trace;

/* The question bank: five questions (so a game of more rounds is refused), one not ASCII. */
static struct qbank fake_bank;
/* The bank the games draw from: a few questions, one of them in Cyrillic. */
static const struct {
    const char *category, *text, *choices, *lang;
    int correct;
} fake_questions[] = {
    {"c", "q0?", "[\"a\",\"b\",\"c\",\"d\"]", "en", 0},
    {"c", "q1?", "[\"a\",\"b\",\"c\",\"d\"]", NULL, 1},
    {"c", "q2?", "[\"a\",\"b\",\"c\",\"d\"]", "en", 2},
    {"c", "q3?", "[\"a\",\"b\",\"c\",\"d\"]", NULL, 3},
    {"\u0447", "\u0432\u043e\u043f\u0440\u043e\u0441?",
     "[\"\u0434\u0430\",\"\u043d\u0435\u0442\",\"?\",\"!\"]", "ru", 1},
};

/* Reports a broken promise of the protocol; libFuzzer saves the input. */
static void fail(const char *what, struct msgbuf *m)
{
    fprintf(stderr, "fuzz_dispatch: %s", what);
    if (m)
        fprintf(stderr, ": %.*s", (int)(m->len > 2000 ? 2000 : m->len),
                (const char *)msgbuf_payload(m));
    fprintf(stderr, "\n");
    abort();
}

/* True for a reply (ok or error); fails the run on a message that is not a JSON object with a
 * string "type". A token in it is kept in `token` (when not NULL) for #resume. */
static bool is_reply(struct msgbuf *m, char *token)
{
    json_error_t jerr;
    json_t *j = json_loadb((const char *)msgbuf_payload(m), m->len, 0, &jerr);
    json_t *type = json_object_get(j, "type");
    const char *t = json_string_value(json_object_get(j, "token"));
    bool reply;

    if (!json_is_object(j) || !json_is_string(type))
        fail("a message that is not a JSON object with a string type", m);
    reply = !strcmp(json_string_value(type), "ok") || !strcmp(json_string_value(type), "error");
    if (token && t && strlen(t) < AUTH_TOKEN_MAX)
        strcpy(token, t);
    json_decref(j);
    return reply;
}

/* Replies waiting in a queue (there are some only while the client is held). */
static int count_replies(const struct sendq *q)
{
    int n = 0;

    for (size_t i = 0; i < q->count; i++)
        n += is_reply(q->ring[(q->head + i) % q->cap], NULL);
    return n;
}

/* Reads what a client was sent, as a client that keeps up would. */
static void drain(struct run *r, struct client *c)
{
    struct msgbuf *m;

    if (!c->s || c->held)
        return;
    while ((m = sendq_peek(&c->s->sendq))) {
        is_reply(m, c->token);
        if (trace)
            fprintf(stderr, "%d< %.*s\n", (int)(c - r->clients) + 1, (int)m->len,
                    (const char *)msgbuf_payload(m));
        sendq_pop(&c->s->sendq);
    }
}

static void drain_all(struct run *r)
{
    for (int i = 0; i < CLIENTS; i++)
        drain(r, &r->clients[i]);
}

/* The connection is gone: what ws.c does on LWS_CALLBACK_CLOSED, after a close frame
 * (`dropped` false) or without one. */
static void end_connection(struct run *r, struct client *c, bool dropped)
{
    if (!c->s)
        return;
    if (dropped && chat_session_dropped(&r->srv, c->s)) {
        if (trace)
            fprintf(stderr, "%d  dropped, kept for a rejoin\n", (int)(c - r->clients) + 1);
        c->s = NULL; /* the server owns it now */
        c->held = false;
        return;
    }
    if (trace)
        fprintf(stderr, "%d  disconnected%s\n", (int)(c - r->clients) + 1,
                c->s->closing ? " (closed by the server)" : "");
    chat_session_closed(&r->srv, c->s);
    session_free(c->s);
    c->s = NULL;
    c->held = false;
}

static void disconnect(struct run *r, struct client *c)
{
    end_connection(r, c, false);
}

static bool connect_client(struct run *r, struct client *c)
{
    memset(&c->conn, 0, sizeof(c->conn));
    c->held = false;
    c->s = session_new(&r->srv, &c->conn);
    if (!c->s)
        return false;
    c->s->admin = c->admin;
    chat_session_opened(&r->srv, c->s);
    drain(r, c);
    return true;
}

static void send_frame(struct run *r, const char *buf, size_t len)
{
    struct client *c = &r->clients[r->cur];
    char *copy;
    int before;

    /* the transport stops reading a connection it was asked to close, then drops it */
    if (c->s && c->s->closing)
        disconnect(r, c);
    if (!c->s && !connect_client(r, c))
        return;
    fake_clock_advance(FRAME_STEP_MS);
    if (len > (size_t)r->srv.cfg.max_message) {
        /* ws.c closes with 1009 by itself: to the chat service the connection just ends */
        end_connection(r, c, true);
        return;
    }
    /* a copy of exactly the frame's size, so that ASan sees any read past its end */
    copy = malloc(len ? len : 1);
    if (!copy)
        abort();
    memcpy(copy, buf, len);
    if (trace)
        fprintf(stderr, "%d> %.*s\n", r->cur + 1, (int)(len > 300 ? 300 : len), buf);
    before = count_replies(&c->s->sendq);
    if (c->s->admin) /* as ws.c dispatches */
        admin_handle(&r->srv, c->s, copy, len);
    else
        chat_handle(&r->srv, c->s, copy, len);
    free(copy);
    if (!c->s->closing && count_replies(&c->s->sendq) != before + 1)
        fail("a frame did not get exactly one reply", NULL);
}

/* Carries out a directive line; false when the line is a frame. */
static bool directive(struct run *r, const char *line, size_t len)
{
    struct client *c = &r->clients[r->cur];
    char num[16];

    if (len == 2 && line[0] == '#' && (line[1] == '1' || line[1] == '2')) {
        r->cur = line[1] - '1';
    } else if (len == 6 && !memcmp(line, "#close", 6)) {
        disconnect(r, c);
    } else if (len == 5 && !memcmp(line, "#drop", 5)) {
        end_connection(r, c, true);
    } else if (len == 6 && !memcmp(line, "#admin", 6)) {
        disconnect(r, c);
        c->admin = !c->admin;
    } else if (len == 7 && !memcmp(line, "#resume", 7)) {
        char frame[AUTH_TOKEN_MAX + 64];
        int n = snprintf(frame, sizeof(frame), "{\"type\":\"resume\",\"id\":9,\"token\":\"%s\"}",
                         c->token);
        send_frame(r, frame, (size_t)n);
    } else if (len == 5 && !memcmp(line, "#hold", 5)) {
        if (c->s)
            c->held = !c->held;
    } else if (len > 6 && len < 6 + sizeof(num) && !memcmp(line, "#wait ", 6)) {
        long long ms;
        char *end;

        memcpy(num, line + 6, len - 6);
        num[len - 6] = '\0';
        ms = strtoll(num, &end, 10);
        if (*end || ms < 0 || ms > WAIT_MAX_MS)
            return false;
        fake_clock_advance(ms);
    } else {
        return false;
    }
    return true;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    /* Production limits on names and texts; smaller counts (rooms, history, queues, rounds)
     * so that the fuzzer reaches each limit within a few hundred frames. */
    char *args[] = {"fuzz_dispatch",
                    "--max-rooms",
                    "6",
                    "--rooms-per-session",
                    "4",
                    "--history",
                    "8",
                    "--room-max-limit",
                    "8",
                    "--room-max-default",
                    "2",
                    "--rate-close-after",
                    "2",
                    "--sendq-max-messages",
                    "24",
                    "--sendq-max-bytes",
                    "4096",
                    "--quiz-max-rounds",
                    "8",
                    "--quiz-max-seconds",
                    "30",
                    "--presence-max", /* two members are a big room: presence timers run */
                    "1",
                    "--admin-token",
                    "fuzz-token",
                    NULL};
    char err[256];

    if (config_parse(&fuzz_cfg, (int)(sizeof(args) / sizeof(args[0])) - 1, args, err,
                     sizeof(err)) != CONFIG_OK) {
        fprintf(stderr, "fuzz_dispatch: %s\n", err);
        abort();
    }
    for (size_t i = 0; i < sizeof(fake_questions) / sizeof(fake_questions[0]); i++) {
        json_t *choices = json_loads(fake_questions[i].choices, 0, NULL);
        int rc = qbank_add(&fake_bank, (int64_t)i + 1, fake_questions[i].category,
                           fake_questions[i].text, choices, fake_questions[i].correct,
                           fake_questions[i].lang);

        json_decref(choices);
        if (rc) {
            fprintf(stderr, "fuzz_dispatch: cannot build the question bank\n");
            abort();
        }
    }
    log_set_level(LOG_ERROR);
    trace = getenv("FUZZ_DISPATCH_TRACE") != NULL;
    json_object_seed(1); /* the same key order in every run, for reproducible inputs */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct run r;
    const char *p = (const char *)data, *end = p + size;

    memset(&r, 0, sizeof(r));
    fake_transport_reset(START_MS, NULL);
    if (server_init(&r.srv, &fuzz_cfg, &fake_transport_ops, NULL) || admin_init(&r.srv))
        abort();
    accounts_init(&r.acc, &r.srv, NULL,
                  &(struct accounts_cfg){.key = fuzz_key,
                                         /* no pool: register, login get server_busy */
                                         .token_ttl_ms = 7LL * 86400 * 1000,
                                         .signed_in = chat_signed_in,
                                         .signed_in_arg = &r.srv});
    r.srv.accounts = &r.acc;
    r.srv.wall_ms = fake_clock_ms;
    r.srv.mono_ms = fake_clock_ms;
    r.srv.bank = &fake_bank;
    r.srv.rng = 1; /* the same questions in every run of an input */

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

        if (!directive(&r, p, len))
            send_frame(&r, p, len);
        drain_all(&r);
        p += len + 1;
    }

    for (int i = 0; i < CLIENTS; i++)
        disconnect(&r, &r.clients[i]);
    chat_end_detached(&r.srv);
    chat_stop_timers(&r.srv);
    if (fake_timers_pending())
        fail("a timer is still pending after the server stopped", NULL);
    admin_destroy(&r.srv);
    server_destroy(&r.srv);
    accounts_destroy(&r.acc);
    return 0;
}
