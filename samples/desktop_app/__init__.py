"""A sample legacy desktop app (Tk) for the pyautogui bot: tests and demo."""
