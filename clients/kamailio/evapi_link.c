/* The agent's Kamailio side: evapi events in, commands out (netstring JSON). See agent.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "agent.h"
#include "net.h"

void evapi_connect(struct agent *a) {
    a->evapi_fd = net_connect_start(a->options.evapi_host, a->options.evapi_port);
    if (a->evapi_fd < 0) {
        a->evapi_retry_mono = agent_mono_ms() + a->options.reconnect_ms;
        return;
    }
    a->evapi_state = LINK_CONNECTING;
}

void evapi_disconnected(struct agent *a, const char *why) {
    if (a->evapi_fd >= 0) close(a->evapi_fd);
    if (a->evapi_state == LINK_READY) agent_log(a, 0, "evapi: disconnected (%s); reconnecting", why);
    a->evapi_fd = -1;
    a->evapi_state = LINK_DOWN;
    a->evapi_retry_mono = agent_mono_ms() + a->options.reconnect_ms;
    netstring_reset(&a->evapi_in);
}

int evapi_send(struct agent *a, json_t *message) {
    char *text = json_dumps(message, JSON_COMPACT);
    json_decref(message);
    if (!text) return -1;
    if (a->evapi_state != LINK_READY) {
        free(text);
        return -1;
    }
    size_t length = strlen(text);
    char prefix[24];
    size_t prefix_length = netstring_prefix(prefix, length);
    char *frame = malloc(prefix_length + length + 1);
    int rc = -1;
    if (frame) {
        memcpy(frame, prefix, prefix_length);
        memcpy(frame + prefix_length, text, length);
        frame[prefix_length + length] = ',';
        rc = net_write_all(a->evapi_fd, frame, prefix_length + length + 1);
        free(frame);
    }
    if (a->options.verbose) agent_log(a, 1, "-> kamailio %s", text);
    free(text);
    if (rc < 0) evapi_disconnected(a, "write failed");
    return rc;
}

int evapi_auth_reply(struct agent *a, long long tr_index, long long tr_label, int allow, int code,
                     const char *reason, long long max_duration) {
    return evapi_send(a, json_pack("{s:s, s:I, s:I, s:i, s:i, s:s, s:I}", "event", "AUTH_REPLY", "tr_index",
                            (json_int_t)tr_index, "tr_label", (json_int_t)tr_label, "allow", allow, "code", code,
                            "reason", reason, "max_duration", (json_int_t)max_duration));
}

void evapi_terminate(struct agent *a, struct call *call, const char *why) {
    if (!call->has_dialog || call->terminating) return;
    call->terminating = 1;
    a->terminated++;
    agent_log(a, 1, "terminate %s (%s)", call->sip_call_id, why);
    evapi_send(a, json_pack("{s:s, s:I, s:I, s:s, s:s}", "event", "TERMINATE", "h_entry", (json_int_t)call->h_entry,
                            "h_id", (json_int_t)call->h_id, "call_id", call->sip_call_id, "reason", why));
}

void evapi_set_timeout(struct agent *a, struct call *call, long long seconds) {
    if (!call->has_dialog) return;
    evapi_send(a, json_pack("{s:s, s:I, s:I, s:s, s:I}", "event", "SET_TIMEOUT", "h_entry", (json_int_t)call->h_entry,
                            "h_id", (json_int_t)call->h_id, "call_id", call->sip_call_id, "timeout",
                            (json_int_t)seconds));
}

static const char *string_of(json_t *object, const char *key) {
    const char *value = json_string_value(json_object_get(object, key));
    return value ? value : "";
}

static long long integer_of(json_t *object, const char *key, long long otherwise) {
    json_t *value = json_object_get(object, key);
    if (json_is_integer(value)) return json_integer_value(value);
    if (json_is_real(value)) return (long long)json_real_value(value);
    if (json_is_string(value)) {
        char *end;
        long long parsed = strtoll(json_string_value(value), &end, 10);
        if (*end == '\0' && end != json_string_value(value)) return parsed;
    }
    return otherwise;
}

static int64_t wall_ms(void) {
    struct timeval now;
    gettimeofday(&now, NULL);
    return (int64_t)now.tv_sec * 1000 + now.tv_usec / 1000;
}

/* The monotonic instant of a wall-clock timestamp Kamailio gave in seconds and microseconds. */
static int64_t mono_of_wall(long long seconds, long long micros) {
    if (seconds <= 0) return agent_mono_ms();
    int64_t ago = wall_ms() - ((int64_t)seconds * 1000 + micros / 1000);
    return agent_mono_ms() - (ago > 0 ? ago : 0);
}

