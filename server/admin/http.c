/*
 * Dynamic HTTP endpoints (see http.h). Loop thread, except import_run() on a worker. A request is
 * answered from the LWS_CALLBACK_HTTP callback (or, for a POST with a body, once the body has
 * arrived): the headers are written at once and the body when the socket is writable.
 */
#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "admin.h"
#include "backup.h"
#include "chatlog.h"
#include "log.h"
#include "pool.h"
#include "qbank.h"
#include "server.h"
#include "store.h"

#define HTTP_BODY_MAX 4096 /* admin requests carry no more than this */
#define HTTP_ACCEPTED 202  /* lws 4.1 names no 202 */

struct http_pss {
    const char *type; /* the response's content type; NULL: application/json */
    bool post;
    uint64_t id; /* names this request to pool jobs, which hold no lws pointer */
    char path[64];
    char *body; /* the request body, kept only where an endpoint reads it */
    size_t body_len;
    bool too_large;
    unsigned status;    /* the response, written when the socket is writable */
    unsigned char *out; /* LWS_PRE + response body */
    size_t out_len;
};

static struct server *server_of(struct lws *wsi)
{
    /* ws.c hands the server to this protocol through its `user` pointer */
    return lws_get_protocol(wsi)->user;
}

/* Queues a JSON response (`json` is stolen), written from the writeable callback: so a
 * pool job's done callback can answer a request, too. Returns 0 or -1 to close. */
static int respond(struct lws *wsi, struct http_pss *pss, unsigned status, json_t *json)
{
    char *text = json_dumps(json, JSON_COMPACT);
    size_t len;

    json_decref(json);
    if (!text)
        return -1;
    len = strlen(text);
    free(pss->out);
    pss->out = malloc(LWS_PRE + len);
    if (!pss->out) {
        free(text);
        return -1;
    }
    memcpy(pss->out + LWS_PRE, text, len);
    pss->out_len = len;
    pss->status = status;
    free(text);
    lws_callback_on_writable(wsi);
    return 0;
}

