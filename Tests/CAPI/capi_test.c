/*
 * A C program that links libLovaszC through include/lovasz.h and checks known values, the
 * option plumbing, the error statuses and messages, and concurrent calls on one engine.
 * Built and run by scripts/test-bindings; prints "capi: N passed, M failed" and exits 1 on
 * any failure.
 */
#define _POSIX_C_SOURCE 200809L
#include "lovasz.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/resource.h>
#include <unistd.h>
#endif

static int passed = 0;
static int failed = 0;

static void check(int condition, const char *what) {
    if (condition) {
        passed += 1;
    } else {
        failed += 1;
        fprintf(stderr, "FAILED: %s\n", what);
    }
}

static int close_to(double a, double b, double tolerance) { return fabs(a - b) <= tolerance; }

static lovasz_engine *engine;

/* Hinge, worked by hand: F = [2, -1, 0.5, 0.2], y = [1, 0, 1, 0], one image.
   Errors m = 1 - F(2y - 1) = [-1, 0, 0.5, 1.2]; in decreasing order 1.2, 0.5, 0, -1 with
   foreground 0, 1, 0, 1: Jaccard losses 1/3, 2/3, 3/4, 1, so g = 1/3, 1/3, 1/12, 1/4 and
   loss = 1.2/3 + 0.5/3 = 0.5666667; d loss / d F = [0, 0, -1/3, 1/3]. */
static const float hinge_scores[4] = {2.0f, -1.0f, 0.5f, 0.2f};
static const int64_t hinge_shape[2] = {1, 4};

static void test_hinge_known_value(void) {
    const int32_t labels32[4] = {1, 0, 1, 0};
    const int64_t labels64[4] = {1, 0, 1, 0};
    const uint8_t labels8[4] = {1, 0, 1, 0};
    const void *labels[3] = {labels32, labels64, labels8};
    const int32_t types[3] = {LOVASZ_LABELS_INT32, LOVASZ_LABELS_INT64, LOVASZ_LABELS_UINT8};
    const float expected[4] = {0.0f, 0.0f, -1.0f / 3.0f, 1.0f / 3.0f};
    for (int t = 0; t < 3; t++) {
        float gradient[4] = {9, 9, 9, 9};
        double loss = -1;
        char message[128] = "unchanged";
        int32_t status = lovasz_compute(engine, LOVASZ_LOSS_HINGE, hinge_scores, hinge_shape, 2,
                                        labels[t], types[t], NULL, gradient, &loss,
                                        message, sizeof message);
        check(status == LOVASZ_OK, "hinge: status OK for every label type");
        check(message[0] == '\0', "hinge: the message is empty on success");
        check(close_to(loss, 0.5666667, 1e-6), "hinge: loss 0.5666667");
        int same = 1;
        for (int i = 0; i < 4; i++) same &= close_to(gradient[i], expected[i], 1e-6);
        check(same, "hinge: gradient [0, 0, -1/3, 1/3]");
    }
}

/* Softmax on probabilities, worked by hand: 2 classes, 2 pixels, both labelled 0.
   Class 0 errors 1 - f = [0.2, 0.7]: in decreasing order both foreground, Jaccard losses
   1/2, 1, so g = 1/2, 1/2 and its loss is 0.45. Class 1 (absent) errors f = [0.2, 0.7]: with no
   foreground every Jaccard loss is 1, g = 1, 0, its loss is 0.7 (the largest error).
   present: 0.45, gradient -1/2 on class 0; all: (0.45 + 0.7) / 2 = 0.575; weights (1, 3):
   (0.45 + 3 * 0.7) / 4 = 0.6375; list {1}: 0.7. */
static const float softmax_probabilities[4] = {0.8f, 0.3f, 0.2f, 0.7f}; /* [1, 2, 1, 2] */
static const int64_t softmax_shape[4] = {1, 2, 1, 2};
static const int64_t softmax_labels[2] = {0, 0};

static double softmax_loss(const lovasz_options *options, float *gradient) {
    double loss = -1;
    char message[256];
    int32_t status = lovasz_compute(engine, LOVASZ_LOSS_SOFTMAX, softmax_probabilities,
                                    softmax_shape, 4, softmax_labels, LOVASZ_LABELS_INT64,
                                    options, gradient, &loss, message, sizeof message);
    if (status != LOVASZ_OK) fprintf(stderr, "softmax: %s\n", message);
    return status == LOVASZ_OK ? loss : NAN;
}

