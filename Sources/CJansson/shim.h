#ifndef WARDEN_CJANSSON_SHIM_H
#define WARDEN_CJANSSON_SHIM_H
#include <jansson.h>

// Swift does not import jansson's function-like macros; these inline wrappers expose what we use.
static inline int wj_typeof(const json_t *value) { return (int)json_typeof(value); }
static inline json_t *wj_incref(json_t *value) { return json_incref(value); }
static inline void wj_decref(json_t *value) { json_decref(value); }
static inline json_t *wj_boolean(int value) { return json_boolean(value); }
#endif
