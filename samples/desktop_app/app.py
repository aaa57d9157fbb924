"""A sample legacy desktop app (Tk): a 住民記録 (resident records) client such as a city's core system ships.

What the desktop bot has to cope with, as with the real thing: no API and no accessibility tree worth the
name, only pixels and the keyboard. Screens: login → 住民検索 (search by 申請受付番号, 住民番号, カナ氏名,
生年月日) → 検索結果一覧 → 登録内容照会 (a read-only text view), and 異動届入力 (the entry form) whose 登録
button validates, asks 登録確認 (はい/いいえ) and answers 登録完了 with the new 住民番号. Dialogs are the app's
own windows; like Windows message boxes they copy their title and message on Ctrl+C.

Widgets that a bot recognises by image are registered in ``DesktopApp.refs`` so that ``capture.py`` can
re-cut the bot's reference images from this very app.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

from samples.desktop_app.form import CHECK_TEXT, ENTRY_FIELDS, VIEW_LABELS, VIEW_ORDER, show_date, validate
from samples.desktop_app.store import Resident, ResidentStore

TITLE = "住民記録システム (サンプル)"
GEOMETRY = (1000, 720)
FONT = "Noto Sans CJK JP"
MONO = "Noto Sans Mono CJK JP"
NAVY, PAPER, GREY = "#1f3a5f", "#f2f2ec", "#d9d9d2"
DIALOG_COLOURS = {"error": "#9b1c1c", "confirm": NAVY, "info": "#2f6b3a"}

SCREEN_TITLES = {
    "login": "ログイン", "search": "住民検索", "results": "検索結果一覧", "entry": "異動届入力", "view": "登録内容照会",
}
# Dialog titles and the reference-image names they are known by.
DIALOGS = {
    "input_error": ("error", "入力エラー"), "login_error": ("error", "ログインエラー"),
    "confirm": ("confirm", "登録確認"), "done": ("info", "登録完了"), "no_hit": ("info", "該当なし"),
}


class Dialog(tk.Toplevel):
    """A modal message box drawn by the app itself: a coloured title strip, the message, one or two buttons."""

    def __init__(self, app: DesktopApp, dialog: str, message: str,
                 on_close: Callable[[bool], None] | None = None) -> None:
        kind, title = DIALOGS[dialog]
        super().__init__(app.root, bg=PAPER, highlightthickness=2, highlightbackground="#5a5a55",
                         highlightcolor="#5a5a55")
        self.app, self.on_close, self.text = app, on_close, f"{title}\n{message}"
        self.title(title)
        self.transient(app.root)
        width, height = 460, 200
        x = app.root.winfo_rootx() + (GEOMETRY[0] - width) // 2
        y = app.root.winfo_rooty() + (GEOMETRY[1] - height) // 2
        self.geometry(f"{width}x{height}+{x}+{y}")
        self.resizable(False, False)
        strip = tk.Frame(self, bg=DIALOG_COLOURS[kind], height=40)
        strip.pack(fill="x")
        heading = tk.Label(strip, text=title, fg="white", bg=DIALOG_COLOURS[kind], font=(FONT, 13, "bold"))
        heading.pack(side="left", padx=14, pady=6)
        app.refs[f"dialog_{dialog}"] = heading
        tk.Label(self, text=message, bg=PAPER, font=(FONT, 11), wraplength=width - 40, justify="left").pack(
            fill="both", expand=True, padx=20, pady=10)
        buttons = tk.Frame(self, bg=PAPER)
        buttons.pack(side="bottom", pady=12)
        if kind == "confirm":
            yes = app.button(buttons, "はい", lambda: self.close(True), "button_yes")
            app.button(buttons, "いいえ", lambda: self.close(False), "button_no")
            default = yes
        else:
            default = app.button(buttons, "OK", lambda: self.close(True), "button_ok")
        self.bind("<Return>", lambda e: self.close(True))
        self.bind("<KP_Enter>", lambda e: self.close(True))
        self.bind("<Escape>", lambda e: self.close(kind != "confirm"))
        self.bind("<Control-c>", self.copy)
        self.protocol("WM_DELETE_WINDOW", lambda: self.close(False))
        self.update_idletasks()
        self.grab_set()
        self.focus_force()
        default.focus_set()
        app.dialog = self

    def copy(self, _event: tk.Event | None = None) -> str:
        self.clipboard_clear()
        self.clipboard_append(self.text)
        return "break"

    def close(self, answer: bool) -> None:
        self.app.dialog = None
        self.grab_release()
        self.destroy()
        self.app.root.focus_force()
        if self.on_close:
            self.on_close(answer)
        else:
            self.app.refocus()


class DesktopApp:
    """The whole app: one window whose body swaps between screens, and its modal dialogs."""

    def __init__(self, store: ResidentStore, username: str, password: str, *, delay_ms: int = 0,
                 root: tk.Tk | None = None) -> None:
        self.store, self.username, self.password, self.delay_ms = store, username, password, delay_ms
        self.refs: dict[str, tk.Widget] = {}
        self.dialog: Dialog | None = None
        self.screen = ""
        self.root = root or tk.Tk()
        self.root.title(TITLE)
        self.root.geometry(f"{GEOMETRY[0]}x{GEOMETRY[1]}+0+0")
        self.root.resizable(False, False)
        self.root.configure(bg=PAPER)
        self._style()
        self._banner()
        self.body = tk.Frame(self.root, bg=PAPER)
        self.body.pack(fill="both", expand=True)
        self.status = tk.Label(self.root, text="", anchor="w", bg=GREY, font=(FONT, 10))
        self.status.pack(fill="x", side="bottom")
        self.screens = {
            "login": self._login_screen(), "search": self._search_screen(), "results": self._results_screen(),
            "entry": self._entry_screen(), "view": self._view_screen(),
        }
        self.show("login")

    # ---- building blocks -------------------------------------------------------------------------------
    def _style(self) -> None:
        style = ttk.Style(self.root)
        style.theme_use("clam")
        style.configure(".", font=(FONT, 11))
        style.configure("Treeview", rowheight=26)
        # Windows habits that clerks (and bots) rely on: Ctrl+A selects all in a field.
        for cls in ("TEntry", "TCombobox"):
            self.root.bind_class(cls, "<Control-a>", lambda e: (e.widget.select_range(0, "end"), "break")[1])

    def _banner(self) -> None:
        banner = tk.Frame(self.root, bg=NAVY, height=52)
        banner.pack(fill="x")
        tk.Label(banner, text="住民記録システム", fg="white", bg=NAVY, font=(FONT, 12)).pack(side="left", padx=14)
        self.screen_title = tk.Label(banner, text="", fg="white", bg=NAVY, font=(FONT, 16, "bold"))
        self.screen_title.pack(side="left", padx=18, pady=8)
        self.user_label = tk.Label(banner, text="", fg="white", bg=NAVY, font=(FONT, 10))
        self.user_label.pack(side="right", padx=14)

    def button(self, parent: tk.Widget, text: str, command: Callable[[], None], ref: str) -> tk.Button:
        """A flat, legacy-looking button that does not change colour under the mouse (stable for images)."""
        widget = tk.Button(parent, text=text, command=command, font=(FONT, 11), width=10, bg=GREY,
                           activebackground=GREY, relief="raised", bd=2, highlightthickness=2,
                           highlightcolor=NAVY, highlightbackground=PAPER)
        widget.bind("<Return>", lambda e: command())
        widget.pack(side="left", padx=8)
        self.refs[ref] = widget
        return widget

    def _labelled(self, parent: tk.Widget, row: int, column: int, label: str, widget: tk.Widget) -> None:
        tk.Label(parent, text=label, bg=PAPER, font=(FONT, 11), anchor="e", width=12).grid(
            row=row, column=column, sticky="e", padx=(10, 6), pady=5)
        widget.grid(row=row, column=column + 1, sticky="w", pady=5)

    # ---- screens ---------------------------------------------------------------------------------------
    def _login_screen(self) -> tk.Frame:
        frame = tk.Frame(self.body, bg=PAPER)
        box = tk.Frame(frame, bg=PAPER, bd=1, relief="groove", padx=30, pady=20)
        box.place(relx=0.5, rely=0.4, anchor="center")
        self.login_user = ttk.Entry(box, width=20, font=(FONT, 11))
        self.login_password = ttk.Entry(box, width=20, show="*", font=(FONT, 11))
        self._labelled(box, 0, 0, "職員ID", self.login_user)
        self._labelled(box, 1, 0, "パスワード", self.login_password)
        buttons = tk.Frame(box, bg=PAPER)
        buttons.grid(row=2, column=0, columnspan=2, pady=(14, 0))
        self.button(buttons, "ログイン", self.login, "button_login")
        self.login_password.bind("<Return>", lambda e: self.login())
        self.login_user.bind("<Return>", lambda e: self.login_password.focus_set())
        return frame

    def _search_screen(self) -> tk.Frame:
        frame = tk.Frame(self.body, bg=PAPER)
        form = tk.Frame(frame, bg=PAPER)
        form.pack(anchor="w", padx=30, pady=24)
        self.search_fields = {name: ttk.Entry(form, width=28, font=(FONT, 11))
                              for name in ("application_ref", "number", "kana", "birth_date")}
        labels = {"application_ref": "申請受付番号", "number": "住民番号", "kana": "カナ氏名",
                  "birth_date": "生年月日"}
        for row, (name, entry) in enumerate(self.search_fields.items()):
            self._labelled(form, row, 0, labels[name], entry)
            entry.bind("<Return>", lambda e: self.search())
            entry.bind("<Escape>", lambda e: self.clear_search())
        tk.Label(form, text="生年月日は西暦8桁（YYYYMMDD）、カナ氏名は前方一致", bg=PAPER, fg="#555",
                 font=(FONT, 9)).grid(row=4, column=1, sticky="w")
        buttons = tk.Frame(frame, bg=PAPER)
        buttons.pack(anchor="w", padx=40, pady=10)
        self.button(buttons, "検索", self.search, "button_search")
        self.button(buttons, "クリア", self.clear_search, "button_clear")
        self.button(buttons, "新規登録", lambda: self.show("entry"), "button_new")
        self.button(buttons, "ログアウト", self.logout, "button_logout")
        return frame

    def _results_screen(self) -> tk.Frame:
        frame = tk.Frame(self.body, bg=PAPER)
        columns = {"number": ("住民番号", 100), "name": ("氏名", 180), "kana": ("フリガナ", 200),
                   "birth": ("生年月日", 110), "ref": ("申請受付番号", 250)}
        self.results = ttk.Treeview(frame, columns=list(columns), show="headings", height=14,
                                    selectmode="browse")
        for key, (label, width) in columns.items():
            self.results.heading(key, text=label)
            self.results.column(key, width=width, anchor="w")
        self.results.pack(padx=30, pady=(24, 10), anchor="w")
        self.results.bind("<Return>", lambda e: self.open_selected())
        self.results.bind("<Double-1>", lambda e: self.open_selected())
        buttons = tk.Frame(frame, bg=PAPER)
        buttons.pack(anchor="w", padx=40, pady=6)
        self.button(buttons, "照会", self.open_selected, "button_open")
        self.button(buttons, "戻る", lambda: self.show("search"), "button_back")
        return frame

    def _entry_screen(self) -> tk.Frame:
        frame = tk.Frame(self.body, bg=PAPER)
        form = tk.Frame(frame, bg=PAPER)
        form.pack(anchor="w", padx=20, pady=16)
        self.entry_widgets: dict[str, tk.Widget] = {}
        self.national_health = tk.BooleanVar(value=False)
        half = 7
        for index, spec in enumerate(ENTRY_FIELDS):
            if spec.kind == "check":
                widget: tk.Widget = ttk.Checkbutton(form, text="加入する", variable=self.national_health)
            elif spec.kind == "choice":
                widget = ttk.Combobox(form, values=list(spec.options), width=12, font=(FONT, 11))
            else:
                widget = ttk.Entry(form, width=30 if spec.max_length > 20 else 18, font=(FONT, 11))
            label = "国保加入" if spec.kind == "check" else spec.label
            self._labelled(form, index % half, 0 if index < half else 2, label, widget)
            self.entry_widgets[spec.name] = widget
        tk.Label(frame, text="日付は西暦8桁（YYYYMMDD）。氏名・住所・世帯主は全角、フリガナは全角カタカナで入力。",
                 bg=PAPER, fg="#555", font=(FONT, 9)).pack(anchor="w", padx=40)
        buttons = tk.Frame(frame, bg=PAPER)
        buttons.pack(anchor="w", padx=40, pady=14)
        self.button(buttons, "登録", self.register, "button_register")
        self.button(buttons, "戻る", lambda: self.show("search"), "button_back")
        return frame

    def _view_screen(self) -> tk.Frame:
        frame = tk.Frame(self.body, bg=PAPER)
        self.view_text = tk.Text(frame, width=70, height=18, font=(MONO, 11), bg="white", relief="sunken",
                                 bd=2, wrap="none", exportselection=False)
        self.view_text.pack(padx=30, pady=(20, 8), anchor="w")
        self.view_text.bind("<Control-a>", lambda e: (self.view_text.tag_add("sel", "1.0", "end-1c"), "break")[1])
        buttons = tk.Frame(frame, bg=PAPER)
        buttons.pack(anchor="w", padx=40, pady=6)
        self.button(buttons, "戻る", lambda: self.show("search"), "button_back")
        return frame

    # ---- navigation ------------------------------------------------------------------------------------
    def show(self, screen: str) -> None:
        for frame in self.screens.values():
            frame.pack_forget()
        self.screen = screen
        self.screen_title.configure(text=SCREEN_TITLES[screen])
        self.refs[f"screen_{screen}"] = self.screen_title
        if screen == "search":
            self._clear_search_fields()
        if screen == "entry":
            self._clear_entry()
        self.screens[screen].pack(fill="both", expand=True)
        self.status.configure(text="")
        self.refocus()

    def refocus(self) -> None:
        """Give the keyboard to the screen's first field, as the clerk expects after every screen change."""
        self.root.focus_force()
        first = {"login": self.login_user, "search": self.search_fields["application_ref"],
                 "results": self.results, "entry": self.entry_widgets["application_ref"], "view": self.view_text}
        first[self.screen].focus_set()

    def login(self) -> None:
        if self.login_user.get() == self.username and self.login_password.get() == self.password:
            self.login_password.delete(0, "end")
            self.user_label.configure(text=f"職員：{self.username}")
            self.show("search")
        else:
            self.login_password.delete(0, "end")
            Dialog(self, "login_error", "職員IDまたはパスワードが違います。")

    def logout(self) -> None:
        self.user_label.configure(text="")
        self.login_user.delete(0, "end")
        self.show("login")

    def _clear_search_fields(self) -> None:
        for entry in self.search_fields.values():
            entry.delete(0, "end")

    def clear_search(self) -> None:
        """クリア (or Escape): empty every condition and start again from the first field."""
        self._clear_search_fields()
        self.refocus()

    def search(self) -> None:
        criteria = {name: entry.get().strip() for name, entry in self.search_fields.items()}
        if not any(criteria.values()):
            Dialog(self, "input_error", "検索条件を入力してください。")
            return
        found = self.store.search(**criteria)
        if not found:
            Dialog(self, "no_hit", "該当する記録はありません。")
            return
        self.results.delete(*self.results.get_children())
        for resident in found:
            v = resident.values
            self.results.insert("", "end", iid=resident.resident_no, values=(
                resident.resident_no, v["name"], v["name_kana"], show_date(v["birth_date"]), v["application_ref"]))
        first = self.results.get_children()[0]
        self.show("results")
        self.results.selection_set(first)
        self.results.focus(first)
        self.status.configure(text=f"{len(found)}件該当しました。")

    def open_selected(self) -> None:
        selected = self.results.selection()
        resident = self.store.get(selected[0]) if selected else None
        if resident:
            self.open_view(resident)

    def open_view(self, resident: Resident) -> None:
        values = {"resident_no": resident.resident_no, **resident.values, "created_at": resident.created_at}
        values["national_health"] = CHECK_TEXT[bool(values["national_health"])]
        for name in ("moved_on", "birth_date"):
            values[name] = show_date(values[name])
        width = max(len(label) for label in VIEW_LABELS.values())
        lines = [f"{VIEW_LABELS[name].ljust(width, '　')}：{values[name]}" for name in VIEW_ORDER]
        self.view_text.configure(state="normal")
        self.view_text.delete("1.0", "end")
        self.view_text.insert("1.0", "\n".join(lines))
        self.view_text.configure(state="disabled")
        self.show("view")

    # ---- the entry form --------------------------------------------------------------------------------
    def _clear_entry(self) -> None:
        for widget in self.entry_widgets.values():
            if isinstance(widget, ttk.Entry):  # Combobox is an Entry too
                widget.delete(0, "end")
        self.national_health.set(False)

    def entry_values(self) -> dict[str, object]:
        values: dict[str, object] = {
            name: widget.get().strip() for name, widget in self.entry_widgets.items() if isinstance(widget, ttk.Entry)
        }
        values["national_health"] = self.national_health.get()
        return values

    def register(self) -> None:
        values = self.entry_values()
        problem = validate(values)
        if problem:
            Dialog(self, "input_error", problem)
            return
        Dialog(self, "confirm", "この内容で登録しますか？", lambda yes: self._save(values) if yes else self.refocus())

    def _save(self, values: dict[str, object]) -> None:
        self.status.configure(text="処理中です。しばらくお待ちください…")
        self.root.configure(cursor="watch")

        def save() -> None:
            number = self.store.add(values)
            self.root.configure(cursor="")
            resident = self.store.get(number)
            Dialog(self, "done", f"登録しました。\n住民番号：{number}",
                   lambda _ok: self.open_view(resident) if resident else self.show("search"))

        self.root.after(self.delay_ms, save)

    def run(self) -> None:
        self.root.mainloop()
