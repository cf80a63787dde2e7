/*
 * The lovasz_cl* wrappers of include/lovasz_opencl.h: each loads the OpenCL library on first
 * use (shim.c) and calls through its pointer.
 */
#include "shim_functions.h"

cl_int lovasz_clGetPlatformIDs(cl_uint num_entries, cl_platform_id *platforms, cl_uint *num_platforms) {
    LOVASZ_CL_STATUS_CALL(clGetPlatformIDs, num_entries, platforms, num_platforms);
}

cl_int lovasz_clGetPlatformInfo(cl_platform_id platform, cl_platform_info param_name,
                                size_t param_value_size, void *param_value, size_t *param_value_size_ret) {
    LOVASZ_CL_STATUS_CALL(clGetPlatformInfo, platform, param_name, param_value_size, param_value,
                          param_value_size_ret);
}

cl_int lovasz_clGetDeviceIDs(cl_platform_id platform, cl_device_type device_type, cl_uint num_entries,
                             cl_device_id *devices, cl_uint *num_devices) {
    LOVASZ_CL_STATUS_CALL(clGetDeviceIDs, platform, device_type, num_entries, devices, num_devices);
}

cl_int lovasz_clGetDeviceInfo(cl_device_id device, cl_device_info param_name, size_t param_value_size,
                              void *param_value, size_t *param_value_size_ret) {
    LOVASZ_CL_STATUS_CALL(clGetDeviceInfo, device, param_name, param_value_size, param_value,
                          param_value_size_ret);
}

cl_context lovasz_clCreateContext(const cl_context_properties *properties, cl_uint num_devices,
                                  const cl_device_id *devices,
                                  void (CL_CALLBACK *pfn_notify)(const char *, const void *, size_t, void *),
                                  void *user_data, cl_int *errcode_ret) {
    LOVASZ_CL_OBJECT_CALL(clCreateContext, errcode_ret, properties, num_devices, devices, pfn_notify,
                          user_data, errcode_ret);
}

cl_int lovasz_clReleaseContext(cl_context context) {
    LOVASZ_CL_STATUS_CALL(clReleaseContext, context);
}

cl_command_queue lovasz_clCreateCommandQueue(cl_context context, cl_device_id device,
                                             cl_command_queue_properties properties, cl_int *errcode_ret) {
    LOVASZ_CL_OBJECT_CALL(clCreateCommandQueue, errcode_ret, context, device, properties, errcode_ret);
}

cl_int lovasz_clReleaseCommandQueue(cl_command_queue command_queue) {
    LOVASZ_CL_STATUS_CALL(clReleaseCommandQueue, command_queue);
}

cl_int lovasz_clFinish(cl_command_queue command_queue) {
    LOVASZ_CL_STATUS_CALL(clFinish, command_queue);
}

cl_int lovasz_clFlush(cl_command_queue command_queue) {
    LOVASZ_CL_STATUS_CALL(clFlush, command_queue);
}

cl_program lovasz_clCreateProgramWithSource(cl_context context, cl_uint count, const char **strings,
                                            const size_t *lengths, cl_int *errcode_ret) {
    LOVASZ_CL_OBJECT_CALL(clCreateProgramWithSource, errcode_ret, context, count, strings, lengths,
                          errcode_ret);
}

cl_int lovasz_clBuildProgram(cl_program program, cl_uint num_devices, const cl_device_id *device_list,
                             const char *options,
                             void (CL_CALLBACK *pfn_notify)(cl_program, void *), void *user_data) {
    LOVASZ_CL_STATUS_CALL(clBuildProgram, program, num_devices, device_list, options, pfn_notify,
                          user_data);
}

cl_int lovasz_clGetProgramBuildInfo(cl_program program, cl_device_id device, cl_program_build_info param_name,
                                    size_t param_value_size, void *param_value, size_t *param_value_size_ret) {
    LOVASZ_CL_STATUS_CALL(clGetProgramBuildInfo, program, device, param_name, param_value_size,
                          param_value, param_value_size_ret);
}

cl_int lovasz_clReleaseProgram(cl_program program) {
    LOVASZ_CL_STATUS_CALL(clReleaseProgram, program);
}

cl_kernel lovasz_clCreateKernel(cl_program program, const char *kernel_name, cl_int *errcode_ret) {
    LOVASZ_CL_OBJECT_CALL(clCreateKernel, errcode_ret, program, kernel_name, errcode_ret);
}

