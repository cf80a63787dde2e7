/*
 * lovasz.h - the C interface of swift-lovasz (library: libLovaszC).
 *
 * The Lovasz-Softmax loss, the Lovasz hinge and the Lovasz-Sigmoid loss (Berman, Rannen Triki,
 * Blaschko, CVPR 2018) and their gradients, computed through OpenCL on a GPU when one is usable
 * and on the CPU otherwise, with the same numbers.
 *
 *     lovasz_engine *engine;
 *     char message[256];
 *     if (lovasz_engine_create(LOVASZ_BACKEND_AUTO, &engine, message, sizeof message) != LOVASZ_OK) {
 *         fprintf(stderr, "%s\n", message);
 *         return 1;
 *     }
 *     int64_t shape[4] = {8, 21, 64, 64};          // scores [B, C, H, W], labels [B, H, W]
 *     lovasz_options options;
 *     lovasz_options_init(&options);
 *     options.has_ignore_index = 1;
 *     options.ignore_index = 255;
 *     double loss;
 *     int status = lovasz_compute(engine, LOVASZ_LOSS_SOFTMAX, scores, shape, 4,
 *                                 labels, LOVASZ_LABELS_UINT8, &options,
 *                                 gradient, &loss, message, sizeof message);
 *     ...
 *     lovasz_engine_destroy(engine);
 *
 * Every function may be called from many threads at once, on one engine or several. No function
 * keeps a pointer it was given after it returns. Memory passed in is owned by the caller.
 */
#ifndef LOVASZ_H
#define LOVASZ_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this interface; lovasz_api_version() returns the library's. */
#define LOVASZ_API_VERSION 1

/* Status codes returned by lovasz_engine_create and lovasz_compute. */
#define LOVASZ_OK 0
/* An unexpected failure inside the library (the message says what). */
#define LOVASZ_ERROR_INTERNAL 1
/* Bad input: a null pointer, a bad shape, a non-finite score, a label out of range, a bad option.
   The message names the problem and, for scores and labels, the first bad position. */
#define LOVASZ_ERROR_BAD_INPUT 2
/* OpenCL was asked for and cannot be used, or failed while computing on an OpenCL-only engine. */
#define LOVASZ_ERROR_OPENCL 3
/* A buffer could not be allocated (the message says how many bytes); the engine stays usable. */
#define LOVASZ_ERROR_OUT_OF_MEMORY 4

/* Backends (lovasz_engine_create, lovasz_engine_backend). */
/* A GPU through OpenCL when one is usable, otherwise the CPU (see lovasz_engine_fallback_reason). */
#define LOVASZ_BACKEND_AUTO 0
/* Always the CPU. */
#define LOVASZ_BACKEND_CPU 1
/* Always OpenCL, on any device (a CPU OpenCL device included); LOVASZ_ERROR_OPENCL otherwise. */
#define LOVASZ_BACKEND_OPENCL 2

/* Losses (lovasz_compute). */
/* Multi-class Lovasz-Softmax: scores [B, C, ...], labels [B, ...] in 0..C-1. */
#define LOVASZ_LOSS_SOFTMAX 0
/* Binary Lovasz hinge: logits [B, ...] (or [B, 1, ...]), labels 0 or 1. */
#define LOVASZ_LOSS_HINGE 1
/* Binary Lovasz-Sigmoid: scores [B, ...] (or [B, 1, ...]), labels 0 or 1. */
#define LOVASZ_LOSS_SIGMOID 2

/* Label element types (lovasz_compute). */
#define LOVASZ_LABELS_INT32 0
#define LOVASZ_LABELS_INT64 1
#define LOVASZ_LABELS_UINT8 2

/* Score element types (lovasz_compute_typed, lovasz_compute_device_typed). 16-bit scores are passed as their bit patterns
   (uint16_t each): IEEE 754 binary16, or bfloat16 (the high 16 bits of a binary32). */
#define LOVASZ_SCORES_FLOAT32 0
#define LOVASZ_SCORES_FLOAT16 1
#define LOVASZ_SCORES_BFLOAT16 2

/* lovasz_options.scores_are */
/* Unnormalised scores: the loss applies the softmax (or sigmoid); the gradient is with respect
   to them. The hinge always takes logits. */
#define LOVASZ_SCORES_LOGITS 0
/* Probabilities: each in [0, 1] (otherwise LOVASZ_ERROR_BAD_INPUT naming the first one); the
   gradient is with respect to the probabilities. Softmax probabilities that do not sum to one
   over the classes are used as given, neither rejected nor normalised: each class's errors are
   1 - p and p, and the gradient is with respect to each probability on its own. */
