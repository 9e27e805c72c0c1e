#include "common.h"
#include <stdlib.h>
void corral_free(void *p) { free(p); }
