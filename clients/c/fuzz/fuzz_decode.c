/* libFuzzer target for what a PBX module does with the server's bytes: decode a frame's payload (tg_decode) and,
 * when it is a resync reply, walk its ids (tg_resync_reply_ids). Built with AddressSanitizer by `make fuzz`; a
 * crash, an out-of-bounds access, a leak or a broken rule below is a finding. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tollgate_client.h"

static void count_id(const char *call_id, int adopted, void *context) {
    (void)adopted;
    assert(call_id != NULL);
    *(size_t *)context += strlen(call_id) + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tg_message message;
    if (tg_decode(data, size, &message) == 0) {
        /* Whatever the server sends, the strings handed to the PBX are terminated within their buffers (a call id of
         * at most 128 bytes). */
        assert(memchr(message.call_id, 0, sizeof message.call_id) != NULL);
        assert(memchr(message.reason, 0, sizeof message.reason) != NULL);
        assert(memchr(message.status_message, 0, sizeof message.status_message) != NULL);
        assert(memchr(message.status_field, 0, sizeof message.status_field) != NULL);
        assert(message.kind >= TG_MSG_OTHER && message.kind <= TG_MSG_HEARTBEAT_REPLY);
    }
    size_t bytes = 0;
    if (tg_resync_reply_ids(data, size, count_id, &bytes) == 0) assert(bytes <= size * 2 + 1);
    return 0;
}