#define LOVASZ_SCORES_PROBABILITIES 1

/* lovasz_options.classes (Lovasz-Softmax only; the binary losses take PRESENT). */
/* Classes with at least one non-ignored pixel in the group. */
#define LOVASZ_CLASSES_PRESENT 0
/* Every class 0..C-1; an absent class contributes its largest error. */
#define LOVASZ_CLASSES_ALL 1
/* The classes in class_list, always counted, even when absent. */
#define LOVASZ_CLASSES_LIST 2

/* lovasz_options.per_image */
/* The loss's default: per batch for softmax, per image for hinge and sigmoid. */
#define LOVASZ_PER_IMAGE_DEFAULT (-1)

/* An engine: created once, used from any number of threads, destroyed once. Opaque. */
typedef struct lovasz_engine lovasz_engine;

/* The options of one loss computation (docs/DESIGN.md section 3). Start from lovasz_options_init:
   a zeroed struct means per batch (per_image = 0) for every loss. */
typedef struct lovasz_options {
    /* LOVASZ_SCORES_LOGITS (default) or LOVASZ_SCORES_PROBABILITIES. */
    int32_t scores_are;
    /* LOVASZ_CLASSES_PRESENT (default), LOVASZ_CLASSES_ALL or LOVASZ_CLASSES_LIST. */
    int32_t classes;
    /* LOVASZ_CLASSES_LIST: class_count distinct class indices in 0..C-1. Ignored otherwise. */
    const int32_t *class_list;
    int32_t class_count;
    /* 0 (no weights, the default) or C: the number of floats at class_weights. */
    int32_t class_weight_count;
    /* NULL, or one finite non-negative weight per class: the loss is then the weighted mean
       of the counted class losses. Softmax only. */
    const float *class_weights;
    /* LOVASZ_PER_IMAGE_DEFAULT (-1), 0 (one group per batch) or 1 (one group per image; the
       loss is the mean over images, an image whose pixels are all ignored counting as 0). */
    int32_t per_image;
    /* Nonzero: pixels labelled ignore_index are removed (no loss, zero gradient). */
    int32_t has_ignore_index;
    int64_t ignore_index;
} lovasz_options;

/* The interface version the library implements (LOVASZ_API_VERSION of its header). */
int32_t lovasz_api_version(void);

/* Sets every option to its default: logits, present classes, no weights, the loss's per-image
   default, no ignore index. Does nothing when options is NULL. */
void lovasz_options_init(lovasz_options *options);

/* Creates an engine for backend LOVASZ_BACKEND_AUTO, _CPU or _OPENCL into *engine.
   Returns LOVASZ_OK, LOVASZ_ERROR_OPENCL (OPENCL asked for and unusable; the reason is in
   message) or LOVASZ_ERROR_BAD_INPUT (unknown backend, engine NULL). On failure *engine is NULL.
   message may be NULL; otherwise it receives a NUL-terminated line, truncated to message_size. */
int32_t lovasz_engine_create(int32_t backend, lovasz_engine **engine,
                             char *message, size_t message_size);

/* As lovasz_engine_create, on the OpenCL device with index device (as `lovasz devices` prints
   them; for example a process's local rank in distributed training), whatever its kind, instead
   of the automatic pick and LOVASZ_OPENCL_DEVICE; device -1 picks as lovasz_engine_create does.
   An index that names no usable device gives LOVASZ_ERROR_OPENCL for LOVASZ_BACKEND_OPENCL and
   the CPU (with the reason as fallback reason) for LOVASZ_BACKEND_AUTO; LOVASZ_BACKEND_CPU
   ignores it. A device below -1 is LOVASZ_ERROR_BAD_INPUT. */
int32_t lovasz_engine_create_on_device(int32_t backend, int32_t device, lovasz_engine **engine,
                                       char *message, size_t message_size);

/* Destroys an engine. NULL is allowed. No other call may be using the engine. */
void lovasz_engine_destroy(lovasz_engine *engine);

/* The backend the engine computes with: LOVASZ_BACKEND_CPU or LOVASZ_BACKEND_OPENCL
   (-1 for NULL). */
int32_t lovasz_engine_backend(const lovasz_engine *engine);

/* Copies the device the engine computes on, in words, into buffer (NUL-terminated, truncated
   to size; buffer may be NULL when size is 0). Returns the length of the full text in bytes,
   without the NUL, like snprintf. */
