/*
 * What a scenario is: one ops table per file in scenarios/, each saying how its clients are
 * laid out and set up, what they send when the run starts and on each timer, which events and
 * replies of its own it reads, and how it reports. client.c and run.c call only these hooks;
 * a NULL hook means the common behaviour, given beside it. Everything runs on the load
 * generator's only thread.
 */
#ifndef PARLOR_LT_SCENARIO_H
#define PARLOR_LT_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lt.h"

struct scenario_ops {
    const char *name;     /* --scenario NAME, and the report's "scenario" */
    const char *help;     /* what it does, for --help */
    bool rooms;           /* static clients sit in rooms of --room-size */
    bool closed_loop;     /* --rate 0 means a closed loop (else the rate is a schedule) */
    bool timers_in_drain; /* timers still run after the window (quiz: games play on) */
    int min_static;       /* clients that must not churn, at least */

    /* After the flags are read: defaults of its own for the flags not given. */
    void (*configure)(struct opts *o);
    /* Then, after the common checks: -1 (message printed) if the flags do not fit it. */
    int (*check)(const struct opts *o);
    /* How many of `n` clients churn (NULL: none). */
    int (*churners)(const struct opts *o, int n);
    /* The report's one-line description of the traffic. */
    void (*mode)(const struct lt *lt, char *buf, size_t cap);
    /* Fills its own report fields before the run (NULL: none). */
    void (*report_setup)(struct lt *lt);

    /* A static client signed in: its next setup step (NULL: ready at once). */
    void (*signed_in)(struct lt *lt, struct client *c);
    /* A static client got into its room (NULL: client_mark_ready). */
    void (*room_joined)(struct lt *lt, struct client *c);
    /* Setup is over: the first sends of the run (NULL: nothing to send). */
    void (*start)(struct lt *lt, int64_t now);
    /* One of its timers fell due (every kind but T_RESTART; NULL: it sets none). */
    void (*timer)(struct lt *lt, struct tev t, int64_t now);
    /* Closed loop (only if closed_loop): sender `s` may send its next message at `when`. */
    void (*resend)(struct lt *lt, struct client *s, int64_t when);

    /* An event client.c does not read itself; false when it is not one of its own. */
    bool (*on_event)(struct lt *lt, struct client *c, struct span type, const struct member *m,
                     int n);
    /* Each `welcome` (NULL: nothing more than the common presence_max). */
    void (*on_welcome)(struct lt *lt, const struct member *m, int n);
    /* A reply to one of its own request kinds (K_START and after). */
    void (*on_reply)(struct lt *lt, struct client *c, enum kind k, uint64_t seq,
                     const struct member *m, int n, bool is_error);
    /* A static client's connection ended, or the run wrote its client off (NULL: nothing). */
    void (*client_ended)(struct lt *lt, struct client *c);

    /* Seconds the drain waits (NULL: --drain). */
    double (*drain_seconds)(const struct lt *lt);
    /* Nothing more is owed (NULL: every delivery and reply is in, no churn client is open). */
    bool (*drained)(const struct lt *lt);
    /* One progress line on stderr (NULL: the chat figures). */
    void (*progress)(const struct lt *lt, int64_t now, const char *phase);
};

extern const struct scenario_ops scenario_idle, scenario_chat, scenario_broadcast, scenario_churn,
    scenario_mixed, scenario_quiz;

/* The scenario called `name`, or NULL. */
const struct scenario_ops *scenario_find(const char *name);
/* The i-th scenario, in --help's order, or NULL past the last. */
const struct scenario_ops *scenario_at(size_t i);
/* "idle, chat, ...": every scenario's name, for messages. */
void scenario_list(char *buf, size_t cap);

/* traffic.c: the chat senders that chat, broadcast and mixed share. */

/* T_SEND: client t.client says in its room, and (open loop) schedules its next message. */
void traffic_send_room(struct lt *lt, struct tev t, int64_t now);
/* T_SEND_LOBBY: the same in the lobby, `rate` messages per second in an open loop. */
void traffic_send_lobby(struct lt *lt, struct tev t, int64_t now, double rate);
/* The run starts: every ready static client's first message(s) to its room, spread over one
 * period (open loop) or 100 ms, --inflight each (closed loop). */
void traffic_start_rooms(struct lt *lt, int64_t now);
/* The same for every ready static client's messages to the lobby, at --rate. */
void traffic_start_lobby(struct lt *lt, int64_t now);

#endif
