#include "secrets_api.h"

#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"
#include "httpd.h"

cs_str em_signing_key_id(const char *authorization)
{
    const char *at = authorization ? strstr(authorization, "Credential=") : NULL;
    if (!at) {
        return CS_STR_NULL;
    }
    at += strlen("Credential=");
    return cs_str_make(at, strcspn(at, "/, "));
}

/* Errors as Secrets Manager sends them: 400 with {"__type", "Message"}. */
static enum MHD_Result reply_error(struct MHD_Connection *conn, const char *type,
                                   const char *message)
{
    cs_buf body;
    cs_buf_init(&body, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &body);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "__type");
    cs_json_write_string_c(&w, type);
    cs_json_write_key_c(&w, "Message");
    cs_json_write_string_c(&w, message);
    cs_json_write_object_end(&w);
    enum MHD_Result ok = cs_json_writer_finish(&w, NULL)
                             ? MHD_NO
                             : em_reply(conn, MHD_HTTP_BAD_REQUEST, "application/x-amz-json-1.1",
                                        body.data, body.len, NULL);
    cs_json_writer_clean_up(&w);
    cs_buf_clean_up(&body);
    return ok;
}

static enum MHD_Result reply_value(struct MHD_Connection *conn, const em_secret *s, cs_str value)
{
    cs_buf body;
    cs_buf_init(&body, 0);
    cs_json_writer w;
    cs_json_writer_init(&w, &body);
    cs_json_write_object_begin(&w);
    cs_json_write_key_c(&w, "ARN");
    cs_json_write_string(&w, s->arn);
    cs_json_write_key_c(&w, "Name");
    cs_json_write_string(&w, s->name);
    cs_json_write_key_c(&w, "VersionId");
    cs_json_write_string_c(&w, "00000000-0000-4000-8000-000000000001");
    cs_json_write_key_c(&w, "SecretString");
    cs_json_write_string(&w, value);
    cs_json_write_key_c(&w, "VersionStages");
    cs_json_write_array_begin(&w);
    cs_json_write_string_c(&w, "AWSCURRENT");
    cs_json_write_array_end(&w);
    cs_json_write_object_end(&w);
    enum MHD_Result ok =
        cs_json_writer_finish(&w, NULL)
            ? reply_error(conn, "InternalServiceError", "the secret could not be written")
            : em_reply(conn, MHD_HTTP_OK, "application/x-amz-json-1.1", body.data, body.len, NULL);
    cs_json_writer_clean_up(&w);
    cs_buf_clean_up(&body);
    return ok;
}

static cs_str secret_id(cs_arena *arena, cs_str body)
{
    cs_json *req = NULL;
    cs_diag diag;
    if (cs_json_parse(arena, body, &req, &diag) || req->type != CS_JSON_OBJECT) {
        return CS_STR_NULL;
    }
    const cs_json *id = cs_json_object_get(req, CS_STR_LIT("SecretId"));
    return id && id->type == CS_JSON_STRING ? id->text : CS_STR_NULL;
}

static enum MHD_Result get_secret_value(const em_secrets_api *api, struct MHD_Connection *conn,
                                        cs_str caller_key, cs_str id)
{
    char message[640];
    const em_function *caller = em_template_function(api->template, caller_key);
    const em_secret *s = em_template_secret(api->template, id);
    if (!caller) {
        snprintf(message, sizeof(message),
                 "The security token included in the request is invalid: access key '%.*s' is "
                 "not a function of the template",
                 CS_STR_FMT(caller_key));
        return reply_error(conn, "UnrecognizedClientException", message);
    }
    if (!s) {
        snprintf(message, sizeof(message),
                 "Secrets Manager can't find the specified secret (%.*s is not a "
                 "AWS::SecretsManager::Secret of the template).",
                 CS_STR_FMT(id));
        return reply_error(conn, "ResourceNotFoundException", message);
    }
    if (!em_function_may_read(caller, s)) {
        snprintf(message, sizeof(message),
                 "User: arn:aws:sts::000000000000:assumed-role/%.*sRole/%.*s is not authorized "
                 "to perform: secretsmanager:GetSecretValue on resource: %.*s because no "
                 "identity-based policy allows the secretsmanager:GetSecretValue action",
                 CS_STR_FMT(caller->logical_id), CS_STR_FMT(caller->name), CS_STR_FMT(id));
        return reply_error(conn, "AccessDeniedException", message);
    }
    cs_str value = api->values[s - api->template->secrets];
    if (!value.ptr) {
        snprintf(message, sizeof(message),
                 "Secrets Manager can't find the specified secret value for staging label: "
                 "AWSCURRENT (the emulator was given no --secret %.*s=VALUE)",
                 CS_STR_FMT(s->logical_id));
        return reply_error(conn, "ResourceNotFoundException", message);
    }
    return reply_value(conn, s, value);
}

enum MHD_Result em_secrets_api_handle(const em_secrets_api *api, struct MHD_Connection *conn,
                                      const char *target, const char *authorization, cs_str body)
{
    if (strcmp(target, "secretsmanager.GetSecretValue") != 0) {
        char message[200];
        snprintf(message, sizeof(message), "%.120s is not emulated; only GetSecretValue is",
                 target);
        return reply_error(conn, "InvalidRequestException", message);
    }
    cs_arena arena;
    cs_arena_init(&arena, 0, 1024 * 1024);
    cs_str id = secret_id(&arena, body);
    enum MHD_Result ok =
        id.len ? get_secret_value(api, conn, em_signing_key_id(authorization), id)
               : reply_error(conn, "InvalidParameterException",
                             "The request body is not a JSON object with a SecretId string.");
    cs_arena_clean_up(&arena);
    return ok;
}
