/// UI: application state, messages, update and views that render into a ScreenBuffer. No curses here.
public enum UIModule {}
