/* Frame building and decoding for event-loop programs. See tollgate_client.h. */
#include "tollgate_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tollgate/pbx/v1/pbx.pb-c.h"

typedef Tollgate__Pbx__V1__Envelope Envelope;

static size_t frame(uint8_t *out, size_t capacity, Envelope *envelope) {
    size_t size = tollgate__pbx__v1__envelope__get_packed_size(envelope);
    if (size + 4 > capacity) return 0;
    out[0] = (uint8_t)(size >> 24);
    out[1] = (uint8_t)(size >> 16);
    out[2] = (uint8_t)(size >> 8);
    out[3] = (uint8_t)size;
    tollgate__pbx__v1__envelope__pack(envelope, out + 4);
    return size + 4;
}

size_t tg_frame_hello(uint8_t *out, size_t capacity, uint64_t correlation_id, const char *node_id, const char *secret) {
    Envelope e = TOLLGATE__PBX__V1__ENVELOPE__INIT;
    Tollgate__Pbx__V1__Hello body = TOLLGATE__PBX__V1__HELLO__INIT;
    body.protocol_major = 1;
    body.node_id = (char *)node_id;
    body.secret = (char *)secret;
    body.software = "tollgate-c-client/1.0";
    e.correlation_id = correlation_id;
    e.body_case = TOLLGATE__PBX__V1__ENVELOPE__BODY_HELLO;
    e.hello = &body;
    return frame(out, capacity, &e);
}

size_t tg_frame_authorize(uint8_t *out, size_t capacity, uint64_t correlation_id, const char *call_id,
                          const char *extension, const char *dialled) {
    Envelope e = TOLLGATE__PBX__V1__ENVELOPE__INIT;
    Tollgate__Pbx__V1__AuthorizeRequest body = TOLLGATE__PBX__V1__AUTHORIZE_REQUEST__INIT;
    body.call_id = (char *)call_id;
    body.extension_number = (char *)extension;
    body.dialled = (char *)dialled;
    e.correlation_id = correlation_id;
    e.body_case = TOLLGATE__PBX__V1__ENVELOPE__BODY_AUTHORIZE;
    e.authorize = &body;
    return frame(out, capacity, &e);
}

size_t tg_frame_answered(uint8_t *out, size_t capacity, uint64_t correlation_id, const char *call_id) {
    Envelope e = TOLLGATE__PBX__V1__ENVELOPE__INIT;
    Tollgate__Pbx__V1__AnsweredRequest body = TOLLGATE__PBX__V1__ANSWERED_REQUEST__INIT;
    body.call_id = (char *)call_id;
    e.correlation_id = correlation_id;
    e.body_case = TOLLGATE__PBX__V1__ENVELOPE__BODY_ANSWERED;
    e.answered = &body;
    return frame(out, capacity, &e);
}

size_t tg_frame_ended(uint8_t *out, size_t capacity, uint64_t correlation_id, const char *call_id,
                      uint64_t billable_ms, const char *cause) {
    return tg_frame_ended_call(out, capacity, correlation_id, call_id, billable_ms, cause, NULL, NULL);
}

size_t tg_frame_ended_call(uint8_t *out, size_t capacity, uint64_t correlation_id, const char *call_id,
                           uint64_t billable_ms, const char *cause, const char *extension, const char *dialled) {
    Envelope e = TOLLGATE__PBX__V1__ENVELOPE__INIT;
    Tollgate__Pbx__V1__EndedRequest body = TOLLGATE__PBX__V1__ENDED_REQUEST__INIT;
    body.call_id = (char *)call_id;
    body.billable_ms = billable_ms;
    body.cause = (char *)(cause ? cause : "");
    if (extension) body.extension_number = (char *)extension;
    if (dialled) body.dialled = (char *)dialled;
    e.correlation_id = correlation_id;
    e.body_case = TOLLGATE__PBX__V1__ENVELOPE__BODY_ENDED;
    e.ended = &body;
    return frame(out, capacity, &e);
}

size_t tg_frame_ack(uint8_t *out, size_t capacity, uint64_t correlation_id) {
    Envelope e = TOLLGATE__PBX__V1__ENVELOPE__INIT;
    Tollgate__Pbx__V1__Ack body = TOLLGATE__PBX__V1__ACK__INIT;
    e.correlation_id = correlation_id;
    e.body_case = TOLLGATE__PBX__V1__ENVELOPE__BODY_ACK;
    e.ack = &body;
    return frame(out, capacity, &e);
}

