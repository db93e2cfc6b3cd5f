/* A binary min-heap of call timers (planned hang-ups, grant deadlines); stale entries are skipped by the caller
 * through the call's generation, so nothing is ever removed from the middle. */
#ifndef LOADGEN_TIMERS_H
#define LOADGEN_TIMERS_H

#include <stdint.h>

typedef struct {
    int64_t at;
    uint32_t slot, gen;
    uint8_t kind;
} timer_entry;

typedef struct {
    timer_entry *entries;
    uint32_t count, capacity;
} timer_heap;

int timer_init(timer_heap *h, uint32_t capacity);
void timer_push(timer_heap *h, int64_t at, uint32_t slot, uint32_t gen, uint8_t kind);
/* Pops the earliest entry due at or before now into *out; 0 when none is due. */
int timer_pop_due(timer_heap *h, int64_t now, timer_entry *out);
/* The earliest deadline, or INT64_MAX. */
int64_t timer_next(const timer_heap *h);

#endif
