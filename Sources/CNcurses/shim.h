#ifndef CORRAL_CNCURSES_SHIM_H
#define CORRAL_CNCURSES_SHIM_H
// ncursesw with wide-character functions. Macros (COLOR_PAIR, getmaxyx, KEY_*) do not import into
// Swift, so the few we need are wrapped as static inline functions here.
#define NCURSES_WIDECHAR 1
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <locale.h>
#include <wchar.h>
#include <ncursesw/curses.h>

static inline int corral_color_pair(int n) { return COLOR_PAIR(n); }
static inline int corral_max_y(WINDOW *w) { int y, x; getmaxyx(w, y, x); (void)x; return y; }
static inline int corral_max_x(WINDOW *w) { int y, x; getmaxyx(w, y, x); (void)y; return x; }
static inline WINDOW *corral_stdscr(void) { return stdscr; }
static inline WINDOW *corral_curscr(void) { return curscr; }
static inline int corral_colors(void) { return COLORS; }
static inline int corral_color_pairs(void) { return COLOR_PAIRS; }

/// Attribute bits as the Swift side passes them: 1 bold, 2 dim, 4 reverse, 8 underline.
static inline attr_t corral_attrs(int bits) {
    attr_t a = A_NORMAL;
    if (bits & 1) a |= A_BOLD;
    if (bits & 2) a |= A_DIM;
    if (bits & 4) a |= A_REVERSE;
    if (bits & 8) a |= A_UNDERLINE;
    return a;
}

/// Draws one grapheme (up to a few code points) with attributes and an extended colour pair
/// (pairs above 32767 travel through setcchar's opts pointer, an ncurses extension).
static inline int corral_put_cell(int y, int x, const wchar_t *wch, int attr_bits, int pair) {
    cchar_t cc;
    int p = pair;
    if (setcchar(&cc, wch, corral_attrs(attr_bits), 0, &p) == ERR) return ERR;
    return mvadd_wch(y, x, &cc);
}
#endif
