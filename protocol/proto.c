/*
 * parlor.v1 decoding, validation and encoding (see proto.h). Runs on whichever thread calls it;
 * it keeps no state of its own (names.c keeps a spoof checker per thread).
 */
#include "proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "names.h"

static const char *const err_codes[PROTO_E_COUNT] = {
    [PROTO_E_NONE] = "none",
    [PROTO_E_BAD_JSON] = "bad_json",
    [PROTO_E_BAD_REQUEST] = "bad_request",
    [PROTO_E_UNKNOWN_TYPE] = "unknown_type",
    [PROTO_E_UNAUTHORIZED] = "unauthorized",
    [PROTO_E_NAME_TAKEN] = "name_taken",
    [PROTO_E_NO_SUCH_ROOM] = "no_such_room",
    [PROTO_E_NO_SUCH_USER] = "no_such_user",
    [PROTO_E_ROOM_FULL] = "room_full",
    [PROTO_E_NOT_IN_ROOM] = "not_in_room",
    [PROTO_E_NOT_ALLOWED] = "not_allowed",
    [PROTO_E_RATE_LIMITED] = "rate_limited",
    [PROTO_E_SERVER_BUSY] = "server_busy",
    [PROTO_E_INTERNAL] = "internal",
    [PROTO_E_BAD_CREDENTIALS] = "bad_credentials",
    [PROTO_E_GAME_STATE] = "game_state",
};

static const char *const type_names[PROTO_TYPE_COUNT] = {
    [PROTO_HELLO] = "hello",       [PROTO_ROOMS] = "rooms",   [PROTO_CREATE] = "create",
    [PROTO_JOIN] = "join",         [PROTO_LEAVE] = "leave",   [PROTO_SAY] = "say",
    [PROTO_WHISPER] = "whisper",   [PROTO_PING] = "ping",     [PROTO_HISTORY] = "history",
    [PROTO_REGISTER] = "register", [PROTO_LOGIN] = "login",   [PROTO_RESUME] = "resume",
    [PROTO_START] = "start",       [PROTO_ANSWER] = "answer", [PROTO_LEADERBOARD] = "leaderboard",
};

const char *proto_err_code(enum proto_err code)
{
    if ((int)code < 0 || code >= PROTO_E_COUNT)
        return "internal";
    return err_codes[code];
}

const char *proto_type_name(enum proto_type type)
{
    if ((int)type < 0 || type >= PROTO_TYPE_COUNT)
        return "?";
    return type_names[type];
}

void proto_error_set(struct proto_error *err, enum proto_err code, const char *field,
                     const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    proto_error_vset(err, code, field, fmt, ap);
    va_end(ap);
}

/* Bytes in the UTF-8 sequence at `s`, or 0 when it is not valid (bad lead, missing or bad
 * continuation, overlong, surrogate, beyond U+10FFFF). */
static int utf8_valid_at(const unsigned char *s)
{
    int n = s[0] < 0x80                    ? 1
            : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
            : (s[0] & 0xf0) == 0xe0        ? 3
            : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
                                           : 0;

    for (int i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0))) ||
        (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))))
        return 0;
    return n;
}

bool proto_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;

    while (p < end) {
        unsigned char seq[4] = {0}; /* zero-padded: a sequence cut by the end is invalid */
        size_t left = (size_t)(end - p);
        int n;

        if (*p < 0x80) {
            p++;
            continue;
        }
        memcpy(seq, p, left < sizeof(seq) ? left : sizeof(seq));
        n = utf8_valid_at(seq);
        if (!n)
            return false;
        p += n;
    }
    return true;
}

/* An error message must be valid UTF-8 to be sent at all, but it may quote client bytes (jansson
 * quotes the text near a parse error) or be cut at its buffer's end: replace every byte that
 * does not start a valid sequence with '?'. */
static void utf8_sanitize(char *s)
{
    unsigned char *p = (unsigned char *)s;

    while (*p) {
        int n = utf8_valid_at(p);
        if (n) {
            p += n;
        } else {
            *p++ = '?';
        }
    }
}

int proto_clip(const char *s, int max_bytes)
{
    int n = 0;

    while (s[n] && n < max_bytes)
        n++;
    if (s[n]) /* cut inside the text: step back to the start of a character */
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    return n;
}

void proto_error_vset(struct proto_error *err, enum proto_err code, const char *field,
                      const char *fmt, va_list ap)
{
    err->code = code;
    err->field = field;
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    utf8_sanitize(err->message);
}

