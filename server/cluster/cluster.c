/* A cluster node (see cluster.h). Loop thread only. */
#include "cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "delivery.h"
#include "directory.h"
#include "log.h"
#include "names.h"
#include "room.h"
#include "server.h"
#include "session.h"

#define ROOM_CHANNEL_PREFIX "parlor:room:"
#define ROOM_IDS_KEY        "parlor:room-ids"
#define ROOM_IDS_BLOCK      64
/* messages of a gap a node fetches at once from a room's stream; a longer gap (a node that
 * was away from the room for long) keeps only the newest of it, as a join's history would */
#define REPAIR_MAX 1000

/* KEYS: the room's counter, stream and channel. ARGV: the publisher's newest seq (so a Redis
 * that lost its data never hands out a seq the database has), the event's JSON without its
 * closing brace, the stream's length. The seq, the stream entry and the publication are one
 * atomic step: no node can see seq N+1 before N is in the stream. */
static const char publish_script[] =
    "local seq = redis.call('INCR', KEYS[1])\n"
    "local floor = tonumber(ARGV[1])\n"
    "if seq <= floor then seq = floor + 1; redis.call('SET', KEYS[1], seq) end\n"
    "local msg = ARGV[2] .. ',\"seq\":' .. seq .. '}'\n"
    "redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '0-' .. seq, 'm', msg)\n"
    "redis.call('PUBLISH', KEYS[3], 'c ' .. seq .. ' ' .. msg)\n"
    "return seq\n";

/* A block of room numbers above every number this node has seen (ARGV[1]). */
static const char ids_script[] =
    "local hi = redis.call('INCRBY', KEYS[1], ARGV[2])\n"
    "local floor = tonumber(ARGV[1]) + tonumber(ARGV[2])\n"
    "if hi < floor then hi = floor; redis.call('SET', KEYS[1], hi) end\n"
    "return hi\n";

/* Names. Each name held on a node has keys parlor:name:<names_key> and parlor:skel:<skeleton>
 * (its two confusable skeletons) whose value is "NODE BOOT NAME": the node, the process's boot
 * id and the name as its owner spells it. A key counts only while its node is alive with that
 * boot id (parlor:alive:NODE, refreshed every second with a short TTL), so the names of a node
 * that died, or restarted, free themselves without anyone deleting them, and a node refreshes
 * one key, not one per name. */
static const char claim_script[] =
    "if ARGV[2] ~= '1' then\n"
    "  for _, k in ipairs(KEYS) do\n"
    "    local v = redis.call('GET', k)\n"
    "    if v and v ~= ARGV[1] then\n"
    "      local node, boot = string.match(v, '^(%S+) (%S+) ')\n"
    "      if node and redis.call('GET', 'parlor:alive:' .. node) == boot then return 0 end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "for _, k in ipairs(KEYS) do redis.call('SET', k, ARGV[1]) end\n"
    "return 1\n";

static const char release_script[] =
    "for _, k in ipairs(KEYS) do\n"
    "  if redis.call('GET', k) == ARGV[1] then redis.call('DEL', k) end\n"
    "end\n"
    "return 1\n";

