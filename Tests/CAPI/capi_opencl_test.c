/*
 * The zero-copy C interface on PoCL (or any OpenCL device): a caller's own context, queue and
 * CL_MEM_HOST_NO_ACCESS buffers (so that any host transfer of them would fail), the loss and
 * gradient compared with lovasz_compute on host memory, events, and every bad-handle status.
 * Built against the system's OpenCL loader by scripts/test-bindings when one is installed;
 * prints "capi-opencl: N passed, M failed" (or why it was skipped).
 */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

#include "lovasz.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

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

enum { B = 2, C = 3, S = 50, SCORES = B * C * S, PIXELS = B * S };

static cl_context context;
static cl_command_queue queue;

/* A host-no-access buffer holding `bytes` of `data` at `offset`, filled on the device. */
static cl_mem device_buffer(const void *data, size_t bytes, size_t offset) {
    cl_int status;
    cl_mem buffer = clCreateBuffer(context, CL_MEM_READ_WRITE | CL_MEM_HOST_NO_ACCESS, offset + bytes + 64, NULL, &status);
    cl_mem staging = clCreateBuffer(context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, bytes, (void *)data, &status);
    clEnqueueCopyBuffer(queue, staging, buffer, 0, offset, bytes, 0, NULL, NULL);
    clFinish(queue);
    clReleaseMemObject(staging);
    return buffer;
}

static void read_floats(cl_mem buffer, size_t offset, float *out, size_t count) {
    cl_int status;
    cl_mem staging = clCreateBuffer(context, CL_MEM_READ_WRITE, count * 4, NULL, &status);
    clEnqueueCopyBuffer(queue, buffer, staging, offset, 0, count * 4, 0, NULL, NULL);
    clEnqueueReadBuffer(queue, staging, CL_TRUE, 0, count * 4, out, 0, NULL, NULL);
    clReleaseMemObject(staging);
}

