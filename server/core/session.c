/* Sessions (see session.h). Loop thread only. */
#include "session.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "names.h"
#include "server.h"
#include "skeletons.h"

struct session *session_new(struct server *srv, void *conn)
{
    struct session *s = calloc(1, sizeof(*s));
    int64_t now = srv->mono_ms();

    if (!s)
        return NULL;
    s->id = ++srv->next_session_id;
    s->seat = s->id;
    s->srv = srv;
    s->conn = conn;
    s->connected_ms = srv->wall_ms();
    sendq_init(&s->sendq, (size_t)srv->cfg.sendq_max_messages, (size_t)srv->cfg.sendq_max_bytes);
    tbucket_init(&s->req_bucket, srv->cfg.rate_burst, now);
    tbucket_init(&s->say_bucket, srv->cfg.say_burst, now);
    if (hmap_put(&srv->sessions_by_id, &s->id, sizeof(s->id), s)) {
        free(s);
        return NULL;
    }
    return s;
}

void session_clear_name(struct session *s)
{
    struct server *srv = s->srv;

    if (s->signed_in && hmap_get(&srv->sessions_by_name, s->name_key, strlen(s->name_key)) == s) {
        hmap_del(&srv->sessions_by_name, s->name_key, strlen(s->name_key));
        skeletons_count(&srv->names_by_skeleton, s->name, -1);
        if (srv->name_released)
            srv->name_released(srv, s->name);
    }
    s->signed_in = false;
}

void session_free(struct session *s)
{
    struct server *srv;

    if (!s)
        return;
    srv = s->srv;
    session_clear_name(s);
    hmap_del(&srv->sessions_by_id, &s->id, sizeof(s->id));
    session_drop_output(s);
    free(s->rooms);
    free(s->rx);
    free(s);
}

struct session *session_by_id(struct server *srv, uint64_t id)
{
    return hmap_get(&srv->sessions_by_id, &id, sizeof(id));
}

struct session *session_by_name(struct server *srv, const char *name)
{
    char key[NAMES_KEY_MAX];

    if (names_key(name, key))
        return NULL;
    return hmap_get(&srv->sessions_by_name, key, strlen(key));
}

bool session_name_confusable(struct server *srv, const char *name)
{
    return session_by_name(srv, name) || skeletons_taken(&srv->names_by_skeleton, name);
}

int session_set_name(struct session *s, const char *name)
{
    struct server *srv = s->srv;

    if (session_by_name(srv, name) || names_key(name, s->name_key))
        return -1;
    snprintf(s->name, sizeof(s->name), "%s", name);
    if (hmap_put(&srv->sessions_by_name, s->name_key, strlen(s->name_key), s))
        return -1;
    skeletons_count(&srv->names_by_skeleton, name, +1);
    s->signed_in = true;
    return 0;
}

void session_take_name(struct session *s, struct session *old)
{
    snprintf(s->name, sizeof(s->name), "%s", old->name);
    snprintf(s->name_key, sizeof(s->name_key), "%s", old->name_key);
    s->signed_in = true;
    /* the entry exists: replacing its value cannot fail, and the skeleton count is unchanged
     * (session_free of `old` finds the map no longer pointing at it) */
    hmap_put(&s->srv->sessions_by_name, s->name_key, strlen(s->name_key), s);
}

static bool over_soft_limit(const struct session *s)
{
    const struct config *c = &s->srv->cfg;

    return s->sendq.count > (size_t)c->sendq_soft_messages ||
           s->sendq.bytes > (size_t)c->sendq_soft_bytes;
}

static void soft_limit_expired(loop_timer *sul)
{
    struct session *s = timer_owner(sul, struct session, soft_sul);

    s->srv->stats.sendq_overflows++;
    log_info("session %llu (%s): send queue over its soft limit for %d s (%zu messages, %zu "
             "bytes), closing",
             (unsigned long long)s->id, s->name, s->srv->cfg.sendq_soft_seconds, s->sendq.count,
             s->sendq.bytes);
    s->over_soft = false; /* the timer has fired: nothing to cancel */
    session_close(s, PROTO_CLOSE_POLICY, "too slow");
}

/* Tells the transport whether to read the connection: not while the queue is over a soft
 * limit or a large reply is on its way. */
static void update_reading(struct session *s)
{
    bool stop = (s->over_soft || s->reads_held) && !s->closing;

    if (stop == s->not_read || !s->conn)
        return;
    s->not_read = stop;
    s->srv->ops->pause_reading(s->srv->transport, s->conn, stop);
}

/* Follows the queue across its soft limits. Over them, the connection is not read: replies to
 * requests it pipelines cannot pile up, TCP slows the client instead (a burst read at once is
 * not slowness); a client that does not read at all stays over, and is closed when the timer
 * fires. */
static void track_soft_limit(struct session *s)
{
    struct server *srv = s->srv;
    bool over = over_soft_limit(s) && s->conn && !s->closing;

    if (over != s->over_soft) {
        s->over_soft = over;
        if (over)
            srv->ops->schedule(srv->transport, &s->soft_sul, soft_limit_expired,
                               (int64_t)srv->cfg.sendq_soft_seconds * 1000000);
        else
            srv->ops->cancel(srv->transport, &s->soft_sul);
    }
    update_reading(s);
}