size_t lovasz_engine_device(const lovasz_engine *engine, char *buffer, size_t size);

/* Copies why OpenCL is not used (auto chose the CPU, or a call fell back to the CPU after an
   OpenCL failure) into buffer, as lovasz_engine_device. Returns 0 and writes "" when OpenCL is
   used or the CPU was asked for. */
size_t lovasz_engine_fallback_reason(const lovasz_engine *engine, char *buffer, size_t size);

/* Computes a loss and, when gradient is not NULL, d loss / d scores.
 *
 *   loss        LOVASZ_LOSS_SOFTMAX, _HINGE or _SIGMOID.
 *   scores      float32 scores in C order: the product of shape[0..rank-1] of them, all finite.
 *   shape       rank dimensions (rank >= 1; >= 2 for softmax), none negative:
 *               [B, C, ...] for softmax, [B, ...] or [B, 1, ...] for hinge and sigmoid.
 *   labels      one label per pixel (B times the spatial dimensions: the scores' shape without
 *               the class axis for softmax, the scores' shape for the binary losses), of
 *               label_type LOVASZ_LABELS_INT32, _INT64 or _UINT8, in 0..C-1 (binary: 0 or 1)
 *               or equal to the ignore index.
 *   options     NULL for the loss's defaults.
 *   gradient    NULL, or room for as many floats as scores: receives d loss / d scores (with
 *               respect to the logits when scores_are is LOVASZ_SCORES_LOGITS). It may be
 *               the scores' own buffer (in place) or overlap it, for every loss and backend:
 *               the scores are then copied first (one more buffer of their size).
 *   loss_out    NULL, or receives the loss.
 *   message     NULL, or receives a NUL-terminated one-line error (truncated to message_size);
 *               "" on success.
 *
 * Returns LOVASZ_OK, LOVASZ_ERROR_BAD_INPUT, LOVASZ_ERROR_OPENCL, LOVASZ_ERROR_OUT_OF_MEMORY
 * or LOVASZ_ERROR_INTERNAL. On failure *loss_out and the gradient are unspecified (the scores
 * are never written, unless the gradient is their buffer). */
int32_t lovasz_compute(lovasz_engine *engine, int32_t loss,
                       const float *scores, const int64_t *shape, int32_t rank,
                       const void *labels, int32_t label_type,
                       const lovasz_options *options,
                       float *gradient, double *loss_out,
                       char *message, size_t message_size);

/* As lovasz_compute, with scores of score_type (LOVASZ_SCORES_FLOAT32, _FLOAT16 or _BFLOAT16).
 *
 * 16-bit scores are taken as they are (on OpenCL they are uploaded at half the bytes) and widened
 * to float32 exactly; the computation is then that of their float32 values, so the results equal
 * lovasz_compute on the widened scores.
 *
 *   gradient                NULL, or room for as many elements as scores: float32 when
 *                           gradient_in_score_type is 0, otherwise of score_type, rounded once
 *                           (to nearest, ties to even) from the float32 gradient.
 *
 * Returns as lovasz_compute; LOVASZ_ERROR_BAD_INPUT for an unknown score_type. */
int32_t lovasz_compute_typed(lovasz_engine *engine, int32_t loss,
                             const void *scores, int32_t score_type,
                             const int64_t *shape, int32_t rank,
                             const void *labels, int32_t label_type,
                             const lovasz_options *options,
                             void *gradient, int32_t gradient_in_score_type, double *loss_out,
                             char *message, size_t message_size);

/* ---- Zero-copy from OpenCL code ------------------------------------------------------------
 *
 * Training code whose tensors live in OpenCL hands the library its command queue and its
 * buffers; the loss and the gradient are computed in place, with no host copy of the scores,
 * labels or gradient (only the class counts of every group, a few bytes, and the loss are read
 * back). OpenCL objects are passed as void * (cl_command_queue, cl_mem, cl_event), so this
 * header needs no OpenCL headers; they may come from any ICD loader (pyopencl's own included).
 *
 *     lovasz_engine *engine;
 *     lovasz_engine_create_opencl(queue, &engine, message, sizeof message);
 *     lovasz_compute_device(engine, LOVASZ_LOSS_SOFTMAX, scores_mem, 0, shape, 4,
 *                           labels_mem, 0, LOVASZ_LABELS_UINT8, &options,
 *                           gradient_mem, 0, 0, NULL, NULL, &loss, message, sizeof message);
 */

