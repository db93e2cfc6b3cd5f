#include "timers.h"

#include <stdlib.h>

int timer_init(timer_heap *h, uint32_t capacity) {
    h->count = 0;
    h->capacity = capacity ? capacity : 1024;
    h->entries = malloc(sizeof *h->entries * h->capacity);
    return h->entries ? 0 : -1;
}

void timer_push(timer_heap *h, int64_t at, uint32_t slot, uint32_t gen, uint8_t kind) {
    if (h->count == h->capacity) {
        timer_entry *grown = realloc(h->entries, sizeof *grown * h->capacity * 2);
        if (!grown) return;
        h->entries = grown;
        h->capacity *= 2;
    }
    uint32_t i = h->count++;
    timer_entry e = {.at = at, .slot = slot, .gen = gen, .kind = kind};
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (h->entries[parent].at <= at) break;
        h->entries[i] = h->entries[parent];
        i = parent;
    }
    h->entries[i] = e;
}

int timer_pop_due(timer_heap *h, int64_t now, timer_entry *out) {
    if (h->count == 0 || h->entries[0].at > now) return 0;
    *out = h->entries[0];
    timer_entry last = h->entries[--h->count];
    uint32_t i = 0;
    for (;;) {
        uint32_t child = 2 * i + 1;
        if (child >= h->count) break;
        if (child + 1 < h->count && h->entries[child + 1].at < h->entries[child].at) child++;
        if (h->entries[child].at >= last.at) break;
        h->entries[i] = h->entries[child];
        i = child;
    }
    if (h->count > 0) h->entries[i] = last;
    return 1;
}

int64_t timer_next(const timer_heap *h) { return h->count ? h->entries[0].at : INT64_MAX; }