/* Decodes one code point of valid UTF-8 (jansson has already rejected invalid text). */
static const char *utf8_next(const char *s, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;

    if (u[0] < 0x80) {
        *cp = u[0];
        return s + 1;
    }
    if ((u[0] & 0xe0) == 0xc0) {
        *cp = ((uint32_t)(u[0] & 0x1f) << 6) | (u[1] & 0x3f);
        return s + 2;
    }
    if ((u[0] & 0xf0) == 0xe0) {
        *cp = ((uint32_t)(u[0] & 0x0f) << 12) | ((uint32_t)(u[1] & 0x3f) << 6) | (u[2] & 0x3f);
        return s + 3;
    }
    *cp = ((uint32_t)(u[0] & 0x07) << 18) | ((uint32_t)(u[1] & 0x3f) << 12) |
          ((uint32_t)(u[2] & 0x3f) << 6) | (u[3] & 0x3f);
    return s + 4;
}

size_t proto_utf8_len(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

/* Blank and invisible code points: a text made only of these says nothing. */
static bool is_blank(uint32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200d) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
           cp == 0x205f || cp == 0x2060 || cp == 0x3000 || cp == 0xfeff;
}

static bool is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029;
}

/* True when `s` has 1..max code points, not all blank, and (if no_controls) no controls. */
static bool valid_text(const char *s, int max, bool no_controls)
{
    size_t n = 0;
    bool blank = true;
    uint32_t cp;

    while (*s) {
        s = utf8_next(s, &cp);
        if (no_controls && is_control(cp))
            return false;
        if (!is_blank(cp))
            blank = false;
        if (++n > (size_t)max)
            return false;
    }
    return n > 0 && !blank;
}

bool proto_valid_name(const char *name, int name_max)
{
    char nfc[NAMES_BYTES_MAX];

    return names_canonical(name, name_max, nfc) == NAMES_OK;
}

/* Reads a required string field; on failure fills err and returns NULL. */
static const char *need_string(json_t *root, const char *field, struct proto_error *err)
{
    json_t *v = json_object_get(root, field);

    if (!json_is_string(v)) {
        proto_error_set(err, PROTO_E_BAD_REQUEST, field, "field '%s' must be a string", field);
        return NULL;
    }
    /* \u0000 is valid JSON but cannot be carried through C strings: refuse it by name */
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        proto_error_set(err, PROTO_E_BAD_REQUEST, field, "field '%s' must not contain U+0000",
                        field);
        return NULL;
    }
    return json_string_value(v);
}

/* An optional integer field in [lo, hi]: 0 and *out untouched when absent, -1 with err when
 * present but not such an integer. */
static int opt_int(json_t *root, const char *field, long lo, long hi, int *out,
                   struct proto_error *err)
{
    json_t *v = json_object_get(root, field);

    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        proto_error_set(err, PROTO_E_BAD_REQUEST, field,
                        "field '%s' must be an integer from %ld to %ld", field, lo, hi);
        return -1;
    }
    *out = (int)json_integer_value(v);
    return 0;
}

/* A required integer field in [lo, hi]. */
static int need_int(json_t *root, const char *field, long lo, long hi, int *out,
                    struct proto_error *err)
{
    if (!json_object_get(root, field)) {
        proto_error_set(err, PROTO_E_BAD_REQUEST, field,
                        "field '%s' must be an integer from %ld to %ld", field, lo, hi);
        return -1;
    }
    return opt_int(root, field, lo, hi, out, err);
}

/* The `room` every room request names: a non-empty string. */
static int need_room(json_t *root, struct proto_req *req, struct proto_error *err)
{
    req->room = need_string(root, "room", err);
    if (!req->room)
        return -1;
    if (!req->room[0]) {
        proto_error_set(err, PROTO_E_BAD_REQUEST, "room", "field 'room' must not be empty");
        return -1;
    }
    return 0;
}

/* resume's optional `seen`: {room id: the last seq seen}. */
static int decode_seen(json_t *root, struct proto_req *req, struct proto_error *err)
{
    json_t *v = json_object_get(root, "seen"), *seq;
    const char *key;

    if (!v)
        return 0;
    if (!json_is_object(v))
        goto bad;
    json_object_foreach(v, key, seq)
    {
        if (!json_is_integer(seq) || json_integer_value(seq) < 0)
            goto bad;
    }
    req->seen = v;
    return 0;
bad:
    proto_error_set(err, PROTO_E_BAD_REQUEST, "seen",
                    "field 'seen' must map room ids to the last seq seen");
    return -1;
}

/* A user name: checked, and replaced by its NFC form, which lives in `root` like the rest. */
static int canonical_name(json_t *root, const struct proto_limits *lim, struct proto_req *req,
                          struct proto_error *err)
{
    char nfc[NAMES_BYTES_MAX];
    enum names_verdict v = names_canonical(req->name, lim->name_max, nfc);
    json_t *str;