cl_int lovasz_clReleaseKernel(cl_kernel kernel) {
    LOVASZ_CL_STATUS_CALL(clReleaseKernel, kernel);
}

cl_int lovasz_clSetKernelArg(cl_kernel kernel, cl_uint arg_index, size_t arg_size, const void *arg_value) {
    LOVASZ_CL_STATUS_CALL(clSetKernelArg, kernel, arg_index, arg_size, arg_value);
}

cl_int lovasz_clGetKernelWorkGroupInfo(cl_kernel kernel, cl_device_id device, cl_kernel_work_group_info param_name,
                                       size_t param_value_size, void *param_value, size_t *param_value_size_ret) {
    LOVASZ_CL_STATUS_CALL(clGetKernelWorkGroupInfo, kernel, device, param_name, param_value_size,
                          param_value, param_value_size_ret);
}

cl_mem lovasz_clCreateBuffer(cl_context context, cl_mem_flags flags, size_t size, void *host_ptr,
                             cl_int *errcode_ret) {
    LOVASZ_CL_OBJECT_CALL(clCreateBuffer, errcode_ret, context, flags, size, host_ptr, errcode_ret);
}

cl_int lovasz_clReleaseMemObject(cl_mem memobj) {
    LOVASZ_CL_STATUS_CALL(clReleaseMemObject, memobj);
}

cl_int lovasz_clEnqueueWriteBuffer(cl_command_queue command_queue, cl_mem buffer, cl_bool blocking_write,
                                   size_t offset, size_t size, const void *ptr, cl_uint num_events_in_wait_list,
                                   const cl_event *event_wait_list, cl_event *event) {
    LOVASZ_CL_STATUS_CALL(clEnqueueWriteBuffer, command_queue, buffer, blocking_write, offset, size, ptr,
                          num_events_in_wait_list, event_wait_list, event);
}

cl_int lovasz_clEnqueueReadBuffer(cl_command_queue command_queue, cl_mem buffer, cl_bool blocking_read,
                                  size_t offset, size_t size, void *ptr, cl_uint num_events_in_wait_list,
                                  const cl_event *event_wait_list, cl_event *event) {
    LOVASZ_CL_STATUS_CALL(clEnqueueReadBuffer, command_queue, buffer, blocking_read, offset, size, ptr,
                          num_events_in_wait_list, event_wait_list, event);
}

cl_int lovasz_clEnqueueCopyBuffer(cl_command_queue command_queue, cl_mem src_buffer, cl_mem dst_buffer,
                                  size_t src_offset, size_t dst_offset, size_t size,
                                  cl_uint num_events_in_wait_list, const cl_event *event_wait_list,
                                  cl_event *event) {
    LOVASZ_CL_STATUS_CALL(clEnqueueCopyBuffer, command_queue, src_buffer, dst_buffer, src_offset,
                          dst_offset, size, num_events_in_wait_list, event_wait_list, event);
}

cl_int lovasz_clEnqueueFillBuffer(cl_command_queue command_queue, cl_mem buffer, const void *pattern,
                                  size_t pattern_size, size_t offset, size_t size,
                                  cl_uint num_events_in_wait_list, const cl_event *event_wait_list,
                                  cl_event *event) {
    LOVASZ_CL_STATUS_CALL(clEnqueueFillBuffer, command_queue, buffer, pattern, pattern_size, offset, size,
                          num_events_in_wait_list, event_wait_list, event);
}

cl_int lovasz_clEnqueueNDRangeKernel(cl_command_queue command_queue, cl_kernel kernel, cl_uint work_dim,
                                     const size_t *global_work_offset, const size_t *global_work_size,
                                     const size_t *local_work_size, cl_uint num_events_in_wait_list,
                                     const cl_event *event_wait_list, cl_event *event) {
    LOVASZ_CL_STATUS_CALL(clEnqueueNDRangeKernel, command_queue, kernel, work_dim, global_work_offset,
                          global_work_size, local_work_size, num_events_in_wait_list, event_wait_list,
                          event);
}