/* A whisper: finds the holder's node and publishes the event there; the holder's name, or nil. */
static const char whisper_script[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if not v then return false end\n"
    "local node, boot, name = string.match(v, '^(%S+) (%S+) (%S+)$')\n"
    "if not node or redis.call('GET', 'parlor:alive:' .. node) ~= boot then return false end\n"
    "redis.call('PUBLISH', 'parlor:node:' .. node, 'w ' .. name .. ' ' .. ARGV[1])\n"
    "return name\n";

/* A resume of a session another node keeps (KEYS[1]: its record, ARGV: the client's `seen` as
 * JSON, the replay's length per room): takes the record, tells its node to let the session go,
 * and returns the record with each seen room's newest seq and the chat after `seen` from the
 * room's stream: {record, room, last, {events...}, room, last, {...}, ...}, or nil. */
static const char claim_detached_script[] =
    "local rec = redis.call('GET', KEYS[1])\n"
    "if not rec then return false end\n"
    "redis.call('DEL', KEYS[1])\n"
    "local r = cjson.decode(rec)\n"
    "local seen = cjson.decode(ARGV[1])\n"
    "local out = {rec}\n"
    "for _, room in ipairs(r.rooms) do\n"
    "  local after = seen[room]\n"
    "  if type(after) == 'number' and after >= 0 then\n"
    "    local key = 'parlor:room:' .. room\n"
    "    local entries = redis.call('XRANGE', key .. ':stream', '0-' .. string.format('%d', after "
    "+ 1),\n"
    "                               '+', 'COUNT', ARGV[2])\n"
    "    local msgs = {}\n"
    "    for _, e in ipairs(entries) do msgs[#msgs + 1] = e[2][2] end\n"
    "    out[#out + 1] = room\n"
    "    out[#out + 1] = tonumber(redis.call('GET', key .. ':seq') or '0')\n"
    "    out[#out + 1] = msgs\n"
    "  end\n"
    "end\n"
    "redis.call('PUBLISH', 'parlor:node:' .. r.node, 'd ' .. r.name)\n"
    "return out\n";

#define ALIVE_TICK_MS 1000

enum sub_state { UNSUBSCRIBED, SUBSCRIBING, SUBSCRIBED, UNSUBSCRIBING };

struct pending {
    uint64_t seq;
    json_t *event;
};

/* What the cluster knows of a room; lives while the room is subscribed or a request about it
 * is in flight, independently of the struct room (which may go first). */
struct cluster_room {
    struct cluster *c;
    char id[ROOM_ID_LEN];
    char channel[ROOM_ID_LEN + sizeof(ROOM_CHANNEL_PREFIX)];
    enum sub_state state;
    bool wanted;    /* members of the room are connected here */
    bool repairing; /* an XRANGE is in flight; messages wait in `pending` */
    /* Subscribed and caught up with the stream: a joiner's history is the room's. Until then
     * joins wait in `waiters`. */
    bool caught_up;
    /* The catch-up after a first member joined here: what was said before goes to the history
     * only (the joiner gets it in the join's reply), not to members as live chat. */
    bool quiet_catch_up;
    struct delivery_waiter *waiters;
    struct pending *pending; /* in seq order */
    size_t npending, cap;
};

/* The directory's ops: the local ones, but room ids from the cluster's blocks. Filled at start. */
static struct directory_ops cluster_directory_ops;
static struct cluster *the_cluster; /* the ops tables have no context argument of their own */

static void reconcile(struct cluster_room *cr);
static void wake_waiters(struct cluster_room *cr);

static void clear_pending(struct cluster_room *cr)
{
    for (size_t i = 0; i < cr->npending; i++)
        json_decref(cr->pending[i].event);
    cr->npending = 0;
}

static struct cluster_room *room_state(struct cluster *c, const char *id, bool create)
{
    struct cluster_room *cr = hmap_get(&c->rooms, id, strlen(id));

    if (cr || !create)
        return cr;
    cr = calloc(1, sizeof(*cr));
    if (!cr)
        return NULL;
    cr->c = c;
    snprintf(cr->id, sizeof(cr->id), "%s", id);
    snprintf(cr->channel, sizeof(cr->channel), ROOM_CHANNEL_PREFIX "%s", id);
    if (hmap_put(&c->rooms, cr->id, strlen(cr->id), cr)) {
        free(cr);
        return NULL;
    }
    return cr;
}

/* Forgets a room nobody here needs and no request is waiting for. */
static void maybe_forget(struct cluster_room *cr)
{
    if (cr->wanted || cr->repairing || cr->state != UNSUBSCRIBED)
        return;
    wake_waiters(cr);
    hmap_del(&cr->c->rooms, cr->id, strlen(cr->id));
    clear_pending(cr);
    free(cr->pending);
    free(cr);
}

static void deliver_to(struct cluster *c, struct room *r, uint64_t seq, json_t *event, bool quiet)
{
    if (quiet) { /* said before anyone here was listening: history only */
        if (seq > r->last_seq + 1 && r->hist_lost < seq - 1)
            r->hist_lost = seq - 1;
        r->last_seq = seq;
        room_history_push(r, event);
        return;
    }
    if (seq > r->last_seq + 1) {
        /* the stream no longer holds what came between: a resume must not claim it complete */
        c->srv->cluster.chat_unrecoverable += seq - r->last_seq - 1;
        if (r->hist_lost < seq - 1)
            r->hist_lost = seq - 1;
        log_warn("cluster: room %s skips chat %llu..%llu, gone from its stream", r->id,
                 (unsigned long long)r->last_seq + 1, (unsigned long long)seq - 1);
    }
    r->last_seq = seq;
    delivery_local_chat(c->srv, r, event);
}

static void deliver(struct cluster *c, struct room *r, uint64_t seq, json_t *event)
{
    deliver_to(c, r, seq, event, false);
}

/* Answers the joins waiting for the room (their replies carry the history as it is now). */
static void wake_waiters(struct cluster_room *cr)
{
    while (cr->waiters) {
        struct delivery_waiter *w = cr->waiters;
        cr->waiters = w->next;
        delivery_ready(cr->c->srv, w);
    }
}

/* Delivers what waits, in order, now that nothing before it can still arrive. */
static void flush_pending(struct cluster_room *cr, struct room *r)
{
    for (size_t i = 0; i < cr->npending; i++)
        if (cr->pending[i].seq > r->last_seq)
            deliver(cr->c, r, cr->pending[i].seq, cr->pending[i].event);
    clear_pending(cr);
}

static int add_pending(struct cluster_room *cr, uint64_t seq, json_t *event)
{
    size_t i;

    if (cr->npending == cr->cap) {
        size_t cap = cr->cap ? cr->cap * 2 : 16;
        struct pending *p = realloc(cr->pending, cap * sizeof(*p));
        if (!p)
            return -1;
        cr->pending = p;
        cr->cap = cap;
    }
    /* pub/sub keeps order: this is nearly always the end */
    for (i = cr->npending; i > 0 && cr->pending[i - 1].seq > seq; i--)
        ;
    if (i > 0 && cr->pending[i - 1].seq == seq)
        return -1; /* already waiting */
    memmove(&cr->pending[i + 1], &cr->pending[i], (cr->npending - i) * sizeof(*cr->pending));
    cr->pending[i] = (struct pending){seq, json_incref(event)};
    cr->npending++;
    return 0;
}

static uint64_t entry_seq(const redisReply *entry)
{
    /* stream ids are 0-<seq> */
    const char *id = entry->element[0]->str;
    const char *dash = strchr(id, '-');

    return dash ? strtoull(dash + 1, NULL, 10) : 0;
}

static void on_repair(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct cluster_room *cr = privdata;
    struct cluster *c = cr->c;
    redisReply *rep = reply;
    struct room *r = room_find(&c->srv->rooms, cr->id);

    bool quiet = cr->quiet_catch_up, catching_up = !cr->caught_up;

    (void)ac;
    cr->repairing = false;
    if (rep && rep->type == REDIS_REPLY_ARRAY && r) {
        /* XREVRANGE: newest first */
        for (size_t i = rep->elements; i-- > 0;) {
            redisReply *e = rep->element[i];
            uint64_t seq;
            json_t *ev;
            if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
                e->element[1]->type != REDIS_REPLY_ARRAY || e->element[1]->elements != 2)
                continue;
            seq = entry_seq(e);
            if (seq <= r->last_seq)
                continue;
            ev =
                json_loadb(e->element[1]->element[1]->str, e->element[1]->element[1]->len, 0, NULL);
            if (!ev)
                continue;
            if (!quiet)
                c->srv->cluster.gaps_repaired++;
            deliver_to(c, r, seq, ev, quiet);
            json_decref(ev);
        }
    }
    if (catching_up && cr->state == SUBSCRIBED) {
        /* the joins that waited get the history first, then what came during the catch-up */
        cr->caught_up = true;
        cr->quiet_catch_up = false;
        wake_waiters(cr);
    }
    if (r && rep)
        flush_pending(cr, r);
    else
        clear_pending(cr); /* the link failed: it repairs again when it is back */
    maybe_forget(cr);
}

