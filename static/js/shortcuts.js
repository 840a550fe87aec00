// Keyboard shortcuts on every staff page ("?" lists them all), the clickable rows of lists, the
// phone menu's button, and the running call clocks.
//
// - "?" opens the list of shortcuts; "/" focuses the page's search (data-search), or opens the
//   ticket list's;
// - "g" then "t", "q", "f" or "h" goes to tickets, queues, follow-ups or home;
// - "j" and "k" move through the rows of a list (each row's first link takes the focus, so
//   Enter opens it);
// - an element with data-shortcut="x" answers "x": a link is followed, a button is pressed, a
//   field is focused, any other element gets its first field focused (the ticket page's "r",
//   "i", "e", "s"; the open queue item's "a", "r" and "d");
// - data-row-shortcut="x" on a button inside a list row clicks it for the current row (the
//   queue's "a" take on and "d" done);
// - Ctrl+Enter (or Cmd+Enter) submits the form that has the focus when it allows it.
// None of them fires while the user is typing in a field.
//
// And on every page: a form posted is not posted again within a few seconds (a double click,
// Ctrl+Enter pressed twice), which would add a note twice or email a customer twice.
"use strict";

(function () {
  const RESUBMIT_AFTER_MS = 3000;
  // On window, bubbling: after every handler of the page's own scripts, so only a submission
  // none of them took over (a fetch instead of the navigation) counts.
  window.addEventListener("submit", function (event) {
    const form = event.target;
    if (event.defaultPrevented || (form.method || "").toLowerCase() !== "post") {
      return;
    }
    const last = Number(form.dataset.postedAt || 0);
    if (Date.now() - last < RESUBMIT_AFTER_MS) {
      event.preventDefault();
      return;
    }
    form.dataset.postedAt = String(Date.now());
  });
  // Back to a page kept by the browser: its forms may be posted again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      document.querySelectorAll("form[data-posted-at]").forEach(function (form) {
        delete form.dataset.postedAt;
      });
    }
  });

  const GO_WAIT_MS = 1500;
  let goPending = null;

  function isTyping(target) {
    const tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  function firstField(container) {
    return container.querySelector(
      "textarea, select, input:not([type=hidden]):not([disabled]), button, a[href]"
    );
  }

  function follow(element) {
    if (element.href) {
      window.location.assign(element.href);
      return;
    }
    if (element.tagName === "BUTTON") {
      element.click();
      return;
    }
    const target = isTyping(element) ? element : firstField(element) || element;
    target.scrollIntoView({ block: "center" });
    target.focus();
  }

  function rows() {
    return Array.from(document.querySelectorAll("[data-row]"));
  }

  function currentRow() {
    const active = document.activeElement;
    return (active && active.closest && active.closest("[data-row]")) || document.querySelector(".current-row");
  }

  function moveRow(step) {
    const all = rows();
    if (!all.length) {
      return;
    }
    const index = all.indexOf(currentRow());
    const next = all[Math.min(all.length - 1, Math.max(0, index < 0 ? 0 : index + step))];
    all.forEach(function (row) {
      row.classList.toggle("current-row", row === next);
    });
    const link = next.querySelector("a[href]") || next;
    if (!link.hasAttribute("href") && !link.hasAttribute("tabindex")) {
      link.setAttribute("tabindex", "-1");
    }
    link.focus();
    next.scrollIntoView({ block: "nearest" });
  }

  function focusSearch() {
    const search = document.querySelector("[data-search]");
    if (search) {
      search.focus();
      search.select();
      return;
    }
    const tickets = document.querySelector('[data-go="t"]');
    if (tickets) {
      window.location.assign(tickets.href + "#search");
    }
  }

  function showHelp() {
    const help = document.getElementById("shortcuts");
    if (help && !help.open) {
      help.showModal();
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      // A field may belong to a form it is not inside (the form= attribute).
      const owner = event.target.form || (event.target.closest && event.target.closest("form"));
      const form = owner && owner.matches("[data-submit-shortcut]") ? owner : null;
      if (form) {
        event.preventDefault();
        form.requestSubmit();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) {
      return;
    }
    if (document.querySelector("dialog[open]")) {
      return; // the help is open: Escape closes it, nothing else acts behind it
    }
    const key = event.key;
    if (goPending) {
      window.clearTimeout(goPending);
      goPending = null;
      const place = document.querySelector('[data-go="' + CSS.escape(key) + '"]');
      if (place) {
        event.preventDefault();
        window.location.assign(place.href);
      }
      return;
    }
    if (key === "?") {
      event.preventDefault();
      showHelp();
    } else if (key === "/") {
      event.preventDefault();
      focusSearch();
    } else if (key === "g") {
      goPending = window.setTimeout(function () {
        goPending = null;
      }, GO_WAIT_MS);
    } else if (key === "j" || key === "k") {
      if (rows().length) {
        event.preventDefault();
        moveRow(key === "j" ? 1 : -1);
      }
    } else {
      const row = currentRow();
      const action = row && row.querySelector('[data-row-shortcut="' + CSS.escape(key) + '"]');
      if (action) {
        event.preventDefault();
        action.click();
        return;
      }
      const element = document.querySelector('[data-shortcut="' + CSS.escape(key) + '"]');
      // One that belongs to a row (the open queue item's buttons) answers only when no other
      // row is the current one: "d" on another item must not finish the open one.
      const elsewhere = element && element.dataset.shortcutRow && row && row.id !== element.dataset.shortcutRow;
      if (element && !elsewhere) {
        event.preventDefault();
        follow(element);
      }
    }
  });

  // A click anywhere on a row with data-href opens it, as its first link does; clicks on the
  // row's own links, buttons and fields keep their meaning.
  document.addEventListener("click", function (event) {
    const row = event.target.closest && event.target.closest("tr[data-href]");
    if (!row || event.target.closest("a, button, input, select, textarea, label, td.pick")) {
      return;
    }
    if (window.getSelection && String(window.getSelection())) {
      return; // the user is selecting text to copy it
    }
    window.location.assign(row.dataset.href);
  });

  // The phone menu: the navigation is behind a button on narrow screens (CSS, with .js).
  function setUpMenu() {
    const toggle = document.querySelector(".menu-toggle");
    if (!toggle) {
      return;
    }
    toggle.addEventListener("click", function () {
      const bar = toggle.closest(".topbar");
      const open = !bar.classList.contains("open");
      bar.classList.toggle("open", open);
      toggle.setAttribute("aria-expanded", String(open));
    });
  }

  // A running mm:ss clock on every <time data-started> (the call timers).
  function tick() {
    document.querySelectorAll("time[data-started]").forEach(function (clock) {
      const started = Date.parse(clock.dataset.started);
      if (Number.isNaN(started)) {
        return;
      }
      const seconds = Math.max(0, Math.floor((Date.now() - started) / 1000));
      const minutes = Math.floor(seconds / 60);
      clock.textContent = minutes + ":" + String(seconds % 60).padStart(2, "0");
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    setUpMenu();
    document.querySelectorAll("[data-show-shortcuts]").forEach(function (button) {
      button.addEventListener("click", showHelp);
    });
    if (window.location.hash === "#search") {
      focusSearch();
    }
    tick();
    window.setInterval(tick, 1000);
  });

  // Tables too wide for the screen scroll inside their box: such a box takes the keyboard's
  // focus (arrow keys scroll it) and is named after its table, only while it does scroll.
  function labelScrollingTables() {
    document.querySelectorAll(".table-scroll").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        const caption = box.querySelector("caption");
        const heading = box.closest("section") && box.closest("section").querySelector("h1, h2, h3");
        const name = (caption || heading || {}).textContent || "Table";
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", name.trim() + " (scrolls sideways)");
      } else if (box.getAttribute("role") === "region") {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    });
  }
  labelScrollingTables();
  window.addEventListener("resize", labelScrollingTables);
  // Scripts that replace part of a page (the queue's list) say so.
  document.addEventListener("switchboard:replaced", labelScrollingTables);
})();
