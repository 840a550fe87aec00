// Calls to the JSON API with the session's CSRF token. Shared by the pages that need it.
"use strict";

window.switchboardApi = (function () {
  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  async function call(method, url, body) {
    const options = {
      method: method,
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    let data = null;
    const type = response.headers.get("Content-Type") || "";
    if (type.includes("application/json")) {
      data = await response.json();
    }
    return { ok: response.ok, status: response.status, data: data };
  }

  // A status line next to what it is about, coloured by level like the site's messages (it
  // takes their message-<level> classes); an error is announced at once, the rest politely.
  const LEVELS = ["success", "info", "warning", "error"];

  function setStatus(node, text, level) {
    node.textContent = text;
    node.dataset.level = level || "";
    node.classList.remove(...LEVELS.map((name) => `message-${name}`));
    if (level) node.classList.add(`message-${level}`);
    node.setAttribute("role", level === "error" ? "alert" : "status");
  }

  return { call: call, setStatus: setStatus };
})();
