// The ticket page: new timeline entries (routing decisions, other reps' notes, department
// answers) appear without reloading, and the resolution fields show when they are needed.
"use strict";

(function () {
  const timeline = document.getElementById("timeline");
  if (!timeline) {
    return;
  }
  const openedAt = Date.now();

  function lastEntryId() {
    const entries = timeline.querySelectorAll("li[data-entry]");
    return entries.length ? entries[entries.length - 1].dataset.entry : "0";
  }

  async function poll() {
    try {
      const url = timeline.dataset.sinceUrl + "?after=" + lastEntryId();
      const response = await fetch(url, { credentials: "same-origin" });
      if (response.ok) {
        const html = (await response.text()).trim(); // rendered and escaped by Django
        if (html) {
          timeline.insertAdjacentHTML("beforeend", html);
        }
      }
    } finally {
      // Routing answers within a second or two of a change: poll fast at first, then gently.
      const fresh = Date.now() - openedAt < 60000;
      window.setTimeout(poll, fresh ? 1000 : 10000);
    }
  }
  window.setTimeout(poll, 1000);

  const editForm = document.getElementById("edit-form");
  const status = document.getElementById("id_status");
  const resolveFields = document.getElementById("resolve-fields");
  if (editForm && status && resolveFields) {
    const done = editForm.dataset.doneStatuses.split(",");
    const hasErrors = resolveFields.querySelector(".errorlist") !== null;
    const toggle = function () {
      resolveFields.hidden = !hasErrors && !done.includes(status.value);
    };
    status.addEventListener("change", toggle);
    toggle();
  }
  const kind = document.getElementById("id_kind");
  const returnFields = document.getElementById("return-fields");
  if (kind && returnFields) {
    const hasErrors = returnFields.querySelector(".errorlist") !== null;
    const toggleReturn = function () {
      returnFields.hidden = !hasErrors && kind.value !== "rma";
    };
    kind.addEventListener("change", toggleReturn);
    toggleReturn();
  }
})();
