#include "trace/trace-hw_itc.h"
