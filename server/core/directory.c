/* The directory (see directory.h) and its local implementation. Loop thread only. */
#include "directory.h"

#include <stdio.h>

#include "server.h"
#include "session.h"

static const struct directory_ops *ops_of(const struct server *srv)
{
    return srv->directory ? srv->directory : &directory_local_ops;
}

int directory_new_room_id(struct server *srv, char out[ROOM_ID_LEN])
{
    return ops_of(srv)->new_room_id(srv, out);
}

uint64_t directory_next_seq(struct server *srv, struct room *r)
{
    return ops_of(srv)->next_seq(srv, r);
}

int directory_claim_name(struct server *srv, struct session *s, const char *name)
{
    return ops_of(srv)->claim_name(srv, s, name);
}

void directory_take_name(struct server *srv, struct session *s, struct session *old)
{
    ops_of(srv)->take_name(srv, s, old);
}

struct session *directory_find_name(struct server *srv, const char *name)
{
    return ops_of(srv)->find_name(srv, name);
}

bool directory_name_confusable(struct server *srv, const char *name)
{
    return ops_of(srv)->name_confusable(srv, name);
}

void directory_confirm_name(struct server *srv, uint64_t session_id, const char *name, bool forced,
                            directory_confirmed_fn *done, struct proto_re re)
{
    const struct directory_ops *ops = ops_of(srv);

    if (ops->confirm_name)
        ops->confirm_name(srv, session_id, name, forced, done, re);
    else if (done)
        done(srv, session_id, re, 0);
}

void directory_detach(struct server *srv, struct session *s)
{
    if (ops_of(srv)->detach)
        ops_of(srv)->detach(srv, s);
}

void directory_forget_detached(struct server *srv, struct session *s)
{
    if (ops_of(srv)->forget_detached)
        ops_of(srv)->forget_detached(srv, s);
}

bool directory_can_claim_detached(struct server *srv)
{
    return ops_of(srv)->claim_detached != NULL;
}

void directory_claim_detached(struct server *srv, uint64_t session_id, int64_t subject,
                              json_t *seen, int per_room, directory_claimed_fn *done, void *arg)
{
    if (ops_of(srv)->claim_detached)
        ops_of(srv)->claim_detached(srv, session_id, subject, seen, per_room, done, arg);
    else
        done(srv, session_id, arg, NULL);
}

/* ---- this process alone: ids and seqs count up in memory (the next room number is read
 * from the database at startup), names live in the sessions' maps ---- */

static int local_new_room_id(struct server *srv, char out[ROOM_ID_LEN])
{
    int n = snprintf(out, ROOM_ID_LEN, "r%llu", (unsigned long long)srv->rooms.next_id);

    if (n < 0 || n >= ROOM_ID_LEN)
        return -1;
    srv->rooms.next_id++;
    return 0;
}

static uint64_t local_next_seq(struct server *srv, struct room *r)
{
    return room_next_seq(r);
}

static int local_claim_name(struct server *srv, struct session *s, const char *name)
{
    return session_set_name(s, name);
}

static void local_take_name(struct server *srv, struct session *s, struct session *old)
{
    session_take_name(s, old);
}

const struct directory_ops directory_local_ops = {
    .new_room_id = local_new_room_id,
    .next_seq = local_next_seq,
    .claim_name = local_claim_name,
    .take_name = local_take_name,
    .find_name = session_by_name,
    .name_confusable = session_name_confusable,
};
