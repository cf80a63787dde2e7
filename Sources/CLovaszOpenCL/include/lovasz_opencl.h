/*
 * CLovaszOpenCL: the only code in swift-lovasz that touches the OpenCL C API.
 *
 * The OpenCL library is not linked: it is loaded at run time with dlopen, so a program
 * linking swift-lovasz starts (and runs the CPU path) on a host with no OpenCL at all.
 * Every OpenCL function the host code needs is exposed as a `lovasz_`-prefixed wrapper that
 * loads the library on first use and calls through the resolved pointer. When the library
 * cannot be loaded the wrappers return LOVASZ_CL_LIBRARY_NOT_LOADED (and set *errcode_ret
 * to it), a status no OpenCL implementation returns.
 *
 * Which library: the path in the environment variable LOVASZ_OPENCL_LIBRARY when it is set
 * (and only that one); otherwise libOpenCL.so.1, then libOpenCL.so (on Apple platforms the
 * OpenCL framework).
 */
#ifndef LOVASZ_OPENCL_H
#define LOVASZ_OPENCL_H

#define CL_TARGET_OPENCL_VERSION 120
#if defined(__APPLE__)
#include <OpenCL/cl.h>
#else
#include <CL/cl.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Returned by every wrapper when the OpenCL library could not be loaded. */
#define LOVASZ_CL_LIBRARY_NOT_LOADED (-9999)

/* cl_khr_icd: returned by clGetPlatformIDs when the ICD loader finds no platform. */
#ifndef CL_PLATFORM_NOT_FOUND_KHR
#define CL_PLATFORM_NOT_FOUND_KHR (-1001)
#endif

/* Loads the OpenCL library and resolves every function, once per process (thread-safe).
 * Returns 1 when loaded, 0 otherwise (then lovasz_cl_load_error says why). */
int lovasz_cl_load(void);

/* Why loading failed (the dlerror text, or the missing function), or NULL once loaded.
 * The string lives as long as the process. Calls lovasz_cl_load first. */
const char *lovasz_cl_load_error(void);

/* The name or path the library was loaded from, or NULL when it was not loaded. */
const char *lovasz_cl_library_name(void);

/* Platforms and devices. */
cl_int lovasz_clGetPlatformIDs(cl_uint num_entries, cl_platform_id *platforms, cl_uint *num_platforms);
cl_int lovasz_clGetPlatformInfo(cl_platform_id platform, cl_platform_info param_name,
                                size_t param_value_size, void *param_value, size_t *param_value_size_ret);
cl_int lovasz_clGetDeviceIDs(cl_platform_id platform, cl_device_type device_type, cl_uint num_entries,
                             cl_device_id *devices, cl_uint *num_devices);
cl_int lovasz_clGetDeviceInfo(cl_device_id device, cl_device_info param_name, size_t param_value_size,
                              void *param_value, size_t *param_value_size_ret);

/* Contexts and command queues. */
cl_context lovasz_clCreateContext(const cl_context_properties *properties, cl_uint num_devices,
                                  const cl_device_id *devices,
                                  void (CL_CALLBACK *pfn_notify)(const char *, const void *, size_t, void *),
                                  void *user_data, cl_int *errcode_ret);
cl_int lovasz_clReleaseContext(cl_context context);
cl_command_queue lovasz_clCreateCommandQueue(cl_context context, cl_device_id device,
                                             cl_command_queue_properties properties, cl_int *errcode_ret);
cl_int lovasz_clReleaseCommandQueue(cl_command_queue command_queue);
cl_int lovasz_clFinish(cl_command_queue command_queue);
cl_int lovasz_clFlush(cl_command_queue command_queue);

/* Programs and kernels. */
cl_program lovasz_clCreateProgramWithSource(cl_context context, cl_uint count, const char **strings,
                                            const size_t *lengths, cl_int *errcode_ret);
cl_int lovasz_clBuildProgram(cl_program program, cl_uint num_devices, const cl_device_id *device_list,
                             const char *options,
                             void (CL_CALLBACK *pfn_notify)(cl_program, void *), void *user_data);
cl_int lovasz_clGetProgramBuildInfo(cl_program program, cl_device_id device, cl_program_build_info param_name,
                                    size_t param_value_size, void *param_value, size_t *param_value_size_ret);
cl_int lovasz_clReleaseProgram(cl_program program);
cl_kernel lovasz_clCreateKernel(cl_program program, const char *kernel_name, cl_int *errcode_ret);
cl_int lovasz_clReleaseKernel(cl_kernel kernel);
cl_int lovasz_clSetKernelArg(cl_kernel kernel, cl_uint arg_index, size_t arg_size, const void *arg_value);
cl_int lovasz_clGetKernelWorkGroupInfo(cl_kernel kernel, cl_device_id device, cl_kernel_work_group_info param_name,
                                       size_t param_value_size, void *param_value, size_t *param_value_size_ret);

