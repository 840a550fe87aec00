// Keyboard shortcuts on every page: "n" opens Log a call, "r" on a ticket goes to the reply
// (unless the user is typing: an element with data-shortcut is followed if it is a link,
// focused otherwise), and
// Ctrl+Enter (or Cmd+Enter) submits the form that has the focus when it allows it.
"use strict";

(function () {
  function isTyping(target) {
    const tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
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
    const link = document.querySelector('[data-shortcut="' + event.key + '"]');
    if (link && link.href) {
      event.preventDefault();
      window.location.assign(link.href);
    } else if (link) {
      event.preventDefault();
      link.scrollIntoView({ block: "center" });
      link.focus();
    }
  });

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
    tick();
    window.setInterval(tick, 1000);
  });
})();
