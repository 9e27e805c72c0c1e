#ifndef CORRAL_CNCURSES_SHIM_H
#define CORRAL_CNCURSES_SHIM_H
// ncursesw with wide-character functions. Macros (COLOR_PAIR, getmaxyx, KEY_*) do not import into
// Swift, so the few we need are wrapped as static inline functions here.
#define NCURSES_WIDECHAR 1
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <locale.h>
#include <ncursesw/curses.h>

static inline int corral_color_pair(int n) { return COLOR_PAIR(n); }
static inline int corral_max_y(WINDOW *w) { int y, x; getmaxyx(w, y, x); (void)x; return y; }
static inline int corral_max_x(WINDOW *w) { int y, x; getmaxyx(w, y, x); (void)y; return x; }
static inline WINDOW *corral_stdscr(void) { return stdscr; }
#endif
