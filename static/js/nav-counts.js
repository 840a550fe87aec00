// The navigation's counts of new queue items (and of those past their response target, and of
// those escalated to a lead) refresh without a reload, every NAV_COUNTS_REFRESH_SECONDS (the
// server renders it into data-refresh-seconds).
"use strict";

(function () {
  const link = document.getElementById("nav-queues");
  const badge = document.getElementById("nav-new-items");
  if (!link || !badge) {
    return;
  }
  const seconds = Number.parseInt(link.dataset.refreshSeconds, 10);
  const INTERVAL = (Number.isFinite(seconds) && seconds > 0 ? seconds : 30) * 1000;

  function show(id, count) {
    const element = document.getElementById(id);
    if (element) {
      element.textContent = String(count);
    }
  }

  async function refresh() {
    const response = await fetch(link.dataset.countsUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) {
      return;
    }
    // The server adds the totals up (routing.selectors.nav_counts_for_user); this shows them.
    const counts = await response.json();
    show("nav-new-items", counts.new_items);
    show("nav-past-target", counts.past_target);
    show("nav-escalated", counts.escalated);
  }

  async function loop() {
    try {
      await refresh();
    } catch (error) {
      // Offline for a moment, or the server restarting: the next round tries again.
    } finally {
      window.setTimeout(loop, INTERVAL);
    }
  }
  window.setTimeout(loop, INTERVAL);
})();
