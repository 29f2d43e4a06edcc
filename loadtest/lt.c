/*
 * parlor-loadtest: drives a parlor.v1 server with thousands of WebSocket clients from one
 * process and reports what it measured (see `--help`). Everything runs on one thread: an epoll
 * loop (wsc.c) plus a timer heap for the open-loop send schedule; the only other code that runs
 * is the SIGINT/SIGTERM handler, which sets a flag.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "hist.h"
#include "procstat.h"
#include "proto.h"
#include "qbot.h"
#include "report.h"
#include "scan.h"
#include "wsc.h"

#define NS_PER_SEC      1000000000LL
#define NS_PER_MS       1000000LL
#define TICK_NS         (100 * NS_PER_MS) /* timeouts and stalls are checked this often */
#define CLOSE_WAIT_NS   (3 * NS_PER_SEC)  /* at the end, time for close handshakes */
#define STALL_NS        (5 * NS_PER_SEC)  /* closed loop: a message this old is given up */
#define RETRY_NS        (50 * NS_PER_MS)  /* closed loop: pause after a refused message */
#define FD_MARGIN       64
#define LEFT_BUDGET     20000 /* teardown: `left` events owed to us before closing more */
#define LEFT_STALL_NS   (300 * NS_PER_MS)
#define ROOM_ID_MAX     72
#define NAME_PREFIX_MAX 8
#define MAX_TEXT        4000
#define QUIZ_CHOICES    4 /* PROTOCOL.md 4.10: a question has 4 choices */
#define EXIT_USAGE      2
#define EXIT_CANNOT_RUN 3

enum scenario { SC_IDLE, SC_CHAT, SC_BROADCAST, SC_CHURN, SC_MIXED, SC_QUIZ };
static const char *const scenario_names[] = {"idle", "chat", "broadcast", "churn", "mixed", "quiz"};

enum role { ROLE_STATIC, ROLE_CHURN };

enum cphase {
    C_OFF,        /* not started (or between churn cycles) */
    C_CONNECTING, /* TCP + upgrade */
    C_HELLO,      /* hello sent */
    C_CREATE,     /* create sent */
    C_WAIT_ROOM,  /* signed in, waiting for its room's leader to create the room */
    C_JOIN,       /* join sent */
    C_READY,      /* set up: sends on schedule */
    C_CLOSING,    /* close handshake started */
    C_FAILED,     /* gave up on this client */
    C_DONE,       /* closed normally at the end */
};

/* Request kinds, in the low bits of each request id (the rest is a sequence number). */
enum kind {
    K_HELLO = 1,
    K_CREATE,
    K_JOIN,
    K_JOIN_LOBBY,
    K_SAY,
    K_SAY_LOBBY,
    K_START,  /* quiz: the host starts a game */
    K_ANSWER, /* quiz: sequence = the client's answer number */
    K_PING,   /* quiz: the hosts' clock samples */
};
#define KIND_BITS 4

/* Timer heap entries. */
enum tkind { T_SEND, T_SEND_LOBBY, T_RESTART, T_ANSWER };

struct msgrec {
    int64_t sched_ns;
    uint64_t msg_no;
    uint32_t remaining; /* deliveries still expected */
    bool active, measured;
    bool late; /* closed loop: given up waiting for, but its deliveries still count */
};

struct client {
    struct wsc_conn ws; /* first: wsc hands back this pointer */
    uint32_t idx;
    uint8_t role, phase;
    bool opened;       /* the current connection got its 101 */
    bool pending;      /* counted in lt.pending: started, not yet set up (churn: signed in) */
    bool in_lobby;     /* joined the lobby */
    bool in_room;      /* counted in its room's `joined` */
    bool cycle_done;   /* churn: own chat came back */
    bool cycle_acked;  /* churn: the say was answered */
    bool initial;      /* part of the initial ramp */
    bool teardown;     /* closed by the paced teardown, counted in lt.closing_now */
    int room;          /* index into lt.rooms, -1 for none */
    uint32_t cycle;    /* churn rounds started */
    uint64_t msg_no;   /* next message number */
    int64_t t_connect; /* when the current connection started */
    int64_t deadline;  /* handshake/sign-in/close deadline, 0 = none */
    int64_t last_seq[2];
    struct qbot qb;         /* quiz: where this bot is in its table's game */
    uint64_t answer_no;     /* quiz: answers sent, the sequence in their request ids */
    int64_t answer_sent_ns; /* quiz: when the last answer went */
    bool answer_measured;   /* quiz: ... and whether that was inside the window */
    uint8_t quiz_owed;      /* quiz: its `start` and `answer` requests not answered yet */
    int64_t ping_sent_real; /* quiz host: CLOCK_REALTIME when its `ping` went */
    struct msgrec *ring;
    uint32_t ring_mask;
    uint32_t inflight;          /* messages not yet fully delivered (closed loop) */
    char own_room[ROOM_ID_MAX]; /* churn: the room it created this round */
};

struct room {
    char id[ROOM_ID_MAX];
    int first, count; /* members are clients first..first+count-1 */
    int joined;       /* members in it now */
    int td_open;      /* teardown: members we have not asked to close yet */
    bool created;
};

struct tev {
    int64_t at;
    uint32_t client;
    uint8_t kind;
    uint16_t round; /* T_ANSWER: the round to answer */
};

struct opts {
    const char *url;
    enum scenario scenario;
    int connections;
    double ramp;
    int max_pending;
    int room_size;
    double rate;
    int inflight;
    int size;
    double duration, warmup, drain, setup_timeout, connect_timeout, settle;
    int churn_pause_ms;
    double lobby_rate;
    int churn_share;
    int quiz_rounds, quiz_seconds;
    bool drain_set; /* --drain given (the quiz otherwise waits as long as a game lasts) */
    const char *name_prefix;
    int server_pid;
    bool expect_baseline;
    const char *json_path;
    double max_p99;
    long long max_errors;
    bool quiet;
};

enum gphase { G_SETUP, G_RUN, G_DRAIN, G_CLOSE, G_SETTLE, G_DONE };

struct lt {
    struct opts o;
    struct wsc w;
    struct client *c;
    int n, nstatic; /* clients [0, nstatic) are static, the rest churn */
    struct room *rooms;
    int nrooms;
    int lobby_joined;
    int port;

    struct tev *heap;
    size_t heap_len, heap_cap;

    enum gphase phase;
    int static_cursor, churn_cursor, pending;
    int64_t next_start_ns;
    int ready_static, failed_static, connected_static, signed_static;
    int churn_active; /* churn clients with a connection */
    int64_t t_begin, t_run, setup_deadline, drain_deadline, close_deadline, settle_deadline;
    int64_t next_tick, next_sample;
    bool window_started;
    int close_cursor, closing_now; /* teardown: next client to close, closes in flight */
    int td_lobby;                  /* teardown: lobby members not asked to close yet */
    uint64_t left_owed, left_seen; /* teardown: `left` events the closes cause, and seen */
    int64_t td_progress_ns;        /* teardown: last close completed or `left` seen */
    bool closed_loop;              /* chat or broadcast with --rate 0 */
    int sender;                    /* broadcast sender / mixed lobby sender */
    int quiz_playing;              /* quiz: bots inside a game (first event .. game_over) */
    uint64_t quiz_replies_owed;    /* quiz: `start` and `answer` requests not answered yet */
    int quiz_reveal_ms;            /* quiz: the server's pause after a reveal (welcome) */
    bool welcome_checked;          /* quiz: the first welcome's limits were compared */
    bool presence_read;            /* presence_max was taken from the first welcome */
    int presence_max;              /* rooms above this size send no `left` (PROTOCOL.md) */
    bool unfit;                    /* quiz: ... and the run asks for more than they allow */
    uint64_t rng;                  /* quiz: the bots' delays and choices */
    struct qbot_clock clock;       /* quiz: the server's clock against ours */

    struct report r;
    struct proc_sample srv_window_start;
    int64_t self_cpu_window_start;
    uint64_t others_window_start; /* proc_others_ticks() when the window began */
    uint64_t others_setup_start;  /* and when the setup began */
    char text_pad[MAX_TEXT + 1];
};

static volatile sig_atomic_t signals_seen;

static void on_signal(int sig)
{
    signals_seen++;
}

static int64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static int64_t self_cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* ---- timer heap ---- */

static void heap_push_round(struct lt *lt, int64_t at, uint32_t client, uint8_t kind,
                            uint16_t round)
{
    size_t i;

    if (lt->heap_len == lt->heap_cap) {
        size_t cap = lt->heap_cap ? lt->heap_cap * 2 : 1024;
        struct tev *h = realloc(lt->heap, cap * sizeof(*h));
        if (!h) {
            fprintf(stderr, "parlor-loadtest: out of memory\n");
            exit(EXIT_CANNOT_RUN);
        }
        lt->heap = h;
        lt->heap_cap = cap;
    }
    i = lt->heap_len++;
    while (i && lt->heap[(i - 1) / 2].at > at) {
        lt->heap[i] = lt->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    lt->heap[i] = (struct tev){at, client, kind, round};
}

static void heap_push(struct lt *lt, int64_t at, uint32_t client, uint8_t kind)
{
    heap_push_round(lt, at, client, kind, 0);
}

static struct tev heap_pop(struct lt *lt)
{
    struct tev top = lt->heap[0], last = lt->heap[--lt->heap_len];
    size_t i = 0, n = lt->heap_len;

    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && lt->heap[l].at < last.at)
            m = l;
        if (l + 1 < n && lt->heap[l + 1].at < (m == i ? last.at : lt->heap[m].at))
            m = l + 1;
        if (m == i)
            break;
        lt->heap[i] = lt->heap[m];
        i = m;
    }
    if (n)
        lt->heap[i] = last;
    return top;
}

/* ---- sending ---- */

static uint64_t req_id(uint64_t seq, enum kind k)
{
    return seq << KIND_BITS | (uint64_t)k;
}

