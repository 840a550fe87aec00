// The navigation's count of new queue items refreshes every 30 seconds without a reload.
"use strict";

(function () {
  const link = document.getElementById("nav-queues");
  const badge = document.getElementById("nav-new-items");
  if (!link || !badge) {
    return;
  }
  async function refresh() {
    try {
      const response = await fetch(link.dataset.countsUrl, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.ok) {
        const queues = (await response.json()).queues;
        badge.textContent = String(queues.reduce((sum, q) => sum + q.new_count, 0));
        const late = document.getElementById("nav-past-target");
        if (late) {
          late.textContent = String(queues.reduce((sum, q) => sum + q.overdue_count, 0));
        }
      }
    } finally {
      window.setTimeout(refresh, Number(link.dataset.interval || 30000));
    }
  }
  window.setTimeout(refresh, Number(link.dataset.interval || 30000));
})();
