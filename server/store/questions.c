/* The question bank's SQL: loading the `questions` table and importing packs (see
 * questions.h). Runs at startup on the main thread, from the `import` command, or on a worker
 * (an upload to /admin/import), always with the caller's own connection. */
#include "questions.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "proto.h"

#define QB_CATEGORY_MAX 40  /* characters */
#define QB_TEXT_MAX     300 /* characters */
#define QB_CHOICE_MAX   100 /* characters */
#define QB_LANG_MAX     35  /* characters of a BCP 47 tag */

int questions_load(struct qbank *b, sqlite3 *db, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    int rc;

    qbank_destroy(b);
    if (sqlite3_prepare_v2(db, "SELECT id, category, text, choices, correct, lang FROM questions",
                           -1, &st, NULL) != SQLITE_OK)
        goto fail;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *choices = json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL);
        int bad =
            !json_is_array(choices) || json_array_size(choices) != QUIZ_CHOICES ||
            qbank_add(b, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
                      (const char *)sqlite3_column_text(st, 2), choices, sqlite3_column_int(st, 4),
                      (const char *)sqlite3_column_text(st, 5));
        json_decref(choices);
        if (bad) {
            snprintf(err, errlen, "question %lld is damaged or out of memory",
                     (long long)sqlite3_column_int64(st, 0));
            sqlite3_finalize(st);
            return -1;
        }
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return 0;
fail:
    snprintf(err, errlen, "loading questions: %s", sqlite3_errmsg(db));
    return -1;
}

/* A string field of 1..max characters, or an error naming it. */
static const char *text_field(json_t *o, const char *field, size_t max, char *why, size_t wlen)
{
    json_t *v = json_object_get(o, field);
    const char *s;

    if (!json_is_string(v)) {
        snprintf(why, wlen, "field '%s' must be a string", field);
        return NULL;
    }
    s = json_string_value(v);
    if (!*s || proto_utf8_len(s) > max || strlen(s) != json_string_length(v)) {
        snprintf(why, wlen, "field '%s' must be 1-%zu characters", field, max);
        return NULL;
    }
    return s;
}

/* A language tag in the simple BCP 47 shape players' browsers understand: a primary subtag of
 * 2-3 letters, then subtags of 2-8 letters or digits, each after a '-' ("en", "pt-BR",
 * "sr-Latn-RS"). Stricter than the RFC (no single-letter extensions, no grandfathered tags) so
 * that what a pack carries is what the page can show. */
static int lang_valid(const char *s)
{
    size_t n = 0, total = strlen(s);
    const char *p = s;

    if (total > QB_LANG_MAX)
        return 0;
    while (isalpha((unsigned char)*p) && (unsigned char)*p < 0x80)
        p++, n++;
    if (n < 2 || n > 3)
        return 0;
    while (*p) {
        if (*p++ != '-')
            return 0;
        for (n = 0; isalnum((unsigned char)*p) && (unsigned char)*p < 0x80; p++)
            n++;
        if (n < 2 || n > 8)
            return 0;
    }
    return 1;
}

