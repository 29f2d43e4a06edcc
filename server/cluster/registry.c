/* The cluster's room list (see registry.h). Loop thread only. */
#include "registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "delivery.h"
#include "link.h"
#include "log.h"
#include "proto.h"
#include "room.h"
#include "server.h"
#include "session.h"

#define ROOMS_KEY     "parlor:rooms"
#define ROOMS_CHANNEL "parlor:rooms"
#define NODE_MAX      64

/* ARGV: room id, node, its members there, 1 for the lobby (never removed), the room's JSON.
 * Sets the node's count and publishes it; a room whose alive nodes count no member goes from
 * the list (and a dead node's counts with it); a room with members that the list lacks (a
 * Redis that restarted empty, or a removal racing a join) is put back. The room's total. */
static const char count_script[] =
    "local rooms, members, names = KEYS[1], KEYS[2], KEYS[3]\n"
    "local function forget_names(node)\n"
    "  local all = redis.call('HGETALL', names)\n"
    "  for i = 1, #all, 2 do\n"
    "    if string.match(all[i + 1], '^(%S+)') == node then redis.call('HDEL', names, all[i]) end\n"
    "  end\n"
    "end\n"
    "if tonumber(ARGV[3]) > 0 then redis.call('HSET', members, ARGV[2], ARGV[3])\n"
    "else redis.call('HDEL', members, ARGV[2]); forget_names(ARGV[2]) end\n"
    "redis.call('PUBLISH', 'parlor:rooms', 'n ' .. ARGV[1] .. ' ' .. ARGV[2] .. ' ' .. ARGV[3])\n"
    "local all, total = redis.call('HGETALL', members), 0\n"
    "for i = 1, #all, 2 do\n"
    "  if redis.call('EXISTS', 'parlor:alive:' .. all[i]) == 1 then\n"
    "    total = total + tonumber(all[i + 1])\n"
    "  else redis.call('HDEL', members, all[i]); forget_names(all[i]) end\n"
    "end\n"
    "if ARGV[4] == '1' then return total end\n"
    "local listed = redis.call('HEXISTS', rooms, ARGV[1]) == 1\n"
    "if total == 0 and listed then\n"
    "  redis.call('HDEL', rooms, ARGV[1]); redis.call('DEL', members, names)\n"
    "  local game = 'parlor:game:' .. ARGV[1]\n"
    "  redis.call('DEL', game, game .. ':owner', game .. ':open', game .. ':answers', game .. "
    "':log', game .. ':sent')\n"
    "  redis.call('SREM', 'parlor:games', ARGV[1])\n"
    "  redis.call('PUBLISH', 'parlor:rooms', '- ' .. ARGV[1])\n"
    "elseif total > 0 and not listed then\n"
    "  redis.call('HSET', rooms, ARGV[1], ARGV[5])\n"
    "  redis.call('PUBLISH', 'parlor:rooms', '+ ' .. ARGV[1] .. ' ' .. ARGV[5])\n"
    "end\n"
    "return total\n";

/* KEYS: the room's names. ARGV: the name, its value (a join: "NODE SEAT USER SINCE") or ""
 * (a leave), this node, the message for the other nodes. A leave forgets the name only if it is
 * still this node's: a player who resumed on another node may have been listed there first. */
static const char member_script[] =
    "if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
    "else\n"
    "  local v = redis.call('HGET', KEYS[1], ARGV[1])\n"
    "  if v and string.match(v, '^(%S+)') == ARGV[3] then redis.call('HDEL', KEYS[1], ARGV[1]) "
    "end\n"
    "end\n"
    "redis.call('PUBLISH', 'parlor:rooms', ARGV[4])\n"
    "return 1\n";

struct node_count {
    char node[NODE_MAX];
    int count;
};

/* The other nodes' members of one room. */
struct room_counts {
    char id[ROOM_ID_LEN];
    struct node_count *nodes;
    size_t n;
};

/* A request about one room or node, for its reply. */
/* How many times a room's names are read again because they changed meanwhile (on_names). */
#define NAMES_TRIES 8

struct ask {
    struct registry *reg;
    char what[NODE_MAX];
    unsigned changes; /* a names read: the room's remote_changes when it was sent */
    int tries;
};

static struct ask *ask_new(struct registry *reg, const char *what)
{
    struct ask *a = calloc(1, sizeof(*a));

    if (a) {
        a->reg = reg;
        snprintf(a->what, sizeof(a->what), "%.*s", NODE_MAX - 1, what);
    }
    return a;
}

