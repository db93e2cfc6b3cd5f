// Declarations only: the driver itself comes from compiler-rt's libFuzzer, linked by -sanitize=fuzzer.
#include "CLibFuzzer.h"
