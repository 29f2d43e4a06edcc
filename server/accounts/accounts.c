/*
 * Accounts (see accounts.h). Loop thread, except auth_job_run(), which runs on a pool worker
 * and touches only its job and the worker's connection.
 */
#include "accounts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "directory.h"
#include "log.h"
#include "moderation.h"
#include "names.h"
#include "pool.h"
#include "proto.h"
#include "server.h"
#include "session.h"
#include "skeletons.h"
#include "store.h"

enum auth_kind { AUTH_REGISTER, AUTH_LOGIN };

/* by_name's value for a name whose registration is in flight (user ids are positive) */
#define RESERVED ((void *)(intptr_t)-1)

struct auth_job {
    struct pool_job job; /* first: the pool hands it back */
    enum auth_kind kind;
    uint64_t session_id;
    struct proto_re re;
    char name[SESSION_NAME_MAX + 1];
    char password[PROTO_PASSWORD_MAX + 1];
    size_t pwlen;
    struct auth_scrypt cost;
    int64_t now_ms;
    /* results, written by the worker */
    bool refused; /* an answer, not a failure: the name exists, or the password is wrong */
    int64_t user_id;
    char canon_name[SESSION_NAME_MAX + 1];
    int64_t banned_until;
};

void accounts_init(struct accounts *acc, struct server *srv, struct pool *pool,
                   const struct accounts_cfg *cfg)
{
    *acc = (struct accounts){.srv = srv,
                             .pool = pool,
                             .cost = cfg->cost,
                             .token_ttl_ms = cfg->token_ttl_ms,
                             .signed_in = cfg->signed_in,
                             .signed_in_arg = cfg->signed_in_arg,
                             .resume_elsewhere = cfg->resume_elsewhere,
                             .registered = cfg->registered,
                             .registered_arg = cfg->registered_arg};
    if (cfg->key)
        memcpy(acc->key, cfg->key, AUTH_KEY_LEN);
    hmap_init(&acc->by_name);
    hmap_init(&acc->by_skeleton);
    hmap_init(&acc->by_id);
}

static void job_free(struct auth_job *j)
{
    OPENSSL_cleanse(j->password, sizeof(j->password));
    free(j);
}

void accounts_destroy(struct accounts *acc)
{
    for (size_t i = 0; i < acc->by_id.cap; i++)
        if (acc->by_id.slots[i].key)
            free(acc->by_id.slots[i].val);
    hmap_destroy(&acc->by_id);
    hmap_destroy(&acc->by_name);
    hmap_destroy(&acc->by_skeleton);
    OPENSSL_cleanse(acc->key, sizeof(acc->key));
}

int accounts_add_user(struct accounts *acc, int64_t id, const char *name)
{
    char key[NAMES_KEY_MAX];
    char *copy = strdup(name);

    if (!copy || names_key(name, key) ||
        hmap_put(&acc->by_name, key, strlen(key), (void *)(intptr_t)id) ||
        hmap_put(&acc->by_id, &id, sizeof(id), copy)) {
        free(copy);
        return -1;
    }
    skeletons_count(&acc->by_skeleton, name, +1);
    return 0;
}

void accounts_learn_user(struct accounts *acc, int64_t id, const char *name)
{
    if (!hmap_get(&acc->by_id, &id, sizeof(id)) && accounts_add_user(acc, id, name))
        log_error("accounts: out of memory learning account %s", name);
}

bool accounts_name_registered(const struct accounts *acc, const char *name)
{
    char key[NAMES_KEY_MAX];

    if (names_key(name, key))
        return false;
    return hmap_get(&acc->by_name, key, strlen(key)) || skeletons_taken(&acc->by_skeleton, name);
}

/* The name as registered of the account called `name` (same key, not merely confusable), or
 * NULL. */
static const char *registered_name(struct accounts *acc, const char *name)
{
    char key[NAMES_KEY_MAX];
    intptr_t id;

    if (names_key(name, key))
        return NULL;
    id = (intptr_t)hmap_get(&acc->by_name, key, strlen(key));
    if (id <= 0)
        return NULL;
    return hmap_get(&acc->by_id, &(int64_t){id}, sizeof(int64_t));
}

