/* Quiz games shared across the nodes (see games.h). Loop thread only. */
#include "games.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/async.h>
#include <jansson.h>

#include "link.h"
#include "log.h"
#include "room.h"
#include "server.h"

#define GAMES_CHANNEL "parlor:games"
#define KEY_MAX       (ROOM_ID_LEN + 32)

/* Every script's KEYS: the checkpoint, epoch, owner, open question, answers, the number of the
 * newest step, the log of the last steps and the id of the newest step ("NODE EPOCH ID", the
 * epoch making it unique across the node's restarts) of one room. */
#define GAME_KEYS 8

/* The steps the log keeps (a game has two per round and two more), and for how long after the
 * last one: a node that lost its link replays what it missed from there. */
#define GAME_LOG_MAX "100"
#define GAME_LOG_MS  "600000"

/* Publishes step number ARGV[n] (epoch e, checkpoint cp, events ev) and appends it to the log. */
#define PUBLISH_STEP(n, e, cp, ev)                                                                 \
    "local msg = '{\"n\":' .. " n " .. ',\"cp\":' .. " cp " .. ',\"ev\":' .. " ev " .. '}'\n"      \
    "redis.call('SET', KEYS[6], " n ")\n"                                                          \
    "redis.call('RPUSH', KEYS[7], " e " .. ' ' .. msg)\n"                                          \
    "redis.call('LTRIM', KEYS[7], -" GAME_LOG_MAX ", -1)\n"                                        \
    "redis.call('PEXPIRE', KEYS[7], " GAME_LOG_MS ")\n"                                            \
    "redis.call('PUBLISH', 'parlor:games', 'g ' .. ARGV[1] .. ' ' .. " e " .. ' ' .. msg)\n"

/* ARGV: room, node, lease, checkpoint, events, open round, deadline, the newest step number the
 * node followed. A new game's first step, unless one runs: the new epoch, or 0. */
static const char begin_script[] =
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
    "local e = redis.call('INCR', KEYS[2])\n"
    "redis.call('SET', KEYS[3], ARGV[2] .. ' ' .. e, 'PX', ARGV[3])\n"
    "redis.call('SET', KEYS[1], ARGV[4])\n"
    "redis.call('DEL', KEYS[5])\n"
    "redis.call('SET', KEYS[4], ARGV[6] .. ' ' .. ARGV[7])\n"
    "redis.call('SADD', 'parlor:games', ARGV[1])\n"
    "local n = tonumber(redis.call('GET', KEYS[6]) or '0')\n"
    "n = math.max(n, tonumber(ARGV[8])) + 1\n"
    /* clang-format off */
    PUBLISH_STEP("n", "e", "ARGV[4]", "ARGV[5]")
    "return e\n";
/* clang-format on */

/* ARGV: room, node, lease, epoch, checkpoint ('' at game over), events, open round (0: none),
 * deadline, the newest step number the owner followed, the step's id. 1, or 0 when a newer
 * owner holds the game. A Redis that lost the game's keys (a restart without persistence) takes
 * the owner's epoch, checkpoint and step number back. A step taken already (the owner asks
 * again when the answer was lost) is not published again. */
static const char step_script[] =
    "local cur, e = tonumber(redis.call('GET', KEYS[2]) or '0'), tonumber(ARGV[4])\n"
    "if cur > e then return 0 end\n"
    "local id = ARGV[2] .. ' ' .. e .. ' ' .. ARGV[10]\n"
    "if redis.call('GET', KEYS[8]) == id then return 1 end\n"
    "redis.call('SET', KEYS[8], id, 'PX', " GAME_LOG_MS ")\n"
    "local n = math.max(tonumber(ARGV[9]), tonumber(redis.call('GET', KEYS[6]) or '0')) + 1\n"
    "if cur < e then\n"
    "  redis.call('SET', KEYS[2], e)\n"
    "  redis.call('SET', KEYS[3], ARGV[2] .. ' ' .. e, 'PX', ARGV[3])\n"
    "end\n"
    "local cp = 'null'\n"
    "if ARGV[5] == '' then\n"
    "  redis.call('DEL', KEYS[1], KEYS[3], KEYS[4], KEYS[5])\n"
    "  redis.call('SREM', 'parlor:games', ARGV[1])\n"
    "else\n"
    "  cp = ARGV[5]\n"
    "  redis.call('SET', KEYS[1], cp)\n"
    "  redis.call('SADD', 'parlor:games', ARGV[1])\n"
    "  if ARGV[7] ~= '0' then\n"
    "    redis.call('DEL', KEYS[5])\n"
    "    redis.call('SET', KEYS[4], ARGV[7] .. ' ' .. ARGV[8])\n"
    "  end\n"
    "end\n"
    /* clang-format off */
    PUBLISH_STEP("n", "e", "cp", "ARGV[6]")
    "return 1\n";
