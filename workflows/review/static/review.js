// Review station keyboard handling. Enter accepts a field and moves on; on the last field it submits.
// Plain script, no libraries: the city network has no CDN.
(function () {
  "use strict";
  const form = document.getElementById("review-form");
  const overlay = document.getElementById("page-view");

  function openPage(button) {
    const img = overlay.querySelector("img");
    if (img.getAttribute("src") !== button.dataset.src) img.src = button.dataset.src;  // loaded on demand only
    overlay.hidden = false;
    overlay.dataset.returnFocus = document.activeElement && document.activeElement.id ? document.activeElement.id : "";
    overlay.tabIndex = -1;
    overlay.focus();
  }
  function closePage() {
    overlay.hidden = true;
    const back = overlay.dataset.returnFocus && document.getElementById(overlay.dataset.returnFocus);
    (back || (form && form.querySelector(".task.current .js-entry")) || document.body).focus();
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.isComposing || ev.keyCode === 229) return;  // the IME is converting kana: Enter belongs to it
    if (overlay && !overlay.hidden) {
      if (ev.key === "Escape" || (ev.altKey && ev.key.toLowerCase() === "p")) { ev.preventDefault(); closePage(); }
      else if (ev.key === "z" || ev.key === "+") { ev.preventDefault(); overlay.querySelector("img").classList.toggle("zoom"); }
      return;
    }
    if (ev.altKey && !ev.ctrlKey && ev.key.toLowerCase() === "n") {
      const skip = document.getElementById("skip");
      if (skip) { ev.preventDefault(); window.location.href = skip.href; }
      return;
    }
    if (ev.altKey && !ev.ctrlKey && ev.key.toLowerCase() === "p") {
      const b = document.querySelector(".js-page");
      if (b) { ev.preventDefault(); openPage(b); }
      return;
    }
    if (form && ev.ctrlKey && ev.key === "Enter") { ev.preventDefault(); submit(); }
  });
  document.querySelectorAll(".js-page").forEach(b => b.addEventListener("click", () => openPage(b)));
  if (overlay) overlay.querySelector("img").addEventListener("click", ev => ev.target.classList.toggle("zoom"));

  const start = document.getElementById("start");
  if (start && !form) {
    document.addEventListener("keydown", ev => {
      if (ev.key === "Enter" && document.activeElement === document.body) { ev.preventDefault(); start.click(); }
    });
    start.focus();
  }
  if (!form) return;

  const tasks = Array.from(form.querySelectorAll(".task"));
  const entryOf = task => task.querySelector(".js-entry");
  const hiddenOf = task => task.querySelector("input[type=hidden]");
  let submitting = false;

  function submit() {
    if (submitting) return;
    submitting = true;
    HTMLFormElement.prototype.submit.call(form);
  }
  function focusTask(i) {
    tasks.forEach(t => t.classList.remove("current"));
    const task = tasks[i];
    if (!task) return;
    task.classList.add("current");
    const el = entryOf(task);
    el.focus();
    if (el.select) el.select();
    task.scrollIntoView({block: "nearest"});
  }
  function accept(task) {
    task.classList.add("done");
    const i = tasks.indexOf(task);
    if (i === tasks.length - 1 || tasks.slice(i + 1).every(t => t.classList.contains("done"))) {
      const next = tasks.find(t => !t.classList.contains("done"));
      if (next) focusTask(tasks.indexOf(next)); else submit();
    } else {
      focusTask(i + 1);
    }
  }
  function setChoice(group, value) {
    group.querySelectorAll("[role=radio]").forEach(b => b.setAttribute("aria-checked", String(b.dataset.value === value)));
    hiddenOf(group.closest(".task")).value = value;
  }
  function setCheck(button, on) {
    button.setAttribute("aria-pressed", String(on));
    hiddenOf(button.closest(".task")).value = on ? "1" : "";
  }

  tasks.forEach(task => {
    const el = entryOf(task);
    task.addEventListener("focusin", () => { tasks.forEach(t => t.classList.remove("current")); task.classList.add("current"); });
    el.addEventListener("keydown", ev => {
      if (ev.isComposing || ev.keyCode === 229) return;
      if (ev.key === "Enter" && !ev.ctrlKey && !ev.altKey && !ev.shiftKey) { ev.preventDefault(); accept(task); return; }
      if (ev.key === "Escape") {
        ev.preventDefault();
        if (el.classList.contains("toggle-group")) setChoice(el, el.dataset.original);
        else if (el.classList.contains("check")) setCheck(el, el.dataset.original === "1");
        else { el.value = el.dataset.original; el.select(); }
        task.classList.remove("done");
        return;
      }
      if (el.classList.contains("toggle-group")) {
        const options = Array.from(el.querySelectorAll("[role=radio]"));
        const current = options.findIndex(b => b.getAttribute("aria-checked") === "true");
        let pick = -1;
        if (/^[1-9]$/.test(ev.key)) pick = Number(ev.key) - 1;
        else if (ev.key === "ArrowRight" || ev.key === "ArrowDown") pick = (current + 1) % options.length;
        else if (ev.key === "ArrowLeft" || ev.key === "ArrowUp") pick = (current - 1 + options.length) % options.length;
        else if (ev.key === " " || ev.key === "Delete" || ev.key === "Backspace") { ev.preventDefault(); setChoice(el, ""); return; }
        if (pick >= 0 && pick < options.length) { ev.preventDefault(); setChoice(el, options[pick].dataset.value); }
      } else if (el.classList.contains("check")) {
        if (ev.key === " ") { ev.preventDefault(); setCheck(el, el.getAttribute("aria-pressed") !== "true"); }
        else if (ev.key === "1") { ev.preventDefault(); setCheck(el, true); }
        else if (ev.key === "0") { ev.preventDefault(); setCheck(el, false); }
      }
    });
    if (el.classList.contains("toggle-group")) {
      el.querySelectorAll("[role=radio]").forEach(b => b.addEventListener("click", () => { setChoice(el, b.dataset.value); el.focus(); }));
    } else if (el.classList.contains("check")) {
      el.addEventListener("click", ev => { if (ev.detail !== 0) setCheck(el, el.getAttribute("aria-pressed") !== "true"); });
    }
    task.querySelectorAll(".pick").forEach(p => p.addEventListener("click", () => {
      if (el.classList.contains("toggle-group")) setChoice(el, p.dataset.value);
      else if (el.classList.contains("check")) setCheck(el, p.dataset.value === "1" || p.dataset.value === "True");
      else el.value = p.dataset.value;
      focusTask(tasks.indexOf(task));
    }));
  });
  form.addEventListener("submit", ev => { if (submitting) return; ev.preventDefault(); submit(); });

  const firstError = tasks.findIndex(t => t.classList.contains("has-error"));
  focusTask(firstError >= 0 ? firstError : 0);
})();