/* Fetches the messages after the room's newest delivered one, up to `to` (0: the newest), the
 * newest `count` at most. */
static void repair_count(struct cluster_room *cr, struct room *r, uint64_t to, int count_max)
{
    struct cluster *c = cr->c;
    char key[sizeof(cr->channel) + 16], lo[32], hi[32], count[16];
    const char *argv[6] = {"XREVRANGE", key, hi, lo, "COUNT", count};

    snprintf(key, sizeof(key), "%s:stream", cr->channel);
    snprintf(lo, sizeof(lo), "0-%llu", (unsigned long long)r->last_seq + 1);
    if (to)
        snprintf(hi, sizeof(hi), "0-%llu", (unsigned long long)to);
    else
        snprintf(hi, sizeof(hi), "+");
    snprintf(count, sizeof(count), "%d", count_max);
    if (link_command(&c->link, on_repair, cr, 6, argv, NULL) == 0)
        cr->repairing = true;
}

static void repair(struct cluster_room *cr, struct room *r, uint64_t to)
{
    repair_count(cr, r, to, REPAIR_MAX);
}

static void on_chat_message(struct cluster_room *cr, const char *msg, size_t len)
{
    struct cluster *c = cr->c;
    struct room *r = room_find(&c->srv->rooms, cr->id);
    char *end;
    uint64_t seq = strtoull(msg + 2, &end, 10);
    json_t *ev;

    if (!r || *end != ' ' || seq <= r->last_seq)
        return;
    ev = json_loadb(end + 1, len - (size_t)(end + 1 - msg), 0, NULL);
    if (!ev) {
        log_warn("cluster: room %s: a chat message that is not JSON", cr->id);
        return;
    }
    if (!cr->repairing && !cr->npending && seq == r->last_seq + 1) {
        deliver(c, r, seq, ev);
    } else {
        add_pending(cr, seq, ev);
        if (!cr->repairing)
            repair(cr, r, seq - 1);
    }
    json_decref(ev);
}

/* "e NODE JSON": an event another node delivered to its own members first. */
static void on_room_event(struct cluster_room *cr, const char *msg, size_t len)
{
    struct cluster *c = cr->c;
    struct room *r = room_find(&c->srv->rooms, cr->id);
    const char *node = msg + 2, *sp = memchr(node, ' ', len - 2), *json;
    struct msgbuf *m;

    if (!r || !sp)
        return;
    if ((size_t)(sp - node) == strlen(c->node_id) && !memcmp(node, c->node_id, (size_t)(sp - node)))
        return; /* ours: delivered when it was sent */
    json = sp + 1;
    m = msgbuf_from_bytes(json, len - (size_t)(json - msg));
    if (m) {
        delivery_local_room(c->srv, r, m, NULL);
        msgbuf_unref(m);
    }
}

static void on_room_channel(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct cluster_room *cr = privdata;
    redisReply *rep = reply;
    const char *kind;

    (void)ac;
    if (!rep) /* the link failed: cluster_down() resets the room */
        return;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 3)
        return;
    kind = rep->element[0]->str;
    if (!strcmp(kind, "subscribe")) {
        struct room *r = room_find(&cr->c->srv->rooms, cr->id);
        cr->state = SUBSCRIBED;
        /* what was said here while this node was not listening: a quiet catch-up needs no
         * more than the history holds */
        /* who is in it elsewhere (asked first: the joins waiting for the catch-up list them),
         * the events keeping it current from here on */
        if (r)
            registry_fetch_names(&cr->c->registry, r);
        if (r && !cr->repairing)
            repair_count(cr, r, 0, cr->quiet_catch_up && r->hist_cap ? r->hist_cap : REPAIR_MAX);
        if (!cr->repairing) { /* nothing to fetch from (the link failed meanwhile) */
            cr->caught_up = true;
            wake_waiters(cr);
        }
        reconcile(cr);
    } else if (!strcmp(kind, "unsubscribe")) {
        struct room *r = room_find(&cr->c->srv->rooms, cr->id);
        cr->state = UNSUBSCRIBED;
        clear_pending(cr);
        if (r && !r->kind) /* nobody here to show them to: read again when someone comes */
            room_remote_clear(r);
        reconcile(cr);
        maybe_forget(cr);
    } else if (!strcmp(kind, "message") && rep->element[2]->type == REDIS_REPLY_STRING &&
               rep->element[2]->len > 2 && cr->state == SUBSCRIBED) {
        const char *msg = rep->element[2]->str;
        if (msg[0] == 'c' && msg[1] == ' ')
            on_chat_message(cr, msg, rep->element[2]->len);
        else if (msg[0] == 'e' && msg[1] == ' ')
            on_room_event(cr, msg, rep->element[2]->len);
    }
}

/* Subscribes while members are here, unsubscribes when none are; one request at a time. */
static void reconcile(struct cluster_room *cr)
{
    struct link *l = &cr->c->link;

    if (!l->up)
        return;
    if (cr->wanted && cr->state == UNSUBSCRIBED) {
        cr->caught_up = false;
        if (link_subscribe(l, cr->channel, on_room_channel, cr) == 0)
            cr->state = SUBSCRIBING;
        else
            wake_waiters(cr);
    } else if (!cr->wanted && cr->state == SUBSCRIBED) {
        if (link_unsubscribe(l, cr->channel) == 0)
            cr->state = UNSUBSCRIBING;
    }
}

/* ---- delivery_ops */

