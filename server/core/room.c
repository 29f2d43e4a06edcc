/* Rooms (see room.h). Loop thread only. */
#include "room.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

void rooms_init(struct rooms *rs, int history_cap)
{
    *rs = (struct rooms){.history_cap = history_cap, .next_id = 1};
    hmap_init(&rs->by_id);
}

static void room_free(struct room *r)
{
    for (int i = 0; i < r->hist_count; i++)
        json_decref(r->hist[(r->hist_head + i) % r->hist_cap]);
    free(r->hist);
    free(r->members);
    free(r->since);
    free(r->remote);
    free(r->name);
    free(r);
}

void rooms_destroy(struct rooms *rs)
{
    struct room *r = rs->first;

    while (r) {
        struct room *next = r->next;
        room_free(r);
        r = next;
    }
    hmap_destroy(&rs->by_id);
    rs->first = rs->last = NULL;
    rs->count = 0;
}

struct room *room_create(struct rooms *rs, const char *id, const char *name, int max,
                         bool permanent)
{
    struct room *r = calloc(1, sizeof(*r));

    if (!r)
        return NULL;
    if (id)
        snprintf(r->id, sizeof(r->id), "%s", id);
    else
        snprintf(r->id, sizeof(r->id), "r%llu", (unsigned long long)rs->next_id++);
    r->name = strdup(name);
    r->max = max;
    r->permanent = permanent;
    r->hist_cap = rs->history_cap;
    if (r->hist_cap)
        r->hist = calloc((size_t)r->hist_cap, sizeof(*r->hist));
    if (!r->name || (r->hist_cap && !r->hist) || hmap_put(&rs->by_id, r->id, strlen(r->id), r)) {
        room_free(r);
        return NULL;
    }
    r->prev = rs->last;
    if (rs->last)
        rs->last->next = r;
    else
        rs->first = r;
    rs->last = r;
    rs->count++;
    return r;
}

struct room *room_find(const struct rooms *rs, const char *id)
{
    return hmap_get(&rs->by_id, id, strlen(id));
}

void room_destroy(struct rooms *rs, struct room *r)
{
    hmap_del(&rs->by_id, r->id, strlen(r->id));
    if (r->prev)
        r->prev->next = r->next;
    else
        rs->first = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        rs->last = r->prev;
    rs->count--;
    room_free(r);
}

int room_add_member(struct room *r, struct session *s, int64_t since_ms)
{
    if (r->nmembers == r->members_cap) {
        int cap = r->members_cap ? r->members_cap * 2 : 8;
        struct session **m = realloc(r->members, (size_t)cap * sizeof(*m));
        int64_t *since;
        if (!m)
            return -1;
        r->members = m;
        since = realloc(r->since, (size_t)cap * sizeof(*since));
        if (!since)
            return -1;
        r->since = since;
        r->members_cap = cap;
    }
    r->since[r->nmembers] = since_ms;
    r->members[r->nmembers++] = s;
    return 0;
}

int64_t room_join_time(const struct room *r, int64_t now_ms)
{
    int64_t after = r->created_ms;

    for (int i = 0; i < r->nmembers; i++)
        if (r->since[i] > after)
            after = r->since[i];
    for (int i = 0; i < r->nremote; i++)
        if (r->remote[i].since > after)
            after = r->remote[i].since;
    return now_ms > after ? now_ms : after + 1;
}

void room_remove_member(struct room *r, struct session *s)
{
    for (int i = 0; i < r->nmembers; i++) {
        if (r->members[i] == s) {
            memmove(&r->members[i], &r->members[i + 1],
                    (size_t)(r->nmembers - i - 1) * sizeof(*r->members));
            memmove(&r->since[i], &r->since[i + 1],
                    (size_t)(r->nmembers - i - 1) * sizeof(*r->since));
            r->nmembers--;
            return;
        }
    }
}

static uint64_t event_seq(const json_t *event)
{
    return (uint64_t)json_integer_value(json_object_get(event, "seq"));
}

int room_remote_add(struct room *r, const struct room_remote *m)
{
    for (int i = 0; i < r->nremote; i++)
        if (!strcmp(r->remote[i].name, m->name)) {
            r->remote[i] = *m;
            return 0;
        }
    if (r->nremote == r->remote_cap) {
        int cap = r->remote_cap ? r->remote_cap * 2 : 8;
        struct room_remote *more = realloc(r->remote, (size_t)cap * sizeof(*more));
        if (!more)
            return -1;
        r->remote = more;
        r->remote_cap = cap;
    }
    r->remote[r->nremote++] = *m;
    return 0;
}