static void send_req(struct lt *lt, struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void send_req(struct lt *lt, struct client *c, const char *fmt, ...)
{
    char buf[MAX_TEXT + 512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < sizeof(buf))
        wsc_send_text(&lt->w, &c->ws, buf, (size_t)n);
}

static void send_hello(struct lt *lt, struct client *c)
{
    c->phase = C_HELLO;
    send_req(lt, c, "{\"type\":\"hello\",\"id\":%llu,\"name\":\"%s%u_%u\"}",
             (unsigned long long)req_id(c->cycle, K_HELLO), lt->o.name_prefix, c->idx, c->cycle);
}

static void send_create(struct lt *lt, struct client *c, const char *name, int max)
{
    c->phase = C_CREATE;
    send_req(lt, c, "{\"type\":\"create\",\"id\":%llu,\"name\":\"%s\",\"max\":%d}",
             (unsigned long long)req_id(c->cycle, K_CREATE), name, max);
}

/* A quiz table: `max` seats, the rounds and seconds of --quiz-rounds and --quiz-seconds. */
static void send_create_quiz(struct lt *lt, struct client *c, const char *name, int max)
{
    c->phase = C_CREATE;
    send_req(lt, c,
             "{\"type\":\"create\",\"id\":%llu,\"name\":\"%s\",\"game\":\"quiz\",\"max\":%d,"
             "\"rounds\":%d,\"seconds\":%d}",
             (unsigned long long)req_id(c->cycle, K_CREATE), name, max, lt->o.quiz_rounds,
             lt->o.quiz_seconds);
}

static int64_t real_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* A table host asks the server's clock once, to put the questions' deadlines on ours. */
static void send_ping(struct lt *lt, struct client *c)
{
    c->ping_sent_real = real_ns();
    send_req(lt, c, "{\"type\":\"ping\",\"id\":%llu}",
             (unsigned long long)req_id(c->cycle, K_PING));
}

static void send_start(struct lt *lt, struct client *c)
{
    c->quiz_owed++;
    lt->quiz_replies_owed++;
    lt->r.quiz_starts_sent++;
    send_req(lt, c, "{\"type\":\"start\",\"id\":%llu,\"room\":\"%s\"}",
             (unsigned long long)req_id(c->qb.started, K_START), lt->rooms[c->room].id);
}

static void send_answer(struct lt *lt, struct client *c, int round, int choice)
{
    int64_t now = mono_ns();

    c->answer_sent_ns = now;
    c->answer_measured = now >= lt->r.measure_start_ns && now < lt->r.measure_end_ns;
    c->quiz_owed++;
    lt->quiz_replies_owed++;
    lt->r.quiz_answers_sent++;
    if (c->answer_measured)
        lt->r.quiz_answers_in_window++;
    send_req(lt, c, "{\"type\":\"answer\",\"id\":%llu,\"room\":\"%s\",\"round\":%d,\"choice\":%d}",
             (unsigned long long)req_id(++c->answer_no, K_ANSWER), lt->rooms[c->room].id, round,
             choice);
}

static void send_join(struct lt *lt, struct client *c, const char *room, enum kind k)
{
    c->phase = C_JOIN;
    send_req(lt, c, "{\"type\":\"join\",\"id\":%llu,\"room\":\"%s\"}",
             (unsigned long long)req_id(c->cycle, k), room);
}

static uint32_t ring_size_for(const struct lt *lt)
{
    double per_sec = lt->o.rate + lt->o.lobby_rate;
    double want = per_sec * (lt->o.drain + 10) + 2.0 * lt->o.inflight + 16;
    uint32_t n = 16;

    while (n < want && n < (1u << 20))
        n *= 2;
    return n;
}

/* Sends one chat message scheduled at `sched` to `room`, expecting `expect` deliveries. */
static void send_say(struct lt *lt, struct client *c, const char *room, uint32_t expect,
                     int64_t sched, enum kind k)
{
    char text[MAX_TEXT + 1], req[MAX_TEXT + 256];
    uint64_t no = c->msg_no++;
    struct msgrec *rec;
    int64_t now = mono_ns();
    int n;

    if (!c->ring) {
        uint32_t size = ring_size_for(lt);
        c->ring = calloc(size, sizeof(*c->ring));
        if (!c->ring)
            return;
        c->ring_mask = size - 1;
    }
    n = snprintf(text, sizeof(text), "%u:%llu:%lld:", c->idx, (unsigned long long)no,
                 (long long)sched);
    if (n < lt->o.size) {
        memcpy(text + n, lt->text_pad, (size_t)(lt->o.size - n));
        n = lt->o.size;
    }
    text[n] = '\0';
    rec = &c->ring[no & c->ring_mask];
    if (rec->active) { /* the ring wrapped: that message will never be matched */
        c->inflight--;
        rec->active = false;
    }
    *rec = (struct msgrec){.sched_ns = sched,
                           .msg_no = no,
                           .remaining = expect,
                           .active = expect > 0,
                           .measured = sched >= lt->r.measure_start_ns};
    if (rec->active)
        c->inflight++;
    lt->r.says_sent++;
    if (rec->measured)
        lt->r.says_in_window++;
    lt->r.deliveries_expected += expect;
    hist_record(&lt->r.send_lag, (uint64_t)(now > sched ? now - sched : 0));
    n = snprintf(req, sizeof(req), "{\"type\":\"say\",\"id\":%llu,\"room\":\"%s\",\"text\":\"%s\"}",
                 (unsigned long long)req_id(no, k), room, text);
    if (n > 0 && (size_t)n < sizeof(req))
        wsc_send_text(&lt->w, &c->ws, req, (size_t)n);
}

/* ---- setup steps ---- */

static void check_all_signed_in(struct lt *lt, int64_t now)
{
    if (lt->signed_static == lt->nstatic && !lt->r.all_signed_in_ns)
        lt->r.all_signed_in_ns = now;
}

static void unpend(struct lt *lt, struct client *c);

/* Static clients count as pending until set up: that bounds how many joins are in flight, so a
 * lobby filling up does not bury every member under thousands of queued `joined` events. */
static void mark_ready(struct lt *lt, struct client *c)
{
    unpend(lt, c);
    c->phase = C_READY;
    lt->ready_static++;
}

/* Chat rooms: the leader creates, the others join once the id is known. */
static void join_or_wait(struct lt *lt, struct client *c)
{
    struct room *rm = &lt->rooms[c->room];

    if (c->idx == (uint32_t)rm->first && lt->o.scenario == SC_QUIZ) {
        char name[48];
        snprintf(name, sizeof(name), "lt quiz %d", c->room);
        send_ping(lt, c); /* answered before the create: requests are answered in order */
        send_create_quiz(lt, c, name, rm->count < 2 ? 2 : rm->count);
    } else if (c->idx == (uint32_t)rm->first) {
        char name[48];
        snprintf(name, sizeof(name), "lt room %d", c->room);
        send_create(lt, c, name, rm->count < 2 ? 2 : rm->count);
    } else if (rm->created) {
        send_join(lt, c, rm->id, K_JOIN);
    } else {
        c->phase = C_WAIT_ROOM;
    }
}

static void after_sign_in(struct lt *lt, struct client *c)
{
    if (c->role == ROLE_CHURN) {
        send_create(lt, c, "churn", 2);
        return;
    }
    switch (lt->o.scenario) {
    case SC_IDLE:
        mark_ready(lt, c);
        break;
    case SC_BROADCAST:
        send_join(lt, c, "lobby", K_JOIN_LOBBY);
        break;
    default:
        join_or_wait(lt, c);
        break;
    }
}

static void after_room_joined(struct lt *lt, struct client *c)
{
    if (lt->o.scenario == SC_MIXED && !c->in_lobby)
        send_join(lt, c, "lobby", K_JOIN_LOBBY);
    else
        mark_ready(lt, c);
}

static void start_client(struct lt *lt, struct client *c, int64_t now)
{
    c->opened = false;
    c->cycle_done = false;
    c->cycle_acked = false;
    c->in_lobby = false;
    c->in_room = false;
    c->last_seq[0] = c->last_seq[1] = 0;
    c->phase = C_CONNECTING;
    c->t_connect = now;
    c->deadline = now + (int64_t)(lt->o.connect_timeout * NS_PER_SEC);
    c->pending = true;
    lt->pending++;
    if (c->role == ROLE_CHURN)
        lt->churn_active++;
    if (!lt->r.first_connect_ns)
        lt->r.first_connect_ns = now;
    lt->r.connects_started++;
    wsc_connect(&lt->w, &c->ws); /* on failure on_end has already run */
}

static void unpend(struct lt *lt, struct client *c)
{
    if (c->pending) {
        c->pending = false;
        lt->pending--;
    }
}

/* ---- receiving ---- */

static bool parse_payload(struct span t, uint32_t *sender, uint64_t *no, int64_t *sched)
{
    uint64_t v[3] = {0, 0, 0};
    size_t i = 0;

    for (int f = 0; f < 3; f++) {
        size_t start = i;
        while (i < t.n && t.p[i] >= '0' && t.p[i] <= '9')
            v[f] = v[f] * 10 + (uint64_t)(t.p[i++] - '0');
        if (i == start || i >= t.n || t.p[i] != ':')
            return false;
        i++;
    }
    *sender = (uint32_t)v[0];
    *no = v[1];
    *sched = (int64_t)v[2];
    return true;
}

/* Closed loop: a sender's message is done (delivered everywhere, refused, or given up), so its
 * next one goes at `when`. */
static void schedule_closed_loop(struct lt *lt, struct client *s, int64_t when)
{
    if (!lt->closed_loop || lt->phase != G_RUN || when >= lt->r.measure_end_ns)
        return;
    if (lt->o.scenario == SC_CHAT)
        heap_push(lt, when, s->idx, T_SEND);
    else if (s->idx == (uint32_t)lt->sender)
        heap_push(lt, when, s->idx, T_SEND_LOBBY);
}

/* Churn: the round is over once the echo and the reply are both in (a client that closes
 * before reading its replies loses them: the server drops what it has not written yet). */
static void end_round(struct lt *lt, struct client *c, int64_t now)
{
    if (!c->cycle_done || !c->cycle_acked || c->phase != C_READY)
        return;
    c->phase = C_CLOSING;
    c->deadline = now + CLOSE_WAIT_NS;
    wsc_close(&lt->w, &c->ws, 1000);
}

static void handle_chat(struct lt *lt, struct client *c, const struct member *m, int n)
{
    const struct member *text = scan_find(m, n, "text"), *room = scan_find(m, n, "room"),
                        *seqm = scan_find(m, n, "seq");
    struct span t;
    uint32_t sidx;
    uint64_t no;
    int64_t sched, now = mono_ns(), seq;
    struct client *s;
    struct msgrec *rec;

    if (!text || !scan_str(text->val, &t) || !parse_payload(t, &sidx, &no, &sched) ||
        sidx >= (uint32_t)lt->n) {
        lt->r.unexpected_deliveries++;
        return;
    }
    if (room && seqm && scan_int(seqm->val, &seq)) {
        int slot = scan_str_eq(room->val, "lobby") && c->room >= 0 ? 1 : 0;
        if (c->last_seq[slot] && seq != c->last_seq[slot] + 1)
            lt->r.seq_gaps++;
        c->last_seq[slot] = seq;
    }
    s = &lt->c[sidx];
    rec = s->ring ? &s->ring[no & s->ring_mask] : NULL;
    if (!rec || !(rec->active || rec->late) || rec->msg_no != no || !rec->remaining) {
        lt->r.unexpected_deliveries++;
        return;
    }
    lt->r.deliveries_received++;
    if (now >= lt->r.measure_start_ns && now < lt->r.measure_end_ns)
        lt->r.deliveries_in_window++;
    if (rec->measured)
        hist_record(&lt->r.latency, (uint64_t)(now - sched));
    if (--rec->remaining == 0 && rec->late) {
        rec->late = false;
    } else if (rec->remaining == 0) {
        rec->active = false;
        s->inflight--;
        if (rec->measured)
            hist_record(&lt->r.fanout, (uint64_t)(now - sched));
        schedule_closed_loop(lt, s, now);
    }
    if (c->role == ROLE_CHURN && s == c && c->phase == C_READY) {
        c->cycle_done = true;
        hist_record(&lt->r.cycle, (uint64_t)(now - c->t_connect));
        end_round(lt, c, now);
    }
}

/* ---- the quiz ---- */

static bool in_window(const struct lt *lt, int64_t now)
{
    return now >= lt->r.measure_start_ns && now < lt->r.measure_end_ns;
}

static bool is_host(const struct lt *lt, const struct client *c)
{
    return c->room >= 0 && c->idx == (uint32_t)lt->rooms[c->room].first;
}

/* Feeds one game event to the bot's bookkeeping and counts what it says was lost. Returns
 * what qbot_event does (-1: a repeat, ignored). */
static int quiz_event(struct lt *lt, struct client *c, enum qbot_event ev, int round, int of)
{
    bool was = qbot_playing(&c->qb);
    int lost = qbot_event(&c->qb, ev, round, of);

    if (lost < 0)
        lt->r.quiz_out_of_order++;
    else
        lt->r.quiz_lost_events += (uint64_t)lost;
    lt->quiz_playing += (int)qbot_playing(&c->qb) - (int)was;
    return lost;
}

/* The bot leaves its game unfinished (its connection ended, or the run did): what the game
 * still owed it is lost. */
static void quiz_abandon(struct lt *lt, struct client *c)
{
    if (!qbot_playing(&c->qb))
        return;
    lt->r.quiz_lost_events += (uint64_t)qbot_abandon(&c->qb);
    lt->r.quiz_unfinished++;
    lt->quiz_playing--;
}

/* Its pending `start` and `answer` requests will never be answered (counted as unanswered). */
static void quiz_forget_replies(struct lt *lt, struct client *c)
{
    lt->quiz_replies_owed -= c->quiz_owed;
    c->quiz_owed = 0;
}

static void quiz_reply_seen(struct lt *lt, struct client *c)
{
    if (c->quiz_owed) {
        c->quiz_owed--;
        lt->quiz_replies_owed--;
    }
}

/* The host starts a game while the window is open (the games that run past its end finish in
 * the drain). */
static void quiz_maybe_start(struct lt *lt, struct client *c, int64_t now)
{
    if (lt->phase == G_RUN && now < lt->r.measure_end_ns && !signals_seen && c->phase == C_READY)
        send_start(lt, c);
}

static bool field_int(const struct member *m, int n, const char *key, int64_t lo, int64_t hi,
                      int64_t *out)
{
    const struct member *f = scan_find(m, n, key);

    return f && scan_int(f->val, out) && *out >= lo && *out <= hi;
}

static void handle_question(struct lt *lt, struct client *c, const struct member *m, int n)
{
    const struct member *choices = scan_find(m, n, "choices");
    int64_t round, of, deadline, now = mono_ns(), recv = real_ns();

    if (!field_int(m, n, "of", 1, UINT16_MAX, &of) || !field_int(m, n, "round", 1, of, &round) ||
        !field_int(m, n, "deadline", 0, INT64_MAX / NS_PER_MS, &deadline) || !choices ||
        scan_array_len(choices->val) != QUIZ_CHOICES) {
        lt->r.bad_messages++;
        return;
    }
    lt->r.quiz_questions++;
    if (in_window(lt, now))
        hist_record(&lt->r.question_lag,
                    (uint64_t)qbot_question_lag_ns(recv, deadline, lt->o.quiz_seconds,
                                                   qbot_clock_correction(&lt->clock)));
    if (quiz_event(lt, c, QBOT_QUESTION, (int)round, (int)of) >= 0) /* not a repeat */
        heap_push_round(lt, now + qbot_answer_delay_ns(qbot_rand(&lt->rng), lt->o.quiz_seconds),
                        c->idx, T_ANSWER, (uint16_t)round);
}

static void handle_game_over(struct lt *lt, struct client *c)
{
    int64_t now = mono_ns();

    lt->r.quiz_game_overs++;
    quiz_event(lt, c, QBOT_GAME_OVER, 0, 0);
    if (!is_host(lt, c))
        return;
    lt->r.quiz_games_completed++;
    lt->r.quiz_last_over_ns = now;
    if (in_window(lt, now))
        lt->r.quiz_games_in_window++;
    quiz_maybe_start(lt, c, now);
}

/* The quiz's events; false for a type that is not one of them. */
static bool handle_quiz_event(struct lt *lt, struct client *c, struct span type,
                              const struct member *m, int n)
{
    const struct member *room = scan_find(m, n, "room");
    int64_t v;

    if (!scan_str_eq(type, "game_started") && !scan_str_eq(type, "question") &&
        !scan_str_eq(type, "reveal") && !scan_str_eq(type, "game_over"))
        return false;
    if (c->room < 0 || !room || !scan_str_eq(room->val, lt->rooms[c->room].id)) {
        lt->r.bad_messages++; /* a game event from a table this bot does not sit at */
        return true;
    }
    if (lt->phase >= G_CLOSE) { /* the run has written its games off already */
        lt->r.other_events++;
        return true;
    }
    if (scan_str_eq(type, "question")) {
        handle_question(lt, c, m, n);
    } else if (scan_str_eq(type, "reveal")) {
        if (!field_int(m, n, "round", 1, UINT16_MAX, &v)) {
            lt->r.bad_messages++;
            return true;
        }
        lt->r.quiz_reveals++;
        quiz_event(lt, c, QBOT_REVEAL, (int)v, 0);
    } else if (scan_str_eq(type, "game_started")) {
        lt->r.quiz_game_starts++;
        quiz_event(lt, c, QBOT_GAME_STARTED, 0,
                   field_int(m, n, "rounds", 1, UINT16_MAX, &v) ? (int)v : 0);
    } else {
        handle_game_over(lt, c);
    }
    return true;
}

/* The first `welcome`: above presence_max members a room counts departures in `presence`
 * events instead of sending `left`, so the teardown owes no `left` for them. */
static void read_presence_max(struct lt *lt, const struct member *m, int n)
{
    const struct member *limits = scan_find(m, n, "limits");
    struct member l[64];
    int ln;
    int64_t v;

    lt->presence_read = true;
    if (!limits || (ln = scan_object(limits->val.p, limits->val.n, l, 64)) < 0)
        return;
    if (field_int(l, ln > 64 ? 64 : ln, "presence_max", 0, INT_MAX, &v))
        lt->presence_max = (int)v;
}

/* `left` events the other `before - 1` members get when one of `before` closes. */
static uint64_t left_events(const struct lt *lt, int before)
{
    return before <= lt->presence_max ? (uint64_t)(before - 1) : 0;
}

/* The first `welcome`: the reveal pause (how long a game lasts); and a run that asks for more
 * than the server allows stops there, as bad usage, rather than failing every table's create. */
static void check_welcome(struct lt *lt, const struct member *m, int n)
{
    const struct member *limits = scan_find(m, n, "limits");
    struct member l[64];
    int ln;
    int64_t v;
    int largest = 0;
    bool fits = true;

    if (lt->welcome_checked || !limits ||
        (ln = scan_object(limits->val.p, limits->val.n, l, 64)) < 0)
        return;
    lt->welcome_checked = true;
    if (ln > 64)
        ln = 64;
    if (field_int(l, ln, "quiz_reveal_ms", 0, 3600000, &v))
        lt->quiz_reveal_ms = (int)v;
    if (field_int(l, ln, "quiz_max_rounds", 0, INT64_MAX, &v) && lt->o.quiz_rounds > v) {
        fprintf(stderr,
                "parlor-loadtest: --quiz-rounds %d is above the server's quiz_max_rounds %lld\n",
                lt->o.quiz_rounds, (long long)v);
        fits = false;
    }
    if (field_int(l, ln, "quiz_max_seconds", 0, INT64_MAX, &v) && lt->o.quiz_seconds > v) {
        fprintf(stderr,
                "parlor-loadtest: --quiz-seconds %d is above the server's quiz_max_seconds %lld\n",
                lt->o.quiz_seconds, (long long)v);
        fits = false;
    }
    for (int k = 0; k < lt->nrooms; k++) /* a lone last client joins the table before it */
        if (lt->rooms[k].count > largest)
            largest = lt->rooms[k].count;
    if (field_int(l, ln, "room_max_limit", 0, INT64_MAX, &v) && largest > v) {
        fprintf(stderr,
                "parlor-loadtest: --room-size %d makes tables of up to %d, above the server's "
                "room_max_limit %lld\n",
                lt->o.room_size, largest, (long long)v);
        fits = false;
    }
    lt->unfit = !fits; /* stops the run as Ctrl-C does; exit status 2 */
}

/* A reply to `start`, `answer` or `ping` (quiz). */
static void handle_quiz_reply(struct lt *lt, struct client *c, enum kind k, uint64_t seq,
                              const struct member *m, int n, bool is_error)
{
    int64_t now = mono_ns(), t;

    switch (k) {
    case K_PING:
        if (!is_error && field_int(m, n, "time", 0, INT64_MAX / NS_PER_MS, &t))
            qbot_clock_sample(&lt->clock, c->ping_sent_real, real_ns(), t);
        break;
    case K_START:
        quiz_reply_seen(lt, c);
        if (is_error)
            lt->r.quiz_starts_rejected++;
        else
            lt->r.quiz_starts_ok++;
        break;
    case K_ANSWER:
        quiz_reply_seen(lt, c);
        if (is_error) {
            lt->r.quiz_answers_rejected++;
        } else {
            lt->r.quiz_answers_ok++;
            if (seq == c->answer_no && c->answer_measured)
                hist_record(&lt->r.answer, (uint64_t)(now - c->answer_sent_ns));
        }
        break;
    default:
        break;
    }
}

static int error_index(struct span code)
{
    for (int i = 1; i < PROTO_E_COUNT; i++) {
        const char *name = proto_err_code(i);
        if (name && strlen(name) == code.n && !memcmp(name, code.p, code.n))
            return i;
    }
    return PROTO_E_COUNT;
}

/* A setup request failed: this client is out (a churn client tries again next round). */
static void give_up(struct lt *lt, struct client *c)
{
    c->phase = C_CLOSING;
    c->deadline = mono_ns() + CLOSE_WAIT_NS;
    wsc_close(&lt->w, &c->ws, 1000);
}

static void say_rejected(struct lt *lt, struct client *c, uint64_t no)
{
    struct msgrec *rec = c->ring ? &c->ring[no & c->ring_mask] : NULL;

    lt->r.says_rejected++;
    if (rec && rec->active && rec->msg_no == no) {
        lt->r.deliveries_expected -= rec->remaining;
        rec->active = false;
        c->inflight--;
        /* "retry later": a closed loop that resent at once would only measure refusals */
        schedule_closed_loop(lt, c, mono_ns() + RETRY_NS);
    }
    if (c->role == ROLE_CHURN)
        give_up(lt, c);
}

static void handle_ok(struct lt *lt, struct client *c, enum kind k, const struct member *m, int n)
{
    int64_t now = mono_ns();
    const struct member *room;
    struct member rm[12];
    const struct member *idm;
    struct span id;
    int rn;

    switch (k) {
    case K_HELLO:
        lt->r.signed_in++;
        hist_record(&lt->r.signin, (uint64_t)(now - c->t_connect));
        if (c->role == ROLE_CHURN)
            unpend(lt, c);
        c->deadline = 0;
        if (c->role == ROLE_STATIC) {
            lt->signed_static++;
            check_all_signed_in(lt, now);
        }
        after_sign_in(lt, c);
        break;
    case K_CREATE:
        room = scan_find(m, n, "room");
        rn = room ? scan_object(room->val.p, room->val.n, rm, 12) : -1;
        idm = rn > 0 ? scan_find(rm, rn < 12 ? rn : 12, "id") : NULL;
        if (!idm || !scan_str(idm->val, &id) || id.n >= ROOM_ID_MAX) {
            lt->r.bad_messages++;
            give_up(lt, c);
            return;
        }
        if (c->role == ROLE_CHURN) {
            memcpy(c->own_room, id.p, id.n);
            c->own_room[id.n] = '\0';
            c->phase = C_READY;
            send_say(lt, c, c->own_room, 1, now, K_SAY);
            return;
        }
        {
            struct room *r = &lt->rooms[c->room];
            memcpy(r->id, id.p, id.n);
            r->id[id.n] = '\0';
            r->created = true;
            r->joined++;
            c->in_room = true;
            for (int i = r->first; i < r->first + r->count; i++)
                if (lt->c[i].phase == C_WAIT_ROOM)
                    send_join(lt, &lt->c[i], r->id, K_JOIN);
        }
        after_room_joined(lt, c);
        break;
    case K_JOIN:
        lt->rooms[c->room].joined++;
        c->in_room = true;
        after_room_joined(lt, c);
        break;
    case K_JOIN_LOBBY:
        c->in_lobby = true;
        lt->lobby_joined++;
        mark_ready(lt, c);
        break;
    case K_SAY:
    case K_SAY_LOBBY:
        lt->r.says_ok++;
        if (c->role == ROLE_CHURN) {
            c->cycle_acked = true;
            end_round(lt, c, now);
        }
        break;
    case K_START:
    case K_ANSWER:
    case K_PING:
        break; /* handle_quiz_reply's */
    }
}

static void handle_reply(struct lt *lt, struct client *c, const struct member *m, int n,
                         bool is_error)
{
    const struct member *re = scan_find(m, n, "re");
    int64_t id = -1;
    enum kind k;

    if (is_error) {
        const struct member *code = scan_find(m, n, "code");
        struct span cs;
        lt->r.errors_by_code[code && scan_str(code->val, &cs) ? error_index(cs) : PROTO_E_COUNT]++;
    }
    if (!re || !scan_int(re->val, &id) || id < 0) {
        if (!is_error)
            lt->r.bad_messages++;
        return;
    }
    k = (enum kind)(id & ((1 << KIND_BITS) - 1));
    if (k == K_START || k == K_ANSWER || k == K_PING) {
        handle_quiz_reply(lt, c, k, (uint64_t)id >> KIND_BITS, m, n, is_error);
        return;
    }
    if (!is_error) {
        handle_ok(lt, c, k, m, n);
        return;
    }
    if (k == K_SAY || k == K_SAY_LOBBY)
        say_rejected(lt, c, (uint64_t)id >> KIND_BITS);
    else
        give_up(lt, c);
}

static void on_message(void *ud, struct wsc_conn *ws, const char *text, size_t len)
{
    struct lt *lt = ud;
    struct client *c = (struct client *)ws;
    struct member m[16];
    const struct member *type;
    int n = scan_object(text, len, m, 16);

    if (n < 0 || !(type = scan_find(m, n < 16 ? n : 16, "type"))) {
        lt->r.bad_messages++;
        return;
    }
    if (n > 16)
        n = 16;
    if (scan_str_eq(type->val, "chat"))
        handle_chat(lt, c, m, n);
    else if (scan_str_eq(type->val, "ok"))
        handle_reply(lt, c, m, n, false);
    else if (scan_str_eq(type->val, "error"))
        handle_reply(lt, c, m, n, true);
    else if (scan_str_eq(type->val, "left")) {
        lt->r.other_events++;
        if (lt->phase == G_CLOSE) {
            lt->left_seen++;
            lt->td_progress_ns = mono_ns();
        }
    } else if (lt->o.scenario == SC_QUIZ && handle_quiz_event(lt, c, type->val, m, n)) {
        /* handled */
    } else if (scan_str_eq(type->val, "welcome")) {
        if (!lt->presence_read)
            read_presence_max(lt, m, n);
        if (lt->o.scenario == SC_QUIZ)
            check_welcome(lt, m, n);
    } else {
        lt->r.other_events++;
    }
}

static void on_open(void *ud, struct wsc_conn *ws)
{
    struct lt *lt = ud;
    struct client *c = (struct client *)ws;
    int64_t now = mono_ns();

    c->opened = true;
    lt->r.handshakes++;
    hist_record(&lt->r.connect, (uint64_t)(now - c->t_connect));
    if (c->initial) {
        lt->r.ramp_handshakes++;
        lt->r.ramp_last_ns = now;
        if (++lt->connected_static == lt->nstatic)
            lt->r.all_connected_ns = now;
    }
    send_hello(lt, c);
}

/* The close codes PROTOCOL.md says a parlor.v1 server sends. */
static bool valid_close_code(int code)
{
    return code == 1000 || code == 1001 || code == 1003 || code == 1007 || code == 1008 ||
           code == 1009 || code == 1011;
}

static void on_end(void *ud, struct wsc_conn *ws, const struct wsc_end_info *info)
{
    struct lt *lt = ud;
    struct client *c = (struct client *)ws;
    bool normal = info->why == WSC_END_CLOSED && info->by_us && info->code == 1000;
    /* a close we started that came back with a code parlor.v1 does not have: seen with
     * libwebsockets 4.1 servers, whose keepalive ping can overwrite the echo's payload */
    bool garbled = info->why == WSC_END_CLOSED && info->by_us && !valid_close_code(info->code);
    bool written_off = c->phase == C_FAILED; /* already counted (setup deadline) */
    int64_t now = mono_ns();

    unpend(lt, c);
    if (c->teardown) {
        c->teardown = false;
        lt->closing_now--;
        lt->close_deadline = now + CLOSE_WAIT_NS; /* progress: give the rest more time */
        lt->td_progress_ns = now;
    }
    if (!written_off && (!c->opened || info->why == WSC_END_ABORTED))
        lt->r.fail_by_end[info->why]++;
    if (c->opened) {
        report_close_code(&lt->r, garbled ? -1 : info->code);
        if (garbled)
            lt->r.garbled_close_echoes++;
        else if (!normal && info->why != WSC_END_ABORTED)
            lt->r.unexpected_closes++;
    }
    normal = normal || garbled;
    c->opened = false;
    c->deadline = 0;

    if (c->role == ROLE_CHURN) {
        int64_t pause = (int64_t)lt->o.churn_pause_ms * NS_PER_MS;
        lt->churn_active--;
        if (c->cycle_done && normal)
            lt->r.cycles++;
        else if (pause < 100 * NS_PER_MS)
            pause = 100 * NS_PER_MS; /* do not spin on a failing server */
        c->phase = C_OFF;
        if (lt->phase == G_RUN && !signals_seen)
            heap_push(lt, now + pause, c->idx, T_RESTART);
        return;
    }
    quiz_abandon(lt, c);
    quiz_forget_replies(lt, c);
    if (c->in_lobby) {
        c->in_lobby = false;
        lt->lobby_joined--;
    }
    if (c->in_room) {
        c->in_room = false;
        lt->rooms[c->room].joined--;
    }
    if (lt->phase == G_SETUP && !written_off) {
        if (c->phase == C_READY)
            lt->ready_static--;
        lt->failed_static++;
    }
    c->phase = normal && lt->phase >= G_CLOSE ? C_DONE : C_FAILED;
}

static void run_timer(struct lt *lt, struct tev t, int64_t now);

/* Inside a large batch of events: sends that fell due go out now rather than after the batch
 * (restarts wait for the loop: they open sockets). */
static void between(void *ud)
{
    struct lt *lt = ud;
    int64_t now;

    if (!(lt->phase == G_RUN || (lt->phase == G_DRAIN && lt->o.scenario == SC_QUIZ)) ||
        !lt->heap_len)
        return;
    now = mono_ns();
    while (lt->heap_len && lt->heap[0].at <= now && lt->heap[0].kind != T_RESTART)
        run_timer(lt, heap_pop(lt), now);
}

static const struct wsc_ops client_ops = {
    .on_open = on_open,
    .on_message = on_message,
    .on_end = on_end,
    .between = between,
};

/* ---- the run ---- */

static void sample_server(struct lt *lt, struct proc_sample *s)
{
    if (!lt->o.server_pid || proc_sample(lt->o.server_pid, s))
        return;
    if (s->rss_kb > lt->r.srv_rss_peak_kb)
        lt->r.srv_rss_peak_kb = s->rss_kb;
}

/* Ticks between two samples of proc_others_ticks() (a process that vanished unaccounted can
 * make the sum go down: count nothing rather than wrap). */
static uint64_t since(uint64_t now, uint64_t then)
{
    return now >= then ? now - then : 0;
}

static void begin_run(struct lt *lt, int64_t now)
{
    double period;

    lt->phase = G_RUN;
    lt->r.setup_done_ns = now;
    /* who else used the cores while we connected (the handshake figures come from here) */
    lt->r.others_ticks_setup =
        since(proc_others_ticks(lt->o.server_pid, 0), lt->others_setup_start);
    lt->t_run = now;
    lt->r.measure_start_ns = now + (int64_t)(lt->o.warmup * NS_PER_SEC);
    lt->r.measure_end_ns = lt->r.measure_start_ns + (int64_t)(lt->o.duration * NS_PER_SEC);
    lt->r.setup_incomplete = (uint64_t)(lt->nstatic - lt->ready_static - lt->failed_static);
    lt->r.ready = (uint64_t)lt->ready_static;
    /* clients still in setup at the deadline would change room sizes under us: drop them */
    for (int i = 0; i < lt->nstatic; i++) {
        struct client *c = &lt->c[i];
        if (c->phase != C_READY && c->phase != C_FAILED) {
            c->phase = C_FAILED; /* counted in setup_incomplete, not again as a failure */
            wsc_abort(&lt->w, &c->ws);
        }
    }
    switch (lt->o.scenario) {
    case SC_CHAT:
    case SC_MIXED:
        /* open loop: spread over one period; closed loop: over 100 ms, --inflight each */
        period = lt->o.rate > 0 ? (double)NS_PER_SEC / lt->o.rate : 100.0 * NS_PER_MS;
        for (int i = 0; i < lt->nstatic; i++)
            for (int k = 0; k < (lt->closed_loop ? lt->o.inflight : 1); k++)
                if (lt->c[i].phase == C_READY)
                    heap_push(lt, now + (int64_t)(period * i / lt->nstatic), (uint32_t)i, T_SEND);
        if (lt->o.scenario == SC_MIXED && lt->o.lobby_rate > 0 &&
            lt->c[lt->sender].phase == C_READY)
            heap_push(lt, now, (uint32_t)lt->sender, T_SEND_LOBBY);
        break;
    case SC_BROADCAST:
        if (lt->c[lt->sender].phase != C_READY)
            break;
        if (lt->closed_loop)
            for (int i = 0; i < lt->o.inflight; i++)
                heap_push(lt, now, (uint32_t)lt->sender, T_SEND_LOBBY);
        else
            heap_push(lt, now, (uint32_t)lt->sender, T_SEND_LOBBY);
        break;
    case SC_QUIZ:
        /* everyone who could be set up is in: each host starts its table's first game */
        lt->r.quiz_play_start_ns = now;
        for (int k = 0; k < lt->nrooms; k++)
            if (lt->c[lt->rooms[k].first].phase == C_READY)
                send_start(lt, &lt->c[lt->rooms[k].first]);
        break;
    default:
        break;
    }
}

static void take_window_start(struct lt *lt)
{
    lt->window_started = true;
    sample_server(lt, &lt->srv_window_start);
    lt->self_cpu_window_start = self_cpu_ns();
    lt->others_window_start = proc_others_ticks(lt->o.server_pid, 0);
}

static void take_window_end(struct lt *lt)
{
    struct proc_sample s;

    lt->r.self_cpu_ns_window = self_cpu_ns() - lt->self_cpu_window_start;
    lt->r.others_ticks_window =
        since(proc_others_ticks(lt->o.server_pid, 0), lt->others_window_start);
    if (!lt->o.server_pid)
        return;
    sample_server(lt, &s);
    if (s.ok && lt->srv_window_start.ok) {
        lt->r.srv_cpu_ticks_window = s.cpu_ticks - lt->srv_window_start.cpu_ticks;
        lt->r.srv_rss_loaded_kb = s.rss_kb;
        lt->r.srv_fds_loaded = s.fds;
    }
    lt->r.srv_conns_loaded = proc_tcp_conns(lt->o.server_pid, lt->port);
}

static void run_timer(struct lt *lt, struct tev t, int64_t now)
{
    struct client *c = &lt->c[t.client];
    double period;

    switch (t.kind) {
    case T_SEND:
        if (c->phase != C_READY || lt->phase != G_RUN || t.at >= lt->r.measure_end_ns)
            return;
        send_say(lt, c, lt->rooms[c->room].id, (uint32_t)lt->rooms[c->room].joined,
                 lt->closed_loop ? now : t.at, K_SAY);
        if (lt->closed_loop)
            break;
        period = (double)NS_PER_SEC / lt->o.rate;
        if (t.at + (int64_t)period < lt->r.measure_end_ns)
            heap_push(lt, t.at + (int64_t)period, t.client, T_SEND);
        break;
    case T_SEND_LOBBY:
        if (c->phase != C_READY || lt->phase != G_RUN || t.at >= lt->r.measure_end_ns)
            return;
        send_say(lt, c, "lobby", (uint32_t)lt->lobby_joined, lt->closed_loop ? now : t.at,
                 K_SAY_LOBBY);
        if (lt->closed_loop)
            break;
        period = (double)NS_PER_SEC / (lt->o.scenario == SC_MIXED ? lt->o.lobby_rate : lt->o.rate);
        if (t.at + (int64_t)period < lt->r.measure_end_ns)
            heap_push(lt, t.at + (int64_t)period, t.client, T_SEND_LOBBY);
        break;
    case T_RESTART:
        if (lt->phase == G_RUN && c->phase == C_OFF && !signals_seen) {
            c->cycle++;
            start_client(lt, c, now);
        }
        break;
    case T_ANSWER:
        if (c->phase != C_READY || (lt->phase != G_RUN && lt->phase != G_DRAIN))
            return;
        if (qbot_take_answer(&c->qb, t.round))
            send_answer(lt, c, t.round, (int)(qbot_rand(&lt->rng) % QUIZ_CHOICES));
        else
            lt->r.quiz_answers_skipped++; /* revealed (or a new game) before its turn came */
        break;
    }
}

/* Every TICK_NS: connection deadlines. */
static void tick(struct lt *lt, int64_t now)
{
    for (int i = 0; i < lt->n; i++) {
        struct client *c = &lt->c[i];
        if (c->deadline && now > c->deadline && c->ws.state != WSC_IDLE)
            wsc_abort(&lt->w, &c->ws);
    }
}

/* Every second in a closed loop: a message that has not reached everyone after STALL_NS is no
 * longer waited for, so its sender goes on; deliveries that come later still count, and those
 * that never come are lost. */
static void check_stalls(struct lt *lt, int64_t now)
{
    if (!lt->closed_loop || lt->phase != G_RUN)
        return;
    for (int i = 0; i < lt->nstatic; i++) {
        struct client *s = &lt->c[i];
        for (uint32_t k = 0; s->ring && k <= s->ring_mask; k++) {
            struct msgrec *rec = &s->ring[k];
            if (rec->active && now - rec->sched_ns > STALL_NS) {
                rec->active = false;
                rec->late = true; /* what still arrives is counted, just not waited for */
                s->inflight--;
                schedule_closed_loop(lt, s, now);
            }
        }
    }
}

/* How long the drain waits: --drain, or for the quiz without it, as long as a game started just
 * before the window closed can last (every question to its deadline, every reveal's pause). */
static double drain_seconds(const struct lt *lt)
{
    if (lt->o.scenario != SC_QUIZ || lt->o.drain_set)
        return lt->o.drain;
    return lt->o.quiz_rounds * (lt->o.quiz_seconds + lt->quiz_reveal_ms / 1000.0) + 5;
}

static bool drained(const struct lt *lt)
{
    if (lt->o.scenario == SC_QUIZ)
        return lt->quiz_playing == 0 && lt->quiz_replies_owed == 0;
    return lt->r.deliveries_received >= lt->r.deliveries_expected &&
           lt->r.says_ok + lt->r.says_rejected >= lt->r.says_sent && lt->churn_active == 0;
}

/* Closes clients, at most --max-pending at a time and no faster than the `left` events they
 * cause come back: every close makes the server tell the other members (`left`), and closing
 * thousands at once would queue thousands of events to each remaining member in one go, which
 * a server may rightly treat as a client too slow to read. */
static void pace_close(struct lt *lt, int64_t now)
{
    if (lt->left_owed > lt->left_seen && now - lt->td_progress_ns > LEFT_STALL_NS)
        lt->left_seen = lt->left_owed; /* a miscount must not stall the teardown */
    while (lt->close_cursor < lt->n && lt->closing_now < lt->o.max_pending &&
           lt->left_owed - lt->left_seen < LEFT_BUDGET) {
        struct client *c = &lt->c[lt->close_cursor++];
        if (c->ws.state == WSC_OPEN && !c->ws.sent_close) {
            c->phase = C_CLOSING;
            c->teardown = true;
            lt->closing_now++;
            if (c->in_lobby && lt->td_lobby > 0)
                lt->left_owed += left_events(lt, lt->td_lobby--);
            if (c->in_room && lt->rooms[c->room].td_open > 0)
                lt->left_owed += left_events(lt, lt->rooms[c->room].td_open--);
            wsc_close(&lt->w, &c->ws, 1000);
        }
    }
}

static void begin_close(struct lt *lt, int64_t now)
{
    lt->phase = G_CLOSE;
    lt->close_deadline = now + CLOSE_WAIT_NS;
    for (int i = 0; i < lt->n; i++) { /* games the drain did not see end are lost */
        quiz_abandon(lt, &lt->c[i]);
        quiz_forget_replies(lt, &lt->c[i]);
    }
    lt->close_cursor = 0;
    lt->td_lobby = lt->lobby_joined;
    for (int k = 0; k < lt->nrooms; k++)
        lt->rooms[k].td_open = lt->rooms[k].joined;
    lt->left_owed = lt->left_seen = 0;
    lt->td_progress_ns = now;
    pace_close(lt, now);
}

static bool all_idle(const struct lt *lt)
{
    for (int i = 0; i < lt->n; i++)
        if (lt->c[i].ws.state != WSC_IDLE)
            return false;
    return true;
}

static void final_server_sample(struct lt *lt)
{
    struct proc_sample s;

    sample_server(lt, &s);
    if (s.ok) {
        lt->r.srv_rss_end_kb = s.rss_kb;
        lt->r.srv_fds_end = s.fds;
    }
    lt->r.srv_conns_end = proc_tcp_conns(lt->o.server_pid, lt->port);
}

static bool server_at_baseline(struct lt *lt)
{
    final_server_sample(lt);
    return lt->r.srv_fds_end >= 0 && lt->r.srv_fds_end <= lt->r.srv_fds_base &&
           (lt->r.srv_conns_base < 0 || lt->r.srv_conns_end <= lt->r.srv_conns_base);
}

static void progress(struct lt *lt, int64_t now)
{
    static const char *const names[] = {"setup", "run", "drain", "close", "settle", "done"};

    if (lt->o.quiet)
        return;
    if (lt->o.scenario == SC_QUIZ) {
        uint64_t errors = lt->r.unexpected_closes + lt->r.fail_by_end[WSC_END_CONNECT] +
                          lt->r.fail_by_end[WSC_END_ABORTED] + lt->r.quiz_lost_events;
        for (int i = 1; i <= PROTO_E_COUNT; i++)
            errors += lt->r.errors_by_code[i];
        fprintf(stderr,
                "[%6.1fs] %-6s handshakes %llu signed-in %llu ready %d games %llu playing %d "
                "answers %llu/%llu errors %llu\n",
                (double)(now - lt->t_begin) / 1e9, names[lt->phase],
                (unsigned long long)lt->r.handshakes, (unsigned long long)lt->r.signed_in,
                lt->ready_static, (unsigned long long)lt->r.quiz_games_completed, lt->quiz_playing,
                (unsigned long long)lt->r.quiz_answers_ok,
                (unsigned long long)lt->r.quiz_answers_sent, (unsigned long long)errors);
        return;
    }
    fprintf(stderr,
            "[%6.1fs] %-6s handshakes %llu signed-in %llu ready %d sent %llu received %llu/%llu "
            "errors %llu\n",
            (double)(now - lt->t_begin) / 1e9, names[lt->phase],
            (unsigned long long)lt->r.handshakes, (unsigned long long)lt->r.signed_in,
            lt->ready_static, (unsigned long long)lt->r.says_sent,
            (unsigned long long)lt->r.deliveries_received,
            (unsigned long long)lt->r.deliveries_expected,
            (unsigned long long)(lt->r.errors_by_code[0] + lt->r.unexpected_closes +
                                 lt->r.fail_by_end[WSC_END_CONNECT] +
                                 lt->r.fail_by_end[WSC_END_ABORTED]));
}

/* Starts clients as the ramp and the pending cap allow; returns the next start time or 0. */
static int64_t ramp(struct lt *lt, int *cursor, int end, int64_t now)
{
    while (*cursor < end && lt->pending < lt->o.max_pending) {
        if (lt->o.ramp > 0 && now < lt->next_start_ns)
            return lt->next_start_ns;
        start_client(lt, &lt->c[(*cursor)++], now);
        if (lt->o.ramp > 0)
            lt->next_start_ns += (int64_t)((double)NS_PER_SEC / lt->o.ramp);
    }
    return 0;
}

static void step(struct lt *lt, int64_t now, int64_t *wake)
{
    int64_t t;

    if ((signals_seen || lt->unfit) && (lt->phase == G_SETUP || lt->phase == G_RUN)) {
        lt->r.interrupted = true;
        if (lt->phase == G_SETUP) {
            lt->r.measure_start_ns = lt->r.measure_end_ns = now;
            lt->r.ready = (uint64_t)lt->ready_static;
        } else if (now < lt->r.measure_end_ns) {
            lt->r.measure_end_ns = now;
            if (lt->r.measure_start_ns > now)
                lt->r.measure_start_ns = now;
        }
        if (!lt->window_started)
            take_window_start(lt);
        take_window_end(lt);
        lt->phase = G_DRAIN;
        lt->drain_deadline = now + NS_PER_SEC;
    }
    switch (lt->phase) {
    case G_SETUP:
        t = ramp(lt, &lt->static_cursor, lt->nstatic, now);
        if (t && t < *wake)
            *wake = t;
        if (lt->static_cursor == lt->nstatic &&
            lt->ready_static + lt->failed_static == lt->nstatic) {
            begin_run(lt, now);
            lt->next_start_ns = now;
        } else if (now > lt->setup_deadline) {
            begin_run(lt, now);
            lt->next_start_ns = now;
        }
        break;
    case G_RUN:
        if (!lt->window_started && now >= lt->r.measure_start_ns)
            take_window_start(lt);
        t = ramp(lt, &lt->churn_cursor, lt->n, now);
        if (t && t < *wake)
            *wake = t;
        while (lt->heap_len && lt->heap[0].at <= now)
            run_timer(lt, heap_pop(lt), now);
        if (lt->heap_len && lt->heap[0].at < *wake)
            *wake = lt->heap[0].at;
        if (now >= lt->r.measure_end_ns) {
            take_window_end(lt);
            lt->phase = G_DRAIN;
            lt->drain_deadline = now + (int64_t)(drain_seconds(lt) * NS_PER_SEC);
            if (lt->o.scenario != SC_QUIZ) /* the quiz's games play on: answers still go */
                lt->heap_len = 0;
        } else if (lt->r.measure_start_ns > now && lt->r.measure_start_ns < *wake) {
            *wake = lt->r.measure_start_ns;
        } else if (lt->r.measure_end_ns < *wake) {
            *wake = lt->r.measure_end_ns;
        }
        break;
    case G_DRAIN:
        if (lt->o.scenario == SC_QUIZ) {
            while (lt->heap_len && lt->heap[0].at <= now)
                run_timer(lt, heap_pop(lt), now);
            if (lt->heap_len && lt->heap[0].at < *wake)
                *wake = lt->heap[0].at;
        } else {
            lt->heap_len = 0;
        }
        if (drained(lt) || now > lt->drain_deadline || signals_seen > 1)
            begin_close(lt, now);
        break;
    case G_CLOSE:
        pace_close(lt, now);
        if ((lt->close_cursor == lt->n && all_idle(lt)) || now > lt->close_deadline ||
            signals_seen > 1) {
            for (int i = 0; i < lt->n; i++) {
                if (lt->c[i].ws.state != WSC_IDLE) {
                    lt->r.stuck_at_end++;
                    lt->c[i].phase = C_FAILED; /* counted here, not again as a timeout */
                    wsc_abort(&lt->w, &lt->c[i].ws);
                }
            }
            lt->phase = G_SETTLE;
            lt->settle_deadline = now + (int64_t)(lt->o.settle * NS_PER_SEC);
        }
        break;
    case G_SETTLE:
        if (!lt->o.server_pid || signals_seen > 1 || server_at_baseline(lt) ||
            now > lt->settle_deadline)
            lt->phase = G_DONE;
        else if (now + 100 * NS_PER_MS < *wake)
            *wake = now + 100 * NS_PER_MS;
        break;
    case G_DONE:
        break;
    }
}

static void run(struct lt *lt)
{
    int64_t now = mono_ns();

    lt->t_begin = now;
    lt->others_setup_start = proc_others_ticks(lt->o.server_pid, 0);
    lt->next_tick = now + TICK_NS;
    lt->next_sample = now + NS_PER_SEC;
    lt->setup_deadline = now + (int64_t)(lt->o.setup_timeout * NS_PER_SEC);
    lt->next_start_ns = now;
    lt->static_cursor = 0;
    lt->churn_cursor = lt->nstatic;
    lt->phase = G_SETUP;
    while (lt->phase != G_DONE) {
        int64_t wake = now + TICK_NS;

        step(lt, now, &wake);
        if (lt->phase == G_DONE)
            break;
        if (now >= lt->next_tick) {
            tick(lt, now);
            lt->next_tick = now + TICK_NS;
        }
        if (now >= lt->next_sample) {
            struct proc_sample s;
            sample_server(lt, &s);
            check_stalls(lt, now);
            progress(lt, now);
            lt->next_sample = now + NS_PER_SEC;
        }
        if (lt->next_tick < wake)
            wake = lt->next_tick;
        if (lt->phase == G_SETUP && lt->static_cursor < lt->nstatic &&
            lt->pending < lt->o.max_pending && lt->o.ramp <= 0)
            wake = now;
        if (lt->phase == G_RUN && lt->churn_cursor < lt->n && lt->pending < lt->o.max_pending &&
            lt->o.ramp <= 0)
            wake = now;
        if (lt->phase == G_SETTLE && !lt->o.server_pid)
            wake = now;
        if (wsc_poll(&lt->w, wake > now ? wake - now : 0) < 0 && errno != EINTR) {
            perror("parlor-loadtest: epoll");
            break;
        }
        now = mono_ns();
    }
    lt->r.wall_ns_total = mono_ns() - lt->t_begin;
    lt->r.self_cpu_ns_total = self_cpu_ns();
    if (lt->o.server_pid)
        final_server_sample(lt);
}

/* ---- setup of the run ---- */

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: parlor-loadtest [options]\n"
        "Drives a parlor.v1 WebSocket server with many clients from one thread and reports\n"
        "delivery counts, latency percentiles, errors and (with --server-pid) the server's\n"
        "memory and CPU. Traffic goes only to --url; the run stops by itself.\n"
        "\n"
        "Scenarios (--scenario):\n"
        "  idle       ramp to N signed-in connections and hold them for --duration; reports the\n"
        "             handshake rate, time to all connected/signed in, server RSS per connection\n"
        "  chat       N clients in rooms of --room-size (the first member creates each room, the\n"
        "             others join); every client sends --rate messages/s on a fixed schedule;\n"
        "             with --rate 0 each keeps --inflight messages in flight instead (capacity)\n"
        "  broadcast  N clients join the lobby; client 0 sends. With --rate 0 (default) it keeps\n"
        "             --inflight messages in flight (the next goes when one has reached all N);\n"
        "             with --rate R it sends R messages/s on a fixed schedule\n"
        "  churn      N clients each loop: connect, hello, create a private room, say once, wait\n"
        "             for the echo, close (1000), repeat after --churn-pause\n"
        "  mixed      chat rooms for most clients, who also join the lobby where client 0 sends\n"
        "             --lobby-rate messages/s; --churn-share %% of the clients churn meanwhile\n"
        "  quiz       N bots at tables of --room-size: the first of each table creates a quiz\n"
        "             room (--quiz-rounds, --quiz-seconds), the others join; the host starts a\n"
        "             game, every bot answers each question with a random choice after a random\n"
        "             delay within 3/4 of the question time, and at game_over the host starts\n"
        "             the next game, until --duration ends; games still running finish in the\n"
        "             drain. Reports games, answers, lost events and the answer round trip\n"
        "\n"
        "Options (default in brackets):\n"
        "  --url URL             server WebSocket URL [ws://127.0.0.1:8080/ws]\n"
        "  --scenario NAME       idle, chat, broadcast, churn, mixed, quiz [chat]\n"
        "  -c, --connections N   clients [100]\n"
        "  --ramp R              connections started per second, 0 = as fast as --max-pending\n"
        "                        allows [0]\n"
        "  --max-pending N       connections that may be handshaking/signing in at once [256]\n"
        "  --room-size N         chat, mixed, quiz: members per room (2..the server's\n"
        "                        room_max_limit) [50; quiz 8]\n"
        "  --rate R              messages per second per sender; 0 = closed loop (chat,\n"
        "                        broadcast) [1; broadcast 0]\n"
        "  --inflight N          closed loop: messages in flight per sender [1]\n"
        "  --size BYTES          chat text length, at least the timestamp header [64]\n"
        "  --duration S          measured seconds (the hold time for idle) [10]\n"
        "  --warmup S            seconds of sending before measuring starts; messages scheduled\n"
        "                        then are checked for loss but not timed [1; idle, churn,\n"
        "                        quiz 0]\n"
        "  --drain S             after the window, wait up to this for in-flight deliveries\n"
        "                        [5; quiz: as long as a game can last, rounds x (seconds + the\n"
        "                        server's quiz_reveal_ms) + 5]\n"
        "  --setup-timeout S     give up on clients not set up by then [60]\n"
        "  --connect-timeout S   per connection: connect, upgrade and sign-in [10]\n"
        "  --churn-pause MS      churn: pause between rounds [0]\n"
        "  --lobby-rate R        mixed: lobby messages per second from client 0 [1]\n"
        "  --churn-share P       mixed: percent of clients that churn [10]\n"
        "  --quiz-rounds N       quiz: questions per game (1..the server's quiz_max_rounds) [3]\n"
        "  --quiz-seconds S      quiz: seconds per question (1..quiz_max_seconds) [1]\n"
        "  --name-prefix STR     user names are STR<client>_<round>, STR at most 8 chars [lt]\n"
        "  --server-pid PID      sample the server's RSS, CPU and fds from /proc/PID\n"
        "  --expect-baseline     with --server-pid: fail unless the server's fds and connections\n"
        "                        return to their values before the run\n"
        "  --settle S            time the server gets to return to its baseline [5]\n"
        "  --json FILE           also write the report as JSON to FILE\n"
        "  --max-p99 MS          exit 1 if the delivery latency p99 (quiz: the answer round\n"
        "                        trip's) is above MS\n"
        "  --max-errors N        exit 1 if more than N errors (lost deliveries, error replies,\n"
        "                        failed or dropped connections, ...)\n"
        "  -q, --quiet           no progress lines on stderr\n"
        "  -h, --help            this text\n"
        "\n"
        "Latency is measured from the time a message was scheduled to be sent (the payload\n"
        "carries it), not from when it was sent, so a slow server or a late generator shows up\n"
        "instead of being hidden. \"send lag\" is the generator's own lateness. In the quiz,\n"
        "\"answer\" is an answer's round trip (sent -> its ok) and \"question lag\" the time\n"
        "from the server opening a question (its deadline minus the question time, on the\n"
        "server's clock, set against ours with ping) to a bot reading it, to the ms.\n"
        "Exit status: 0 ok, 1 a --max-* threshold or --expect-baseline failed or a quiz run\n"
        "completed no game, 2 bad usage,\n"
        "3 cannot run (open-file limit, address, nothing connected).\n"
        "Ctrl-C stops the run early and still prints the report; a second Ctrl-C skips the\n"
        "close handshakes.\n");
}