static int cluster_room_delivery(struct server *srv, struct room *r, struct msgbuf *m,
                                 const struct session *skip)
{
    struct cluster *c = the_cluster;
    int n = delivery_local_room(srv, r, m, skip);
    char head[128], channel[ROOM_ID_LEN + sizeof(ROOM_CHANNEL_PREFIX)];
    const char *argv[3] = {"PUBLISH", channel, NULL};
    size_t lens[3], hl;
    char *body;

    if (!c->link.up)
        return n; /* presence and game events are not chat: the others miss this one */
    hl = (size_t)snprintf(head, sizeof(head), "e %s ", c->node_id);
    body = malloc(hl + m->len);
    if (!body)
        return n;
    memcpy(body, head, hl);
    memcpy(body + hl, msgbuf_payload(m), m->len);
    snprintf(channel, sizeof(channel), ROOM_CHANNEL_PREFIX "%s", r->id);
    argv[2] = body;
    lens[0] = 7;
    lens[1] = strlen(channel);
    lens[2] = hl + m->len;
    link_command(&c->link, NULL, NULL, 3, argv, lens);
    free(body);
    return n;
}

static int cluster_audience(struct server *srv, enum delivery_audience audience, struct msgbuf *m)
{
    /* announcements and the consoles' feed stay on this node for now (see README) */
    return delivery_local_audience(srv, audience, m);
}

static void on_published(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct delivery_chat *dc = privdata;
    struct cluster *c = the_cluster;
    redisReply *rep = reply;

    (void)ac;
    if (!rep || rep->type != REDIS_REPLY_INTEGER) {
        if (rep && rep->type == REDIS_REPLY_ERROR)
            log_warn("cluster: publishing a chat message failed: %s", rep->str);
        c->srv->cluster.chat_refused++;
        delivery_chat_published(c->srv, dc, 0,
                                "the message could not reach the other nodes; "
                                "try again");
        return;
    }
    json_object_set_new(dc->event, "seq", json_integer(rep->integer));
    delivery_chat_published(c->srv, dc, (uint64_t)rep->integer, NULL);
}

static void cluster_chat(struct server *srv, struct room *r, struct delivery_chat *dc)
{
    struct cluster *c = the_cluster;
    char seqkey[ROOM_ID_LEN + 32], streamkey[ROOM_ID_LEN + 32], channel[ROOM_ID_LEN + 32];
    char floor[24], maxlen[16];
    const char *argv[9];
    size_t lens[9];
    char *json;
    size_t jl;

    json_object_del(dc->event, "seq");
    json = c->link.up ? json_dumps(dc->event, JSON_COMPACT) : NULL;
    if (!json) {
        srv->cluster.chat_refused++;
        delivery_chat_published(srv, dc, 0,
                                "the link to the other nodes is down; try again shortly");
        return;
    }
    jl = strlen(json) - 1; /* the script appends the seq and the closing brace */
    snprintf(seqkey, sizeof(seqkey), ROOM_CHANNEL_PREFIX "%s:seq", r->id);
    snprintf(streamkey, sizeof(streamkey), ROOM_CHANNEL_PREFIX "%s:stream", r->id);
    snprintf(channel, sizeof(channel), ROOM_CHANNEL_PREFIX "%s", r->id);
    snprintf(floor, sizeof(floor), "%llu", (unsigned long long)r->last_seq);
    snprintf(maxlen, sizeof(maxlen), "%d", c->stream_max);
    argv[0] = "EVALSHA";
    argv[1] = c->script_sha;
    argv[2] = "3";
    argv[3] = seqkey;
    argv[4] = streamkey;
    argv[5] = channel;
    argv[6] = floor;
    argv[7] = json;
    argv[8] = maxlen;
    for (int i = 0; i < 9; i++)
        lens[i] = strlen(argv[i]);
    lens[7] = jl;
    if (link_command(&c->link, on_published, dc, 9, argv, lens)) {
        srv->cluster.chat_refused++;
        delivery_chat_published(srv, dc, 0, "the link to the other nodes is down; try again");
    }
    free(json);
}

static void cluster_members_changed(struct server *srv, struct room *r, const struct session *who,
                                    bool joined)
{
    struct cluster_room *cr = room_state(the_cluster, r->id, r->nmembers > 0);

    (void)srv;
    if (who) {
        int64_t since = 0;
        for (int i = 0; joined && i < r->nmembers; i++)
            if (r->members[i] == who)
                since = r->since[i];
        /* a player who resumed here from another node is no longer there, whether or not that
         * node said so before it went */
        if (joined)
            room_remote_del(r, who->name, NULL);
        registry_member(&the_cluster->registry, r, who, since, joined);
    }
    registry_count(&the_cluster->registry, r, false);
    if (r->kind && r->kind->roster_changed) /* a game's host and players */
        r->kind->roster_changed(r->game);
    if (!cr)
        return;
    if (!cr->wanted && r->nmembers > 0 && cr->state == UNSUBSCRIBED)
        cr->quiet_catch_up = true; /* nobody here missed anything: the first member arrives */
    cr->wanted = r->nmembers > 0;
    reconcile(cr);
    maybe_forget(cr);
}

static void cluster_when_ready(struct server *srv, struct room *r, struct delivery_waiter *w)
{
    struct cluster_room *cr = room_state(the_cluster, r->id, false);

    if (!the_cluster->link.up || !cr || cr->caught_up || cr->state == UNSUBSCRIBED) {
        delivery_ready(srv, w);
        return;
    }
    w->next = cr->waiters;
    cr->waiters = w;
}

static void cluster_room_created(struct server *srv, struct room *r)
{
    (void)srv;
    registry_created(&the_cluster->registry, r);
}

static void cluster_room_freed(struct server *srv, struct room *r)
{
    struct cluster_room *cr = room_state(the_cluster, r->id, false);

    (void)srv;
    registry_count(&the_cluster->registry, r, true);
    if (!cr)
        return;
    cr->wanted = false;
    reconcile(cr);
    maybe_forget(cr);
}

static void cluster_to_name(struct server *srv, struct delivery_named *d);

