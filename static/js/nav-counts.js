// The navigation's counts of new queue items (and of those past their response target, and of
// those escalated to a lead, which come and go with their counts) refresh without a reload,
// every NAV_COUNTS_REFRESH_SECONDS (the server renders it into data-refresh-seconds).
"use strict";

(function () {
  const link = document.getElementById("nav-queues");
  const badge = document.getElementById("nav-new-items");
  if (!link || !badge) {
    return;
  }
  const seconds = Number.parseInt(link.dataset.refreshSeconds, 10);
  const INTERVAL = (Number.isFinite(seconds) && seconds > 0 ? seconds : 30) * 1000;

  // The badges shown only while their count is not zero, as base.html renders them, in order.
  const OPTIONAL = [
    { id: "nav-past-target", className: "badge overdue", label: "past their response target" },
    { id: "nav-escalated", className: "badge escalated", label: "escalated to you" },
  ];

  function showOptional(badgeSpec, count) {
    let element = document.getElementById(badgeSpec.id);
    if (!count) {
      if (element) {
        const space = element.previousSibling;
        if (space && space.nodeType === Node.TEXT_NODE) {
          space.remove();
        }
        element.remove();
      }
      return;
    }
    if (!element) {
      element = document.createElement("span");
      element.id = badgeSpec.id;
      element.className = badgeSpec.className;
      // After the badges before it in OPTIONAL order, so the nav reads as the server renders.
      const after = OPTIONAL.slice(0, OPTIONAL.indexOf(badgeSpec))
        .map((spec) => document.getElementById(spec.id))
        .filter(Boolean)
        .pop() || badge;
      after.after(document.createTextNode(" "), element);
    }
    element.textContent = String(count);
    element.setAttribute("aria-label", `${count} ${badgeSpec.label}`);
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
    badge.textContent = String(counts.new_items);
    // The label is what a screen reader says of the badge: with the number, or none is said.
    badge.setAttribute("aria-label", `${counts.new_items} new items`);
    showOptional(OPTIONAL[0], counts.past_target);
    showOptional(OPTIONAL[1], counts.escalated);
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