static int parse_num(const char *name, const char *arg, double lo, double hi, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(arg, &end);
    if (errno || end == arg || *end || v < lo || v > hi) {
        fprintf(stderr, "parlor-loadtest: bad value for --%s: '%s' (want %g..%g)\n", name, arg, lo,
                hi);
        return -1;
    }
    *out = v;
    return 0;
}

enum {
    O_URL = 256,
    O_SCENARIO,
    O_RAMP,
    O_MAX_PENDING,
    O_ROOM_SIZE,
    O_RATE,
    O_INFLIGHT,
    O_SIZE,
    O_DURATION,
    O_WARMUP,
    O_DRAIN,
    O_SETUP_TIMEOUT,
    O_CONNECT_TIMEOUT,
    O_CHURN_PAUSE,
    O_LOBBY_RATE,
    O_CHURN_SHARE,
    O_NAME_PREFIX,
    O_SERVER_PID,
    O_EXPECT_BASELINE,
    O_SETTLE,
    O_JSON,
    O_MAX_P99,
    O_MAX_ERRORS,
    O_QUIZ_ROUNDS,
    O_QUIZ_SECONDS
};

static int parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, O_URL},
        {"scenario", required_argument, NULL, O_SCENARIO},
        {"connections", required_argument, NULL, 'c'},
        {"ramp", required_argument, NULL, O_RAMP},
        {"max-pending", required_argument, NULL, O_MAX_PENDING},
        {"room-size", required_argument, NULL, O_ROOM_SIZE},
        {"rate", required_argument, NULL, O_RATE},
        {"inflight", required_argument, NULL, O_INFLIGHT},
        {"size", required_argument, NULL, O_SIZE},
        {"duration", required_argument, NULL, O_DURATION},
        {"warmup", required_argument, NULL, O_WARMUP},
        {"drain", required_argument, NULL, O_DRAIN},
        {"setup-timeout", required_argument, NULL, O_SETUP_TIMEOUT},
        {"connect-timeout", required_argument, NULL, O_CONNECT_TIMEOUT},
        {"churn-pause", required_argument, NULL, O_CHURN_PAUSE},
        {"lobby-rate", required_argument, NULL, O_LOBBY_RATE},
        {"churn-share", required_argument, NULL, O_CHURN_SHARE},
        {"name-prefix", required_argument, NULL, O_NAME_PREFIX},
        {"server-pid", required_argument, NULL, O_SERVER_PID},
        {"expect-baseline", no_argument, NULL, O_EXPECT_BASELINE},
        {"settle", required_argument, NULL, O_SETTLE},
        {"json", required_argument, NULL, O_JSON},
        {"max-p99", required_argument, NULL, O_MAX_P99},
        {"max-errors", required_argument, NULL, O_MAX_ERRORS},
        {"quiz-rounds", required_argument, NULL, O_QUIZ_ROUNDS},
        {"quiz-seconds", required_argument, NULL, O_QUIZ_SECONDS},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool rate_set = false, warmup_set = false, room_size_set = false;
    double v;
    int opt;

    *o = (struct opts){
        .url = "ws://127.0.0.1:8080/ws",
        .scenario = SC_CHAT,
        .connections = 100,
        .max_pending = 256,
        .room_size = 50,
        .rate = 1,
        .inflight = 1,
        .size = 64,
        .duration = 10,
        .warmup = 1,
        .drain = 5,
        .setup_timeout = 60,
        .connect_timeout = 10,
        .settle = 5,
        .lobby_rate = 1,
        .churn_share = 10,
        .quiz_rounds = 3,
        .quiz_seconds = 1,
        .name_prefix = "lt",
        .max_p99 = -1,
        .max_errors = -1,
    };
