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

  // The "taken on by" choice applies at once; its button is for pages without script.
  document.querySelectorAll("[data-submit-on-change]").forEach(function (input) {
    input.addEventListener("change", function () {
      input.form.requestSubmit();
    });
  });

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

  async function openItem(href, options) {
    const url = withParam(href, "fragment", null);
    const pk = url.searchParams.get("item");
    let response;
    try {
      response = await fetch(withParam(url, "fragment", "panel"), { credentials: "same-origin" });
    } catch (error) {
      response = null;
    }
    if (!response || !response.ok) {
      window.location.assign(url); // the page itself says what became of the item
      return;
    }
    panel.innerHTML = await response.text(); // rendered and escaped by Django
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
    panel.innerHTML = emptyPanel ? emptyPanel.innerHTML : "";
    layout.classList.remove("has-open-item");
    markOpen(null, false);
    showTitle();
    if (options.push) {
      window.history.pushState({ item: null }, "", withParam(window.location.href, "item", null));
    }
    const link = open && document.getElementById("open-" + open);
    if (link) {
      link.focus();
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
      news.textContent =
        arrived.length === 1 ? "1 new item in the list." : arrived.length + " new items in the list.";
    }
  }

  // Each rendering of a row's form carries a fresh CSRF token: it is not a change.
  function comparable(element) {
    return element.innerHTML.replace(/name="csrfmiddlewaretoken" value="[^"]*"/g, "");
  }

  async function refresh() {
    try {
      if (document.visibilityState !== "visible") {
        return;
      }
      const url = withParam(withParam(window.location.href, "item", null), "fragment", "list");
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) {
        return;
      }
      const template = document.createElement("template");
      template.innerHTML = await response.text(); // rendered and escaped by Django
      const freshList = template.content.getElementById("queue-list");
      const freshTabs = template.content.getElementById("queue-tabs");
      const tabs = document.getElementById("queue-tabs");
      if (freshTabs && tabs && freshTabs.innerHTML !== tabs.innerHTML) {
        tabs.innerHTML = freshTabs.innerHTML;
      }
      if (freshList && comparable(freshList) !== comparable(list)) {
        replaceList(freshList);
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