static struct room_counts *counts_of(struct registry *reg, const char *id, bool create)
{
    struct room_counts *rc = hmap_get(&reg->counts, id, strlen(id));

    if (rc || !create)
        return rc;
    rc = calloc(1, sizeof(*rc));
    if (!rc)
        return NULL;
    snprintf(rc->id, sizeof(rc->id), "%s", id);
    if (hmap_put(&reg->counts, rc->id, strlen(rc->id), rc)) {
        free(rc);
        return NULL;
    }
    return rc;
}

static void forget_counts(struct registry *reg, const char *id)
{
    struct room_counts *rc = hmap_del(&reg->counts, id, strlen(id));

    if (rc) {
        free(rc->nodes);
        free(rc);
    }
}

/* Sets a node's count for room `id` and the room's remote_members. */
static void set_count(struct registry *reg, const char *id, const char *node, int count)
{
    struct room *r = room_find(&reg->srv->rooms, id);
    struct room_counts *rc = counts_of(reg, id, count > 0);
    size_t i;
    int sum = 0;

    if (!rc)
        return;
    for (i = 0; i < rc->n && strcmp(rc->nodes[i].node, node); i++)
        ;
    if (i == rc->n && count > 0) {
        struct node_count *more = realloc(rc->nodes, (rc->n + 1) * sizeof(*more));
        if (!more)
            return;
        rc->nodes = more;
        snprintf(rc->nodes[rc->n].node, NODE_MAX, "%s", node);
        rc->n++;
    }
    if (i < rc->n) {
        rc->nodes[i].count = count;
        if (!count)
            rc->nodes[i] = rc->nodes[--rc->n];
    }
    for (i = 0; i < rc->n; i++)
        sum += rc->nodes[i].count;
    if (r)
        r->remote_members = sum;
    if (!rc->n)
        forget_counts(reg, id);
}

static char *room_desc(const struct room *r)
{
    json_t *o = json_pack("{s:s, s:i, s:I}", "name", r->name, "max", r->max, "created",
                          (json_int_t)r->created_ms);
    char *s;

    if (o && r->kind && r->kind->settings) /* a quiz: its rounds and seconds */
        json_object_set_new(o, r->kind->name, r->kind->settings(r->game));
    s = o ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    return s;
}

/* A room the list has and this node lacks: made here, empty, so players here can join it. */
static struct room *add_replica(struct registry *reg, const char *id, const char *desc, size_t len)
{
    struct room *r = room_find(&reg->srv->rooms, id);
    json_t *o;
    const char *name;
    int max;

    if (r) {
        r->shared = true;
        return r;
    }
    o = json_loadb(desc, len, 0, NULL);
    name = json_string_value(json_object_get(o, "name"));
    max = (int)json_integer_value(json_object_get(o, "max"));
    if (name && max > 0 && (r = room_create(&reg->srv->rooms, id, name, max, false))) {
        struct room_counts *rc = counts_of(reg, id, false);
        if (reg->srv->attach_kind && reg->srv->attach_kind(reg->srv, r, o)) {
            log_error("cluster: room %s: out of memory for its game; not listed here", id);
            reg->srv->drop_room(reg->srv, r);
            json_decref(o);
            return NULL;
        }
        r->shared = true;
        r->created_ms = json_integer_value(json_object_get(o, "created"));
        /* counts may come before the room (the script publishes them first) */
        for (size_t i = 0; rc && i < rc->n; i++)
            r->remote_members += rc->nodes[i].count;
    }
    json_decref(o);
    return r;
}

void registry_count(struct registry *reg, struct room *r, bool gone)
{
    char members[ROOM_ID_LEN + 32], names[ROOM_ID_LEN + 32], count[16];
    char *desc;
    const char *argv[10] = {"EVAL", count_script, "3", ROOMS_KEY, members, names};

    if (!r->shared && !r->permanent)
        return;
    desc = room_desc(r);
    if (!desc)
        return;
    snprintf(members, sizeof(members), "parlor:room:%s:members", r->id);
    snprintf(names, sizeof(names), "parlor:room:%s:names", r->id);
    snprintf(count, sizeof(count), "%d", gone ? 0 : r->nmembers);
    argv[6] = r->id;
    argv[7] = reg->node_id;
    argv[8] = count;
    argv[9] = r->permanent ? "1" : "0";
    {
        const char *args[11];
        memcpy(args, argv, sizeof(argv));
        args[10] = desc;
        link_command(reg->link, NULL, NULL, 11, args, NULL);
    }
    free(desc);
    if (gone)
        forget_counts(reg, r->id);
}