static void test_softmax_known_values(void) {
    lovasz_options options;
    lovasz_options_init(&options);
    options.scores_are = LOVASZ_SCORES_PROBABILITIES;
    float gradient[4];
    check(close_to(softmax_loss(&options, gradient), 0.45, 1e-6), "softmax present: 0.45");
    check(close_to(gradient[0], -0.5, 1e-6) && close_to(gradient[1], -0.5, 1e-6) &&
              gradient[2] == 0.0f && gradient[3] == 0.0f,
          "softmax present: gradient -1/2 on class 0, 0 on class 1");

    options.classes = LOVASZ_CLASSES_ALL;
    check(close_to(softmax_loss(&options, NULL), 0.575, 1e-6), "softmax all: 0.575");

    const float weights[2] = {1.0f, 3.0f};
    options.class_weights = weights;
    options.class_weight_count = 2;
    check(close_to(softmax_loss(&options, NULL), 0.6375, 1e-6), "softmax all, weights 1, 3: 0.6375");

    const int32_t list[1] = {1};
    lovasz_options_init(&options);
    options.scores_are = LOVASZ_SCORES_PROBABILITIES;
    options.classes = LOVASZ_CLASSES_LIST;
    options.class_list = list;
    options.class_count = 1;
    check(close_to(softmax_loss(&options, NULL), 0.7, 1e-6), "softmax list {1}: 0.7");

    /* Ignoring label 0 leaves no valid pixel: loss 0. */
    lovasz_options_init(&options);
    options.scores_are = LOVASZ_SCORES_PROBABILITIES;
    options.has_ignore_index = 1;
    options.ignore_index = 0;
    check(softmax_loss(&options, NULL) == 0.0, "softmax, every pixel ignored: 0");
}

/* Per image vs per batch on the hinge, worked by hand: F = [[2, -2], [0, 0]], y = [[1, 0], [1, 0]].
   Image 1: m = [-1, -1], loss 0. Image 2: m = [1, 1], tied, so by index: foreground first,
   Jaccard losses 1, 1, g = 1, 0, loss 1. Per image (the hinge's default): (0 + 1) / 2 = 0.5.
   Per batch: m = [-1, -1, 1, 1] in the order pixels 2 (fg), 3, 0 (fg), 1: Jaccard losses
   1/2, 2/3, 1, 1, g = 1/2, 1/6, 1/3, 0, loss 1/2 + 1/6 = 2/3. */
static void test_per_image(void) {
    const float scores[4] = {2.0f, -2.0f, 0.0f, 0.0f};
    const int64_t shape[2] = {2, 2};
    const uint8_t labels[4] = {1, 0, 1, 0};
    lovasz_options options;
    lovasz_options_init(&options);
    double loss = -1;
    check(lovasz_compute(engine, LOVASZ_LOSS_HINGE, scores, shape, 2, labels, LOVASZ_LABELS_UINT8,
                         &options, NULL, &loss, NULL, 0) == LOVASZ_OK && close_to(loss, 0.5, 1e-6),
          "hinge per image (the default): 0.5");
    options.per_image = 0;
    check(lovasz_compute(engine, LOVASZ_LOSS_HINGE, scores, shape, 2, labels, LOVASZ_LABELS_UINT8,
                         &options, NULL, &loss, NULL, 0) == LOVASZ_OK && close_to(loss, 2.0 / 3.0, 1e-6),
          "hinge per batch: 2/3");
}