/* clang-format on */

/* ARGV: epoch. Closes the open question: {1, seat, answer, seat, answer...}, or {0} fenced. */
static const char close_script[] =
    "if tonumber(redis.call('GET', KEYS[2]) or '0') > tonumber(ARGV[1]) then return {0} end\n"
    "redis.call('DEL', KEYS[4])\n"
    "local out = {1}\n"
    "for _, v in ipairs(redis.call('HGETALL', KEYS[5])) do out[#out + 1] = v end\n"
    "return out\n";

/* ARGV: room, seat, round, choice, answered at. 0 recorded; 1 closed; 2 wrong round; 3 late;
 * 4 answered already (game_sync_answer). */
static const char answer_script[] =
    "local open = redis.call('GET', KEYS[4])\n"
    "if not open then return 1 end\n"
    "local round, deadline = string.match(open, '^(%d+) (%d+)$')\n"
    "if round ~= ARGV[3] then return 2 end\n"
    "if tonumber(ARGV[5]) >= tonumber(deadline) then return 3 end\n"
    "if redis.call('HSETNX', KEYS[5], ARGV[2], ARGV[3] .. ' ' .. ARGV[4] .. ' ' .. ARGV[5]) == 0 "
    "then return 4 end\n"
    "local owner = redis.call('GET', KEYS[3])\n"
    "local node = owner and string.match(owner, '^(%S+) ')\n"
    "if node then redis.call('PUBLISH', 'parlor:node:' .. node, 'a ' .. ARGV[1] .. ' ' .. ARGV[2]) "
    "end\n"
    "return 0\n";

/* ARGV: node, epoch, lease. 1 held (again, after a Redis that lost it), 0 lost. */
static const char renew_script[] =
    "local mine = ARGV[1] .. ' ' .. ARGV[2]\n"
    "local owner = redis.call('GET', KEYS[3])\n"
    "if owner == mine then redis.call('PEXPIRE', KEYS[3], ARGV[3]); return 1 end\n"
    "if owner or tonumber(redis.call('GET', KEYS[2]) or '0') > tonumber(ARGV[2]) then return 0 "
    "end\n"
    "redis.call('SET', KEYS[2], ARGV[2])\n"
    "redis.call('SET', KEYS[3], mine, 'PX', ARGV[3])\n"
    "return 1\n";

/* ARGV: node, epoch. Gives the lease up: 1, or 0 when it was not held. */
static const char release_script[] =
    "if redis.call('GET', KEYS[3]) ~= ARGV[1] .. ' ' .. ARGV[2] then return 0 end\n"
    "redis.call('DEL', KEYS[3])\n"
    "return 1\n";

/* ARGV: node, lease. A running game nobody holds: {new epoch, checkpoint}, or nil. */
static const char takeover_script[] =
    "if redis.call('EXISTS', KEYS[3]) == 1 then return false end\n"
    "local cp = redis.call('GET', KEYS[1])\n"
    "if not cp then return false end\n"
    "local e = redis.call('INCR', KEYS[2])\n"
    "redis.call('SET', KEYS[3], ARGV[1] .. ' ' .. e, 'PX', ARGV[2])\n"
    "return {e, cp}\n";

/* Every running game: {room, epoch, checkpoint, step number, ...}; rooms whose game is gone
 * leave the set. */
static const char running_script[] =
    "local out = {}\n"
    "for _, room in ipairs(redis.call('SMEMBERS', 'parlor:games')) do\n"
    "  local cp = redis.call('GET', 'parlor:game:' .. room)\n"
    "  if cp then\n"
    "    out[#out + 1] = room\n"
    "    out[#out + 1] = redis.call('GET', 'parlor:game:' .. room .. ':epoch') or '0'\n"
    "    out[#out + 1] = cp\n"
    "    out[#out + 1] = redis.call('GET', 'parlor:game:' .. room .. ':step') or '0'\n"
    "  else redis.call('SREM', 'parlor:games', room) end\n"
    "end\n"
    "return out\n";

