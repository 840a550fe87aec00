// A department's queue: items open in the side panel without a reload (the address follows,
// so Back and a copied link work), and the list and its tab counts refresh themselves as items
// arrive, keeping what the user ticked, where the keyboard was and whatever they are typing in
// the panel. Without script, each item's link opens the same page with the item in the panel.
"use strict";

(function () {
  const list = document.getElementById("queue-list");
  const panel = document.getElementById("item-panel");
  const layout = document.querySelector(".queue-layout");
  if (!list || !panel || !layout) {
    return;
  }
  const news = document.getElementById("queue-news");
  const emptyPanel = document.getElementById("panel-empty");
  const baseTitle = document.title.replace(/^[^·]+ · (?=.+ queue · )/, "");

  function withParam(href, name, value) {
    const url = new URL(href, window.location.href);
    if (value === null) {
      url.searchParams.delete(name);
    } else {
      url.searchParams.set(name, value);
    }
    return url;
  }

  // The open item's row is marked as such; it also becomes the keyboard's current row when
  // the item is opened (so "a" and "d" act on it), but not when the list is merely refreshed.
  function markOpen(pk, makeCurrent) {
    list.querySelectorAll("tr[data-item]").forEach(function (row) {
      const open = row.dataset.item === pk;
      row.classList.toggle("open-row", open);
      if (open) {
        row.setAttribute("aria-current", "true");
      } else {
        row.removeAttribute("aria-current");
      }
      if (makeCurrent) {
        row.classList.toggle("current-row", open);
      }
    });
  }

  function openPk() {
    const shown = panel.querySelector("[data-panel-item]");
    return shown ? shown.dataset.panelItem : null;
  }

  function showTitle() {
    const heading = panel.querySelector("#panel-heading .reference");
    document.title = heading ? heading.textContent + " · " + baseTitle : baseTitle;
  }

  // Drafts typed in the panel, by item and field, while the page is open: opening another item
  // (or going Back) does not lose a response being written.
  const drafts = new Map();
  function keepDrafts() {
    const pk = openPk();
    if (pk) {
      panel.querySelectorAll("textarea, input[type=text]").forEach(function (field) {
        drafts.set(pk + ":" + field.id, field.value);
      });
    }
  }
  function restoreDrafts() {
    const pk = openPk();
    panel.querySelectorAll("textarea, input[type=text]").forEach(function (field) {
      const draft = drafts.get(pk + ":" + field.id);
      if (draft) {
        field.value = draft;
      }
    });
  }

  async function openItem(href, options) {
    const url = withParam(href, "fragment", null);
    const pk = url.searchParams.get("item");
    let response;
    try {
      response = await fetch(withParam(url, "fragment", "panel"), { credentials: "same-origin" });
    } catch (error) {
      response = null;
    }
    const html = response && response.ok && !response.redirected ? await response.text() : "";
    if (!html.includes("data-panel-item")) {
      window.location.assign(url); // the page itself says what became of the item (or asks to sign in)
      return;
    }
    keepDrafts();
    panel.innerHTML = html; // rendered and escaped by Django
    restoreDrafts();
    layout.classList.add("has-open-item");
    if (options.push) {
      window.history.pushState({ item: pk }, "", url);
    }
    markOpen(pk, true);
    showTitle();
    if (options.focus) {
      const heading = document.getElementById("panel-heading");
      heading.focus({ preventScroll: true });
      heading.scrollIntoView({ block: "nearest" });
    }
  }

  function closeItem(options) {
    const open = openPk();
    keepDrafts();
    panel.innerHTML = emptyPanel ? emptyPanel.innerHTML : "";
    layout.classList.remove("has-open-item");
    markOpen(null, false);
    showTitle();
    if (options.push) {
      window.history.pushState({ item: null }, "", withParam(window.location.href, "item", null));
    }
    const link = (open && document.getElementById("open-" + open)) || list.querySelector("a[data-open-item]");
    if (link) {
      link.focus();
    } else {
      list.setAttribute("tabindex", "-1");
      list.focus();
    }
  }

  list.addEventListener("click", function (event) {
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) {
      return; // a new tab or window: the link's own address opens the item there
    }
    const link = event.target.closest("a[data-open-item]");
    const row = event.target.closest("tr[data-href]");
    const inControl = event.target.closest("a, button, input, select, textarea, label, td.pick");
    if (link || (row && !inControl && !String(window.getSelection()))) {
      event.preventDefault();
      event.stopPropagation(); // not also followed by the rows' own click handler
      openItem(link ? link.href : row.dataset.href, { push: true, focus: true });
    }
  });

  list.addEventListener("submit", function (event) {
    const next = event.target.matches("[data-keep-open]") && event.target.querySelector("input[name=next]");
    if (next) {
      next.value = window.location.pathname + window.location.search;
    }
  });

  panel.addEventListener("click", function (event) {
    if (event.target.closest("a[data-close-panel]")) {
      event.preventDefault();
      closeItem({ push: true });
    }
  });

  window.addEventListener("popstate", function () {
    const item = new URL(window.location.href).searchParams.get("item");
    if (item) {
      openItem(window.location.href, { push: false, focus: false });
    } else {
      closeItem({ push: false });
    }
  });

  // --- the list refreshes itself -------------------------------------------------------------
  const seconds = Number.parseInt(list.dataset.refreshSeconds, 10);
  const INTERVAL = (Number.isFinite(seconds) && seconds > 0 ? seconds : 30) * 1000;

  function shownItems(root) {
    return new Set(
      Array.from(root.querySelectorAll("tr[data-item]")).map(function (row) {
        return row.dataset.item;
      })
    );
  }

  function replaceList(fresh) {
    const ticked = new Set(
      Array.from(list.querySelectorAll("input[name=items]:checked")).map(function (box) {
        return box.value;
      })
    );
    const active = document.activeElement;
    const focusedId = active && list.contains(active) ? active.id : null;
    const current = list.querySelector(".current-row");
    const currentId = current ? current.id : null;
    const before = shownItems(list);
    list.innerHTML = fresh.innerHTML;
    list.querySelectorAll("input[name=items]").forEach(function (box) {
      box.checked = ticked.has(box.value);
    });
    if (currentId && document.getElementById(currentId)) {
      document.getElementById(currentId).classList.add("current-row");
    }
    markOpen(openPk(), false);
    if (focusedId && document.getElementById(focusedId)) {
      document.getElementById(focusedId).focus({ preventScroll: true });
    }
    const arrived = Array.from(shownItems(list)).filter(function (pk) {
      return !before.has(pk);
    });
    arrived.forEach(function (pk) {
      document.getElementById("item-" + pk).classList.add("arrived");
    });
    if (arrived.length && news) {
      const said =
        arrived.length === 1 ? "1 new item in the list." : arrived.length + " new items in the list.";
      news.textContent = "";
      window.setTimeout(function () {
        news.textContent = said;
      }, 100);
    }
  }

  // The server's digest of what the list and its tabs show (rows' states and ages, counts):
  // the list is replaced only when it changes, never for the marks the page adds itself.

  async function refresh() {
    try {
      if (document.visibilityState !== "visible") {
        return;
      }
      // With the open item, so that its row comes marked as the page marked it.
      const url = withParam(window.location.href, "fragment", "list");
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok || response.redirected) {
        return; // signed out meanwhile (the login page answered): the next action says so
      }
      const template = document.createElement("template");
      template.innerHTML = await response.text(); // rendered and escaped by Django
      const freshList = template.content.getElementById("queue-list");
      const freshTabs = template.content.getElementById("queue-tabs");
      const tabs = document.getElementById("queue-tabs");
      if (freshList && freshList.dataset.digest !== list.dataset.digest) {
        if (freshTabs && tabs) {
          tabs.innerHTML = freshTabs.innerHTML;
        }
        replaceList(freshList);
        list.dataset.digest = freshList.dataset.digest;
        document.dispatchEvent(new Event("switchboard:replaced"));
      }
    } catch (error) {
      // Offline for a moment: the next round tries again.
    } finally {
      window.setTimeout(refresh, INTERVAL);
    }
  }
  window.setTimeout(refresh, INTERVAL);

  // Back from taking an item on or answering it: the item is open, ready for the next step.
  if (layout.classList.contains("has-open-item")) {
    markOpen(openPk(), true);
    const heading = document.getElementById("panel-heading");
    if (heading && document.querySelector(".messages .message-success")) {
      heading.focus();
    }
  }
})();