static void test_errors(void) {
    char message[256];
    double loss;
    const int32_t labels[4] = {1, 0, 1, 0};
    float nan_scores[4] = {2.0f, -1.0f, NAN, 0.2f};
    check(lovasz_compute(engine, LOVASZ_LOSS_HINGE, nan_scores, hinge_shape, 2, labels,
                         LOVASZ_LABELS_INT32, NULL, NULL, &loss, message, sizeof message) ==
                  LOVASZ_ERROR_BAD_INPUT &&
              strstr(message, "non-finite score") && strstr(message, "[0, 2]"),
          "NaN score: status 2 naming the position [0, 2]");

    const int32_t bad_labels[4] = {1, 0, 7, 0};
    check(lovasz_compute(engine, LOVASZ_LOSS_HINGE, hinge_scores, hinge_shape, 2, bad_labels,
                         LOVASZ_LABELS_INT32, NULL, NULL, &loss, message, sizeof message) ==
                  LOVASZ_ERROR_BAD_INPUT &&
              strstr(message, "label 7"),
          "label out of range: status 2 naming the label");

    check(lovasz_compute(NULL, LOVASZ_LOSS_HINGE, hinge_scores, hinge_shape, 2, labels,
                         LOVASZ_LABELS_INT32, NULL, NULL, &loss, message, sizeof message) ==
                  LOVASZ_ERROR_BAD_INPUT && strstr(message, "engine is NULL"),
          "NULL engine: status 2");
    check(lovasz_compute(engine, LOVASZ_LOSS_HINGE, NULL, hinge_shape, 2, labels,
                         LOVASZ_LABELS_INT32, NULL, NULL, &loss, message, sizeof message) ==
                  LOVASZ_ERROR_BAD_INPUT && strstr(message, "scores pointer is NULL"),
          "NULL scores: status 2");
    check(lovasz_compute(engine, LOVASZ_LOSS_HINGE, hinge_scores, hinge_shape, 2, NULL,
                         LOVASZ_LABELS_INT32, NULL, NULL, &loss, message, sizeof message) ==
                  LOVASZ_ERROR_BAD_INPUT && strstr(message, "labels pointer is NULL"),
          "NULL labels: status 2");
    check(lovasz_compute(engine, LOVASZ_LOSS_HINGE, hinge_scores, NULL, 2, labels,
                         LOVASZ_LABELS_INT32, NULL, NULL, &loss, message, sizeof message) ==
                  LOVASZ_ERROR_BAD_INPUT && strstr(message, "shape pointer is NULL"),
          "NULL shape: status 2");
    check(lovasz_compute(engine, LOVASZ_LOSS_HINGE, hinge_scores, hinge_shape, 0, labels,
                         LOVASZ_LABELS_INT32, NULL, NULL, &loss, message, sizeof message) ==
                  LOVASZ_ERROR_BAD_INPUT && strstr(message, "rank 0"),
          "rank 0: status 2");
    const int64_t negative[2] = {1, -4};
    check(lovasz_compute(engine, LOVASZ_LOSS_HINGE, hinge_scores, negative, 2, labels,
                         LOVASZ_LABELS_INT32, NULL, NULL, &loss, message, sizeof message) ==
                  LOVASZ_ERROR_BAD_INPUT && strstr(message, "negative"),
          "negative dimension: status 2");
    check(lovasz_compute(engine, 7, hinge_scores, hinge_shape, 2, labels, LOVASZ_LABELS_INT32,
                         NULL, NULL, &loss, message, sizeof message) == LOVASZ_ERROR_BAD_INPUT &&
              strstr(message, "unknown loss 7"),
          "unknown loss: status 2");
    check(lovasz_compute(engine, LOVASZ_LOSS_HINGE, hinge_scores, hinge_shape, 2, labels, 9,
                         NULL, NULL, &loss, message, sizeof message) == LOVASZ_ERROR_BAD_INPUT &&
              strstr(message, "unknown label_type 9"),
          "unknown label type: status 2");
    lovasz_options options;
    lovasz_options_init(&options);
    options.scores_are = LOVASZ_SCORES_PROBABILITIES;
    check(lovasz_compute(engine, LOVASZ_LOSS_HINGE, hinge_scores, hinge_shape, 2, labels,
                         LOVASZ_LABELS_INT32, &options, NULL, &loss, message, sizeof message) ==
                  LOVASZ_ERROR_BAD_INPUT && strstr(message, "takes logits"),
          "hinge on probabilities: status 2");
    lovasz_options_init(&options);
    options.classes = LOVASZ_CLASSES_LIST;
    options.class_count = 2;
    check(lovasz_compute(engine, LOVASZ_LOSS_SOFTMAX, softmax_probabilities, softmax_shape, 4,
                         softmax_labels, LOVASZ_LABELS_INT64, &options, NULL, &loss, message,
                         sizeof message) == LOVASZ_ERROR_BAD_INPUT &&
              strstr(message, "class_list is NULL"),
          "NULL class list with a count: status 2");
    /* A message buffer too small is truncated and NUL-terminated. */
    char small[8];
    memset(small, 'x', sizeof small);
    lovasz_compute(engine, LOVASZ_LOSS_HINGE, nan_scores, hinge_shape, 2, labels,
                   LOVASZ_LABELS_INT32, NULL, NULL, &loss, small, sizeof small);
    check(strlen(small) == 7 && strncmp(small, "non-fin", 7) == 0,
          "a short message buffer holds a truncated, NUL-terminated message");
}