void registry_member(struct registry *reg, const struct room *r, const struct session *s,
                     int64_t since, bool joined)
{
    char key[ROOM_ID_LEN + 32], msg[ROOM_ID_LEN + NODE_MAX + 360], value[NODE_MAX + 80];

    if (!r->shared && !r->permanent)
        return;
    snprintf(key, sizeof(key), "parlor:room:%s:names", r->id);
    /* every node follows the names, whether the players were told (joined, left) or not (a
     * resume or a drain moving a player between nodes) */
    if (joined) {
        snprintf(value, sizeof(value), "%s %llu %lld %lld", reg->node_id,
                 (unsigned long long)s->seat, (long long)s->user_id, (long long)since);
        snprintf(msg, sizeof(msg), "m %s %s %s", r->id, value, s->name);
    } else { /* X: it goes on on another node (see room_remote.moving_until) */
        value[0] = '\0';
        snprintf(msg, sizeof(msg), "%c %s %s %s", s->handed_over ? 'X' : 'x', r->id, reg->node_id,
                 s->name);
    }
    link_command(
        reg->link, NULL, NULL, 8,
        (const char *[]){"EVAL", member_script, "1", key, s->name, value, reg->node_id, msg}, NULL);
}

/* A member from "NODE SEAT USER SINCE" and its name. */
static bool parse_member(struct room_remote *m, const char *name, const char *value)
{
    unsigned long long seat;
    long long uid, since;

    *m = (struct room_remote){0};
    if (sscanf(value, "%63s %llu %lld %lld", m->node, &seat, &uid, &since) != 4)
        return false;
    snprintf(m->name, sizeof(m->name), "%s", name);
    m->seat = seat;
    m->user_id = uid;
    m->since = since;
    return true;
}

/* The other nodes' members of `r` changed: a game recounts its players. */
static void roster_changed(struct room *r)
{
    if (r->kind && r->kind->roster_changed)
        r->kind->roster_changed(r->game);
}

static void on_names(redisAsyncContext *ac, void *reply, void *privdata);

static void fetch_names(struct registry *reg, const struct room *r, int tries)
{
    char key[ROOM_ID_LEN + 32];
    struct ask *a = ask_new(reg, r->id);

    if (!a)
        return;
    a->changes = r->remote_changes;
    a->tries = tries;
    snprintf(key, sizeof(key), "parlor:room:%s:names", r->id);
    if (link_command(reg->link, on_names, a, 2, (const char *[]){"HGETALL", key}, NULL))
        free(a);
}

void registry_fetch_names(struct registry *reg, const struct room *r)
{
    fetch_names(reg, r, 0);
}

void registry_created(struct registry *reg, struct room *r)
{
    r->shared = true;
    registry_count(reg, r, false);        /* puts it on the list, with this node's member */
    for (int i = 0; i < r->nmembers; i++) /* (its creator joined before it was shared) */
        registry_member(reg, r, r->members[i], r->since[i], true);
}

/* "NODE SEAT USER SINCE NAME" (m), or "NODE NAME" (x, X) of room `r`. */
static void on_member_message(struct registry *reg, struct room *r, char kind, const char *p,
                              size_t len)
{
    bool joined = kind == 'm';
    char text[NODE_MAX + 360];
    struct room_remote m;
    char *name = text;
    size_t ours = strlen(reg->node_id);

    if (len >= sizeof(text))
        return;
    memcpy(text, p, len);
    text[len] = '\0';
    for (int fields = joined ? 4 : 1; fields > 0 && name; fields--)
        if ((name = strchr(name, ' ')))
            name++;
    if (!name || (!strncmp(text, reg->node_id, ours) && text[ours] == ' '))
        return;          /* ours, or not a member */
    r->remote_changes++; /* a names read on its way may be older than this (on_names) */
    if (joined) {
        name[-1] = '\0';
        if (!parse_member(&m, name, text) || room_remote_add(r, &m))
            return;
    } else {
        char node[NODE_MAX];
        snprintf(node, sizeof(node), "%.*s", (int)(name - 1 - text), text);
        if (kind == 'X' && reg->srv->cfg.rejoin_seconds > 0) {
            for (int i = 0; i < r->nremote; i++)
                if (!strcmp(r->remote[i].name, name) && !strcmp(r->remote[i].node, node))
                    r->remote[i].moving_until =
                        reg->srv->wall_ms() + (int64_t)reg->srv->cfg.rejoin_seconds * 1000;
            return; /* still a member, as a dropped session is on one node */
        }
        if (!room_remote_del(r, name, node))
            return;
    }
    roster_changed(r);
}