int main(void) {
    cl_platform_id platform;
    cl_device_id device;
    cl_uint count = 0;
    if (clGetPlatformIDs(1, &platform, &count) != CL_SUCCESS || count == 0 ||
        clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL) != CL_SUCCESS) {
        printf("capi-opencl: skipped (no OpenCL device)\n");
        return 0;
    }
    cl_int status;
    context = clCreateContext(NULL, 1, &device, NULL, NULL, &status);
    queue = clCreateCommandQueue(context, device, 0, &status);
    cl_uint align_bits = 0;
    clGetDeviceInfo(device, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof align_bits, &align_bits, NULL);
    size_t align = align_bits / 8;

    float scores[SCORES];
    int64_t labels[PIXELS];
    unsigned seed = 7;
    for (int i = 0; i < SCORES; i++) {
        seed = seed * 1103515245u + 12345u;
        scores[i] = (float)((seed >> 8) % 1000) / 250.0f - 2.0f;
    }
    for (int i = 0; i < PIXELS; i++) labels[i] = i % 7 == 0 ? 255 : (i * 5 / 3) % C;
    const int64_t shape[3] = {B, C, S};
    lovasz_options options;
    lovasz_options_init(&options);
    options.has_ignore_index = 1;
    options.ignore_index = 255;

    char message[512];
    lovasz_engine *host_engine;
    lovasz_engine_create(LOVASZ_BACKEND_CPU, &host_engine, message, sizeof message);
    float expected[SCORES];
    double expected_loss = 0;
    lovasz_compute(host_engine, LOVASZ_LOSS_SOFTMAX, scores, shape, 3, labels, LOVASZ_LABELS_INT64, &options,
                   expected, &expected_loss, message, sizeof message);

    lovasz_engine *engine = NULL;
    check(lovasz_engine_create_opencl(queue, &engine, message, sizeof message) == LOVASZ_OK, message);
    check(lovasz_engine_backend(engine) == LOVASZ_BACKEND_OPENCL, "the queue engine computes with OpenCL");
    /* The caller may drop its references: the engine holds its own. */
    clRetainCommandQueue(queue);
    clReleaseCommandQueue(queue);

    cl_mem score_mem = device_buffer(scores, sizeof scores, align);
    cl_mem label_mem = device_buffer(labels, sizeof labels, 8);
    float zeros[SCORES] = {0};
    cl_mem gradient_mem = device_buffer(zeros, sizeof zeros, 2 * align);
    cl_event before;
    clEnqueueMarkerWithWaitList(queue, 0, NULL, &before);
    void *wait[1] = {before};
    void *done = NULL;
    double loss = 0;
    int32_t result = lovasz_compute_device(engine, LOVASZ_LOSS_SOFTMAX, score_mem, align, shape, 3, label_mem, 8,
                                           LOVASZ_LABELS_INT64, &options, gradient_mem, 2 * align, 1, wait, &done,
                                           &loss, message, sizeof message);
    check(result == LOVASZ_OK, message);
    check(fabs(loss - expected_loss) <= 1e-5 * fabs(expected_loss) + 1e-9, "device loss equals the host loss");
    float gradient[SCORES];
    read_floats(gradient_mem, 2 * align, gradient, SCORES);
    double worst = 0;
    for (int i = 0; i < SCORES; i++) worst = fmax(worst, fabs(gradient[i] - expected[i]));
    check(worst <= 1e-6, "device gradient equals the host gradient");
    check(done != NULL, "a completion event is returned");
    if (done) {
        check(clWaitForEvents(1, (cl_event *)&done) == CL_SUCCESS, "the completion event completes");
        clReleaseEvent((cl_event)done);
    }
    clReleaseEvent(before);

    /* bfloat16 scores on the device, the gradient in bfloat16: as lovasz_compute_typed on the host. */
    uint16_t narrow[SCORES];
    for (int i = 0; i < SCORES; i++) {
        uint32_t bits;
        memcpy(&bits, &scores[i], 4);
        narrow[i] = (uint16_t)(bits >> 16);
    }
    uint16_t expected_narrow[SCORES];
    double expected_narrow_loss = 0;
    check(lovasz_compute_typed(host_engine, LOVASZ_LOSS_SOFTMAX, narrow, LOVASZ_SCORES_BFLOAT16, shape, 3, labels,
                               LOVASZ_LABELS_INT64, &options, expected_narrow, 1, &expected_narrow_loss, message,
                               sizeof message) == LOVASZ_OK, message);
    cl_mem narrow_mem = device_buffer(narrow, sizeof narrow, align);
    uint16_t narrow_zeros[SCORES] = {0};
    cl_mem narrow_gradient_mem = device_buffer(narrow_zeros, sizeof narrow_zeros, 0);
    check(lovasz_compute_device_typed(engine, LOVASZ_LOSS_SOFTMAX, narrow_mem, align, LOVASZ_SCORES_BFLOAT16, shape, 3,
                                      label_mem, 8, LOVASZ_LABELS_INT64, &options, narrow_gradient_mem, 0, 1, 0, NULL,
                                      NULL, &loss, message, sizeof message) == LOVASZ_OK, message);
    check(fabs(loss - expected_narrow_loss) <= 1e-5 * fabs(expected_narrow_loss) + 1e-9,
          "bfloat16 device loss equals the host loss");
    float narrow_gradient[SCORES / 2];
    read_floats(narrow_gradient_mem, 0, narrow_gradient, SCORES / 2);
    uint16_t narrow_bits[SCORES];
    memcpy(narrow_bits, narrow_gradient, sizeof narrow_bits);
    worst = 0;
    for (int i = 0; i < SCORES; i++) {
        uint16_t got_bits = narrow_bits[i];
        uint32_t got32 = (uint32_t)got_bits << 16, want32 = (uint32_t)expected_narrow[i] << 16;
        float got, want;
        memcpy(&got, &got32, 4);
        memcpy(&want, &want32, 4);
        worst = fmax(worst, fabs(got - want) - 1e-2 * fabs(want));
    }
    check(worst <= 1e-6, "bfloat16 device gradient equals the host one (to one bfloat16 rounding)");
    check(lovasz_compute_device_typed(engine, LOVASZ_LOSS_SOFTMAX, narrow_mem, align, 7, shape, 3, label_mem, 8,
                                      LOVASZ_LABELS_INT64, &options, NULL, 0, 0, 0, NULL, NULL, &loss, message,
                                      sizeof message) == LOVASZ_ERROR_BAD_INPUT, "an unknown score_type is refused");
    clReleaseMemObject(narrow_mem);
    clReleaseMemObject(narrow_gradient_mem);

    /* Bad handles and buffers: statuses and messages, never a crash. */
    lovasz_engine *bad = NULL;
    check(lovasz_engine_create_opencl(NULL, &bad, message, sizeof message) == LOVASZ_ERROR_OPENCL && bad == NULL,
          "a NULL queue is refused");
    check(lovasz_engine_create_opencl(score_mem, &bad, message, sizeof message) == LOVASZ_ERROR_OPENCL,
          "a buffer passed as a queue is refused");
    check(lovasz_compute_device(engine, LOVASZ_LOSS_SOFTMAX, NULL, 0, shape, 3, label_mem, 8, LOVASZ_LABELS_INT64,
                                &options, NULL, 0, 0, NULL, NULL, &loss, message, sizeof message) == LOVASZ_ERROR_OPENCL,
          "a NULL scores buffer is refused");
    check(strstr(message, "scores") != NULL, "the message names the scores buffer");
    check(lovasz_compute_device(engine, LOVASZ_LOSS_SOFTMAX, score_mem, 4, shape, 3, label_mem, 8, LOVASZ_LABELS_INT64,
                                &options, NULL, 0, 0, NULL, NULL, &loss, message, sizeof message) == LOVASZ_ERROR_OPENCL,
          "a misaligned scores offset is refused");
    check(lovasz_compute_device(engine, LOVASZ_LOSS_SOFTMAX, score_mem, 0, shape, 3, label_mem, 4096,
                                LOVASZ_LABELS_INT64, &options, NULL, 0, 0, NULL, NULL, &loss, message,
                                sizeof message) == LOVASZ_ERROR_BAD_INPUT,
          "a labels buffer too small is refused");
    cl_context other = clCreateContext(NULL, 1, &device, NULL, NULL, &status);
    cl_mem foreign = clCreateBuffer(other, CL_MEM_READ_WRITE, sizeof scores, NULL, &status);
    check(lovasz_compute_device(engine, LOVASZ_LOSS_SOFTMAX, foreign, 0, shape, 3, label_mem, 8, LOVASZ_LABELS_INT64,
                                &options, NULL, 0, 0, NULL, NULL, &loss, message, sizeof message) == LOVASZ_ERROR_OPENCL,
          "a buffer of another context is refused");
    lovasz_engine *cpu = host_engine;
    check(lovasz_compute_device(cpu, LOVASZ_LOSS_SOFTMAX, score_mem, 0, shape, 3, label_mem, 8, LOVASZ_LABELS_INT64,
                                &options, NULL, 0, 0, NULL, NULL, &loss, message, sizeof message) == LOVASZ_ERROR_OPENCL,
          "device buffers on a CPU engine are refused");
    int64_t bad_labels[PIXELS];
    memcpy(bad_labels, labels, sizeof labels);
    bad_labels[9] = 42;
    cl_mem bad_mem = device_buffer(bad_labels, sizeof bad_labels, 0);
    check(lovasz_compute_device(engine, LOVASZ_LOSS_SOFTMAX, score_mem, align, shape, 3, bad_mem, 0,
                                LOVASZ_LABELS_INT64, &options, NULL, 0, 0, NULL, NULL, &loss, message,
                                sizeof message) == LOVASZ_ERROR_BAD_INPUT,
          "an out-of-range label on the device is bad input");
    check(strstr(message, "label 42 at position [0, 9]") != NULL, message);

    clReleaseMemObject(bad_mem);
    clReleaseMemObject(foreign);
    clReleaseContext(other);
    lovasz_engine_destroy(engine);
    lovasz_engine_destroy(host_engine);
    clReleaseMemObject(score_mem);
    clReleaseMemObject(label_mem);
    clReleaseMemObject(gradient_mem);
    clReleaseCommandQueue(queue);
    clReleaseContext(context);
    printf("capi-opencl: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
