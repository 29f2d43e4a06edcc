/*
 * The chat log lane (see chatlog.h). Loop thread, except op_run(), which runs on a worker and
 * touches only its operation and the worker's connection.
 */
#include "chatlog.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "oplog.h"
#include "pool.h"
#include "proto.h"
#include "server.h"
#include "store.h"

#define CHATLOG_RETRY_MS 20 /* the pool was full: try again this soon */

enum op_kind { OP_WRITE, OP_HISTORY, OP_DELETE };

struct chatlog_op {
    struct pool_job job; /* first: the pool hands it back */
    struct chatlog_op *next;
    enum op_kind kind;

    /* OP_WRITE */
    struct chatlog_entry *entries;
    struct store_msg *msgs;
    size_t n;

    /* OP_HISTORY */
    uint64_t session_id;
    struct proto_re re;
    char *room;
    uint64_t before;
    int limit;
    json_t *result; /* made on the worker, handed over through the done queue */

    /* OP_DELETE (session_id, re and room as for OP_HISTORY) */
    bool found;
    chatlog_deleted_fn *deleted;
};

static void kick(struct chatlog *cl);
static void seal(struct chatlog *cl);

int chatlog_init(struct chatlog *cl, struct server *srv, struct pool *pool, int batch_ms,
                 int batch_max, int pending_max, chatlog_saved_fn *on_saved,
                 chatlog_history_fn *on_history)
{
    *cl = (struct chatlog){.srv = srv,
                           .on_saved = on_saved,
                           .on_history = on_history,
                           .pool = pool,
                           .batch_ms = batch_ms,
                           .batch_max = (size_t)batch_max,
                           .pending_max = (size_t)pending_max};
    return 0;
}

/* Rows accepted and not yet committed: pending, queued and on a worker. */
static size_t unwritten(const struct chatlog *cl)
{
    size_t n = cl->npending;

    for (const struct chatlog_op *op = cl->head; op; op = op->next)
        n += op->n;
    return n;
}

bool chatlog_full(const struct chatlog *cl)
{
    return unwritten(cl) >= cl->pending_max;
}

static void entry_free(struct chatlog_entry *e)
{
    free(e->room); /* sender and text share its allocation */
}

static void op_free(struct chatlog_op *op)
{
    for (size_t i = 0; i < op->n; i++)
        entry_free(&op->entries[i]);
    free(op->entries);
    free(op->msgs);
    free(op->room);
    json_decref(op->result);
    free(op);
}

static void op_run(struct pool_job *job, void *worker)
{
    struct chatlog_op *op = (struct chatlog_op *)job;

    if (op->kind == OP_WRITE) {
        store_job_result(job, worker, store_insert_messages(worker, op->msgs, op->n));
    } else if (op->kind == OP_DELETE) {
        int n = store_delete_message(worker, op->room, (int64_t)op->before);
        op->found = op->found || n > 0;
        store_job_result(job, worker, n < 0 ? -1 : 0);
    } else {
        op->result = store_history(worker, op->room, op->before, op->limit);
        store_job_result(job, worker, op->result ? 0 : -1);
    }
}

/* The job's error for a completion callback: NULL when it succeeded. */
static const char *job_error(const struct pool_job *job)
{
    return job->status ? job->error : NULL;
}

static void deliver_write(struct chatlog *cl, struct chatlog_op *op)
{
    struct server *srv = cl->srv;

    if (op->job.status) {
        cl->stats.failures++; /* the pool's `failed` hook tells the operators */
    } else {
        cl->stats.batches++;
        cl->stats.rows += op->n;
        histo_add(&cl->stats.commit_us,
                  (uint64_t)(op->job.finished_ns - op->job.started_ns) / 1000);
        histo_add(&cl->stats.wait_us, (uint64_t)(op->job.started_ns - op->job.queued_ns) / 1000);
        if (op->n > cl->stats.max_batch)
            cl->stats.max_batch = op->n;
    }
    for (size_t i = 0; i < op->n; i++) {
        struct chatlog_entry *e = &op->entries[i];

        if (e->session_id)
            cl->on_saved(srv, e->session_id, e->re, e->seq, job_error(&op->job));
    }
}