static int write_response(struct lws *wsi, struct http_pss *pss)
{
    unsigned char hdr[LWS_PRE + 1024], *start = hdr + LWS_PRE, *p = start,
                                       *end = hdr + sizeof(hdr) - 1;
    int n;

    if (lws_add_http_common_headers(wsi, pss->status, pss->type ? pss->type : "application/json",
                                    pss->out_len, &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &p, end) ||
        (pss->status == HTTP_STATUS_UNAUTHORIZED &&
         lws_add_http_header_by_name(wsi, (const unsigned char *)"www-authenticate:",
                                     (const unsigned char *)"Bearer", 6, &p, end)) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    n = lws_write(wsi, pss->out + LWS_PRE, pss->out_len, LWS_WRITE_HTTP_FINAL);
    free(pss->out);
    free(pss->body); /* an upload the endpoint did not take */
    pss->out = NULL;
    pss->body = NULL;
    if (n < 0)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Queues a text response (the text is copied). */
static int respond_text(struct lws *wsi, struct http_pss *pss, unsigned status, const char *type,
                        const char *text)
{
    size_t len = strlen(text);

    free(pss->out);
    pss->out = malloc(LWS_PRE + len + 1);
    if (!pss->out)
        return -1;
    memcpy(pss->out + LWS_PRE, text, len);
    pss->out_len = len;
    pss->status = status;
    pss->type = type;
    lws_callback_on_writable(wsi);
    return 0;
}

static int respond_error(struct lws *wsi, struct http_pss *pss, unsigned status, const char *msg)
{
    return respond(wsi, pss, status, json_pack("{s:s}", "error", msg));
}

/* True when the request carries the admin token; answers 401/403 itself otherwise. */
static bool admin_authorized(struct lws *wsi, struct http_pss *pss, struct server *srv)
{
    char header[512];
    int n;

    if (!srv->cfg.admin_token) {
        respond_error(wsi, pss, HTTP_STATUS_FORBIDDEN,
                      "the admin interface is disabled: start the server with --admin-token");
        return false;
    }
    n = lws_hdr_copy(wsi, header, sizeof(header), WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n < 7 || strncmp(header, "Bearer ", 7)) {
        respond_error(wsi, pss, HTTP_STATUS_UNAUTHORIZED, "an admin token is required");
        return false;
    }
    if (!admin_token_matches(srv, header + 7, (size_t)n - 7)) {
        log_warn("admin: wrong token for %s", pss->path);
        respond_error(wsi, pss, HTTP_STATUS_UNAUTHORIZED, "wrong admin token");
        return false;
    }
    return true;
}

static int handle_backup(struct lws *wsi, struct http_pss *pss, struct server *srv)
{
    char err[256];
    int rc;

    if (!srv->backup)
        return respond_error(wsi, pss, HTTP_STATUS_SERVICE_UNAVAILABLE, "no database");
    if (!pss->post)
        return respond(wsi, pss, HTTP_STATUS_OK, backup_status_json(srv->backup));
    rc = backup_start(srv->backup, err, sizeof(err));
    if (rc == 0)
        return respond(wsi, pss, HTTP_ACCEPTED, backup_status_json(srv->backup));
    return respond_error(wsi, pss,
                         rc == -EBUSY     ? HTTP_STATUS_CONFLICT
                         : rc == -ENOENT  ? HTTP_STATUS_NOT_FOUND
                         : rc == -ENOTSUP ? HTTP_STATUS_NOT_IMPLEMENTED
                                          : HTTP_STATUS_SERVICE_UNAVAILABLE,
                         err);
}

/* ---- POST /admin/import?pack=NAME: a question pack into the running server ---- */

struct import_job {
    struct pool_job job;
    uint64_t request; /* the HTTP request to answer, by id */
    char pack[65];
    char *body;
    size_t len;
    int added;
    struct qbank fresh; /* the new questions, built on the worker, appended on the loop */
    bool refused;       /* the upload was refused: err says why */
    char err[256];
};

static void import_run(struct pool_job *job, void *worker)
{
    struct import_job *j = (struct import_job *)job;
    struct store *db = worker;
    FILE *in = fmemopen(j->body, j->len, "r");

    if (!in) {
        snprintf(j->err, sizeof(j->err), "cannot read the upload");
        snprintf(job->error, sizeof(job->error), "cannot read the upload");
        job->status = -1;
        return;
    }
    /* a refused upload is the operator's to fix, not a failure of the server: status 0 */
    j->refused = store_import_questions(db, in, "upload", j->pack, &j->added, &j->fresh) != 0;
    if (j->refused)
        snprintf(j->err, sizeof(j->err), "%s", db->error);
    db->error[0] = '\0';
    fclose(in);
}

static void import_done(struct pool_job *job, void *loop_arg)
{
    struct import_job *j = (struct import_job *)job;
    struct server *srv = loop_arg;
    struct lws *wsi = http_request_find(srv, j->request);
    json_t *reply = NULL;
    unsigned status = HTTP_STATUS_OK;

    if (job->status || j->refused) {
        status = job->status ? HTTP_STATUS_INTERNAL_SERVER_ERROR : HTTP_STATUS_BAD_REQUEST;
        reply = json_pack("{s:s}", "error", j->err);
    } else if (srv->bank && qbank_take(srv->bank, &j->fresh)) {
        status = HTTP_STATUS_INTERNAL_SERVER_ERROR;
        reply = json_pack("{s:s}", "error", "stored, but out of memory: restart to load them");
    } else {
        log_info("admin: imported %d questions into pack %s", j->added, j->pack);
        reply = json_pack("{s:s, s:i, s:I}", "pack", j->pack, "added", j->added, "questions",
                          (json_int_t)(srv->bank ? srv->bank->n : 0));
    }
    if (wsi) /* the operator may have hung up; the import stands */
        respond(wsi, lws_wsi_user(wsi), status, reply);
    else
        json_decref(reply);
    qbank_destroy(&j->fresh);
    free(j->body);
    free(j);
}

static bool valid_pack(const char *s)
{
    size_t n = strlen(s);

    return n >= 1 && n <= 64 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789_-") == n;
}

static int handle_import(struct lws *wsi, struct http_pss *pss, struct server *srv)
{
    struct import_job *j;
    char pack[80] = "upload";
    const char *arg;

    if (!pss->post)
        return respond_error(wsi, pss, HTTP_STATUS_METHOD_NOT_ALLOWED, "POST a pack");
    if (pss->too_large)
        return respond_error(wsi, pss, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, "the pack is too large");
    arg = lws_get_urlarg_by_name(wsi, "pack=", pack, sizeof(pack));
    if (arg && !valid_pack(arg))
        return respond_error(wsi, pss, HTTP_STATUS_BAD_REQUEST,
                             "pack names are 1-64 letters, digits, '_' or '-'");
    if (!srv->pool)
        return respond_error(wsi, pss, HTTP_STATUS_SERVICE_UNAVAILABLE, "no database");
    j = calloc(1, sizeof(*j));
    if (!j)
        return respond_error(wsi, pss, HTTP_STATUS_SERVICE_UNAVAILABLE, "out of memory");
    j->job.run = import_run;
    j->job.done = import_done;
    j->job.failure = "the question import failed";
    j->request = pss->id;
    snprintf(j->pack, sizeof(j->pack), "%s", arg ? arg : "upload");
    j->body = pss->body; /* the job owns the upload now */
    j->len = pss->body_len;
    pss->body = NULL;
    if (pool_submit(srv->pool, &j->job)) {
        free(j->body);
        free(j);
        return respond_error(wsi, pss, HTTP_STATUS_SERVICE_UNAVAILABLE, "busy; try again");
    }
    return 0; /* answered when the job is done */
}

/* 200 while serving, 503 while draining: what a load balancer asks before sending players.
 * Both counts are read now, not from the last one-second sample, so they agree. */
/* 503 only while draining: a failing store leaves live chat and games working, so a load
 * balancer keeps the node; "store" says whether saving works. */
static int handle_health(struct lws *wsi, struct http_pss *pss, struct server *srv)
{
    struct pool_stats ps = {0};
    json_t *body;

    if (srv->pool)
        pool_get_stats(srv->pool, &ps);
    body = json_pack("{s:s, s:s, s:I, s:i, s:i, s:s, s:I}", "status",
                     srv->draining ? "draining" : "ok", "version", PARLOR_VERSION, "uptime_s",
                     (json_int_t)((srv->wall_ms() - srv->figures.started_ms) / 1000), "connections",
                     srv->connections, "users", (int)srv->sessions_by_name.count, "store",
                     ps.failing ? "degraded" : "ok", "store_failing", (json_int_t)ps.failing);
    if (body && srv->cluster.node_id) {
        /* a node without its Redis link serves its own players but cannot chat with the others:
         * still 200, so a balancer keeps its connections (README, "Running a cluster") */
        json_object_set_new(body, "node", json_string(srv->cluster.node_id));
        json_object_set_new(body, "cluster", json_string(srv->cluster.link_up ? "ok" : "degraded"));
    }
    return respond(wsi, pss, srv->draining ? HTTP_STATUS_SERVICE_UNAVAILABLE : HTTP_STATUS_OK,
                   body);
}

/* The cluster's figures after the server's, for a node of a cluster. */
static char *append_cluster_metrics(char *text, const struct server *srv)
{
    const struct cluster_figures *f = &srv->cluster;
    char block[1536];
    size_t tl = strlen(text);
    int bl;
    char *out;

    if (!f->node_id)
        return text;
    bl = snprintf(block, sizeof(block),
                  "# HELP parlor_cluster_info This node's name in the cluster.\n"
                  "# TYPE parlor_cluster_info gauge\nparlor_cluster_info{node=\"%s\"} 1\n"
                  "# HELP parlor_cluster_link_up 1 while the link to Redis works.\n"
                  "# TYPE parlor_cluster_link_up gauge\nparlor_cluster_link_up %d\n"
                  "# HELP parlor_cluster_link_drops_total Times the link to Redis went down.\n"
                  "# TYPE parlor_cluster_link_drops_total counter\n"
                  "parlor_cluster_link_drops_total %llu\n"
                  "# HELP parlor_cluster_chat_refused_total Chat refused: Redis unreachable.\n"
                  "# TYPE parlor_cluster_chat_refused_total counter\n"
                  "parlor_cluster_chat_refused_total %llu\n"
                  "# HELP parlor_cluster_gap_repaired_total Chat fetched from a room stream to "
                  "fill a gap.\n"
                  "# TYPE parlor_cluster_gap_repaired_total counter\n"
                  "parlor_cluster_gap_repaired_total %llu\n"
                  "# HELP parlor_cluster_chat_unrecoverable_total Chat skipped: gone from the "
                  "room stream.\n"
                  "# TYPE parlor_cluster_chat_unrecoverable_total counter\n"
                  "parlor_cluster_chat_unrecoverable_total %llu\n",
                  f->node_id, f->link_up ? 1 : 0, (unsigned long long)f->link_drops,
                  (unsigned long long)f->chat_refused, (unsigned long long)f->gaps_repaired,
                  (unsigned long long)f->chat_unrecoverable);
    out = bl > 0 && (size_t)bl < sizeof(block) ? realloc(text, tl + (size_t)bl + 1) : NULL;
    if (!out) {
        free(text);
        return NULL;
    }
    memcpy(out + tl, block, (size_t)bl + 1);
    return out;
}

static int handle_metrics(struct lws *wsi, struct http_pss *pss, struct server *srv)
{
    struct stats_counters c;
    struct histo db = {0};
    static const struct histo none; /* no chat log (tests): nothing committed */
    const struct histo *commit = srv->chatlog ? &srv->chatlog->stats.commit_us : &none;
    const struct histo *wait = srv->chatlog ? &srv->chatlog->stats.wait_us : &none;
    char *text;
    int rc;

    if (!srv->cfg.metrics_public && !admin_authorized(wsi, pss, srv))
        return 0;
    server_read_counters(srv, &c);
    if (srv->chatlog)
        c.chat_saved = srv->chatlog->stats.rows;
    if (srv->pool)
        pool_get_run_histo(srv->pool, &db);
    text = stats_prometheus(&srv->figures, &c, &db, commit, wait, srv->wall_ms());
    if (text)
        text = append_cluster_metrics(text, srv);
    if (!text)
        return respond_error(wsi, pss, HTTP_STATUS_SERVICE_UNAVAILABLE, "out of memory");
    rc = respond_text(wsi, pss, HTTP_STATUS_OK, "text/plain; version=0.0.4", text);
    free(text);
    return rc;
}

static int handle(struct lws *wsi, struct http_pss *pss)
{
    struct server *srv = server_of(wsi);

    if (!strcmp(pss->path, "/healthz"))
        return handle_health(wsi, pss, srv);
    if (!strcmp(pss->path, "/metrics"))
        return handle_metrics(wsi, pss, srv);

    if (!strcmp(pss->path, "/admin/backup")) {
        if (!admin_authorized(wsi, pss, srv))
            return 0;
        return handle_backup(wsi, pss, srv);
    }
    if (!strcmp(pss->path, "/admin/import")) {
        if (!admin_authorized(wsi, pss, srv))
            return 0;
        return handle_import(wsi, pss, srv);
    }
    return respond_error(wsi, pss, HTTP_STATUS_NOT_FOUND, "no such endpoint");
}

static int cb_http_dynamic(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                           size_t len)
{
    struct http_pss *pss = user;
    int n;

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        /* keep-alive reuses this data for the next request: start clean */
        free(pss->body);
        free(pss->out);
        *pss = (struct http_pss){0};
        pss->id = http_request_add(server_of(wsi), wsi);
        pss->post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
        n = lws_hdr_copy(wsi, pss->path, sizeof(pss->path),
                         pss->post ? WSI_TOKEN_POST_URI : WSI_TOKEN_GET_URI);
        if (n < 0)
            pss->path[0] = '\0';
        if (!pss->post && !lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI))
            return respond_error(wsi, pss, HTTP_STATUS_METHOD_NOT_ALLOWED, "GET or POST only");
        if (pss->post && lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH))
            return 0; /* answered when the body is complete */
        return handle(wsi, pss);

    case LWS_CALLBACK_HTTP_BODY: {
        /* only an import keeps its body; anything past the limit is read and dropped */
        size_t max = strcmp(pss->path, "/admin/import")
                         ? HTTP_BODY_MAX
                         : (size_t)server_of(wsi)->cfg.import_max_bytes;
        char *grown;
        if (!len) /* Content-Length: 0 arrives as an empty piece with no buffer */
            return 0;
        if (pss->too_large || pss->body_len + len > max) {
            pss->too_large = true;
            return 0;
        }
        grown = realloc(pss->body, pss->body_len + len);
        if (!grown)
            return -1;
        memcpy(grown + pss->body_len, in, len);
        pss->body = grown;
        pss->body_len += len;
        return 0;
    }

    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return handle(wsi, pss);

    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!pss->out)
            return 0;
        http_request_remove(server_of(wsi), pss->id);
        pss->id = 0;
        return write_response(wsi, pss);

    case LWS_CALLBACK_CLOSED_HTTP:
        http_request_remove(server_of(wsi), pss->id);
        free(pss->out);
        free(pss->body);
        pss->out = NULL;
        pss->body = NULL;
        return 0;

    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

