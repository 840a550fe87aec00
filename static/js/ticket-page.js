// The ticket page: new timeline entries (routing decisions, other reps' notes, department
// answers) appear without reloading, as do the facts (status, targets, return steps); it says
// who else has the ticket open and warns when someone changed it since it was opened; and the
// resolution fields show when they are needed.
"use strict";

(function () {
  const timeline = document.getElementById("timeline");
  if (!timeline) {
    return;
  }
  const openedAt = Date.now();

  // A refused form is answered at the address it was posted to (/edit/, /links/, ...). Show the
  // ticket's own address instead: a reload then opens the page rather than sending the form
  // again, and a copied link works.
  const layout = document.querySelector("[data-page-url]");
  if (layout && window.location.pathname !== layout.dataset.pageUrl) {
    window.history.replaceState(null, "", layout.dataset.pageUrl + window.location.hash);
  }
  // And take the rep to what the refused form marks (the forms sit below the timeline on a
  // phone).
  const invalid = document.querySelector("form [aria-invalid=true]");
  if (invalid) {
    invalid.focus();
  }

  // Entries may commit out of id order (two writers at once), so each poll asks again for the
  // last twenty entries' span and adds only those not shown yet, each in its place.
  const OVERLAP = 20;

  function shownEntries() {
    return Array.from(timeline.querySelectorAll("li[data-entry]"));
  }

  function since() {
    const entries = shownEntries();
    const anchor = entries[Math.max(0, entries.length - OVERLAP - 1)];
    return entries.length > OVERLAP ? anchor.dataset.entry : "0";
  }

  function place(entry) {
    const id = Number(entry.dataset.entry);
    if (timeline.querySelector('li[data-entry="' + entry.dataset.entry + '"]')) {
      return;
    }
    const later = shownEntries().find(function (shown) {
      return Number(shown.dataset.entry) > id;
    });
    timeline.insertBefore(entry, later || null);
  }

  async function poll() {
    try {
      const url = timeline.dataset.sinceUrl + "?after=" + since();
      const response = await fetch(url, { credentials: "same-origin" });
      if (response.ok) {
        const template = document.createElement("template");
        template.innerHTML = await response.text(); // rendered and escaped by Django
        template.content.querySelectorAll("li[data-entry]").forEach(place);
      }
    } finally {
      // Routing answers within a second or two of a change: poll fast at first, then gently.
      const fresh = Date.now() - openedAt < 60000;
      window.setTimeout(poll, fresh ? 1000 : 10000);
    }
  }
  window.setTimeout(poll, 1000);

  // --- the facts, who else is here, and changes since the page was opened ------------------
  const facts = document.getElementById("facts");
  const presence = document.getElementById("presence");
  const warning = document.getElementById("changed-warning");
  if (layout && layout.dataset.liveUrl && facts) {
    const seconds = Number.parseInt(layout.dataset.liveSeconds, 10);
    const LIVE = (Number.isFinite(seconds) && seconds > 0 ? seconds : 5) * 1000;
    const liveUrl = layout.dataset.liveUrl + "?version=" + encodeURIComponent(layout.dataset.version);

    const showViewers = function (names) {
      presence.hidden = names.length === 0;
      presence.textContent = names.length
        ? names.join(", ") + (names.length === 1 ? " is" : " are") + " viewing this ticket too."
        : "";
    };

    const showChanged = function (changed) {
      const said = (changed.by || "Someone") + " changed this ticket at " + changed.at +
        ", after you opened it. The facts above are up to date; ";
      if (warning.dataset.said === said) {
        return; // announced once: the region speaks only when its words change
      }
      warning.dataset.said = said;
      const text = document.createElement("p");
      text.textContent = said;
      const reload = document.createElement("a");
      reload.href = layout.dataset.pageUrl;
      reload.textContent = "reload the page";
      text.append(reload, " before saving changes of your own.");
      warning.replaceChildren(text);
      warning.classList.add("shown");
    };

    const pollLive = async function () {
      try {
        if (document.visibilityState === "visible") {
          const response = await fetch(liveUrl, { credentials: "same-origin" });
          if (response.ok) {
            const state = await response.json();
            const fresh = document.createElement("template");
            fresh.innerHTML = state.facts; // rendered and escaped by Django
            if (fresh.innerHTML !== facts.innerHTML) {
              facts.innerHTML = fresh.innerHTML;
            }
            showViewers(state.viewers);
            if (state.changed) {
              showChanged(state.changed);
            }
          }
        }
      } catch (error) {
        // Offline for a moment: the next round tries again.
      } finally {
        window.setTimeout(pollLive, LIVE);
      }
    };
    pollLive();
  }

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