bool room_remote_del(struct room *r, const char *name, const char *node)
{
    for (int i = 0; i < r->nremote; i++)
        if (!strcmp(r->remote[i].name, name) && (!node || !strcmp(r->remote[i].node, node))) {
            /* keep the order of arrival: lists show members in the order they came */
            memmove(&r->remote[i], &r->remote[i + 1],
                    (size_t)(r->nremote - i - 1) * sizeof(*r->remote));
            r->nremote--;
            return true;
        }
    return false;
}

/* Removes the members `match` picks, their names passed to `gone` first; how many went. */
static int remote_remove(struct room *r,
                         bool (*match)(const struct room_remote *m, const void *key),
                         const void *key, void (*gone)(void *arg, struct room *r, const char *name),
                         void *arg)
{
    int n = 0;

    for (int i = 0; i < r->nremote;) {
        if (!match(&r->remote[i], key)) {
            i++;
            continue;
        }
        if (gone)
            gone(arg, r, r->remote[i].name);
        memmove(&r->remote[i], &r->remote[i + 1],
                (size_t)(r->nremote - i - 1) * sizeof(*r->remote));
        r->nremote--;
        n++;
    }
    return n;
}

static bool on_node_staying(const struct room_remote *m, const void *node)
{
    return !strcmp(m->node, node) && !m->moving_until;
}

int room_remote_del_node(struct room *r, const char *node,
                         void (*gone)(void *arg, struct room *r, const char *name), void *arg)
{
    return remote_remove(r, on_node_staying, node, gone, arg);
}

static bool moved_away(const struct room_remote *m, const void *now_ms)
{
    return m->moving_until && m->moving_until <= *(const int64_t *)now_ms;
}

int room_remote_expire(struct room *r, int64_t now_ms,
                       void (*gone)(void *arg, struct room *r, const char *name), void *arg)
{
    return remote_remove(r, moved_away, &now_ms, gone, arg);
}

void room_remote_clear(struct room *r)
{
    r->nremote = 0;
}

uint64_t room_next_seq(struct room *r)
{
    return ++r->last_seq;
}

void room_history_push(struct room *r, json_t *event)
{
    if (!r->hist_cap)
        return;
    json_incref(event);
    if (r->hist_count == r->hist_cap) {
        r->hist_lost = event_seq(r->hist[r->hist_head]);
        json_decref(r->hist[r->hist_head]);
        r->hist[r->hist_head] = event;
        r->hist_head = (r->hist_head + 1) % r->hist_cap;
    } else {
        r->hist[(r->hist_head + r->hist_count) % r->hist_cap] = event;
        r->hist_count++;
    }
}

json_t *room_history_json(const struct room *r, int limit)
{
    json_t *a = json_array();
    int first = r->hist_count > limit ? r->hist_count - limit : 0;

    for (int i = first; a && i < r->hist_count; i++)
        json_array_append(a, r->hist[(r->hist_head + i) % r->hist_cap]);
    return a;
}

int room_history_after(const struct room *r, uint64_t after, int limit, json_t **out,
                       bool *complete)
{
    int first = r->hist_count, n;

    /* deletions leave holes in the seqs: find the first kept event after `after` by value */
    while (first > 0 && event_seq(r->hist[(r->hist_head + first - 1) % r->hist_cap]) > after)
        first--;
    n = r->hist_count - first;
    *complete = after >= r->hist_lost && n <= limit;
    if (n > limit) {
        first += n - limit;
        n = limit;
    }
    for (int i = 0; i < n; i++)
        out[i] = json_incref(r->hist[(r->hist_head + first + i) % r->hist_cap]);
    return n;
}

bool room_history_delete(struct room *r, uint64_t seq)
{
    for (int i = 0; i < r->hist_count; i++) {
        int at = (r->hist_head + i) % r->hist_cap;
        json_t *ev = r->hist[at];
        if (event_seq(ev) != seq)
            continue;
        json_decref(ev);
        /* close the gap: shift the newer events back one place */
        for (int k = i; k + 1 < r->hist_count; k++)
            r->hist[(r->hist_head + k) % r->hist_cap] =
                r->hist[(r->hist_head + k + 1) % r->hist_cap];
        r->hist_count--;
        return true;
    }
    return false;
}

json_t *room_json(const struct room *r)
{
    return proto_room_obj(r->id, r->name, r->kind ? r->kind->name : NULL,
                          r->nmembers + r->remote_members, r->max);
}