#define NUM(name, lo, hi)                                                                          \
    do {                                                                                           \
        if (parse_num(name, optarg, lo, hi, &v))                                                   \
            return -1;                                                                             \
    } while (0)
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":c:qh", longopts, NULL)) != -1) {
        switch (opt) {
        case O_URL:
            o->url = optarg;
            break;
        case O_SCENARIO: {
            int i, count = (int)(sizeof(scenario_names) / sizeof(scenario_names[0]));
            for (i = 0; i < count && strcmp(optarg, scenario_names[i]); i++)
                ;
            if (i == count) {
                fprintf(stderr,
                        "parlor-loadtest: unknown scenario '%s' (idle, chat, broadcast, churn, "
                        "mixed, quiz)\n",
                        optarg);
                return -1;
            }
            o->scenario = (enum scenario)i;
            break;
        }
        case 'c':
            NUM("connections", 1, 1000000);
            o->connections = (int)v;
            break;
        case O_RAMP:
            NUM("ramp", 0, 1e7);
            o->ramp = v;
            break;
        case O_MAX_PENDING:
            NUM("max-pending", 1, 1000000);
            o->max_pending = (int)v;
            break;
        case O_ROOM_SIZE:
            NUM("room-size", 2, 1000000);
            o->room_size = (int)v;
            room_size_set = true;
            break;
        case O_RATE:
            NUM("rate", 0, 1e6);
            o->rate = v;
            rate_set = true;
            break;
        case O_INFLIGHT:
            NUM("inflight", 1, 10000);
            o->inflight = (int)v;
            break;
        case O_SIZE:
            NUM("size", 1, MAX_TEXT);
            o->size = (int)v;
            break;
        case O_DURATION:
            NUM("duration", 0.1, 86400);
            o->duration = v;
            break;
        case O_WARMUP:
            NUM("warmup", 0, 3600);
            o->warmup = v;
            warmup_set = true;
            break;
        case O_DRAIN:
            NUM("drain", 0, 3600);
            o->drain = v;
            o->drain_set = true;
            break;
        case O_SETUP_TIMEOUT:
            NUM("setup-timeout", 0.1, 86400);
            o->setup_timeout = v;
            break;
        case O_CONNECT_TIMEOUT:
            NUM("connect-timeout", 0.1, 3600);
            o->connect_timeout = v;
            break;
        case O_CHURN_PAUSE:
            NUM("churn-pause", 0, 3600000);
            o->churn_pause_ms = (int)v;
            break;
        case O_LOBBY_RATE:
            NUM("lobby-rate", 0, 1e6);
            o->lobby_rate = v;
            break;
        case O_CHURN_SHARE:
            NUM("churn-share", 0, 100);
            o->churn_share = (int)v;
            break;
        case O_NAME_PREFIX:
            if (!*optarg || strlen(optarg) > NAME_PREFIX_MAX ||
                strspn(optarg,
                       "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
                    strlen(optarg)) {
                fprintf(stderr, "parlor-loadtest: --name-prefix: 1-%d of A-Z a-z 0-9 _ -\n",
                        NAME_PREFIX_MAX);
                return -1;
            }
            o->name_prefix = optarg;
            break;
        case O_SERVER_PID:
            NUM("server-pid", 1, 4194304);
            o->server_pid = (int)v;
            break;
        case O_EXPECT_BASELINE:
            o->expect_baseline = true;
            break;
        case O_SETTLE:
            NUM("settle", 0, 3600);
            o->settle = v;
            break;
        case O_JSON:
            o->json_path = optarg;
            break;
        case O_MAX_P99:
            NUM("max-p99", 0, 1e9);
            o->max_p99 = v;
            break;
        case O_MAX_ERRORS:
            NUM("max-errors", 0, 1e15);
            o->max_errors = (long long)v;
            break;
        case O_QUIZ_ROUNDS:
            NUM("quiz-rounds", 1, 1000);
            o->quiz_rounds = (int)v;
            break;
        case O_QUIZ_SECONDS:
            NUM("quiz-seconds", 1, 3600);
            o->quiz_seconds = (int)v;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case ':':
            fprintf(stderr, "parlor-loadtest: option %s needs a value (see --help)\n",
                    argv[optind - 1]);
            return -1;
        default:
            fprintf(stderr, "parlor-loadtest: unknown option %s (see --help)\n", argv[optind - 1]);
            return -1;
        }
    }
#undef NUM
    if (optind < argc) {
        fprintf(stderr, "parlor-loadtest: unexpected argument '%s' (see --help)\n", argv[optind]);
        return -1;
    }
    if (o->scenario == SC_BROADCAST && !rate_set)
        o->rate = 0;
    if ((o->scenario == SC_IDLE || o->scenario == SC_CHURN || o->scenario == SC_QUIZ) &&
        !warmup_set)
        o->warmup = 0;
    if (o->scenario == SC_QUIZ && !room_size_set)
        o->room_size = 8;
    if (o->expect_baseline && !o->server_pid) {
        fprintf(stderr, "parlor-loadtest: --expect-baseline needs --server-pid\n");
        return -1;
    }
    if (o->scenario == SC_MIXED && o->rate <= 0) {
        fprintf(stderr, "parlor-loadtest: mixed needs --rate above 0\n");
        return -1;
    }
    return 0;
}