/* "+ ID JSON", "- ID", "n ID NODE COUNT", "m ID NODE SEAT USER SINCE NAME", "x ID NODE NAME",
 * "X ID NODE NAME" */
static void on_list_message(struct registry *reg, const char *msg, size_t len)
{
    char id[ROOM_ID_LEN], node[NODE_MAX];
    const char *rest;
    struct room *r;
    int count;

    if (len < 3 || msg[1] != ' ')
        return;
    rest = memchr(msg + 2, ' ', len - 2);
    if (msg[0] == '-') {
        snprintf(id, sizeof(id), "%.*s", (int)(len - 2), msg + 2);
        r = room_find(&reg->srv->rooms, id);
        if (r && r->shared && !r->nmembers && reg->srv->drop_room)
            reg->srv->drop_room(reg->srv, r);
        else if (r && r->shared)
            registry_count(reg, r, false); /* members here: it stays listed */
        return;
    }
    if (!rest || rest - (msg + 2) >= ROOM_ID_LEN)
        return;
    snprintf(id, sizeof(id), "%.*s", (int)(rest - (msg + 2)), msg + 2);
    if (msg[0] == '+') {
        add_replica(reg, id, rest + 1, len - (size_t)(rest + 1 - msg));
    } else if ((msg[0] == 'm' || msg[0] == 'x' || msg[0] == 'X') &&
               (r = room_find(&reg->srv->rooms, id)) && (r->nmembers || r->kind)) {
        /* names are kept for the rooms with members here (they list them) and for games (the
         * players) */
        on_member_message(reg, r, msg[0], rest + 1, len - (size_t)(rest + 1 - msg));
    } else if (msg[0] == 'n' && sscanf(rest + 1, "%63s %d", node, &count) == 2 &&
               strcmp(node, reg->node_id)) {
        set_count(reg, id, node, count);
    }
}

static void on_list_channel(redisAsyncContext *ac, void *reply, void *privdata)
{
    redisReply *rep = reply;

    (void)ac;
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 3 &&
        !strcmp(rep->element[0]->str, "message") && rep->element[2]->type == REDIS_REPLY_STRING)
        on_list_message(privdata, rep->element[2]->str, rep->element[2]->len);
}

/* The names of the room's members on the other nodes, as Redis lists them now. */
static void on_names(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct ask *a = privdata;
    redisReply *rep = reply;
    struct room *r = room_find(&a->reg->srv->rooms, a->what);

    (void)ac;
    /* A member message heard while the read was on its way may have been published after Redis
     * answered it (the two come on different connections): this answer could undo it. A read
     * sent after that message was heard is newer than it, so read again (a room whose members
     * keep changing gets the last answer anyway, and the messages after it). */
    if (r && rep && rep->type == REDIS_REPLY_ARRAY && r->remote_changes != a->changes &&
        a->tries < NAMES_TRIES) {
        fetch_names(a->reg, r, a->tries + 1);
        free(a);
        return;
    }
    if (r && rep && rep->type == REDIS_REPLY_ARRAY) {
        struct room_remote m;
        room_remote_clear(r);
        for (size_t i = 0; i + 1 < rep->elements; i += 2)
            if (parse_member(&m, rep->element[i]->str, rep->element[i + 1]->str) &&
                strcmp(m.node, a->reg->node_id))
                room_remote_add(r, &m);
        roster_changed(r);
    }
    free(a);
}

static void on_room_members(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct ask *a = privdata;
    redisReply *rep = reply;

    (void)ac;
    if (rep && rep->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i + 1 < rep->elements; i += 2)
            if (strcmp(rep->element[i]->str, a->reg->node_id))
                set_count(a->reg, a->what, rep->element[i]->str, atoi(rep->element[i + 1]->str));
    free(a);
}