/* Signs the session in as account `user_id` and replies ok {name, token}. */
static void sign_in(struct accounts *acc, struct session *s, struct proto_re re, int64_t user_id,
                    const char *name)
{
    char token[AUTH_TOKEN_MAX], when[48];
    int64_t banned = bans_until(&acc->srv->bans, BAN_NAME, name, acc->srv->wall_ms());
    struct session *kept;
    json_t *ok;

    if (banned) {
        struct proto_error err = {.re = re};
        json_t *reply;

        bans_describe_until(banned, when, sizeof(when));
        proto_error_set(&err, PROTO_E_NOT_ALLOWED, NULL, "the name '%s' is banned%s", name, when);
        reply = proto_error_json(&err);
        if (reply)
            moderation_ban_details(acc->srv, reply, BAN_NAME, name, banned);
        session_send_json(s, reply);
        return;
    }
    kept = directory_find_name(acc->srv, name);
    if (kept && kept->detached) { /* the owner is back before the grace period ended */
        struct proto_req req = {.re = re};
        acc->signed_in(acc->signed_in_arg, s, kept, &req,
                       accounts_token(acc, user_id, token) ? NULL : token);
        return;
    }
    if (kept) {
        session_reply_error(s, re, PROTO_E_NAME_TAKEN, NULL, "'%s' is already signed in elsewhere",
                            name);
        return;
    }
    if (auth_token_make(acc->key, user_id, acc->srv->wall_ms() + acc->token_ttl_ms, token) ||
        directory_claim_name(acc->srv, s, name)) {
        session_reply_error(s, re, PROTO_E_INTERNAL, NULL, "cannot sign in now");
        return;
    }
    s->user_id = user_id;
    /* the password proved the name: it is this session's on every node */
    directory_confirm_name(acc->srv, s->id, name, true, NULL, re);
    keepalive_signed_in(&s->ka);
    ok = json_pack("{s:s, s:o, s:s, s:s}", "type", "ok", "re", proto_re_json(re), "name", name,
                   "token", token);
    session_send_json(s, ok);
    moderation_tell_muted(acc->srv, s);
}

/* ---- on a worker ---- */

static void auth_job_run(struct pool_job *job, void *worker)
{
    struct auth_job *j = (struct auth_job *)job;
    uint8_t salt[AUTH_SALT_LEN], hash[AUTH_HASH_LEN];
    char params[AUTH_PARAMS_MAX];
    struct store_user u;
    int found, rc;

    if (j->kind == AUTH_REGISTER) {
        if (auth_hash_password(j->password, j->pwlen, j->cost, salt, hash, params)) {
            job->status = -1;
            snprintf(job->error, sizeof(job->error), "scrypt failed");
            return;
        }
        rc = store_create_user(worker, j->name, hash, sizeof(hash), salt, sizeof(salt), params,
                               j->now_ms, &j->user_id);
        j->refused = rc == -EEXIST;
        store_job_result(job, worker, j->refused ? 0 : rc);
        snprintf(j->canon_name, sizeof(j->canon_name), "%s", j->name);
        return;
    }
    found = store_find_user(worker, j->name, &u);
    if (found < 0) {
        store_job_result(job, worker, -1);
        return;
    }
    if (!found) {
        /* the same work as a real check: timing must not tell which names exist */
        auth_dummy_verify(j->password, j->pwlen, j->cost);
        j->refused = true;
        return;
    }
    if (!auth_verify_password(j->password, j->pwlen, u.params, u.salt, u.saltlen, u.hash,
                              u.hashlen)) {
        j->refused = true;
        return;
    }
    j->user_id = u.id;
    j->banned_until = u.banned_until;
    snprintf(j->canon_name, sizeof(j->canon_name), "%s", u.name);
    job->status = 0;
}

/* ---- back on the loop ---- */

static void release_reservation(struct accounts *acc, const char *name);

static void finish_register(struct accounts *acc, struct auth_job *j, struct session *s)
{
    release_reservation(acc, j->name);
    bool ok = j->job.status == 0 && !j->refused;

    if (ok && accounts_add_user(acc, j->user_id, j->canon_name)) {
        log_error("accounts: out of memory recording account %s", j->canon_name);
        ok = false;
    }
    if (ok) {
        acc->stats.registered++;
        if (acc->registered)
            acc->registered(acc->registered_arg, j->user_id, j->canon_name);
    } else
        acc->stats.failures++;
    if (!s)
        return;
    if (j->refused)
        session_reply_error(s, j->re, PROTO_E_NAME_TAKEN, NULL, "the name '%s' is registered",
                            j->name);
    else if (!ok)
        session_reply_error(s, j->re, PROTO_E_INTERNAL, NULL, "the account could not be created");
    else
        sign_in(acc, s, j->re, j->user_id, j->canon_name);
}