/* The log of the room's last steps, oldest first: {"EPOCH STEP", ...}. */
static const char log_script[] = "return redis.call('LRANGE', KEYS[7], 0, -1)\n";

static struct games *the_games; /* the ops have no context argument of their own */

/* A call on its way, for its reply. */
struct call {
    char room[ROOM_ID_LEN];
    game_sync_done_fn *done;
    void *arg;
    int kind; /* what the reply means: one of the enum below */
};

enum { CALL_INTEGER, CALL_CLOSE, CALL_TAKEOVER, CALL_LOG };

static void game_keys(const char *room, char keys[GAME_KEYS][KEY_MAX])
{
    static const char *const suffix[GAME_KEYS] = {"",         ":epoch", ":owner", ":open",
                                                  ":answers", ":step",  ":log",   ":sent"};

    for (int i = 0; i < GAME_KEYS; i++)
        snprintf(keys[i], KEY_MAX, "parlor:game:%s%s", room, suffix[i]);
}

/* {seat, "ROUND CHOICE AT", ...} as [[seat, round, choice, at], ...]. */
static json_t *answers_json(const redisReply *rep)
{
    json_t *out = json_array();

    for (size_t i = 1; i + 1 < rep->elements; i += 2) {
        unsigned long long seat;
        int round, choice;
        long long at;
        if (rep->element[i]->type == REDIS_REPLY_STRING &&
            rep->element[i + 1]->type == REDIS_REPLY_STRING &&
            sscanf(rep->element[i]->str, "%llu", &seat) == 1 &&
            sscanf(rep->element[i + 1]->str, "%d %d %lld", &round, &choice, &at) == 3)
            json_array_append_new(
                out, json_pack("[I, i, i, I]", (json_int_t)seat, round, choice, (json_int_t)at));
    }
    return out;
}

/* {"EPOCH STEP", ...} as [[epoch, step], ...]. */
static json_t *log_json(const redisReply *rep)
{
    json_t *out = json_array();

    for (size_t i = 0; i < rep->elements; i++) {
        const redisReply *e = rep->element[i];
        long long epoch;
        int used = 0;
        json_t *step;
        if (e->type != REDIS_REPLY_STRING || sscanf(e->str, "%lld %n", &epoch, &used) != 1 ||
            !used || !(step = json_loadb(e->str + used, e->len - (size_t)used, 0, NULL)))
            continue;
        json_array_append_new(out, json_pack("[I, o]", (json_int_t)epoch, step));
    }
    return out;
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct call *c = privdata;
    redisReply *rep = reply;
    struct server *srv = the_games->srv;
    json_t *data = NULL;
    int64_t result = -1;

    (void)ac;
    if (rep && rep->type == REDIS_REPLY_ERROR)
        log_warn("cluster: a game's script failed: %s", rep->str);
    if (!rep || rep->type == REDIS_REPLY_ERROR) {
        result = c->kind == CALL_TAKEOVER ? 0 : -1;
    } else if (c->kind == CALL_INTEGER && rep->type == REDIS_REPLY_INTEGER) {
        result = rep->integer;
    } else if (c->kind == CALL_CLOSE && rep->type == REDIS_REPLY_ARRAY && rep->elements >= 1) {
        result = rep->element[0]->integer;
        if (result == 1)
            data = answers_json(rep);
    } else if (c->kind == CALL_LOG && rep->type == REDIS_REPLY_ARRAY) {
        result = 1;
        data = log_json(rep);
    } else if (c->kind == CALL_TAKEOVER) {
        result = 0;
        if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
            rep->element[0]->type == REDIS_REPLY_INTEGER &&
            rep->element[1]->type == REDIS_REPLY_STRING &&
            (data = json_loadb(rep->element[1]->str, rep->element[1]->len, 0, NULL)))
            result = rep->element[0]->integer;
    }
    if (c->done)
        c->done(srv, c->room, result, data, c->arg);
    json_decref(data);
    free(c);
}