static void on_list(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct registry *reg = privdata;
    redisReply *rep = reply;
    struct room *next;

    (void)ac;
    if (!rep || rep->type != REDIS_REPLY_ARRAY)
        return;
    for (size_t i = 0; i + 1 < rep->elements; i += 2)
        add_replica(reg, rep->element[i]->str, rep->element[i + 1]->str, rep->element[i + 1]->len);
    /* this node's counts, and the others' */
    for (struct room *r = reg->srv->rooms.first; r; r = next) {
        char key[ROOM_ID_LEN + 32];
        const char *argv[2] = {"HGETALL", key};
        struct ask *a;
        next = r->next;
        if (!r->shared && !r->permanent)
            continue;
        registry_count(reg, r, false);
        if (r->kind) /* a game's players, wherever they are */
            registry_fetch_names(reg, r);
        snprintf(key, sizeof(key), "parlor:room:%s:members", r->id);
        if ((a = ask_new(reg, r->id)) && link_command(reg->link, on_room_members, a, 2, argv, NULL))
            free(a);
    }
}

void registry_up(struct registry *reg)
{
    const char *argv[2] = {"HGETALL", ROOMS_KEY};

    link_subscribe(reg->link, ROOMS_CHANNEL, on_list_channel, reg);
    link_command(reg->link, on_list, reg, 2, argv, NULL);
}

static void tell_left(void *arg, struct room *r, const char *name)
{
    struct registry *reg = arg;
    json_t *ev = proto_ev_member("left", r->id, name);
    struct msgbuf *m = ev ? msgbuf_from_json(ev) : NULL;

    if (m)
        delivery_local_room(reg->srv, r, m, NULL);
    msgbuf_unref(m);
    json_decref(ev);
}

static void on_alive(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct ask *a = privdata;
    struct registry *reg = a->reg;
    redisReply *rep = reply;
    const char *node = a->what;
    struct hmap *m;

    (void)ac;
    if (rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 0) {
        log_info("cluster: node %s is gone; its members leave the room counts", node);
        m = &reg->counts;
        for (size_t i = 0; i < m->cap;) {
            struct room_counts *rc = m->slots[i].key ? m->slots[i].val : NULL;
            size_t before = reg->counts.count;
            if (rc) {
                struct room *r = room_find(&reg->srv->rooms, rc->id);
                if (r && room_remote_del_node(r, node, tell_left, reg)) /* for players here too */
                    roster_changed(r);
                set_count(reg, rc->id, node, 0);
                if (r && !r->nmembers && !r->remote_members && r->shared)
                    registry_count(reg, r, false); /* empty everywhere now: off the list */
            }
            if (reg->counts.count != before) {
                i = 0; /* the map changed: scan again */
                continue;
            }
            i++;
        }
    }
    free(a);
}

void registry_tick(struct registry *reg)
{
    struct hmap *m = &reg->counts;
    char seen[16][NODE_MAX];
    int nseen = 0;
    int64_t now = reg->srv->wall_ms();

    /* members who were moving to another node and never turned up there have left */
    for (struct room *r = reg->srv->rooms.first; r; r = r->next)
        if (r->nremote && room_remote_expire(r, now, tell_left, reg))
            roster_changed(r);

    /* the nodes counted anywhere (a handful): is each still alive? */
    for (size_t i = 0; i < m->cap; i++) {
        struct room_counts *rc = m->slots[i].key ? m->slots[i].val : NULL;
        for (size_t k = 0; rc && k < rc->n; k++) {
            int j;
            for (j = 0; j < nseen && strcmp(seen[j], rc->nodes[k].node); j++)
                ;
            if (j == nseen && nseen < 16)
                snprintf(seen[nseen++], NODE_MAX, "%s", rc->nodes[k].node);
        }
    }
    for (int j = 0; j < nseen; j++) {
        char key[NODE_MAX + 16];
        const char *argv[2] = {"EXISTS", key};
        struct ask *a = ask_new(reg, seen[j]);
        snprintf(key, sizeof(key), "parlor:alive:%.*s", NODE_MAX - 1, seen[j]);
        if (a && link_command(reg->link, on_alive, a, 2, argv, NULL))
            free(a);
    }
}

void registry_init(struct registry *reg, struct server *srv, struct link *link, const char *node_id)
{
    *reg = (struct registry){.srv = srv, .link = link, .node_id = node_id};
    hmap_init(&reg->counts);
}

void registry_destroy(struct registry *reg)
{
    struct hmap *m = &reg->counts;

    for (size_t i = 0; i < m->cap; i++) {
        struct room_counts *rc = m->slots[i].key ? m->slots[i].val : NULL;
        if (rc) {
            free(rc->nodes);
            free(rc);
        }
    }
    hmap_destroy(m);
}