static void test_engines(void) {
    char message[256];
    check(lovasz_api_version() == LOVASZ_API_VERSION, "the library implements this header's version");
    check(lovasz_engine_backend(engine) == LOVASZ_BACKEND_CPU, "a CPU engine computes on the CPU");
    char device[64];
    size_t length = lovasz_engine_device(engine, device, sizeof device);
    check(length > 0 && strncmp(device, "CPU", 3) == 0, "a CPU engine names its device");
    check(lovasz_engine_fallback_reason(engine, message, sizeof message) == 0 && message[0] == '\0',
          "a CPU engine has no fallback reason");

    lovasz_engine *bad = (lovasz_engine *)1;
    check(lovasz_engine_create(5, &bad, message, sizeof message) == LOVASZ_ERROR_BAD_INPUT &&
              bad == NULL && strstr(message, "unknown backend 5"),
          "unknown backend: status 2, no engine");
    check(lovasz_engine_create(LOVASZ_BACKEND_CPU, NULL, message, sizeof message) ==
              LOVASZ_ERROR_BAD_INPUT,
          "NULL engine out-pointer: status 2");

    /* OpenCL: an engine, or status 3 with the reason (no loader, no platform, no device). */
    lovasz_engine *opencl = NULL;
    int32_t status = lovasz_engine_create(LOVASZ_BACKEND_OPENCL, &opencl, message, sizeof message);
    check((status == LOVASZ_OK && opencl != NULL &&
           lovasz_engine_backend(opencl) == LOVASZ_BACKEND_OPENCL) ||
              (status == LOVASZ_ERROR_OPENCL && opencl == NULL && strstr(message, "OpenCL")),
          "an OpenCL engine, or status 3 naming OpenCL");
    lovasz_engine_destroy(opencl);

    /* A device index: -2 is bad input; 999 names no device (status 3); 0 on the CPU backend is ignored. */
    check(lovasz_engine_create_on_device(LOVASZ_BACKEND_OPENCL, -2, &bad, message, sizeof message) ==
              LOVASZ_ERROR_BAD_INPUT && bad == NULL,
          "device -2: status 2, no engine");
    check(lovasz_engine_create_on_device(LOVASZ_BACKEND_OPENCL, 999, &bad, message, sizeof message) ==
              LOVASZ_ERROR_OPENCL && bad == NULL,
          "device 999: status 3 (no such device, or no OpenCL)");
    lovasz_engine *on_device = NULL;
    check(lovasz_engine_create_on_device(LOVASZ_BACKEND_CPU, 0, &on_device, message, sizeof message) ==
              LOVASZ_OK && lovasz_engine_backend(on_device) == LOVASZ_BACKEND_CPU,
          "the CPU backend ignores the device index");
    lovasz_engine_destroy(on_device);

    /* auto: whichever backend it chose, the same hinge value. */
    lovasz_engine *automatic = NULL;
    check(lovasz_engine_create(LOVASZ_BACKEND_AUTO, &automatic, message, sizeof message) == LOVASZ_OK,
          "an auto engine is always created");
    const int32_t labels[4] = {1, 0, 1, 0};
    double loss = -1;
    check(lovasz_compute(automatic, LOVASZ_LOSS_HINGE, hinge_scores, hinge_shape, 2, labels,
                         LOVASZ_LABELS_INT32, NULL, NULL, &loss, NULL, 0) == LOVASZ_OK &&
              close_to(loss, 0.5666667, 1e-6),
          "an auto engine computes the hinge value");
    if (lovasz_engine_backend(automatic) == LOVASZ_BACKEND_CPU) {
        char reason[512];
        size_t full = lovasz_engine_fallback_reason(automatic, reason, sizeof reason);
        check(full > 0 && reason[0] != '\0', "an auto engine on the CPU says why");
    }
    lovasz_engine_destroy(automatic);
    lovasz_engine_destroy(NULL);
}