/* Runs `script` with the room's keys and `argv` (argc of them); the reply goes to `done`. */
static void run(const char *room, const char *script, int kind, int argc, const char **argv,
                game_sync_done_fn *done, void *arg)
{
    struct games *gs = the_games;
    char keys[GAME_KEYS][KEY_MAX];
    const char *args[3 + GAME_KEYS + 10];
    struct call *c = calloc(1, sizeof(*c));

    if (!c || argc > 10) {
        free(c);
        if (done)
            done(gs->srv, room, kind == CALL_TAKEOVER ? 0 : -1, NULL, arg);
        return;
    }
    snprintf(c->room, sizeof(c->room), "%s", room);
    c->done = done;
    c->arg = arg;
    c->kind = kind;
    game_keys(room, keys);
    args[0] = "EVAL";
    args[1] = script;
    args[2] = "8";
    for (int i = 0; i < GAME_KEYS; i++)
        args[3 + i] = keys[i];
    if (argc)
        memcpy(args + 3 + GAME_KEYS, argv, (size_t)argc * sizeof(*argv));
    if (link_command(gs->link, on_reply, c, 3 + GAME_KEYS + argc, args, NULL)) {
        free(c);
        if (done)
            done(gs->srv, room, kind == CALL_TAKEOVER ? 0 : -1, NULL, arg);
    }
}

static void games_begin(struct server *srv, const char *room, const struct game_step *step,
                        game_sync_done_fn *done, void *arg)
{
    struct games *gs = the_games;
    char lease[24], open[16], deadline[24], n[24];

    (void)srv;
    snprintf(lease, sizeof(lease), "%" PRId64, gs->ops.lease_ms);
    snprintf(open, sizeof(open), "%d", step->open_round);
    snprintf(deadline, sizeof(deadline), "%" PRId64, step->deadline_ms);
    snprintf(n, sizeof(n), "%" PRId64, step->after);
    run(room, begin_script, CALL_INTEGER, 8,
        (const char *[]){room, gs->node_id, lease, step->checkpoint, step->events, open, deadline,
                         n},
        done, arg);
}

static void games_step(struct server *srv, const char *room, int64_t epoch,
                       const struct game_step *step, game_sync_done_fn *done, void *arg)
{
    struct games *gs = the_games;
    char lease[24], e[24], open[16], deadline[24], n[24], id[24];

    (void)srv;
    snprintf(lease, sizeof(lease), "%" PRId64, gs->ops.lease_ms);
    snprintf(e, sizeof(e), "%" PRId64, epoch);
    snprintf(open, sizeof(open), "%d", step->open_round);
    snprintf(deadline, sizeof(deadline), "%" PRId64, step->deadline_ms);
    snprintf(n, sizeof(n), "%" PRId64, step->after);
    snprintf(id, sizeof(id), "%" PRIu64, step->id);
    run(room, step_script, CALL_INTEGER, 10,
        (const char *[]){room, gs->node_id, lease, e, step->checkpoint ? step->checkpoint : "",
                         step->events, open, deadline, n, id},
        done, arg);
}

static void games_close(struct server *srv, const char *room, int64_t epoch,
                        game_sync_done_fn *done, void *arg)
{
    char e[24];

    (void)srv;
    snprintf(e, sizeof(e), "%" PRId64, epoch);
    run(room, close_script, CALL_CLOSE, 1, (const char *[]){e}, done, arg);
}

static void games_answer(struct server *srv, const char *room, uint64_t seat, int round, int choice,
                         int64_t at, game_sync_done_fn *done, void *arg)
{
    char s[24], r[16], ch[16], a[24];

    (void)srv;
    snprintf(s, sizeof(s), "%" PRIu64, seat);
    snprintf(r, sizeof(r), "%d", round);
    snprintf(ch, sizeof(ch), "%d", choice);
    snprintf(a, sizeof(a), "%" PRId64, at);
    run(room, answer_script, CALL_INTEGER, 5, (const char *[]){room, s, r, ch, a}, done, arg);
}

static void games_renew(struct server *srv, const char *room, int64_t epoch,
                        game_sync_done_fn *done, void *arg)
{
    struct games *gs = the_games;
    char e[24], lease[24];

    (void)srv;
    snprintf(e, sizeof(e), "%" PRId64, epoch);
    snprintf(lease, sizeof(lease), "%" PRId64, gs->ops.lease_ms);
    run(room, renew_script, CALL_INTEGER, 3, (const char *[]){gs->node_id, e, lease}, done, arg);
}

static void games_release(struct server *srv, const char *room, int64_t epoch,
                          game_sync_done_fn *done, void *arg)
{
    struct games *gs = the_games;
    char e[24];

    (void)srv;
    snprintf(e, sizeof(e), "%" PRId64, epoch);
    run(room, release_script, CALL_INTEGER, 2, (const char *[]){gs->node_id, e}, done, arg);
}