void *lovasz_clEnqueueMapBuffer(cl_command_queue command_queue, cl_mem buffer, cl_bool blocking_map,
                                 cl_map_flags map_flags, size_t offset, size_t size,
                                 cl_uint num_events_in_wait_list, const cl_event *event_wait_list,
                                 cl_event *event, cl_int *errcode_ret) {
    LOVASZ_CL_OBJECT_CALL(clEnqueueMapBuffer, errcode_ret, command_queue, buffer, blocking_map, map_flags, offset,
                          size, num_events_in_wait_list, event_wait_list, event, errcode_ret);
}

cl_int lovasz_clEnqueueUnmapMemObject(cl_command_queue command_queue, cl_mem memobj, void *mapped_ptr,
                                      cl_uint num_events_in_wait_list, const cl_event *event_wait_list,
                                      cl_event *event) {
    LOVASZ_CL_STATUS_CALL(clEnqueueUnmapMemObject, command_queue, memobj, mapped_ptr, num_events_in_wait_list,
                          event_wait_list, event);
}

cl_int lovasz_clWaitForEvents(cl_uint num_events, const cl_event *event_list) {
    LOVASZ_CL_STATUS_CALL(clWaitForEvents, num_events, event_list);
}

cl_int lovasz_clReleaseEvent(cl_event event) {
    LOVASZ_CL_STATUS_CALL(clReleaseEvent, event);
}

cl_int lovasz_clGetEventInfo(cl_event event, cl_event_info param_name, size_t param_value_size,
                             void *param_value, size_t *param_value_size_ret) {
    LOVASZ_CL_STATUS_CALL(clGetEventInfo, event, param_name, param_value_size, param_value,
                          param_value_size_ret);
}

cl_int lovasz_clGetEventProfilingInfo(cl_event event, cl_profiling_info param_name, size_t param_value_size,
                                      void *param_value, size_t *param_value_size_ret) {
    LOVASZ_CL_STATUS_CALL(clGetEventProfilingInfo, event, param_name, param_value_size, param_value,
                          param_value_size_ret);
}

/* External handles: a caller's queue, buffers and events (zero-copy from training code). */

cl_int lovasz_clRetainContext(cl_context context) {
    LOVASZ_CL_STATUS_CALL(clRetainContext, context);
}

cl_int lovasz_clRetainCommandQueue(cl_command_queue command_queue) {
    LOVASZ_CL_STATUS_CALL(clRetainCommandQueue, command_queue);
}

cl_int lovasz_clGetCommandQueueInfo(cl_command_queue command_queue, cl_command_queue_info param_name,
                                    size_t param_value_size, void *param_value, size_t *param_value_size_ret) {
    LOVASZ_CL_STATUS_CALL(clGetCommandQueueInfo, command_queue, param_name, param_value_size, param_value,
                          param_value_size_ret);
}

cl_int lovasz_clRetainMemObject(cl_mem memobj) {
    LOVASZ_CL_STATUS_CALL(clRetainMemObject, memobj);
}

cl_int lovasz_clGetMemObjectInfo(cl_mem memobj, cl_mem_info param_name, size_t param_value_size,
                                 void *param_value, size_t *param_value_size_ret) {
    LOVASZ_CL_STATUS_CALL(clGetMemObjectInfo, memobj, param_name, param_value_size, param_value,
                          param_value_size_ret);
}

cl_mem lovasz_clCreateSubBuffer(cl_mem buffer, cl_mem_flags flags, cl_buffer_create_type buffer_create_type,
                                const void *buffer_create_info, cl_int *errcode_ret) {
    LOVASZ_CL_OBJECT_CALL(clCreateSubBuffer, errcode_ret, buffer, flags, buffer_create_type, buffer_create_info,
                          errcode_ret);
}

cl_int lovasz_clRetainEvent(cl_event event) {
    LOVASZ_CL_STATUS_CALL(clRetainEvent, event);
}

cl_int lovasz_clEnqueueMarkerWithWaitList(cl_command_queue command_queue, cl_uint num_events_in_wait_list,
                                          const cl_event *event_wait_list, cl_event *event) {
    LOVASZ_CL_STATUS_CALL(clEnqueueMarkerWithWaitList, command_queue, num_events_in_wait_list, event_wait_list,
                          event);
}

cl_int lovasz_clEnqueueBarrierWithWaitList(cl_command_queue command_queue, cl_uint num_events_in_wait_list,
                                           const cl_event *event_wait_list, cl_event *event) {
    LOVASZ_CL_STATUS_CALL(clEnqueueBarrierWithWaitList, command_queue, num_events_in_wait_list, event_wait_list,
                          event);
}