/* The gradient written over the scores (in place) or over a shifted window of the same buffer
   equals the gradient into a separate buffer, bit for bit, for every loss. */
static void test_in_place_on(lovasz_engine *on, const char *backend) {
    enum { count = 2 * 3 * 4 * 5 };
    struct {
        const char *name;
        int32_t loss, scores_are, classes;
        int64_t shape[4];
        int32_t rank;
    } cases[5] = {
        {"softmax from logits", LOVASZ_LOSS_SOFTMAX, LOVASZ_SCORES_LOGITS, LOVASZ_CLASSES_PRESENT, {2, 3, 4, 5}, 4},
        {"softmax from probabilities", LOVASZ_LOSS_SOFTMAX, LOVASZ_SCORES_PROBABILITIES, LOVASZ_CLASSES_ALL, {2, 3, 4, 5}, 4},
        {"hinge", LOVASZ_LOSS_HINGE, LOVASZ_SCORES_LOGITS, LOVASZ_CLASSES_PRESENT, {2, 60, 0, 0}, 2},
        {"sigmoid from logits", LOVASZ_LOSS_SIGMOID, LOVASZ_SCORES_LOGITS, LOVASZ_CLASSES_PRESENT, {2, 60, 0, 0}, 2},
        {"sigmoid from probabilities", LOVASZ_LOSS_SIGMOID, LOVASZ_SCORES_PROBABILITIES, LOVASZ_CLASSES_PRESENT, {2, 60, 0, 0}, 2},
    };
    for (int k = 0; k < 5; k++) {
        float scores[count];
        int32_t labels[count];
        unsigned state = 12345u + (unsigned)k;
        for (int i = 0; i < count; i++) {
            state = state * 1103515245u + 12345u;
            float unit = (float)((state >> 8) & 0xFFFF) / 65535.0f;
            scores[i] = cases[k].scores_are == LOVASZ_SCORES_PROBABILITIES ? unit : 6.0f * unit - 3.0f;
            labels[i] = (int32_t)((state >> 4) % (cases[k].loss == LOVASZ_LOSS_SOFTMAX ? 3u : 2u));
        }
        lovasz_options options;
        lovasz_options_init(&options);
        options.scores_are = cases[k].scores_are;
        options.classes = cases[k].classes;
        float expected[count];
        double expected_loss = -1;
        int32_t status = lovasz_compute(on, cases[k].loss, scores, cases[k].shape, cases[k].rank, labels,
                                        LOVASZ_LABELS_INT32, &options, expected, &expected_loss, NULL, 0);
        int same = status == LOVASZ_OK;
        const int shifts[3] = {0, 1, -2};
        for (int t = 0; t < 3; t++) {
            float buffer[count + 4];
            memcpy(buffer + 2, scores, sizeof scores);
            double loss = -2;
            status = lovasz_compute(on, cases[k].loss, buffer + 2, cases[k].shape, cases[k].rank, labels,
                                    LOVASZ_LABELS_INT32, &options, buffer + 2 + shifts[t], &loss, NULL, 0);
            same &= status == LOVASZ_OK && loss == expected_loss &&
                    memcmp(buffer + 2 + shifts[t], expected, sizeof expected) == 0;
        }
        char what[160];
        snprintf(what, sizeof what, "%s: %s with the gradient over the scores equals the separate gradient",
                 backend, cases[k].name);
        check(same, what);
    }
}

static void test_in_place(void) {
    test_in_place_on(engine, "cpu");
    lovasz_engine *opencl = NULL;
    if (lovasz_engine_create(LOVASZ_BACKEND_OPENCL, &opencl, NULL, 0) == LOVASZ_OK) {
        test_in_place_on(opencl, "opencl");
        lovasz_engine_destroy(opencl);
    }
}