    if (v != NAMES_OK) {
        proto_error_set(err, PROTO_E_BAD_REQUEST, "name",
                        "field 'name' must be 1-%d letters (of one script), digits, '_' or '-': %s",
                        lim->name_max, names_reason(v));
        return -1;
    }
    if (strcmp(nfc, req->name)) {
        str = json_string(nfc);
        if (!str || json_object_set_new(root, "name", str)) {
            proto_error_set(err, PROTO_E_INTERNAL, NULL, "out of memory");
            return -1;
        }
        req->name = json_string_value(str);
    }
    return 0;
}

static int decode_fields(json_t *root, const struct proto_limits *lim, struct proto_req *req,
                         struct proto_error *err)
{
    json_t *v;

    switch (req->type) {
    case PROTO_ROOMS:
    case PROTO_PING:
        return 0;
    case PROTO_REGISTER:
    case PROTO_LOGIN:
        req->password = need_string(root, "password", err);
        if (!req->password)
            return -1;
        req->password_len = strlen(req->password);
        if (req->password_len < PROTO_PASSWORD_MIN || req->password_len > PROTO_PASSWORD_MAX) {
            proto_error_set(err, PROTO_E_BAD_REQUEST, "password",
                            "field 'password' must be %d-%d bytes", PROTO_PASSWORD_MIN,
                            PROTO_PASSWORD_MAX);
            return -1;
        }
        /* the name follows hello's rules */
        /* fall through */
    case PROTO_HELLO:
        req->name = need_string(root, "name", err);
        if (!req->name)
            return -1;
        return canonical_name(root, lim, req, err);
    case PROTO_CREATE:
        req->name = need_string(root, "name", err);
        if (!req->name)
            return -1;
        if (!valid_text(req->name, lim->room_name_max, true)) {
            proto_error_set(
                err, PROTO_E_BAD_REQUEST, "name",
                "field 'name' must be 1-%d characters, not blank, without control characters",
                lim->room_name_max);
            return -1;
        }
        v = json_object_get(root, "max");
        if (v) {
            if (!json_is_integer(v) || json_integer_value(v) < 2 ||
                json_integer_value(v) > lim->room_max_limit) {
                proto_error_set(err, PROTO_E_BAD_REQUEST, "max",
                                "field 'max' must be an integer from 2 to %d", lim->room_max_limit);
                return -1;
            }
            req->has_max = true;
            req->max = (int)json_integer_value(v);
        }
        v = json_object_get(root, "game");
        if (v) {
            if (!json_is_string(v) || strcmp(json_string_value(v), "quiz")) {
                proto_error_set(err, PROTO_E_BAD_REQUEST, "game",
                                "field 'game' must be \"quiz\" (or absent for a chat room)");
                return -1;
            }
            req->game = json_string_value(v);
        }
        if (opt_int(root, "rounds", 1, lim->quiz_max_rounds, &req->rounds, err) ||
            opt_int(root, "seconds", 1, lim->quiz_max_seconds, &req->seconds, err))
            return -1;
        return 0;
    case PROTO_START:
        return need_room(root, req, err);
    case PROTO_ANSWER:
        if (need_room(root, req, err) || need_int(root, "round", 1, INT32_MAX, &req->round, err) ||
            need_int(root, "choice", 0, PROTO_QUIZ_CHOICES - 1, &req->choice, err))
            return -1;
        return 0;
    case PROTO_LEADERBOARD:
        return opt_int(root, "limit", 1, PROTO_LEADERBOARD_MAX, &req->limit, err);
    case PROTO_RESUME:
        req->token = need_string(root, "token", err);
        if (!req->token)
            return -1;
        if (!req->token[0] || strlen(req->token) > PROTO_TOKEN_MAX) {
            proto_error_set(err, PROTO_E_BAD_REQUEST, "token", "field 'token' must be 1-%d bytes",
                            PROTO_TOKEN_MAX);
            return -1;
        }
        return decode_seen(root, req, err);
    case PROTO_HISTORY:
        if (need_room(root, req, err))
            return -1;
        v = json_object_get(root, "before");
        if (v) {
            if (!json_is_integer(v) || json_integer_value(v) < 1) {
                proto_error_set(err, PROTO_E_BAD_REQUEST, "before",
                                "field 'before' must be a positive integer (a seq)");
                return -1;
            }
            req->has_before = true;
            req->before = json_integer_value(v);
        }
        return opt_int(root, "limit", 1, PROTO_HISTORY_LIMIT_MAX, &req->limit, err);
    case PROTO_JOIN:
    case PROTO_LEAVE:
    case PROTO_SAY:
        if (need_room(root, req, err))
            return -1;
        if (req->type != PROTO_SAY)
            return 0;
        break;
    case PROTO_WHISPER:
        req->to = need_string(root, "to", err);
        if (!req->to)
            return -1;
        break;
    default:
        return -1;
    }