/* Buffers. */
cl_mem lovasz_clCreateBuffer(cl_context context, cl_mem_flags flags, size_t size, void *host_ptr,
                             cl_int *errcode_ret);
cl_int lovasz_clReleaseMemObject(cl_mem memobj);

/* Commands. */
cl_int lovasz_clEnqueueWriteBuffer(cl_command_queue command_queue, cl_mem buffer, cl_bool blocking_write,
                                   size_t offset, size_t size, const void *ptr, cl_uint num_events_in_wait_list,
                                   const cl_event *event_wait_list, cl_event *event);
cl_int lovasz_clEnqueueReadBuffer(cl_command_queue command_queue, cl_mem buffer, cl_bool blocking_read,
                                  size_t offset, size_t size, void *ptr, cl_uint num_events_in_wait_list,
                                  const cl_event *event_wait_list, cl_event *event);
cl_int lovasz_clEnqueueCopyBuffer(cl_command_queue command_queue, cl_mem src_buffer, cl_mem dst_buffer,
                                  size_t src_offset, size_t dst_offset, size_t size,
                                  cl_uint num_events_in_wait_list, const cl_event *event_wait_list,
                                  cl_event *event);
cl_int lovasz_clEnqueueFillBuffer(cl_command_queue command_queue, cl_mem buffer, const void *pattern,
                                  size_t pattern_size, size_t offset, size_t size,
                                  cl_uint num_events_in_wait_list, const cl_event *event_wait_list,
                                  cl_event *event);
cl_int lovasz_clEnqueueNDRangeKernel(cl_command_queue command_queue, cl_kernel kernel, cl_uint work_dim,
                                     const size_t *global_work_offset, const size_t *global_work_size,
                                     const size_t *local_work_size, cl_uint num_events_in_wait_list,
                                     const cl_event *event_wait_list, cl_event *event);

/* Events. */
cl_int lovasz_clWaitForEvents(cl_uint num_events, const cl_event *event_list);
cl_int lovasz_clReleaseEvent(cl_event event);
void *lovasz_clEnqueueMapBuffer(cl_command_queue command_queue, cl_mem buffer, cl_bool blocking_map,
                                 cl_map_flags map_flags, size_t offset, size_t size,
                                 cl_uint num_events_in_wait_list, const cl_event *event_wait_list,
                                 cl_event *event, cl_int *errcode_ret);
cl_int lovasz_clEnqueueUnmapMemObject(cl_command_queue command_queue, cl_mem memobj, void *mapped_ptr,
                                      cl_uint num_events_in_wait_list, const cl_event *event_wait_list,
                                      cl_event *event);
cl_int lovasz_clGetEventInfo(cl_event event, cl_event_info param_name, size_t param_value_size,
                             void *param_value, size_t *param_value_size_ret);
cl_int lovasz_clGetEventProfilingInfo(cl_event event, cl_profiling_info param_name, size_t param_value_size,
                                      void *param_value, size_t *param_value_size_ret);

/* External handles: a caller's queue, buffers and events (zero-copy from training code). */
cl_int lovasz_clRetainContext(cl_context context);
cl_int lovasz_clRetainCommandQueue(cl_command_queue command_queue);
cl_int lovasz_clGetCommandQueueInfo(cl_command_queue command_queue, cl_command_queue_info param_name,
                                    size_t param_value_size, void *param_value, size_t *param_value_size_ret);
cl_int lovasz_clRetainMemObject(cl_mem memobj);
cl_int lovasz_clGetMemObjectInfo(cl_mem memobj, cl_mem_info param_name, size_t param_value_size,
                                 void *param_value, size_t *param_value_size_ret);
cl_mem lovasz_clCreateSubBuffer(cl_mem buffer, cl_mem_flags flags, cl_buffer_create_type buffer_create_type,
                                const void *buffer_create_info, cl_int *errcode_ret);
cl_int lovasz_clRetainEvent(cl_event event);
cl_int lovasz_clEnqueueMarkerWithWaitList(cl_command_queue command_queue, cl_uint num_events_in_wait_list,
                                          const cl_event *event_wait_list, cl_event *event);
cl_int lovasz_clEnqueueBarrierWithWaitList(cl_command_queue command_queue, cl_uint num_events_in_wait_list,
                                           const cl_event *event_wait_list, cl_event *event);

#ifdef __cplusplus
}
#endif

#endif /* LOVASZ_OPENCL_H */