static void games_takeover(struct server *srv, const char *room, game_sync_done_fn *done, void *arg)
{
    struct games *gs = the_games;
    char lease[24];

    (void)srv;
    snprintf(lease, sizeof(lease), "%" PRId64, gs->ops.lease_ms);
    run(room, takeover_script, CALL_TAKEOVER, 2, (const char *[]){gs->node_id, lease}, done, arg);
}

static void games_missed(struct server *srv, const char *room, game_sync_done_fn *done, void *arg)
{
    (void)srv;
    run(room, log_script, CALL_LOG, 0, NULL, done, arg);
}

/* Hands a step to the room's game here, if the room is a game here. */
static void synced(struct games *gs, const char *room, int64_t epoch, json_t *step)
{
    struct room *r = room_find(&gs->srv->rooms, room);

    if (r && r->kind && r->kind->synced)
        r->kind->synced(r->game, epoch, step);
}

/* "g ROOM EPOCH JSON" */
static void on_games_channel(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct games *gs = privdata;
    redisReply *rep = reply;
    char room[ROOM_ID_LEN];
    long long epoch;
    int used = 0;
    json_t *step;

    (void)ac;
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 3 ||
        strcmp(rep->element[0]->str, "message") || rep->element[2]->type != REDIS_REPLY_STRING)
        return;
    if (sscanf(rep->element[2]->str, "g %23s %lld %n", room, &epoch, &used) != 2 || !used)
        return;
    step = json_loadb(rep->element[2]->str + used, rep->element[2]->len - (size_t)used, 0, NULL);
    if (!step) {
        log_warn("cluster: a game's step that is not JSON, in %s", room);
        return;
    }
    synced(gs, room, epoch, step);
    json_decref(step);
}

static void on_running(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct games *gs = privdata;
    redisReply *rep = reply;

    (void)ac;
    if (!rep || rep->type != REDIS_REPLY_ARRAY)
        return;
    for (size_t i = 0; i + 3 < rep->elements; i += 4) {
        json_t *cp = json_loadb(rep->element[i + 2]->str, rep->element[i + 2]->len, 0, NULL),
               *step = cp ? json_pack("{s:o, s:[], s:b}", "cp", cp, "ev", "catch_up", 1) : NULL;
        if (step && rep->element[i]->type == REDIS_REPLY_STRING &&
            rep->element[i + 1]->type == REDIS_REPLY_STRING &&
            rep->element[i + 3]->type == REDIS_REPLY_STRING) {
            json_object_set_new(step, "n",
                                json_integer(strtoll(rep->element[i + 3]->str, NULL, 10)));
            synced(gs, rep->element[i]->str, strtoll(rep->element[i + 1]->str, NULL, 10), step);
        }
        json_decref(step);
    }
}

void games_up(struct games *gs)
{
    link_subscribe(gs->link, GAMES_CHANNEL, on_games_channel, gs);
    /* the games followed here catch up with the steps they missed while the link was down */
    for (struct room *r = gs->srv->rooms.first; r; r = r->next)
        if (r->kind && r->kind->relinked)
            r->kind->relinked(r->game);
    /* after the subscription: a step published meanwhile comes again on the channel, and an
     * older one is refused by the epoch the replica keeps */
    link_command(gs->link, on_running, gs, 3, (const char *[]){"EVAL", running_script, "0"}, NULL);
}

void games_node_message(struct games *gs, const char *msg, size_t len)
{
    char text[ROOM_ID_LEN + 40], room[ROOM_ID_LEN];
    unsigned long long seat;
    struct room *r;

    if (len >= sizeof(text))
        return;
    memcpy(text, msg, len);
    text[len] = '\0';
    if (sscanf(text, "a %23s %llu", room, &seat) != 2)
        return;
    r = room_find(&gs->srv->rooms, room);
    if (r && r->kind && r->kind->answered)
        r->kind->answered(r->game, seat);
}

void games_init(struct games *gs, struct server *srv, struct link *link, const char *node_id,
                int lease_ms)
{
    *gs = (struct games){.srv = srv,
                         .link = link,
                         .node_id = node_id,
                         .ops = {.begin = games_begin,
                                 .step = games_step,
                                 .close = games_close,
                                 .answer = games_answer,
                                 .renew = games_renew,
                                 .release = games_release,
                                 .takeover = games_takeover,
                                 .missed = games_missed,
                                 .lease_ms = lease_ms}};
    the_games = gs;
    srv->game_sync = &gs->ops;
}