size_t tg_frame_heartbeat(uint8_t *out, size_t capacity, uint64_t correlation_id) {
    Envelope e = TOLLGATE__PBX__V1__ENVELOPE__INIT;
    Tollgate__Pbx__V1__HeartbeatRequest body = TOLLGATE__PBX__V1__HEARTBEAT_REQUEST__INIT;
    e.correlation_id = correlation_id;
    e.body_case = TOLLGATE__PBX__V1__ENVELOPE__BODY_HEARTBEAT;
    e.heartbeat = &body;
    return frame(out, capacity, &e);
}

size_t tg_frame_extension_sync(uint8_t *out, size_t capacity, uint64_t correlation_id, const char *const *numbers,
                               size_t count) {
    /* On the heap: a sync of thousands of extensions would not fit on a PBX thread's stack. */
    Tollgate__Pbx__V1__ExtensionInfo *infos = calloc(count ? count : 1, sizeof *infos);
    Tollgate__Pbx__V1__ExtensionInfo **pointers = calloc(count ? count : 1, sizeof *pointers);
    if (!infos || !pointers) {
        free(infos);
        free(pointers);
        return 0;
    }
    for (size_t i = 0; i < count; i++) {
        tollgate__pbx__v1__extension_info__init(&infos[i]);
        infos[i].number = (char *)numbers[i];
        infos[i].user_name = "";
        pointers[i] = &infos[i];
    }
    Envelope e = TOLLGATE__PBX__V1__ENVELOPE__INIT;
    Tollgate__Pbx__V1__ExtensionSyncRequest body = TOLLGATE__PBX__V1__EXTENSION_SYNC_REQUEST__INIT;
    body.n_extensions = count;
    body.extensions = pointers;
    e.correlation_id = correlation_id;
    e.body_case = TOLLGATE__PBX__V1__ENVELOPE__BODY_EXTENSION_SYNC;
    e.extension_sync = &body;
    size_t n = frame(out, capacity, &e);
    free(pointers);
    free(infos);
    return n;
}

size_t tg_frame_resync(uint8_t *out, size_t capacity, uint64_t correlation_id, const tg_live_call *calls,
                       size_t count) {
    /* On the heap: a caller may pass more calls than a frame holds (refused below), too many for the stack. */
    Tollgate__Pbx__V1__LiveCall *live = calloc(count ? count : 1, sizeof *live);
    Tollgate__Pbx__V1__LiveCall **pointers = calloc(count ? count : 1, sizeof *pointers);
    if (!live || !pointers) {
        free(live);
        free(pointers);
        return 0;
    }
    for (size_t i = 0; i < count; i++) {
        tollgate__pbx__v1__live_call__init(&live[i]);
        live[i].call_id = (char *)calls[i].call_id;
        live[i].extension_number = (char *)calls[i].extension;
        live[i].dialled = (char *)(calls[i].dialled ? calls[i].dialled : "");
        live[i].answered = calls[i].answered ? 1 : 0;
        live[i].answered_ms_ago = calls[i].answered ? calls[i].answered_ms_ago : 0;
        pointers[i] = &live[i];
    }
    Envelope e = TOLLGATE__PBX__V1__ENVELOPE__INIT;
    Tollgate__Pbx__V1__ResyncRequest body = TOLLGATE__PBX__V1__RESYNC_REQUEST__INIT;
    body.n_calls = count;
    body.calls = pointers;
    e.correlation_id = correlation_id;
    e.body_case = TOLLGATE__PBX__V1__ENVELOPE__BODY_RESYNC;
    e.resync = &body;
    size_t n = frame(out, capacity, &e);
    free(pointers);
    free(live);
    return n;
}

int tg_resync_reply_ids(const uint8_t *payload, size_t length,
                        void (*each)(const char *call_id, int adopted, void *context), void *context) {
    Envelope *e = tollgate__pbx__v1__envelope__unpack(NULL, length, payload);
    if (!e) return -1;
    if (e->body_case != TOLLGATE__PBX__V1__ENVELOPE__BODY_RESYNC_REPLY) {
        tollgate__pbx__v1__envelope__free_unpacked(e, NULL);
        return -1;
    }
    Tollgate__Pbx__V1__ResyncReply *r = e->resync_reply;
    for (size_t i = 0; i < r->n_adopted_call_ids; i++) each(r->adopted_call_ids[i], 1, context);
    for (size_t i = 0; i < r->n_unknown_call_ids; i++) each(r->unknown_call_ids[i], 0, context);
    tollgate__pbx__v1__envelope__free_unpacked(e, NULL);
    return 0;
}