static void deliver_history(struct chatlog *cl, struct chatlog_op *op)
{
    cl->on_history(cl->srv, op->session_id, op->re, op->job.status ? NULL : op->result,
                   job_error(&op->job));
}

static void deliver_delete(struct chatlog *cl, struct chatlog_op *op)
{
    struct chatlog_deleted d = {.room = op->room,
                                .seq = op->before,
                                .session_id = op->session_id,
                                .re = op->re,
                                .status = op->job.status,
                                .error = op->job.error,
                                .found = op->found};

    if (op->deleted)
        op->deleted(cl->srv, &d);
}

static void op_done(struct pool_job *job, void *loop_arg)
{
    struct chatlog_op *op = (struct chatlog_op *)job;
    struct chatlog *cl = ((struct server *)loop_arg)->chatlog;

    if (op->kind == OP_WRITE)
        deliver_write(cl, op);
    else if (op->kind == OP_HISTORY)
        deliver_history(cl, op);
    else
        deliver_delete(cl, op);

    /* the op was the head (or, when stopping, anywhere in the list): unlink it */
    for (struct chatlog_op **p = &cl->head; *p; p = &(*p)->next) {
        if (*p == op) {
            *p = op->next;
            if (cl->tail == op) {
                cl->tail = NULL;
                for (struct chatlog_op *t = cl->head; t; t = t->next)
                    cl->tail = t;
            }
            break;
        }
    }
    op_free(op);
    if (cl->stopping)
        return;
    cl->busy = false;
    seal(cl); /* what gathered while this op ran is the next batch */
    kick(cl);
}

static struct chatlog_op *op_new(struct chatlog *cl, enum op_kind kind)
{
    struct chatlog_op *op = calloc(1, sizeof(*op));

    if (!op)
        return NULL;
    op->kind = kind;
    op->job.run = op_run;
    op->job.done = op_done;
    op->job.failure = kind == OP_WRITE     ? "a batch of chat messages could not be saved"
                      : kind == OP_HISTORY ? "chat history could not be read"
                                           : "a chat message could not be deleted";
    return op;
}

static void append_op(struct chatlog *cl, struct chatlog_op *op)
{
    if (cl->tail)
        cl->tail->next = op;
    else
        cl->head = op;
    cl->tail = op;
}

/* Moves pending messages into write operations of at most batch_max rows. */
static void seal(struct chatlog *cl)
{
    while (cl->npending) {
        size_t n = cl->npending < cl->batch_max ? cl->npending : cl->batch_max;
        struct chatlog_op *op = op_new(cl, OP_WRITE);

        if (!op || !(op->entries = malloc(n * sizeof(*op->entries))) ||
            !(op->msgs = malloc(n * sizeof(*op->msgs)))) {
            if (op)
                op_free(op);
            log_error("chatlog: out of memory sealing a batch; will retry");
            return;
        }
        memcpy(op->entries, cl->pending, n * sizeof(*op->entries));
        op->n = n;
        for (size_t i = 0; i < n; i++)
            op->msgs[i] = (struct store_msg){.room = op->entries[i].room,
                                             .seq = op->entries[i].seq,
                                             .sender = op->entries[i].sender,
                                             .text = op->entries[i].text,
                                             .ts = op->entries[i].ts};
        memmove(cl->pending, cl->pending + n, (cl->npending - n) * sizeof(*cl->pending));
        cl->npending -= n;
        append_op(cl, op);
    }
}

static void retry_expired(loop_timer *sul)
{
    kick(timer_owner(sul, struct chatlog, retry_sul));
}

/* Starts the head operation when none is running. */
static void kick(struct chatlog *cl)
{
    if (cl->busy || cl->stopping || !cl->head)
        return;
    if (pool_submit(cl->pool, &cl->head->job)) {
        /* the pool is full of other work; what was accepted must still be written */
        cl->srv->ops->schedule(cl->srv->transport, &cl->retry_sul, retry_expired,
                               CHATLOG_RETRY_MS * TIMER_US_PER_MS);
        return;
    }
    cl->busy = true;
}