/* Splits ws://host[:port][/path] and resolves host. Returns 0, -1 when the URL is malformed or
 * -2 when the host cannot be resolved (message printed). */
static int resolve_url(const char *url, struct sockaddr_storage *addr, socklen_t *alen,
                       char *hosthdr, size_t hostlen, char *path, size_t pathlen, int *port_out)
{
    char host[256], port[16] = "80";
    const char *p, *slash, *colon;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    size_t hl;
    int rc;

    if (strncmp(url, "ws://", 5)) {
        fprintf(stderr, "parlor-loadtest: --url must start with ws:// (wss is not supported)\n");
        return -1;
    }
    p = url + 5;
    slash = strchr(p, '/');
    snprintf(path, pathlen, "%s", slash ? slash : "/");
    hl = slash ? (size_t)(slash - p) : strlen(p);
    if (!hl || hl >= sizeof(host)) {
        fprintf(stderr, "parlor-loadtest: bad --url '%s'\n", url);
        return -1;
    }
    snprintf(hosthdr, hostlen, "%.*s", (int)hl, p);
    if (p[0] == '[') { /* [v6]:port */
        const char *close = memchr(p, ']', hl);
        if (!close) {
            fprintf(stderr, "parlor-loadtest: bad --url '%s'\n", url);
            return -1;
        }
        snprintf(host, sizeof(host), "%.*s", (int)(close - p - 1), p + 1);
        if (close + 1 < p + hl && close[1] == ':')
            snprintf(port, sizeof(port), "%.*s", (int)(p + hl - close - 2), close + 2);
    } else {
        colon = memchr(p, ':', hl);
        snprintf(host, sizeof(host), "%.*s", (int)(colon ? (size_t)(colon - p) : hl), p);
        if (colon)
            snprintf(port, sizeof(port), "%.*s", (int)(p + hl - colon - 1), colon + 1);
    }
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc || !res) {
        fprintf(stderr, "parlor-loadtest: cannot resolve '%s' port '%s': %s\n", host, port,
                gai_strerror(rc));
        return -2;
    }
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    *alen = res->ai_addrlen;
    *port_out = atoi(port);
    freeaddrinfo(res);
    return 0;
}

