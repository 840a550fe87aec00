// The navigation's counts of new queue items (and of those past their response target) refresh
// every 30 seconds without a reload.
"use strict";

(function () {
  const link = document.getElementById("nav-queues");
  const badge = document.getElementById("nav-new-items");
  if (!link || !badge) {
    return;
  }
  const INTERVAL = 30000;

  async function refresh() {
    const response = await fetch(link.dataset.countsUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) {
      return;
    }
    const queues = (await response.json()).queues;
    badge.textContent = String(queues.reduce((sum, q) => sum + q.new_count, 0));
    const late = document.getElementById("nav-past-target");
    if (late) {
      late.textContent = String(queues.reduce((sum, q) => sum + q.overdue_count, 0));
    }
  }

  async function loop() {
    try {
      await refresh();
    } finally {
      window.setTimeout(loop, INTERVAL);
    }
  }
  window.setTimeout(loop, INTERVAL);
  window.switchboardNav = { refresh: refresh }; // lets a test (or a console) refresh at once
})();