static const struct delivery_ops cluster_delivery_ops = {
    .room = cluster_room_delivery,
    .audience = cluster_audience,
    .chat = cluster_chat,
    .members_changed = cluster_members_changed,
    .room_freed = cluster_room_freed,
    .room_created = cluster_room_created,
    .when_ready = cluster_when_ready,
    .to_name = cluster_to_name,
};

/* ---- directory: room ids */

static void on_ids(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct cluster *c = privdata;
    redisReply *rep = reply;

    (void)ac;
    c->ids_pending = false;
    if (!rep || rep->type != REDIS_REPLY_INTEGER || rep->integer < ROOM_IDS_BLOCK)
        return;
    c->ids_next = (uint64_t)rep->integer - ROOM_IDS_BLOCK + 1;
    c->ids_end = (uint64_t)rep->integer + 1;
    if (c->srv->rooms.next_id < c->ids_end)
        c->srv->rooms.next_id = c->ids_end; /* ids seen here stay above every block */
}

static void reserve_ids(struct cluster *c)
{
    char floor[24], block[16];
    const char *argv[6] = {"EVAL", ids_script, "1", ROOM_IDS_KEY, floor, block};

    if (c->ids_pending)
        return;
    snprintf(floor, sizeof(floor), "%llu", (unsigned long long)c->srv->rooms.next_id);
    snprintf(block, sizeof(block), "%d", ROOM_IDS_BLOCK);
    if (link_command(&c->link, on_ids, c, 6, argv, NULL) == 0)
        c->ids_pending = true;
}

static int cluster_new_room_id(struct server *srv, char out[ROOM_ID_LEN])
{
    struct cluster *c = the_cluster;

    (void)srv;
    if (c->ids_next + ROOM_IDS_BLOCK / 4 >= c->ids_end)
        reserve_ids(c); /* refill early, so a burst of creates rarely finds the block empty */
    if (c->ids_next >= c->ids_end)
        return -1;
    snprintf(out, ROOM_ID_LEN, "r%llu", (unsigned long long)c->ids_next++);
    return 0;
}

/* ---- directory: names */

#define NAME_KEYS    (1 + NAMES_SKELETONS)
#define NAME_KEY_MAX (NAMES_KEY_MAX + 16)
#define ALIVE_TTL_MS CLUSTER_ALIVE_TTL_MS

/* The keys of `name` (see claim_script). 0, or -1 for a name that has none. */
static int name_keys(const char *name, char keys[NAME_KEYS][NAME_KEY_MAX])
{
    char k[NAMES_KEY_MAX];

    if (names_key(name, k))
        return -1;
    snprintf(keys[0], NAME_KEY_MAX, "parlor:name:%s", k);
    for (int w = 0; w < NAMES_SKELETONS; w++) {
        if (names_skeleton(name, w, k))
            return -1;
        snprintf(keys[1 + w], NAME_KEY_MAX, "parlor:skel:%s", k);
    }
    return 0;
}

struct name_claim {
    uint64_t session_id;
    struct proto_re re;
    directory_confirmed_fn *done;
};

static void on_claimed(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct name_claim *nc = privdata;
    redisReply *rep = reply;
    int result = !rep || rep->type != REDIS_REPLY_INTEGER ? -2 : rep->integer == 1 ? 0 : -1;

    (void)ac;
    if (nc->done)
        nc->done(the_cluster->srv, nc->session_id, nc->re, result);
    free(nc);
}

/* Runs one of the name scripts over the keys of `name`; `fn` gets the reply. 0, or -1. */
static int name_script(struct cluster *c, const char *script, const char *name, const char *arg,
                       redisCallbackFn *fn, void *privdata)
{
    char keys[NAME_KEYS][NAME_KEY_MAX], value[SESSION_NAME_MAX + 128], nkeys[8];
    const char *argv[3 + NAME_KEYS + 2];
    int argc = 0;

    if (name_keys(name, keys))
        return -1;
    snprintf(value, sizeof(value), "%s %s %s", c->node_id, c->boot, name);
    snprintf(nkeys, sizeof(nkeys), "%d", NAME_KEYS);
    argv[argc++] = "EVAL";
    argv[argc++] = script;
    argv[argc++] = nkeys;
    for (int i = 0; i < NAME_KEYS; i++)
        argv[argc++] = keys[i];
    argv[argc++] = value;
    argv[argc++] = arg;
    return link_command(&c->link, fn, privdata, argc, argv, NULL);
}

static void cluster_confirm_name(struct server *srv, uint64_t session_id, const char *name,
                                 bool forced, directory_confirmed_fn *done, struct proto_re re)
{
    struct cluster *c = the_cluster;
    struct name_claim *nc = malloc(sizeof(*nc));

    if (!nc) {
        if (done)
            done(srv, session_id, re, -2);
        return;
    }
    *nc = (struct name_claim){session_id, re, done};
    if (name_script(c, claim_script, name, forced ? "1" : "0", on_claimed, nc)) {
        /* the link is down: a guest waits for it; an account's name is announced when it is
         * back (cluster_up) */
        if (done)
            done(srv, session_id, re, forced ? 0 : -2);
        free(nc);
    }
}

static void name_released(struct server *srv, const char *name)
{
    struct cluster *c = the_cluster;
    char **more;

    (void)srv;
    if (!name_script(c, release_script, name, "", NULL, NULL))
        return;
    /* told when the link is back: until then the name still looks held */
    more = realloc(c->unreleased, (c->nunreleased + 1) * sizeof(*more));
    if (!more)
        return;
    c->unreleased = more;
    if ((c->unreleased[c->nunreleased] = strdup(name)))
        c->nunreleased++;
}

