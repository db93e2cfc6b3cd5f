/* Built against an installed copy of the library (make install + pkg-config) by run-tests.sh: one heartbeat. */
#include <stdio.h>
#include <stdlib.h>

#include <tollgate_client.h>

int main(void) {
    tg_status status;
    tg_client *c = tg_connect("127.0.0.1", atoi(getenv("TOLLGATE_PORT")), "c-installed", getenv("TOLLGATE_SECRET"),
                              NULL, &status);
    if (!c) {
        fprintf(stderr, "installed copy: %s\n", status.message);
        return 1;
    }
    int64_t now = 0;
    int rc = tg_heartbeat(c, &now, &status);
    tg_close(c);
    printf("installed copy: heartbeat %s\n", rc == TG_OK && now > 0 ? "ok" : "failed");
    return rc == TG_OK && now > 0 ? 0 : 1;
}
