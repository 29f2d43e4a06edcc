/*
 * The chat log: persists every chat message with group commit, and reads history pages, in
 * one ordered lane on the worker pool.
 *
 * Messages accepted during one loop turn (or within --db-batch-ms) are committed together in
 * one transaction, so thousands of chatting clients cost a few fsyncs a second, not thousands.
 * The chat event goes to the room at once; the sender's ok {seq} is sent only once its batch
 * has committed, so an acknowledged message is a saved message. While one batch is being
 * written the next accumulates: the busier the server, the larger the batches.
 *
 * Operations run one at a time in arrival order, so a history read sees every message
 * accepted before it. Completion is reported through the callbacks given to chatlog_init(),
 * so the chat log never talks to sessions. Loop thread only (the jobs it submits run on workers and
 * touch only their own copies of the data).
 */
#ifndef PARLOR_CHATLOG_H
#define PARLOR_CHATLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "histo.h"
#include "proto.h"
#include "timer.h"

struct server;
struct pool;
struct chatlog_op;

struct chatlog_entry {
    uint64_t session_id; /* who gets the ok; 0 for nobody */
    struct proto_re re;
    char *room, *sender, *text; /* one allocation, owned */
    uint64_t seq;
    int64_t ts;
};

struct chatlog_stats {
    uint64_t batches;  /* committed transactions */
    uint64_t rows;     /* messages committed */
    uint64_t failures; /* batches that failed */
    size_t max_batch;  /* largest batch so far */
    size_t pending;    /* accepted, not yet handed to a worker */
    /* Microseconds each committed batch spent in its transaction on a worker (the pool's run
     * time of the job: what the engine's commit costs, waiting for a worker excluded). */
    struct histo commit_us;
    /* Microseconds each of those batches waited for a worker to take it: on a busy core the
     * workers, which run below the loop's priority, may start late. */
    struct histo wait_us;
};

/* Completions, on the loop thread; the replies they make are the chat service's business
 * (chat_message_saved(), chat_history_read()). `error` is NULL on success. */
/* The message `seq` from session `session_id` (never 0) is saved, or failed to be. */
typedef void chatlog_saved_fn(struct server *srv, uint64_t session_id, struct proto_re re,
                              uint64_t seq, const char *error);
/* The history page asked for by session `session_id` is read: `messages` (borrowed; NULL on
 * error). */
typedef void chatlog_history_fn(struct server *srv, uint64_t session_id, struct proto_re re,
                                json_t *messages, const char *error);

struct chatlog {
    struct server *srv;
    chatlog_saved_fn *on_saved;
    chatlog_history_fn *on_history;
    struct pool *pool;
    int batch_ms;       /* how long a batch may wait to gather more */
    size_t batch_max;   /* rows per transaction */
    size_t pending_max; /* accepted-but-unwritten rows before say gets server_busy */

    struct chatlog_entry *pending; /* accepted, not yet in an operation */
    size_t npending, cap;
    struct chatlog_op *head, *tail; /* operations in order; head is on a worker if busy */
    bool busy;
    bool flush_scheduled;
    bool stopping;
    loop_timer flush_sul;
    loop_timer retry_sul; /* the pool was full: try again shortly */
    struct chatlog_stats stats;
};

int chatlog_init(struct chatlog *cl, struct server *srv, struct pool *pool, int batch_ms,
                 int batch_max, int pending_max, chatlog_saved_fn *on_saved,
                 chatlog_history_fn *on_history);
/* True when a new message would pass pending_max: refuse it before any side effect. */
bool chatlog_full(const struct chatlog *cl);
/* Queues a message for the next batch; on_saved() is called for session `session_id` (unless
 * 0) after commit or failure. 0, or -1 when out of memory. */
int chatlog_append(struct chatlog *cl, uint64_t session_id, struct proto_re re, const char *room,
                   uint64_t seq, const char *sender, const char *text, int64_t ts);
/* Reads up to `limit` messages of `room` with seq < before, after every message accepted so
 * far is written, then calls on_history(). 0, or -1 when the pool refused (on_history() will
 * not be called). */
int chatlog_history(struct chatlog *cl, uint64_t session_id, struct proto_re re, const char *room,
                    uint64_t before, int limit);
/* What a deletion did, for its caller, on the loop thread: `status` 0 or -1 with `error`;
 * `found` is true when the message was in the database or `found_before` was true. */
struct chatlog_deleted {
    const char *room;
    uint64_t seq;
    uint64_t session_id; /* who asked, as given to chatlog_delete */
    struct proto_re re;
    int status;
    const char *error;
    bool found;
};
typedef void chatlog_deleted_fn(struct server *srv, const struct chatlog_deleted *d);

/* Deletes a message from the database in order with the writes: after every message
 * accepted before it (its own insert included), then calls `done` (unless the server stops
 * first). `found_before`: the caller already found it elsewhere (the room's recent history).
 * 0 or -1 (out of memory: `done` is not called). */
int chatlog_delete(struct chatlog *cl, const char *room, uint64_t seq, bool found_before,
                   chatlog_deleted_fn *done, uint64_t session_id, struct proto_re re);
/* Shutdown, before pool_destroy(): hands everything pending to the pool, whose destruction
 * finishes it. No more timers run. */
void chatlog_stop(struct chatlog *cl);
/* Frees what is left; safe on a zeroed struct. */
void chatlog_destroy(struct chatlog *cl);

#endif
