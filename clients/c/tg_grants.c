/* The client's grant table. See tg_grants.h. */
#include "tg_grants.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOT_ANSWERED 0
#define UNLIMITED (-1)

struct node {
    struct node *next;
    int64_t grant_ms;
    int64_t deadline;      /* NOT_ANSWERED, UNLIMITED, or the monotonic ms the grant runs out */
    unsigned heap_refs;    /* heap entries naming this node: it is freed once removed and unreferenced */
    int removed;
    char call_id[129];
};

/* A deadline as it was armed; stale once the node's deadline moved or the node was removed. */
struct entry {
    int64_t deadline;
    struct node *node;
};

struct tg_grants {
    struct node **buckets;
    size_t bucket_count;
    size_t count;
    size_t max;
    struct entry *heap;
    size_t heap_count;
    size_t heap_capacity;
};

int64_t tg_mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t hash(const char *id) {
    uint64_t h = 1469598103934665603ULL;
    for (; *id; id++) h = (h ^ (unsigned char)*id) * 1099511628211ULL;
    return h;
}

tg_grants *tg_grants_new(size_t max_grants) {
    tg_grants *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->bucket_count = 64;
    g->buckets = calloc(g->bucket_count, sizeof *g->buckets);
    g->max = max_grants;
    if (!g->buckets) {
        free(g);
        return NULL;
    }
    return g;
}

void tg_grants_free(tg_grants *g) {
    if (!g) return;
    /* Removed calls live on only in the heap: each is freed with the last entry naming it. */
    for (size_t i = 0; i < g->heap_count; i++) {
        struct node *n = g->heap[i].node;
        if (n->removed && --n->heap_refs == 0) free(n);
    }
    for (size_t i = 0; i < g->bucket_count; i++) {
        for (struct node *n = g->buckets[i], *next; n; n = next) {
            next = n->next;
            free(n);
        }
    }
    free(g->heap);
    free(g->buckets);
    free(g);
}

static struct node **slot(tg_grants *g, const char *call_id) {
    struct node **p = &g->buckets[hash(call_id) & (g->bucket_count - 1)];
    while (*p && strcmp((*p)->call_id, call_id) != 0) p = &(*p)->next;
    return p;
}

static void grow_buckets(tg_grants *g) {
    size_t count = g->bucket_count * 2;
    struct node **buckets = calloc(count, sizeof *buckets);
    if (!buckets) return; /* longer chains, still correct */
    for (size_t i = 0; i < g->bucket_count; i++) {
        for (struct node *n = g->buckets[i], *next; n; n = next) {
            next = n->next;
            struct node **head = &buckets[hash(n->call_id) & (count - 1)];
            n->next = *head;
            *head = n;
        }
    }
    free(g->buckets);
    g->buckets = buckets;
    g->bucket_count = count;
}

static int reserve_heap(tg_grants *g, size_t needed) {
    if (needed <= g->heap_capacity) return 0;
    size_t capacity = g->heap_capacity ? g->heap_capacity : 64;
    while (capacity < needed) capacity *= 2;
    struct entry *heap = realloc(g->heap, capacity * sizeof *heap);
    if (!heap) return -1;
    g->heap = heap;
    g->heap_capacity = capacity;
    return 0;
}

static void swap(struct entry *a, struct entry *b) {
    struct entry t = *a;
    *a = *b;
    *b = t;
}

/* Requires room (reserve_heap). */
static void push(tg_grants *g, struct node *n) {
    size_t i = g->heap_count++;
    g->heap[i] = (struct entry){n->deadline, n};
    n->heap_refs++;
    while (i > 0 && g->heap[(i - 1) / 2].deadline > g->heap[i].deadline) {
        swap(&g->heap[(i - 1) / 2], &g->heap[i]);
        i = (i - 1) / 2;
    }
}

static struct entry pop(tg_grants *g) {
    struct entry top = g->heap[0];
    g->heap[0] = g->heap[--g->heap_count];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < g->heap_count && g->heap[l].deadline < g->heap[m].deadline) m = l;
        if (r < g->heap_count && g->heap[r].deadline < g->heap[m].deadline) m = r;
        if (m == i) break;
        swap(&g->heap[i], &g->heap[m]);
        i = m;
    }
    top.node->heap_refs--;
    return top;
}

int tg_grants_put(tg_grants *g, const char *call_id, int64_t grant_ms) {
    struct node **p = slot(g, call_id);
    if (*p) {
        (*p)->grant_ms = grant_ms;
        return 0;
    }
    if (g->max && g->count >= g->max) return -1;
    /* Room for this call's first deadline now, so that arming it at the answer cannot fail. */
    if (reserve_heap(g, g->heap_count + g->count + 1) < 0) return -1;
    struct node *n = calloc(1, sizeof *n);
    if (!n) return -1;
    snprintf(n->call_id, sizeof n->call_id, "%s", call_id);
    n->grant_ms = grant_ms;
    n->deadline = NOT_ANSWERED;
    *p = n;
    g->count++;
    if (g->count * 4 > g->bucket_count * 3) grow_buckets(g);
    return 0;
}

void tg_grants_answered(tg_grants *g, const char *call_id, int64_t now_mono) {
    struct node *n = *slot(g, call_id);
    if (!n || n->deadline != NOT_ANSWERED) return;
    n->deadline = now_mono + n->grant_ms;
    if (n->deadline == NOT_ANSWERED || n->deadline == UNLIMITED) n->deadline = now_mono + 1;
    if (reserve_heap(g, g->heap_count + 1) == 0) push(g, n);
}

int tg_grants_renewed(tg_grants *g, const char *call_id, int64_t deadline_mono, int unlimited) {
    struct node *n = *slot(g, call_id);
    if (!n) return -1;
    if (unlimited) {
        n->deadline = UNLIMITED;
        return 0;
    }
    if (deadline_mono == NOT_ANSWERED || deadline_mono == UNLIMITED) deadline_mono = 1;
    /* Out of memory for the new deadline: the old one, earlier, stays in force (the call is cut early, never
     * late). */
    if (reserve_heap(g, g->heap_count + 1) < 0) return 0;
    n->deadline = deadline_mono;
    push(g, n);
    return 0;
}

static void unlink_node(tg_grants *g, struct node **p) {
    struct node *n = *p;
    *p = n->next;
    g->count--;
    n->removed = 1;
    if (n->heap_refs == 0) free(n);
}

void tg_grants_remove(tg_grants *g, const char *call_id) {
    struct node **p = slot(g, call_id);
    if (*p) unlink_node(g, p);
}

size_t tg_grants_expire(tg_grants *g, int64_t now_mono, void (*expired)(const char *call_id, void *context),
                        void *context) {
    size_t count = 0;
    while (g->heap_count > 0 && g->heap[0].deadline <= now_mono) {
        struct entry e = pop(g);
        struct node *n = e.node;
        if (n->removed) {
            if (n->heap_refs == 0) free(n);
            continue;
        }
        if (n->deadline != e.deadline) continue; /* renewed (or made unlimited) since */
        char id[sizeof n->call_id];
        memcpy(id, n->call_id, sizeof id);
        unlink_node(g, slot(g, id));
        count++;
        if (expired) expired(id, context);
    }
    return count;
}

int64_t tg_grants_next_deadline(tg_grants *g) {
    /* Stale entries on top only make the caller wake early, then find nothing due. */
    return g->heap_count > 0 ? g->heap[0].deadline : INT64_MAX;
}

int tg_grants_holds(tg_grants *g, const char *call_id) { return *slot(g, call_id) != NULL; }

size_t tg_grants_count(const tg_grants *g) { return g->count; }