/* Probabilities outside [0, 1]: status 2 naming the first one, on every backend. */
static void test_probability_range(void) {
    const float scores[4] = {0.5f, 0.25f, 1.5f, -0.5f};
    const uint8_t labels[4] = {1, 0, 1, 0};
    lovasz_options options;
    lovasz_options_init(&options);
    options.scores_are = LOVASZ_SCORES_PROBABILITIES;
    lovasz_engine *engines[2] = {engine, NULL};
    lovasz_engine_create(LOVASZ_BACKEND_OPENCL, &engines[1], NULL, 0);
    for (int e = 0; e < 2 && engines[e] != NULL; e++) {
        char message[256];
        double loss;
        check(lovasz_compute(engines[e], LOVASZ_LOSS_SIGMOID, scores, hinge_shape, 2, labels,
                             LOVASZ_LABELS_UINT8, &options, NULL, &loss, message, sizeof message) ==
                      LOVASZ_ERROR_BAD_INPUT &&
                  strstr(message, "probability 1.5 at position [0, 2] is outside [0, 1]"),
              "a probability of 1.5: status 2 naming the first bad position");
    }
    lovasz_engine_destroy(engines[1]);
}

/* Memory exhaustion (an address-space limit a little above what the process uses): status 4
   with a message, and the engine computes again once memory is back. Linux only. */
static void test_out_of_memory(void) {
#ifdef __linux__
    enum { pixels = 8 << 20 };
    float *scores = calloc(pixels, sizeof *scores);
    uint8_t *labels = calloc(pixels, 1);
    FILE *statm = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    struct rlimit saved;
    if (scores == NULL || labels == NULL || statm == NULL || fscanf(statm, "%lu", &pages) != 1 ||
        getrlimit(RLIMIT_AS, &saved) != 0) {
        fprintf(stderr, "out of memory test skipped: cannot measure the address space\n");
        if (statm) fclose(statm);
        free(scores);
        free(labels);
        return;
    }
    fclose(statm);
    struct rlimit tight = saved;
    tight.rlim_cur = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (16u << 20);
    if (saved.rlim_cur != RLIM_INFINITY && saved.rlim_cur < tight.rlim_cur) tight.rlim_cur = saved.rlim_cur;
    const int64_t shape[2] = {1, pixels};
    char message[256] = "";
    double loss = -1;
    setrlimit(RLIMIT_AS, &tight);
    /* The label map takes 8 MiB (a byte a pixel), the sort keys 64 MiB. */
    int32_t status = lovasz_compute(engine, LOVASZ_LOSS_HINGE, scores, shape, 2, labels,
                                    LOVASZ_LABELS_UINT8, NULL, NULL, &loss, message, sizeof message);
    setrlimit(RLIMIT_AS, &saved);
    check(status == LOVASZ_ERROR_OUT_OF_MEMORY && strstr(message, "out of memory") != NULL,
          "an address-space limit: status 4 (LOVASZ_ERROR_OUT_OF_MEMORY) with a message");
    if (status != LOVASZ_ERROR_OUT_OF_MEMORY) fprintf(stderr, "  status %d: %s\n", status, message);
    check(lovasz_compute(engine, LOVASZ_LOSS_HINGE, scores, shape, 2, labels, LOVASZ_LABELS_UINT8,
                         NULL, NULL, &loss, NULL, 0) == LOVASZ_OK,
          "after running out of memory the engine computes again");
    free(scores);
    free(labels);
#endif
}

/* Eight threads computing the hinge on one engine at once. */
static void *hinge_worker(void *argument) {
    int *ok = argument;
    const int32_t labels[4] = {1, 0, 1, 0};
    *ok = 1;
    for (int i = 0; i < 50; i++) {
        float gradient[4];
        double loss = -1;
        int32_t status = lovasz_compute(engine, LOVASZ_LOSS_HINGE, hinge_scores, hinge_shape, 2,
                                        labels, LOVASZ_LABELS_INT32, NULL, gradient, &loss, NULL, 0);
        *ok &= status == LOVASZ_OK && close_to(loss, 0.5666667, 1e-6) &&
               close_to(gradient[3], 1.0 / 3.0, 1e-6);
    }
    return NULL;
}

static void test_threads(void) {
    enum { threads = 8 };
    pthread_t ids[threads];
    int ok[threads];
    for (int t = 0; t < threads; t++) pthread_create(&ids[t], NULL, hinge_worker, &ok[t]);
    int all = 1;
    for (int t = 0; t < threads; t++) {
        pthread_join(ids[t], NULL);
        all &= ok[t];
    }
    check(all, "eight threads on one engine get the same loss and gradient");
}