/* After a link came back (or Redis restarted empty): the names held here, in Redis again. */
static void announce_names(struct cluster *c)
{
    struct hmap *m = &c->srv->sessions_by_name;

    for (size_t i = 0; i < c->nunreleased; i++) {
        if (!session_by_name(c->srv, c->unreleased[i]))
            name_script(c, release_script, c->unreleased[i], "", NULL, NULL);
        free(c->unreleased[i]);
    }
    c->nunreleased = 0;
    for (size_t i = 0; i < m->cap; i++) {
        struct session *s = m->slots[i].key ? m->slots[i].val : NULL;
        if (s) /* a guest's name another node took meanwhile stays theirs (see README) */
            name_script(c, claim_script, s->name, s->user_id ? "1" : "0", NULL, NULL);
    }
}

static void alive_tick(loop_timer *t)
{
    struct cluster *c = timer_owner(t, struct cluster, alive_timer);
    char key[96], ttl[16];
    const char *argv[5] = {"SET", key, c->boot, "PX", ttl};

    snprintf(key, sizeof(key), "parlor:alive:%s", c->node_id);
    snprintf(ttl, sizeof(ttl), "%d", ALIVE_TTL_MS);
    link_command(&c->link, NULL, NULL, 5, argv, NULL);
    if (c->database_id[0]) /* again: a Redis that restarted empty must still refuse a stranger */
        link_command(&c->link, NULL, NULL, 4,
                     (const char *[]){"HSET", "parlor:database", c->node_id, c->database_id}, NULL);
    registry_tick(&c->registry);
    c->srv->ops->schedule(c->srv->transport, &c->alive_timer, alive_tick,
                          ALIVE_TICK_MS * TIMER_US_PER_MS);
}

/* ---- directory: sessions kept for a resume */

static void detached_key(const struct session *s, char *out, size_t len)
{
    /* the token's subject: an account's id, or minus a guest's session id */
    if (s->user_id)
        snprintf(out, len, "parlor:detached:%lld", (long long)s->user_id);
    else
        snprintf(out, len, "parlor:detached:%lld", -(long long)s->id);
}

static void cluster_detach(struct server *srv, struct session *s)
{
    struct cluster *c = the_cluster;
    json_t *rec, *rooms = json_array(), *since = json_object();
    char key[64], ttl[24], *text;

    for (int i = 0; i < s->nrooms; i++) {
        struct room *r = s->rooms[i];
        if (!r->shared && !r->permanent)
            continue;
        json_array_append_new(rooms, json_string(r->id));
        for (int k = 0; k < r->nmembers; k++) /* a host stays host on the node it resumes on */
            if (r->members[k] == s)
                json_object_set_new(since, r->id, json_integer(r->since[k]));
    }
    /* the seat goes along: the player keeps their place in a game */
    rec = json_pack("{s:s, s:s, s:o, s:o, s:I}", "node", c->node_id, "name", s->name, "rooms",
                    rooms, "since", since, "seat", (json_int_t)s->seat);
    text = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
    json_decref(rec);
    if (!text)
        return;
    detached_key(s, key, sizeof(key));
    snprintf(ttl, sizeof(ttl), "%lld", (long long)srv->cfg.rejoin_seconds * 1000);
    link_command(&c->link, NULL, NULL, 5, (const char *[]){"SET", key, text, "PX", ttl}, NULL);
    free(text);
}

static void cluster_forget_detached(struct server *srv, struct session *s)
{
    char key[64];

    (void)srv;
    detached_key(s, key, sizeof(key));
    link_command(&the_cluster->link, NULL, NULL, 2, (const char *[]){"DEL", key}, NULL);
}

/* A resume that finds no record may have come before the old node noticed the drop (the
 * client reconnected at once, through the balancer, to another node): it asks again a few
 * times, 50 ms doubling, before it calls the session ended. */
#define CLAIM_TRIES 6

struct detached_claim {
    uint64_t session_id;
    int64_t subject;
    char *seen_text;
    int per_room, tries;
    loop_timer retry;
    struct detached_claim *next; /* in cluster.claims_waiting while `retry` is scheduled */
    directory_claimed_fn *done;
    void *arg;
};

static void claim_finish(struct detached_claim *dc, json_t *rec)
{
    dc->done(the_cluster->srv, dc->session_id, dc->arg, rec);
    free(dc->seen_text);
    free(dc);
}

static void on_detached_claimed(redisAsyncContext *ac, void *reply, void *privdata);

static void claim_send(struct detached_claim *dc)
{
    struct cluster *c = the_cluster;
    char key[64], count[16];

    snprintf(key, sizeof(key), "parlor:detached:%lld", (long long)dc->subject);
    snprintf(count, sizeof(count), "%d", dc->per_room);
    dc->tries++;
    if (link_command(
            &c->link, on_detached_claimed, dc, 6,
            (const char *[]){"EVAL", claim_detached_script, "1", key, dc->seen_text, count}, NULL))
        claim_finish(dc, NULL); /* nobody can be asked: as good as ended */
}

static void claim_retry(loop_timer *t)
{
    struct detached_claim *dc = timer_owner(t, struct detached_claim, retry);
    struct detached_claim **p = &the_cluster->claims_waiting;

    while (*p != dc)
        p = &(*p)->next;
    *p = dc->next;
    claim_send(dc);
}

static void on_detached_claimed(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct detached_claim *dc = privdata;
    struct cluster *c = the_cluster;
    redisReply *rep = reply;
    json_t *rec = NULL, *replay;

    (void)ac;
    if (rep && rep->type == REDIS_REPLY_NIL && dc->tries < CLAIM_TRIES && c->link.up) {
        dc->next = c->claims_waiting;
        c->claims_waiting = dc;
        c->srv->ops->schedule(c->srv->transport, &dc->retry, claim_retry,
                              (int64_t)(50 << (dc->tries - 1)) * TIMER_US_PER_MS);
        return;
    }
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements >= 1 &&
        rep->element[0]->type == REDIS_REPLY_STRING &&
        (rec = json_loadb(rep->element[0]->str, rep->element[0]->len, 0, NULL))) {
        replay = json_object();
        for (size_t i = 1; i + 3 <= rep->elements; i += 3) {
            redisReply *room = rep->element[i], *last = rep->element[i + 1],
                       *msgs = rep->element[i + 2];
            json_t *texts;
            if (room->type != REDIS_REPLY_STRING || last->type != REDIS_REPLY_INTEGER)
                continue;
            texts = json_array();
            for (size_t k = 0; msgs->type == REDIS_REPLY_ARRAY && k < msgs->elements; k++)
                json_array_append_new(texts,
                                      json_stringn(msgs->element[k]->str, msgs->element[k]->len));
            json_object_set_new(
                replay, room->str,
                json_pack("{s:I, s:o}", "last", (json_int_t)last->integer, "events", texts));
        }
        json_object_set_new(rec, "replay", replay);
    }
    claim_finish(dc, rec);
    json_decref(rec);
}