static int raise_nofile(int need)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl)) {
        perror("parlor-loadtest: getrlimit");
        return -1;
    }
    if (rl.rlim_cur >= (rlim_t)need)
        return 0;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)need) {
        fprintf(stderr,
                "parlor-loadtest: %d connections need %d open files, but the hard limit is %llu."
                "\n  Raise it (ulimit -Hn, or LimitNOFILE= / limits.conf) or use fewer "
                "connections.\n",
                need - FD_MARGIN, need, (unsigned long long)rl.rlim_max);
        return -1;
    }
    rl.rlim_cur = (rlim_t)need;
    if (setrlimit(RLIMIT_NOFILE, &rl)) {
        fprintf(stderr, "parlor-loadtest: cannot raise the open-file limit to %d: %s\n", need,
                strerror(errno));
        return -1;
    }
    return 0;
}

static int build_clients(struct lt *lt)
{
    const struct opts *o = &lt->o;
    int nchurn = 0;

    lt->n = o->connections;
    if (o->scenario == SC_CHURN)
        nchurn = lt->n;
    else if (o->scenario == SC_MIXED && o->churn_share > 0)
        nchurn = (int)((long long)lt->n * o->churn_share / 100);
    lt->nstatic = lt->n - nchurn;
    if (o->scenario == SC_MIXED && lt->nstatic < 2) {
        fprintf(stderr, "parlor-loadtest: mixed needs at least 2 non-churning clients\n");
        return -1;
    }
    lt->c = calloc((size_t)lt->n, sizeof(*lt->c));
    if (!lt->c)
        return -1;
    for (int i = 0; i < lt->n; i++) {
        lt->c[i].ws.fd = -1;
        lt->c[i].idx = (uint32_t)i;
        lt->c[i].room = -1;
        lt->c[i].role = i < lt->nstatic ? ROLE_STATIC : ROLE_CHURN;
        lt->c[i].initial = i < lt->nstatic;
        qbot_init(&lt->c[i].qb, o->quiz_rounds);
    }
    if (o->scenario == SC_CHAT || o->scenario == SC_MIXED || o->scenario == SC_QUIZ) {
        lt->nrooms = (lt->nstatic + o->room_size - 1) / o->room_size;
        lt->rooms = calloc((size_t)lt->nrooms, sizeof(*lt->rooms));
        if (!lt->rooms)
            return -1;
        for (int k = 0; k < lt->nrooms; k++) {
            lt->rooms[k].first = k * o->room_size;
            lt->rooms[k].count = lt->nstatic - lt->rooms[k].first < o->room_size
                                     ? lt->nstatic - lt->rooms[k].first
                                     : o->room_size;
            for (int i = 0; i < lt->rooms[k].count; i++)
                lt->c[lt->rooms[k].first + i].room = k;
        }
        /* a lone last member could not make a room of its own */
        if (lt->nrooms > 1 && lt->rooms[lt->nrooms - 1].count == 1) {
            lt->nrooms--;
            lt->c[lt->nstatic - 1].room = lt->nrooms - 1;
            lt->rooms[lt->nrooms - 1].count++;
        }
    }
    lt->sender = 0;
    lt->quiz_reveal_ms = 3000;  /* PROTOCOL.md's default, until a welcome says */
    lt->presence_max = INT_MAX; /* a server that says nothing announces every departure */
    lt->rng = (uint64_t)real_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ULL;
    if (!lt->rng)
        lt->rng = 1;
    qbot_clock_init(&lt->clock);
    lt->closed_loop = (o->scenario == SC_BROADCAST || o->scenario == SC_CHAT) && o->rate <= 0;
    memset(lt->text_pad, '.', MAX_TEXT);
    return 0;
}