static void copy_id(tg_message *out, const char *id) { snprintf(out->call_id, sizeof out->call_id, "%s", id ? id : ""); }

int tg_decode(const uint8_t *payload, size_t length, tg_message *out) {
    Envelope *e = tollgate__pbx__v1__envelope__unpack(NULL, length, payload);
    if (!e) return -1;
    memset(out, 0, sizeof *out);
    out->correlation_id = e->correlation_id;
    out->is_reply = e->status != NULL;
    out->status_code = e->status ? (int)e->status->code : 0;
    if (e->status) {
        snprintf(out->status_message, sizeof out->status_message, "%s", e->status->message ? e->status->message : "");
        snprintf(out->status_field, sizeof out->status_field, "%s", e->status->field ? e->status->field : "");
    }
    switch (e->body_case) {
    case TOLLGATE__PBX__V1__ENVELOPE__BODY_HELLO_REPLY:
        out->kind = TG_MSG_HELLO_REPLY;
        break;
    case TOLLGATE__PBX__V1__ENVELOPE__BODY_AUTHORIZE_REPLY: {
        Tollgate__Pbx__V1__AuthorizeReply *r = e->authorize_reply;
        out->kind = TG_MSG_AUTHORIZE_REPLY;
        out->authorization.allowed = r->decision == TOLLGATE__PBX__V1__DECISION__DECISION_ALLOW;
        out->authorization.deny_reason = (int)r->deny_reason;
        out->authorization.unbilled = r->unbilled;
        out->authorization.grant_unlimited = r->grant_unlimited;
        out->authorization.grant_ms = (int64_t)r->grant_ms;
        out->authorization.rate_id = r->rate ? r->rate->rate_id : 0;
        break;
    }
    case TOLLGATE__PBX__V1__ENVELOPE__BODY_ENDED_REPLY: {
        Tollgate__Pbx__V1__EndedReply *r = e->ended_reply;
        out->kind = TG_MSG_ENDED_REPLY;
        out->settlement.settled_now = r->settled_now;
        out->settlement.result = (int)r->result;
        out->settlement.billed_ms = (int64_t)r->billed_ms;
        out->settlement.cost_micros = r->cost_micros;
        out->settlement.balance_after_micros = r->balance_after_micros;
        break;
    }
    case TOLLGATE__PBX__V1__ENVELOPE__BODY_CUTOFF:
        out->kind = TG_MSG_CUTOFF;
        copy_id(out, e->cutoff->call_id);
        out->boundary_ms = e->cutoff->boundary_ms;
        out->server_time_ms = e->cutoff->server_time_ms;
        break;
    case TOLLGATE__PBX__V1__ENVELOPE__BODY_WARNING:
        out->kind = TG_MSG_WARNING;
        copy_id(out, e->warning->call_id);
        out->seconds_left = e->warning->seconds_left;
        out->cutoff_at_ms = e->warning->cutoff_at_ms;
        break;
    case TOLLGATE__PBX__V1__ENVELOPE__BODY_GRANT_RENEWAL:
        out->kind = TG_MSG_GRANT_RENEWAL;
        copy_id(out, e->grant_renewal->call_id);
        out->deadline_ms = e->grant_renewal->deadline_ms;
        out->server_time_ms = e->grant_renewal->server_time_ms;
        out->authorization.grant_unlimited = e->grant_renewal->unlimited;
        break;
    case TOLLGATE__PBX__V1__ENVELOPE__BODY_RESYNC_REPLY:
        out->kind = TG_MSG_RESYNC_REPLY;
        break;
    case TOLLGATE__PBX__V1__ENVELOPE__BODY_HANGUP:
        out->kind = TG_MSG_HANGUP;
        copy_id(out, e->hangup->call_id);
        snprintf(out->reason, sizeof out->reason, "%s", e->hangup->reason ? e->hangup->reason : "");
        break;
    case TOLLGATE__PBX__V1__ENVELOPE__BODY_HEARTBEAT_REPLY:
        out->kind = TG_MSG_HEARTBEAT_REPLY;
        out->server_time_ms = e->heartbeat_reply->server_time_ms;
        break;
    default:
        out->kind = TG_MSG_OTHER;
        break;
    }
    tollgate__pbx__v1__envelope__free_unpacked(e, NULL);
    return 0;
}