static void cluster_claim_detached(struct server *srv, uint64_t session_id, int64_t subject,
                                   json_t *seen, int per_room, directory_claimed_fn *done,
                                   void *arg)
{
    struct detached_claim *dc = calloc(1, sizeof(*dc));
    char *seen_text = seen && json_is_object(seen) ? json_dumps(seen, JSON_COMPACT) : strdup("{}");

    if (!dc || !seen_text) {
        free(dc);
        free(seen_text);
        done(srv, session_id, arg, NULL);
        return;
    }
    *dc = (struct detached_claim){.session_id = session_id,
                                  .subject = subject,
                                  .seen_text = seen_text,
                                  .per_room = per_room,
                                  .done = done,
                                  .arg = arg};
    claim_send(dc);
}

/* ---- delivery: whispers to other nodes */

static void on_whispered(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct delivery_named *d = privdata;
    redisReply *rep = reply;

    (void)ac;
    delivery_named_sent(the_cluster->srv, d,
                        rep && rep->type == REDIS_REPLY_STRING ? rep->str : NULL);
}

static void cluster_to_name(struct server *srv, struct delivery_named *d)
{
    struct cluster *c = the_cluster;
    char keys[NAME_KEYS][NAME_KEY_MAX];
    char *json = NULL;
    const char *argv[5];

    if (name_keys(d->name, keys) || !(json = json_dumps(d->event, JSON_COMPACT))) {
        delivery_named_sent(srv, d, NULL);
        return;
    }
    argv[0] = "EVAL";
    argv[1] = whisper_script;
    argv[2] = "1";
    argv[3] = keys[0];
    argv[4] = json;
    if (link_command(&c->link, on_whispered, d, 5, argv, NULL))
        delivery_named_sent(srv, d, NULL); /* nobody can be reached: as good as offline */
    free(json);
}

/* "w NAME JSON" on this node's channel: a whisper for a player here. */
static void on_node_message(void *arg, const char *msg, size_t len)
{
    struct cluster *c = arg;
    const char *name = msg + 2, *sp;
    char who[SESSION_NAME_MAX + 1];
    struct session *s;
    struct msgbuf *m;

    if (len > 2 && len - 2 < sizeof(who) && msg[0] == 'd' && msg[1] == ' ') {
        /* "d NAME": another node resumed our detached session of NAME */
        memcpy(who, name, len - 2);
        who[len - 2] = '\0';
        s = session_by_name(c->srv, who);
        if (s && s->detached && c->srv->session_moved)
            c->srv->session_moved(c->srv, s);
        return;
    }
    if (len > 2 && msg[0] == 'a' && msg[1] == ' ') {
        games_node_message(&c->games, msg, len);
        return;
    }
    if (len < 4 || msg[0] != 'w' || msg[1] != ' ' || !(sp = memchr(name, ' ', len - 2)) ||
        (size_t)(sp - name) >= sizeof(who))
        return;
    memcpy(who, name, (size_t)(sp - name));
    who[sp - name] = '\0';
    s = session_by_name(c->srv, who);
    if (!s || !(m = msgbuf_from_bytes(sp + 1, len - (size_t)(sp + 1 - msg))))
        return;
    session_send(s, m);
    msgbuf_unref(m);
}

/* ---- accounts registered on other nodes */

#define ACCOUNTS_CHANNEL "parlor:accounts"

void cluster_account_registered(void *cluster, int64_t id, const char *name)
{
    struct cluster *c = cluster;
    char msg[SESSION_NAME_MAX + 32];

    if (!c || !c->srv)
        return;
    snprintf(msg, sizeof(msg), "%lld %s", (long long)id, name);
    /* lost while the link is down: that node learns it at its next start */
    link_command(&c->link, NULL, NULL, 3, (const char *[]){"PUBLISH", ACCOUNTS_CHANNEL, msg}, NULL);
}

static void on_accounts_channel(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct cluster *c = privdata;
    redisReply *rep = reply;
    char name[SESSION_NAME_MAX + 1];
    long long id;

    (void)ac;
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 3 &&
        !strcmp(rep->element[0]->str, "message") && rep->element[2]->type == REDIS_REPLY_STRING &&
        sscanf(rep->element[2]->str, "%lld %256s", &id, name) == 2 && id > 0 && c->account_learned)
        c->account_learned(c->account_learned_arg, (int64_t)id, name);
}

/* ---- the link's events */

static void cluster_up(void *arg)
{
    struct cluster *c = arg;
    const char *argv[3] = {"SCRIPT", "LOAD", publish_script};
    struct hmap *m = &c->rooms;

    c->srv->cluster.link_up = true;
    /* on the same connection as, and so before, any EVALSHA */
    link_command(&c->link, NULL, NULL, 3, argv, NULL);
    alive_tick(&c->alive_timer); /* before the names: they count only while we are alive */
    announce_names(c);
    registry_up(&c->registry);
    link_subscribe(&c->link, ACCOUNTS_CHANNEL, on_accounts_channel, c);
    reserve_ids(c);
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key)
            reconcile(m->slots[i].val);
    modbus_up(&c->modbus);
    games_up(&c->games);
}