static void on_auth_request(struct agent *a, json_t *event) {
    long long tr_index = integer_of(event, "tr_index", -1), tr_label = integer_of(event, "tr_label", -1);
    const char *sip_call_id = string_of(event, "call_id");
    if (!*sip_call_id || tr_index < 0 || tr_label < 0) {
        agent_log(a, 0, "evapi: AUTH_REQUEST without call_id or transaction: ignored");
        return;
    }
    struct call *call = call_table_add(a->calls, sip_call_id, string_of(event, "caller"), string_of(event, "callee"));
    if (!call) {
        evapi_auth_reply(a, tr_index, tr_label, 0, 500, "Billing agent out of memory", 0);
        return;
    }
    if (tollgate_usable(a)) {
        tollgate_authorize(a, call, tr_index, tr_label);
        return;
    }
    a->refused_unavailable++;
    if (a->options.fail_open) {
        call->state = CALL_ALLOWED;
        evapi_auth_reply(a, tr_index, tr_label, 1, 200, "OK", a->options.fail_open_seconds);
        agent_log(a, 0, "Tollgate unreachable: %s allowed unbilled for at most %d s (fail open)", sip_call_id,
                  a->options.fail_open_seconds);
    } else {
        evapi_auth_reply(a, tr_index, tr_label, 0, 503, "Billing unavailable", 0);
        call_table_remove(a->calls, call);
    }
}

static void on_call_answer(struct agent *a, json_t *event) {
    const char *sip_call_id = string_of(event, "call_id");
    struct call *call = call_table_find(a->calls, sip_call_id);
    if (!call) {
        /* Authorized before this agent started (the rebuild had not listed it yet): take it up from here. */
        call = call_table_add(a->calls, sip_call_id, string_of(event, "caller"), string_of(event, "callee"));
        if (!call) return;
    }
    if (call->state == CALL_ENDED || call->state == CALL_ANSWERED) return;
    call->has_dialog = 1;
    call->h_entry = (unsigned)integer_of(event, "h_entry", 0);
    call->h_id = (unsigned)integer_of(event, "h_id", 0);
    call->answered_mono = mono_of_wall(integer_of(event, "answer_s", 0), integer_of(event, "answer_us", 0));
    call->state = CALL_ANSWERED;
    tollgate_answered(a, call);
}

/* CALL_END and CALL_FAILED: Kamailio may report an end twice (a BYE racing a TERMINATE): the first counts. */
static void on_call_end(struct agent *a, json_t *event, int failed) {
    struct call *call = call_table_find(a->calls, string_of(event, "call_id"));
    if (!call || call->state == CALL_ENDED) return;
    int answered = call->state == CALL_ANSWERED;
    long long duration = integer_of(event, "duration_ms", 0);
    call->billable_ms = (!failed && answered && duration > 0) ? duration : 0;
    if (failed) {
        snprintf(call->cause, sizeof call->cause, "FAILED %lld", integer_of(event, "code", 0));
    } else {
        const char *by = string_of(event, "ended_by");
        snprintf(call->cause, sizeof call->cause, "%s", *by ? by : "NORMAL_CLEARING");
    }
    call->state = CALL_ENDED;
    a->ended++;
    tollgate_ended(a, call);
}

/* The dialogs Kamailio holds (dlg.list through jsonrpc, relayed by our configuration), after this agent (re)
 * connected: answered calls this agent does not know are taken up, then resynced to Tollgate. */
