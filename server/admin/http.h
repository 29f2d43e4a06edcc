/*
 * Dynamic HTTP endpoints beside the static files: the operator's /admin/backup and
 * /admin/import (more admin endpoints, /healthz and /metrics come with the admin console). Each
 * response is one small JSON document. Admin endpoints require `Authorization: Bearer
 * <--admin-token>`, compared in constant time; without --admin-token they answer 403. The
 * figures come from the server (server_read_counters()), not from the transport's internals.
 * Loop thread, except the import's run(), which parses and stores the upload on a worker.
 */
#ifndef PARLOR_HTTP_H
#define PARLOR_HTTP_H

#include <libwebsockets.h>

#define HTTP_PROTOCOL_NAME "parlor-http"

/* The lws protocol that serves the dynamic endpoints (per-session data included). */
extern const struct lws_protocols http_protocol;
#define HTTP_MOUNTS 4 /* /admin/backup, /admin/import, /healthz, /metrics */

struct server;

/* Fills in the mounts of the dynamic endpoints, chained before `next` (the static files). The
 * mounts must live as long as the context. */
void http_mounts_init(struct lws_http_mount mounts[HTTP_MOUNTS], const struct lws_http_mount *next);

/* In-flight requests by id (0 = none), so a pool job's done callback can find its request if
 * the client is still there. */
uint64_t http_request_add(struct server *srv, struct lws *wsi);
struct lws *http_request_find(struct server *srv, uint64_t id);
void http_request_remove(struct server *srv, uint64_t id);

#endif
