// The navigation's counts refresh without a reload, every NAV_COUNTS_REFRESH_SECONDS (the
// server renders it into the nav's data-refresh-seconds), from one answer at the nav's
// data-counts-url: new queue items (and those past their response target, and those escalated
// to a lead, which come and go with their counts), the mail waiting for a rep (there only
// while some waits), and the Menu button's dot, which stands for them on a phone.
"use strict";

(function () {
  // Ask the nav's data-counts-url every interval and hand the answer to ``apply``.
  function poll(nav, apply) {
    const seconds = Number.parseInt(nav.dataset.refreshSeconds, 10);
    const interval = (Number.isFinite(seconds) && seconds > 0 ? seconds : 30) * 1000;
    async function refresh() {
      const response = await fetch(nav.dataset.countsUrl, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.ok) {
        apply(await response.json());
      }
    }
    async function loop() {
      try {
        await refresh();
      } catch (error) {
        // Offline for a moment, or the server restarting: the next round tries again.
      } finally {
        window.setTimeout(loop, interval);
      }
    }
    window.setTimeout(loop, interval);
  }

  // A badge reads as its number, then words only a screen reader says ("3 new items"), in a
  // visually hidden span as base.html renders them: an aria-label on a plain span is not
  // read out in a screen reader's reading mode.
  function setBadge(element, count, words) {
    const said = document.createElement("span");
    said.className = "visually-hidden";
    said.textContent = ` ${words}`;
    element.replaceChildren(String(count), said);
  }

  // A badge shown only while its count is not zero, placed after ``after()`` (the element it
  // follows in the link, as base.html renders them).
  function showOptional(spec, count, after) {
    let element = document.getElementById(spec.id);
    if (!count) {
      if (element) {
        // The space before it goes too: a text node of its own, or the end of the link's text
        // ("Mail " as the server renders it), so that adding it again makes one space.
        const text = element.previousSibling;
        if (text && text.nodeType === Node.TEXT_NODE) {
          text.textContent = text.textContent.replace(/\s+$/, "");
          if (!text.textContent) {
            text.remove();
          }
        }
        element.remove();
      }
      return;
    }
    if (!element) {
      element = document.createElement("span");
      element.id = spec.id;
      element.className = spec.className;
      after().after(document.createTextNode(" "), element);
    }
    setBadge(element, count, spec.label);
  }

  // On a phone the badges are behind the Menu button: its dot shows while any of them counts
  // something (the follow-ups' badge too, which is only rendered with the page).
  function showMenuAlert() {
    const alert = document.getElementById("menu-alert");
    if (alert) {
      const badges = document.querySelectorAll("#main-nav .badge");
      const counting = (badge) => Number.parseInt(badge.textContent, 10) > 0;
      alert.hidden = !Array.from(badges).some(counting);
    }
  }

  const nav = document.getElementById("main-nav");
  if (!nav || !nav.dataset.countsUrl) {
    return;
  }
  const appliers = [];

  const queues = document.getElementById("nav-queues");
  const newItems = document.getElementById("nav-new-items");
  if (queues && newItems) {
    const OPTIONAL = [
      { id: "nav-past-target", className: "badge overdue", label: "past their response target" },
      { id: "nav-escalated", className: "badge escalated", label: "escalated to you" },
    ];
    // After the badges before it in OPTIONAL order, so the nav reads as the server renders.
    const before = (spec) => () =>
      OPTIONAL.slice(0, OPTIONAL.indexOf(spec))
        .map((earlier) => document.getElementById(earlier.id))
        .filter(Boolean)
        .pop() || newItems;
    // The server adds the totals up (queues.selectors.nav_counts_for_user); this shows them.
    appliers.push((counts) => {
      const items = counts.queues.new_items === 1 ? "item" : "items";
      setBadge(newItems, counts.queues.new_items, `new ${items}`);
      showOptional(OPTIONAL[0], counts.queues.past_target, before(OPTIONAL[0]));
      showOptional(OPTIONAL[1], counts.queues.escalated, before(OPTIONAL[1]));
    });
  }

  const mail = document.getElementById("nav-mail");
  if (mail) {
    const WAITING = { id: "nav-mail-waiting", className: "badge", label: "waiting for a rep" };
    // The link's last child is its text ("Mail") until the badge follows it.
    appliers.push((counts) => showOptional(WAITING, counts.mail.waiting, () => mail.lastChild));
  }

  poll(nav, (counts) => {
    appliers.forEach((apply) => apply(counts));
    showMenuAlert();
  });
})();
