/* The agent's live calls. See call_table.h. */
#include "call_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 65536

struct call_table {
    struct call *buckets[BUCKETS];
    size_t count;
};

static uint64_t hash(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

call_table *call_table_new(void) { return calloc(1, sizeof(call_table)); }

void call_table_free(call_table *t) {
    if (!t) return;
    for (size_t i = 0; i < BUCKETS; i++) {
        for (struct call *c = t->buckets[i], *next; c; c = next) {
            next = c->next;
            free(c);
        }
    }
    free(t);
}

struct call *call_table_find(call_table *t, const char *sip_call_id) {
    for (struct call *c = t->buckets[hash(sip_call_id) % BUCKETS]; c; c = c->next) {
        if (strcmp(c->sip_call_id, sip_call_id) == 0) return c;
    }
    return NULL;
}

/* Tollgate takes ids of 1-128 bytes: a longer SIP Call-ID is named by a digest of it and its beginning. */
static void tollgate_id(char *out, const char *sip_call_id) {
    if (strlen(sip_call_id) <= 128) {
        snprintf(out, 129, "%s", sip_call_id);
    } else {
        snprintf(out, 129, "h%016llx-%.100s", (unsigned long long)hash(sip_call_id), sip_call_id);
    }
}

struct call *call_table_add(call_table *t, const char *sip_call_id, const char *extension, const char *dialled) {
    struct call *existing = call_table_find(t, sip_call_id);
    if (existing) return existing;
    struct call *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    snprintf(c->sip_call_id, sizeof c->sip_call_id, "%s", sip_call_id);
    tollgate_id(c->call_id, sip_call_id);
    snprintf(c->extension, sizeof c->extension, "%s", extension);
    snprintf(c->dialled, sizeof c->dialled, "%s", dialled);
    c->state = CALL_AUTHORIZING;
    size_t b = hash(sip_call_id) % BUCKETS;
    c->next = t->buckets[b];
    t->buckets[b] = c;
    t->count++;
    return c;
}

struct call *call_table_find_tollgate(call_table *t, const char *call_id) {
    /* Ids up to 128 bytes are the SIP Call-ID itself: one lookup. */
    struct call *c = call_table_find(t, call_id);
    if (c && strcmp(c->call_id, call_id) == 0) return c;
    for (size_t i = 0; i < BUCKETS; i++) {
        for (c = t->buckets[i]; c; c = c->next) {
            if (strcmp(c->call_id, call_id) == 0) return c;
        }
    }
    return NULL;
}

void call_table_remove(call_table *t, struct call *call) {
    for (struct call **p = &t->buckets[hash(call->sip_call_id) % BUCKETS]; *p; p = &(*p)->next) {
        if (*p == call) {
            *p = call->next;
            t->count--;
            free(call);
            return;
        }
    }
}

size_t call_table_count(const call_table *t) { return t->count; }

void call_table_each(call_table *t, void (*visit)(struct call *call, void *context), void *context) {
    for (size_t i = 0; i < BUCKETS; i++) {
        for (struct call *c = t->buckets[i], *next; c; c = next) {
            next = c->next;
            visit(c, context);
        }
    }
}