static const char *mode_text(const struct lt *lt, char *buf, size_t cap)
{
    const struct opts *o = &lt->o;

    switch (o->scenario) {
    case SC_IDLE:
        snprintf(buf, cap, "nothing: connections are held for %.1f s", o->duration);
        break;
    case SC_CHAT:
        if (lt->closed_loop)
            snprintf(buf, cap,
                     "closed loop, each client keeps %d message(s) in flight, in %d rooms of up "
                     "to %d, %d-byte text",
                     o->inflight, lt->nrooms, o->room_size, o->size);
        else
            snprintf(buf, cap,
                     "open loop, %g msg/s per client in %d rooms of up to %d, %d-byte text",
                     o->rate, lt->nrooms, o->room_size, o->size);
        break;
    case SC_BROADCAST:
        if (lt->closed_loop)
            snprintf(buf, cap, "closed loop, %d message(s) in flight to the lobby, %d-byte text",
                     o->inflight, o->size);
        else
            snprintf(buf, cap, "open loop, %g msg/s to the lobby, %d-byte text", o->rate, o->size);
        break;
    case SC_CHURN:
        snprintf(buf, cap, "churn: connect, hello, create, say, close; pause %d ms",
                 o->churn_pause_ms);
        break;
    case SC_MIXED:
        snprintf(buf, cap,
                 "open loop, %g msg/s per client in %d rooms of up to %d, %g msg/s to the lobby, "
                 "%d churning",
                 o->rate, lt->nrooms, o->room_size, o->lobby_rate, lt->n - lt->nstatic);
        break;
    case SC_QUIZ:
        snprintf(buf, cap,
                 "quiz: %d tables of up to %d, games of %d round(s) of %d s played back to back; "
                 "each bot answers a random choice within 3/4 of the time",
                 lt->nrooms, o->room_size, o->quiz_rounds, o->quiz_seconds);
        break;
    default:
        buf[0] = '\0';
    }
    return buf;
}