static void flush_expired(loop_timer *sul)
{
    struct chatlog *cl = timer_owner(sul, struct chatlog, flush_sul);

    cl->flush_scheduled = false;
    if (cl->busy) /* the running batch's completion takes what gathered meanwhile */
        return;
    seal(cl);
    kick(cl);
}

int chatlog_append(struct chatlog *cl, uint64_t session_id, struct proto_re re, const char *room,
                   uint64_t seq, const char *sender, const char *text, int64_t ts)
{
    size_t lr = strlen(room) + 1, ls = strlen(sender) + 1, lt = strlen(text) + 1;
    struct chatlog_entry *e;
    char *mem;

    if (cl->npending == cl->cap) {
        size_t cap = cl->cap ? cl->cap * 2 : 64;
        struct chatlog_entry *p = realloc(cl->pending, cap * sizeof(*p));
        if (!p)
            return -1;
        cl->pending = p;
        cl->cap = cap;
    }
    mem = malloc(lr + ls + lt);
    if (!mem)
        return -1;
    e = &cl->pending[cl->npending++];
    *e = (struct chatlog_entry){.session_id = session_id,
                                .re = re,
                                .room = mem,
                                .sender = mem + lr,
                                .text = mem + lr + ls,
                                .seq = seq,
                                .ts = ts};
    memcpy(e->room, room, lr);
    memcpy(e->sender, sender, ls);
    memcpy(e->text, text, lt);

    if (!cl->flush_scheduled && !cl->busy) {
        /* 0 ms still waits for the end of this loop turn: everything that arrived in the
         * same wake-up joins the batch */
        cl->flush_scheduled = true;
        cl->srv->ops->schedule(cl->srv->transport, &cl->flush_sul, flush_expired,
                               (int64_t)cl->batch_ms * TIMER_US_PER_MS);
    }
    return 0;
}

int chatlog_history(struct chatlog *cl, uint64_t session_id, struct proto_re re, const char *room,
                    uint64_t before, int limit)
{
    struct chatlog_op *op = op_new(cl, OP_HISTORY);

    if (!op || !(op->room = strdup(room))) {
        free(op);
        return -1;
    }
    op->session_id = session_id;
    op->re = re;
    op->before = before;
    op->limit = limit;
    seal(cl); /* the read must see every message accepted before it */
    append_op(cl, op);
    kick(cl);
    return 0;
}

int chatlog_delete(struct chatlog *cl, const char *room, uint64_t seq, bool found_before,
                   chatlog_deleted_fn *done, uint64_t session_id, struct proto_re re)
{
    struct chatlog_op *op = op_new(cl, OP_DELETE);

    if (!op || !(op->room = strdup(room))) {
        free(op);
        return -1;
    }
    op->before = seq; /* the seq to delete */
    op->found = found_before;
    op->deleted = done;
    op->session_id = session_id;
    op->re = re;
    seal(cl); /* after the message's own insert, if it is still pending */
    append_op(cl, op);
    kick(cl);
    return 0;
}

void chatlog_stop(struct chatlog *cl)
{
    struct chatlog_op *op;

    if (!cl->pool)
        return;
    cl->srv->ops->cancel(cl->srv->transport, &cl->flush_sul);
    cl->srv->ops->cancel(cl->srv->transport, &cl->retry_sul);
    seal(cl);
    cl->stopping = true;
    /* order no longer matters: hand every operation not yet running to the pool */
    for (op = cl->head; op; op = op->next) {
        if (cl->busy && op == cl->head)
            continue;
        if (pool_submit(cl->pool, &op->job))
            log_error("chatlog: cannot queue %zu messages at shutdown; they are lost", op->n);
    }
}

void chatlog_destroy(struct chatlog *cl)
{
    /* only operations the pool refused can be left here */
    while (cl->head) {
        struct chatlog_op *op = cl->head;
        cl->head = op->next;
        op_free(op);
    }
    for (size_t i = 0; i < cl->npending; i++)
        entry_free(&cl->pending[i]);
    free(cl->pending);
    *cl = (struct chatlog){0};
}