static void finish_login(struct accounts *acc, struct auth_job *j, struct session *s)
{
    if (j->job.status == 0 && j->refused) {
        acc->stats.failures++;
        if (s)
            session_reply_error(s, j->re, PROTO_E_BAD_CREDENTIALS, NULL, "wrong name or password");
        return;
    }
    if (j->job.status) {
        acc->stats.failures++;
        if (s)
            session_reply_error(s, j->re, PROTO_E_INTERNAL, NULL, "cannot check the password now");
        return;
    }
    acc->stats.logins++;
    if (!s)
        return;
    if (j->banned_until > acc->srv->wall_ms()) {
        session_reply_error(s, j->re, PROTO_E_NOT_ALLOWED, NULL, "this account is banned");
        return;
    }
    sign_in(acc, s, j->re, j->user_id, j->canon_name);
}

static void auth_job_done(struct pool_job *job, void *loop_arg)
{
    struct auth_job *j = (struct auth_job *)job;
    struct accounts *acc = ((struct server *)loop_arg)->accounts;
    struct session *s = session_by_id(acc->srv, j->session_id);

    if (s) {
        s->auth_pending = false;
        if (s->closing)
            s = NULL;
    }
    if (j->kind == AUTH_REGISTER)
        finish_register(acc, j, s);
    else
        finish_login(acc, j, s);
    job_free(j);
}

static void release_reservation(struct accounts *acc, const char *name)
{
    char key[NAMES_KEY_MAX];

    if (names_key(name, key))
        return;
    if (hmap_get(&acc->by_name, key, strlen(key)) == RESERVED) {
        hmap_del(&acc->by_name, key, strlen(key));
        skeletons_count(&acc->by_skeleton, name, -1);
    }
}

/* Common checks of sign-in requests; true when the request may go on. */
static bool may_sign_in(struct session *s, const struct proto_req *req)
{
    if (s->auth_pending) {
        session_reply_error(s, req->re, PROTO_E_NOT_ALLOWED, NULL, "a sign-in is in progress");
        return false;
    }
    if (s->signed_in) {
        session_reply_error(s, req->re, PROTO_E_NOT_ALLOWED, NULL, "already signed in as '%s'",
                            s->name);
        return false;
    }
    return true;
}

static void enqueue(struct accounts *acc, struct session *s, const struct proto_req *req,
                    enum auth_kind kind)
{
    struct auth_job *j;

    j = calloc(1, sizeof(*j));
    if (!j) {
        session_reply_error(s, req->re, PROTO_E_INTERNAL, NULL, "out of memory");
        return;
    }
    j->job.run = auth_job_run;
    j->job.done = auth_job_done;
    j->job.failure = kind == AUTH_REGISTER ? "an account could not be created"
                                           : "a password could not be checked";
    j->job.lane = POOL_LANE_CPU;
    j->kind = kind;
    j->session_id = s->id;
    j->re = req->re;
    j->cost = acc->cost;
    j->now_ms = acc->srv->wall_ms();
    snprintf(j->name, sizeof(j->name), "%s", req->name);
    memcpy(j->password, req->password, req->password_len);
    j->pwlen = req->password_len;

    /* the pool's CPU lane bounds the hashes running at once and those waiting */
    if (!acc->pool || pool_submit(acc->pool, &j->job)) {
        session_reply_error(s, req->re, PROTO_E_SERVER_BUSY, NULL,
                            "too many sign-ins in progress; retry shortly");
        job_free(j);
        return;
    }
    s->auth_pending = true;
}

