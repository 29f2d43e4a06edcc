/*
 * Dynamic HTTP endpoints (see http.h). Loop thread only. A request is answered from the
 * LWS_CALLBACK_HTTP callback (or, for a POST with a body, once the body has arrived): the
 * headers are written at once and the body when the socket is writable.
 */
#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "backup.h"
#include "log.h"
#include "server.h"
#include "ws.h"

#define HTTP_BODY_MAX 4096 /* admin requests carry no more than this */
#define HTTP_ACCEPTED 202  /* lws 4.1 names no 202 */

struct http_pss {
    bool post;
    size_t body_len;
    char path[64];
    unsigned char *out; /* LWS_PRE + response body, written when writable */
    size_t out_len;
};

static struct server *server_of(struct lws *wsi)
{
    struct ws *t = lws_context_user(lws_get_context(wsi));

    return t->srv;
}

/* Queues a JSON response; `json` is stolen. Returns 0 or -1 to close. */
static int respond(struct lws *wsi, struct http_pss *pss, unsigned status, json_t *json)
{
    unsigned char hdr[LWS_PRE + 1024], *start = hdr + LWS_PRE, *p = start,
                                       *end = hdr + sizeof(hdr) - 1;
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
    free(text);

    if (lws_add_http_common_headers(wsi, status, "application/json", len, &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &p, end) ||
        (status == HTTP_STATUS_UNAUTHORIZED &&
         lws_add_http_header_by_name(wsi, (const unsigned char *)"www-authenticate:",
                                     (const unsigned char *)"Bearer", 6, &p, end)) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
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
    unsigned char want[SHA256_DIGEST_LENGTH], got[SHA256_DIGEST_LENGTH];
    const char *token = srv->cfg.admin_token;
    int n;

    if (!token) {
        respond_error(wsi, pss, HTTP_STATUS_FORBIDDEN,
                      "the admin interface is disabled: start the server with --admin-token");
        return false;
    }
    n = lws_hdr_copy(wsi, header, sizeof(header), WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n < 7 || strncmp(header, "Bearer ", 7)) {
        respond_error(wsi, pss, HTTP_STATUS_UNAUTHORIZED, "an admin token is required");
        return false;
    }
    /* compare digests, so neither the contents nor the length leak through timing */
    SHA256((const unsigned char *)token, strlen(token), want);
    SHA256((const unsigned char *)header + 7, (size_t)n - 7, got);
    if (CRYPTO_memcmp(want, got, sizeof(want))) {
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
                         rc == -EBUSY    ? HTTP_STATUS_CONFLICT
                         : rc == -ENOENT ? HTTP_STATUS_NOT_FOUND
                                         : HTTP_STATUS_SERVICE_UNAVAILABLE,
                         err);
}

static int handle(struct lws *wsi, struct http_pss *pss)
{
    struct server *srv = server_of(wsi);

    if (!strcmp(pss->path, "/admin/backup")) {
        if (!admin_authorized(wsi, pss, srv))
            return 0;
        return handle_backup(wsi, pss, srv);
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

    case LWS_CALLBACK_HTTP_BODY:
        pss->body_len += len;
        if (pss->body_len > HTTP_BODY_MAX)
            return -1;
        return 0;

    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return handle(wsi, pss);

    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!pss->out)
            return 0;
        n = lws_write(wsi, pss->out + LWS_PRE, pss->out_len, LWS_WRITE_HTTP_FINAL);
        free(pss->out);
        pss->out = NULL;
        if (n < 0)
            return -1;
        return lws_http_transaction_completed(wsi) ? -1 : 0;

    case LWS_CALLBACK_CLOSED_HTTP:
        free(pss->out);
        pss->out = NULL;
        return 0;

    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

const struct lws_protocols http_protocol = {
    HTTP_PROTOCOL_NAME, cb_http_dynamic, sizeof(struct http_pss), 0, 0, NULL, 0};

void http_mounts_init(struct lws_http_mount *backup, const struct lws_http_mount *next)
{
    *backup = (struct lws_http_mount){
        .mount_next = next,
        .mountpoint = "/admin/backup",
        .mountpoint_len = 13,
        .origin = HTTP_PROTOCOL_NAME,
        .origin_protocol = LWSMPRO_CALLBACK,
    };
}
