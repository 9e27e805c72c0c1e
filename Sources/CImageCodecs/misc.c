#include "common.h"
#include <stdlib.h>
void corral_free(void *p) { free(p); }

#ifdef __linux__
#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

// Linux schedules threads individually and an unprivileged thread may always raise its own nice
// value; Swift cannot call gettid/syscall (variadic), hence this helper. Returns 0 on success.
int corral_lower_thread_priority(int amount) {
#ifdef __linux__
    if (amount <= 0) return 0;
    pid_t tid = (pid_t)syscall(SYS_gettid);
    errno = 0;
    int current = getpriority(PRIO_PROCESS, (id_t)tid);
    if (errno != 0) return -1;
    int target = current + amount > 19 ? 19 : current + amount;
    return setpriority(PRIO_PROCESS, (id_t)tid, target);
#else
    (void)amount;
    return -1;
#endif
}
