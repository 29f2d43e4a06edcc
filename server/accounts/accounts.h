/*
 * Accounts: register, login and resume on the loop, with the slow parts (scrypt, SQL) on the
 * pool. Registered names live in memory as well as in SQLite, so a guest `hello` can be
 * refused a registered name without a database round trip.
 *
 * Hashes run in the pool's CPU lane (pool.h), which bounds how many run at once (each takes
 * 128 MiB and tenths of a second) and how many wait; beyond that a sign-in gets server_busy,
 * so a login flood can neither exhaust memory nor occupy every worker.
 * Taking over a detached session's seats is left to the `signed_in` callback (the chat
 * service's), so accounts do not depend on rooms or games.
 * Loop thread only, except auth_job_run() on workers.
 */
#ifndef PARLOR_ACCOUNTS_H
#define PARLOR_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "hmap.h"
#include "proto.h"

struct server;
struct session;
struct pool;
struct proto_req;
struct auth_job;

struct accounts_stats {
    uint64_t registered, logins, resumes, failures;
};

struct accounts {
    struct server *srv;
    struct pool *pool;
    uint8_t key[AUTH_KEY_LEN]; /* token MAC key, kept in the database */
    struct auth_scrypt cost;   /* for new hashes */
    int64_t token_ttl_ms;
    void (*signed_in)(void *arg, struct session *s, struct session *kept,
                      const struct proto_req *req, const char *token);
    void *signed_in_arg;
    void (*resume_elsewhere)(void *arg, struct session *s, const struct proto_req *req,
                             int64_t user_id, const char *name);
    void (*registered)(void *arg, int64_t id, const char *name);
    void *registered_arg;

    struct hmap by_name;     /* names_key() -> user id; -1 while a registration is in flight */
    struct hmap by_skeleton; /* names_skeleton() -> count of names in by_name */
    struct hmap by_id;       /* user id -> the name as registered (owned) */

    struct accounts_stats stats;
};

struct accounts_cfg {
    const uint8_t *key; /* NULL: filled in later (startup loads it into acc->key) */
    struct auth_scrypt cost;
    int64_t token_ttl_ms;
    /* Called when a sign-in (login, or resume) finds the name's session `kept` detached and
     * still waiting (--rejoin-seconds): the seat handover is not the accounts' business, so
     * whoever owns rooms (the chat service, chat_signed_in()) moves `kept`'s name, rooms and
     * seats to `s`, frees `kept` and replies to `req`. `token` is the new token, or NULL when
     * none could be made. Required. */
    void (*signed_in)(void *arg, struct session *s, struct session *kept,
                      const struct proto_req *req, const char *token);
    void *signed_in_arg;
    /* Called when a resume's session is not kept here, and another node may keep it (a
     * cluster: directory_can_claim_detached()): whoever owns rooms takes it over from there, or
     * else signs an account in afresh (accounts_sign_in) or refuses a guest. `user_id` is the
     * token's subject (a guest's is minus its session id), `name` the account's or NULL.
     * Optional. */
    void (*resume_elsewhere)(void *arg, struct session *s, const struct proto_req *req,
                             int64_t user_id, const char *name);
    /* Told of each account registered here (a cluster tells the other nodes). Optional. */
    void (*registered)(void *arg, int64_t id, const char *name);
    void *registered_arg;
};

/* Signs `s` in as the account `user_id` called `name` (its password or token was checked),
 * replying to `re`. */
void accounts_sign_in(struct accounts *acc, struct session *s, struct proto_re re, int64_t user_id,
                      const char *name);
void accounts_init(struct accounts *acc, struct server *srv, struct pool *pool,
                   const struct accounts_cfg *cfg);
/* Frees the maps; safe on a zeroed struct. */
void accounts_destroy(struct accounts *acc);
/* Startup: an existing account. 0 or -1 (out of memory). */
int accounts_add_user(struct accounts *acc, int64_t id, const char *name);
/* True when `name`, or a name confusable with it (names_skeleton()), has an account or one is
 * being created. */
/* An account registered on another node: known here from now on (once, however often told). */
void accounts_learn_user(struct accounts *acc, int64_t id, const char *name);
bool accounts_name_registered(const struct accounts *acc, const char *name);

/* A token for account `user_id` (or, negative, a guest's session), valid --token-days.
 * 0 or -1. */
int accounts_token(struct accounts *acc, int64_t user_id, char out[AUTH_TOKEN_MAX]);

/* The requests; each replies to the session (now, or when its job is done). */
void accounts_register(struct accounts *acc, struct session *s, const struct proto_req *req);
void accounts_login(struct accounts *acc, struct session *s, const struct proto_req *req);
void accounts_resume(struct accounts *acc, struct session *s, const struct proto_req *req);

#endif