int main(int argc, char **argv)
{
    static struct lt lt; /* large (histograms): not on the stack */
    struct sockaddr_storage addr;
    socklen_t alen;
    char hosthdr[300], path[512], mode[256];
    struct sigaction sa;
    struct derived d;
    struct proc_sample base;

    if (parse_args(argc, argv, &lt.o))
        return EXIT_USAGE;
    switch (resolve_url(lt.o.url, &addr, &alen, hosthdr, sizeof(hosthdr), path, sizeof(path),
                        &lt.port)) {
    case 0:
        break;
    case -1:
        return EXIT_USAGE;
    default:
        return EXIT_CANNOT_RUN;
    }
    if (raise_nofile(lt.o.connections + FD_MARGIN))
        return EXIT_CANNOT_RUN;
    if (lt.o.server_pid && proc_sample(lt.o.server_pid, &base)) {
        fprintf(stderr, "parlor-loadtest: cannot read /proc/%d (--server-pid)\n", lt.o.server_pid);
        return EXIT_CANNOT_RUN;
    }
    if (build_clients(&lt))
        return EXIT_CANNOT_RUN;
    if (wsc_init(&lt.w, (struct sockaddr *)&addr, alen, hosthdr, path, PROTO_SUBPROTOCOL,
                 &client_ops, &lt)) {
        perror("parlor-loadtest: init");
        return EXIT_CANNOT_RUN;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: epoll_wait returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    report_init(&lt.r);
    lt.r.scenario = scenario_names[lt.o.scenario];
    lt.r.url = lt.o.url;
    lt.r.mode = mode_text(&lt, mode, sizeof(mode));
    lt.r.connections = lt.o.connections;
    lt.r.room_size =
        lt.o.scenario == SC_CHAT || lt.o.scenario == SC_MIXED || lt.o.scenario == SC_QUIZ
            ? lt.o.room_size
            : 0;
    if (lt.o.scenario == SC_QUIZ) {
        lt.r.quiz = true;
        lt.r.quiz_tables = lt.nrooms;
        lt.r.quiz_rounds = lt.o.quiz_rounds;
        lt.r.quiz_seconds = lt.o.quiz_seconds;
    }
    lt.r.rate = lt.o.rate;
    lt.r.size = lt.o.size;
    lt.r.duration_s = lt.o.duration;
    lt.r.warmup_s = lt.o.warmup;
    lt.r.ramp = lt.o.ramp;
    lt.r.max_p99_ms = lt.o.max_p99;
    lt.r.max_errors = lt.o.max_errors;
    lt.r.ticks_per_sec = proc_ticks_per_sec();
    lt.r.check_baseline = lt.o.expect_baseline;
    if (lt.o.server_pid) {
        lt.r.server_pid = lt.o.server_pid;
        lt.r.srv_rss_base_kb = lt.r.srv_rss_peak_kb = base.rss_kb;
        lt.r.srv_fds_base = base.fds;
        lt.r.srv_conns_base = proc_tcp_conns(lt.o.server_pid, lt.port);
    }

    run(&lt);
    lt.r.clock_samples = lt.clock.samples;
    lt.r.clock_offset_ns = lt.clock.offset_ns;
    lt.r.clock_error_ns = lt.clock.samples ? lt.clock.error_ns : 0;
    lt.r.clock_applied = qbot_clock_correction(&lt.clock) != 0;

    report_derive(&lt.r, &d);
    report_print(stdout, &lt.r, &d);
    fflush(stdout);
    if (lt.o.json_path) {
        json_t *j = report_json(&lt.r, &d);
        if (!j || json_dump_file(j, lt.o.json_path, JSON_INDENT(2) | JSON_REAL_PRECISION(6))) {
            fprintf(stderr, "parlor-loadtest: cannot write %s\n", lt.o.json_path);
            json_decref(j);
            return EXIT_CANNOT_RUN;
        }
        json_decref(j);
    }
    if (!lt.r.handshakes) {
        fprintf(stderr, "parlor-loadtest: no connection succeeded; is the server at %s?\n",
                lt.o.url);
        return EXIT_CANNOT_RUN;
    }
    if (lt.unfit)
        return EXIT_USAGE;
    return d.exit_code;
}