/* Creates an engine on a caller's in-order command queue (a cl_command_queue).
 *
 * Ownership: the engine retains the queue and its context (clRetainCommandQueue,
 * clRetainContext) and releases them in lovasz_engine_destroy; the caller keeps its own
 * references and may release them at any time. The kernels are built once per context (the
 * first engine on a context pays the build; later ones share it while one is alive).
 * Returns LOVASZ_OK, or LOVASZ_ERROR_OPENCL for a NULL handle, a handle that is not a queue,
 * an out-of-order queue, or a build failure (the reason is in message); *engine is then NULL.
 * A dangling (released) handle cannot be detected and is undefined behaviour. */
int32_t lovasz_engine_create_opencl(void *command_queue, lovasz_engine **engine,
                                    char *message, size_t message_size);

/* Computes a loss and, when gradient is not NULL, d loss / d scores, on device buffers of the
 * engine's context (cl_mem handles), as lovasz_compute does on host memory.
 *
 *   scores, scores_offset        float32 scores at a byte offset; a nonzero offset must be a
 *                                multiple of CL_DEVICE_MEM_BASE_ADDR_ALIGN / 8 (a sub-buffer
 *                                is made), as must gradient_offset.
 *   labels, labels_offset        labels of label_type at a byte offset (a multiple of the
 *                                label size).
 *   gradient, gradient_offset    NULL, or a writable float32 buffer: receives the gradient,
 *                                which stays on the device.
 *   wait_events                  num_wait_events cl_event handles of the engine's context that
 *                                every command of this call waits for (NULL when 0).
 *   completion_event             NULL, or receives a cl_event (a marker after this call's
 *                                commands) that the caller owns and releases (clReleaseEvent).
 *
 * Synchronisation: the commands are enqueued on the engine's queue in order, after every
 * command the caller enqueued before the call (and after wait_events); the call returns once
 * the loss has been read back, so the gradient is complete on return. Buffers are retained
 * only during the call. Several engines on different queues or contexts may be used from
 * different threads at once.
 *
 * Returns LOVASZ_OK; LOVASZ_ERROR_BAD_INPUT for a bad shape, counts, element types, a buffer
 * too small, an out-of-range label or a non-finite score (found on the device, with the first
 * bad position and value in message); LOVASZ_ERROR_OPENCL for NULL or invalid handles, a
 * buffer of another context, a misaligned offset, a read-only gradient buffer, an engine that
 * does not compute with OpenCL, or a failed OpenCL call. */
int32_t lovasz_compute_device(lovasz_engine *engine, int32_t loss,
                              void *scores, size_t scores_offset,
                              const int64_t *shape, int32_t rank,
                              void *labels, size_t labels_offset, int32_t label_type,
                              const lovasz_options *options,
                              void *gradient, size_t gradient_offset,
                              uint32_t num_wait_events, void *const *wait_events,
                              void **completion_event,
                              double *loss_out, char *message, size_t message_size);

/* As lovasz_compute_device, with scores of score_type (LOVASZ_SCORES_FLOAT32, _FLOAT16 or
 * _BFLOAT16, as for lovasz_compute_typed): 16-bit scores are widened to float32 on the device,
 * exactly, so the results equal lovasz_compute_device on the widened scores.
 *
 *   gradient                NULL, or a writable buffer of as many elements as scores: float32
 *                           when gradient_in_score_type is 0, otherwise of score_type, rounded
 *                           once (to nearest, ties to even) from the float32 gradient.
 *   scores_offset, gradient_offset   as for lovasz_compute_device (a nonzero offset must be a
 *                           multiple of CL_DEVICE_MEM_BASE_ADDR_ALIGN / 8).
 *
 * Returns as lovasz_compute_device; LOVASZ_ERROR_BAD_INPUT for an unknown score_type. */
int32_t lovasz_compute_device_typed(lovasz_engine *engine, int32_t loss,
                                    void *scores, size_t scores_offset, int32_t score_type,
                                    const int64_t *shape, int32_t rank,
                                    void *labels, size_t labels_offset, int32_t label_type,
                                    const lovasz_options *options,
                                    void *gradient, size_t gradient_offset, int32_t gradient_in_score_type,
                                    uint32_t num_wait_events, void *const *wait_events,
                                    void **completion_event,
                                    double *loss_out, char *message, size_t message_size);

#ifdef __cplusplus
}
#endif

#endif /* LOVASZ_H */