    /* say and whisper carry text */
    req->text = need_string(root, "text", err);
    if (!req->text)
        return -1;
    if (!valid_text(req->text, lim->text_max, false)) {
        proto_error_set(err, PROTO_E_BAD_REQUEST, "text",
                        "field 'text' must be 1-%d characters and not only white space",
                        lim->text_max);
        return -1;
    }
    return 0;
}

int proto_decode(const char *buf, size_t len, const struct proto_limits *lim, struct proto_req *req,
                 struct proto_error *err)
{
    json_error_t jerr;
    json_t *root, *v;
    const char *type;
    int t;

    memset(req, 0, sizeof(*req));
    memset(err, 0, sizeof(*err));

    /* DECODE_ANY: a bare number or string is valid JSON, just not a request */
    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!root && json_error_code(&jerr) == json_error_numeric_overflow) {
        /* valid JSON, but a number no request can use */
        proto_error_set(err, PROTO_E_BAD_REQUEST, NULL,
                        "a number is out of range (integers must fit in 64 bits, other "
                        "numbers in a double: at most about 1.8e308)");
        return -1;
    }
    if (!root) {
        proto_error_set(err, PROTO_E_BAD_JSON, NULL, "invalid JSON at position %d: %s",
                        jerr.position, jerr.text);
        return -1;
    }
    if (!json_is_object(root)) {
        proto_error_set(err, PROTO_E_BAD_REQUEST, NULL, "a message must be a JSON object");
        goto fail;
    }

    v = json_object_get(root, "id");
    if (v) {
        if (!json_is_integer(v)) {
            proto_error_set(err, PROTO_E_BAD_REQUEST, "id", "field 'id' must be an integer");
            goto fail;
        }
        req->re.has_id = err->re.has_id = true;
        req->re.id = err->re.id = json_integer_value(v);
    }

    v = json_object_get(root, "type");
    if (!json_is_string(v)) {
        proto_error_set(err, PROTO_E_BAD_REQUEST, "type", "field 'type' must be a string");
        goto fail;
    }
    type = json_string_value(v);
    for (t = 0; t < PROTO_TYPE_COUNT; t++)
        if (!strcmp(type, type_names[t]))
            break;
    if (t == PROTO_TYPE_COUNT) {
        proto_error_set(err, PROTO_E_UNKNOWN_TYPE, "type", "unknown request type '%.*s'",
                        proto_clip(type, 40), type);
        goto fail;
    }
    req->type = (enum proto_type)t;
    if (decode_fields(root, lim, req, err))
        goto fail;

    req->root = root;
    return 0;

fail:
    json_decref(root);
    req->name = req->room = req->to = req->text = req->password = req->token = NULL;
    return -1;
}

void proto_req_free(struct proto_req *req)
{
    json_decref(req->root);
    req->root = NULL;
}

json_t *proto_re_json(struct proto_re re)
{
    return re.has_id ? json_integer(re.id) : json_null();
}

json_t *proto_ok_re(struct proto_re re)
{
    return json_pack("{s:s, s:o}", "type", "ok", "re", proto_re_json(re));
}

json_t *proto_ok(const struct proto_req *req)
{
    return proto_ok_re(req->re);
}

json_t *proto_error_json(const struct proto_error *err)
{
    json_t *o = json_pack("{s:s, s:o, s:s, s:s}", "type", "error", "re", proto_re_json(err->re),
                          "code", proto_err_code(err->code), "message", err->message);

    if (o && err->field && err->code == PROTO_E_BAD_REQUEST)
        json_object_set_new(o, "field", json_string(err->field));
    return o;
}

json_t *proto_welcome(const char *server_version, json_t *limits)
{
    return json_pack("{s:s, s:s, s:i, s:o}", "type", "welcome", "server", server_version,
                     "protocol", PROTO_VERSION, "limits", limits);
}

json_t *proto_room_obj(const char *id, const char *name, const char *game, int members, int max)
{
    return json_pack("{s:s, s:s, s:o, s:i, s:i}", "id", id, "name", name, "game",
                     game ? json_string(game) : json_null(), "members", members, "max", max);
}

json_t *proto_ev_chat(const char *room, const char *from, const char *text, int64_t ts,
                      uint64_t seq)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "type", "chat", "room", room, "from", from,
                     "text", text, "ts", (json_int_t)ts, "seq", (json_int_t)seq);
}

json_t *proto_ev_member(const char *type, const char *room, const char *name)
{
    return json_pack("{s:s, s:s, s:s}", "type", type, "room", room, "name", name);
}

json_t *proto_ev_whisper(const char *from, const char *text, int64_t ts)
{
    return json_pack("{s:s, s:s, s:s, s:I}", "type", "whisper", "from", from, "text", text, "ts",
                     (json_int_t)ts);
}