/* 16-bit scores: the hinge example with 0.25 in place of 0.2 (exact in both types) must give
   what float32 scores give; the gradient in the scores' type is that gradient rounded once. */
static float widen_float16(uint16_t bits) {
    int exponent = (bits >> 10) & 0x1F;
    float fraction = (float)(bits & 0x3FF);
    float magnitude = exponent == 0 ? ldexpf(fraction, -24) : ldexpf(1.0f + fraction / 1024.0f, exponent - 15);
    return (bits & 0x8000) ? -magnitude : magnitude;
}

static float widen_bfloat16(uint16_t bits) {
    uint32_t wide = (uint32_t)bits << 16;
    float value;
    memcpy(&value, &wide, sizeof value);
    return value;
}

static void test_half_scores(void) {
    const float scores[4] = {2.0f, -1.0f, 0.5f, 0.25f};
    const uint16_t float16[4] = {0x4000, 0xBC00, 0x3800, 0x3400};
    const uint16_t bfloat16[4] = {0x4000, 0xBF80, 0x3F00, 0x3E80};
    const int32_t labels[4] = {1, 0, 1, 0};
    float expected[4];
    double expected_loss = -1;
    check(lovasz_compute(engine, LOVASZ_LOSS_HINGE, scores, hinge_shape, 2, labels, LOVASZ_LABELS_INT32, NULL,
                         expected, &expected_loss, NULL, 0) == LOVASZ_OK, "float32 reference");
    const uint16_t *inputs[2] = {float16, bfloat16};
    const int32_t types[2] = {LOVASZ_SCORES_FLOAT16, LOVASZ_SCORES_BFLOAT16};
    for (int t = 0; t < 2; t++) {
        float gradient[4] = {9, 9, 9, 9};
        uint16_t narrow[4] = {0, 0, 0, 0};
        double loss = -1, narrow_loss = -1;
        char message[256];
        check(lovasz_compute_typed(engine, LOVASZ_LOSS_HINGE, inputs[t], types[t], hinge_shape, 2, labels,
                                   LOVASZ_LABELS_INT32, NULL, gradient, 0, &loss, message, sizeof message) == LOVASZ_OK,
              "16-bit scores, float32 gradient");
        check(loss == expected_loss, "16-bit scores give the float32 loss");
        check(memcmp(gradient, expected, sizeof gradient) == 0, "16-bit scores give the float32 gradient");
        check(lovasz_compute_typed(engine, LOVASZ_LOSS_HINGE, inputs[t], types[t], hinge_shape, 2, labels,
                                   LOVASZ_LABELS_INT32, NULL, narrow, 1, &narrow_loss, message, sizeof message) == LOVASZ_OK,
              "16-bit scores, 16-bit gradient");
        check(narrow_loss == expected_loss, "16-bit gradient call gives the same loss");
        for (int i = 0; i < 4; i++) {
            float value = t == 0 ? widen_float16(narrow[i]) : widen_bfloat16(narrow[i]);
            check(fabsf(value - expected[i]) <= fabsf(expected[i]) * (t == 0 ? 0x1p-11f : 0x1p-8f),
                  "16-bit gradient is the float32 one rounded");
        }
    }
    char message[256];
    check(lovasz_compute_typed(engine, LOVASZ_LOSS_HINGE, float16, 7, hinge_shape, 2, labels, LOVASZ_LABELS_INT32,
                               NULL, NULL, 0, NULL, message, sizeof message) == LOVASZ_ERROR_BAD_INPUT,
          "unknown score_type is bad input");
    check(strstr(message, "unknown score_type 7") != NULL, "unknown score_type is named");
}

int main(void) {
    char message[256];
    if (lovasz_engine_create(LOVASZ_BACKEND_CPU, &engine, message, sizeof message) != LOVASZ_OK) {
        fprintf(stderr, "cannot create a CPU engine: %s\n", message);
        return 1;
    }
    test_hinge_known_value();
    test_softmax_known_values();
    test_per_image();
    test_errors();
    test_engines();
    test_in_place();
    test_probability_range();
    test_out_of_memory();
    test_threads();
    test_half_scores();
    lovasz_engine_destroy(engine);
    printf("capi: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
