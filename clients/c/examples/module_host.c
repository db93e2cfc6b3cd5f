/*
 * Loads the example PBX module with dlopen(), as a PBX loads its modules, and runs one call through it against a
 * real `tollgate serve` (run by run-tests.sh). Usage: module_host PATH/TO/pbx_module.so (TOLLGATE_PORT,
 * TOLLGATE_SECRET in the environment). Exit status 0 when the call was billed its tariff's price.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    const char *port = getenv("TOLLGATE_PORT"), *secret = getenv("TOLLGATE_SECRET");
    if (argc != 2 || !port || !secret) {
        fprintf(stderr, "usage: module_host PATH/TO/pbx_module.so (TOLLGATE_PORT, TOLLGATE_SECRET set)\n");
        return 2;
    }
    void *module = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!module) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    int (*load)(const char *, int, const char *, const char *) = (int (*)(const char *, int, const char *, const char *))dlsym(module, "example_module_load");
    long long (*call)(const char *, const char *, const char *, int) = (long long (*)(const char *, const char *, const char *, int))dlsym(module, "example_module_call");
    void (*unload)(void) = (void (*)(void))dlsym(module, "example_module_unload");
    /* The module's own symbols only: the library it links keeps protobuf-c's code to itself. */
    int leaked = dlsym(module, "tollgate__pbx__v1__envelope__pack") != NULL;
    if (!load || !call || !unload) {
        fprintf(stderr, "the module lacks its entry points\n");
        return 1;
    }
    if (load("127.0.0.1", atoi(port), "example-module", secret) != 0) return 1;
    /* 2.5 s billed per second at 0.02: 3 units, 0.06. */
    long long cost = call("module-1", "8103", "0123", 2500);
    unload();
    dlclose(module);
    printf("module call: cost %lld micro-units%s\n", cost, leaked ? "; protobuf-c symbols visible through the module" : "");
    return cost == 60000 && !leaked ? 0 : 1;
}
