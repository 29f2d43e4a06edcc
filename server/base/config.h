/*
 * Server configuration: every setting is a command-line flag with a PARLOR_* environment
 * variable, described once in a table in config.c that also drives --help and welcome.limits.
 * Loop thread (startup) only.
 */
#ifndef PARLOR_CONFIG_H
#define PARLOR_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#define CONFIG_LIST_MAX 16

/* A repeatable flag: each item as given (an item may hold several values, comma-separated). */
struct config_list {
    const char *items[CONFIG_LIST_MAX];
    int n;
    int from_env; /* the items came from the environment: a flag replaces them */
};

struct config {
    int port;
    const char *listen; /* IP address or host name to listen on; NULL: every interface */
    const char *db;     /* SQLite file */
    const char *www;    /* static files served at / */
    int log_level;      /* enum log_level */
    int db_workers;
    int db_queue;
    int db_sync;             /* enum config_sync */
    int event_lib;           /* enum config_event_lib */
    int db_batch_ms;         /* how long a chat batch may wait to gather more */
    int db_batch_max;        /* chat messages per transaction */
    int scrypt_log2n;        /* cost of new password hashes: N = 2^this */
    int auth_concurrency;    /* password hashes at once; 0: db_workers - 1, at least 1 */
    int token_days;          /* how long a sign-in token is valid */
    const char *admin_token; /* operator's bearer token; NULL disables the admin interface */
    const char *backup_dir;  /* where hot backups go; NULL disables them */
    const char *questions;   /* question pack imported when the bank is empty */
    int quiz_max_rounds;
    int quiz_max_seconds;
    int quiz_reveal_ms;                 /* pause between a reveal and the next question */
    int import_max_bytes;               /* largest question pack POST /admin/import accepts */
    struct config_list allowed_origins; /* empty: any Origin may open a WebSocket */
    const char *tls_cert;               /* PEM files; both set: HTTPS and WSS only */
    const char *tls_key;
    int max_connections;    /* WebSocket connections at once */
    int max_per_address;    /* WebSocket connections from one address; 0 = no limit */
    int drain_seconds;      /* SIGTERM: how long running games may take to finish */
    int metrics_public;     /* GET /metrics without the admin token */
    int rejoin_seconds;     /* a dropped player keeps identity and seats this long; 0: never */
    int handshake_timeout;  /* seconds to finish an HTTP request or WebSocket upgrade */
    int reuse_port;         /* SO_REUSEPORT: several processes share the port */
    const char *cluster;    /* redis://HOST:PORT or unix:///PATH; NULL: one process alone */
    const char *node_id;    /* this node's name in a cluster; NULL: host name and port */
    int cluster_stream;     /* chat messages each room's Redis stream keeps for repair, resume */
    int cluster_timeout_ms; /* silence from Redis after which the link is dropped and redialled */
    int game_lease_ms;      /* a quiz game's owner lease: another node takes over when it lapses */

    /* limits, announced to clients in welcome.limits */
    int max_message;
    int name_max;
    int text_max;
    int room_name_max;
    int room_max_default;
    int room_max_limit;
    int lobby_max;
    int presence_max;
    int rooms_per_session;
    int max_rooms;
    int history;
    int signin_timeout;
    int sendq_max_messages;
    int sendq_max_bytes;
    int sendq_soft_messages; /* over either soft limit: not read, closed after soft_seconds */
    int sendq_soft_bytes;
    int sendq_soft_seconds;
    int resume_replay; /* missed chat events a resume replays per room */
    int rate_per_sec;
    int rate_burst;
    int say_per_sec;
    int say_burst;
    int rate_close_after;
    int ping_interval;
    int idle_timeout;
};

enum config_sync { CONFIG_SYNC_NORMAL = 0, CONFIG_SYNC_FULL = 1 };
enum config_event_lib { CONFIG_EVENT_POLL = 0, CONFIG_EVENT_UV = 1 };

enum config_result { CONFIG_OK = 0, CONFIG_HELP = 1, CONFIG_ERROR = -1 };

/* Fills `cfg` from defaults, then PARLOR_* variables (through getenv), then argv. On
 * CONFIG_ERROR `err` holds a one-line reason. String values point into argv or the environment. */
enum config_result config_parse(struct config *cfg, int argc, char **argv, char *err,
                                size_t errlen);
/* Writes the --help text. */
void config_usage(FILE *out);
/* The limits object of the welcome message (new reference). */
json_t *config_limits_json(const struct config *cfg);

#endif
