// The navigation's count of mail waiting for a rep (unknown senders, quarantine) refreshes
// without a reload, every NAV_COUNTS_REFRESH_SECONDS, as the queues' counts do; the badge is
// there only while something waits, as base.html renders it.
"use strict";

(function () {
  const link = document.getElementById("nav-mail");
  if (!link || !link.dataset.countsUrl) {
    return;
  }
  const seconds = Number.parseInt(link.dataset.refreshSeconds, 10);
  const INTERVAL = (Number.isFinite(seconds) && seconds > 0 ? seconds : 30) * 1000;

  function show(count) {
    let badge = document.getElementById("nav-mail-waiting");
    if (!count) {
      if (badge) {
        const space = badge.previousSibling;
        if (space && space.nodeType === Node.TEXT_NODE && !space.textContent.trim()) {
          space.remove();
        }
        badge.remove();
      }
      return;
    }
    if (!badge) {
      badge = document.createElement("span");
      badge.id = "nav-mail-waiting";
      badge.className = "badge";
      link.append(document.createTextNode(" "), badge);
    }
    badge.textContent = String(count);
    badge.setAttribute("aria-label", `${count} waiting for a rep`);
  }

  async function refresh() {
    const response = await fetch(link.dataset.countsUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (response.ok) {
      show((await response.json()).waiting);
    }
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
