/*
 * Private to the shim (not in include/): the list of OpenCL functions it loads, their
 * pointers (defined in shim.c, set by the loader) and the forwarding macros of the wrappers
 * (shim_wrappers.c).
 */
#ifndef LOVASZ_SHIM_FUNCTIONS_H
#define LOVASZ_SHIM_FUNCTIONS_H

#include "lovasz_opencl.h"

/* Every OpenCL function the host code calls. */
#define LOVASZ_CL_FUNCTIONS(X)      \
    X(clGetPlatformIDs)             \
    X(clGetPlatformInfo)            \
    X(clGetDeviceIDs)               \
    X(clGetDeviceInfo)              \
    X(clCreateContext)              \
    X(clReleaseContext)             \
    X(clCreateCommandQueue)         \
    X(clReleaseCommandQueue)        \
    X(clFinish)                     \
    X(clFlush)                      \
    X(clCreateProgramWithSource)    \
    X(clBuildProgram)               \
    X(clGetProgramBuildInfo)        \
    X(clReleaseProgram)             \
    X(clCreateKernel)               \
    X(clReleaseKernel)              \
    X(clSetKernelArg)               \
    X(clGetKernelWorkGroupInfo)     \
    X(clCreateBuffer)               \
    X(clReleaseMemObject)           \
    X(clEnqueueWriteBuffer)         \
    X(clEnqueueReadBuffer)          \
    X(clEnqueueCopyBuffer)          \
    X(clEnqueueFillBuffer)          \
    X(clEnqueueNDRangeKernel)       \
    X(clEnqueueMapBuffer)           \
    X(clEnqueueUnmapMemObject)      \
    X(clWaitForEvents)              \
    X(clReleaseEvent)               \
    X(clGetEventInfo)               \
    X(clGetEventProfilingInfo)      \
    X(clRetainContext)              \
    X(clRetainCommandQueue)         \
    X(clGetCommandQueueInfo)        \
    X(clRetainMemObject)            \
    X(clGetMemObjectInfo)           \
    X(clCreateSubBuffer)            \
    X(clRetainEvent)                \
    X(clEnqueueMarkerWithWaitList)  \
    X(clEnqueueBarrierWithWaitList)

/* One pointer per function, NULL until loaded. Written once inside pthread_once, read after
 * pthread_once returns (lovasz_cl_load): pthread_once orders the writes before every later read. */
#define LOVASZ_CL_DECLARE_POINTER(name) extern __attribute__((visibility("hidden"))) __typeof__(name) *p_##name;
LOVASZ_CL_FUNCTIONS(LOVASZ_CL_DECLARE_POINTER)
#undef LOVASZ_CL_DECLARE_POINTER

/* Wrappers: load on first use, then call through the pointer. */
#define LOVASZ_CL_STATUS_CALL(name, ...)                                                     \
    if (!lovasz_cl_load()) return LOVASZ_CL_LIBRARY_NOT_LOADED;                              \
    return p_##name(__VA_ARGS__)

#define LOVASZ_CL_OBJECT_CALL(name, errcode_ret, ...)                                        \
    if (!lovasz_cl_load()) {                                                                 \
        if (errcode_ret) *(errcode_ret) = LOVASZ_CL_LIBRARY_NOT_LOADED;                      \
        return NULL;                                                                         \
    }                                                                                        \
    return p_##name(__VA_ARGS__)

#endif
