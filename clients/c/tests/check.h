/* The single-threaded tests' CHECK: counts what passed and what failed, and names each failure with its line. */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>

static int passed, failed;

#define CHECK(condition, what)                                                   \
    do {                                                                         \
        if (condition) {                                                         \
            passed++;                                                            \
        } else {                                                                 \
            failed++;                                                            \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, what);       \
        }                                                                        \
    } while (0)

#endif
