import CNcurses
/// TerminalCurses: the only Swift code that touches curses. Draws a ScreenBuffer, reads keys.
public enum TerminalCursesModule {}
