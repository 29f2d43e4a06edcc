/*
 * parlor.v1 wire protocol: turns one text message into a validated request, and builds the
 * JSON of replies and events. Pure functions over jansson: no sockets, no clock, no globals,
 * so the server, the load tester, the tests and the fuzzer share one definition of the
 * protocol. PROTOCOL.md is the document this code implements.
 */
#ifndef PARLOR_PROTO_H
#define PARLOR_PROTO_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define PROTO_VERSION     1
#define PROTO_SUBPROTOCOL "parlor.v1"

/* Stable error codes; proto_err_code() gives the wire string. */
enum proto_err {
    PROTO_E_NONE = 0,
    PROTO_E_BAD_JSON,
    PROTO_E_BAD_REQUEST,
    PROTO_E_UNKNOWN_TYPE,
    PROTO_E_UNAUTHORIZED,
    PROTO_E_NAME_TAKEN,
    PROTO_E_NO_SUCH_ROOM,
    PROTO_E_NO_SUCH_USER,
    PROTO_E_ROOM_FULL,
    PROTO_E_NOT_IN_ROOM,
    PROTO_E_NOT_ALLOWED,
    PROTO_E_RATE_LIMITED,
    PROTO_E_SERVER_BUSY,
    PROTO_E_INTERNAL,
    PROTO_E_BAD_CREDENTIALS,
    PROTO_E_GAME_STATE,
    PROTO_E_COUNT
};

/* The WebSocket close codes parlor sends (RFC 6455 section 7.4.1); PROTOCOL.md lists the
 * reasons that come with each. */
enum proto_close {
    PROTO_CLOSE_NORMAL = 1000,      /* the client asked */
    PROTO_CLOSE_GOING_AWAY = 1001,  /* the server is shutting down */
    PROTO_CLOSE_UNSUPPORTED = 1003, /* a binary frame */
    PROTO_CLOSE_BAD_DATA = 1007,    /* text that is not UTF-8 */
    PROTO_CLOSE_POLICY = 1008,      /* too slow, rate limit, kicked, banned, timeouts, bad token */
    PROTO_CLOSE_TOO_BIG = 1009,     /* a message over --max-message */
    PROTO_CLOSE_INTERNAL = 1011,    /* out of memory */
};

enum proto_type {
    PROTO_HELLO,
    PROTO_ROOMS,
    PROTO_CREATE,
    PROTO_JOIN,
    PROTO_LEAVE,
    PROTO_SAY,
    PROTO_WHISPER,
    PROTO_PING,
    PROTO_HISTORY,
    PROTO_REGISTER,
    PROTO_LOGIN,
    PROTO_RESUME,
    PROTO_START,
    PROTO_ANSWER,
    PROTO_LEADERBOARD,
    PROTO_TYPE_COUNT
};

/* The limits that decoding itself enforces (the rest are the server's business). */
struct proto_limits {
    int name_max;       /* characters in a user name */
    int text_max;       /* code points in chat/whisper text */
    int room_name_max;  /* code points in a room name */
    int room_max_limit; /* largest `max` a create may ask for */
    int quiz_max_rounds;
    int quiz_max_seconds;
};

#define PROTO_ROOM_ID_MAX       64  /* longer ids cannot exist; they get no_such_room */
#define PROTO_HISTORY_LIMIT_MAX 200 /* messages one history request may ask for */
#define PROTO_PASSWORD_MIN      8   /* bytes */
#define PROTO_PASSWORD_MAX      128 /* bytes */
#define PROTO_TOKEN_MAX         256 /* bytes; longer cannot be ours */
#define PROTO_LEADERBOARD_MAX   100 /* entries one leaderboard request may ask for */
#define PROTO_QUIZ_CHOICES      4

/* A decoded request. String fields point into `root` and live until proto_req_free(). */
/* Whom a reply answers: the request's `id`, echoed as `re`, or null when the request had none
 * (or it could not be read). Every reply carries one. */
struct proto_re {
    bool has_id;
    json_int_t id;
};

struct proto_req {
    enum proto_type type;
    struct proto_re re;
    const char *name;     /* hello, create */
    const char *room;     /* join, leave, say */
    const char *to;       /* whisper */
    const char *text;     /* say, whisper */
    const char *password; /* register, login */
    size_t password_len;
    const char *token; /* resume */
    json_t *seen;      /* resume: {room id: last seq seen}, or NULL */
    bool has_max;      /* create */
    int max;
    const char *game; /* create: NULL for a chat room */
    int rounds;       /* create (quiz); 0 when absent */
    int seconds;      /* create (quiz); 0 when absent */
    int round;        /* answer */
    int choice;       /* answer */
    bool has_before;  /* history */
    int64_t before;
    int limit; /* history; 0 when absent */
    json_t *root;
};

/* Why a message was refused, with the request id when it could be read. */
struct proto_error {
    enum proto_err code;
    struct proto_re re;
    const char *field; /* static string naming the bad field, or NULL */
    char message[160];
};

/* Decodes and validates one message. Returns 0 and fills `req` (free it with proto_req_free),
 * or -1 and fills `err` (req is then empty and needs no free). */
int proto_decode(const char *buf, size_t len, const struct proto_limits *lim, struct proto_req *req,
                 struct proto_error *err);
void proto_req_free(struct proto_req *req);

const char *proto_err_code(enum proto_err code);
const char *proto_type_name(enum proto_type type);

/* Validation helpers, shared with the server for names it compares. */
bool proto_valid_name(const char *name, int name_max);
/* True when the `len` bytes at `s` are valid UTF-8 (RFC 3629: no overlongs, surrogates or
 * code points beyond U+10FFFF). */
bool proto_utf8_valid(const char *s, size_t len);
/* Number of code points in valid UTF-8 text. */
size_t proto_utf8_len(const char *s);
/* Bytes of `s` to quote so that at most `max_bytes` are taken and no character is cut:
 * use as printf("%.*s", proto_clip(s, 40), s). */
int proto_clip(const char *s, int max_bytes);

/* Builders. Each returns a new reference (NULL only when out of memory). */
json_t *proto_ok(const struct proto_req *req);
/* {"type": "ok", "re": …}, for a reply that comes after its request is gone. */
json_t *proto_ok_re(struct proto_re re);
/* The `re` value itself: the id, or null. */
json_t *proto_re_json(struct proto_re re);
json_t *proto_error_json(const struct proto_error *err);
/* Fills `err` from its parts; `fmt` formats the message. */
void proto_error_set(struct proto_error *err, enum proto_err code, const char *field,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void proto_error_vset(struct proto_error *err, enum proto_err code, const char *field,
                      const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
json_t *proto_welcome(const char *server_version, json_t *limits /* stolen */);
json_t *proto_room_obj(const char *id, const char *name, const char *game, int members, int max);
json_t *proto_ev_chat(const char *room, const char *from, const char *text, int64_t ts,
                      uint64_t seq);
json_t *proto_ev_member(const char *type /* "joined" or "left" */, const char *room,
                        const char *name);
json_t *proto_ev_whisper(const char *from, const char *text, int64_t ts);

#endif
