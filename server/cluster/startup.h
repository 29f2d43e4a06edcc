/*
 * A node's startup checks, run before its port opens, on the main thread, with hiredis's
 * blocking API (the loop does not run yet): Redis answers; no live process holds this node's
 * id; and every live node of the cluster uses the same database as this one. Any of them
 * failing refuses the start with a message saying why.
 *
 * The database is compared by its identity (store_load_database_id: a random id drawn with the
 * schema, never copied by `migrate`), recorded per node in the hash parlor:database. Only live
 * nodes' entries count, so a club moved to a new database (every node stopped, migrated,
 * started on the new one) starts without touching Redis.
 */
#ifndef PARLOR_CLUSTER_STARTUP_H
#define PARLOR_CLUSTER_STARTUP_H

#include <stddef.h>

struct cluster;
struct server;

/* The startup checks (see above), after cluster_identify, with the port still closed. Holds
 * the node's id for this process (parlor:alive:<node>, until the link's first refresh); an id
 * held by another process is waited for while it may be a dead node's, at most
 * CLUSTER_ALIVE_TTL_MS. `url` is --cluster, `database_id` the database's identity and
 * `db_shown` the --db to name in a refusal. 0, or -1 with err. */
int cluster_check(struct cluster *c, const char *url, int timeout_ms, const char *database_id,
                  const char *db_shown, char *err, size_t errlen);

/* After cluster_stop on a clean stop: gives the node's id back at once (when this process
 * still holds it), so that a restart need not wait for its TTL. Best effort, silent. */
void cluster_release(const struct cluster *c, const char *url, int timeout_ms);

#endif
