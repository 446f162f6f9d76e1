#include "error.h"

#include <stdio.h>
#include <string.h>

static const char *const error_names[] = {
#define CS_ERROR_NAME(suffix, name, message) name,
    CS_ERROR_LIST(CS_ERROR_NAME)
#undef CS_ERROR_NAME
};

static const char *const error_messages[] = {
#define CS_ERROR_MESSAGE(suffix, name, message) message,
    CS_ERROR_LIST(CS_ERROR_MESSAGE)
#undef CS_ERROR_MESSAGE
};

const char *cs_error_name(cs_error code)
{
    if ((unsigned)code >= CS_ERR__COUNT) {
        return "Unknown";
    }
    return error_names[code];
}

const char *cs_error_message(cs_error code)
{
    if ((unsigned)code >= CS_ERR__COUNT) {
        return "unknown error";
    }
    return error_messages[code];
}

void cs_diag_clear(cs_diag *diag)
{
    if (diag) {
        memset(diag, 0, sizeof(*diag));
    }
}

cs_error cs_diag_setv(cs_diag *diag, cs_error code, const char *fmt, va_list ap)
{
    if (!diag) {
        return code;
    }
    cs_diag_clear(diag);
    diag->code = code;
    if (fmt) {
        vsnprintf(diag->message, sizeof(diag->message), fmt, ap);
    } else {
        snprintf(diag->message, sizeof(diag->message), "%s", cs_error_message(code));
    }
    return code;
}

cs_error cs_diag_set(cs_diag *diag, cs_error code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cs_diag_setv(diag, code, fmt, ap);
    va_end(ap);
    return code;
}

void cs_diag_set_field(cs_diag *diag, const char *field)
{
    if (diag && field) {
        snprintf(diag->field, sizeof(diag->field), "%s", field);
    }
}

void cs_diag_set_offset(cs_diag *diag, size_t offset)
{
    if (diag) {
        diag->offset = offset;
        diag->has_offset = 1;
    }
}
