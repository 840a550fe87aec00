// The rule list: active toggles, moving rules up and down, importing a rule set.
"use strict";

(function () {
  const api = window.switchboardApi;
  const table = document.getElementById("rules");
  const status = document.getElementById("list-status");

  const setStatus = api.setStatus;
  const IMPORTED = "switchboard.rules.imported";

  // An import reloads the list to show the new rules, and its outcome, kept for that reload in
  // this tab only, comes along as the site's messages do.
  function showImported() {
    const stored = window.sessionStorage.getItem(IMPORTED);
    if (!stored) return;
    window.sessionStorage.removeItem(IMPORTED);
    let result;
    try {
      result = JSON.parse(stored);
    } catch (error) {
      return;
    }
    const text =
      `Rule set imported (${result.created} created, ${result.updated} updated, ` +
      `${result.archived} archived).`;
    const message = document.createElement("p");
    message.className = "message message-success";
    message.setAttribute("role", "status");
    const level = document.createElement("span");
    level.className = "message-level";
    level.textContent = "Done:";
    message.append(level, ` ${text}`);
    const messages = document.createElement("div");
    messages.className = "messages";
    messages.appendChild(message);
    document.querySelector("main").prepend(messages);
  }
  showImported();

  function errorText(data) {
    return Object.entries(data || {})
      .map(([place, messages]) => `${place}: ${[].concat(messages).join(" ")}`)
      .join("\n");
  }

  function rows() {
    return Array.from(table.querySelectorAll("tbody tr[data-rule-id]"));
  }

  function ruleName(row) {
    return row.querySelector("td:nth-child(2) a").textContent;
  }

  table.addEventListener("change", async (event) => {
    if (!event.target.classList.contains("toggle-active")) return;
    const row = event.target.closest("tr");
    const active = event.target.checked;
    const result = await api.call("PATCH", `/api/v1/rules/${row.dataset.ruleId}/`, {
      is_active: active,
    });
    if (result.ok) {
      setStatus(status, `${result.data.name} is now ${active ? "active" : "inactive"}.`, "success");
    } else {
      event.target.checked = !active;
      setStatus(status, `Could not change ${ruleName(row)}: ${errorText(result.data)}`, "error");
    }
  });

  // After a move the rows are put in their new order where they are, numbered again, and
  // the first and last lose the button that would move them off the list.
  function showOrder(ids) {
    const body = table.querySelector("tbody");
    const byId = Object.fromEntries(rows().map((row) => [row.dataset.ruleId, row]));
    ids.forEach((id, index) => {
      const row = byId[String(id)];
      row.querySelector("td").textContent = String(index + 1);
      row.querySelector("button[data-direction=up]").disabled = index === 0;
      row.querySelector("button[data-direction=down]").disabled = index === ids.length - 1;
      body.appendChild(row);
    });
  }

  table.addEventListener("click", async (event) => {
    const button = event.target.closest("button.move");
    if (!button) return;
    const ids = rows().map((row) => Number(row.dataset.ruleId));
    const row = button.closest("tr");
    const id = Number(row.dataset.ruleId);
    const from = ids.indexOf(id);
    const direction = button.dataset.direction;
    const to = direction === "up" ? from - 1 : from + 1;
    if (to < 0 || to >= ids.length) return;
    ids.splice(from, 1);
    ids.splice(to, 0, id);
    const result = await api.call("POST", table.dataset.reorderUrl, { rules: ids });
    if (result.ok) {
      showOrder(ids);
      setStatus(status, `Moved ${ruleName(row)} ${direction} to position ${to + 1}.`, "success");
      // Keep the keyboard where it was: on the same button, unless it is now disabled.
      const again = row.querySelector(`button[data-direction=${direction}]`);
      (again.disabled ? row.querySelector("button.move:not([disabled])") : again).focus();
    } else {
      setStatus(status, `Could not move ${ruleName(row)}: ${errorText(result.data)}`, "error");
    }
  });

  const importForm = document.getElementById("import-form");
  importForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const output = document.getElementById("import-result");
    const file = document.getElementById("import-file").files[0];
    if (!file) {
      setStatus(output, "Choose an exported rule set first.", "error");
      return;
    }
    let data;
    try {
      data = JSON.parse(await file.text());
    } catch (error) {
      setStatus(output, `That file is not JSON: ${error.message}`, "error");
      return;
    }
    const incoming = data && Array.isArray(data.rules) ? data.rules.length : 0;
    const current = Number(importForm.dataset.ruleCount);
    const question =
      `Replace all ${current} current rules with the ${incoming} in ${file.name}? ` +
      "Rules not in the file are archived.";
    if (!window.confirm(question)) {
      setStatus(output, "Import cancelled: nothing was changed.", "info");
      return;
    }
    setStatus(output, "Importing…", "info");
    const result = await api.call("POST", "/api/v1/rules/import/", data);
    if (result.ok) {
      window.sessionStorage.setItem(IMPORTED, JSON.stringify(result.data));
      window.location.reload();
    } else {
      setStatus(output, `Nothing was changed. Errors:\n${errorText(result.data)}`, "error");
    }
  });
})();
