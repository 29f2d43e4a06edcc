/*
 * parlor-loadtest's shared state: the run (`struct lt`), its clients and rooms, and the
 * prototypes of the modules that work on them: client.c (one connection's requests and
 * replies), traffic.c (the chat senders), run.c (the phases of a run) and the scenarios behind
 * scenario.h. Everything runs on one thread: an epoll loop (wsc.c) plus a timer heap (theap.c);
 * the only other code that runs is the SIGINT/SIGTERM handler, which bumps lt_signals_seen.
 */
#ifndef PARLOR_LT_LT_H
#define PARLOR_LT_LT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "flags.h"
#include "order.h"
#include "procstat.h"
#include "qbot.h"
#include "report.h"
#include "scan.h"
#include "theap.h"
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
#define QUIZ_CHOICES    4 /* PROTOCOL.md 4.10: a question has 4 choices */
#define EXIT_USAGE      2
#define EXIT_CANNOT_RUN 3

/* Several URLs: a room made on one node reaches the others' lists through Redis a moment after
 * its `create`, so a member's join there may find no such room yet; it asks again this often,
 * this many times, before the client gives up (README "Running a cluster"). */
#define JOIN_RETRY_NS (50 * NS_PER_MS)
#define JOIN_RETRIES  200

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

/* Timer heap entries (struct tev's kind). */
enum tkind { T_SEND, T_SEND_LOBBY, T_RESTART, T_ANSWER, T_JOIN_RETRY };

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
    struct order_member order[2]; /* several URLs: its place in its room [0] and the lobby [1] */
    struct qbot qb;               /* quiz: where this bot is in its table's game */
    uint64_t answer_no;           /* quiz: answers sent, the sequence in their request ids */
    int64_t answer_sent_ns;       /* quiz: when the last answer went */
    bool answer_measured;         /* quiz: ... and whether that was inside the window */
    uint8_t quiz_owed;            /* quiz: its `start` and `answer` requests not answered yet */
    int64_t ping_sent_real;       /* quiz host: CLOCK_REALTIME when its `ping` went */
    struct msgrec *ring;
    uint32_t ring_mask;
    uint32_t inflight;          /* messages not yet fully delivered (closed loop) */
    char own_room[ROOM_ID_MAX]; /* churn: the room it created this round */
    uint16_t join_tries;        /* several URLs: joins refused as no_such_room so far */
};

struct room {
    char id[ROOM_ID_MAX];
    int first, count; /* members are clients first..first+count-1 */
    int joined;       /* members in it now */
    int td_open;      /* teardown: members we have not asked to close yet */
    bool created;
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

    struct theap heap;

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

    bool check_order;         /* several URLs: every room's members must agree on its order */
    struct order_check order; /* ... checked here: rooms are keyed 1 + index, the lobby 0 */

    struct report r;
    struct proc_sample srv_window_start;
    int64_t self_cpu_window_start;
    uint64_t others_window_start; /* proc_others_ticks() when the window began */
    uint64_t others_setup_start;  /* and when the setup began */
    char text_pad[FLAGS_MAX_TEXT + 1];
};

/* SIGINT/SIGTERM seen (run.c's handler): 1 stops the run early, 2 skips the close handshakes. */
extern volatile sig_atomic_t lt_signals_seen;

static inline int64_t lt_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static inline int64_t lt_real_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* True while the measurement window is open. */
static inline bool lt_in_window(const struct lt *lt, int64_t now)
{
    return now >= lt->r.measure_start_ns && now < lt->r.measure_end_ns;
}

static inline uint64_t lt_req_id(uint64_t seq, enum kind k)
{
    return seq << KIND_BITS | (uint64_t)k;
}

/* ---- client.c: one connection's requests, replies and setup steps ---- */

/* The callbacks wsc.c runs for every connection (its user data is the struct lt). */
extern const struct wsc_ops client_ops;
/* Schedules timer `kind` for client `client` at `at`; out of memory ends the process (3). */
void client_timer_at(struct lt *lt, int64_t at, uint32_t client, uint8_t kind, uint16_t round);
/* Runs one timer that fell due. */
void client_run_timer(struct lt *lt, struct tev t, int64_t now);
/* Opens (or reopens, for churn) client `c`'s connection. */
void client_start(struct lt *lt, struct client *c, int64_t now);
/* Sends one request built from `fmt` (dropped if it does not fit). */
void client_send(struct lt *lt, struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void client_send_join(struct lt *lt, struct client *c, const char *room, enum kind k);
/* Sends one chat message scheduled at `sched` to `room`, expecting `expect` deliveries. */
void client_send_say(struct lt *lt, struct client *c, const char *room, uint32_t expect,
                     int64_t sched, enum kind k);
/* Closed loop: a sender's message is done (delivered everywhere, refused, or given up), so its
 * next one goes at `when` (if the run is still sending). */
void client_resend(struct lt *lt, struct client *s, int64_t when);
/* Chat rooms: the leader creates, the others join once the id is known. */
void client_join_or_wait(struct lt *lt, struct client *c);
/* The client is set up: it sends on schedule from now on. */
void client_mark_ready(struct lt *lt, struct client *c);
/* Reads `key` of m[0..n) as an integer within [lo, hi]. */
bool client_field_int(const struct member *m, int n, const char *key, int64_t lo, int64_t hi,
                      int64_t *out);

/* ---- run.c: the phases of a run ---- */

/* Lays out clients and rooms for the scenario. Returns 0, or -1 (message printed or out of
 * memory). */
int run_setup(struct lt *lt);
/* Installs the SIGINT/SIGTERM handler and ignores SIGPIPE. */
void run_catch_signals(void);
/* Runs setup, run, drain, close and settle until done (or interrupted twice). */
void run(struct lt *lt);

#endif
