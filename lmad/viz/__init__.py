"""Pictures: multi-view renders of labelled clouds, the synthetic contact sheet (matplotlib, headless)."""
