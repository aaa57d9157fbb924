"""RPA bots: key records into legacy web screens (Playwright) and desktop apps (pyautogui)."""