/* Checks one record; returns 0, or -1 with the reason in `why`. */
static int check_record(json_t *o, char *why, size_t wlen)
{
    json_t *choices, *correct, *lang;

    if (!json_is_object(o)) {
        snprintf(why, wlen, "not a JSON object");
        return -1;
    }
    if (!text_field(o, "category", QB_CATEGORY_MAX, why, wlen) ||
        !text_field(o, "text", QB_TEXT_MAX, why, wlen))
        return -1;
    choices = json_object_get(o, "choices");
    if (!json_is_array(choices) || json_array_size(choices) != QUIZ_CHOICES) {
        snprintf(why, wlen, "field 'choices' must be an array of %d strings", QUIZ_CHOICES);
        return -1;
    }
    for (size_t i = 0; i < QUIZ_CHOICES; i++) {
        json_t *c = json_array_get(choices, i);
        if (!json_is_string(c) || !*json_string_value(c) ||
            proto_utf8_len(json_string_value(c)) > QB_CHOICE_MAX) {
            snprintf(why, wlen, "field 'choices' item %zu must be 1-%d characters", i,
                     QB_CHOICE_MAX);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(json_string_value(c), json_string_value(json_array_get(choices, j)))) {
                snprintf(why, wlen, "field 'choices' items %zu and %zu are the same", j, i);
                return -1;
            }
    }
    correct = json_object_get(o, "correct");
    if (!json_is_integer(correct) || json_integer_value(correct) < 0 ||
        json_integer_value(correct) >= QUIZ_CHOICES) {
        snprintf(why, wlen, "field 'correct' must be an integer from 0 to %d", QUIZ_CHOICES - 1);
        return -1;
    }
    lang = json_object_get(o, "lang");
    if (lang &&
        (!json_is_string(lang) || strlen(json_string_value(lang)) != json_string_length(lang) ||
         !lang_valid(json_string_value(lang)))) {
        snprintf(why, wlen,
                 "field 'lang' must be a language tag such as \"en\" or \"pt-BR\" (at most %d "
                 "characters)",
                 QB_LANG_MAX);
        return -1;
    }
    return 0;
}

int questions_import_stream(sqlite3 *db, FILE *f, const char *label, const char *pack, int *added,
                            struct qbank *added_to, char *err, size_t errlen)
{
    struct qbank fresh = {0};
    sqlite3_stmt *st = NULL;
    char *line = NULL, why[160];
    size_t cap = 0;
    long lineno = 0;
    ssize_t len;

    *added = 0;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO questions (pack, category, text, choices, correct, lang) "
                           "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (pack, text) DO NOTHING",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", label, sqlite3_errmsg(db));
        goto fail;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        json_error_t jerr;
        json_t *o;
        const char *lang;
        char *choices;
        int rc;

        lineno++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (!len)
            continue; /* a blank line */
        o = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES, &jerr);
        if (!o) {
            snprintf(err, errlen, "%s line %ld: invalid JSON: %s", label, lineno, jerr.text);
            goto fail;
        }
        if (check_record(o, why, sizeof(why))) {
            snprintf(err, errlen, "%s line %ld: %s", label, lineno, why);
            json_decref(o);
            goto fail;
        }
        lang = json_string_value(json_object_get(o, "lang")); /* NULL when absent */
        choices = json_dumps(json_object_get(o, "choices"), JSON_COMPACT);
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, pack, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, json_string_value(json_object_get(o, "category")), -1,
                          SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, json_string_value(json_object_get(o, "text")), -1,
                          SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, choices, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 5, (int)json_integer_value(json_object_get(o, "correct")));
        if (lang)
            sqlite3_bind_text(st, 6, lang, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, 6);
        rc = sqlite3_step(st);
        free(choices);
        if (rc == SQLITE_DONE && sqlite3_changes(db)) {
            (*added)++;
            if (added_to && qbank_add(&fresh, sqlite3_last_insert_rowid(db),
                                      json_string_value(json_object_get(o, "category")),
                                      json_string_value(json_object_get(o, "text")),
                                      json_object_get(o, "choices"),
                                      (int)json_integer_value(json_object_get(o, "correct")), lang))
                rc = SQLITE_NOMEM;
        }
        json_decref(o);
        if (rc != SQLITE_DONE) {
            snprintf(err, errlen, "%s line %ld: %s", label, lineno,
                     rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db));
            goto fail;
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: commit: %s", label, sqlite3_errmsg(db));
        goto fail;
    }
    free(line);
    if (added_to && qbank_take(added_to, &fresh)) {
        qbank_destroy(&fresh); /* stored, but not loaded: they appear after a restart */
        snprintf(err, errlen, "%s: out of memory", label);
        return -1;
    }
    return 0;
fail:
    sqlite3_finalize(st);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    free(line);
    qbank_destroy(&fresh);
    *added = 0;
    return -1;
}

/* xorshift64*: the draw needs spread, not secrecy */
