/*
 * Rooms: membership in join order, the per-room chat sequence and the recent history ring.
 * Knows nothing of sockets or requests; chat.c drives it. Loop thread only.
 */
#ifndef PARLOR_ROOM_H
#define PARLOR_ROOM_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "hmap.h"
#include "timer.h"

struct session;
struct server;
struct proto_req;

/* What makes a room more than a chat room: a game. A kind registers its handlers here and the
 * chat service calls them without knowing the game's rules or state. */
struct room_kind {
    const char *name; /* the room object's `game` */
    /* Adds the kind's fields (a quiz: its host) to the room object. */
    void (*describe)(const void *state, json_t *room_obj);
    /* The running game for a late joiner or a resume; NULL when none is running. */
    json_t *(*snapshot)(const void *state);
    /* A request only this kind understands (start, answer); it replies itself. */
    void (*request)(void *state, struct session *s, const struct proto_req *req);
    void (*member_left)(void *state, struct session *s, bool was_host);
    void (*free)(void *state);
    /* In a cluster (optional each): the settings that list the room on every node, as an
     * object; */
    json_t *(*settings)(const void *state);
    /* the members on other nodes (room.remote) changed; */
    void (*roster_changed)(void *state);
    /* the owner of the room's game published a step (gamesync.h): `step` is {"cp": checkpoint
     * or null, "ev": [events]}, under lease `epoch`; */
    void (*synced)(void *state, int64_t epoch, json_t *step);
    /* (on the owner) the player in `seat` recorded an answer; */
    void (*answered)(void *state, uint64_t seat);
    /* the link to the other nodes is back: catch up with the steps missed meanwhile. */
    void (*relinked)(void *state);
};

#define ROOM_ID_LEN 24

struct room {
    char id[ROOM_ID_LEN];
    char *name;
    int max;                    /* member limit */
    bool permanent;             /* the lobby: never removed when empty */
    bool shared;                /* a cluster's: removed when empty on every node, not here */
    int remote_members;         /* members connected to other nodes (the cluster counts) */
    struct room_remote *remote; /* their names, as far as the cluster knows them */
    int nremote, remote_cap;
    unsigned remote_changes;      /* bumped by each change to `remote` the cluster hears of */
    const struct room_kind *kind; /* NULL for a chat room */
    void *game;                   /* the kind's state (a quiz: struct game *) */

    struct session **members; /* in order of joining */
    int64_t *since;           /* members[i] joined at since[i] (wall ms): a cluster's host is the
                               * member who came first on any node (game.c) */
    int nmembers, members_cap;
    /* when it was made (wall ms; on a cluster, on the node that made it): a joiner's since comes
     * after it, so its creator is the first member even if someone joins in the same ms */
    int64_t created_ms;

    /* A room above presence_max counts arrivals and departures instead of announcing each:
     * a change marks it dirty and a timer sends one `presence` event (chat.c). */
    bool presence_dirty;
    loop_timer presence_sul;
    struct server *srv; /* for the timer callback */

    uint64_t last_seq; /* seq of the newest chat message */
    json_t **hist;     /* ring of the last `hist_cap` chat events */
    int hist_cap, hist_head, hist_count;
    uint64_t hist_lost; /* newest seq the ring let go for lack of room (0: none yet) */

    struct room *prev, *next; /* creation order */
};

/* A member connected to another node. */
struct room_remote {
    char name[258]; /* SESSION_NAME_MAX + 1 */
    char node[64];
    uint64_t seat;   /* its session's seat (session.h), for a game's players */
    int64_t user_id; /* 0 for a guest */
    int64_t since;   /* when it joined (wall ms) */
    /* Moving to another node (a drain, a resume there): kept, as one node keeps a dropped
     * session, until it turns up there or this time (wall ms) passes. 0: not moving. */
    int64_t moving_until;
};

struct rooms {
    struct hmap by_id;
    struct room *first, *last;
    int count;
    uint64_t next_id;
    int history_cap;
};

void rooms_init(struct rooms *rs, int history_cap);
/* Frees every room; safe on a zeroed struct. */
void rooms_destroy(struct rooms *rs);
/* Creates a room with id `id`, or the next "rN" when id is NULL. NULL when out of memory. */
struct room *room_create(struct rooms *rs, const char *id, const char *name, int max,
                         bool permanent);
struct room *room_find(const struct rooms *rs, const char *id);
/* Removes and frees the room (its members are not told). */
void room_destroy(struct rooms *rs, struct room *r);

/* Appends a member, who joined at `since_ms`; 0, or -1 when out of memory. The caller checks
 * `max`. */
int room_add_member(struct room *r, struct session *s, int64_t since_ms);
/* The join time (wall ms) of a member joining now, `now_ms`: after the room's creation and every
 * join this node knows of, so every node ranks the members in one order of arrival. */
int64_t room_join_time(const struct room *r, int64_t now_ms);
/* Removes a member, keeping the others' order; a non-member is ignored. */
void room_remove_member(struct room *r, struct session *s);

/* The names of members on other nodes: add (or move to `node`), remove one (if it is on `node`,
 * when `node` is not NULL), remove a node's but those moving away from it (returning how many
 * went, their names passed to `gone` first when it is not NULL), or all. */
int room_remote_add(struct room *r, const struct room_remote *m);
bool room_remote_del(struct room *r, const char *name, const char *node);
int room_remote_del_node(struct room *r, const char *node,
                         void (*gone)(void *arg, struct room *r, const char *name), void *arg);
/* Removes the members whose move ended before `now_ms` without their turning up, their names
 * passed to `gone` first; how many went. */
int room_remote_expire(struct room *r, int64_t now_ms,
                       void (*gone)(void *arg, struct room *r, const char *name), void *arg);
void room_remote_clear(struct room *r);

/* The next seq for a chat message in this room. */
uint64_t room_next_seq(struct room *r);
/* Keeps a reference to a chat event, dropping the oldest beyond the history size. */
void room_history_push(struct room *r, json_t *event);
/* The newest `limit` events of the history, oldest first, as a new array sharing them. */
json_t *room_history_json(const struct room *r, int limit);
/* Stores new references to the newest `limit` kept events with seq > `after` in `out`,
 * oldest first, and returns how many. *complete says whether they are every such message the
 * room still has (deleted ones aside): false when the ring let some go or `limit` cut some. */
int room_history_after(const struct room *r, uint64_t after, int limit, json_t **out,
                       bool *complete);
/* Drops the event with `seq` from the history; true if it was there. */
bool room_history_delete(struct room *r, uint64_t seq);
/* The protocol's room object. */
json_t *room_json(const struct room *r);

#endif
