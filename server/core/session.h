/*
 * A session is one connection's state: identity, rooms, rate buckets and its send queue.
 * Sessions are named by a 64-bit id wherever a reference must outlive a callback (pool jobs),
 * never by pointer. Loop thread only.
 */
#ifndef PARLOR_SESSION_H
#define PARLOR_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "keepalive.h"
#include "names.h"
#include "proto.h"
#include "ratelimit.h"
#include "sendq.h"
#include "timer.h"

struct server;
struct room;

#define SESSION_NAME_MAX NAMES_BYTES_MAX /* bytes of a name's UTF-8 */

struct session {
    uint64_t id;
    /* Who plays in a game: the first session's id, kept by every resume (on any node), so a
     * seat never moves when the connection does. */
    uint64_t seat;
    struct server *srv;
    void *conn; /* the transport's handle (struct lws *); NULL once closed */

    bool signed_in;
    bool admin;             /* an operator's console connection (parlor-admin.v1) */
    bool admin_authed;      /* ...that has presented the admin token */
    char addr[64];          /* the peer's address */
    uint32_t messages_sent; /* say and whisper */
    bool auth_pending;      /* a register or login is being checked on the pool */
    int64_t user_id;        /* the account, or 0 for a guest */
    char name[SESSION_NAME_MAX + 1];
    char name_key[NAMES_KEY_MAX]; /* names_key(): key of sessions_by_name */

    struct room **rooms; /* rooms this session is in */
    int nrooms, rooms_cap;

    struct sendq sendq;
    /* A resume's missed events: written after the first `replay_after` queued messages (the
     * resume's reply) and before anything queued later, serialized one at a time as the
     * socket drains, so a replay never counts against the queue's limits. */
    json_t **replay;
    int replay_len, replay_next;
    size_t replay_after;
    struct msgbuf *replay_out; /* replay[replay_next], serialized for the writer */
    bool over_soft;            /* queue past a soft limit: soft_sul armed */
    int reads_held;            /* large replies on their way (session_hold_reading) */
    bool not_read;             /* the transport was told to stop reading */
    loop_timer soft_sul;       /* closes the session if it stays over for long */
    struct tbucket req_bucket, say_bucket;
    int64_t limited_since_ms; /* start of the current run of refusals, 0 when none */
    int64_t last_limited_ms;  /* the latest refusal */

    bool closing;     /* close requested: nothing more is read or queued */
    bool peer_closed; /* the client sent a close frame: it left on purpose */
    bool detached;    /* the connection dropped; identity and seats kept for a rejoin */
    bool handed_over; /* its player goes on on another node of a cluster (a drain, a resume) */
    int awaiting;     /* replies waiting for another node (chat.c): reading is held meanwhile */
    bool await_held;
    loop_timer grace_sul; /* end of the rejoin grace period */
    int close_code;
    char close_reason[64];

    unsigned char *rx; /* reassembly of a fragmented message, up to max_message */
    size_t rx_len;

    struct keepalive_entry ka; /* sign-in, ping and idle deadlines, kept by the transport */
    bool ping_due;             /* a ping goes out with the next write */
    lws_dll2_t flush;          /* in the transport's list of queues to write this loop turn */
    int64_t connected_ms;      /* wall clock */
};

/* Creates and registers a session for a new connection; NULL when out of memory. */
struct session *session_new(struct server *srv, void *conn);
/* Unregisters and frees; the session must have left its rooms (chat_session_closed). */
void session_free(struct session *s);
struct session *session_by_id(struct server *srv, uint64_t id);
/* The signed-in session with this name, compared by names_key(); NULL if none. */
struct session *session_by_name(struct server *srv, const char *name);
/* True when a signed-in session has this name, or one confusable with it (names_skeleton()). */
bool session_name_confusable(struct server *srv, const char *name);
/* Claims a name: 0, or -1 when another session holds it (or out of memory). */
int session_set_name(struct session *s, const char *name);
/* Lets the session's name go (an unconfirmed claim, or the end of the session). */
void session_clear_name(struct session *s);
/* A rejoin: `s` takes over `old`'s name, which now finds `s`. */
void session_take_name(struct session *s, struct session *old);

/* Queues a message (taking a new reference). A queue past a hard limit closes the session
 * with 1008 "too slow" at once; past a soft limit, the connection is not read until the queue
 * is back under it, and closed if it stays over for sendq_soft_seconds. Returns 0 or -1
 * (closed or closing: nothing was queued). */
int session_send(struct session *s, struct msgbuf *m);
/* Takes over `events` (a malloc'd array and its references): they are written after what is
 * queued now and before anything queued later, outside the queue's limits. */
void session_replay(struct session *s, json_t **events, int n);
/* The next message to write, or NULL; it stays next until session_out_pop(). */
struct msgbuf *session_out_peek(struct session *s);
/* The message session_out_peek() returned has been written. */
void session_out_pop(struct session *s);
/* The connection is not read from now until the matching session_release_reading(): a
 * request whose reply may be large (a history page) holds it while the reply is on its way,
 * so pipelined requests wait in the socket instead of piling up replies in the queue. */
void session_hold_reading(struct session *s);
void session_release_reading(struct session *s);
/* Drops everything queued or waiting to be replayed (a dropped or too slow connection). */
void session_drop_output(struct session *s);
/* Serializes and queues `json`, dropping the caller's reference. */
int session_send_json(struct session *s, json_t *json);
/* The one way to refuse a request: an `error` reply to `re` with `code`, the bad `field` (a
 * static string, or NULL) and a message formatted from `fmt`. */
void session_reply_error(struct session *s, struct proto_re re, enum proto_err code,
                         const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Asks the transport to close with `code` and `reason` once the queue is written (a "too
 * slow" close drops the queue). Nothing more is queued after it. Idempotent. */
void session_close(struct session *s, int code, const char *reason);

bool session_in_room(const struct session *s, const struct room *r);
int session_add_room(struct session *s, struct room *r);
void session_remove_room(struct session *s, struct room *r);

#endif
