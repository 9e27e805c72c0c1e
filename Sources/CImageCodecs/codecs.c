#include "CImageCodecs.h"
int corral_codecs_version(void) { return 1; }
