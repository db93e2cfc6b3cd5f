/* Unit tests of the netstring buffer (evapi's framing), with AddressSanitizer. */
#include <stdio.h>
#include <string.h>

#include "netstring.h"

static int passed, failed;
#define CHECK(condition, what)                                                             \
    do {                                                                                   \
        if (condition) passed++;                                                           \
        else {                                                                             \
            failed++;                                                                      \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, what);                 \
        }                                                                                  \
    } while (0)

static void feed(netstring_buffer *b, const char *bytes) {
    size_t n = strlen(bytes);
    netstring_reserve(b, n);
    memcpy(b->bytes + b->end, bytes, n);
    b->end += n;
}

int main(void) {
    netstring_buffer b = {0};
    char *payload;
    size_t length;
    feed(&b, "5:hello,3:a");
    CHECK(netstring_next(&b, &payload, &length) == 1 && length == 5 && strcmp(payload, "hello") == 0, "a whole one");
    CHECK(netstring_next(&b, &payload, &length) == 0, "half of the next waits");
    feed(&b, "bc,0:,");
    CHECK(netstring_next(&b, &payload, &length) == 1 && strcmp(payload, "abc") == 0, "completed by the next read");
    CHECK(netstring_next(&b, &payload, &length) == 1 && length == 0 && payload[0] == '\0', "an empty one");
    CHECK(netstring_next(&b, &payload, &length) == 0, "nothing left");
    feed(&b, "3:abcd");
    CHECK(netstring_next(&b, &payload, &length) == -1, "no comma where it must be: broken");
    netstring_reset(&b);
    feed(&b, "x:");
    CHECK(netstring_next(&b, &payload, &length) == -1, "no length: broken");
    netstring_reset(&b);
    feed(&b, "99999999999:");
    CHECK(netstring_next(&b, &payload, &length) == -1, "a length beyond the limit: broken");
    netstring_reset(&b);
    feed(&b, "123456789");
    CHECK(netstring_next(&b, &payload, &length) == -1, "digits that never end: broken");
    char prefix[24];
    CHECK(netstring_prefix(prefix, 42) == 3 && strcmp(prefix, "42:") == 0, "the prefix of a payload");
    netstring_free(&b);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
