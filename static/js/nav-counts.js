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
    const counts = await response.json();
    badge.textContent = String(counts.queues.reduce((sum, q) => sum + q.new_count, 0));
    show("nav-past-target", counts.queues.reduce((sum, q) => sum + q.overdue_count, 0));
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
