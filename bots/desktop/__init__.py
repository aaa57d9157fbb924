"""The desktop bot: pyautogui drives a legacy desktop app (the sample 住民記録 app) as a ``TargetSystem``.

``screen.py`` is the seam to the X display (image-locate, keys, clipboard), ``pages.py`` the app's page
objects, ``target.py`` the find/create/read verbs the key-in loop calls; ``images/`` the reference PNGs.
"""

from bots.desktop.target import DesktopTarget, make_desktop_target, open_desktop_target

__all__ = ["DesktopTarget", "make_desktop_target", "open_desktop_target"]