void session_hold_reading(struct session *s)
{
    s->reads_held++;
    update_reading(s);
}

void session_release_reading(struct session *s)
{
    if (s->reads_held > 0)
        s->reads_held--;
    update_reading(s);
}

int session_send(struct session *s, struct msgbuf *m)
{
    struct server *srv = s->srv;

    if (s->closing || !m || !s->conn) /* a detached session misses it; resume replays chat */
        return -1;
    if (sendq_push(&s->sendq, m)) {
        srv->stats.sendq_overflows++;
        log_info("session %llu (%s): send queue full (%zu messages, %zu bytes), closing",
                 (unsigned long long)s->id, s->name, s->sendq.count, s->sendq.bytes);
        session_close(s, PROTO_CLOSE_POLICY, "too slow");
        return -1;
    }
    srv->stats.messages_out++;
    track_soft_limit(s);
    /* a non-empty queue already has a write pending: the writer re-arms itself */
    if (s->sendq.count == 1)
        srv->ops->want_write(srv->transport, s->conn);
    return 0;
}

static void free_replay(struct session *s)
{
    for (int i = s->replay_next; i < s->replay_len; i++)
        json_decref(s->replay[i]);
    free(s->replay);
    msgbuf_unref(s->replay_out);
    s->replay = NULL;
    s->replay_out = NULL;
    s->replay_len = s->replay_next = 0;
}

void session_replay(struct session *s, json_t **events, int n)
{
    if (s->closing || !s->conn || s->replay || !n) { /* one resume per connection */
        for (int i = 0; i < n; i++)
            json_decref(events[i]);
        free(events);
        return;
    }
    s->replay = events;
    s->replay_len = n;
    s->replay_next = 0;
    s->replay_after = s->sendq.count;
    s->srv->ops->want_write(s->srv->transport, s->conn);
}

struct msgbuf *session_out_peek(struct session *s)
{
    while (s->replay && !s->replay_after && !s->replay_out) {
        json_t *ev = s->replay[s->replay_next];
        s->replay_out = msgbuf_from_json(ev);
        if (s->replay_out)
            break;
        log_error("session %llu: cannot serialize a replayed event (out of memory)",
                  (unsigned long long)s->id);
        session_out_pop(s); /* skip it rather than stall the connection */
    }
    return s->replay_out ? s->replay_out : sendq_peek(&s->sendq);
}

void session_out_pop(struct session *s)
{
    if (s->replay && !s->replay_after) {
        msgbuf_unref(s->replay_out);
        s->replay_out = NULL;
        json_decref(s->replay[s->replay_next++]);
        if (s->replay_next == s->replay_len)
            free_replay(s);
        return;
    }
    sendq_pop(&s->sendq);
    if (s->replay)
        s->replay_after--;
    track_soft_limit(s);
}

void session_drop_output(struct session *s)
{
    sendq_clear(&s->sendq);
    free_replay(s);
    track_soft_limit(s);
}

void session_reply_error(struct session *s, struct proto_re re, enum proto_err code,
                         const char *field, const char *fmt, ...)
{
    struct proto_error err = {.re = re};
    va_list ap;

    va_start(ap, fmt);
    proto_error_vset(&err, code, field, fmt, ap);
    va_end(ap);
    session_send_json(s, proto_error_json(&err));
}

int session_send_json(struct session *s, json_t *json)
{
    struct msgbuf *m = msgbuf_from_json(json);
    int rc;

    json_decref(json);
    if (!m) {
        log_error("session %llu: cannot serialize a message (out of memory)",
                  (unsigned long long)s->id);
        return -1;
    }
    rc = session_send(s, m);
    msgbuf_unref(m);
    return rc;
}

void session_close(struct session *s, int code, const char *reason)
{
    if (s->closing)
        return;
    s->closing = true;
    track_soft_limit(s); /* its soft-limit timer has nothing left to do */
    if (!s->conn)        /* detached: nothing to close */
        return;
    s->close_code = code;
    snprintf(s->close_reason, sizeof(s->close_reason), "%s", reason);
    /* what is queued still goes out before the close frame (a shutdown notice, the reply to
     * the request that caused the close), except to a client closed for not reading it */
    if (code == PROTO_CLOSE_POLICY && !strcmp(reason, "too slow"))
        session_drop_output(s);
    s->srv->ops->close(s->srv->transport, s->conn);
}

bool session_in_room(const struct session *s, const struct room *r)
{
    for (int i = 0; i < s->nrooms; i++)
        if (s->rooms[i] == r)
            return true;
    return false;
}

int session_add_room(struct session *s, struct room *r)
{
    if (s->nrooms == s->rooms_cap) {
        int cap = s->rooms_cap ? s->rooms_cap * 2 : 4;
        struct room **rooms = realloc(s->rooms, (size_t)cap * sizeof(*rooms));
        if (!rooms)
            return -1;
        s->rooms = rooms;
        s->rooms_cap = cap;
    }
    s->rooms[s->nrooms++] = r;
    return 0;
}

void session_remove_room(struct session *s, struct room *r)
{
    for (int i = 0; i < s->nrooms; i++) {
        if (s->rooms[i] == r) {
            s->rooms[i] = s->rooms[--s->nrooms];
            return;
        }
    }
}
