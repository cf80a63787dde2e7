#include "lovasz_opencl.h"
int lovasz_cl_placeholder(void) { return 0; }