static void on_dialogs(struct agent *a, json_t *event) {
    json_error_t error;
    const char *body = string_of(event, "body");
    json_t *reply = json_loads(body, 0, &error);
    json_t *list = json_object_get(reply, "result");
    if (!json_is_array(list)) {
        agent_log(a, 0, "evapi: the dialog list could not be read (%s)", error.text);
        json_decref(reply);
        return;
    }
    a->dialog_generation++;
    size_t index, taken = 0, answered = 0;
    json_t *dialog;
    json_array_foreach(list, index, dialog) {
        /* 3 confirmed without ACK, 4 confirmed: answered calls. Earlier ones are still in their transaction. */
        long long state = integer_of(dialog, "state", 0);
        if (state != 3 && state != 4) continue;
        answered++;
        const char *sip_call_id = string_of(dialog, "call-id");
        const char *caller = "", *callee = "";
        long long answer_s = 0, answer_us = 0;
        json_t *variables = json_object_get(dialog, "variables"), *variable;
        size_t k;
        json_array_foreach(variables, k, variable) {
            const char *name;
            json_t *value;
            json_object_foreach(variable, name, value) {
                const char *text = json_string_value(value);
                if (!text) continue;
                if (strcmp(name, "caller") == 0) caller = text;
                else if (strcmp(name, "callee") == 0) callee = text;
                else if (strcmp(name, "answer_s") == 0) answer_s = atoll(text);
                else if (strcmp(name, "answer_us") == 0) answer_us = atoll(text);
            }
        }
        if (!*sip_call_id || !*caller) continue;
        struct call *call = call_table_find(a->calls, sip_call_id);
        if (!call) {
            call = call_table_add(a->calls, sip_call_id, caller, callee);
            if (!call) continue;
            call->state = CALL_ANSWERED;
            call->answered_mono = mono_of_wall(answer_s ? answer_s : integer_of(dialog, "start_ts", 0), answer_us);
            taken++;
        }
        call->has_dialog = 1;
        call->h_entry = (unsigned)integer_of(dialog, "h_entry", 0);
        call->h_id = (unsigned)integer_of(dialog, "h_id", 0);
        call->seen_generation = a->dialog_generation;
    }
    json_decref(reply);
    agent_log(a, 0, "evapi: Kamailio holds %zu answered dialog(s); %zu taken up from its list", answered, taken);
    if (taken > 0) tollgate_resync_when_ready(a);
}

static void dispatch(struct agent *a, const char *text, size_t length) {
    json_error_t error;
    json_t *event = json_loadb(text, length, 0, &error);
    if (!json_is_object(event)) {
        agent_log(a, 0, "evapi: not a JSON object: %.200s", text);
        json_decref(event);
        return;
    }
    if (a->options.verbose) agent_log(a, 1, "<- kamailio %.300s", text);
    const char *name = string_of(event, "event");
    if (strcmp(name, "AUTH_REQUEST") == 0) {
        on_auth_request(a, event);
    } else if (strcmp(name, "CALL_ANSWER") == 0) {
        on_call_answer(a, event);
    } else if (strcmp(name, "CALL_END") == 0) {
        on_call_end(a, event, 0);
    } else if (strcmp(name, "CALL_FAILED") == 0) {
        on_call_end(a, event, 1);
    } else if (strcmp(name, "DIALOGS") == 0) {
        on_dialogs(a, event);
    }
    /* TERMINATE_RESULT and anything newer: nothing to do. */
    json_decref(event);
}

void evapi_readable(struct agent *a) {
    if (a->evapi_state == LINK_CONNECTING) {
        if (net_connected(a->evapi_fd) < 0) {
            close(a->evapi_fd);
            a->evapi_fd = -1;
            a->evapi_state = LINK_DOWN;
            a->evapi_retry_mono = agent_mono_ms() + a->options.reconnect_ms;
            return;
        }
        a->evapi_state = LINK_READY;
        agent_log(a, 0, "evapi: connected to Kamailio at %s:%d", a->options.evapi_host, a->options.evapi_port);
        /* After a restart of either side: what Kamailio holds now. */
        evapi_send(a, json_pack("{s:s}", "event", "LIST_DIALOGS"));
        return;
    }
    if (netstring_reserve(&a->evapi_in, 64 * 1024) < 0) {
        evapi_disconnected(a, "out of memory");
        return;
    }
    ssize_t n = recv(a->evapi_fd, a->evapi_in.bytes + a->evapi_in.end, a->evapi_in.capacity - a->evapi_in.end,
                     MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        evapi_disconnected(a, n == 0 ? "closed by Kamailio" : strerror(errno));
        return;
    }
    if (n < 0) return;
    net_quickack(a->evapi_fd);
    a->evapi_in.end += (size_t)n;
    char *payload;
    size_t length;
    int rc;
    while ((rc = netstring_next(&a->evapi_in, &payload, &length)) == 1) {
        dispatch(a, payload, length);
        if (a->evapi_state != LINK_READY) return;
    }
    if (rc < 0) evapi_disconnected(a, "not a netstring stream");
}