static void cluster_down(void *arg)
{
    struct cluster *c = arg;
    struct hmap *m = &c->rooms;

    c->srv->cluster.link_up = false;
    c->srv->cluster.link_drops = c->link.drops;
    c->ids_pending = false;
    modbus_down(&c->modbus);
    /* every subscription is gone with the connection; forgetting changes the map, so the
     * scan starts again after each one */
    for (size_t i = 0; i < m->cap;) {
        struct cluster_room *cr = m->slots[i].key ? m->slots[i].val : NULL;
        if (cr)
            wake_waiters(cr); /* with the history this node has: better than no answer */
        if (cr && (cr->state != UNSUBSCRIBED || cr->repairing || cr->npending || !cr->wanted)) {
            cr->state = UNSUBSCRIBED;
            cr->repairing = false;
            cr->caught_up = false;
            cr->quiet_catch_up = false; /* members here: after the link, the gap is theirs */
            clear_pending(cr);
            if (!cr->wanted) {
                maybe_forget(cr);
                i = 0;
                continue;
            }
        }
        i++;
    }
}

int cluster_identify(struct cluster *c, struct server *srv, char *err, size_t errlen)
{
    unsigned char rnd[8];
    char host[48];

    if (srv->cfg.node_id) {
        snprintf(c->node_id, sizeof(c->node_id), "%s", srv->cfg.node_id);
    } else {
        if (gethostname(host, sizeof(host)))
            snprintf(host, sizeof(host), "node");
        host[sizeof(host) - 1] = '\0';
        snprintf(c->node_id, sizeof(c->node_id), "%s:%d", host, srv->cfg.port);
    }
    for (const char *p = c->node_id; *p; p++)
        if (*p == ' ' || (unsigned char)*p < 0x21) {
            snprintf(err, errlen, "--node-id '%s': no spaces or control characters", c->node_id);
            return -1;
        }
    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        snprintf(err, errlen, "no random bytes for the node's boot id");
        return -1;
    }
    for (int i = 0; i < 8; i++)
        snprintf(c->boot + 2 * i, 3, "%02x", rnd[i]);
    /* a guest's token names its session id: ids must not repeat across nodes (2^16 bases of
     * 2^36 ids each stay below 2^53, exact in JSON) */
    srv->next_session_id = ((uint64_t)rnd[0] << 8 | rnd[1]) << 36;
    return 0;
}

int cluster_start(struct cluster *c, struct server *srv, uv_loop_t *loop, char *err, size_t errlen)
{
    unsigned char digest[SHA_DIGEST_LENGTH];
    char node_id[sizeof(c->node_id)], boot[sizeof(c->boot)], database_id[sizeof(c->database_id)];

    /* main named the node for its startup checks (startup.h): the same name and boot id */
    if (!c->boot[0] && cluster_identify(c, srv, err, errlen))
        return -1;
    memcpy(node_id, c->node_id, sizeof(node_id));
    memcpy(boot, c->boot, sizeof(boot));
    memcpy(database_id, c->database_id, sizeof(database_id));
    *c = (struct cluster){.srv = srv,
                          .stream_max = srv->cfg.cluster_stream,
                          .account_learned = c->account_learned,
                          .account_learned_arg = c->account_learned_arg};
    memcpy(c->node_id, node_id, sizeof(node_id));
    memcpy(c->boot, boot, sizeof(boot));
    memcpy(c->database_id, database_id, sizeof(database_id));
    hmap_init(&c->rooms);
    SHA1((const unsigned char *)publish_script, strlen(publish_script), digest);
    for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
        snprintf(c->script_sha + 2 * i, 3, "%02x", digest[i]);
    the_cluster = c;
    registry_init(&c->registry, srv, &c->link, c->node_id);
    cluster_directory_ops = directory_local_ops;
    cluster_directory_ops.new_room_id = cluster_new_room_id;
    cluster_directory_ops.confirm_name = cluster_confirm_name;
    cluster_directory_ops.detach = cluster_detach;
    cluster_directory_ops.forget_detached = cluster_forget_detached;
    cluster_directory_ops.claim_detached = cluster_claim_detached;
    if (link_start(&c->link,
                   &(struct link_cfg){.url = srv->cfg.cluster,
                                      .node_id = c->node_id,
                                      .timeout_ms = srv->cfg.cluster_timeout_ms,
                                      .srv = srv,
                                      .up = cluster_up,
                                      .down = cluster_down,
                                      .node_message = on_node_message,
                                      .arg = c},
                   loop, err, errlen)) {
        the_cluster = NULL;
        return -1;
    }
    srv->cluster.node_id = c->node_id;
    srv->name_released = name_released;
    srv->delivery = &cluster_delivery_ops;
    srv->directory = &cluster_directory_ops;
    games_init(&c->games, srv, &c->link, c->node_id, srv->cfg.game_lease_ms);
    return 0;
}

void cluster_stop(struct cluster *c)
{
    struct hmap *m = &c->rooms;

    if (!c->srv)
        return;
    modbus_stop(&c->modbus);
    link_stop(&c->link);
    c->srv->ops->cancel(c->srv->transport, &c->alive_timer);
    while (c->claims_waiting) {
        struct detached_claim *dc = c->claims_waiting;
        c->claims_waiting = dc->next;
        c->srv->ops->cancel(c->srv->transport, &dc->retry);
        claim_finish(dc, NULL);
    }
    for (size_t i = 0; i < c->nunreleased; i++)
        free(c->unreleased[i]);
    free(c->unreleased);
    c->srv->name_released = NULL;
    registry_destroy(&c->registry);
    for (size_t i = 0; i < m->cap; i++) {
        struct cluster_room *cr = m->slots[i].key ? m->slots[i].val : NULL;
        if (cr) {
            wake_waiters(cr);
            clear_pending(cr);
            free(cr->pending);
            free(cr);
        }
    }
    hmap_destroy(m);
    c->srv->delivery = NULL;
    c->srv->directory = NULL;
    c->srv->game_sync = NULL;
    c->srv->cluster.link_up = false;
    the_cluster = NULL;
    c->srv = NULL;
}
