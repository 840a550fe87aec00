// The rule list: active toggles, moving rules up and down, importing a rule set.
"use strict";

(function () {
  const api = window.switchboardApi;
  const table = document.getElementById("rules");
  const status = document.getElementById("list-status");

  function ruleIds() {
    return Array.from(table.querySelectorAll("tbody tr[data-rule-id]")).map(
      (row) => Number(row.dataset.ruleId)
    );
  }

  table.addEventListener("change", async (event) => {
    if (!event.target.classList.contains("toggle-active")) return;
    const row = event.target.closest("tr");
    const active = event.target.checked;
    const result = await api.call("PATCH", `/api/v1/rules/${row.dataset.ruleId}/`, {
      is_active: active,
    });
    if (result.ok) {
      status.textContent = `${result.data.name} is now ${active ? "active" : "inactive"}.`;
    } else {
      event.target.checked = !active;
      status.textContent = "Could not change the rule: " + JSON.stringify(result.data);
    }
  });

  table.addEventListener("click", async (event) => {
    const button = event.target.closest("button.move");
    if (!button) return;
    const ids = ruleIds();
    const id = Number(button.closest("tr").dataset.ruleId);
    const from = ids.indexOf(id);
    const to = button.dataset.direction === "up" ? from - 1 : from + 1;
    if (to < 0 || to >= ids.length) return;
    ids.splice(from, 1);
    ids.splice(to, 0, id);
    const result = await api.call("POST", table.dataset.reorderUrl, { rules: ids });
    if (result.ok) {
      window.location.reload();
    } else {
      status.textContent = "Could not reorder: " + JSON.stringify(result.data);
    }
  });

  const importForm = document.getElementById("import-form");
  importForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const output = document.getElementById("import-result");
    const file = document.getElementById("import-file").files[0];
    if (!file) {
      output.textContent = "Choose an exported rule set first.";
      return;
    }
    let data;
    try {
      data = JSON.parse(await file.text());
    } catch (error) {
      output.textContent = "That file is not JSON: " + error.message;
      return;
    }
    const result = await api.call("POST", "/api/v1/rules/import/", data);
    if (result.ok) {
      output.textContent = `Imported: ${result.data.created} created, ${result.data.updated} updated, ${result.data.archived} archived.`;
      window.setTimeout(() => window.location.reload(), 800);
    } else {
      output.textContent =
        "Nothing was changed. Errors:\n" +
        Object.entries(result.data || {})
          .map(([place, messages]) => `${place}: ${[].concat(messages).join(" ")}`)
          .join("\n");
    }
  });
})();
