/* Allocation-free JSON object walker (see scan.h). Load tester thread only (pure functions). */
#include "scan.h"

#include <string.h>

static size_t skip_ws(const char *b, size_t i, size_t n)
{
    while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r'))
        i++;
    return i;
}

/* Index just past the string literal starting at b[i] == '"', or 0 when unterminated. */
static size_t skip_string(const char *b, size_t i, size_t n)
{
    for (i++; i < n; i++) {
        if (b[i] == '\\')
            i++;
        else if (b[i] == '"')
            return i + 1;
    }
    return 0;
}

/* Index just past the value starting at b[i], or 0 on malformed input. */
static size_t skip_value(const char *b, size_t i, size_t n)
{
    int depth = 0;

    if (i >= n)
        return 0;
    if (b[i] == '"')
        return skip_string(b, i, n);
    if (b[i] != '{' && b[i] != '[') {
        while (i < n && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\n' &&
               b[i] != '\r' && b[i] != '\t')
            i++;
        return i;
    }
    for (; i < n; i++) {
        switch (b[i]) {
        case '"':
            i = skip_string(b, i, n);
            if (!i)
                return 0;
            i--;
            break;
        case '{':
        case '[':
            depth++;
            break;
        case '}':
        case ']':
            if (--depth == 0)
                return i + 1;
            break;
        default:
            break;
        }
    }
    return 0;
}

int scan_object(const char *b, size_t n, struct member *out, int max)
{
    size_t i = skip_ws(b, 0, n), k, v;
    int count = 0;

    if (i >= n || b[i] != '{')
        return -1;
    i = skip_ws(b, i + 1, n);
    if (i < n && b[i] == '}')
        return 0;
    for (;;) {
        if (i >= n || b[i] != '"')
            return -1;
        k = i;
        i = skip_string(b, i, n);
        if (!i)
            return -1;
        i = skip_ws(b, i, n);
        if (i >= n || b[i] != ':')
            return -1;
        v = skip_ws(b, i + 1, n);
        i = skip_value(b, v, n);
        if (!i || i == v)
            return -1;
        if (count < max) {
            out[count].key = (struct span){b + k + 1, 0};
            out[count].key.n = (size_t)(skip_string(b, k, n) - k - 2);
            out[count].val = (struct span){b + v, i - v};
        }
        count++;
        i = skip_ws(b, i, n);
        if (i < n && b[i] == ',') {
            i = skip_ws(b, i + 1, n);
            continue;
        }
        if (i < n && b[i] == '}')
            return count;
        return -1;
    }
}

int scan_array_len(struct span v)
{
    size_t i = skip_ws(v.p, 0, v.n), e;
    int count = 0;

    if (i >= v.n || v.p[i] != '[')
        return -1;
    i = skip_ws(v.p, i + 1, v.n);
    if (i < v.n && v.p[i] == ']')
        return 0;
    for (;;) {
        e = skip_value(v.p, i, v.n);
        if (!e || e == i)
            return -1;
        count++;
        i = skip_ws(v.p, e, v.n);
        if (i < v.n && v.p[i] == ',') {
            i = skip_ws(v.p, i + 1, v.n);
            continue;
        }
        return i < v.n && v.p[i] == ']' ? count : -1;
    }
}

const struct member *scan_find(const struct member *m, int n, const char *key)
{
    size_t klen = strlen(key);

    for (int i = 0; i < n; i++)
        if (m[i].key.n == klen && !memcmp(m[i].key.p, key, klen))
            return &m[i];
    return NULL;
}

bool scan_str(struct span v, struct span *out)
{
    if (v.n < 2 || v.p[0] != '"' || v.p[v.n - 1] != '"')
        return false;
    *out = (struct span){v.p + 1, v.n - 2};
    return true;
}

bool scan_str_eq(struct span v, const char *s)
{
    struct span in;
    size_t len = strlen(s);

    return scan_str(v, &in) && in.n == len && !memcmp(in.p, s, len);
}

bool scan_int(struct span v, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    uint64_t acc = 0;

    if (!v.n)
        return false;
    if (v.p[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i >= v.n)
        return false;
    for (; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return false;
        if (acc > (UINT64_MAX - 9) / 10)
            return false;
        acc = acc * 10 + (uint64_t)(v.p[i] - '0');
    }
    if (acc > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
        return false;
    *out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    return true;
}