const struct lws_protocols http_protocol = {
    HTTP_PROTOCOL_NAME, cb_http_dynamic, sizeof(struct http_pss), 0, 0, NULL, 0};

void http_mounts_init(struct lws_http_mount mounts[HTTP_MOUNTS], const struct lws_http_mount *next)
{
    static const char *const points[HTTP_MOUNTS] = {"/admin/backup", "/admin/import", "/healthz",
                                                    "/metrics"};

    for (int i = 0; i < HTTP_MOUNTS; i++)
        mounts[i] = (struct lws_http_mount){
            .mount_next = i + 1 < HTTP_MOUNTS ? &mounts[i + 1] : next,
            .mountpoint = points[i],
            .mountpoint_len = (unsigned char)strlen(points[i]),
            .origin = HTTP_PROTOCOL_NAME,
            .origin_protocol = LWSMPRO_CALLBACK,
        };
}

/* ---- requests by id: pool jobs name the request they answer, never its wsi ---- */

uint64_t http_request_add(struct server *srv, struct lws *wsi)
{
    uint64_t id = ++srv->next_http_id;

    return hmap_put(&srv->http_requests, &id, sizeof(id), wsi) ? 0 : id;
}

struct lws *http_request_find(struct server *srv, uint64_t id)
{
    return id ? hmap_get(&srv->http_requests, &id, sizeof(id)) : NULL;
}

void http_request_remove(struct server *srv, uint64_t id)
{
    if (id)
        hmap_del(&srv->http_requests, &id, sizeof(id));
}
