/*
 * Dynamic HTTP endpoints beside the static files: the operator's /admin/backup today (more
 * admin endpoints, /healthz and /metrics come with the admin console). Each response is one
 * small JSON document. Admin endpoints require `Authorization: Bearer <--admin-token>`,
 * compared in constant time; without --admin-token they answer 403. Loop thread only.
 */
#ifndef PARLOR_HTTP_H
#define PARLOR_HTTP_H

#include <libwebsockets.h>

#define HTTP_PROTOCOL_NAME "parlor-http"

/* The lws protocol that serves the dynamic endpoints (per-session data included). */
extern const struct lws_protocols http_protocol;
/* Fills in the mount of the dynamic endpoints, chained before `next` (the static files). The
 * mount must live as long as the context. */
void http_mounts_init(struct lws_http_mount *backup, const struct lws_http_mount *next);

#endif
