/*
 * Loads the OpenCL library with dlopen (the lovasz_cl* wrappers that call it are in shim_wrappers.c).
 * See include/lovasz_opencl.h. Nothing here references an OpenCL symbol at link time:
 * the pointer types come from the prototypes in <CL/cl.h> through __typeof__.
 */
#include "lovasz_opencl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim_functions.h"

/* The pointers declared in shim_functions.h. */
#define LOVASZ_CL_DEFINE_POINTER(name) __typeof__(name) *p_##name;
LOVASZ_CL_FUNCTIONS(LOVASZ_CL_DEFINE_POINTER)
#undef LOVASZ_CL_DEFINE_POINTER

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int loaded;
static char load_error[2048];
static char library_name[1024];

static void append_error(const char *text) {
    size_t used = strlen(load_error);
    if (used > 0 && used + 2 < sizeof load_error) {
        strcat(load_error, "; ");
        used += 2;
    }
    if (used + 1 < sizeof load_error) {
        strncat(load_error, text ? text : "unknown dlopen error", sizeof load_error - used - 1);
    }
}

static void *open_library(void) {
    const char *requested = getenv("LOVASZ_OPENCL_LIBRARY");
    if (requested && requested[0] != '\0') {
        void *handle = dlopen(requested, RTLD_NOW | RTLD_LOCAL);
        if (handle) {
            snprintf(library_name, sizeof library_name, "%s", requested);
        } else {
            append_error(dlerror());
        }
        return handle;
    }
#if defined(__APPLE__)
    static const char *const candidates[] = {"/System/Library/Frameworks/OpenCL.framework/OpenCL"};
#else
    static const char *const candidates[] = {"libOpenCL.so.1", "libOpenCL.so"};
#endif
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        void *handle = dlopen(candidates[i], RTLD_NOW | RTLD_LOCAL);
        if (handle) {
            snprintf(library_name, sizeof library_name, "%s", candidates[i]);
            return handle;
        }
        append_error(dlerror());
    }
    return NULL;
}

static void load_library(void) {
    void *handle = open_library();
    if (!handle) return;
    int missing = 0;
#define LOVASZ_CL_RESOLVE(name)                                                              \
    p_##name = (__typeof__(name) *)dlsym(handle, #name);                                     \
    if (!p_##name && !missing) {                                                             \
        missing = 1;                                                                         \
        char text[1280];                                                                     \
        snprintf(text, sizeof text, "%s has no function %s (OpenCL 1.2 is required)",       \
                 library_name, #name);                                                       \
        append_error(text);                                                                  \
    }
    LOVASZ_CL_FUNCTIONS(LOVASZ_CL_RESOLVE)
#undef LOVASZ_CL_RESOLVE
    if (missing) {
#define LOVASZ_CL_CLEAR(name) p_##name = NULL;
        LOVASZ_CL_FUNCTIONS(LOVASZ_CL_CLEAR)
#undef LOVASZ_CL_CLEAR
        library_name[0] = '\0';
        dlclose(handle);
        return;
    }
    loaded = 1;
}

int lovasz_cl_load(void) {
    pthread_once(&load_once, load_library);
    return loaded;
}

const char *lovasz_cl_load_error(void) {
    return lovasz_cl_load() ? NULL : load_error;
}

const char *lovasz_cl_library_name(void) {
    return lovasz_cl_load() ? library_name : NULL;
}
