// The CPU path's C helpers are static inline functions in include/lovasz_cpu.h; SwiftPM
// needs one source file to build the target.
#include "lovasz_cpu.h"