void accounts_register(struct accounts *acc, struct session *s, const struct proto_req *req)
{
    char key[NAMES_KEY_MAX];

    if (!may_sign_in(s, req))
        return;
    if (bans_until(&acc->srv->bans, BAN_NAME, req->name, acc->srv->wall_ms())) {
        session_reply_error(s, req->re, PROTO_E_NOT_ALLOWED, NULL, "the name '%s' is banned",
                            req->name);
        return;
    }
    if (accounts_name_registered(acc, req->name) ||
        directory_name_confusable(acc->srv, req->name)) {
        session_reply_error(s, req->re, PROTO_E_NAME_TAKEN, NULL,
                            "the name '%s' is in use, or one that looks like it", req->name);
        return;
    }
    /* reserve the name so no guest or second registration takes it meanwhile */
    if (names_key(req->name, key) || hmap_put(&acc->by_name, key, strlen(key), RESERVED)) {
        session_reply_error(s, req->re, PROTO_E_INTERNAL, NULL, "out of memory");
        return;
    }
    skeletons_count(&acc->by_skeleton, req->name, +1);
    enqueue(acc, s, req, AUTH_REGISTER);
    if (!s->auth_pending) /* refused, or refused later: the reservation is released */
        release_reservation(acc, req->name);
}

void accounts_login(struct accounts *acc, struct session *s, const struct proto_req *req)
{
    /* the database compares names by ASCII case only: look the account up by its key here
     * and have the worker read it by the name as registered (an unknown name is read as
     * typed, is not found, and costs the same dummy check) */
    const char *canon = registered_name(acc, req->name);
    struct proto_req r = *req;

    if (canon)
        r.name = canon;
    if (may_sign_in(s, req))
        enqueue(acc, s, &r, AUTH_LOGIN);
}

void accounts_sign_in(struct accounts *acc, struct session *s, struct proto_re re, int64_t user_id,
                      const char *name)
{
    sign_in(acc, s, re, user_id, name);
}

int accounts_token(struct accounts *acc, int64_t user_id, char out[AUTH_TOKEN_MAX])
{
    return auth_token_make(acc->key, user_id, acc->srv->wall_ms() + acc->token_ttl_ms, out);
}

void accounts_resume(struct accounts *acc, struct session *s, const struct proto_req *req)
{
    char token[AUTH_TOKEN_MAX];
    struct session *kept;
    int64_t uid = 0;
    const char *name;

    if (!may_sign_in(s, req))
        return;
    switch (auth_token_check(acc->key, req->token, acc->srv->wall_ms(), &uid)) {
    case AUTH_TOKEN_OK:
        break;
    case AUTH_TOKEN_EXPIRED:
        session_reply_error(s, req->re, PROTO_E_UNAUTHORIZED, NULL,
                            "the token has expired; log in again");
        return;
    default:
        session_reply_error(s, req->re, PROTO_E_UNAUTHORIZED, NULL, "the token is not valid");
        return;
    }
    if (uid < 0) { /* a guest: their session must still be waiting for them */
        kept = session_by_id(acc->srv, (uint64_t)-uid);
        if ((!kept || !kept->signed_in) && acc->resume_elsewhere &&
            directory_can_claim_detached(acc->srv)) {
            acc->resume_elsewhere(acc->signed_in_arg, s, req, uid, NULL);
            return;
        }
        if (!kept || !kept->signed_in) {
            session_reply_error(s, req->re, PROTO_E_UNAUTHORIZED, NULL,
                                "that guest session has ended; sign in again");
            return;
        }
        if (!kept->detached) {
            session_reply_error(s, req->re, PROTO_E_NAME_TAKEN, NULL, "'%s' is still connected",
                                kept->name);
            return;
        }
        acc->stats.resumes++;
        acc->signed_in(acc->signed_in_arg, s, kept, req,
                       accounts_token(acc, -(int64_t)s->id, token) ? NULL : token);
        return;
    }
    name = hmap_get(&acc->by_id, &uid, sizeof(uid));
    if (!name) {
        session_reply_error(s, req->re, PROTO_E_UNAUTHORIZED, NULL, "the account no longer exists");
        return;
    }
    acc->stats.resumes++;
    kept = directory_find_name(acc->srv, name);
    if (kept && kept->detached) { /* back within the grace period: same rooms, same seats */
        acc->signed_in(acc->signed_in_arg, s, kept, req,
                       accounts_token(acc, uid, token) ? NULL : token);
        return;
    }
    if (!kept && acc->resume_elsewhere && directory_can_claim_detached(acc->srv)) {
        acc->resume_elsewhere(acc->signed_in_arg, s, req, uid, name);
        return;
    }
    sign_in(acc, s, req->re, uid, name);
}
